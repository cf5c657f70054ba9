//! Delivering the outbox: the one path by which a queued change reaches
//! Pivotal, for the app's engine and the command line alike, with one set
//! of rules.
//!
//! The store's `outbox` table is the queue, shared by every process on the
//! account; nothing here keeps a copy of it. [`deliver_head`] claims the
//! head in a store transaction, sends it with its own key (for a create,
//! the `Idempotency-Key`, so a repeat after a crash or a lost answer makes
//! nothing twice), then settles it:
//! - delivered: the item leaves the outbox and the server's customer enters
//!   the cache, in one transaction;
//! - refused for good, only a definite refusal of that change itself
//!   (`400`, `404`, `422`, or the client refusing to send it at all): the
//!   item leaves the outbox, and the caller says so; a refused edit of a
//!   unit (a merge's `PATCH`) takes the rest of its unit with it, so a
//!   merge Pivotal refused archives nothing;
//! - anything else (network, time-out, `429`, `5xx`, a refused or
//!   insufficient API key, an idempotency `409`, an answer the client
//!   cannot read): the item stays at the head with its key, unclaimed, and
//!   delivery stops until later. None of these says the change itself is
//!   wrong, so dropping it would lose the user's work.
//!
//! The head blocks the items behind it: sending past it could apply changes
//! out of order (an edit before its create, a restore before its archive).
//!
//! Must not know about the UI, the engine's scheduling or printing.

use time::OffsetDateTime;

use super::shared::{SharedStore, StoreFailure};
use super::short_reason;
use crate::api::{ApiError, Client, Customer, IdempotencyKey};
use crate::store::{Claim, Claimant, OutboxItem, OutboxOp};

/// What one call of [`deliver_head`] did.
#[derive(Debug)]
pub enum Step {
    /// The queue is empty.
    Empty,
    /// Another delivery (another process, or another engine) is sending the
    /// head; try again shortly.
    Busy,
    /// The server applied the head; it has left the outbox and `customer`
    /// is cached.
    Delivered {
        item: OutboxItem,
        customer: Customer,
    },
    /// The server (or the client) refused the head for good; it has left
    /// the outbox. `status` is 0 when the client refused to send it. When
    /// the head was the edit of a unit (a merge), the items of that unit
    /// behind it left too, unsent: `dropped`.
    Rejected {
        item: OutboxItem,
        status: u16,
        message: String,
        param: Option<String>,
        dropped: Vec<OutboxItem>,
    },
    /// The head could not be delivered now and stays; delivery stops.
    Waiting { item: OutboxItem, error: ApiError },
}

/// How the answer to one send settles its item.
enum Verdict {
    Delivered(Customer),
    Rejected {
        status: u16,
        message: String,
        param: Option<String>,
    },
    Wait(ApiError),
}

impl Verdict {
    fn of(result: Result<Customer, ApiError>) -> Verdict {
        match result {
            Ok(customer) => Verdict::Delivered(customer),
            Err(ApiError::Api {
                status: status @ (400 | 404 | 422),
                message,
                param,
                ..
            }) => Verdict::Rejected {
                status,
                message,
                param,
            },
            // Never sent, and sending again would not help: the client
            // refused the request itself (e.g. an empty customer id).
            Err(ApiError::Config { reason }) => Verdict::Rejected {
                status: 0,
                message: reason,
                param: None,
            },
            Err(err) => Verdict::Wait(err),
        }
    }
}

/// Claims the head of the outbox for `who`, sends it and settles it (see
/// the module's rules). `report` is called with the step under the store's
/// lock, right after the write that settled it, so that whoever it tells
/// sees steps in the order the store took them.
///
/// # Errors
///
/// The store failing (the item, if one was claimed, stays claimed by `who`
/// and is sent again with its key by `who`'s next call, or by anyone once
/// `who`'s process has ended), or being closed.
pub async fn deliver_head<R>(
    store: &SharedStore,
    client: &Client,
    who: &Claimant,
    report: R,
) -> Result<Step, StoreFailure>
where
    R: FnOnce(&Step) + Send + 'static,
{
    let claimant = who.clone();
    let claim = store
        .with(move |s| s.outbox_claim(&claimant, OffsetDateTime::now_utc()))
        .await?;
    let item = match claim {
        Claim::Empty => return Ok(Step::Empty),
        Claim::Busy => return Ok(Step::Busy),
        Claim::Item(item) => *item,
    };
    let result = send_change(client, &item.key, &item.op).await;
    let claimant = who.clone();
    store
        .with(move |s| {
            let step = match Verdict::of(result) {
                Verdict::Delivered(customer) => {
                    s.outbox_delivered(&item.key, &customer)?;
                    Step::Delivered { item, customer }
                }
                Verdict::Rejected {
                    status,
                    message,
                    param,
                } => {
                    let dropped = s.outbox_refused(&item.key)?;
                    Step::Rejected {
                        item,
                        status,
                        message,
                        param,
                        dropped,
                    }
                }
                Verdict::Wait(error) => {
                    s.outbox_release(&item.key, &claimant, &short_reason(&error))?;
                    Step::Waiting { item, error }
                }
            };
            report(&step);
            Ok(step)
        })
        .await
}

/// Sends one outbox change with its key: the one mapping from a change to
/// its request.
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

    #[test]
    fn only_a_refusal_of_the_change_itself_is_final() {
        let final_ = [
            (ApiError::api(400, "invalid_request", "bad", None), 400),
            (ApiError::api(404, "not_found", "gone", Some("id")), 404),
            (
                ApiError::api(422, "validation_failed", "who?", Some("owner_id")),
                422,
            ),
            (ApiError::config("a customer id must not be empty"), 0),
        ];
        for (err, status) in final_ {
            let param = err.param().map(str::to_owned);
            match Verdict::of(Err(err)) {
                Verdict::Rejected {
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
    }

    #[test]
    fn a_refused_key_a_conflict_or_an_unreadable_answer_keeps_the_change() {
        let waiting = [
            ApiError::api(401, "unauthorized", "no", None),
            ApiError::api(403, "forbidden", "no", None),
            ApiError::api(409, "idempotency_conflict", "other body", None),
            ApiError::api(405, "http_error", "HTTP 405", None),
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
                matches!(Verdict::of(Err(err)), Verdict::Wait(_)),
                "{shown} should keep the change"
            );
        }
    }
}
