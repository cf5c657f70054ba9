//! A hostile Pivotal API for tests: a real HTTP server on 127.0.0.1:0 whose
//! every answer a test writes itself, to send what the reference server
//! never would (escape sequences, cursors that never end, unreadable
//! records, dates in year 9999, bodies of hundreds of megabytes). And the
//! real `pivotal` binary, run against it in a home of its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request, as the handler sees it.
#[derive(Debug, Clone)]
pub struct Asked {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
}

/// A running hostile server; dropping it stops it.
pub struct Hostile {
    pub url: String,
    requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Hostile {
    /// Serves every request with `handler`.
    pub async fn start(handler: impl Fn(&Asked) -> Response + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        let handler = Arc::new(handler);
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri| {
            let handler = Arc::clone(&handler);
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let query = uri
                    .query()
                    .map(|q| {
                        url::form_urlencoded::parse(q.as_bytes())
                            .into_owned()
                            .collect()
                    })
                    .unwrap_or_default();
                handler(&Asked {
                    method,
                    path: uri.path().to_owned(),
                    query,
                })
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Hostile {
            url,
            requests,
            task,
        }
    }

    /// How many requests it has answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A JSON answer.
pub fn json_reply(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A page of customers.
pub fn page(customers: &[Value], next_cursor: Option<&str>) -> Response {
    json_reply(
        StatusCode::OK,
        &json!({ "data": customers, "next_cursor": next_cursor }),
    )
}

/// A body of `total` bytes, streamed in 1 MiB chunks without a
/// `Content-Length`; `produced` counts the bytes the server got to hand
/// to the connection before the client stopped reading.
pub fn endless_body(total: usize, produced: Arc<AtomicUsize>) -> Response {
    const CHUNK: usize = 1024 * 1024;
    let chunks = (0..total.div_ceil(CHUNK)).map(move |i| {
        produced.fetch_add(CHUNK, Ordering::SeqCst);
        let mut chunk = vec![b' '; CHUNK];
        if i == 0 {
            chunk[0] = b'[';
        }
        Ok::<_, std::io::Error>(chunk)
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .expect("a response")
}

/// The key's owner and the team; `name` is each member's name.
pub fn team(name: &str) -> (Value, Value) {
    let me = json!({"id": "usr_me", "name": format!("{name} (me)"), "email": "me@example.com"});
    let other = json!({"id": "usr_other", "name": name, "email": "other@example.com"});
    (me.clone(), json!({ "data": [me, other] }))
}

/// The answers every command needs besides the listing: `/v1/users/me` and
/// `/v1/users`, with `name` as the members' names. `None` for other paths.
pub fn users_reply(asked: &Asked, name: &str) -> Option<Response> {
    let (me, all) = team(name);
    match asked.path.as_str() {
        "/v1/users/me" => Some(json_reply(StatusCode::OK, &me)),
        "/v1/users" => Some(json_reply(StatusCode::OK, &all)),
        _ => None,
    }
}

/// A customer in the contract's shape.
pub fn customer(id: &str, display_id: u64, name: &str, updated_at: &str) -> Value {
    json!({
        "id": id,
        "display_id": display_id,
        "name": name,
        "domain": format!("{}.example.com", display_id),
        "owner_id": "usr_other",
        "plan": "Growth",
        "tags": ["beta"],
        "custom_fields": {"region": "EMEA"},
        "source": "api",
        "archived": false,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": updated_at,
    })
}
