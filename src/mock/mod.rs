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

pub use validate::{
    unsupported_keywords, validate, validate_component, Violation, CHECKED_KEYWORDS, IGNORED_KEYWORDS,
};

use routes::{Route, RouteMiss};

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
    /// Check the request as usual, then answer with this status and JSON
    /// body instead of the operation's own answer (what a newer server, or
    /// any server, might send).
    Json(u16, Value),
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

/// A call the server placed (`201` to `POST /v1/calls`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PlacedCall {
    /// The id the server gave it.
    pub call_id: String,
    /// The request body that placed it.
    pub request: Value,
}

impl PlacedCall {
    /// The destination number requested.
    pub fn to_phone_number(&self) -> Option<&str> {
        self.request.get("toPhoneNumber").and_then(Value::as_str)
    }
}

/// The largest request body the server reads; a larger one gets `413`
/// (documented in the spec's overlay).
pub const BODY_LIMIT: usize = 64 * 1024;

/// One request as `--verbose` logs it (see [`MockOptions::on_request`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestLog {
    /// HTTP method.
    pub method: Method,
    /// Path and query.
    pub path: String,
    /// The status answered (`None`: the connection was dropped on purpose).
    pub status: Option<StatusCode>,
    /// From the request read to the answer ready, injected latency included.
    pub latency: Duration,
}

impl std::fmt::Display for RequestLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self
            .status
            .map_or("dropped".to_owned(), |s| s.as_u16().to_string());
        write!(
            f,
            "{} {} {status} {:.1}ms",
            self.method,
            self.path,
            self.latency.as_secs_f64() * 1000.0
        )
    }
}

/// A callback for each request answered.
pub type RequestLogger = Arc<dyn Fn(&RequestLog) + Send + Sync>;

/// A standing rate limit: every `every`-th request is answered `429 Too
/// Many Requests` with `Retry-After: retry_after` (see
/// [`MockOptions::rate_limit_every`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// 3: the 3rd, 6th, 9th... request is refused.
    pub every: u64,
    /// The `Retry-After` value sent: seconds, or an HTTP date.
    pub retry_after: String,
}

pub(crate) struct Shared {
    api_key: String,
    faults: Mutex<VecDeque<Fault>>,
    latency: Mutex<Duration>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Kept when `record` is on, like `requests`.
    placed: Mutex<Vec<PlacedCall>>,
    received: std::sync::atomic::AtomicUsize,
    record: bool,
    /// Where call ids come from: reproducible for a given seed.
    seed: u64,
    next_id: std::sync::atomic::AtomicU64,
    on_request: Option<RequestLogger>,
    rate_limit: Option<RateLimit>,
    /// Requests that reached the fault decision, for `rate_limit`.
    decided: std::sync::atomic::AtomicU64,
    /// Requests being handled now, and the most at any one time.
    in_flight: std::sync::atomic::AtomicUsize,
    max_in_flight: std::sync::atomic::AtomicUsize,
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
#[derive(Clone)]
#[non_exhaustive]
pub struct MockOptions {
    /// The key clients must send; random when `None`.
    pub api_key: Option<String>,
    /// Keep every request for [`MockServer::requests`] and every call for
    /// [`MockServer::placed_calls`] (turn off for long load tests to keep
    /// memory flat).
    pub record_requests: bool,
    /// The address to listen on: loopback by default.
    pub host: std::net::IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// Delay before every answer.
    pub latency: Duration,
    /// Seed for call ids: the same seed gives the same ids; random when `None`.
    pub seed: Option<u64>,
    /// Called once per request answered (method, path, status, latency).
    pub on_request: Option<RequestLogger>,
    /// Refuse every n-th request with `429` (a server under load).
    pub rate_limit: Option<RateLimit>,
}

impl std::fmt::Debug for MockOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("record_requests", &self.record_requests)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("latency", &self.latency)
            .field("seed", &self.seed)
            .field("on_request", &self.on_request.is_some())
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

impl MockOptions {
    /// The key clients must send.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Whether to keep every request for [`MockServer::requests`].
    pub fn record_requests(mut self, record: bool) -> Self {
        self.record_requests = record;
        self
    }

    /// The address and port to listen on (port 0: any free one).
    pub fn listen(mut self, host: std::net::IpAddr, port: u16) -> Self {
        self.host = host;
        self.port = port;
        self
    }

    /// Delay before every answer.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Seed for reproducible call ids.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Answers every `every`-th request (counting from the first) with `429`
    /// and `Retry-After: retry_after`, after reading it and before anything
    /// else: a server shedding load. Queued [`Fault`]s go first.
    ///
    /// # Panics
    /// If `every` is 0.
    pub fn rate_limit_every(mut self, every: u64, retry_after: impl Into<String>) -> Self {
        assert!(every > 0, "rate_limit_every: `every` must be at least 1");
        self.rate_limit = Some(RateLimit {
            every,
            retry_after: retry_after.into(),
        });
        self
    }

    /// Called once per request answered.
    pub fn on_request(mut self, log: impl Fn(&RequestLog) + Send + Sync + 'static) -> Self {
        self.on_request = Some(Arc::new(log));
        self
    }
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            api_key: None,
            record_requests: true,
            host: std::net::Ipv4Addr::LOCALHOST.into(),
            port: 0,
            latency: Duration::ZERO,
            seed: None,
            on_request: None,
            rate_limit: None,
        }
    }
}

impl MockServer {
    /// Starts a server on `127.0.0.1` with a random port and API key.
    pub async fn start() -> MockServer {
        Self::start_with(MockOptions::default()).await
    }

    /// Starts a server with the given options.
    ///
    /// # Panics
    /// If the address cannot be bound; [`MockServer::try_start_with`] says why instead.
    pub async fn start_with(options: MockOptions) -> MockServer {
        Self::try_start_with(options)
            .await
            .unwrap_or_else(|e| panic!("cannot start the mock server: {e}"))
    }

    /// Starts a server with the given options, or says why it cannot: the
    /// address cannot be bound, or the spec uses a schema keyword the
    /// server's validator does not implement (it would pass requests unchecked).
    pub async fn try_start_with(options: MockOptions) -> std::io::Result<MockServer> {
        let unsupported = validate::unsupported_keywords(&validate::SPEC);
        if !unsupported.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                format!(
                    "the local server cannot check requests against this spec: its validator does not \
                     implement {}",
                    unsupported.join(", ")
                ),
            ));
        }
        let api_key = options.api_key.unwrap_or_else(random_key);
        let shared = Arc::new(Shared {
            api_key,
            faults: Mutex::default(),
            latency: Mutex::new(options.latency),
            requests: Mutex::default(),
            placed: Mutex::default(),
            received: Default::default(),
            record: options.record_requests,
            seed: options.seed.unwrap_or_else(random_seed),
            next_id: Default::default(),
            on_request: options.on_request,
            rate_limit: options.rate_limit,
            decided: Default::default(),
            in_flight: Default::default(),
            max_in_flight: Default::default(),
        });
        let (addr, shutdown) =
            http_server::spawn(shared.clone(), SocketAddr::new(options.host, options.port)).await?;
        Ok(MockServer {
            addr,
            base_url: format!("http://{addr}"),
            shared,
            _shutdown: shutdown,
        })
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

    /// Every call placed so far, in order (empty if recording is off).
    pub fn placed_calls(&self) -> Vec<PlacedCall> {
        self.shared.placed.lock().unwrap().clone()
    }

    /// How many requests were read, recorded or not.
    pub fn request_count(&self) -> usize {
        self.shared.received.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The requests the server is handling now (read, not yet answered).
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The most requests the server was handling at one time, from the
    /// moment a request arrives until its answer is ready (latency included).
    pub fn max_in_flight(&self) -> usize {
        self.shared
            .max_in_flight
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Counts one request in flight for as long as it lives.
pub(crate) struct InFlight<'a>(&'a Shared);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(3u8)
}

/// SplitMix64: well-spread ids from a seed and a counter.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn random_key() -> String {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    format!("mock_{:016x}{:016x}", state.hash_one(1u8), state.hash_one(2u8))
}

/// One answer of the mock, before it is put on the wire.
pub(crate) enum Answer {
    Json(StatusCode, Vec<(&'static str, String)>, Value),
    /// A status and headers, no body.
    Empty(StatusCode, Vec<(&'static str, String)>),
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
    /// The fault for the request being answered: a queued one, else the
    /// standing rate limit's `429` when it is this request's turn.
    pub(crate) fn next_fault(&self) -> Option<Fault> {
        if let Some(fault) = self.faults.lock().unwrap().pop_front() {
            return Some(fault);
        }
        let limit = self.rate_limit.as_ref()?;
        let n = self.decided.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        n.is_multiple_of(limit.every).then(|| Fault::TooManyRequests {
            retry_after: limit.retry_after.clone(),
        })
    }

    /// Marks a request as being handled until the guard is dropped.
    pub(crate) fn enter(&self) -> InFlight<'_> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.max_in_flight.fetch_max(now, SeqCst);
        InFlight(self)
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
    /// first, then the route (404, 405, OPTIONS), the key, the body, and the
    /// operation's answer.
    pub(crate) fn answer(&self, request: RecordedRequest, fault: Option<Fault>) -> Answer {
        if let Some(answer) = injected(fault.as_ref()) {
            return answer;
        }
        let spec = &*validate::SPEC;
        let route = match Route::find(spec, &request.method, &request.path) {
            Ok(route) => route,
            Err(RouteMiss::NoPath) => {
                let message = format!("no operation {} {} in the spec", request.method, request.path);
                return error(StatusCode::NOT_FOUND, "not_found", &message, vec![]);
            }
            Err(RouteMiss::Options { allow }) => {
                return Answer::Empty(StatusCode::NO_CONTENT, vec![("allow", allow)]);
            }
            Err(RouteMiss::Method { allow }) => {
                let message = format!("{} is not allowed here; allowed: {allow}", request.method);
                let Answer::Json(status, _, body) = error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    &message,
                    vec![],
                ) else {
                    unreachable!("error() answers JSON")
                };
                return Answer::Json(status, vec![("allow", allow)], body);
            }
        };
        if request.header(crate::client::API_KEY_HEADER) != Some(self.api_key.as_str()) {
            return error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or invalid X-API-Key header",
                vec![],
            );
        }
        let body = match checked_body(&route, &request) {
            Ok(body) => body,
            Err(answer) => return answer,
        };
        respond(self, spec, &route, &body, fault)
    }

    /// A fresh call id: `call_` and 16 hex digits, the same sequence for the
    /// same seed.
    fn next_call_id(&self) -> String {
        let n = self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("call_{:016x}", mix(self.seed ^ mix(n)))
    }

    pub(crate) fn log(&self, entry: &RequestLog) {
        if let Some(log) = &self.on_request {
            log(entry);
        }
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
        Fault::TruncatedBody | Fault::UnknownEnumValues | Fault::Delay(_) | Fault::Json(..) => None,
    }
}

/// The request body as JSON, checked against the operation's schema
/// (`Value::Null` for an operation that takes none): `415` for another
/// media type, `400` for bad JSON, `422` with each broken rule.
fn checked_body(route: &Route<'_>, request: &RecordedRequest) -> Result<Value, Answer> {
    let Some(schema) = route.body_schema() else {
        return Ok(Value::Null);
    };
    let content_type = request.header("content-type").unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != "application/json" && !(media.starts_with("application/") && media.ends_with("+json")) {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            &format!("the body must be application/json, not `{content_type}`"),
            vec![],
        ));
    }
    let json: Value = serde_json::from_slice(&request.body).map_err(|e| {
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

/// What the mock does for one operation: from the server's state and the
/// request body, the status and body of the answer.
type Behaviour = fn(&Shared, &Value) -> (StatusCode, Value);

/// Operations the mock gives behaviour of its own; every other operation is
/// answered as the spec documents it ([`Route::documented_answer`]).
const BEHAVIOURS: &[(&str, Behaviour)] = &[("create_call", create_call_answer)];

/// The operation's answer, with the faults that alter a processed answer.
fn respond(shared: &Shared, spec: &Value, route: &Route<'_>, body: &Value, fault: Option<Fault>) -> Answer {
    let behaviour = BEHAVIOURS.iter().find(|(id, _)| *id == route.operation_id);
    let (status, mut answer) = match (&fault, behaviour) {
        (Some(Fault::Json(status, answer)), _) => (
            StatusCode::from_u16(*status).unwrap_or(StatusCode::OK),
            answer.clone(),
        ),
        (_, Some((_, behave))) => behave(shared, body),
        (_, None) => route.documented_answer(spec),
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

fn create_call_answer(shared: &Shared, request: &Value) -> (StatusCode, Value) {
    let call_id = shared.next_call_id();
    if shared.record {
        shared.placed.lock().unwrap().push(PlacedCall {
            call_id: call_id.clone(),
            request: request.clone(),
        });
    }
    let call = create_call(call_id, request);
    (
        StatusCode::CREATED,
        serde_json::to_value(call).expect("Call serialises"),
    )
}

/// A freshly scheduled call, as the API describes one.
fn create_call(id: String, request: &Value) -> Call {
    // Millisecond precision, like the vendor's timestamps.
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3);
    let agent = request.get("agentId").and_then(Value::as_str).map(|id| {
        Agent::try_from(Agent::builder().agent_id(id.to_owned())).expect("an agent id alone is an Agent")
    });
    let call = Call::builder()
        .call_id(id)
        .call_type(CallType::Outbound)
        .status(CallStatus::Scheduled)
        .created_at(now)
        .updated_at(now)
        .dynamic_variables(
            request
                .get("dynamicVariables")
                .and_then(Value::as_object)
                .cloned(),
        )
        .agent(agent);
    Call::try_from(call).expect("every field of a Call is optional")
}
