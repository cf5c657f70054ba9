//! The sync engine (`pivotal_tui::sync`) end to end: a real reference server
//! over real sockets on 127.0.0.1, a real store file, and the engine's
//! events. Nothing is mocked.
//!
//! Every wait is bounded by a generous time-out and nothing asserts on
//! elapsed time, so a loaded CI machine only makes the tests slower.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use common::engine::{
    describe, engine_client, skip_until_matching, spawn_engine, start_on, store_file,
};
use common::{KEY, TestServer, all_customers, client_for, faults};
use pivotal_tui::api::{Client, Customer, CustomerPatch, IdempotencyKey, NewCustomer};
use pivotal_tui::domain::Entry;
use pivotal_tui::server::{self, ServerConfig};
use pivotal_tui::store::Store;
use pivotal_tui::sync::{self, SyncCommand, SyncConfig, SyncEvent};
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::sync::mpsc::{self, UnboundedReceiver};

/// How long any single expected event may take to arrive.
const WAIT: Duration = Duration::from_secs(20);
/// For a sync through a server that fails 40% of requests on purpose.
const FAULTY_WAIT: Duration = Duration::from_secs(90);
/// The user that owns the reference server's API key.
const ME: &str = "usr_8f3c21";
/// Generated customers per server: with pages of 100, a full sync takes
/// three pages (100, 100, 50).
const CUSTOMERS: usize = 250;
const PAGE_SIZE: u32 = 100;

// ---------------------------------------------------------------- helpers

/// Short intervals, so periodic refreshes and retries happen during a test.
fn fast_config() -> SyncConfig {
    SyncConfig {
        refresh_every: Duration::from_millis(200),
        page_size: PAGE_SIZE,
        retry_min: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
        preview: None,
    }
}

/// Like [`fast_config`], but the engine only syncs at start and on
/// `Refresh`, so a test decides exactly which run sees which change.
fn on_demand_config() -> SyncConfig {
    SyncConfig {
        refresh_every: Duration::from_secs(3600),
        ..fast_config()
    }
}

/// The next event, whatever it is.
async fn next_event(rx: &mut UnboundedReceiver<SyncEvent>) -> SyncEvent {
    match tokio::time::timeout(WAIT, rx.recv()).await {
        Ok(Some(event)) => event,
        Ok(None) => panic!("the engine stopped sending events"),
        Err(_) => panic!("no event within {WAIT:?}"),
    }
}

fn is_finished(event: &SyncEvent) -> bool {
    matches!(event, SyncEvent::Finished { .. })
}

fn is_failed(event: &SyncEvent) -> bool {
    matches!(event, SyncEvent::Failed { .. })
}

fn is_started(event: &SyncEvent) -> bool {
    matches!(event, SyncEvent::Started { .. })
}

/// Everything one sync run reported, from its `Started` to its `Finished`.
#[derive(Debug)]
struct Run {
    generation: u64,
    full: bool,
    pages: Vec<(Vec<Entry>, usize)>,
    finished_at: OffsetDateTime,
}

impl Run {
    fn customers(&self) -> impl Iterator<Item = &Entry> {
        self.pages.iter().flat_map(|(customers, _)| customers)
    }

    fn fetched(&self) -> usize {
        self.pages.last().map_or(0, |(_, fetched)| *fetched)
    }
}

/// Waits for the next `Started` and collects that run up to its `Finished`,
/// checking that every event in between belongs to it. A failed run is a
/// test failure.
async fn next_run(rx: &mut UnboundedReceiver<SyncEvent>) -> Run {
    let SyncEvent::Started { generation, full } = skip_until_matching(rx, is_started, WAIT).await
    else {
        unreachable!("matched Started")
    };
    let mut pages = Vec::new();
    loop {
        match next_event(rx).await {
            SyncEvent::Users { .. } => {}
            SyncEvent::Page {
                generation: g,
                customers,
                fetched,
            } => {
                assert_eq!(g, generation, "a page of another run");
                pages.push((customers, fetched));
            }
            SyncEvent::Finished {
                generation: g, at, ..
            } => {
                assert_eq!(g, generation, "the end of another run");
                return Run {
                    generation,
                    full,
                    pages,
                    finished_at: at,
                };
            }
            other => panic!("unexpected during run {generation}: {}", describe(&other)),
        }
    }
}

fn ids<'a>(customers: impl IntoIterator<Item = &'a Customer>) -> BTreeSet<String> {
    customers.into_iter().map(|c| c.id.clone()).collect()
}

fn by_id(customers: Vec<Customer>) -> BTreeMap<String, Customer> {
    customers.into_iter().map(|c| (c.id.clone(), c)).collect()
}

/// The server's live (non-archived) customers, by id.
async fn live_on_server(client: &Client) -> BTreeMap<String, Customer> {
    let all = all_customers(client).await;
    by_id(all.into_iter().filter(|c| !c.archived).collect())
}

/// The store file's customers, by id, checking that none is held twice.
fn cached(store: &Store) -> BTreeMap<String, Customer> {
    let customers = store.load_customers().expect("load the cache");
    let count = customers.len();
    let map = by_id(customers);
    assert_eq!(map.len(), count, "a customer is cached twice");
    assert_eq!(store.customer_count().expect("count"), count);
    map
}

/// A server with [`CUSTOMERS`] generated customers, and one engine that
/// has synced them into a fresh store file and been stopped again.
async fn server_and_synced_store() -> (TestServer, TempDir, PathBuf) {
    let server = TestServer::start_with(|c| c.generate = Some(CUSTOMERS)).await;
    let (store_dir, store_path) = store_file();
    let (handle, mut rx) = spawn_engine(
        engine_client(&server.url()),
        &store_path,
        on_demand_config(),
    );
    skip_until_matching(&mut rx, is_finished, WAIT).await;
    handle.stop().await;
    (server, store_dir, store_path)
}

// ------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_from_an_empty_cache_fetches_every_page_and_caches_exactly_the_live_customers()
{
    let server = TestServer::start_with(|c| c.generate = Some(CUSTOMERS)).await;
    let other = server.client();
    // An archive made before the first sync: it is listed (archives are
    // asked for) and cached as archived, never as a live customer.
    let archived = all_customers(&other).await[7].id.clone();
    other.archive_customer(&archived).await.expect("archive");
    let (_store_dir, store_path) = store_file();

    let (handle, mut rx) = spawn_engine(engine_client(&server.url()), &store_path, fast_config());

    match next_event(&mut rx).await {
        SyncEvent::CacheLoaded {
            customers,
            index,
            users,
            me,
            last_synced,
            pending,
            merges,
        } => {
            assert!(merges.is_empty(), "{merges:?}");
            assert!(pending.is_empty(), "nothing was submitted: {pending:?}");
            assert!(customers.is_empty(), "{} cached", customers.len());
            assert!(index.is_none(), "no search index for an empty cache");
            assert!(users.is_empty(), "{users:?}");
            assert_eq!(me, None);
            assert_eq!(last_synced, None);
        }
        other => panic!("expected CacheLoaded first, got {}", describe(&other)),
    }
    let generation = match next_event(&mut rx).await {
        SyncEvent::Started {
            generation,
            full: true,
        } => generation,
        other => panic!("expected a full Started, got {}", describe(&other)),
    };
    match next_event(&mut rx).await {
        SyncEvent::Users { users, me } => {
            assert_eq!(me.id, ME);
            assert!(users.contains(&me), "me is one of the team: {users:?}");
            assert_eq!(users.len(), 6, "{users:?}");
        }
        other => panic!("expected Users, got {}", describe(&other)),
    }
    let mut pages = Vec::new();
    let finished_at = loop {
        match next_event(&mut rx).await {
            SyncEvent::Page {
                generation: g,
                customers,
                fetched,
            } => {
                assert_eq!(g, generation);
                pages.push((customers, fetched));
            }
            SyncEvent::Finished {
                generation: g, at, ..
            } => {
                assert_eq!(g, generation);
                break at;
            }
            other => panic!("expected a Page or Finished, got {}", describe(&other)),
        }
    };
    handle.stop().await;

    assert!(pages.len() >= 3, "several pages: {}", pages.len());
    let mut total = 0;
    for (customers, fetched) in &pages {
        assert!(!customers.is_empty(), "no empty page");
        assert!(customers.len() <= PAGE_SIZE as usize);
        total += customers.len();
        assert_eq!(*fetched, total, "fetched counts the run's customers");
    }
    assert!(
        pages.windows(2).all(|w| w[0].1 < w[1].1),
        "fetched grows page after page"
    );
    assert_eq!(
        total, CUSTOMERS,
        "every customer, the archived one included"
    );
    let listed: Vec<&Entry> = pages.iter().flat_map(|(c, _)| c).collect();
    assert!(
        listed.iter().any(|c| c.key == archived && c.archived),
        "the archived customer is listed as archived"
    );

    let server_all = all_customers(&other).await;
    let live = live_on_server(&other).await;
    let store = Store::open(&store_path).expect("reopen the store");
    let cache = cached(&store);
    assert_eq!(ids(cache.values()), ids(live.values()));
    assert_eq!(cache, live, "the cached bodies are the server's");
    assert!(!cache.contains_key(&archived));
    let kept: Vec<String> = store
        .load_archived()
        .expect("archived")
        .into_iter()
        .map(|a| a.customer.id)
        .collect();
    assert_eq!(
        kept,
        std::slice::from_ref(&archived),
        "kept for the archived view"
    );
    let newest = server_all.iter().map(|c| c.updated_at).max();
    assert_eq!(store.high_water().expect("high water"), newest);
    let last_synced = store.last_synced().expect("last synced");
    assert!(
        last_synced.is_some_and(|t| t >= finished_at),
        "{last_synced:?} vs {finished_at}"
    );
    let (users, me) = store.load_users().expect("users");
    assert_eq!(me.map(|u| u.id).as_deref(), Some(ME));
    assert_eq!(users.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_sync_fetches_only_a_change_and_an_archive_made_elsewhere() {
    let server = TestServer::start_with(|c| c.generate = Some(CUSTOMERS)).await;
    let (_store_dir, store_path) = store_file();
    let (handle, mut rx) = spawn_engine(
        engine_client(&server.url()),
        &store_path,
        on_demand_config(),
    );
    let first = next_run(&mut rx).await;
    assert!(first.full);
    assert_eq!(first.fetched(), CUSTOMERS);

    // Another client changes one customer and archives another.
    let other = server.client();
    let before = all_customers(&other).await;
    let (changed_id, archived_id) = (before[3].id.clone(), before[42].id.clone());
    let changed = other
        .update_customer(
            &changed_id,
            &CustomerPatch {
                name: Some("Renamed Elsewhere Ltd".into()),
                ..CustomerPatch::default()
            },
        )
        .await
        .expect("update");
    other.archive_customer(&archived_id).await.expect("archive");

    handle.send(SyncCommand::Refresh);
    let run = next_run(&mut rx).await;
    handle.stop().await;

    assert!(!run.full, "a cache exists, so the run is incremental");
    assert!(run.generation > first.generation);
    let seen: BTreeMap<&str, &Entry> = run
        .customers()
        .map(|c| (c.id().unwrap_or_default(), c))
        .collect();
    assert_eq!(
        seen.get(changed_id.as_str()),
        Some(&&Entry::from(changed.clone()))
    );
    assert!(
        seen.get(archived_id.as_str()).is_some_and(|c| c.archived),
        "the archive is reported with archived: true"
    );
    assert!(
        run.fetched() <= 5,
        "only the changes (and the high-water record) are fetched, not {}",
        run.fetched()
    );

    let store = Store::open(&store_path).expect("reopen the store");
    let cache = cached(&store);
    assert!(
        !cache.contains_key(&archived_id),
        "the archive left the live cache"
    );
    assert_eq!(store.archived_count().expect("archived"), 1);
    assert_eq!(cache.get(&changed_id), Some(&changed));
    assert_eq!(cache.len(), CUSTOMERS - 1);
    assert_eq!(cache, live_on_server(&other).await);
    assert_eq!(
        store.last_synced().expect("last synced"),
        Some(run.finished_at),
        "the store records when the last run finished"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_start_sends_the_cache_then_fails_with_connection_refused_and_a_retry_time() {
    let (server, _store_dir, store_path) = server_and_synced_store().await;
    let live = live_on_server(&server.client()).await;
    let dead_url = server.url();
    server.server.shutdown().await;

    let (handle, mut rx) = spawn_engine(engine_client(&dead_url), &store_path, fast_config());

    match next_event(&mut rx).await {
        SyncEvent::CacheLoaded {
            customers,
            index,
            users,
            me,
            last_synced,
            pending,
            merges,
        } => {
            assert!(merges.is_empty(), "{merges:?}");
            assert!(pending.is_empty(), "nothing was submitted: {pending:?}");
            // The search index is built beside the set, with the team's
            // names, so that the app's first `/` finds it ready.
            let built = index.expect("a search index beside the cached set");
            assert_eq!(built.index.len(), customers.len());
            assert_eq!(built.owners.len(), 6, "{:?}", built.owners);
            let cached: BTreeMap<String, Entry> = customers
                .into_entries()
                .into_iter()
                .map(|e| (e.id().unwrap_or_default().to_owned(), e))
                .collect();
            let expected: BTreeMap<String, Entry> = live
                .into_iter()
                .map(|(id, c)| (id, Entry::from(c)))
                .collect();
            assert_eq!(cached, expected, "every cached customer");
            assert_eq!(users.len(), 6);
            assert_eq!(me.map(|u| u.id).as_deref(), Some(ME));
            assert!(last_synced.is_some(), "the cache says when it was synced");
        }
        other => panic!("expected CacheLoaded first, got {}", describe(&other)),
    }
    match skip_until_matching(&mut rx, is_failed, WAIT).await {
        SyncEvent::Failed {
            reason, retry_in, ..
        } => {
            assert!(reason.contains("refused"), "{reason}");
            assert!(!retry_in.is_zero());
            assert!(retry_in <= fast_config().retry_max, "{retry_in:?}");
        }
        _ => unreachable!("matched Failed"),
    }
    handle.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_recovers_by_itself_when_the_server_comes_back_on_the_same_port() {
    let (server, _store_dir, store_path) = server_and_synced_store().await;
    // A change the cache has not seen yet, made just before the outage.
    let made_while_away = server
        .client()
        .create_customer(
            &NewCustomer {
                name: "Made While Away".into(),
                ..NewCustomer::default()
            },
            &IdempotencyKey::new(),
        )
        .await
        .expect("create");
    let TestServer { server, dir } = server;
    let addr = server.addr();
    server.shutdown().await;

    let (handle, mut rx) = spawn_engine(
        engine_client(&format!("http://{addr}")),
        &store_path,
        fast_config(),
    );
    match next_event(&mut rx).await {
        SyncEvent::CacheLoaded { customers, .. } => {
            assert_eq!(customers.len(), CUSTOMERS);
            assert!(customers.get(&made_while_away.id).is_none());
        }
        other => panic!("expected CacheLoaded first, got {}", describe(&other)),
    }
    // Two failed runs prove the engine keeps trying while the server is down.
    for _ in 0..2 {
        let failed = skip_until_matching(&mut rx, |e| is_failed(e) || is_finished(e), WAIT).await;
        match failed {
            SyncEvent::Failed { reason, .. } => assert!(reason.contains("refused"), "{reason}"),
            other => panic!("a run finished while the server was down: {other:?}"),
        }
    }

    let server = start_on(&dir, addr).await;
    assert_eq!(server.addr(), addr);
    // No command from the test: the back-off alone brings the next run.
    skip_until_matching(&mut rx, is_finished, WAIT).await;
    handle.stop().await;

    let store = Store::open(&store_path).expect("reopen the store");
    let cache = cached(&store);
    assert_eq!(cache.get(&made_while_away.id), Some(&made_while_away));
    assert_eq!(cache, live_on_server(&client_for(&server.url())).await);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_history_sends_the_fresh_history_then_the_cached_copy_before_a_fresh_one() {
    let server = TestServer::start_with(|c| c.generate = Some(CUSTOMERS)).await;
    let other = server.client();
    let id = all_customers(&other).await[11].id.clone();
    let expected = other.history(&id).await.expect("history");
    assert!(
        expected.len() >= 2,
        "a history worth ordering: {expected:?}"
    );
    assert!(
        expected.windows(2).all(|w| w[0].at >= w[1].at),
        "the server sends newest first"
    );
    let (_store_dir, store_path) = store_file();
    let (handle, mut rx) = spawn_engine(
        engine_client(&server.url()),
        &store_path,
        on_demand_config(),
    );
    skip_until_matching(&mut rx, is_finished, WAIT).await;
    let is_history_of = |e: &SyncEvent| matches!(e, SyncEvent::History { customer_id, .. } | SyncEvent::HistoryFailed { customer_id, .. } if *customer_id == id);

    handle.send(SyncCommand::LoadHistory(id.clone()));
    let first = skip_until_matching(&mut rx, is_history_of, WAIT).await;
    assert_eq!(
        first,
        SyncEvent::History {
            customer_id: id.clone(),
            events: expected.clone(),
            fresh: true,
        },
        "nothing cached yet, so the first answer is the server's"
    );

    handle.send(SyncCommand::LoadHistory(id.clone()));
    let cached_copy = skip_until_matching(&mut rx, is_history_of, WAIT).await;
    assert_eq!(
        cached_copy,
        SyncEvent::History {
            customer_id: id.clone(),
            events: expected.clone(),
            fresh: false,
        },
        "the cached copy comes first"
    );
    let fresh = skip_until_matching(&mut rx, is_history_of, WAIT).await;
    assert_eq!(
        fresh,
        SyncEvent::History {
            customer_id: id.clone(),
            events: expected.clone(),
            fresh: true,
        }
    );
    handle.stop().await;

    let store = Store::open(&store_path).expect("reopen the store");
    assert_eq!(store.load_history(&id).expect("history"), Some(expected));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_finish_carries_its_runs_generation_and_generations_increase() {
    let server = TestServer::start_with(|c| c.generate = Some(CUSTOMERS)).await;
    let (_store_dir, store_path) = store_file();
    let (handle, mut rx) = spawn_engine(
        engine_client(&server.url()),
        &store_path,
        on_demand_config(),
    );
    let other = server.client();
    let customers = all_customers(&other).await;

    let mut generations = Vec::new();
    for (round, customer) in customers.iter().take(3).enumerate() {
        if round > 0 {
            // Something for the pages of this run to carry.
            other
                .update_customer(
                    &customer.id,
                    &CustomerPatch {
                        name: Some(format!("Round {round}")),
                        ..CustomerPatch::default()
                    },
                )
                .await
                .expect("update");
            handle.send(SyncCommand::Refresh);
        }
        // `next_run` checks every Page and the Finished against the
        // generation of the Started before them.
        let run = next_run(&mut rx).await;
        assert!(!run.pages.is_empty(), "round {round} has pages");
        assert_eq!(run.full, round == 0);
        generations.push(run.generation);
    }
    handle.stop().await;
    assert!(
        generations.windows(2).all(|w| w[0] < w[1]),
        "generations increase: {generations:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_through_a_faulty_server_finishes_with_exactly_the_servers_customers() {
    let server = TestServer::start_with(|c| {
        c.generate = Some(CUSTOMERS);
        c.faults = faults(0.3, 0.1);
    })
    .await;
    let (_store_dir, store_path) = store_file();
    // Small pages: more requests per run, so more runs fail part-way and
    // the next one resumes from the high-water mark.
    let config = SyncConfig {
        page_size: 25,
        ..fast_config()
    };
    let (handle, mut rx) = spawn_engine(engine_client(&server.url()), &store_path, config);

    // Failed runs are retried with back-off until one finishes.
    let mut failures = 0;
    while let SyncEvent::Failed { .. } =
        skip_until_matching(&mut rx, |e| is_failed(e) || is_finished(e), FAULTY_WAIT).await
    {
        failures += 1;
    }
    handle.stop().await;
    eprintln!("the faulty sync finished after {failures} failed runs");

    // Read the truth without faults.
    let server = server.restart(|_| {}).await;
    let live = live_on_server(&server.client()).await;
    assert_eq!(live.len(), CUSTOMERS);
    let store = Store::open(&store_path).expect("reopen the store");
    let cache = cached(&store);
    assert_eq!(
        ids(cache.values()),
        ids(live.values()),
        "none missing, none extra"
    );
    assert_eq!(cache, live);
}

// ------------------------------------------- stopping and a broken store

/// A history fetch still in flight when `stop()` is called is cancelled:
/// once `stop` returns, no event arrives and nothing is written to the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_waits_for_a_history_fetch_in_flight_to_let_go_of_the_store() {
    let server = TestServer::start_with(|c| c.generate = Some(20)).await;
    let id = all_customers(&server.client()).await[0].id.clone();
    // Every request now takes 3 s, so the fetch below is still in flight
    // when `stop` returns.
    let dir = server.dir;
    server.server.shutdown().await;
    let mut config = ServerConfig::new(dir.path());
    config.api_key = KEY.to_owned();
    config.faults.latency = Duration::from_secs(3);
    let slow = server::start(config).await.expect("slow server");

    let (_store_dir, store_path) = store_file();
    let (handle, mut rx) =
        spawn_engine(engine_client(&slow.url()), &store_path, on_demand_config());
    handle.send(SyncCommand::LoadHistory(id.clone()));
    handle.stop().await;

    // A stopped engine has dropped every sender: whatever it queued before
    // stopping, then a closed channel.
    loop {
        match rx.try_recv() {
            Ok(_) => continue,
            Err(mpsc::error::TryRecvError::Disconnected) => break,
            Err(mpsc::error::TryRecvError::Empty) => {
                // Gather the evidence: an event from the "stopped" engine,
                // and a store write made after `stop` returned.
                let late = tokio::time::timeout(WAIT, rx.recv()).await;
                let late = late.ok().flatten().as_ref().map(describe);
                let store = Store::open(&store_path).expect("reopen the store");
                let written = store.load_history(&id).expect("history").is_some();
                panic!(
                    "stop() returned while a task of the engine still held the event \
                     sender and the store; later it sent {late:?}, and the store has \
                     the history written after stop: {written}"
                );
            }
        }
    }
    slow.shutdown().await;
}

/// A store that cannot be written (here: write-locked by another
/// connection; in the field: a full or read-only disk) is reported with
/// `StoreFailed`, and the server's data still reaches the UI from memory
/// instead of the run failing as if the server were offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_be_written_still_lets_server_data_through() {
    let server = TestServer::start_with(|c| c.generate = Some(CUSTOMERS)).await;
    let (_store_dir, store_path) = store_file();
    let store = Store::open(&store_path)
        .and_then(|s| s.with_busy_timeout(Duration::from_millis(100)))
        .expect("open the store");
    // Another connection holds the write lock for the whole test (readers
    // still work in WAL mode, so the cache loads).
    let locker = rusqlite::Connection::open(&store_path).expect("second connection");
    locker
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let (events_tx, mut rx) = mpsc::unbounded_channel();
    let handle = sync::spawn(
        engine_client(&server.url()),
        store,
        on_demand_config(),
        events_tx,
    );

    let outcome = skip_until_matching(
        &mut rx,
        |e| {
            matches!(
                e,
                SyncEvent::Page { .. } | SyncEvent::StoreFailed { .. } | SyncEvent::Failed { .. }
            )
        },
        WAIT,
    )
    .await;
    handle.stop().await;
    drop(locker);
    assert!(
        !is_failed(&outcome),
        "the server was reachable, yet the run failed and no data got through: {}",
        describe(&outcome)
    );
}

/// The ids the engine reads for the archived view (`A`).
async fn archived_view(
    handle: &sync::SyncHandle,
    rx: &mut UnboundedReceiver<SyncEvent>,
) -> Vec<String> {
    handle.send(SyncCommand::LoadArchived);
    match skip_until_matching(rx, |e| matches!(e, SyncEvent::Archived { .. }), WAIT).await {
        SyncEvent::Archived { customers } => customers
            .into_iter()
            .map(|a| a.entry.id().unwrap_or_default().to_owned())
            .collect(),
        other => panic!("expected Archived, got {}", describe(&other)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_made_elsewhere_shows_under_a_after_the_next_sync_and_a_restore_takes_it_back() {
    let server = TestServer::start_with(|c| c.generate = Some(CUSTOMERS)).await;
    let (_store_dir, store_path) = store_file();
    let (handle, mut rx) = spawn_engine(
        engine_client(&server.url()),
        &store_path,
        on_demand_config(),
    );
    next_run(&mut rx).await;
    assert!(archived_view(&handle, &mut rx).await.is_empty());

    let other = server.client();
    let id = all_customers(&other).await[9].id.clone();
    other.archive_customer(&id).await.expect("archive");
    handle.send(SyncCommand::Refresh);
    let run = next_run(&mut rx).await;
    assert!(!run.full);
    assert_eq!(
        archived_view(&handle, &mut rx).await,
        std::slice::from_ref(&id)
    );

    other.restore_customer(&id).await.expect("restore");
    handle.send(SyncCommand::Refresh);
    next_run(&mut rx).await;
    assert!(archived_view(&handle, &mut rx).await.is_empty());
    handle.stop().await;

    let store = Store::open(&store_path).expect("reopen the store");
    assert!(cached(&store).contains_key(&id), "live again");
    assert_eq!(cached(&store), live_on_server(&other).await);
}
