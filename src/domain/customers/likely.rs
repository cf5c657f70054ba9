//! Likely duplicates by name, on the customer set: which live customers
//! form a *likely group* and the group keys that name both kinds of group.
//!
//! The rule. A name group is every live customer whose name has one key
//! ([`name_key`](crate::domain::name_key)). It is a *likely group* when it
//! has two or more customers and they are not all in one domain group,
//! that is, their duplicate domain keys are not all one and the same key
//! (a customer without a domain never shares one). So `Atlasbridge
//! Security` at atlasbridge.com and at atlasbridge.io is a likely group of
//! two; two `Acme Co` at acme.com are only a domain group; and three
//! `Acme Co`, two at acme.com and one at acme.io, are a likely group of
//! three: all of them, the two that also share a domain included, since
//! whoever cleans them up wants to see the three together. Such a record
//! is then in both groups, and merging either group settles it.
//!
//! Group keys. Triage names a group by one string: a domain group by its
//! duplicate key, a likely group by [`NAME_GROUP_PREFIX`] and its name key
//! (`name/atlasbridge security`). A duplicate key never holds a `/` (the
//! domain rule drops everything from the first `/` as a path), so the
//! two can never collide, in memory or in the store of dismissed groups.
//!
//! Kept exact one change at a time: every insert, replace and removal
//! re-judges only the name buckets it touched. No I/O, no UI.

use std::num::NonZeroU64;

use super::{CustomerSet, Entry};
use crate::domain::name_key::key_hash;
use crate::domain::names::NameIndex;

/// What starts the group key of a likely group.
pub const NAME_GROUP_PREFIX: &str = "name/";

/// The group key of the likely group whose name key is `name_key`.
#[must_use]
pub fn name_group_key(name_key: &str) -> String {
    format!("{NAME_GROUP_PREFIX}{name_key}")
}

/// The name key of a likely group's key; `None` for a domain group's.
#[must_use]
pub fn as_name_group(group: &str) -> Option<&str> {
    group.strip_prefix(NAME_GROUP_PREFIX)
}

/// True when `members` (customers with one name key) form a likely group:
/// two or more, not all sharing one domain.
#[must_use]
pub fn is_likely_group(members: &[&Entry]) -> bool {
    let Some((first, rest)) = members.split_first() else {
        return false;
    };
    let one_domain_group =
        first.domain_key().is_some() && rest.iter().all(|e| e.domain_key() == first.domain_key());
    !rest.is_empty() && !one_domain_group
}

impl CustomerSet {
    /// How many name-key hashes two or more live customers share (likely
    /// groups or not).
    #[must_use]
    pub fn shared_name_keys(&self) -> usize {
        self.names.shared(&self.entries).count()
    }

    /// Builds the name index again from scratch, from the entries: what
    /// a warm start does as part of [`CustomerSet::from_entries`], here
    /// alone so that `pivotal bench` can time it.
    pub fn rebuild_name_index(&mut self) {
        self.names = NameIndex::with_capacity(self.entries.len());
        for slot in 0..self.entries.len() {
            self.names.insert(&self.entries, super::slot_number(slot));
        }
        self.recheck_all_names();
    }

    /// Judges every shared bucket, once the whole set is built.
    pub(super) fn recheck_all_names(&mut self) {
        let shared: Vec<NonZeroU64> = self.names.shared(&self.entries).collect();
        for hash in shared {
            self.recheck_name(hash);
        }
    }

    /// Judges again whether `hash`'s bucket holds a likely group.
    pub(super) fn recheck_name(&mut self, hash: NonZeroU64) {
        let verdict = self.judge(hash);
        self.names.set_likely(&self.entries, hash, verdict);
    }

    /// `None` when `hash`'s bucket holds no likely group, else whether all
    /// its members share one key.
    fn judge(&self, hash: NonZeroU64) -> Option<bool> {
        let members: Vec<&Entry> = self
            .names
            .members(&self.entries, hash)
            .map(|slot| self.entry(slot))
            .collect();
        if !is_likely_group(&members) {
            // A bucket whose members all share a domain holds no likely
            // group, whatever its keys.
            return None;
        }
        let groups = by_key(members);
        let pure = groups.len() == 1;
        groups
            .iter()
            .any(|(_, group)| is_likely_group(group))
            .then_some(pure)
    }

    /// The marker beside a customer in a likely group: `Some(n)` for a
    /// group of n, else `None`. O(1) but for a hash collision.
    #[must_use]
    pub fn likely_badge(&self, entry: &Entry) -> Option<usize> {
        let hash = entry.name_hash()?;
        match self.names.likely_state(hash)? {
            true => Some(self.names.size(&self.entries, hash)),
            false => {
                let key = entry.name_key()?;
                let group = self.name_group(hash, &key);
                is_likely_group(&group).then_some(group.len())
            }
        }
    }

    /// The group key of the likely group `entry` is in, if any.
    #[must_use]
    pub fn likely_key(&self, entry: &Entry) -> Option<String> {
        self.likely_badge(entry)?;
        entry.name_key().map(|key| name_group_key(&key))
    }

    /// How many likely groups there are. O(1) but for hash collisions.
    #[must_use]
    pub fn likely_count(&self) -> usize {
        self.names
            .likely()
            .map(|hash| match self.names.likely_state(hash) {
                Some(false) => self.likely_in(hash).len(),
                _ => 1,
            })
            .sum()
    }

    /// Every likely group, as (group key, its customers by `display_id`),
    /// in no particular order.
    #[must_use]
    pub fn likely_groups(&self) -> Vec<(String, Vec<&Entry>)> {
        self.names
            .likely()
            .flat_map(|hash| self.likely_in(hash))
            .collect()
    }

    /// The customers of the group `group` (a duplicate key, or a likely
    /// group's key), by `display_id`; empty when none is live. A name
    /// group is returned whether or not it is likely now (a merged group
    /// of one is still that one).
    #[must_use]
    pub fn group(&self, group: &str) -> Vec<&Entry> {
        match as_name_group(group) {
            Some(key) => self.name_group(key_hash(key), key),
            None => self.same_domain(group),
        }
    }

    /// The customers whose name key is `key` (filed under `hash`), by
    /// `display_id`.
    fn name_group(&self, hash: NonZeroU64, key: &str) -> Vec<&Entry> {
        let pure = self.names.likely_state(hash) == Some(true);
        let mut group: Vec<&Entry> = self
            .names
            .members(&self.entries, hash)
            .map(|slot| self.entry(slot))
            .filter(|e| pure || e.name_key().as_deref() == Some(key))
            .collect();
        group.sort_by(|a, b| a.display_id.cmp(&b.display_id).then(a.key.cmp(&b.key)));
        group
    }

    /// The likely groups filed under `hash` (one, but for a collision).
    fn likely_in(&self, hash: NonZeroU64) -> Vec<(String, Vec<&Entry>)> {
        let members: Vec<&Entry> = self
            .names
            .members(&self.entries, hash)
            .map(|slot| self.entry(slot))
            .collect();
        let groups = if self.names.likely_state(hash) == Some(true) {
            // Every member has one key (no hash collision here): made
            // once, not once a member (`D` makes every likely group).
            let key = members.first().and_then(|e| e.name_key());
            key.map(|key| (key, members)).into_iter().collect()
        } else {
            by_key(members)
        };
        groups
            .into_iter()
            .filter(|(_, group)| is_likely_group(group))
            .map(|(key, mut group)| {
                group.sort_by(|a, b| a.display_id.cmp(&b.display_id).then(a.key.cmp(&b.key)));
                (name_group_key(&key), group)
            })
            .collect()
    }
}

/// `members` split by their real name key (a bucket holds one key but for
/// a hash collision).
fn by_key(members: Vec<&Entry>) -> Vec<(String, Vec<&Entry>)> {
    let mut groups: Vec<(String, Vec<&Entry>)> = Vec::new();
    for entry in members {
        let Some(key) = entry.name_key() else {
            continue;
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push(entry),
            None => groups.push((key, vec![entry])),
        }
    }
    groups
}
