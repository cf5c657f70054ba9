//! The link to a customer in Pivotal's web app, shared by the app (`y`,
//! the details) and the commands, so the two never disagree.
//!
//! Pure string logic; no I/O.

use crate::text::sanitize;

/// `https://app.pivotal.app/customers/1042` for `base` and `display_id`;
/// the base is sanitised (it comes from settings or a flag) and a trailing
/// slash is not doubled.
pub fn share_url(base: &str, display_id: u64) -> String {
    format!(
        "{}/customers/{display_id}",
        sanitize(base).trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_joins_the_base_and_the_number_once() {
        assert_eq!(
            share_url("https://app.pivotal.app/", 1042),
            "https://app.pivotal.app/customers/1042"
        );
        assert_eq!(
            share_url("https://x\u{1b}]0;t\u{7}.io", 7),
            "https://x.io/customers/7"
        );
    }
}
