//! The characters the app draws itself: borders, the focus marker, arrows,
//! the ellipsis of cut text, the spinner, separators, the mark of a row
//! waiting to be saved, the blank of an empty value. Two sets: Unicode,
//! and ASCII for terminals that cannot show more (a locale that is not
//! UTF-8, `TERM=linux` or `vt100`, `ascii = true`, `--ascii`).
//!
//! One set is chosen at start and carried by the [`Theme`](super::Theme);
//! views read it and never test for ASCII themselves. Customer data is
//! never translated: [`Glyphs::text`] is only for the app's own words
//! (key labels, validation messages).

use std::borrow::Cow;

use ratatui::symbols::border;

use super::super::format;

/// The characters of one set.
#[derive(Debug, PartialEq, Eq)]
pub struct Glyphs {
    /// True for the ASCII set.
    pub ascii: bool,
    /// The end of text cut to fit: `…` or `...`.
    pub ellipsis: &'static str,
    /// An empty value: `—` or `-`.
    pub blank: &'static str,
    /// Between two clauses of a sentence: ` — ` or ` - `.
    pub dash: &'static str,
    /// Between two items on a line: ` · ` or ` | `.
    pub dot: &'static str,
    /// Between two columns of text: ` │ ` or ` | `.
    pub rule: &'static str,
    /// Before the item in focus, two columns: `▸ ` or `> `.
    pub marker: &'static str,
    /// A folded section (`▸`) and an unfolded one (`▾`).
    pub folded: &'static str,
    pub unfolded: &'static str,
    pub up: &'static str,
    pub down: &'static str,
    /// "Becomes" or "offers", before a value: `→` or `->`.
    pub right: &'static str,
    /// The id of a customer not saved yet, one column: `⋯` or `*`.
    pub pending: &'static str,
    /// Before the form's question: `›` or `>`.
    pub prompt: &'static str,
    /// Before the record a merge keeps, two columns: `✓ ` or `+ `.
    pub keeper: &'static str,
    /// "Comes from", before the record a merged value is taken from: `←`
    /// or `<-`.
    pub from: &'static str,
    /// Before the count of a likely-duplicate group (same name): `≈` or `~`.
    pub likely: &'static str,
    /// A rule before a heading: `─` or `-`.
    pub line: &'static str,
    /// The frames of the sync spinner.
    pub spinner: &'static [&'static str],
    pub border: border::Set<'static>,
}

pub const UNICODE: Glyphs = Glyphs {
    ascii: false,
    ellipsis: "…",
    blank: "—",
    dash: " — ",
    dot: " · ",
    rule: " │ ",
    marker: "▸ ",
    folded: "▸",
    unfolded: "▾",
    up: "↑",
    down: "↓",
    right: "→",
    pending: "⋯",
    prompt: "›",
    keeper: "✓ ",
    from: "←",
    likely: "≈",
    line: "─",
    spinner: &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"],
    border: border::PLAIN,
};

pub const ASCII: Glyphs = Glyphs {
    ascii: true,
    ellipsis: "...",
    blank: "-",
    dash: " - ",
    dot: " | ",
    rule: " | ",
    marker: "> ",
    folded: ">",
    unfolded: "v",
    up: "^",
    down: "v",
    right: "->",
    pending: "*",
    prompt: ">",
    keeper: "+ ",
    from: "<-",
    likely: "~",
    line: "-",
    spinner: &["|", "/", "-", "\\"],
    border: border::Set {
        top_left: "+",
        top_right: "+",
        bottom_left: "+",
        bottom_right: "+",
        vertical_left: "|",
        vertical_right: "|",
        horizontal_top: "-",
        horizontal_bottom: "-",
    },
};

/// The app's own typographic characters and what ASCII writes for each.
const PLAIN: &[(char, &str)] = &[
    ('…', "..."),
    ('—', "-"),
    ('–', "-"),
    ('·', "|"),
    ('│', "|"),
    ('▸', ">"),
    ('▾', "v"),
    ('↑', "^"),
    ('↓', "v"),
    ('←', "<-"),
    ('→', "->"),
    ('⋯', "*"),
    ('›', ">"),
    ('✓', "+"),
    ('─', "-"),
];

impl Glyphs {
    /// `text` cut to `width` columns, ending in this set's ellipsis.
    pub fn truncate<'a>(&self, text: &'a str, width: usize) -> Cow<'a, str> {
        format::cut(text, width, self.ellipsis)
    }

    /// The arrow of a sort: `↑`/`↓` or `^`/`v`.
    pub fn sort_arrow(&self, descending: bool) -> &'static str {
        if descending { self.down } else { self.up }
    }

    /// The frame of the spinner shown at `step`.
    pub fn spinner_frame(&self, step: usize) -> &'static str {
        self.spinner[step % self.spinner.len()]
    }

    /// The app's own words (a key label such as `j / ↓`, a validation
    /// message) in this set: unchanged in Unicode, its typographic
    /// characters written out in ASCII. Never for customer data.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.ascii || text.is_ascii() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match PLAIN.iter().find(|(from, _)| *from == c) {
                Some((_, to)) => out.push_str(to),
                None => out.push(c),
            }
        }
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_string(g: &Glyphs) -> Vec<&'static str> {
        let b = g.border;
        let mut all = vec![
            g.ellipsis,
            g.blank,
            g.dash,
            g.dot,
            g.rule,
            g.marker,
            g.folded,
            g.unfolded,
            g.up,
            g.down,
            g.right,
            g.pending,
            g.prompt,
            b.top_left,
            b.top_right,
            b.bottom_left,
            b.bottom_right,
            b.vertical_left,
            b.vertical_right,
            b.horizontal_top,
            b.horizontal_bottom,
        ];
        all.extend(g.spinner);
        all
    }

    #[test]
    fn the_ascii_set_is_ascii_and_the_unicode_one_draws_today_s_borders() {
        for s in every_string(&ASCII) {
            assert!(s.is_ascii(), "{s:?}");
        }
        assert_eq!(UNICODE.border, border::PLAIN);
        assert_eq!(ASCII.spinner.concat(), "|/-\\");
    }

    #[test]
    fn markers_keep_their_width_in_both_sets() {
        use unicode_width::UnicodeWidthStr;
        for (u, a) in [
            (UNICODE.marker, ASCII.marker),
            (UNICODE.folded, ASCII.folded),
            (UNICODE.pending, ASCII.pending),
            (UNICODE.up, ASCII.up),
        ] {
            assert_eq!(u.width(), a.width(), "{u:?} and {a:?}");
        }
    }

    #[test]
    fn the_app_s_words_are_written_out_in_ascii_and_kept_in_unicode() {
        assert_eq!(ASCII.text("j / ↓"), "j / v");
        assert_eq!(ASCII.text("←/→ record"), "<-/-> record");
        assert_eq!(
            ASCII.text("1–63 characters (xn--…)"),
            "1-63 characters (xn--...)"
        );
        assert_eq!(UNICODE.text("j / ↓"), "j / ↓");
    }

    #[test]
    fn cut_text_ends_in_the_set_s_ellipsis_within_the_width() {
        assert_eq!(ASCII.truncate("Acme Corporation", 8), "Acme ...");
        assert_eq!(UNICODE.truncate("Acme Corporation", 8), "Acme Co…");
        assert_eq!(ASCII.truncate("Acme", 4), "Acme");
        assert_eq!(ASCII.truncate("Acme Co", 2), "..");
    }
}
