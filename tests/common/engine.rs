//! Driving the sync engine (`pivotal_tui::sync`) from integration tests: a
//! store file of its own, an engine on it, its events, the changes submitted
//! to its outbox, and a reference server restarted on the address it used.
//!
//! Two ways of waiting for an event, on purpose:
//! - [`Events::next_matching`] keeps what it looks past in a backlog, for
//!   tests with several changes in flight whose events may come in any
//!   order;
//! - [`skip_until_matching`] drops what it looks past, for tests that read
//!   the stream in order and want only what comes next.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pivotal_tui::api::{Client, Customer, IdempotencyKey};
use pivotal_tui::server::{self, RunningServer, ServerConfig, ServerError};
use pivotal_tui::store::Store;
use pivotal_tui::sync::{self, OutboxOp, SyncCommand, SyncConfig, SyncEvent, SyncHandle};
use tempfile::TempDir;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::time::error::Elapsed;

use super::{KEY, client_for, fast_retry};

// ------------------------------------------------------------ the engine

/// Syncs only at start and on `Refresh`, so a test decides which run sees
/// which change; retries (of runs and deliveries) come quickly.
pub fn config() -> SyncConfig {
    SyncConfig {
        refresh_every: Duration::from_secs(3600),
        page_size: 100,
        retry_min: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
        preview: None,
    }
}

/// The engine's client: two attempts per request, then the engine's own
/// retry takes over (a sync run fails and is tried again, a delivery
/// waits).
pub fn engine_client(url: &str) -> Client {
    client_for(url).with_retry(fast_retry(2))
}

/// A store file in its own temporary folder (kept alive by the `TempDir`).
pub fn store_file() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("store dir");
    let path = dir.path().join("accounts").join("test.sqlite3");
    (dir, path)
}

/// An engine on the store at `store_path`, and its events as they come
/// (for tests that read them in order: see [`skip_until_matching`]).
pub fn spawn_engine(
    client: Client,
    store_path: &Path,
    config: SyncConfig,
) -> (SyncHandle, UnboundedReceiver<SyncEvent>) {
    let store = Store::open(store_path).expect("open the store");
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let handle = sync::spawn(client, store, config, events_tx);
    (handle, events_rx)
}

/// An engine with [`config`] that talks through `client`.
pub fn start_engine_with(client: Client, store_path: &Path) -> (SyncHandle, Events) {
    let (handle, rx) = spawn_engine(client, store_path, config());
    (handle, Events::new(rx))
}

/// An engine with [`config`] and [`engine_client`] for the server at `url`.
pub fn start_engine(url: &str, store_path: &Path) -> (SyncHandle, Events) {
    start_engine_with(engine_client(url), store_path)
}

// ------------------------------------------------------------ its events

/// The engine's events, with those that were looked past kept for later:
/// several changes in flight report in an order a test should not depend
/// on (a `Rejected` may come before the next `Queued`), so waiting for one
/// event must not lose another that a later wait is for.
pub struct Events {
    rx: UnboundedReceiver<SyncEvent>,
    backlog: VecDeque<SyncEvent>,
}

impl Events {
    pub fn new(rx: UnboundedReceiver<SyncEvent>) -> Events {
        Events {
            rx,
            backlog: VecDeque::new(),
        }
    }

    /// The first event, kept or new, that matches `pred`, waiting at most
    /// `within` for it. The events looked past stay in the backlog.
    pub async fn next_matching(
        &mut self,
        pred: impl Fn(&SyncEvent) -> bool,
        within: Duration,
    ) -> SyncEvent {
        if let Some(position) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(position).expect("in range");
        }
        let Events { rx, backlog } = self;
        let found = receive_matching(rx, pred, within, |event| backlog.push_back(event)).await;
        match found {
            Ok(Some(event)) => event,
            Ok(None) => panic!(
                "the engine stopped sending events; last ones:\n  {}",
                last_ones(backlog.iter(), 8)
            ),
            Err(_) => panic!(
                "no matching event within {within:?} ({} kept); last ones:\n  {}",
                backlog.len(),
                last_ones(backlog.iter(), 8)
            ),
        }
    }

    /// Forgets the sync-run events looked past so far, so that the next
    /// `Started` waited for is of a run that began after everything
    /// received until now. Without it, a run kept in the backlog (one that
    /// started before the deliveries a test just saw) would be the one
    /// waited for, and its pages might not carry those deliveries.
    pub fn forget_runs(&mut self) {
        self.backlog.retain(|e| !is_run_event(e));
    }

    /// The next event not received yet, without waiting: the backlog is
    /// not looked at. For telling a closed channel from an empty one.
    pub fn try_recv(&mut self) -> Result<SyncEvent, TryRecvError> {
        self.rx.try_recv()
    }
}

/// Skips events until one matches `pred`, for at most `within`. Unlike
/// [`Events::next_matching`], the events looked past are dropped: for
/// tests that read the stream in order and wait for what comes next.
pub async fn skip_until_matching(
    rx: &mut UnboundedReceiver<SyncEvent>,
    pred: impl Fn(&SyncEvent) -> bool,
    within: Duration,
) -> SyncEvent {
    let mut skipped = Vec::new();
    let found = receive_matching(rx, pred, within, |event| skipped.push(event)).await;
    match found {
        Ok(Some(event)) => event,
        Ok(None) => panic!(
            "the engine stopped sending events; last ones skipped:\n  {}",
            last_ones(skipped.iter(), 5)
        ),
        Err(_) => panic!(
            "no matching event within {within:?} ({} skipped); last ones:\n  {}",
            skipped.len(),
            last_ones(skipped.iter(), 5)
        ),
    }
}

/// Receives events until one matches `pred`, for at most `within`, handing
/// each one looked past to `look_past`. `Ok(None)` when the engine closed
/// the channel first, `Err` when the time ran out.
async fn receive_matching(
    rx: &mut UnboundedReceiver<SyncEvent>,
    pred: impl Fn(&SyncEvent) -> bool,
    within: Duration,
    mut look_past: impl FnMut(SyncEvent),
) -> Result<Option<SyncEvent>, Elapsed> {
    tokio::time::timeout(within, async {
        loop {
            match rx.recv().await {
                Some(event) if pred(&event) => return Some(event),
                Some(event) => look_past(event),
                None => return None,
            }
        }
    })
    .await
}

/// The last `n` of `events`, described one per line, for failure messages.
fn last_ones<'a>(events: impl ExactSizeIterator<Item = &'a SyncEvent>, n: usize) -> String {
    let skip = events.len().saturating_sub(n);
    events
        .skip(skip)
        .map(describe)
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// A one-line summary of an event for failure messages (customer lists
/// are long).
pub fn describe(event: &SyncEvent) -> String {
    match event {
        SyncEvent::CacheLoaded {
            customers,
            pending,
            last_synced,
            ..
        } => format!(
            "CacheLoaded {{ {} customers, {} pending, last_synced: {last_synced:?} }}",
            customers.len(),
            pending.len()
        ),
        SyncEvent::Page {
            generation,
            customers,
            fetched,
        } => format!(
            "Page {{ generation: {generation}, {} customers, fetched: {fetched} }}",
            customers.len()
        ),
        SyncEvent::History {
            customer_id,
            events,
            fresh,
        } => format!(
            "History {{ {customer_id}, {} events, fresh: {fresh} }}",
            events.len()
        ),
        other => format!("{other:?}"),
    }
}

/// An event of a sync run: `Started`, `Page`, `Finished` or `Failed`.
pub fn is_run_event(event: &SyncEvent) -> bool {
    matches!(
        event,
        SyncEvent::Started { .. }
            | SyncEvent::Page { .. }
            | SyncEvent::Finished { .. }
            | SyncEvent::Failed { .. }
    )
}

pub fn is_queued(key: &IdempotencyKey) -> impl Fn(&SyncEvent) -> bool + '_ {
    move |e| matches!(e, SyncEvent::Queued { key: k } if k == key)
}

/// The event that settles `key`: delivered or rejected.
pub fn is_settled(key: &IdempotencyKey) -> impl Fn(&SyncEvent) -> bool + '_ {
    move |e| matches!(e, SyncEvent::Delivered { key: k, .. } | SyncEvent::Rejected { key: k, .. } if k == key)
}

/// A `Waiting` for any item, or the settling of `key`.
pub fn is_waiting_or_settled(key: &IdempotencyKey) -> impl Fn(&SyncEvent) -> bool + '_ {
    move |e| matches!(e, SyncEvent::Waiting { .. }) || is_settled(key)(e)
}

/// The parts of a `Delivered` event; anything else fails the test.
pub fn delivered(event: SyncEvent) -> (IdempotencyKey, OutboxOp, Customer) {
    match event {
        SyncEvent::Delivered { key, op, customer } => (key, op, customer),
        other => panic!("expected Delivered, got {}", describe(&other)),
    }
}

/// The parts of a `Waiting` event; anything else fails the test.
pub fn waiting(event: SyncEvent) -> (IdempotencyKey, String) {
    match event {
        SyncEvent::Waiting { key, reason, .. } => (key, reason),
        other => panic!("expected Waiting, got {}", describe(&other)),
    }
}

// ------------------------------------------------------------ the outbox

/// Submits `op` under a fresh key and waits (at most `within`) until it is
/// queued.
pub async fn submit(
    handle: &SyncHandle,
    events: &mut Events,
    op: OutboxOp,
    within: Duration,
) -> IdempotencyKey {
    let key = IdempotencyKey::new();
    handle.send(SyncCommand::Submit {
        key: key.clone(),
        op,
    });
    events.next_matching(is_queued(&key), within).await;
    key
}

/// The keys still in the outbox of the store file, in queue order (read
/// through a connection of its own, which works while an engine runs).
pub fn pending_in(store_path: &Path) -> Vec<IdempotencyKey> {
    let store = Store::open(store_path).expect("reopen the store");
    let pending = store.outbox_pending().expect("pending");
    pending.into_iter().map(|item| item.key).collect()
}

/// The customers cached in the store file, by id.
pub fn cached(store_path: &Path) -> BTreeMap<String, Customer> {
    let store = Store::open(store_path).expect("reopen the store");
    let customers = store.load_customers().expect("load the cache");
    customers.into_iter().map(|c| (c.id.clone(), c)).collect()
}

// ------------------------------------------------------------ the server

/// Starts a server on `addr` (an address another server just let go of)
/// with the data of `dir`. Binding is retried for a while in case the old
/// socket is still being torn down.
pub async fn start_on(dir: &TempDir, addr: SocketAddr) -> RunningServer {
    start_on_with(dir, addr, |_| {}).await
}

/// [`start_on`], after `configure` has adjusted the server's config.
pub async fn start_on_with(
    dir: &TempDir,
    addr: SocketAddr,
    configure: impl Fn(&mut ServerConfig),
) -> RunningServer {
    let mut attempts = 0;
    loop {
        let mut config = ServerConfig::new(dir.path());
        config.api_key = KEY.to_owned();
        config.addr = addr;
        configure(&mut config);
        match server::start(config).await {
            Ok(server) => return server,
            Err(ServerError::Bind { source, .. }) if attempts < 50 => {
                attempts += 1;
                eprintln!("rebinding {addr} failed ({source}); retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => panic!("could not restart the server on {addr}: {err}"),
        }
    }
}
