//! The name index: which live customers share a company-name key (see
//! [`super::name_key`]), kept exact one change at a time like the domain
//! index ([`super::duplicates`]), and which of those shared keys are
//! *likely duplicates* right now.
//!
//! It files members (set slots) under the 64-bit hash of their key and
//! holds no key text: at 100,000 customers that is a `u64` and a `u32` per
//! named customer. Two different keys with one hash would share a bucket,
//! so whoever reads a bucket checks each member's real key (the set does,
//! in `customers`); the index only knows hashes. Whether a bucket is likely
//! is the set's judgement (it needs the entries' domains), recorded here
//! with [`NameIndex::set_likely`]. No I/O, no UI.

use std::num::NonZeroU64;

use hashbrown::HashMap;

use super::duplicates::Members;

/// Key hash → the slots of the live customers whose name has that key.
#[derive(Debug, Clone, Default)]
pub struct NameIndex {
    buckets: HashMap<NonZeroU64, Members<u32>>,
    /// The buckets that hold a likely-duplicate group now.
    likely: HashMap<NonZeroU64, bool>,
}

impl NameIndex {
    /// An empty index with room for `keys` keys.
    #[must_use]
    pub fn with_capacity(keys: usize) -> Self {
        NameIndex {
            buckets: HashMap::with_capacity(keys),
            likely: HashMap::new(),
        }
    }

    /// Files `slot` under `hash` (once, however often it is inserted).
    pub fn insert(&mut self, hash: NonZeroU64, slot: u32) {
        match self.buckets.get_mut(&hash) {
            Some(members) if members.as_slice().contains(&slot) => {}
            Some(members) => members.push(slot),
            None => {
                self.buckets.insert(hash, Members::One(slot));
            }
        }
    }

    /// Takes `slot` out of `hash`'s bucket, dropping an emptied bucket (and
    /// its likely mark).
    pub fn remove(&mut self, hash: NonZeroU64, slot: u32) {
        let Some(members) = self.buckets.get_mut(&hash) else {
            return;
        };
        let Some(index) = members.as_slice().iter().position(|&m| m == slot) else {
            return;
        };
        if !members.remove(index) {
            self.buckets.remove(&hash);
            self.likely.remove(&hash);
        }
    }

    /// Renames the member `from` of `hash`'s bucket to `to` (a slot that
    /// moved).
    pub fn rename(&mut self, hash: NonZeroU64, from: u32, to: u32) {
        if let Some(member) = self
            .buckets
            .get_mut(&hash)
            .and_then(|members| members.as_mut_slice().iter_mut().find(|m| **m == from))
        {
            *member = to;
        }
    }

    /// The slots filed under `hash`, in insertion order.
    #[must_use]
    pub fn members(&self, hash: NonZeroU64) -> &[u32] {
        self.buckets.get(&hash).map_or(&[], Members::as_slice)
    }

    /// Records whether `hash`'s bucket holds a likely group now: `None`
    /// when not, `Some(pure)` when it does, `pure` when every member
    /// shares one key.
    pub fn set_likely(&mut self, hash: NonZeroU64, likely: Option<bool>) {
        match likely {
            Some(pure) if self.buckets.contains_key(&hash) => {
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
    pub fn shared(&self) -> impl Iterator<Item = NonZeroU64> + '_ {
        self.buckets
            .iter()
            .filter(|(_, members)| members.as_slice().len() > 1)
            .map(|(&hash, _)| hash)
    }

    /// How many buckets hold a likely group. O(1).
    #[must_use]
    pub fn likely_count(&self) -> usize {
        self.likely.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u64) -> NonZeroU64 {
        NonZeroU64::new(n).expect("non-zero")
    }

    #[test]
    fn members_come_and_go_and_an_empty_bucket_loses_its_mark() {
        let mut index = NameIndex::default();
        index.insert(hash(7), 1);
        index.insert(hash(7), 2);
        index.insert(hash(7), 2);
        assert_eq!(index.members(hash(7)), [1, 2]);
        index.set_likely(hash(7), Some(true));
        assert_eq!(index.likely_state(hash(7)), Some(true));
        assert_eq!(index.shared().collect::<Vec<_>>(), [hash(7)]);
        index.rename(hash(7), 2, 5);
        assert_eq!(index.members(hash(7)), [1, 5]);
        index.remove(hash(7), 1);
        index.remove(hash(7), 5);
        assert!(index.members(hash(7)).is_empty());
        assert_eq!(index.likely_state(hash(7)), None);
        assert_eq!(index.likely_count(), 0);
    }

    #[test]
    fn an_unknown_bucket_is_never_likely() {
        let mut index = NameIndex::default();
        index.set_likely(hash(3), Some(true));
        assert_eq!(index.likely_state(hash(3)), None);
        index.remove(hash(3), 9);
        assert_eq!(index.likely().count(), 0);
    }
}
