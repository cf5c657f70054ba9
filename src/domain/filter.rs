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
use std::sync::atomic::{AtomicU64, Ordering};

use super::customers::{Change, CustomerSet, Entry};

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
    if let Some(key) = &entry.domain_key
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

/// How many customers [`SearchIndex::scan`] searches as one text.
const SCAN_RUN: usize = 32;

/// How many earlier results a [`FilterState`] keeps for backspace.
const HISTORY: usize = 32;

/// A count below 2^32 as a `u32`.
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 customers")
}

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
    text: String,
    /// `text[starts[p]..starts[p + 1]]` is the customer at position `p`.
    starts: Vec<u32>,
    /// The [`byte_bits`] of each customer's text (all ones for a split one).
    bits: Vec<u64>,
    /// Customers with a field that holds [`SEP`] itself (only an owner name
    /// could, as it does not come from a sanitised entry): their lower-cased
    /// fields, by position, ascending. Their slice of `text` is empty.
    split: Vec<(u32, Vec<String>)>,
    /// Unique to this build, so that a filter can tell it scanned another.
    stamp: u64,
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
        for change in changes {
            match change {
                Change::Removed(position) => self.remove_at(*position),
                Change::Inserted { position, id } => self.insert_at(*position, set.get(id), &owner),
                Change::Replaced { position, id } => {
                    self.remove_at(*position);
                    self.insert_at(*position, set.get(id), &owner);
                }
            }
        }
        self.stamp = STAMPS.fetch_add(1, Ordering::Relaxed);
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
    fn scan(&self, needle: &Needle, out: &mut Vec<u32>) {
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
    fn matches_at(&self, position: u32, needle: &Needle) -> bool {
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
    fn fuzzy_score(&self, position: u32, needle: &[char], scorer: &mut Scorer) -> Option<i32> {
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

/// Below this many customers an index is built on one thread.
const PARALLEL_FROM: usize = 20_000;
/// The most threads an index is built on.
const MAX_THREADS: usize = 4;

/// The index of one slice of positions, built on its own thread.
struct Part {
    text: String,
    /// End of each customer's text, relative to this part's start.
    ends: Vec<u32>,
    bits: Vec<u64>,
    split: Vec<(u32, Vec<String>)>,
}

impl Part {
    fn build<'o>(
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

/// What a [`FilterState::refine`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scan {
    /// Same query, same index: nothing to do.
    Unchanged,
    /// Tested only the previous result (the new query can only match fewer).
    Narrowed,
    /// Tested every customer.
    Full,
    /// Took back the result of a query typed earlier (backspace).
    Restored,
}

/// The filtered view: the query and the positions (in [`CustomerSet`]
/// display order, ascending) of the customers that match it.
#[derive(Debug, Clone, Default)]
pub struct FilterState {
    query: Query,
    positions: Vec<u32>,
    /// How many customers the index held at the last scan.
    total: usize,
    /// The [`SearchIndex::stamp`] `positions` was computed from.
    stamp: Option<u64>,
    /// The results this one was narrowed from, oldest first, so that
    /// backspace restores them instead of scanning: at most [`HISTORY`],
    /// each a subset of the one before (so a few MB at 100,000 customers at
    /// worst, usually far less). Cleared by every full scan.
    history: Vec<(Query, Vec<u32>)>,
}

impl FilterState {
    /// Applies `query`, narrowing from the current result when every match of
    /// `query` must be among them (a substring that contains the previous
    /// one, a fuzzy query that holds the previous one in order), else testing
    /// every customer. Going back to a query typed before (backspace)
    /// restores its result. An index rebuilt since the last call forces a
    /// full scan.
    ///
    /// Allocation-free per customer; a 64-bit summary of each customer's
    /// bytes turns most of them down without reading their text. Measured at
    /// 100,000 customers (release build, see `typing_latency_at_100k`): a
    /// full scan takes 1–5 ms (the most for one common character, which
    /// matches nearly everyone), a fuzzy one 5–10 ms, narrowing from
    /// microseconds to a few ms, a restore under 0.1 ms.
    pub fn refine(&mut self, query: Query, index: &SearchIndex) -> Scan {
        let current = self.stamp == Some(index.stamp);
        if current && query == self.query {
            return Scan::Unchanged;
        }
        let earlier = self.history.iter().rposition(|(q, _)| *q == query);
        let scan = if let (true, Some(at)) = (current, earlier) {
            self.history.truncate(at + 1);
            let (_, positions) = self.history.pop().expect("truncated to at + 1");
            self.positions = positions;
            Scan::Restored
        } else if current && query.narrows(&self.query) {
            let needle = query.needle();
            let narrowed = self
                .positions
                .iter()
                .copied()
                .filter(|&p| index.matches_at(p, &needle))
                .collect();
            let old = std::mem::replace(&mut self.positions, narrowed);
            if self.history.len() == HISTORY {
                self.history.remove(0);
            }
            self.history.push((std::mem::take(&mut self.query), old));
            Scan::Narrowed
        } else {
            self.history.clear();
            self.positions.clear();
            index.scan(&query.needle(), &mut self.positions);
            Scan::Full
        };
        self.query = query;
        self.total = index.len();
        self.stamp = Some(index.stamp);
        scan
    }

    /// Tests every customer again with the current query (for an index
    /// that was rebuilt; [`refine`](Self::refine) does this by itself).
    pub fn rescan(&mut self, index: &SearchIndex) {
        self.stamp = None;
        let query = std::mem::take(&mut self.query);
        self.refine(query, index);
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
        let Query::DisplayId(id) = self.query else {
            return None;
        };
        self.positions
            .iter()
            .map(|&p| p as usize)
            .find(|&p| set.at(p).is_some_and(|e| e.display_id == id))
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
            .map(|&p| {
                let score = index.fuzzy_score(p, &needle, &mut scorer);
                (score.unwrap_or(0), p)
            })
            .collect();
        scored.sort_by_key(|&(score, p)| (std::cmp::Reverse(score), p));
        scored.into_iter().map(|(_, p)| p as usize).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    use time::OffsetDateTime;

    use super::*;
    use crate::api::models::Customer;
    use crate::domain::fixtures::customer;
    use crate::domain::test_rng::Rng;

    fn set_of(customers: impl IntoIterator<Item = Customer>) -> CustomerSet {
        let mut set = CustomerSet::default();
        set.apply(customers);
        set
    }

    /// The team: `usr_1` is Dana Reyes, everyone else unknown.
    fn team(id: &str) -> Option<&'static str> {
        (id == "usr_1").then_some("Dana Reyes")
    }

    /// The display ids that `input` leaves, in display order.
    fn filter(set: &CustomerSet, input: &str) -> Vec<u64> {
        let index = SearchIndex::build(set, team);
        let mut state = FilterState::default();
        state.refine(Query::parse(input), &index);
        (0..state.count())
            .map(|i| set.at(state.position(i).unwrap()).unwrap().display_id)
            .collect()
    }

    fn entry(set: &CustomerSet, display_id: u64) -> &Entry {
        set.iter_ordered()
            .find(|e| e.display_id == display_id)
            .unwrap()
    }

    /// The highlighted text of each span of `entry` for `input`.
    fn highlighted(entry: &Entry, input: &str) -> Vec<(FieldKind, String)> {
        let spans = matches(&Query::parse(input), entry, team).expect("matches");
        let mut texts = HashMap::new();
        let owner = owner_text(entry, &team);
        for_each_field(entry, owner, |kind, text| {
            texts.insert(kind, text.to_owned());
        });
        spans
            .iter()
            .map(|h| {
                let text = &texts[&h.field];
                assert!(h.start < h.end, "{h:?}");
                assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
                (h.field, text[h.start..h.end].to_owned())
            })
            .collect()
    }

    #[test]
    fn parse_tells_the_three_modes_apart() {
        assert_eq!(Query::parse(""), Query::Empty);
        assert_eq!(Query::parse("   "), Query::Empty);
        assert_eq!(
            Query::parse("  Acme Co "),
            Query::Substring("acme co".into())
        );
        assert_eq!(Query::parse("BÜCHER"), Query::Substring("bücher".into()));
        assert_eq!(Query::parse("~ACM"), Query::Fuzzy("acm".into()));
        assert_eq!(Query::parse(" ~ nwl "), Query::Fuzzy("nwl".into()));
        assert_eq!(Query::parse("~"), Query::Fuzzy(String::new()));
        assert_eq!(Query::parse("#1042"), Query::DisplayId(1042));
        assert_eq!(Query::parse("#01042"), Query::DisplayId(1042));
        assert_eq!(Query::parse("#"), Query::Substring("#".into()));
        assert_eq!(Query::parse("#10a"), Query::Substring("#10a".into()));
        assert_eq!(Query::parse("#-1"), Query::Substring("#-1".into()));
        let too_big = "#99999999999999999999999";
        assert_eq!(Query::parse(too_big), Query::Substring(too_big.into()));
    }

    #[test]
    fn substring_searches_every_field_kind() {
        let set = set_of([
            customer(1, "Acme Corporation", Some("www.Acme.com")),
            Customer {
                owner_id: Some("usr_1".into()),
                plan: Some("Enterprise".into()),
                tags: vec!["vip".into(), "Beta-Tester".into()],
                ..customer(2, "Globex", Some("globex.io"))
            },
            Customer {
                owner_id: Some("usr_404".into()),
                ..customer(3, "Initech", Some("https://Bücher.de/"))
            },
        ]);
        assert_eq!(filter(&set, "CORP"), [1]);
        assert_eq!(filter(&set, "acme.com"), [1], "stored www.Acme.com");
        assert_eq!(filter(&set, "xn--bcher"), [3], "normalised domain only");
        assert_eq!(filter(&set, "bücher.de"), [3]);
        assert_eq!(filter(&set, "dana"), [2], "owner name");
        assert_eq!(filter(&set, "usr_404"), [3], "unknown owner: its id");
        assert_eq!(filter(&set, "usr_1"), Vec::<u64>::new(), "known: its name");
        assert_eq!(filter(&set, "enterp"), [2], "plan");
        assert_eq!(filter(&set, "beta-t"), [2], "tag");
        assert_eq!(filter(&set, "#3"), [3], "display id");
        assert_eq!(filter(&set, "e"), [1, 2, 3]);
        assert_eq!(filter(&set, ""), [1, 2, 3]);
        assert_eq!(filter(&set, "e\u{0}n"), Vec::<u64>::new(), "no field spans");

        let globex = entry(&set, 2);
        assert_eq!(
            highlighted(globex, "dana"),
            [(FieldKind::Owner, "Dana".into())]
        );
        assert_eq!(
            highlighted(globex, "TESTER"),
            [(FieldKind::Tag(1), "Tester".into())]
        );
        assert_eq!(
            highlighted(globex, "PRISE"),
            [(FieldKind::Plan, "prise".into())]
        );
        assert_eq!(
            highlighted(globex, "#2"),
            [(FieldKind::DisplayId, "#2".into())]
        );
        let initech = entry(&set, 3);
        assert_eq!(
            highlighted(initech, "bcher"),
            [(FieldKind::DomainKey, "bcher".into())]
        );
        let acme = entry(&set, 1);
        assert_eq!(
            highlighted(acme, "acme"),
            [
                (FieldKind::Name, "Acme".into()),
                (FieldKind::Domain, "Acme".into()),
                (FieldKind::DomainKey, "acme".into())
            ],
            "the key acme.com differs from www.acme.com, so both are searched"
        );
        assert_eq!(
            highlighted(globex, "GLOBEX"),
            [
                (FieldKind::Name, "Globex".into()),
                (FieldKind::Domain, "globex".into())
            ],
            "a key equal to the lower-cased domain is not searched twice"
        );
    }

    #[test]
    fn substring_highlights_every_occurrence() {
        let set = set_of([customer(1, "Banana Band", None)]);
        let spans = matches(&Query::parse("AN"), entry(&set, 1), team).unwrap();
        let ranges: Vec<(usize, usize)> = spans.iter().map(|h| (h.start, h.end)).collect();
        assert_eq!(
            ranges,
            [(1, 5), (8, 10)],
            "adjacent occurrences form one run"
        );
        assert!(spans.iter().all(|h| h.field == FieldKind::Name));
        assert_eq!(matches(&Query::parse("zz"), entry(&set, 1), team), None);
        assert_eq!(matches(&Query::Empty, entry(&set, 1), team), Some(vec![]));
    }

    #[test]
    fn highlights_of_non_ascii_text_never_split_a_character() {
        let set = set_of([
            customer(1, "Bücher GmbH", None),
            customer(2, "株式会社ヤマダ", None),
            // İ lower-cases to two characters (i + U+0307), the Kelvin sign
            // to a one-byte k: the lower-cased text has other offsets.
            customer(3, "İstanbul \u{212A}elvin", None),
            customer(4, "ΟΔΟΣ Σοφίας", None),
        ]);
        let name = |id, input| highlighted(entry(&set, id), input);
        let range = |id, input| {
            let spans = matches(&Query::parse(input), entry(&set, id), team).unwrap();
            spans.iter().map(|h| (h.start, h.end)).collect::<Vec<_>>()
        };
        assert_eq!(name(1, "BÜCH"), [(FieldKind::Name, "Büch".into())]);
        assert_eq!(range(1, "ü"), [(1, 3)]);
        assert_eq!(range(1, "cher"), [(3, 7)]);
        assert_eq!(range(2, "会社"), [(6, 12)]);
        assert_eq!(name(2, "会社"), [(FieldKind::Name, "会社".into())]);
        assert_eq!(name(3, "stan"), [(FieldKind::Name, "stan".into())]);
        assert_eq!(range(3, "stan"), [(2, 6)]);
        assert_eq!(
            name(3, "i"),
            [(FieldKind::Name, "İ".into()), (FieldKind::Name, "i".into())],
            "the i of i + U+0307 is the whole İ"
        );
        assert_eq!(name(3, "KELV"), [(FieldKind::Name, "\u{212A}elv".into())]);
        assert_eq!(
            name(4, "οδος"),
            [(FieldKind::Name, "ΟΔΟΣ".into())],
            "final ς"
        );
        assert_eq!(
            filter(&set, "οδοσ"),
            Vec::<u64>::new(),
            "as to_lowercase does"
        );
        assert_eq!(name(4, "σοφ"), [(FieldKind::Name, "Σοφ".into())]);
        assert_eq!(
            name(1, "~bcr"),
            [
                (FieldKind::Name, "B".into()),
                (FieldKind::Name, "c".into()),
                (FieldKind::Name, "r".into())
            ]
        );
        assert_eq!(
            name(2, "~株会ダ"),
            [
                (FieldKind::Name, "株".into()),
                (FieldKind::Name, "会".into()),
                (FieldKind::Name, "ダ".into())
            ]
        );
    }

    #[test]
    fn fuzzy_finds_characters_in_order_within_one_field() {
        let set = set_of([
            customer(1, "ACME Co.", None),
            customer(2, "Acme Corporation", None),
            customer(3, "Globex", Some("acm.example")),
            customer(4, "Globex Two", None),
            customer(5, "a Cool Mango", None),
            customer(6, "Ac", Some("me.com")),
        ]);
        assert_eq!(filter(&set, "~acm"), [5, 1, 2, 3], "display order");
        assert_eq!(filter(&set, "~ACM"), [5, 1, 2, 3]);
        assert!(!filter(&set, "~acm").contains(&4));
        assert!(
            !filter(&set, "~acm").contains(&6),
            "not across name and domain"
        );
        assert_eq!(filter(&set, "~"), [5, 6, 1, 2, 3, 4]);
        assert_eq!(filter(&set, "~xyz"), Vec::<u64>::new());

        let index = SearchIndex::build(&set, team);
        let mut state = FilterState::default();
        state.refine(Query::parse("~acm"), &index);
        let ranked: Vec<u64> = state
            .ranked(&index)
            .into_iter()
            .map(|p| set.at(p).unwrap().display_id)
            .collect();
        assert_eq!(
            ranked,
            [1, 2, 3, 5],
            "a prefix run beats scattered word starts"
        );

        assert_eq!(
            highlighted(entry(&set, 1), "~acm"),
            [(FieldKind::Name, "ACM".into())],
            "adjacent matched characters form one run"
        );
        assert_eq!(
            highlighted(entry(&set, 5), "~acm"),
            [
                (FieldKind::Name, "a".into()),
                (FieldKind::Name, "C".into()),
                (FieldKind::Name, "M".into())
            ],
            "word starts, not the first c and m"
        );
    }

    #[test]
    fn fuzzy_alignment_prefers_runs_and_word_starts() {
        let mut scorer = Scorer::default();
        let mut path = |hay: &str, needle: &str| {
            let needle: Vec<char> = needle.chars().collect();
            scorer
                .score(hay, &needle, true)
                .map(|_| scorer.path.clone())
        };
        assert_eq!(path("northwind traders", "nwt"), Some(vec![0, 5, 10]));
        assert_eq!(path("banana bread", "bre"), Some(vec![7, 8, 9]));
        assert_eq!(path("abc", "abcd"), None);
        assert_eq!(path("xaxbab", "ab"), Some(vec![4, 5]));
    }

    #[test]
    fn display_id_query_narrows_and_names_the_jump_target() {
        let set = set_of([
            customer(1042, "Zeta", None),
            customer(10420, "Alpha", None),
            customer(104, "Beta", None),
            customer(7, "Order #1042 follow-up", None),
        ]);
        let index = SearchIndex::build(&set, team);
        let mut state = FilterState::default();
        assert_eq!(state.refine(Query::parse("#10"), &index), Scan::Full);
        assert_eq!(state.count(), 4, "1042, 10420, 104 and the name");
        assert_eq!(state.jump_target(&set), None, "#10 is a substring query");
        assert_eq!(state.refine(Query::parse("#104"), &index), Scan::Narrowed);
        assert_eq!(state.jump_target(&set), set.position_of("cus_104"));
        assert_eq!(state.refine(Query::parse("#1042"), &index), Scan::Narrowed);
        assert_eq!(state.count(), 3, "1042, 10420 and the name");
        let target = state.jump_target(&set).unwrap();
        assert_eq!(set.at(target).unwrap().display_id, 1042);
        assert!(state.index_of(target).is_some(), "the target is listed");
        state.refine(Query::parse("#99"), &index);
        assert_eq!((state.count(), state.jump_target(&set)), (0, None));
    }

    #[test]
    fn narrowing_gives_the_same_result_as_a_full_rescan() {
        let names = [
            "Acme",
            "ACME Co.",
            "Acme Corp",
            "Bacme",
            "acmeacme",
            "Globex",
            "Acne",
            "Macmed",
        ];
        let set = set_of(
            names
                .iter()
                .zip(1..)
                .map(|(name, id)| customer(id, name, None)),
        );
        let index = SearchIndex::build(&set, team);
        let fresh = |input: &str| {
            let mut state = FilterState::default();
            assert_eq!(state.refine(Query::parse(input), &index), Scan::Full);
            state.positions
        };
        let steps = [
            ("a", Scan::Full),
            ("ac", Scan::Narrowed),
            ("acm", Scan::Narrowed),
            ("acm", Scan::Unchanged),
            ("acm ", Scan::Unchanged),
            ("acme", Scan::Narrowed),
            ("bacme", Scan::Narrowed),
            ("acme", Scan::Restored),
            ("ac", Scan::Restored),
            ("acm", Scan::Narrowed),
            ("cm", Scan::Full),
            ("~acme", Scan::Full),
            ("~ace", Scan::Full),
            ("~acme", Scan::Narrowed),
            ("~acmeco", Scan::Narrowed),
            ("acme co", Scan::Narrowed),
            ("", Scan::Full),
            ("~am", Scan::Full),
            ("macme", Scan::Narrowed),
        ];
        let mut state = FilterState::default();
        for (input, scan) in steps {
            assert_eq!(state.refine(Query::parse(input), &index), scan, "{input:?}");
            assert_eq!(state.positions, fresh(input), "{input:?}");
            assert_eq!(state.total(), names.len());
        }
    }

    #[test]
    fn a_rebuilt_index_forces_a_rescan() {
        let mut set = set_of([customer(1, "Acme", None), customer(2, "Hooli", None)]);
        let mut index = SearchIndex::build(&set, team);
        let mut state = FilterState::default();
        state.refine(Query::parse("acme"), &index);
        assert_eq!(state.count(), 1);

        set.apply([customer(3, "Acme Two", None), customer(0, "A first", None)]);
        index.rebuild(&set, team);
        assert_eq!(state.refine(Query::parse("acme"), &index), Scan::Full);
        assert_eq!((state.count(), state.total()), (2, 4));
        assert_eq!(state.position(0), Some(1), "positions follow the new order");

        index.rebuild(&set, team);
        state.rescan(&index);
        assert_eq!(state.refine(Query::parse("acme"), &index), Scan::Unchanged);
    }

    #[test]
    fn an_owner_name_holding_the_separator_stays_one_field() {
        let owners = |id: &str| (id == "usr_x").then_some("Nul\u{0}Owner");
        let set = set_of([
            Customer {
                owner_id: Some("usr_x".into()),
                ..customer(1, "Acme", None)
            },
            customer(2, "Owner", None),
        ]);
        let index = SearchIndex::build(&set, owners);
        assert_eq!(index.split.len(), 1);
        let mut state = FilterState::default();
        for (input, count) in [("l\u{0}o", 1), ("~nwn", 1), ("owner", 2), ("acme", 1)] {
            state.refine(Query::parse(input), &index);
            assert_eq!(state.count(), count, "{input:?}");
        }
    }

    const WORDS: &[&str] = &[
        "Acme",
        "ACME",
        "acme",
        "Northwind",
        "Globex",
        "Initech",
        "Hooli",
        "Umbrella",
        "Stark",
        "Bücher",
        "BÜCHER",
        "株式会社",
        "ヤマダ",
        "İstanbul",
        "ΟΔΟΣ",
        "Σοφία",
        "\u{212A}elvin",
        "Straße",
        "Zoë",
        "Éclair",
        "Co.",
        "Corp",
        "Ltd",
        "GmbH",
        "Labs",
        "Traders",
        "&",
        "a",
    ];
    const DOMAINS: &[&str] = &[
        "acme.com",
        "www.Acme.com",
        "https://ACME.com/x",
        "northwind.io",
        "bücher.de",
        "xn--bcher-kva.de",
        "globex.co.uk",
        "Hooli.COM.",
        "株式会社.jp",
        "stark.dev",
    ];
    const PLANS: &[&str] = &["free", "Growth", "Enterprise", "Pro ΣΤΑΡ"];
    const TAGS: &[&str] = &["vip", "Beta", "churn-risk", "EMEA", "öffentlich", "q3"];
    const OWNERS: &[&str] = &["usr_1", "usr_2", "usr_3", "usr_404"];
    /// Characters that random queries are made of, with spaces and `#`.
    const QUERY_CHARS: &[char] = &[
        'a', 'c', 'm', 'e', 'o', 'n', 'r', 't', 'h', 'w', 'i', 'l', '.', ' ', '#', '1', '0', '4',
        'ü', 'Ü', 'ß', 'S', 'σ', 'ς', 'Σ', 'i', '\u{307}', 'k', 'K', '\u{212A}', '株', '会', 'é',
        'E', '-', '~',
    ];

    fn owner_names(id: &str) -> Option<&'static str> {
        match id {
            "usr_1" => Some("Dana Reyes"),
            "usr_2" => Some("Jürgen Groß"),
            "usr_3" => Some("me"),
            _ => None,
        }
    }

    fn random_customer(rng: &mut Rng, display_id: u64) -> Customer {
        let words = 1 + rng.below(3);
        let name: Vec<&str> = (0..words).map(|_| *rng.pick(WORDS)).collect();
        let separator = if rng.chance(80) { " " } else { "" };
        Customer {
            owner_id: rng.chance(70).then(|| (*rng.pick(OWNERS)).to_owned()),
            plan: rng.chance(60).then(|| (*rng.pick(PLANS)).to_owned()),
            tags: (0..rng.below(3))
                .map(|_| (*rng.pick(TAGS)).to_owned())
                .collect(),
            ..customer(
                display_id,
                &name.join(separator),
                rng.chance(80).then(|| *rng.pick(DOMAINS)),
            )
        }
    }

    /// A query as someone might type it: part of a real field with its case
    /// changed, random characters, `~` with characters of a field in order,
    /// `#` and digits, or blank.
    fn random_query(rng: &mut Rng, fields: &[Vec<String>]) -> String {
        let entry = rng.pick(fields);
        let field: Vec<char> = rng.pick(entry).chars().collect();
        match rng.below(10) {
            0 => " ".repeat(rng.below(2)),
            1..=3 => {
                let start = rng.below(field.len().max(1));
                let len = 1 + rng.below(6);
                let part: String = field.iter().skip(start).take(len).collect();
                match rng.below(3) {
                    0 => part.to_uppercase(),
                    1 => part,
                    _ => part.to_lowercase(),
                }
            }
            4 | 5 => (0..1 + rng.below(4))
                .map(|_| *rng.pick(QUERY_CHARS))
                .collect(),
            6 | 7 => {
                let picked = field.iter().filter(|_| rng.chance(40)).take(5);
                format!("~{}", picked.collect::<String>().to_uppercase())
            }
            _ => format!("#{}", 1 + rng.below(2_500)),
        }
    }

    /// Brute force: `to_lowercase().contains()` (or an in-order character
    /// search for `~`) over every field, one customer at a time.
    fn brute_force(query: &Query, fields: &[Vec<String>]) -> Vec<u32> {
        let id_text = match query {
            Query::DisplayId(id) => format!("#{id}"),
            _ => String::new(),
        };
        let hit = |field: &str| match query {
            Query::Empty => true,
            Query::Substring(text) => field.contains(text.as_str()),
            Query::DisplayId(_) => field.contains(id_text.as_str()),
            Query::Fuzzy(text) => {
                let mut rest = field.chars();
                text.chars().all(|c| rest.any(|f| f == c))
            }
        };
        (0..fields.len())
            .filter(|&p| fields[p].iter().any(|f| hit(f)))
            .map(|p| u32::try_from(p).unwrap())
            .collect()
    }

    #[test]
    fn an_index_built_in_parallel_slices_equals_one_built_in_one_go() {
        let mut rng = Rng(0x5eed_0ba1_1e1d_0003);
        let n = PARALLEL_FROM + 1_234;
        let set = set_of((1..=n as u64).map(|id| random_customer(&mut rng, id)));
        let index = SearchIndex::build(&set, owner_names);
        let whole = Part::build(&set, 0..n, &owner_names);
        assert_eq!(index.text, whole.text);
        assert_eq!(&index.starts[1..], &whole.ends[..]);
        assert_eq!(index.bits, whole.bits);
        assert_eq!(index.split, whole.split);
    }

    #[test]
    fn an_index_that_follows_changes_equals_a_rebuilt_one() {
        let mut rng = Rng(0x5eed_f011_0a11_0002);
        let mut set = set_of((1..=300).map(|id| random_customer(&mut rng, id)));
        let mut index = SearchIndex::build(&set, owner_names);
        let mut version = set.version();
        let (mut followed, mut rebuilt) = (0, 0);
        for round in 0..400u64 {
            // Small batches of new and changed customers, and local removals.
            if rng.chance(30) {
                let id = format!("cus_{}", 1 + rng.below(300 + round as usize));
                set.remove(&id);
            } else {
                let batch: Vec<Customer> = (0..1 + rng.below(4))
                    .map(|_| {
                        let id = 1 + rng.below(320 + round as usize) as u64;
                        let mut c = random_customer(&mut rng, id);
                        c.updated_at = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(round + 1);
                        c
                    })
                    .collect();
                set.apply(batch);
            }
            match set.changes_since(version) {
                Some(changes) => {
                    index.follow(changes, &set, owner_names);
                    followed += 1;
                }
                None => {
                    index.rebuild(&set, owner_names);
                    rebuilt += 1;
                }
            }
            version = set.version();
            let fresh = SearchIndex::build(&set, owner_names);
            assert_eq!(
                (&index.text, &index.starts, &index.bits, &index.split),
                (&fresh.text, &fresh.starts, &fresh.bits, &fresh.split),
                "round {round}"
            );
        }
        assert!(followed > 300, "{followed} followed, {rebuilt} rebuilt");
    }

    #[test]
    fn filtering_matches_a_brute_force_scan() {
        let mut expected = HashMap::new();
        let mut rng = Rng(0x5eed_f11e_7e57_0001);
        let set = set_of((1..=2_000).map(|id| random_customer(&mut rng, id)));
        let index = SearchIndex::build(&set, owner_names);
        let fields: Vec<Vec<String>> = set
            .iter_ordered()
            .map(|entry| {
                let mut fields = Vec::new();
                let owner = owner_text(entry, &owner_names);
                for_each_field(entry, owner, |_, text| fields.push(text.to_lowercase()));
                fields
            })
            .collect();

        let mut state = FilterState::default();
        let mut scans = HashMap::new();
        for round in 0..500 {
            // Typed one character at a time after whatever came before, and
            // sometimes erased again down to a random length.
            let typed = random_query(&mut rng, &fields);
            let mut ends: Vec<usize> = typed
                .char_indices()
                .map(|(i, c)| i + c.len_utf8())
                .collect();
            if rng.chance(30) {
                let keep = rng.below(ends.len().max(1));
                let erased: Vec<usize> = ends.iter().rev().skip(1).copied().collect();
                ends.extend(erased.into_iter().take(ends.len().saturating_sub(1 + keep)));
            }
            ends.extend(typed.is_empty().then_some(0));
            for end in ends {
                let input = &typed[..end];
                let query = Query::parse(input);
                let scan = state.refine(query.clone(), &index);
                *scans.entry(scan).or_insert(0) += 1;
                let expected = expected
                    .entry(query)
                    .or_insert_with_key(|query| brute_force(query, &fields));
                assert_eq!(&state.positions, expected, "round {round}: {input:?}");
            }
            // Highlights agree with the filter, on a sample of rows.
            for position in (0..set.len()).step_by(97) {
                let entry = set.at(position).unwrap();
                let spans = matches(state.query(), entry, owner_names);
                let listed = state.index_of(position).is_some();
                assert_eq!(
                    spans.is_some(),
                    listed,
                    "round {round}: {typed:?} {position}"
                );
                let mut texts = HashMap::new();
                for_each_field(entry, owner_text(entry, &owner_names), |kind, text| {
                    texts.insert(kind, text.to_owned());
                });
                for span in spans.into_iter().flatten() {
                    let text = &texts[&span.field];
                    assert!(span.start < span.end && span.end <= text.len(), "{span:?}");
                    assert!(text.is_char_boundary(span.start), "{text:?} {span:?}");
                    assert!(text.is_char_boundary(span.end), "{text:?} {span:?}");
                }
            }
            if let Query::Fuzzy(_) = state.query() {
                let mut ranked = state.ranked(&index);
                ranked.sort_unstable();
                let positions: Vec<usize> = (0..state.count())
                    .map(|i| state.position(i).unwrap())
                    .collect();
                assert_eq!(ranked, positions, "ranking reorders, never drops");
            }
        }
        let count = |scan| scans.get(&scan).copied().unwrap_or(0);
        assert!(count(Scan::Narrowed) > 500, "{scans:?}");
        assert!(count(Scan::Full) > 200, "{scans:?}");
        assert!(count(Scan::Unchanged) > 10, "{scans:?}");
        assert!(count(Scan::Restored) > 100, "{scans:?}");
    }

    /// Prints per-keystroke filter latency at 100,000 customers. Timings
    /// are read, never asserted. Run with
    /// `cargo test --release --lib domain::filter -- --ignored --nocapture`.
    #[test]
    #[ignore = "benchmark: prints timings"]
    fn typing_latency_at_100k() {
        const N: u64 = 100_000;
        const ROUNDS: usize = 30;
        let mut rng = Rng(0x00be_4c40_0000_0001);
        let started = Instant::now();
        let customers: Vec<Customer> = (1..=N)
            .map(|id| {
                let mut c = random_customer(&mut rng, id);
                // Mostly made-up, distinct names (a few percent use the
                // test words, so `acme` and `northwind` find hundreds), with
                // a domain made from the name, as real data has.
                let word = if rng.chance(5) {
                    (*rng.pick(WORDS)).to_owned()
                } else {
                    made_up_word(&mut rng)
                };
                let suffix = rng.pick(&["Inc", "LLC", "GmbH", "Ltd", "Labs", "Group", "Systems"]);
                c.name = format!("{word} {} {suffix}", made_up_word(&mut rng));
                if c.domain.is_some() {
                    let host: String = word.chars().filter(char::is_ascii_alphanumeric).collect();
                    c.domain = Some(format!("{}{}.com", host.to_lowercase(), rng.below(100)));
                }
                c
            })
            .collect();
        let set = set_of(customers);
        println!(
            "{} customers generated and applied in {:?}",
            set.len(),
            started.elapsed()
        );

        let mut index = SearchIndex::build(&set, owner_names);
        let builds: Vec<Duration> = (0..10)
            .map(|_| {
                let started = Instant::now();
                index.rebuild(&set, owner_names);
                started.elapsed()
            })
            .collect();
        // What a rebuild costs at the least: visiting every field once.
        let reads: Vec<Duration> = (0..10)
            .map(|_| {
                let started = Instant::now();
                let mut bytes = 0;
                for entry in set.iter_ordered() {
                    let owner = owner_text(entry, &owner_names);
                    for_each_field(entry, owner, |_, field| bytes += field.len());
                }
                assert!(bytes > 0);
                started.elapsed()
            })
            .collect();
        println!("reading every field once: {}", percentiles(reads));
        println!(
            "index: {:.1} MB of text; rebuild {}",
            index.text.len() as f64 / 1e6,
            percentiles(builds)
        );

        for typed in ["acme", "northwind", "~nwl", "bücher", "#4242"] {
            let ends: Vec<usize> = typed
                .char_indices()
                .map(|(i, c)| i + c.len_utf8())
                .collect();
            let mut keys = vec![(Vec::new(), 0); ends.len()];
            let (mut erasing, mut pasting) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                let mut state = FilterState::default();
                state.refine(Query::Empty, &index);
                for (key, &end) in keys.iter_mut().zip(&ends) {
                    let started = Instant::now();
                    state.refine(Query::parse(&typed[..end]), &index);
                    key.0.push(started.elapsed());
                    key.1 = state.count();
                }
                for &end in ends.iter().rev().skip(1) {
                    let started = Instant::now();
                    state.refine(Query::parse(&typed[..end]), &index);
                    erasing.push(started.elapsed());
                }
                // The whole query at once (a paste, or an edit in the middle):
                // always a full scan.
                let started = Instant::now();
                FilterState::default().refine(Query::parse(typed), &index);
                pasting.push(started.elapsed());
            }
            let typing: Vec<Duration> = keys.iter().flat_map(|(t, _)| t.clone()).collect();
            println!("{typed:>10}: typing    {}", percentiles(typing));
            let each: Vec<String> = keys
                .into_iter()
                .zip(&ends)
                .map(|((mut times, count), &end)| {
                    times.sort_unstable();
                    let median = times[times.len() / 2];
                    format!("{} {median:.1?} ({count})", &typed[..end])
                })
                .collect();
            println!("{:>10}  each key  {}", "", each.join(" · "));
            println!("{:>10}  backspace {}", "", percentiles(erasing));
            println!("{:>10}  full scan {}", "", percentiles(pasting));
        }

        let mut state = FilterState::default();
        state.refine(Query::parse("~nwl"), &index);
        let started = Instant::now();
        let ranked = state.ranked(&index);
        println!(
            "ranked() of {} fuzzy matches: {:?}",
            ranked.len(),
            started.elapsed()
        );
        let started = Instant::now();
        let visible = ranked
            .iter()
            .take(40)
            .filter_map(|&p| matches(state.query(), set.at(p).unwrap(), owner_names))
            .count();
        println!(
            "highlights of {visible} visible rows: {:?}",
            started.elapsed()
        );
    }

    /// A capitalised word of two or three syllables, like `Dorvexa`.
    fn made_up_word(rng: &mut Rng) -> String {
        const SYLLABLES: &[&str] = &[
            "ka", "lo", "mi", "ne", "ra", "su", "ti", "vo", "ze", "bri", "dor", "fen", "gal",
            "hul", "jor", "kes", "lin", "mar", "nor", "pel", "quin", "ros", "sal", "tor", "vex",
            "wyn", "a", "e", "o",
        ];
        let mut word: String = (0..2 + rng.below(2))
            .map(|_| *rng.pick(SYLLABLES))
            .collect();
        word[..1].make_ascii_uppercase();
        word
    }

    fn percentiles(mut samples: Vec<Duration>) -> String {
        samples.sort_unstable();
        let at = |pct: usize| samples[(samples.len() - 1) * pct / 100];
        format!(
            "p50 {:?} p99 {:?} max {:?} (n={})",
            at(50),
            at(99),
            at(100),
            samples.len()
        )
    }
}
