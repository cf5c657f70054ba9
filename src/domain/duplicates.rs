//! The duplicate-domain index: which live customers share a normalised
//! domain (the contract's "Duplicate domains" rule), kept exact one change at
//! a time so that badges and the "N duplicate domains" header never need a
//! recount.
//!
//! It files the set's slots by their entry's duplicate key, chained
//! through the slots ([`Chains`]), and reads each key from the set's
//! entries, which every call is given; computing the key is
//! [`super::host::duplicate_key`]'s job, and deciding which customers are
//! live is the set's. No I/O, no UI.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashSet};

use super::chains::{Chains, Members};
use super::entry::Entry;
use super::intern::Text;

/// Duplicate key → the slots of the live customers that have it.
///
/// Keys are not stored but for the groups of two or more (a few thousand
/// of 100,000), which are kept apart on every change, so
/// [`duplicate_domains`](Self::duplicate_domains) is O(1) and
/// [`groups`](Self::groups) visits only the shared domains, not every key.
#[derive(Debug, Clone, Default)]
pub struct DuplicateIndex {
    chains: Chains,
    hasher: DefaultHashBuilder,
    /// The keys of the groups with at least two members.
    shared: HashSet<Text>,
}

impl DuplicateIndex {
    /// An empty index with room for `slots` customers.
    #[must_use]
    pub fn with_capacity(slots: usize) -> Self {
        DuplicateIndex {
            chains: Chains::with_capacity(slots, slots),
            ..DuplicateIndex::default()
        }
    }

    /// Files `slot` under its entry's duplicate key, if it has one. Call it
    /// once `entries[slot]` is the entry to file.
    pub fn insert(&mut self, entries: &[Entry], slot: u32) {
        let Some(key) = key_at(entries, slot) else {
            return;
        };
        let hash = self.hasher.hash_one(key);
        let size = self
            .chains
            .insert(slot, hash, |other| has_key(entries, other, key));
        if size == 2 {
            self.shared.insert(Text::from(key));
        }
    }

    /// Takes `slot` out of its group. Call it while `entries[slot]` is
    /// still the entry it was filed with.
    pub fn remove(&mut self, entries: &[Entry], slot: u32) {
        let Some(key) = key_at(entries, slot) else {
            return;
        };
        let hash = self.hasher.hash_one(key);
        let size = self
            .chains
            .remove(slot, hash, |other| has_key(entries, other, key));
        if size == 1 {
            self.shared.remove(key);
        }
    }

    /// Files the customer at `from` at `to` instead (see
    /// [`Chains::moved`]), while `entries` is as it was before the move;
    /// then [`truncate`](Self::truncate) once the entries moved.
    pub fn moved(&mut self, entries: &[Entry], from: u32, to: u32) {
        let Some(key) = key_at(entries, from) else {
            return;
        };
        let hash = self.hasher.hash_one(key);
        self.chains
            .moved(from, to, hash, |other| has_key(entries, other, key));
    }

    /// Forgets the slots from `len` on.
    pub fn truncate(&mut self, len: usize) {
        self.chains.truncate(len);
    }

    /// How many customers have `key` (0 for an unknown key).
    #[must_use]
    pub fn count(&self, entries: &[Entry], key: &str) -> usize {
        self.chains.size(self.hasher.hash_one(key), |slot| {
            has_key(entries, slot, key)
        })
    }

    /// The slots of the customers that have `key`, newest first; none for
    /// an unknown key.
    pub fn members<'a>(&'a self, entries: &[Entry], key: &str) -> Members<'a> {
        self.chains.members(self.hasher.hash_one(key), |slot| {
            has_key(entries, slot, key)
        })
    }

    /// How many keys are shared by two or more customers. O(1).
    #[must_use]
    pub fn duplicate_domains(&self) -> usize {
        self.shared.len()
    }

    /// The keys shared by two or more customers, in no particular order.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.shared.iter().map(|key| &**key)
    }
}

/// The duplicate key of the entry at `slot`.
fn key_at(entries: &[Entry], slot: u32) -> Option<&str> {
    entries.get(slot as usize)?.domain_key()
}

fn has_key(entries: &[Entry], slot: u32, key: &str) -> bool {
    key_at(entries, slot).is_some_and(|k| k == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::customer;

    /// One entry per domain, in slot order.
    fn entries(domains: &[Option<&str>]) -> Vec<Entry> {
        domains
            .iter()
            .zip(1..)
            .map(|(domain, n)| Entry::from(customer(n, "Acme", *domain)))
            .collect()
    }

    fn index(entries: &[Entry]) -> DuplicateIndex {
        let mut index = DuplicateIndex::default();
        for slot in 0..entries.len() {
            index.insert(entries, u32::try_from(slot).expect("few"));
        }
        index
    }

    fn members(index: &DuplicateIndex, entries: &[Entry], key: &str) -> Vec<u32> {
        let mut slots: Vec<u32> = index.members(entries, key).collect();
        slots.sort_unstable();
        slots
    }

    #[test]
    fn a_second_member_makes_a_duplicate_domain() {
        let one = entries(&[Some("acme.com")]);
        let index_one = index(&one);
        assert_eq!(index_one.count(&one, "acme.com"), 1);
        assert_eq!(index_one.duplicate_domains(), 0);

        let two = entries(&[Some("acme.com"), Some("https://www.ACME.com/")]);
        let index = index(&two);
        assert_eq!(index.count(&two, "acme.com"), 2);
        assert_eq!(index.duplicate_domains(), 1);
        assert_eq!(members(&index, &two, "acme.com"), [0, 1]);
        assert_eq!(index.groups().collect::<Vec<_>>(), ["acme.com"]);
    }

    #[test]
    fn a_customer_without_a_domain_is_in_no_group() {
        let all = entries(&[None, Some(""), None]);
        let index = index(&all);
        assert_eq!(index.count(&all, ""), 0);
        assert_eq!(index.duplicate_domains(), 0);
    }

    #[test]
    fn removing_down_to_one_member_ends_the_duplicate() {
        let all = entries(&[Some("acme.com"), Some("acme.com"), Some("acme.com")]);
        let mut index = index(&all);
        index.remove(&all, 1);
        assert_eq!(members(&index, &all, "acme.com"), [0, 2]);
        assert_eq!(index.duplicate_domains(), 1);
        index.remove(&all, 0);
        assert_eq!(index.count(&all, "acme.com"), 1);
        assert_eq!(index.duplicate_domains(), 0);
        index.remove(&all, 2);
        assert_eq!(index.count(&all, "acme.com"), 0);
    }

    #[test]
    fn a_customer_that_moves_slots_stays_in_its_group() {
        let mut all = entries(&[
            Some("acme.com"),
            Some("hooli.com"),
            Some("hooli.com"),
            Some("acme.com"),
        ]);
        let mut index = index(&all);
        // Slot 1 leaves, and the last customer takes its slot.
        index.remove(&all, 1);
        index.moved(&all, 3, 1);
        all.swap_remove(1);
        index.truncate(all.len());
        assert_eq!(members(&index, &all, "acme.com"), [0, 1]);
        assert_eq!(members(&index, &all, "hooli.com"), [2]);
        assert_eq!(index.duplicate_domains(), 1);
    }
}
