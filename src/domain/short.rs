//! [`ShortText`]: a string kept inside its owner when it is short, as a
//! customer's id and most names are. At 100,000 customers a separate
//! allocation for each costs 48 bytes of heap apiece (the text, the
//! allocator's header and rounding) on top of the 24-byte `String`; kept
//! inline, the text costs the 32 bytes of the value and nothing else.
//!
//! Immutable once made; no I/O.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// The most bytes kept inline: a Pivotal id (`cus_` and a 26-character
/// ULID) fits exactly.
const INLINE: usize = 30;

/// An immutable string, inline up to 30 bytes, boxed beyond. Compares,
/// orders and hashes as its `str` does.
#[derive(Clone)]
pub struct ShortText(Repr);

#[derive(Clone)]
enum Repr {
    /// `bytes[..len]` is the text (whole UTF-8, copied from a `str`).
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Boxed(Box<str>),
}

impl ShortText {
    /// The text as a `str`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, bytes } => {
                let text = &bytes[..usize::from(*len)];
                // SAFETY: `text` is a whole `str`'s bytes, copied by `From`.
                unsafe { std::str::from_utf8_unchecked(text) }
            }
            Repr::Boxed(text) => text,
        }
    }

    /// The inline form of `text`, when it fits.
    fn inline(text: &str) -> Option<ShortText> {
        let len = u8::try_from(text.len())
            .ok()
            .filter(|&n| usize::from(n) <= INLINE)?;
        let mut bytes = [0; INLINE];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Some(ShortText(Repr::Inline { len, bytes }))
    }
}

impl From<&str> for ShortText {
    fn from(text: &str) -> Self {
        ShortText::inline(text).unwrap_or_else(|| ShortText(Repr::Boxed(Box::from(text))))
    }
}

/// Keeps a long `String`'s buffer (trimmed to its length).
impl From<String> for ShortText {
    fn from(text: String) -> Self {
        ShortText::inline(&text).unwrap_or_else(|| ShortText(Repr::Boxed(text.into_boxed_str())))
    }
}

impl Default for ShortText {
    fn default() -> Self {
        ShortText::from("")
    }
}

impl Deref for ShortText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ShortText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for ShortText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for ShortText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ShortText {}

impl PartialEq<str> for ShortText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ShortText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for ShortText {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<ShortText> for String {
    fn eq(&self, other: &ShortText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<ShortText> for str {
    fn eq(&self, other: &ShortText) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<ShortText> for &str {
    fn eq(&self, other: &ShortText) -> bool {
        *self == other.as_str()
    }
}

/// As its text.
impl serde::Serialize for ShortText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialOrd for ShortText {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ShortText {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for ShortText {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ShortText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_text_read_back_the_same() {
        for text in [
            "",
            "Acme",
            "cus_01JD3Z8M7Q4V6N2K9T1R5X0B7C",
            "cus_01JD3Z8M7Q4V6N2K9T1R5X0B7CX",
            "Zürich Rückversicherung GmbH & Co. KG, Niederlassung Süd",
        ] {
            assert_eq!(ShortText::from(text), text);
            assert_eq!(ShortText::from(text.to_owned()).as_str(), text);
            assert_eq!(format!("{}", ShortText::from(text)), text);
        }
    }

    #[test]
    fn an_id_is_kept_inline_and_a_longer_text_boxed() {
        let id = ShortText::from("cus_01JD3Z8M7Q4V6N2K9T1R5X0B7C");
        assert!(matches!(id.0, Repr::Inline { len: 30, .. }));
        let long = ShortText::from("cus_01JD3Z8M7Q4V6N2K9T1R5X0B7CX");
        assert!(matches!(long.0, Repr::Boxed(_)));
        // A multi-byte character is never cut: the text fits whole or not.
        let accents = ShortText::from("é".repeat(16).as_str());
        assert!(matches!(accents.0, Repr::Boxed(_)));
        assert_eq!(std::mem::size_of::<ShortText>(), 32);
    }

    #[test]
    fn it_orders_and_hashes_as_its_text() {
        use std::hash::BuildHasher;

        let hasher = std::collections::hash_map::RandomState::new();
        let (a, b) = ("acme", "acme-corporation-international-holdings");
        assert_eq!(ShortText::from(a).cmp(&ShortText::from(b)), a.cmp(b));
        assert_eq!(hasher.hash_one(ShortText::from(b)), hasher.hash_one(b));
        assert_eq!(hasher.hash_one(ShortText::from(a)), hasher.hash_one(a));
    }
}
