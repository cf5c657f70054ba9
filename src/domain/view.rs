//! Which customers the list shows and in what order, as [`Rows`]: the
//! [`CustomerSet`]'s display order, narrowed by the text filter (its
//! matches, or its ranking for a fuzzy query), by "My customers" and by
//! "duplicates only", which also groups each shared domain's records
//! together, largest groups first, then the likely groups (the same
//! company name, see `customers::likely`), largest first; a record in both
//! kinds of group shows under each.
//!
//! Rows are set positions, so they are recomputed (O(matches), plus a sort
//! of the duplicates when grouping) whenever the set changes. No I/O, no UI.

use std::cmp::Reverse;

use super::customers::{CustomerSet, Entry};

/// The toggles that narrow the list besides the text filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Criteria<'a> {
    /// Only customers this user owns ("My customers").
    pub owner: Option<&'a str>,
    /// Only customers whose domain badge is 2 or more, grouped by domain.
    pub duplicates_only: bool,
    /// With `duplicates_only`, the likely groups (same name) too, after the
    /// domain groups: the app's `D` shows them, `customers list
    /// --duplicates` keeps to shared domains.
    pub likely: bool,
    /// Group keys (duplicate keys, or likely groups' `name/…` keys) of
    /// groups marked "not a duplicate", sorted: left out of "duplicates
    /// only".
    pub hidden_groups: &'a [String],
    /// With `duplicates_only`: the groups marked "not a duplicate" instead,
    /// and only them.
    pub dismissed_only: bool,
}

impl Criteria<'_> {
    fn keeps(&self, set: &CustomerSet, entry: &Entry) -> bool {
        (self.owner.is_none() || entry.owner_id.as_deref() == self.owner)
            && (!self.duplicates_only
                || (set.badge(entry).is_some()
                    && self.hides(entry.domain_key()) == self.dismissed_only)
                || (self.likely
                    && set
                        .likely_key(entry)
                        .is_some_and(|key| self.hides(Some(&key)) == self.dismissed_only)))
    }

    fn hides(&self, key: Option<&str>) -> bool {
        key.is_some_and(|k| {
            self.hidden_groups
                .binary_search_by(|h| h.as_str().cmp(k))
                .is_ok()
        })
    }

    fn narrows(&self) -> bool {
        self.owner.is_some() || self.duplicates_only
    }
}

/// The text filter's contribution to [`Rows::compute`].
#[derive(Debug, Clone, Copy)]
pub enum Matches<'a> {
    /// No text filter: every customer.
    All,
    /// Set positions that match, ascending (display order).
    Ordered(&'a [u32]),
    /// Set positions that match, best first (a fuzzy query).
    Ranked(&'a [usize]),
}

/// The list as shown: row `i` is the customer at set position
/// `position(i)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    /// `None`: every customer, in set order (no copy of 100,000 positions
    /// for the usual unfiltered list).
    positions: Option<Vec<u32>>,
    /// The set's length when `positions` is `None`.
    len: usize,
    /// Whether `positions` ascends, so [`row_of`](Self::row_of) can search.
    ascending: bool,
    /// In duplicates only, the first row of the likely groups (after the
    /// domain groups); `None` when no row is one.
    likely_from: Option<usize>,
    /// In duplicates only, each group shown as (its first row, its key), in
    /// row order: the triage queue, known without walking every row.
    groups: Vec<(usize, String)>,
}

impl Rows {
    /// Every customer of `set`, in its order.
    #[must_use]
    pub fn all(set: &CustomerSet) -> Rows {
        Rows {
            positions: None,
            len: set.len(),
            ascending: true,
            likely_from: None,
            groups: Vec::new(),
        }
    }

    /// The rows for `matches` narrowed by `criteria`.
    #[must_use]
    pub fn compute(set: &CustomerSet, matches: Matches<'_>, criteria: Criteria<'_>) -> Rows {
        if matches!(matches, Matches::All) && !criteria.narrows() {
            return Rows::all(set);
        }
        if criteria.duplicates_only && !matches!(matches, Matches::Ranked(_)) {
            return Rows::duplicates(set, matches, criteria);
        }
        let keep = |p: usize| set.at(p).is_some_and(|e| criteria.keeps(set, e));
        let (mut positions, ascending): (Vec<u32>, bool) = match matches {
            Matches::All => (set.positions_where(|e| criteria.keeps(set, e)), true),
            Matches::Ordered(ps) => (
                ps.iter().copied().filter(|&p| keep(p as usize)).collect(),
                true,
            ),
            Matches::Ranked(ps) => (
                ps.iter()
                    .copied()
                    .filter(|&p| keep(p))
                    .map(to_u32)
                    .collect(),
                false,
            ),
        };
        let (ascending, groups) = if criteria.duplicates_only {
            group_by_domain(set, &mut positions);
            (false, domain_groups(set, &positions))
        } else {
            (ascending, Vec::new())
        };
        Rows {
            len: positions.len(),
            positions: Some(positions),
            ascending,
            likely_from: None,
            groups,
        }
    }

    /// Duplicates only, built from the duplicate index's groups: one pass
    /// over the order to place the d duplicated customers, then a sort of d.
    fn duplicates(set: &CustomerSet, matches: Matches<'_>, criteria: Criteria<'_>) -> Rows {
        let matched = match matches {
            Matches::Ordered(ps) => Some(ps),
            Matches::All | Matches::Ranked(_) => None,
        };
        let mut rows: Vec<(Reverse<usize>, &str, u32)> = Vec::new();
        for (size, key, position) in set.duplicate_positions() {
            let position = to_u32(position);
            let matches = matched.is_none_or(|ps| ps.binary_search(&position).is_ok());
            let mine = criteria.owner.is_none_or(|owner| {
                set.at(position as usize)
                    .and_then(|e| e.owner_id.as_deref())
                    == Some(owner)
            });
            if matches && mine && criteria.hides(Some(key)) == criteria.dismissed_only {
                rows.push((Reverse(size), key, position));
            }
        }
        // Largest groups first, then by domain; a group keeps the list's order.
        rows.sort_unstable();
        let mut groups: Vec<(usize, String)> = Vec::new();
        for (row, (_, key, _)) in rows.iter().enumerate() {
            if groups.last().is_none_or(|(_, last)| last != key) {
                groups.push((row, (*key).to_owned()));
            }
        }
        let mut positions: Vec<u32> = rows.into_iter().map(|(_, _, p)| p).collect();
        let likely_from = positions.len();
        if criteria.likely {
            Rows::likely_rows(set, matched, criteria, &mut positions, &mut groups);
        }
        let likely_from = (positions.len() > likely_from).then_some(likely_from);
        Rows {
            len: positions.len(),
            positions: Some(positions),
            ascending: false,
            likely_from,
            groups,
        }
    }

    /// The rows of the likely groups, in the same way: largest first, then
    /// by key, each in the list's order, those not matched or not mine left
    /// out; added to `rows`, and each group that shows to `shown`.
    fn likely_rows(
        set: &CustomerSet,
        matched: Option<&[u32]>,
        criteria: Criteria<'_>,
        rows: &mut Vec<u32>,
        shown: &mut Vec<(usize, String)>,
    ) {
        let mut groups = set.likely_groups();
        groups.retain(|(key, _)| criteria.hides(Some(key)) == criteria.dismissed_only);
        groups.sort_unstable_by(|(a, x), (b, y)| y.len().cmp(&x.len()).then(a.cmp(b)));
        // One pass over the order for every group's records at once.
        let keys: Vec<_> = groups
            .iter()
            .flat_map(|(_, members)| members.iter().map(|e| &e.key))
            .collect();
        let mut found = set.positions_of(&keys).into_iter();
        for (key, members) in groups {
            let mut positions: Vec<u32> = found
                .by_ref()
                .take(members.len())
                .flatten()
                .map(to_u32)
                .filter(|p| matched.is_none_or(|ps| ps.binary_search(p).is_ok()))
                .filter(|&p| {
                    criteria.owner.is_none_or(|owner| {
                        set.at(p as usize).and_then(|e| e.owner_id.as_deref()) == Some(owner)
                    })
                })
                .collect();
            positions.sort_unstable();
            if !positions.is_empty() {
                shown.push((rows.len(), key));
            }
            rows.extend(positions);
        }
    }

    /// In duplicates only, each group shown as (its first row, its key: a
    /// duplicate domain, or a likely group's key), in row order; empty in
    /// any other list.
    #[must_use]
    pub fn groups(&self) -> &[(usize, String)] {
        &self.groups
    }

    /// Whether `row` is one of a likely group's, in duplicates only.
    #[must_use]
    pub fn in_likely_group(&self, row: usize) -> bool {
        self.likely_from
            .is_some_and(|from| row >= from && row < self.len)
    }

    /// How many rows there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The set position shown at `row`.
    #[must_use]
    pub fn position(&self, row: usize) -> Option<usize> {
        match &self.positions {
            None => (row < self.len).then_some(row),
            Some(ps) => ps.get(row).map(|&p| p as usize),
        }
    }

    /// The row that shows set position `position`, if any: O(1) unfiltered,
    /// O(log n) filtered, O(n) grouped or ranked.
    #[must_use]
    pub fn row_of(&self, position: usize) -> Option<usize> {
        let Some(ps) = &self.positions else {
            return (position < self.len).then_some(position);
        };
        let position = u32::try_from(position).ok()?;
        if self.ascending {
            ps.binary_search(&position).ok()
        } else {
            ps.iter().position(|&p| p == position)
        }
    }

    /// The set positions shown, in row order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).filter_map(|row| self.position(row))
    }
}

/// Orders duplicates so each domain's records are adjacent, the largest
/// groups first, then by domain; records keep their order within a group.
fn group_by_domain(set: &CustomerSet, positions: &mut [u32]) {
    let group = |p: u32| {
        set.at(p as usize).map(|e| {
            let size = set.badge(e).unwrap_or(0);
            (Reverse(size), e.domain_key().unwrap_or_default())
        })
    };
    // A stable sort: within a group, the list's own order stays.
    positions.sort_by_cached_key(|&p| group(p).map(|(s, k)| (s, k.to_owned())));
}

/// The groups of `positions` grouped by [`group_by_domain`], as (first
/// row, duplicate domain).
fn domain_groups(set: &CustomerSet, positions: &[u32]) -> Vec<(usize, String)> {
    let mut groups: Vec<(usize, String)> = Vec::new();
    for (row, &position) in positions.iter().enumerate() {
        let key = set.at(position as usize).and_then(Entry::domain_key);
        if let Some(key) = key
            && groups.last().is_none_or(|(_, last)| last != key)
        {
            groups.push((row, key.to_owned()));
        }
    }
    groups
}

fn to_u32(position: usize) -> u32 {
    u32::try_from(position).expect("fewer than 2^32 customers")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::Customer;
    use crate::domain::fixtures;

    fn customer(display_id: u64, name: &str, domain: &str, owner: &str) -> Customer {
        Customer {
            owner_id: Some(owner.to_owned()),
            ..fixtures::customer(display_id, name, (!domain.is_empty()).then_some(domain))
        }
    }

    /// Acme is a triple, Bolt a pair, Zeta a pair; Solo stands alone.
    fn set() -> CustomerSet {
        let mut set = CustomerSet::default();
        set.apply([
            customer(1, "Acme Co", "acme.com", "me"),
            customer(2, "Bolt", "bolt.io", "other"),
            customer(3, "Acme Inc", "www.acme.com", "other"),
            customer(4, "Solo", "solo.dev", "me"),
            customer(5, "Bolt Labs", "https://bolt.io/", "me"),
            customer(6, "ACME", "Acme.com", "me"),
            customer(7, "Aardvark Zeta", "zeta.ai", "other"),
            customer(8, "Zeta", "zeta.ai", "other"),
        ]);
        set
    }

    fn ids(set: &CustomerSet, rows: &Rows) -> Vec<u64> {
        rows.iter().map(|p| set.at(p).unwrap().display_id).collect()
    }

    #[test]
    fn without_filters_every_customer_shows_in_set_order() {
        let set = set();
        let rows = Rows::compute(&set, Matches::All, Criteria::default());
        assert_eq!(rows, Rows::all(&set));
        assert_eq!(ids(&set, &rows), [7, 6, 1, 3, 2, 5, 4, 8]);
        assert_eq!(rows.row_of(3), Some(3));
    }

    #[test]
    fn my_customers_keeps_only_mine() {
        let set = set();
        let mine = Criteria {
            owner: Some("me"),
            ..Criteria::default()
        };
        let rows = Rows::compute(&set, Matches::All, mine);
        assert_eq!(ids(&set, &rows), [6, 1, 5, 4]);
    }

    #[test]
    fn duplicates_only_groups_domains_largest_first_keeping_order_within() {
        let set = set();
        let dups = Criteria {
            duplicates_only: true,
            ..Criteria::default()
        };
        let rows = Rows::compute(&set, Matches::All, dups);
        // acme.com ×3 (in name order), then bolt.io and zeta.ai ×2 by domain.
        assert_eq!(ids(&set, &rows), [6, 1, 3, 2, 5, 7, 8]);
        let zeta = set.position_of("cus_8").unwrap();
        assert_eq!(rows.row_of(zeta), Some(6));
        // A group marked "not a duplicate" leaves, however the rows are made.
        let hidden = ["bolt.io".to_owned()];
        let without_bolt = Criteria {
            duplicates_only: true,
            hidden_groups: &hidden,
            ..Criteria::default()
        };
        let rows = Rows::compute(&set, Matches::All, without_bolt);
        assert_eq!(ids(&set, &rows), [6, 1, 3, 7, 8]);
        let all: Vec<u32> = (0..set.len()).map(|p| p as u32).collect();
        let rows = Rows::compute(&set, Matches::Ordered(&all), without_bolt);
        assert_eq!(ids(&set, &rows), [6, 1, 3, 7, 8]);
        // Listing the dismissed groups shows that group alone.
        let only_bolt = Criteria {
            dismissed_only: true,
            ..without_bolt
        };
        let rows = Rows::compute(&set, Matches::All, only_bolt);
        assert_eq!(ids(&set, &rows), [2, 5]);
        let rows = Rows::compute(&set, Matches::Ordered(&all), only_bolt);
        assert_eq!(ids(&set, &rows), [2, 5]);
    }

    #[test]
    fn likely_groups_follow_the_domain_groups_when_asked_for() {
        let mut set = set();
        set.apply([
            customer(9, "Solo GmbH", "solo.de", "me"),
            customer(10, "Zeta Inc.", "zeta.io", "other"),
        ]);
        let dups = Criteria {
            duplicates_only: true,
            ..Criteria::default()
        };
        let rows = Rows::compute(&set, Matches::All, dups);
        assert_eq!(ids(&set, &rows), [6, 1, 3, 2, 5, 7, 8], "domains only");
        assert!(!rows.in_likely_group(6));
        let with_likely = Criteria {
            likely: true,
            ..dups
        };
        let rows = Rows::compute(&set, Matches::All, with_likely);
        // Two pairs by key: Solo at solo.dev and solo.de, then Zeta at
        // zeta.ai and zeta.io (#8 shows under its domain group too).
        assert_eq!(ids(&set, &rows), [6, 1, 3, 2, 5, 7, 8, 4, 9, 8, 10]);
        assert!(!rows.in_likely_group(6) && rows.in_likely_group(7));
        let hidden = ["name/zeta".to_owned()];
        let rows = Rows::compute(
            &set,
            Matches::All,
            Criteria {
                hidden_groups: &hidden,
                ..with_likely
            },
        );
        assert_eq!(ids(&set, &rows), [6, 1, 3, 2, 5, 7, 8, 4, 9]);
    }

    #[test]
    fn criteria_combine_with_the_text_filter() {
        let set = set();
        // Pretend the text filter matched Bolt, Bolt Labs and Solo.
        let matched: Vec<u32> = ["cus_2", "cus_5", "cus_4"]
            .iter()
            .map(|id| set.position_of(id).unwrap() as u32)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let both = Criteria {
            owner: Some("me"),
            duplicates_only: true,
            ..Criteria::default()
        };
        let rows = Rows::compute(&set, Matches::Ordered(&matched), both);
        assert_eq!(ids(&set, &rows), [5]);
        let rows = Rows::compute(&set, Matches::Ordered(&matched), Criteria::default());
        assert_eq!(ids(&set, &rows), [2, 5, 4]);
    }

    #[test]
    fn ranked_matches_keep_their_ranking() {
        let set = set();
        let ranked = [
            set.position_of("cus_8").unwrap(),
            set.position_of("cus_7").unwrap(),
        ];
        let rows = Rows::compute(&set, Matches::Ranked(&ranked), Criteria::default());
        assert_eq!(ids(&set, &rows), [8, 7]);
        assert_eq!(rows.row_of(ranked[1]), Some(1));
        assert_eq!(rows.row_of(set.position_of("cus_1").unwrap()), None);
    }
}
