//! What a running local server keeps, all of it bounded: the latest
//! requests and placed calls while recording (rings), the latest calls for
//! operations that look one up, and counters.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http::header::HeaderMap;
use http::{Method, StatusCode};
use serde_json::Value;

use super::faults::Faults;
use super::options::{MockOptions, RequestLog, RequestLogger};
use super::spec::SharedSpec;

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

/// A call the server placed (a success to `POST /v1/calls`).
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

/// The latest `capacity` items; older ones are dropped.
#[derive(Debug)]
struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T: Clone> Ring<T> {
    fn new(capacity: usize) -> Self {
        Self {
            items: VecDeque::new(),
            capacity,
        }
    }

    fn push(&mut self, item: T) {
        if self.capacity == 0 {
            return;
        }
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    fn to_vec(&self) -> Vec<T> {
        self.items.iter().cloned().collect()
    }
}

/// The latest calls by id, for operations that look one up.
#[derive(Debug)]
struct Calls {
    by_id: HashMap<String, Value>,
    order: VecDeque<String>,
    capacity: usize,
}

impl Calls {
    fn keep(&mut self, id: String, call: Value) {
        if self.capacity == 0 {
            return;
        }
        if self.by_id.insert(id.clone(), call).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.by_id.remove(&oldest);
            }
        }
    }
}

/// Everything one running server shares between its connections.
pub(crate) struct ServerState {
    pub(crate) api_key: String,
    pub(crate) spec: SharedSpec,
    pub(crate) faults: Faults,
    latency: Mutex<Duration>,
    record: bool,
    requests: Mutex<Ring<RecordedRequest>>,
    placed: Mutex<Ring<PlacedCall>>,
    calls: Mutex<Calls>,
    received: AtomicUsize,
    /// Where call ids come from: reproducible for a given seed.
    seed: u64,
    next_id: AtomicU64,
    on_request: Option<RequestLogger>,
    /// Requests being handled now, and the most at any one time.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    pub(crate) success_status: Option<StatusCode>,
    pub(crate) mistyped_fields: bool,
}

impl ServerState {
    pub(crate) fn new(options: MockOptions, spec: SharedSpec, api_key: String) -> Self {
        Self {
            api_key,
            spec,
            faults: Faults::new(options.rate_limit),
            latency: Mutex::new(options.latency),
            record: options.record_requests,
            requests: Mutex::new(Ring::new(options.record_limit)),
            placed: Mutex::new(Ring::new(options.record_limit)),
            calls: Mutex::new(Calls {
                by_id: HashMap::new(),
                order: VecDeque::new(),
                capacity: options.keep_calls,
            }),
            received: AtomicUsize::new(0),
            seed: options.seed.unwrap_or_else(random_seed),
            next_id: AtomicU64::new(0),
            on_request: options.on_request,
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            success_status: options.success_status.and_then(|s| StatusCode::from_u16(s).ok()),
            mistyped_fields: options.mistyped_fields,
        }
    }

    /// Counts a request, and keeps it while recording, as soon as it is read.
    pub(crate) fn received(&self, request: &RecordedRequest) {
        self.received.fetch_add(1, Ordering::SeqCst);
        if self.record {
            self.requests.lock().unwrap().push(request.clone());
        }
    }

    /// A call placed: kept for look-ups, and recorded while recording.
    pub(crate) fn placed(&self, call_id: &str, request: &Value, call: Value) {
        if self.record {
            self.placed.lock().unwrap().push(PlacedCall {
                call_id: call_id.to_owned(),
                request: request.clone(),
            });
        }
        self.calls.lock().unwrap().keep(call_id.to_owned(), call);
    }

    /// A call kept for look-ups.
    pub(crate) fn call(&self, call_id: &str) -> Option<Value> {
        self.calls.lock().unwrap().by_id.get(call_id).cloned()
    }

    /// A fresh call id: `call_` and 16 hex digits, the same sequence for
    /// the same seed.
    pub(crate) fn next_call_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("call_{:016x}", mix(self.seed ^ mix(n)))
    }

    pub(crate) fn latency(&self) -> Duration {
        *self.latency.lock().unwrap()
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        *self.latency.lock().unwrap() = latency;
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().unwrap().to_vec()
    }

    pub(crate) fn placed_calls(&self) -> Vec<PlacedCall> {
        self.placed.lock().unwrap().to_vec()
    }

    pub(crate) fn request_count(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Marks a request as being handled until the guard is dropped.
    pub(crate) fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(self)
    }

    pub(crate) fn log(&self, entry: &RequestLog) {
        if let Some(log) = &self.on_request {
            log(entry);
        }
    }
}

/// Counts one request in flight for as long as it lives.
pub(crate) struct InFlight<'a>(&'a ServerState);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_and_kept_calls_hold_the_latest_only() {
        let mut ring = Ring::new(3);
        (0..10).for_each(|i| ring.push(i));
        assert_eq!(ring.to_vec(), [7, 8, 9]);
        let mut calls = Calls {
            by_id: HashMap::new(),
            order: VecDeque::new(),
            capacity: 2,
        };
        for i in 0..5 {
            calls.keep(format!("c{i}"), Value::from(i));
        }
        assert_eq!(calls.by_id.len(), 2);
        assert!(calls.by_id.contains_key("c4") && calls.by_id.contains_key("c3"));
        assert_eq!(calls.order.len(), 2);
    }
}
