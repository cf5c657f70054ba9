//! The local store: one SQLite file per account that caches the customers,
//! the team, customer histories and the sync state, so that the app starts
//! instantly and works offline.
//!
//! Owns the store file, its schema and migrations, and every read and write
//! of the cache. It must not depend on the reference server, the UI or async
//! code: every call is synchronous and short, made from the dedicated sync
//! task. The API key only ever enters here to be hashed into the file name
//! ([`account_file`]); it is never stored, logged or put in an error.
//!
//! Customers, read in full at every start, are kept in one column per field
//! (see `schema.rs`, migration 2) so that loading them parses no JSON in the
//! common case. The team and the histories, small and read rarely, are kept
//! as the JSON of the API types, so a change of the contract rarely needs a
//! migration for them.

mod account;
mod customers;
mod dismissed;
mod history;
mod outbox;
mod preview;
mod schema;
mod sync_state;
#[cfg(test)]
mod testing;
mod units;
mod users;

use std::io;
use std::path::{Path, PathBuf};

use rusqlite::types::{Type, ValueRef};
use rusqlite::{Connection, Row};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

pub use account::account_file;
pub use customers::ArchivedCustomer;
pub use dismissed::Dismissed;
pub use outbox::{Claim, Claimant, OutboxItem, OutboxOp};
pub use preview::{NameView, StoreCounts};
pub use units::{MergedInto, PendingMerge, Unit};

/// The local cache of one account, over one SQLite connection (WAL,
/// `synchronous=NORMAL`, foreign keys on).
///
/// Reads take `&self`; every write takes `&mut self` and runs in one
/// transaction, so a crash leaves either all of it or none.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens the store file at `path`, creating it and its parent folders if
    /// needed (the folders `0700`, the file `0600` on Unix: the cache holds
    /// the account's customers), and brings its schema up to date.
    ///
    /// Safe to call from several processes at once: each waits for the
    /// others' writes (see [`BUSY_TIMEOUT`]), and migrations run in one
    /// immediate transaction that re-reads the schema version after taking
    /// the lock.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            private_dir(dir).map_err(|cause| StoreError::Io {
                path: dir.to_owned(),
                cause,
            })?;
        }
        private_file(path).map_err(|cause| StoreError::Io {
            path: path.to_owned(),
            cause,
        })?;
        Connection::open(path)
            .and_then(Store::from_connection)
            .map_err(|cause| StoreError::Open {
                path: path.to_owned(),
                cause,
            })
    }

    /// [`Store::open`], and when the file is damaged (not a database, or
    /// its pages corrupt), moves it aside (with its `-wal` and `-shm`) as
    /// `<name>.damaged-<unix seconds>` and opens a fresh one in its place.
    /// The damaged file is kept for inspection, never deleted; where it went
    /// is in the returned [`Recovered`] and the log.
    ///
    /// Errors other than damage (a folder that cannot be written, a full
    /// disk) are returned as they are: a fresh file would fail the same way.
    pub fn open_or_recover(path: &Path) -> Result<(Store, Option<Recovered>), StoreError> {
        match Store::open(path) {
            Ok(store) => Ok((store, None)),
            Err(err) if err.is_damage() => {
                let aside = set_aside(path).map_err(|cause| StoreError::Io {
                    path: path.to_owned(),
                    cause,
                })?;
                tracing::warn!(error = %err, moved_to = %aside.display(), "the local store was damaged; moved it aside and started a fresh one");
                let store = Store::open(path)?;
                Ok((store, Some(Recovered { moved_to: aside })))
            }
            Err(err) => Err(err),
        }
    }

    /// A fresh, empty store that lives in memory only: for tests and
    /// benchmarks.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Ok(Connection::open_in_memory().and_then(Store::from_connection)?)
    }

    /// Sets how long a statement waits for another connection's lock
    /// (default [`BUSY_TIMEOUT`]).
    ///
    /// # Errors
    ///
    /// SQLite refusing the setting.
    pub fn with_busy_timeout(self, timeout: std::time::Duration) -> Result<Store, StoreError> {
        self.conn.busy_timeout(timeout)?;
        Ok(self)
    }

    /// Caps SQLite's page cache for this connection at `kib` KiB (its
    /// default is 2 MiB): for a connection that reads a screenful, such
    /// as the preview's, where a large cache only adds to the app's peak.
    ///
    /// # Errors
    ///
    /// SQLite refusing the setting.
    pub fn with_cache_kib(self, kib: u32) -> Result<Store, StoreError> {
        self.conn
            .pragma_update(None, "cache_size", -i64::from(kib))?;
        Ok(self)
    }

    /// Hands back the pages SQLite cached for this connection, such as
    /// those a read of every row left (`PRAGMA shrink_memory`): they are
    /// read again from the file when needed.
    ///
    /// # Errors
    ///
    /// SQLite refusing the pragma.
    pub fn release_cache(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("PRAGMA shrink_memory")?;
        Ok(())
    }

    fn from_connection(mut conn: Connection) -> rusqlite::Result<Store> {
        // First, so that every statement below (switching to WAL included)
        // waits for another process's lock instead of failing at once.
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // With WAL, NORMAL can lose the last commits on power loss but never
        // corrupts the file: acceptable for a cache the next sync refills.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn, schema::MIGRATIONS)?;
        fill_keys_an_older_build_left(&mut conn)?;
        // A first sync that stopped part-way left them out.
        conn.execute_batch(preview::LIST_INDEXES)?;
        Ok(Store { conn })
    }
}

/// Fills in the list's keys of rows an older build wrote (see migration 5):
/// one index probe when there are none, which is always but after a
/// downgrade.
fn fill_keys_an_older_build_left(conn: &mut Connection) -> rusqlite::Result<()> {
    let missing: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM customers_v2 WHERE sort_key IS NULL AND archived = 0)",
        )?
        .query_row([], |row| row.get(0))?;
    if missing {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let filled = schema::fill_missing_keys(&tx)?;
        tx.commit()?;
        tracing::info!(
            filled,
            "filled in the list keys of rows an older build wrote"
        );
    }
    Ok(())
}

/// How long a statement waits for another process's write lock before it
/// fails with "database is locked". Writes are short (one page of
/// customers at most), so this is only ever reached when something is
/// badly stuck.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A damaged store file that [`Store::open_or_recover`] moved aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Where the damaged file is now.
    pub moved_to: PathBuf,
}

/// Creates `dir` (and its parents) if needed; a folder this creates is
/// `0700` on Unix.
fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the store file empty if it is missing, `0600` on Unix, before
/// SQLite opens it (SQLite gives its `-wal` and `-shm` files the same
/// permissions), and takes away the group's and others' access to a file
/// an older build created `0644`.
fn private_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    drop(file);
    Ok(())
}

/// Moves a damaged store file and its `-wal`/`-shm` companions aside, and
/// returns the damaged file's new path.
fn set_aside(path: &Path) -> io::Result<PathBuf> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = path
        .file_name()
        .map_or_else(|| "store".into(), |n| n.to_string_lossy().into_owned());
    let aside = path.with_file_name(format!("{name}.damaged-{stamp}"));
    for suffix in ["-wal", "-shm"] {
        let companion = path.with_file_name(format!("{name}{suffix}"));
        if companion.exists() {
            std::fs::rename(
                &companion,
                path.with_file_name(format!("{name}.damaged-{stamp}{suffix}")),
            )?;
        }
    }
    std::fs::rename(path, &aside)?;
    Ok(aside)
}

/// A failed read or write of the local store.
///
/// Each message is one sentence that already includes its cause (there is
/// no separate `source()`), and none contains an API key: the key is never
/// stored, and the file name is only its hash.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The folder for the store file could not be created.
    #[error("could not create the folder {} for the local store: {cause}", path.display())]
    Io {
        /// The folder that could not be created.
        path: PathBuf,
        /// Why.
        cause: io::Error,
    },
    /// The store file could not be opened or its schema brought up to date.
    #[error("could not open the local store {}: {cause}", path.display())]
    Open {
        /// The store file.
        path: PathBuf,
        /// Why.
        cause: rusqlite::Error,
    },
    /// A read or write of an open store failed.
    #[error("the local store failed: {cause}")]
    Sqlite {
        /// Why.
        cause: rusqlite::Error,
    },
    /// A cached record is not JSON that this build can decode.
    #[error("the cached {table} record {id:?} could not be decoded: {cause}")]
    Json {
        /// The table of the record (`customers`, `users`, `history`).
        table: &'static str,
        /// The record's key (a customer or user id; never a secret).
        id: String,
        /// Why.
        cause: serde_json::Error,
    },
    /// A sync-state timestamp could not be read or written as RFC 3339.
    #[error("the local store's {key} is not a valid RFC 3339 timestamp: {cause}")]
    Timestamp {
        /// Which timestamp (`high_water_v2`, `last_synced`).
        key: &'static str,
        /// Why.
        cause: time::Error,
    },
}

impl StoreError {
    /// Whether the file itself is damaged (not a database, or corrupt), as
    /// opposed to a folder that cannot be written, a full disk or a lock.
    pub fn is_damage(&self) -> bool {
        let cause = match self {
            StoreError::Open { cause, .. } | StoreError::Sqlite { cause } => cause,
            _ => return false,
        };
        matches!(
            cause.sqlite_error_code(),
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
        )
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(cause: rusqlite::Error) -> Self {
        StoreError::Sqlite { cause }
    }
}

/// The storage form of a timestamp: microseconds since the Unix epoch, so
/// that comparisons are numeric and exact.
fn micros(at: OffsetDateTime) -> i64 {
    at.unix_timestamp() * 1_000_000 + i64::from(at.microsecond())
}

/// The timestamp stored as [`micros`] (in UTC), computed without parsing.
fn from_micros(micros: i64) -> Result<OffsetDateTime, time::error::ComponentRange> {
    let fraction = u32::try_from(micros.rem_euclid(1_000_000)).unwrap_or(0);
    OffsetDateTime::from_unix_timestamp(micros.div_euclid(1_000_000))?.replace_microsecond(fraction)
}

/// Column `idx` of `row` as a timestamp stored as [`micros`].
fn timestamp(row: &Row<'_>, idx: usize) -> rusqlite::Result<OffsetDateTime> {
    from_micros(row.get(idx)?)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Integer, Box::new(e)))
}

/// Column `idx` of `row` as text, borrowed from SQLite without a copy.
fn text<'row>(row: &'row Row<'_>, idx: usize) -> rusqlite::Result<&'row str> {
    optional_text(row, idx)?.ok_or_else(|| wrong_type(row, idx, Type::Null))
}

/// Column `idx` of `row` as text or NULL, borrowed from SQLite without a
/// copy. Errors name the column, as [`Row::get`] does.
fn optional_text<'row>(row: &'row Row<'_>, idx: usize) -> rusqlite::Result<Option<&'row str>> {
    match row.get_ref(idx)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|e| rusqlite::Error::Utf8Error(idx, e)),
        other => Err(wrong_type(row, idx, other.data_type())),
    }
}

#[cold]
fn wrong_type(row: &Row<'_>, idx: usize, found: Type) -> rusqlite::Error {
    match row.as_ref().column_name(idx) {
        Ok(name) => rusqlite::Error::InvalidColumnType(idx, name.to_owned(), found),
        Err(err) => err,
    }
}

/// The JSON body stored for a record.
fn encode<T: Serialize + ?Sized>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// `value` as JSON, or NULL if `empty`: so that the common empty list or
/// map costs no JSON to write or read.
fn encode_unless_empty<T: Serialize + ?Sized>(
    value: &T,
    empty: bool,
) -> rusqlite::Result<Option<String>> {
    if empty {
        Ok(None)
    } else {
        encode(value).map(Some)
    }
}

/// Decodes the cached JSON `body` of the record `id` in `table`.
fn decode<T: DeserializeOwned>(table: &'static str, id: &str, body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|cause| StoreError::Json {
        table,
        id: id.to_owned(),
        cause,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_file_is_moved_aside_kept_and_replaced_by_a_fresh_store() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("accounts").join("a.sqlite3");
        std::fs::create_dir_all(path.parent().expect("folder")).expect("folder");
        std::fs::write(&path, b"not a database at all, just some bytes").expect("write");

        let (store, recovered) = Store::open_or_recover(&path).expect("recovers");
        let moved_to = recovered.expect("said where the old file went").moved_to;
        assert_eq!(
            std::fs::read(&moved_to).expect("kept"),
            b"not a database at all, just some bytes"
        );
        assert!(store.outbox_pending().expect("a working store").is_empty());
        drop(store);
        let (_, again) = Store::open_or_recover(&path).expect("opens");
        assert_eq!(again, None, "a sound file is left alone");
    }

    #[test]
    fn a_folder_that_cannot_hold_the_file_is_an_error_not_damage() {
        let dir = tempfile::tempdir().expect("dir");
        let blocker = dir.path().join("accounts");
        std::fs::write(&blocker, b"a file where the folder should be").expect("write");
        let err = Store::open_or_recover(&blocker.join("a.sqlite3")).expect_err("cannot");
        assert!(!err.is_damage(), "{err}");
        assert_eq!(
            std::fs::read(&blocker).expect("untouched"),
            b"a file where the folder should be"
        );
    }

    #[test]
    fn many_connections_opening_a_new_file_at_once_all_succeed() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("accounts").join("new.sqlite3");
        let opened: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| Store::open(&path).map(drop)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("no panic"))
                .collect()
        });
        for result in opened {
            result.expect("every first open succeeds");
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_the_users_alone_even_if_an_older_build_made_it_readable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("accounts").join("a.sqlite3");
        drop(Store::open(&path).expect("open"));
        let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("folder")), 0o700);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        drop(Store::open(&path).expect("open"));
        assert_eq!(mode(&path), 0o600);
    }
}
