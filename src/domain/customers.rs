//! The customer set the list view renders: every live (non-archived) customer
//! as the app shows it, in display order, with the duplicate-domain index kept
//! exact as sync batches and local edits arrive.
//!
//! Owns turning an API [`Customer`] into a display-safe [`Entry`] (all server
//! text is sanitised here, once), the display order, and the rule that an
//! older copy of a record never overwrites a newer one. No I/O, no UI.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use time::OffsetDateTime;

use super::duplicates::DuplicateIndex;
use super::host::duplicate_key;
use super::order::{OwnerNames, Sort, SortColumn, compare, sort_slots};
use super::text::sanitize;
use crate::api::models::{Customer, Source};

/// Batches of at most this many records keep `order` sorted change by change
/// (a binary search and one shift of the tail per change); larger ones
/// rebuild it once at the end with a merge. At 100,000 customers (release
/// build) one in-place change costs about 25 µs and a rebuild about 0.5 ms,
/// so in-place only pays for a handful of changes.
const IN_PLACE_MAX: usize = 16;

/// Marks a slot whose place in `order` must be found again (see
/// [`OrderUpkeep::Deferred`]).
const UNPLACED: u32 = u32::MAX;

/// A customer as the app shows it.
///
/// Built only from a [`Customer`], which passes every server string through
/// [`sanitize`] once, so that nothing here can print a control character.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The opaque API id, kept verbatim for API calls; never displayed.
    pub id: String,
    /// The number shown to users and used in shared URLs.
    pub display_id: u64,
    pub name: String,
    /// The domain as stored on the server (sanitised, not normalised).
    pub domain: Option<String>,
    /// The duplicate key of [`domain`](Self::domain) (see
    /// [`duplicate_key`]); `None` when the domain is missing or blank.
    pub domain_key: Option<String>,
    pub owner_id: Option<String>,
    pub plan: Option<String>,
    pub tags: Vec<String>,
    /// Custom fields, sorted by key.
    pub custom_fields: Vec<(String, String)>,
    pub source: Source,
    pub archived: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// A change made in this app that the server has not confirmed yet (a
    /// create or an edit waiting in the outbox).
    pub pending: bool,
    /// The lower-cased name, so that ordering compares without allocating.
    sort_key: String,
    /// The first eight bytes of `sort_key`, big-endian: most comparisons end
    /// here, without following the string to another cache line.
    sort_prefix: u64,
}

impl Entry {
    /// The lower-cased name.
    pub(super) fn sort_key(&self) -> &str {
        &self.sort_key
    }

    /// The first eight bytes of [`sort_key`](Self::sort_key), big-endian.
    pub(super) fn sort_prefix(&self) -> u64 {
        self.sort_prefix
    }

    /// The same entry, marked as waiting for the server.
    #[must_use]
    pub fn into_pending(mut self) -> Entry {
        self.pending = true;
        self
    }
}

impl From<Customer> for Entry {
    fn from(customer: Customer) -> Self {
        let name = clean(customer.name);
        let sort_key = name.to_lowercase();
        let domain = customer.domain.map(clean);
        // Keyed on the sanitised text, so that two domains that look the same
        // on screen (one with an invisible character) are one group.
        let domain_key = duplicate_key(domain.as_deref());
        let mut custom_fields: Vec<_> = customer
            .custom_fields
            .into_iter()
            .map(|(key, value)| (clean(key), clean(value)))
            .collect();
        // Sanitising can change how keys compare, so sort again.
        custom_fields.sort_by(|a, b| a.0.cmp(&b.0));
        Entry {
            id: customer.id,
            display_id: customer.display_id,
            sort_prefix: prefix_of(&sort_key),
            sort_key,
            name,
            domain,
            domain_key,
            owner_id: customer.owner_id.map(clean),
            plan: customer.plan.map(clean),
            tags: customer.tags.into_iter().map(clean).collect(),
            custom_fields,
            source: clean_source(customer.source),
            archived: customer.archived,
            created_at: customer.created_at,
            updated_at: customer.updated_at,
            pending: false,
        }
    }
}

/// The first eight bytes of `key` as a big-endian number, zero-padded, so
/// that comparing two prefixes orders like comparing the strings' bytes.
fn prefix_of(key: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = key.len().min(8);
    bytes[..n].copy_from_slice(&key.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

/// [`sanitize`] for an owned string, reusing it when it is already clean.
fn clean(text: String) -> String {
    let sanitised = match sanitize(&text) {
        Cow::Owned(sanitised) => Some(sanitised),
        Cow::Borrowed(_) => None,
    };
    sanitised.unwrap_or(text)
}

/// Sanitises the verbatim text of an unknown source.
fn clean_source(source: Source) -> Source {
    match source {
        Source::Other(text) => Source::Other(clean(text)),
        known => known,
    }
}

/// What one [`CustomerSet::apply`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ApplyStats {
    /// Live records that were not in the set (new, or restored).
    pub inserted: usize,
    /// Live records that replaced the stored copy.
    pub updated: usize,
    /// Archived records that took a customer out of the set.
    pub removed: usize,
    /// Records older than what the set already knew; ignored.
    pub stale: usize,
}

/// The live customers, in display order, with their duplicate-domain index.
///
/// Entries sit in a dense `Vec` (slots); `order` lists slots in display
/// order (name, then `display_id`), so [`at`](Self::at) is O(1) and the
/// view can render only the visible rows. Every change keeps the id map, the
/// duplicate index and `order` exact; nothing is ever recounted.
///
/// Cost, at n = 100,000: a batch of k records costs O(k) hash and index
/// updates plus, for `order`, either k binary searches and shifts of a `u32`
/// slice (k ≤ 16: a single-record update is a few tens of microseconds), or
/// one O(n + k log n) merge. Loading 100 pages of 1,000 is therefore about
/// 100 linear passes, not a re-sort per page and never a shift per record
/// (measured: about 1 s in all, sanitising included, and under 35 ms for the
/// slowest page).
#[derive(Debug, Clone)]
pub struct CustomerSet {
    entries: Vec<Entry>,
    /// Id → index into `entries`.
    slots: HashMap<String, usize>,
    duplicates: DuplicateIndex,
    /// Indexes into `entries`, in display order.
    order: Vec<u32>,
    /// Ids that were archived (or removed locally) and are not live now, with
    /// the `updated_at` of that state, so that an older live copy arriving
    /// late does not bring them back.
    gone: HashMap<String, OffsetDateTime>,
    /// The order `order` follows.
    sort: Sort,
    /// Owner names, for [`SortColumn::Owner`].
    owners: OwnerNames,
    /// Changes with every change to what the set shows (entries or their
    /// order), so that views derived from it know when to recompute. Drawn
    /// from one counter for all sets, so two sets never share a version.
    version: u64,
    /// The position-level changes since version `log_from`, each tagged with
    /// the version it is part of, for views that patch rather than recompute.
    log: Vec<(u64, Change)>,
    log_from: u64,
}

/// One position-level change to a [`CustomerSet`]'s display order, as
/// [`CustomerSet::changes_since`] reports it. Positions are those at the
/// moment of the change; replaying the changes in order keeps a list kept
/// by position exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The customer at this position left; those after it moved up one.
    Removed(usize),
    /// The customer `id` arrived at this position; those from it moved down.
    Inserted { position: usize, id: String },
    /// The customer `id` at this position changed but kept its place.
    Replaced { position: usize, id: String },
}

/// Hands out set versions.
static VERSIONS: AtomicU64 = AtomicU64::new(1);

/// Past this many changes the log starts over; views older than that
/// recompute.
const LOG_MAX: usize = 4_096;

/// `log_from` while the log is not kept (during a large batch).
const UNKNOWN: u64 = u64::MAX;

impl Default for CustomerSet {
    fn default() -> Self {
        let version = VERSIONS.fetch_add(1, AtomicOrdering::Relaxed);
        CustomerSet {
            entries: Vec::new(),
            slots: HashMap::new(),
            duplicates: DuplicateIndex::default(),
            order: Vec::new(),
            gone: HashMap::new(),
            sort: Sort::default(),
            owners: OwnerNames::new(),
            version,
            log: Vec::new(),
            log_from: version,
        }
    }
}

/// Two sets are equal when they show the same entries in the same order.
impl PartialEq for CustomerSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter_ordered().eq(other.iter_ordered())
    }
}

/// How `order` follows the changes of one batch.
enum OrderUpkeep {
    /// `order` stays sorted after every change.
    InPlace,
    /// `order` is left alone until the batch ends. `origin[slot]` is the slot
    /// number the entry had in `order` when the batch began, or [`UNPLACED`]
    /// when it is new or its sort key changed.
    Deferred { origin: Vec<u32> },
}

impl CustomerSet {
    /// Applies a batch of records from the server, in order.
    ///
    /// An archived record removes its customer; a live one inserts or
    /// replaces it. A record whose `updated_at` is older than what the set
    /// knows for its id (live, or archived or removed) is ignored, so a slow,
    /// stale page cannot overwrite newer data or resurrect an archive.
    /// Equal timestamps are applied, since incremental sync re-sends the
    /// boundary record.
    pub fn apply(&mut self, batch: impl IntoIterator<Item = Customer>) -> ApplyStats {
        self.apply_entries(batch.into_iter().map(Entry::from).collect())
    }

    /// [`CustomerSet::apply`] for records already made into entries, so the
    /// sanitising can happen off the UI task.
    pub fn apply_entries(&mut self, batch: Vec<Entry>) -> ApplyStats {
        let mut upkeep = if batch.len() <= IN_PLACE_MAX {
            OrderUpkeep::InPlace
        } else {
            OrderUpkeep::Deferred {
                origin: (0..self.entries.len()).map(slot_number).collect(),
            }
        };
        let mut stats = ApplyStats::default();
        for entry in batch {
            self.apply_one(entry, &mut upkeep, &mut stats);
        }
        if let OrderUpkeep::Deferred { origin } = upkeep {
            self.rebuild_order(&origin);
            self.forget_changes();
        }
        if stats.inserted + stats.updated + stats.removed > 0 {
            self.bump();
        }
        stats
    }

    /// Puts an entry back that this app took out (an undone archive), even
    /// though the set has since heard of a newer archived copy. The server's
    /// answer to the restore replaces it in turn.
    pub fn reinstate(&mut self, entry: Entry) {
        self.gone.remove(&entry.id);
        if let Some(&slot) = self.slots.get(&entry.id) {
            self.replace_slot(slot, entry, &mut OrderUpkeep::InPlace);
        } else {
            self.push(entry, &mut OrderUpkeep::InPlace);
        }
        self.bump();
    }

    /// The order the set is in.
    #[must_use]
    pub fn sort(&self) -> Sort {
        self.sort
    }

    /// Puts the set in another order: one O(n log n) sort, and only when
    /// the order changes.
    pub fn set_sort(&mut self, sort: Sort) {
        if sort != self.sort {
            self.sort = sort;
            self.resort();
        }
    }

    /// Sets the owner names that [`SortColumn::Owner`] orders by (lower-cased
    /// here); sorts again only when the list is sorted by owner.
    pub fn set_owner_names<'a>(&mut self, names: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let owners: OwnerNames = names
            .into_iter()
            .map(|(id, name)| (id.to_owned(), name.to_lowercase()))
            .collect();
        if owners != self.owners {
            self.owners = owners;
            if self.sort.column == SortColumn::Owner {
                self.resort();
            }
        }
    }

    /// Changes with every change to what the set shows; equal versions
    /// show the same rows in the same order.
    #[must_use]
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The changes that took the set from `version` to now, in order, or
    /// `None` when they are not all known (a large batch, a new sort, a
    /// version of another set): then recompute from scratch.
    #[must_use]
    pub fn changes_since(&self, version: u64) -> Option<impl Iterator<Item = &Change>> {
        let known = self.log_from != UNKNOWN && self.log_from <= version && version <= self.version;
        known.then(|| {
            self.log
                .iter()
                .filter(move |(v, _)| *v >= version)
                .map(|(_, change)| change)
        })
    }

    fn resort(&mut self) {
        sort_slots(&mut self.order, &self.entries, self.sort, &self.owners);
        self.forget_changes();
        self.bump();
    }

    /// Moves to a new version. Changes are tagged with the version they
    /// start from, so those recorded since the last bump lead to this one.
    fn bump(&mut self) {
        self.version = VERSIONS.fetch_add(1, AtomicOrdering::Relaxed);
        if self.log_from == UNKNOWN || self.log.len() > LOG_MAX {
            self.log.clear();
            self.log_from = self.version;
        }
    }

    /// Gives up on the log until the next version: views older than that
    /// recompute.
    fn forget_changes(&mut self) {
        self.log.clear();
        self.log_from = UNKNOWN;
    }

    /// Records a position-level change on top of the current version.
    fn record(&mut self, change: Change) {
        if self.log_from != UNKNOWN {
            self.log.push((self.version, change));
        }
    }

    /// Every live entry, in display order, consuming the set.
    pub fn into_entries(self) -> Vec<Entry> {
        let mut slots: Vec<Option<Entry>> = self.entries.into_iter().map(Some).collect();
        self.order
            .iter()
            .filter_map(|&slot| slots.get_mut(slot as usize).and_then(Option::take))
            .collect()
    }

    /// Takes a customer out of the set, as an optimistic local archive.
    ///
    /// Applying its record again (with the same or a newer `updated_at`)
    /// brings it back; an older copy stays out.
    pub fn remove(&mut self, id: &str) -> Option<Entry> {
        let slot = *self.slots.get(id)?;
        let entry = self.remove_slot(slot, &mut OrderUpkeep::InPlace);
        self.gone.insert(entry.id.clone(), entry.updated_at);
        self.bump();
        Some(entry)
    }

    /// The number of live customers.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no live customers.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The live customer with this id.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.slots.get(id).map(|&slot| &self.entries[slot])
    }

    /// The customer at `position` in display order. O(1).
    #[must_use]
    pub fn at(&self, position: usize) -> Option<&Entry> {
        self.order.get(position).map(|&slot| self.entry(slot))
    }

    /// Where the customer with this id is in display order. O(log n): a
    /// binary search by its sort key.
    #[must_use]
    pub fn position_of(&self, id: &str) -> Option<usize> {
        self.slots
            .get(id)
            .and_then(|&slot| self.position_of_slot(slot_number(slot)))
    }

    /// The live customers in display order.
    pub fn iter_ordered(&self) -> impl Iterator<Item = &Entry> {
        self.order.iter().map(|&slot| self.entry(slot))
    }

    /// The count badge beside `entry`'s domain: `Some(n)` when n ≥ 2 live
    /// customers share its duplicate key, otherwise `None`.
    #[must_use]
    pub fn badge(&self, entry: &Entry) -> Option<usize> {
        let key = entry.domain_key.as_deref()?;
        let count = self.duplicates.count(key);
        (count >= 2).then_some(count)
    }

    /// How many duplicate keys are shared by two or more live customers. O(1).
    #[must_use]
    pub fn duplicate_domains(&self) -> usize {
        self.duplicates.duplicate_domains()
    }

    /// The duplicate-domain index of the live customers.
    #[must_use]
    pub fn duplicates(&self) -> &DuplicateIndex {
        &self.duplicates
    }

    /// The live customers whose duplicate key is `key`, by `display_id`.
    #[must_use]
    pub fn same_domain(&self, key: &str) -> Vec<&Entry> {
        let mut group: Vec<&Entry> = self
            .duplicates
            .members(key)
            .iter()
            .filter_map(|id| self.get(id))
            .collect();
        group.sort_by(|a, b| a.display_id.cmp(&b.display_id).then(a.id.cmp(&b.id)));
        group
    }

    /// Applies one record: stale check, then insert, replace or remove.
    fn apply_one(&mut self, customer: Entry, upkeep: &mut OrderUpkeep, stats: &mut ApplyStats) {
        match self.slots.get(&customer.id) {
            Some(&slot) => self.apply_to_live(slot, customer, upkeep, stats),
            None => self.apply_to_absent(customer, upkeep, stats),
        }
    }

    /// Applies a record whose customer is live at `slot`.
    fn apply_to_live(
        &mut self,
        slot: usize,
        customer: Entry,
        upkeep: &mut OrderUpkeep,
        stats: &mut ApplyStats,
    ) {
        if customer.updated_at < self.entries[slot].updated_at {
            stats.stale += 1;
        } else if customer.archived {
            let entry = self.remove_slot(slot, upkeep);
            self.gone.insert(entry.id, customer.updated_at);
            stats.removed += 1;
        } else {
            self.replace_slot(slot, customer, upkeep);
            stats.updated += 1;
        }
    }

    /// Applies a record whose customer is not live (unknown, archived or
    /// removed locally).
    fn apply_to_absent(
        &mut self,
        customer: Entry,
        upkeep: &mut OrderUpkeep,
        stats: &mut ApplyStats,
    ) {
        let gone_at = self.gone.get(&customer.id);
        if gone_at.is_some_and(|&at| customer.updated_at < at) {
            stats.stale += 1;
        } else if customer.archived {
            self.gone.insert(customer.id, customer.updated_at);
        } else {
            self.gone.remove(&customer.id);
            self.push(customer, upkeep);
            stats.inserted += 1;
        }
    }

    /// Adds a new live entry at the end of `entries`.
    fn push(&mut self, entry: Entry, upkeep: &mut OrderUpkeep) {
        let slot = self.entries.len();
        if let Some(key) = &entry.domain_key {
            self.duplicates.insert(key, &entry.id);
        }
        self.slots.insert(entry.id.clone(), slot);
        self.entries.push(entry);
        match upkeep {
            OrderUpkeep::InPlace => self.link(slot_number(slot)),
            OrderUpkeep::Deferred { origin } => origin.push(UNPLACED),
        }
    }

    /// Replaces the entry at `slot` with a newer copy of the same customer.
    fn replace_slot(&mut self, slot: usize, entry: Entry, upkeep: &mut OrderUpkeep) {
        let old = &self.entries[slot];
        if old.domain_key != entry.domain_key {
            if let Some(key) = &old.domain_key {
                self.duplicates.remove(key, &old.id);
            }
            if let Some(key) = &entry.domain_key {
                self.duplicates.insert(key, &entry.id);
            }
        }
        if compare(self.sort, &self.owners, old, &entry).is_eq() {
            self.entries[slot] = entry;
            if let OrderUpkeep::InPlace = upkeep
                && let Some(position) = self.position_of_slot(slot_number(slot))
            {
                let id = self.entries[slot].id.clone();
                self.record(Change::Replaced { position, id });
            }
            return;
        }
        match upkeep {
            OrderUpkeep::InPlace => {
                self.unlink(slot_number(slot));
                self.entries[slot] = entry;
                self.link(slot_number(slot));
            }
            OrderUpkeep::Deferred { origin } => {
                origin[slot] = UNPLACED;
                self.entries[slot] = entry;
            }
        }
    }

    /// Takes the entry at `slot` out of the set. The last entry moves into
    /// `slot` (`swap_remove`), and the id map, `order` (or `origin`) follow it.
    fn remove_slot(&mut self, slot: usize, upkeep: &mut OrderUpkeep) -> Entry {
        let last = self.entries.len() - 1;
        match upkeep {
            OrderUpkeep::InPlace => {
                // Positions are found by comparing entries, so look both up
                // before the entries move.
                self.unlink(slot_number(slot));
                if slot != last {
                    self.relabel(slot_number(last), slot_number(slot));
                }
            }
            OrderUpkeep::Deferred { origin } => {
                origin.swap_remove(slot);
            }
        }
        let entry = self.entries.swap_remove(slot);
        self.slots.remove(&entry.id);
        if let Some(moved) = self.entries.get(slot)
            && let Some(moved_slot) = self.slots.get_mut(&moved.id)
        {
            *moved_slot = slot;
        }
        if let Some(key) = &entry.domain_key {
            self.duplicates.remove(key, &entry.id);
        }
        entry
    }

    /// Inserts `slot` into the sorted `order`.
    fn link(&mut self, slot: u32) {
        let position = self
            .order
            .partition_point(|&other| self.compare_slots(other, slot).is_lt());
        self.order.insert(position, slot);
        let id = self.entry(slot).id.clone();
        self.record(Change::Inserted { position, id });
    }

    /// Takes `slot` out of the sorted `order`.
    fn unlink(&mut self, slot: u32) {
        if let Some(position) = self.find_in_order(slot) {
            self.order.remove(position);
            self.record(Change::Removed(position));
        }
    }

    /// Renames `from` to `to` in `order`, for an entry about to move slots.
    fn relabel(&mut self, from: u32, to: u32) {
        if let Some(position) = self.find_in_order(from) {
            self.order[position] = to;
        }
    }

    /// The position of `slot` in `order`: a binary search, with a scan as a
    /// fallback should `order` ever not be sorted (a bug, caught in tests).
    fn find_in_order(&self, slot: u32) -> Option<usize> {
        let found = self.position_of_slot(slot);
        debug_assert!(found.is_some(), "slot {slot} missing from order");
        found.or_else(|| self.order.iter().position(|&other| other == slot))
    }

    /// The position of `slot` in the sorted `order`, by binary search.
    fn position_of_slot(&self, slot: u32) -> Option<usize> {
        self.order
            .binary_search_by(|&other| self.compare_slots(other, slot))
            .ok()
    }

    /// Re-establishes `order` after a deferred batch: the slots whose place
    /// is unchanged keep their relative order, and the others are sorted and
    /// merged in. O(n + k log n) for k changed slots.
    fn rebuild_order(&mut self, origin: &[u32]) {
        let mut now_at = vec![UNPLACED; self.order.len()];
        let mut unplaced = Vec::new();
        for (slot, &was) in origin.iter().enumerate() {
            if was == UNPLACED {
                unplaced.push(slot_number(slot));
            } else {
                now_at[was as usize] = slot_number(slot);
            }
        }
        let mut kept = std::mem::take(&mut self.order);
        kept.retain_mut(|slot| {
            *slot = now_at[*slot as usize];
            *slot != UNPLACED
        });
        unplaced.sort_unstable_by(|&a, &b| self.compare_slots(a, b));
        self.order = self.merge(&kept, &unplaced);
    }

    /// Merges two slot lists that are each in display order. Each of the
    /// `few` is placed by binary search, and the runs of `many` between them
    /// are copied whole.
    fn merge(&self, many: &[u32], few: &[u32]) -> Vec<u32> {
        let mut merged = Vec::with_capacity(many.len() + few.len());
        let mut rest = many;
        for &slot in few {
            let split = rest.partition_point(|&other| self.compare_slots(other, slot).is_lt());
            let (before, after) = rest.split_at(split);
            merged.extend_from_slice(before);
            merged.push(slot);
            rest = after;
        }
        merged.extend_from_slice(rest);
        merged
    }

    fn compare_slots(&self, a: u32, b: u32) -> Ordering {
        compare(self.sort, &self.owners, self.entry(a), self.entry(b))
    }

    fn entry(&self, slot: u32) -> &Entry {
        &self.entries[slot as usize]
    }
}

/// A slot index as stored in `order`.
fn slot_number(slot: usize) -> u32 {
    u32::try_from(slot)
        .ok()
        .filter(|&n| n != UNPLACED)
        .expect("a customer set holds fewer than 2^32 - 1 entries")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::fixtures;
    use crate::domain::test_rng::Rng;

    /// A time `seconds` after a fixed instant.
    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_000_000 + seconds).expect("valid timestamp")
    }

    fn customer(display_id: u64, name: &str, domain: Option<&str>) -> Customer {
        Customer {
            created_at: at(0),
            updated_at: at(0),
            ..fixtures::customer(display_id, name, domain)
        }
    }

    /// The same record, as the server sends it `seconds` later.
    fn later(mut customer: Customer, seconds: i64) -> Customer {
        customer.updated_at = at(seconds);
        customer
    }

    fn archived(customer: Customer, seconds: i64) -> Customer {
        Customer {
            archived: true,
            ..later(customer, seconds)
        }
    }

    fn renamed(customer: Customer, name: &str, seconds: i64) -> Customer {
        Customer {
            name: name.to_owned(),
            ..later(customer, seconds)
        }
    }

    fn moved(customer: Customer, domain: Option<&str>, seconds: i64) -> Customer {
        Customer {
            domain: domain.map(str::to_owned),
            ..later(customer, seconds)
        }
    }

    fn set_of(customers: impl IntoIterator<Item = Customer>) -> CustomerSet {
        let mut set = CustomerSet::default();
        set.apply(customers);
        set
    }

    fn badge_of(set: &CustomerSet, id: &str) -> Option<usize> {
        set.badge(set.get(id).expect("live customer"))
    }

    fn names_in_order(set: &CustomerSet) -> Vec<&str> {
        set.iter_ordered().map(|e| e.name.as_str()).collect()
    }

    fn display_ids_in_order(set: &CustomerSet) -> Vec<u64> {
        set.iter_ordered().map(|e| e.display_id).collect()
    }

    /// `order` holds every slot once, sorted, and `at`/`position_of` agree.
    fn assert_order_is_consistent(set: &CustomerSet) {
        assert_eq!(set.order.len(), set.len());
        let entries: Vec<&Entry> = set.iter_ordered().collect();
        for pair in entries.windows(2) {
            assert!(
                compare(set.sort, &set.owners, pair[0], pair[1]).is_lt(),
                "{pair:?}"
            );
        }
        for (position, entry) in entries.iter().enumerate() {
            assert_eq!(set.position_of(&entry.id), Some(position), "{}", entry.id);
            assert_eq!(set.at(position).map(|e| &e.id), Some(&entry.id));
            assert_eq!(
                set.slots.get(&entry.id).map(|&s| &set.entries[s].id),
                Some(&entry.id)
            );
        }
        assert_eq!(set.at(set.len()), None);
    }

    #[test]
    fn a_badge_appears_when_a_second_live_customer_shares_the_domain() {
        let mut set = set_of([customer(1, "Acme", Some("acme.com"))]);
        assert_eq!(badge_of(&set, "cus_1"), None);
        assert_eq!(set.duplicate_domains(), 0);

        set.apply([customer(2, "Acme Inc", Some("acme.com"))]);
        assert_eq!(badge_of(&set, "cus_1"), Some(2));
        assert_eq!(badge_of(&set, "cus_2"), Some(2));
        assert_eq!(set.duplicate_domains(), 1);
    }

    #[test]
    fn an_archive_elsewhere_drops_the_badge() {
        let acme = customer(1, "Acme", Some("acme.com"));
        let mut set = set_of([acme.clone(), customer(2, "Acme Inc", Some("acme.com"))]);

        let stats = set.apply([archived(acme, 10)]);
        assert_eq!(stats.removed, 1);
        assert_eq!(set.get("cus_1"), None);
        assert_eq!(badge_of(&set, "cus_2"), None);
        assert_eq!(set.duplicate_domains(), 0);
    }

    #[test]
    fn a_local_removal_drops_the_badge_and_applying_the_record_brings_it_back() {
        let acme = customer(1, "Acme", Some("acme.com"));
        let mut set = set_of([acme.clone(), customer(2, "Acme Inc", Some("acme.com"))]);

        let removed = set.remove("cus_1").expect("was live");
        assert_eq!(removed.id, "cus_1");
        assert_eq!(badge_of(&set, "cus_2"), None);
        assert_eq!(set.remove("cus_1"), None);

        let stats = set.apply([acme]);
        assert_eq!(stats.inserted, 1);
        assert_eq!(badge_of(&set, "cus_1"), Some(2));
        assert_order_is_consistent(&set);
    }

    #[test]
    fn spellings_of_one_domain_form_one_group() {
        let set = set_of([
            customer(1, "A", Some("www.Acme.com")),
            customer(2, "B", Some("https://acme.com/")),
            customer(3, "C", Some("acme.com")),
        ]);
        assert_eq!(set.duplicates().count("acme.com"), 3);
        assert_eq!(set.duplicate_domains(), 1);
        for id in ["cus_1", "cus_2", "cus_3"] {
            assert_eq!(badge_of(&set, id), Some(3), "{id}");
        }
        let stored = set.get("cus_1").and_then(|e| e.domain.as_deref());
        assert_eq!(stored, Some("www.Acme.com"), "the stored spelling is kept");
    }

    #[test]
    fn international_and_punycode_spellings_match() {
        let set = set_of([
            customer(1, "Bücher", Some("Bücher.de")),
            customer(2, "Buecher", Some("xn--bcher-kva.de")),
        ]);
        assert_eq!(set.duplicates().count("xn--bcher-kva.de"), 2);
        assert_eq!(badge_of(&set, "cus_1"), Some(2));
    }

    #[test]
    fn missing_or_blank_domains_never_match() {
        let set = set_of([
            customer(1, "A", None),
            customer(2, "B", None),
            customer(3, "C", Some("")),
            customer(4, "D", Some("  ")),
            customer(5, "E", Some("https://")),
        ]);
        assert_eq!(set.duplicate_domains(), 0);
        assert_eq!(set.duplicates().count(""), 0);
        for id in ["cus_1", "cus_2", "cus_3", "cus_4", "cus_5"] {
            assert_eq!(badge_of(&set, id), None, "{id}");
            assert_eq!(set.get(id).and_then(|e| e.domain_key.clone()), None);
        }
    }

    #[test]
    fn a_domain_rename_moves_the_entry_between_groups() {
        let acme = customer(1, "Acme", Some("acme.com"));
        let mut set = set_of([
            acme.clone(),
            customer(2, "Acme Inc", Some("acme.com")),
            customer(3, "Hooli", Some("hooli.com")),
        ]);
        assert_eq!(set.duplicate_domains(), 1);

        let stats = set.apply([moved(acme, Some("https://Hooli.com"), 5)]);
        assert_eq!(stats.updated, 1);
        assert_eq!(set.duplicates().members("acme.com"), ["cus_2"]);
        assert_eq!(set.duplicates().count("hooli.com"), 2);
        assert_eq!(badge_of(&set, "cus_2"), None);
        assert_eq!(badge_of(&set, "cus_3"), Some(2));
        assert_eq!(set.duplicate_domains(), 1);
    }

    #[test]
    fn clearing_a_domain_leaves_its_group() {
        let acme = customer(1, "Acme", Some("acme.com"));
        let mut set = set_of([acme.clone(), customer(2, "Acme Inc", Some("acme.com"))]);
        set.apply([moved(acme, None, 5)]);
        assert_eq!(set.duplicates().count("acme.com"), 1);
        assert_eq!(set.duplicate_domains(), 0);
    }

    #[test]
    fn stale_records_are_ignored() {
        let acme = customer(1, "Acme", Some("acme.com"));
        let mut set = set_of([renamed(acme.clone(), "Acme Two", 10)]);

        let stats = set.apply([moved(acme.clone(), Some("hooli.com"), 5)]);
        assert_eq!(
            stats,
            ApplyStats {
                stale: 1,
                ..ApplyStats::default()
            }
        );
        let entry = set.get("cus_1").expect("still live");
        assert_eq!(entry.name, "Acme Two");
        assert_eq!(entry.domain_key.as_deref(), Some("acme.com"));

        let stats = set.apply([archived(acme, 9)]);
        assert_eq!(stats.stale, 1);
        assert!(
            set.get("cus_1").is_some(),
            "an older archive does not remove"
        );
    }

    #[test]
    fn a_record_with_the_same_timestamp_is_applied() {
        let acme = customer(1, "Acme", Some("acme.com"));
        let mut set = set_of([acme.clone()]);
        let stats = set.apply([Customer {
            plan: Some("Growth".into()),
            ..acme
        }]);
        assert_eq!(stats.updated, 1);
        assert_eq!(
            set.get("cus_1").and_then(|e| e.plan.as_deref()),
            Some("Growth")
        );
    }

    #[test]
    fn a_stale_page_does_not_resurrect_an_archived_customer() {
        let acme = customer(1, "Acme", Some("acme.com"));
        let mut set = set_of([acme.clone()]);
        set.apply([archived(acme.clone(), 10)]);

        let stats = set.apply([later(acme.clone(), 3)]);
        assert_eq!(stats.stale, 1);
        assert!(set.is_empty());

        let stats = set.apply([later(acme, 11)]);
        assert_eq!(stats.inserted, 1, "a newer live record is a restore");
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn archived_records_never_count() {
        let mut set = set_of([
            archived(customer(1, "Acme", Some("acme.com")), 0),
            archived(customer(2, "Acme Inc", Some("acme.com")), 0),
            customer(3, "Acme Ltd", Some("acme.com")),
        ]);
        assert_eq!(set.len(), 1);
        assert_eq!(set.get("cus_1"), None);
        assert_eq!(set.duplicates().count("acme.com"), 1);
        assert_eq!(badge_of(&set, "cus_3"), None);
        assert_eq!(set.duplicate_domains(), 0);

        let stats = set.apply([archived(customer(4, "Acme Co", Some("acme.com")), 1)]);
        assert_eq!(
            stats,
            ApplyStats::default(),
            "an unknown archive changes nothing"
        );
        assert_eq!(set.duplicate_domains(), 0);
    }

    #[test]
    fn apply_stats_count_each_kind_of_change() {
        let acme = customer(1, "Acme", None);
        let hooli = customer(2, "Hooli", None);
        let mut set = set_of([acme.clone(), hooli.clone()]);
        let stats = set.apply([
            customer(3, "Initech", None),
            later(acme.clone(), 5),
            archived(hooli, 5),
            later(acme, 4),
        ]);
        assert_eq!(
            stats,
            ApplyStats {
                inserted: 1,
                updated: 1,
                removed: 1,
                stale: 1,
            }
        );
    }

    #[test]
    fn order_is_by_name_case_insensitively_then_display_id() {
        let set = set_of([
            customer(5, "beta", None),
            customer(2, "Beta", None),
            customer(9, "alpha", None),
            customer(1, "Gamma", None),
            customer(3, "ALPHA", None),
            customer(4, "Älpha", None),
        ]);
        assert_eq!(display_ids_in_order(&set), [3, 9, 2, 5, 1, 4]);
        assert_eq!(set.position_of("cus_2"), Some(2));
        assert_eq!(set.at(0).map(|e| e.name.as_str()), Some("ALPHA"));
        assert_eq!(set.position_of("cus_404"), None);
        assert_order_is_consistent(&set);
    }

    #[test]
    fn a_rename_moves_the_entry_in_the_order() {
        let zeta = customer(1, "Zeta", None);
        let mut set = set_of([zeta.clone(), customer(2, "Mid", None)]);
        set.apply([renamed(zeta, "Alpha", 1)]);
        assert_eq!(names_in_order(&set), ["Alpha", "Mid"]);
        assert_order_is_consistent(&set);
    }

    #[test]
    fn order_survives_removals_that_move_entries_one_at_a_time() {
        let customers: Vec<Customer> = (1..=40)
            .map(|n| customer(n, &format!("Name {:02}", (n * 7) % 40), None))
            .collect();
        let mut set = set_of(customers.clone());
        // Small batches: `order` is updated in place, and every removal but
        // the last slot's moves the last entry into the freed slot.
        for (round, customer) in customers.into_iter().enumerate().step_by(3) {
            let stats = set.apply([archived(customer, 1)]);
            assert_eq!(stats.removed, 1, "round {round}");
            assert_order_is_consistent(&set);
        }
        assert_eq!(set.len(), 26);
    }

    #[test]
    fn order_survives_removals_that_move_entries_in_bulk() {
        let customers: Vec<Customer> = (1..=200)
            .map(|n| customer(n, &format!("Name {:03}", (n * 7) % 200), None))
            .collect();
        let mut set = set_of(customers.clone());
        let mut batch: Vec<Customer> = customers
            .iter()
            .filter(|c| c.display_id % 3 == 0)
            .map(|c| archived(c.clone(), 1))
            .collect();
        batch.extend(
            customers
                .iter()
                .filter(|c| c.display_id % 5 == 0)
                .map(|c| renamed(c.clone(), &format!("Renamed {}", c.display_id), 2)),
        );
        batch.extend((201..=230).map(|n| customer(n, &format!("New {n}"), None)));
        assert!(batch.len() > IN_PLACE_MAX);

        let stats = set.apply(batch);
        assert_eq!(stats.removed, 66);
        assert_eq!(stats.updated, 40 - 13);
        assert_eq!(stats.inserted, 30 + 13, "new, and archived then renamed");
        assert_order_is_consistent(&set);
        assert_eq!(set.len(), 200 - 66 + 30 + 13);
    }

    #[test]
    fn server_text_is_sanitised_on_the_way_in() {
        let dirty = Customer {
            name: "\u{1b}[31mAcme\u{1b}[0m \u{202e}Co".into(),
            domain: Some("acme\u{200b}.com".into()),
            owner_id: Some("usr_\u{7}1".into()),
            plan: Some("Growth\nPlus".into()),
            tags: vec!["\u{1b}]52;c;cm0=\u{7}beta".into()],
            custom_fields: BTreeMap::from([
                ("\u{1b}[1mzone".into(), "EU\u{2066}".into()),
                ("region".into(), "EMEA\r\n".into()),
            ]),
            source: Source::Other("sales\u{1b}[2Jforce".into()),
            ..customer(1, "", None)
        };
        let entry = Entry::from(dirty);
        assert_eq!(entry.name, "Acme Co");
        assert_eq!(entry.domain.as_deref(), Some("acme.com"));
        assert_eq!(entry.domain_key.as_deref(), Some("acme.com"));
        assert_eq!(entry.owner_id.as_deref(), Some("usr_\u{fffd}1"));
        assert_eq!(entry.plan.as_deref(), Some("Growth Plus"));
        assert_eq!(entry.tags, ["beta"]);
        assert_eq!(
            entry.custom_fields,
            [
                ("region".to_owned(), "EMEA ".to_owned()),
                ("zone".to_owned(), "EU".to_owned())
            ]
        );
        assert_eq!(entry.source, Source::Other("salesforce".into()));
        assert_eq!(entry.sort_key, "acme co");
    }

    #[test]
    fn clean_text_is_kept_as_is() {
        let mut acme = customer(7, "Café Zoë", Some("acme.com"));
        acme.custom_fields = BTreeMap::from([("b".into(), "2".into()), ("a".into(), "1".into())]);
        acme.tags = vec!["beta".into()];
        let entry = Entry::from(acme.clone());
        assert_eq!(entry.id, "cus_7");
        assert_eq!(entry.display_id, 7);
        assert_eq!(entry.name, "Café Zoë");
        assert_eq!(entry.sort_key, "café zoë");
        assert_eq!(entry.tags, ["beta"]);
        assert_eq!(
            entry.custom_fields,
            [
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(entry.source, Source::Manual);
        assert_eq!(
            (entry.created_at, entry.updated_at),
            (acme.created_at, acme.updated_at)
        );
    }

    #[test]
    fn same_domain_lists_the_live_group_by_display_id() {
        let set = set_of([
            customer(9, "Z", Some("acme.com")),
            customer(4, "Y", Some("www.acme.com")),
            customer(6, "X", Some("hooli.com")),
            archived(customer(1, "W", Some("acme.com")), 0),
            customer(7, "V", Some("ACME.com.")),
        ]);
        let ids: Vec<u64> = set
            .same_domain("acme.com")
            .iter()
            .map(|e| e.display_id)
            .collect();
        assert_eq!(ids, [4, 7, 9]);
        assert!(set.same_domain("initech.com").is_empty());
    }

    #[test]
    fn pages_of_a_thousand_load_in_order_with_exact_counts() {
        // Sync's shape at a fifth of the 100,000 target (debug builds are slow).
        let (pages, domains) = (20, 6_000);
        let mut set = CustomerSet::default();
        for page in 0..pages {
            let batch = (0..1_000).map(|i| {
                let n = page * 1_000 + i + 1;
                let name = format!("Customer {}", (n * 7_919) % 100_003);
                let domain = format!("d{}.com", n % domains);
                customer(n, &name, Some(&domain))
            });
            assert_eq!(set.apply(batch).inserted, 1_000);
        }
        assert_eq!(set.len(), 20_000);
        assert_eq!(set.duplicate_domains(), 6_000);
        assert_eq!(set.duplicates().count("d7.com"), 4);
        let entries: Vec<&Entry> = set.iter_ordered().collect();
        let sorted = entries.windows(2);
        assert!(
            sorted
                .into_iter()
                .all(|w| compare(set.sort, &set.owners, w[0], w[1]).is_lt())
        );
    }

    /// About 30 spellings of 10 domains, and some that never match.
    const SPELLINGS: &[Option<&str>] = &[
        None,
        Some(""),
        Some("   "),
        Some("acme.com"),
        Some("ACME.com"),
        Some("https://www.acme.com/pricing"),
        Some("acme.com."),
        Some("hooli.com"),
        Some("www.Hooli.com"),
        Some("http://hooli.com:8080"),
        Some("initech.com"),
        Some("Initech.COM."),
        Some("bücher.de"),
        Some("xn--bcher-kva.de"),
        Some("https://BÜCHER.de/"),
        Some("globex.io"),
        Some("//globex.io/x"),
        Some("umbrella.co.uk"),
        Some("www.umbrella.co.uk."),
        Some("stark.dev"),
        Some("STARK.DEV"),
        Some("wayne.org"),
        Some("https://wayne.org?q=1"),
        Some("wonka.example"),
        Some("Wonka.Example."),
        Some("cyberdyne.ai"),
        Some("www.cyberdyne.ai"),
        Some("CyberDyne.ai:443"),
        Some("acme"),
        Some("ACME"),
    ];

    const NAMES: &[&str] = &[
        "Acme",
        "acme",
        "ACME Corp",
        "Bücher",
        "bücher",
        "Hooli",
        "hooli",
        "Initech",
        "Zeta",
        "Éclair",
        "alpha",
        "Alpha",
        "Ω Omega",
    ];

    /// The brute-force reference: the newest record seen per id, archived
    /// ones included (they are what keeps older copies out).
    #[derive(Default)]
    struct Model {
        records: HashMap<String, Customer>,
    }

    impl Model {
        fn apply(&mut self, batch: &[Customer]) -> ApplyStats {
            let mut stats = ApplyStats::default();
            for record in batch {
                let old = self.records.get(&record.id);
                if old.is_some_and(|old| record.updated_at < old.updated_at) {
                    stats.stale += 1;
                    continue;
                }
                let was_live = old.is_some_and(|old| !old.archived);
                match (was_live, record.archived) {
                    (true, true) => stats.removed += 1,
                    (true, false) => stats.updated += 1,
                    (false, false) => stats.inserted += 1,
                    (false, true) => {}
                }
                self.records.insert(record.id.clone(), record.clone());
            }
            stats
        }

        /// A local removal: the record stays known, as archived.
        fn remove(&mut self, id: &str) -> bool {
            match self.records.get_mut(id) {
                Some(record) if !record.archived => {
                    record.archived = true;
                    true
                }
                _ => false,
            }
        }

        fn live(&self) -> impl Iterator<Item = &Customer> {
            self.records.values().filter(|c| !c.archived)
        }
    }

    /// Makes one random record: a new customer, or a newer, equal-time or
    /// older copy of a known one with a changed domain, name or archive flag.
    fn random_record(rng: &mut Rng, model: &Model, ids: &mut Vec<String>, now: i64) -> Customer {
        let updated_at = at(now);
        let domain = rng.pick(SPELLINGS).map(str::to_owned);
        let name = (*rng.pick(NAMES)).to_owned();
        let known = if ids.is_empty() || rng.below(10) == 0 {
            None
        } else {
            model.records.get(rng.pick(ids)).cloned()
        };
        let Some(known) = known else {
            let display_id = ids.len() as u64 + 1;
            let new = customer(display_id, &name, domain.as_deref());
            ids.push(new.id.clone());
            return Customer { updated_at, ..new };
        };
        match rng.below(9) {
            0 | 1 => Customer {
                domain,
                updated_at,
                ..known
            },
            2 => Customer {
                name,
                domain,
                updated_at,
                ..known
            },
            3 | 4 => Customer {
                archived: true,
                updated_at,
                ..known
            },
            5 => Customer {
                archived: false,
                updated_at,
                ..known
            },
            6 => known,
            _ => Customer {
                name,
                domain,
                archived: rng.below(2) == 0,
                updated_at: known.updated_at - time::Duration::seconds(1 + rng.below(5) as i64),
                ..known
            },
        }
    }

    /// The duplicate key of every spelling, computed once, so that the
    /// brute-force check does not spend its time in IDNA.
    struct Keys(Vec<(Option<&'static str>, Option<String>)>);

    impl Keys {
        fn new() -> Self {
            Keys(SPELLINGS.iter().map(|&s| (s, duplicate_key(s))).collect())
        }

        fn of(&self, domain: Option<&str>) -> Option<&str> {
            let (_, key) = self
                .0
                .iter()
                .find(|(spelling, _)| *spelling == domain)
                .expect("test domains come from SPELLINGS");
            key.as_deref()
        }
    }

    fn assert_matches_model(set: &CustomerSet, model: &Model, keys: &Keys, context: &str) {
        let live: Vec<&Customer> = model.live().collect();
        assert_eq!(set.len(), live.len(), "{context}");

        let mut counts: HashMap<&str, usize> = HashMap::new();
        for record in &live {
            let entry = set
                .get(&record.id)
                .unwrap_or_else(|| panic!("{context}: {} missing", record.id));
            let key = keys.of(record.domain.as_deref());
            assert_eq!(
                (&entry.name, &entry.domain, entry.domain_key.as_deref()),
                (&record.name, &record.domain, key),
                "{context}: {}",
                record.id
            );
            assert_eq!(entry.updated_at, record.updated_at, "{context}");
            if let Some(key) = key {
                *counts.entry(key).or_default() += 1;
            }
        }
        for (_, key) in &keys.0 {
            let Some(key) = key.as_deref() else { continue };
            let expected = counts.get(key).copied().unwrap_or(0);
            assert_eq!(set.duplicates().count(key), expected, "{context}: {key}");
        }
        for record in &live {
            let expected = keys
                .of(record.domain.as_deref())
                .map(|key| counts[key])
                .filter(|&n| n >= 2);
            let badge = badge_of(set, &record.id);
            assert_eq!(badge, expected, "{context}: {}", record.id);
        }
        let shared = counts.values().filter(|&&n| n >= 2).count();
        assert_eq!(set.duplicate_domains(), shared, "{context}");
        assert_eq!(set.duplicates().groups().count(), shared, "{context}");

        let mut expected_order = live;
        expected_order.sort_by(|a, b| expected_order_of(set.sort(), keys, a, b));
        let expected_ids: Vec<&str> = expected_order.iter().map(|c| c.id.as_str()).collect();
        let actual_ids: Vec<&str> = set.iter_ordered().map(|e| e.id.as_str()).collect();
        assert_eq!(actual_ids, expected_ids, "{context}");
        assert_order_is_consistent(set);
    }

    /// The list order, written out plainly: the sort column (blanks last in
    /// either direction), then name A→Z, then `display_id`.
    fn expected_order_of(sort: Sort, keys: &Keys, a: &Customer, b: &Customer) -> Ordering {
        let name = |c: &Customer| (c.name.to_lowercase(), c.display_id);
        let directed = |o: Ordering| if sort.descending() { o.reverse() } else { o };
        let column = match sort.column {
            SortColumn::Name => directed(name(a).cmp(&name(b))),
            SortColumn::DisplayId => directed(a.display_id.cmp(&b.display_id)),
            SortColumn::Updated => directed(a.updated_at.cmp(&b.updated_at)),
            SortColumn::Domain => {
                match (keys.of(a.domain.as_deref()), keys.of(b.domain.as_deref())) {
                    (Some(x), Some(y)) => directed(x.cmp(y)),
                    (x, y) => x.is_none().cmp(&y.is_none()),
                }
            }
            // Every test record is manual, with no owner and no plan.
            SortColumn::Owner | SortColumn::Plan | SortColumn::Source => Ordering::Equal,
        };
        column.then_with(|| name(a).cmp(&name(b)))
    }

    #[test]
    fn random_operations_match_a_brute_force_model() {
        const BATCH_SIZES: &[usize] = &[1, 1, 2, 3, 5, 8, 16, 17, 40, 120, 400];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let keys = Keys::new();
        let (mut in_place, mut deferred) = (0, 0);
        let mut followed = (0, 0);
        for round in 0..20 {
            let mut set = CustomerSet::default();
            // Every column both ways, and a change of order half-way.
            let sort = Sort {
                column: SortColumn::ALL[round % SortColumn::ALL.len()],
                reversed: round % 2 == 1,
            };
            set.set_sort(sort);
            let mut resorted = false;
            let mut mirror = Mirror::of(&set);
            let mut model = Model::default();
            let mut ids = Vec::new();
            let mut now = 0;
            let mut done = 0;
            while done < 2_000 {
                let size = (*rng.pick(BATCH_SIZES)).min(2_000 - done);
                let batch: Vec<Customer> = (0..size)
                    .map(|_| {
                        now += 1;
                        random_record(&mut rng, &model, &mut ids, now)
                    })
                    .collect();
                if size <= IN_PLACE_MAX {
                    in_place += 1;
                } else {
                    deferred += 1;
                }
                let context = format!("round {round}, after {done} records");
                assert_eq!(set.apply(batch.clone()), model.apply(&batch), "{context}");
                done += size;

                if rng.below(4) == 0 && !ids.is_empty() {
                    let id = rng.pick(&ids).clone();
                    let expected = model.remove(&id);
                    assert_eq!(
                        set.remove(&id).is_some(),
                        expected,
                        "{context}: remove {id}"
                    );
                }
                if !resorted && done > 1_000 {
                    set.set_sort(sort.cycled());
                    resorted = true;
                }
                assert_matches_model(&set, &model, &keys, &context);
                mirror.follow(&set, &mut followed, &context);
            }
        }
        assert!(in_place > 100 && deferred > 100, "{in_place} / {deferred}");
        assert!(followed.0 > 100 && followed.1 > 20, "{followed:?}");
    }

    /// A list of ids by position kept up to date only through
    /// [`CustomerSet::changes_since`], as a view would keep it.
    struct Mirror {
        ids: Vec<String>,
        version: u64,
    }

    impl Mirror {
        fn of(set: &CustomerSet) -> Mirror {
            Mirror {
                ids: set.iter_ordered().map(|e| e.id.clone()).collect(),
                version: set.version(),
            }
        }

        /// Replays the changes since the last call, or starts over when the
        /// set says they are not known; counts (replayed, started over).
        fn follow(&mut self, set: &CustomerSet, counts: &mut (usize, usize), context: &str) {
            match set.changes_since(self.version) {
                Some(changes) => {
                    for change in changes {
                        match change {
                            Change::Removed(p) => {
                                self.ids.remove(*p);
                            }
                            Change::Inserted { position, id } => {
                                self.ids.insert(*position, id.clone());
                            }
                            Change::Replaced { position, id } => {
                                assert_eq!(&self.ids[*position], id, "{context}");
                            }
                        }
                    }
                    let actual: Vec<&str> = set.iter_ordered().map(|e| e.id.as_str()).collect();
                    assert_eq!(self.ids, actual, "{context}: replayed changes");
                    self.version = set.version();
                    counts.0 += 1;
                }
                None => {
                    *self = Mirror::of(set);
                    counts.1 += 1;
                }
            }
        }
    }
}
