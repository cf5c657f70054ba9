//! Customer domains: turning what a user typed into the host name Pivotal
//! stores, checking that a value already is one, and the key used to spot
//! customers that share a domain.
//!
//! Pure string logic only: no I/O, no async, no UI.

use std::borrow::Cow;
use std::net::IpAddr;

use idna::AsciiDenyList;
use idna::uts46::{Hyphens, Uts46};

/// The longest host name Pivotal stores, in characters.
const MAX_HOST_LEN: usize = super::limits::MAX_DOMAIN_CHARS;
/// The longest single label (the text between two dots), in characters.
const MAX_LABEL_LEN: usize = 63;
/// The prefix of a label that holds an internationalised name in punycode.
const PUNYCODE_PREFIX: &str = "xn--";

/// Why a domain was rejected. Each message is one sentence meant to be shown
/// under the domain field of a form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Nothing is left once the scheme, path and other URL parts are gone.
    #[error("Domain is empty after removing the scheme and path")]
    Empty,
    /// A character outside letters, digits, `-` and `.`.
    #[error("Domain can't contain {} (only letters, digits, '-' and '.')", shown(*.0))]
    InvalidChar(char),
    /// A single label, such as `acme`.
    #[error("Domain needs at least one dot, like acme.com")]
    NoDot,
    /// An IPv4 or IPv6 address instead of a name.
    #[error("An IP address is not a customer domain")]
    IpAddress,
    /// An empty label (`acme..com`) or one longer than 63 characters.
    #[error("Each part of a domain must be 1–63 characters")]
    LabelLength,
    /// More than 253 characters in all.
    #[error("Domain is longer than 253 characters")]
    TooLong,
    /// A label such as `-acme` or `acme-`.
    #[error("Domain part can't start or end with '-'")]
    HyphenAtEdge,
    /// The top-level label is all digits, as in `acme.123`.
    #[error("The last part of a domain can't be only digits")]
    NumericTopLevel,
    /// An ASCII capital letter in a stored host name.
    #[error("Domain must be written in lower case")]
    NotLowercase,
    /// A stored host name with URL parts such as `https://`, `/path` or `:443`.
    #[error("Domain must not include a scheme, path or port")]
    NotBareHost,
    /// A stored host name ending in `.`.
    #[error("Domain must not end with a dot")]
    TrailingDot,
    /// A stored host name with non-ASCII letters instead of their punycode.
    #[error("An international domain must be written in punycode (xn--…)")]
    NotPunycode,
    /// The internationalised name breaks the IDNA rules (UTS #46).
    #[error("Domain is not a valid international name")]
    InvalidInternationalName,
}

/// Normalises a domain typed by a user, or read from storage, into the host
/// name Pivotal stores.
///
/// Trims whitespace; drops a scheme (`https://`), user info (`user@`), path,
/// query, fragment, port, a leading `www.` and trailing dots; lower-cases;
/// converts an internationalised name to punycode (UTS #46); then checks the
/// result with [`validate_host`]. Blank input is `Ok(None)`: the domain is
/// optional.
///
/// `https://www.Acme.com/pricing` → `acme.com`; `Bücher.de` → `xn--bcher-kva.de`.
///
/// # Errors
///
/// A [`DomainError`] saying why what is left is not a customer domain.
pub fn normalize_domain(input: &str) -> Result<Option<String>, DomainError> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    let host = clean(input)?;
    validate_host(&host)?;
    Ok(Some(host.into_owned()))
}

/// Checks that `host` already is a host name as Pivotal stores it.
///
/// That is: lower-case ASCII, no scheme, path, port or trailing dot, at most
/// 253 characters, at least two labels of 1–63 characters from `[a-z0-9-]`
/// that neither start nor end with `-`, a top-level label that is not all
/// digits, and internationalised labels only as valid punycode (`xn--…`).
/// `www.acme.com` is valid: only [`normalize_domain`] drops the `www.`.
///
/// # Errors
///
/// A [`DomainError`] for the first rule that `host` breaks.
pub fn validate_host(host: &str) -> Result<(), DomainError> {
    if host.is_empty() {
        return Err(DomainError::Empty);
    }
    if is_ip_address(host) {
        return Err(DomainError::IpAddress);
    }
    if host.contains([':', '/', '?', '#']) {
        return Err(DomainError::NotBareHost);
    }
    if host.ends_with('.') {
        return Err(DomainError::TrailingDot);
    }
    check_chars(host)?;
    if host.len() > MAX_HOST_LEN {
        return Err(DomainError::TooLong);
    }
    if !host.contains('.') {
        return Err(DomainError::NoDot);
    }
    host.split('.').try_for_each(check_label)?;
    if host.rsplit('.').next().is_some_and(is_all_digits) {
        return Err(DomainError::NumericTopLevel);
    }
    check_punycode(host)
}

/// The key under which customers with the same domain are grouped (the
/// contract's "Duplicate domains" rule), or `None` when the domain is absent
/// or blank and so never matches another.
///
/// The key is the [`normalize_domain`] form. Stored values may have been
/// imported verbatim from a CRM, so a value that fails validation still gets
/// a key: the lower-cased text left after the same clean-up steps (`Acme`
/// gives `acme`). Runs for every customer at start-up, so a value that is
/// already normalised takes a fast path that only copies it.
#[must_use]
pub fn duplicate_key(stored: Option<&str>) -> Option<String> {
    let stored = stored?.trim();
    if stored.is_empty() {
        return None;
    }
    if is_already_key(stored) {
        return Some(stored.to_owned());
    }
    let key = clean(stored).unwrap_or_else(|_| clean_leniently(stored));
    (!key.is_empty()).then(|| key.into_owned())
}

/// Applies every clean-up step of [`normalize_domain`] but judges nothing
/// beyond the IDNA conversion. `input` must already be trimmed.
fn clean(input: &str) -> Result<Cow<'_, str>, DomainError> {
    let host = strip_url_parts(input);
    let host = if host.is_ascii() {
        lowercase_ascii(host)
    } else {
        idna::domain_to_ascii_cow(host.as_bytes(), AsciiDenyList::EMPTY)
            .map_err(|_| DomainError::InvalidInternationalName)?
    };
    Ok(strip_www_and_trailing_dots(host))
}

/// The fallback of [`duplicate_key`] for text that IDNA cannot convert:
/// the same steps as [`clean`], with Unicode lower-casing instead.
fn clean_leniently(input: &str) -> Cow<'_, str> {
    strip_www_and_trailing_dots(Cow::Owned(strip_url_parts(input).to_lowercase()))
}

/// True when `s` is already its own duplicate key, so the full clean-up can
/// be skipped: only `[a-z0-9.-]`, no leading `www.`, no trailing dot.
fn is_already_key(s: &str) -> bool {
    !s.starts_with("www.") && !s.ends_with('.') && s.bytes().all(|b| b == b'.' || is_host_byte(b))
}

/// Removes the URL parts around a host: scheme, user info, path, query,
/// fragment and port. An IPv6 literal keeps its brackets so that it can be
/// recognised, and rejected, later.
fn strip_url_parts(input: &str) -> &str {
    let rest = strip_scheme(input);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_and_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_userinfo, host)| host);
    strip_port(host_and_port)
}

/// Drops a leading `scheme://` (any case), or the `//` of a scheme-relative URL.
fn strip_scheme(input: &str) -> &str {
    match input.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => rest,
        _ => input.strip_prefix("//").unwrap_or(input),
    }
}

/// An RFC 3986 scheme: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Drops a `:port` suffix. `[v6]:port` keeps `[v6]`; text with several
/// colons and no brackets (a bare IPv6 address) is left whole.
fn strip_port(host_and_port: &str) -> &str {
    if host_and_port.starts_with('[') {
        return host_and_port
            .find(']')
            .map_or(host_and_port, |end| &host_and_port[..=end]);
    }
    match host_and_port.split_once(':') {
        Some((host, port)) if !port.contains(':') => host,
        _ => host_and_port,
    }
}

/// ASCII lower-casing that borrows when there is nothing to change.
fn lowercase_ascii(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Drops one leading `www.` and then every trailing dot, so `www.` alone
/// becomes empty. Borrowed text stays borrowed.
fn strip_www_and_trailing_dots(host: Cow<'_, str>) -> Cow<'_, str> {
    match host {
        Cow::Borrowed(s) => Cow::Borrowed(without_www_and_trailing_dots(s)),
        Cow::Owned(s) => {
            let trimmed = without_www_and_trailing_dots(&s);
            if trimmed.len() == s.len() {
                Cow::Owned(s)
            } else {
                Cow::Owned(trimmed.to_owned())
            }
        }
    }
}

fn without_www_and_trailing_dots(s: &str) -> &str {
    s.strip_prefix("www.").unwrap_or(s).trim_end_matches('.')
}

/// An IPv4 address (also the short forms such as `10.1`), an IPv6 address,
/// or a bracketed IPv6 literal.
fn is_ip_address(host: &str) -> bool {
    host.starts_with('[')
        || host.parse::<IpAddr>().is_ok()
        || (host.contains('.') && host.split('.').all(is_all_digits))
}

/// Rejects the first character a stored host name can't hold.
fn check_chars(host: &str) -> Result<(), DomainError> {
    match host.chars().find(|&c| !is_host_char(c)) {
        None => Ok(()),
        Some(c) if c.is_ascii_uppercase() => Err(DomainError::NotLowercase),
        Some(c) if !c.is_ascii() => Err(DomainError::NotPunycode),
        Some(c) => Err(DomainError::InvalidChar(c)),
    }
}

/// Checks the length and hyphens of one label, which holds only `[a-z0-9-]`.
fn check_label(label: &str) -> Result<(), DomainError> {
    if label.is_empty() || label.len() > MAX_LABEL_LEN {
        return Err(DomainError::LabelLength);
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(DomainError::HyphenAtEdge);
    }
    Ok(())
}

/// Checks that every `xn--` label is punycode that IDNA accepts and would
/// itself produce, so that one name has exactly one stored spelling.
fn check_punycode(host: &str) -> Result<(), DomainError> {
    if !host
        .split('.')
        .any(|label| label.starts_with(PUNYCODE_PREFIX))
    {
        return Ok(());
    }
    let (unicode, decoded) =
        Uts46::new().to_unicode(host.as_bytes(), AsciiDenyList::STD3, Hyphens::Allow);
    let round_trip = idna::domain_to_ascii_cow(unicode.as_bytes(), AsciiDenyList::STD3);
    match (decoded, round_trip) {
        (Ok(()), Ok(ascii)) if ascii == host => Ok(()),
        _ => Err(DomainError::InvalidInternationalName),
    }
}

/// A character allowed in a stored host name: `[a-z0-9.-]`.
fn is_host_char(c: char) -> bool {
    c == '.' || u8::try_from(c).is_ok_and(is_host_byte)
}

/// A byte allowed inside a label: `[a-z0-9-]`.
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
}

fn is_all_digits(label: &str) -> bool {
    !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit())
}

/// Shows a rejected character safely: quoted when printable ASCII, as its
/// code point otherwise, so a control character never reaches the terminal.
fn shown(c: char) -> String {
    if c == ' ' || c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(input: &str) -> Option<String> {
        normalize_domain(input).unwrap_or_else(|e| panic!("{input:?} was rejected: {e}"))
    }

    #[test]
    fn strips_scheme_path_and_port() {
        let cases = [
            ("https://www.Acme.com/pricing", "acme.com"),
            ("acme.com:443", "acme.com"),
            ("hooli.com.", "hooli.com"),
            ("hooli.com...", "hooli.com"),
            ("  Initech.COM ", "initech.com"),
            ("http://user@globex.io/?q=1#x", "globex.io"),
            ("HTTPS://user:secret@Globex.io:8443/a/b", "globex.io"),
            ("acme.com?ref=mail", "acme.com"),
            ("acme.com#top", "acme.com"),
            ("//cdn.acme.com/x.js", "cdn.acme.com"),
            ("dana@acme.com", "acme.com"),
            ("www.acme.com.", "acme.com"),
            ("sub.www.acme.com", "sub.www.acme.com"),
            ("acme.com/redirect?to=https://evil.com", "acme.com"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalized(input).as_deref(), Some(expected), "{input:?}");
        }
    }

    #[test]
    fn blank_input_is_no_domain() {
        for input in ["", "   ", "\t\n"] {
            assert_eq!(normalize_domain(input), Ok(None), "{input:?}");
        }
    }

    #[test]
    fn converts_international_names_to_punycode() {
        let cases = [
            ("Bücher.de", "xn--bcher-kva.de"),
            ("ÉCOLE.fr", "xn--cole-9oa.fr"),
            ("https://www.bücher.de/katalog", "xn--bcher-kva.de"),
            ("ａｃｍｅ．ｃｏｍ", "acme.com"),
            ("例え.jp", "xn--r8jz45g.jp"),
            ("XN--BCHER-KVA.de", "xn--bcher-kva.de"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalized(input).as_deref(), Some(expected), "{input:?}");
        }
    }

    #[test]
    fn rejects_each_invalid_shape_with_its_reason() {
        let long_label = format!("{}.com", "a".repeat(64));
        let too_long = ["a".repeat(60).as_str(); 5].join(".");
        let cases: [(&str, DomainError); 14] = [
            ("www.", DomainError::Empty),
            ("https://", DomainError::Empty),
            ("/pricing", DomainError::Empty),
            ("acme", DomainError::NoDot),
            ("192.168.0.1", DomainError::IpAddress),
            ("http://10.0.0.1:8080/", DomainError::IpAddress),
            ("[::1]:443", DomainError::IpAddress),
            ("2001:db8::1", DomainError::IpAddress),
            ("acme..com", DomainError::LabelLength),
            ("-acme.com", DomainError::HyphenAtEdge),
            ("acme_corp.com", DomainError::InvalidChar('_')),
            (&long_label, DomainError::LabelLength),
            (&too_long, DomainError::TooLong),
            ("acme.123", DomainError::NumericTopLevel),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_domain(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn rejects_names_that_idna_cannot_convert() {
        for input in [
            "bü\u{200f}cher.de",
            "ü\u{202e}.de",
            "ü\u{fffd}.de",
            "\u{600}ü.de",
        ] {
            assert_eq!(
                normalize_domain(input),
                Err(DomainError::InvalidInternationalName),
                "{input:?}"
            );
        }
    }

    #[test]
    fn accepts_limits_exactly() {
        let label_63 = format!("{}.com", "a".repeat(63));
        assert_eq!(normalized(&label_63), Some(label_63.clone()));
        let host_253 = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(host_253.len(), 253);
        assert_eq!(normalized(&host_253), Some(host_253.clone()));
    }

    #[test]
    fn validate_host_accepts_stored_host_names() {
        for host in [
            "acme.com",
            "www.acme.com",
            "xn--bcher-kva.de",
            "a-b.co.uk",
            "123.example",
            "3com.com",
        ] {
            assert_eq!(validate_host(host), Ok(()), "{host:?}");
        }
    }

    #[test]
    fn validate_host_rejects_what_the_client_would_have_cleaned() {
        let cases = [
            ("Acme.com", DomainError::NotLowercase),
            ("https://acme.com", DomainError::NotBareHost),
            ("acme.com/pricing", DomainError::NotBareHost),
            ("acme.com:443", DomainError::NotBareHost),
            ("acme.com.", DomainError::TrailingDot),
            ("bücher.de", DomainError::NotPunycode),
            (" acme.com", DomainError::InvalidChar(' ')),
            ("user@acme.com", DomainError::InvalidChar('@')),
            ("", DomainError::Empty),
            ("xn--zz.de", DomainError::InvalidInternationalName),
            ("xn--acme.com", DomainError::InvalidInternationalName),
            ("xn--ab-cde.com", DomainError::InvalidInternationalName),
        ];
        for (host, expected) in cases {
            assert_eq!(validate_host(host), Err(expected), "{host:?}");
        }
    }

    #[test]
    fn idn_and_punycode_spellings_match() {
        let unicode = duplicate_key(Some("Bücher.de"));
        assert_eq!(unicode.as_deref(), Some("xn--bcher-kva.de"));
        assert_eq!(duplicate_key(Some("xn--bcher-kva.de")), unicode);
        assert_eq!(duplicate_key(Some("https://www.BÜCHER.de/")), unicode);
    }

    #[test]
    fn duplicate_key_groups_spellings_of_one_domain() {
        let key = duplicate_key(Some("acme.com"));
        assert_eq!(key.as_deref(), Some("acme.com"));
        for spelling in ["https://www.Acme.com/pricing", " ACME.com. ", "acme.com:80"] {
            assert_eq!(duplicate_key(Some(spelling)), key, "{spelling:?}");
        }
    }

    #[test]
    fn duplicate_key_is_none_for_missing_or_blank_domains() {
        for stored in [None, Some(""), Some("   "), Some("https://"), Some("www.")] {
            assert_eq!(duplicate_key(stored), None, "{stored:?}");
        }
    }

    #[test]
    fn duplicate_key_keeps_messy_imported_values() {
        let cases = [
            ("Acme", "acme"),
            ("https://ACME/", "acme"),
            ("acme_corp.com", "acme_corp.com"),
            ("192.168.0.1", "192.168.0.1"),
            ("Ünïcode Corp", "xn--ncode corp-68a8m"),
            ("https://ÜBER\u{fffd}Corp.de/", "über\u{fffd}corp.de"),
        ];
        for (stored, expected) in cases {
            assert_eq!(
                duplicate_key(Some(stored)).as_deref(),
                Some(expected),
                "{stored:?}"
            );
        }
    }

    #[test]
    fn duplicate_key_fast_path_agrees_with_full_normalisation() {
        for stored in [
            "acme.com",
            "a.b.c",
            "xn--bcher-kva.de",
            "acme",
            ".acme.com",
            "a--b",
        ] {
            assert!(is_already_key(stored), "{stored:?}");
            assert_eq!(
                clean(stored).as_deref(),
                Ok(stored),
                "fast path must give what the full steps give for {stored:?}"
            );
        }
    }

    #[test]
    fn error_messages_never_echo_control_characters() {
        assert_eq!(
            DomainError::InvalidChar('\u{1b}').to_string(),
            "Domain can't contain U+001B (only letters, digits, '-' and '.')"
        );
        assert_eq!(
            DomainError::InvalidChar('_').to_string(),
            "Domain can't contain '_' (only letters, digits, '-' and '.')"
        );
        for input in ["acme\u{7}.com", "bü\u{7}cher.de"] {
            assert_eq!(
                normalize_domain(input).map_err(|e| e.to_string()),
                Err("Domain can't contain U+0007 (only letters, digits, '-' and '.')".to_owned()),
                "{input:?}"
            );
        }
    }
}
