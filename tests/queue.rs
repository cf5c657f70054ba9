//! One queue of changes for every process on an account: the app's engine
//! (the library), the `pivotal` command line and a second window share the
//! store's outbox. Real processes on one store file, against the reference
//! server (or a small hostile one) over sockets: a refused key, an answer
//! the client cannot read, two processes delivering, a process killed
//! between claiming and settling, parallel first runs, a damaged cache.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use common::cli::Home;
use common::engine::{Events, is_settled, is_waiting_or_settled, start_on, start_on_with, waiting};
use common::{KEY, TestServer};
use pivotal_tui::api::ApiKey;
use pivotal_tui::server::{DEMO_CUSTOMERS, Seed};
use pivotal_tui::store::{OutboxOp, Store, account_file};
use pivotal_tui::sync::{SyncCommand, SyncEvent};

const WAIT: Duration = Duration::from_secs(20);

async fn demo_server() -> TestServer {
    TestServer::start_with(|c| c.seed = Some(Seed::Embedded(DEMO_CUSTOMERS))).await
}

/// The store file the binary in `home` uses for `url` and the test key.
fn store_of(home: &Home, url: &str) -> PathBuf {
    let key = ApiKey::new(KEY.to_owned()).expect("key");
    account_file(&home.data_dir(), url, &key)
}

/// The ops waiting in the store's outbox, in queue order.
fn queued(store: &std::path::Path) -> Vec<OutboxOp> {
    let store = Store::open(store).expect("open the store");
    let pending = store.outbox_pending().expect("read the outbox");
    pending.into_iter().map(|item| item.op).collect()
}

fn archive(id: &str) -> OutboxOp {
    OutboxOp::Archive {
        customer_id: id.to_owned(),
    }
}

/// The customer id of `#display_id`, through the binary.
async fn find_id(home: &Home, display_id: u64) -> String {
    let run = home.run(&["customers", "list", "--json"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    let all: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).expect("json");
    all.iter()
        .find(|c| c["display_id"] == display_id)
        .and_then(|c| c["id"].as_str())
        .expect("listed")
        .to_owned()
}

/// How often each history kind occurs for `id` on the server.
async fn kinds(server: &TestServer, id: &str) -> BTreeMap<String, usize> {
    let history = server.client().history(id).await.expect("history");
    let mut counts = BTreeMap::new();
    for event in history {
        *counts.entry(event.kind).or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_key_keeps_every_queued_change_and_the_next_good_run_sends_each_once() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    let (first, second, third) = (
        find_id(&home, 1052).await,
        find_id(&home, 1056).await,
        find_id(&home, 1036).await,
    );
    let store = store_of(&home, &server.url());
    let TestServer { server: up, dir } = server;
    let addr = up.addr();
    up.shutdown().await;

    // Pivotal is down: the archive is kept.
    let run = home.run(&["customers", "archive", &first], "").await;
    assert_eq!(run.code, 4, "{run:?}");
    // Pivotal is back but refuses the key (revoked, say): nothing is
    // dropped, neither the earlier change nor this one.
    let refusing = start_on_with(&dir, addr, |c| c.api_key = "pk_test_someone_else".into()).await;
    let run = home.run(&["customers", "archive", &second], "").await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(!run.stderr.contains("dropped"), "{}", run.stderr);
    assert_eq!(queued(&store), vec![archive(&first), archive(&second)]);
    refusing.shutdown().await;

    // The key works again: everything goes, in order, once.
    let server = TestServer {
        server: start_on(&dir, addr).await,
        dir,
    };
    let run = home.run(&["customers", "archive", &third], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(queued(&store).is_empty());
    for id in [&first, &second, &third] {
        assert!(
            server
                .client()
                .get_customer(id)
                .await
                .expect("get")
                .archived
        );
        assert_eq!(kinds(&server, id).await.get("archived"), Some(&1), "{id}");
    }
}

/// A server that answers the first create with a `201` the client cannot
/// read, and every later one properly; it records each create's
/// `Idempotency-Key`.
async fn unreadable_first_create() -> (String, Arc<Mutex<Vec<String>>>) {
    let keys = Arc::new(Mutex::new(Vec::<String>::new()));
    let me = serde_json::json!({"id": "usr_1", "name": "Dana", "email": "dana@example.com"});
    let users = serde_json::json!({"data": [me.clone()]});
    let recorded = Arc::clone(&keys);
    let app = Router::new()
        .route("/v1/users/me", get(move || async move { axum::Json(me) }))
        .route("/v1/users", get(move || async move { axum::Json(users) }))
        .route(
            "/v1/customers",
            get(|| async { axum::Json(serde_json::json!({"data": [], "next_cursor": null})) })
                .post(move |headers: HeaderMap, body: String| {
                    let recorded = Arc::clone(&recorded);
                    async move {
                        let key = headers
                            .get("idempotency-key")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let first = {
                            let mut keys = recorded.lock().expect("keys");
                            keys.push(key.clone());
                            keys.len() == 1
                        };
                        if first {
                            return (StatusCode::CREATED, "{\"id\": ".to_owned());
                        }
                        let sent: serde_json::Value = serde_json::from_str(&body).expect("json");
                        let customer = serde_json::json!({
                            "id": format!("cus_{key}"), "display_id": 7,
                            "name": sent["name"], "domain": null, "owner_id": "usr_1",
                            "plan": null, "tags": [], "custom_fields": {}, "source": "api",
                            "archived": false, "created_at": "2026-11-26T10:00:00Z",
                            "updated_at": "2026-11-26T10:00:00Z"
                        });
                        (StatusCode::CREATED, customer.to_string())
                    }
                }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, keys)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_whose_answer_cannot_be_read_is_sent_again_with_the_same_key() {
    let (url, keys) = unreadable_first_create().await;
    let home = Home::new();
    home.login(&url).await;
    let run = home
        .run(&["customers", "create", "--name", "Lost Answer Co"], "")
        .await;
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("saved"), "{}", run.stderr);

    let run = home
        .run(&["customers", "create", "--name", "Next Co"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Next Co"), "{}", run.stdout);
    let keys = keys.lock().expect("keys").clone();
    assert_eq!(
        keys.len(),
        3,
        "the kept create, again, then the new one: {keys:?}"
    );
    assert!(!keys[0].is_empty());
    assert_eq!(keys[0], keys[1], "a change keeps its key");
    assert_ne!(keys[1], keys[2]);
    assert!(queued(&store_of(&home, &url)).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_the_command_line_delivered_is_never_sent_again_by_the_app() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    let (target, other) = (find_id(&home, 1052).await, find_id(&home, 1056).await);
    let store = store_of(&home, &server.url());
    let TestServer { server: up, dir } = server;
    let addr = up.addr();
    up.shutdown().await;

    // The app archives while Pivotal is down: kept, waiting (and not
    // retried by itself for the length of the test).
    let url = format!("http://{addr}");
    let patient = pivotal_tui::sync::SyncConfig {
        retry_min: Duration::from_secs(3600),
        retry_max: Duration::from_secs(3600),
        ..common::engine::config()
    };
    let (app, rx) =
        common::engine::spawn_engine(common::engine::engine_client(&url), &store, patient);
    let mut events = Events::new(rx);
    let key = common::engine::submit(&app, &mut events, archive(&target), WAIT).await;
    // Both the delivery and the first sync run have given up: a run still
    // retrying when Pivotal comes back would succeed and wake delivery,
    // and the app would then send its archive (and the command's) itself.
    let (mut waited, mut run_failed) = (None, false);
    while waited.is_none() || !run_failed {
        let event = events
            .next_matching(
                |e| is_waiting_or_settled(&key)(e) || matches!(e, SyncEvent::Failed { .. }),
                WAIT,
            )
            .await;
        match event {
            SyncEvent::Failed { .. } => run_failed = true,
            other => waited = Some(waiting(other).0),
        }
    }
    assert_eq!(waited, Some(key));

    // Pivotal is back. The command line sends the app's archive first, then
    // its own; then the user restores the customer from the command line.
    let server = TestServer {
        server: start_on(&dir, addr).await,
        dir,
    };
    let run = home.run(&["customers", "archive", &other], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("sent a change saved earlier"),
        "{}",
        run.stderr
    );
    let run = home.run(&["customers", "restore", &target], "").await;
    assert_eq!(run.code, 0, "{run:?}");

    // The app wakes: it finds its change gone from the queue and sends
    // nothing, so the restore stands.
    app.send(SyncCommand::Refresh);
    while !outbox_report(&mut events).await.is_empty() {}
    app.stop().await;
    assert!(
        !server
            .client()
            .get_customer(&target)
            .await
            .expect("get")
            .archived
    );
    let counts = kinds(&server, &target).await;
    assert_eq!(
        (counts.get("archived"), counts.get("restored")),
        (Some(&1), Some(&1)),
        "{counts:?}"
    );
}

/// The next outbox report that comes, with the items it lists.
async fn outbox_report(events: &mut Events) -> Vec<OutboxOp> {
    match events
        .next_matching(|e| matches!(e, SyncEvent::Outbox { .. }), WAIT)
        .await
    {
        SyncEvent::Outbox { pending, .. } => pending.into_iter().map(|item| item.op).collect(),
        _ => unreachable!("matched an Outbox event"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_killed_between_claiming_and_settling_costs_no_change_and_no_duplicate() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    let store = store_of(&home, &server.url());
    let TestServer { server: up, dir } = server;
    let addr = up.addr();
    up.shutdown().await;
    // Every answer takes long enough to kill the sender mid-request.
    let slow = start_on_with(&dir, addr, |c| {
        c.faults.latency = Duration::from_millis(1500)
    })
    .await;
    let mut child = home.spawn(&["customers", "create", "--name", "Killed Midway Co"]);
    let claimed = async {
        loop {
            if claimed_items(&store) > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(WAIT, claimed)
        .await
        .expect("the command claims its create");
    child.kill().await.expect("kill -9 the command");
    slow.shutdown().await;

    let server = TestServer {
        server: start_on(&dir, addr).await,
        dir,
    };
    let run = home
        .run(&["customers", "create", "--name", "After The Kill Co"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(queued(&store).is_empty());
    let all = common::all_customers(&server.client()).await;
    let named = |name: &str| all.iter().filter(|c| c.name == name).count();
    assert_eq!(named("Killed Midway Co"), 1, "created exactly once");
    assert_eq!(named("After The Kill Co"), 1);
}

/// Outbox items some process has claimed, read straight from the file.
fn claimed_items(store: &std::path::Path) -> i64 {
    let Ok(conn) = rusqlite::Connection::open(store) else {
        return 0;
    };
    conn.query_row(
        "SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL",
        [],
        |row| row.get(0),
    )
    .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn six_first_runs_at_once_all_succeed_on_one_new_store() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    let runs: Vec<_> = (0..6)
        .map(|_| home.spawn(&["customers", "list", "--csv"]))
        .collect();
    for child in runs {
        let output = tokio::time::timeout(WAIT * 3, child.wait_with_output())
            .await
            .expect("finishes")
            .expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_cache_is_moved_aside_named_and_rebuilt_and_the_store_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    let store = store_of(&home, &server.url());
    let run = home.run(&["customers", "list"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&store), 0o600, "the cache is the user's alone");
    assert_eq!(mode(store.parent().expect("folder")), 0o700);

    std::fs::write(&store, b"this is not a database, it was damaged").expect("damage it");
    let _ = std::fs::remove_file(store.with_extension("sqlite3-wal"));
    let run = home.run(&["customers", "list", "--json"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("damaged"), "{}", run.stderr);
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "one sentence: {}",
        run.stderr
    );
    let listed: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).expect("json");
    assert!(!listed.is_empty(), "rebuilt from the server");
    let aside: Vec<_> = std::fs::read_dir(store.parent().expect("folder"))
        .expect("read")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
        .collect();
    assert!(
        aside
            .iter()
            .any(|e| std::fs::read(e.path()).expect("read")
                == b"this is not a database, it was damaged"),
        "the damaged file is kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_the_store_cannot_take_is_handed_back_not_promised() {
    let server = demo_server().await;
    let (_dir, store_path) = common::engine::store_file();
    let store = Store::open(&store_path)
        .and_then(|s| s.with_busy_timeout(Duration::from_millis(100)))
        .expect("open the store");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = pivotal_tui::sync::spawn(
        common::engine::engine_client(&server.url()),
        store,
        common::engine::config(),
        tx,
    );
    let mut events = Events::new(rx);
    events
        .next_matching(|e| matches!(e, SyncEvent::Finished { .. }), WAIT)
        .await;
    // Another connection holds the write lock: the outbox cannot be written.
    // (It waits its turn to take it: the engine may still be writing what
    // follows a first sync, such as the list's indexes.)
    let locker = rusqlite::Connection::open(&store_path).expect("second connection");
    locker
        .execute_batch("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE")
        .expect("take the write lock");
    let key = pivotal_tui::api::IdempotencyKey::new();
    app.send(SyncCommand::Submit {
        key: key.clone(),
        op: archive("cus_whatever"),
    });
    let event = events.next_matching(is_settled(&key), WAIT).await;
    match event {
        SyncEvent::Rejected {
            status, message, ..
        } => {
            assert_eq!(status, 0);
            assert!(message.contains("not saved"), "{message}");
        }
        other => panic!("expected the change handed back, got {other:?}"),
    }
    drop(locker);
    app.stop().await;
}
