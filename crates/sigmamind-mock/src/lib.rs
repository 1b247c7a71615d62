//! A local SigmaMind API for tests, demos and load tests: the crate
//! `sigmamind-mock`, beside the SDK `sigmamind`, whose public API it uses.
//!
//! [`MockServer`] serves the spec's operations on a loopback port. It is
//! driven by the spec: requests are checked against the spec's schemas
//! (`422` with one entry per broken rule), operations answer as their
//! behaviour or the spec says, error bodies take the shape the spec
//! documents, and requests are recorded (bounded). It can be told to
//! misbehave ([`Fault`]), or to answer as the vendor's other pages describe
//! the API ([`MockOptions::success_status`], [`MockOptions::mistyped_fields`]),
//! to test what a client does then.
//!
//! | file | job |
//! |---|---|
//! | `options.rs` | [`MockOptions`], [`RequestLog`] |
//! | `spec.rs` | the spec served: the crate's, or one given at run time |
//! | `routes.rs` | the operation at a method and path, with its path parameters |
//! | `respond.rs` | the answer in steps: route, faults, key, parameters, body, processing |
//! | `answer.rs` | what an answer is (a JSON body, no body, raw bytes, a cut body, a dropped connection) |
//! | `behaviours.rs` | operations with behaviour of their own, keyed by method and path template |
//! | `synthesize.rs` | the spec's own answer for every other operation |
//! | `faults.rs` | [`Fault`]: which one a request gets, and what it does |
//! | `errors.rs` | error bodies, as the spec documents them (else the vendor's shape) |
//! | `validate.rs` | request checks against the spec's schemas |
//! | `state.rs` | what a running server keeps, bounded |
//! | `http_server.rs` | hyper plumbing |
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sigmamind::Error> {
//! use sigmamind_mock::MockServer;
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
//! Error bodies: the vendor documents none for `POST /v1/calls`; its other
//! pages show one shape (`{"error": "Bad Request", "message", "path",
//! "status", "timestamp"}`), which the spec's overlay documents for the
//! local server, with `errors` (one `{"field", "rule"}` per broken rule).
#![warn(missing_docs)]

mod answer;
mod behaviours;
mod errors;
mod faults;
mod http_server;
mod options;
mod respond;
mod routes;
mod spec;
mod state;
mod synthesize;
mod validate;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use faults::Fault;
pub use options::{MockOptions, RateLimit, RequestLog, RequestLogger};
pub use state::{PlacedCall, RecordedRequest};
pub use validate::{
    unsupported_keywords, validate, validate_component, Violation, CHECKED_KEYWORDS, IGNORED_KEYWORDS,
};

use sigmamind::Client;
use state::ServerState;

/// The largest request body the server reads; a larger one gets `413`
/// (documented in the spec's overlay).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A running local SigmaMind API; stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    base_url: String,
    state: Arc<ServerState>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
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
            .unwrap_or_else(|e| panic!("cannot start the local server: {e}"))
    }

    /// Starts a server with the given options, or says why it cannot: the
    /// address cannot be bound, or the spec uses a schema keyword the
    /// server's validator does not implement (it would pass requests unchecked).
    pub async fn try_start_with(mut options: MockOptions) -> std::io::Result<MockServer> {
        let spec = options.spec.take().unwrap_or_else(spec::default_spec);
        let unsupported = validate::unsupported_keywords(&spec);
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
        let api_key = options.api_key.clone().unwrap_or_else(random_key);
        let listen = SocketAddr::new(options.host, options.port);
        let state = Arc::new(ServerState::new(options, spec, api_key));
        let (addr, shutdown) = http_server::spawn(state.clone(), listen).await?;
        Ok(MockServer {
            addr,
            base_url: format!("http://{addr}"),
            state,
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
        &self.state.api_key
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
        self.state.faults.push(fault);
    }

    /// Delays every answer by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.state.set_latency(latency);
    }

    /// The latest requests received, in order (at most
    /// [`MockOptions::record_limit`]; none if recording is off).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    /// The latest calls placed, in order (at most
    /// [`MockOptions::record_limit`]; none if recording is off).
    pub fn placed_calls(&self) -> Vec<PlacedCall> {
        self.state.placed_calls()
    }

    /// How many requests were read, recorded or not.
    pub fn request_count(&self) -> usize {
        self.state.request_count()
    }

    /// The requests the server is handling now (read, not yet answered).
    pub fn in_flight(&self) -> usize {
        self.state.in_flight()
    }

    /// The most requests the server was handling at one time, from the
    /// moment a request arrives until its answer is ready (latency included).
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight()
    }
}

fn random_key() -> String {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    format!("mock_{:016x}{:016x}", state.hash_one(1u8), state.hash_one(2u8))
}

/// The README's code, compiled as a doc test so that it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
