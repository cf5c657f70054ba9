//! The store's schema and its migrations, tracked by `PRAGMA user_version`.
//!
//! Owns the SQL that creates and changes tables, and the one-off code that
//! moves data between layouts. Reads and writes of the data belong to the
//! sibling modules, not here.
//!
//! Migration numbers are append-only: store files made by every earlier
//! build exist, so never edit, reorder or remove a migration that has
//! shipped; add the next one at the end of [`MIGRATIONS`]. A migration's code
//! is frozen with it: it spells out its own SQL instead of calling the
//! sibling modules, whose SQL follows the latest layout.

use rusqlite::{Connection, TransactionBehavior, params};

use super::{decode, encode_unless_empty, micros, text};
use crate::api::Customer;
use crate::domain::{domain_key_of, name_sort_key};

/// One migration: `sql`, then `then` (for what SQL cannot do exactly), in
/// one transaction.
pub(super) struct Migration {
    sql: &'static str,
    then: Option<fn(&Connection) -> rusqlite::Result<()>>,
}

impl Migration {
    const fn sql(sql: &'static str) -> Migration {
        Migration { sql, then: None }
    }
}

/// Every migration, in order; migration `n` (from 1) takes the file from
/// `user_version = n - 1` to `n`.
pub(super) const MIGRATIONS: &[Migration] = &[
    // 1: the cache and the sync state.
    Migration::sql(
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
    ),
    // 2: customers in one column per field, so that loading 100,000 of them
    // at start-up parses no JSON or RFC 3339 text in the common case.
    //
    // The rows of `customers` move here (see `customers_to_columns`), and so
    // does the high-water mark, from `high_water` to `high_water_v2`. The old
    // table stays, empty, for builds before this migration: they leave a file
    // of a newer version as is, find no customers and no mark, and rebuild
    // their cache with a full sync instead of failing on the missing `body`
    // column. They never read or write `customers_v2` or `high_water_v2`, so
    // after a downgrade and an upgrade each build's cache is still whole.
    //
    // Nothing is lost by leaving the JSON bodies behind: the `Customer` type
    // already dropped the fields it does not know each time a body was
    // decoded, so these columns hold all that a body could give this build.
    // Timestamps keep their instant to the microsecond, in UTC (the contract
    // sends UTC, and `updated_at` was already compared in microseconds).
    Migration {
        sql: r#"
    CREATE TABLE customers_v2 (
        id TEXT PRIMARY KEY,
        display_id INTEGER NOT NULL, -- the u64, its bits read as an i64
        name TEXT NOT NULL,
        domain TEXT,
        owner_id TEXT,
        plan TEXT,
        tags TEXT,                   -- JSON array of strings; NULL or '' if empty
        custom_fields TEXT,          -- JSON object of strings; NULL or '' if empty
        source TEXT NOT NULL,
        archived INTEGER NOT NULL,   -- 0 or 1 (archived customers are not kept)
        created_at INTEGER NOT NULL, -- unix microseconds
        updated_at INTEGER NOT NULL  -- unix microseconds
    );
    "#,
        then: Some(customers_to_columns),
    },
    // 3: the outbox (see `outbox.rs`): creates and edits made here, kept
    // until the server has them. Queue order is `seq`, which AUTOINCREMENT
    // never reuses. Builds before this migration ignore the table, so items
    // left in it wait there for a build that knows it.
    Migration::sql(
        r#"
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,            -- the IdempotencyKey, hyphenated
        op TEXT NOT NULL,                    -- the OutboxOp as JSON
        queued_at INTEGER NOT NULL,          -- unix microseconds
        attempts INTEGER NOT NULL DEFAULT 0, -- failed attempts, to be retried
        last_error TEXT                      -- why the last one failed
    );
    "#,
    ),
    // 4: claims on outbox items, so that several processes on one account
    // (the app, the command line, a second window) deliver one queue and
    // never send an item twice: a process claims the head in a transaction
    // before sending it and settles it after (see `outbox.rs`). A claim whose
    // process is gone, or that is older than the lease, is taken over.
    Migration::sql(
        r#"
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;     -- the claimant's token
    ALTER TABLE outbox ADD COLUMN claimed_pid INTEGER; -- its process id
    ALTER TABLE outbox ADD COLUMN claimed_at INTEGER;  -- unix microseconds
    "#,
    ),
    // 5: the list's keys beside each customer, so that the first screen
    // (count, first rows in name order, badges, duplicate domains) is read
    // from indexes at start instead of after building the whole set (see
    // `preview.rs`). `sort_key` is the name folded as the list sorts it,
    // `domain_key` the duplicate key of the domain (NULL without one); both
    // come from the domain's functions, written with every row
    // (`customers.rs`) and filled in here for the rows already cached.
    //
    // A build before this migration leaves the columns alone: a row it
    // inserts has no `sort_key`, and the trigger clears the `sort_key` of a
    // row whose name or domain it changes (it never sets the keys). Opening
    // the store fills in every row without a `sort_key`
    // ([`fill_missing_keys`]), so after a downgrade and an upgrade the keys
    // are whole again. (This build's own writes set the keys in the same
    // statement; the trigger may clear one whose fold did not change, which
    // costs that row a recomputation at the next open, nothing more.)
    Migration {
        sql: r#"
    ALTER TABLE customers_v2 ADD COLUMN sort_key TEXT;   -- see `name_sort_key`
    ALTER TABLE customers_v2 ADD COLUMN domain_key TEXT; -- see `domain_key_of`
    "#,
        then: Some(keys_and_their_indexes),
    },
    // 6: units of outbox items (a merge: the keeper's edit, then each
    // archive), queued in one transaction; a refused edit drops the rest
    // of its unit (see `units.rs`). And which record each merged loser
    // went into, kept from the moment the merge is queued, and the groups
    // dismissed as not duplicates (see `dismissed.rs`). Builds before
    // this migration deliver a unit's items one by one, in order, as
    // before.
    Migration::sql(
        r#"
    ALTER TABLE outbox ADD COLUMN unit TEXT;  -- the unit's key, hyphenated
    CREATE TABLE merged_into (
        customer_id TEXT PRIMARY KEY,         -- the archived loser
        keeper_id TEXT NOT NULL,
        keeper_display_id INTEGER NOT NULL,
        unit TEXT NOT NULL,                   -- the outbox unit of the merge
        merged_at INTEGER NOT NULL            -- unix microseconds
    );
    -- Groups of duplicates marked "not a duplicate", with the members they
    -- had then: a group that gains a member comes back.
    CREATE TABLE dismissed (
        key TEXT PRIMARY KEY,                 -- the duplicate key (domain)
        members TEXT NOT NULL,                -- JSON array of customer ids
        dismissed_at INTEGER NOT NULL         -- unix microseconds
    );
    "#,
    ),
    // 7: what undoing a merge sets its keeper's changed fields back to,
    // and when the server applied its edit, kept with the merge from the
    // moment it is queued, so that a merge still in the outbox when the
    // app starts again (after a quit, a crash, `kill -9`) is undone whole
    // like one made in this session, by the same rule (see `units.rs`).
    // Builds before this migration ignore the table and undo such a merge
    // one archive at a time, as before.
    Migration::sql(
        r#"
    CREATE TABLE merge_edits (
        unit TEXT PRIMARY KEY,                -- the outbox unit of the merge
        back TEXT NOT NULL,                   -- JSON CustomerPatch: the fields as they were
        edited_at INTEGER                     -- unix microseconds: the server's updated_at
                                              -- in its answer to the edit, once applied
    );
    "#,
    ),
    // 8: archived customers are cached too (`archived = 1`), for the
    // archived view and `customers archived`; the live list's indexes
    // (migration 5) hold `archived = 0` rows only and every live query says
    // so, and this index serves the archived list alone. Builds before
    // this one dropped archived customers, so the high-water mark goes:
    // the next sync is one full sync, which brings back every archived
    // customer and changes no live row that is current (the never-older
    // rule). A build before this one that opens the file leaves archived
    // rows out of its list too (its set drops archived records) and
    // deletes the ones it syncs again; `r` twice brings them back here.
    Migration::sql(
        r#"
    CREATE INDEX customers_v2_archived ON customers_v2 (updated_at)
        WHERE archived = 1;
    DELETE FROM meta WHERE key = 'high_water_v2';
    "#,
    ),
];

/// The migration that cached archived customers (see [`MIGRATIONS`]); the
/// high-water mark a file had before it is dropped.
#[cfg(test)]
const ARCHIVED_CACHED: usize = 8;

/// Migration 5, after its SQL: fills in the keys, then indexes them (an
/// index built once over filled columns is quicker than one kept up to
/// date row by row), and adds the trigger that marks keys an older build
/// made stale. Besides name order and the duplicate key, My customers in
/// name order and the largest display id (the width of the `#` column)
/// are read from indexes. The indexes hold live rows only (`archived = 0`; the cache
/// keeps no others, but a row that says otherwise is never shown), so
/// counting them never reads the table.
fn keys_and_their_indexes(conn: &Connection) -> rusqlite::Result<()> {
    fill_missing_keys(conn)?;
    conn.execute_batch(
        r#"
    CREATE INDEX customers_v2_by_name ON customers_v2 (sort_key, display_id, id)
        WHERE archived = 0;
    CREATE INDEX customers_v2_by_domain_key ON customers_v2 (domain_key)
        WHERE archived = 0;
    CREATE INDEX customers_v2_by_owner ON customers_v2 (owner_id, sort_key, display_id, id)
        WHERE archived = 0;
    CREATE INDEX customers_v2_by_display_id ON customers_v2 (display_id)
        WHERE archived = 0;
    CREATE TRIGGER customers_v2_keys_stale
    AFTER UPDATE OF name, domain ON customers_v2
    WHEN NEW.sort_key IS OLD.sort_key AND NEW.domain_key IS OLD.domain_key
         AND (NEW.name IS NOT OLD.name OR NEW.domain IS NOT OLD.domain)
    BEGIN
        UPDATE customers_v2 SET sort_key = NULL WHERE id = NEW.id;
    END;
    "#,
    )
}

/// Computes `sort_key` and `domain_key` for every cached customer that has
/// no `sort_key` (all of them during migration 5; afterwards, the rows an
/// older build wrote). Cheap when there are none: one index probe.
pub(super) fn fill_missing_keys(conn: &Connection) -> rusqlite::Result<usize> {
    // Read first, then written: rows whose `sort_key` changes move in the
    // index the query walks.
    let missing: Vec<(String, String, Option<String>)> = conn
        .prepare(
            "SELECT id, name, domain FROM customers_v2 WHERE sort_key IS NULL AND archived = 0",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update =
        conn.prepare("UPDATE customers_v2 SET sort_key = ?2, domain_key = ?3 WHERE id = ?1")?;
    for (id, name, domain) in &missing {
        update.execute(params![
            id,
            name_sort_key(name),
            domain_key_of(domain.as_deref())
        ])?;
    }
    Ok(missing.len())
}

/// Applies the `migrations` that `conn` has not run yet, each in its own
/// immediate transaction together with the new `user_version`.
///
/// Several processes may open a new file at once (two windows, a script
/// running commands in parallel): each takes the write lock before reading
/// the version it migrates from, so a migration another process has just
/// run is seen and skipped, never run twice.
pub(super) fn migrate(conn: &mut Connection, migrations: &[Migration]) -> rusqlite::Result<()> {
    for (version, migration) in (1..).zip(migrations) {
        let current: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version <= current {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version > current {
            tx.execute_batch(migration.sql)?;
            if let Some(then) = migration.then {
                then(&tx)?;
            }
            tx.pragma_update(None, "user_version", version)?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// Migration 2, after its SQL: decodes each JSON body of `customers` into
/// the columns of `customers_v2`, then empties `customers` and moves the
/// high-water mark to `high_water_v2`.
///
/// A body this build cannot decode (which made every load fail before) is
/// dropped, and then the mark is dropped too, so that the next sync is a full
/// one and fetches that customer again.
fn customers_to_columns(conn: &Connection) -> rusqlite::Result<()> {
    let mut insert = conn.prepare(
        "INSERT INTO customers_v2 (id, display_id, name, domain, owner_id, plan, tags,
                                   custom_fields, source, archived, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut select = conn.prepare("SELECT id, body FROM customers")?;
    let mut rows = select.query([])?;
    let mut dropped = 0_usize;
    while let Some(row) = rows.next()? {
        let Ok(c) = decode::<Customer>("customers", text(row, 0)?, text(row, 1)?) else {
            dropped += 1;
            continue;
        };
        insert.execute(params![
            c.id,
            c.display_id.cast_signed(),
            c.name,
            c.domain,
            c.owner_id,
            c.plan,
            encode_unless_empty(&c.tags, c.tags.is_empty())?,
            encode_unless_empty(&c.custom_fields, c.custom_fields.is_empty())?,
            c.source.as_str(),
            c.archived,
            micros(c.created_at),
            micros(c.updated_at),
        ])?;
    }
    conn.execute("DELETE FROM customers", [])?;
    if dropped == 0 {
        conn.execute(
            "UPDATE meta SET key = 'high_water_v2' WHERE key = 'high_water'",
            [],
        )?;
    } else {
        conn.execute("DELETE FROM meta WHERE key = 'high_water'", [])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rusqlite::OptionalExtension;

    use super::*;
    use crate::store::Store;
    use crate::store::testing::{at, customer};

    fn user_version(conn: &Connection) -> usize {
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .expect("user_version");
        usize::try_from(v).expect("non-negative")
    }

    /// A store file as a build before migration 2 left it: `bodies` cached
    /// as JSON, and a high-water mark at `at(100)`.
    fn file_at_version_1(path: &Path, bodies: &[(&str, String)]) -> Connection {
        let mut conn = Connection::open(path).expect("open");
        migrate(&mut conn, &MIGRATIONS[..1]).expect("migrate");
        for (id, body) in bodies {
            conn.execute(
                "INSERT INTO customers (id, updated_at, body) VALUES (?1, ?2, ?3)",
                params![id, 100_000_000, body],
            )
            .expect("insert");
        }
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('high_water', '1970-01-01T00:01:40Z')",
            [],
        )
        .expect("mark");
        conn
    }

    /// A store file as a build that knew only the first `version` migrations
    /// left it, holding one customer written through the columns of that
    /// version, and a high-water mark at `at(100)`.
    fn file_at_version(path: &Path, version: usize) {
        let old = customer("cus_old", 100, false);
        if version == 1 {
            let body = serde_json::to_string(&old).expect("json");
            let conn = file_at_version_1(path, &[(&old.id, body)]);
            assert_eq!(user_version(&conn), version);
            return;
        }
        let mut conn = Connection::open(path).expect("open");
        migrate(&mut conn, &MIGRATIONS[..version]).expect("migrate");
        // Version 2 and later: the columns of `customers_v2`.
        conn.execute(
            "INSERT INTO customers_v2 (id, display_id, name, domain, owner_id, plan, tags,
                                       custom_fields, source, archived, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?11)",
            params![
                old.id,
                old.display_id.cast_signed(),
                old.name,
                old.domain,
                old.owner_id,
                old.plan,
                serde_json::to_string(&old.tags).expect("json"),
                serde_json::to_string(&old.custom_fields).expect("json"),
                old.source.as_str(),
                1_000_000,
                100_000_000,
            ],
        )
        .expect("insert");
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('high_water_v2', '1970-01-01T00:01:40Z')",
            [],
        )
        .expect("mark");
        assert_eq!(user_version(&conn), version);
    }

    fn legacy_state(conn: &Connection) -> (i64, Option<String>) {
        let rows = conn
            .query_row("SELECT COUNT(*) FROM customers", [], |row| row.get(0))
            .expect("count");
        let mark = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'high_water'",
                [],
                |row| row.get(0),
            )
            .optional()
            .expect("mark");
        (rows, mark)
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
            // A file from before migration 8 syncs once in full, to bring
            // the archived customers its build dropped.
            let mark = (version >= ARCHIVED_CACHED).then(|| at(100));
            assert_eq!(
                store.high_water().expect("high water"),
                mark,
                "from v{version}"
            );
        }
    }

    /// A cache made before archived customers were kept: its live rows
    /// stay, its mark goes (the next sync is full and brings the archived
    /// ones), and from then on an archive stays cached as archived.
    #[test]
    fn a_cache_from_before_archives_were_kept_syncs_once_in_full_then_keeps_them() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.sqlite3");
        file_at_version(&path, ARCHIVED_CACHED - 1);

        let mut store = Store::open(&path).expect("open");
        assert_eq!(store.high_water().expect("high water"), None);
        assert_eq!(store.sync_since(at(1_000)).expect("since"), None);
        assert_eq!(
            store.load_customers().expect("load"),
            vec![customer("cus_old", 100, false)]
        );
        assert_eq!(store.archived_count().expect("archived"), 0);

        store
            .apply_page(&[customer("cus_old", 150, true)])
            .expect("the full sync's page");
        assert!(store.load_customers().expect("load").is_empty());
        assert_eq!(store.archived_count().expect("archived"), 1);
        assert_eq!(store.high_water().expect("high water"), Some(at(150)));
        drop(store);
        let store = Store::open(&path).expect("reopen");
        assert_eq!(user_version(&store.conn), MIGRATIONS.len());
        assert_eq!(store.archived_count().expect("archived"), 1);
    }

    /// `Customer` drops fields it does not know, so the columns keep all a
    /// body could give; the rest of the body still loads.
    #[test]
    fn migration_2_drops_unknown_fields_of_a_body_and_keeps_the_rest() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.sqlite3");
        let mut body = serde_json::to_value(customer("cus_a", 100, false)).expect("json");
        body["health_score"] = serde_json::json!(93);
        let mut plain = customer("cus_b", 100, false);
        plain.tags.clear();
        plain.custom_fields.clear();
        plain.domain = None;
        let plain_body = serde_json::to_string(&plain).expect("json");
        drop(file_at_version_1(
            &path,
            &[("cus_a", body.to_string()), ("cus_b", plain_body)],
        ));

        let store = Store::open(&path).expect("open");
        let mut loaded = store.load_customers().expect("load");
        loaded.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(loaded, vec![customer("cus_a", 100, false), plain]);
    }

    /// Such a body made every load fail before; now the next sync, a full
    /// one, fetches that customer again.
    #[test]
    fn migration_2_drops_a_body_it_cannot_decode_and_the_high_water_mark() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.sqlite3");
        let good = customer("cus_good", 100, false);
        let good_body = serde_json::to_string(&good).expect("json");
        drop(file_at_version_1(
            &path,
            &[
                ("cus_bad", r#"{"id":7}"#.to_owned()),
                ("cus_good", good_body),
            ],
        ));

        let store = Store::open(&path).expect("open");
        assert_eq!(store.load_customers().expect("load"), vec![good]);
        assert_eq!(store.high_water().expect("high water"), None);
        assert_eq!(legacy_state(&store.conn), (0, None));
    }

    /// A build before migration 2 leaves the file at its newer version and
    /// keeps using `customers` and `high_water`: it must find an empty cache
    /// and no mark (so it runs a full sync), and its writes must not leak
    /// into the cache of this build.
    #[test]
    fn after_migration_2_an_older_build_starts_from_an_empty_cache_of_its_own() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("store.sqlite3");
        file_at_version(&path, 1);
        drop(Store::open(&path).expect("migrate"));

        // What the older build does: it reads no rows and no mark, then
        // caches what its full sync fetched.
        let mut older = Connection::open(&path).expect("open as the older build");
        migrate(&mut older, &MIGRATIONS[..1]).expect("left as is");
        assert_eq!(user_version(&older), MIGRATIONS.len());
        assert_eq!(legacy_state(&older), (0, None));
        let fetched = customer("cus_new", 200, false);
        older
            .execute(
                "INSERT INTO customers (id, updated_at, body) VALUES (?1, ?2, ?3)",
                params![
                    fetched.id,
                    200_000_000,
                    serde_json::to_string(&fetched).expect("json")
                ],
            )
            .expect("insert");
        older
            .execute(
                "INSERT INTO meta (key, value) VALUES ('high_water', '1970-01-01T00:03:20Z')",
                [],
            )
            .expect("mark");
        drop(older);

        let store = Store::open(&path).expect("open again");
        assert_eq!(
            store.load_customers().expect("load"),
            vec![customer("cus_old", 100, false)]
        );
        // Migration 8 dropped the mark (one full sync follows); the older
        // build's `high_water` never became this build's.
        assert_eq!(store.high_water().expect("high water"), None);
    }
}
