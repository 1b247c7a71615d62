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
use crate::fate::{classify, classify_answer, Exchange, Verdict};
use crate::retry::{jitter, parse_retry_after, Attempt, RetryPolicy};
use crate::trace::AttemptSpan;

tokio::task_local! {
    // Boxed, and only once something is recorded: tokio swaps a task-local's
    // value in and out of its slot at every poll, and a pointer is cheaper
    // to swap than the record itself (the swaps showed up as memcpy).
    static OBSERVED: RefCell<Option<Box<Observed>>>;
}

fn record(f: impl FnOnce(&mut Observed)) {
    let recorded = OBSERVED.try_with(|o| f(o.borrow_mut().get_or_insert_with(Box::default)));
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
    // The error is made inside the scope: handing the result and the record
    // out as a pair moved the (large) result once more.
    let value = OBSERVED
        .scope(RefCell::new(None), async {
            operation.await.map_err(|e| {
                let observed = OBSERVED.with(|o| o.take()).map_or_else(Observed::default, |o| *o);
                Error::from_operation::<T, E>(operation_id, e, observed)
            })
        })
        .await?;
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

/// What one attempt brought back: an answer, read up to the body limit,
/// or a failure before any status arrived.
enum Reply {
    Failed(reqwest::Error),
    Arrived(Arrived),
}

/// An answer whose status and headers arrived, with what was read of its body.
struct Arrived {
    /// Status, version and headers; as extensions, only the URL answered
    /// (reqwest's own, so that the rebuilt response keeps it instead of
    /// reqwest parsing a placeholder URL for every response).
    parts: http::response::Parts,
    /// What was read: the whole body, or its first `limit` bytes.
    body: bytes::Bytes,
    /// The body broke off (a lost connection, the attempt's timeout).
    broken: Option<reqwest::Error>,
    /// The body was longer than the limit: the rest was not read.
    truncated: bool,
}

impl Reply {
    /// The classifier's verdict on this attempt (a success's body is not
    /// searched for a call id: see [`classify_answer`]).
    fn verdict(&self) -> Verdict {
        match self {
            Reply::Failed(error) if error.is_connect() => classify(Exchange::ConnectFailed),
            Reply::Failed(_) => classify(Exchange::NoCompleteAnswer),
            Reply::Arrived(arrived) => classify_answer(arrived.parts.status, &arrived.body),
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Reply::Arrived(arrived) => retry_after(&arrived.parts.headers),
            Reply::Failed(_) => None,
        }
    }
}

/// The UTF-8 byte-order mark some servers put before JSON, which JSON
/// parsers refuse: it is not part of the document.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads the body of `result`, at most `limit` bytes of it: past the limit
/// the rest is not read (the connection is dropped), so an endless or huge
/// body costs `limit` bytes of memory, not all of it.
async fn read(result: reqwest::Result<reqwest::Response>, limit: usize) -> Reply {
    let mut response = match result {
        Ok(response) => response,
        Err(error) => return Reply::Failed(error),
    };
    // The usual answer arrives in one chunk, kept as it came (no copy);
    // a second chunk starts a buffer.
    let mut first: Option<bytes::Bytes> = None;
    let mut body: Vec<u8> = Vec::new();
    let mut truncated = false;
    let broken = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let held = first.as_ref().map_or(0, bytes::Bytes::len) + body.len();
                let room = limit - held;
                let take = chunk.len().min(room);
                if held == 0 && first.is_none() {
                    first = Some(chunk.slice(..take));
                } else {
                    if let Some(first) = first.take() {
                        body.extend_from_slice(&first);
                    }
                    // Grow by doubling, but never past the limit: a body at
                    // the limit holds `limit` bytes, not twice that.
                    let needed = body.len() + take;
                    if needed > body.capacity() {
                        let target = needed.max(body.capacity() * 2).min(limit);
                        body.reserve_exact(target - body.len());
                    }
                    body.extend_from_slice(&chunk[..take]);
                }
                if take < chunk.len() {
                    truncated = true;
                    break None;
                }
            }
            Ok(None) => break None,
            Err(error) => break Some(error),
        }
    };
    let mut body = first.unwrap_or_else(|| bytes::Bytes::from(body));
    if body.starts_with(UTF8_BOM) {
        body = body.slice(UTF8_BOM.len()..);
    }
    // Parts made here rather than taken from `http::Response::from(response)`,
    // which would box the (spent) body only for it to be dropped.
    let (mut parts, ()) = {
        use reqwest::ResponseBuilderExt;
        http::Response::builder()
            .url(response.url().clone())
            .body(())
            .expect("a response with only a URL builds")
            .into_parts()
    };
    parts.status = response.status();
    parts.version = response.version();
    parts.headers = std::mem::take(response.headers_mut());
    Reply::Arrived(Arrived {
        parts,
        body,
        broken,
        truncated,
    })
}

/// Sends `request`, retrying as `policy` allows, and returns the final
/// response with its body already read, at most `body_limit` bytes of it
/// (so that an error can show it, and an endless body cannot exhaust memory).
pub(crate) async fn execute(
    http: &reqwest::Client,
    policy: &RetryPolicy,
    wait: Option<&dyn crate::retry::RetryWait>,
    body_limit: usize,
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
            return finish(
                read(http.execute(request).await, body_limit).await,
                attempt,
                false,
                body_limit,
            );
        };
        let span = AttemptSpan::start(info.operation_id, this_try.method(), attempt);
        let reply = span
            .instrument(async { read(http.execute(this_try).await, body_limit).await })
            .await;
        span.finish(match &reply {
            Reply::Arrived(arrived) => Some(arrived.parts.status),
            Reply::Failed(_) => None,
        });

        let this = Attempt {
            number: attempt,
            resend: reply.verdict().resend,
            idempotent,
            retry_after: reply.retry_after(),
            status: match &reply {
                Reply::Arrived(arrived) => Some(arrived.parts.status.as_u16()),
                Reply::Failed(_) => None,
            },
        };
        let retryable = policy.is_retryable(&this);
        // No random number for an attempt that cannot be resent.
        let delay = if retryable {
            policy.next_delay(&this, jitter())
        } else {
            None
        };
        if let Some(delay) = delay {
            let resend = match wait {
                Some(wait) => wait.wait(&this, delay).await,
                None => {
                    tokio::time::sleep(delay).await;
                    true
                }
            };
            if resend {
                continue;
            }
        }
        return finish(reply, attempt, retryable, body_limit);
    }
}

fn retry_after(headers: &HeaderMap) -> Option<std::time::Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// Records the final exchange for error reporting, and hands progenitor the
/// response rebuilt from what was read (a `Bytes`, not a copy). A body that
/// broke off, or ran past the limit, is kept for the error: a success cut
/// short still offers its call id.
fn finish(
    reply: Reply,
    attempts: u32,
    retryable: bool,
    body_limit: usize,
) -> reqwest::Result<reqwest::Response> {
    let arrived = match reply {
        Reply::Failed(error) => {
            record(|e| {
                e.attempts = attempts;
                e.retryable = retryable;
            });
            return Err(error);
        }
        Reply::Arrived(arrived) => arrived,
    };
    let Arrived {
        parts,
        body,
        broken,
        truncated,
    } = arrived;
    let (status, headers) = (parts.status, &parts.headers);
    let wait = retry_after(headers);
    record(|e| {
        e.attempts = attempts;
        e.retryable = retryable;
        e.status = Some(status);
        e.content_type = headers.get(CONTENT_TYPE).cloned();
        e.retry_after = wait;
        e.truncated_at = truncated.then_some(body_limit);
        if broken.is_some() || truncated || !status.is_success() {
            e.response = Some(ResponseInfo {
                status,
                headers: headers.clone(),
                body: body.clone(),
            });
            e.body_error = broken.as_ref().map(ToString::to_string);
        }
    });
    if let Some(error) = broken {
        return Err(error);
    }
    // A success past the limit is not decoded from a part of itself: the
    // error is built from what was recorded.
    let body = if truncated && status.is_success() {
        bytes::Bytes::new()
    } else {
        body
    };
    Ok(reqwest::Response::from(http::Response::from_parts(parts, body)))
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
        let _ = execute(&http, &policy, None, 1024, request, &info).await;
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
            let result = execute(&http, &policy, None, 1024, request, &info).await;
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
