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
mod history;
mod outbox;
mod schema;
mod sync_state;
#[cfg(test)]
mod testing;
mod users;

use std::io;
use std::path::{Path, PathBuf};

use rusqlite::types::{Type, ValueRef};
use rusqlite::{Connection, Row};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

pub use account::account_file;
pub use outbox::{OutboxItem, OutboxOp};

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
    /// needed, and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|cause| StoreError::Io {
                path: dir.to_owned(),
                cause,
            })?;
        }
        Connection::open(path)
            .and_then(Store::from_connection)
            .map_err(|cause| StoreError::Open {
                path: path.to_owned(),
                cause,
            })
    }

    /// A fresh, empty store that lives in memory only: for tests, or as a
    /// fallback when the file cannot be opened.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Ok(Connection::open_in_memory().and_then(Store::from_connection)?)
    }

    fn from_connection(mut conn: Connection) -> rusqlite::Result<Store> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // With WAL, NORMAL can lose the last commits on power loss but never
        // corrupts the file: acceptable for a cache the next sync refills.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn, schema::MIGRATIONS)?;
        Ok(Store { conn })
    }
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
