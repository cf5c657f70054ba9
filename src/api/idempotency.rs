//! [`IdempotencyKey`]: the `Idempotency-Key` a create carries.
//!
//! Owns generating and (de)serialising the key, so a caller can persist it
//! with an unsent create and reuse it after a restart. It must not decide
//! when a key is reused; that is the caller's job (one key per intended
//! customer, every attempt).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The key that makes a `POST /v1/customers` safe to repeat: the server
/// answers a repeated key (with the same body) with the original customer
/// instead of creating a second one.
///
/// Serialises as the UUID's hyphenated string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(Uuid);

impl IdempotencyKey {
    /// A fresh random (v4) key.
    pub fn new() -> Self {
        IdempotencyKey(Uuid::new_v4())
    }

    /// A key from a UUID stored earlier.
    pub fn from_uuid(uuid: Uuid) -> Self {
        IdempotencyKey(uuid)
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl Default for IdempotencyKey {
    /// A fresh random key, as [`IdempotencyKey::new`].
    fn default() -> Self {
        IdempotencyKey::new()
    }
}

impl fmt::Display for IdempotencyKey {
    /// The hyphenated UUID, as sent in the header.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for IdempotencyKey {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(IdempotencyKey)
    }
}

impl Serialize for IdempotencyKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IdempotencyKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_are_distinct_v4_uuids() {
        let a = IdempotencyKey::new();
        assert_ne!(a, IdempotencyKey::new());
        assert_eq!(a.as_uuid().get_version_num(), 4);
    }

    #[test]
    fn round_trips_through_text_and_json() {
        let text = "5f0c6d2e-8a53-4b8e-9c41-2f6f1d7e0a11";
        let key: IdempotencyKey = text.parse().expect("parses");
        assert_eq!(key.to_string(), text);
        let json = serde_json::to_string(&key).expect("serialises");
        assert_eq!(json, format!("\"{text}\""));
        let back: IdempotencyKey = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, key);
        assert!(serde_json::from_str::<IdempotencyKey>("\"nope\"").is_err());
    }
}
