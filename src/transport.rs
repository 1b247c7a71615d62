//! The request path under every generated operation: [`send`], which
//! every generated `send()` calls with the request progenitor's code built,
//! authorises it, sends it with retries ([`execute`]), reads the answer (at
//! most the body limit), decodes a success and turns anything else into
//! [`Error`]. What each step saw is passed on by return value.

use std::future::Future;
use std::time::SystemTime;

use progenitor_client::ResponseValue;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;

use crate::error::{api_error, Error, ResponseInfo};
use crate::fate::{classify, classify_answer, Exchange, Verdict};
use crate::retry::{jitter, parse_retry_after, Attempt, RetryPolicy};
use crate::trace::AttemptSpan;

/// How a success's body becomes the operation's success type: the
/// generated `send` names one of [`Json`], [`Empty`] or [`Stream`], by the
/// kind of success the spec documents.
pub(crate) trait Decoder<T> {
    /// The value, or where (a path, when known) and why decoding failed.
    fn decode(self, body: &bytes::Bytes) -> Result<T, (Option<String>, String)>;
}

/// A JSON body, decoded as the success type.
pub(crate) struct Json;

impl<T: DeserializeOwned> Decoder<T> for Json {
    fn decode(self, body: &bytes::Bytes) -> Result<T, (Option<String>, String)> {
        serde_json::from_slice(body).map_err(|first| {
            // Decode again, tracking the path, to say where it broke (only
            // on failure: the fast decoder does the usual work).
            let mut de = serde_json::Deserializer::from_slice(body);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(e) => {
                    let path = e.path().to_string();
                    (
                        (path != "." && !path.is_empty()).then_some(path),
                        e.into_inner().to_string(),
                    )
                }
                Ok(_) => (None, first.to_string()),
            }
        })
    }
}

/// No content: whatever the body held is not looked at (as progenitor's
/// `ResponseValue::empty`).
// Named by the generated code of a spec with such a success; this spec's
// one operation answers JSON (the unit tests use it).
#[allow(dead_code)]
pub(crate) struct Empty;

impl Decoder<()> for Empty {
    fn decode(self, _body: &bytes::Bytes) -> Result<(), (Option<String>, String)> {
        Ok(())
    }
}

/// A body of another media type, handed over as progenitor's `ByteStream`
/// of the bytes read (one chunk: the transport has read it, bounded).
#[allow(dead_code)] // as `Empty`
pub(crate) struct Stream;

impl Decoder<progenitor_client::ByteStream> for Stream {
    fn decode(self, body: &bytes::Bytes) -> Result<progenitor_client::ByteStream, (Option<String>, String)> {
        Ok(progenitor_client::ByteStream::new(Box::pin(OneChunk(Some(
            body.clone(),
        )))))
    }
}

/// A stream of one chunk.
#[allow(dead_code)] // as `Empty`
struct OneChunk(Option<bytes::Bytes>);

impl futures_core::Stream for OneChunk {
    type Item = reqwest::Result<bytes::Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::task::Poll::Ready(self.0.take().map(Ok))
    }
}

/// The URL of `operation_id`, whose path has no parameters (progenitor's
/// code formats it the same way on every call): parsed once per client
/// (see `ClientState::endpoint`). The error never shows the URL, which may
/// hold a password.
pub(crate) fn endpoint(
    client: &crate::Client,
    operation_id: &'static str,
    url: String,
) -> Result<reqwest::Url, String> {
    progenitor_client::ClientInfo::inner(client)
        .endpoint(operation_id, url)
        .map_err(|e| format!("the operation's URL cannot be parsed: {e}"))
}

/// Runs one operation: `request` is what progenitor's code built (or why it
/// could not). `documented_success`: the success statuses the spec lists,
/// as inclusive ranges; every `2xx` is a success (decoded by `decoder`),
/// one the spec does not list is drift.
pub(crate) async fn send<T, E>(
    client: &crate::Client,
    operation_id: &'static str,
    documented_success: &'static [(u16, u16)],
    request: Result<reqwest::Request, progenitor_client::Error<E>>,
    decoder: impl Decoder<T>,
) -> Result<ResponseValue<T>, Error>
where
    T: crate::drift::Inspect,
{
    let mut request = request.map_err(Error::not_built)?;
    let state = progenitor_client::ClientInfo::inner(client);
    state.authorise(request.headers_mut());
    let ended = execute(
        progenitor_client::ClientInfo::client(client),
        &state.retry,
        state.retry_wait.as_deref(),
        state.max_response_body,
        request,
        operation_id,
    )
    .await;
    let Ended {
        reply,
        attempts,
        retryable,
        retry_after,
    } = ended;
    let Arrived {
        status,
        headers,
        body,
        broken,
        truncated,
    } = match reply {
        Reply::Failed(source) => return Err(Error::unanswered(source, attempts, retryable)),
        Reply::Arrived(arrived) => arrived,
    };
    if let Some(source) = broken {
        // The status arrived, the body broke off (or timed out): a 2xx
        // still proves the request was processed.
        return Err(Error::undecodable(
            status,
            &headers,
            &body,
            None,
            format!("the body could not be read completely: {source}"),
        ));
    }
    if !status.is_success() {
        let info = ResponseInfo {
            status,
            headers,
            body,
        };
        return Err(api_error(operation_id, info, attempts, retryable, retry_after));
    }
    if truncated {
        // A success too long to read: the call was placed; its id is in
        // the part read, if anywhere. It is not decoded from a part of itself.
        return Err(Error::undecodable(
            status,
            &headers,
            &body,
            None,
            format!(
                "the answer is longer than the client's limit of {} bytes \
                 (ClientBuilder::max_response_body); the rest was not read",
                state.max_response_body
            ),
        ));
    }
    let inner = match decoder.decode(&body) {
        Ok(inner) => inner,
        Err((path, message)) => {
            return Err(Error::undecodable(status, &headers, &body, path, message));
        }
    };
    let value = ResponseValue::new(inner, status, headers);
    // Drift: what the response carries that the spec does not know.
    let mut found = crate::drift::Findings::default();
    if !documented_success
        .iter()
        .any(|(low, high)| (*low..=*high).contains(&status.as_u16()))
    {
        found.status(status.as_u16());
    }
    crate::drift::Inspect::inspect(&*value, &mut found);
    let findings = found.into_vec();
    for finding in &findings {
        crate::trace::drift(operation_id, finding);
    }
    state.drift.record(operation_id, findings);
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
    status: reqwest::StatusCode,
    headers: HeaderMap,
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
            Reply::Arrived(arrived) => classify_answer(arrived.status, &arrived.body),
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Reply::Arrived(arrived) => retry_after(&arrived.headers),
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
async fn read(sent: impl Future<Output = reqwest::Result<reqwest::Response>>, limit: usize) -> Reply {
    let mut response = match sent.await {
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
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    Reply::Arrived(Arrived {
        status,
        headers,
        body,
        broken,
        truncated,
    })
}

/// How the retry loop ended: the last attempt's reply, how many attempts
/// were made, whether the policy judged the last one worth resending, and
/// the server's `Retry-After` as the policy read it.
struct Ended {
    reply: Reply,
    attempts: u32,
    retryable: bool,
    retry_after: Option<std::time::Duration>,
}

/// Sends `request`, retrying as `policy` allows, and returns the final
/// reply with its body already read, at most `body_limit` bytes of it
/// (so that an error can show it, and an endless body cannot exhaust memory).
async fn execute(
    http: &reqwest::Client,
    policy: &RetryPolicy,
    wait: Option<&dyn crate::retry::RetryWait>,
    body_limit: usize,
    mut request: reqwest::Request,
    operation_id: &'static str,
) -> Ended {
    let idempotent = idempotent(request.method());
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        // reqwest consumes the request it sends: a copy is kept while a
        // retry may follow. JSON bodies are buffered, so the copy succeeds;
        // a streaming body could not be replayed and gets one attempt.
        let last = attempt > policy.max_retries;
        let (this_try, kept) = if last {
            (request, None)
        } else {
            match request.try_clone() {
                Some(copy) => (copy, Some(request)),
                None => (request, None),
            }
        };
        let replayable = last || kept.is_some();
        let span = AttemptSpan::start(operation_id, this_try.method(), attempt);
        let reply = span.instrument(read(http.execute(this_try), body_limit)).await;
        span.finish(match &reply {
            Reply::Arrived(arrived) => Some(arrived.status),
            Reply::Failed(_) => None,
        });

        let this = Attempt {
            number: attempt,
            resend: reply.verdict().resend,
            idempotent,
            retry_after: reply.retry_after(),
            status: match &reply {
                Reply::Arrived(arrived) => Some(arrived.status.as_u16()),
                Reply::Failed(_) => None,
            },
        };
        let retryable = replayable && policy.is_retryable(&this);
        // No random number for an attempt that cannot be resent.
        let delay = match (&kept, retryable) {
            (Some(_), true) => policy.next_delay(&this, jitter()),
            _ => None,
        };
        if let (Some(delay), Some(kept)) = (delay, kept) {
            let resend = match wait {
                Some(wait) => wait.wait(&this, delay).await,
                None => {
                    tokio::time::sleep(delay).await;
                    true
                }
            };
            if resend {
                request = kept;
                continue;
            }
        }
        return Ended {
            reply,
            attempts: attempt,
            retryable,
            retry_after: this.retry_after,
        };
    }
}

fn retry_after(headers: &HeaderMap) -> Option<std::time::Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> crate::Client {
        crate::Client::builder()
            .api_key("k")
            .base_url("http://127.0.0.1:9")
            .retry_policy(RetryPolicy {
                max_retries: 1,
                initial_backoff: std::time::Duration::from_millis(1),
                ..RetryPolicy::default()
            })
            .build()
            .unwrap()
    }

    /// What the retry loop saw reaches the error by return value: attempts
    /// and what connecting failed proves.
    #[tokio::test]
    async fn what_the_attempts_saw_reaches_the_error() {
        let client = client();
        let request = reqwest::Client::new().get("http://127.0.0.1:9/").build();
        let request = request.map_err(progenitor_client::Error::<()>::CommunicationError);
        let err = send::<serde_json::Value, ()>(&client, "test", &[(200, 200)], request, Json)
            .await
            .unwrap_err();
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

    /// A request reqwest could not build was never sent: it is not a lost
    /// connection (whose call may have been placed), and its text says why
    /// without the URL.
    #[tokio::test]
    async fn a_request_that_could_not_be_built_was_not_sent() {
        let client = client();
        let request = reqwest::Client::new()
            .get("http://user:secret@127.0.0.1:9/")
            .header("x-bad", "line\nbreak")
            .build()
            .map_err(progenitor_client::Error::<()>::CommunicationError);
        let err = send::<serde_json::Value, ()>(&client, "test", &[(200, 200)], request, Json)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest { field: None, rule } if rule.starts_with("the request could not be built: builder error")),
            "{err:?}"
        );
        assert_eq!(err.fate(), crate::fate::Fate::NotSent);
        assert!(!format!("{err} {err:?}").contains("secret"), "{err:?}");
    }

    /// An operation's URL is parsed once per client; other text for it is
    /// parsed (and kept instead), never answered with the URL kept; an
    /// unparsable one is an error that does not show it.
    #[test]
    fn an_operation_url_is_reused_only_for_the_same_text() {
        let client = client();
        let parse = |operation, text: &str| endpoint(&client, operation, text.to_owned());
        let first = parse("op", "http://127.0.0.1:9/v1/calls").unwrap();
        assert_eq!(first.as_str(), "http://127.0.0.1:9/v1/calls");
        assert_eq!(parse("op", "http://127.0.0.1:9/v1/calls").unwrap(), first);
        let other = parse("op", "HTTP://Example.COM/api/v1/calls").unwrap();
        assert_eq!(other.as_str(), "http://example.com/api/v1/calls");
        assert_eq!(parse("op", "http://127.0.0.1:9/v1/calls").unwrap(), first);
        assert_eq!(parse("another", "http://127.0.0.1:9/v2").unwrap().path(), "/v2");
        let err = parse("op", "http://user:secret@[::1/v1/calls").unwrap_err();
        assert_eq!(err, "the operation's URL cannot be parsed: invalid IPv6 address");
        // One entry per operation, whatever was asked.
        let state = progenitor_client::ClientInfo::inner(&client);
        assert_eq!(state.endpoints.len(), 2);
    }

    #[test]
    fn the_decoders_give_what_progenitor_would() {
        let body = bytes::Bytes::from_static(br#"{"a": [1, "x"]}"#);
        let value: serde_json::Value = Json.decode(&body).unwrap();
        assert_eq!(value["a"][1], "x");
        let (path, message) = Decoder::<Vec<u8>>::decode(Json, &body).unwrap_err();
        assert_eq!(path, None);
        assert!(message.contains("expected a sequence"), "{message}");
        let (path, _) =
            Decoder::<std::collections::BTreeMap<String, Vec<u8>>>::decode(Json, &body).unwrap_err();
        assert_eq!(path.as_deref(), Some("a[1]"));
        Empty.decode(&body).unwrap();
        let mut stream = Stream.decode(&body).unwrap().into_inner();
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let next = |stream: &mut std::pin::Pin<
            Box<dyn futures_core::Stream<Item = reqwest::Result<bytes::Bytes>> + Send + Sync>,
        >,
                    cx: &mut std::task::Context<'_>| {
            match futures_core::Stream::poll_next(stream.as_mut(), cx) {
                std::task::Poll::Ready(item) => item.map(Result::unwrap),
                std::task::Poll::Pending => panic!("one chunk is ready at once"),
            }
        };
        assert_eq!(next(&mut stream, &mut cx), Some(body));
        assert_eq!(next(&mut stream, &mut cx), None);
    }
}
