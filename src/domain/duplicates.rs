//! The duplicate-domain index: which live customers share a normalised
//! domain (the contract's "Duplicate domains" rule), kept exact one change at
//! a time so that badges and the "N duplicate domains" header never need a
//! recount.
//!
//! It knows keys and members (customer keys in the set; any id in tests)
//! only; computing the key is [`super::host::duplicate_key`]'s
//! job, and deciding which customers are live is the caller's. No I/O, no UI.

use std::borrow::Borrow;

use hashbrown::{HashMap, HashSet};

use super::intern::Text;

/// Duplicate key → the members (ids) of the live customers that have it.
///
/// Groups are tiny (almost always one member), so a group of one is held
/// inline and larger ones in a `Vec` kept in insertion order. Keys are
/// shared text: the set hands in its entries' own key, so the index holds
/// no copy of it. A key is present only while its group is non-empty, and
/// the keys with two or more members are kept apart on every change, so
/// [`duplicate_domains`](Self::duplicate_domains) is O(1) and
/// [`groups`](Self::groups) visits only the shared domains (a few thousand
/// of 100,000), not every key.
#[derive(Debug, Clone)]
pub struct DuplicateIndex<M = String> {
    groups: HashMap<Text, Members<M>>,
    /// The keys of the groups with at least two members.
    shared: HashSet<Text>,
}

/// One group's members: one inline (the usual case, no allocation), or
/// several.
#[derive(Debug, Clone)]
pub(super) enum Members<M> {
    One(M),
    Many(Vec<M>),
}

impl<M> Members<M> {
    pub(super) fn as_slice(&self) -> &[M] {
        match self {
            Members::One(member) => std::slice::from_ref(member),
            Members::Many(members) => members,
        }
    }

    pub(super) fn as_mut_slice(&mut self) -> &mut [M] {
        match self {
            Members::One(member) => std::slice::from_mut(member),
            Members::Many(members) => members,
        }
    }

    pub(super) fn push(&mut self, member: M) {
        let members = match std::mem::replace(self, Members::Many(Vec::new())) {
            Members::One(first) => vec![first, member],
            Members::Many(mut members) => {
                members.push(member);
                members
            }
        };
        *self = Members::Many(members);
    }

    /// Takes out the member at `index`; `false` when none is left.
    pub(super) fn remove(&mut self, index: usize) -> bool {
        match self {
            Members::One(_) => false,
            Members::Many(members) => {
                members.remove(index);
                if members.len() == 1
                    && let Some(last) = members.pop()
                {
                    *self = Members::One(last);
                }
                true
            }
        }
    }
}

/// A key the index can store: shared text is kept as it is, other text is
/// copied once, when its group starts.
pub trait GroupKey {
    fn as_str(&self) -> &str;
    fn to_text(&self) -> Text;
}

impl GroupKey for &str {
    fn as_str(&self) -> &str {
        self
    }

    fn to_text(&self) -> Text {
        Text::from(*self)
    }
}

impl GroupKey for &Text {
    fn as_str(&self) -> &str {
        self
    }

    fn to_text(&self) -> Text {
        Text::clone(self)
    }
}

impl<M> Default for DuplicateIndex<M> {
    fn default() -> Self {
        DuplicateIndex {
            groups: HashMap::new(),
            shared: HashSet::new(),
        }
    }
}

impl<M> DuplicateIndex<M> {
    /// An empty index with room for `keys` keys.
    #[must_use]
    pub fn with_capacity(keys: usize) -> Self {
        DuplicateIndex {
            groups: HashMap::with_capacity(keys),
            shared: HashSet::new(),
        }
    }

    /// Records that the customer `id` has the duplicate key `key`. Inserting
    /// the same id under the same key again changes nothing.
    pub fn insert<Q>(&mut self, key: impl GroupKey, id: &Q)
    where
        M: Borrow<Q>,
        Q: PartialEq + ToOwned<Owned = M> + ?Sized,
    {
        match self.groups.get_mut(key.as_str()) {
            Some(members) if members.as_slice().iter().any(|m| m.borrow() == id) => {}
            Some(members) => {
                members.push(id.to_owned());
                if members.as_slice().len() == 2 {
                    self.shared.insert(key.to_text());
                }
            }
            None => {
                self.groups
                    .insert(key.to_text(), Members::One(id.to_owned()));
            }
        }
    }

    /// Forgets that the customer `id` has the key `key`, dropping the group
    /// once it is empty. Removing an id that is not there changes nothing.
    pub fn remove<Q>(&mut self, key: &str, id: &Q)
    where
        M: Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        let Some(members) = self.groups.get_mut(key) else {
            return;
        };
        let Some(index) = members.as_slice().iter().position(|m| m.borrow() == id) else {
            return;
        };
        if !members.remove(index) {
            self.groups.remove(key);
        } else if members.as_slice().len() == 1 {
            self.shared.remove(key);
        }
    }

    /// Renames the member `from` of `key`'s group to `to`, in place (for a
    /// member whose handle changed, such as a set slot that moved).
    pub fn rename(&mut self, key: &str, from: &M, to: M)
    where
        M: PartialEq,
    {
        if let Some(member) = self
            .groups
            .get_mut(key)
            .and_then(|members| members.as_mut_slice().iter_mut().find(|m| *m == from))
        {
            *member = to;
        }
    }

    /// How many customers have `key` (0 for an unknown key).
    #[must_use]
    pub fn count(&self, key: &str) -> usize {
        self.members(key).len()
    }

    /// The ids of the customers that have `key`, in insertion order; empty
    /// for an unknown key.
    #[must_use]
    pub fn members(&self, key: &str) -> &[M] {
        self.groups.get(key).map_or(&[], Members::as_slice)
    }

    /// How many keys are shared by two or more customers. O(1).
    #[must_use]
    pub fn duplicate_domains(&self) -> usize {
        self.shared.len()
    }

    /// The groups of two or more customers, as `(key, ids)`, in no
    /// particular order.
    pub fn groups(&self) -> impl Iterator<Item = (&str, &[M])> {
        self.shared.iter().map(|key| (&**key, self.members(key)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_groups(index: &DuplicateIndex) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<_> = index
            .groups()
            .map(|(key, ids)| (key.to_owned(), ids.to_vec()))
            .collect();
        groups.sort();
        groups
    }

    #[test]
    fn a_second_member_makes_a_duplicate_domain() {
        let mut index = DuplicateIndex::default();
        index.insert("acme.com", "cus_1");
        assert_eq!(index.count("acme.com"), 1);
        assert_eq!(index.duplicate_domains(), 0);
        assert_eq!(index.groups().count(), 0);

        index.insert("acme.com", "cus_2");
        assert_eq!(index.count("acme.com"), 2);
        assert_eq!(index.duplicate_domains(), 1);
        assert_eq!(index.members("acme.com"), ["cus_1", "cus_2"]);
    }

    #[test]
    fn inserting_the_same_id_twice_counts_it_once() {
        let mut index = DuplicateIndex::default();
        index.insert("acme.com", "cus_1");
        index.insert("acme.com", "cus_1");
        assert_eq!(index.count("acme.com"), 1);
        assert_eq!(index.duplicate_domains(), 0);
    }

    #[test]
    fn removing_down_to_one_member_ends_the_duplicate() {
        let mut index = DuplicateIndex::default();
        for id in ["cus_1", "cus_2", "cus_3"] {
            index.insert("acme.com", id);
        }
        assert_eq!(index.duplicate_domains(), 1);

        index.remove("acme.com", "cus_2");
        assert_eq!(index.members("acme.com"), ["cus_1", "cus_3"]);
        assert_eq!(index.duplicate_domains(), 1);

        index.remove("acme.com", "cus_1");
        assert_eq!(index.count("acme.com"), 1);
        assert_eq!(index.duplicate_domains(), 0);
    }

    #[test]
    fn an_emptied_group_is_dropped() {
        let mut index = DuplicateIndex::default();
        index.insert("acme.com", "cus_1");
        index.remove("acme.com", "cus_1");
        assert_eq!(index.count("acme.com"), 0);
        assert!(index.members("acme.com").is_empty());
        assert!(index.groups.is_empty());
    }

    #[test]
    fn removing_an_unknown_id_or_key_changes_nothing() {
        let mut index = DuplicateIndex::default();
        index.insert("acme.com", "cus_1");
        index.insert("acme.com", "cus_2");
        index.remove("acme.com", "cus_9");
        index.remove("hooli.com", "cus_1");
        assert_eq!(index.count("acme.com"), 2);
        assert_eq!(index.duplicate_domains(), 1);
    }

    #[test]
    fn groups_lists_only_shared_keys() {
        let mut index = DuplicateIndex::default();
        index.insert("acme.com", "cus_1");
        index.insert("acme.com", "cus_2");
        index.insert("hooli.com", "cus_3");
        index.insert("initech.com", "cus_4");
        index.insert("initech.com", "cus_5");
        index.insert("initech.com", "cus_6");
        assert_eq!(
            sorted_groups(&index),
            [
                ("acme.com".to_owned(), vec!["cus_1".into(), "cus_2".into()]),
                (
                    "initech.com".to_owned(),
                    vec!["cus_4".into(), "cus_5".into(), "cus_6".into()]
                ),
            ]
        );
        assert_eq!(index.duplicate_domains(), 2);
    }

    #[test]
    fn one_id_may_sit_under_two_keys_independently() {
        let mut index = DuplicateIndex::default();
        index.insert("acme.com", "cus_1");
        index.insert("hooli.com", "cus_1");
        index.remove("acme.com", "cus_1");
        assert_eq!(index.count("acme.com"), 0);
        assert_eq!(index.count("hooli.com"), 1);
    }
}
