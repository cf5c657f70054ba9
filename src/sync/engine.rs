//! The engine's loop and its sync runs and history fetches.
//!
//! One loop takes commands and starts at most one sync run and at most one
//! outbox delivery (see `outbox.rs`) at a time, plus history fetches; each
//! runs as its own task. They share the store through [`SharedStore`],
//! which `stop` closes once every task has ended, so that nothing touches
//! the store after the engine has stopped.

use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

use super::outbox::{Courier, Delivery, Stopped};
use super::shared::{SharedStore, StoreFailure};
use super::{
    ArchivedEntry, BuiltIndex, SyncCommand, SyncConfig, SyncEvent, after, owner_names, short_reason,
};
use crate::api::{ApiError, Client, ListParams};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::{CustomerSet, Entry, SearchIndex};
use crate::store::{Store, StoreError};

#[derive(Clone)]
pub(super) struct Engine {
    client: Client,
    store: SharedStore,
    config: SyncConfig,
    events: mpsc::UnboundedSender<SyncEvent>,
    /// Submits and delivers the outbox.
    courier: Courier,
    /// How many `Dismiss` and `Undismiss` commands the store has taken
    /// (counted in the store's turn, so a read of the dismissed groups
    /// knows which it includes).
    dismiss_writes: Arc<AtomicU64>,
}

/// Why a run stopped early.
pub(super) enum RunError {
    Api(ApiError),
    /// The engine is stopping; nothing to report.
    Stopped,
}

impl From<ApiError> for RunError {
    fn from(err: ApiError) -> Self {
        RunError::Api(err)
    }
}

impl Engine {
    pub(super) fn new(
        client: Client,
        store: Store,
        config: SyncConfig,
        events: mpsc::UnboundedSender<SyncEvent>,
    ) -> Engine {
        let store = SharedStore::new(store);
        let courier = Courier::new(store.clone(), client.clone(), events.clone());
        Engine {
            client,
            store,
            config,
            events,
            courier,
            dismiss_writes: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The loop. With `first_preview`, the set is read only once the
    /// preview's first screen is on its way, so that the UI has it first.
    pub(super) async fn run(
        self,
        mut inbox: mpsc::UnboundedReceiver<SyncCommand>,
        first_preview: Option<tokio::sync::oneshot::Receiver<()>>,
    ) {
        if let Some(first) = first_preview {
            // An error is a preview that could not be made: go on without.
            let _ = first.await;
        }
        self.send_cache().await;
        let mut runs = Runs::default();
        let mut histories: JoinSet<()> = JoinSet::new();
        let mut delivery = Delivery::default();
        delivery.wake();
        loop {
            tokio::select! {
                command = inbox.recv() => {
                    let Some(command) = command else { break };
                    if !self.on_command(command, &mut runs, &mut delivery, &mut histories).await {
                        break;
                    }
                }
                _ = sleep_until(delivery.due_at()), if delivery.is_due() => {
                    delivery.start(self.courier.clone());
                }
                Some(end) = delivery.join_next() => {
                    if !delivery.finished(end, &self.config, &self.courier) {
                        break;
                    }
                }
                _ = sleep_until(runs.next), if runs.running.is_empty() => runs.start(&self),
                Some(_) = histories.join_next() => {}
                Some(outcome) = runs.running.join_next() => {
                    if !runs.finished(outcome, &self, &mut delivery) {
                        break;
                    }
                }
            }
        }
        runs.running.shutdown().await;
        histories.shutdown().await;
        delivery.shutdown().await;
        self.courier.release_claims().await;
        self.store.close().await;
    }

    /// Handles one command from the UI; `false` when the engine stops.
    async fn on_command(
        &self,
        command: SyncCommand,
        runs: &mut Runs,
        delivery: &mut Delivery,
        histories: &mut JoinSet<()>,
    ) -> bool {
        match command {
            SyncCommand::Refresh => {
                runs.soon();
                delivery.wake();
            }
            SyncCommand::FullRefresh => {
                runs.full_next = true;
                runs.soon();
            }
            SyncCommand::LoadHistory(id) => {
                histories.spawn(self.clone().load_history(id));
            }
            // The handle gives these to the preview.
            SyncCommand::PreviewPage(_) | SyncCommand::EndPreview => {}
            SyncCommand::Submit { key, op } => {
                // Here, not in a task: items enter the outbox in the order
                // they were submitted.
                if let Err(Stopped) = self.courier.submit(key, op).await {
                    return false;
                }
                delivery.wake();
            }
            SyncCommand::SubmitUnit(unit) => {
                if let Err(Stopped) = self.courier.submit_unit(unit).await {
                    return false;
                }
                delivery.wake();
            }
            SyncCommand::Dismiss(group) => {
                let at = OffsetDateTime::now_utc();
                let count = Arc::clone(&self.dismiss_writes);
                let written = self
                    .write(move |s| counted(&count, s.dismiss(&group, at)))
                    .await;
                return !matches!(written, Err(RunError::Stopped));
            }
            SyncCommand::Undismiss(key) => {
                let count = Arc::clone(&self.dismiss_writes);
                let written = self
                    .write(move |s| counted(&count, s.undismiss(&key)))
                    .await;
                return !matches!(written, Err(RunError::Stopped));
            }
            SyncCommand::LoadArchived => return self.send_archived().await,
        }
        true
    }

    fn emit(&self, event: SyncEvent) {
        let _ = self.events.send(event);
    }

    fn report_store(&self, err: StoreError) {
        tracing::warn!(error = %err, "local store failed");
        self.emit(SyncEvent::StoreFailed {
            reason: err.to_string(),
        });
    }

    /// Runs a store write whose failure must not stop data reaching the UI:
    /// the failure is reported and the work goes on from memory.
    async fn write<F>(&self, f: F) -> Result<(), RunError>
    where
        F: FnOnce(&mut Store) -> Result<(), StoreError> + Send + 'static,
    {
        match self.store.with(f).await {
            Ok(()) => Ok(()),
            Err(StoreFailure::Failed(err)) => {
                self.report_store(err);
                Ok(())
            }
            Err(StoreFailure::Closed) => Err(RunError::Stopped),
        }
    }

    /// Sends the cache and the outbox as the store has it.
    async fn send_cache(&self) {
        let cache = self
            .store
            .with(|s| {
                // Built here, off the UI task: read straight from the rows
                // into entries, then indexed and sorted in one pass.
                let customers = CustomerSet::from_entries(s.load_entries()?);
                // Reading every row filled SQLite's cache with pages the
                // app will not read again soon: freed before the search
                // index is built beside the set. Only memory: a store that
                // refuses loses nothing, and the cache is sent all the same.
                if let Err(err) = s.release_cache() {
                    tracing::debug!(error = %err, "SQLite kept its page cache");
                }
                Ok((
                    customers,
                    s.load_users()?,
                    s.last_synced()?,
                    (s.outbox_pending()?, s.pending_merges()?),
                ))
            })
            .await;
        let event = match cache {
            Ok((customers, (users, me), last_synced, (pending, merges))) => {
                self.courier.reported_at_start(&pending);
                let owners = owner_names(me.iter().chain(&users));
                let (customers, index) = with_index(customers, owners).await;
                SyncEvent::CacheLoaded {
                    customers: Box::new(customers),
                    index,
                    users,
                    me,
                    last_synced,
                    pending,
                    merges,
                }
            }
            Err(failure) => {
                if let StoreFailure::Failed(err) = failure {
                    self.report_store(err);
                }
                SyncEvent::CacheLoaded {
                    customers: Box::default(),
                    index: None,
                    users: Vec::new(),
                    me: None,
                    last_synced: None,
                    pending: Vec::new(),
                    merges: Vec::new(),
                }
            }
        };
        self.emit(event);
        match self.store.with(|s| s.dismissed()).await {
            Ok(groups) if !groups.is_empty() => {
                self.emit(SyncEvent::Dismissed { groups, seen: None });
            }
            Ok(_) | Err(StoreFailure::Closed) => {}
            Err(StoreFailure::Failed(err)) => self.report_store(err),
        }
    }

    /// Reads the archived customers and sends them, made into entries
    /// here, off the UI task; `false` when the engine stops. A store that
    /// cannot be read sends an empty list after saying why.
    async fn send_archived(&self) -> bool {
        let customers = match self.store.with(|s| s.load_archived()).await {
            Ok(archived) => archived
                .into_iter()
                .map(|a| ArchivedEntry {
                    entry: Entry::from(a.customer),
                    merged_into: a.merged_into,
                })
                .collect(),
            Err(StoreFailure::Closed) => return false,
            Err(StoreFailure::Failed(err)) => {
                self.report_store(err);
                Vec::new()
            }
        };
        self.emit(SyncEvent::Archived { customers });
        true
    }

    /// One sync run: the team, then every customer changed since the
    /// high-water mark (all of them when `full`). Records the client cannot
    /// read are counted in `Finished`; the mark never moves past the
    /// server's clock.
    async fn sync_once(self, generation: u64, full: bool) -> Result<(), RunError> {
        let now = OffsetDateTime::now_utc();
        let since = match self.store.with(move |s| s.sync_since(now)).await {
            Ok(since) => since.filter(|_| !full),
            Err(StoreFailure::Closed) => return Err(RunError::Stopped),
            Err(StoreFailure::Failed(err)) => {
                self.report_store(err);
                None
            }
        };
        self.emit(SyncEvent::Started {
            generation,
            full: since.is_none(),
        });
        // Filling an empty cache: the list's indexes are built once at the
        // end rather than row by row (see `Store::suspend_list_indexes_if_empty`).
        let bulk = matches!(
            self.store.with(Store::suspend_list_indexes_if_empty).await,
            Ok(true)
        );
        let result = self.fetch_all(generation, since).await;
        if bulk {
            self.write(Store::ensure_list_indexes).await?;
        }
        // Finished once the cache is whole, its indexes included.
        let (at, skipped) = result?;
        self.emit(SyncEvent::Finished {
            generation,
            at,
            skipped,
        });
        self.send_dismissed().await
    }

    /// Sends the dismissed groups as the store holds them now, so that
    /// those another process marked or revived reach the app.
    async fn send_dismissed(&self) -> Result<(), RunError> {
        let count = Arc::clone(&self.dismiss_writes);
        match self
            .store
            .with(move |s| Ok((s.dismissed()?, count.load(Ordering::SeqCst))))
            .await
        {
            Ok((groups, seen)) => self.emit(SyncEvent::Dismissed {
                groups,
                seen: Some(seen),
            }),
            Err(StoreFailure::Closed) => return Err(RunError::Stopped),
            Err(StoreFailure::Failed(err)) => self.report_store(err),
        }
        Ok(())
    }

    /// The team, then every customer changed since `since` (all without
    /// it), page by page into the store and to the UI. Returns when the
    /// cache was synced and how many records could not be read.
    async fn fetch_all(
        &self,
        generation: u64,
        since: Option<OffsetDateTime>,
    ) -> Result<(OffsetDateTime, usize), RunError> {
        let (users, me) =
            tokio::try_join!(self.client.users(), self.client.me()).map_err(RunError::Api)?;
        let (saved_users, saved_me) = (users.clone(), me.clone());
        self.write(move |s| s.save_users(&saved_users, &saved_me))
            .await?;
        self.emit(SyncEvent::Users { users, me });

        let params = ListParams {
            limit: Some(self.config.page_size),
            updated_since: since,
            include_archived: true,
            cursor: None,
        };
        let mut fetched = 0;
        let mut pages = self.client.pages(params);
        while let Some(customers) = pages.next().await? {
            fetched += customers.len();
            let saved = customers.clone();
            let server_now = pages.server_time().unwrap_or_else(OffsetDateTime::now_utc);
            self.write(move |s| s.apply_page_as_of(&saved, server_now))
                .await?;
            // Sanitised and keyed here, off the UI task.
            let customers = customers.into_iter().map(Entry::from).collect();
            self.emit(SyncEvent::Page {
                generation,
                customers,
                fetched,
            });
        }
        let at = OffsetDateTime::now_utc();
        self.write(move |s| s.set_last_synced(at)).await?;
        Ok((at, pages.skipped()))
    }

    async fn load_history(self, customer_id: String) {
        let id = customer_id.clone();
        if let Ok(Some(events)) = self.store.with(move |s| s.load_history(&id)).await {
            self.emit(SyncEvent::History {
                customer_id: customer_id.clone(),
                events,
                fresh: false,
            });
        }
        match self.client.history(&customer_id).await {
            Ok(events) => {
                let (id, saved) = (customer_id.clone(), events.clone());
                let at = OffsetDateTime::now_utc();
                if let Err(StoreFailure::Failed(err)) = self
                    .store
                    .with(move |s| s.save_history(&id, &saved, at))
                    .await
                {
                    tracing::warn!(error = %err, "could not cache a history");
                }
                self.emit(SyncEvent::History {
                    customer_id,
                    events,
                    fresh: true,
                });
            }
            Err(err) => self.emit(SyncEvent::HistoryFailed {
                customer_id,
                reason: short_reason(&err),
            }),
        }
    }
}

/// The engine loop's view of sync runs: at most one running, when the next
/// starts, and how the last ones went.
struct Runs {
    running: JoinSet<Result<(), RunError>>,
    /// When the next run starts (while none runs).
    next: Instant,
    generation: u64,
    /// Runs in a row that failed.
    failures: u32,
    /// The next run ignores the high-water mark.
    full_next: bool,
    /// The run in progress does (a failed one is tried again as full).
    running_full: bool,
    /// A refresh was asked for while a run went on (which may have read
    /// past what it was asked for): the next run starts as soon as this
    /// one ends.
    asked: bool,
}

impl Default for Runs {
    fn default() -> Self {
        Runs {
            running: JoinSet::new(),
            next: Instant::now(),
            generation: 0,
            failures: 0,
            full_next: false,
            running_full: false,
            asked: false,
        }
    }
}

impl Runs {
    /// A run as soon as none is running (one running now is not doubled).
    fn soon(&mut self) {
        if self.running.is_empty() {
            self.next = Instant::now();
        } else {
            self.asked = true;
        }
    }

    fn start(&mut self, engine: &Engine) {
        self.generation += 1;
        self.running_full = std::mem::take(&mut self.full_next);
        let run = engine.clone().sync_once(self.generation, self.running_full);
        self.running.spawn(run);
    }

    /// Schedules the next run after one ended; `false` when the engine is
    /// stopping.
    fn finished(
        &mut self,
        outcome: Result<Result<(), RunError>, tokio::task::JoinError>,
        engine: &Engine,
        delivery: &mut Delivery,
    ) -> bool {
        let result = outcome.unwrap_or_else(|err| {
            if err.is_panic() {
                tracing::error!("a sync run panicked");
                Err(RunError::Api(ApiError::Config {
                    reason: "internal error in the sync task".into(),
                }))
            } else {
                Err(RunError::Stopped)
            }
        });
        self.next = match result {
            Ok(()) => {
                self.failures = 0;
                // The server answers again: no need to wait out a
                // delivery's back-off. The delivery also reports the queue,
                // which another process may have changed since.
                delivery.wake();
                if self.full_next {
                    Instant::now()
                } else {
                    after(engine.config.refresh_every)
                }
            }
            Err(RunError::Stopped) => return false,
            Err(RunError::Api(err)) => {
                self.full_next |= self.running_full;
                let retry_in = engine.config.backoff(self.failures);
                self.failures = self.failures.saturating_add(1);
                engine.emit(SyncEvent::Failed {
                    generation: self.generation,
                    reason: short_reason(&err),
                    retry_in,
                });
                after(retry_in)
            }
        };
        if std::mem::take(&mut self.asked) {
            self.next = Instant::now();
        }
        true
    }
}

/// `customers` with its search index, built on a blocking thread of its
/// own (not the store's, which the outbox may want meanwhile) and on that
/// one thread, so that the text is held once; `None` for an empty set.
async fn with_index(
    customers: CustomerSet,
    owners: HashMap<String, String>,
) -> (CustomerSet, Option<Arc<BuiltIndex>>) {
    if customers.is_empty() {
        return (customers, None);
    }
    let built = tokio::task::spawn_blocking(move || {
        let index = SearchIndex::build_alone(&customers, |id| owners.get(id).map(String::as_str));
        (customers, Arc::new(BuiltIndex { index, owners }))
    })
    .await;
    match built {
        Ok((customers, index)) => (customers, Some(index)),
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        // The runtime is shutting down: nobody is waiting for the set.
        Err(_) => (CustomerSet::default(), None),
    }
}

/// `result`, once counted among the dismiss commands the store has taken
/// (a failed one too: the app must not wait for it).
fn counted<T>(count: &AtomicU64, result: T) -> T {
    count.fetch_add(1, Ordering::SeqCst);
    result
}
