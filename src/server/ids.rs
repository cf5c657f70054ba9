//! Identifier and time helpers for the reference server's storage.

use time::OffsetDateTime;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh opaque customer id: `cus_` and 26 Crockford base-32 characters.
pub fn customer_id() -> String {
    let bits = uuid::Uuid::new_v4().as_u128();
    let mut id = String::with_capacity(30);
    id.push_str("cus_");
    // 26 characters of 5 bits cover 130 bits; the top two are zero.
    for i in (0..26).rev() {
        let digit = ((bits >> (i * 5)) & 0x1f) as usize;
        id.push(CROCKFORD[digit] as char);
    }
    id
}

/// Microseconds since the Unix epoch: the storage form of timestamps, so that
/// ordering is numeric and exact.
pub fn to_micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000) as i64
}

pub fn from_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub fn now_micros() -> i64 {
    to_micros(OffsetDateTime::now_utc())
}

/// Encodes a keyset position as an opaque cursor.
pub fn encode_cursor(updated_at: i64, id: &str) -> String {
    let raw = format!("{updated_at}:{id}");
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a cursor made by [`encode_cursor`]; `None` if it is not one.
pub fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    if !cursor.len().is_multiple_of(2) || cursor.len() > 256 {
        return None;
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let raw = String::from_utf8(bytes).ok()?;
    let (ts, id) = raw.split_once(':')?;
    Some((ts.parse().ok()?, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_look_like_the_contract() {
        let id = customer_id();
        assert_eq!(id.len(), 30);
        assert!(id.starts_with("cus_"));
        assert_ne!(id, customer_id());
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode_cursor(1_700_000_000_123_456, "cus_ABC");
        assert_eq!(
            decode_cursor(&c),
            Some((1_700_000_000_123_456, "cus_ABC".into()))
        );
        for bad in ["", "zz", "abc", "6869", &"00".repeat(200)] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn micros_round_trip() {
        let t = time::macros::datetime!(2026-11-26 10:00:00.123456 UTC);
        assert_eq!(from_micros(to_micros(t)), t);
    }
}
