//! Small text formatting for the screen: counts with separators, relative
//! times, and truncation by display width (CJK and emoji are two columns).

use std::borrow::Cow;

use time::OffsetDateTime;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// `1204` → `1,204`.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// How long ago `then` was, in a few characters: `just now`, `40s ago`,
/// `3m ago`, `5h ago`, `12d ago`. Seconds are shown in tens so the text
/// changes at most every ten seconds.
pub fn ago(now: OffsetDateTime, then: OffsetDateTime) -> String {
    match ago_step((now - then).whole_seconds()) {
        (0, _) => "just now".to_owned(),
        (1, tens) => format!("{}s ago", tens * 10),
        (2, minutes) => format!("{minutes}m ago"),
        (3, hours) => format!("{hours}h ago"),
        (_, days) => format!("{days}d ago"),
    }
}

/// Which text [`ago`] shows for `secs` seconds, as (unit, count): the
/// text changes exactly when this does, so a caller can tell without
/// formatting.
pub fn ago_step(secs: i64) -> (u8, i64) {
    let secs = secs.max(0);
    match secs {
        0..10 => (0, 0),
        10..60 => (1, secs / 10),
        60..3600 => (2, secs / 60),
        3600..86_400 => (3, secs / 3600),
        _ => (4, secs / 86_400),
    }
}

/// How long ago the last sync was, for the status line: `just now` for
/// the whole first minute, then `3 min ago`, `2 h ago`, `4 d ago`, so an
/// idle screen changes at most once a minute (the list's `40s ago` would
/// change every ten seconds).
pub fn staleness(now: OffsetDateTime, then: OffsetDateTime) -> String {
    match staleness_step((now - then).whole_seconds()).0 {
        (0, _) => "just now".to_owned(),
        (1, minutes) => format!("{minutes} min ago"),
        (2, hours) => format!("{hours} h ago"),
        (_, days) => format!("{days} d ago"),
    }
}

/// Which text [`staleness`] shows for `secs` seconds, as (unit, count),
/// and the length of that unit in seconds: the text changes exactly when
/// the step does.
pub fn staleness_step(secs: i64) -> ((u8, i64), i64) {
    let secs = secs.max(0);
    match secs {
        0..60 => ((0, 0), 60),
        60..3600 => ((1, secs / 60), 60),
        3600..86_400 => ((2, secs / 3600), 3600),
        _ => ((3, secs / 86_400), 86_400),
    }
}

/// A timestamp as `2026-11-26 10:00 UTC`.
pub fn timestamp(t: OffsetDateTime) -> String {
    let d = t.date();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        d.year(),
        u8::from(d.month()),
        d.day(),
        t.hour(),
        t.minute()
    )
}

/// A date as `2026-11-26`.
pub fn date(t: OffsetDateTime) -> String {
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `text` in lines of at most `width` columns, broken between words (a
/// word longer than a line is cut where it must be).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let needed = if line.is_empty() { 0 } else { 1 } + word.width();
        if line.width() + needed > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word;
        while rest.width() > width {
            let cut = truncate(rest, width + 1);
            let head: String = cut.trim_end_matches('…').to_owned();
            let taken = head
                .len()
                .max(rest.chars().next().map_or(1, char::len_utf8));
            lines.push(rest[..taken].to_owned());
            rest = &rest[taken..];
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(rest);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Cuts `s` to at most `width` columns, ending in `…` when cut.
pub fn truncate(s: &str, width: usize) -> Cow<'_, str> {
    cut(s, width, "…")
}

/// Cuts `s` to at most `width` columns, ending in `ellipsis` when cut (or
/// in as much of it as fits, when even that is too wide).
pub fn cut<'a>(s: &'a str, width: usize, ellipsis: &str) -> Cow<'a, str> {
    if s.width() <= width {
        return Cow::Borrowed(s);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let room = match width.checked_sub(ellipsis.width()) {
        Some(room) => room,
        None => return Cow::Owned(ellipsis.chars().take(width).collect()),
    };
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push_str(ellipsis);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_breaks_between_words_and_never_passes_the_width() {
        assert_eq!(
            wrap("HubSpot sync: seats changed from 200 to 240", 16),
            ["HubSpot sync:", "seats changed", "from 200 to 240"]
        );
        assert_eq!(wrap("", 10), [""]);
        for line in wrap("a-very-long-unbroken-word then more", 7) {
            assert!(line.width() <= 7, "{line}");
        }
    }

    #[test]
    fn the_step_of_ago_changes_exactly_when_its_text_does() {
        let then = datetime!(2026-11-26 10:00 UTC);
        let text = |secs: i64| ago(then + time::Duration::seconds(secs), then);
        let mut secs = 0;
        while secs < 200_000 {
            let next = secs + 7;
            assert_eq!(
                ago_step(secs) == ago_step(next),
                text(secs) == text(next),
                "{secs}s and {next}s"
            );
            secs = next;
        }
    }
    use time::macros::datetime;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_204), "1,204");
        assert_eq!(count(100_000), "100,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn relative_times_are_coarse() {
        let now = datetime!(2026-11-27 10:00:00 UTC);
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now, now - time::Duration::seconds(12)), "10s ago");
        assert_eq!(ago(now, now - time::Duration::seconds(190)), "3m ago");
        assert_eq!(ago(now, now - time::Duration::hours(5)), "5h ago");
        assert_eq!(ago(now, now + time::Duration::seconds(5)), "just now");
    }

    #[test]
    fn truncation_counts_columns_not_bytes() {
        assert_eq!(truncate("Acme", 10), "Acme");
        assert_eq!(truncate("Acme Corporation", 8), "Acme Co…");
        assert_eq!(truncate("株式会社サクラ精機", 7), "株式会…");
        assert!(truncate("株式会社サクラ精機", 7).width() <= 7);
        assert_eq!(truncate("abc", 0), "");
    }
}
