//! A local SigmaMind API for tests, demos and load tests (feature `mock`).
//!
//! [`MockServer`] serves the spec's operations on a loopback port. It is
//! driven by the spec: requests are checked against the spec's schemas
//! (`422` with one entry per broken rule), answers are built from the
//! generated types, and every request is recorded. It can be told to
//! misbehave ([`Fault`]) to test what a client does then.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sigmamind::Error> {
//! use sigmamind::mock::MockServer;
//! use sigmamind::types::{CallStatus, CreateCallRequest};
//!
//! let server = MockServer::start().await;
//! let call = server
//!     .client()
//!     .create_call()
//!     .body(CreateCallRequest::builder().from_phone_number("+14155552671").to_phone_number("+14155552672"))
//!     .send()
//!     .await?
//!     .into_inner();
//! assert_eq!(call.status, Some(CallStatus::Scheduled));
//! assert_eq!(server.request_count(), 1);
//! # Ok(()) }
//! ```
//!
//! Error bodies: the vendor's page documents none, so the mock answers
//! `{"error": <code>, "message": <text>, "errors": [{"field", "rule"}]}`.

mod http_server;
mod routes;
mod validate;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub use validate::{validate, validate_component, Violation, CHECKED_KEYWORDS, IGNORED_KEYWORDS};

use routes::Route;

use crate::types::{Agent, Call, CallStatus, CallType};
use crate::Client;

/// A way for the next request to go wrong (see [`MockServer::push_fault`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer `429 Too Many Requests` with this `Retry-After` value.
    TooManyRequests {
        /// The header value: seconds, or an HTTP date.
        retry_after: String,
    },
    /// Answer with this status (a `500`, say) and a JSON error body.
    Status(u16),
    /// Read the request, then close the connection without answering.
    DropConnection,
    /// Answer `201` with a body that is not JSON.
    MalformedBody,
    /// Answer `201` with a `Content-Length` longer than the body sent, then
    /// close the connection.
    TruncatedBody,
    /// Process the request, then answer with enum values and a field the
    /// spec does not know (as a newer server would).
    UnknownEnumValues,
    /// Process the request normally after this delay.
    Delay(Duration),
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: Method,
    /// Path and query.
    pub path: String,
    /// All headers, as received (including the API key: test data only).
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
}

impl RecordedRequest {
    /// The body parsed as JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(crate) struct Shared {
    api_key: String,
    faults: Mutex<VecDeque<Fault>>,
    latency: Mutex<Duration>,
    requests: Mutex<Vec<RecordedRequest>>,
    received: std::sync::atomic::AtomicUsize,
    record: bool,
}

/// A running local SigmaMind API; stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    base_url: String,
    shared: Arc<Shared>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Options for [`MockServer::start_with`].
#[derive(Debug, Clone)]
pub struct MockOptions {
    /// The key clients must send; random when `None`.
    pub api_key: Option<String>,
    /// Keep every request for [`MockServer::requests`] (turn off for long
    /// load tests to keep memory flat).
    pub record_requests: bool,
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            api_key: None,
            record_requests: true,
        }
    }
}

impl MockServer {
    /// Starts a server on `127.0.0.1` with a random port and API key.
    pub async fn start() -> MockServer {
        Self::start_with(MockOptions::default()).await
    }

    /// Starts a server with the given options.
    pub async fn start_with(options: MockOptions) -> MockServer {
        let api_key = options.api_key.unwrap_or_else(random_key);
        let shared = Arc::new(Shared {
            api_key,
            faults: Mutex::default(),
            latency: Mutex::default(),
            requests: Mutex::default(),
            received: Default::default(),
            record: options.record_requests,
        });
        let (addr, shutdown) = http_server::spawn(shared.clone())
            .await
            .expect("bind a loopback port for the mock server");
        MockServer {
            addr,
            base_url: format!("http://{addr}"),
            shared,
            _shutdown: shutdown,
        }
    }

    /// Where the server listens: `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API key the server accepts.
    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// A client for this server with the default configuration.
    pub fn client(&self) -> Client {
        Client::builder()
            .api_key(self.api_key())
            .base_url(self.base_url())
            .build()
            .expect("a loopback client always builds")
    }

    /// Makes the next request misbehave; faults queue up, one per request.
    pub fn push_fault(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push_back(fault);
    }

    /// Delays every answer by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        *self.shared.latency.lock().unwrap() = latency;
    }

    /// Every request received so far, in order (empty if recording is off).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many requests were read, recorded or not.
    pub fn request_count(&self) -> usize {
        self.shared.received.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn random_key() -> String {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    format!("mock_{:016x}{:016x}", state.hash_one(1u8), state.hash_one(2u8))
}

/// One answer of the mock, before it is put on the wire.
pub(crate) enum Answer {
    Json(StatusCode, Vec<(&'static str, String)>, Value),
    Raw(StatusCode, &'static str, Bytes),
    Truncated(Bytes),
    Drop,
}

fn error(status: StatusCode, code: &str, message: &str, errors: Vec<Violation>) -> Answer {
    let mut body = json!({ "error": code, "message": message });
    if !errors.is_empty() {
        body["errors"] = serde_json::to_value(errors).expect("violations serialise");
    }
    Answer::Json(status, vec![], body)
}

impl Shared {
    pub(crate) fn next_fault(&self) -> Option<Fault> {
        self.faults.lock().unwrap().pop_front()
    }

    pub(crate) fn latency(&self) -> Duration {
        *self.latency.lock().unwrap()
    }

    /// Keeps a request for [`MockServer::requests`], as soon as it is read.
    pub(crate) fn record(&self, request: &RecordedRequest) {
        self.received.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if self.record {
            self.requests.lock().unwrap().push(request.clone());
        }
    }

    /// Handles one request that has been read completely: injected faults
    /// first, then the key, the route, the body, and the operation's answer.
    pub(crate) fn answer(&self, request: RecordedRequest, fault: Option<Fault>) -> Answer {
        if let Some(answer) = injected(fault.as_ref()) {
            return answer;
        }
        if request.header(crate::client::API_KEY_HEADER) != Some(self.api_key.as_str()) {
            return error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or invalid X-API-Key header",
                vec![],
            );
        }
        let spec = &*validate::SPEC;
        let Some(route) = Route::find(spec, &request.method, &request.path) else {
            let message = format!("no operation {} {} in the spec", request.method, request.path);
            return error(StatusCode::NOT_FOUND, "not_found", &message, vec![]);
        };
        let body = match checked_body(&route, &request.body) {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        respond(spec, &route, &body, fault)
    }
}

/// The faults that replace the answer altogether.
fn injected(fault: Option<&Fault>) -> Option<Answer> {
    match fault? {
        Fault::TooManyRequests { retry_after } => Some(Answer::Json(
            StatusCode::TOO_MANY_REQUESTS,
            vec![("retry-after", retry_after.clone())],
            json!({ "error": "rate_limited", "message": "too many requests" }),
        )),
        Fault::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(error(
                status,
                "injected_fault",
                "failure injected by the mock",
                vec![],
            ))
        }
        Fault::DropConnection => Some(Answer::Drop),
        Fault::MalformedBody => Some(Answer::Raw(
            StatusCode::CREATED,
            "text/html",
            Bytes::from_static(b"<html>502 Bad Gateway</html>"),
        )),
        Fault::TruncatedBody | Fault::UnknownEnumValues | Fault::Delay(_) => None,
    }
}

/// The request body as JSON, checked against the operation's schema
/// (`Value::Null` for an operation that takes none).
fn checked_body(route: &Route<'_>, body: &[u8]) -> Result<Value, Answer> {
    let Some(schema) = route.body_schema() else {
        return Ok(Value::Null);
    };
    let json: Value = serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            &format!("the body is not JSON: {e}"),
            vec![],
        )
    })?;
    validate(schema, &json).map_err(|violations| {
        let message = violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            &message,
            violations,
        )
    })?;
    Ok(json)
}

/// What the mock does for one operation: from the request body, the status
/// and body of the answer.
type Behaviour = fn(&Value) -> (StatusCode, Value);

/// Operations the mock gives behaviour of its own; every other operation is
/// answered as the spec documents it ([`Route::documented_answer`]).
const BEHAVIOURS: &[(&str, Behaviour)] = &[("create_call", create_call_answer)];

/// The operation's answer, with the faults that alter a processed answer.
fn respond(spec: &Value, route: &Route<'_>, body: &Value, fault: Option<Fault>) -> Answer {
    let behaviour = BEHAVIOURS.iter().find(|(id, _)| *id == route.operation_id);
    let (status, mut answer) = match behaviour {
        Some((_, behave)) => behave(body),
        None => route.documented_answer(spec),
    };
    match fault {
        Some(Fault::UnknownEnumValues) => {
            answer["callType"] = json!("carrier_pigeon");
            answer["status"] = json!("on_hold");
            answer["terminationReason"] = json!("solar_flare");
            answer["sentiment"] = json!({ "score": 0.9 });
            Answer::Json(status, vec![], answer)
        }
        Some(Fault::TruncatedBody) => {
            Answer::Truncated(Bytes::from(serde_json::to_vec(&answer).expect("JSON serialises")))
        }
        _ => Answer::Json(status, vec![], answer),
    }
}

fn create_call_answer(request: &Value) -> (StatusCode, Value) {
    let call = create_call(request);
    (
        StatusCode::CREATED,
        serde_json::to_value(call).expect("Call serialises"),
    )
}

/// A freshly scheduled call, as the API describes one.
fn create_call(request: &Value) -> Call {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    // Millisecond precision, like the vendor's timestamps.
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    Call {
        call_id: Some(format!("call_mock{:011}", id)),
        call_type: Some(CallType::Outbound),
        status: Some(CallStatus::Scheduled),
        created_at: Some(now),
        updated_at: Some(now),
        dynamic_variables: request
            .get("dynamicVariables")
            .and_then(Value::as_object)
            .cloned(),
        agent: request.get("agentId").and_then(Value::as_str).map(|id| Agent {
            agent_id: Some(id.to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    }
}
