//! The name index: which live customers share a company-name key (see
//! [`super::name_key`]), kept exact one change at a time like the domain
//! index ([`super::duplicates`]), and which of those shared keys are
//! *likely duplicates* right now.
//!
//! It files members (set slots) under the 64-bit hash of their key,
//! chained through the slots ([`Chains`]), and holds no key text: each
//! call is given the set's entries to read their hashes from. Two
//! different keys with one hash would share a bucket, so whoever reads a
//! bucket checks each member's real key (the set does, in `customers`);
//! the index only knows hashes. Whether a bucket is likely is the set's
//! judgement (it needs the entries' domains), recorded here with
//! [`NameIndex::set_likely`]. No I/O, no UI.

use std::num::NonZeroU64;

use hashbrown::HashMap;

use super::chains::{Chains, Members};
use super::entry::Entry;

/// Key hash → the slots of the live customers whose name has that key.
#[derive(Debug, Clone, Default)]
pub struct NameIndex {
    buckets: Chains,
    /// The buckets that hold a likely-duplicate group now.
    likely: HashMap<NonZeroU64, bool>,
}

impl NameIndex {
    /// An empty index with room for `slots` customers.
    #[must_use]
    pub fn with_capacity(slots: usize) -> Self {
        NameIndex {
            buckets: Chains::with_capacity(slots, slots),
            likely: HashMap::new(),
        }
    }

    /// Files `slot` under its entry's name hash, if it has one. Call it
    /// once `entries[slot]` is the entry to file, and once a slot.
    pub fn insert(&mut self, entries: &[Entry], slot: u32) {
        let Some(hash) = hash_at(entries, slot) else {
            return;
        };
        self.buckets.insert(slot, hash.get(), |other| {
            hash_at(entries, other) == Some(hash)
        });
    }

    /// Takes `slot` out of its bucket, dropping an emptied bucket's likely
    /// mark. Call it while `entries[slot]` is the entry it was filed with.
    pub fn remove(&mut self, entries: &[Entry], slot: u32) {
        let Some(hash) = hash_at(entries, slot) else {
            return;
        };
        let left = self.buckets.remove(slot, hash.get(), |other| {
            hash_at(entries, other) == Some(hash)
        });
        if left == 0 {
            self.likely.remove(&hash);
        }
    }

    /// Files the customer at `from` at `to` instead (see
    /// [`Chains::moved`]), while `entries` is as it was before the move;
    /// then [`truncate`](Self::truncate) once the entries moved.
    pub fn moved(&mut self, entries: &[Entry], from: u32, to: u32) {
        let Some(hash) = hash_at(entries, from) else {
            return;
        };
        self.buckets.moved(from, to, hash.get(), |other| {
            hash_at(entries, other) == Some(hash)
        });
    }

    /// Forgets the slots from `len` on.
    pub fn truncate(&mut self, len: usize) {
        self.buckets.truncate(len);
    }

    /// The slots filed under `hash`, newest first.
    pub fn members<'a>(&'a self, entries: &[Entry], hash: NonZeroU64) -> Members<'a> {
        self.buckets
            .members(hash.get(), |slot| hash_at(entries, slot) == Some(hash))
    }

    /// How many slots are filed under `hash`.
    #[must_use]
    pub fn size(&self, entries: &[Entry], hash: NonZeroU64) -> usize {
        self.buckets
            .size(hash.get(), |slot| hash_at(entries, slot) == Some(hash))
    }

    /// Records whether `hash`'s bucket holds a likely group now: `None`
    /// when not, `Some(pure)` when it does, `pure` when every member
    /// shares one key.
    pub fn set_likely(&mut self, entries: &[Entry], hash: NonZeroU64, likely: Option<bool>) {
        match likely {
            Some(pure) if self.size(entries, hash) > 0 => {
                self.likely.insert(hash, pure);
            }
            _ => {
                self.likely.remove(&hash);
            }
        }
    }

    /// `None` when `hash`'s bucket holds no likely group, else whether
    /// every member shares one key. O(1).
    #[must_use]
    pub fn likely_state(&self, hash: NonZeroU64) -> Option<bool> {
        self.likely.get(&hash).copied()
    }

    /// The buckets that hold a likely group, in no particular order.
    pub fn likely(&self) -> impl Iterator<Item = NonZeroU64> + '_ {
        self.likely.keys().copied()
    }

    /// The buckets with two or more members, in no particular order.
    pub fn shared<'a>(&'a self, entries: &'a [Entry]) -> impl Iterator<Item = NonZeroU64> + 'a {
        self.buckets
            .shared()
            .filter_map(|(head, _)| hash_at(entries, head))
    }

    /// How many buckets hold a likely group. O(1).
    #[must_use]
    pub fn likely_count(&self) -> usize {
        self.likely.len()
    }
}

/// The name hash of the entry at `slot`.
fn hash_at(entries: &[Entry], slot: u32) -> Option<NonZeroU64> {
    entries.get(slot as usize)?.name_hash()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::customer;

    fn entries(names: &[&str]) -> Vec<Entry> {
        names
            .iter()
            .zip(1..)
            .map(|(name, n)| Entry::from(customer(n, name, None)))
            .collect()
    }

    fn hash(entries: &[Entry], slot: usize) -> NonZeroU64 {
        entries[slot].name_hash().expect("a name with a key")
    }

    #[test]
    fn members_come_and_go_and_an_empty_bucket_loses_its_mark() {
        let all = entries(&["Acme Inc", "ACME", "Hooli"]);
        let acme = hash(&all, 0);
        let mut index = NameIndex::default();
        for slot in 0..3 {
            index.insert(&all, slot);
        }
        let mut members: Vec<u32> = index.members(&all, acme).collect();
        members.sort_unstable();
        assert_eq!(members, [0, 1]);
        index.set_likely(&all, acme, Some(true));
        assert_eq!(index.likely_state(acme), Some(true));
        assert_eq!(index.shared(&all).collect::<Vec<_>>(), [acme]);
        index.remove(&all, 0);
        assert_eq!(index.size(&all, acme), 1);
        assert_eq!(index.likely_state(acme), Some(true), "judged by the set");
        index.remove(&all, 1);
        assert_eq!(index.size(&all, acme), 0);
        assert_eq!(index.likely_state(acme), None);
        assert_eq!(index.likely_count(), 0);
    }

    #[test]
    fn an_unknown_bucket_is_never_likely() {
        let all = entries(&["Acme", "Hooli"]);
        let mut index = NameIndex::default();
        index.insert(&all, 0);
        index.set_likely(&all, hash(&all, 1), Some(true));
        assert_eq!(index.likely_state(hash(&all, 1)), None);
        index.remove(&all, 1);
        assert_eq!(index.likely().count(), 0);
    }
}
