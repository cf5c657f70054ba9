//! [`ApiKey`]: the Pivotal API key, a secret.
//!
//! Owns the only copy of the key inside the client. It must never print,
//! log, serialise or copy the secret into an error: `Debug` and `Display`
//! show the mode prefix and a mask, and [`ApiKey::expose`] is the single way
//! to read it (for the `Authorization` header).

use std::fmt;

use super::ApiError;

/// Mode prefixes that are safe to show, most specific first.
const SHOWN_PREFIXES: [&str; 2] = ["pk_live_", "pk_test_"];

/// What is shown for a key with neither known mode prefix.
const GENERIC_PREFIX: &str = "pk_";

/// A Pivotal API key (`pk_live_…` / `pk_test_…`).
///
/// `Debug` and `Display` print only the mode prefix and a mask, e.g.
/// `pk_live_…****`; there is no `Serialize` and no `Clone`.
pub struct ApiKey {
    secret: String,
}

impl ApiKey {
    /// Wraps a key, refusing one that is empty or holds whitespace, control
    /// or non-ASCII characters (none can be sent in an HTTP header as is).
    /// The error never contains the key.
    pub fn new(secret: String) -> Result<ApiKey, ApiError> {
        if let Some(problem) = problem_with(&secret) {
            return Err(ApiError::config(format!("the API key {problem}")));
        }
        Ok(ApiKey { secret })
    }

    /// Whether `secret` looks like a Pivotal API key: `pk_live_` or
    /// `pk_test_` and more after it, nothing a header cannot carry. For
    /// keys that arrive unchecked (`PIVOTAL_API_KEY`); a stored key was
    /// checked with Pivotal when it was stored.
    #[must_use]
    pub fn has_pivotal_format(secret: &str) -> bool {
        SHOWN_PREFIXES
            .into_iter()
            .any(|prefix| secret.len() > prefix.len() && secret.starts_with(prefix))
            && problem_with(secret).is_none()
    }

    /// The secret itself. This is the only way to read it; use it only to
    /// build the `Authorization` header, never to print or log.
    pub fn expose(&self) -> &str {
        &self.secret
    }

    /// The part of the key that may be shown: its mode prefix.
    fn shown_prefix(&self) -> &'static str {
        SHOWN_PREFIXES
            .into_iter()
            .find(|prefix| self.secret.starts_with(prefix))
            .unwrap_or(GENERIC_PREFIX)
    }
}

/// Why a key is unusable, as the end of a sentence, or `None` if it is fine.
fn problem_with(secret: &str) -> Option<&'static str> {
    if secret.is_empty() {
        Some("is empty")
    } else if secret.chars().any(char::is_whitespace) {
        Some("contains whitespace")
    } else if secret.chars().any(char::is_control) {
        Some("contains a control character")
    } else if !secret.is_ascii() {
        Some("contains a non-ASCII character")
    } else {
        None
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…****", self.shown_prefix())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ApiKey {
        ApiKey::new(s.to_owned()).expect("valid key")
    }

    #[test]
    fn debug_and_display_show_the_mode_prefix_and_a_mask_only() {
        let live = key("pk_live_s3cr3tvalue");
        assert_eq!(live.to_string(), "pk_live_…****");
        assert_eq!(format!("{live:?}"), "pk_live_…****");
        assert!(!format!("{live} {live:?} {live:#?}").contains("s3cr3t"));

        assert_eq!(key("pk_test_s3cr3tvalue").to_string(), "pk_test_…****");
        assert_eq!(format!("{:?}", key("sk_s3cr3tvalue")), "pk_…****");
        assert_eq!(key("pk_s3cr3tvalue").to_string(), "pk_…****");
    }

    #[test]
    fn expose_returns_the_secret() {
        assert_eq!(key("pk_live_s3cr3tvalue").expose(), "pk_live_s3cr3tvalue");
    }

    #[test]
    fn only_live_and_test_keys_have_the_pivotal_format() {
        for good in ["pk_live_s3cr3t", "pk_test_demo"] {
            assert!(ApiKey::has_pivotal_format(good), "{good}");
        }
        for bad in [
            "",
            "pk_live_",
            "pk_test_",
            "pk_s3cr3t",
            "sk_live_s3cr3t",
            "s3cr3t",
            "pk_live_s3cr3t value",
            "pk_live_s3cr3tvalué",
            " pk_live_s3cr3t",
        ] {
            assert!(!ApiKey::has_pivotal_format(bad), "{bad}");
        }
    }

    #[test]
    fn unusable_keys_are_refused_without_echoing_them() {
        let bad = [
            "",
            "   ",
            "pk_live_s3cr3t value",
            "pk_live_s3cr3tvalue\n",
            "pk_live_s3cr3t\u{7}value",
            "pk_live_s3cr3tvalué",
        ];
        for secret in bad {
            let err = ApiKey::new(secret.to_owned()).expect_err(secret);
            assert!(matches!(err, ApiError::Config { .. }), "{err:?}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("s3cr3t"), "{shown}");
        }
    }
}
