//! Test fixtures shared by the store's tests. Test-only; nothing here may be
//! used by the store itself.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::api::{Customer, HistoryEvent, Source, User};

/// The instant `secs` seconds after the Unix epoch.
pub(super) fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).expect("valid timestamp")
}

/// A customer with every field filled, last updated at `at(updated_secs)`.
pub(super) fn customer(id: &str, updated_secs: i64, archived: bool) -> Customer {
    Customer {
        id: id.to_owned(),
        display_id: 1001,
        name: format!("Customer {id}"),
        domain: Some(format!("{id}.example.com")),
        owner_id: Some("usr_1".to_owned()),
        plan: Some("Growth".to_owned()),
        tags: vec!["beta".to_owned(), "emea".to_owned()],
        custom_fields: BTreeMap::from([
            ("region".to_owned(), "EMEA".to_owned()),
            ("seats".to_owned(), "120".to_owned()),
        ]),
        source: Source::Hubspot,
        archived,
        created_at: at(1),
        updated_at: at(updated_secs),
    }
}

/// A member of the team.
pub(super) fn user(id: &str) -> User {
    User {
        id: id.to_owned(),
        name: format!("User {id}"),
        email: format!("{id}@pivotal.app"),
    }
}

/// A history event of `kind` at `at(secs)`.
pub(super) fn event(secs: i64, kind: &str) -> HistoryEvent {
    HistoryEvent {
        at: at(secs),
        kind: kind.to_owned(),
        summary: format!("{kind} at {secs}"),
        actor: Some("usr_1".to_owned()),
    }
}
