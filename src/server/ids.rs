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

/// The longest cursor the server reads, in characters.
const MAX_CURSOR_CHARS: usize = 256;
/// The most digits of the time in a cursor, so that it always fits an `i64`.
const MAX_CURSOR_TIME_DIGITS: usize = 18;

/// Encodes a keyset position as an opaque cursor: the lower-case hex of
/// `<updated_at>:<id>`.
pub fn encode_cursor(updated_at: i64, id: &str) -> String {
    let raw = format!("{updated_at}:{id}");
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a cursor in the form [`encode_cursor`] makes; `None` if it is
/// not one. Exactly what `assets/openapi.yaml` promises for `cursor`: at
/// most 256 characters of lower-case hex pairs, which spell an optional
/// `-`, 1–18 digits, a `:` and then any bytes (the id, read as UTF-8 with
/// anything else replaced, since a cursor is only a position to start
/// after).
pub fn decode_cursor(cursor: &str) -> Option<(i64, String)> {
    if cursor.len() > MAX_CURSOR_CHARS || !cursor.len().is_multiple_of(2) {
        return None;
    }
    let bytes = cursor
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| match *pair {
            [high, low] => Some((lower_hex_digit(high)? << 4) | lower_hex_digit(low)?),
            _ => None,
        })
        .collect::<Option<Vec<u8>>>()?;
    let colon = bytes.iter().position(|&b| b == b':')?;
    let (time, id) = (&bytes[..colon], &bytes[colon + 1..]);
    let digits = time.strip_prefix(b"-").unwrap_or(time);
    if digits.is_empty()
        || digits.len() > MAX_CURSOR_TIME_DIGITS
        || !digits.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let time = std::str::from_utf8(time).ok()?.parse().ok()?;
    Some((time, String::from_utf8_lossy(id).into_owned()))
}

/// The value of one lower-case hex digit.
fn lower_hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
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
    fn a_cursor_is_read_only_in_the_exact_form_the_spec_gives() {
        let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
        let readable = [
            (hex("5:cus_A"), (5, "cus_A")),
            (hex("-5:"), (-5, "")),
            (hex("007:x:y"), (7, "x:y")),
            (
                hex(&format!("{}:z", "9".repeat(18))),
                (999_999_999_999_999_999, "z"),
            ),
            ("353aff".to_owned(), (5, "\u{fffd}")),
        ];
        for (cursor, (time, id)) in readable {
            assert_eq!(
                decode_cursor(&cursor),
                Some((time, id.to_owned())),
                "{cursor}"
            );
        }
        let unreadable = [
            hex("+5:x"),
            hex(" 5:x"),
            hex("5"),
            hex(":x"),
            hex("-:x"),
            hex(&format!("{}:z", "9".repeat(19))),
            hex("5:x").to_uppercase(),
            "+35a78".to_owned(),
            hex(&format!("5:{}", "x".repeat(127))),
        ];
        for cursor in unreadable {
            assert_eq!(decode_cursor(&cursor), None, "{cursor}");
        }
    }

    #[test]
    fn micros_round_trip() {
        let t = time::macros::datetime!(2026-11-26 10:00:00.123456 UTC);
        assert_eq!(from_micros(to_micros(t)), t);
    }
}
