//! How a local server is started ([`MockOptions`]), and what it tells a
//! caller about each request ([`RequestLog`]).

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::Value;

use super::spec::SharedSpec;

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

/// Options for [`MockServer::start_with`](super::MockServer::start_with).
///
/// Memory stays bounded under any load: recorded requests and placed calls
/// are kept in rings of [`record_limit`](Self::record_limit) entries (the
/// oldest go first), the calls kept for look-ups in one of
/// [`keep_calls`](Self::keep_calls); counters are kept whatever the settings.
#[derive(Clone)]
#[non_exhaustive]
pub struct MockOptions {
    /// The key clients must send; random when `None`.
    pub api_key: Option<String>,
    /// Keep requests for [`MockServer::requests`](super::MockServer::requests)
    /// and calls for [`MockServer::placed_calls`](super::MockServer::placed_calls)
    /// (on by default; `sigmamind mock serve` turns it off).
    pub record_requests: bool,
    /// The most requests (and placed calls) recording keeps: the latest.
    pub record_limit: usize,
    /// The most calls kept for operations that look one up (`GET` by id):
    /// the latest.
    pub keep_calls: usize,
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
    /// The spec to serve; the crate's own when `None`.
    pub(crate) spec: Option<SharedSpec>,
    /// Answer every success with this status instead of the documented one
    /// (`200` where the page says `201`, as earlier vendor pages do).
    pub success_status: Option<u16>,
    /// Answer successes with the field types the vendor's other pages show
    /// (see [`MockOptions::mistyped_fields`]).
    pub mistyped_fields: bool,
}

impl std::fmt::Debug for MockOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("record_requests", &self.record_requests)
            .field("record_limit", &self.record_limit)
            .field("keep_calls", &self.keep_calls)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("latency", &self.latency)
            .field("seed", &self.seed)
            .field("on_request", &self.on_request.is_some())
            .field("rate_limit", &self.rate_limit)
            .field("spec", &self.spec.as_ref().map(|_| "(given)"))
            .field("success_status", &self.success_status)
            .field("mistyped_fields", &self.mistyped_fields)
            .finish()
    }
}

impl MockOptions {
    /// The key clients must send.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Whether to keep requests for [`MockServer::requests`](super::MockServer::requests).
    pub fn record_requests(mut self, record: bool) -> Self {
        self.record_requests = record;
        self
    }

    /// The most requests (and placed calls) recording keeps.
    pub fn record_limit(mut self, limit: usize) -> Self {
        self.record_limit = limit;
        self
    }

    /// The most calls kept for look-ups by id.
    pub fn keep_calls(mut self, calls: usize) -> Self {
        self.keep_calls = calls;
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
    /// else: a server shedding load. Queued [`Fault`](super::Fault)s go first.
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

    /// Serves `spec` (an effective OpenAPI 3.0 document, as JSON) instead
    /// of the crate's own: a vendor release can be tried before the crate
    /// is regenerated. Operations with a behaviour of the local server's
    /// (keyed by method and path template) get it; the others are answered
    /// as the spec documents them.
    pub fn spec(mut self, spec: Value) -> Self {
        self.spec = Some(Arc::new(spec));
        self
    }

    /// Answers every success with `status` instead of the documented one,
    /// as a live API might (earlier versions of the vendor's Create Phone
    /// Call page say `200 OK` where the current one says `201 Created`).
    pub fn success_status(mut self, status: u16) -> Self {
        self.success_status = Some(status);
        self
    }

    /// Answers successes with the field types the vendor's other pages show
    /// for the same fields, where an operation's behaviour knows them (for a
    /// call: `phoneNumber` as the string `"Object"`, a phone number as a bare
    /// number, `duration` as a string). Clients must still read the answer.
    pub fn mistyped_fields(mut self, mistyped: bool) -> Self {
        self.mistyped_fields = mistyped;
        self
    }
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            api_key: None,
            record_requests: true,
            record_limit: 10_000,
            keep_calls: 10_000,
            host: std::net::Ipv4Addr::LOCALHOST.into(),
            port: 0,
            latency: Duration::ZERO,
            seed: None,
            on_request: None,
            rate_limit: None,
            spec: None,
            success_status: None,
            mistyped_fields: false,
        }
    }
}
