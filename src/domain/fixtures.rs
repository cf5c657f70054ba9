//! A customer record for the domain's tests: what the API would send for a
//! manual customer with only a name and a domain. Tests fill in the rest
//! with struct update syntax. Test-only.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::api::models::{Customer, Source};

/// Customer `cus_<display_id>`, manual, no owner, plan, tags or fields,
/// created and updated at the Unix epoch.
pub(crate) fn customer(display_id: u64, name: &str, domain: Option<&str>) -> Customer {
    Customer {
        id: format!("cus_{display_id}"),
        display_id,
        name: name.to_owned(),
        domain: domain.map(str::to_owned),
        owner_id: None,
        plan: None,
        tags: Vec::new(),
        custom_fields: BTreeMap::new(),
        source: Source::Manual,
        archived: false,
        created_at: OffsetDateTime::UNIX_EPOCH,
        updated_at: OffsetDateTime::UNIX_EPOCH,
    }
}
