//! The outbox end to end: changes submitted to the sync engine
//! (`SyncCommand::Submit`) reach a real reference server over real sockets
//! on 127.0.0.1, exactly once, through outages, faults, quits and crashes.
//! Nothing is mocked.
//!
//! Every wait is bounded by a generous time-out and nothing asserts on
//! elapsed time, so a loaded CI machine only makes the tests slower.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use common::engine::{
    cached, config, delivered, describe, is_queued, is_settled, is_waiting_or_settled, pending_in,
    start_engine, start_engine_with, start_on, store_file, submit,
};
use common::{TestServer, all_customers, client_for, fast_retry, faults};
use pivotal_tui::api::{
    ApiKey, Client, Customer, CustomerPatch, IdempotencyKey, NewCustomer, Patch, Source,
};
use pivotal_tui::domain::normalize_domain;
use pivotal_tui::store::Store;
use pivotal_tui::sync::{OutboxOp, SyncCommand, SyncEvent};
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// How long any single expected event may take to arrive.
const WAIT: Duration = Duration::from_secs(30);
/// For everything sent through a server that fails 40% of requests.
const FAULTY_WAIT: Duration = Duration::from_secs(180);
/// The user that owns the reference server's API key.
const ME: &str = "usr_8f3c21";

// ---------------------------------------------------------------- helpers

fn create(name: &str) -> OutboxOp {
    OutboxOp::Create {
        customer: NewCustomer {
            name: name.to_owned(),
            ..NewCustomer::default()
        },
    }
}

/// Every customer on the server (archived too) named `name`.
async fn named(client: &Client, name: &str) -> Vec<Customer> {
    all_customers(client)
        .await
        .into_iter()
        .filter(|c| c.name == name)
        .collect()
}

/// The URL of a server that has just stopped: connections are refused.
async fn dead_url() -> String {
    let server = TestServer::start().await;
    let url = server.url();
    server.server.shutdown().await;
    url
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_is_made_once_with_its_normalised_domain_and_comes_back_with_its_display_id() {
    let server = TestServer::start_with(|c| c.generate = Some(20)).await;
    let (_store_dir, store_path) = store_file();
    let (handle, mut rx) = start_engine(&server.url(), &store_path);

    let domain = normalize_domain("https://www.Outbox-Acme.COM/pricing").expect("valid");
    assert_eq!(domain.as_deref(), Some("outbox-acme.com"));
    let op = OutboxOp::Create {
        customer: NewCustomer {
            name: "Outbox Acme".into(),
            domain: domain.clone(),
            plan: Some("Growth".into()),
            tags: vec!["beta".into()],
            custom_fields: BTreeMap::from([("region".into(), "EMEA".into())]),
            owner_id: None,
        },
    };
    let key = submit(&handle, &mut rx, op.clone(), WAIT).await;
    let (got_key, got_op, customer) = delivered(rx.next_matching(is_settled(&key), WAIT).await);
    handle.stop().await;

    assert_eq!((got_key, got_op), (key, op));
    assert!(customer.id.starts_with("cus_"), "{customer:?}");
    assert!(
        customer.display_id > 20,
        "after the 20 generated: {customer:?}"
    );
    assert_eq!(customer.domain, domain);
    assert_eq!(
        customer.owner_id.as_deref(),
        Some(ME),
        "owner defaults to me"
    );
    assert_eq!(customer.source, Source::Api);
    let client = server.client();
    assert_eq!(named(&client, "Outbox Acme").await, vec![customer.clone()]);
    assert_eq!(
        client.get_customer(&customer.id).await.expect("get"),
        customer
    );

    assert!(
        pending_in(&store_path).is_empty(),
        "the item left the outbox"
    );
    assert_eq!(cached(&store_path).get(&customer.id), Some(&customer));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_the_server_refuses_comes_back_whole_and_leaves_the_outbox() {
    let server = TestServer::start().await;
    let (_store_dir, store_path) = store_file();
    let (handle, mut rx) = start_engine(&server.url(), &store_path);

    let bad_owner = OutboxOp::Create {
        customer: NewCustomer {
            name: "Nobody's Customer".into(),
            domain: Some("nobody.example".into()),
            owner_id: Some("usr_nobody".into()),
            plan: Some("Enterprise".into()),
            tags: vec!["vip".into()],
            custom_fields: BTreeMap::from([("seats".into(), "40".into())]),
        },
    };
    let bad_domain = OutboxOp::Create {
        customer: NewCustomer {
            name: "No Dot".into(),
            domain: Some("nodot".into()),
            ..NewCustomer::default()
        },
    };
    let missing = OutboxOp::Archive {
        customer_id: "cus_does_not_exist".into(),
    };
    // Queued behind the refused ones: a refusal must not hold it up.
    let fine = create("Fine After Refusals");
    let mut keys = Vec::new();
    for op in [&bad_owner, &bad_domain, &missing, &fine] {
        keys.push(submit(&handle, &mut rx, op.clone(), WAIT).await);
    }

    let mut outcomes = Vec::new();
    for key in &keys {
        outcomes.push(rx.next_matching(is_settled(key), WAIT).await);
    }
    handle.stop().await;

    let expected = [
        (&bad_owner, 422, Some("owner_id")),
        (&bad_domain, 422, Some("domain")),
        (&missing, 404, Some("id")),
    ];
    for (outcome, (op, status, param)) in outcomes.iter().zip(expected) {
        match outcome {
            SyncEvent::Rejected {
                op: got,
                status: got_status,
                message,
                param: got_param,
                ..
            } => {
                assert_eq!(got, op, "everything the user entered comes back");
                assert_eq!(*got_status, status, "{message}");
                assert_eq!(got_param.as_deref(), param, "{message}");
                assert!(!message.is_empty());
            }
            other => panic!("expected Rejected, got {}", describe(other)),
        }
    }
    let (_, _, made) = delivered(outcomes[3].clone());

    assert!(pending_in(&store_path).is_empty(), "nothing left to send");
    let on_server = all_customers(&server.client()).await;
    assert_eq!(on_server, vec![made], "only the valid create was made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_made_while_the_server_is_down_is_delivered_once_when_it_comes_back() {
    let TestServer { server, dir } = TestServer::start().await;
    let addr = server.addr();
    server.shutdown().await;
    let (_store_dir, store_path) = store_file();
    let (handle, mut rx) = start_engine(&format!("http://{addr}"), &store_path);

    let key = IdempotencyKey::new();
    let op = create("Made Offline");
    handle.send(SyncCommand::Submit {
        key: key.clone(),
        op: op.clone(),
    });
    rx.next_matching(is_queued(&key), WAIT).await;
    // Two waits prove the engine keeps trying while the server is down.
    for _ in 0..2 {
        let waiting = rx.next_matching(is_waiting_or_settled(&key), WAIT).await;
        match waiting {
            SyncEvent::Waiting {
                key: k,
                reason,
                retry_in,
            } => {
                assert_eq!(k, key);
                assert!(reason.contains("refused"), "{reason}");
                assert!(!retry_in.is_zero());
                assert!(retry_in <= config().retry_max, "{retry_in:?}");
            }
            other => panic!("settled while the server was down: {}", describe(&other)),
        }
    }
    // Another connection can read the file while the engine runs (WAL):
    // the waiting create is on disk already.
    assert_eq!(pending_in(&store_path), vec![key.clone()]);

    let server = start_on(&dir, addr).await;
    // No command from the test: the back-off alone brings the next try.
    let (_, got_op, customer) = delivered(rx.next_matching(is_settled(&key), WAIT).await);
    handle.stop().await;

    assert_eq!(got_op, op);
    let client = client_for(&server.url());
    assert_eq!(named(&client, "Made Offline").await, vec![customer]);
    assert!(pending_in(&store_path).is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_sent_before_a_crash_is_replayed_with_its_key_and_not_made_twice() {
    let server = TestServer::start().await;
    let (_store_dir, store_path) = store_file();
    let key = IdempotencyKey::new();
    let new = NewCustomer {
        name: "Sent Before The Crash".into(),
        domain: Some("crash.example".into()),
        tags: vec!["replay".into()],
        ..NewCustomer::default()
    };
    let op = OutboxOp::Create {
        customer: new.clone(),
    };
    // The engine stored the create...
    let mut store = Store::open(&store_path).expect("open the store");
    store
        .outbox_push(&key, &op, OffsetDateTime::now_utc())
        .expect("push");
    drop(store);
    // ...sent it, and the server made it, but the app died before it could
    // record the answer.
    let first = server
        .client()
        .create_customer(&new, &key)
        .await
        .expect("the first attempt");

    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    match rx
        .next_matching(|e| matches!(e, SyncEvent::CacheLoaded { .. }), WAIT)
        .await
    {
        SyncEvent::CacheLoaded { pending, .. } => {
            assert_eq!(pending.len(), 1);
            assert_eq!((&pending[0].key, &pending[0].op), (&key, &op));
        }
        _ => unreachable!("matched CacheLoaded"),
    }
    let (_, _, replayed) = delivered(rx.next_matching(is_settled(&key), WAIT).await);
    handle.stop().await;

    assert_eq!(
        replayed, first,
        "the server answered with the first customer"
    );
    assert_eq!(
        named(&server.client(), "Sent Before The Crash").await,
        vec![first]
    );
    assert!(pending_in(&store_path).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_creates_through_a_faulty_server_make_exactly_a_hundred_customers() {
    const CREATES: usize = 100;
    let server = TestServer::start_with(|c| c.faults = faults(0.30, 0.10)).await;
    let (_store_dir, store_path) = store_file();
    // Three attempts per request: about one create in sixteen exhausts them
    // and waits for the engine's own retry.
    let client = client_for(&server.url()).with_retry(fast_retry(3));
    let (handle, mut rx) = start_engine_with(client, &store_path);

    let mut keys = Vec::new();
    for i in 0..CREATES {
        let key = IdempotencyKey::new();
        handle.send(SyncCommand::Submit {
            key: key.clone(),
            op: create(&format!("Faulty {i:03}")),
        });
        keys.push(key);
    }
    let mut delivered_ids = HashMap::new();
    let mut waits = 0;
    while delivered_ids.len() < CREATES {
        let event = rx
            .next_matching(
                |e| {
                    matches!(
                        e,
                        SyncEvent::Delivered { .. }
                            | SyncEvent::Rejected { .. }
                            | SyncEvent::Waiting { .. }
                    )
                },
                FAULTY_WAIT,
            )
            .await;
        match event {
            SyncEvent::Delivered { key, op, customer } => {
                let OutboxOp::Create { customer: new } = op else {
                    panic!("only creates were submitted")
                };
                assert_eq!(customer.name, new.name);
                let before = delivered_ids.insert(key.clone(), customer.id);
                assert_eq!(before, None, "{key} delivered twice");
            }
            SyncEvent::Waiting { .. } => waits += 1,
            other => panic!("unexpected: {}", describe(&other)),
        }
    }
    handle.stop().await;
    eprintln!("{CREATES} creates delivered; the engine waited {waits} times");

    assert_eq!(
        delivered_ids.keys().cloned().collect::<HashSet<_>>(),
        keys.iter().cloned().collect::<HashSet<_>>()
    );
    let distinct: BTreeSet<&String> = delivered_ids.values().collect();
    assert_eq!(distinct.len(), CREATES, "every Delivered has its own id");
    assert!(pending_in(&store_path).is_empty());

    // Read the truth without faults.
    let server = server.restart(|_| {}).await;
    let on_server = all_customers(&server.client()).await;
    assert_eq!(on_server.len(), CREATES, "no duplicate, none missing");
    let names: BTreeSet<&str> = on_server.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), CREATES);
    assert_eq!(
        on_server.iter().map(|c| &c.id).collect::<BTreeSet<_>>(),
        distinct
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_left_waiting_at_quit_are_delivered_once_by_the_next_start() {
    let (_store_dir, store_path) = store_file();
    let (handle, mut rx) = start_engine(&dead_url().await, &store_path);
    let first = submit(&handle, &mut rx, create("Left At Quit"), WAIT).await;
    rx.next_matching(|e| matches!(e, SyncEvent::Waiting { .. }), WAIT)
        .await;
    // Sent just before quitting, without waiting for it to be queued.
    let second = IdempotencyKey::new();
    handle.send(SyncCommand::Submit {
        key: second.clone(),
        op: create("Sent While Quitting"),
    });
    handle.stop().await;
    assert_eq!(pending_in(&store_path), vec![first.clone(), second.clone()]);

    let server = TestServer::start().await;
    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    match rx
        .next_matching(|e| matches!(e, SyncEvent::CacheLoaded { .. }), WAIT)
        .await
    {
        SyncEvent::CacheLoaded { pending, .. } => {
            let keys: Vec<_> = pending.iter().map(|item| item.key.clone()).collect();
            assert_eq!(keys, vec![first.clone(), second.clone()]);
            assert_eq!(pending[0].op, create("Left At Quit"));
            assert!(pending[0].attempts >= 1, "{:?}", pending[0]);
            assert!(
                pending[0]
                    .last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("refused")),
                "{:?}",
                pending[0]
            );
        }
        _ => unreachable!("matched CacheLoaded"),
    }
    let (_, _, a) = delivered(rx.next_matching(is_settled(&first), WAIT).await);
    let (_, _, b) = delivered(rx.next_matching(is_settled(&second), WAIT).await);
    handle.stop().await;

    let client = server.client();
    assert_eq!(named(&client, "Left At Quit").await, vec![a]);
    assert_eq!(named(&client, "Sent While Quitting").await, vec![b]);
    assert_eq!(all_customers(&client).await.len(), 2);
    assert!(pending_in(&store_path).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_archives_and_restores_are_delivered_in_order_and_reach_the_server() {
    let server = TestServer::start().await;
    let (_store_dir, store_path) = store_file();
    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    let client = server.client();
    let made_elsewhere = client
        .create_customer(
            &NewCustomer {
                name: "Kept Then Archived".into(),
                ..NewCustomer::default()
            },
            &IdempotencyKey::new(),
        )
        .await
        .expect("create");

    let key = submit(
        &handle,
        &mut rx,
        OutboxOp::Create {
            customer: NewCustomer {
                name: "To Be Edited".into(),
                domain: Some("edit.example".into()),
                plan: Some("Starter".into()),
                ..NewCustomer::default()
            },
        },
        WAIT,
    )
    .await;
    let (_, _, made) = delivered(rx.next_matching(is_settled(&key), WAIT).await);
    let id = made.id.clone();

    let patch = CustomerPatch {
        name: Some("Edited Offline Ltd".into()),
        domain: Patch::Set("edited.example".into()),
        plan: Patch::Clear,
        owner_id: Patch::Set("usr_2b7e90".into()),
        tags: Some(vec!["renewal".into()]),
        custom_fields: None,
    };
    // Submitted back to back: the outbox keeps their order.
    let ops = [
        OutboxOp::Update {
            customer_id: id.clone(),
            patch,
        },
        OutboxOp::Archive {
            customer_id: id.clone(),
        },
        OutboxOp::Restore {
            customer_id: id.clone(),
        },
        OutboxOp::Archive {
            customer_id: made_elsewhere.id.clone(),
        },
    ];
    let mut keys = Vec::new();
    for op in &ops {
        keys.push(submit(&handle, &mut rx, op.clone(), WAIT).await);
    }
    let mut answers = Vec::new();
    for (key, op) in keys.iter().zip(&ops) {
        let (_, got_op, customer) = delivered(rx.next_matching(is_settled(key), WAIT).await);
        assert_eq!(&got_op, op);
        answers.push(customer);
    }
    handle.stop().await;

    let [updated, archived, restored, other_archived] = &answers[..] else {
        unreachable!("four answers")
    };
    assert_eq!(updated.name, "Edited Offline Ltd");
    assert_eq!(updated.domain.as_deref(), Some("edited.example"));
    assert_eq!(updated.plan, None, "null clears the plan");
    assert_eq!(updated.owner_id.as_deref(), Some("usr_2b7e90"));
    assert_eq!(updated.tags, vec!["renewal".to_owned()]);
    assert!(!updated.archived);
    assert!(archived.archived);
    assert!(!restored.archived);
    assert_eq!(restored.name, "Edited Offline Ltd", "the edit survives");
    assert!(other_archived.archived);

    let on_server = client.get_customer(&id).await.expect("get");
    assert_eq!(&on_server, restored);
    let kinds: Vec<String> = client
        .history(&id)
        .await
        .expect("history")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["restored", "archived", "updated", "created"]);
    assert!(
        client
            .get_customer(&made_elsewhere.id)
            .await
            .expect("get")
            .archived
    );

    let cache = cached(&store_path);
    assert_eq!(
        cache.get(&id),
        Some(restored),
        "the cache has the last answer"
    );
    assert!(
        !cache.contains_key(&made_elsewhere.id),
        "an archived customer leaves the cache"
    );
    assert!(pending_in(&store_path).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_api_key_keeps_the_change_waiting_until_a_good_key_sends_it() {
    let server = TestServer::start().await;
    let (_store_dir, store_path) = store_file();
    let wrong = ApiKey::new("pk_test_not_the_right_key".to_owned()).expect("key");
    let client = Client::new(&server.url(), wrong)
        .expect("client")
        .with_retry(fast_retry(2));
    let (handle, mut rx) = start_engine_with(client, &store_path);
    let key = submit(&handle, &mut rx, create("Kept Through A Bad Key"), WAIT).await;
    match rx.next_matching(is_waiting_or_settled(&key), WAIT).await {
        SyncEvent::Waiting { key: k, reason, .. } => {
            assert_eq!(k, key);
            assert_eq!(reason, "the API key was refused");
        }
        other => panic!("expected Waiting, got {}", describe(&other)),
    }
    handle.stop().await;
    assert_eq!(
        pending_in(&store_path),
        vec![key.clone()],
        "the work is kept"
    );

    // The user fixes the key: the same item goes through.
    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    let (_, _, customer) = delivered(rx.next_matching(is_settled(&key), WAIT).await);
    handle.stop().await;
    assert_eq!(
        named(&server.client(), "Kept Through A Bad Key").await,
        vec![customer]
    );
}

/// `stop()` while a create is on the wire: once it returns, no task of the
/// engine is left (the event channel is closed), and whether or not the
/// server carried the request out, the next start makes the customer
/// exist exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_with_a_create_on_the_wire_lets_go_at_once_and_the_next_start_finishes_it() {
    let server = TestServer::start_with(|c| c.faults.latency = Duration::from_secs(3)).await;
    let (_store_dir, store_path) = store_file();
    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    let key = submit(&handle, &mut rx, create("On The Wire"), WAIT).await;
    handle.stop().await;
    loop {
        match rx.try_recv() {
            Ok(_) => continue,
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            Err(mpsc::error::TryRecvError::Empty) => {
                panic!("stop() returned while a task of the engine still held the event sender")
            }
        }
    }
    let still_pending = pending_in(&store_path).contains(&key);

    let server = server.restart(|_| {}).await;
    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    if still_pending {
        rx.next_matching(is_settled(&key), WAIT).await;
    }
    handle.stop().await;
    assert_eq!(named(&server.client(), "On The Wire").await.len(), 1);
    assert!(pending_in(&store_path).is_empty());
}
