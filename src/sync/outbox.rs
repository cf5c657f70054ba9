//! Delivering the outbox: changes made in the app, sent to the server in
//! the order they were made, each until the server has it or refuses it.
//!
//! A submitted change is written to the store before anything else (so a
//! quit, a crash or a dropped network cannot lose it) and kept in a
//! [`Queue`] in memory as well, so delivery goes on from memory if the store
//! fails. One delivery task at a time takes the head of the queue and sends
//! it under the client's retry policy, always with the item's own key: for a
//! create that is the `Idempotency-Key`, so the server answers every repeat,
//! even one after a restart, with the customer the first attempt made.
//! Updates, archives and restores are safe to repeat as they are (they set
//! values), and their key only names the item in the outbox.
//!
//! Then:
//! - delivered: the item leaves the outbox and the server's customer enters
//!   the cache, in one store transaction; the task goes on with the next;
//! - refused for good (a `4xx` other than `401`, `403`, `429`): the item
//!   leaves the outbox and the UI gets it back with the server's message;
//! - anything else (network, time-out, `429`, `5xx`, an unreadable answer,
//!   a refused API key, which must not cost the user their work): the
//!   item stays at the head, the task ends, and the engine tries again after
//!   a back-off like a failed sync run's, or sooner when woken.
//!
//! The head blocks the items behind it. Sending them past it could apply
//! changes out of order: an edit of a customer before its create, two edits
//! of one field with the older one winning, a restore before its archive.
//! What keeps a head waiting (the server or the network being down, the key
//! refused) usually fails every request alike, so holding the rest back
//! costs little.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::task::{JoinError, JoinSet};
use tokio::time::Instant;

use super::engine::{Engine, RunError};
use super::{SyncEvent, short_reason};
use crate::api::{ApiError, Client, Customer, IdempotencyKey};
use crate::store::{OutboxItem, OutboxOp};

/// The outbox as this run of the engine knows it, in queue order: loaded
/// from the store at start, then added to by `Submit` and taken from by
/// delivery. The store holds the same items durably.
#[derive(Clone, Default)]
pub(super) struct Queue(Arc<Mutex<VecDeque<OutboxItem>>>);

impl Queue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<OutboxItem>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds `items` at the end, skipping keys already queued.
    pub(super) fn extend(&self, items: impl IntoIterator<Item = OutboxItem>) {
        let mut queue = self.lock();
        for item in items {
            if !queue.iter().any(|queued| queued.key == item.key) {
                queue.push_back(item);
            }
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn head(&self) -> Option<OutboxItem> {
        self.lock().front().cloned()
    }

    fn remove(&self, key: &IdempotencyKey) {
        self.lock().retain(|item| item.key != *key);
    }

    fn record_attempt(&self, key: &IdempotencyKey, reason: &str) {
        if let Some(item) = self.lock().iter_mut().find(|item| item.key == *key) {
            item.attempts = item.attempts.saturating_add(1);
            item.last_error = Some(reason.to_owned());
        }
    }
}

/// How a delivery task ended.
pub(super) enum DeliveryEnd {
    /// The queue is empty.
    Drained,
    /// The head must wait.
    Waiting {
        key: IdempotencyKey,
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
}

impl Delivery {
    /// Starts delivery now if nothing is running and `queue` has items,
    /// cutting short a back-off.
    pub(super) fn wake(&mut self, queue: &Queue) {
        if self.task.is_empty() && !queue.is_empty() {
            self.next = Some(Instant::now());
        }
    }

    /// Whether a task should start at [`Delivery::due_at`].
    pub(super) fn is_due(&self) -> bool {
        self.task.is_empty() && self.next.is_some()
    }

    pub(super) fn due_at(&self) -> Instant {
        self.next.unwrap_or_else(Instant::now)
    }

    pub(super) fn start(&mut self, engine: Engine) {
        self.next = None;
        self.task.spawn(engine.deliver());
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
        engine: &Engine,
    ) -> bool {
        match end {
            Ok(DeliveryEnd::Drained) => {
                self.failures = 0;
                // Submitted while the task was finding the queue empty.
                self.wake(&engine.outbox);
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
                let retry_in = engine
                    .backoff(self.failures)
                    .max(retry_after.unwrap_or_default());
                self.failures = self.failures.saturating_add(1);
                engine.emit(SyncEvent::Waiting {
                    key,
                    reason,
                    retry_in,
                });
                self.next = Some(Instant::now() + retry_in);
            }
            Ok(DeliveryEnd::Stopped) => return false,
            Err(err) if err.is_panic() => {
                tracing::error!("an outbox delivery panicked");
                self.next = Some(Instant::now() + engine.backoff(self.failures));
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

/// What became of one attempt to deliver an item.
enum Outcome {
    Delivered(Customer),
    Rejected {
        status: u16,
        message: String,
        param: Option<String>,
    },
    /// Worth trying again later.
    Wait(ApiError),
}

impl Outcome {
    fn of(result: Result<Customer, ApiError>) -> Outcome {
        match result {
            Ok(customer) => Outcome::Delivered(customer),
            Err(ApiError::Api {
                status,
                message,
                param,
                ..
            }) if status < 500 && !matches!(status, 401 | 403) => Outcome::Rejected {
                status,
                message,
                param,
            },
            // Never sent, and sending again would not help: the client
            // refused the request itself (e.g. an empty customer id).
            Err(ApiError::Config { reason }) => Outcome::Rejected {
                status: 0,
                message: reason,
                param: None,
            },
            Err(err) => Outcome::Wait(err),
        }
    }
}

impl Engine {
    /// Puts a submitted change into the outbox: the store first, then the
    /// queue in memory, then [`SyncEvent::Queued`]. A store that cannot be
    /// written is reported and the change is kept in memory only.
    pub(super) async fn submit(&self, key: IdempotencyKey, op: OutboxOp) -> Result<(), RunError> {
        let item = OutboxItem {
            key,
            op,
            queued_at: OffsetDateTime::now_utc(),
            attempts: 0,
            last_error: None,
        };
        let saved = item.clone();
        self.write(move |s| s.outbox_push(&saved.key, &saved.op, saved.queued_at))
            .await?;
        let key = item.key.clone();
        self.outbox.extend([item]);
        self.emit(SyncEvent::Queued { key });
        Ok(())
    }

    /// Delivers the queue from its head until it is empty or the head must
    /// wait.
    async fn deliver(self) -> DeliveryEnd {
        let mut progressed = false;
        while let Some(OutboxItem { key, op, .. }) = self.outbox.head() {
            let result = send_change(&self.client, &key, &op).await;
            match Outcome::of(result) {
                Outcome::Delivered(customer) => {
                    let (saved_key, saved) = (key.clone(), customer.clone());
                    let stored = self.write(move |s| s.outbox_delivered(&saved_key, &saved));
                    if let Err(RunError::Stopped) = stored.await {
                        return DeliveryEnd::Stopped;
                    }
                    self.outbox.remove(&key);
                    self.emit(SyncEvent::Delivered { key, op, customer });
                }
                Outcome::Rejected {
                    status,
                    message,
                    param,
                } => {
                    let saved_key = key.clone();
                    let stored = self.write(move |s| s.outbox_remove(&saved_key));
                    if let Err(RunError::Stopped) = stored.await {
                        return DeliveryEnd::Stopped;
                    }
                    self.outbox.remove(&key);
                    self.emit(SyncEvent::Rejected {
                        key,
                        op,
                        status,
                        message,
                        param,
                    });
                }
                Outcome::Wait(err) => {
                    let reason = short_reason(&err);
                    let (saved_key, saved_reason) = (key.clone(), reason.clone());
                    let stored =
                        self.write(move |s| s.outbox_record_attempt(&saved_key, &saved_reason));
                    if let Err(RunError::Stopped) = stored.await {
                        return DeliveryEnd::Stopped;
                    }
                    self.outbox.record_attempt(&key, &reason);
                    return DeliveryEnd::Waiting {
                        key,
                        reason,
                        retry_after: err.retry_after(),
                        progressed,
                    };
                }
            }
            progressed = true;
        }
        DeliveryEnd::Drained
    }
}

/// Sends one outbox change with its key: the one mapping from a change to
/// its request, for the engine and the command line alike.
pub async fn send_change(
    client: &Client,
    key: &IdempotencyKey,
    op: &OutboxOp,
) -> Result<Customer, ApiError> {
    match op {
        OutboxOp::Create { customer } => client.create_customer(customer, key).await,
        OutboxOp::Update { customer_id, patch } => client.update_customer(customer_id, patch).await,
        OutboxOp::Archive { customer_id } => client.archive_customer(customer_id).await,
        OutboxOp::Restore { customer_id } => client.restore_customer(customer_id).await,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::api::NewCustomer;

    fn item(name: &str) -> OutboxItem {
        OutboxItem {
            key: IdempotencyKey::new(),
            op: OutboxOp::Create {
                customer: NewCustomer {
                    name: name.to_owned(),
                    ..NewCustomer::default()
                },
            },
            queued_at: OffsetDateTime::UNIX_EPOCH,
            attempts: 0,
            last_error: None,
        }
    }

    #[test]
    fn refusals_other_than_the_key_are_final_and_the_rest_waits() {
        let rejected = [
            (ApiError::api(400, "invalid_request", "bad", None), 400),
            (ApiError::api(404, "not_found", "gone", Some("id")), 404),
            (
                ApiError::api(409, "idempotency_conflict", "other body", None),
                409,
            ),
            (
                ApiError::api(422, "validation_failed", "who?", Some("owner_id")),
                422,
            ),
            (ApiError::config("a customer id must not be empty"), 0),
        ];
        for (err, status) in rejected {
            let param = err.param().map(str::to_owned);
            match Outcome::of(Err(err)) {
                Outcome::Rejected {
                    status: got,
                    param: got_param,
                    message,
                } => {
                    assert_eq!((got, got_param), (status, param), "{message}");
                    assert!(!message.is_empty());
                }
                _ => panic!("{status} should be final"),
            }
        }
        let waiting = [
            ApiError::api(401, "unauthorized", "no", None),
            ApiError::api(403, "forbidden", "no", None),
            ApiError::api(500, "server_error", "boom", None),
            ApiError::api(503, "server_error", "busy", None),
            ApiError::rate_limited(Duration::from_secs(3), "slow down"),
            ApiError::Timeout,
            ApiError::Network {
                reason: "connection refused".into(),
            },
            ApiError::decode("expected value"),
        ];
        for err in waiting {
            let shown = err.to_string();
            assert!(
                matches!(Outcome::of(Err(err)), Outcome::Wait(_)),
                "{shown} should wait"
            );
        }
    }

    #[test]
    fn the_queue_keeps_order_skips_known_keys_and_counts_attempts() {
        let queue = Queue::default();
        let (a, b, c) = (item("A"), item("B"), item("C"));
        queue.extend([a.clone(), b.clone()]);
        let mut changed = a.clone();
        changed.op = item("Changed").op;
        queue.extend([changed, c.clone()]);
        assert_eq!(queue.head(), Some(a.clone()), "a known key keeps its op");

        queue.record_attempt(&a.key, "timed out");
        let head = queue.head().expect("head");
        assert_eq!(
            (head.attempts, head.last_error.as_deref()),
            (1, Some("timed out"))
        );

        queue.remove(&a.key);
        assert_eq!(queue.head(), Some(b.clone()));
        queue.remove(&b.key);
        queue.remove(&c.key);
        assert!(queue.is_empty());
    }
}
