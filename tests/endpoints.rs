//! Every endpoint of the contract and every error status, over real sockets.

mod common;

use common::{KEY, TestServer, raw};
use pivotal_tui::api::{
    ApiError, CustomerPatch, IdempotencyKey, ListParams, NewCustomer, Patch, Source,
};
use serde_json::Value;

fn acme() -> NewCustomer {
    NewCustomer {
        name: "Acme Co".into(),
        domain: Some("acme.com".into()),
        plan: Some("Growth".into()),
        tags: vec!["beta".into(), "emea".into()],
        custom_fields: [("region".to_owned(), "EMEA".to_owned())].into(),
        ..NewCustomer::default()
    }
}

/// Sends a raw request and returns the status, headers and JSON body.
async fn call(
    method: reqwest::Method,
    url: String,
    key: Option<&str>,
    body: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = raw().request(method, url);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.expect("every response is JSON");
    (status, headers, body)
}

fn assert_error_shape(body: &Value, kind: &str, param: Option<&str>) {
    let error = &body["error"];
    assert_eq!(error["type"], kind, "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(error["param"].as_str(), param, "{body}");
}

#[tokio::test]
async fn users_me_and_the_team() {
    let server = TestServer::start().await;
    let client = server.client();
    let me = client.me().await.expect("me");
    let team = client.users().await.expect("users");
    assert_eq!(me.id, "usr_8f3c21");
    assert!(team.len() >= 4);
    assert!(team.contains(&me));
}

#[tokio::test]
async fn create_get_update_archive_restore_and_history() {
    let server = TestServer::start().await;
    let client = server.client();

    let created = client
        .create_customer(&acme(), &IdempotencyKey::new())
        .await
        .expect("create");
    assert!(created.id.starts_with("cus_"));
    assert!(created.display_id >= 1);
    assert_eq!(
        created.owner_id.as_deref(),
        Some("usr_8f3c21"),
        "owner defaults to me"
    );
    assert_eq!(created.source, Source::Api);
    assert_eq!(created.domain.as_deref(), Some("acme.com"));
    assert!(!created.archived);

    let second = client
        .create_customer(
            &NewCustomer {
                name: "Globex".into(),
                ..NewCustomer::default()
            },
            &IdempotencyKey::new(),
        )
        .await
        .expect("create");
    assert_eq!(
        second.display_id,
        created.display_id + 1,
        "display ids in creation order"
    );
    assert_eq!(second.domain, None);

    assert_eq!(
        client.get_customer(&created.id).await.expect("get"),
        created
    );

    let patch = CustomerPatch {
        plan: Patch::Clear,
        owner_id: Patch::Set("usr_2b7e90".into()),
        tags: Some(vec!["vip".into()]),
        ..CustomerPatch::default()
    };
    let updated = client
        .update_customer(&created.id, &patch)
        .await
        .expect("patch");
    assert_eq!(updated.plan, None);
    assert_eq!(updated.owner_id.as_deref(), Some("usr_2b7e90"));
    assert_eq!(updated.tags, vec!["vip"]);
    assert_eq!(updated.name, "Acme Co", "fields left out stay as they were");
    assert!(updated.updated_at > created.updated_at);

    let archived = client.archive_customer(&created.id).await.expect("archive");
    assert!(archived.archived);
    let again = client
        .archive_customer(&created.id)
        .await
        .expect("archive twice");
    assert_eq!(again, archived, "archiving an archived customer is a no-op");
    assert!(
        client
            .get_customer(&created.id)
            .await
            .expect("get")
            .archived
    );

    let restored = client.restore_customer(&created.id).await.expect("restore");
    assert!(!restored.archived);

    let history = client.history(&created.id).await.expect("history");
    let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["restored", "archived", "updated", "created"],
        "newest first"
    );
    assert!(history.windows(2).all(|w| w[0].at >= w[1].at));
}

#[tokio::test]
async fn archived_customers_leave_the_default_list() {
    let server = TestServer::start().await;
    let client = server.client();
    let c = client
        .create_customer(&acme(), &IdempotencyKey::new())
        .await
        .expect("create");
    client.archive_customer(&c.id).await.expect("archive");
    let live = client
        .list_customers(&ListParams::default())
        .await
        .expect("list");
    assert!(live.data.is_empty());
    let all = client
        .list_customers(&ListParams {
            include_archived: true,
            ..ListParams::default()
        })
        .await
        .expect("list");
    assert_eq!(all.data.len(), 1);
    assert_eq!(all.next_cursor, None);
}

#[tokio::test]
async fn a_missing_or_unknown_key_is_401() {
    let server = TestServer::start().await;
    let url = format!("{}/v1/customers", server.url());
    for key in [None, Some("pk_test_wrong")] {
        let (status, _, body) = call(reqwest::Method::GET, url.clone(), key, None).await;
        assert_eq!(status, 401);
        assert_error_shape(&body, "unauthorized", None);
    }
    let client = pivotal_tui::api::Client::new(
        &server.url(),
        pivotal_tui::api::ApiKey::new("pk_test_wrong".into()).expect("key"),
    )
    .expect("client");
    let err = client.me().await.expect_err("refused");
    assert!(err.is_auth(), "{err:?}");
}

#[tokio::test]
async fn unknown_customers_and_routes_are_404() {
    let server = TestServer::start().await;
    let client = server.client();
    let id = "cus_DOESNOTEXIST";
    let results = [
        client.get_customer(id).await.map(|_| ()),
        client
            .update_customer(
                id,
                &CustomerPatch {
                    name: Some("x".into()),
                    ..CustomerPatch::default()
                },
            )
            .await
            .map(|_| ()),
        client.archive_customer(id).await.map(|_| ()),
        client.restore_customer(id).await.map(|_| ()),
        client.history(id).await.map(|_| ()),
    ];
    for result in results {
        match result {
            Err(ApiError::Api { status, kind, .. }) => {
                assert_eq!((status, kind.as_str()), (404, "not_found"));
            }
            other => panic!("expected 404, got {other:?}"),
        }
    }
    let (status, _, body) = call(
        reqwest::Method::GET,
        format!("{}/v1/nothing-here", server.url()),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_error_shape(&body, "not_found", None);
}

#[tokio::test]
async fn malformed_requests_are_400() {
    let server = TestServer::start().await;
    let base = server.url();
    let cases: [(reqwest::Method, String, Option<&str>, Option<&str>); 6] = [
        (
            reqwest::Method::GET,
            format!("{base}/v1/customers?limit=0"),
            None,
            Some("limit"),
        ),
        (
            reqwest::Method::GET,
            format!("{base}/v1/customers?limit=1001"),
            None,
            Some("limit"),
        ),
        (
            reqwest::Method::GET,
            format!("{base}/v1/customers?cursor=garbage"),
            None,
            Some("cursor"),
        ),
        (
            reqwest::Method::GET,
            format!("{base}/v1/customers?updated_since=yesterday"),
            None,
            Some("updated_since"),
        ),
        (
            reqwest::Method::POST,
            format!("{base}/v1/customers"),
            Some("{not json"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("{base}/v1/customers"),
            Some(r#"{"name": "A", "display_id": 5}"#),
            Some("display_id"),
        ),
    ];
    for (method, url, body, param) in cases {
        let (status, _, json) = call(method, url.clone(), Some(KEY), body).await;
        assert_eq!(status, 400, "{url} {body:?}");
        assert_error_shape(&json, "invalid_request", param);
    }
}

#[tokio::test]
async fn invalid_fields_are_422_naming_the_field() {
    let server = TestServer::start().await;
    let client = server.client();
    let cases = [
        (
            NewCustomer {
                name: "   ".into(),
                ..NewCustomer::default()
            },
            "name",
        ),
        (
            NewCustomer {
                name: "x".repeat(201),
                ..NewCustomer::default()
            },
            "name",
        ),
        (
            NewCustomer {
                name: "Evil\u{1b}[2J".into(),
                ..NewCustomer::default()
            },
            "name",
        ),
        (
            NewCustomer {
                name: "A".into(),
                domain: Some("https://Acme.com/x".into()),
                ..NewCustomer::default()
            },
            "domain",
        ),
        (
            NewCustomer {
                name: "A".into(),
                owner_id: Some("usr_nobody".into()),
                ..NewCustomer::default()
            },
            "owner_id",
        ),
    ];
    for (body, param) in cases {
        match client.create_customer(&body, &IdempotencyKey::new()).await {
            Err(ApiError::Api {
                status: 422,
                kind,
                param: Some(p),
                message,
            }) => {
                assert_eq!(kind, "validation_failed");
                assert_eq!(p, param);
                assert!(!message.is_empty());
            }
            other => panic!("expected 422 for {param}, got {other:?}"),
        }
    }
    // A 422 is not remembered under its key: the corrected body goes through.
    let key = IdempotencyKey::new();
    let bad = NewCustomer {
        name: "".into(),
        ..NewCustomer::default()
    };
    assert!(client.create_customer(&bad, &key).await.is_err());
    let good = NewCustomer {
        name: "Fixed".into(),
        ..NewCustomer::default()
    };
    assert_eq!(
        client
            .create_customer(&good, &key)
            .await
            .expect("create")
            .name,
        "Fixed"
    );
}

#[tokio::test]
async fn injected_429_and_500_have_the_contract_shape() {
    let server = TestServer::start_with(|c| c.faults.rate_limit_rate = 1.0).await;
    let (status, headers, body) = call(
        reqwest::Method::GET,
        format!("{}/v1/users/me", server.url()),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "1");
    assert_error_shape(&body, "rate_limited", None);

    let server = TestServer::start_with(|c| c.faults.error_rate = 1.0).await;
    let (status, _, body) = call(
        reqwest::Method::GET,
        format!("{}/v1/users/me", server.url()),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(status, 500);
    assert_error_shape(&body, "server_error", None);
}

#[tokio::test]
async fn the_same_idempotency_key_with_another_body_is_409() {
    let server = TestServer::start().await;
    let client = server.client();
    let key = IdempotencyKey::new();
    client.create_customer(&acme(), &key).await.expect("create");
    let other = NewCustomer {
        name: "Someone else".into(),
        ..NewCustomer::default()
    };
    match client.create_customer(&other, &key).await {
        Err(ApiError::Api {
            status: 409, kind, ..
        }) => assert_eq!(kind, "idempotency_conflict"),
        other => panic!("expected 409, got {other:?}"),
    }
}

#[tokio::test]
async fn responses_ignore_field_order_for_idempotency() {
    let server = TestServer::start().await;
    let url = format!("{}/v1/customers", server.url());
    let send = |body: &'static str| {
        raw()
            .post(url.clone())
            .bearer_auth(KEY)
            .header("Idempotency-Key", "8a0c5f36-7a57-4f39-8f0e-1d1c8a7b0e11")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let first = send(r#"{"name": "Acme", "plan": "Growth"}"#)
        .await
        .expect("send");
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    let second = send(r#"{"plan": "Growth", "name": "Acme"}"#)
        .await
        .expect("send");
    assert_eq!(second.status(), 201, "a replay keeps the original status");
    assert_eq!(second.json::<Value>().await.expect("json"), first);
}
