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
//! | [`NeverBuilt`] | invalid request, client misconfigured | `NotSent` | pointless |
//! | [`ConnectFailed`] | connecting failed (DNS, TCP, TLS) | `NotSent` | safe |
//! | [`NoCompleteAnswer`] | timeout, connection lost after sending | `Unknown` | if idempotent |
//! | [`SuccessStatus`] | any `2xx`, whatever its body | `Processed` | pointless |
//! | [`TooManyRequests`] | `429` | `Refused` | throttled: safe, after a wait |
//! | [`RefusalStatus`] | `400 401 403 404 405 413 415 422` | `Refused` | pointless |
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
    /// The server answered with this status; its body may be anything.
    Answered(StatusCode),
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
/// done, besides `429` ([`TooManyRequests`]); see the [module docs](self).
pub const REFUSALS: [u16; 8] = [400, 401, 403, 404, 405, 413, 415, 422];

/// A request that never left: it broke a rule, or the client could not be built.
#[derive(Debug, Clone, Copy, Default)]
pub struct NeverBuilt;

impl Rule for NeverBuilt {
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
        matches!(exchange, Exchange::Answered(status) if status.is_success())
            .then_some((Fate::Processed, Resend::Pointless))
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
        matches!(exchange, Exchange::Answered(_)).then_some((Fate::Unknown, Resend::Pointless))
    }
}

/// The rules, in the order they are asked.
pub const RULES: [&(dyn Rule + Sync); 8] = [
    &NeverBuilt,
    &ConnectFailed,
    &NoCompleteAnswer,
    &SuccessStatus,
    &TooManyRequests,
    &RefusalStatus,
    &TransientStatus,
    &AnyOtherStatus,
];

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

    #[test]
    fn never_built() {
        assert_eq!(
            judged(Exchange::NotBuilt),
            (Fate::NotSent, Resend::Pointless, "never-built")
        );
        assert_eq!(NeverBuilt.judge(answered(400)), None);
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
        for code in [402, 406, 409, 410, 411, 412, 414, 418, 431] {
            assert_eq!(RefusalStatus.judge(answered(code)), None, "{code}");
        }
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
            let listed = REFUSALS.contains(&code) || code == 429;
            assert_eq!(fate == Fate::Refused, listed, "status {code}");
            assert_ne!(fate, Fate::NotSent, "status {code}");
            assert_eq!(
                fate == Fate::Processed,
                (200..300).contains(&code),
                "status {code}"
            );
        }
    }
}
