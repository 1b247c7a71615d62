//! What happened to a request: the one place that decides it.
//!
//! `POST /v1/calls` places a phone call and is not idempotent, so every
//! layer that acts on a result (the client's retries, the batch's journal,
//! your own code through [`Error::fate`](crate::Error::fate)) must agree on
//! what an answer proves. They all ask [`classify`], which judges what the
//! client saw of one exchange ([`Exchange`]) by a short list of named rules,
//! in order; the first with an opinion decides (the last has one for
//! everything, so nothing is left unjudged):
//!
//! | rule | exchange | fate | resend |
//! |---|---|---|---|
//! | [`NotBuilt`] | invalid request, client misconfigured | `NotSent` | pointless |
//! | [`ConnectFailed`] | connecting failed (DNS, TCP, TLS) | `NotSent` | safe |
//! | [`NoCompleteAnswer`] | timeout, connection lost after sending | `Unknown` | if idempotent |
//! | [`SuccessStatus`] | any `2xx`, whatever its body | `Processed` | pointless |
//! | [`CallNamedInAnswer`] | any other status whose body names a call (a `callId`) | `Unknown` | pointless |
//! | [`KeyRejected`] | `401 403` | `Refused` | not with this key |
//! | [`TooManyRequests`] | `429` | `Refused` | throttled: safe, after a wait |
//! | [`RefusalStatus`] | `400 404 405 413 415 422` | `Refused` | pointless |
//! | [`TransientStatus`] | `408`, `5xx` | `Unknown` | if idempotent |
//! | [`AnyOtherStatus`] | everything else: `1xx`, `3xx`, `409`, any status nobody listed | `Unknown` | pointless |
//!
//! It **fails closed**: a status is `Refused` (provably not processed) only
//! when it is one of the refusals above, statuses that mean the request was
//! rejected before anything happened: malformed or unreadable (`400`,
//! `413`, `415`, `422`), not authenticated or not allowed (`401`, `403`),
//! no such operation (`404`, `405`), or not taken in at all (`429`). Anything
//! else, including what a newer server might invent, is `Unknown`: the call
//! may exist. `409 Conflict` is not a refusal: for a call it can mean "a call
//! like this one exists already", which an earlier attempt may have placed.
//! A redirect (`3xx`) is not followed (it could carry the API key to
//! another host) and is not a refusal: `303 See Other` is how some servers
//! answer a POST they processed.
//!
//! **Evidence beats status.** A status is what the server says about the
//! request; a body that names a call (a `callId`, anywhere in it, even in
//! the part of a cut-off body that arrived) is evidence that one exists.
//! A refusal that names a call is not a refusal: it is `Unknown`, and never
//! sent again ([`CallNamedInAnswer`], asked before every refusal rule).
//! Evidence never makes a request look *less* processed: a `2xx` stays
//! `Processed` whatever its body says.

use http::StatusCode;

/// What the client saw of one exchange with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exchange {
    /// The request was never sent: it broke a rule of the spec, or the
    /// client could not be configured.
    NotBuilt,
    /// Connecting failed (DNS, TCP, TLS): nothing was sent.
    ConnectFailed,
    /// The request was (or may have been) sent, and no complete status
    /// came back: a timeout, a connection lost after sending.
    NoCompleteAnswer,
    /// The server answered with this status; its body (what of it arrived)
    /// names no call.
    Answered(StatusCode),
    /// The server answered with this status, and its body (what of it
    /// arrived) names a call: evidence that one exists, whatever the status.
    AnsweredNamingCall(StatusCode),
}

impl Exchange {
    /// The exchange of an answer: its status, and whether what arrived of
    /// its body names a call ([`call_id_in`]).
    pub fn answered(status: StatusCode, body: &[u8]) -> Exchange {
        if call_id_in(body).is_some() {
            Exchange::AnsweredNamingCall(status)
        } else {
            Exchange::Answered(status)
        }
    }

    /// The status the server answered, if it answered.
    pub fn status(self) -> Option<StatusCode> {
        match self {
            Exchange::Answered(status) | Exchange::AnsweredNamingCall(status) => Some(status),
            _ => None,
        }
    }
}

/// The wire name of a call's id in the vendor's `Call`: what a placed call
/// must never lose, even when the rest of its answer cannot be read.
pub const CALL_ID_FIELD: &str = "callId";

/// The call a body names: the top-level `callId` of a JSON object, else
/// the first `"callId": ...` anywhere in the body, whole JSON or not (a
/// nested one, a body cut short, a proxy's page). A string (not empty) or a
/// number counts; `null` does not.
pub fn call_id_in(body: &[u8]) -> Option<Box<str>> {
    fn as_id(value: &serde_json::Value) -> Option<Box<str>> {
        match value {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.as_str().into()),
            serde_json::Value::Number(n) => Some(n.to_string().into()),
            _ => None,
        }
    }
    /// Only the top-level `callId`: every other value is skipped without
    /// being kept (a 4 MiB body costs no second 4 MiB to look at).
    #[derive(serde::Deserialize)]
    struct TopLevel {
        #[serde(rename = "callId")]
        call_id: Option<serde_json::Value>,
    }
    let key = format!("\"{CALL_ID_FIELD}\"");
    // Most bodies name no call: look for the key before parsing anything.
    body.windows(key.len()).position(|w| w == key.as_bytes())?;
    if let Ok(TopLevel { call_id: Some(value) }) = serde_json::from_slice::<TopLevel>(body) {
        if let Some(id) = as_id(&value) {
            return Some(id);
        }
    }
    let mut rest = body;
    while let Some(at) = rest.windows(key.len()).position(|w| w == key.as_bytes()) {
        rest = &rest[at + key.len()..];
        let Some(value) = rest.trim_ascii_start().strip_prefix(b":") else {
            continue;
        };
        // One JSON token (a string with its escapes, or a number); what
        // follows is ignored.
        let mut tokens =
            serde_json::Deserializer::from_slice(value.trim_ascii_start()).into_iter::<serde_json::Value>();
        if let Some(Ok(value)) = tokens.next() {
            if let Some(id) = as_id(&value) {
                return Some(id);
            }
        }
    }
    None
}

/// What happened to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fate {
    /// It never left the client: nothing happened.
    NotSent,
    /// The server rejected it before doing anything. For `create_call`:
    /// no call was placed.
    Refused,
    /// The server did what was asked. For `create_call`: the call was
    /// placed, whatever the body said (or failed to say).
    Processed,
    /// Nothing proves either way: it may have been processed. For
    /// `create_call`: the call may exist; never treat this as "not placed".
    Unknown,
}

/// Whether sending the same request again is worth it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resend {
    /// Nothing was processed, and trying again may succeed.
    Safe,
    /// Nothing was processed; the server asked to wait first (`429`): every
    /// sender should slow down, not only this one.
    Throttled,
    /// It may have been processed: worth another try only where sending it
    /// twice is harmless (an idempotent method), or when the caller opted in.
    IfIdempotent,
    /// Sending the same request again would not change the answer.
    Pointless,
    /// Nothing was processed, and no request with these credentials will be
    /// (`401`, `403`): a sender of many requests should stop them all until
    /// the key, or what it may do, is fixed.
    NotWithThisKey,
}

/// The judgement of one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Verdict {
    /// What happened to the request.
    pub fate: Fate,
    /// Whether to send it again.
    pub resend: Resend,
    /// The rule that decided (`refusal-status`), for logs and tests.
    pub rule: &'static str,
}

/// One rule of the classifier: an opinion on some exchanges, or none.
pub trait Rule {
    /// The rule's name, in kebab case.
    fn name(&self) -> &'static str;
    /// The fate and resend advice of `exchange`, if this rule judges it.
    fn judge(&self, exchange: Exchange) -> Option<(Fate, Resend)>;
}

/// The statuses that prove the request was refused before anything was
/// done, besides `429` ([`TooManyRequests`]) and the key's refusals
/// ([`KEY_REFUSALS`]); see the [module docs](self).
pub const REFUSALS: [u16; 6] = [400, 404, 405, 413, 415, 422];

/// The statuses that refuse the request for its credentials: not
/// authenticated (`401`) or not allowed (`403`). Every other request with
/// the same key would be refused the same way.
pub const KEY_REFUSALS: [u16; 2] = [401, 403];

/// A request that never left: it broke a rule, or the client could not be built.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotBuilt;

impl Rule for NotBuilt {
    fn name(&self) -> &'static str {
        "never-built"
    }
    fn judge(&self, exchange: Exchange) -> Option<(Fate, Resend)> {
        (exchange == Exchange::NotBuilt).then_some((Fate::NotSent, Resend::Pointless))
    }
}

/// Connecting failed: nothing was sent, and the next attempt may connect.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectFailed;

impl Rule for ConnectFailed {
    fn name(&self) -> &'static str {
        "connect-failed"
    }
    fn judge(&self, exchange: Exchange) -> Option<(Fate, Resend)> {
        (exchange == Exchange::ConnectFailed).then_some((Fate::NotSent, Resend::Safe))
    }
}

/// Sent, no complete answer: the server may have processed it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCompleteAnswer;

impl Rule for NoCompleteAnswer {
    fn name(&self) -> &'static str {
        "no-complete-answer"
    }
    fn judge(&self, exchange: Exchange) -> Option<(Fate, Resend)> {
        (exchange == Exchange::NoCompleteAnswer).then_some((Fate::Unknown, Resend::IfIdempotent))
    }
}

/// Any `2xx` is the operation's success, documented or not, whatever its body.
#[derive(Debug, Clone, Copy, Default)]
pub struct SuccessStatus;

impl Rule for SuccessStatus {
    fn name(&self) -> &'static str {
        "success-status"
    }
    fn judge(&self, exchange: Exchange) -> Option<(Fate, Resend)> {
        exchange
            .status()
            .is_some_and(|status| status.is_success())
            .then_some((Fate::Processed, Resend::Pointless))
    }
}

/// Any other answer whose body names a call: evidence that a call exists
/// beats a status that says nothing was done. Unknown, not sent again.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallNamedInAnswer;

impl Rule for CallNamedInAnswer {
    fn name(&self) -> &'static str {
        "call-named-in-answer"
    }
    fn judge(&self, exchange: Exchange) -> Option<(Fate, Resend)> {
        matches!(exchange, Exchange::AnsweredNamingCall(_)).then_some((Fate::Unknown, Resend::Pointless))
    }
}

/// `401`, `403` ([`KEY_REFUSALS`]): refused for the key; every request with
/// it would be.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyRejected;

impl Rule for KeyRejected {
    fn name(&self) -> &'static str {
        "key-rejected"
    }
    fn judge(&self, exchange: Exchange) -> Option<(Fate, Resend)> {
        matches!(exchange, Exchange::Answered(status) if KEY_REFUSALS.contains(&status.as_u16()))
            .then_some((Fate::Refused, Resend::NotWithThisKey))
    }
}

/// `429`: not taken in; the server asks everyone to slow down.
#[derive(Debug, Clone, Copy, Default)]
pub struct TooManyRequests;

impl Rule for TooManyRequests {
    fn name(&self) -> &'static str {
        "too-many-requests"
    }
    fn judge(&self, exchange: Exchange) -> Option<(Fate, Resend)> {
        (exchange == Exchange::Answered(StatusCode::TOO_MANY_REQUESTS))
            .then_some((Fate::Refused, Resend::Throttled))
    }
}

/// The statuses of [`REFUSALS`]: rejected before anything happened.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefusalStatus;

impl Rule for RefusalStatus {
    fn name(&self) -> &'static str {
        "refusal-status"
    }
    fn judge(&self, exchange: Exchange) -> Option<(Fate, Resend)> {
        matches!(exchange, Exchange::Answered(status) if REFUSALS.contains(&status.as_u16()))
            .then_some((Fate::Refused, Resend::Pointless))
    }
}

/// `408` and `5xx`: the server failed or gave up, perhaps after doing the work.
#[derive(Debug, Clone, Copy, Default)]
pub struct TransientStatus;

impl Rule for TransientStatus {
    fn name(&self) -> &'static str {
        "transient-status"
    }
    fn judge(&self, exchange: Exchange) -> Option<(Fate, Resend)> {
        matches!(exchange, Exchange::Answered(status)
            if status == StatusCode::REQUEST_TIMEOUT || status.is_server_error())
        .then_some((Fate::Unknown, Resend::IfIdempotent))
    }
}

/// Every other answer: nothing proves the request was not processed.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyOtherStatus;

impl Rule for AnyOtherStatus {
    fn name(&self) -> &'static str {
        "any-other-status"
    }
    fn judge(&self, exchange: Exchange) -> Option<(Fate, Resend)> {
        exchange
            .status()
            .is_some()
            .then_some((Fate::Unknown, Resend::Pointless))
    }
}

/// The rules, in the order they are asked.
pub const RULES: [&(dyn Rule + Sync); 10] = [
    &NotBuilt,
    &ConnectFailed,
    &NoCompleteAnswer,
    &SuccessStatus,
    &CallNamedInAnswer,
    &KeyRejected,
    &TooManyRequests,
    &RefusalStatus,
    &TransientStatus,
    &AnyOtherStatus,
];

/// [`classify`] for an answer, reading its body only when the verdict may
/// depend on it: a success is processed whatever its body names, so its
/// body is not searched for a call id (the decoder reads it next). The
/// same verdict as `classify(Exchange::answered(status, body))`, always.
pub fn classify_answer(status: StatusCode, body: &[u8]) -> Verdict {
    let by_status = classify(Exchange::Answered(status));
    if by_status.fate == Fate::Processed {
        return by_status;
    }
    classify(Exchange::answered(status, body))
}

/// Judges one exchange by [`RULES`], in order (see the [module docs](self)).
pub fn classify(exchange: Exchange) -> Verdict {
    RULES
        .iter()
        .find_map(|rule| {
            rule.judge(exchange).map(|(fate, resend)| Verdict {
                fate,
                resend,
                rule: rule.name(),
            })
        })
        // Unreachable with today's rules (every exchange has one); should a
        // new kind of exchange come without a rule, it is unknown.
        .unwrap_or(Verdict {
            fate: Fate::Unknown,
            resend: Resend::Pointless,
            rule: "unjudged",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(code: u16) -> Exchange {
        Exchange::Answered(StatusCode::from_u16(code).unwrap())
    }

    fn judged(exchange: Exchange) -> (Fate, Resend, &'static str) {
        let v = classify(exchange);
        (v.fate, v.resend, v.rule)
    }

    /// Skipping a success's body changes no verdict: for every status, an
    /// answer judged processed by its status alone is judged the same
    /// whether its body names a call or not.
    #[test]
    fn a_success_is_judged_the_same_without_reading_its_body() {
        let naming = br#"{"callId":"call_1"}"#;
        for code in 100..=599 {
            let status = StatusCode::from_u16(code).unwrap();
            for body in [&naming[..], b"{}", b""] {
                assert_eq!(
                    classify_answer(status, body),
                    classify(Exchange::answered(status, body)),
                    "{code}"
                );
            }
        }
    }

    #[test]
    fn never_built() {
        assert_eq!(
            judged(Exchange::NotBuilt),
            (Fate::NotSent, Resend::Pointless, "never-built")
        );
        assert_eq!(NotBuilt.judge(answered(400)), None);
    }

    #[test]
    fn connect_failed() {
        assert_eq!(
            judged(Exchange::ConnectFailed),
            (Fate::NotSent, Resend::Safe, "connect-failed")
        );
        assert_eq!(ConnectFailed.judge(Exchange::NoCompleteAnswer), None);
    }

    #[test]
    fn no_complete_answer() {
        assert_eq!(
            judged(Exchange::NoCompleteAnswer),
            (Fate::Unknown, Resend::IfIdempotent, "no-complete-answer")
        );
        assert_eq!(NoCompleteAnswer.judge(answered(500)), None);
    }

    #[test]
    fn success_status() {
        for code in [200, 201, 202, 204, 299] {
            assert_eq!(
                judged(answered(code)),
                (Fate::Processed, Resend::Pointless, "success-status"),
                "{code}"
            );
        }
        assert_eq!(SuccessStatus.judge(answered(300)), None);
    }

    #[test]
    fn too_many_requests() {
        assert_eq!(
            judged(answered(429)),
            (Fate::Refused, Resend::Throttled, "too-many-requests")
        );
        assert_eq!(TooManyRequests.judge(answered(503)), None);
    }

    #[test]
    fn refusal_status() {
        for code in REFUSALS {
            assert_eq!(
                judged(answered(code)),
                (Fate::Refused, Resend::Pointless, "refusal-status"),
                "{code}"
            );
        }
        for code in [401, 402, 403, 406, 409, 410, 411, 412, 414, 418, 431] {
            assert_eq!(RefusalStatus.judge(answered(code)), None, "{code}");
        }
    }

    #[test]
    fn key_rejected() {
        for code in KEY_REFUSALS {
            assert_eq!(
                judged(answered(code)),
                (Fate::Refused, Resend::NotWithThisKey, "key-rejected"),
                "{code}"
            );
        }
        assert_eq!(KeyRejected.judge(answered(400)), None);
    }

    fn naming_call(code: u16) -> Exchange {
        Exchange::AnsweredNamingCall(StatusCode::from_u16(code).unwrap())
    }

    /// Evidence beats status: every refusal that names a call is unknown.
    #[test]
    fn call_named_in_answer() {
        for code in REFUSALS
            .into_iter()
            .chain(KEY_REFUSALS)
            .chain([429, 409, 500, 302])
        {
            assert_eq!(
                judged(naming_call(code)),
                (Fate::Unknown, Resend::Pointless, "call-named-in-answer"),
                "{code}"
            );
        }
        // A success that names its call is still a success.
        assert_eq!(judged(naming_call(201)).0, Fate::Processed);
        assert_eq!(CallNamedInAnswer.judge(answered(400)), None);
    }

    #[test]
    fn the_evidence_is_read_from_the_body() {
        let status = StatusCode::BAD_REQUEST;
        let spring = br#"{"error":"Bad Request","message":"Invalid","path":"/v1/calls","status":400}"#;
        assert_eq!(Exchange::answered(status, spring), Exchange::Answered(status));
        for body in [
            &br#"{"error":"Bad Request","callId":"call_9"}"#[..],
            br#"{"error":"Bad Request","details":[{"callId":"call_9"}]}"#,
            br#"{"error":"Bad Request","callId":17}"#,
            // Cut short: not JSON any more, the id is still there.
            br#"{"error":"Bad Request","callId" : "call_9","timest"#,
        ] {
            assert_eq!(
                Exchange::answered(status, body),
                Exchange::AnsweredNamingCall(status),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        for body in [
            &br#"{"callId":null}"#[..],
            br#"{"callId":""}"#,
            b"<html>callId</html>",
            b"",
        ] {
            assert_eq!(Exchange::answered(status, body), Exchange::Answered(status));
        }
    }

    #[test]
    fn the_call_id_survives_a_body_that_cannot_be_read() {
        assert_eq!(
            call_id_in(br#"{"callId": "call_1", "duration": "x"}"#).as_deref(),
            Some("call_1")
        );
        // The top-level id wins over one nested earlier.
        assert_eq!(
            call_id_in(br#"{"agent":{"callId":"other"},"callId":"call_1"}"#).as_deref(),
            Some("call_1")
        );
        assert_eq!(
            call_id_in(br#"{"agent":{"agentId":"a"},"callId" : "call_\u0032","callT"#).as_deref(),
            Some("call_2")
        );
        // A key followed by no value, then a good one.
        assert_eq!(
            call_id_in(br#"["callId", {"callId": "call_3""#).as_deref(),
            Some("call_3")
        );
        assert_eq!(call_id_in(b"<html>502</html>"), None);
    }

    #[test]
    fn transient_status() {
        for code in [408, 500, 502, 503, 504, 599] {
            assert_eq!(
                judged(answered(code)),
                (Fate::Unknown, Resend::IfIdempotent, "transient-status"),
                "{code}"
            );
        }
        assert_eq!(TransientStatus.judge(answered(409)), None);
    }

    #[test]
    fn any_other_status() {
        for code in [100, 103, 301, 302, 303, 307, 308, 409, 410, 418, 451] {
            assert_eq!(
                judged(answered(code)),
                (Fate::Unknown, Resend::Pointless, "any-other-status"),
                "{code}"
            );
        }
        assert_eq!(AnyOtherStatus.judge(Exchange::NotBuilt), None);
    }

    #[test]
    fn rule_names_are_distinct() {
        let mut names: Vec<_> = RULES.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
    }

    /// The property, checked on every status a server can send (all 500 of
    /// them, not a sample): none reads as "not placed" unless it is a listed
    /// refusal, none as "not sent", and only a `2xx` as placed.
    #[test]
    fn no_status_is_not_placed_unless_it_is_a_listed_refusal() {
        for code in 100u16..=599 {
            let fate = classify(answered(code)).fate;
            let listed = REFUSALS.contains(&code) || KEY_REFUSALS.contains(&code) || code == 429;
            assert_eq!(fate == Fate::Refused, listed, "status {code}");
            assert_ne!(fate, Fate::NotSent, "status {code}");
            assert_eq!(
                fate == Fate::Processed,
                (200..300).contains(&code),
                "status {code}"
            );
            // With a call named in the body, no status is "not placed".
            let named = classify(naming_call(code)).fate;
            assert!(matches!(named, Fate::Processed | Fate::Unknown), "status {code}");
        }
    }
}
