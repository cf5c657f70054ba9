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
