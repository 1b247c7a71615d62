//! The local server's HTTP/1.1 plumbing on hyper: the accept loop, reading
//! a request (bounded in size and time), and putting an [`Answer`] on the
//! wire. What to answer is decided elsewhere (`respond.rs`, `faults.rs`).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::answer::Answer;
use super::options::RequestLog;
use super::state::{RecordedRequest, ServerState};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a client may take to send its body before it gets `408`.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Binds `addr` and serves until the returned sender is dropped.
pub(super) async fn spawn(
    state: Arc<ServerState>,
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, oneshot::Sender<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => continue,
                },
                _ = &mut stopped => break,
            };
            let _ = stream.set_nodelay(true);
            let state = state.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| handle(state.clone(), request));
                // Errors here are dropped connections, injected or not.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((addr, stop))
}

async fn handle(
    state: Arc<ServerState>,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<MockBody>, BoxError> {
    let started = std::time::Instant::now();
    let _in_flight = state.enter();
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.to_string());
    let head = parts.method == hyper::Method::HEAD;
    // Read at most BODY_LIMIT bytes, in bounded time: never a hang, never
    // an unbounded buffer.
    let read = tokio::time::timeout(
        BODY_TIMEOUT,
        http_body_util::Limited::new(body, super::BODY_LIMIT).collect(),
    )
    .await;
    let (body, unreadable) = match read {
        Ok(Ok(collected)) => (collected.to_bytes(), None),
        Err(_) => (
            Bytes::new(),
            Some((
                hyper::StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time".to_owned(),
            )),
        ),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => (
            Bytes::new(),
            Some((
                hyper::StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {} bytes", super::BODY_LIMIT),
            )),
        ),
        Ok(Err(e)) => return Err(e),
    };
    let recorded = RecordedRequest {
        method: parts.method,
        path,
        headers: parts.headers,
        body,
    };
    state.received(&recorded);
    let answer = match unreadable {
        Some((status, message)) => state.unreadable(&recorded, status, &message),
        None => {
            let fault = state.faults.next();
            let latency = state.latency() + fault.as_ref().map_or(std::time::Duration::ZERO, |f| f.delay());
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            state.respond(&recorded, fault)
        }
    };
    let (method, path) = (recorded.method, recorded.path);
    let response = match answer {
        Answer::Json {
            status,
            headers,
            body: json,
        } => {
            let mut builder = hyper::Response::builder()
                .status(status)
                .header("content-type", "application/json");
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            let bytes = Bytes::from(serde_json::to_vec(&json)?);
            // HEAD: the headers GET would send, no body.
            let body = if head {
                MockBody::head(bytes.len())
            } else {
                MockBody::full(bytes)
            };
            builder.body(body)?
        }
        Answer::Empty { status, headers } => {
            let mut builder = hyper::Response::builder().status(status);
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            builder.body(MockBody::full(Bytes::new()))?
        }
        Answer::Raw {
            status,
            content_type,
            body: bytes,
        } => hyper::Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(MockBody::full(bytes))?,
        Answer::Truncated { status, body: bytes } => hyper::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("content-length", bytes.len())
            .body(MockBody::truncated(bytes))?,
        // An error from the service makes hyper close the connection unanswered.
        Answer::Drop => {
            state.log(&RequestLog {
                method,
                path,
                status: None,
                latency: started.elapsed(),
            });
            return Err("connection dropped by request".into());
        }
    };
    state.log(&RequestLog {
        method,
        path,
        status: Some(response.status()),
        latency: started.elapsed(),
    });
    Ok(response)
}

/// A whole body, or the first half of one followed by an abort.
pub(super) struct MockBody {
    data: Option<Bytes>,
    then_fail: bool,
    len: u64,
    /// Holds the abort back until hyper has flushed the first half.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl MockBody {
    fn full(bytes: Bytes) -> Self {
        Self {
            len: bytes.len() as u64,
            data: Some(bytes),
            then_fail: false,
            pause: None,
        }
    }

    /// No bytes, announcing the length a GET would have sent.
    fn head(len: usize) -> Self {
        Self {
            data: None,
            then_fail: false,
            len: len as u64,
            pause: None,
        }
    }

    fn truncated(bytes: Bytes) -> Self {
        let len = bytes.len() as u64;
        Self {
            data: Some(bytes.slice(..bytes.len() / 2)),
            then_fail: true,
            len,
            pause: Some(Box::pin(tokio::time::sleep(std::time::Duration::from_millis(50)))),
        }
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if let Some(pause) = self.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.pause = None;
        }
        if self.then_fail {
            self.then_fail = false;
            return Poll::Ready(Some(Err("body truncated by request".into())));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && !self.then_fail
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}
