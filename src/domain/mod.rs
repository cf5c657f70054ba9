//! Pure domain logic: customer domain normalisation and host validation
//! ([`host`]), sanitising untrusted text for the terminal ([`text`]), and the
//! set of live customers the app shows ([`customers`]) with its incrementally
//! kept duplicate-domain index ([`duplicates`], over [`chains`]), the short
//! text its records keep inline ([`short`]), its sort orders ([`order`],
//! with the domain ranks kept between sorts in [`domain_ranks`]),
//! the text filter ([`filter`]) and the rows a list shows ([`view`]), and
//! the create/edit form's rules ([`draft`]) with the contract's field
//! limits ([`limits`]), and triage's rules: which record to keep
//! ([`keeper`]) and what merging a group into it makes ([`merge`]), and
//! likely duplicates by company name ([`name_key`], [`names`]).
//!
//! No I/O, no async, no UI: everything here is a plain function of its input.

pub mod chains;
pub mod customers;
mod domain_ranks;
pub mod draft;
pub mod duplicates;
pub mod entry;
pub mod filter;
pub mod host;
pub mod intern;
pub mod keeper;
pub mod limits;
pub mod link;
pub mod merge;
pub mod name_key;
pub mod names;
pub mod order;
pub mod short;
pub mod view;

#[cfg(test)]
pub(crate) mod fixtures;

/// Sanitising lives in its own module ([`crate::text`]) so that the API
/// client can use it without depending on the domain.
pub use crate::text::{has_forbidden_chars, sanitize};
pub use customers::{ApplyStats, CustomerSet, FOLLOWABLE_BATCH};
pub use draft::{Draft, Field, FieldError};
pub use duplicates::DuplicateIndex;
pub use entry::{CustomerKey, Entry, Fields, KeyRef, NamePosition, domain_key_of, name_sort_key};
pub use filter::{FieldKind, FilterState, Highlight, Query, Scan, SearchIndex};
pub use host::{DomainError, duplicate_key, normalize_domain, validate_host};
pub use link::share_url;
pub use order::{Sort, SortColumn};
pub use view::{Criteria, Matches, Rows};
