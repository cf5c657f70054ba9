//! The sync engine: a tokio task that owns the API client and the local
//! store. It takes [`SyncCommand`]s over a channel and reports everything it
//! learns as [`SyncEvent`]s; it never touches the UI's state directly.
//!
//! On start it sends the cached customers and the outbox left by the last
//! run (instant, offline start), then syncs incrementally: `updated_since`
//! the store's high-water mark, with `include_archived=true` so archives
//! and restores made elsewhere reach the cache (which keeps archived
//! customers for the archived view, read on demand) and leave or rejoin
//! the list. It refreshes periodically, on command,
//! and after failures with back-off. Every sync run has a generation number
//! that its events carry, so the UI can drop results of a run that a newer
//! one has replaced.
//!
//! Changes made in the app ([`SyncCommand::Submit`]) go through the outbox:
//! written to the store first, then delivered in queue order by one
//! delivery task at a time, each with the same idempotency key on every
//! attempt, across restarts. The store's outbox is the one queue for every
//! process on the account (the app, the command line, a second window);
//! each claims an item before sending it (see `deliver.rs`).
//!
//! The loop lives in `engine.rs`, the engine's side of the outbox in
//! `outbox.rs`, delivering one item in `deliver.rs` (shared with the
//! command line), the shared store in `shared.rs`; this file holds the
//! public face: commands, events, configuration and the handle.

mod deliver;
mod engine;
mod outbox;
mod preview;
mod shared;

pub use deliver::{Step, deliver_head, send_change};
pub use preview::{PageRequest, Preview, PreviewRow, PreviewSource, PreviewSpec};
pub use shared::{SharedStore, StoreFailure};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::{ApiError, Client, Customer, HistoryEvent, IdempotencyKey, User};
use crate::domain::{CustomerSet, Entry, SearchIndex, sanitize};
use crate::store::Store;
pub use crate::store::{
    ArchivedCustomer, Dismissed, MergedInto, OutboxItem, OutboxOp, PendingMerge, Unit,
};

/// What the UI asks of the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncCommand {
    /// Sync now (if a sync is already running, this does nothing), and
    /// retry a waiting outbox item now.
    Refresh,
    /// Sync everything again from the start, ignoring the high-water mark:
    /// now, or right after the run in progress.
    FullRefresh,
    /// Send the cached history of a customer, then fetch it fresh.
    LoadHistory(String),
    /// Send a change to the server through the outbox: it is stored first
    /// ([`SyncEvent::Queued`]), then delivered ([`SyncEvent::Delivered`] or
    /// [`SyncEvent::Rejected`]), retried for as long as it takes, even
    /// across restarts. Use a fresh `key` per change, and never reuse one
    /// for another change: for a create it is the `Idempotency-Key`, and a
    /// key already waiting keeps the op it was first submitted with.
    Submit { key: IdempotencyKey, op: OutboxOp },
    /// Send changes that belong together (a merge: the keeper's edit, then
    /// each archive) through the outbox, stored in one transaction and
    /// delivered in order like `Submit`'s; a refused edit drops the rest
    /// of its unit (each reported [`SyncEvent::Rejected`], status 0).
    SubmitUnit(Unit),
    /// Keep a group of duplicates marked "not a duplicate" in the store.
    Dismiss(Dismissed),
    /// Forget that mark (undo, or reviving a dismissed group).
    Undismiss(String),
    /// Read the archived customers from the store, answered with
    /// [`SyncEvent::Archived`]: on demand, off the UI task.
    LoadArchived,
    /// A further page of the preview (see [`SyncEvent::Preview`]),
    /// answered with [`SyncEvent::PreviewPage`]; nothing without a preview.
    PreviewPage(PageRequest),
    /// The preview is no longer needed (the set has arrived): its thread
    /// and connection end.
    EndPreview,
}

/// The search index of a cached set, built by the engine beside the set
/// so that the app's first `/` finds it ready (building it takes 20 ms at
/// 100,000 customers and a quarter second at 1,000,000), with the owner
/// names it indexed: the app takes it only when those are the names it
/// shows. Sent shared (`Arc`), so that the event stays cheap to clone; two
/// are equal when they are the same index.
pub struct BuiltIndex {
    pub index: SearchIndex,
    /// Owner id → name, sanitised, as [`owner_names`] makes them.
    pub owners: HashMap<String, String>,
}

impl PartialEq for BuiltIndex {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

/// A count, not the megabytes of text.
impl std::fmt::Debug for BuiltIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltIndex")
            .field("customers", &self.index.len())
            .field("owners", &self.owners.len())
            .finish()
    }
}

/// Owner id → the name the list shows (sanitised), for the team and the
/// key's owner: what the app files when they arrive, and what an index is
/// built with.
#[must_use]
pub fn owner_names<'a>(users: impl IntoIterator<Item = &'a User>) -> HashMap<String, String> {
    users
        .into_iter()
        .map(|user| (user.id.clone(), sanitize(&user.name).into_owned()))
        .collect()
}

/// What the engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// The first screen of the saved view, read from the cache's indexes
    /// before the set is built (only when [`SyncConfig::preview`] asks for
    /// one and the store is a file); [`SyncEvent::CacheLoaded`] follows.
    Preview(Preview),
    /// The rows a [`SyncCommand::PreviewPage`] asked for.
    PreviewPage {
        request: PageRequest,
        rows: Vec<PreviewRow>,
    },
    /// The local cache, read before any network access, and the changes
    /// still waiting in the outbox from an earlier run, in queue order (the
    /// engine delivers them next).
    CacheLoaded {
        /// Built by the engine, off the UI task (boxed: the other events
        /// are small).
        customers: Box<CustomerSet>,
        /// The search index of `customers`, built beside it (see
        /// [`BuiltIndex`]); `None` for an empty cache.
        index: Option<Arc<BuiltIndex>>,
        users: Vec<User>,
        me: Option<User>,
        last_synced: Option<OffsetDateTime>,
        pending: Vec<OutboxItem>,
        /// The merges among `pending`, rebuilt by the store, so that each
        /// is shown and undone whole, as in the session that made it.
        merges: Vec<PendingMerge>,
    },
    /// The groups marked "not a duplicate" on this account, as the store
    /// holds them: right after the cache (`seen: None`; sent only when
    /// there are some), and after every sync run (`seen: Some(n)`): then
    /// all of them, those another process marked or revived included, with
    /// `n`, how many of this app's `Dismiss` and `Undismiss` commands the
    /// store had taken when they were read, so that the app can tell a
    /// list that does not know its latest ones yet.
    Dismissed {
        groups: Vec<Dismissed>,
        seen: Option<u64>,
    },
    /// The archived customers the store holds, the most recently changed
    /// first, each with the record a merge put it into (answers
    /// [`SyncCommand::LoadArchived`]).
    Archived {
        customers: Vec<ArchivedEntry>,
    },
    /// A sync run began. `full` when nothing was cached before.
    Started {
        generation: u64,
        full: bool,
    },
    /// The team and the key's owner, fetched at the start of a run.
    Users {
        users: Vec<User>,
        me: User,
    },
    /// One page of changes; archived customers leave the list. `fetched`
    /// counts the customers received so far in this run.
    Page {
        generation: u64,
        /// Made into entries (sanitised, keyed) by the engine, so the UI
        /// only merges them.
        customers: Vec<Entry>,
        fetched: usize,
    },
    /// The run finished; the cache now matches the server as of `at`,
    /// except for `skipped` records the client could not read (left out
    /// and logged).
    Finished {
        generation: u64,
        at: OffsetDateTime,
        skipped: usize,
    },
    /// The run failed; the engine tries again after `retry_in`.
    Failed {
        generation: u64,
        reason: String,
        retry_in: Duration,
    },
    /// A customer's history, newest first; `fresh` once it came from the
    /// server rather than the cache.
    History {
        customer_id: String,
        events: Vec<HistoryEvent>,
        fresh: bool,
    },
    HistoryFailed {
        customer_id: String,
        reason: String,
    },
    /// The local store failed; the app keeps working from memory.
    StoreFailed {
        reason: String,
    },
    /// The outbox as the store has it now, in queue order: sent after each
    /// delivery task. Another process on the account may have added items
    /// or delivered some since the last report.
    Outbox {
        pending: Vec<OutboxItem>,
        /// The merges among `pending`, rebuilt by the store (a merge
        /// another process queued is one merge here too).
        merges: Vec<PendingMerge>,
    },
    /// A submitted change is in the outbox, on disk, and will be
    /// delivered (by this engine or another process on the account).
    Queued {
        key: IdempotencyKey,
    },
    /// The server applied the change; `customer` is its answer (for a
    /// create: the new customer, with its `id` and `display_id`; for an
    /// archive: `archived: true`). It is in the cache and the item has left
    /// the outbox.
    Delivered {
        key: IdempotencyKey,
        op: OutboxOp,
        customer: Customer,
    },
    /// The server refused the change for good (`400`, `404`, `422`: a
    /// validation error names the field in `param`), or it could not be
    /// sent or saved at all (`status` 0: an empty customer id, a store that
    /// cannot be written). The item is not in the outbox; `op` holds
    /// everything the user entered, to be shown again with `message`.
    Rejected {
        key: IdempotencyKey,
        op: OutboxOp,
        status: u16,
        message: String,
        param: Option<String>,
    },
    /// The head of the outbox could not be delivered for now (network,
    /// time-out, `429`, `5xx`, `409`, an unreadable answer, or the API key
    /// was refused): it stays queued, with the items behind it, and is tried
    /// again after `retry_in` (or sooner, on `Submit` or `Refresh`, or
    /// when a sync run succeeds).
    Waiting {
        key: IdempotencyKey,
        reason: String,
        retry_in: Duration,
    },
}

/// An archived customer as the archived view shows it: made into an entry
/// (sanitised) by the engine, with the record a merge put it into.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedEntry {
    pub entry: Entry,
    pub merged_into: Option<MergedInto>,
}

/// How the engine paces itself.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub refresh_every: Duration,
    pub page_size: u32,
    /// Back-off after a failed run, and after a delivery that must wait:
    /// doubles from `min` up to `max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// The first screen to send before the set is built, if the saved view
    /// is one the preview serves.
    pub preview: Option<PreviewSpec>,
}

impl SyncConfig {
    /// How long to wait after `failures` earlier failures in a row:
    /// `retry_min` doubled that many times, at most `retry_max`.
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.min(16));
        self.retry_min.saturating_mul(factor).min(self.retry_max)
    }
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            refresh_every: Duration::from_secs(60),
            page_size: 1000,
            retry_min: Duration::from_secs(2),
            retry_max: Duration::from_secs(60),
            preview: None,
        }
    }
}

/// The UI's end of a running engine. Dropping it stops the engine.
pub struct SyncHandle {
    commands: mpsc::UnboundedSender<SyncCommand>,
    task: JoinHandle<()>,
    /// The preview's requests, while it runs (see [`SyncEvent::Preview`]).
    preview: std::sync::Mutex<Option<mpsc::UnboundedSender<PageRequest>>>,
}

impl SyncHandle {
    /// Sends a command; a stopped engine ignores it.
    pub fn send(&self, command: SyncCommand) {
        let mut preview = self.preview.lock().unwrap_or_else(|p| p.into_inner());
        match command {
            SyncCommand::PreviewPage(request) => {
                if let Some(preview) = preview.as_ref() {
                    let _ = preview.send(request);
                }
            }
            SyncCommand::EndPreview => *preview = None,
            command => {
                let _ = self.commands.send(command);
            }
        }
    }

    /// Stops the engine and waits for it to let go of the store. Commands
    /// sent before are handled first, so a `Submit` sent just before
    /// quitting is in the outbox for the next start.
    pub async fn stop(self) {
        drop(self.commands);
        let _ = self.task.await;
    }
}

/// Starts the engine on the current tokio runtime.
pub fn spawn(
    client: Client,
    store: Store,
    config: SyncConfig,
    events: mpsc::UnboundedSender<SyncEvent>,
) -> SyncHandle {
    let (commands, inbox) = mpsc::unbounded_channel();
    // The preview reads over a connection of its own, so its pages never
    // wait for the set the engine builds meanwhile.
    let (preview, first_preview) = match (config.preview, store.file_path()) {
        (Some(spec), Some(path)) => {
            let (requests, first) = preview::spawn(path, spec, events.clone());
            (Some(requests), Some(first))
        }
        _ => (None, None),
    };
    let engine = engine::Engine::new(client, store, config, events);
    let task = tokio::spawn(engine.run(inbox, first_preview));
    SyncHandle {
        commands,
        task,
        preview: std::sync::Mutex::new(preview),
    }
}

/// The longest wait the engine schedules: about a year. Longer waits (a
/// setting or a server's `Retry-After` gone wild) are shortened to it.
const LONGEST_WAIT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The instant `wait` from now, for the engine's timers. Never overflows:
/// `Instant::now() + huge` panics, which once took the whole app down.
pub(crate) fn after(wait: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(wait.min(LONGEST_WAIT)).unwrap_or(now)
}

/// A few words for the status line: why the server could not be used.
pub fn short_reason(err: &ApiError) -> String {
    match err {
        ApiError::Network { reason } => reason.clone(),
        ApiError::Timeout => "timed out".to_owned(),
        ApiError::RateLimited { .. } => "rate limited".to_owned(),
        ApiError::Api { status: 401, .. } => "the API key was refused".to_owned(),
        ApiError::Api { status: 403, .. } => "the API key is not allowed to do that".to_owned(),
        ApiError::Api { status, .. } if *status >= 500 => format!("server error {status}"),
        ApiError::Api {
            status, message, ..
        } => format!("HTTP {status}: {message}"),
        ApiError::Decode { .. } => "unexpected response from the server".to_owned(),
        ApiError::Config { reason } => reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_too_long_for_the_clock_is_shortened_instead_of_panicking() {
        let now = tokio::time::Instant::now();
        let far = after(Duration::MAX);
        assert!(far >= now + LONGEST_WAIT);
        assert!(after(Duration::from_secs(u64::MAX)) <= far + Duration::from_secs(1));
        let soon = after(Duration::from_secs(60));
        assert!(soon >= now + Duration::from_secs(60) && soon < far);
    }

    #[test]
    fn a_403_is_not_allowed_and_only_a_401_is_a_refused_key() {
        let forbidden = short_reason(&ApiError::api(403, "forbidden", "no", None));
        assert!(forbidden.contains("not allowed"), "{forbidden}");
        assert!(!forbidden.contains("refused"), "{forbidden}");
        let unauthorized = short_reason(&ApiError::api(401, "unauthorized", "no", None));
        assert_eq!(unauthorized, "the API key was refused");
    }
}
