//! `assets/openapi.yaml` and the server agree: the spec lists exactly the
//! routes the server declares, and the server really answers each of them.

mod common;

use std::collections::BTreeSet;

use common::{KEY, TestServer, raw};
use pivotal_tui::server::API_ROUTES;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

fn spec_routes() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/openapi.yaml"))
        .expect("spec exists");
    let spec: serde_norway::Value = serde_norway::from_str(&text).expect("spec is YAML");
    assert_eq!(spec["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
    let paths = spec["paths"].as_mapping().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let path = path.as_str().expect("path").to_owned();
            let item = item.as_mapping().expect("path item");
            item.keys()
                .filter_map(|k| k.as_str())
                .filter(|k| METHODS.contains(k))
                .map(move |m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_spec_lists_exactly_the_servers_routes() {
    let server: BTreeSet<(String, String)> = API_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(spec_routes(), server);
}

#[tokio::test]
async fn the_server_answers_every_route_in_the_spec() {
    let server = TestServer::start().await;
    for (method, path) in spec_routes() {
        let url = format!("{}{}", server.url(), path.replace("{id}", "cus_UNKNOWN"));
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let resp = raw()
            .request(method.clone(), &url)
            .bearer_auth(KEY)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.expect("JSON");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert_ne!(status, 405, "{method} {path}");
        assert!(
            !message.starts_with("No such endpoint"),
            "{method} {path} is in the spec but the server has no route for it"
        );
    }
}

/// Sends `POST /v1/customers` with `Idempotency-Key: key` and returns the
/// status and JSON body.
async fn create_with_key(server: &TestServer, key: &str) -> (u16, serde_json::Value) {
    let resp = raw()
        .post(format!("{}/v1/customers", server.url()))
        .bearer_auth(KEY)
        .header("Idempotency-Key", key)
        .header("content-type", "application/json")
        .body(r#"{"name": "Acme Co"}"#)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON"))
}

/// `GET /v1/customers` with `query`; the status and JSON body.
async fn list(server: &TestServer, query: &str) -> (u16, serde_json::Value) {
    let resp = raw()
        .get(format!("{}/v1/customers?{query}", server.url()))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON"))
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn an_idempotency_key_that_is_not_a_uuid_is_refused_with_400_and_creates_nothing() {
    let server = TestServer::start().await;
    for key in [
        "retry-1",
        "5f0c6f1e8a4b4c2d9e3f1a2b3c4d5e6f",
        "{5f0c6f1e-8a4b-4c2d-9e3f-1a2b3c4d5e6f}",
        "urn:uuid:5f0c6f1e-8a4b-4c2d-9e3f-1a2b3c4d5e6f",
        "5f0c6f1e-8a4b-4c2d-9e3f-1a2b3c4d5e6",
    ] {
        let (status, body) = create_with_key(&server, key).await;
        assert_eq!(status, 400, "{key}: {body}");
        assert_eq!(body["error"]["type"], "invalid_request", "{key}");
        assert_eq!(body["error"]["param"], "Idempotency-Key", "{key}");
    }
    let (_, page) = list(&server, "").await;
    assert_eq!(page["data"], serde_json::json!([]), "nothing was created");

    let key = "5F0C6F1E-8A4B-4C2D-9E3F-1A2B3C4D5E6F";
    let (first, created) = create_with_key(&server, key).await;
    let (again, replayed) = create_with_key(&server, key).await;
    assert_eq!((first, again), (201, 201));
    assert_eq!(
        created["id"], replayed["id"],
        "a UUID in capitals is a key too"
    );
}

#[tokio::test]
async fn a_cursor_in_the_documented_form_is_read_and_any_other_is_400() {
    let server = TestServer::start().await;
    for _ in 0..3 {
        let key = uuid::Uuid::new_v4().to_string();
        assert_eq!(create_with_key(&server, &key).await.0, 201);
    }
    let (_, page) = list(&server, "limit=1").await;
    let issued = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    assert!(
        issued
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{issued}"
    );
    let (status, next) = list(&server, &format!("limit=1&cursor={issued}")).await;
    assert_eq!(status, 200, "{next}");
    assert_ne!(next["data"][0]["id"], page["data"][0]["id"]);

    // Any cursor of the documented form is a position, even one never issued.
    let (status, from_start) = list(&server, &format!("cursor={}", hex("0:"))).await;
    assert_eq!(status, 200, "{from_start}");
    assert_eq!(from_start["data"].as_array().map(Vec::len), Some(3));

    for unreadable in [
        String::new(),
        issued.to_uppercase(),
        hex("+0:"),
        hex("0"),
        format!("{issued}0"),
        hex(&format!("0:{}", "x".repeat(200))),
    ] {
        let (status, body) = list(&server, &format!("cursor={unreadable}")).await;
        assert_eq!(status, 400, "{unreadable}: {body}");
        assert_eq!(body["error"]["param"], "cursor", "{unreadable}");
    }
}
