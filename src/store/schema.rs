//! The store's schema and its migrations, tracked by `PRAGMA user_version`.
//!
//! Owns the SQL that creates and changes tables. Migrations are append-only:
//! never edit or reorder one that has shipped, add the next one at the end.
//! Reads and writes of the data belong to the sibling modules, not here.

use rusqlite::Connection;

/// Every migration, in order; migration `n` (from 1) takes the file from
/// `user_version = n - 1` to `n`.
///
/// Migration 2 will add the outbox (edits made offline, waiting to be sent).
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the cache and the sync state.
    r#"
    CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        updated_at INTEGER NOT NULL, -- unix microseconds
        body TEXT NOT NULL           -- the Customer as JSON
    );
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL,          -- the User as JSON
        is_me INTEGER NOT NULL       -- 1 for the API key's own user
    );
    CREATE UNIQUE INDEX users_only_one_me ON users (is_me) WHERE is_me = 1;
    CREATE TABLE history (
        customer_id TEXT PRIMARY KEY,
        fetched_at INTEGER NOT NULL, -- unix microseconds
        body TEXT NOT NULL           -- JSON array of HistoryEvent, newest first
    );
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
];

/// Applies the `migrations` that `conn` has not run yet, each in its own
/// transaction together with the new `user_version`.
///
/// A file from a newer build (a higher version than known here) is left as
/// is: migrations only add, so an older build can still use it.
pub(super) fn migrate(conn: &mut Connection, migrations: &[&str]) -> rusqlite::Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (version, sql) in (1..).zip(migrations).skip_while(|(v, _)| *v <= current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::store::Store;
    use crate::store::testing::customer;

    fn user_version(conn: &Connection) -> usize {
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .expect("user_version");
        usize::try_from(v).expect("non-negative")
    }

    /// A store file as a build that knew only the first `version` migrations
    /// left it, holding one customer written through the version-1 columns.
    fn file_at_version(path: &Path, version: usize) {
        let mut conn = Connection::open(path).expect("open");
        migrate(&mut conn, &MIGRATIONS[..version]).expect("migrate");
        let old = customer("cus_old", 100, false);
        conn.execute(
            "INSERT INTO customers (id, updated_at, body) VALUES (?1, ?2, ?3)",
            rusqlite::params![
                old.id,
                100_000_000,
                serde_json::to_string(&old).expect("json")
            ],
        )
        .expect("insert");
        assert_eq!(user_version(&conn), version);
    }

    #[test]
    fn migrations_run_from_an_empty_database_and_are_idempotent_on_reopen() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.sqlite3");
        for _ in 0..2 {
            let store = Store::open(&path).expect("open");
            assert_eq!(user_version(&store.conn), MIGRATIONS.len());
            assert_eq!(store.customer_count().expect("count"), 0);
        }
    }

    #[test]
    fn every_older_version_migrates_forward_and_keeps_its_data() {
        for version in 1..=MIGRATIONS.len() {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join("store.sqlite3");
            file_at_version(&path, version);

            let store = Store::open(&path).expect("open");
            assert_eq!(user_version(&store.conn), MIGRATIONS.len());
            let loaded = store.load_customers().expect("load");
            assert_eq!(
                loaded,
                vec![customer("cus_old", 100, false)],
                "from v{version}"
            );
        }
    }
}
