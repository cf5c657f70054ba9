//! The first screen of the list, read from indexes: how many customers
//! there are, how many domains are shared, and pages of customers in name
//! order after (or before) a given one (keyset paging), each page a few
//! index steps however large the cache.
//!
//! Owns the SQL over `customers_v2`'s list keys (migration 5). What the
//! preview shows (pending changes laid over it, badges) is the sync
//! engine's (`sync/preview.rs`); the keys themselves are the domain's.

use rusqlite::{ToSql, params_from_iter};

use super::customers::{read_customer, read_entry};
use super::{Store, StoreError};
use crate::api::Customer;
use crate::domain::{Entry, NamePosition};

/// The columns [`read_entry`] reads, in its order.
const COLUMNS: &str = "id, display_id, name, domain, owner_id, plan, tags, custom_fields,
                       source, archived, created_at, updated_at";

/// Which customers a preview lists, and which way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameView {
    /// Only the customers this user owns (My customers); `None` for all.
    pub owner: Option<String>,
    /// Z→A instead of A→Z.
    pub descending: bool,
}

/// What the cache holds, counted from its indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreCounts {
    /// Live customers.
    pub total: usize,
    /// Live customers in the view (all of them without an owner).
    pub in_view: usize,
    /// Duplicate keys shared by two or more live customers.
    pub duplicate_domains: usize,
    /// The largest display id of a live customer (0 for none).
    pub max_display_id: u64,
}

/// The list's indexes (migration 5 made them first), as the store keeps
/// them now.
pub(super) const LIST_INDEXES: &str = "
    CREATE INDEX IF NOT EXISTS customers_v2_by_name
        ON customers_v2 (sort_key, display_id, id) WHERE archived = 0;
    CREATE INDEX IF NOT EXISTS customers_v2_by_domain_key
        ON customers_v2 (domain_key) WHERE archived = 0;
    CREATE INDEX IF NOT EXISTS customers_v2_by_owner
        ON customers_v2 (owner_id, sort_key, display_id, id) WHERE archived = 0;
    CREATE INDEX IF NOT EXISTS customers_v2_by_display_id
        ON customers_v2 (display_id) WHERE archived = 0;
";

impl Store {
    /// Before filling an empty cache (the first sync): drops the list's
    /// indexes, which [`Store::ensure_list_indexes`] builds again once it
    /// is full. Keeping them up to date row by row, in the random order
    /// names arrive in, made a first sync of 100,000 customers two to three
    /// times slower (every page's commit rewrote most of each index); one
    /// build at the end takes a fraction of that. True when it dropped them.
    pub fn suspend_list_indexes_if_empty(&mut self) -> Result<bool, StoreError> {
        let cached: bool = self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM customers_v2)")?
            .query_row([], |row| row.get(0))?;
        if cached {
            return Ok(false);
        }
        self.conn.execute_batch(
            "DROP INDEX IF EXISTS customers_v2_by_name;
             DROP INDEX IF EXISTS customers_v2_by_domain_key;
             DROP INDEX IF EXISTS customers_v2_by_owner;
             DROP INDEX IF EXISTS customers_v2_by_display_id;",
        )?;
        Ok(true)
    }

    /// Builds the list's indexes that are missing (after a first sync, or
    /// one that stopped part-way); nothing when they are all there.
    pub fn ensure_list_indexes(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch(LIST_INDEXES)?;
        Ok(())
    }

    /// The counts of the first screen, for `view`.
    pub fn preview_counts(&self, view: &NameView) -> Result<StoreCounts, StoreError> {
        let count = |sql: &str, owner: Option<&str>| -> Result<usize, StoreError> {
            let mut statement = self.conn.prepare_cached(sql)?;
            let n: i64 = match owner {
                Some(owner) => statement.query_row([owner], |row| row.get(0))?,
                None => statement.query_row([], |row| row.get(0))?,
            };
            Ok(usize::try_from(n).unwrap_or(0))
        };
        let total = count(
            "SELECT COUNT(*) FROM customers_v2 INDEXED BY customers_v2_by_name
             WHERE archived = 0",
            None,
        )?;
        let in_view = match &view.owner {
            Some(owner) => count(
                "SELECT COUNT(*) FROM customers_v2 INDEXED BY customers_v2_by_owner
                 WHERE archived = 0 AND owner_id = ?1",
                Some(owner),
            )?,
            None => total,
        };
        let duplicate_domains = count(
            "SELECT COUNT(*) FROM (
                 SELECT 1 FROM customers_v2 INDEXED BY customers_v2_by_domain_key
                 WHERE archived = 0 AND domain_key IS NOT NULL
                 GROUP BY domain_key HAVING COUNT(*) > 1)",
            None,
        )?;
        let max: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT MAX(display_id) FROM customers_v2 INDEXED BY customers_v2_by_display_id
                 WHERE archived = 0",
            )?
            .query_row([], |row| row.get(0))?;
        Ok(StoreCounts {
            total,
            in_view,
            duplicate_domains,
            max_display_id: max.map_or(0, i64::cast_unsigned),
        })
    }

    /// Up to `limit` customers of `view` in its order, starting just after
    /// `after` (from the first without one); `backward` reads the other
    /// way (the customers before `after`, nearest first; the last ones
    /// without it). The order is the list's name order exactly (see
    /// [`NamePosition`]) for display ids below 2⁶³, which SQLite compares as
    /// signed numbers.
    pub fn name_page(
        &self,
        view: &NameView,
        after: Option<&NamePosition>,
        backward: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let descending = view.descending != backward;
        let (cmp, dir) = if descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        // My customers read their own index, in the same order.
        let index = match view.owner {
            Some(_) => "customers_v2_by_owner",
            None => "customers_v2_by_name",
        };
        let mut sql = format!(
            "SELECT {COLUMNS} FROM customers_v2 INDEXED BY {index}
             WHERE archived = 0"
        );
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(owner) = &view.owner {
            sql.push_str(" AND owner_id = ?");
            args.push(Box::new(owner.clone()));
        }
        if let Some(after) = after {
            sql.push_str(&format!(" AND (sort_key, display_id, id) {cmp} (?, ?, ?)"));
            args.push(Box::new(after.sort_key.clone()));
            args.push(Box::new(after.display_id.cast_signed()));
            // A pending create (number 0) is never a stored row: any id
            // after it will do, as every stored row's number is larger.
            args.push(Box::new(after.key.id().unwrap_or_default().to_owned()));
        }
        sql.push_str(&format!(
            " ORDER BY sort_key {dir}, display_id {dir}, id {dir} LIMIT ?"
        ));
        args.push(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
        let mut statement = self.conn.prepare_cached(&sql)?;
        let mut rows = statement.query(params_from_iter(args.iter()))?;
        let mut entries = Vec::with_capacity(limit.min(1024));
        while let Some(row) = rows.next()? {
            entries.push(read_entry(row)?);
        }
        Ok(entries)
    }

    /// How many live customers have each of `keys`, in order.
    pub fn domain_key_counts(&self, keys: &[&str]) -> Result<Vec<usize>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT COUNT(*) FROM customers_v2 INDEXED BY customers_v2_by_domain_key
             WHERE archived = 0 AND domain_key = ?1",
        )?;
        keys.iter()
            .map(|key| {
                let n: i64 = statement.query_row([key], |row| row.get(0))?;
                Ok(usize::try_from(n).unwrap_or(0))
            })
            .collect()
    }

    /// The cached customer `id` (live), as the API type, if there is one.
    pub fn customer_by_id(&self, id: &str) -> Result<Option<Customer>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM customers_v2 WHERE id = ?1 AND archived = 0"
        ))?;
        let mut rows = statement.query([id])?;
        match rows.next()? {
            Some(row) => Ok(Some(read_customer(row)?)),
            None => Ok(None),
        }
    }

    /// The cached customer `id` (live) as the list shows it, if there is one.
    pub fn entry_by_id(&self, id: &str) -> Result<Option<Entry>, StoreError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM customers_v2 WHERE id = ?1 AND archived = 0"
        ))?;
        let mut rows = statement.query([id])?;
        match rows.next()? {
            Some(row) => Ok(Some(read_entry(row)?)),
            None => Ok(None),
        }
    }

    /// The path of the store's file; `None` for a store in memory.
    #[must_use]
    pub fn file_path(&self) -> Option<std::path::PathBuf> {
        self.conn
            .path()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, params};

    use super::*;
    use crate::domain::{domain_key_of, name_sort_key};
    use crate::store::schema::{MIGRATIONS, migrate};
    use crate::store::testing::customer;

    /// The keys each cached row holds, by id.
    fn stored_keys(store: &Store) -> Vec<(String, Option<String>, Option<String>)> {
        store
            .conn
            .prepare("SELECT id, sort_key, domain_key FROM customers_v2 ORDER BY id")
            .expect("prepare")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    }

    /// The keys the list computes for each cached row, by id.
    fn list_keys(store: &Store) -> Vec<(String, Option<String>, Option<String>)> {
        let mut keys: Vec<_> = store
            .load_customers()
            .expect("load")
            .into_iter()
            .map(|c| {
                (
                    c.id.clone(),
                    Some(name_sort_key(&c.name)),
                    domain_key_of(c.domain.as_deref()),
                )
            })
            .collect();
        keys.sort();
        keys
    }

    fn odd_customers() -> Vec<Customer> {
        let names = ["Ärzte", "ZOË", "Acme\u{1b}[31m", "İstanbul", "  Padded"];
        let domains = [
            Some("WWW.Acme.com/x"),
            Some("bücher.de"),
            None,
            Some("  "),
            Some("a.io"),
        ];
        (0..5)
            .map(|i| Customer {
                name: names[i].to_owned(),
                domain: domains[i].map(str::to_owned),
                ..customer(&format!("cus_{i}"), 100, false)
            })
            .collect()
    }

    #[test]
    fn every_written_row_holds_the_keys_the_list_computes() {
        let mut store = Store::open_in_memory().expect("store");
        store.apply_page(&odd_customers()).expect("apply");
        let mut renamed = odd_customers()[1].clone();
        renamed.name = "Émile".to_owned();
        renamed.domain = Some("Globex.io".to_owned());
        renamed.updated_at += time::Duration::SECOND;
        store.apply_page(&[renamed]).expect("apply");
        assert_eq!(stored_keys(&store), list_keys(&store));
    }

    #[test]
    fn migration_5_fills_in_the_keys_of_rows_already_cached() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.sqlite3");
        let mut conn = Connection::open(&path).expect("open");
        migrate(&mut conn, &MIGRATIONS[..4]).expect("migrate to v4");
        for c in odd_customers() {
            conn.execute(
                "INSERT INTO customers_v2 (id, display_id, name, domain, owner_id, plan, tags,
                     custom_fields, source, archived, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, NULL, NULL, NULL, NULL, 'api', 0, 1, 2)",
                params![c.id, 7, c.name, c.domain],
            )
            .expect("insert");
        }
        drop(conn);
        let store = Store::open(&path).expect("migrate");
        assert_eq!(stored_keys(&store), list_keys(&store));
    }

    /// A build before migration 5 writes rows without keys, or renames a
    /// customer leaving its old key: opening the store puts them right.
    #[test]
    fn keys_an_older_build_left_missing_or_stale_are_put_right_at_open() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.sqlite3");
        let mut store = Store::open(&path).expect("open");
        store.apply_page(&odd_customers()).expect("apply");
        // What an older build's own SQL does (it knows no keys).
        store
            .conn
            .execute_batch(
                "INSERT INTO customers_v2 (id, display_id, name, domain, owner_id, plan, tags,
                     custom_fields, source, archived, created_at, updated_at)
                 VALUES ('cus_old', 9, 'Written Before', 'old.example', NULL, NULL, NULL, NULL,
                         'api', 0, 1, 2);
                 UPDATE customers_v2 SET name = 'Renamed Elsewhere', domain = 'new.example'
                 WHERE id = 'cus_0';",
            )
            .expect("older build");
        drop(store);
        let store = Store::open(&path).expect("reopen");
        assert_eq!(stored_keys(&store), list_keys(&store));
    }

    fn index_count(store: &Store) -> i64 {
        store
            .conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema
                 WHERE type = 'index' AND name LIKE 'customers_v2_by_%'",
                [],
                |row| row.get(0),
            )
            .expect("count")
    }

    /// A first sync fills an empty cache without them, then builds them
    /// once; a cache with customers keeps them, and so does a reopened
    /// store whose first sync stopped part-way.
    #[test]
    fn the_list_indexes_are_built_once_after_filling_an_empty_cache() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.sqlite3");
        let mut store = Store::open(&path).expect("open");
        assert_eq!(index_count(&store), 4);
        assert!(store.suspend_list_indexes_if_empty().expect("suspend"));
        assert_eq!(index_count(&store), 0);
        store.apply_page(&odd_customers()).expect("apply");
        drop(store);
        let mut store = Store::open(&path).expect("reopen");
        assert_eq!(index_count(&store), 4, "built again at open");
        assert!(!store.suspend_list_indexes_if_empty().expect("not empty"));
        assert_eq!(index_count(&store), 4);
        store.ensure_list_indexes().expect("ensure");
        let view = NameView {
            owner: None,
            descending: false,
        };
        assert_eq!(
            store.name_page(&view, None, false, 2).expect("page").len(),
            2
        );
    }

    #[test]
    fn pages_are_read_from_the_name_index() {
        let store = Store::open_in_memory().expect("store");
        let plan: Vec<String> = store
            .conn
            .prepare(
                "EXPLAIN QUERY PLAN
                 SELECT id FROM customers_v2 INDEXED BY customers_v2_by_name
                 WHERE archived = 0 AND (sort_key, display_id, id) > ('a', 1, 'x')
                 ORDER BY sort_key, display_id, id LIMIT 5",
            )
            .expect("prepare")
            .query_map([], |row| row.get(3))
            .expect("plan")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let plan = plan.join("; ");
        assert!(plan.starts_with("SEARCH"), "a seek, not a scan: {plan}");
        assert!(plan.contains("customers_v2_by_name"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
    }
}

#[cfg(test)]
mod timing {
    use std::time::Instant;

    use super::*;
    use crate::store::testing::customer;

    /// Not a pass/fail test: prints what each preview query costs at
    /// 100,000 customers. Run with `cargo test --release --lib
    /// store::preview::timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing, not a check"]
    fn time_the_preview_queries_at_100k() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("big.sqlite3");
        let mut store = Store::open(&path).expect("open");
        let page: Vec<Customer> = (0..100_000)
            .map(|i| Customer {
                name: format!("Name {}", (i * 7919) % 100_000),
                domain: Some(format!("d{}.example", i % 90_000)),
                display_id: 1000 + u64::try_from(i).unwrap_or(0),
                ..customer(&format!("cus_{i:026}"), 1_800_000_000 + i, false)
            })
            .collect();
        store.apply_page(&page).expect("apply");
        drop(store);
        let t = Instant::now();
        let store = Store::open(&path).expect("reopen");
        println!("open {:?}", t.elapsed());
        let view = NameView {
            owner: None,
            descending: false,
        };
        for sql in [
            "SELECT COUNT(*) FROM customers_v2 INDEXED BY customers_v2_by_name WHERE archived = 0",
            "SELECT COUNT(*) FROM (SELECT 1 FROM customers_v2 INDEXED BY customers_v2_by_domain_key
             WHERE archived = 0 AND domain_key IS NOT NULL GROUP BY domain_key HAVING COUNT(*) > 1)",
            "SELECT MAX(display_id) FROM customers_v2 INDEXED BY customers_v2_by_display_id
             WHERE archived = 0",
        ] {
            let t = Instant::now();
            let n: i64 = store.conn.query_row(sql, [], |row| row.get(0)).expect("query");
            println!("{n} in {:?}: {sql}", t.elapsed());
        }
        let t = Instant::now();
        let counts = store.preview_counts(&view).expect("counts");
        println!("counts {:?} {counts:?}", t.elapsed());
        let t = Instant::now();
        let rows = store.name_page(&view, None, false, 36).expect("page");
        println!("first page {:?}", t.elapsed());
        let keys: Vec<&str> = rows.iter().filter_map(|e| e.domain_key()).collect();
        let t = Instant::now();
        store.domain_key_counts(&keys).expect("badges");
        println!("badges {:?}", t.elapsed());
        let mine = NameView {
            owner: Some("usr_1".to_owned()),
            descending: true,
        };
        let t = Instant::now();
        store.preview_counts(&mine).expect("counts");
        store.name_page(&mine, None, false, 36).expect("page");
        println!("mine {:?}", t.elapsed());
    }
}
