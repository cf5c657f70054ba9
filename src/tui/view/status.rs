//! Fitting the status line to the screen: its parts, each with a priority,
//! are dropped or shortened (whole words, ending in `…`) from the least
//! important, so the most important part (offline, pending changes, an
//! error) always survives. Pure text layout; no state.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::super::theme::Glyphs;
/// A part shortened to fewer columns than this is dropped instead, unless
/// it is the last one left.
const SHORTEST: usize = 12;
/// A message longer than this is cut (whole words) to keep a less
/// important part that says how things stand (`synced 3m ago`).
const LONG: usize = 48;

/// How much a part matters; higher survives longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Context: the undo hint, how old the cache shown is.
    Aside,
    /// All is well: `synced 3m ago`.
    Calm,
    /// Work under way: syncing.
    Busy,
    /// Something the user must know: offline, changes pending, an error.
    Vital,
}

/// One part of the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub text: String,
    pub style: Style,
    pub priority: Priority,
}

impl Part {
    pub fn new(text: impl Into<String>, style: Style, priority: Priority) -> Part {
        Part {
            text: text.into(),
            style,
            priority,
        }
    }
}

/// The parts that fit in `width` columns, in order, as one line, with
/// `glyphs`' separator between parts and its ellipsis ending a cut one.
pub fn fit(mut parts: Vec<Part>, width: usize, glyphs: &Glyphs) -> Line<'static> {
    let separator = glyphs.dot;
    parts.retain(|p| !p.text.is_empty());
    loop {
        let total: usize = parts.iter().map(|p| p.text.width()).sum::<usize>()
            + separator.width() * parts.len().saturating_sub(1);
        if total <= width || parts.is_empty() {
            break;
        }
        let excess = total - width;
        // The least important part, the rightmost of equals.
        let Some(at) = (0..parts.len()).rev().min_by_key(|&i| parts[i].priority) else {
            break;
        };
        // Before a part that says how things stand goes, a long message
        // above it gives up its tail (down to [`LONG`]), so both show.
        if parts[at].priority > Priority::Aside {
            let longest = (0..parts.len())
                .filter(|&i| parts[i].priority > parts[at].priority)
                .max_by_key(|&i| parts[i].text.width())
                .filter(|&i| parts[i].text.width() > LONG);
            if let Some(long) = longest {
                let room = parts[long].text.width().saturating_sub(excess).max(LONG);
                parts[long].text = shorten(&parts[long].text, room, glyphs);
                continue;
            }
        }
        let room = parts[at].text.width().saturating_sub(excess);
        if room >= SHORTEST || parts.len() == 1 {
            parts[at].text = shorten(&parts[at].text, room, glyphs);
            if parts[at].text.is_empty() {
                parts.remove(at);
            }
        } else {
            parts.remove(at);
        }
    }
    let mut spans = Vec::with_capacity(parts.len() * 2);
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(separator));
        }
        spans.push(Span::styled(part.text, part.style));
    }
    Line::from(spans)
}

/// `text` in at most `width` columns, cut after a whole word and ending in
/// `…`; a first word too long for the room is cut where it must be.
fn shorten(text: &str, width: usize, glyphs: &Glyphs) -> String {
    let ellipsis = glyphs.ellipsis;
    if text.width() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut kept = String::new();
    for word in text.split(' ') {
        let candidate = if kept.is_empty() {
            word.to_owned()
        } else {
            format!("{kept} {word}")
        };
        if candidate.width() + ellipsis.width() > width {
            break;
        }
        kept = candidate;
    }
    let separators: &[char] = if glyphs.ascii {
        &[' ', '|', '-', '(', ',']
    } else {
        &[' ', '·', '—', '(', ',']
    };
    let kept = kept.trim_end_matches(separators).to_owned();
    if kept.is_empty() {
        return glyphs.truncate(text, width).into_owned();
    }
    format!("{kept}{ellipsis}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::UNICODE;

    fn fit(parts: Vec<Part>, width: usize) -> Line<'static> {
        super::fit(parts, width, &UNICODE)
    }

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn part(text: &str, priority: Priority) -> Part {
        Part::new(text, Style::new(), priority)
    }

    #[test]
    fn everything_shows_when_it_fits() {
        let line = fit(
            vec![
                part("synced just now", Priority::Calm),
                part("2 pending", Priority::Vital),
            ],
            80,
        );
        assert_eq!(text(&line), "synced just now · 2 pending");
    }

    #[test]
    fn the_least_important_part_goes_first_and_the_vital_one_stays_whole() {
        let parts = vec![
            part("Archived #1052 — u to undo", Priority::Aside),
            part(
                "offline — retrying in 8s (connection refused)",
                Priority::Vital,
            ),
            part("showing cache from 20s ago", Priority::Aside),
            part("2 pending (connection refused)", Priority::Vital),
        ];
        for width in [120, 100, 80, 60] {
            let shown = text(&fit(parts.clone(), width));
            assert!(shown.width() <= width, "{width}: {shown}");
            assert!(shown.contains("pending"), "{width}: {shown}");
            assert!(
                shown.contains("offline — retrying in 8s"),
                "{width}: {shown}"
            );
        }
        let at_80 = text(&fit(parts, 80));
        assert!(!at_80.contains("undo"), "{at_80}");
    }

    #[test]
    fn a_part_is_shortened_after_a_whole_word() {
        let shown = text(&fit(
            vec![
                part("offline — retrying in 8s", Priority::Vital),
                part(
                    "2 pending (connection refused by the server)",
                    Priority::Vital,
                ),
            ],
            50,
        ));
        assert_eq!(shown, "offline — retrying in 8s · 2 pending (connection…");
    }

    #[test]
    fn one_part_alone_is_cut_to_the_width() {
        let shown = text(&fit(vec![part("synchronising", Priority::Vital)], 6));
        assert_eq!(shown.width(), 6);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn a_long_message_gives_up_its_tail_so_the_sync_state_still_shows() {
        let shown = text(&fit(
            vec![
                part("synced 10s ago", Priority::Calm),
                part(
                    "config.toml: refresh_interval_secs: 9223372036854775807 is too long; use 10 to 86400 seconds",
                    Priority::Vital,
                ),
            ],
            100,
        ));
        assert!(
            shown.starts_with("synced 10s ago · config.toml:"),
            "{shown}"
        );
        assert!(shown.width() <= 100 && shown.ends_with('…'), "{shown}");
    }
}
