//! Cached customer histories, so a detail view opens with the last history
//! seen while a fresh one is fetched.
//!
//! Owns the `history` table: one JSON array per customer, newest first, as
//! the API returns it. Deciding when a history is stale belongs to the
//! caller, not here. An archived customer keeps its history, as Pivotal
//! keeps it: the cache holds archived customers too (see
//! [`Store::apply_page`]), and a restore shows it again at once.

use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use super::{Store, StoreError, decode, encode, micros};
use crate::api::HistoryEvent;

const TABLE: &str = "history";

impl Store {
    /// Caches the history of `customer_id` (newest first) as fetched at
    /// `fetched_at`, unless a later fetch is already cached.
    pub fn save_history(
        &mut self,
        customer_id: &str,
        events: &[HistoryEvent],
        fetched_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO history (customer_id, fetched_at, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (customer_id) DO UPDATE
                 SET fetched_at = excluded.fetched_at, body = excluded.body
                 WHERE excluded.fetched_at >= history.fetched_at",
            )?
            .execute(params![customer_id, micros(fetched_at), encode(events)?])?;
        Ok(())
    }

    /// The cached history of `customer_id`, newest first, or `None` if none
    /// is cached.
    pub fn load_history(&self, customer_id: &str) -> Result<Option<Vec<HistoryEvent>>, StoreError> {
        let body: Option<String> = self
            .conn
            .prepare_cached("SELECT body FROM history WHERE customer_id = ?1")?
            .query_row([customer_id], |row| row.get(0))
            .optional()?;
        body.map(|body| decode(TABLE, customer_id, &body))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{at, event};

    #[test]
    fn a_history_round_trips_newest_first() {
        let mut store = Store::open_in_memory().expect("store");
        let events = vec![
            event(30, "note"),
            event(20, "updated"),
            event(10, "created"),
        ];
        store.save_history("cus_a", &events, at(40)).expect("save");
        assert_eq!(store.load_history("cus_a").expect("load"), Some(events));
        assert_eq!(store.load_history("cus_b").expect("load"), None);
    }

    #[test]
    fn an_empty_history_is_cached_as_empty() {
        let mut store = Store::open_in_memory().expect("store");
        store.save_history("cus_a", &[], at(40)).expect("save");
        assert_eq!(store.load_history("cus_a").expect("load"), Some(vec![]));
    }

    #[test]
    fn a_later_fetch_replaces_the_history_and_an_earlier_one_does_not() {
        let mut store = Store::open_in_memory().expect("store");
        let first = vec![event(10, "created")];
        let later = vec![event(20, "updated"), event(10, "created")];
        store.save_history("cus_a", &first, at(15)).expect("save");
        store
            .save_history("cus_a", &later, at(25))
            .expect("save later");
        store
            .save_history("cus_a", &first, at(15))
            .expect("save late arrival");
        assert_eq!(store.load_history("cus_a").expect("load"), Some(later));
    }
}
