//! The engine's side of the outbox, as its collaborator ([`Courier`]):
//! putting a submitted change into the store's queue, delivering and
//! reporting it, and scheduling delivery tasks ([`Delivery`]) (see `deliver.rs` for how
//! one item is delivered, the same for the engine and the command line).
//!
//! A submitted change is written to the store before anything else, so a
//! quit, a crash or a dropped network cannot lose it; a change the store
//! cannot take is refused at once, with the reason, rather than kept in
//! memory and promised. The store is the only queue: the engine keeps no
//! copy, so a change that another process (the command line, a second
//! window) delivered is never sent again from here. One delivery task at a
//! time delivers from the head until the queue is empty, the head must
//! wait (then the engine tries again after a back-off like a failed sync
//! run's, or sooner when woken), or another process is sending the head.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;

use tokio::sync::mpsc;

use super::deliver::{Step, deliver_head};
use super::shared::{SharedStore, StoreFailure};
use super::{SyncConfig, SyncEvent, after, short_reason};
use crate::api::{Client, IdempotencyKey};
use crate::store::{Claimant, OutboxItem, OutboxOp, Unit};

/// The engine's collaborator for its outbox: what submitting, delivering
/// and reporting need, and nothing of the engine's loop.
#[derive(Clone)]
pub(super) struct Courier {
    store: SharedStore,
    client: Client,
    events: mpsc::UnboundedSender<SyncEvent>,
    /// This engine's name on the outbox items it claims.
    claimant: Claimant,
    /// The outbox as last reported to the UI.
    reported: Reported,
}

/// The store was closed: the engine is stopping.
pub(super) struct Stopped;

/// How a delivery task ended.
pub(super) enum DeliveryEnd {
    /// The queue is empty.
    Drained,
    /// Another delivery is sending the head.
    Busy,
    /// The head must wait.
    Waiting {
        /// The head that must wait; `None` when the store failed.
        key: Option<IdempotencyKey>,
        reason: String,
        /// How long the server asked us to wait (`429`).
        retry_after: Option<Duration>,
        /// Whether the task delivered or settled any item first.
        progressed: bool,
    },
    /// The engine is stopping.
    Stopped,
}

/// The engine loop's view of delivery: the task, if one is running, and
/// when to start the next.
#[derive(Default)]
pub(super) struct Delivery {
    /// At most one task.
    task: JoinSet<DeliveryEnd>,
    /// When to start a task; `None` until there is something to deliver.
    next: Option<Instant>,
    /// Tasks in a row that ended waiting without settling any item.
    failures: u32,
    /// Woken while a task ran: that task may have read the queue before
    /// the change that woke it, so another starts when it ends.
    again: bool,
}

impl Delivery {
    /// Starts delivery now if nothing is running, cutting short a back-off.
    /// A task that finds the queue empty ends after one small read.
    pub(super) fn wake(&mut self) {
        if self.task.is_empty() {
            self.next = Some(Instant::now());
        } else {
            self.again = true;
        }
    }

    /// Whether a task should start at [`Delivery::due_at`].
    pub(super) fn is_due(&self) -> bool {
        self.task.is_empty() && self.next.is_some()
    }

    pub(super) fn due_at(&self) -> Instant {
        self.next.unwrap_or_else(Instant::now)
    }

    pub(super) fn start(&mut self, courier: Courier) {
        self.next = None;
        self.again = false;
        self.task.spawn(courier.deliver());
    }

    /// The end of the running task; never resolves while none runs.
    pub(super) async fn join_next(&mut self) -> Option<Result<DeliveryEnd, JoinError>> {
        self.task.join_next().await
    }

    /// Handles the end of a task: schedules the next and reports a wait.
    /// `false` when the engine is stopping.
    pub(super) fn finished(
        &mut self,
        end: Result<DeliveryEnd, JoinError>,
        config: &SyncConfig,
        courier: &Courier,
    ) -> bool {
        match end {
            Ok(DeliveryEnd::Drained) => {
                self.failures = 0;
                if std::mem::take(&mut self.again) {
                    self.next = Some(Instant::now());
                }
            }
            Ok(DeliveryEnd::Busy) => {
                // Whoever holds the head is sending it now; look again soon
                // to deliver what is behind it.
                self.next = Some(after(config.backoff(0)));
            }
            Ok(DeliveryEnd::Waiting {
                key,
                reason,
                retry_after,
                progressed,
            }) => {
                if progressed {
                    self.failures = 0;
                }
                let retry_in = config
                    .backoff(self.failures)
                    .max(retry_after.unwrap_or_default());
                self.failures = self.failures.saturating_add(1);
                if let Some(key) = key {
                    courier.emit(SyncEvent::Waiting {
                        key,
                        reason,
                        retry_in,
                    });
                }
                self.next = Some(after(retry_in));
            }
            Ok(DeliveryEnd::Stopped) => return false,
            Err(err) if err.is_panic() => {
                tracing::error!("an outbox delivery panicked");
                self.next = Some(after(config.backoff(self.failures)));
                self.failures = self.failures.saturating_add(1);
            }
            Err(_) => return false,
        }
        true
    }

    pub(super) async fn shutdown(&mut self) {
        self.task.shutdown().await;
    }
}

impl Courier {
    pub(super) fn new(
        store: SharedStore,
        client: Client,
        events: mpsc::UnboundedSender<SyncEvent>,
    ) -> Courier {
        Courier {
            store,
            client,
            events,
            claimant: Claimant::new(),
            reported: Reported::default(),
        }
    }

    fn emit(&self, event: SyncEvent) {
        let _ = self.events.send(event);
    }

    fn report_store(&self, err: &crate::store::StoreError) {
        tracing::warn!(error = %err, "local store failed");
        self.emit(SyncEvent::StoreFailed {
            reason: err.to_string(),
        });
    }

    /// Records `pending`, read with the cache at start, as reported.
    pub(super) fn reported_at_start(&self, pending: &[OutboxItem]) {
        self.reported.changed_to(pending);
    }

    /// Lets go of every claim this engine holds: a delivery cut short by
    /// stopping leaves its claim, and another engine in this process need
    /// not wait out the lease.
    pub(super) async fn release_claims(&self) {
        let claimant = self.claimant.clone();
        if let Err(StoreFailure::Failed(err)) = self
            .store
            .with(move |s| s.outbox_release_all(&claimant))
            .await
        {
            tracing::warn!(error = %err, "could not release outbox claims");
        }
    }

    /// Puts a submitted change into the outbox: the store first, then
    /// [`SyncEvent::Queued`], both under the store's lock. A store that
    /// cannot take it refuses the change with [`SyncEvent::Rejected`]
    /// (status 0), so the UI hands the user's work back instead of
    /// promising to send it.
    pub(super) async fn submit(&self, key: IdempotencyKey, op: OutboxOp) -> Result<(), Stopped> {
        let events = self.events.clone();
        let (saved_key, saved_op) = (key.clone(), op.clone());
        let stored = self
            .store
            .with(move |s| {
                s.outbox_push(&saved_key, &saved_op, OffsetDateTime::now_utc())?;
                let _ = events.send(SyncEvent::Queued { key: saved_key });
                Ok(())
            })
            .await;
        self.settle_submit(stored, [(key, op)])
    }

    /// Puts a unit of changes (a merge) into the outbox in one
    /// transaction, then reports each item [`SyncEvent::Queued`]; a store
    /// that cannot take it refuses every item (status 0), as
    /// [`Courier::submit`] does.
    pub(super) async fn submit_unit(&self, unit: Unit) -> Result<(), Stopped> {
        let events = self.events.clone();
        let saved = unit.clone();
        let stored = self
            .store
            .with(move |s| {
                s.outbox_push_unit(&saved, OffsetDateTime::now_utc())?;
                for (key, _) in &saved.items {
                    let _ = events.send(SyncEvent::Queued { key: key.clone() });
                }
                Ok(())
            })
            .await;
        self.settle_submit(stored, unit.items)
    }

    /// After a submit: a store that could not take the changes refuses
    /// each of them (status 0), so the UI hands the user's work back
    /// instead of promising to send it.
    fn settle_submit(
        &self,
        stored: Result<(), StoreFailure>,
        items: impl IntoIterator<Item = (IdempotencyKey, OutboxOp)>,
    ) -> Result<(), Stopped> {
        match stored {
            Ok(()) => Ok(()),
            Err(StoreFailure::Closed) => Err(Stopped),
            Err(StoreFailure::Failed(err)) => {
                tracing::warn!(error = %err, "could not save a change to the outbox");
                for (key, op) in items {
                    self.emit(SyncEvent::Rejected {
                        key,
                        op,
                        status: 0,
                        message: format!("not saved, so not sent: {err}"),
                        param: None,
                    });
                }
                Ok(())
            }
        }
    }

    /// Delivers the queue from its head until it is empty, the head must
    /// wait, or another delivery holds it; then reports the queue as the
    /// store has it.
    pub(super) async fn deliver(self) -> DeliveryEnd {
        let mut progressed = false;
        let end = loop {
            let events = self.events.clone();
            let step = deliver_head(&self.store, &self.client, &self.claimant, move |step| {
                for event in events_of(step) {
                    let _ = events.send(event);
                }
            })
            .await;
            match step {
                Ok(Step::Delivered { .. } | Step::Rejected { .. }) => progressed = true,
                Ok(Step::Empty) => break DeliveryEnd::Drained,
                Ok(Step::Busy) => break DeliveryEnd::Busy,
                Ok(Step::Waiting { item, error }) => {
                    break DeliveryEnd::Waiting {
                        key: Some(item.key),
                        reason: short_reason(&error),
                        retry_after: error.retry_after(),
                        progressed,
                    };
                }
                Err(StoreFailure::Closed) => return DeliveryEnd::Stopped,
                Err(StoreFailure::Failed(err)) => {
                    let reason = err.to_string();
                    self.report_store(&err);
                    break DeliveryEnd::Waiting {
                        key: None,
                        reason,
                        retry_after: None,
                        progressed,
                    };
                }
            }
        };
        if let Err(Stopped) = self.report_outbox().await {
            return DeliveryEnd::Stopped;
        }
        end
    }

    /// Reads the outbox and sends it as [`SyncEvent::Outbox`] if it differs
    /// from what was last reported, under the store's lock so that it is in
    /// order with the events of submitting and settling.
    pub(super) async fn report_outbox(&self) -> Result<(), Stopped> {
        let events = self.events.clone();
        let reported = self.reported.clone();
        match self
            .store
            .with(move |s| {
                let pending = s.outbox_pending()?;
                if reported.changed_to(&pending) {
                    let merges = s.pending_merges()?;
                    let _ = events.send(SyncEvent::Outbox { pending, merges });
                }
                Ok(())
            })
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreFailure::Closed) => Err(Stopped),
            Err(StoreFailure::Failed(err)) => {
                self.report_store(&err);
                Ok(())
            }
        }
    }
}

/// What the UI was last told the outbox holds (keys and last errors), so
/// that an unchanged outbox is not reported again. Not a copy of the queue:
/// nothing is ever delivered from it.
#[derive(Clone, Default)]
pub(super) struct Reported(Arc<Mutex<Vec<Summary>>>);

/// An outbox item as reported: its key and why its last attempt failed.
type Summary = (IdempotencyKey, Option<String>);

impl Reported {
    /// Records `pending` as reported; `true` if it differs from the last.
    pub(super) fn changed_to(&self, pending: &[OutboxItem]) -> bool {
        let now: Vec<Summary> = pending
            .iter()
            .map(|item| (item.key.clone(), item.last_error.clone()))
            .collect();
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if *last == now {
            return false;
        }
        *last = now;
        true
    }
}

/// The events that tell the UI about a settled step: a refused edit of a
/// unit also reports each item of the unit it took with it, unsent.
fn events_of(step: &Step) -> Vec<SyncEvent> {
    match step {
        Step::Delivered { item, customer } => vec![SyncEvent::Delivered {
            key: item.key.clone(),
            op: item.op.clone(),
            customer: customer.clone(),
        }],
        Step::Rejected {
            item,
            status,
            message,
            param,
            dropped,
        } => {
            let mut events = vec![SyncEvent::Rejected {
                key: item.key.clone(),
                op: item.op.clone(),
                status: *status,
                message: message.clone(),
                param: param.clone(),
            }];
            events.extend(dropped.iter().map(|other| SyncEvent::Rejected {
                key: other.key.clone(),
                op: other.op.clone(),
                status: 0,
                message: format!("not sent, as the change before it was refused: {message}"),
                param: None,
            }));
            events
        }
        Step::Waiting { .. } | Step::Empty | Step::Busy => Vec::new(),
    }
}
