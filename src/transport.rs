//! The request path under every generated operation: attempts and retries
//! ([`execute`], called from the `exec` hook) and the translation of the
//! outcome into [`Error`] ([`send`], which every generated `send()` calls).
//!
//! progenitor's error keeps less than an error needs (the body of an error
//! response, the attempts made), so `execute` records what it observed in a
//! task-local that `send` opens around the operation and hands to the error
//! by value. That side channel lives in this module only, and `execute`
//! running outside it is a bug: debug builds (and so every test) panic.

use std::cell::RefCell;
use std::future::Future;
use std::time::SystemTime;

use progenitor_client::{OperationInfo, ResponseValue};
use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use serde::de::DeserializeOwned;

use crate::error::{Error, Observed, ResponseInfo};
use crate::fate::{classify, Exchange};
use crate::retry::{jitter, parse_retry_after, Attempt, RetryPolicy};
use crate::trace::AttemptSpan;

tokio::task_local! {
    static OBSERVED: RefCell<Observed>;
}

fn record(f: impl FnOnce(&mut Observed)) {
    let recorded = OBSERVED.try_with(|o| f(&mut o.borrow_mut()));
    debug_assert!(
        recorded.is_ok(),
        "transport::execute ran outside transport::send: what it observed would be lost"
    );
}

/// Runs a generated operation and returns its result with the crate's error.
/// The generated `send` passes the operation boxed: its future is several KB,
/// and moving it through each layer showed up as memcpy in profiles.
/// `documented_success`: the success statuses the spec lists, as inclusive
/// ranges; every `2xx` is a success (the generated code decodes it as the
/// success type), one the spec does not list is drift.
pub(crate) async fn send<T, E>(
    client: &crate::Client,
    operation_id: &'static str,
    documented_success: &'static [(u16, u16)],
    operation: impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
) -> Result<ResponseValue<T>, Error>
where
    T: DeserializeOwned + crate::drift::Inspect,
{
    let (result, observed) = OBSERVED
        .scope(RefCell::new(Observed::default()), async {
            let result = operation.await;
            (result, OBSERVED.with(|o| o.take()))
        })
        .await;
    let value = result.map_err(|e| Error::from_operation::<T, E>(operation_id, e, observed))?;
    // Drift: what the response carries that the spec does not know.
    let mut found = crate::drift::Findings::default();
    let status = value.status().as_u16();
    if !documented_success
        .iter()
        .any(|(low, high)| (*low..=*high).contains(&status))
    {
        found.status(status);
    }
    crate::drift::Inspect::inspect(&*value, &mut found);
    let findings = found.into_vec();
    for finding in &findings {
        crate::trace::drift(operation_id, finding);
    }
    progenitor_client::ClientInfo::inner(client)
        .drift
        .record(operation_id, findings);
    Ok(value)
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

/// What one attempt showed, for the classifier.
fn exchange(result: &reqwest::Result<reqwest::Response>) -> Exchange {
    match result {
        Ok(response) => Exchange::Answered(response.status()),
        Err(error) if error.is_connect() => Exchange::ConnectFailed,
        Err(_) => Exchange::NoCompleteAnswer,
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
        let span = AttemptSpan::start(info.operation_id, this_try.method(), attempt);
        let result = span.instrument(http.execute(this_try)).await;
        span.finish(result.as_ref().ok().map(reqwest::Response::status));

        let this = Attempt {
            number: attempt,
            resend: classify(exchange(&result)).resend,
            idempotent,
            retry_after: result.as_ref().ok().and_then(|r| retry_after(r.headers())),
        };
        let retryable = policy.is_retryable(&this);
        if let Some(delay) = policy.next_delay(&this, jitter()) {
            tokio::time::sleep(delay).await;
            continue;
        }
        return finish(result, attempt, retryable).await;
    }
}

fn retry_after(headers: &HeaderMap) -> Option<std::time::Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// Records the exchange for error reporting, and reads the body whole, so
/// that what arrived is kept even when the body breaks off: an error shows
/// it, and a success cut short still offers its call id. The response is
/// handed on rebuilt from the buffered body (a `Bytes`, not a copy).
async fn finish(
    result: reqwest::Result<reqwest::Response>,
    attempts: u32,
    retryable: bool,
) -> reqwest::Result<reqwest::Response> {
    let mut response = result.inspect_err(|_| {
        record(|e| {
            e.attempts = attempts;
            e.retryable = retryable;
        })
    })?;
    let status = response.status();
    let content_type = response.headers().get(CONTENT_TYPE).cloned();
    let wait = retry_after(response.headers());
    record(|e| {
        e.attempts = attempts;
        e.retryable = retryable;
        e.status = Some(status);
        e.content_type = content_type;
        e.retry_after = wait;
    });
    let version = response.version();
    let headers = response.headers().clone();
    let mut body = bytes::BytesMut::new();
    let broken = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break None,
            Err(error) => break Some(error),
        }
    };
    let body = body.freeze();
    if broken.is_some() || !status.is_success() {
        record(|e| {
            e.response = Some(ResponseInfo {
                status,
                headers: headers.clone(),
                body: body.clone(),
            });
            e.body_error = broken.as_ref().map(ToString::to_string);
        });
    }
    if let Some(error) = broken {
        return Err(error);
    }
    let mut rebuilt = http::Response::new(body);
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(reqwest::Response::from(rebuilt))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The side channel is not optional: `execute` outside `send` is a bug,
    /// and debug builds say so instead of reporting `attempts: 0`.
    #[tokio::test]
    #[should_panic(expected = "transport::execute ran outside transport::send")]
    async fn execute_outside_send_is_a_bug_not_a_silent_zero() {
        let http = reqwest::Client::new();
        let request = http.get("http://127.0.0.1:9/").build().unwrap();
        let policy = RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        };
        let info = OperationInfo { operation_id: "test" };
        let _ = execute(&http, &policy, request, &info).await;
    }

    #[tokio::test]
    async fn inside_send_what_execute_observed_reaches_the_error() {
        let http = reqwest::Client::new();
        let policy = RetryPolicy {
            max_retries: 1,
            initial_backoff: std::time::Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        let operation = async {
            let request = http.get("http://127.0.0.1:9/").build().unwrap();
            let info = OperationInfo { operation_id: "test" };
            let result = execute(&http, &policy, request, &info).await;
            result
                .map(|_| ResponseValue::new((), reqwest::StatusCode::OK, Default::default()))
                .map_err(progenitor_client::Error::<()>::CommunicationError)
        };
        let client = crate::Client::builder()
            .api_key("k")
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        let err = send(&client, "test", &[(200, 200)], operation).await.unwrap_err();
        // Nothing listens on port 9: connecting failed twice, safely retried.
        let Error::Connection {
            attempts,
            maybe_processed,
            ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!((attempts, maybe_processed), (2, false));
    }
}
