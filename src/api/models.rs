//! The objects of the Pivotal v1 contract, as serde types shared by the client
//! and the reference server.
//!
//! Decoding is forward compatible: unknown fields are ignored and an unknown
//! `source` is kept as [`Source::Other`] instead of failing.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

/// Where a customer record came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Manual,
    Api,
    Hubspot,
    Stripe,
    /// A value this client does not know yet; kept verbatim (boxed: a
    /// `Source` is 16 bytes in every cached customer).
    Other(Box<str>),
}

impl Source {
    pub fn as_str(&self) -> &str {
        match self {
            Source::Manual => "manual",
            Source::Api => "api",
            Source::Hubspot => "hubspot",
            Source::Stripe => "stripe",
            Source::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Source {
        match s {
            "manual" => Source::Manual,
            "api" => Source::Api,
            "hubspot" => Source::Hubspot,
            "stripe" => Source::Stripe,
            other => Source::Other(other.into()),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Source::parse(&s))
    }
}

/// A customer as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub display_id: u64,
    pub name: String,
    pub domain: Option<String>,
    pub owner_id: Option<String>,
    pub plan: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
    pub source: Source,
    #[serde(default)]
    pub archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The body of `POST /v1/customers`. Only `name` is required; `None` fields
/// are left out of the JSON so the server applies its defaults (an omitted
/// `owner_id` means "the key's user").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewCustomer {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_fields: BTreeMap<String, String>,
}

impl NewCustomer {
    /// The customer this body becomes when created through the API at `at`
    /// (the server assigns `id` and `display_id`; the app uses placeholders
    /// while a create is pending).
    pub fn to_customer(&self, id: String, display_id: u64, at: OffsetDateTime) -> Customer {
        Customer {
            id,
            display_id,
            name: self.name.clone(),
            domain: self.domain.clone(),
            owner_id: self.owner_id.clone(),
            plan: self.plan.clone(),
            tags: self.tags.clone(),
            custom_fields: self.custom_fields.clone(),
            source: Source::Api,
            archived: false,
            created_at: at,
            updated_at: at,
        }
    }
}

/// A field of a PATCH body: left out, set to `null`, or set to a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            // `Keep` is skipped by `skip_serializing_if`; if it is serialised
            // anyway, null is the closest meaning.
            Patch::Keep | Patch::Clear => s.serialize_none(),
            Patch::Set(v) => v.serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Only called when the field is present; absence is `#[serde(default)]`.
        Ok(match Option::<T>::deserialize(d)? {
            Some(v) => Patch::Set(v),
            None => Patch::Clear,
        })
    }
}

/// The body of `PATCH /v1/customers/{id}`: only the fields that change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    pub domain: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    pub owner_id: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_keep")]
    pub plan: Patch<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<BTreeMap<String, String>>,
}

impl CustomerPatch {
    pub fn is_empty(&self) -> bool {
        self == &CustomerPatch::default()
    }

    /// What the contract's `PATCH` does to `customer`: each field present
    /// replaces (or, as `null`, clears) the customer's. Returns the fields
    /// that really changed, as history names them (`plan`, `custom
    /// fields`). The one rule for the server and for the app's optimistic
    /// row.
    pub fn apply_to(&self, customer: &mut Customer) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if let Some(name) = &self.name
            && *name != customer.name
        {
            customer.name = name.clone();
            changed.push("name");
        }
        for (label, field, value) in [
            ("domain", &mut customer.domain, &self.domain),
            ("owner", &mut customer.owner_id, &self.owner_id),
            ("plan", &mut customer.plan, &self.plan),
        ] {
            let new = match value {
                Patch::Keep => continue,
                Patch::Clear => None,
                Patch::Set(v) => Some(v.clone()),
            };
            if *field != new {
                *field = new;
                changed.push(label);
            }
        }
        if let Some(tags) = &self.tags
            && *tags != customer.tags
        {
            customer.tags = tags.clone();
            changed.push("tags");
        }
        if let Some(fields) = &self.custom_fields
            && *fields != customer.custom_fields
        {
            customer.custom_fields = fields.clone();
            changed.push("custom fields");
        }
        changed
    }
}

/// A member of the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// One entry of a customer's history, newest first in responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: String,
    pub summary: String,
    pub actor: Option<String>,
}

/// A page of a list endpoint. `next_cursor` is `None` on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// `{"data": [...]}` without pagination (users, history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    #[serde(default)]
    pub param: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_sources_are_tolerated() {
        let json = r#"{
            "id": "cus_1", "display_id": 7, "name": "Acme", "domain": null,
            "owner_id": null, "plan": null, "source": "salesforce",
            "archived": false, "created_at": "2026-11-26T10:00:00Z",
            "updated_at": "2026-11-26T10:00:00Z", "health_score": 93
        }"#;
        let c: Customer = serde_json::from_str(json).expect("decodes");
        assert_eq!(c.source, Source::Other("salesforce".into()));
        assert!(c.tags.is_empty());
        assert_eq!(serde_json::to_value(&c.source).unwrap(), "salesforce");
    }

    #[test]
    fn patch_sends_only_changed_fields_and_null_clears() {
        let patch = CustomerPatch {
            plan: Patch::Clear,
            name: Some("New".into()),
            ..Default::default()
        };
        let v = serde_json::to_value(&patch).unwrap();
        assert_eq!(v, serde_json::json!({"name": "New", "plan": null}));
        let back: CustomerPatch = serde_json::from_value(v).unwrap();
        assert_eq!(back, patch);
    }

    #[test]
    fn new_customer_omits_unset_fields() {
        let body = NewCustomer {
            name: "Acme".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"name": "Acme"})
        );
    }
}
