//! Reading a seed file: a JSON array of customers in the API shape, imported
//! verbatim the way a CRM import would bring them (odd domain spellings
//! included), each with an optional `history` array. Missing ids, display
//! ids and times are filled in; a missing history is generated.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use time::OffsetDateTime;

use super::db::ImportRecord;
use super::generate::{Rng, history_for};
use super::ids::customer_id;
use super::{Seed, ServerError};
use crate::api::{Customer, HistoryEvent, Source};

#[derive(Debug, Deserialize)]
struct SeedCustomer {
    id: Option<String>,
    display_id: Option<u64>,
    name: String,
    domain: Option<String>,
    owner_id: Option<String>,
    plan: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    custom_fields: BTreeMap<String, String>,
    source: Option<Source>,
    #[serde(default)]
    archived: bool,
    #[serde(default, with = "time::serde::rfc3339::option")]
    created_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    updated_at: Option<OffsetDateTime>,
    #[serde(default)]
    history: Vec<HistoryEvent>,
}

/// Reads and completes the records of a seed.
pub fn read(source: &Seed) -> Result<Vec<ImportRecord>, ServerError> {
    let (origin, text) = match source {
        Seed::Embedded(text) => ("the built-in demo data".to_owned(), Cow::Borrowed(*text)),
        Seed::File(path) => {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ServerError::Seed {
                origin: origin.clone(),
                reason: e.to_string(),
            })?;
            (origin, Cow::Owned(text))
        }
    };
    let seeds: Vec<SeedCustomer> = serde_json::from_str(&text).map_err(|e| ServerError::Seed {
        origin,
        reason: e.to_string(),
    })?;
    Ok(complete(seeds, OffsetDateTime::now_utc()))
}

fn complete(seeds: Vec<SeedCustomer>, now: OffsetDateTime) -> Vec<ImportRecord> {
    let mut next_display_id = seeds
        .iter()
        .filter_map(|s| s.display_id)
        .max()
        .unwrap_or(1000)
        + 1;
    let mut rng = Rng::new(0x5EED_0002);
    seeds
        .into_iter()
        .map(|s| {
            let display_id = s.display_id.unwrap_or_else(|| {
                next_display_id += 1;
                next_display_id - 1
            });
            let created_at = s.created_at.unwrap_or(now);
            let customer = Customer {
                id: s.id.unwrap_or_else(customer_id),
                display_id,
                name: s.name,
                domain: s.domain,
                owner_id: s.owner_id,
                plan: s.plan,
                tags: s.tags,
                custom_fields: s.custom_fields,
                source: s.source.unwrap_or(Source::Manual),
                archived: s.archived,
                created_at,
                updated_at: s.updated_at.unwrap_or(created_at),
            };
            let history = if s.history.is_empty() {
                history_for(&customer, &mut rng)
            } else {
                s.history
            };
            ImportRecord { customer, history }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_are_filled_and_spellings_kept() {
        let seeds: Vec<SeedCustomer> = serde_json::from_str(
            r#"[{"display_id": 1005, "name": "Acme", "domain": "www.Acme.com"},
                {"name": "Globex", "source": "stripe"}]"#,
        )
        .expect("parses");
        let now = time::macros::datetime!(2026-11-26 10:00 UTC);
        let records = complete(seeds, now);
        assert_eq!(records[0].customer.domain.as_deref(), Some("www.Acme.com"));
        assert_eq!(records[0].customer.source, Source::Manual);
        assert_eq!(records[1].customer.display_id, 1006);
        assert_eq!(records[1].customer.created_at, now);
        assert!(records.iter().all(|r| !r.history.is_empty()));
    }
}
