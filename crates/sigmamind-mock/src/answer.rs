//! What the local server puts on the wire for one request: decided by
//! `respond.rs` (and altered by `faults.rs`), written by `http_server.rs`.

use bytes::Bytes;
use http::StatusCode;
use serde_json::Value;

/// One answer of the local server, before it is put on the wire.
pub(crate) enum Answer {
    /// A JSON body.
    Json {
        status: StatusCode,
        headers: Vec<(&'static str, String)>,
        body: Value,
    },
    /// A status and headers, no body.
    Empty {
        status: StatusCode,
        headers: Vec<(&'static str, String)>,
    },
    /// A body that is not JSON.
    Raw {
        status: StatusCode,
        content_type: &'static str,
        body: Bytes,
    },
    /// The first half of a body announced whole, then a closed connection.
    Truncated { status: StatusCode, body: Bytes },
    /// No answer: the connection is closed.
    Drop,
}

impl Answer {
    /// A JSON answer without extra headers.
    pub(crate) fn json(status: StatusCode, body: Value) -> Answer {
        Answer::Json {
            status,
            headers: Vec::new(),
            body,
        }
    }
}
