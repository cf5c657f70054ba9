//! The sync state kept in `meta`: the high-water mark (the greatest
//! `updated_at` applied) and the time of the last successful sync, both as
//! RFC 3339 text.
//!
//! The mark is kept under `high_water_v2`, the mark of the rows in
//! `customers_v2`; `high_water` was the mark of the old `customers` table,
//! and belongs to builds before migration 2 (see `schema.rs`).
//!
//! Owns the `meta` keys and their encoding. Deciding when to sync, or what a
//! sync asks the server for, belongs to the sync task, not here.

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Store, StoreError};

const HIGH_WATER: &str = "high_water_v2";
const LAST_SYNCED: &str = "last_synced";

impl Store {
    /// The greatest `updated_at` of any record applied by
    /// [`Store::apply_page`]: the next incremental sync asks for
    /// `updated_since` this. `None` until the first non-empty page.
    pub fn high_water(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        read_time(&self.conn, HIGH_WATER)
    }

    /// Where the next sync starts: the [high-water mark](Store::high_water),
    /// unless it is more than a day past `now`. Such a mark can only come
    /// from a record dated in the future (left by an older version, before
    /// the mark was kept to the server's clock), and would hide every later
    /// change; `None` then asks for a full sync, which sets it right.
    pub fn sync_since(&self, now: OffsetDateTime) -> Result<Option<OffsetDateTime>, StoreError> {
        let mark = self.high_water()?;
        Ok(mark.filter(|mark| *mark <= now + time::Duration::DAY))
    }

    /// When the last sync completed, as recorded by
    /// [`Store::set_last_synced`]; `None` if none has yet.
    pub fn last_synced(&self) -> Result<Option<OffsetDateTime>, StoreError> {
        read_time(&self.conn, LAST_SYNCED)
    }

    /// Records that a sync completed at `at`.
    pub fn set_last_synced(&mut self, at: OffsetDateTime) -> Result<(), StoreError> {
        write_time(&self.conn, LAST_SYNCED, at)
    }
}

/// Raises the high-water mark to `newest`; never lowers it, unless the mark
/// is past `latest_sane` (a future date can only be a bad record's): then
/// it comes down to `newest`. Called inside the transaction that applies
/// the page, so the mark and the rows it covers are saved together.
pub(super) fn raise_high_water(
    conn: &Connection,
    newest: OffsetDateTime,
    latest_sane: OffsetDateTime,
) -> Result<(), StoreError> {
    let current = read_time(conn, HIGH_WATER)?;
    if current.is_none_or(|current| newest > current || current > latest_sane) {
        write_time(conn, HIGH_WATER, newest)?;
    }
    Ok(())
}

fn read_time(conn: &Connection, key: &'static str) -> Result<Option<OffsetDateTime>, StoreError> {
    let value: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()?;
    value
        .map(|text| OffsetDateTime::parse(&text, &Rfc3339))
        .transpose()
        .map_err(|cause| StoreError::Timestamp {
            key,
            cause: cause.into(),
        })
}

fn write_time(conn: &Connection, key: &'static str, at: OffsetDateTime) -> Result<(), StoreError> {
    let text = at.format(&Rfc3339).map_err(|cause| StoreError::Timestamp {
        key,
        cause: cause.into(),
    })?;
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, text])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::at;

    #[test]
    fn a_new_store_has_no_sync_state() {
        let store = Store::open_in_memory().expect("store");
        assert_eq!(store.high_water().expect("high water"), None);
        assert_eq!(store.last_synced().expect("last synced"), None);
    }

    #[test]
    fn the_last_sync_time_round_trips_and_can_be_replaced() {
        let mut store = Store::open_in_memory().expect("store");
        let first = at(1_800_000_000) + time::Duration::microseconds(123_456);
        store.set_last_synced(first).expect("set");
        assert_eq!(store.last_synced().expect("get"), Some(first));

        store.set_last_synced(at(1_700_000_000)).expect("set again");
        assert_eq!(store.last_synced().expect("get"), Some(at(1_700_000_000)));
    }

    #[test]
    fn a_mark_far_in_the_future_asks_for_a_full_sync() {
        let store = Store::open_in_memory().expect("store");
        store
            .conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, '9999-12-31T23:59:59Z')",
                [HIGH_WATER],
            )
            .expect("insert");
        assert_eq!(store.sync_since(at(1_800_000_000)).expect("since"), None);

        write_time(&store.conn, HIGH_WATER, at(1_800_000_100)).expect("write");
        assert_eq!(
            store.sync_since(at(1_800_000_000)).expect("since"),
            Some(at(1_800_000_100)),
            "a clock a little behind the server's keeps the mark"
        );
    }

    #[test]
    fn a_corrupt_timestamp_is_an_error_naming_the_key() {
        let store = Store::open_in_memory().expect("store");
        store
            .conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, 'yesterday')",
                [HIGH_WATER],
            )
            .expect("insert");
        let err = store.high_water().expect_err("not RFC 3339");
        assert!(
            matches!(
                err,
                StoreError::Timestamp {
                    key: HIGH_WATER,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains(HIGH_WATER), "{err}");
    }
}
