//! Triage of duplicate customers end to end: archiving the loser of a
//! duplicate-domain group and restoring it again, submitted to the sync
//! engine (`SyncCommand::Submit`) and delivered through its durable outbox
//! to a real reference server over real sockets on 127.0.0.1, seeded with
//! the demo account. The duplicate badges are read from a real
//! `CustomerSet` fed with what the engine reports. Nothing is mocked.
//!
//! Every wait is bounded by a generous time-out and nothing asserts on
//! elapsed time, so a loaded CI machine only makes the tests slower.

mod common;

use std::time::Duration;

use common::engine::{
    Events, cached, delivered, is_run_event, is_settled, is_waiting_or_settled, pending_in,
    start_engine, start_on, start_on_with, store_file, submit, waiting,
};
use common::{TestServer, client_for, faults};
use pivotal_tui::api::{Client, Customer, ListParams};
use pivotal_tui::domain::{CustomerSet, Entry, duplicate_key};
use pivotal_tui::server::{DEMO_CUSTOMERS, Seed};
use pivotal_tui::sync::{self, OutboxOp, SyncCommand, SyncEvent, SyncHandle};

/// How long any single expected event may take to arrive.
const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- helpers

/// The reference server seeded with the demo account (the data `--demo`
/// shows): duplicate pairs in CRM spellings and the `acme.com` triple.
async fn demo_server() -> TestServer {
    TestServer::start_with(|c| c.seed = Some(Seed::Embedded(DEMO_CUSTOMERS))).await
}

fn archive(id: &str) -> OutboxOp {
    OutboxOp::Archive {
        customer_id: id.to_owned(),
    }
}

fn restore(id: &str) -> OutboxOp {
    OutboxOp::Restore {
        customer_id: id.to_owned(),
    }
}

/// Submits `op`, waits for its delivery and returns the server's answer.
async fn deliver(handle: &SyncHandle, events: &mut Events, op: OutboxOp) -> Customer {
    let key = submit(handle, events, op.clone(), WAIT).await;
    let (got_key, got_op, customer) = delivered(events.next_matching(is_settled(&key), WAIT).await);
    assert_eq!((got_key, got_op), (key, op));
    customer
}

/// The cached set of a new engine's `CacheLoaded`, and its outbox.
async fn cache_loaded(events: &mut Events) -> (CustomerSet, Vec<sync::OutboxItem>) {
    match events
        .next_matching(|e| matches!(e, SyncEvent::CacheLoaded { .. }), WAIT)
        .await
    {
        SyncEvent::CacheLoaded {
            customers, pending, ..
        } => (*customers, pending),
        _ => unreachable!("matched CacheLoaded"),
    }
}

/// Collects the customers of one whole sync run: the next run to start,
/// or, if that one fails or is one that started before (and so was
/// forgotten), the next after `Refresh`.
async fn collect_run(handle: &SyncHandle, events: &mut Events) -> Vec<Entry> {
    let mut current = None;
    let mut customers = Vec::new();
    loop {
        match events.next_matching(is_run_event, WAIT).await {
            SyncEvent::Started { generation, .. } => {
                current = Some(generation);
                customers.clear();
            }
            SyncEvent::Page {
                generation,
                customers: page,
                ..
            } if current == Some(generation) => customers.extend(page),
            SyncEvent::Finished { generation, .. } if current == Some(generation) => {
                return customers;
            }
            SyncEvent::Finished { .. } | SyncEvent::Failed { .. } => {
                current = None;
                customers.clear();
                handle.send(SyncCommand::Refresh);
            }
            _ => {}
        }
    }
}

/// The engine's first sync from an empty store, as a `CustomerSet` like
/// the one the list shows: the (empty) cache, then every page.
async fn first_sync(handle: &SyncHandle, events: &mut Events) -> CustomerSet {
    let (mut set, pending) = cache_loaded(events).await;
    assert!(set.is_empty() && pending.is_empty(), "a fresh store");
    set.apply_entries(collect_run(handle, events).await);
    set
}

/// A sync run that starts after every event received so far (so after
/// the deliveries already reported), as the records it brought.
async fn resync(handle: &SyncHandle, events: &mut Events) -> Vec<Entry> {
    events.forget_runs();
    handle.send(SyncCommand::Refresh);
    collect_run(handle, events).await
}

/// The ids of the live customers whose domain is `domain` after
/// normalisation, by `display_id`.
fn group(set: &CustomerSet, domain: &str) -> Vec<String> {
    let key = duplicate_key(Some(domain)).expect("a domain with a key");
    set.same_domain(&key)
        .into_iter()
        .filter_map(|e| e.id().map(str::to_owned))
        .collect()
}

/// The badge beside the domain of the live customer `id`.
fn badge(set: &CustomerSet, id: &str) -> Option<usize> {
    let entry = set
        .get(id)
        .unwrap_or_else(|| panic!("{id} is not a live customer of the set"));
    set.badge(entry)
}

/// The ids the server's default list (archived customers left out) shows.
async fn listed(client: &Client) -> Vec<String> {
    let mut params = ListParams {
        limit: Some(1000),
        ..ListParams::default()
    };
    let mut ids = Vec::new();
    loop {
        let page = client.list_customers(&params).await.expect("list");
        ids.extend(page.data.into_iter().map(|c| c.id));
        match page.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => return ids,
        }
    }
}

/// The kinds of a customer's history on the server, newest first.
async fn history_kinds(client: &Client, id: &str) -> Vec<String> {
    let events = client.history(id).await.expect("history");
    events.into_iter().map(|e| e.kind).collect()
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archiving_one_of_a_duplicate_pair_archives_it_on_the_server_and_drops_the_badge() {
    let server = demo_server().await;
    let (_store_dir, store_path) = store_file();
    let (handle, mut events) = start_engine(&server.url(), &store_path);
    let mut set = first_sync(&handle, &mut events).await;
    let duplicate_domains = set.duplicate_domains();

    // `globex.io` and `https://globex.io/`: one company, two records.
    let pair = group(&set, "globex.io");
    let [keeper, loser] = &pair[..] else {
        panic!("the demo has a globex.io pair: {pair:?}")
    };
    assert_eq!(badge(&set, keeper), Some(2));
    assert_eq!(badge(&set, loser), Some(2));
    let never_saw_the_delivery = set.clone();

    let answer = deliver(&handle, &mut events, archive(loser)).await;
    assert_eq!(&answer.id, loser);
    assert!(answer.archived, "{answer:?}");

    // The server has it archived, and its default list leaves it out.
    let client = server.client();
    let on_server = client.get_customer(loser).await.expect("get");
    assert!(on_server.archived, "{on_server:?}");
    assert_eq!(on_server, answer, "the answer is the server's record");
    let live = listed(&client).await;
    assert!(!live.contains(loser), "an archived customer is not listed");
    assert!(live.contains(keeper));

    // The delivered record takes the loser out of the set, and the keeper
    // has its domain to itself.
    let stats = set.apply([answer.clone()]);
    assert_eq!(stats.removed, 1, "{stats:?}");
    assert!(set.get(loser).is_none());
    assert_eq!(badge(&set, keeper), None);
    assert_eq!(set.duplicate_domains(), duplicate_domains - 1);

    // An incremental re-sync tells a set that never saw the delivery the
    // same thing.
    let records = resync(&handle, &mut events).await;
    assert!(
        records.iter().any(|c| &c.key == loser && c.archived),
        "the re-sync carries the archive: {records:?}"
    );
    let mut resynced = never_saw_the_delivery;
    resynced.apply_entries(records);
    assert!(resynced.get(loser).is_none());
    assert_eq!(badge(&resynced, keeper), None);
    assert_eq!(resynced.duplicate_domains(), duplicate_domains - 1);
    assert!(
        resynced == set,
        "the re-synced set shows what the other does"
    );
    handle.stop().await;

    assert!(
        pending_in(&store_path).is_empty(),
        "the archive left the outbox"
    );
    assert_eq!(
        cached(&store_path).get(loser),
        None,
        "and the loser the cache"
    );
    assert!(cached(&store_path).contains_key(keeper));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archiving_one_of_a_triple_leaves_a_badge_of_two_on_the_other_two() {
    let server = demo_server().await;
    let (_store_dir, store_path) = store_file();
    let (handle, mut events) = start_engine(&server.url(), &store_path);
    let mut set = first_sync(&handle, &mut events).await;
    let duplicate_domains = set.duplicate_domains();

    let triple = group(&set, "acme.com");
    assert_eq!(
        triple.len(),
        3,
        "the demo has an acme.com triple: {triple:?}"
    );
    let mut spellings: Vec<&str> = triple
        .iter()
        .filter_map(|id| set.get(id)?.domain.as_deref())
        .collect();
    spellings.sort_unstable();
    assert_eq!(spellings, ["Acme.com", "acme.com", "www.acme.com"]);
    for id in &triple {
        assert_eq!(badge(&set, id), Some(3), "{id}");
    }
    let never_saw_the_delivery = set.clone();
    // The `www.` spelling loses.
    let loser = triple
        .iter()
        .find(|id| set.get(*id).and_then(|e| e.domain.as_deref()) == Some("www.acme.com"))
        .expect("spelled with www.")
        .clone();
    let others: Vec<&String> = triple.iter().filter(|id| **id != loser).collect();

    let answer = deliver(&handle, &mut events, archive(&loser)).await;
    assert!(answer.archived, "{answer:?}");
    let client = server.client();
    assert!(client.get_customer(&loser).await.expect("get").archived);
    let live = listed(&client).await;
    assert!(!live.contains(&loser));
    assert!(others.iter().all(|id| live.contains(id)));

    set.apply([answer]);
    assert!(set.get(&loser).is_none());
    for id in &others {
        assert_eq!(badge(&set, id), Some(2), "{id}");
    }
    assert_eq!(
        set.duplicate_domains(),
        duplicate_domains,
        "two left: still a duplicate domain"
    );

    let mut resynced = never_saw_the_delivery;
    resynced.apply_entries(resync(&handle, &mut events).await);
    assert!(resynced.get(&loser).is_none());
    for id in &others {
        assert_eq!(badge(&resynced, id), Some(2), "{id}");
    }
    handle.stop().await;
    assert!(pending_in(&store_path).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restoring_an_archived_duplicate_brings_it_back_on_the_server_and_the_badge_returns() {
    let server = demo_server().await;
    let (_store_dir, store_path) = store_file();
    let (handle, mut events) = start_engine(&server.url(), &store_path);
    // Two views: one fed only with delivered records, one only by syncs.
    let mut from_answers = first_sync(&handle, &mut events).await;
    let mut from_syncs = from_answers.clone();

    // `hooli.com` and `hooli.com.` (a trailing dot).
    let pair = group(&from_answers, "hooli.com");
    let [keeper, loser] = &pair[..] else {
        panic!("the demo has a hooli.com pair: {pair:?}")
    };
    let client = server.client();

    let archived = deliver(&handle, &mut events, archive(loser)).await;
    assert!(archived.archived, "{archived:?}");
    from_answers.apply([archived.clone()]);
    from_syncs.apply_entries(resync(&handle, &mut events).await);
    for set in [&from_answers, &from_syncs] {
        assert!(set.get(loser).is_none());
        assert_eq!(badge(set, keeper), None);
    }
    assert!(!listed(&client).await.contains(loser));

    let restored = deliver(&handle, &mut events, restore(loser)).await;
    assert_eq!(&restored.id, loser);
    assert!(!restored.archived, "{restored:?}");
    assert!(restored.updated_at > archived.updated_at);

    // On the server: live again, listed again, and the history tells both.
    let on_server = client.get_customer(loser).await.expect("get");
    assert_eq!(on_server, restored);
    assert!(listed(&client).await.contains(loser));
    let kinds = history_kinds(&client, loser).await;
    assert_eq!(
        kinds[..2],
        ["restored", "archived"],
        "newest first: {kinds:?}"
    );
    assert_eq!(count(&kinds, "archived"), 1, "{kinds:?}");
    assert_eq!(count(&kinds, "restored"), 1, "{kinds:?}");

    // The badge comes back, whether the set learns it from the answer or
    // from a re-sync.
    from_answers.apply([restored.clone()]);
    let records = resync(&handle, &mut events).await;
    assert!(
        records.iter().any(|c| *c == Entry::from(restored.clone())),
        "the re-sync carries the restore: {records:?}"
    );
    from_syncs.apply_entries(records);
    for set in [&from_answers, &from_syncs] {
        assert!(set.get(loser).is_some(), "{loser} is back");
        assert_eq!(badge(set, keeper), Some(2));
        assert_eq!(badge(set, loser), Some(2));
    }
    handle.stop().await;

    assert!(pending_in(&store_path).is_empty());
    assert_eq!(
        cached(&store_path).get(loser),
        Some(&restored),
        "cached again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_made_while_the_server_is_down_survives_an_engine_restart_and_is_delivered_once()
{
    let TestServer { server, dir } = demo_server().await;
    let addr = server.addr();
    let url = server.url();
    let (_store_dir, store_path) = store_file();
    let (handle, mut events) = start_engine(&url, &store_path);
    let set = first_sync(&handle, &mut events).await;
    // `initech.com` and `Initech.COM`.
    let pair = group(&set, "initech.com");
    let [keeper, loser] = &pair[..] else {
        panic!("the demo has an initech.com pair: {pair:?}")
    };

    server.shutdown().await;
    let op = archive(loser);
    let key = submit(&handle, &mut events, op.clone(), WAIT).await;
    let (waiting_key, reason) = waiting(
        events
            .next_matching(is_waiting_or_settled(&key), WAIT)
            .await,
    );
    assert_eq!(waiting_key, key);
    assert!(reason.contains("refused"), "{reason}");
    handle.stop().await;
    assert_eq!(pending_in(&store_path), vec![key.clone()], "kept on disk");

    // A new engine on the same store, still offline: the archive is there,
    // and nothing was dropped from the cache before the server agreed.
    let (handle, mut events) = start_engine(&url, &store_path);
    let (cached_set, pending) = cache_loaded(&mut events).await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!((&pending[0].key, &pending[0].op), (&key, &op));
    assert!(pending[0].attempts >= 1, "{:?}", pending[0]);
    assert_eq!(badge(&cached_set, keeper), Some(2));
    assert_eq!(badge(&cached_set, loser), Some(2));
    let (waiting_key, _) = waiting(
        events
            .next_matching(is_waiting_or_settled(&key), WAIT)
            .await,
    );
    assert_eq!(waiting_key, key, "the new engine tries it");

    // The server comes back where it was; the back-off alone brings the
    // next try.
    let server = start_on(&dir, addr).await;
    let (_, got_op, answer) = delivered(events.next_matching(is_settled(&key), WAIT).await);
    assert_eq!(got_op, op);
    assert!(answer.archived, "{answer:?}");
    handle.stop().await;
    assert!(pending_in(&store_path).is_empty());

    let client = client_for(&server.url());
    assert!(client.get_customer(loser).await.expect("get").archived);
    assert!(!listed(&client).await.contains(loser));
    let kinds = history_kinds(&client, loser).await;
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("archived"),
        "{kinds:?}"
    );
    assert_eq!(
        count(&kinds, "archived"),
        1,
        "archived exactly once: {kinds:?}"
    );

    // The next start shows the cache without the loser, the badge gone,
    // and sends nothing again.
    let (handle, mut events) = start_engine(&server.url(), &store_path);
    let (cached_set, pending) = cache_loaded(&mut events).await;
    assert!(pending.is_empty(), "{pending:?}");
    assert!(cached_set.get(loser).is_none());
    assert_eq!(badge(&cached_set, keeper), None);
    collect_run(&handle, &mut events).await;
    handle.stop().await;
    assert_eq!(history_kinds(&client, loser).await, kinds);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_and_a_restore_made_offline_are_delivered_in_order_and_leave_the_customer_live()
{
    let TestServer { server, dir } = demo_server().await;
    let addr = server.addr();
    let (_store_dir, store_path) = store_file();
    let (handle, mut events) = start_engine(&server.url(), &store_path);
    let mut set = first_sync(&handle, &mut events).await;
    // `vandelay.com` and ` vandelay.com ` (spaces around it).
    let pair = group(&set, "vandelay.com");
    let [keeper, loser] = &pair[..] else {
        panic!("the demo has a vandelay.com pair: {pair:?}")
    };

    // Offline: the server now answers every request with a 500 and
    // carries none of them out.
    server.shutdown().await;
    let server = start_on_with(&dir, addr, |c| c.faults = faults(1.0, 0.0)).await;
    let archive_key = submit(&handle, &mut events, archive(loser), WAIT).await;
    let restore_key = submit(&handle, &mut events, restore(loser), WAIT).await;
    let (waiting_key, reason) = waiting(
        events
            .next_matching(is_waiting_or_settled(&archive_key), WAIT)
            .await,
    );
    assert_eq!(
        waiting_key, archive_key,
        "the head waits, first in first out"
    );
    assert!(reason.contains("500"), "{reason}");
    assert_eq!(
        pending_in(&store_path),
        vec![archive_key.clone(), restore_key.clone()]
    );

    server.shutdown().await;
    let server = start_on(&dir, addr).await;
    let either = |e: &SyncEvent| is_settled(&archive_key)(e) || is_settled(&restore_key)(e);
    let (first_key, first_op, archived) = delivered(events.next_matching(either, WAIT).await);
    assert_eq!(first_key, archive_key, "the archive is delivered first");
    assert_eq!(first_op, archive(loser));
    assert!(archived.archived, "{archived:?}");
    let (_, second_op, restored) =
        delivered(events.next_matching(is_settled(&restore_key), WAIT).await);
    assert_eq!(second_op, restore(loser));
    assert!(!restored.archived, "{restored:?}");
    assert!(restored.updated_at > archived.updated_at);

    // Applied in the order delivered, the set ends where it began.
    set.apply([archived]);
    assert_eq!(badge(&set, keeper), None);
    set.apply([restored.clone()]);
    assert_eq!(badge(&set, keeper), Some(2));
    assert_eq!(badge(&set, loser), Some(2));
    let records = resync(&handle, &mut events).await;
    assert!(
        records.iter().any(|c| *c == Entry::from(restored.clone())),
        "the re-sync carries the restore: {records:?}"
    );
    set.apply_entries(records);
    assert_eq!(badge(&set, keeper), Some(2));
    assert_eq!(badge(&set, loser), Some(2));
    handle.stop().await;

    let client = client_for(&server.url());
    let on_server = client.get_customer(loser).await.expect("get");
    assert_eq!(on_server, restored, "live on the server");
    assert!(listed(&client).await.contains(loser));
    let kinds = history_kinds(&client, loser).await;
    assert_eq!(
        kinds[..2],
        ["restored", "archived"],
        "newest first: {kinds:?}"
    );
    assert_eq!(count(&kinds, "archived"), 1, "{kinds:?}");
    assert_eq!(count(&kinds, "restored"), 1, "{kinds:?}");
    assert!(pending_in(&store_path).is_empty());
    assert_eq!(cached(&store_path).get(loser), Some(&restored));
    server.shutdown().await;
}
