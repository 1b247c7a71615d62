//! The request path under every generated operation: attempts and retries
//! ([`execute`], called from the `exec` hook) and the translation of the
//! outcome into [`Error`] ([`send`], which every generated `send()` calls).
//!
//! The two halves talk through a task-local [`Exchange`]: `execute` records
//! what happened on the wire (status, headers, the buffered body, attempts,
//! the retry decision) so that `send` can build an error that says exactly
//! what went wrong, even where progenitor's error keeps less.

use std::cell::RefCell;
use std::future::Future;
#[cfg(feature = "tracing")]
use std::time::Instant;
use std::time::SystemTime;

use progenitor_client::{OperationInfo, ResponseValue};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use serde::de::DeserializeOwned;

use crate::error::{Error, ResponseInfo};
use crate::retry::{jitter, parse_retry_after, Outcome, RetryPolicy};

/// What the last attempt of one operation call saw.
#[derive(Debug, Default)]
pub(crate) struct Exchange {
    pub attempts: u32,
    pub retryable: bool,
    /// Status and content type of the final response, if one arrived.
    pub status: Option<reqwest::StatusCode>,
    pub content_type: Option<HeaderValue>,
    /// The whole final response, kept when it is not a success (errors show it).
    pub response: Option<ResponseInfo>,
    /// The body could not be read completely (status and headers had arrived).
    pub body_error: Option<String>,
}

tokio::task_local! {
    static EXCHANGE: RefCell<Exchange>;
}

fn record(f: impl FnOnce(&mut Exchange)) {
    // Outside `send` (no scope) there is nobody to tell; that is fine.
    let _ = EXCHANGE.try_with(|e| f(&mut e.borrow_mut()));
}

/// Runs a generated operation and returns its result with the crate's error.
/// The generated `send` passes the operation boxed: its future is several KB,
/// and moving it through each layer showed up as memcpy in profiles.
pub(crate) async fn send<T, E>(
    operation_id: &'static str,
    operation: impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
) -> Result<ResponseValue<T>, Error>
where
    T: DeserializeOwned,
{
    let (result, exchange) = EXCHANGE
        .scope(RefCell::new(Exchange::default()), async {
            let result = operation.await;
            (result, EXCHANGE.with(|e| e.take()))
        })
        .await;
    result.map_err(|e| Error::from_operation::<T, E>(operation_id, e, exchange))
}

fn idempotent(method: &reqwest::Method) -> bool {
    use reqwest::Method;
    [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
    ]
    .contains(method)
}

fn transport_outcome(error: &reqwest::Error) -> Outcome {
    if error.is_connect() {
        Outcome::NotSent
    } else {
        Outcome::MaybeProcessed
    }
}

/// Sends `request`, retrying as `policy` allows, and returns the final
/// response with its body already read (so an error can show it).
pub(crate) async fn execute(
    http: &reqwest::Client,
    policy: &RetryPolicy,
    request: reqwest::Request,
    info: &OperationInfo,
) -> reqwest::Result<reqwest::Response> {
    let idempotent = idempotent(request.method());
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        // JSON bodies are buffered, so the clone succeeds; a streaming body
        // could not be replayed and gets exactly one attempt.
        let Some(this_try) = request.try_clone() else {
            return finish(http.execute(request).await, attempt, false).await;
        };
        #[cfg(feature = "tracing")]
        let started = Instant::now();
        #[cfg(feature = "tracing")]
        let span = tracing::info_span!(
            "sigmamind.request",
            operation_id = info.operation_id,
            method = %this_try.method(),
            attempt,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        #[cfg(feature = "tracing")]
        let result = tracing::Instrument::instrument(http.execute(this_try), span.clone()).await;
        #[cfg(not(feature = "tracing"))]
        let result = http.execute(this_try).await;
        #[cfg(feature = "tracing")]
        {
            if let Ok(response) = &result {
                span.record("status", response.status().as_u16());
            }
            span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
        }
        #[cfg(not(feature = "tracing"))]
        let _ = info;

        let (outcome, retry_after) = match &result {
            Ok(response) => (
                Outcome::Status(response.status().as_u16()),
                retry_after(response.headers()),
            ),
            Err(error) => (transport_outcome(error), None),
        };
        let retryable = policy.is_retryable(outcome, idempotent);
        let success = matches!(outcome, Outcome::Status(s) if s < 400);
        if !success {
            if let Some(delay) = policy.next_delay(outcome, idempotent, attempt, retry_after, jitter()) {
                tokio::time::sleep(delay).await;
                continue;
            }
        }
        return finish(result, attempt, retryable).await;
    }
}

fn retry_after(headers: &HeaderMap) -> Option<std::time::Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// Records the exchange for error reporting. A success is handed on as it
/// came (the operation reads and decodes the body itself); any other answer
/// is read whole and handed on rebuilt from the buffered body, which the
/// error then shows.
async fn finish(
    result: reqwest::Result<reqwest::Response>,
    attempts: u32,
    retryable: bool,
) -> reqwest::Result<reqwest::Response> {
    let response = result.inspect_err(|_| {
        record(|e| {
            e.attempts = attempts;
            e.retryable = retryable;
        })
    })?;
    let status = response.status();
    let content_type = response.headers().get(CONTENT_TYPE).cloned();
    record(|e| {
        e.attempts = attempts;
        e.retryable = retryable;
        e.status = Some(status);
        e.content_type = content_type;
    });
    if status.is_success() {
        return Ok(response);
    }
    let version = response.version();
    let headers = response.headers().clone();
    let body = response.bytes().await;
    record(|e| {
        e.response = Some(ResponseInfo {
            status,
            headers: headers.clone(),
            body: body.as_ref().cloned().unwrap_or_default(),
        });
        if let Err(error) = &body {
            e.body_error = Some(error.to_string());
        }
    });
    let mut rebuilt = http::Response::new(body?);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(reqwest::Response::from(rebuilt))
}
