//! The client's retry policy against a server that fails on purpose.

mod common;

use std::time::Duration;

use common::{KEY, TestServer, all_customers, client_for, fast_retry, faults};
use pivotal_tui::api::{ApiError, IdempotencyKey, NewCustomer};
use pivotal_tui::server::Faults;

#[tokio::test]
async fn fifty_creates_through_500s_and_dropped_connections_make_exactly_fifty() {
    let server = TestServer::start_with(|c| c.faults = faults(0.30, 0.10)).await;
    // 37% of attempts fail; 25 attempts make giving up vanishingly unlikely.
    let client = client_for(&server.url()).with_retry(fast_retry(25));
    for i in 0..50 {
        let body = NewCustomer {
            name: format!("Customer {i}"),
            ..NewCustomer::default()
        };
        client
            .create_customer(&body, &IdempotencyKey::new())
            .await
            .expect("retries get it through");
    }
    let server = server.restart(|_| {}).await;
    let customers = all_customers(&server.client()).await;
    assert_eq!(customers.len(), 50, "no create lost, none doubled");
}

async fn error_when_retries_run_out(faults: Faults, timeout: Option<Duration>) -> ApiError {
    let server = TestServer::start_with(|c| c.faults = faults).await;
    let mut client = client_for(&server.url()).with_retry(fast_retry(3));
    if let Some(t) = timeout {
        client = client.with_timeout(t);
    }
    client.me().await.expect_err("every attempt fails")
}

#[tokio::test]
async fn exhausted_retries_report_what_went_wrong() {
    let err = error_when_retries_run_out(faults(1.0, 0.0), None).await;
    assert!(
        matches!(&err, ApiError::Api { status: 500, kind, .. } if kind == "server_error"),
        "{err:?}"
    );

    let err = error_when_retries_run_out(faults(0.0, 1.0), None).await;
    assert!(matches!(err, ApiError::Network { .. }), "{err:?}");

    let rate_limited = Faults {
        rate_limit_rate: 1.0,
        ..Faults::default()
    };
    let err = error_when_retries_run_out(rate_limited, None).await;
    assert!(
        matches!(err, ApiError::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(1)),
        "{err:?}"
    );

    let slow = Faults {
        latency: Duration::from_millis(400),
        ..Faults::default()
    };
    let err = error_when_retries_run_out(slow, Some(Duration::from_millis(50))).await;
    assert!(matches!(err, ApiError::Timeout), "{err:?}");
}

#[tokio::test]
async fn a_refused_server_is_a_network_error() {
    let server = TestServer::start().await;
    let url = server.url();
    server.server.shutdown().await;
    let err = client_for(&url)
        .with_retry(fast_retry(2))
        .me()
        .await
        .expect_err("down");
    assert!(
        matches!(&err, ApiError::Network { reason } if reason.contains("refused")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_api_key_never_appears_in_errors() {
    let secret = &KEY["pk_test_".len()..];
    let mut errors = vec![
        error_when_retries_run_out(faults(1.0, 0.0), None).await,
        error_when_retries_run_out(faults(0.0, 1.0), None).await,
        error_when_retries_run_out(
            Faults {
                latency: Duration::from_millis(200),
                ..Faults::default()
            },
            Some(Duration::from_millis(20)),
        )
        .await,
    ];
    let server = TestServer::start().await;
    let wrong = pivotal_tui::api::ApiKey::new(format!("{KEY}x")).expect("key");
    let client = pivotal_tui::api::Client::new(&server.url(), wrong).expect("client");
    errors.push(client.me().await.expect_err("401"));
    errors.push(
        pivotal_tui::api::Client::new(
            "http://example.com",
            pivotal_tui::api::ApiKey::new(KEY.into()).expect("key"),
        )
        .expect_err("plain http to a remote host is refused"),
    );
    for err in &errors {
        for text in [format!("{err}"), format!("{err:?}")] {
            assert!(!text.contains(secret), "key leaked in {text}");
        }
    }
    let client = server.client();
    assert!(!format!("{client:?}").contains(secret));
}
