//! The company-name key behind "likely duplicates by name": two names that
//! reduce to the same key probably name the same company (`Cedargrid Foods
//! Inc. Inc.` and `cedargrid foods`), however they were typed.
//!
//! Owns the key and its hash. Deciding which records form a group is the
//! set's (`customers`, with [`super::names::NameIndex`]); no I/O, no UI.
//!
//! The steps, in order: NFKC (full-width letters become plain ones),
//! lower-casing (with `ß` as `ss`), `&` as `and`, dashes, slashes and
//! underscores as spaces, every other character that is not a letter, a
//! digit or a space dropped (`S.A.` is `sa`, `O'Brien` is `obrien`),
//! spaces collapsed, a leading `the` dropped, then trailing legal forms
//! dropped again and again (`pty ltd`, `inc inc`), a dangling `and` with
//! them (`& Co.`). A legal form is only dropped while another word stays
//! before it, so `Company Inc` keeps `company`. Accents stay: `Muller` and
//! `Müller` are different keys, as they may be different companies.
//! Keys shorter than [`MIN_CHARS`] characters never match.

use std::hash::{Hash, Hasher};
use std::num::NonZeroU64;

use unicode_normalization::UnicodeNormalization;

/// The shortest key that can match: shorter ones (`ab`, `x`) are too
/// common to mean anything.
pub const MIN_CHARS: usize = 3;

/// Legal forms, as words after the steps above. Only whole trailing words
/// are dropped, so `Texas` or `Nasa` are safe; `as` (Norwegian and Danish
/// companies) and `sa` are still whole words here.
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "llp",
    "ltd",
    "ltda",
    "limited",
    "gmbh",
    "ag",
    "kg",
    "co",
    "corp",
    "corporation",
    "company",
    "plc",
    "sa",
    "sas",
    "sarl",
    "sl",
    "srl",
    "spa",
    "bv",
    "nv",
    "pty",
    "pte",
    "oy",
    "oyj",
    "ab",
    "as",
    "asa",
    "aps",
    "kk",
    "se",
];

/// Legal forms written with spaces between their letters (`S. A.`, `B. V.`),
/// as words after the steps above.
const SPACED_FORMS: &[&[&str]] = &[
    &["s", "a"],
    &["s", "a", "s"],
    &["s", "l"],
    &["s", "r", "l"],
    &["s", "p", "a"],
    &["b", "v"],
    &["n", "v"],
    &["l", "l", "c"],
    &["k", "k"],
];

/// The name key of a company name as the app shows it (already
/// sanitised), or `None` when it is shorter than [`MIN_CHARS`].
#[must_use]
pub fn name_key(name: &str) -> Option<String> {
    let cleaned = clean(name);
    let mut words: Vec<&str> = cleaned.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() > 1 && words[0] == "the" {
        words.remove(0);
    }
    while drop_legal_form(&mut words) {}
    let key = words.join(" ");
    (key.chars().count() >= MIN_CHARS).then_some(key)
}

/// The hash the name index files a key under (never zero, so that an
/// entry without a key costs no more room than one with).
#[must_use]
pub fn key_hash(key: &str) -> NonZeroU64 {
    // SipHash with fixed keys: the same key hashes alike in every set and
    // every run, so an entry can carry its hash.
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    NonZeroU64::new(hasher.finish()).unwrap_or(NonZeroU64::MIN)
}

/// The hash of `name`'s key, if it has one.
#[must_use]
pub fn name_hash(name: &str) -> Option<NonZeroU64> {
    name_key(name).map(|key| key_hash(&key))
}

/// NFKC, lower-casing and the character rules, with single spaces.
fn clean(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let push_space = |out: &mut String| {
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    };
    let normalised: String = if name.is_ascii() {
        name.to_owned()
    } else {
        name.nfkc().collect()
    };
    for c in normalised.chars().flat_map(char::to_lowercase) {
        match c {
            'ß' => out.push_str("ss"),
            '&' => {
                push_space(&mut out);
                out.push_str("and ");
            }
            '-' | '‐' | '‑' | '‒' | '–' | '—' | '/' | '\\' | '_' | '+' => {
                push_space(&mut out)
            }
            c if c.is_whitespace() => push_space(&mut out),
            c if c.is_alphanumeric() => out.push(c),
            _ => {}
        }
    }
    out
}

/// Drops one trailing legal form (and an `and` left dangling before it)
/// when a word stays before it; `false` when there is none.
fn drop_legal_form(words: &mut Vec<&str>) -> bool {
    let spaced = SPACED_FORMS
        .iter()
        .find(|form| words.len() > form.len() && words.ends_with(form));
    let len = match spaced {
        Some(form) => form.len(),
        None if words.len() > 1 && words.last().is_some_and(|w| LEGAL_FORMS.contains(w)) => 1,
        None => return false,
    };
    words.truncate(words.len() - len);
    if words.len() > 1 && words.last() == Some(&"and") {
        words.pop();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_world_spellings_reduce_to_one_key() {
        let table: &[(&str, Option<&str>)] = &[
            ("Cedargrid Foods Inc. Inc.", Some("cedargrid foods")),
            ("cedargrid foods", Some("cedargrid foods")),
            ("CEDARGRID FOODS, INC", Some("cedargrid foods")),
            ("Cedargrid  Foods   Incorporated", Some("cedargrid foods")),
            ("Atlasbridge Security", Some("atlasbridge security")),
            ("Atlasbridge Security LLC", Some("atlasbridge security")),
            (
                "The Atlasbridge Security Company",
                Some("atlasbridge security"),
            ),
            ("Beacon Analytics Pte. Ltd.", Some("beacon analytics")),
            ("Beacon Analytics Pty Ltd", Some("beacon analytics")),
            ("Harbor & Pine Realty", Some("harbor and pine realty")),
            ("Harbor and Pine Realty", Some("harbor and pine realty")),
            ("Smith & Co.", Some("smith")),
            ("Acme Corp.", Some("acme")),
            ("ACME Co.", Some("acme")),
            ("Acme Corporation", Some("acme")),
            ("Acme-Co", Some("acme")),
            ("Telefónica S.A.", Some("telefónica")),
            ("Telefónica S. A.", Some("telefónica")),
            ("Philips N.V.", Some("philips")),
            ("Fiat S.p.A.", Some("fiat")),
            ("Nordlys AS", Some("nordlys")),
            ("Natura Ltda", Some("natura")),
            ("Nokia Oyj", Some("nokia")),
            ("Volvo AB", Some("volvo")),
            ("Sony K.K.", Some("sony")),
            ("O'Brien's Bakery", Some("obriens bakery")),
            ("Cascadia Water Co-op", Some("cascadia water co op")),
            ("Texas Roadhouse", Some("texas roadhouse")),
            // Never down to nothing: the last word stays.
            ("Company Inc", Some("company")),
            ("The Company", Some("company")),
            ("The", Some("the")),
            // Too short to mean anything.
            ("AB Inc", None),
            ("X", None),
            ("", None),
            ("  &  ", Some("and")),
            ("...", None),
        ];
        for (name, key) in table {
            assert_eq!(name_key(name).as_deref(), *key, "{name:?}");
        }
    }

    #[test]
    fn non_ascii_names_fold_by_unicode_rules() {
        let table: &[(&str, &str)] = &[
            ("Müller GmbH", "MÜLLER gmbh"),
            ("Müller GmbH", "Mu\u{308}ller GmbH"),
            ("Ｍüｌｌｅｒ　ＧｍｂＨ", "müller"),
            ("Straße Logistik AG", "STRASSE LOGISTIK"),
            ("Ｃｅｄａｒｇｒｉｄ Ｆｏｏｄｓ Ｉｎｃ．", "Cedargrid Foods"),
            ("ΑΘΗΝΑ Α.Ε. Λτδ", "αθηνα αε λτδ"),
            ("東京 Trading KK", "東京 trading"),
        ];
        for (a, b) in table {
            assert!(name_key(a).is_some(), "{a:?} has a key");
            assert_eq!(name_key(a), name_key(b), "{a:?} vs {b:?}");
        }
        assert_ne!(name_key("Müller GmbH"), name_key("Muller GmbH"));
    }

    #[test]
    fn hashes_follow_keys() {
        assert_eq!(
            name_hash("Atlasbridge Security"),
            name_hash("ATLASBRIDGE SECURITY, LLC")
        );
        assert_ne!(name_hash("Atlasbridge Security"), name_hash("Atlasbridge"));
        assert_eq!(name_hash("AB"), None);
    }
}
