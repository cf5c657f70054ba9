//! Units of outbox items: changes that belong together and are queued in
//! one transaction, such as a merge (the keeper's `PATCH` first, then each
//! loser's archive). Delivery stays item by item, in queue order, with the
//! outbox's claims (`outbox.rs`); what a unit adds is that a refused edit
//! drops the items of its unit behind it ([`Store::outbox_refused`]), so a
//! merge whose edit Pivotal refused archives nothing.
//!
//! Also owns `merged_into` (migration 5): which record each merged loser
//! went into, written with the merge's items and forgotten when the merge
//! is refused or undone, for `customers show` and the archived view.
//!
//! Must not send anything or decide what is permanent (`sync::deliver`).

use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use super::outbox::read_item;
use super::{Store, StoreError, encode, micros, text, timestamp};
use crate::api::IdempotencyKey;
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
            tx.prepare_cached("DELETE FROM merged_into WHERE customer_id = ?1")?
                .execute([customer])?;
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
                .execute([unit])?;
        }
        tx.commit()?;
        Ok(dropped)
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
    use crate::store::testing::at;
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
        };
        store.outbox_push_unit(&undo, at(6)).expect("push");
        assert_eq!(store.merged_into("cus_a").expect("read"), None);
        assert_eq!(store.outbox_pending().expect("pending").len(), 3);
    }
}
