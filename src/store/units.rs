//! Units of outbox items: changes that belong together and are queued in
//! one transaction, such as a merge (the keeper's `PATCH` first, then each
//! loser's archive). Delivery stays item by item, in queue order, with the
//! outbox's claims (`outbox.rs`); what a unit adds is that a refused edit
//! drops the items of its unit behind it ([`Store::outbox_refused`]), so a
//! merge whose edit Pivotal refused archives nothing.
//!
//! Also owns `merged_into` (migration 6): which record each merged loser
//! went into, written with the merge's items and forgotten when the merge
//! is refused or undone, for `customers show` and the archived view; and
//! `merge_edits` (migration 7): what undoing a merge sets its keeper back
//! to, and when the server applied its edit. From these and the outbox the
//! store rebuilds every merge still pending ([`Store::pending_merges`]), so
//! that an app started again undoes one whole, as it would in the session
//! that made it.
//!
//! Must not send anything or decide what is permanent (`sync::deliver`).

use rusqlite::{OptionalExtension, Transaction, params};
use time::OffsetDateTime;

use super::outbox::read_item;
use super::{Store, StoreError, decode, encode, micros, text, timestamp};
use crate::api::{CustomerPatch, IdempotencyKey};
use crate::store::{OutboxItem, OutboxOp};

/// Changes queued together (see the module).
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The unit's own key, stored beside each of its items.
    pub id: IdempotencyKey,
    /// Each item with its own key, in the order they are to be sent.
    pub items: Vec<(IdempotencyKey, OutboxOp)>,
    /// Losers merged by this unit.
    pub merged: Vec<MergedInto>,
    /// Losers whose earlier merge this unit undoes.
    pub unmerged: Vec<String>,
    /// For a merge that edits its keeper: the edit that sets the changed
    /// fields back, kept for undo (after a restart too).
    pub keeper_back: Option<CustomerPatch>,
}

/// A merge with items still in the outbox, as the store has it: what an
/// app that starts again needs to show it and to undo it whole.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingMerge {
    /// The unit that carries it.
    pub unit: IdempotencyKey,
    pub keeper_id: String,
    pub keeper_display_id: u64,
    /// Every loser, those the server has archived already included.
    pub losers: Vec<String>,
    /// The keeper's edit, while it waits in the outbox.
    pub edit: Option<(IdempotencyKey, CustomerPatch)>,
    /// The archives still waiting, in queue order: (key, loser).
    pub archives: Vec<(IdempotencyKey, String)>,
    /// What sets the keeper's changed fields back; `None` when the merge
    /// changed none.
    pub back: Option<CustomerPatch>,
    /// The keeper's `updated_at` in the server's answer to the edit, once
    /// it was applied: a later one means someone else changed it since.
    pub edited_at: Option<OffsetDateTime>,
}

/// The server applied the outbox item `key` and answered with `updated_at`:
/// when the item is a merge's edit, that is when its keeper was edited,
/// for undo's "changed by someone else since". Called in the transaction
/// that retires the item, before it leaves the outbox.
pub(super) fn note_edit_applied(
    tx: &Transaction<'_>,
    key: &IdempotencyKey,
    updated_at: OffsetDateTime,
) -> Result<(), StoreError> {
    let item: Option<(Option<String>, String)> = tx
        .prepare_cached("SELECT unit, op FROM outbox WHERE key = ?1")?
        .query_row([key.to_string()], |row| {
            Ok((row.get(0)?, text(row, 1)?.to_owned()))
        })
        .optional()?;
    if let Some((Some(unit), op)) = item
        && matches!(
            serde_json::from_str::<OutboxOp>(&op),
            Ok(OutboxOp::Update { .. })
        )
    {
        tx.prepare_cached("UPDATE merge_edits SET edited_at = ?2 WHERE unit = ?1")?
            .execute(params![unit, micros(updated_at)])?;
    }
    Ok(())
}

/// A loser of a merge and the record it went into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedInto {
    pub customer_id: String,
    pub keeper_id: String,
    pub keeper_display_id: u64,
    pub at: OffsetDateTime,
}

impl Store {
    /// Queues every item of `unit` at the end of the outbox, and records
    /// its merges, in one transaction: all of it or none. Items whose key
    /// is already queued stay as they were (see [`Store::outbox_push`]).
    pub fn outbox_push_unit(&mut self, unit: &Unit, now: OffsetDateTime) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let id = unit.id.to_string();
        for (key, op) in &unit.items {
            tx.prepare_cached(
                "INSERT INTO outbox (key, op, queued_at, unit) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key) DO NOTHING",
            )?
            .execute(params![key.to_string(), encode(op)?, micros(now), id])?;
        }
        for customer in &unit.unmerged {
            tx.prepare_cached(
                "DELETE FROM merge_edits WHERE unit IN
                     (SELECT unit FROM merged_into WHERE customer_id = ?1)",
            )?
            .execute([customer])?;
            tx.prepare_cached("DELETE FROM merged_into WHERE customer_id = ?1")?
                .execute([customer])?;
        }
        if let Some(back) = &unit.keeper_back {
            tx.prepare_cached(
                "INSERT INTO merge_edits (unit, back) VALUES (?1, ?2)
                 ON CONFLICT (unit) DO NOTHING",
            )?
            .execute(params![id, encode(back)?])?;
        }
        for merged in &unit.merged {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO merged_into
                     (customer_id, keeper_id, keeper_display_id, unit, merged_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                merged.customer_id,
                merged.keeper_id,
                merged.keeper_display_id.cast_signed(),
                id,
                micros(merged.at)
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Drops `key` from the outbox after the server refused it for good.
    /// When it was the edit of a unit, the items of that unit behind it
    /// go too, and the unit's merges are forgotten, in the same
    /// transaction; they are returned, in queue order, so the caller can
    /// say what was not done.
    pub fn outbox_refused(&mut self, key: &IdempotencyKey) -> Result<Vec<OutboxItem>, StoreError> {
        let tx = self.conn.transaction()?;
        let head: Option<(i64, Option<String>, String)> = tx
            .prepare_cached("SELECT seq, unit, op FROM outbox WHERE key = ?1")?
            .query_row([key.to_string()], |row| {
                Ok((row.get(0)?, row.get(1)?, text(row, 2)?.to_owned()))
            })
            .optional()?;
        tx.prepare_cached("DELETE FROM outbox WHERE key = ?1")?
            .execute([key.to_string()])?;
        let mut dropped = Vec::new();
        if let Some((seq, Some(unit), op)) = head
            && matches!(
                serde_json::from_str::<OutboxOp>(&op),
                Ok(OutboxOp::Update { .. })
            )
        {
            {
                let mut statement = tx.prepare_cached(
                    "SELECT key, op, queued_at, attempts, last_error FROM outbox
                     WHERE unit = ?1 AND seq > ?2 ORDER BY seq",
                )?;
                let mut rows = statement.query(params![unit, seq])?;
                while let Some(row) = rows.next()? {
                    dropped.extend(read_item(row)?);
                }
            }
            tx.prepare_cached("DELETE FROM outbox WHERE unit = ?1 AND seq > ?2")?
                .execute(params![unit, seq])?;
            tx.prepare_cached("DELETE FROM merged_into WHERE unit = ?1")?
                .execute([&unit])?;
            tx.prepare_cached("DELETE FROM merge_edits WHERE unit = ?1")?
                .execute([&unit])?;
        }
        tx.commit()?;
        Ok(dropped)
    }

    /// Every merge with items still in the outbox, in queue order, rebuilt
    /// from the outbox, `merged_into` and `merge_edits`. A unit that is not
    /// a merge (an undo) is left out, and so is an item this build cannot
    /// read.
    pub fn pending_merges(&self) -> Result<Vec<PendingMerge>, StoreError> {
        let units: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT unit FROM outbox WHERE unit IS NOT NULL
                 GROUP BY unit ORDER BY MIN(seq)",
            )?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut merges = Vec::new();
        for unit in units {
            merges.extend(self.pending_merge(&unit)?);
        }
        Ok(merges)
    }

    /// The merge carried by `unit`, if it is one.
    fn pending_merge(&self, unit: &str) -> Result<Option<PendingMerge>, StoreError> {
        let Ok(key) = unit.parse::<IdempotencyKey>() else {
            return Ok(None);
        };
        let mut losers = Vec::new();
        let mut keeper = None;
        {
            let mut statement = self.conn.prepare_cached(
                "SELECT customer_id, keeper_id, keeper_display_id FROM merged_into
                 WHERE unit = ?1 ORDER BY rowid",
            )?;
            let mut rows = statement.query([unit])?;
            while let Some(row) = rows.next()? {
                losers.push(text(row, 0)?.to_owned());
                keeper = Some((text(row, 1)?.to_owned(), row.get::<_, i64>(2)?));
            }
        }
        let Some((keeper_id, keeper_display_id)) = keeper else {
            return Ok(None);
        };
        let (mut edit, mut archives) = (None, Vec::new());
        for item in self.unit_items(unit)? {
            match item.op {
                OutboxOp::Update { patch, .. } => edit = Some((item.key, patch)),
                OutboxOp::Archive { customer_id } => archives.push((item.key, customer_id)),
                OutboxOp::Create { .. } | OutboxOp::Restore { .. } => {}
            }
        }
        let undo: Option<(String, Option<i64>)> = self
            .conn
            .prepare_cached("SELECT back, edited_at FROM merge_edits WHERE unit = ?1")?
            .query_row([unit], |row| Ok((text(row, 0)?.to_owned(), row.get(1)?)))
            .optional()?;
        let (back, edited_at) = match undo {
            Some((back, at)) => (
                Some(decode("merge_edits", unit, &back)?),
                at.and_then(|at| super::from_micros(at).ok()),
            ),
            None => (None, None),
        };
        Ok(Some(PendingMerge {
            unit: key,
            keeper_id,
            keeper_display_id: keeper_display_id.cast_unsigned(),
            losers,
            edit,
            archives,
            back,
            edited_at,
        }))
    }

    /// The items of `unit` still in the outbox, in queue order.
    fn unit_items(&self, unit: &str) -> Result<Vec<OutboxItem>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT key, op, queued_at, attempts, last_error FROM outbox
             WHERE unit = ?1 ORDER BY seq",
        )?;
        let mut rows = statement.query([unit])?;
        let mut items = Vec::new();
        while let Some(row) = rows.next()? {
            items.extend(read_item(row)?);
        }
        Ok(items)
    }

    /// The record `customer_id` was merged into, if it was (and the merge
    /// was not refused or undone).
    pub fn merged_into(&self, customer_id: &str) -> Result<Option<MergedInto>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT keeper_id, keeper_display_id, merged_at FROM merged_into
                 WHERE customer_id = ?1",
            )?
            .query_row([customer_id], |row| {
                Ok(MergedInto {
                    customer_id: customer_id.to_owned(),
                    keeper_id: text(row, 0)?.to_owned(),
                    keeper_display_id: row.get::<_, i64>(1)?.cast_unsigned(),
                    at: timestamp(row, 2)?,
                })
            })
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::CustomerPatch;
    use crate::store::testing::{at, customer};
    use crate::store::{Claim, Claimant};

    fn merge_unit(keeper: &str, losers: &[&str]) -> Unit {
        let patch = CustomerPatch {
            plan: crate::api::Patch::Set("Growth".into()),
            ..CustomerPatch::default()
        };
        let mut items = vec![(
            IdempotencyKey::new(),
            OutboxOp::Update {
                customer_id: keeper.to_owned(),
                patch,
            },
        )];
        items.extend(losers.iter().map(|l| {
            (
                IdempotencyKey::new(),
                OutboxOp::Archive {
                    customer_id: (*l).to_owned(),
                },
            )
        }));
        Unit {
            id: IdempotencyKey::new(),
            items,
            merged: losers
                .iter()
                .map(|l| MergedInto {
                    customer_id: (*l).to_owned(),
                    keeper_id: keeper.to_owned(),
                    keeper_display_id: 1003,
                    at: at(5),
                })
                .collect(),
            unmerged: Vec::new(),
            keeper_back: Some(CustomerPatch {
                plan: crate::api::Patch::Clear,
                ..CustomerPatch::default()
            }),
        }
    }

    fn keys(items: &[OutboxItem]) -> Vec<IdempotencyKey> {
        items.iter().map(|i| i.key.clone()).collect()
    }

    #[test]
    fn a_merge_is_queued_whole_in_order_with_where_each_loser_went() {
        let mut store = Store::open_in_memory().expect("store");
        let unit = merge_unit("cus_keep", &["cus_a", "cus_b"]);
        store.outbox_push_unit(&unit, at(5)).expect("push");
        let pending = store.outbox_pending().expect("pending");
        let expected: Vec<IdempotencyKey> = unit.items.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys(&pending), expected);
        let merged = store.merged_into("cus_b").expect("read").expect("merged");
        assert_eq!((merged.keeper_display_id, merged.at), (1003, at(5)));
        assert_eq!(store.merged_into("cus_keep").expect("read"), None);
    }

    #[test]
    fn a_unit_that_cannot_be_stored_leaves_nothing_behind() {
        let mut store = Store::open_in_memory().expect("store");
        let unit = merge_unit("cus_keep", &["cus_a"]);
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER no_archives BEFORE INSERT ON outbox
                 WHEN NEW.op LIKE '%archive%' BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            )
            .expect("trigger");
        assert!(store.outbox_push_unit(&unit, at(5)).is_err());
        assert!(store.outbox_pending().expect("pending").is_empty());
        assert_eq!(store.merged_into("cus_a").expect("read"), None);
    }

    #[test]
    fn a_refused_edit_drops_the_rest_of_its_merge_and_nothing_else() {
        let mut store = Store::open_in_memory().expect("store");
        let first = merge_unit("cus_keep", &["cus_a", "cus_b"]);
        let second = merge_unit("cus_other", &["cus_c"]);
        store.outbox_push_unit(&first, at(5)).expect("push");
        store.outbox_push_unit(&second, at(6)).expect("push");
        let head = match store.outbox_claim(&Claimant::new(), at(7)).expect("claim") {
            Claim::Item(item) => *item,
            other => panic!("{other:?}"),
        };
        assert_eq!(head.key, first.items[0].0);
        let dropped = store.outbox_refused(&head.key).expect("refused");
        assert_eq!(
            keys(&dropped),
            vec![first.items[1].0.clone(), first.items[2].0.clone()]
        );
        let rest: Vec<IdempotencyKey> = second.items.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys(&store.outbox_pending().expect("pending")), rest);
        assert_eq!(store.merged_into("cus_a").expect("read"), None);
        assert!(store.merged_into("cus_c").expect("read").is_some());
    }

    #[test]
    fn a_refused_archive_of_a_merge_drops_only_itself() {
        let mut store = Store::open_in_memory().expect("store");
        let unit = merge_unit("cus_keep", &["cus_a", "cus_b"]);
        store.outbox_push_unit(&unit, at(5)).expect("push");
        store
            .outbox_remove(&unit.items[0].0)
            .expect("edit delivered");
        let dropped = store.outbox_refused(&unit.items[1].0).expect("refused");
        assert!(dropped.is_empty());
        assert_eq!(
            keys(&store.outbox_pending().expect("pending")),
            vec![unit.items[2].0.clone()]
        );
    }

    #[test]
    fn undoing_a_merge_forgets_where_its_losers_went() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .outbox_push_unit(&merge_unit("cus_keep", &["cus_a"]), at(5))
            .expect("push");
        let undo = Unit {
            id: IdempotencyKey::new(),
            items: vec![(
                IdempotencyKey::new(),
                OutboxOp::Restore {
                    customer_id: "cus_a".into(),
                },
            )],
            merged: Vec::new(),
            unmerged: vec!["cus_a".into()],
            keeper_back: None,
        };
        store.outbox_push_unit(&undo, at(6)).expect("push");
        assert_eq!(store.merged_into("cus_a").expect("read"), None);
        assert_eq!(store.outbox_pending().expect("pending").len(), 3);
    }

    #[test]
    fn a_merge_still_queued_is_rebuilt_whole_from_the_store_as_it_is_delivered() {
        let mut store = Store::open_in_memory().expect("store");
        let unit = merge_unit("cus_keep", &["cus_a", "cus_b"]);
        store.outbox_push_unit(&unit, at(5)).expect("push");
        let (edit, archive_a, archive_b) = (
            unit.items[0].0.clone(),
            unit.items[1].0.clone(),
            unit.items[2].0.clone(),
        );
        let [queued] = store
            .pending_merges()
            .expect("read")
            .try_into()
            .expect("one");
        assert_eq!(
            (queued.edit.map(|(k, _)| k), queued.edited_at),
            (Some(edit.clone()), None)
        );
        assert_eq!(queued.back, unit.keeper_back);
        assert_eq!(
            (queued.keeper_id.as_str(), queued.keeper_display_id),
            ("cus_keep", 1003)
        );

        store
            .outbox_delivered(&edit, &customer("cus_keep", 9, false))
            .expect("edit delivered");
        store
            .outbox_delivered(&archive_a, &customer("cus_a", 10, true))
            .expect("first archive delivered");
        let [left] = store
            .pending_merges()
            .expect("read")
            .try_into()
            .expect("one");
        assert_eq!((left.edit, left.edited_at), (None, Some(at(9))));
        assert_eq!(left.archives, vec![(archive_b.clone(), "cus_b".to_owned())]);
        assert_eq!(left.losers, ["cus_a", "cus_b"], "the delivered one too");
        assert_eq!(left.back, unit.keeper_back);

        store
            .outbox_delivered(&archive_b, &customer("cus_b", 11, true))
            .expect("last archive delivered");
        assert!(store.pending_merges().expect("read").is_empty());
    }

    #[test]
    fn a_unit_that_undoes_a_merge_is_no_merge_and_takes_the_merge_out_of_the_pending() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .outbox_push_unit(&merge_unit("cus_keep", &["cus_a"]), at(5))
            .expect("push");
        let undo = Unit {
            id: IdempotencyKey::new(),
            items: vec![(
                IdempotencyKey::new(),
                OutboxOp::Restore {
                    customer_id: "cus_a".into(),
                },
            )],
            merged: Vec::new(),
            unmerged: vec!["cus_a".into()],
            keeper_back: None,
        };
        store.outbox_push_unit(&undo, at(6)).expect("push");
        assert_eq!(store.pending_merges().expect("read"), Vec::new());
    }
}
