//! The list's sort orders: which column ([`SortColumn`]), which way
//! ([`Sort`]), and the one comparison ([`compare`]) that
//! [`CustomerSet`](super::CustomerSet) keeps its display order by.
//!
//! Every order is total and stable in the sense users care about: customers
//! that tie on the column stay in name order (then `display_id`, then id),
//! whichever way the column runs, and blank values (no domain, no owner, no
//! plan) always come last. No I/O, no UI.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::domain_ranks::DomainRanks;
use super::entry::Entry;

/// A column the list can be sorted by, in the order `s` cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortColumn {
    #[default]
    Name,
    DisplayId,
    Domain,
    Owner,
    Plan,
    Source,
    Updated,
}

impl SortColumn {
    pub const ALL: [SortColumn; 7] = [
        SortColumn::Name,
        SortColumn::DisplayId,
        SortColumn::Domain,
        SortColumn::Owner,
        SortColumn::Plan,
        SortColumn::Source,
        SortColumn::Updated,
    ];

    /// The column after this one, wrapping around.
    #[must_use]
    pub fn next(self) -> SortColumn {
        let at = Self::ALL.iter().position(|&c| c == self).unwrap_or(0);
        Self::ALL[(at + 1) % Self::ALL.len()]
    }

    /// The word the header and the settings use.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SortColumn::Name => "name",
            SortColumn::DisplayId => "#id",
            SortColumn::Domain => "domain",
            SortColumn::Owner => "owner",
            SortColumn::Plan => "plan",
            SortColumn::Source => "source",
            SortColumn::Updated => "updated",
        }
    }

    /// Parses [`name`](Self::name) (and `id` for `#id`).
    #[must_use]
    pub fn parse(text: &str) -> Option<SortColumn> {
        match text.trim().to_ascii_lowercase().as_str() {
            "id" => Some(SortColumn::DisplayId),
            other => Self::ALL.into_iter().find(|c| c.name() == other),
        }
    }

    /// Whether the column first runs high to low: the most recently updated
    /// customers are the interesting ones.
    fn starts_descending(self) -> bool {
        self == SortColumn::Updated
    }
}

/// A sort column and its direction. `reversed` flips the column's natural
/// direction (A→Z, lowest id first, newest first for `updated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sort {
    pub column: SortColumn,
    pub reversed: bool,
}

impl Sort {
    /// Whether the column runs high to low.
    #[must_use]
    pub fn descending(self) -> bool {
        self.column.starts_descending() != self.reversed
    }

    /// The next column, in its natural direction (`s`).
    #[must_use]
    pub fn cycled(self) -> Sort {
        Sort {
            column: self.column.next(),
            reversed: false,
        }
    }

    /// The same column the other way (`S`).
    #[must_use]
    pub fn flipped(self) -> Sort {
        Sort {
            reversed: !self.reversed,
            ..self
        }
    }

    /// `name ↑`, `updated ↓`: how the header shows it.
    #[must_use]
    pub fn label(self) -> String {
        let arrow = if self.descending() { '↓' } else { '↑' };
        format!("{} {arrow}", self.column.name())
    }
}

/// Owner id → the lower-cased name owners sort by.
pub type OwnerNames = HashMap<String, String>;

/// The display order under `sort`: the column (blanks last), then name
/// order, which is always A→Z so that ties keep their place.
pub fn compare(sort: Sort, owners: &OwnerNames, a: &Entry, b: &Entry) -> Ordering {
    let column = match sort.column {
        SortColumn::Name => Some(name_order(a, b)),
        SortColumn::DisplayId => Some(a.display_id.cmp(&b.display_id)),
        SortColumn::Domain => present(a.domain_key(), b.domain_key(), str::cmp),
        SortColumn::Owner => present(owner_name(owners, a), owner_name(owners, b), str::cmp),
        SortColumn::Plan => present(a.plan.as_deref(), b.plan.as_deref(), caseless),
        SortColumn::Source => Some(a.source.as_str().cmp(b.source.as_str())),
        SortColumn::Updated => Some(a.updated_at.cmp(&b.updated_at)),
    };
    match column {
        // One of the two is blank: that one goes last, whichever the direction.
        None => blank_last(a, b, sort.column),
        Some(order) if sort.descending() => order.reverse(),
        Some(order) => order,
    }
    .then_with(|| name_order(a, b))
}

/// A number that orders `entry` in `sort` as far as it can: when two
/// entries' lead keys differ, [`compare`] orders them the same way; when
/// they are equal, only [`compare`] can tell. Kept beside the display
/// order, it lets a binary search over the order read one compact array
/// instead of chasing two entries per comparison.
pub(super) fn lead_key(sort: Sort, entry: &Entry) -> u64 {
    let key = match sort.column {
        SortColumn::Name => entry.sort_prefix(),
        SortColumn::DisplayId => entry.display_id,
        // Blank values and other column types settle in `compare`.
        SortColumn::Domain
        | SortColumn::Owner
        | SortColumn::Plan
        | SortColumn::Source
        | SortColumn::Updated => return 0,
    };
    if sort.descending() { !key } else { key }
}

/// A blank value's rank: after every other.
pub(super) const BLANK: u32 = u32::MAX;

/// Each slot's place in name order ([`name_order`], A→Z), by slot: the
/// tie-break of every order, computed once so that sorting by any column
/// compares integers only. One O(n log n) sort of the entries by name.
///
/// The sort runs on a compact array of (8-byte name prefix, slot) pairs, so
/// it reads memory in order rather than chasing entries; only the runs that
/// share a prefix are then put in order by the full comparison.
pub(super) fn name_ranks(entries: &[Entry]) -> Vec<u32> {
    let mut keyed: Vec<(u64, u32)> = (0..slot_count(entries))
        .map(|slot| (entries[slot as usize].sort_prefix(), slot))
        .collect();
    keyed.sort_unstable_by_key(|&(prefix, _)| prefix);
    let mut by_name: Vec<u32> = keyed.iter().map(|&(_, slot)| slot).collect();
    let mut start = 0;
    while start < keyed.len() {
        let prefix = keyed[start].0;
        let end = run_end(&keyed, start, |&(p, _)| p == prefix);
        if end - start > 1 {
            by_name[start..end]
                .sort_unstable_by(|&a, &b| name_order(&entries[a as usize], &entries[b as usize]));
        }
        start = end;
    }
    ranks_from_order(&by_name, false)
}

/// Where the run of equal keys that begins at `start` ends, by walking it:
/// most runs are one long, and a binary search over the rest of the slice
/// for each cost more than the sort (8 ms of domains at 100,000).
fn run_end<T>(sorted: &[T], start: usize, same: impl Fn(&T) -> bool) -> usize {
    start + 1 + sorted[start + 1..].iter().take_while(|k| same(k)).count()
}

/// Name ranks read off slots that are already in name order (`reversed`:
/// Z→A). O(n).
pub(super) fn ranks_from_order(order: &[u32], reversed: bool) -> Vec<u32> {
    let mut ranks = vec![0u32; order.len()];
    let last = order.len().saturating_sub(1);
    for (position, &slot) in order.iter().enumerate() {
        let rank = if reversed { last - position } else { position };
        ranks[slot as usize] = u32::try_from(rank).unwrap_or(u32::MAX);
    }
    ranks
}

fn slot_count(entries: &[Entry]) -> u32 {
    u32::try_from(entries.len()).unwrap_or(u32::MAX)
}

/// Sorts `slots` (indexes into `entries`) into the order of [`compare`],
/// for a whole set at once.
#[cfg(test)]
pub(super) fn sort_slots(slots: &mut [u32], entries: &[Entry], sort: Sort, owners: &OwnerNames) {
    let ranks = name_ranks(entries);
    sort_slots_ranked(
        slots,
        entries,
        sort,
        owners,
        &ranks,
        &mut DomainRanks::default(),
    );
}

/// [`sort_slots`] given each slot's [`name_ranks`] (a permutation of the
/// slots: names tie-break every order) and the set's [`DomainRanks`]. Name
/// order is that permutation turned inside out; columns of text (domain,
/// owner, plan, source) are ranked among their distinct values and numbers
/// (display id, updated) sorted as compact (key, name rank, slot) triples.
/// Every per-entry value is read in slot order (memory order), never by
/// chasing the display order. Blanks go last whichever the direction.
pub(super) fn sort_slots_ranked(
    slots: &mut [u32],
    entries: &[Entry],
    sort: Sort,
    owners: &OwnerNames,
    name_rank: &[u32],
    domain_ranks: &mut DomainRanks,
) {
    let descending = sort.descending();
    let column_ranks = match sort.column {
        SortColumn::Name => {
            let mut by_name = vec![u32::MAX; name_rank.len()];
            for &slot in slots.iter() {
                by_name[name_rank[slot as usize] as usize] = slot;
            }
            by_name.retain(|&s| s != u32::MAX);
            if descending {
                by_name.reverse();
            }
            slots.copy_from_slice(&by_name);
            return;
        }
        SortColumn::DisplayId => {
            return sort_by_number(slots, entries, name_rank, descending, |e| e.display_id);
        }
        SortColumn::Updated => {
            // Nanoseconds since 1970 as an order-keeping unsigned number
            // (an `i64` holds them until the year 2262).
            let nanos = |e: &Entry| {
                i64::try_from(e.updated_at.unix_timestamp_nanos())
                    .unwrap_or(i64::MAX)
                    .cast_unsigned()
                    ^ (1 << 63)
            };
            return sort_by_number(slots, entries, name_rank, descending, nanos);
        }
        SortColumn::Domain => {
            lay_out_by_rank(slots, domain_ranks.of(entries), name_rank, descending);
            return;
        }
        SortColumn::Owner => ranks(entries, |e| owner_name(owners, e), str::cmp),
        SortColumn::Plan => ranks(entries, |e| e.plan.as_deref(), caseless),
        SortColumn::Source => ranks(entries, |e| Some(e.source.as_str()), str::cmp),
    };
    lay_out_by_rank(slots, &column_ranks, name_rank, descending);
}

/// Orders `slots` by a number of each entry, ties in name order.
fn sort_by_number(
    slots: &mut [u32],
    entries: &[Entry],
    name_rank: &[u32],
    descending: bool,
    number: impl Fn(&Entry) -> u64,
) {
    let keys: Vec<u64> = entries
        .iter()
        .map(|e| if descending { !number(e) } else { number(e) })
        .collect();
    let mut keyed: Vec<(u64, u32, u32)> = slots
        .iter()
        .map(|&slot| (keys[slot as usize], name_rank[slot as usize], slot))
        .collect();
    keyed.sort_unstable_by_key(|&(key, rank, _)| (key, rank));
    for (slot, (_, _, sorted)) in slots.iter_mut().zip(keyed) {
        *slot = sorted;
    }
}

/// Orders `slots` by their `column` rank ([`BLANK`] last, the others
/// reversed when `descending`), ties in name order: the slots are visited
/// in name order and dealt into one bucket per rank (a stable counting
/// sort), O(n + distinct values).
fn lay_out_by_rank(slots: &mut [u32], column: &[u32], name_rank: &[u32], descending: bool) {
    let top = column
        .iter()
        .copied()
        .filter(|&r| r != BLANK)
        .max()
        .map_or(0, |r| r as usize + 1);
    let bucket = |slot: u32| match column[slot as usize] {
        BLANK => top,
        r if descending => top - 1 - r as usize,
        r => r as usize,
    };
    let mut by_name = vec![u32::MAX; name_rank.len()];
    for &slot in slots.iter() {
        by_name[name_rank[slot as usize] as usize] = slot;
    }
    debug_assert_eq!(
        by_name.iter().filter(|&&s| s != u32::MAX).count(),
        slots.len(),
        "name ranks are distinct"
    );
    let mut starts = vec![0u32; top + 2];
    for &slot in by_name.iter().filter(|&&s| s != u32::MAX) {
        starts[bucket(slot) + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    for &slot in by_name.iter().filter(|&&s| s != u32::MAX) {
        let at = &mut starts[bucket(slot)];
        slots[*at as usize] = slot;
        *at += 1;
    }
}

/// Each entry's rank among the distinct values of a column of mostly
/// distinct values (domains), [`BLANK`] for none, with no hashing of
/// 100,000 strings: one sort of compact 24-byte (20-byte prefix, slot)
/// pairs, read in memory order, then only the runs that share a prefix
/// sorted by the whole value (as [`name_ranks`] does for names). Domains
/// share long beginnings (a 12-byte prefix left 18,000 runs of 100,000
/// generated ones to compare as strings, 17 ms); 20 bytes hold most whole.
pub(super) fn ranks_by_sorting<'a>(
    entries: &'a [Entry],
    value: impl Fn(&'a Entry) -> Option<&'a str>,
) -> Vec<u32> {
    let value_of = |slot: u32| value(&entries[slot as usize]).unwrap_or_default();
    let mut keyed: Vec<(Prefix, u32)> = Vec::with_capacity(entries.len());
    keyed.extend(
        entries
            .iter()
            .zip(0..slot_count(entries))
            .filter_map(|(e, slot)| value(e).map(|v| (long_prefix(v), slot))),
    );
    let prefix = |&(head, _): &(Prefix, u32)| head;
    keyed.sort_unstable_by_key(prefix);
    let mut start = 0;
    while start < keyed.len() {
        let run = prefix(&keyed[start]);
        let end = run_end(&keyed, start, |k| prefix(k) == run);
        if end - start > 1 && !holds_whole(run) {
            keyed[start..end].sort_unstable_by(|a, b| value_of(a.1).cmp(value_of(b.1)));
        }
        start = end;
    }
    let mut ranks = vec![BLANK; entries.len()];
    let mut rank = 0u32;
    for (i, k) in keyed.iter().enumerate() {
        if i > 0 {
            let before = &keyed[i - 1];
            let same = prefix(before) == prefix(k)
                && (holds_whole(prefix(k)) || value_of(before.1) == value_of(k.1));
            if !same {
                rank += 1;
            }
        }
        ranks[k.1 as usize] = rank;
    }
    ranks
}

/// Whether a [`Prefix`] holds its whole value: its last byte is padding,
/// so the value is shorter than 20 bytes (sanitised text has no NUL), and
/// values with equal such prefixes are equal (duplicate domains) without
/// reading them.
fn holds_whole((_, _, tail): Prefix) -> bool {
    tail & 0xff == 0
}

/// The first 20 bytes of a value, as big-endian words that order as the
/// bytes do; with a `u32` slot beside it, 24 bytes.
type Prefix = (u64, u64, u32);

/// The [`Prefix`] of `value`, zero-padded.
fn long_prefix(value: &str) -> Prefix {
    let mut bytes = [0u8; 20];
    let n = value.len().min(20);
    bytes[..n].copy_from_slice(&value.as_bytes()[..n]);
    let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t] = bytes;
    (
        u64::from_be_bytes([a, b, c, d, e, f, g, h]),
        u64::from_be_bytes([i, j, k, l, m, n, o, p]),
        u32::from_be_bytes([q, r, s, t]),
    )
}

/// Each entry's rank among the distinct values of a column under `cmp`
/// (values `cmp` finds equal share a rank), [`BLANK`] for none.
fn ranks<'a>(
    entries: &'a [Entry],
    value: impl Fn(&'a Entry) -> Option<&'a str>,
    cmp: impl Fn(&str, &str) -> Ordering,
) -> Vec<u32> {
    let distinct: hashbrown::HashSet<&str> = entries.iter().filter_map(&value).collect();
    let mut distinct: Vec<&str> = distinct.into_iter().collect();
    distinct.sort_unstable_by(|a, b| cmp(a, b));
    let mut rank_of = hashbrown::HashMap::with_capacity(distinct.len());
    let mut rank = 0u32;
    for (i, v) in distinct.iter().enumerate() {
        if i > 0 && cmp(distinct[i - 1], v).is_ne() {
            rank += 1;
        }
        rank_of.insert(*v, rank);
    }
    entries
        .iter()
        .map(|e| {
            value(e)
                .and_then(|v| rank_of.get(v).copied())
                .unwrap_or(BLANK)
        })
        .collect()
}

/// The name `entry`'s owner sorts by: the known name, else the id.
fn owner_name<'a>(owners: &'a OwnerNames, entry: &'a Entry) -> Option<&'a str> {
    let id = entry.owner_id.as_deref()?;
    Some(owners.get(id).map_or(id, String::as_str))
}

/// Name case-insensitively, then `display_id`, then `id`: total even if the
/// server ever repeated a `display_id`.
fn name_order(a: &Entry, b: &Entry) -> Ordering {
    a.sort_prefix()
        .cmp(&b.sort_prefix())
        .then_with(|| a.cmp_sort_key(b))
        .then(a.display_id.cmp(&b.display_id))
        .then_with(|| a.key.cmp(&b.key))
}

/// Compares two optional values that are both present; `None` when one (or
/// both) is blank, which [`blank_last`] settles.
fn present(
    a: Option<&str>,
    b: Option<&str>,
    cmp: impl Fn(&str, &str) -> Ordering,
) -> Option<Ordering> {
    match (a, b) {
        (Some(a), Some(b)) => Some(cmp(a, b)),
        _ => None,
    }
}

/// Orders two entries of which at least one is blank in `column`.
fn blank_last(a: &Entry, b: &Entry, column: SortColumn) -> Ordering {
    let blank = |e: &Entry| match column {
        SortColumn::Domain => e.domain_key().is_none(),
        SortColumn::Owner => e.owner_id.is_none(),
        SortColumn::Plan => e.plan.is_none(),
        _ => false,
    };
    blank(a).cmp(&blank(b))
}

/// Case-insensitive comparison without allocating.
fn caseless(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a
            .bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()));
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s_cycles_every_column_and_comes_back_to_name() {
        let mut sort = Sort::default();
        let mut seen = Vec::new();
        for _ in 0..SortColumn::ALL.len() {
            seen.push(sort.column);
            sort = sort.cycled();
        }
        assert_eq!(seen, SortColumn::ALL);
        assert_eq!(sort, Sort::default());
    }

    #[test]
    fn updated_runs_newest_first_until_reversed() {
        let updated = Sort {
            column: SortColumn::Updated,
            reversed: false,
        };
        assert!(updated.descending());
        assert_eq!(updated.label(), "updated ↓");
        assert!(!updated.flipped().descending());
        assert_eq!(Sort::default().label(), "name ↑");
        assert_eq!(Sort::default().flipped().label(), "name ↓");
    }

    #[test]
    fn columns_parse_from_their_names() {
        for column in SortColumn::ALL {
            assert_eq!(SortColumn::parse(column.name()), Some(column));
        }
        assert_eq!(SortColumn::parse("ID"), Some(SortColumn::DisplayId));
        assert_eq!(SortColumn::parse("colour"), None);
    }

    #[test]
    fn sorting_a_whole_set_by_ranks_agrees_with_compare() {
        use crate::api::models::{Customer, Source};
        let plans = [
            Some("Pro"),
            Some("pro"),
            Some("Basic"),
            None,
            Some("Ärger"),
            Some("ärger"),
        ];
        let owners_of = [Some("usr_1"), Some("usr_2"), None, Some("usr_unknown")];
        let sources = [
            Source::Manual,
            Source::Hubspot,
            Source::Other("Zoho".into()),
        ];
        // Long domains that share more than the 20 bytes ranked at once,
        // and two that end at that boundary.
        let domains = [
            Some("acme.com"),
            None,
            Some("b.io"),
            Some("www.acme.com"),
            Some("customer-success-platform.example.org"),
            Some("customer-success-platform.example.com"),
            Some("customer-success-p.i"),
            Some("customer-success-p.io"),
        ];
        let entries: Vec<Entry> = (0..120u64)
            .map(|i| {
                let at =
                    time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds((i * 7 % 13) as i64);
                Entry::from(Customer {
                    id: format!("cus_{i}"),
                    display_id: 1000 + (i * 37 % 120),
                    name: ["Acme", "acme", "Bolt", "Zeta"][(i % 4) as usize].to_owned(),
                    domain: domains[(i % 8) as usize].map(str::to_owned),
                    owner_id: owners_of[(i % 4) as usize].map(str::to_owned),
                    plan: plans[(i % 6) as usize].map(str::to_owned),
                    tags: Vec::new(),
                    custom_fields: Default::default(),
                    source: sources[(i % 3) as usize].clone(),
                    archived: false,
                    created_at: at,
                    updated_at: at,
                })
            })
            .collect();
        let owners: OwnerNames = [("usr_1", "zed"), ("usr_2", "amy")]
            .into_iter()
            .map(|(id, name)| (id.to_owned(), name.to_owned()))
            .collect();
        for column in SortColumn::ALL {
            for reversed in [false, true] {
                let sort = Sort { column, reversed };
                let mut fast: Vec<u32> = (0..entries.len() as u32).collect();
                sort_slots(&mut fast, &entries, sort, &owners);
                let mut plain: Vec<u32> = (0..entries.len() as u32).collect();
                plain.sort_by(|&a, &b| {
                    compare(sort, &owners, &entries[a as usize], &entries[b as usize])
                });
                assert_eq!(fast, plain, "{sort:?}");
            }
        }
    }

    #[test]
    fn names_compare_as_their_lower_case_whether_ascii_or_not() {
        let names = [
            "Émile",
            "emma",
            "Zoë",
            "zoe",
            "ÉMILE B",
            "apple",
            "Apple",
            "ß",
            "SS",
            "İstanbul",
            "istanbul",
            "",
        ];
        let entries: Vec<Entry> = names
            .iter()
            .map(|n| Entry::from(crate::domain::fixtures::customer(1, n, None)))
            .collect();
        for (a, x) in names.iter().zip(&entries) {
            for (b, y) in names.iter().zip(&entries) {
                assert_eq!(
                    x.cmp_sort_key(y),
                    a.to_lowercase().cmp(&b.to_lowercase()),
                    "{a} vs {b}"
                );
                assert_eq!(
                    x.sort_prefix()
                        .cmp(&y.sort_prefix())
                        .then(x.cmp_sort_key(y)),
                    a.to_lowercase().cmp(&b.to_lowercase()),
                    "{a} vs {b}, prefix first"
                );
            }
        }
    }

    #[test]
    fn caseless_ignores_case_only() {
        assert_eq!(caseless("Pro", "pro"), Ordering::Equal);
        assert_eq!(caseless("Basic", "pro"), Ordering::Less);
        assert_eq!(caseless("Ärger", "ärger"), Ordering::Equal);
    }
}
