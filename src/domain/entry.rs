//! A customer as the app shows it ([`Entry`]): every server string
//! sanitised once, the domain's duplicate key and the name's sort key
//! computed once. Made from the API's [`Customer`] or straight from the
//! cache's row ([`Fields`]).
//!
//! Pure data; the set that holds entries (and their order) is
//! `customers`, and the orders themselves are `order`'s.

use std::borrow::Cow;
use std::num::NonZeroU64;

use time::OffsetDateTime;

use super::host::duplicate_key;
use super::intern::{self, FieldList, TagList, Text};
use super::name_key::{self, name_hash};
use super::short::ShortText;
use crate::api::IdempotencyKey;
use crate::api::models::{Customer, NewCustomer, Source};
use crate::text::sanitize;

/// Who a customer is to the app: Pivotal's id, or, for a create still
/// waiting in the outbox, that item's key. The two can never be confused
/// (a server id that happens to look like a key is still an `Id`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum CustomerKey {
    /// The opaque API id, kept verbatim for API calls; never displayed.
    /// Inline (no allocation of its own) for an id of the contract's form.
    Id(ShortText),
    /// A create the server has not confirmed: no id or number yet.
    Pending(IdempotencyKey),
}

/// A [`CustomerKey`], borrowed: what the set looks customers up by, so a
/// lookup by an id at hand (`&str`) allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRef<'a> {
    Id(&'a str),
    Pending(&'a IdempotencyKey),
}

impl CustomerKey {
    /// Pivotal's id, once the server has given one.
    #[must_use]
    pub fn id(&self) -> Option<&str> {
        match self {
            CustomerKey::Id(id) => Some(id),
            CustomerKey::Pending(_) => None,
        }
    }

    #[must_use]
    pub fn as_ref(&self) -> KeyRef<'_> {
        match self {
            CustomerKey::Id(id) => KeyRef::Id(id),
            CustomerKey::Pending(key) => KeyRef::Pending(key),
        }
    }
}

/// Hashes as its [`KeyRef`] does, so that either finds the other in a
/// table.
impl std::hash::Hash for CustomerKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_ref().hash(state);
    }
}

/// A key is an id at hand when it is that confirmed customer's.
impl PartialEq<str> for CustomerKey {
    fn eq(&self, id: &str) -> bool {
        self.id() == Some(id)
    }
}

impl PartialEq<&str> for CustomerKey {
    fn eq(&self, id: &&str) -> bool {
        self.id() == Some(*id)
    }
}

impl PartialEq<String> for CustomerKey {
    fn eq(&self, id: &String) -> bool {
        self.id() == Some(id.as_str())
    }
}

impl PartialEq<ShortText> for CustomerKey {
    fn eq(&self, id: &ShortText) -> bool {
        self.id() == Some(id.as_str())
    }
}

impl PartialEq<CustomerKey> for String {
    fn eq(&self, key: &CustomerKey) -> bool {
        key == self
    }
}

/// The id, or `pending create <key>`: for logs and test messages; the
/// screen never shows either.
impl std::fmt::Display for CustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CustomerKey::Id(id) => f.write_str(id),
            CustomerKey::Pending(key) => write!(f, "pending create {key}"),
        }
    }
}

impl<'a> From<&'a CustomerKey> for KeyRef<'a> {
    fn from(key: &'a CustomerKey) -> Self {
        key.as_ref()
    }
}

/// An id at hand is a confirmed customer's.
impl<'a> From<&'a str> for KeyRef<'a> {
    fn from(id: &'a str) -> Self {
        KeyRef::Id(id)
    }
}

impl<'a> From<&'a &str> for KeyRef<'a> {
    fn from(id: &'a &str) -> Self {
        KeyRef::Id(id)
    }
}

impl<'a> From<&'a String> for KeyRef<'a> {
    fn from(id: &'a String) -> Self {
        KeyRef::Id(id)
    }
}

impl From<String> for CustomerKey {
    fn from(id: String) -> Self {
        CustomerKey::Id(ShortText::from(id))
    }
}

impl From<&str> for CustomerKey {
    fn from(id: &str) -> Self {
        CustomerKey::Id(ShortText::from(id))
    }
}

/// A customer as the app shows it.
///
/// Built only from a [`Customer`], which passes every server string through
/// [`sanitize`] once, so that nothing here can print a control character.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Who it is: its id, or the outbox key of its pending create.
    pub key: CustomerKey,
    /// The number shown to users and used in shared URLs.
    pub display_id: u64,
    /// Kept inline up to 30 bytes, as most company names are.
    pub name: ShortText,
    /// The domain as stored on the server (sanitised, not normalised),
    /// inline when short.
    pub domain: Option<ShortText>,
    /// The duplicate key (see [`Entry::domain_key`]) when it is not the
    /// domain itself.
    other_key: Option<Box<str>>,
    /// Owner, plan, tags and custom fields repeat across customers: each
    /// distinct value (and list) is held once, shared ([`intern`]).
    pub owner_id: Option<Text>,
    pub plan: Option<Text>,
    pub tags: TagList,
    /// Custom fields, sorted by key.
    pub custom_fields: FieldList,
    pub source: Source,
    pub archived: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// A change made in this app that the server has not confirmed yet (a
    /// create or an edit waiting in the outbox).
    pub pending: bool,
    /// The domain is its own duplicate key, as most are (stored already
    /// normalised): the key is then not kept twice.
    key_is_domain: bool,
    /// The name is plain ASCII (most are): it is lower-cased byte by byte
    /// as it is compared (see [`Entry::cmp_sort_key`]).
    ascii_name: bool,
    /// The first eight bytes of the lower-cased name, big-endian: most comparisons end
    /// here, without following the string to another cache line.
    sort_prefix: u64,
    /// The hash of the name's likely-duplicate key (see
    /// [`name_key`](super::name_key)); `None` for a name too short to
    /// match. Eight bytes, not the key: the key is made again only for the
    /// few names that share a hash.
    name_hash: Option<NonZeroU64>,
}

/// The key the list sorts names by, from the name as the server sent it:
/// sanitised (as [`Entry::name`] is), then lower-cased. The local store
/// keeps it beside each row (`customers_v2.sort_key`) so that the first
/// screen can be read from an index; both come from here, so they can
/// never disagree.
#[must_use]
pub fn name_sort_key(raw_name: &str) -> String {
    sanitize(raw_name).to_lowercase()
}

/// The duplicate key of a domain as the server sent it: sanitised (as
/// [`Entry::domain`] is), then [`duplicate_key`]. Kept by the local store
/// beside each row (`customers_v2.domain_key`), from here.
#[must_use]
pub fn domain_key_of(raw_domain: Option<&str>) -> Option<String> {
    duplicate_key(raw_domain.map(sanitize).as_deref())
}

/// Where an entry stands in name order (A→Z): its sort key, then its
/// number, then its key. Comparing two positions orders exactly as the
/// list's name order does (see `order`), so a page can be read after one
/// (keyset paging) and merged with entries held in memory. A pending
/// create (number 0) comes before the confirmed customers of its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamePosition {
    pub sort_key: String,
    pub display_id: u64,
    pub key: CustomerKey,
}

impl Entry {
    /// Where this entry stands in name order.
    #[must_use]
    pub fn name_position(&self) -> NamePosition {
        NamePosition {
            sort_key: self.sort_key(),
            display_id: self.display_id,
            key: self.key.clone(),
        }
    }

    /// The lower-cased name (what the store keeps as the row's sort key).
    pub(super) fn sort_key(&self) -> String {
        if self.ascii_name {
            self.name.to_ascii_lowercase()
        } else {
            self.name.to_lowercase()
        }
    }

    /// Compares the lower-cased names as comparing the strings
    /// `name.to_lowercase()` would, without making them: ASCII byte by
    /// byte, other text character by character (UTF-8 orders as its
    /// characters do). Only a capital sigma, whose lower case depends on
    /// where it stands in a word, makes the whole strings.
    pub(super) fn cmp_sort_key(&self, other: &Entry) -> std::cmp::Ordering {
        let lower = |c: u8| c.to_ascii_lowercase();
        if self.ascii_name && other.ascii_name {
            return self
                .name
                .bytes()
                .map(lower)
                .cmp(other.name.bytes().map(lower));
        }
        if self.name.contains('Σ') || other.name.contains('Σ') {
            return self.sort_key().cmp(&other.sort_key());
        }
        self.name
            .chars()
            .flat_map(char::to_lowercase)
            .cmp(other.name.chars().flat_map(char::to_lowercase))
    }

    /// The duplicate key of [`domain`](Self::domain) (see
    /// [`duplicate_key`]); `None` when the domain is missing or blank.
    #[must_use]
    pub fn domain_key(&self) -> Option<&str> {
        if self.key_is_domain {
            self.domain.as_deref()
        } else {
            self.other_key.as_deref()
        }
    }

    /// The first eight bytes of the lower-cased name, big-endian.
    pub(super) fn sort_prefix(&self) -> u64 {
        self.sort_prefix
    }

    /// The hash of the name's likely-duplicate key, if it has one.
    #[must_use]
    pub fn name_hash(&self) -> Option<NonZeroU64> {
        self.name_hash
    }

    /// The name's likely-duplicate key, made again from the name.
    #[must_use]
    pub fn name_key(&self) -> Option<String> {
        name_key::name_key(&self.name)
    }

    /// A create waiting in the outbox, shown at once: it has no id or
    /// number from Pivotal yet, so it is known by its outbox `key`.
    #[must_use]
    pub fn pending_create(
        customer: &NewCustomer,
        key: &IdempotencyKey,
        at: OffsetDateTime,
    ) -> Entry {
        let row = customer.to_customer(String::new(), 0, at);
        Entry {
            key: CustomerKey::Pending(key.clone()),
            ..Entry::from(row).into_pending()
        }
    }

    /// Pivotal's id, once the server has given one (`None` for a create
    /// still waiting in the outbox).
    #[must_use]
    pub fn id(&self) -> Option<&str> {
        self.key.id()
    }

    /// The outbox key of the create this entry stands for, while it waits.
    #[must_use]
    pub fn pending_create_key(&self) -> Option<&IdempotencyKey> {
        match &self.key {
            CustomerKey::Pending(key) => Some(key),
            CustomerKey::Id(_) => None,
        }
    }

    /// The customer this entry shows, to rebuild it with changes (an edit
    /// waiting in the outbox is laid over it this way, in the app and in
    /// the preview alike).
    #[must_use]
    pub fn to_customer(&self) -> Customer {
        Customer {
            // A pending create has no id yet; whoever rebuilds an entry
            // from this keeps the entry's key.
            id: self.id().unwrap_or_default().to_owned(),
            display_id: self.display_id,
            name: self.name.to_string(),
            domain: self.domain.as_deref().map(str::to_owned),
            owner_id: self.owner_id.as_deref().map(str::to_owned),
            plan: self.plan.as_deref().map(str::to_owned),
            tags: self.tags.iter().map(|t| t.to_string()).collect(),
            custom_fields: self
                .custom_fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            source: self.source.clone(),
            archived: self.archived,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The same entry, marked as waiting for the server.
    #[must_use]
    pub fn into_pending(mut self) -> Entry {
        self.pending = true;
        self
    }
}

impl From<Customer> for Entry {
    fn from(customer: Customer) -> Self {
        Entry::assemble(Parts {
            key: CustomerKey::from(customer.id),
            display_id: customer.display_id,
            name: ShortText::from(clean(customer.name)),
            domain: customer.domain.map(|d| ShortText::from(clean(d))),
            owner_id: customer.owner_id.as_deref().map(shared),
            plan: customer.plan.as_deref().map(shared),
            tags: customer.tags.into_iter().map(clean).collect(),
            custom_fields: customer.custom_fields.into_iter().collect(),
            source: clean_source(customer.source),
            archived: customer.archived,
            created_at: customer.created_at,
            updated_at: customer.updated_at,
        })
    }
}

/// An entry's fields, sanitised, before the keys made from them: what both
/// ways of making an [`Entry`] gather, for [`Entry::assemble`].
struct Parts {
    key: CustomerKey,
    display_id: u64,
    name: ShortText,
    domain: Option<ShortText>,
    owner_id: Option<Text>,
    plan: Option<Text>,
    tags: Vec<String>,
    /// In any order, keys and values not sanitised yet.
    custom_fields: Vec<(String, String)>,
    source: Source,
    archived: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl Entry {
    /// The entry of `parts`: the name's sort key, the domain's duplicate
    /// key, the custom fields sanitised and sorted, repeated text shared.
    fn assemble(parts: Parts) -> Entry {
        let (sort_prefix, ascii_name) = fold_name(&parts.name);
        let name_hash = name_hash(&parts.name);
        let domain = parts.domain;
        // Keyed on the sanitised text, so that two domains that look the same
        // on screen (one with an invisible character) are one group.
        let (key_is_domain, other_key) = key_of(domain.as_deref());
        let mut custom_fields: Vec<(String, String)> = parts
            .custom_fields
            .into_iter()
            .map(|(key, value)| (clean(key), clean(value)))
            .collect();
        // Sanitising can change how keys compare, so sort again.
        custom_fields.sort_by(|a, b| a.0.cmp(&b.0));
        Entry {
            key: parts.key,
            display_id: parts.display_id,
            sort_prefix,
            ascii_name,
            name_hash,
            name: parts.name,
            domain,
            other_key,
            key_is_domain,
            owner_id: parts.owner_id,
            plan: parts.plan,
            tags: intern::tags(&parts.tags),
            custom_fields: intern::fields(&custom_fields),
            source: parts.source,
            archived: parts.archived,
            created_at: parts.created_at,
            updated_at: parts.updated_at,
            pending: false,
        }
    }
}

/// A customer's fields as the local cache holds them, borrowed from the
/// row being read, so that an [`Entry`] is made straight from the cache
/// without an intermediate [`Customer`]. Text is sanitised by
/// [`Entry::from_fields`], as it is from a [`Customer`].
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    pub id: &'a str,
    pub display_id: u64,
    pub name: &'a str,
    pub domain: Option<&'a str>,
    pub owner_id: Option<&'a str>,
    pub plan: Option<&'a str>,
    pub tags: Vec<String>,
    /// In any order; sorted by key here.
    pub custom_fields: Vec<(String, String)>,
    pub source: &'a str,
    pub archived: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Entry {
    /// An entry made from borrowed fields: each string is sanitised and
    /// copied once, at its exact size.
    #[must_use]
    pub fn from_fields(fields: Fields<'_>) -> Entry {
        Entry::assemble(Parts {
            key: CustomerKey::from(fields.id),
            display_id: fields.display_id,
            name: ShortText::from(sanitize(fields.name).as_ref()),
            domain: fields.domain.map(|d| ShortText::from(sanitize(d).as_ref())),
            owner_id: fields.owner_id.map(shared),
            plan: fields.plan.map(shared),
            tags: fields.tags.into_iter().map(clean).collect(),
            custom_fields: fields.custom_fields,
            source: clean_source(Source::parse(fields.source)),
            archived: fields.archived,
            created_at: fields.created_at,
            updated_at: fields.updated_at,
        })
    }
}

/// The first eight bytes of `key` as a big-endian number, zero-padded, so
/// that comparing two prefixes orders like comparing the strings' bytes.
pub(super) fn prefix_of(key: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = key.len().min(8);
    bytes[..n].copy_from_slice(&key.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

/// The sort prefix of a name, and whether it is plain ASCII (see
/// [`Entry::cmp_sort_key`]).
fn fold_name(name: &str) -> (u64, bool) {
    if name.is_ascii() {
        let mut head = [0u8; 8];
        for (to, from) in head.iter_mut().zip(name.bytes()) {
            *to = from.to_ascii_lowercase();
        }
        return (u64::from_be_bytes(head), true);
    }
    (prefix_of(&name.to_lowercase()), false)
}

/// The duplicate key of `domain`, sharing its text when they are the same
/// (most domains are stored already normalised).
/// How an entry keeps the duplicate key of `domain`: whether the domain is
/// its own key, and otherwise the key (if it has one).
fn key_of(domain: Option<&str>) -> (bool, Option<Box<str>>) {
    match duplicate_key(domain) {
        Some(key) if domain == Some(&*key) => (true, None),
        key => (false, key.map(String::into_boxed_str)),
    }
}

/// The shared copy of `text`, sanitised.
fn shared(text: &str) -> Text {
    intern::text(&sanitize(text))
}

/// [`sanitize`] for an owned string, reusing it when it is already clean.
fn clean(text: String) -> String {
    let sanitised = match sanitize(&text) {
        Cow::Owned(sanitised) => Some(sanitised),
        Cow::Borrowed(_) => None,
    };
    sanitised.unwrap_or(text)
}

/// Sanitises the verbatim text of an unknown source.
fn clean_source(source: Source) -> Source {
    match source {
        Source::Other(text) => Source::Other(clean(text.into_string()).into_boxed_str()),
        known => known,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::customer;

    #[test]
    fn names_compare_as_their_lower_cased_strings_do() {
        let names = [
            "acme",
            "ACME Co",
            "Ábaco",
            "abaco",
            "Zoë",
            "zoe",
            "ΣΟΦΙΑ",
            "σοφια",
            "ΟΔΟΣ",
            "İstanbul",
            "istanbul",
            "Straße",
            "STRASSE",
            "東京",
            "",
        ];
        let entries: Vec<Entry> = names
            .iter()
            .zip(1..)
            .map(|(name, n)| Entry::from(customer(n, name, None)))
            .collect();
        for a in &entries {
            for b in &entries {
                assert_eq!(
                    a.cmp_sort_key(b),
                    a.name.to_lowercase().cmp(&b.name.to_lowercase()),
                    "{:?} against {:?}",
                    a.name,
                    b.name
                );
            }
            assert_eq!(a.sort_key(), name_sort_key(&a.name), "{:?}", a.name);
        }
    }
}
