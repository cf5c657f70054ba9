//! The customer filter behind `/`: parsing what is typed into a [`Query`],
//! a lower-cased [`SearchIndex`] of the searchable text of every customer,
//! the filtered positions ([`FilterState`]) narrowed keystroke by keystroke,
//! the fuzzy matcher and its ranking, and the [`Highlight`] spans of one
//! visible row ([`matches()`]).
//!
//! What is searched is defined once, by [`for_each_field`]: name, domain
//! (stored and normalised), owner, plan, tags and `#<display_id>`. A customer
//! matches when one of those fields, lower-cased with [`str::to_lowercase`],
//! contains the query (or, for `~` queries, holds its characters in order).
//!
//! Pure logic: no I/O, no async, no UI types, and no drawing decisions (the
//! UI decides how a [`Highlight`] looks).

use std::borrow::Cow;
use std::ops::Range;

use super::customers::{CustomerSet, Entry};

mod index;

pub use index::SearchIndex;
use index::Seen;

/// Separates the fields of one customer in the [`SearchIndex`] text.
/// Sanitised entry text never holds it (control characters become `U+FFFD`).
const SEP: char = '\0';

/// Fuzzy scoring: every matched character scores [`MATCH`], plus
/// [`WORD_START`] at the start of a word and [`CONSECUTIVE`] right after the
/// previous matched character; each character skipped between two matched
/// ones costs 1.
const MATCH: i32 = 16;
const WORD_START: i32 = 8;
const CONSECUTIVE: i32 = 8;
/// "No alignment" in the scoring table; far from overflow either way.
const NONE: i32 = i32::MIN / 2;

/// What the filter line asks for, parsed once per keystroke.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Query {
    /// Nothing typed (or only spaces): every customer.
    #[default]
    Empty,
    /// Case-insensitive substring match; the text is lower-cased.
    Substring(String),
    /// `~text`: the characters of `text` in order within one field,
    /// case-insensitively; the text is lower-cased and may be empty.
    Fuzzy(String),
    /// `#1042`: filters like the substring `#1042` (so `#10` narrows towards
    /// it) and names the customer to jump to ([`FilterState::jump_target`]).
    /// Leading zeros are dropped: `#01042` is `#1042`.
    DisplayId(u64),
}

impl Query {
    /// Parses the filter line: trimmed; `~…` is fuzzy, `#` followed by
    /// digits only is a display id, anything else a substring.
    #[must_use]
    pub fn parse(input: &str) -> Query {
        let text = input.trim();
        if let Some(rest) = text.strip_prefix('~') {
            return Query::Fuzzy(fold(rest.trim()).into_owned());
        }
        if text.is_empty() {
            return Query::Empty;
        }
        if let Some(digits) = text.strip_prefix('#')
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(id) = digits.parse()
        {
            return Query::DisplayId(id);
        }
        Query::Substring(fold(text).into_owned())
    }

    /// The display id a `#1042` query names, which means exactly that
    /// customer once the query is settled (the app's `Enter`, the
    /// commands' `--filter`).
    #[must_use]
    pub fn display_id(&self) -> Option<u64> {
        match self {
            Query::DisplayId(id) => Some(*id),
            _ => None,
        }
    }

    /// Whether `entry` is what a settled query asks for: for `#1042`,
    /// customer 1042 only; for any other query, whether it
    /// [`matches`](matches()).
    #[must_use]
    pub fn settles_on<'o>(&self, entry: &Entry, owner: impl Fn(&str) -> Option<&'o str>) -> bool {
        match self.display_id() {
            Some(id) => entry.display_id == id,
            None => matches(self, entry, owner).is_some(),
        }
    }

    /// The query made ready to test many fields.
    fn needle(&self) -> Needle {
        match self {
            Query::Empty => Needle::All,
            Query::Substring(text) if text.is_empty() => Needle::All,
            Query::Fuzzy(text) if text.is_empty() => Needle::All,
            Query::Substring(text) => Needle::text(text.clone()),
            Query::DisplayId(id) => Needle::text(format!("#{id}")),
            Query::Fuzzy(text) => Needle::Fuzzy {
                chars: text.chars().collect(),
                bits: byte_bits(text),
                ascii: text.is_ascii(),
                crosses: text.contains(SEP),
                text: text.clone(),
            },
        }
    }

    /// True when every customer matching `self` also matches `old`, so that
    /// `self` can be applied to `old`'s result instead of to everyone.
    fn narrows(&self, old: &Query) -> bool {
        match (old.needle(), self.needle()) {
            // Narrowing from everyone is a full scan anyway.
            (Needle::All, _) | (_, Needle::All) => false,
            // A field containing `new` contains everything `new` contains.
            (Needle::Text { text: old, .. }, Needle::Text { text: new, .. }) => new.contains(&*old),
            // ...and holds, in order, the characters of any subsequence of it.
            (
                Needle::Fuzzy { chars, .. },
                Needle::Text { text: new, .. } | Needle::Fuzzy { text: new, .. },
            ) => is_subsequence(&chars, &new),
            (Needle::Text { .. }, Needle::Fuzzy { .. }) => false,
        }
    }
}

/// A [`Query`] as the matcher uses it, built once per scan.
enum Needle {
    All,
    /// `crosses`: the text holds [`SEP`], so it can only match inside a
    /// field that holds it too (never in sanitised text). `bits`: the
    /// [`byte_bits`] of the text, which a customer's must all include.
    Text {
        text: String,
        bits: u64,
        crosses: bool,
    },
    /// `ascii`: the text is ASCII, so bytes can be compared.
    Fuzzy {
        text: String,
        chars: Vec<char>,
        bits: u64,
        ascii: bool,
        crosses: bool,
    },
}

impl Needle {
    fn text(text: String) -> Needle {
        let crosses = text.contains(SEP);
        let bits = byte_bits(&text);
        Needle::Text {
            text,
            bits,
            crosses,
        }
    }

    /// The [`byte_bits`] a customer needs to possibly match.
    fn bits(&self) -> u64 {
        match self {
            Needle::All => 0,
            Needle::Text { bits, .. } | Needle::Fuzzy { bits, .. } => *bits,
        }
    }

    /// Whether one lower-cased field matches.
    fn matches_field(&self, field: &str) -> bool {
        match self {
            Needle::All => true,
            Needle::Text { text, .. } => field.contains(text.as_str()),
            Needle::Fuzzy { chars, .. } => is_subsequence(chars, field),
        }
    }

    /// Whether any of the lower-cased fields in `joined` matches; each field
    /// there ends with [`SEP`] and none holds it. Allocates nothing.
    fn matches_joined(&self, joined: &str) -> bool {
        match self {
            Needle::All => true,
            Needle::Text { crosses: true, .. } | Needle::Fuzzy { crosses: true, .. } => false,
            Needle::Text { text, .. } => joined.contains(text.as_str()),
            Needle::Fuzzy {
                text, chars, ascii, ..
            } => {
                // Skip to the field of the first occurrence of the first
                // character (a `memchr`), then match greedily from there.
                let Some(at) = joined.find(chars[0]) else {
                    return false;
                };
                if chars.len() == 1 {
                    return true;
                }
                let joined = &joined[joined[..at].rfind(SEP).map_or(0, |sep| sep + 1)..];
                if *ascii {
                    // An ASCII byte in UTF-8 is always that character.
                    fuzzy_joined(joined.bytes(), text.as_bytes(), SEP as u8)
                } else {
                    fuzzy_joined(joined.chars(), chars, SEP)
                }
            }
        }
    }
}

/// A 64-bit summary of which bytes occur in `text`, ignoring [`SEP`]:
/// `a`–`z` and `0`–`9` have a bit each, other bytes share the rest. If the
/// bits of a needle are not all in a customer's, it cannot match (for a
/// substring or a fuzzy query alike), so most customers are turned down
/// without reading their text.
fn byte_bits(text: &str) -> u64 {
    text.bytes()
        .filter(|&b| b != SEP as u8)
        .fold(0, |bits, b| bits | 1 << byte_bit(b))
}

fn byte_bit(b: u8) -> u8 {
    match b {
        b'a'..=b'z' => b - b'a',
        b'0'..=b'9' => 26 + (b - b'0'),
        _ => 36 + b % 28,
    }
}

/// True when one of the `sep`-terminated fields of `joined` holds the items
/// of `needle` (non-empty, without `sep`) in order. Greedy, which is exact
/// for "is there an alignment": each item is matched at its earliest place
/// after the previous one, and a field's end starts the needle over.
fn fuzzy_joined<T: Copy + PartialEq>(
    joined: impl Iterator<Item = T>,
    needle: &[T],
    sep: T,
) -> bool {
    let mut next = 0;
    for item in joined {
        if item == sep {
            next = 0;
        } else if item == needle[next] {
            next += 1;
            if next == needle.len() {
                return true;
            }
        }
    }
    false
}

/// True when `needle`'s characters appear in order in `hay`.
fn is_subsequence(needle: &[char], hay: &str) -> bool {
    let mut rest = needle.iter().peekable();
    for c in hay.chars() {
        if rest.next_if_eq(&&c).is_some() && rest.peek().is_none() {
            return true;
        }
    }
    rest.peek().is_none()
}

/// Lower-cases `text` the way matching does: a cheap ASCII pass when it is
/// ASCII (borrowed when already lower-case), [`str::to_lowercase`] otherwise.
fn fold(text: &str) -> Cow<'_, str> {
    if !text.is_ascii() {
        Cow::Owned(text.to_lowercase())
    } else if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// Appends `text`, lower-cased as by [`fold`], to `out`, without
/// allocating (except for text with a capital sigma, whose lower case
/// depends on its neighbours).
fn push_folded(out: &mut String, text: &str) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        out[start..].make_ascii_lowercase();
    } else if text.contains('Σ') {
        out.push_str(&text.to_lowercase());
    } else {
        // Elsewhere `str::to_lowercase` is `char::to_lowercase` char by char.
        out.reserve(text.len());
        for c in text.chars() {
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        }
    }
}

/// Which searchable field a [`Highlight`] is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// The customer's name.
    Name,
    /// The domain as stored ([`Entry::domain`]).
    Domain,
    /// The normalised domain ([`Entry::domain_key`]), searched only when it
    /// differs from the lower-cased stored domain. The list does not show it:
    /// a match here alone (`xn--bcher` for `Bücher.de`) may highlight the
    /// whole domain cell.
    DomainKey,
    /// The owner as the list shows it (see [`for_each_field`]).
    Owner,
    /// The plan's name.
    Plan,
    /// The tag at this index of [`Entry::tags`].
    Tag(usize),
    /// The text `#<display_id>`, `#` included.
    DisplayId,
}

/// One highlighted run of a field: `start..end` are byte offsets into that
/// field's displayed text, always on character boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Highlight {
    /// The field the run is in.
    pub field: FieldKind,
    /// The first byte of the run.
    pub start: usize,
    /// The byte after the run.
    pub end: usize,
}

/// Calls `visit` with every searchable field of `entry`, in display order:
/// name, domain, normalised domain (when it differs from the lower-cased
/// domain), owner, plan, each tag, and `#<display_id>`. `owner` is the
/// owner's text as the list shows it; [`owner_text`] gives the usual one.
/// Allocates nothing. This is the one definition of what the filter searches.
pub fn for_each_field(entry: &Entry, owner: Option<&str>, mut visit: impl FnMut(FieldKind, &str)) {
    visit(FieldKind::Name, &entry.name);
    if let Some(domain) = &entry.domain {
        visit(FieldKind::Domain, domain);
    }
    if let Some(key) = entry.domain_key()
        && !entry.domain.as_deref().is_some_and(|d| folds_to(d, key))
    {
        visit(FieldKind::DomainKey, key);
    }
    if let Some(owner) = owner {
        visit(FieldKind::Owner, owner);
    }
    if let Some(plan) = &entry.plan {
        visit(FieldKind::Plan, plan);
    }
    for (i, tag) in entry.tags.iter().enumerate() {
        visit(FieldKind::Tag(i), tag);
    }
    let mut buf = [0; 21];
    visit(FieldKind::DisplayId, id_text(entry.display_id, &mut buf));
}

/// The owner of `entry` as the list shows it: `lookup(owner_id)` (a name, or
/// `me`), falling back to the id itself; `None` without an owner.
pub fn owner_text<'a, 'o: 'a>(
    entry: &'a Entry,
    lookup: &impl Fn(&str) -> Option<&'o str>,
) -> Option<&'a str> {
    let id = entry.owner_id.as_deref()?;
    Some(lookup(id).unwrap_or(id))
}

/// True when `text` lower-cases to exactly `key` (checked for ASCII text
/// only; other text is treated as different, which merely searches both).
fn folds_to(text: &str, key: &str) -> bool {
    text.is_ascii()
        && text.len() == key.len()
        && text
            .bytes()
            .zip(key.bytes())
            .all(|(t, k)| t.to_ascii_lowercase() == k)
}

/// `#<id>` written into `buf`, without allocating.
fn id_text(id: u64, buf: &mut [u8; 21]) -> &str {
    let mut start = buf.len();
    let mut rest = id;
    loop {
        start -= 1;
        buf[start] = b"0123456789"[(rest % 10) as usize];
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    start -= 1;
    buf[start] = b'#';
    std::str::from_utf8(&buf[start..]).expect("ASCII digits")
}

/// Whether `entry` matches `query`, and if so where: every matched run of
/// every field, in field order (`Some(vec![])` for an empty query). `owner`
/// maps an owner id to its display name, as for [`SearchIndex::build`].
///
/// Works from the entry itself, so it allocates: meant for the rows on
/// screen, not for filtering (that is [`FilterState::refine`]). A substring
/// marks every non-overlapping occurrence; a fuzzy query marks the
/// characters of the best-scoring alignment in each field that matches,
/// adjacent ones merged into one run.
#[must_use]
pub fn matches<'o>(
    query: &Query,
    entry: &Entry,
    owner: impl Fn(&str) -> Option<&'o str>,
) -> Option<Vec<Highlight>> {
    let needle = query.needle();
    if matches!(needle, Needle::All) {
        return Some(Vec::new());
    }
    let mut found = false;
    let mut spans = Vec::new();
    let mut scorer = Scorer::default();
    for_each_field(entry, owner_text(entry, &owner), |field, text| {
        let folded = Folded::new(text);
        if !needle.matches_field(&folded.lower) {
            return;
        }
        found = true;
        let mut push = |lower: Range<usize>| {
            let Range { start, end } = folded.origin(lower);
            match spans.last_mut() {
                Some(Highlight {
                    field: f,
                    end: last,
                    ..
                }) if *f == field && start <= *last => {
                    *last = (*last).max(end);
                }
                _ => spans.push(Highlight { field, start, end }),
            }
        };
        match &needle {
            Needle::All => {}
            Needle::Text { text, .. } => {
                for (at, hit) in folded.lower.match_indices(text.as_str()) {
                    push(at..at + hit.len());
                }
            }
            Needle::Fuzzy { chars, .. } => {
                scorer.score(&folded.lower, chars, true);
                let mut starts = folded.lower.char_indices();
                let mut seen = 0;
                for &index in &scorer.path {
                    if let Some((at, c)) = starts.nth(index - seen) {
                        push(at..at + c.len_utf8());
                    }
                    seen = index + 1;
                }
            }
        }
    });
    found.then_some(spans)
}

/// A field lower-cased as the matcher sees it, with a way back from its
/// bytes to the displayed text.
struct Folded<'a> {
    text: &'a str,
    lower: String,
    /// For each byte of `lower`, the byte range of the displayed character
    /// it came from; empty when the mapping is the identity (ASCII).
    from: Vec<Range<usize>>,
}

impl<'a> Folded<'a> {
    fn new(text: &'a str) -> Self {
        let lower = fold(text).into_owned();
        let mut from = Vec::new();
        if !text.is_ascii() {
            // `str::to_lowercase` maps each character as `char::to_lowercase`
            // does (only Σ depends on context, and σ and ς are both 2 bytes),
            // so the lengths line up character by character.
            for (start, c) in text.char_indices() {
                let len = c.to_lowercase().map(char::len_utf8).sum();
                from.extend(std::iter::repeat_n(start..start + c.len_utf8(), len));
            }
        }
        Folded { text, lower, from }
    }

    /// The displayed byte range of the characters behind `lower` (a
    /// non-empty range of `self.lower` on character boundaries).
    fn origin(&self, lower: Range<usize>) -> Range<usize> {
        if self.text.is_ascii() {
            return lower;
        }
        match (self.from.get(lower.start), self.from.get(lower.end - 1)) {
            (Some(first), Some(last)) => first.start..last.end,
            // Only if the standard library ever changed how it lower-cases.
            _ => 0..self.text.len(),
        }
    }
}

/// The fuzzy scorer, with buffers reused from call to call.
#[derive(Default)]
struct Scorer {
    hay: Vec<char>,
    /// Best score with the previous / current needle character at each index.
    prev: Vec<i32>,
    cur: Vec<i32>,
    /// `from[j * n + i]`: where needle character `j - 1` sits in the best
    /// alignment that puts character `j` at `i` (filled only when tracing).
    from: Vec<u32>,
    /// The matched character indexes of the last traced alignment.
    path: Vec<usize>,
}

impl Scorer {
    /// The best score of `needle` (non-empty) in the lower-cased `field`, or
    /// `None` when it is not a subsequence. With `trace`, `self.path` holds
    /// the matched character indexes afterwards. O(len(field) × len(needle)).
    fn score(&mut self, field: &str, needle: &[char], trace: bool) -> Option<i32> {
        self.path.clear();
        if needle.is_empty() || !is_subsequence(needle, field) {
            return None;
        }
        self.hay.clear();
        self.hay.extend(field.chars());
        let (hay, n, m) = (&self.hay, self.hay.len(), needle.len());
        let bonus = |i: usize| {
            let start = i == 0 || !hay[i - 1].is_alphanumeric();
            MATCH + if start { WORD_START } else { 0 }
        };
        self.prev.clear();
        self.prev
            .extend((0..n).map(|i| if hay[i] == needle[0] { bonus(i) } else { NONE }));
        if trace {
            self.from.clear();
            self.from.resize(n * m, 0);
        }
        for (j, &want) in needle.iter().enumerate().skip(1) {
            self.cur.clear();
            self.cur.resize(n, NONE);
            // max over k ≤ i - 2 of prev[k] + k (a gap of i - k - 1 chars).
            let (mut gap, mut gap_at) = (NONE, 0);
            for (i, &c) in hay.iter().enumerate().skip(j) {
                if let Some(k) = i.checked_sub(2)
                    && self.prev[k] > NONE
                    && self.prev[k] + to_i32(k) > gap
                {
                    (gap, gap_at) = (self.prev[k] + to_i32(k), k);
                }
                if c != want {
                    continue;
                }
                let run = if self.prev[i - 1] > NONE {
                    self.prev[i - 1] + CONSECUTIVE
                } else {
                    NONE
                };
                let jump = if gap > NONE {
                    gap - to_i32(i - 1)
                } else {
                    NONE
                };
                let (best, at) = if run >= jump {
                    (run, i - 1)
                } else {
                    (jump, gap_at)
                };
                if best > NONE {
                    self.cur[i] = best + bonus(i);
                    if trace {
                        self.from[j * n + i] = u32::try_from(at).unwrap_or(u32::MAX);
                    }
                }
            }
            std::mem::swap(&mut self.prev, &mut self.cur);
        }
        let (mut at, &best) = self
            .prev
            .iter()
            .enumerate()
            .max_by_key(|&(i, score)| (score, std::cmp::Reverse(i)))?;
        if trace {
            self.path.resize(m, 0);
            for j in (0..m).rev() {
                self.path[j] = at;
                at = self.from[j * n + at] as usize;
            }
        }
        (best > NONE).then_some(best)
    }
}

/// A character index as a score term (fields are far shorter than 2^31).
fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX / 4)
}

/// Fuzzy matches are ranked best first up to this many; beyond that (one
/// or two characters typed) ranking means little and costs tens of ms at
/// 100,000 customers, so they stay in list order.
pub const RANK_MAX: usize = 10_000;

/// How many earlier results a [`FilterState`] keeps for backspace.
const HISTORY: usize = 32;

/// A count below 2^32 as a `u32`.
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 customers")
}

/// What a [`FilterState::refine`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scan {
    /// Same query, same index and set: nothing to do.
    Unchanged,
    /// Same query; tested again only the customers the set changed since.
    Followed,
    /// Tested only the previous result (the new query can only match fewer).
    Narrowed,
    /// Tested every customer.
    Full,
    /// Took back the result of a query typed earlier (backspace).
    Restored,
}

/// The filtered view: the query and the customers that match it, as their
/// positions in [`CustomerSet`] display order (ascending) and their slots.
///
/// Kept by slot underneath, so that when the set changes only the
/// customers whose slot changed are tested again (a page of a sync, an
/// archive), and a new sort only walks the order once.
/// A narrower query tests the current matches one by one while they are
/// at most this share of the set (1 in 4), and scans the whole index in
/// order when they are more.
const NARROW_SHARE: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct FilterState {
    query: Query,
    /// The matches' set positions, ascending.
    positions: Vec<u32>,
    /// The matches' slots, in the same order as `positions`.
    slots: Vec<u32>,
    /// How many customers the index held at the last scan.
    total: usize,
    /// The index and set the result was computed from.
    seen: Option<Seen>,
    /// The results this one was narrowed from, oldest first, so that
    /// backspace restores them instead of scanning: at most [`HISTORY`],
    /// each a subset of the one before (so a few MB at 100,000 customers at
    /// worst, usually far less). Cleared by every full scan, and when the
    /// set changes.
    history: Vec<(Query, Vec<u32>, Vec<u32>)>,
}

impl FilterState {
    /// Applies `query` to `set` through its `index` (which must have
    /// followed the set to now).
    ///
    /// First catches up with the set: when the index has followed changes
    /// since the last call, only the changed slots are tested again, and a
    /// new order is walked once. Then narrows from the current result when
    /// every match of `query` must be among them (a substring that contains
    /// the previous one, a fuzzy query that holds the previous one in
    /// order), else tests every customer. Going back to a query typed
    /// before (backspace) restores its result.
    ///
    /// Allocation-free per customer; a 64-bit summary of each customer's
    /// bytes turns most of them down without reading their text. Measured at
    /// 100,000 customers (release build, see `typing_latency_at_100k`): a
    /// full scan takes 1–5 ms (the most for one common character, which
    /// matches nearly everyone), a fuzzy one 5–10 ms, narrowing from
    /// microseconds to a few ms, a restore under 0.1 ms, catching up with
    /// a page of 1,000 new customers well under a millisecond.
    pub fn refine(&mut self, query: Query, index: &SearchIndex, set: &CustomerSet) -> Scan {
        debug_assert_eq!(index.len(), set.len(), "the index follows the set");
        let caught_up = self.catch_up(index, set);
        if caught_up.is_some() && query == self.query {
            return if caught_up == Some(true) {
                Scan::Followed
            } else {
                Scan::Unchanged
            };
        }
        let earlier = self.history.iter().rposition(|(q, _, _)| *q == query);
        let scan = if let (Some(_), Some(at)) = (caught_up, earlier) {
            self.history.truncate(at + 1);
            let (_, positions, slots) = self.history.pop().expect("truncated to at + 1");
            self.positions = positions;
            self.slots = slots;
            Scan::Restored
        } else if caught_up.is_some() && query.narrows(&self.query) {
            let needle = query.needle();
            let old_positions = std::mem::take(&mut self.positions);
            let old_slots = std::mem::take(&mut self.slots);
            if old_slots.len() > set.len() / NARROW_SHARE {
                // Most customers still match (one common letter typed):
                // testing them one by one in display order reads the index
                // out of order, which costs more than scanning it all in
                // order (measured: 8.6 against 4.5 ms at 100,000).
                let mut hits = vec![0; set.len().div_ceil(64)];
                index.scan(&needle, &mut hits);
                self.walk(&hits, set);
            } else {
                for (&p, &s) in old_positions.iter().zip(&old_slots) {
                    if index.matches_slot(s, &needle) {
                        self.positions.push(p);
                        self.slots.push(s);
                    }
                }
            }
            if self.history.len() == HISTORY {
                self.history.remove(0);
            }
            let old_query = std::mem::take(&mut self.query);
            self.history.push((old_query, old_positions, old_slots));
            Scan::Narrowed
        } else {
            self.history.clear();
            let mut hits = vec![0; set.len().div_ceil(64)];
            match query.needle() {
                Needle::All => hits.iter_mut().for_each(|w| *w = u64::MAX),
                needle => index.scan(&needle, &mut hits),
            }
            self.walk(&hits, set);
            Scan::Full
        };
        self.query = query;
        self.total = index.len();
        self.seen = Some(index.seen(set));
        scan
    }

    /// Brings the result up to date with `index` and `set` for the current
    /// query: `Some(false)` when it already was, `Some(true)` when it
    /// followed changes, `None` when it cannot (another index, or changes
    /// the index no longer remembers) and must be scanned again.
    fn catch_up(&mut self, index: &SearchIndex, set: &CustomerSet) -> Option<bool> {
        let seen = self.seen?;
        let now = index.seen(set);
        if seen == now {
            return Some(false);
        }
        let changed = index.changed_since(seen)?;
        let n = set.len();
        let mut hits = vec![0; n.div_ceil(64)];
        for &slot in self.slots.iter().filter(|&&s| (s as usize) < n) {
            index::set_bit(&mut hits, slot);
        }
        let needle = self.query.needle();
        for slot in changed.filter(|&s| (s as usize) < n) {
            let word = &mut hits[slot as usize / 64];
            let bit = 1 << (slot % 64);
            if index.matches_slot(slot, &needle) {
                *word |= bit;
            } else {
                *word &= !bit;
            }
        }
        self.walk(&hits, set);
        // Earlier results hold positions of an order that is gone.
        self.history.clear();
        self.total = n;
        self.seen = Some(now);
        Some(true)
    }

    /// Lists the slots marked in `hits` in `set`'s display order.
    fn walk(&mut self, hits: &[u64], set: &CustomerSet) {
        self.positions.clear();
        self.slots.clear();
        for (position, &slot) in set.order_slots().iter().enumerate() {
            if index::has_bit(hits, slot) {
                self.positions.push(to_u32(position));
                self.slots.push(slot);
            }
        }
    }

    /// Tests every customer again with the current query.
    pub fn rescan(&mut self, index: &SearchIndex, set: &CustomerSet) {
        self.seen = None;
        let query = std::mem::take(&mut self.query);
        self.refine(query, index, set);
    }

    /// The query of the last refine.
    #[must_use]
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// How many customers match: the `34` of `34 of 100,000`.
    #[must_use]
    pub fn count(&self) -> usize {
        self.positions.len()
    }

    /// How many customers were searched: the `100,000`.
    #[must_use]
    pub fn total(&self) -> usize {
        self.total
    }

    /// The matches' set positions, ascending.
    #[must_use]
    pub fn positions(&self) -> &[u32] {
        &self.positions
    }

    /// The set position of the `i`-th match (for [`CustomerSet::at`]).
    #[must_use]
    pub fn position(&self, i: usize) -> Option<usize> {
        self.positions.get(i).map(|&p| p as usize)
    }

    /// Where the customer at set `position` is among the matches. O(log n).
    #[must_use]
    pub fn index_of(&self, position: usize) -> Option<usize> {
        let position = u32::try_from(position).ok()?;
        self.positions.binary_search(&position).ok()
    }

    /// For a `#1042` query, the set position of customer 1042 (the first in
    /// display order, should the id repeat); `None` for other queries or an
    /// id nobody has. O(matches): the customer is always among them.
    #[must_use]
    pub fn jump_target(&self, set: &CustomerSet) -> Option<usize> {
        self.exact(set)?.first().map(|&p| p as usize)
    }

    /// For a `#1042` query, the positions of exactly customer 1042 (every
    /// one, in display order, should the id repeat), not #10420 and the
    /// rest that the typed prefix also matches; `None` for other queries.
    /// The rule of the app's `Enter` ([`jump_target`](Self::jump_target))
    /// and of `customers list --filter '#1042'`. O(matches).
    #[must_use]
    pub fn exact(&self, set: &CustomerSet) -> Option<Vec<u32>> {
        let id = self.query.display_id()?;
        Some(
            self.positions
                .iter()
                .copied()
                .filter(|&p| set.at(p as usize).is_some_and(|e| e.display_id == id))
                .collect(),
        )
    }

    /// The order a list shows the matches in: best first for a fuzzy query
    /// with at most [`RANK_MAX`] matches (`Some`), else display order
    /// (`None`: use [`positions`](Self::positions)). The one rule for the
    /// app's list and `customers list --filter`.
    #[must_use]
    pub fn list_order(&self, index: &SearchIndex) -> Option<Vec<usize>> {
        (matches!(self.query, Query::Fuzzy(_)) && self.count() <= RANK_MAX)
            .then(|| self.ranked(index))
    }

    /// The matches' set positions, best first for a fuzzy query (ties, and
    /// every other query, in display order). Computed on demand: O(total
    /// length of the matches' fields × query length).
    #[must_use]
    pub fn ranked(&self, index: &SearchIndex) -> Vec<usize> {
        let Query::Fuzzy(text) = &self.query else {
            return self.positions.iter().map(|&p| p as usize).collect();
        };
        let needle: Vec<char> = text.chars().collect();
        let mut scorer = Scorer::default();
        let mut scored: Vec<(i32, u32)> = self
            .positions
            .iter()
            .zip(&self.slots)
            .map(|(&p, &s)| {
                let score = index.fuzzy_score(s, &needle, &mut scorer);
                (score.unwrap_or(0), p)
            })
            .collect();
        scored.sort_by_key(|&(score, p)| (std::cmp::Reverse(score), p));
        scored.into_iter().map(|(_, p)| p as usize).collect()
    }
}

#[cfg(test)]
mod tests;
