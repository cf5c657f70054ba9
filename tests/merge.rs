//! Merges end to end: a merge submitted to the sync engine as one outbox
//! unit (`SyncCommand::SubmitUnit`: the keeper's edit, then each archive)
//! reaches a real reference server over real sockets, in order and
//! exactly once, through injected `500`s and dropped connections and
//! across a restart; a refused edit archives nothing. Nothing is mocked.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use common::engine::{
    describe, is_queued, pending_in, start_engine, start_engine_with, store_file,
};
use common::{TestServer, all_customers, client_for, fast_retry, faults};
use pivotal_tui::api::{Client, Customer, CustomerPatch, IdempotencyKey, NewCustomer, Patch};
use pivotal_tui::domain::Entry;
use pivotal_tui::domain::merge::{self, Choices, MergeField};
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
    unit_with(keeper, patch, losers)
}

/// The merge of `losers` into `keeper` with `patch` as the keeper's edit.
fn unit_with(keeper: &str, patch: CustomerPatch, losers: &[String]) -> Unit {
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
        keeper_back: None,
    }
}

fn is_settled_event(e: &SyncEvent) -> bool {
    matches!(
        e,
        SyncEvent::Delivered { .. } | SyncEvent::Rejected { .. } | SyncEvent::Waiting { .. }
    )
}

/// One merge of the faulty run: its records on the server, and what the
/// keeper must hold after it.
struct Planned {
    keeper: String,
    losers: Vec<String>,
    plan: &'static str,
    tags: Vec<String>,
    custom_fields: BTreeMap<String, String>,
}

/// Makes group `i` on the server and plans its merge by the app's rule
/// (`domain::merge`): even groups are triples, odd ones pairs; every third
/// takes its plan from a loser. The keeper has plan Starter and tag `keep`;
/// loser a has plan Scale, region EU and its own tag; loser b (triples)
/// billing_country US. The expectations are written out by hand, not read
/// back from the rule.
async fn planned_group(client: &Client, i: usize) -> (Planned, Unit) {
    let domain = format!("merge{i:02}.example");
    let triple = i.is_multiple_of(2);
    let take_plan = i.is_multiple_of(3);
    let mut bodies = vec![
        NewCustomer {
            plan: Some("Starter".into()),
            tags: vec!["keep".into()],
            ..NewCustomer::default()
        },
        NewCustomer {
            plan: Some("Scale".into()),
            tags: vec![format!("a{i}")],
            custom_fields: BTreeMap::from([("region".into(), "EU".into())]),
            ..NewCustomer::default()
        },
    ];
    if triple {
        bodies.push(NewCustomer {
            custom_fields: BTreeMap::from([("billing_country".into(), "US".into())]),
            ..NewCustomer::default()
        });
    }
    let mut made: Vec<Customer> = Vec::new();
    for (n, body) in bodies.into_iter().enumerate() {
        let body = NewCustomer {
            name: format!("{domain} record {n}"),
            domain: Some(domain.clone()),
            ..body
        };
        made.push(
            client
                .create_customer(&body, &IdempotencyKey::new())
                .await
                .expect("seed"),
        );
    }
    let entries: Vec<Entry> = made.iter().cloned().map(Entry::from).collect();
    let records: Vec<&Entry> = entries.iter().collect();
    let mut choices = Choices {
        keeper: Some(made[0].display_id),
        ..Choices::default()
    };
    if take_plan {
        choices.takes.insert(MergeField::Plan, made[1].display_id);
    }
    let order: Vec<usize> = (0..records.len()).collect();
    let merged = merge::merge(&records, &order, &choices).expect("a group");
    let losers: Vec<String> = made[1..].iter().map(|c| c.id.clone()).collect();
    let unit = unit_with(&made[0].id, merged.patch(&entries[0]), &losers);
    let mut tags = vec!["keep".to_owned(), format!("a{i}")];
    tags.sort();
    let mut custom_fields = BTreeMap::from([("region".to_owned(), "EU".to_owned())]);
    if triple {
        custom_fields.insert("billing_country".into(), "US".into());
    }
    let planned = Planned {
        keeper: made[0].id.clone(),
        losers,
        plan: if take_plan { "Scale" } else { "Starter" },
        tags,
        custom_fields,
    };
    (planned, unit)
}

/// Delivers every item of `units` through the engine on a server that
/// fails on purpose; returns the order in which the server applied them.
async fn deliver_under_faults(server: &TestServer, units: &[Unit]) -> Vec<OutboxOp> {
    let (_dir, store_path) = store_file();
    let client = client_for(&server.url()).with_retry(fast_retry(3));
    let (handle, mut rx) = start_engine_with(client, &store_path);
    let mut expected = HashSet::new();
    for unit in units {
        expected.extend(unit.items.iter().map(|(k, _)| k.clone()));
        handle.send(SyncCommand::SubmitUnit(unit.clone()));
    }
    let mut delivered = HashSet::new();
    let mut applied = Vec::new();
    while delivered.len() < expected.len() {
        match rx.next_matching(is_settled_event, FAULTY_WAIT).await {
            SyncEvent::Delivered { key, op, .. } => {
                assert!(delivered.insert(key.clone()), "{key} delivered twice");
                applied.push(op);
            }
            SyncEvent::Waiting { .. } => {}
            other => panic!("unexpected: {}", describe(&other)),
        }
    }
    handle.stop().await;
    assert_eq!(delivered, expected);
    assert!(pending_in(&store_path).is_empty(), "the outbox is empty");
    let store = Store::open(&store_path).expect("store");
    let first = &units[0];
    let loser = first.merged[0].customer_id.as_str();
    let merged = store.merged_into(loser).expect("read").expect("kept");
    assert_eq!(merged.keeper_id, first.merged[0].keeper_id);
    applied
}

/// The kinds of `id`'s history on the server, oldest first, with when.
async fn history_of(client: &Client, id: &str) -> Vec<(String, OffsetDateTime)> {
    let mut events = client.history(id).await.expect("history");
    events.reverse();
    events.into_iter().map(|e| (e.kind, e.at)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_merges_through_500s_and_dropped_connections_leave_exactly_the_planned_keepers_and_archives()
 {
    const MERGES: usize = 50;
    let server = TestServer::start().await;
    let mut plans = Vec::new();
    let mut units = Vec::new();
    for i in 0..MERGES {
        let (planned, unit) = planned_group(&server.client(), i).await;
        plans.push(planned);
        units.push(unit);
    }
    let server = server.restart(|c| c.faults = faults(0.30, 0.10)).await;
    let applied = deliver_under_faults(&server, &units).await;
    let archived_by: HashMap<&str, &str> = plans
        .iter()
        .flat_map(|p| p.losers.iter().map(|l| (l.as_str(), p.keeper.as_str())))
        .collect();
    let mut edited = HashSet::new();
    for op in &applied {
        match op {
            OutboxOp::Update { customer_id, .. } => {
                edited.insert(customer_id.as_str());
            }
            OutboxOp::Archive { customer_id } => {
                let keeper = archived_by[customer_id.as_str()];
                assert!(
                    edited.contains(keeper),
                    "{customer_id} archived before its edit"
                );
            }
            other => panic!("unexpected op {other:?}"),
        }
    }

    let server = server.restart(|_| {}).await;
    let client = server.client();
    let on_server: HashMap<String, Customer> = all_customers(&client)
        .await
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let records: usize = plans.iter().map(|p| 1 + p.losers.len()).sum();
    assert_eq!(on_server.len(), records, "nothing doubled, nothing lost");
    for planned in &plans {
        let keeper = &on_server[&planned.keeper];
        let mut tags = keeper.tags.clone();
        tags.sort();
        assert!(!keeper.archived, "{} stays live", keeper.display_id);
        assert_eq!(
            (keeper.plan.as_deref(), &tags, &keeper.custom_fields),
            (Some(planned.plan), &planned.tags, &planned.custom_fields),
            "#{}",
            keeper.display_id
        );
        // The server's own record of what happened: the edit once, then
        // each archive once, after it.
        let history = history_of(&client, &planned.keeper).await;
        let kinds: Vec<&str> = history.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["created", "updated"], "#{}", keeper.display_id);
        for loser in &planned.losers {
            assert!(on_server[loser].archived, "{loser} archived");
            let archive = history_of(&client, loser).await;
            let kinds: Vec<&str> = archive.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(kinds, ["created", "archived"], "{loser}");
            assert!(archive[1].1 > history[1].1, "{loser}: the edit came first");
        }
    }
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

/// The group of the two acme.com records, as "not a duplicate" marks it.
fn acme_pair() -> Dismissed {
    Dismissed {
        key: "acme.com".into(),
        members: vec!["cus_a".into(), "cus_b".into()],
    }
}

/// Waits until the store at `store_path` holds dismissed groups (`any`) or
/// none (`!any`), reading it the way another process would.
async fn until_dismissed(store_path: &std::path::Path, any: bool, what: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    while Store::open(store_path)
        .expect("store")
        .dismissed()
        .expect("read")
        .is_empty()
        == any
    {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_dismissed_as_not_a_duplicate_is_read_back_by_the_next_start() {
    let server = TestServer::start().await;
    let (_dir, store_path) = store_file();
    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    rx.next_matching(|e| matches!(e, SyncEvent::CacheLoaded { .. }), WAIT)
        .await;
    let group = acme_pair();
    handle.send(SyncCommand::Dismiss(group.clone()));
    until_dismissed(&store_path, true, "never written").await;
    handle.stop().await;

    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    let event = rx
        .next_matching(|e| matches!(e, SyncEvent::Dismissed { .. }), WAIT)
        .await;
    assert_eq!(
        event,
        SyncEvent::Dismissed {
            groups: vec![group],
            seen: None,
        }
    );
    handle.send(SyncCommand::Undismiss("acme.com".into()));
    until_dismissed(&store_path, false, "never forgotten").await;
    handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_dismissed_by_another_process_reaches_a_running_app_after_the_next_sync() {
    let server = TestServer::start().await;
    let (_dir, store_path) = store_file();
    let (handle, mut rx) = start_engine(&server.url(), &store_path);
    rx.next_matching(|e| matches!(e, SyncEvent::Finished { .. }), WAIT)
        .await;
    // The command line marks a group on the same account meanwhile.
    let group = acme_pair();
    Store::open(&store_path)
        .expect("store")
        .dismiss(&group, OffsetDateTime::now_utc())
        .expect("dismissed by the command line");

    handle.send(SyncCommand::Refresh);
    let event = rx
        .next_matching(
            |e| matches!(e, SyncEvent::Dismissed { groups, .. } if !groups.is_empty()),
            WAIT,
        )
        .await;
    assert_eq!(
        event,
        SyncEvent::Dismissed {
            groups: vec![group],
            seen: Some(0),
        },
        "every group the store holds, and none of this app's commands"
    );
    handle.stop().await;
}
