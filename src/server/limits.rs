//! What one client may ask of the server: the size of a request body and
//! of its URI, and how long it may take to send its request head. Bodies
//! and URIs over the limit get the contract's JSON error (`413`, `414`),
//! never a framework's plain-text one; a client that stalls while sending
//! its head (slowloris) has its connection closed.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpStream;

use super::error::HttpError;

/// The largest request body read, in bytes: far above the largest valid
/// customer (50 tags and 100 custom fields at their longest are ~150 KB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The longest request URI (path and query) answered, in bytes. hyper
/// refuses URIs over 64 KiB by itself, with an empty `414`; this limit is
/// lower so that the answer is the contract's JSON.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// How long a client has to send a request head (and, on a new connection,
/// its first bytes) unless [`super::ServerConfig::header_timeout`] says
/// otherwise.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Refuses a URI over [`MAX_URI_BYTES`] with a JSON `414`, before routing
/// and authentication.
pub(super) async fn uri_length(req: Request, next: Next) -> Response {
    let length = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if length > MAX_URI_BYTES {
        return HttpError::uri_too_long(MAX_URI_BYTES).into_response();
    }
    next.run(req).await
}

/// Turns the `413` that axum's body limit answers in plain text into the
/// contract's JSON error.
pub(super) async fn json_413(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return HttpError::payload_too_large(MAX_BODY_BYTES).into_response();
    }
    response
}

/// Waits until a new connection has sent enough to tell HTTP/1 from an
/// HTTP/2 preface, which hyper-util reads with no time limit of its own;
/// the caller bounds this wait. Returns at once on a closed connection.
pub(super) async fn first_bytes(stream: &TcpStream) {
    const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut seen = [0u8; H2_PREFACE.len()];
    loop {
        match stream.peek(&mut seen).await {
            Ok(n) if n == 0 || n == seen.len() || seen[..n] != H2_PREFACE[..n] => return,
            Ok(_) => {
                // Part of the preface: peek again once more may have come.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(_) => return,
        }
    }
}
