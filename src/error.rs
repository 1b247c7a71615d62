//! [`Error`]: every way an operation can fail, each with what a caller needs
//! to act on it, and [`Error::fate`]: what the failure proves about the
//! request (decided in [`crate::fate`]). No variant ever holds the API key.
//!
//! Besides the classifier, this module depends on nothing else in the
//! crate: the transport hands what it saw, by value, to one constructor per
//! way a call can end (not built, unanswered, answered with an error,
//! undecodable).

use std::fmt;

use bytes::Bytes;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::StatusCode;

use crate::fate::{call_id_in, Exchange, Fate, Verdict};
use crate::text::printable;

/// How much of a body an error keeps for display.
const BODY_START: usize = 200;

/// Headers that carry the server's request id, most common first.
const REQUEST_ID_HEADERS: [&str; 3] = ["x-request-id", "request-id", "x-amzn-requestid"];

/// What the client saw of the final response.
#[derive(Debug)]
pub(crate) struct ResponseInfo {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// An operation's documented error bodies, one type per operation, generated
/// from the spec (`types::CreateCallErrorBody`): read one with
/// [`Error::error_body`].
pub trait ErrorBody: Sized {
    /// The operation whose errors these are.
    const OPERATION_ID: &'static str;
    /// The body documented for `status`, if `body` matches it.
    fn from_json(status: u16, body: &serde_json::Value) -> Option<Self>;
}

/// Any failure of this crate.
///
/// The enum and every variant are `#[non_exhaustive]`: only this crate
/// creates errors, so a new variant or a new field is not a breaking change.
/// Match with `..`:
///
/// ```
/// fn explain(e: &sigmamind::Error) -> String {
///     match e {
///         sigmamind::Error::Api { status, .. } => format!("the API said {status}"),
///         other => other.to_string(),
///     }
/// }
/// ```
///
/// A pattern that lists every field, or a struct literal, does not compile:
///
/// ```compile_fail
/// fn rule(e: &sigmamind::Error) -> Option<&str> {
///     match e {
///         sigmamind::Error::InvalidRequest { field: _, rule } => Some(rule),
///         _ => None,
///     }
/// }
/// ```
///
/// ```compile_fail
/// let e = sigmamind::Error::Config { message: "made up".into() };
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The client cannot be built as configured (no API key, a non-https
    /// base URL, ...). Nothing was sent.
    #[non_exhaustive]
    Config {
        /// What is wrong.
        message: String,
    },
    /// The request breaks a rule of the spec. Nothing was sent.
    #[non_exhaustive]
    InvalidRequest {
        /// The builder field at fault (`from_phone_number`), if known.
        field: Option<String>,
        /// The rule it breaks (`doesn't match pattern "^\+[1-9][0-9]{6,14}$"`).
        rule: String,
    },
    /// The API answered with a status that is neither a success (`2xx`)
    /// nor a redirect.
    #[non_exhaustive]
    Api {
        /// The operation that failed (its method name: `create_call`).
        operation_id: &'static str,
        /// HTTP status.
        status: StatusCode,
        /// The response body as text (lossy UTF-8).
        body: String,
        /// The body parsed, when it is JSON.
        json: Option<serde_json::Value>,
        /// The server's request id header, if any: quote it to support.
        request_id: Option<String>,
        /// Attempts made, retries included.
        attempts: u32,
        /// Whether the retry policy considers this answer worth retrying.
        retryable: bool,
        /// How long the server asked the client to wait (`Retry-After`,
        /// seconds or an HTTP date), if it did.
        retry_after: Option<std::time::Duration>,
    },
    /// The API answered with a redirect (`3xx`), which was not followed:
    /// one could carry the API key to another host, or downgrade to plain
    /// http, and following it would send a call's request a second time.
    /// The request may have been processed (`303 See Other` is how some
    /// servers answer a POST they processed): its [`fate`](Error::fate) is
    /// unknown.
    #[non_exhaustive]
    Redirect {
        /// The operation that was redirected (`create_call`).
        operation_id: &'static str,
        /// HTTP status (`301`, `302`, `303`, `307`, `308`...).
        status: StatusCode,
        /// Where it pointed (the `Location` header), if it said.
        location: Option<String>,
        /// The server's request id header, if any.
        request_id: Option<String>,
        /// Attempts made, retries included.
        attempts: u32,
    },
    /// No complete response in time. The server may have processed the
    /// request (for `create_call`: the call may have been placed).
    #[non_exhaustive]
    Timeout {
        /// Attempts made, retries included.
        attempts: u32,
        /// Whether the retry policy considers a timeout worth retrying here.
        retryable: bool,
        /// The underlying error.
        source: reqwest::Error,
    },
    /// The connection failed or was lost.
    #[non_exhaustive]
    Connection {
        /// `false` when it failed before the request was sent (nothing was
        /// processed); `true` when the server may have processed it.
        maybe_processed: bool,
        /// Attempts made, retries included.
        attempts: u32,
        /// Whether the retry policy considers this failure worth retrying.
        retryable: bool,
        /// The underlying error.
        source: reqwest::Error,
    },
    /// A response arrived but its body is not what the spec describes:
    /// not JSON, not an object, cut short, or a required field of another
    /// type. With a `2xx` status the request **was processed** (for
    /// `create_call`: the call was placed; see `call_id`).
    #[non_exhaustive]
    Undecodable {
        /// HTTP status, when it was received.
        status: Option<StatusCode>,
        /// The `Content-Type` header.
        content_type: Option<String>,
        /// The first bytes of the body, as text.
        body_start: String,
        /// Where decoding failed (`campaign.concurrentCalls`), when it got that far.
        path: Option<String>,
        /// Why it failed.
        message: String,
        /// The `callId` the raw body carries, if it has one: a placed call's
        /// id is kept even when the rest of its answer cannot be read.
        call_id: Option<Box<str>>,
    },
}

impl Error {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }

    /// The HTTP status of the response, where one was received.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } | Error::Redirect { status, .. } => Some(*status),
            Error::Undecodable { status, .. } => *status,
            _ => None,
        }
    }

    /// What the client saw of the final exchange, as [`crate::fate`] judges it.
    pub fn exchange(&self) -> Exchange {
        match self {
            Error::Config { .. } | Error::InvalidRequest { .. } => Exchange::NotBuilt,
            Error::Connection {
                maybe_processed: false,
                ..
            } => Exchange::ConnectFailed,
            Error::Connection { .. } | Error::Timeout { .. } => Exchange::NoCompleteAnswer,
            Error::Api { status, body, .. } => Exchange::answered(*status, body.as_bytes()),
            Error::Redirect { status, .. } => Exchange::Answered(*status),
            Error::Undecodable {
                status: Some(status),
                call_id,
                ..
            } => match call_id {
                Some(_) => Exchange::AnsweredNamingCall(*status),
                None => Exchange::Answered(*status),
            },
            Error::Undecodable { status: None, .. } => Exchange::NoCompleteAnswer,
        }
    }

    /// What this failure proves about the request: for `create_call`,
    /// whether the call was placed. `Unknown` means it may exist: never
    /// place it again without checking. A `2xx` whose body could not be
    /// read is `Processed` ([`Error::call_id`] may still name the call).
    ///
    /// ```
    /// use sigmamind::fate::Fate;
    /// fn may_dial_again(e: &sigmamind::Error) -> bool {
    ///     matches!(e.fate(), Fate::NotSent | Fate::Refused)
    /// }
    /// ```
    pub fn fate(&self) -> Fate {
        self.verdict().fate
    }

    /// The classifier's whole judgement of this failure (fate, resend
    /// advice, and the rule that decided).
    pub fn verdict(&self) -> Verdict {
        crate::fate::classify(self.exchange())
    }

    /// The call id a success whose body could not be decoded still carries.
    pub fn call_id(&self) -> Option<&str> {
        match self {
            Error::Undecodable { call_id, .. } => call_id.as_deref(),
            _ => None,
        }
    }

    /// Where a redirect pointed (it was not followed), for a `3xx` answer.
    pub fn location(&self) -> Option<&str> {
        match self {
            Error::Redirect { location, .. } => location.as_deref(),
            _ => None,
        }
    }

    /// Whether the retry policy considered this failure safe to retry. A
    /// `false` on a timeout or `5xx` from `create_call` means: it may have
    /// placed the call, so it was not sent again.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { retryable, .. }
            | Error::Timeout { retryable, .. }
            | Error::Connection { retryable, .. } => *retryable,
            Error::Config { .. }
            | Error::InvalidRequest { .. }
            | Error::Redirect { .. }
            | Error::Undecodable { .. } => false,
        }
    }

    /// The error body the spec documents for the operation and the status
    /// that came back, typed: `err.error_body::<types::CreateCallErrorBody>()`.
    /// `None` for other errors, another operation's error, a status the spec
    /// documents no body for, or a body that does not match the documented
    /// one (the raw JSON is still in [`Error::Api`]'s `json`).
    pub fn error_body<B: ErrorBody>(&self) -> Option<B> {
        match self {
            Error::Api {
                operation_id,
                status,
                json: Some(json),
                ..
            } if *operation_id == B::OPERATION_ID => B::from_json(status.as_u16(), json),
            _ => None,
        }
    }

    /// How long the server asked to wait before trying again (`Retry-After`
    /// of an API error), if it said.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The server's request id, for API errors that carry one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. } | Error::Redirect { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// progenitor's code could not build the request (a builder value that
    /// breaks the spec, a body that cannot be serialised): nothing was sent.
    pub(crate) fn not_built<E>(error: progenitor_client::Error<E>) -> Self {
        use progenitor_client::Error as P;
        match error {
            P::InvalidRequest(message) => Error::invalid_request(&message),
            P::Custom(message) => Error::config(message),
            // reqwest refused to build it (its URL, a header, the JSON body).
            // The URL is left out: it is the user's, and may carry credentials.
            P::CommunicationError(source) | P::ResponseBodyError(source) | P::InvalidUpgrade(source) => {
                Error::InvalidRequest {
                    field: None,
                    rule: format!(
                        "the request could not be built: {}",
                        causes(&source.without_url())
                    ),
                }
            }
            // The rest carry a response, which a request not yet built lacks.
            _ => Error::InvalidRequest {
                field: None,
                rule: "the request could not be built".to_owned(),
            },
        }
    }

    /// No answer arrived: connecting failed, the attempt timed out, or the
    /// connection was lost before a status came back.
    pub(crate) fn unanswered(source: reqwest::Error, attempts: u32, retryable: bool) -> Self {
        if source.is_connect() {
            // Connecting failed, in time or not: nothing was sent.
            Error::Connection {
                maybe_processed: false,
                attempts,
                retryable,
                source,
            }
        } else if source.is_timeout() {
            Error::Timeout {
                attempts,
                retryable,
                source,
            }
        } else {
            Error::Connection {
                maybe_processed: true,
                attempts,
                retryable,
                source,
            }
        }
    }

    /// An answer whose body could not be read whole or decoded: `path` is
    /// where decoding failed, when it got that far. With a `2xx` status the
    /// request was processed, and the body's `callId`, if any, is kept.
    pub(crate) fn undecodable(
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        path: Option<String>,
        message: String,
    ) -> Self {
        Error::Undecodable {
            status: Some(status),
            content_type: content_type_of(headers),
            body_start: body_start(body),
            path,
            message,
            call_id: call_id_in(body),
        }
    }
}

/// An error and its causes, one after another (reqwest's own text says
/// only "builder error").
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// An answer that is not a success (`3xx`, `4xx`, `5xx`), with what was
/// read of its body, as [`Error::Redirect`] or [`Error::Api`].
pub(crate) fn api_error(
    operation_id: &'static str,
    info: ResponseInfo,
    attempts: u32,
    retryable: bool,
    retry_after: Option<std::time::Duration>,
) -> Error {
    let request_id = REQUEST_ID_HEADERS.iter().find_map(|name| {
        info.headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    if info.status.is_redirection() {
        let location = info
            .headers
            .get(reqwest::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        return Error::Redirect {
            operation_id,
            status: info.status,
            location,
            request_id,
            attempts,
        };
    }
    Error::Api {
        operation_id,
        status: info.status,
        json: serde_json::from_slice(&info.body).ok(),
        body: String::from_utf8_lossy(&info.body).into_owned(),
        request_id,
        attempts,
        retryable,
        retry_after,
    }
}

fn content_type_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The start of a body, as text a terminal shows rather than obeys
/// ([`crate::text::printable`]).
fn body_start(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(BODY_START)]);
    let text = crate::text::printable(&text).into_owned();
    if body.len() > BODY_START {
        format!("{text}…")
    } else {
        text
    }
}

impl Error {
    /// Splits a builder's message into field and rule:
    /// "... error converting supplied value for from_phone_number: doesn't match pattern ..."
    /// "... no value supplied for to_phone_number".
    /// A request refused before anything was sent: `field` (a builder
    /// field, `from_phone_number`) breaks `rule`. What a dialler or a form
    /// of your own reports for input it checks itself, in the same shape as
    /// the generated builders' refusals.
    pub fn invalid_field(field: impl Into<String>, rule: impl Into<String>) -> Error {
        Error::InvalidRequest {
            field: Some(field.into()),
            rule: rule.into(),
        }
    }

    pub(crate) fn invalid_request(message: &str) -> Error {
        const CONVERTING: &str = "error converting supplied value for ";
        const MISSING: &str = "no value supplied for ";
        if let Some(at) = message.find(CONVERTING) {
            let rest = &message[at + CONVERTING.len()..];
            if let Some((field, rule)) = rest.split_once(": ") {
                return Error::InvalidRequest {
                    field: Some(field.to_owned()),
                    rule: rule.to_owned(),
                };
            }
        }
        if let Some(at) = message.find(MISSING) {
            return Error::InvalidRequest {
                field: Some(message[at + MISSING.len()..].trim().to_owned()),
                rule: "is required".to_owned(),
            };
        }
        Error::InvalidRequest {
            field: None,
            rule: message.to_owned(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { message } => write!(f, "invalid client configuration: {message}"),
            Error::InvalidRequest {
                field: Some(field),
                rule,
            } => {
                write!(f, "invalid request, nothing was sent: `{field}` {rule}")
            }
            Error::InvalidRequest { field: None, rule } => {
                write!(f, "invalid request, nothing was sent: {rule}")
            }
            Error::Redirect {
                status,
                location,
                request_id,
                ..
            } => {
                let to = location.as_deref().map_or("(no Location)".into(), printable);
                write!(f, "SigmaMind API answered {status} towards {to}")?;
                if let Some(id) = request_id {
                    write!(f, " (request id {})", printable(id))?;
                }
                write!(
                    f,
                    ": redirects are not followed; the request may have been processed"
                )
            }
            Error::Api {
                status,
                body,
                request_id,
                retry_after,
                ..
            } => {
                write!(f, "SigmaMind API error {status}")?;
                if let Some(id) = request_id {
                    write!(f, " (request id {})", printable(id))?;
                }
                if !body.is_empty() {
                    write!(f, ": {}", body_start(body.as_bytes()))?;
                }
                if let Some(id) = call_id_in(body.as_bytes()) {
                    write!(
                        f,
                        "; the answer names call {}: it may exist, whatever the status says",
                        printable(&id)
                    )?;
                }
                if let Some(wait) = retry_after {
                    write!(
                        f,
                        "; the server asked to wait {} before trying again",
                        Wait(*wait)
                    )?;
                }
                Ok(())
            }
            Error::Timeout { attempts, .. } => write!(
                f,
                "timed out after {attempts} attempt(s); the server may have processed the request"
            ),
            Error::Connection {
                maybe_processed: false,
                attempts,
                source,
                ..
            } => write!(
                f,
                "could not connect ({attempts} attempt(s), nothing was sent): {source}"
            ),
            Error::Connection {
                maybe_processed: true,
                source,
                ..
            } => write!(
                f,
                "connection lost after sending; the server may have processed the request: {source}"
            ),
            Error::Undecodable {
                status,
                content_type,
                body_start,
                path,
                message,
                call_id,
            } => {
                if status.is_some_and(|s| s.is_success()) {
                    write!(f, "the request was processed ({}", status.expect("checked"))?;
                    if let Some(id) = call_id {
                        write!(f, ", call {}", printable(id))?;
                    }
                    write!(f, ") but its answer is ")?;
                }
                write!(f, "undecodable response")?;
                if let Some(status) = status {
                    write!(f, " ({status}")?;
                    if let Some(ct) = content_type {
                        write!(f, ", {}", printable(ct))?;
                    }
                    write!(f, ")")?;
                }
                if let Some(path) = path {
                    write!(f, " at `{path}`")?;
                }
                write!(f, ": {}; body starts \"{body_start}\"", printable(message))
            }
        }
    }
}

/// A `Retry-After` wait as a person reads it: `30s`, `2h 5m`, `1d 0h`.
struct Wait(std::time::Duration);

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        if self.0 == std::time::Duration::MAX || s >= 100 * 365 * 86_400 {
            return f.write_str("longer than anyone waits");
        }
        match s {
            0..60 => write!(f, "{}s", s),
            60..3600 => write!(f, "{}m {}s", s / 60, s % 60),
            3600..86_400 => write!(f, "{}h {}m", s / 3600, s % 3600 / 60),
            _ => write!(f, "{}d {}h", s / 86_400, s % 86_400 / 3600),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Timeout { source, .. } | Error::Connection { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_messages_name_field_and_rule() {
        let e = Error::invalid_request(
            "conversion to `CreateCallRequest` for body failed: error converting supplied value for \
             from_phone_number: doesn't match pattern \"^\\+[1-9][0-9]{6,14}$\"",
        );
        let Error::InvalidRequest { field, rule } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(field.as_deref(), Some("from_phone_number"));
        assert!(rule.starts_with("doesn't match pattern"), "{rule}");
        assert!(
            e.to_string()
                .contains("`from_phone_number` doesn't match pattern"),
            "{e}"
        );

        let e = Error::invalid_request(
            "conversion to `CreateCallRequest` for body failed: no value supplied for to_phone_number",
        );
        assert_eq!(
            e.to_string(),
            "invalid request, nothing was sent: `to_phone_number` is required"
        );
    }

    fn api(operation_id: &'static str, status: u16, json: serde_json::Value) -> Error {
        Error::Api {
            operation_id,
            status: StatusCode::from_u16(status).unwrap(),
            body: json.to_string(),
            json: Some(json),
            request_id: None,
            attempts: 1,
            retryable: false,
            retry_after: None,
        }
    }

    #[test]
    fn the_error_body_is_typed_only_for_its_operation_status_and_shape() {
        use crate::types::{CreateCallErrorBody, LocalServerErrorBody};
        let body = serde_json::json!({"error": "unauthorized", "message": "no key"});
        let Some(CreateCallErrorBody::Status401(LocalServerErrorBody { error, .. })) =
            api("create_call", 401, body.clone()).error_body::<CreateCallErrorBody>()
        else {
            panic!("a documented 401 body parses")
        };
        assert_eq!(error, "unauthorized");
        // Another operation's error, an undocumented status, another shape: none.
        assert_eq!(
            api("get_call", 401, body.clone()).error_body::<CreateCallErrorBody>(),
            None
        );
        assert_eq!(
            api("create_call", 403, body).error_body::<CreateCallErrorBody>(),
            None
        );
        let other = serde_json::json!({"detail": "the live API's own shape"});
        assert_eq!(
            api("create_call", 401, other).error_body::<CreateCallErrorBody>(),
            None
        );
    }

    #[test]
    fn every_error_has_a_fate() {
        assert_eq!(Error::config("x").fate(), Fate::NotSent);
        assert_eq!(
            api("create_call", 422, serde_json::json!({})).fate(),
            Fate::Refused
        );
        assert_eq!(
            api("create_call", 409, serde_json::json!({})).fate(),
            Fate::Unknown
        );
        let undecodable = |status: Option<u16>| Error::Undecodable {
            status: status.map(|s| StatusCode::from_u16(s).unwrap()),
            content_type: None,
            body_start: String::new(),
            path: None,
            message: String::new(),
            call_id: Some("call_1".into()),
        };
        assert_eq!(undecodable(Some(200)).fate(), Fate::Processed);
        assert_eq!(undecodable(Some(200)).call_id(), Some("call_1"));
        assert!(undecodable(Some(200))
            .to_string()
            .starts_with("the request was processed (200 OK, call call_1)"));
        assert_eq!(undecodable(None).fate(), Fate::Unknown);
    }

    /// A user's `Result<T, sigmamind::Error>` stays below clippy's
    /// `result_large_err` bound (128 bytes): a variant that grows past it
    /// must box what it adds.
    #[test]
    fn the_error_stays_small_enough_for_users_results() {
        assert!(
            std::mem::size_of::<Error>() <= 120,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn body_start_is_bounded() {
        let long = "x".repeat(1000);
        assert_eq!(body_start(long.as_bytes()).chars().count(), BODY_START + 1);
        assert_eq!(body_start(b"short"), "short");
    }
}
