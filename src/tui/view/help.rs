//! The help overlay: the keys of the screen it covers, generated from the
//! keymap table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::super::keymap::KeyMode;
use super::super::state::State;

pub fn render(state: &State, mode: KeyMode, scroll: u16, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let g = theme.glyphs;
    let mut keys: Vec<(String, &str)> = state
        .keymap
        .help(mode)
        .map(|(keys, description)| (g.text(keys).into_owned(), description))
        .collect();
    if theme.screen_reader {
        keys = one_key_per_line(keys);
    }
    let label_width = keys
        .iter()
        .map(|(keys, _)| keys.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = keys
        .into_iter()
        .map(|(keys, description)| {
            Line::from(vec![
                Span::styled(format!(" {keys:<label_width$}  "), theme.key()),
                Span::raw(description),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " A badge beside a domain counts the live customers sharing it.",
        theme.dim(),
    )));
    let width = (lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 4).min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    // On a short screen the list scrolls; the title says so.
    let overflow = (lines.len() as u16 + 2).saturating_sub(height);
    let scroll = scroll.min(overflow);
    let title = if overflow > 0 {
        format!(" Keys{}j/k scroll, Esc closes ", g.dash)
    } else {
        format!(" Keys{}Esc to close ", g.dash)
    };
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(g.border)
        .border_style(theme.border())
        .title(Span::styled(title, theme.title()));
    frame.render_widget(Clear, popup);
    if theme.screen_reader {
        // The reader starts at the first key.
        let cursor = ratatui::layout::Position::new(popup.x + 2, popup.y + 1);
        if popup.contains(cursor) {
            frame.set_cursor_position(cursor);
        }
    }
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll, 0)),
        popup,
    );
}

/// `j / Down  next customer` as one line per key, for a screen reader.
fn one_key_per_line(keys: Vec<(String, &str)>) -> Vec<(String, &str)> {
    keys.into_iter()
        .flat_map(|(label, description)| {
            label
                .split(" / ")
                .map(|key| (key.trim().to_owned(), description))
                .collect::<Vec<_>>()
        })
        .collect()
}
