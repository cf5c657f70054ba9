//! Likely duplicates by name: the key under which two company names count
//! as the same company (`Acme Co.` and `ACME Company`, `The Atlasbridge
//! Security Inc. Inc.` and `Atlasbridge Security`), for records that the
//! domain rule does not already group.
//!
//! Pure string logic; no I/O.

use unicode_normalization::UnicodeNormalization;

/// Legal forms dropped from the end of a name, repeated ones too.
const LEGAL_FORMS: &[&str] = &[
    "inc",
    "incorporated",
    "llc",
    "llp",
    "lp",
    "ltd",
    "limited",
    "gmbh",
    "ag",
    "co",
    "corp",
    "corporation",
    "company",
    "plc",
    "sa",
    "sas",
    "sarl",
    "bv",
    "nv",
    "pty",
    "pte",
    "oy",
    "ab",
    "kk",
    "srl",
    "spa",
    "sl",
    "as",
    "aps",
    "kg",
    "ug",
];

/// Keys shorter than this never match: too many companies would share them.
const SHORTEST: usize = 3;

/// The name key: Unicode-normalised (NFKC), case-folded, `&` as `and`,
/// punctuation removed, spaces collapsed, a leading `the` and trailing
/// legal forms removed. `None` when what is left is shorter than three
/// characters.
pub fn name_key(name: &str) -> Option<String> {
    let folded: String = name.nfkc().collect::<String>().to_lowercase();
    let spaced: String = folded
        .replace('&', " and ")
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut words: Vec<&str> = spaced.split_whitespace().collect();
    if words.first() == Some(&"the") && words.len() > 1 {
        words.remove(0);
    }
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_FORMS.contains(w)) {
        words.pop();
    }
    let key = words.join(" ");
    (key.chars().count() >= SHORTEST).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_one_company_written_differently_share_a_key() {
        let key = name_key("Atlasbridge Security");
        for name in [
            "Atlasbridge Security Inc.",
            "ATLASBRIDGE SECURITY, INC. INC.",
            "The Atlasbridge  Security Ltd",
            "Atlasbridge-Security",
        ] {
            assert_eq!(name_key(name), key, "{name}");
        }
        assert_eq!(name_key("Harbor & Pine"), name_key("Harbor and Pine Co."));
        assert_eq!(
            name_key("Ｃｏｂａｌｔ Payroll"),
            name_key("Cobalt Payroll"),
            "NFKC"
        );
    }

    #[test]
    fn different_companies_and_tiny_keys_do_not_match() {
        assert_ne!(name_key("Acme Co"), name_key("Acme Corporation Europe"));
        assert_eq!(name_key("AB"), None);
        assert_eq!(name_key("The Co."), None);
        assert_eq!(
            name_key("Co"),
            None,
            "a legal form alone is too short to mean anything"
        );
    }
}
