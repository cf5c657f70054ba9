//! What one client may ask of the reference server, over real sockets: a
//! body or URI over the limit gets the contract's JSON error, and a client
//! that stalls while sending its request head loses its connection.

mod common;

use std::time::Duration;

use common::{KEY, TestServer, raw};
use pivotal_tui::server::limits::{MAX_BODY_BYTES, MAX_URI_BYTES};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous: the waits below end as soon as the server acts.
const PATIENCE: Duration = Duration::from_secs(30);

fn address(server: &TestServer) -> String {
    server.url().trim_start_matches("http://").to_owned()
}

/// Sends `request` whole on a new connection and reads the answer until the
/// server closes it: the status and the JSON body.
async fn exchange(server: &TestServer, request: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(address(server)).await.expect("connect");
    stream.write_all(request).await.expect("request sent");
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .expect("read the answer");
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {text:.200}"));
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON ({e}): {body:.200}"));
    (status, body)
}

fn assert_error_shape(body: &Value) {
    let error = &body["error"];
    assert_eq!(error["type"], "invalid_request", "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(error["param"].is_null(), "{body}");
}

#[tokio::test]
async fn a_body_over_the_limit_gets_a_json_413() {
    let server = TestServer::start().await;
    // One byte over: the server reads all of it before refusing, so the
    // answer is never lost to a reset.
    let body = format!("{{\"name\": \"{}\"}}", "x".repeat(MAX_BODY_BYTES + 1 - 12));
    assert_eq!(body.len(), MAX_BODY_BYTES + 1);
    let mut request = format!(
        "POST /v1/customers HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body.as_bytes());
    let (status, body) = exchange(&server, &request).await;
    assert_eq!(status, 413, "{body}");
    assert_error_shape(&body);
}

#[tokio::test]
async fn a_uri_over_the_limit_gets_a_json_414() {
    let server = TestServer::start().await;
    let cursor = "c".repeat(MAX_URI_BYTES * 2);
    let resp = raw()
        .get(format!("{}/v1/customers?cursor={cursor}", server.url()))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 414);
    let body: Value = resp.json().await.expect("a JSON body");
    assert_error_shape(&body);

    // A long but reasonable URI is still answered.
    let cursor = "c".repeat(MAX_URI_BYTES / 2);
    let resp = raw()
        .get(format!("{}/v1/customers?cursor={cursor}", server.url()))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 400, "an unreadable cursor");
}

/// Reads until the server closes the connection; panics if it never does.
async fn closed_by_server(mut stream: TcpStream) {
    let mut sink = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut sink)).await;
    assert!(
        read.is_ok(),
        "the server kept a stalled connection open for {PATIENCE:?}"
    );
}

#[tokio::test]
async fn a_client_that_stalls_in_its_request_head_is_disconnected() {
    let server = TestServer::start_with(|c| c.header_timeout = Duration::from_millis(300)).await;

    // Half a header line, then nothing.
    let mut stalled = TcpStream::connect(address(&server)).await.expect("connect");
    stalled
        .write_all(b"GET /v1/users HTTP/1.1\r\nHost: test\r\nAuthoriz")
        .await
        .expect("partial head sent");
    closed_by_server(stalled).await;

    // Connected, and not a byte sent.
    let silent = TcpStream::connect(address(&server)).await.expect("connect");
    closed_by_server(silent).await;

    // A prompt client is served as ever.
    let resp = raw()
        .get(format!("{}/v1/users", server.url()))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
}
