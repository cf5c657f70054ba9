//! Groups of set slots that share a key, chained through the slots
//! themselves: a table holds each group's first slot, and every slot
//! holds the next slot of its group and, at a group's head, the group's
//! size. At 100,000 customers that is 9 bytes a table bucket and 8 bytes
//! a slot (about 2 MiB), where a map from each key to its members took
//! 4–5 MiB.
//!
//! The chains hold no key: the caller says how a slot's key hashes and
//! whether a slot has the key at hand, from its own entries. So every
//! slot a call can reach must hold the entry it was filed with; see each
//! method for when to call it around a change. Each head is filed with
//! half its key's hash ([`HashedSlot`]), so that a table that grows reads
//! no entry. Used for the duplicate domains and the likely names
//! (`duplicates`, `names`); no I/O, no UI.

use hashbrown::HashTable;

/// No next slot: the end of a chain, or a slot in no group.
const END: u32 = u32::MAX;

/// A slot in a hash table, with the high half of its key's hash: growing
/// the table rehashes from that alone. Without it, every slot's entry was
/// read again, out of order, to hash its key: at 100,000 customers each of
/// the three tables that grows past 57,344 slots (ids, domains, names)
/// stalled the page that crossed it by 4–6 ms. Eight bytes instead of
/// four; the key is still compared in full on every lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashedSlot {
    pub slot: u32,
    high: u32,
}

impl HashedSlot {
    /// `slot`, whose key hashes to `hash`.
    #[must_use]
    pub fn new(slot: u32, hash: u64) -> HashedSlot {
        HashedSlot {
            slot,
            high: high_half(hash),
        }
    }

    /// What the table files it under: [`table_hash`] of its key's hash.
    #[must_use]
    pub fn table_hash(self) -> u64 {
        spread(self.high)
    }
}

/// What a table of [`HashedSlot`]s files a key hashing to `hash` under:
/// its high half spread back over 64 bits (the table takes its bucket from
/// the low bits and its tag from the top ones).
#[must_use]
pub fn table_hash(hash: u64) -> u64 {
    spread(high_half(hash))
}

fn high_half(hash: u64) -> u32 {
    (hash >> 32) as u32
}

fn spread(half: u32) -> u64 {
    u64::from(half).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Slots grouped by key.
#[derive(Debug, Clone, Default)]
pub struct Chains {
    /// Each group's first slot, filed by its key's hash.
    heads: HashTable<HashedSlot>,
    /// By slot.
    links: Vec<Link>,
}

/// One slot's place in its group.
#[derive(Debug, Clone, Copy)]
struct Link {
    /// The next slot of its group, or [`END`].
    next: u32,
    /// The size of the group it heads (meaningless elsewhere).
    size: u32,
}

impl Link {
    const NONE: Link = Link { next: END, size: 0 };
}

impl Chains {
    /// Empty chains with room for `groups` groups and `slots` slots.
    #[must_use]
    pub fn with_capacity(groups: usize, slots: usize) -> Self {
        Chains {
            heads: HashTable::with_capacity(groups),
            links: Vec::with_capacity(slots),
        }
    }

    /// Files `slot`, whose key hashes to `hash`, in its group, and returns
    /// the group's size now. `same(s)` says whether slot `s` has the key.
    /// Call it once `slot` holds its entry. The slot becomes the group's
    /// head, so filing is O(1) however large the group.
    pub fn insert(&mut self, slot: u32, hash: u64, same: impl Fn(u32) -> bool) -> usize {
        self.fit(slot);
        debug_assert!(
            !self.members(hash, &same).any(|s| s == slot),
            "slot {slot} filed twice (a cycle in its chain)"
        );
        let at = slot as usize;
        let size = match self
            .heads
            .find_mut(table_hash(hash), |head| same(head.slot))
        {
            Some(head) => {
                let size = self.links[head.slot as usize].size + 1;
                self.links[at].next = head.slot;
                head.slot = slot;
                size
            }
            None => {
                self.links[at].next = END;
                self.heads
                    .insert_unique(table_hash(hash), HashedSlot::new(slot, hash), |head| {
                        head.table_hash()
                    });
                1
            }
        };
        self.links[at].size = size;
        size as usize
    }

    /// Takes `slot` out of its group and returns the group's size now (0
    /// once it is gone); a slot not in the group changes nothing. Call it
    /// while `slot` still holds the entry it was filed with. O(the group's
    /// size).
    pub fn remove(&mut self, slot: u32, hash: u64, same: impl Fn(u32) -> bool) -> usize {
        let Ok(mut head) = self
            .heads
            .find_entry(table_hash(hash), |head| same(head.slot))
        else {
            return 0;
        };
        let first = head.get().slot;
        let size = self.links[first as usize].size;
        if first == slot {
            let next = self.links[slot as usize].next;
            if next == END {
                head.remove();
                return 0;
            }
            head.get_mut().slot = next;
            self.links[next as usize].size = size - 1;
        } else {
            let Some(before) = self.before(first, slot) else {
                return size as usize;
            };
            self.links[before as usize].next = self.links[slot as usize].next;
            self.links[first as usize].size = size - 1;
        }
        self.links[slot as usize].next = END;
        (size - 1) as usize
    }

    /// Files the group member at `from` at `to` instead, for an entry that
    /// moved slots (the last taking the place of one removed). Call it
    /// while both slots still hold their old entries, `from` the one that
    /// moves and `to` one already taken out of its group; then
    /// [`truncate`](Self::truncate) once the entries are moved.
    pub fn moved(&mut self, from: u32, to: u32, hash: u64, same: impl Fn(u32) -> bool) {
        let Some(head) = self
            .heads
            .find_mut(table_hash(hash), |head| same(head.slot))
        else {
            return;
        };
        let first = head.slot;
        if first == from {
            head.slot = to;
        } else if let Some(before) = self.before(first, from) {
            self.links[before as usize].next = to;
        } else {
            return;
        }
        self.fit(to);
        self.links[to as usize] = self.links[from as usize];
        self.links[from as usize].next = END;
    }

    /// Forgets the slots from `len` on (after the set shrank to `len`).
    pub fn truncate(&mut self, len: usize) {
        self.links.truncate(len);
    }

    /// The size of the group whose key hashes to `hash` (0 for none).
    #[must_use]
    pub fn size(&self, hash: u64, same: impl Fn(u32) -> bool) -> usize {
        self.heads
            .find(table_hash(hash), |head| same(head.slot))
            .map_or(0, |head| self.links[head.slot as usize].size as usize)
    }

    /// The slots of the group whose key hashes to `hash`, newest first.
    pub fn members(&self, hash: u64, same: impl Fn(u32) -> bool) -> Members<'_> {
        let first = self.heads.find(table_hash(hash), |head| same(head.slot));
        Members {
            links: &self.links,
            at: first.map_or(END, |head| head.slot),
        }
    }

    /// The head and size of every group of two or more, in no particular
    /// order.
    pub fn shared(&self) -> impl Iterator<Item = (u32, usize)> + '_ {
        self.heads.iter().filter_map(|head| {
            let size = self.links[head.slot as usize].size as usize;
            (size > 1).then_some((head.slot, size))
        })
    }

    /// The slot before `slot` in the chain from `first`, if `slot` is in it.
    fn before(&self, first: u32, slot: u32) -> Option<u32> {
        let mut at = first;
        loop {
            let next = self.links[at as usize].next;
            if next == slot {
                return Some(at);
            }
            if next == END {
                return None;
            }
            at = next;
        }
    }

    /// Makes room for `slot` in the per-slot vectors.
    fn fit(&mut self, slot: u32) {
        let want = slot as usize + 1;
        if self.links.len() < want {
            self.links.resize(want, Link::NONE);
        }
    }
}

/// The slots of one group, following its chain.
#[derive(Debug, Clone)]
pub struct Members<'a> {
    links: &'a [Link],
    at: u32,
}

impl Iterator for Members<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.at == END {
            return None;
        }
        let slot = self.at;
        self.at = self.links[slot as usize].next;
        Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each slot's key, as the set's entries would hold it.
    struct Keys(Vec<&'static str>);

    impl Keys {
        fn hash(key: &str) -> u64 {
            // A poor hash on purpose: every key collides, so each lookup
            // must tell keys apart by `same`.
            key.len() as u64
        }

        fn insert(&self, chains: &mut Chains, slot: u32) -> usize {
            let key = self.0[slot as usize];
            chains.insert(slot, Keys::hash(key), |s| self.0[s as usize] == key)
        }

        fn remove(&self, chains: &mut Chains, slot: u32) -> usize {
            let key = self.0[slot as usize];
            chains.remove(slot, Keys::hash(key), |s| self.0[s as usize] == key)
        }

        /// Takes `slot` out, and the last slot into its place, as the
        /// set's `swap_remove` does.
        fn swap_remove(&mut self, chains: &mut Chains, slot: u32) {
            let last = u32::try_from(self.0.len() - 1).expect("few");
            self.remove(chains, slot);
            if slot != last {
                let key = self.0[last as usize];
                chains.moved(last, slot, Keys::hash(key), |s| self.0[s as usize] == key);
            }
            self.0.swap_remove(slot as usize);
            chains.truncate(self.0.len());
        }

        fn members(&self, chains: &Chains, key: &str) -> Vec<u32> {
            let mut slots: Vec<u32> = chains
                .members(Keys::hash(key), |s| self.0[s as usize] == key)
                .collect();
            slots.sort_unstable();
            slots
        }

        fn size(&self, chains: &Chains, key: &str) -> usize {
            chains.size(Keys::hash(key), |s| self.0[s as usize] == key)
        }
    }

    #[test]
    fn slots_with_one_key_form_one_group_with_its_size() {
        let keys = Keys(vec!["acme", "hool", "acme", "acme"]);
        let mut chains = Chains::default();
        let sizes: Vec<usize> = (0..4).map(|slot| keys.insert(&mut chains, slot)).collect();
        assert_eq!(sizes, [1, 1, 2, 3]);
        assert_eq!(keys.members(&chains, "acme"), [0, 2, 3]);
        assert_eq!(keys.members(&chains, "hool"), [1]);
        assert_eq!(keys.size(&chains, "acme"), 3);
        assert_eq!(keys.size(&chains, "none"), 0);
        assert_eq!(
            chains.shared().map(|(_, size)| size).collect::<Vec<_>>(),
            [3]
        );
    }

    #[test]
    fn removing_a_head_a_middle_or_the_last_keeps_the_rest() {
        let keys = Keys(vec!["acme"; 4]);
        let mut chains = Chains::default();
        for slot in 0..4 {
            keys.insert(&mut chains, slot);
        }
        // Slot 3 is the head (newest first), 0 the end.
        assert_eq!(keys.remove(&mut chains, 3), 3);
        assert_eq!(keys.remove(&mut chains, 1), 2);
        assert_eq!(keys.members(&chains, "acme"), [0, 2]);
        assert_eq!(keys.remove(&mut chains, 0), 1);
        assert_eq!(
            keys.remove(&mut chains, 0),
            1,
            "not in the group: no change"
        );
        assert_eq!(keys.remove(&mut chains, 2), 0);
        assert!(keys.members(&chains, "acme").is_empty());
        assert_eq!(chains.shared().count(), 0);
    }

    #[test]
    fn a_moved_slot_is_found_at_its_new_place() {
        // Slot 1 leaves; the last (3) takes its place, as `swap_remove` does.
        let mut keys = Keys(vec!["acme", "hool", "acme", "acme"]);
        let mut chains = Chains::default();
        for slot in 0..4 {
            keys.insert(&mut chains, slot);
        }
        keys.swap_remove(&mut chains, 1);
        assert_eq!(keys.members(&chains, "acme"), [0, 1, 2]);
        assert_eq!(keys.size(&chains, "acme"), 3);
        assert!(keys.members(&chains, "hool").is_empty());
        assert_eq!(keys.remove(&mut chains, 1), 2);
        assert_eq!(keys.members(&chains, "acme"), [0, 2]);
    }

    #[test]
    fn a_moved_member_in_the_middle_keeps_its_neighbours() {
        let mut keys = Keys(vec!["acme", "acme", "acme", "hool", "acme"]);
        let mut chains = Chains::default();
        for slot in 0..5 {
            keys.insert(&mut chains, slot);
        }
        // Chain: 4 → 2 → 1 → 0. Slot 3 leaves, 4 (the head) moves to 3.
        keys.swap_remove(&mut chains, 3);
        assert_eq!(keys.members(&chains, "acme"), [0, 1, 2, 3]);
        // And a middle member moving: 2 leaves, 3 moves into it.
        keys.swap_remove(&mut chains, 2);
        assert_eq!(keys.members(&chains, "acme"), [0, 1, 2]);
        assert_eq!(keys.size(&chains, "acme"), 3);
    }

    /// Thousands of groups make the table grow many times, rehashing each
    /// head from the half hash filed with it: every group is still found,
    /// with its size, by its key's hash.
    #[test]
    fn groups_are_found_after_the_table_grows() {
        use std::hash::BuildHasher;
        let hasher = hashbrown::DefaultHashBuilder::default();
        let keys: Vec<String> = (0..5_000).map(|i| format!("key {}", i / 2)).collect();
        let mut chains = Chains::default();
        for (slot, key) in (0u32..).zip(&keys) {
            chains.insert(slot, hasher.hash_one(key), |s| keys[s as usize] == *key);
        }
        for key in keys.iter().step_by(2) {
            let size = chains.size(hasher.hash_one(key), |s| keys[s as usize] == *key);
            assert_eq!(size, 2, "{key}");
        }
    }
}
