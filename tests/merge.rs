//! Merges end to end: a merge submitted to the sync engine as one outbox
//! unit (`SyncCommand::SubmitUnit`: the keeper's edit, then each archive)
//! reaches a real reference server over real sockets, in order and
//! exactly once, through injected `500`s and dropped connections and
//! across a restart; a refused edit archives nothing. Nothing is mocked.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::engine::{
    describe, is_queued, pending_in, start_engine, start_engine_with, store_file,
};
use common::{TestServer, all_customers, client_for, fast_retry, faults};
use pivotal_tui::api::{Client, CustomerPatch, IdempotencyKey, NewCustomer, Patch};
use pivotal_tui::store::Store;
use pivotal_tui::sync::{Dismissed, MergedInto, OutboxOp, SyncCommand, SyncEvent, Unit};
use time::OffsetDateTime;

const WAIT: Duration = Duration::from_secs(30);
const FAULTY_WAIT: Duration = Duration::from_secs(180);

/// Makes a keeper and two losers sharing `domain`; returns their ids.
async fn group(client: &Client, domain: &str) -> (String, Vec<String>) {
    let mut ids = Vec::new();
    for role in ["keeper", "loser a", "loser b"] {
        let made = client
            .create_customer(
                &NewCustomer {
                    name: format!("{domain} {role}"),
                    domain: Some(domain.to_owned()),
                    ..NewCustomer::default()
                },
                &IdempotencyKey::new(),
            )
            .await
            .expect("seed");
        ids.push(made.id);
    }
    let keeper = ids.remove(0);
    (keeper, ids)
}

/// The merge of `losers` into `keeper`, setting its plan and a tag.
fn merge_unit(keeper: &str, losers: &[String]) -> Unit {
    let patch = CustomerPatch {
        plan: Patch::Set("Growth".into()),
        tags: Some(vec!["self-serve".into()]),
        ..CustomerPatch::default()
    };
    let mut items = vec![(
        IdempotencyKey::new(),
        OutboxOp::Update {
            customer_id: keeper.to_owned(),
            patch,
        },
    )];
    items.extend(losers.iter().map(|id| {
        (
            IdempotencyKey::new(),
            OutboxOp::Archive {
                customer_id: id.clone(),
            },
        )
    }));
    Unit {
        id: IdempotencyKey::new(),
        items,
        merged: losers
            .iter()
            .map(|id| MergedInto {
                customer_id: id.clone(),
                keeper_id: keeper.to_owned(),
                keeper_display_id: 1,
                at: OffsetDateTime::now_utc(),
            })
            .collect(),
        unmerged: Vec::new(),
    }
}

fn is_settled_event(e: &SyncEvent) -> bool {
    matches!(
        e,
        SyncEvent::Delivered { .. } | SyncEvent::Rejected { .. } | SyncEvent::Waiting { .. }
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merges_through_500s_and_dropped_connections_leave_exactly_the_planned_keepers_and_archives()
 {
    const MERGES: usize = 12;
    let server = TestServer::start().await;
    let mut groups = Vec::new();
    for i in 0..MERGES {
        groups.push(group(&server.client(), &format!("merge{i:02}.example")).await);
    }
    let server = server.restart(|c| c.faults = faults(0.30, 0.10)).await;
    let (_dir, store_path) = store_file();
    let client = client_for(&server.url()).with_retry(fast_retry(3));
    let (handle, mut rx) = start_engine_with(client, &store_path);
    let mut expected = HashSet::new();
    for (keeper, losers) in &groups {
        let unit = merge_unit(keeper, losers);
        expected.extend(unit.items.iter().map(|(k, _)| k.clone()));
        handle.send(SyncCommand::SubmitUnit(unit));
    }
    let mut delivered = HashSet::new();
    let mut last_archived_after_edit = true;
    let mut edited: HashSet<String> = HashSet::new();
    while delivered.len() < expected.len() {
        match rx.next_matching(is_settled_event, FAULTY_WAIT).await {
            SyncEvent::Delivered { key, op, customer } => {
                assert!(delivered.insert(key.clone()), "{key} delivered twice");
                match op {
                    OutboxOp::Update { customer_id, .. } => {
                        edited.insert(customer_id);
                        assert_eq!(customer.plan.as_deref(), Some("Growth"));
                    }
                    OutboxOp::Archive { customer_id } => {
                        let keeper = groups
                            .iter()
                            .find(|(_, losers)| losers.contains(&customer_id))
                            .map(|(k, _)| k.clone())
                            .expect("a loser");
                        last_archived_after_edit &= edited.contains(&keeper);
                    }
                    other => panic!("unexpected op {other:?}"),
                }
            }
            SyncEvent::Waiting { .. } => {}
            other => panic!("unexpected: {}", describe(&other)),
        }
    }
    handle.stop().await;
    assert!(last_archived_after_edit, "each edit before its archives");
    assert_eq!(delivered, expected);
    assert!(pending_in(&store_path).is_empty());

    let server = server.restart(|_| {}).await;
    let on_server = all_customers(&server.client()).await;
    assert_eq!(on_server.len(), 3 * MERGES, "nothing doubled, nothing lost");
    for (keeper, losers) in &groups {
        let k = on_server.iter().find(|c| &c.id == keeper).expect("keeper");
        assert!(!k.archived);
        assert_eq!(
            (k.plan.as_deref(), k.tags.clone()),
            (Some("Growth"), vec!["self-serve".to_owned()])
        );
        for loser in losers {
            let l = on_server.iter().find(|c| &c.id == loser).expect("loser");
            assert!(l.archived, "{loser} archived");
        }
    }
    let store = Store::open(&store_path).expect("store");
    let (keeper, losers) = &groups[0];
    let merged = store.merged_into(&losers[0]).expect("read").expect("kept");
    assert_eq!(&merged.keeper_id, keeper);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_edit_archives_nothing_and_reports_every_item_of_the_merge() {
    let server = TestServer::start().await;
    let (_keeper, losers) = group(&server.client(), "refused.example").await;
    let (_dir, store_path) = store_file();
    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    let unit = merge_unit("cus_does_not_exist", &losers);
    handle.send(SyncCommand::SubmitUnit(unit.clone()));
    let mut refused = Vec::new();
    while refused.len() < unit.items.len() {
        match rx.next_matching(is_settled_event, WAIT).await {
            SyncEvent::Rejected { key, status, .. } => refused.push((key, status)),
            other => panic!("unexpected: {}", describe(&other)),
        }
    }
    handle.stop().await;
    assert_eq!(refused[0], (unit.items[0].0.clone(), 404), "the edit first");
    assert!(refused[1..].iter().all(|(_, status)| *status == 0));
    assert!(pending_in(&store_path).is_empty());
    let on_server = all_customers(&server.client()).await;
    assert!(
        on_server.iter().all(|c| !c.archived),
        "nothing was archived"
    );
    let store = Store::open(&store_path).expect("store");
    assert_eq!(store.merged_into(&losers[0]).expect("read"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_queued_while_offline_is_delivered_once_by_the_next_start() {
    let server = TestServer::start().await;
    let (keeper, losers) = group(&server.client(), "offline.example").await;
    let (_dir, store_path) = store_file();
    let dead = {
        let down = TestServer::start().await;
        let url = down.url();
        down.server.shutdown().await;
        url
    };
    let (handle, mut rx) = start_engine(&dead, &store_path);
    let unit = merge_unit(&keeper, &losers);
    handle.send(SyncCommand::SubmitUnit(unit.clone()));
    for (key, _) in &unit.items {
        rx.next_matching(is_queued(key), WAIT).await;
    }
    handle.stop().await;
    assert_eq!(
        pending_in(&store_path).len(),
        3,
        "kept whole across the quit"
    );

    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    let mut delivered = HashSet::new();
    while delivered.len() < unit.items.len() {
        match rx.next_matching(is_settled_event, WAIT).await {
            SyncEvent::Delivered { key, .. } => assert!(delivered.insert(key)),
            SyncEvent::Waiting { .. } => {}
            other => panic!("unexpected: {}", describe(&other)),
        }
    }
    handle.stop().await;
    let on_server = all_customers(&server.client()).await;
    assert_eq!(on_server.iter().filter(|c| c.archived).count(), 2);
    let k = on_server.iter().find(|c| c.id == keeper).expect("keeper");
    assert_eq!(k.plan.as_deref(), Some("Growth"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_dismissed_as_not_a_duplicate_is_read_back_by_the_next_start() {
    let server = TestServer::start().await;
    let (_dir, store_path) = store_file();
    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    rx.next_matching(|e| matches!(e, SyncEvent::CacheLoaded { .. }), WAIT)
        .await;
    let group = Dismissed {
        key: "acme.com".into(),
        members: vec!["cus_a".into(), "cus_b".into()],
    };
    handle.send(SyncCommand::Dismiss(group.clone()));
    let deadline = std::time::Instant::now() + WAIT;
    while Store::open(&store_path)
        .expect("store")
        .dismissed()
        .expect("read")
        .is_empty()
    {
        assert!(std::time::Instant::now() < deadline, "never written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.stop().await;

    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    let event = rx
        .next_matching(|e| matches!(e, SyncEvent::Dismissed { .. }), WAIT)
        .await;
    assert_eq!(
        event,
        SyncEvent::Dismissed {
            groups: vec![group]
        }
    );
    handle.send(SyncCommand::Undismiss("acme.com".into()));
    let deadline = std::time::Instant::now() + WAIT;
    while !Store::open(&store_path)
        .expect("store")
        .dismissed()
        .expect("read")
        .is_empty()
    {
        assert!(std::time::Instant::now() < deadline, "never forgotten");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.stop().await;
}
