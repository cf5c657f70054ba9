//! A customer as the app shows it ([`Entry`]): every server string
//! sanitised once, the domain's duplicate key and the name's sort key
//! computed once. Made from the API's [`Customer`] or straight from the
//! cache's row ([`Fields`]).
//!
//! Pure data; the set that holds entries (and their order) is
//! `customers`, and the orders themselves are `order`'s.

use std::borrow::Cow;

use time::OffsetDateTime;

use super::host::duplicate_key;
use crate::api::IdempotencyKey;
use crate::api::models::{Customer, NewCustomer, Source};
use crate::text::sanitize;

/// A customer as the app shows it.
///
/// Built only from a [`Customer`], which passes every server string through
/// [`sanitize`] once, so that nothing here can print a control character.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The opaque API id, kept verbatim for API calls; never displayed.
    pub id: String,
    /// The number shown to users and used in shared URLs.
    pub display_id: u64,
    pub name: String,
    /// The domain as stored on the server (sanitised, not normalised).
    pub domain: Option<String>,
    /// The duplicate key of [`domain`](Self::domain) (see
    /// [`duplicate_key`]); `None` when the domain is missing or blank.
    pub domain_key: Option<String>,
    pub owner_id: Option<String>,
    pub plan: Option<String>,
    pub tags: Vec<String>,
    /// Custom fields, sorted by key.
    pub custom_fields: Vec<(String, String)>,
    pub source: Source,
    pub archived: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// A change made in this app that the server has not confirmed yet (a
    /// create or an edit waiting in the outbox).
    pub pending: bool,
    /// For a create still waiting in the outbox: its item, which stands in
    /// for the id and number Pivotal has not given it yet.
    pub pending_create: Option<IdempotencyKey>,
    /// The lower-cased name, so that ordering compares without allocating.
    sort_key: String,
    /// The first eight bytes of `sort_key`, big-endian: most comparisons end
    /// here, without following the string to another cache line.
    sort_prefix: u64,
}

/// The key the list sorts names by, from the name as the server sent it:
/// sanitised (as [`Entry::name`] is), then lower-cased. The local store
/// keeps it beside each row (`customers_v2.sort_key`) so that the first
/// screen can be read from an index; both come from here, so they can
/// never disagree.
#[must_use]
pub fn name_sort_key(raw_name: &str) -> String {
    fold_name(&sanitize(raw_name))
}

/// The duplicate key of a domain as the server sent it: sanitised (as
/// [`Entry::domain`] is), then [`duplicate_key`]. Kept by the local store
/// beside each row (`customers_v2.domain_key`), from here.
#[must_use]
pub fn domain_key_of(raw_domain: Option<&str>) -> Option<String> {
    duplicate_key(raw_domain.map(sanitize).as_deref())
}

/// The name order's key of a name already sanitised.
fn fold_name(clean_name: &str) -> String {
    clean_name.to_lowercase()
}

/// Where an entry stands in name order (A→Z): its sort key, then its
/// number, then its id. Comparing two positions orders exactly as the
/// list's name order does (see `order`), so a page can be read after one
/// (keyset paging) and merged with entries held in memory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamePosition {
    pub sort_key: String,
    pub display_id: u64,
    pub id: String,
}

impl Entry {
    /// Where this entry stands in name order.
    #[must_use]
    pub fn name_position(&self) -> NamePosition {
        NamePosition {
            sort_key: self.sort_key.clone(),
            display_id: self.display_id,
            id: self.id.clone(),
        }
    }

    /// The lower-cased name.
    pub(super) fn sort_key(&self) -> &str {
        &self.sort_key
    }

    /// The first eight bytes of [`sort_key`](Self::sort_key), big-endian.
    pub(super) fn sort_prefix(&self) -> u64 {
        self.sort_prefix
    }

    /// A create waiting in the outbox, shown at once: it has no id or
    /// number from Pivotal yet, so it is known by its outbox `key`.
    #[must_use]
    pub fn pending_create(
        customer: &NewCustomer,
        key: &IdempotencyKey,
        at: OffsetDateTime,
    ) -> Entry {
        let row = customer.to_customer(Entry::pending_create_id(key), 0, at);
        Entry {
            pending_create: Some(key.clone()),
            ..Entry::from(row).into_pending()
        }
    }

    /// The set's key for the create waiting as `key` (never an id Pivotal
    /// gives out; only [`Entry::pending_create`] and the set use it).
    pub fn pending_create_id(key: &IdempotencyKey) -> String {
        format!("pending:{key}")
    }

    /// The customer this entry shows, to rebuild it with changes (an edit
    /// waiting in the outbox is laid over it this way, in the app and in
    /// the preview alike).
    #[must_use]
    pub fn to_customer(&self) -> Customer {
        Customer {
            id: self.id.clone(),
            display_id: self.display_id,
            name: self.name.clone(),
            domain: self.domain.clone(),
            owner_id: self.owner_id.clone(),
            plan: self.plan.clone(),
            tags: self.tags.clone(),
            custom_fields: self.custom_fields.iter().cloned().collect(),
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
        let name = clean(customer.name);
        let sort_key = fold_name(&name);
        let domain = customer.domain.map(clean);
        // Keyed on the sanitised text, so that two domains that look the same
        // on screen (one with an invisible character) are one group.
        let domain_key = duplicate_key(domain.as_deref());
        let mut custom_fields: Vec<_> = customer
            .custom_fields
            .into_iter()
            .map(|(key, value)| (clean(key), clean(value)))
            .collect();
        // Sanitising can change how keys compare, so sort again.
        custom_fields.sort_by(|a, b| a.0.cmp(&b.0));
        Entry {
            id: customer.id,
            display_id: customer.display_id,
            sort_prefix: prefix_of(&sort_key),
            sort_key,
            name,
            domain,
            domain_key,
            owner_id: customer.owner_id.map(clean),
            plan: customer.plan.map(clean),
            tags: customer.tags.into_iter().map(clean).collect(),
            custom_fields,
            source: clean_source(customer.source),
            archived: customer.archived,
            created_at: customer.created_at,
            updated_at: customer.updated_at,
            pending: false,
            pending_create: None,
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
        let owned = |text: &str| sanitize(text).into_owned();
        let name = owned(fields.name);
        let sort_key = fold_name(&name);
        let domain = fields.domain.map(owned);
        let domain_key = duplicate_key(domain.as_deref());
        let mut custom_fields: Vec<(String, String)> = fields
            .custom_fields
            .into_iter()
            .map(|(key, value)| (clean(key), clean(value)))
            .collect();
        custom_fields.sort_by(|a, b| a.0.cmp(&b.0));
        Entry {
            id: fields.id.to_owned(),
            display_id: fields.display_id,
            sort_prefix: prefix_of(&sort_key),
            sort_key,
            name,
            domain,
            domain_key,
            owner_id: fields.owner_id.map(owned),
            plan: fields.plan.map(owned),
            tags: fields.tags.into_iter().map(clean).collect(),
            custom_fields,
            source: clean_source(Source::parse(fields.source)),
            archived: fields.archived,
            created_at: fields.created_at,
            updated_at: fields.updated_at,
            pending: false,
            pending_create: None,
        }
    }
}

/// The first eight bytes of `key` as a big-endian number, zero-padded, so
/// that comparing two prefixes orders like comparing the strings' bytes.
fn prefix_of(key: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = key.len().min(8);
    bytes[..n].copy_from_slice(&key.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
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
        Source::Other(text) => Source::Other(clean(text)),
        known => known,
    }
}
