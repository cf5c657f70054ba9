//! The customer cache: loading it at start-up, and applying sync pages and
//! the server's answers to it.
//!
//! Owns the `customers_v2` table (one column per field, see `schema.rs`) and
//! the rule that a cached record is only replaced by a newer record.
//! Archived customers are cached like live ones (`archived = 1`), with
//! their history, so the archived view and `customers archived` read them
//! without a listing of the whole account; every read of the live list
//! says `archived = 0`, so they never reach it, its counts or its badges.
//! Fetching pages and guarding against stale responses belong to the sync
//! task, not here.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::{
    MergedInto, Store, StoreError, decode, encode_unless_empty, micros, optional_text, sync_state,
    text, timestamp,
};
use crate::api::{Customer, Source};
use crate::domain::customers::Fields;
use crate::domain::{Entry, domain_key_of, name_sort_key};

const TABLE: &str = "customers";

/// How far past the server's clock a record's `updated_at` may be and still
/// move the high-water mark: the `Date` header has whole seconds, and
/// without one the local clock stands in for the server's.
const CLOCK_SLACK: time::Duration = time::Duration::MINUTE;

/// Every live row, in table order. `NOT INDEXED`: the partial indexes of
/// live rows (migration 5) would otherwise be walked, each row then
/// looked up at random in the table, where one pass over the table in
/// order reads every page once (the warm start, measured: 158 ms against
/// 253 ms at 100,000 customers, and less page cache).
const LIVE_ROWS: &str = "SELECT id, display_id, name, domain, owner_id, plan, tags, custom_fields,
            source, archived, created_at, updated_at
     FROM customers_v2 NOT INDEXED WHERE archived = 0";

/// An archived customer as the cache has it, with the record it was
/// merged into when a merge made here archived it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedCustomer {
    pub customer: Customer,
    pub merged_into: Option<MergedInto>,
}

impl Store {
    /// Every cached live customer (archived ones stay in the store), in no
    /// particular order.
    pub fn load_customers(&self) -> Result<Vec<Customer>, StoreError> {
        let mut statement = self.conn.prepare_cached(LIVE_ROWS)?;
        let mut rows = statement.query([])?;
        let mut customers = Vec::new();
        while let Some(row) = rows.next()? {
            customers.push(read_customer(row)?);
        }
        Ok(customers)
    }

    /// Every cached live customer as the list shows it, read straight from
    /// the rows into [`Entry`]s (no intermediate [`Customer`]), into a `Vec`
    /// sized once from `COUNT(*)`: the warm start's one pass over the cache.
    pub fn load_entries(&self) -> Result<Vec<Entry>, StoreError> {
        let count = self.customer_count()?;
        let mut statement = self.conn.prepare_cached(LIVE_ROWS)?;
        let mut rows = statement.query([])?;
        let mut entries = Vec::with_capacity(count);
        while let Some(row) = rows.next()? {
            entries.push(read_entry(row)?);
        }
        Ok(entries)
    }

    /// How many live customers are cached.
    pub fn customer_count(&self) -> Result<usize, StoreError> {
        self.count("SELECT COUNT(*) FROM customers_v2 WHERE archived = 0")
    }

    /// How many archived customers are cached.
    pub fn archived_count(&self) -> Result<usize, StoreError> {
        self.count(
            "SELECT COUNT(*) FROM customers_v2 INDEXED BY customers_v2_archived
             WHERE archived = 1",
        )
    }

    fn count(&self, sql: &str) -> Result<usize, StoreError> {
        let count: i64 = self
            .conn
            .prepare_cached(sql)?
            .query_row([], |row| row.get(0))?;
        usize::try_from(count)
            .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, count).into())
    }

    /// The id of the cached archived customer numbered `display_id`, if
    /// the cache holds one: read from the archived rows' own index, so
    /// that `customers show #N` of an archived customer need not list the
    /// whole account.
    pub fn archived_id(&self, display_id: u64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id FROM customers_v2 INDEXED BY customers_v2_archived
                 WHERE archived = 1 AND display_id = ?1
                 LIMIT 1",
            )?
            .query_row([display_id.cast_signed()], |row| row.get(0))
            .optional()?)
    }

    /// Every cached archived customer, the most recently changed first,
    /// each with the record a merge made here put it into: read on demand
    /// (the archived view, `customers archived`), never at start.
    pub fn load_archived(&self) -> Result<Vec<ArchivedCustomer>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT c.id, c.display_id, c.name, c.domain, c.owner_id, c.plan, c.tags,
                    c.custom_fields, c.source, c.archived, c.created_at, c.updated_at,
                    m.keeper_id, m.keeper_display_id, m.merged_at
             FROM customers_v2 AS c INDEXED BY customers_v2_archived
             LEFT JOIN merged_into AS m ON m.customer_id = c.id
             WHERE c.archived = 1
             ORDER BY c.updated_at DESC",
        )?;
        let mut rows = statement.query([])?;
        let mut archived = Vec::new();
        while let Some(row) = rows.next()? {
            let customer = read_customer(row)?;
            let merged_into = match optional_text(row, 12)? {
                Some(keeper_id) => Some(MergedInto {
                    customer_id: customer.id.clone(),
                    keeper_id: keeper_id.to_owned(),
                    keeper_display_id: row.get::<_, i64>(13)?.cast_unsigned(),
                    at: timestamp(row, 14)?,
                }),
                None => None,
            };
            archived.push(ArchivedCustomer {
                customer,
                merged_into,
            });
        }
        Ok(archived)
    }

    /// Applies one sync page in one transaction: every customer is cached,
    /// archived or live (an archive turns its row archived, a restore live
    /// again; histories stay), and the high-water mark rises to the page's greatest `updated_at`, but never
    /// past this machine's clock (see [`Store::apply_page_as_of`]).
    ///
    /// A record older than the cached one for the same id is ignored, so
    /// pages may be re-applied or arrive late. If the transaction is
    /// interrupted, neither the rows nor the mark are saved, and the next
    /// sync resumes from the previous mark.
    pub fn apply_page(&mut self, page: &[Customer]) -> Result<(), StoreError> {
        self.apply_page_as_of(page, OffsetDateTime::now_utc())
    }

    /// [`Store::apply_page`] for a page the server sent at `server_now` (its
    /// `Date` header; else this machine's clock). The high-water mark rises
    /// to the greatest `updated_at` on the page that is not in the future
    /// (more than a minute past `server_now`): a record dated in year
    /// 9999 is cached, but the mark stays where the next incremental sync
    /// still sees every later change. A mark already in the future (left by
    /// an older version) comes down.
    pub fn apply_page_as_of(
        &mut self,
        page: &[Customer],
        server_now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let latest_sane = server_now + CLOCK_SLACK;
        let tx = self.conn.transaction()?;
        for customer in page {
            upsert_if_newer(&tx, customer)?;
            // Not applied: the cached copy is newer, or dated in the
            // future, and then the server's copy wins.
            if tx.changes() == 0 && forget_if_future(&tx, &customer.id, latest_sane)? {
                upsert_if_newer(&tx, customer)?;
            }
        }
        let newest = page
            .iter()
            .map(|c| c.updated_at)
            .filter(|updated_at| *updated_at <= latest_sane)
            .max();
        if let Some(newest) = newest {
            sync_state::raise_high_water(&tx, newest, latest_sane)?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// The customer in `row`, whose columns are those of `customers_v2` in
/// order. Text that is only looked at is borrowed, not copied; an empty
/// `tags` or `custom_fields` (NULL or '') needs no JSON parse, and the common
/// non-empty one needs no `serde_json` (see [`each_plain_json_string`]).
pub(super) fn read_customer(row: &Row<'_>) -> Result<Customer, StoreError> {
    let id: String = row.get(0)?;
    let tags = read_tags(row, &id)?;
    let custom_fields: BTreeMap<String, String> =
        read_custom_fields(row, &id)?.into_iter().collect();
    Ok(Customer {
        display_id: row.get::<_, i64>(1)?.cast_unsigned(),
        name: row.get(2)?,
        domain: row.get(3)?,
        owner_id: row.get(4)?,
        plan: row.get(5)?,
        tags,
        custom_fields,
        source: Source::parse(text(row, 8)?),
        archived: row.get(9)?,
        created_at: timestamp(row, 10)?,
        updated_at: timestamp(row, 11)?,
        id,
    })
}

/// [`read_customer`] made straight into an [`Entry`]: the text columns are
/// borrowed from SQLite and copied once, sanitised, by the domain.
pub(super) fn read_entry(row: &Row<'_>) -> Result<Entry, StoreError> {
    let id = text(row, 0)?;
    Ok(Entry::from_fields(Fields {
        id,
        display_id: row.get::<_, i64>(1)?.cast_unsigned(),
        name: text(row, 2)?,
        domain: optional_text(row, 3)?,
        owner_id: optional_text(row, 4)?,
        plan: optional_text(row, 5)?,
        tags: read_tags(row, id)?,
        custom_fields: read_custom_fields(row, id)?,
        source: text(row, 8)?,
        archived: row.get(9)?,
        created_at: timestamp(row, 10)?,
        updated_at: timestamp(row, 11)?,
    }))
}

/// The `tags` column (6) of the row of customer `id`.
fn read_tags(row: &Row<'_>, id: &str) -> Result<Vec<String>, StoreError> {
    let mut tags = Vec::new();
    if let Some(json) = optional_text(row, 6)?
        && !json.is_empty()
    {
        // Two quotes a tag, in the common form: the exact capacity.
        tags.reserve_exact(json.bytes().filter(|b| *b == b'"').count() / 2);
        if !each_plain_json_string(json, false, |tag| tags.push(tag.to_owned())) {
            tags = decode(TABLE, id, json)?;
        }
    }
    Ok(tags)
}

/// The `custom_fields` column (7) of the row of customer `id`, as pairs in
/// the order stored, one per key (a repeated key keeps its last value, as a
/// JSON object does).
fn read_custom_fields(row: &Row<'_>, id: &str) -> Result<Vec<(String, String)>, StoreError> {
    let mut fields: Vec<(String, String)> = Vec::new();
    if let Some(json) = optional_text(row, 7)?
        && !json.is_empty()
    {
        let mut key = None;
        let plain = each_plain_json_string(json, true, |text| match key.take() {
            None => key = Some(text),
            Some(key) => match fields.iter_mut().find(|(k, _)| k == key) {
                Some((_, value)) => text.clone_into(value),
                None => fields.push((key.to_owned(), text.to_owned())),
            },
        });
        if !plain {
            let decoded: BTreeMap<String, String> = decode(TABLE, id, json)?;
            fields = decoded.into_iter().collect();
        }
    }
    Ok(fields)
}

/// Calls `each` with the strings of the JSON array `json` in order (or, if
/// `object`, with the keys and values of the JSON object in turn), and
/// returns `true`, when `json` has the compact form that
/// [`encode`](super::encode) writes and no backslash or control character:
/// `["a","b"]`, `{"k":"v"}`.
///
/// In that form a string has no escape and no quote inside, so its text is
/// its value. Otherwise it returns `false`, maybe after some calls, and the
/// caller leaves `json` to `serde_json`, which gives the value or the error.
fn each_plain_json_string<'a>(json: &'a str, object: bool, mut each: impl FnMut(&'a str)) -> bool {
    let (open, close) = if object { (b'{', b'}') } else { (b'[', b']') };
    let bytes = json.as_bytes();
    if bytes.len() < 2 || bytes[0] != open || bytes[bytes.len() - 1] != close {
        return false;
    }
    let end = bytes.len() - 1;
    let mut at = 1;
    let mut count = 0_usize;
    while at < end {
        if bytes[at] != b'"' {
            return false;
        }
        let start = at + 1;
        at = start;
        while bytes[at] != b'"' {
            if bytes[at] == b'\\' || bytes[at] < 0x20 || at == end {
                return false;
            }
            at += 1;
        }
        // Quotes are ASCII, so both ends are character boundaries.
        each(&json[start..at]);
        count += 1;
        at += 1;
        let separator = if object && count % 2 == 1 { b':' } else { b',' };
        if at < end {
            if bytes[at] != separator || at + 1 == end {
                return false;
            }
            at += 1;
        }
    }
    !object || count.is_multiple_of(2)
}

/// Caches `customer` unless the cached record for its id is as new or newer
/// (an equal `updated_at` is the same version, so the row is left alone).
pub(super) fn upsert_if_newer(conn: &Connection, c: &Customer) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO customers_v2 (id, display_id, name, domain, owner_id, plan, tags,
                                   custom_fields, source, archived, created_at, updated_at,
                                   sort_key, domain_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET
             display_id = excluded.display_id, name = excluded.name,
             domain = excluded.domain, owner_id = excluded.owner_id, plan = excluded.plan,
             tags = excluded.tags, custom_fields = excluded.custom_fields,
             source = excluded.source, archived = excluded.archived,
             created_at = excluded.created_at, updated_at = excluded.updated_at,
             sort_key = excluded.sort_key, domain_key = excluded.domain_key
         WHERE excluded.updated_at > customers_v2.updated_at",
    )?
    .execute(params![
        c.id,
        // Lossless both ways, even above i64::MAX.
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
        // The list's own keys (see `preview.rs`), from the one place the
        // list computes them.
        name_sort_key(&c.name),
        domain_key_of(c.domain.as_deref()),
    ])?;
    Ok(())
}

/// Removes the cached customer `id` if its `updated_at` is past
/// `latest_sane`: a version dated in the future would otherwise shadow
/// every real one after it. True when it was removed.
fn forget_if_future(
    conn: &Connection,
    id: &str,
    latest_sane: OffsetDateTime,
) -> rusqlite::Result<bool> {
    let removed = conn
        .prepare_cached("DELETE FROM customers_v2 WHERE id = ?1 AND updated_at > ?2")?
        .execute(params![id, micros(latest_sane)])?;
    Ok(removed > 0)
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

    /// The `tags` and `custom_fields` columns of the cached row `id`.
    fn cached_lists(store: &Store, id: &str) -> (Option<String>, Option<String>) {
        store
            .conn
            .query_row(
                "SELECT tags, custom_fields FROM customers_v2 WHERE id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
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
        // An equal `updated_at` is the same version: the row is left alone.
        let mut same = customer("cus_a", 20, false);
        same.name = "Same version".to_owned();
        store.apply_page(&[same]).expect("apply same version");
        store
            .apply_page(&[customer("cus_a", 15, true)])
            .expect("apply archived");

        assert_eq!(store.load_customers().expect("load"), vec![newer]);
    }

    #[test]
    fn an_archived_customer_is_found_by_its_number_and_a_live_one_is_not() {
        let mut store = Store::open_in_memory().expect("store");
        let numbered = |id: &str, display_id: u64, updated: i64, archived: bool| Customer {
            display_id,
            ..customer(id, updated, archived)
        };
        store
            .apply_page(&[
                numbered("cus_live", 7, 10, false),
                numbered("cus_gone", 8, 10, true),
            ])
            .expect("apply");

        assert_eq!(
            store.archived_id(8).expect("read"),
            Some("cus_gone".to_owned())
        );
        assert_eq!(
            store.archived_id(7).expect("read"),
            None,
            "live, not archived"
        );
        assert_eq!(store.archived_id(9).expect("read"), None, "unknown");

        store
            .apply_page(&[numbered("cus_gone", 8, 20, false)])
            .expect("apply the restore");
        assert_eq!(store.archived_id(8).expect("read"), None, "restored");
    }

    fn archived_ids(store: &Store) -> Vec<String> {
        store
            .load_archived()
            .expect("archived")
            .into_iter()
            .map(|a| a.customer.id)
            .collect()
    }

    #[test]
    fn an_archive_leaves_the_live_list_and_stays_cached_as_archived_with_its_history() {
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

        assert_eq!(store.load_customers().expect("load"), vec![kept.clone()]);
        assert_eq!(store.load_entries().expect("entries").len(), 1);
        assert_eq!(store.customer_count().expect("count"), 1);
        assert_eq!(store.archived_count().expect("archived count"), 1);
        let archived = store.load_archived().expect("archived");
        assert_eq!(archived.len(), 1);
        assert_eq!(archived[0].customer, customer("cus_gone", 20, true));
        assert_eq!(archived[0].merged_into, None);
        assert_eq!(
            store.load_history("cus_gone").expect("history"),
            Some(vec![event(10, "created")])
        );
        assert_eq!(store.high_water().expect("high water"), Some(at(20)));

        // A later incremental page that does not mention it keeps it
        // archived; one older than the archive does not bring it back.
        store
            .apply_page(&[customer("cus_other", 25, false)])
            .expect("apply later page");
        store
            .apply_page(&[customer("cus_gone", 15, false)])
            .expect("apply stale page");
        assert_eq!(archived_ids(&store), ["cus_gone"]);
        assert_eq!(store.customer_count().expect("count"), 2);
    }

    #[test]
    fn a_restore_brings_an_archived_customer_back_to_the_live_list() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .apply_page(&[customer("cus_a", 10, true), customer("cus_b", 10, false)])
            .expect("apply");
        assert_eq!(archived_ids(&store), ["cus_a"]);

        let restored = customer("cus_a", 30, false);
        store
            .apply_page(std::slice::from_ref(&restored))
            .expect("apply restore");

        assert!(archived_ids(&store).is_empty());
        assert_eq!(
            sorted(store.load_customers().expect("load")),
            vec![restored, customer("cus_b", 10, false)]
        );
        assert_eq!(store.archived_count().expect("archived count"), 0);
    }

    #[test]
    fn the_archived_list_says_which_record_a_merge_put_each_one_into() {
        let mut store = Store::open_in_memory().expect("store");
        let unit = crate::store::Unit {
            id: crate::api::IdempotencyKey::new(),
            items: Vec::new(),
            merged: vec![MergedInto {
                customer_id: "cus_loser".into(),
                keeper_id: "cus_keeper".into(),
                keeper_display_id: 1003,
                at: at(40),
            }],
            unmerged: Vec::new(),
            keeper_back: None,
        };
        store.outbox_push_unit(&unit, at(40)).expect("unit");
        store
            .apply_page(&[
                customer("cus_keeper", 41, false),
                customer("cus_loser", 41, true),
                customer("cus_plain", 42, true),
            ])
            .expect("apply");

        let archived = store.load_archived().expect("archived");
        let merged: Vec<(&str, Option<u64>)> = archived
            .iter()
            .map(|a| {
                (
                    a.customer.id.as_str(),
                    a.merged_into.as_ref().map(|m| m.keeper_display_id),
                )
            })
            .collect();
        // The most recently changed first.
        assert_eq!(merged, [("cus_plain", None), ("cus_loser", Some(1003))]);
    }

    /// Every query of the live list, the warm start's included, reads live
    /// rows only and from an index where it counts; the archived list reads
    /// its own index.
    #[test]
    fn live_queries_never_see_archived_rows_and_stay_on_their_indexes() {
        let mut store = Store::open_in_memory().expect("store");
        let mut twin = customer("cus_twin", 10, true);
        twin.domain = Some("cus_live.example.com".into());
        store
            .apply_page(&[customer("cus_live", 10, false), twin])
            .expect("apply");
        let view = crate::store::NameView {
            owner: None,
            descending: false,
        };
        let counts = store.preview_counts(&view).expect("counts");
        assert_eq!(counts.total, 1);
        assert_eq!(
            counts.duplicate_domains, 0,
            "an archived twin is no duplicate"
        );
        assert_eq!(store.customer_count().expect("count"), 1);

        let plan = |sql: &str| -> String {
            let mut statement = store
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("plan");
            let rows = statement
                .query_map([], |row| row.get::<_, String>(3))
                .expect("rows");
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .expect("plan rows")
                .join("; ")
        };
        let count = plan("SELECT COUNT(*) FROM customers_v2 WHERE archived = 0");
        assert!(count.contains("USING COVERING INDEX"), "{count}");
        // The warm start reads the table in order, not through an index.
        let warm = plan(LIVE_ROWS);
        assert_eq!(warm, "SCAN customers_v2");
        let archived = plan(
            "SELECT id FROM customers_v2 INDEXED BY customers_v2_archived
             WHERE archived = 1 ORDER BY updated_at DESC",
        );
        assert!(archived.contains("customers_v2_archived"), "{archived}");
        assert!(!archived.contains("TEMP B-TREE"), "{archived}");
    }

    #[test]
    fn a_record_from_the_far_future_is_cached_but_does_not_move_the_mark() {
        let mut store = Store::open_in_memory().expect("store");
        let mut future = customer("cus_future", 0, false);
        future.updated_at = time::macros::datetime!(9999-12-31 23:59:59 UTC);
        store
            .apply_page_as_of(&[customer("cus_a", 30, false), future], at(100))
            .expect("apply");
        assert_eq!(store.high_water().expect("high water"), Some(at(30)));
        let ids: Vec<String> = store
            .load_customers()
            .expect("load")
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert!(ids.contains(&"cus_future".to_owned()), "{ids:?}");

        // Later pages move it on as usual; a record a little ahead of the
        // server's whole-second clock counts, one further ahead does not.
        store
            .apply_page_as_of(&[customer("cus_b", 150, false)], at(200))
            .expect("apply");
        assert_eq!(store.high_water().expect("high water"), Some(at(150)));
        store
            .apply_page_as_of(&[customer("cus_c", 230, false)], at(200))
            .expect("apply");
        assert_eq!(store.high_water().expect("high water"), Some(at(230)));
        store
            .apply_page_as_of(&[customer("cus_d", 500, false)], at(300))
            .expect("apply");
        assert_eq!(store.high_water().expect("high water"), Some(at(230)));
    }

    #[test]
    fn a_record_dated_in_the_future_gives_way_to_the_servers_later_correction() {
        let mut store = Store::open_in_memory().expect("store");
        let mut future = customer("cus_a", 0, false);
        future.updated_at = time::macros::datetime!(9999-12-31 23:59:59 UTC);
        store.apply_page_as_of(&[future], at(100)).expect("apply");

        let mut fixed = customer("cus_a", 150, false);
        fixed.name = "Fixed".to_owned();
        store
            .apply_page_as_of(&[fixed.clone()], at(200))
            .expect("apply");
        assert_eq!(store.load_customers().expect("load"), vec![fixed]);

        // An older copy still never replaces a newer one.
        store
            .apply_page_as_of(&[customer("cus_a", 120, false)], at(200))
            .expect("apply");
        assert_eq!(store.load_customers().expect("load")[0].name, "Fixed");

        // Nor does an archive keep a future-dated copy alive.
        let mut future = customer("cus_b", 0, false);
        future.updated_at = time::macros::datetime!(9999-12-31 23:59:59 UTC);
        store.apply_page_as_of(&[future], at(200)).expect("apply");
        store
            .apply_page_as_of(&[customer("cus_b", 210, true)], at(220))
            .expect("apply");
        let ids: Vec<String> = store
            .load_customers()
            .expect("load")
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, ["cus_a"]);
    }

    #[test]
    fn a_mark_already_past_the_servers_now_comes_down_with_the_next_page() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .apply_page_as_of(&[customer("cus_a", 1_000, false)], at(1_000))
            .expect("apply");
        assert_eq!(store.high_water().expect("high water"), Some(at(1_000)));
        store
            .apply_page_as_of(&[customer("cus_b", 40, false)], at(50))
            .expect("apply");
        assert_eq!(store.high_water().expect("high water"), Some(at(40)));
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
                "CREATE TEMP TRIGGER fail_on_bad BEFORE INSERT ON customers_v2
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

    #[test]
    fn every_field_round_trips_including_edge_values() {
        let mut store = Store::open_in_memory().expect("store");
        let mut edge = customer("cus_edge", 20, false);
        edge.display_id = u64::MAX;
        edge.domain = None;
        edge.owner_id = None;
        edge.plan = None;
        edge.source = Source::Other("salesforce".into());
        edge.created_at = at(-86_400) + time::Duration::microseconds(1);
        edge.updated_at = at(1_800_000_000) + time::Duration::microseconds(999_999);
        edge.custom_fields
            .insert("quote \" \\ é".to_owned(), String::new());
        let page = vec![edge, customer("cus_full", 10, false)];
        store.apply_page(&page).expect("apply");
        assert_eq!(sorted(store.load_customers().expect("load")), page);
    }

    #[test]
    fn empty_tags_and_custom_fields_are_stored_as_null_and_load_as_empty() {
        let mut store = Store::open_in_memory().expect("store");
        let mut plain = customer("cus_a", 10, false);
        plain.tags.clear();
        plain.custom_fields.clear();
        store
            .apply_page(std::slice::from_ref(&plain))
            .expect("apply");
        assert_eq!(cached_lists(&store, "cus_a"), (None, None));
        assert_eq!(store.load_customers().expect("load"), vec![plain.clone()]);

        store
            .conn
            .execute("UPDATE customers_v2 SET tags = '', custom_fields = ''", [])
            .expect("update");
        assert_eq!(store.load_customers().expect("load"), vec![plain]);

        let tagged = customer("cus_a", 20, false);
        store
            .apply_page(std::slice::from_ref(&tagged))
            .expect("apply");
        assert_eq!(
            cached_lists(&store, "cus_a"),
            (
                Some(r#"["beta","emea"]"#.to_owned()),
                Some(r#"{"region":"EMEA","seats":"120"}"#.to_owned())
            )
        );
        assert_eq!(store.load_customers().expect("load"), vec![tagged]);
    }

    #[test]
    fn a_row_this_build_cannot_decode_is_an_error_naming_the_record() {
        let mut store = Store::open_in_memory().expect("store");
        store
            .apply_page(&[customer("cus_a", 10, false)])
            .expect("apply");
        store
            .conn
            .execute("UPDATE customers_v2 SET tags = '{\"id\":7}'", [])
            .expect("update");
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

        store
            .conn
            .execute("UPDATE customers_v2 SET tags = NULL, source = x'6869'", [])
            .expect("update");
        let err = store.load_customers().expect_err("not text");
        assert!(err.to_string().contains("source"), "{err}");
    }

    /// What the fast path reads from `json`, if it takes it.
    fn plain(json: &str, object: bool) -> Option<Vec<String>> {
        let mut strings = Vec::new();
        each_plain_json_string(json, object, |s| strings.push(s.to_owned())).then_some(strings)
    }

    /// Whatever `json`, the fast path either declines it or reads exactly
    /// what `serde_json` reads (and never takes what `serde_json` rejects).
    fn assert_fast_path_agrees(json: &str) {
        let as_list = serde_json::from_str::<Vec<String>>(json).ok();
        if let Some(fast) = plain(json, false) {
            assert_eq!(Some(fast), as_list, "array {json:?}");
        }
        let as_map = serde_json::from_str::<BTreeMap<String, String>>(json).ok();
        if let Some(fast) = plain(json, true) {
            let mut map = BTreeMap::new();
            for pair in fast.chunks(2) {
                map.insert(pair[0].clone(), pair[1].clone());
            }
            assert_eq!(Some(map), as_map, "object {json:?}");
        }
    }

    #[test]
    fn the_fast_path_takes_the_common_form_and_agrees_with_serde_json() {
        assert_eq!(
            plain(r#"["beta","emea"]"#, false),
            Some(vec!["beta".into(), "emea".into()])
        );
        assert_eq!(
            plain(r#"{"a":"1","b":""}"#, true),
            Some(vec!["a".into(), "1".into(), "b".into(), String::new()])
        );
        assert_eq!(plain(r#"["é, \"x\""]"#, false), None);

        let malformed = [
            "",
            "[",
            "]",
            "[]",
            "{}",
            "[\"\"]",
            "[\"]",
            "[\"a\"",
            "[\"a\",]",
            "[,\"a\"]",
            "[\"a\"\"b\"]",
            "[\"a\":\"b\"]",
            "[ \"a\"]",
            "[\"a\"] ",
            "[1]",
            "[null]",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\",\"b\"}",
            "{\"a\":\"b\":\"c\"}",
            "{\"a\":\"b\",}",
            "{\"a\":1}",
            "{\"a\":\"1\",\"a\":\"2\"}",
            "[\"\t\"]",
            "[\"\u{1}\"]",
            "[\"\u{7f}\"]",
            "[\"a\\\"b\"]",
            "[\"a\\u0041\"]",
            "[\"a]",
            "{\"a\":\"b}",
        ];
        for json in malformed {
            assert_fast_path_agrees(json);
        }

        // Values with every awkward character, as `encode` writes them.
        let pieces = [
            "a", "é", "\"", "\\", ",", ":", "[", "]", "{", "}", "\n", "\u{1}", " ", "😀",
        ];
        let mut seed = 0x2545_f491_u32;
        for _ in 0..2_000 {
            let mut next = || {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as usize
            };
            let strings: Vec<String> = (0..next() % 4)
                .map(|_| {
                    (0..next() % 4)
                        .map(|_| pieces[next() % pieces.len()])
                        .collect()
                })
                .collect();
            let map: BTreeMap<String, String> = strings
                .iter()
                .map(|s| (s.clone(), strings.concat()))
                .collect();
            for json in [
                serde_json::to_string(&strings).expect("json"),
                serde_json::to_string(&map).expect("json"),
            ] {
                assert_fast_path_agrees(&json);
                assert!(
                    json.contains('\\') || plain(&json, json.starts_with('{')).is_some(),
                    "the common form is taken: {json}"
                );
            }
        }
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
