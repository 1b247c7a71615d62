//! A hostile HTTP server on loopback: FIXTURE behaviour imitating
//! misbehaving servers, proxies and networks, **not the vendor** (whose
//! documented answers the crate's local server plays). Each [`Mode`] is a
//! script of raw socket steps, so that it can send what no well-behaved
//! HTTP library would: bodies that never end or drip, lies about lengths,
//! broken status lines, headers past any limit, resets.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the server does with every request it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    // ---- bodies ----
    /// `201`, chunked, `{"callId":"call_endless","padding":"xxxx…` for ever.
    EndlessChunked,
    /// `201` with `Content-Length: 10^12`, the same endless body.
    EndlessWithLength,
    /// `201`, a whole 6 MiB JSON call (a huge field no spec names): over the limit.
    HugeFinite,
    /// `201`, a whole 3 MiB JSON call: under the 4 MiB limit, read whole.
    LargeUnderLimit,
    /// `201`, the call id at once, then one byte every 100 ms, for ever.
    Dripping,
    /// `201` with `Content-Length: 1000`, 40 bytes holding the id, then closed.
    CutShort,
    /// `200`, an HTML page (a proxy's).
    Html,
    /// `200`, `Content-Length: 0`.
    EmptyBody,
    /// `201`, a UTF-8 byte-order mark before the JSON.
    ByteOrderMark,
    /// `201`, the call as UTF-16LE.
    Utf16,
    /// `201`, JSON with a byte that is not UTF-8 inside a string.
    InvalidUtf8,
    /// `201`, the id, then arrays nested 100,000 deep.
    DeepNesting,
    /// `201`, gzip-encoded though nobody asked for it.
    UnaskedGzip,
    /// `201`, a call id 100,000 characters long.
    LongCallId,
    /// `201`, a call id of 70,000 two-byte characters (`é`).
    MultibyteCallId,
    /// `201`, terminal escape sequences in the call id and another field.
    EscapeSequences,
    /// `201`, `[]`.
    ArrayBody,
    /// `201`, `null`.
    NullBody,
    /// `201`, the `callId` key twice.
    DuplicateKeys,
    /// `201`, the `callId` as a number.
    NumericCallId,
    // ---- statuses ----
    /// `201`, a normal call.
    Created,
    /// `202`, a normal call.
    Accepted,
    /// `299`, a normal call.
    Status299,
    /// `204`, no body.
    NoContent,
    /// `100 Continue`, then `201` with a normal call.
    ContinueThenCreated,
    /// `301` to another host.
    MovedPermanently,
    /// `303 See Other`.
    SeeOther,
    /// `400`, the vendor's Spring-style error body.
    BadRequest,
    /// `400`, a Spring-style body that names a call.
    BadRequestNamingCall,
    /// `401`.
    Unauthorized,
    /// `403`.
    Forbidden,
    /// `409`.
    Conflict,
    /// `418`.
    Teapot,
    /// `429`, `Retry-After: 0`.
    TooManyNow,
    /// `429`, `Retry-After: 86400`.
    TooManyForADay,
    /// `429`, `Retry-After` an IMF-fixdate in 2100.
    TooManyUntilImfDate,
    /// `429`, `Retry-After` an RFC 850 date in 2099.
    TooManyUntilRfc850Date,
    /// `429`, `Retry-After` an asctime date in 2100.
    TooManyUntilAsctime,
    /// `429`, `Retry-After: soon`.
    TooManyUnreadable,
    /// `429`, `Retry-After: -5`.
    TooManyNegative,
    /// `429`, `Retry-After: 99999999999999999999999`.
    TooManyForever,
    /// `500`.
    ServerError,
    /// `503` with `Retry-After: 1`.
    Unavailable,
    /// `599`.
    Status599,
    /// `999`, a status no registry has.
    Status999,
    /// `HTTP/1.1 OK`: no status code.
    GarbageStatusLine,
    /// `HTTP/1.0 201`, no length: the body ends when the connection closes.
    Http10CloseDelimited,
    // ---- headers ----
    /// `201` with a 1 MiB header.
    HugeHeader,
    /// `201` with 500 headers.
    ManyHeaders,
    /// `201`, `Content-Type: text/plain` on a JSON call.
    TextPlainJson,
    /// `400` whose `X-Request-Id` is not UTF-8.
    NonUtf8RequestId,
    /// `201` whose `Content-Length` is 12, shorter than the JSON sent.
    LengthTooShort,
    // ---- connections ----
    /// Reads the request, closes without a byte.
    CloseWithoutAnswer,
    /// `201` headers with a length, then closed.
    CloseAfterHeaders,
    /// `500` headers with a length, then closed.
    CloseAfterErrorHeaders,
    /// Reads the request, never answers.
    Hang,
    /// Reads the request, then resets the connection (RST).
    Reset,
    /// The status line one byte every 200 ms.
    SlowHeaders,
    /// `201` chunked: a chunk with the id, then a chunk size that is not hex.
    BadChunk,
    /// `201` keep-alive, then the idle connection is closed by the server.
    KeepAliveDropped,
}

impl Mode {
    /// Every mode, for tables that must cover them all.
    pub const ALL: [Mode; 60] = [
        Mode::EndlessChunked,
        Mode::EndlessWithLength,
        Mode::HugeFinite,
        Mode::LargeUnderLimit,
        Mode::Dripping,
        Mode::CutShort,
        Mode::Html,
        Mode::EmptyBody,
        Mode::ByteOrderMark,
        Mode::Utf16,
        Mode::InvalidUtf8,
        Mode::DeepNesting,
        Mode::UnaskedGzip,
        Mode::LongCallId,
        Mode::MultibyteCallId,
        Mode::EscapeSequences,
        Mode::ArrayBody,
        Mode::NullBody,
        Mode::DuplicateKeys,
        Mode::NumericCallId,
        Mode::Created,
        Mode::Accepted,
        Mode::Status299,
        Mode::NoContent,
        Mode::ContinueThenCreated,
        Mode::MovedPermanently,
        Mode::SeeOther,
        Mode::BadRequest,
        Mode::BadRequestNamingCall,
        Mode::Unauthorized,
        Mode::Forbidden,
        Mode::Conflict,
        Mode::Teapot,
        Mode::TooManyNow,
        Mode::TooManyForADay,
        Mode::TooManyUntilImfDate,
        Mode::TooManyUntilRfc850Date,
        Mode::TooManyUntilAsctime,
        Mode::TooManyUnreadable,
        Mode::TooManyNegative,
        Mode::TooManyForever,
        Mode::ServerError,
        Mode::Unavailable,
        Mode::Status599,
        Mode::Status999,
        Mode::GarbageStatusLine,
        Mode::Http10CloseDelimited,
        Mode::HugeHeader,
        Mode::ManyHeaders,
        Mode::TextPlainJson,
        Mode::NonUtf8RequestId,
        Mode::LengthTooShort,
        Mode::CloseWithoutAnswer,
        Mode::CloseAfterHeaders,
        Mode::CloseAfterErrorHeaders,
        Mode::Hang,
        Mode::Reset,
        Mode::SlowHeaders,
        Mode::BadChunk,
        Mode::KeepAliveDropped,
    ];
}

/// The call id every mode that sends one uses, but those whose point is
/// the id itself.
pub const CALL_ID: &str = "call_hostile";

/// One thing the server does on the socket.
enum Step {
    Write(Vec<u8>),
    /// Writes this chunk until the client goes away.
    Forever(Vec<u8>),
    /// Writes one byte of this every interval.
    Drip(Vec<u8>, Duration),
    /// Writes HTTP chunks of 64 KiB for ever.
    ChunksForever,
    /// Closes after a reset (SO_LINGER 0).
    Reset,
    /// Waits until the client goes away.
    Hang,
    /// Keeps the connection for the next request.
    KeepAlive,
}

fn call_json(call_id: &str) -> String {
    serde_json::json!({
        "callId": call_id,
        "callType": "outbound",
        "status": "scheduled",
        "agent": {"agentId": "D5D0p7TUs66TTAEAx"},
    })
    .to_string()
}

fn head(status_line: &str, headers: &[(&str, String)]) -> Vec<u8> {
    let mut out = format!("{status_line}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// A whole answer: status line, JSON content type, length, close.
fn answer(status_line: &str, extra: &[(&str, String)], body: &[u8]) -> Vec<Step> {
    let mut headers = vec![
        ("content-type", "application/json".to_owned()),
        ("content-length", body.len().to_string()),
        ("connection", "close".to_owned()),
    ];
    headers.extend(extra.iter().cloned());
    let mut bytes = head(status_line, &headers);
    bytes.extend_from_slice(body);
    vec![Step::Write(bytes)]
}

fn json_answer(status_line: &str, body: &str) -> Vec<Step> {
    answer(status_line, &[], body.as_bytes())
}

fn spring(status: u16, error: &str, call_id: Option<&str>) -> String {
    let mut body = serde_json::json!({
        "error": error,
        "message": "Invalid request parameters",
        "path": "/v1/calls",
        "status": status,
        "timestamp": "2026-05-05T10:06:43.893Z",
    });
    if let Some(id) = call_id {
        body["callId"] = id.into();
    }
    body.to_string()
}

fn too_many(retry_after: &str) -> Vec<Step> {
    answer(
        "HTTP/1.1 429 Too Many Requests",
        &[("retry-after", retry_after.to_owned())],
        spring(429, "Too Many Requests", None).as_bytes(),
    )
}

/// A body of `size` bytes: a call whose last field pads it.
fn padded_call(size: usize) -> Vec<u8> {
    let start = format!("{{\"callId\":\"{CALL_ID}\",\"status\":\"scheduled\",\"padding\":\"");
    let mut body = start.into_bytes();
    body.resize(size - 2, b'x');
    body.extend_from_slice(b"\"}");
    body
}

fn script(mode: Mode) -> Vec<Step> {
    let ok = call_json(CALL_ID);
    let endless_start = format!("{{\"callId\":\"{CALL_ID}\",\"padding\":\"");
    match mode {
        Mode::EndlessChunked => {
            let mut bytes = head(
                "HTTP/1.1 201 Created",
                &[
                    ("content-type", "application/json".into()),
                    ("transfer-encoding", "chunked".into()),
                ],
            );
            bytes.extend(format!("{:x}\r\n{endless_start}\r\n", endless_start.len()).into_bytes());
            vec![Step::Write(bytes), Step::ChunksForever]
        }
        Mode::EndlessWithLength => {
            let mut bytes = head(
                "HTTP/1.1 201 Created",
                &[
                    ("content-type", "application/json".into()),
                    ("content-length", "1000000000000".into()),
                ],
            );
            bytes.extend(endless_start.into_bytes());
            vec![Step::Write(bytes), Step::Forever(vec![b'x'; 64 * 1024])]
        }
        Mode::HugeFinite => answer("HTTP/1.1 201 Created", &[], &padded_call(6 << 20)),
        Mode::LargeUnderLimit => answer("HTTP/1.1 201 Created", &[], &padded_call(3 << 20)),
        Mode::Dripping => {
            let mut bytes = head(
                "HTTP/1.1 201 Created",
                &[
                    ("content-type", "application/json".into()),
                    ("content-length", "100000".into()),
                ],
            );
            bytes.extend(endless_start.into_bytes());
            vec![
                Step::Write(bytes),
                Step::Drip(vec![b'x'; 100_000], Duration::from_millis(100)),
            ]
        }
        Mode::CutShort => {
            let mut bytes = head(
                "HTTP/1.1 201 Created",
                &[
                    ("content-type", "application/json".into()),
                    ("content-length", "1000".into()),
                ],
            );
            bytes.extend(format!("{{\"callId\":\"{CALL_ID}\",\"status\":\"sch").into_bytes());
            vec![Step::Write(bytes)]
        }
        Mode::Html => answer(
            "HTTP/1.1 200 OK",
            &[("content-type", "text/html".into())],
            b"<html><body>502 Bad Gateway</body></html>",
        ),
        Mode::EmptyBody => answer("HTTP/1.1 200 OK", &[], b""),
        Mode::ByteOrderMark => {
            let mut body = b"\xEF\xBB\xBF".to_vec();
            body.extend(ok.as_bytes());
            answer("HTTP/1.1 201 Created", &[], &body)
        }
        Mode::Utf16 => {
            let body: Vec<u8> = ok.encode_utf16().flat_map(u16::to_le_bytes).collect();
            answer(
                "HTTP/1.1 201 Created",
                &[("content-type", "application/json; charset=utf-16le".into())],
                &body,
            )
        }
        Mode::InvalidUtf8 => {
            let mut body = format!("{{\"callId\":\"{CALL_ID}\",\"note\":\"caf").into_bytes();
            body.extend(b"\xe9\"}");
            answer("HTTP/1.1 201 Created", &[], &body)
        }
        Mode::DeepNesting => {
            let mut body = format!("{{\"callId\":\"{CALL_ID}\",\"x\":").into_bytes();
            body.extend(std::iter::repeat_n(b'[', 100_000));
            body.extend(std::iter::repeat_n(b']', 100_000));
            body.push(b'}');
            answer("HTTP/1.1 201 Created", &[], &body)
        }
        Mode::UnaskedGzip => answer(
            "HTTP/1.1 201 Created",
            &[("content-encoding", "gzip".into())],
            // A gzip header and deflate bytes: not JSON to anyone who did not ask.
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\x56\x4a\x4e\xcc\xc9\xf1\x4c\x51\xb2\x52\x02\x00",
        ),
        Mode::LongCallId => json_answer("HTTP/1.1 201 Created", &call_json(&"c".repeat(100_000))),
        Mode::MultibyteCallId => json_answer("HTTP/1.1 201 Created", &call_json(&"é".repeat(70_000))),
        Mode::EscapeSequences => json_answer(
            "HTTP/1.1 201 Created",
            &serde_json::json!({
                "callId": "call_\u{1b}]0;pwned\u{7}\u{1b}[2J",
                "status": "scheduled\u{9b}31m",
                "agent": {"agentId": "\u{202e}evil"},
            })
            .to_string(),
        ),
        Mode::ArrayBody => json_answer("HTTP/1.1 201 Created", "[]"),
        Mode::NullBody => json_answer("HTTP/1.1 201 Created", "null"),
        Mode::DuplicateKeys => json_answer(
            "HTTP/1.1 201 Created",
            &format!("{{\"callId\":\"call_first\",\"callId\":\"{CALL_ID}\"}}"),
        ),
        Mode::NumericCallId => json_answer(
            "HTTP/1.1 201 Created",
            "{\"callId\":12345,\"status\":\"scheduled\"}",
        ),
        Mode::Created => json_answer("HTTP/1.1 201 Created", &ok),
        Mode::Accepted => json_answer("HTTP/1.1 202 Accepted", &ok),
        Mode::Status299 => json_answer("HTTP/1.1 299 Whatever", &ok),
        Mode::NoContent => vec![Step::Write(head(
            "HTTP/1.1 204 No Content",
            &[("connection", "close".into())],
        ))],
        Mode::ContinueThenCreated => {
            let mut steps = vec![Step::Write(b"HTTP/1.1 100 Continue\r\n\r\n".to_vec())];
            steps.extend(json_answer("HTTP/1.1 201 Created", &ok));
            steps
        }
        Mode::MovedPermanently => answer(
            "HTTP/1.1 301 Moved Permanently",
            &[("location", "https://elsewhere.example/v1/calls".into())],
            b"",
        ),
        Mode::SeeOther => answer(
            "HTTP/1.1 303 See Other",
            &[("location", format!("/v1/calls/{CALL_ID}"))],
            b"",
        ),
        Mode::BadRequest => json_answer("HTTP/1.1 400 Bad Request", &spring(400, "Bad Request", None)),
        Mode::BadRequestNamingCall => json_answer(
            "HTTP/1.1 400 Bad Request",
            &spring(400, "Bad Request", Some(CALL_ID)),
        ),
        Mode::Unauthorized => json_answer("HTTP/1.1 401 Unauthorized", &spring(401, "Unauthorized", None)),
        Mode::Forbidden => json_answer("HTTP/1.1 403 Forbidden", &spring(403, "Forbidden", None)),
        Mode::Conflict => json_answer("HTTP/1.1 409 Conflict", &spring(409, "Conflict", None)),
        Mode::Teapot => json_answer("HTTP/1.1 418 I'm a teapot", "{}"),
        Mode::TooManyNow => too_many("0"),
        Mode::TooManyForADay => too_many("86400"),
        Mode::TooManyUntilImfDate => too_many("Fri, 01 Jan 2100 00:00:00 GMT"),
        Mode::TooManyUntilRfc850Date => too_many("Thursday, 31-Dec-99 23:59:59 GMT"),
        Mode::TooManyUntilAsctime => too_many("Fri Jan  1 00:00:00 2100"),
        Mode::TooManyUnreadable => too_many("soon"),
        Mode::TooManyNegative => too_many("-5"),
        Mode::TooManyForever => too_many("99999999999999999999999"),
        Mode::ServerError => json_answer(
            "HTTP/1.1 500 Internal Server Error",
            &spring(500, "Internal Server Error", None),
        ),
        Mode::Unavailable => answer(
            "HTTP/1.1 503 Service Unavailable",
            &[("retry-after", "1".into())],
            b"{}",
        ),
        Mode::Status599 => json_answer("HTTP/1.1 599 Network Timeout", "{}"),
        Mode::Status999 => json_answer("HTTP/1.1 999 Who Knows", "{}"),
        Mode::GarbageStatusLine => vec![Step::Write(
            b"HTTP/1.1 OK\r\ncontent-length: 2\r\n\r\n{}".to_vec(),
        )],
        Mode::Http10CloseDelimited => {
            let mut bytes = head(
                "HTTP/1.0 201 Created",
                &[("content-type", "application/json".into())],
            );
            bytes.extend(ok.as_bytes());
            vec![Step::Write(bytes)]
        }
        Mode::HugeHeader => answer(
            "HTTP/1.1 201 Created",
            &[("x-padding", "p".repeat(1 << 20))],
            ok.as_bytes(),
        ),
        Mode::ManyHeaders => {
            let names: Vec<String> = (0..500).map(|i| format!("x-header-{i}")).collect();
            let headers: Vec<(&str, String)> = names.iter().map(|n| (n.as_str(), "v".to_owned())).collect();
            answer("HTTP/1.1 201 Created", &headers, ok.as_bytes())
        }
        Mode::TextPlainJson => answer(
            "HTTP/1.1 201 Created",
            &[("content-type", "text/plain".into())],
            ok.as_bytes(),
        ),
        Mode::NonUtf8RequestId => {
            let mut bytes = b"HTTP/1.1 400 Bad Request\r\nx-request-id: req\xff\xfe\r\n".to_vec();
            let body = spring(400, "Bad Request", None);
            bytes.extend(
                format!(
                    "content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes(),
            );
            vec![Step::Write(bytes)]
        }
        Mode::LengthTooShort => {
            let mut bytes = head("HTTP/1.1 201 Created", &[("content-length", "12".into())]);
            bytes.extend(ok.as_bytes());
            vec![Step::Write(bytes)]
        }
        Mode::CloseWithoutAnswer => vec![],
        Mode::CloseAfterHeaders => vec![Step::Write(head(
            "HTTP/1.1 201 Created",
            &[("content-length", "500".into())],
        ))],
        Mode::CloseAfterErrorHeaders => vec![Step::Write(head(
            "HTTP/1.1 500 Internal Server Error",
            &[("content-length", "500".into())],
        ))],
        Mode::Hang => vec![Step::Hang],
        Mode::Reset => vec![Step::Reset],
        Mode::SlowHeaders => vec![Step::Drip(
            b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}".to_vec(),
            Duration::from_millis(200),
        )],
        Mode::BadChunk => {
            let first = format!("{{\"callId\":\"{CALL_ID}\",");
            let mut bytes = head("HTTP/1.1 201 Created", &[("transfer-encoding", "chunked".into())]);
            bytes.extend(format!("{:x}\r\n{first}\r\nzz\r\nnot hex\r\n", first.len()).into_bytes());
            vec![Step::Write(bytes)]
        }
        Mode::KeepAliveDropped => {
            let mut bytes = head(
                "HTTP/1.1 201 Created",
                &[
                    ("content-type", "application/json".into()),
                    ("content-length", ok.len().to_string()),
                    ("keep-alive", "timeout=60".into()),
                ],
            );
            bytes.extend(ok.as_bytes());
            // Answered as if the connection would be kept, then dropped
            // a moment later while the client believes it is idle.
            vec![Step::Write(bytes), Step::KeepAlive]
        }
    }
}

/// A hostile server on loopback.
pub struct HostileServer {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
}

impl HostileServer {
    /// Starts answering every request as `mode` says, on a thread and
    /// runtime of its own: a server that writes for ever must not starve
    /// the client under test (or other servers) of the test's runtime.
    pub async fn start(mode: Mode) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                while let Ok((socket, _)) = listener.accept().await {
                    let counted = counted.clone();
                    tokio::spawn(connection(socket, mode, counted));
                }
            });
        });
        Self { addr, requests }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests read whole so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn connection(mut socket: TcpStream, mode: Mode, requests: Arc<AtomicUsize>) {
    {
        if super::read_request(&mut socket).await.is_none() {
            return;
        }
        requests.fetch_add(1, Ordering::SeqCst);
        let mut keep = false;
        for step in script(mode) {
            let written = match step {
                Step::Write(bytes) => socket.write_all(&bytes).await,
                Step::Forever(chunk) => loop {
                    if let Err(e) = socket.write_all(&chunk).await {
                        break Err(e);
                    }
                },
                Step::ChunksForever => {
                    let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
                    chunk.extend(vec![b'x'; 64 * 1024]);
                    chunk.extend(b"\r\n");
                    loop {
                        if let Err(e) = socket.write_all(&chunk).await {
                            break Err(e);
                        }
                    }
                }
                Step::Drip(bytes, every) => {
                    let mut result = Ok(());
                    for byte in bytes {
                        tokio::time::sleep(every).await;
                        result = socket.write_all(&[byte]).await;
                        if result.is_err() {
                            break;
                        }
                    }
                    result
                }
                Step::Reset => {
                    // A zero linger closes with RST at once (it is a
                    // non-zero one that blocks the thread on drop).
                    #[allow(deprecated)]
                    let _ = socket.set_linger(Some(Duration::ZERO));
                    return;
                }
                Step::Hang => {
                    let mut sink = [0u8; 1024];
                    while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
                    return;
                }
                Step::KeepAlive => {
                    keep = true;
                    Ok(())
                }
            };
            if written.is_err() {
                return;
            }
        }
        if !keep {
            let _ = socket.shutdown().await;
            return;
        }
        // The connection looks kept; it is dropped while the client may
        // be about to reuse it.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = socket.shutdown().await;
    }
}
