//! The outbox: creates and edits made in this app, kept in the store file
//! from the moment they are made until the server has them, so that a quit,
//! a crash or a dropped network never loses them and a create is made
//! exactly once (every attempt reuses the item's idempotency key).
//!
//! The table is the one queue of changes for every process on the account:
//! the app, the command line and a second window each claim the head in a
//! transaction before sending it ([`Store::outbox_claim`]) and settle it
//! after, so no item is sent by two processes at once, and none is sent
//! again from a copy in memory after another process delivered it.
//!
//! Owns the `outbox` table (see `schema.rs`, migrations 3 and 4), the
//! claims, and the write that retires a delivered item together with
//! caching the server's answer. Sending, retrying and deciding what is
//! permanent belong to `sync::deliver`, not here.

use std::time::Duration;

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::customers::upsert_if_newer;
use super::{Store, StoreError, encode, micros, text, timestamp};
use crate::api::{Customer, CustomerPatch, IdempotencyKey, NewCustomer};

/// One change waiting to be sent, stored as JSON tagged by `op`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OutboxOp {
    /// `POST /v1/customers`, sent with the item's key as `Idempotency-Key`.
    Create { customer: NewCustomer },
    /// `PATCH /v1/customers/{customer_id}`.
    Update {
        customer_id: String,
        patch: CustomerPatch,
    },
    /// `POST /v1/customers/{customer_id}/archive`.
    Archive { customer_id: String },
    /// `POST /v1/customers/{customer_id}/restore`.
    Restore { customer_id: String },
}

/// An item of the outbox as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// The item's identity; for a create, also its `Idempotency-Key`.
    pub key: IdempotencyKey,
    pub op: OutboxOp,
    /// When the change was made.
    pub queued_at: OffsetDateTime,
    /// Delivery attempts that failed for a reason worth retrying (each may
    /// have been several requests under the client's retry policy).
    pub attempts: u32,
    /// Why the last failed attempt failed, in a few words.
    pub last_error: Option<String>,
}

/// How long a claim holds when its process cannot be checked: longer than
/// one delivery can take under the client's retry policy (five attempts of
/// at most 20 s, with back-off between them).
pub const CLAIM_LEASE: Duration = Duration::from_secs(5 * 60);

/// Who is delivering the outbox: one per engine or command run. Its token
/// tells its claims apart from those of another engine in the same process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    token: String,
    pid: u32,
}

impl Claimant {
    /// A new claimant for this process.
    pub fn new() -> Claimant {
        Claimant {
            token: uuid::Uuid::new_v4().to_string(),
            pid: std::process::id(),
        }
    }
}

impl Default for Claimant {
    fn default() -> Self {
        Claimant::new()
    }
}

/// What [`Store::outbox_claim`] found at the head of the queue.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The head, now claimed by the caller: send it, then settle it with
    /// [`Store::outbox_delivered`], [`Store::outbox_remove`] or
    /// [`Store::outbox_release`].
    Item(Box<OutboxItem>),
    /// Nothing is waiting.
    Empty,
    /// Another delivery (another process, or another engine in this one)
    /// is sending the head; the items behind it wait for it.
    Busy,
}

impl Store {
    /// Adds a change at the end of the outbox. Pushing a key that is
    /// already there changes nothing (the first op stays: it may already
    /// have reached the server under that key).
    ///
    /// Durable once this returns: the store runs in WAL mode with
    /// `synchronous=NORMAL`, where a commit is in the WAL file (handed to
    /// the OS) before it returns, so it survives the process crashing or
    /// being killed. Only an OS crash or power loss can lose the latest
    /// commits, as NORMAL does not fsync the WAL at every commit.
    pub fn outbox_push(
        &mut self,
        key: &IdempotencyKey,
        op: &OutboxOp,
        queued_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO outbox (key, op, queued_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO NOTHING",
            )?
            .execute(params![key.to_string(), encode(op)?, micros(queued_at)])?;
        Ok(())
    }

    /// Every item waiting, oldest first (the order they were pushed in).
    ///
    /// An item this build cannot read (written by a newer build, say) is
    /// left in the file for that build and skipped here, with a warning,
    /// so that it cannot hold up the rest.
    pub fn outbox_pending(&self) -> Result<Vec<OutboxItem>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT key, op, queued_at, attempts, last_error FROM outbox ORDER BY seq",
        )?;
        let mut rows = statement.query([])?;
        let mut items = Vec::new();
        while let Some(row) = rows.next()? {
            items.extend(read_item(row)?);
        }
        Ok(items)
    }

    /// Claims the head of the queue for `who`, in one immediate transaction:
    /// the head is handed out only if nobody else holds a live claim on it.
    /// A claim is live while its process runs (on Unix; elsewhere, for
    /// [`CLAIM_LEASE`]) and younger than the lease, so an item whose sender
    /// was killed between claiming and settling is taken over and sent
    /// again with its key.
    ///
    /// Items this build cannot read are passed over, as in
    /// [`Store::outbox_pending`].
    pub fn outbox_claim(
        &mut self,
        who: &Claimant,
        now: OffsetDateTime,
    ) -> Result<Claim, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let head = {
            let mut statement = tx.prepare_cached(
                "SELECT key, op, queued_at, attempts, last_error, claimed_by, claimed_pid, claimed_at
                 FROM outbox ORDER BY seq",
            )?;
            let mut rows = statement.query([])?;
            let mut head = None;
            while let Some(row) = rows.next()? {
                let Some(item) = read_item(row)? else {
                    continue;
                };
                let claimed_by: Option<String> = row.get(5)?;
                let live = match claimed_by {
                    Some(token) if token != who.token => {
                        let pid: Option<i64> = row.get(6)?;
                        let at: Option<i64> = row.get(7)?;
                        claim_is_live(pid, at, now)
                    }
                    _ => false,
                };
                head = Some((item, live));
                break;
            }
            head
        };
        let claim = match head {
            None => Claim::Empty,
            Some((_, true)) => Claim::Busy,
            Some((item, false)) => {
                tx.prepare_cached(
                    "UPDATE outbox SET claimed_by = ?2, claimed_pid = ?3, claimed_at = ?4
                     WHERE key = ?1",
                )?
                .execute(params![
                    item.key.to_string(),
                    who.token,
                    i64::from(who.pid),
                    micros(now)
                ])?;
                Claim::Item(Box::new(item))
            }
        };
        tx.commit()?;
        Ok(claim)
    }

    /// Records a failed attempt to deliver `key` that will be retried, and
    /// lets go of `who`'s claim on it.
    pub fn outbox_release(
        &mut self,
        key: &IdempotencyKey,
        who: &Claimant,
        error: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2,
                        claimed_by = CASE WHEN claimed_by = ?3 THEN NULL ELSE claimed_by END
                 WHERE key = ?1",
            )?
            .execute(params![key.to_string(), error, who.token])?;
        Ok(())
    }

    /// Lets go of every claim `who` holds, without counting an attempt: when
    /// an engine stops in the middle of a delivery.
    pub fn outbox_release_all(&mut self, who: &Claimant) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE outbox SET claimed_by = NULL WHERE claimed_by = ?1")?
            .execute([&who.token])?;
        Ok(())
    }

    /// Whether `key` is still in the outbox.
    pub fn outbox_contains(&self, key: &IdempotencyKey) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM outbox WHERE key = ?1")?
            .query_row([key.to_string()], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// The server accepted `key` and answered with `customer`: in one
    /// transaction the item leaves the outbox and `customer` goes into the
    /// cache (replacing an older copy, leaving a newer one; an archived one
    /// stays cached as archived, with its history).
    ///
    /// The high-water mark is not touched: it stands for "every change up
    /// to here has been synced", which one customer does not prove. A sync
    /// page carrying an older copy of `customer` later is ignored by the
    /// cache's "never older" rule ([`Store::apply_page`]).
    pub fn outbox_delivered(
        &mut self,
        key: &IdempotencyKey,
        customer: &Customer,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        super::units::note_edit_applied(&tx, key, customer.updated_at)?;
        tx.prepare_cached("DELETE FROM outbox WHERE key = ?1")?
            .execute([key.to_string()])?;
        upsert_if_newer(&tx, customer)?;
        tx.commit()?;
        Ok(())
    }

    /// Drops `key` from the outbox: after the server refused it for good.
    pub fn outbox_remove(&mut self, key: &IdempotencyKey) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM outbox WHERE key = ?1")?
            .execute([key.to_string()])?;
        Ok(())
    }
}

/// The item in the first five columns of `row` (key, op, queued_at,
/// attempts, last_error), or `None`, with a warning, when this build cannot
/// read it (written by a newer build, say): it is left in the file for that
/// build and cannot hold up the rest.
pub(super) fn read_item(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<OutboxItem>> {
    let key = text(row, 0)?;
    let (Ok(parsed), Ok(op)) = (key.parse(), serde_json::from_str(text(row, 1)?)) else {
        tracing::warn!(key, "skipped an outbox item this build cannot read");
        return Ok(None);
    };
    Ok(Some(OutboxItem {
        key: parsed,
        op,
        queued_at: timestamp(row, 2)?,
        attempts: row.get(3)?,
        last_error: row.get(4)?,
    }))
}

/// Whether a claim made by process `pid` at `at` (unix microseconds) still
/// holds at `now`.
fn claim_is_live(pid: Option<i64>, at: Option<i64>, now: OffsetDateTime) -> bool {
    let lease = i64::try_from(CLAIM_LEASE.as_micros()).unwrap_or(i64::MAX);
    let fresh = at.is_some_and(|at| micros(now) < at.saturating_add(lease));
    fresh
        && pid
            .and_then(|p| u32::try_from(p).ok())
            .is_some_and(process_runs)
}

/// Whether process `pid` runs on this machine (signal 0 checks without
/// sending anything; `EPERM` means it runs as another user).
#[cfg(unix)]
fn process_runs(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing; it only checks the pid.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Without a cheap check, a claim holds for its lease.
#[cfg(not(unix))]
fn process_runs(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::api::Patch;
    use crate::store::testing::{at, customer, event};

    fn create(name: &str) -> OutboxOp {
        OutboxOp::Create {
            customer: NewCustomer {
                name: name.to_owned(),
                domain: Some("acme.com".to_owned()),
                owner_id: None,
                plan: Some("Growth".to_owned()),
                tags: vec!["beta".to_owned()],
                custom_fields: BTreeMap::from([("region".to_owned(), "EMEA".to_owned())]),
            },
        }
    }

    fn every_patch() -> CustomerPatch {
        CustomerPatch {
            name: Some("Renamed".to_owned()),
            domain: Patch::Clear,
            owner_id: Patch::Set("usr_2".to_owned()),
            plan: Patch::Keep,
            tags: Some(Vec::new()),
            custom_fields: None,
        }
    }

    fn keys(items: &[OutboxItem]) -> Vec<IdempotencyKey> {
        items.iter().map(|item| item.key.clone()).collect()
    }

    #[test]
    fn pending_items_come_back_in_push_order_with_everything_pushed() {
        let mut store = Store::open_in_memory().expect("store");
        let pushed: Vec<(IdempotencyKey, OutboxOp)> = vec![
            (IdempotencyKey::new(), create("Acme")),
            (
                IdempotencyKey::new(),
                OutboxOp::Update {
                    customer_id: "cus_1".to_owned(),
                    patch: every_patch(),
                },
            ),
            (
                IdempotencyKey::new(),
                OutboxOp::Archive {
                    customer_id: "cus_2".to_owned(),
                },
            ),
            (
                IdempotencyKey::new(),
                OutboxOp::Restore {
                    customer_id: "cus_2".to_owned(),
                },
            ),
        ];
        // Queue order is push order, not key or time order.
        for (i, (key, op)) in pushed.iter().enumerate() {
            let secs = 100 - i64::try_from(i).expect("small");
            store.outbox_push(key, op, at(secs)).expect("push");
        }

        let pending = store.outbox_pending().expect("pending");
        let expected: Vec<OutboxItem> = pushed
            .iter()
            .enumerate()
            .map(|(i, (key, op))| OutboxItem {
                key: key.clone(),
                op: op.clone(),
                queued_at: at(100 - i64::try_from(i).expect("small")),
                attempts: 0,
                last_error: None,
            })
            .collect();
        assert_eq!(pending, expected);
    }

    #[test]
    fn pushing_a_key_twice_keeps_the_first_op_and_its_place() {
        let mut store = Store::open_in_memory().expect("store");
        let (first, second) = (IdempotencyKey::new(), IdempotencyKey::new());
        store
            .outbox_push(&first, &create("One"), at(1))
            .expect("push");
        store
            .outbox_push(&second, &create("Two"), at(2))
            .expect("push");
        store
            .outbox_release(&first, &Claimant::new(), "connection refused")
            .expect("attempt");

        store
            .outbox_push(&first, &create("Changed"), at(3))
            .expect("push again");

        let pending = store.outbox_pending().expect("pending");
        assert_eq!(keys(&pending), vec![first, second]);
        assert_eq!(pending[0].op, create("One"));
        assert_eq!(pending[0].queued_at, at(1));
        assert_eq!(pending[0].attempts, 1, "the attempt count is kept");
    }

    #[test]
    fn failed_attempts_are_counted_with_the_last_reason() {
        let mut store = Store::open_in_memory().expect("store");
        let key = IdempotencyKey::new();
        store
            .outbox_push(&key, &create("Acme"), at(1))
            .expect("push");
        store
            .outbox_release(&key, &Claimant::new(), "connection refused")
            .expect("attempt");
        store
            .outbox_release(&key, &Claimant::new(), "server error 503")
            .expect("attempt");
        // An unknown key changes nothing.
        store
            .outbox_release(&IdempotencyKey::new(), &Claimant::new(), "timed out")
            .expect("attempt");

        let pending = store.outbox_pending().expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].attempts, 2);
        assert_eq!(pending[0].last_error.as_deref(), Some("server error 503"));
    }

    #[test]
    fn a_delivered_item_leaves_and_its_customer_is_cached_without_moving_the_high_water_mark() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .apply_page(&[customer("cus_old", 50, false)])
            .expect("apply");
        let (key, other) = (IdempotencyKey::new(), IdempotencyKey::new());
        store
            .outbox_push(&key, &create("Acme"), at(1))
            .expect("push");
        store
            .outbox_push(&other, &create("Next"), at(2))
            .expect("push");

        let made = customer("cus_new", 90, false);
        store.outbox_delivered(&key, &made).expect("delivered");

        assert_eq!(keys(&store.outbox_pending().expect("pending")), vec![other]);
        let mut cached = store.load_customers().expect("load");
        cached.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(
            cached,
            vec![
                customer("cus_new", 90, false),
                customer("cus_old", 50, false)
            ]
        );
        assert_eq!(store.high_water().expect("high water"), Some(at(50)));
    }

    #[test]
    fn a_delivered_customer_follows_the_never_older_rule() {
        let mut store = Store::open_in_memory().expect("store");
        let newer = customer("cus_a", 20, false);
        store
            .apply_page(std::slice::from_ref(&newer))
            .expect("apply");

        // An older answer does not replace the cached copy...
        let mut stale = customer("cus_a", 10, false);
        stale.name = "Stale".to_owned();
        store
            .outbox_delivered(&IdempotencyKey::new(), &stale)
            .expect("delivered");
        assert_eq!(store.load_customers().expect("load"), vec![newer.clone()]);

        // ...nor does an older archive remove it...
        store
            .outbox_delivered(&IdempotencyKey::new(), &customer("cus_a", 15, true))
            .expect("delivered");
        assert_eq!(store.load_customers().expect("load"), vec![newer]);

        // ...and a later page with an older copy cannot undo a delivery.
        let mut renamed = customer("cus_a", 30, false);
        renamed.name = "Renamed here".to_owned();
        store
            .outbox_delivered(&IdempotencyKey::new(), &renamed)
            .expect("delivered");
        store
            .apply_page(&[customer("cus_a", 20, false)])
            .expect("apply");
        assert_eq!(store.load_customers().expect("load"), vec![renamed]);
    }

    #[test]
    fn a_delivered_archive_leaves_the_live_list_and_stays_cached_as_archived_with_its_history() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .apply_page(&[customer("cus_a", 10, false), customer("cus_b", 10, false)])
            .expect("apply");
        store
            .save_history("cus_a", &[event(10, "created")], at(11))
            .expect("history");
        let key = IdempotencyKey::new();
        let archive = OutboxOp::Archive {
            customer_id: "cus_a".to_owned(),
        };
        store.outbox_push(&key, &archive, at(12)).expect("push");

        store
            .outbox_delivered(&key, &customer("cus_a", 12, true))
            .expect("delivered");

        assert!(store.outbox_pending().expect("pending").is_empty());
        assert_eq!(
            store.load_customers().expect("load"),
            vec![customer("cus_b", 10, false)]
        );
        let archived = store.load_archived().expect("archived");
        assert_eq!(archived.len(), 1);
        assert_eq!(archived[0].customer, customer("cus_a", 12, true));
        assert_eq!(
            store.load_history("cus_a").expect("history"),
            Some(vec![event(10, "created")])
        );
        assert_eq!(store.high_water().expect("high water"), Some(at(10)));
    }

    #[test]
    fn every_field_of_a_delivered_customer_reads_back() {
        let mut store = Store::open_in_memory().expect("store");
        let mut bare = customer("cus_bare", 10, false);
        bare.domain = None;
        bare.owner_id = None;
        bare.plan = None;
        bare.tags.clear();
        bare.custom_fields.clear();
        bare.display_id = u64::MAX;
        let full = customer("cus_full", 11, false);
        for c in [&bare, &full] {
            store
                .outbox_delivered(&IdempotencyKey::new(), c)
                .expect("delivered");
        }
        let mut cached = store.load_customers().expect("load");
        cached.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(cached, vec![bare, full]);
    }

    #[test]
    fn a_removed_item_is_gone_and_the_rest_keep_their_order() {
        let mut store = Store::open_in_memory().expect("store");
        let items = [
            IdempotencyKey::new(),
            IdempotencyKey::new(),
            IdempotencyKey::new(),
        ];
        for (i, key) in items.iter().enumerate() {
            let secs = i64::try_from(i).expect("small");
            store
                .outbox_push(key, &create("Acme"), at(secs))
                .expect("push");
        }
        store.outbox_remove(&items[1]).expect("remove");
        store
            .outbox_remove(&items[1])
            .expect("removing twice is fine");
        assert_eq!(
            keys(&store.outbox_pending().expect("pending")),
            vec![items[0].clone(), items[2].clone()]
        );
        assert_eq!(store.customer_count().expect("count"), 0);
    }

    #[test]
    fn pending_items_survive_closing_and_reopening_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("accounts").join("a.sqlite3");
        let (key, later) = (IdempotencyKey::new(), IdempotencyKey::new());
        let queued_at = at(1_800_000_000) + time::Duration::microseconds(123_456);
        let mut store = Store::open(&path).expect("open");
        store
            .outbox_push(&key, &create("Acme"), queued_at)
            .expect("push");
        let update = OutboxOp::Update {
            customer_id: "cus_1".to_owned(),
            patch: every_patch(),
        };
        store.outbox_push(&later, &update, at(2)).expect("push");
        store
            .outbox_release(&key, &Claimant::new(), "connection refused")
            .expect("attempt");
        drop(store);

        let store = Store::open(&path).expect("reopen");
        assert_eq!(
            store.outbox_pending().expect("pending"),
            vec![
                OutboxItem {
                    key,
                    op: create("Acme"),
                    queued_at,
                    attempts: 1,
                    last_error: Some("connection refused".to_owned()),
                },
                OutboxItem {
                    key: later,
                    op: update,
                    queued_at: at(2),
                    attempts: 0,
                    last_error: None,
                },
            ]
        );
    }

    /// Absent is "keep", `null` is "clear": both must survive the stored
    /// JSON, or a stored edit would clear a field the user never touched.
    #[test]
    fn a_patch_round_trips_through_the_stored_json_keeping_absent_apart_from_null() {
        let mut store = Store::open_in_memory().expect("store");
        let patches = [
            every_patch(),
            CustomerPatch::default(),
            CustomerPatch {
                domain: Patch::Set("acme.com".to_owned()),
                plan: Patch::Clear,
                custom_fields: Some(BTreeMap::new()),
                ..CustomerPatch::default()
            },
        ];
        for (i, patch) in patches.iter().enumerate() {
            let key = IdempotencyKey::new();
            let op = OutboxOp::Update {
                customer_id: format!("cus_{i}"),
                patch: patch.clone(),
            };
            store.outbox_push(&key, &op, at(1)).expect("push");
            let stored: String = store
                .conn
                .query_row(
                    "SELECT op FROM outbox WHERE key = ?1",
                    [key.to_string()],
                    |row| row.get(0),
                )
                .expect("stored");
            let json: serde_json::Value = serde_json::from_str(&stored).expect("json");
            assert_eq!(json["op"], "update", "{stored}");
            let body = json["patch"].as_object().expect("patch object");
            for (field, value) in [
                ("domain", &patch.domain),
                ("owner_id", &patch.owner_id),
                ("plan", &patch.plan),
            ] {
                match value {
                    Patch::Keep => assert!(!body.contains_key(field), "{field}: {stored}"),
                    Patch::Clear => assert_eq!(body.get(field), Some(&serde_json::Value::Null)),
                    Patch::Set(v) => assert_eq!(body.get(field), Some(&serde_json::json!(v))),
                }
            }
            let pending = store.outbox_pending().expect("pending");
            assert_eq!(pending.last().map(|item| &item.op), Some(&op));
        }
    }

    #[test]
    fn ops_are_stored_as_json_tagged_by_op() {
        let archive = OutboxOp::Archive {
            customer_id: "cus_1".to_owned(),
        };
        assert_eq!(
            serde_json::to_value(&archive).expect("json"),
            serde_json::json!({"op": "archive", "customer_id": "cus_1"})
        );
        let create = serde_json::to_value(create("Acme")).expect("json");
        assert_eq!(create["op"], "create");
        assert_eq!(create["customer"]["name"], "Acme");
        assert!(create["customer"].get("owner_id").is_none(), "{create}");
    }

    #[test]
    fn an_item_this_build_cannot_read_is_skipped_and_kept() {
        let mut store = Store::open_in_memory().expect("store");
        let key = IdempotencyKey::new();
        store
            .conn
            .execute(
                "INSERT INTO outbox (key, op, queued_at) VALUES (?1, ?2, 0)",
                params![
                    IdempotencyKey::new().to_string(),
                    r#"{"op":"merge","into":"cus_1"}"#
                ],
            )
            .expect("insert a newer build's item");
        store
            .outbox_push(&key, &create("Acme"), at(1))
            .expect("push");

        assert_eq!(keys(&store.outbox_pending().expect("pending")), vec![key]);
        let rows: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |row| row.get(0))
            .expect("count");
        assert_eq!(
            rows, 2,
            "the unreadable item stays for the build that wrote it"
        );
    }

    fn claimed(claim: Claim) -> OutboxItem {
        match claim {
            Claim::Item(item) => *item,
            other => panic!("expected the head, got {other:?}"),
        }
    }

    #[test]
    fn the_head_goes_to_one_claimant_at_a_time_and_in_queue_order() {
        let mut store = Store::open_in_memory().expect("store");
        let (first, second) = (IdempotencyKey::new(), IdempotencyKey::new());
        store
            .outbox_push(&first, &create("One"), at(1))
            .expect("push");
        store
            .outbox_push(&second, &create("Two"), at(2))
            .expect("push");
        let (app, cli) = (Claimant::new(), Claimant::new());

        assert_eq!(
            claimed(store.outbox_claim(&app, at(10)).expect("claim")).key,
            first
        );
        // Another claimant, in this running process: the head is taken, and
        // the item behind it waits for it.
        assert_eq!(
            store.outbox_claim(&cli, at(11)).expect("claim"),
            Claim::Busy
        );
        // The holder may claim again (a retry after its own store failure).
        assert_eq!(
            claimed(store.outbox_claim(&app, at(12)).expect("claim")).key,
            first
        );

        store
            .outbox_release(&first, &app, "server error 503")
            .expect("release");
        let item = claimed(store.outbox_claim(&cli, at(13)).expect("claim"));
        assert_eq!((item.key, item.attempts), (first.clone(), 1));
        store.outbox_remove(&first).expect("settled");
        assert_eq!(
            claimed(store.outbox_claim(&app, at(14)).expect("claim")).key,
            second
        );
        store.outbox_remove(&second).expect("settled");
        assert_eq!(
            store.outbox_claim(&cli, at(15)).expect("claim"),
            Claim::Empty
        );
    }

    #[test]
    fn a_claim_whose_process_is_gone_or_past_its_lease_is_taken_over() {
        let mut store = Store::open_in_memory().expect("store");
        let key = IdempotencyKey::new();
        store
            .outbox_push(&key, &create("One"), at(1))
            .expect("push");
        let gone = Claimant {
            token: "killed".into(),
            // No process has this id (pids are far smaller).
            pid: i32::MAX.cast_unsigned(),
        };
        claimed(store.outbox_claim(&gone, at(10)).expect("claim"));
        let next = Claimant::new();
        assert_eq!(
            claimed(store.outbox_claim(&next, at(11)).expect("claim")).key,
            key
        );

        // A live process that has held it longer than the lease.
        let lease = i64::try_from(CLAIM_LEASE.as_secs()).expect("small");
        let later = Claimant::new();
        assert_eq!(
            store.outbox_claim(&later, at(12)).expect("claim"),
            Claim::Busy
        );
        assert_eq!(
            claimed(store.outbox_claim(&later, at(12 + lease)).expect("claim")).key,
            key
        );
    }

    #[test]
    fn releasing_every_claim_of_a_stopping_engine_frees_the_head() {
        let mut store = Store::open_in_memory().expect("store");
        let key = IdempotencyKey::new();
        store
            .outbox_push(&key, &create("One"), at(1))
            .expect("push");
        let (stopping, other) = (Claimant::new(), Claimant::new());
        claimed(store.outbox_claim(&stopping, at(10)).expect("claim"));
        store.outbox_release_all(&stopping).expect("release");
        let item = claimed(store.outbox_claim(&other, at(11)).expect("claim"));
        assert_eq!((item.key, item.attempts), (key, 0), "no attempt counted");
    }
}
