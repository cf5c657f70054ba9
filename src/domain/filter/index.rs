//! The [`SearchIndex`]: every customer's searchable text, lower-cased
//! once, by position in display order; scanned per keystroke, followed
//! through the set's change log, rebuilt (in parallel slices) when it
//! cannot be followed.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{
    Needle, SEP, Scorer, byte_bits, fold, for_each_field, owner_text, push_folded, to_u32,
};
use crate::domain::customers::{Change, CustomerKey, CustomerSet, Entry};

/// How many customers [`SearchIndex::scan`] searches as one text.
const SCAN_RUN: usize = 32;

/// Hands out a new [`SearchIndex::stamp`] on each build.
static STAMPS: AtomicU64 = AtomicU64::new(1);

/// The lower-cased searchable text of every customer, by position in
/// [`CustomerSet`] display order, built once so that filtering compares
/// bytes without allocating or lower-casing anything per keystroke.
///
/// Positions shift whenever the set changes, so the index is rebuilt, not
/// patched, and a [`FilterState`]'s positions mean nothing for a changed
/// set until the index is rebuilt and the filter refined again (it notices
/// the new index and rescans by itself).
///
/// Cost at 100,000 customers (release build, on a shared 2-core VM):
/// [`rebuild`](Self::rebuild) takes 150–200 ms, about half of it just
/// walking the entries (a cache miss per field), and the index holds
/// 6.7 MB (5.5 MB of text, plus a `u32` offset and a `u64` byte summary per
/// customer). So build it when the filter opens, and while one is open
/// rebuild once per drained batch of changes, never per record.
#[derive(Debug)]
pub struct SearchIndex {
    /// Every customer's fields, lower-cased, each followed by [`SEP`].
    pub(super) text: String,
    /// `text[starts[p]..starts[p + 1]]` is the customer at position `p`.
    pub(super) starts: Vec<u32>,
    /// The [`byte_bits`] of each customer's text (all ones for a split one).
    pub(super) bits: Vec<u64>,
    /// Customers with a field that holds [`SEP`] itself (only an owner name
    /// could, as it does not come from a sanitised entry): their lower-cased
    /// fields, by position, ascending. Their slice of `text` is empty.
    pub(super) split: Vec<(u32, Vec<String>)>,
    /// Unique to this build, so that a filter can tell it scanned another.
    pub(super) stamp: u64,
}

impl Default for SearchIndex {
    fn default() -> Self {
        SearchIndex {
            text: String::new(),
            starts: vec![0],
            bits: Vec::new(),
            split: Vec::new(),
            stamp: STAMPS.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl SearchIndex {
    /// Indexes every customer in `set`. `owner` maps an owner id to the
    /// name the list shows (see [`owner_text`]).
    #[must_use]
    pub fn build<'o>(set: &CustomerSet, owner: impl Fn(&str) -> Option<&'o str> + Sync) -> Self {
        let mut index = SearchIndex::default();
        index.rebuild(set, owner);
        index
    }

    /// Indexes `set` again, reusing the allocations. Large sets are
    /// indexed in parallel slices (one per core, up to four) joined in
    /// order: walking the entries is most of the cost, and it divides.
    ///
    /// # Panics
    ///
    /// If the lower-cased text of the whole set exceeds 4 GiB.
    pub fn rebuild<'o>(
        &mut self,
        set: &CustomerSet,
        owner: impl Fn(&str) -> Option<&'o str> + Sync,
    ) {
        let n = set.len();
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(MAX_THREADS);
        let parts: Vec<Part> = if n < PARALLEL_FROM || threads < 2 {
            vec![Part::build(set, 0..n, &owner)]
        } else {
            let chunk = n.div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..n)
                    .step_by(chunk)
                    .map(|start| {
                        let owner = &owner;
                        scope.spawn(move || Part::build(set, start..n.min(start + chunk), owner))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|handle| match handle.join() {
                        Ok(part) => part,
                        Err(panic) => std::panic::resume_unwind(panic),
                    })
                    .collect()
            })
        };
        self.text.clear();
        self.starts.clear();
        self.starts.reserve(n + 1);
        self.starts.push(0);
        self.bits.clear();
        self.bits.reserve(n);
        self.split.clear();
        for part in parts {
            let base = u32::try_from(self.text.len()).expect("search text under 4 GiB");
            self.text.push_str(&part.text);
            for end in part.ends {
                self.starts
                    .push(base.checked_add(end).expect("search text under 4 GiB"));
            }
            self.bits.extend(part.bits);
            self.split.extend(part.split);
        }
        self.stamp = STAMPS.fetch_add(1, Ordering::Relaxed);
    }

    /// Follows `changes` (from [`CustomerSet::changes_since`]) instead of
    /// rebuilding: each change moves the text after it once, about a
    /// millisecond at 100,000 customers, against 120–200 ms for a rebuild.
    /// `set` is the set as it is now; a customer that has left it since is
    /// indexed as nothing until its own removal is replayed.
    pub fn follow<'c, 'o>(
        &mut self,
        changes: impl Iterator<Item = &'c Change>,
        set: &CustomerSet,
        owner: impl Fn(&str) -> Option<&'o str>,
    ) {
        let changes: Vec<&Change> = changes.collect();
        let mut at = 0;
        while at < changes.len() {
            // A run of inserts at rising positions (a page merged into the
            // set) is spliced in with one pass over the text, not one each.
            let run = ascending_inserts(&changes[at..]);
            if run.len() >= BULK_FROM {
                let run: Vec<(usize, Option<&Entry>)> = run
                    .iter()
                    .map(|&(position, id)| (position, set.get(id)))
                    .collect();
                self.insert_run(&run, &owner);
                at += run.len();
                continue;
            }
            match changes[at] {
                Change::Removed(position) => self.remove_at(*position),
                Change::Inserted { position, id } => self.insert_at(*position, set.get(id), &owner),
                Change::Replaced { position, id } => {
                    self.remove_at(*position);
                    self.insert_at(*position, set.get(id), &owner);
                }
            }
            at += 1;
        }
        self.stamp = STAMPS.fetch_add(1, Ordering::Relaxed);
    }

    /// Puts in a run of customers at strictly rising final `positions`, as
    /// replaying their inserts one by one would: O(n + k) in one copy.
    fn insert_run<'o>(
        &mut self,
        run: &[(usize, Option<&Entry>)],
        owner: &impl Fn(&str) -> Option<&'o str>,
    ) {
        let old_len = self.len();
        let mut text = String::with_capacity(self.text.len() + run.len() * 64);
        let mut starts = Vec::with_capacity(old_len + run.len() + 1);
        starts.push(0u32);
        let mut bits = Vec::with_capacity(old_len + run.len());
        let mut split = Vec::with_capacity(self.split.len());
        let mut old_split = std::mem::take(&mut self.split).into_iter().peekable();
        let mut next_old = 0;
        let mut copy_old = |upto: usize,
                            text: &mut String,
                            starts: &mut Vec<u32>,
                            bits: &mut Vec<u64>,
                            split: &mut Vec<(u32, Vec<String>)>,
                            next_old: &mut usize| {
            let (from, to) = (self.starts[*next_old], self.starts[upto]);
            let shift = to_u32(text.len()).wrapping_sub(from);
            text.push_str(&self.text[from as usize..to as usize]);
            starts.extend(
                self.starts[*next_old + 1..=upto]
                    .iter()
                    .map(|s| s.wrapping_add(shift)),
            );
            bits.extend_from_slice(&self.bits[*next_old..upto]);
            let moved_by = starts.len() - 1 - upto;
            while let Some((p, fields)) = old_split.next_if(|(p, _)| (*p as usize) < upto) {
                split.push((to_u32(p as usize + moved_by), fields));
            }
            *next_old = upto;
        };
        for (inserted, &(position, entry)) in run.iter().enumerate() {
            let before = position.saturating_sub(inserted).clamp(next_old, old_len);
            copy_old(
                before,
                &mut text,
                &mut starts,
                &mut bits,
                &mut split,
                &mut next_old,
            );
            let mark = text.len();
            let fields = entry.and_then(|e| fold_entry(e, owner, &mut text));
            starts.push(u32::try_from(text.len()).expect("search text under 4 GiB"));
            bits.push(if fields.is_some() {
                u64::MAX
            } else {
                byte_bits(&text[mark..])
            });
            if let Some(fields) = fields {
                split.push((to_u32(starts.len() - 2), fields));
            }
        }
        copy_old(
            old_len,
            &mut text,
            &mut starts,
            &mut bits,
            &mut split,
            &mut next_old,
        );
        self.text = text;
        self.starts = starts;
        self.bits = bits;
        self.split = split;
    }

    /// Takes out the customer at `position`.
    fn remove_at(&mut self, position: usize) {
        if position >= self.len() {
            return;
        }
        let (start, end) = (self.starts[position], self.starts[position + 1]);
        let removed = end - start;
        self.text.replace_range(start as usize..end as usize, "");
        self.starts.remove(position + 1);
        for start in &mut self.starts[position + 1..] {
            *start -= removed;
        }
        self.bits.remove(position);
        let position = to_u32(position);
        self.split.retain(|(p, _)| *p != position);
        for (p, _) in &mut self.split {
            if *p > position {
                *p -= 1;
            }
        }
    }

    /// Puts `entry` in at `position` (nothing searchable for `None`).
    fn insert_at<'o>(
        &mut self,
        position: usize,
        entry: Option<&Entry>,
        owner: &impl Fn(&str) -> Option<&'o str>,
    ) {
        let position = position.min(self.len());
        let mut text = String::new();
        let split = entry.and_then(|e| fold_entry(e, owner, &mut text));
        let added = u32::try_from(text.len()).expect("one customer's text under 4 GiB");
        let at = self.starts[position];
        self.text.insert_str(at as usize, &text);
        self.starts.insert(position + 1, at + added);
        for start in &mut self.starts[position + 2..] {
            *start += added;
        }
        let bits = if split.is_some() {
            u64::MAX
        } else {
            byte_bits(&text)
        };
        self.bits.insert(position, bits);
        let position = to_u32(position);
        for (p, _) in &mut self.split {
            if *p >= position {
                *p += 1;
            }
        }
        if let Some(fields) = split {
            let at = self.split.partition_point(|(p, _)| *p < position);
            self.split.insert(at, (position, fields));
        }
    }

    /// The number of customers indexed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// True when no customer is indexed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the position of every customer that matches to `out`, in
    /// order. No allocation beyond `out`.
    pub(super) fn scan(&self, needle: &Needle, out: &mut Vec<u32>) {
        let n = to_u32(self.len());
        if let Needle::All = needle {
            return out.extend(0..n);
        }
        let Needle::Text {
            text,
            crosses: false,
            ..
        } = needle
        else {
            return out.extend((0..n).filter(|&p| self.matches_at(p, needle)));
        };
        // Search runs of customers as one text (each field ends with `SEP`,
        // which the needle lacks, so a hit never spans two), and test them one
        // by one only in a run with a hit: a selective query then costs one
        // long SIMD search. A customer with a split field is not in `text`,
        // so a run holding one is always tested one by one.
        let mut split = self.split.iter().map(|(p, _)| *p).peekable();
        for first in (0..n).step_by(SCAN_RUN) {
            let end = n.min(first + to_u32(SCAN_RUN));
            let run = &self.text
                [self.starts[first as usize] as usize..self.starts[end as usize] as usize];
            let has_split = split.next_if(|&p| p < end).is_some();
            while split.next_if(|&p| p < end).is_some() {}
            if has_split || run.contains(text.as_str()) {
                out.extend((first..end).filter(|&p| self.matches_at(p, needle)));
            }
        }
    }

    /// Whether the customer at `position` matches. No allocation.
    pub(super) fn matches_at(&self, position: u32, needle: &Needle) -> bool {
        let wanted = needle.bits();
        if self.bits[position as usize] & wanted != wanted {
            return false;
        }
        if let Some(fields) = self.split_fields(position) {
            return fields.iter().any(|field| needle.matches_field(field));
        }
        needle.matches_joined(self.joined(position))
    }

    /// The lower-cased fields at `position`, each followed by [`SEP`].
    fn joined(&self, position: u32) -> &str {
        let p = position as usize;
        &self.text[self.starts[p] as usize..self.starts[p + 1] as usize]
    }

    fn split_fields(&self, position: u32) -> Option<&[String]> {
        if self.split.is_empty() {
            return None;
        }
        let found = self.split.binary_search_by_key(&position, |(p, _)| *p);
        found.ok().map(|i| self.split[i].1.as_slice())
    }

    /// The best fuzzy score of `needle` over the fields at `position`.
    pub(super) fn fuzzy_score(
        &self,
        position: u32,
        needle: &[char],
        scorer: &mut Scorer,
    ) -> Option<i32> {
        let mut best = |fields: &mut dyn Iterator<Item = &str>| {
            fields.filter_map(|f| scorer.score(f, needle, false)).max()
        };
        match self.split_fields(position) {
            Some(fields) => best(&mut fields.iter().map(String::as_str)),
            None => best(&mut self.joined(position).split_terminator(SEP)),
        }
    }
}

/// Appends the searchable fields of `entry`, lower-cased and each followed
/// by [`SEP`], to `text`; or, when a field holds [`SEP`] itself, appends
/// nothing and returns the fields apart.
fn fold_entry<'o>(
    entry: &Entry,
    owner: &impl Fn(&str) -> Option<&'o str>,
    text: &mut String,
) -> Option<Vec<String>> {
    let owner = owner_text(entry, owner);
    let mark = text.len();
    let mut split = false;
    for_each_field(entry, owner, |_, field| {
        split |= field.contains(SEP);
        push_folded(text, field);
        text.push(SEP);
    });
    if !split {
        return None;
    }
    text.truncate(mark);
    let mut fields = Vec::new();
    for_each_field(entry, owner, |_, field| {
        fields.push(fold(field).into_owned())
    });
    Some(fields)
}

/// From this many inserts in a row, [`SearchIndex::follow`] splices them in
/// with one pass over the text.
const BULK_FROM: usize = 8;

/// The leading inserts of `changes` whose positions rise strictly, as
/// (position, id).
fn ascending_inserts<'c>(changes: &[&'c Change]) -> Vec<(usize, &'c CustomerKey)> {
    let mut run: Vec<(usize, &CustomerKey)> = Vec::new();
    for change in changes {
        match change {
            Change::Inserted { position, id } if run.last().is_none_or(|&(p, _)| p < *position) => {
                run.push((*position, id));
            }
            _ => break,
        }
    }
    run
}

/// Below this many customers an index is built on one thread.
pub(super) const PARALLEL_FROM: usize = 20_000;
/// The most threads an index is built on.
const MAX_THREADS: usize = 4;

/// The index of one slice of positions, built on its own thread.
pub(super) struct Part {
    pub(super) text: String,
    /// End of each customer's text, relative to this part's start.
    pub(super) ends: Vec<u32>,
    pub(super) bits: Vec<u64>,
    pub(super) split: Vec<(u32, Vec<String>)>,
}

impl Part {
    pub(super) fn build<'o>(
        set: &CustomerSet,
        positions: Range<usize>,
        owner: &impl Fn(&str) -> Option<&'o str>,
    ) -> Part {
        let mut part = Part {
            text: String::new(),
            ends: Vec::with_capacity(positions.len()),
            bits: Vec::with_capacity(positions.len()),
            split: Vec::new(),
        };
        for position in positions {
            let Some(entry) = set.at(position) else { break };
            let mark = part.text.len();
            match fold_entry(entry, owner, &mut part.text) {
                Some(fields) => {
                    part.bits.push(u64::MAX);
                    part.split.push((to_u32(position), fields));
                }
                None => part.bits.push(byte_bits(&part.text[mark..])),
            }
            part.ends
                .push(u32::try_from(part.text.len()).expect("search text under 4 GiB"));
        }
        part
    }
}
