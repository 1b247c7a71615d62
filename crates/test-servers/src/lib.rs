//! Test servers that are not the crate's local server: they answer exactly
//! what a test tells them, as a live API that disagrees with the spec might
//! (FIXTURE behaviour, labelled as such by each test).

#![allow(dead_code)] // each test binary uses part of it

pub mod hostile;
pub mod postgres;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A request a [`RawServer`] received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request line and headers, as text.
    pub head: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Received {
    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
}

/// One canned answer: status line, headers and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub reason: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, reason: &'static str, body: &serde_json::Value) -> Self {
        Self {
            status,
            reason,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(body).unwrap(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// An HTTP/1.1 server on loopback that gives every request the same answer
/// and keeps what it received.
pub struct RawServer {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl RawServer {
    /// Starts answering `answer` to every request, over plain HTTP.
    pub async fn start(answer: Answer) -> Self {
        Self::serve(answer, None).await
    }

    /// Starts answering `answer` to every request, over TLS with `acceptor`.
    pub async fn start_tls(answer: Answer, acceptor: tokio_rustls::TlsAcceptor) -> Self {
        Self::serve(answer, Some(acceptor)).await
    }

    async fn serve(answer: Answer, tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (answer, kept, tls) = (answer.clone(), kept.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        // A failed handshake is a client that did not trust us.
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(socket).await {
                                exchange(stream, &answer, &kept).await;
                            }
                        }
                        None => exchange(socket, &answer, &kept).await,
                    }
                });
            }
        });
        Self { addr, received }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What it received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn exchange<S>(mut socket: S, answer: &Answer, kept: &Mutex<Vec<Received>>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    kept.lock().unwrap().push(request);
    let mut out = format!("HTTP/1.1 {} {}\r\n", answer.status, answer.reason);
    for (name, value) in &answer.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        answer.body.len()
    ));
    let _ = socket.write_all(out.as_bytes()).await;
    let _ = socket.write_all(&answer.body).await;
    let _ = socket.shutdown().await;
}

async fn read_request<S>(socket: &mut S) -> Option<Received>
where
    S: tokio::io::AsyncRead + Unpin,
{
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[head_end..].to_vec();
    Some(Received { head, body })
}

/// The vendor's own example of a created call (the 201 example of
/// `POST /v1/calls` in the spec), as the live API might send it.
pub fn vendor_example_call() -> serde_json::Value {
    let spec: serde_json::Value = serde_json::from_str(sigmamind::SPEC_JSON).unwrap();
    spec.pointer("/paths/~1v1~1calls/post/responses/201/content/application~1json/example")
        .expect("the spec documents an example of a created call")
        .clone()
}
