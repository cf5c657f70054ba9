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

/// The app's engine and the command line deliver one queue, on one store
/// file, through 30 % `500`s and 10 % dropped connections: every change
/// reaches the server exactly once and in the order it was made.
#[tokio::test(flavor = "multi_thread")]
async fn the_app_and_the_command_line_deliver_one_queue_through_faults_exactly_once_in_order() {
    use common::cli::Home;
    use common::engine::{start_engine, start_on, start_on_with};
    use pivotal_tui::server::{DEMO_CUSTOMERS, Seed};
    use pivotal_tui::store::{OutboxOp, Store, account_file};
    use pivotal_tui::sync::SyncCommand;

    let server = TestServer::start_with(|c| c.seed = Some(Seed::Embedded(DEMO_CUSTOMERS))).await;
    let home = Home::new();
    home.login(&server.url()).await;
    let ids = all_customers(&server.client()).await;
    let id_of = |display_id: u64| {
        ids.iter()
            .find(|c| c.display_id == display_id && !c.archived)
            .map(|c| c.id.clone())
            .expect("in the demo")
    };
    let (a, b) = (id_of(1052), id_of(1056));
    let store = account_file(
        &home.data_dir(),
        &server.url(),
        &pivotal_tui::api::ApiKey::new(KEY.to_owned()).expect("key"),
    );
    let TestServer { server: up, dir } = server;
    let addr = up.addr();
    up.shutdown().await;
    let faulty = start_on_with(&dir, addr, |c| c.faults = faults(0.30, 0.10)).await;
    let url = format!("http://{addr}");

    // The app and the command line change things at the same time.
    let (app, _events) = start_engine(&url, &store);
    let app_changes = [
        OutboxOp::Archive {
            customer_id: a.clone(),
        },
        OutboxOp::Create {
            customer: NewCustomer {
                name: "Made In The App One".into(),
                ..NewCustomer::default()
            },
        },
        OutboxOp::Restore {
            customer_id: a.clone(),
        },
        OutboxOp::Create {
            customer: NewCustomer {
                name: "Made In The App Two".into(),
                ..NewCustomer::default()
            },
        },
        OutboxOp::Archive {
            customer_id: a.clone(),
        },
    ];
    let cli = async {
        for (verb, id) in [("archive", &b), ("restore", &b), ("archive", &b)] {
            // Exit 0 (sent) or 4 (saved for later): never anything else.
            let run = home.run(&["customers", verb, id], "").await;
            assert!(matches!(run.code, 0 | 4), "{run:?}");
        }
    };
    let submit = async {
        for op in app_changes {
            app.send(SyncCommand::Submit {
                key: IdempotencyKey::new(),
                op,
            });
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    };
    tokio::join!(cli, submit);

    // Pivotal recovers; the app goes on until the one queue is empty.
    faulty.shutdown().await;
    let healthy = start_on(&dir, addr).await;
    let drained = async {
        loop {
            app.send(SyncCommand::Refresh);
            let left = Store::open(&store)
                .and_then(|s| s.outbox_pending())
                .expect("read the outbox");
            if left.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(90), drained)
        .await
        .expect("every change is delivered once Pivotal recovers");
    app.stop().await;

    let client = client_for(&healthy.url());
    let everyone = all_customers(&client).await;
    for name in ["Made In The App One", "Made In The App Two"] {
        let made = everyone.iter().filter(|c| c.name == name).count();
        assert_eq!(made, 1, "{name} created exactly once");
    }
    for (id, expected) in [
        (&a, ["archived", "restored", "archived"]),
        (&b, ["archived", "restored", "archived"]),
    ] {
        let history = client.history(id).await.expect("history");
        // Newest first; the demo's own events come before these.
        let ours: Vec<&str> = history
            .iter()
            .map(|e| e.kind.as_str())
            .filter(|k| matches!(*k, "archived" | "restored"))
            .collect();
        let in_order: Vec<&str> = ours.into_iter().rev().collect();
        assert_eq!(in_order, expected, "{id}: each change once, in order");
        assert!(client.get_customer(id).await.expect("get").archived);
    }
}
