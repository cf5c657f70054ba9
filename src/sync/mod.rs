//! The sync engine: a tokio task that owns the API client and the local
//! store. It takes [`SyncCommand`]s over a channel and reports everything it
//! learns as [`SyncEvent`]s; it never touches the UI's state directly.
//!
//! On start it sends the cached customers (instant, offline start), then
//! syncs incrementally: `updated_since` the store's high-water mark, with
//! `include_archived=true` so archives made elsewhere leave the cache. It
//! refreshes periodically, on command, and after failures with back-off.
//! Every sync run has a generation number that its events carry, so the UI
//! can drop results of a run that a newer one has replaced.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, sleep_until};

use crate::api::{ApiError, Client, Customer, HistoryEvent, ListParams, User};
use crate::store::{Store, StoreError};

/// What the UI asks of the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncCommand {
    /// Sync now (if a sync is already running, this does nothing).
    Refresh,
    /// Send the cached history of a customer, then fetch it fresh.
    LoadHistory(String),
}

/// What the engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// The local cache, read before any network access.
    CacheLoaded {
        customers: Vec<Customer>,
        users: Vec<User>,
        me: Option<User>,
        last_synced: Option<OffsetDateTime>,
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
    /// One page of changes; archived customers are to be dropped. `fetched`
    /// counts the customers received so far in this run.
    Page {
        generation: u64,
        customers: Vec<Customer>,
        fetched: usize,
    },
    /// The run finished; the cache now matches the server as of `at`.
    Finished {
        generation: u64,
        at: OffsetDateTime,
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
}

/// How the engine paces itself.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    pub refresh_every: Duration,
    pub page_size: u32,
    /// Back-off after a failed run: doubles from `min` up to `max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            refresh_every: Duration::from_secs(60),
            page_size: 1000,
            retry_min: Duration::from_secs(2),
            retry_max: Duration::from_secs(60),
        }
    }
}

/// The UI's end of a running engine. Dropping it stops the engine.
pub struct SyncHandle {
    commands: mpsc::UnboundedSender<SyncCommand>,
    task: JoinHandle<()>,
}

impl SyncHandle {
    /// Sends a command; a stopped engine ignores it.
    pub fn send(&self, command: SyncCommand) {
        let _ = self.commands.send(command);
    }

    /// Stops the engine and waits for it to let go of the store.
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
    let engine = Engine {
        client,
        store: SharedStore(Arc::new(Mutex::new(Some(store)))),
        config,
        events,
    };
    let task = tokio::spawn(engine.run(inbox));
    SyncHandle { commands, task }
}

#[derive(Clone)]
struct Engine {
    client: Client,
    store: SharedStore,
    config: SyncConfig,
    events: mpsc::UnboundedSender<SyncEvent>,
}

/// The store, shared by the engine's tasks. `stop` takes it out, so that no
/// write can start after the engine has stopped.
#[derive(Clone)]
struct SharedStore(Arc<Mutex<Option<Store>>>);

/// Why a store operation did not happen.
enum StoreFailure {
    Failed(StoreError),
    /// The engine is stopping.
    Closed,
}

impl SharedStore {
    /// Runs `f` on the store off the async workers.
    async fn with<T, F>(&self, f: F) -> Result<T, StoreFailure>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let shared = Arc::clone(&self.0);
        let task = tokio::task::spawn_blocking(move || {
            let mut guard = shared.lock().unwrap_or_else(|p| p.into_inner());
            match guard.as_mut() {
                Some(store) => f(store).map_err(StoreFailure::Failed),
                None => Err(StoreFailure::Closed),
            }
        });
        match task.await {
            Ok(result) => result,
            // A panic in the store is a bug: let it surface as one.
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(_) => Err(StoreFailure::Closed),
        }
    }

    /// Waits for any operation in progress, then closes the store.
    async fn close(&self) {
        let shared = Arc::clone(&self.0);
        let _ = tokio::task::spawn_blocking(move || {
            shared.lock().unwrap_or_else(|p| p.into_inner()).take()
        })
        .await;
    }
}

/// Why a run stopped early.
enum RunError {
    Api(ApiError),
    /// The engine is stopping; nothing to report.
    Stopped,
}

impl Engine {
    async fn run(self, mut inbox: mpsc::UnboundedReceiver<SyncCommand>) {
        self.send_cache().await;
        let mut generation = 0;
        let mut failures = 0u32;
        let mut next_run = Instant::now();
        let mut running: JoinSet<Result<(), RunError>> = JoinSet::new();
        let mut histories: JoinSet<()> = JoinSet::new();
        loop {
            tokio::select! {
                command = inbox.recv() => match command {
                    None => break,
                    Some(SyncCommand::Refresh) => {
                        if running.is_empty() {
                            next_run = Instant::now();
                        }
                    }
                    Some(SyncCommand::LoadHistory(id)) => {
                        histories.spawn(self.clone().load_history(id));
                    }
                },
                _ = sleep_until(next_run), if running.is_empty() => {
                    generation += 1;
                    running.spawn(self.clone().sync_once(generation));
                }
                Some(_) = histories.join_next() => {}
                Some(outcome) = running.join_next() => {
                    let result = outcome.unwrap_or_else(|err| {
                        if err.is_panic() {
                            tracing::error!("a sync run panicked");
                            Err(RunError::Api(ApiError::Config { reason: "internal error in the sync task".into() }))
                        } else {
                            Err(RunError::Stopped)
                        }
                    });
                    next_run = match result {
                        Ok(()) => {
                            failures = 0;
                            Instant::now() + self.config.refresh_every
                        }
                        Err(RunError::Stopped) => break,
                        Err(RunError::Api(err)) => {
                            let retry_in = self.backoff(failures);
                            failures = failures.saturating_add(1);
                            self.emit(SyncEvent::Failed {
                                generation,
                                reason: short_reason(&err),
                                retry_in,
                            });
                            Instant::now() + retry_in
                        }
                    };
                }
            }
        }
        running.shutdown().await;
        histories.shutdown().await;
        self.store.close().await;
    }

    fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.min(16));
        self.config
            .retry_min
            .saturating_mul(factor)
            .min(self.config.retry_max)
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

    async fn send_cache(&self) {
        let cache = self
            .store
            .with(|s| Ok((s.load_customers()?, s.load_users()?, s.last_synced()?)))
            .await;
        let event = match cache {
            Ok((customers, (users, me), last_synced)) => SyncEvent::CacheLoaded {
                customers,
                users,
                me,
                last_synced,
            },
            Err(failure) => {
                if let StoreFailure::Failed(err) = failure {
                    self.report_store(err);
                }
                SyncEvent::CacheLoaded {
                    customers: Vec::new(),
                    users: Vec::new(),
                    me: None,
                    last_synced: None,
                }
            }
        };
        self.emit(event);
    }

    async fn sync_once(self, generation: u64) -> Result<(), RunError> {
        let since = match self.store.with(|s| s.high_water()).await {
            Ok(since) => since,
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

        let (users, me) =
            tokio::try_join!(self.client.users(), self.client.me()).map_err(RunError::Api)?;
        let (saved_users, saved_me) = (users.clone(), me.clone());
        self.write(move |s| s.save_users(&saved_users, &saved_me))
            .await?;
        self.emit(SyncEvent::Users { users, me });

        let mut params = ListParams {
            limit: Some(self.config.page_size),
            updated_since: since,
            include_archived: true,
            cursor: None,
        };
        let mut fetched = 0;
        loop {
            let page = self
                .client
                .list_customers(&params)
                .await
                .map_err(RunError::Api)?;
            fetched += page.data.len();
            let customers = page.data;
            let saved = customers.clone();
            self.write(move |s| s.apply_page(&saved)).await?;
            self.emit(SyncEvent::Page {
                generation,
                customers,
                fetched,
            });
            match page.next_cursor {
                Some(cursor) => params.cursor = Some(cursor),
                None => break,
            }
        }
        let at = OffsetDateTime::now_utc();
        self.write(move |s| s.set_last_synced(at)).await?;
        self.emit(SyncEvent::Finished { generation, at });
        Ok(())
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

/// A few words for the status line: why the server could not be used.
pub fn short_reason(err: &ApiError) -> String {
    match err {
        ApiError::Network { reason } => reason.clone(),
        ApiError::Timeout => "timed out".to_owned(),
        ApiError::RateLimited { .. } => "rate limited".to_owned(),
        ApiError::Api {
            status: 401 | 403, ..
        } => "the API key was refused".to_owned(),
        ApiError::Api { status, .. } if *status >= 500 => format!("server error {status}"),
        ApiError::Api {
            status, message, ..
        } => format!("HTTP {status}: {message}"),
        ApiError::Decode { .. } => "unexpected response from the server".to_owned(),
        ApiError::Config { reason } => reason.clone(),
    }
}
