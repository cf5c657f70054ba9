//! The customer set the list view renders: every live (non-archived) customer
//! as the app shows it, in display order, with the duplicate-domain index kept
//! exact as sync batches and local edits arrive.
//!
//! Owns turning an API [`Customer`] (or a cached row's borrowed [`Fields`])
//! into a display-safe [`Entry`] (all server text is sanitised here, once),
//! building a whole set at once for a warm start
//! ([`CustomerSet::from_entries`]), the display order, the log of changed
//! slots views follow, and the rule that an older copy of a record never overwrites a
//! newer one. No I/O, no UI.

use std::cmp::Ordering;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

use time::OffsetDateTime;

use super::chains::{HashedSlot, table_hash};
use super::domain_ranks::DomainRanks;
use super::duplicates::DuplicateIndex;
pub use super::entry::{CustomerKey, Entry, Fields, KeyRef};
use super::names::NameIndex;
use super::order::{
    BLANK, OwnerNames, Sort, SortColumn, compare, lead_key, name_ranks, ranks_from_order,
    sort_slots_ranked,
};
use crate::api::models::Customer;

/// Batches of at most this many records keep `order` sorted change by change
/// (a binary search and one shift of the tail per change); larger ones
/// rebuild it once at the end with a merge. At 100,000 customers (release
/// build) one in-place change costs about 25 µs and a rebuild about 0.5 ms,
/// so in-place only pays for a handful of changes.
const IN_PLACE_MAX: usize = 16;

/// Marks a slot whose place in `order` must be found again (see
/// [`OrderUpkeep::Deferred`]).
const UNPLACED: u32 = u32::MAX;

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
    /// Id → index into `entries`: slot numbers only (with half their id's
    /// hash, for growing), found by the id of the entry they point at, so
    /// no id is stored twice.
    slots: HashTable<HashedSlot>,
    /// Hashes ids for `slots`.
    hasher: DefaultHashBuilder,
    /// Duplicate key → the slots of the live entries that have it.
    duplicates: DuplicateIndex,
    /// Name-key hash → the slots of the live entries whose name has it,
    /// and which of those are likely duplicates (see [`likely`]).
    names: NameIndex,
    /// Indexes into `entries`, in display order.
    order: Vec<u32>,
    /// The [`lead_key`] of each slot in `order`, by position, so that a
    /// binary search over the order compares integers and looks at entries
    /// only on a tie (at 100,000 customers, a page of 1,000 placed by
    /// comparing entries cost several ms in cache misses alone).
    keys: Vec<u64>,
    /// Ids that were archived (or removed locally) and are not live now, with
    /// the `updated_at` of that state, so that an older live copy arriving
    /// late does not bring them back.
    gone: HashMap<CustomerKey, OffsetDateTime>,
    /// The order `order` follows.
    sort: Sort,
    /// Each slot's rank in name order (see [`name_ranks`]), which every
    /// re-sort uses as its tie-break, while `ranks_valid`: any change to
    /// the entries drops it, and the next re-sort makes it again.
    ranks: Vec<u32>,
    ranks_valid: bool,
    /// Each slot's rank among the distinct domains, for sorting by domain,
    /// kept while the records come and go in domains already known.
    domain_ranks: DomainRanks,
    /// Owner names, for [`SortColumn::Owner`].
    owners: OwnerNames,
    /// Changes with every change to what the set shows (entries or their
    /// order), so that views derived from it know when to recompute. Drawn
    /// from one counter for all sets, so two sets never share a version.
    version: u64,
    /// The slots whose entry changed (arrived, was replaced, or was taken
    /// over by the last entry as another left) since version `log_from`,
    /// each tagged with the version it is part of, for views kept by slot
    /// that patch rather than recompute. A new order changes no slot.
    log: Vec<(u64, u32)>,
    log_from: u64,
}

/// Hands out set versions.
static VERSIONS: AtomicU64 = AtomicU64::new(1);

/// The log keeps at least this many changed slots (and up to a quarter of
/// the set); past that it starts over, and views older than that
/// recompute, which then costs about what following the changes would.
const LOG_MAX: usize = 4_096;

/// The most records the app merges into one batch before it draws again:
/// applying a batch costs O(n) for the order plus O(k), so a cap keeps
/// every step short while a first sync pours in.
pub const FOLLOWABLE_BATCH: usize = LOG_MAX;

impl Default for CustomerSet {
    fn default() -> Self {
        let version = VERSIONS.fetch_add(1, AtomicOrdering::Relaxed);
        CustomerSet {
            entries: Vec::new(),
            slots: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            duplicates: DuplicateIndex::default(),
            names: NameIndex::default(),
            order: Vec::new(),
            keys: Vec::new(),
            gone: HashMap::new(),
            sort: Sort::default(),
            ranks: Vec::new(),
            ranks_valid: false,
            domain_ranks: DomainRanks::default(),
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
    ///
    /// `origin` is made only when the batch first moves or changes a
    /// customer already placed: while it only adds (a page of a first
    /// sync), the slots below `placed` are as `order` has them, the new
    /// ones are the slots from `placed` on, and the batch ends with one
    /// merge of them into `order`, without an O(n) pass of its own.
    Deferred {
        origin: Option<Vec<u32>>,
        placed: usize,
    },
}

impl OrderUpkeep {
    /// `origin`, made now if it was not (`len`: the entries there are).
    fn origin(origin: &mut Option<Vec<u32>>, placed: usize, len: usize) -> &mut Vec<u32> {
        origin.get_or_insert_with(|| {
            (0..placed)
                .map(slot_number)
                .chain(std::iter::repeat_n(UNPLACED, len - placed))
                .collect()
        })
    }
}

impl CustomerSet {
    /// The set of `entries` (records as the cache holds them, in any order),
    /// built in one pass: the id table and the duplicate index sized once,
    /// `entries` kept as the set's own storage (no second copy), one sort
    /// by name and the ranks of the domains. Equal to [`apply_entries`] on
    /// an empty set; a batch with an archived record or two records for one
    /// id (never the cache's case) takes that path, since then the order of
    /// the records matters.
    ///
    /// [`apply_entries`]: Self::apply_entries
    #[must_use]
    pub fn from_entries(entries: Vec<Entry>) -> CustomerSet {
        let mut set = CustomerSet {
            duplicates: DuplicateIndex::with_capacity(entries.len()),
            names: NameIndex::with_capacity(entries.len()),
            ..CustomerSet::default()
        };
        let hasher = &set.hasher;
        set.slots.reserve(entries.len(), |filed| filed.table_hash());
        for (at, entry) in entries.iter().enumerate() {
            let id = &entry.key;
            let hash = hasher.hash_one(id);
            let known = set
                .slots
                .find(table_hash(hash), |filed| {
                    entries[filed.slot as usize].key == *id
                })
                .is_some();
            if known || entry.archived {
                let mut set = CustomerSet::default();
                set.apply_entries(entries);
                return set;
            }
            set.slots.insert_unique(
                table_hash(hash),
                HashedSlot::new(slot_number(at), hash),
                |filed| filed.table_hash(),
            );
            set.duplicates.insert(&entries, slot_number(at));
            set.names.insert(&entries, slot_number(at));
        }
        set.entries = entries;
        set.recheck_all_names();
        set.ranks = name_ranks(&set.entries);
        set.ranks_valid = true;
        set.order = vec![0; set.entries.len()];
        for (slot, &rank) in set.ranks.iter().enumerate() {
            set.order[rank as usize] = slot_number(slot);
        }
        set.rekey();
        // Built off the UI task: the one sort whose ranks cost a pass over
        // every entry is made here too, so that the first `s` to domain
        // only lays the slots out.
        set.domain_ranks.make(&set.entries);
        set.bump();
        set
    }

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
                origin: None,
                placed: self.entries.len(),
            }
        };
        let mut stats = ApplyStats::default();
        for entry in batch {
            self.apply_one(entry, &mut upkeep, &mut stats);
        }
        match upkeep {
            OrderUpkeep::InPlace => {}
            OrderUpkeep::Deferred {
                origin: Some(origin),
                ..
            } => self.rebuild_order(&origin),
            OrderUpkeep::Deferred {
                origin: None,
                placed,
            } => self.place_new(placed),
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
        self.gone.remove(&entry.key);
        if let Some(slot) = self.slot_of(entry.key.as_ref()) {
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
            if !self.ranks_valid && self.sort.column == SortColumn::Name {
                // `order` is name order already: its ranks cost one pass.
                self.ranks = ranks_from_order(&self.order, self.sort.descending());
                self.ranks_valid = true;
            }
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

    /// The slots whose entry changed since `version` (each at least once,
    /// some more than once, in no useful order), or `None` when they are not
    /// all known (a very large batch, a version of another set): then
    /// recompute from scratch. A slot at or past [`len`](Self::len) has
    /// left; the set's order may have changed too.
    #[must_use]
    pub fn slots_changed_since(&self, version: u64) -> Option<impl Iterator<Item = u32> + '_> {
        let known = self.log_from <= version && version <= self.version;
        known.then(|| {
            self.log
                .iter()
                .filter(move |(v, _)| *v >= version)
                .map(|&(_, slot)| slot)
        })
    }

    /// The entries by slot (the order [`slots_changed_since`] and a view
    /// kept by slot use).
    ///
    /// [`slots_changed_since`]: Self::slots_changed_since
    pub(in crate::domain) fn by_slot(&self) -> &[Entry] {
        &self.entries
    }

    /// The slots in display order.
    pub(in crate::domain) fn order_slots(&self) -> &[u32] {
        &self.order
    }

    fn resort(&mut self) {
        if !self.ranks_valid {
            self.ranks = name_ranks(&self.entries);
            self.ranks_valid = true;
        }
        sort_slots_ranked(
            &mut self.order,
            &self.entries,
            self.sort,
            &self.owners,
            &self.ranks,
            &mut self.domain_ranks,
        );
        self.rekey();
        self.bump();
    }

    /// Whether `keys` holds the lead key of every slot in `order`.
    #[cfg(test)]
    fn keys_agree(&self) -> bool {
        self.keys.len() == self.order.len()
            && self
                .order
                .iter()
                .zip(&self.keys)
                .all(|(&slot, &key)| lead_key(self.sort, self.entry(slot)) == key)
    }

    /// Follows `slot`'s domain in the domain ranks, when they are kept:
    /// it takes the rank of another record of its domain, if there is one.
    fn rank_domain(&mut self, slot: u32) {
        if !self.domain_ranks.kept() {
            return;
        }
        let rank = match self.entries[slot as usize].domain_key() {
            None => Some(BLANK),
            Some(key) => self
                .duplicates
                .members(&self.entries, key)
                .find(|&other| other != slot)
                .and_then(|other| self.domain_ranks.get(other)),
        };
        self.domain_ranks.follow(slot, rank);
    }

    /// Computes `keys` for `order` anew.
    fn rekey(&mut self) {
        let sort = self.sort;
        self.keys.clear();
        self.keys.extend(
            self.order
                .iter()
                .map(|&slot| lead_key(sort, &self.entries[slot as usize])),
        );
    }

    /// Moves to a new version. Changes are tagged with the version they
    /// start from, so those recorded since the last bump lead to this one.
    ///
    /// A log grown past its cap ([`LOG_MAX`], or a quarter of the set)
    /// keeps only the changes that lead to this version, so that views one
    /// version behind (the common case: a page of a sync, then a redraw)
    /// still follow a long run of pages.
    fn bump(&mut self) {
        let closing = self.version;
        self.version = VERSIONS.fetch_add(1, AtomicOrdering::Relaxed);
        let cap = LOG_MAX.max(self.entries.len() / 4);
        if self.log.len() > cap {
            self.log.retain(|&(version, _)| version == closing);
            if self.log.len() > cap {
                self.log.clear();
                self.log_from = self.version;
            } else {
                self.log_from = closing;
            }
        }
    }

    /// Records that the entry at `slot` changed, on top of the current
    /// version.
    fn record(&mut self, slot: u32) {
        self.log.push((self.version, slot));
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
    pub fn remove<'k>(&mut self, id: impl Into<KeyRef<'k>>) -> Option<Entry> {
        let slot = self.slot_of(id.into())?;
        let entry = self.remove_slot(slot, &mut OrderUpkeep::InPlace);
        self.gone.insert(entry.key.clone(), entry.updated_at);
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
    pub fn get<'k>(&self, id: impl Into<KeyRef<'k>>) -> Option<&Entry> {
        self.slot_of(id.into()).map(|slot| &self.entries[slot])
    }

    /// The customer at `position` in display order. O(1).
    #[must_use]
    pub fn at(&self, position: usize) -> Option<&Entry> {
        self.order.get(position).map(|&slot| self.entry(slot))
    }

    /// Where the customer with this id is in display order. O(log n): a
    /// binary search by its sort key.
    #[must_use]
    pub fn position_of<'k>(&self, id: impl Into<KeyRef<'k>>) -> Option<usize> {
        self.slot_of(id.into())
            .and_then(|slot| self.position_of_slot(slot_number(slot)))
    }

    /// Where each of `ids` is in display order (`None` for one not live), in
    /// one pass over the order: for many ids at once this beats a binary
    /// search each, whose comparisons jump around the entries.
    #[must_use]
    pub fn positions_of(&self, ids: &[&CustomerKey]) -> Vec<Option<usize>> {
        let mut wanted = vec![u32::MAX; self.entries.len()];
        for (i, id) in ids.iter().enumerate() {
            if let Some(slot) = self.slot_of(id.as_ref()) {
                wanted[slot] = slot_number(i);
            }
        }
        let mut found = vec![None; ids.len()];
        for (position, &slot) in self.order.iter().enumerate() {
            let i = wanted[slot as usize];
            if i != u32::MAX {
                found[i as usize] = Some(position);
            }
        }
        found
    }

    /// The positions, ascending, of the customers `keep` accepts: the
    /// entries are read in memory order and the display order once, both
    /// straight through, which is several times quicker at 100,000 than
    /// visiting the entries in display order.
    #[must_use]
    pub fn positions_where(&self, keep: impl Fn(&Entry) -> bool) -> Vec<u32> {
        let kept: Vec<bool> = self.entries.iter().map(keep).collect();
        self.order
            .iter()
            .enumerate()
            .filter(|&(_, &slot)| kept[slot as usize])
            .map(|(position, _)| slot_number(position))
            .collect()
    }

    /// The live customers in display order.
    pub fn iter_ordered(&self) -> impl Iterator<Item = &Entry> {
        self.order.iter().map(|&slot| self.entry(slot))
    }

    /// The count badge beside `entry`'s domain: `Some(n)` when n ≥ 2 live
    /// customers share its duplicate key, otherwise `None`.
    #[must_use]
    pub fn badge(&self, entry: &Entry) -> Option<usize> {
        let key = entry.domain_key()?;
        let count = self.domain_count(key);
        (count >= 2).then_some(count)
    }

    /// How many live customers have the duplicate key `key`.
    #[must_use]
    pub fn domain_count(&self, key: &str) -> usize {
        self.duplicates.count(&self.entries, key)
    }

    /// How many duplicate keys are shared by two or more live customers. O(1).
    #[must_use]
    pub fn duplicate_domains(&self) -> usize {
        self.duplicates.duplicate_domains()
    }

    /// The live customers whose duplicate key is `key`, by `display_id`.
    #[must_use]
    pub fn same_domain(&self, key: &str) -> Vec<&Entry> {
        let mut group: Vec<&Entry> = self
            .duplicates
            .members(&self.entries, key)
            .map(|slot| self.entry(slot))
            .collect();
        group.sort_by(|a, b| a.display_id.cmp(&b.display_id).then(a.key.cmp(&b.key)));
        group
    }

    /// Every customer in a group of two or more, as (group size, duplicate
    /// key, position in display order), in no particular order: one pass
    /// over the order.
    #[must_use]
    pub fn duplicate_positions(&self) -> Vec<(usize, &str, usize)> {
        // Each slot's group as a 4-byte number, not the group itself: the
        // walk over the order reads this table out of order, and a smaller
        // one stays in cache (100 KB at 100,000 customers, not 2.4 MB).
        let groups: Vec<(usize, &str)> = self
            .duplicates
            .groups()
            .map(|key| (self.domain_count(key), key))
            .collect();
        let mut wanted = vec![u32::MAX; self.entries.len()];
        for (group, &(_, key)) in groups.iter().enumerate() {
            for slot in self.duplicates.members(&self.entries, key) {
                wanted[slot as usize] = slot_number(group);
            }
        }
        self.order
            .iter()
            .enumerate()
            .filter_map(|(position, &slot)| {
                let (size, key) = *groups.get(wanted[slot as usize] as usize)?;
                Some((size, key, position))
            })
            .collect()
    }

    /// The groups of two or more live customers sharing a duplicate key, as
    /// (key, its customers by `display_id`), in no particular order.
    pub fn duplicate_groups(&self) -> impl Iterator<Item = (&str, Vec<&Entry>)> {
        self.duplicates
            .groups()
            .map(|key| (key, self.same_domain(key)))
    }

    /// Applies one record: stale check, then insert, replace or remove.
    fn apply_one(&mut self, customer: Entry, upkeep: &mut OrderUpkeep, stats: &mut ApplyStats) {
        match self.slot_of(customer.key.as_ref()) {
            Some(slot) => self.apply_to_live(slot, customer, upkeep, stats),
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
            self.gone.insert(entry.key, customer.updated_at);
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
        let gone_at = self.gone.get(&customer.key);
        if gone_at.is_some_and(|&at| customer.updated_at < at) {
            stats.stale += 1;
        } else if customer.archived {
            self.gone.insert(customer.key, customer.updated_at);
        } else {
            self.gone.remove(&customer.key);
            self.push(customer, upkeep);
            stats.inserted += 1;
        }
    }

    /// Adds a new live entry at the end of `entries`.
    fn push(&mut self, entry: Entry, upkeep: &mut OrderUpkeep) {
        let slot = self.entries.len();
        let hash = self.hasher.hash_one(&entry.key);
        let name_hash = entry.name_hash();
        self.entries.push(entry);
        self.duplicates.insert(&self.entries, slot_number(slot));
        self.rank_domain(slot_number(slot));
        if let Some(name_hash) = name_hash {
            self.names.insert(&self.entries, slot_number(slot));
            self.recheck_name(name_hash);
        }
        self.slots.insert_unique(
            table_hash(hash),
            HashedSlot::new(slot_number(slot), hash),
            |filed| filed.table_hash(),
        );
        self.ranks_valid = false;
        self.record(slot_number(slot));
        match upkeep {
            OrderUpkeep::InPlace => self.link(slot_number(slot)),
            OrderUpkeep::Deferred { origin, .. } => {
                if let Some(origin) = origin {
                    origin.push(UNPLACED);
                }
            }
        }
    }

    /// Replaces the entry at `slot` with a newer copy of the same customer,
    /// and re-judges the name groups it left and joined when its name or
    /// domain changed.
    fn replace_slot(&mut self, slot: usize, entry: Entry, upkeep: &mut OrderUpkeep) {
        let old = &self.entries[slot];
        let touched = (old.name_hash() != entry.name_hash()
            || old.domain_key() != entry.domain_key())
        .then(|| [old.name_hash(), entry.name_hash()]);
        if touched.is_some() {
            self.names.remove(&self.entries, slot_number(slot));
        }
        self.replace_entry(slot, entry, upkeep);
        if touched.is_some() {
            self.names.insert(&self.entries, slot_number(slot));
        }
        for hash in touched.into_iter().flatten().flatten() {
            self.recheck_name(hash);
        }
    }

    /// [`replace_slot`](Self::replace_slot) for the entry, its domain and
    /// its place in `order`.
    fn replace_entry(&mut self, slot: usize, entry: Entry, upkeep: &mut OrderUpkeep) {
        self.ranks_valid = false;
        self.record(slot_number(slot));
        let moved_domain = self.entries[slot].domain_key() != entry.domain_key();
        if moved_domain {
            self.duplicates.remove(&self.entries, slot_number(slot));
        }
        self.put_entry(slot, entry, upkeep);
        if moved_domain {
            self.duplicates.insert(&self.entries, slot_number(slot));
            self.rank_domain(slot_number(slot));
        }
    }

    /// Puts `entry` in `slot` (in place of an older copy) and keeps
    /// `order` sorted, or notes for `upkeep` that it needs placing.
    fn put_entry(&mut self, slot: usize, entry: Entry, upkeep: &mut OrderUpkeep) {
        if compare(self.sort, &self.owners, &self.entries[slot], &entry).is_eq() {
            self.entries[slot] = entry;
            return;
        }
        match upkeep {
            OrderUpkeep::InPlace => {
                self.unlink(slot_number(slot));
                self.entries[slot] = entry;
                self.link(slot_number(slot));
            }
            OrderUpkeep::Deferred { origin, placed } => {
                OrderUpkeep::origin(origin, *placed, self.entries.len())[slot] = UNPLACED;
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
            OrderUpkeep::Deferred { origin, placed } => {
                OrderUpkeep::origin(origin, *placed, self.entries.len()).swap_remove(slot);
            }
        }
        self.ranks_valid = false;
        let hash = self.hasher.hash_one(&self.entries[slot].key);
        if let Ok(found) = self
            .slots
            .find_entry(table_hash(hash), |filed| filed.slot as usize == slot)
        {
            found.remove();
        }
        self.duplicates.remove(&self.entries, slot_number(slot));
        self.names.remove(&self.entries, slot_number(slot));
        if slot != last {
            // Both indexes follow the last entry to `slot` while the
            // entries are still where they were filed.
            self.duplicates
                .moved(&self.entries, slot_number(last), slot_number(slot));
            self.names
                .moved(&self.entries, slot_number(last), slot_number(slot));
        }
        let entry = self.entries.swap_remove(slot);
        self.domain_ranks.swap_remove(slot);
        self.duplicates.truncate(last);
        self.names.truncate(last);
        if slot != last {
            self.record(slot_number(slot));
        }
        if let Some(moved) = self.entries.get(slot) {
            let hash = self.hasher.hash_one(&moved.key);
            if let Some(filed) = self
                .slots
                .find_mut(table_hash(hash), |filed| filed.slot as usize == last)
            {
                filed.slot = slot_number(slot);
            }
        }
        if let Some(hash) = entry.name_hash() {
            self.recheck_name(hash);
        }
        entry
    }

    /// Inserts `slot` into the sorted `order`.
    fn link(&mut self, slot: u32) {
        let key = lead_key(self.sort, self.entry(slot));
        let position = self.partition(&self.order, &self.keys, slot, key);
        self.order.insert(position, slot);
        self.keys.insert(position, key);
    }

    /// Takes `slot` out of the sorted `order`.
    fn unlink(&mut self, slot: u32) {
        if let Some(position) = self.find_in_order(slot) {
            self.order.remove(position);
            self.keys.remove(position);
        }
    }

    /// How many of `slots` (in display order, with their `keys`) come
    /// before `slot`, whose lead key is `key`: a binary search that looks
    /// at entries only where the keys tie.
    fn partition(&self, slots: &[u32], keys: &[u64], slot: u32, key: u64) -> usize {
        let (mut low, mut high) = (0, slots.len());
        while low < high {
            let mid = low + (high - low) / 2;
            let before = keys[mid]
                .cmp(&key)
                .then_with(|| self.compare_slots(slots[mid], slot))
                .is_lt();
            if before {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
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
        let key = lead_key(self.sort, self.entry(slot));
        let position = self.partition(&self.order, &self.keys, slot, key);
        (self.order.get(position) == Some(&slot)).then_some(position)
    }

    /// Places the entries added from slot `from` on (a batch that only
    /// added customers): sorted among themselves, then merged into `order`.
    /// O(k log k) plus one O(n + k) merge.
    fn place_new(&mut self, from: usize) {
        let mut new: Vec<u32> = (from..self.entries.len()).map(slot_number).collect();
        if new.is_empty() {
            return;
        }
        new.sort_unstable_by(|&a, &b| self.compare_slots(a, b));
        (self.order, self.keys) = self.merge(&self.order, &self.keys, &new);
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
        let (mut kept, mut kept_keys) = (Vec::with_capacity(self.order.len()), Vec::new());
        kept_keys.reserve(self.order.len());
        for (&slot, &key) in self.order.iter().zip(&self.keys) {
            let now = now_at[slot as usize];
            if now != UNPLACED {
                kept.push(now);
                kept_keys.push(key);
            }
        }
        unplaced.sort_unstable_by(|&a, &b| self.compare_slots(a, b));
        (self.order, self.keys) = self.merge(&kept, &kept_keys, &unplaced);
    }

    /// Merges two slot lists that are each in display order. Each of the
    /// `few` is placed by binary search, and the runs of `many` between them
    /// are copied whole; `keys` go along.
    fn merge(&self, many: &[u32], many_keys: &[u64], few: &[u32]) -> (Vec<u32>, Vec<u64>) {
        let mut merged = Vec::with_capacity(many.len() + few.len());
        let mut keys = Vec::with_capacity(many.len() + few.len());
        let (mut rest, mut rest_keys) = (many, many_keys);
        for &slot in few {
            let key = lead_key(self.sort, self.entry(slot));
            let split = self.partition(rest, rest_keys, slot, key);
            merged.extend_from_slice(&rest[..split]);
            keys.extend_from_slice(&rest_keys[..split]);
            merged.push(slot);
            keys.push(key);
            (rest, rest_keys) = (&rest[split..], &rest_keys[split..]);
        }
        merged.extend_from_slice(rest);
        keys.extend_from_slice(rest_keys);
        (merged, keys)
    }

    fn compare_slots(&self, a: u32, b: u32) -> Ordering {
        compare(self.sort, &self.owners, self.entry(a), self.entry(b))
    }

    fn entry(&self, slot: u32) -> &Entry {
        &self.entries[slot as usize]
    }

    /// The slot of the live customer `id`.
    fn slot_of(&self, id: KeyRef<'_>) -> Option<usize> {
        let hash = self.hasher.hash_one(id);
        self.slots
            .find(table_hash(hash), |filed| {
                self.entries[filed.slot as usize].key.as_ref() == id
            })
            .map(|filed| filed.slot as usize)
    }
}

/// A slot index as stored in `order`.
fn slot_number(slot: usize) -> u32 {
    u32::try_from(slot)
        .ok()
        .filter(|&n| n != UNPLACED)
        .expect("a customer set holds fewer than 2^32 - 1 entries")
}

mod likely;
pub use likely::{NAME_GROUP_PREFIX, as_name_group, is_likely_group, name_group_key};

#[cfg(test)]
mod tests;
