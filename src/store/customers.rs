//! The customer cache: loading it at start-up, and applying sync pages and
//! local archives to it.
//!
//! Owns the `customers` table and the rule that a cached record is only
//! replaced by a newer record, and only removed by an archive at least as new
//! (or by an archive made from this app). Fetching pages and
//! guarding against stale responses belong to the sync task, not here.

use rusqlite::{Connection, params};

use super::{Store, StoreError, decode, encode, micros, sync_state, text};
use crate::api::Customer;

const TABLE: &str = "customers";

impl Store {
    /// Every cached customer (all live: archived ones are never kept), in
    /// no particular order.
    pub fn load_customers(&self) -> Result<Vec<Customer>, StoreError> {
        let mut statement = self.conn.prepare_cached("SELECT id, body FROM customers")?;
        let mut rows = statement.query([])?;
        let mut customers = Vec::new();
        while let Some(row) = rows.next()? {
            customers.push(decode(TABLE, text(row, 0)?, text(row, 1)?)?);
        }
        Ok(customers)
    }

    /// How many customers are cached.
    pub fn customer_count(&self) -> Result<usize, StoreError> {
        let count: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM customers")?
            .query_row([], |row| row.get(0))?;
        usize::try_from(count)
            .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, count).into())
    }

    /// Applies one sync page in one transaction: live customers are cached,
    /// archived ones leave the cache (with their history), and the
    /// high-water mark rises to the page's greatest `updated_at`.
    ///
    /// A record older than the cached one for the same id is ignored, so
    /// pages may be re-applied or arrive late. If the transaction is
    /// interrupted, neither the rows nor the mark are saved, and the next
    /// sync resumes from the previous mark.
    pub fn apply_page(&mut self, page: &[Customer]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for customer in page {
            if customer.archived {
                forget_unless_newer(&tx, &customer.id, micros(customer.updated_at))?;
            } else {
                upsert_if_newer(&tx, customer)?;
            }
        }
        if let Some(newest) = page.iter().map(|c| c.updated_at).max() {
            sync_state::raise_high_water(&tx, newest)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes a customer and its history from the cache, whatever their
    /// age: for an archive made from this app. The high-water mark is left
    /// alone.
    pub fn remove_customer(&mut self, id: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        forget_unless_newer(&tx, id, i64::MAX)?;
        tx.commit()?;
        Ok(())
    }
}

/// Caches `customer` unless the cached record for its id is as new or newer
/// (an equal `updated_at` is the same version, so the row is left alone).
fn upsert_if_newer(conn: &Connection, customer: &Customer) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO customers (id, updated_at, body) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, body = excluded.body
         WHERE excluded.updated_at > customers.updated_at",
    )?
    .execute(params![
        customer.id,
        micros(customer.updated_at),
        encode(customer)?
    ])?;
    Ok(())
}

/// Drops customer `id` and its history, unless the cached record was
/// updated after `archived_at` (unix micros), e.g. restored since.
fn forget_unless_newer(conn: &Connection, id: &str, archived_at: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM customers WHERE id = ?1 AND updated_at <= ?2")?
        .execute(params![id, archived_at])?;
    conn.prepare_cached(
        "DELETE FROM history
         WHERE customer_id = ?1 AND NOT EXISTS (SELECT 1 FROM customers WHERE id = ?1)",
    )?
    .execute([id])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::store::testing::{at, customer, event};

    fn sorted(mut customers: Vec<Customer>) -> Vec<Customer> {
        customers.sort_by(|a, b| a.id.cmp(&b.id));
        customers
    }

    fn cached_body(store: &Store, id: &str) -> String {
        store
            .conn
            .query_row("SELECT body FROM customers WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .expect("cached row")
    }

    #[test]
    fn an_applied_page_is_still_there_after_reopening_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("accounts").join("a.sqlite3");
        let page = vec![customer("cus_a", 10, false), customer("cus_b", 11, false)];

        let mut store = Store::open(&path).expect("open");
        store.apply_page(&page).expect("apply");
        drop(store);

        let store = Store::open(&path).expect("reopen");
        assert_eq!(sorted(store.load_customers().expect("load")), page);
        assert_eq!(store.customer_count().expect("count"), 2);
        assert_eq!(store.high_water().expect("high water"), Some(at(11)));
    }

    #[test]
    fn a_newer_record_replaces_the_cached_one() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .apply_page(&[customer("cus_a", 10, false)])
            .expect("apply");
        let mut renamed = customer("cus_a", 20, false);
        renamed.name = "Renamed".to_owned();
        store
            .apply_page(std::slice::from_ref(&renamed))
            .expect("apply");
        assert_eq!(store.load_customers().expect("load"), vec![renamed]);
    }

    #[test]
    fn an_older_record_does_not_overwrite_a_newer_one() {
        let mut store = Store::open_in_memory().expect("store");
        let newer = customer("cus_a", 20, false);
        store
            .apply_page(std::slice::from_ref(&newer))
            .expect("apply");

        let mut older = customer("cus_a", 10, false);
        older.name = "Stale".to_owned();
        store.apply_page(&[older]).expect("apply live");
        store
            .apply_page(&[customer("cus_a", 15, true)])
            .expect("apply archived");

        assert_eq!(store.load_customers().expect("load"), vec![newer]);
    }

    #[test]
    fn archived_customers_leave_the_cache_with_their_history() {
        let mut store = Store::open_in_memory().expect("store");
        let kept = customer("cus_kept", 10, false);
        store
            .apply_page(&[kept.clone(), customer("cus_gone", 10, false)])
            .expect("apply");
        store
            .save_history("cus_gone", &[event(10, "created")], at(12))
            .expect("history");

        store
            .apply_page(&[customer("cus_gone", 20, true)])
            .expect("apply archive");

        assert_eq!(store.load_customers().expect("load"), vec![kept]);
        assert_eq!(store.customer_count().expect("count"), 1);
        assert_eq!(store.load_history("cus_gone").expect("history"), None);
        assert_eq!(store.high_water().expect("high water"), Some(at(20)));
    }

    #[test]
    fn an_archive_made_here_removes_the_customer_and_its_history() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .apply_page(&[customer("cus_a", 10, false)])
            .expect("apply");
        store
            .save_history("cus_a", &[event(10, "created")], at(12))
            .expect("history");

        store.remove_customer("cus_a").expect("remove");

        assert!(store.load_customers().expect("load").is_empty());
        assert_eq!(store.load_history("cus_a").expect("history"), None);
        assert_eq!(store.high_water().expect("high water"), Some(at(10)));
    }

    #[test]
    fn the_high_water_mark_only_rises() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .apply_page(&[customer("cus_a", 30, false), customer("cus_b", 20, true)])
            .expect("apply");
        assert_eq!(store.high_water().expect("high water"), Some(at(30)));

        store
            .apply_page(&[customer("cus_c", 25, false)])
            .expect("apply older page");
        store.apply_page(&[]).expect("apply empty page");
        assert_eq!(store.high_water().expect("high water"), Some(at(30)));

        store
            .apply_page(&[customer("cus_d", 40, true)])
            .expect("apply newer page");
        assert_eq!(store.high_water().expect("high water"), Some(at(40)));
    }

    #[test]
    fn an_interrupted_page_saves_neither_its_rows_nor_its_high_water_mark() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .apply_page(&[customer("cus_a", 10, false)])
            .expect("apply");
        store
            .conn
            .execute_batch(
                "CREATE TEMP TRIGGER fail_on_bad BEFORE INSERT ON customers
                 WHEN NEW.id = 'cus_bad' BEGIN SELECT RAISE(ABORT, 'injected'); END;",
            )
            .expect("trigger");

        let page = [customer("cus_b", 20, false), customer("cus_bad", 30, false)];
        store
            .apply_page(&page)
            .expect_err("the trigger aborts the page");

        assert_eq!(
            store.load_customers().expect("load"),
            vec![customer("cus_a", 10, false)]
        );
        assert_eq!(store.high_water().expect("high water"), Some(at(10)));
    }

    /// `Customer` drops fields it does not know, so an unknown field is kept
    /// only as long as the cached body is not rewritten.
    #[test]
    fn unknown_fields_in_a_cached_body_load_and_stay_until_a_newer_record_replaces_it() {
        let mut store = Store::open_in_memory().expect("store");
        let mut body = serde_json::to_value(customer("cus_a", 20, false)).expect("json");
        body["health_score"] = serde_json::json!(93);
        store
            .conn
            .execute(
                "INSERT INTO customers (id, updated_at, body) VALUES ('cus_a', ?1, ?2)",
                params![micros(at(20)), body.to_string()],
            )
            .expect("insert");

        assert_eq!(
            store.load_customers().expect("load"),
            vec![customer("cus_a", 20, false)]
        );
        store
            .apply_page(&[customer("cus_a", 20, false), customer("cus_b", 5, false)])
            .expect("apply same and older");
        let kept: serde_json::Value =
            serde_json::from_str(&cached_body(&store, "cus_a")).expect("json");
        assert_eq!(kept, body);

        store
            .apply_page(&[customer("cus_a", 30, false)])
            .expect("apply newer");
        let replaced: serde_json::Value =
            serde_json::from_str(&cached_body(&store, "cus_a")).expect("json");
        assert_eq!(replaced.get("health_score"), None);
    }

    #[test]
    fn a_body_this_build_cannot_decode_is_an_error_naming_the_record() {
        let store = Store::open_in_memory().expect("store");
        store
            .conn
            .execute(
                "INSERT INTO customers (id, updated_at, body) VALUES ('cus_a', 1, '{\"id\":7}')",
                [],
            )
            .expect("insert");
        let err = store.load_customers().expect_err("undecodable");
        assert!(
            matches!(
                err,
                StoreError::Json {
                    table: "customers",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("cus_a"), "{err}");
    }

    /// Not a pass/fail test: prints how long loading 100,000 customers takes.
    /// Run with `cargo test --release --lib store::customers -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing, not a check"]
    fn time_loading_100k_customers() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("big.sqlite3");
        let mut store = Store::open(&path).expect("open");
        let page: Vec<Customer> = (0..100_000)
            .map(|i| customer(&format!("cus_{i:026}"), 1_800_000_000 + i, false))
            .collect();
        let started = Instant::now();
        store.apply_page(&page).expect("apply");
        let applied = started.elapsed();
        drop(store);

        let started = Instant::now();
        let store = Store::open(&path).expect("reopen");
        let opened = started.elapsed();
        let loaded = store.load_customers().expect("load");
        let elapsed = started.elapsed();
        assert_eq!(loaded.len(), page.len());
        println!("apply 100k: {applied:?}; open: {opened:?}; open + load 100k: {elapsed:?}");
    }
}
