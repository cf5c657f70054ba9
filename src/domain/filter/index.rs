//! The [`SearchIndex`]: every customer's searchable text, lower-cased
//! once, by the customer's slot in the set (which neither a new sort nor
//! customers arriving elsewhere moves); scanned per keystroke, patched
//! slot by slot through the set's log of changed slots, rebuilt (in
//! parallel slices) only when that log is lost.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{
    Needle, SEP, Scorer, byte_bits, fold, for_each_field, owner_text, push_folded, to_u32,
};
use crate::domain::customers::{CustomerSet, Entry};

/// How many records [`SearchIndex::scan`] searches as one text.
const SCAN_RUN: usize = 32;

/// Marks a record whose slot has been indexed again since (its text is
/// garbage until the next compaction).
const DEAD: u32 = u32::MAX;

/// How many changed slots the index remembers for filters that are behind
/// (at least; up to a quarter of the index).
const LOG_MAX: usize = 4_096;

/// Hands out [`SearchIndex`] lineages: one per build, so that a filter can
/// tell it was computed from another index.
static LINEAGES: AtomicU64 = AtomicU64::new(1);

/// The lower-cased searchable text of every customer, by slot in its
/// [`CustomerSet`], built once so that filtering compares bytes without
/// allocating or lower-casing anything per keystroke.
///
/// Text is kept in an arena of records, one per indexing of a slot: a slot
/// indexed again (its customer changed, or another took its slot) gets a
/// new record at the end, and the old one is garbage until the arena is
/// compacted (when garbage passes half of it). So following k changed
/// slots costs O(k), whatever the set's size, and a new sort costs nothing.
///
/// Cost at 100,000 customers (release build, on a shared 2-core VM): a
/// [`rebuild`](Self::rebuild) takes about 24 ms on two threads (most of it
/// walking the entries; the engine builds it beside the cached set, on one
/// thread, off the UI task), a page of 1,000 new customers about 1 ms to
/// follow, and the index holds about 10 MB (about 8 MB of text, then per
/// slot a record start, its slot, a record number and a `u64` byte
/// summary).
#[derive(Debug)]
pub struct SearchIndex {
    /// The records' text, each field lower-cased and followed by [`SEP`].
    pub(super) text: String,
    /// Record `r` is `text[starts[r]..starts[r + 1]]`.
    starts: Vec<u32>,
    /// The slot each record indexes, or [`DEAD`].
    owners: Vec<u32>,
    /// Slot → its live record.
    records: Vec<u32>,
    /// Slot → the [`byte_bits`] of its text (all ones for a split one).
    bits: Vec<u64>,
    /// Slots with a field that holds [`SEP`] itself (only an owner name
    /// could, as it does not come from a sanitised entry): their lower-cased
    /// fields, ascending by slot. Their record is empty.
    pub(super) split: Vec<(u32, Vec<String>)>,
    /// Bytes of `text` in dead records.
    garbage: usize,
    /// Unique to each build; kept while the index follows changes.
    lineage: u64,
    /// Counts the follows that changed something since the build.
    generation: u64,
    /// The slots indexed again by each follow since generation `log_from`,
    /// tagged with the generation they made.
    log: Vec<(u64, u32)>,
    log_from: u64,
}

/// Where a filter's result was computed: which index, how far it had
/// followed the set, and the set's version (its order) then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seen {
    pub(super) lineage: u64,
    pub(super) generation: u64,
    pub(super) set_version: u64,
}

impl Default for SearchIndex {
    fn default() -> Self {
        SearchIndex {
            text: String::new(),
            starts: vec![0],
            owners: Vec::new(),
            records: Vec::new(),
            bits: Vec::new(),
            split: Vec::new(),
            garbage: 0,
            lineage: LINEAGES.fetch_add(1, Ordering::Relaxed),
            generation: 0,
            log: Vec::new(),
            log_from: 0,
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

    /// Indexes every customer in `set` on the calling thread, straight
    /// into the index's text: slower than [`build`](Self::build) on a
    /// multi-core machine, but the text is held once, never a second
    /// time in slices being joined (4 MiB less at the peak of a warm
    /// start at 100,000 customers). For a build off the UI task.
    #[must_use]
    pub fn build_alone<'o>(set: &CustomerSet, owner: impl Fn(&str) -> Option<&'o str>) -> Self {
        let entries = set.by_slot();
        let mut index = SearchIndex::default();
        index.assemble(vec![Part::build(entries, 0..entries.len(), &owner)]);
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
        let entries = set.by_slot();
        let n = entries.len();
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(MAX_THREADS);
        let parts: Vec<Part> = if n < PARALLEL_FROM || threads < 2 {
            vec![Part::build(entries, 0..n, &owner)]
        } else {
            let chunk = n.div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..n)
                    .step_by(chunk)
                    .map(|start| {
                        let owner = &owner;
                        scope
                            .spawn(move || Part::build(entries, start..n.min(start + chunk), owner))
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
        self.assemble(parts);
    }

    /// Makes the index of `parts`, slices of the set's slots in order.
    fn assemble(&mut self, parts: Vec<Part>) {
        let n = parts.iter().map(|part| part.starts.len() - 1).sum();
        let mut parts = parts.into_iter();
        // The first part becomes the index as it is, and the others are
        // appended, each freed once copied: the build holds its text (and
        // record starts) about once, not twice (4 MiB less at 100,000).
        let first = parts.next().unwrap_or_else(Part::empty);
        self.text = first.text;
        self.starts = first.starts;
        self.bits = first.bits;
        self.split = first.split;
        for part in parts {
            let base = u32::try_from(self.text.len()).expect("search text under 4 GiB");
            self.text.push_str(&part.text);
            for &end in &part.starts[1..] {
                self.starts
                    .push(base.checked_add(end).expect("search text under 4 GiB"));
            }
            self.bits.extend(part.bits);
            self.split.extend(part.split);
        }
        self.owners.clear();
        self.owners.extend((0..n).map(to_u32));
        self.records.clone_from(&self.owners);
        self.garbage = 0;
        self.lineage = LINEAGES.fetch_add(1, Ordering::Relaxed);
        self.generation = 0;
        self.log.clear();
        self.log_from = 0;
    }

    /// Follows the set's changed slots (from
    /// [`CustomerSet::slots_changed_since`]) instead of rebuilding: each
    /// changed slot is indexed again from `set` as it is now, and slots past
    /// its end are dropped. O(changed slots), plus now and then a
    /// compaction of the arena.
    pub fn follow<'o>(
        &mut self,
        changed: impl Iterator<Item = u32>,
        set: &CustomerSet,
        owner: impl Fn(&str) -> Option<&'o str>,
    ) {
        let entries = set.by_slot();
        let next = self.generation + 1;
        let before = self.log.len();
        let mut changed: Vec<u32> = changed.filter(|&s| (s as usize) < entries.len()).collect();
        changed.sort_unstable();
        changed.dedup();
        for &slot in &changed {
            self.index_slot(slot, &entries[slot as usize], &owner);
            self.log.push((next, slot));
        }
        let shrunk = self.records.len() > entries.len();
        self.truncate(entries.len());
        if self.log.len() == before && !shrunk {
            return;
        }
        self.generation = next;
        self.trim_log();
        if self.garbage > self.text.len() / 2 && self.garbage > COMPACT_FROM {
            self.compact();
        }
    }

    /// The slots indexed again since `generation` of this index (a slot at
    /// or past [`len`](Self::len) has left), or `None` when they are not
    /// all known: then scan again.
    pub(super) fn changed_since(&self, seen: Seen) -> Option<impl Iterator<Item = u32> + '_> {
        let known = seen.lineage == self.lineage
            && self.log_from <= seen.generation
            && seen.generation <= self.generation;
        known.then(|| {
            self.log
                .iter()
                .filter(move |&&(g, _)| g > seen.generation)
                .map(|&(_, slot)| slot)
        })
    }

    /// What a filter computed from this index now, on `set`, has seen.
    pub(super) fn seen(&self, set: &CustomerSet) -> Seen {
        Seen {
            lineage: self.lineage,
            generation: self.generation,
            set_version: set.version(),
        }
    }

    /// Keeps the log to its cap: only the last generation's slots once it
    /// grows past that, and nothing (filters behind then scan again) if
    /// even those are too many.
    fn trim_log(&mut self) {
        let cap = LOG_MAX.max(self.len() / 4);
        if self.log.len() > cap {
            let last = self.generation;
            self.log.retain(|&(g, _)| g == last);
            self.log_from = last - 1;
            if self.log.len() > cap {
                self.log.clear();
                self.log_from = last;
            }
        }
    }

    /// Indexes `entry` at `slot` (at most one past the last slot).
    fn index_slot<'o>(
        &mut self,
        slot: u32,
        entry: &Entry,
        owner: &impl Fn(&str) -> Option<&'o str>,
    ) {
        let s = slot as usize;
        if let Some(&old) = self.records.get(s) {
            self.kill(old);
        }
        let mark = self.text.len();
        let fields = fold_entry(entry, owner, &mut self.text);
        let record = to_u32(self.owners.len());
        self.owners.push(slot);
        self.starts
            .push(u32::try_from(self.text.len()).expect("search text under 4 GiB"));
        let bits = if fields.is_some() {
            u64::MAX
        } else {
            byte_bits(&self.text[mark..])
        };
        if s < self.records.len() {
            self.records[s] = record;
            self.bits[s] = bits;
        } else {
            debug_assert_eq!(s, self.records.len(), "slots are indexed in order");
            self.records.push(record);
            self.bits.push(bits);
        }
        let at = self.split.partition_point(|(p, _)| *p < slot);
        let present = self.split.get(at).is_some_and(|(p, _)| *p == slot);
        match (fields, present) {
            (Some(fields), true) => self.split[at].1 = fields,
            (Some(fields), false) => self.split.insert(at, (slot, fields)),
            (None, true) => {
                self.split.remove(at);
            }
            (None, false) => {}
        }
    }

    /// Makes `record` garbage.
    fn kill(&mut self, record: u32) {
        let r = record as usize;
        self.owners[r] = DEAD;
        self.garbage += (self.starts[r + 1] - self.starts[r]) as usize;
    }

    /// Drops the slots from `len` on.
    fn truncate(&mut self, len: usize) {
        while self.records.len() > len {
            if let Some(record) = self.records.pop() {
                self.kill(record);
            }
        }
        self.bits.truncate(len);
        let keep = self.split.partition_point(|(p, _)| (*p as usize) < len);
        self.split.truncate(keep);
    }

    /// Copies the live records into a new arena, in slot order.
    fn compact(&mut self) {
        let mut text = String::with_capacity(self.text.len() - self.garbage);
        let mut starts = Vec::with_capacity(self.records.len() + 1);
        starts.push(0);
        for &record in &self.records {
            text.push_str(self.record_text(record));
            starts.push(to_u32(text.len()));
        }
        self.text = text;
        self.starts = starts;
        self.owners.clear();
        self.owners.extend((0..self.records.len()).map(to_u32));
        self.records.clone_from(&self.owners);
        self.garbage = 0;
    }

    /// The number of customers indexed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when no customer is indexed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Marks the slot of every customer that matches in `hits` (one bit per
    /// slot, as many words as [`len`](Self::len) needs). No allocation.
    pub(super) fn scan(&self, needle: &Needle, hits: &mut [u64]) {
        let n = to_u32(self.len());
        let Needle::Text {
            text,
            crosses: false,
            ..
        } = needle
        else {
            for slot in (0..n).filter(|&s| self.matches_slot(s, needle)) {
                set_bit(hits, slot);
            }
            return;
        };
        // Search runs of records as one text (each field ends with `SEP`,
        // which the needle lacks, so a hit never spans two), and test them
        // one by one only in a run with a hit: a selective query then costs
        // one long SIMD search. A split customer's record is empty, so
        // those are tested apart.
        let records = self.owners.len();
        for first in (0..records).step_by(SCAN_RUN) {
            let end = records.min(first + SCAN_RUN);
            let run = &self.text[self.starts[first] as usize..self.starts[end] as usize];
            if run.contains(text.as_str()) {
                for &slot in &self.owners[first..end] {
                    if slot != DEAD && self.matches_slot(slot, needle) {
                        set_bit(hits, slot);
                    }
                }
            }
        }
        for &(slot, _) in &self.split {
            if self.matches_slot(slot, needle) {
                set_bit(hits, slot);
            }
        }
    }

    /// Whether the customer at `slot` matches. No allocation.
    pub(super) fn matches_slot(&self, slot: u32, needle: &Needle) -> bool {
        let wanted = needle.bits();
        if self.bits[slot as usize] & wanted != wanted {
            return false;
        }
        if let Some(fields) = self.split_fields(slot) {
            return fields.iter().any(|field| needle.matches_field(field));
        }
        needle.matches_joined(self.joined(slot))
    }

    /// The lower-cased fields at `slot`, each followed by [`SEP`] (empty
    /// for a split one).
    pub(super) fn joined(&self, slot: u32) -> &str {
        self.record_text(self.records[slot as usize])
    }

    fn record_text(&self, record: u32) -> &str {
        let r = record as usize;
        &self.text[self.starts[r] as usize..self.starts[r + 1] as usize]
    }

    pub(super) fn split_fields(&self, slot: u32) -> Option<&[String]> {
        if self.split.is_empty() {
            return None;
        }
        let found = self.split.binary_search_by_key(&slot, |(p, _)| *p);
        found.ok().map(|i| self.split[i].1.as_slice())
    }

    /// The [`byte_bits`] of `slot`'s text.
    #[cfg(test)]
    pub(super) fn bits_of(&self, slot: u32) -> u64 {
        self.bits[slot as usize]
    }

    /// The best fuzzy score of `needle` over the fields at `slot`.
    pub(super) fn fuzzy_score(
        &self,
        slot: u32,
        needle: &[char],
        scorer: &mut Scorer,
    ) -> Option<i32> {
        let mut best = |fields: &mut dyn Iterator<Item = &str>| {
            fields.filter_map(|f| scorer.score(f, needle, false)).max()
        };
        match self.split_fields(slot) {
            Some(fields) => best(&mut fields.iter().map(String::as_str)),
            None => best(&mut self.joined(slot).split_terminator(SEP)),
        }
    }
}

/// Sets bit `slot` of `bits`.
pub(super) fn set_bit(bits: &mut [u64], slot: u32) {
    bits[slot as usize / 64] |= 1 << (slot % 64);
}

/// Whether bit `slot` of `bits` is set.
pub(super) fn has_bit(bits: &[u64], slot: u32) -> bool {
    bits[slot as usize / 64] & (1 << (slot % 64)) != 0
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

/// The arena is compacted only once its garbage passes this many bytes
/// (and half of it).
const COMPACT_FROM: usize = 64 * 1024;

/// Below this many customers an index is built on one thread.
pub(super) const PARALLEL_FROM: usize = 20_000;
/// The most threads an index is built on.
const MAX_THREADS: usize = 4;

/// The index of one slice of slots, built on its own thread.
pub(super) struct Part {
    pub(super) text: String,
    /// Where each customer's text starts, relative to this part's start,
    /// then where the last one ends.
    pub(super) starts: Vec<u32>,
    pub(super) bits: Vec<u64>,
    pub(super) split: Vec<(u32, Vec<String>)>,
}

impl Part {
    /// The part of no slots.
    fn empty() -> Part {
        Part {
            text: String::new(),
            starts: vec![0],
            bits: Vec::new(),
            split: Vec::new(),
        }
    }

    pub(super) fn build<'o>(
        entries: &[Entry],
        slots: Range<usize>,
        owner: &impl Fn(&str) -> Option<&'o str>,
    ) -> Part {
        let mut part = Part {
            text: String::new(),
            starts: Vec::with_capacity(slots.len() + 1),
            bits: Vec::with_capacity(slots.len()),
            split: Vec::new(),
        };
        part.starts.push(0);
        for slot in slots {
            let Some(entry) = entries.get(slot) else {
                break;
            };
            let mark = part.text.len();
            match fold_entry(entry, owner, &mut part.text) {
                Some(fields) => {
                    part.bits.push(u64::MAX);
                    part.split.push((to_u32(slot), fields));
                }
                None => part.bits.push(byte_bits(&part.text[mark..])),
            }
            part.starts
                .push(u32::try_from(part.text.len()).expect("search text under 4 GiB"));
        }
        part
    }
}
