//! The archived view: its own title (`Archived · 12`), a table of the
//! archived customers with when each was archived, or which record a
//! merge put it into (`merged into #1003 on 2026-12-01`), and its filter
//! line. Drawn from state only.

use ratatui::Frame;
use ratatui::layout::{Constraint, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Clear, Paragraph, Row, Table};
use unicode_width::UnicodeWidthStr;

use super::super::format;
use super::super::mode::ArchivedView;
use super::super::state::State;
use super::Areas;
use super::list::id_width;
use crate::sync::ArchivedEntry;

const COLUMN_SPACING: u16 = 1;

/// The whole view: title, table, and the filter line while it is typed.
pub fn render(state: &State, view: &ArchivedView, frame: &mut Frame, areas: &Areas) {
    title(state, view, frame, areas.title);
    table(state, view, frame, areas.main);
    if view.editing {
        filter_line(state, view, frame, areas.hints);
    }
}

/// The row of the archived view drawn at line `y` of `area`, if any (the
/// first line is the column titles).
pub fn row_at(view: &ArchivedView, area: Rect, y: u16) -> Option<usize> {
    let line = usize::from(y.checked_sub(area.y)?.checked_sub(1)?);
    let row = view.offset + line;
    (row < view.shown.len()).then_some(row)
}

/// What the row says of its archive: the merge that made it, else the
/// date it was archived (its last change).
pub fn archived_note(archived: &ArchivedEntry) -> String {
    match &archived.merged_into {
        Some(merged) => format!(
            "merged into #{} on {}",
            merged.keeper_display_id,
            format::date(merged.at)
        ),
        None => format::date(archived.entry.updated_at),
    }
}

fn title(state: &State, view: &ArchivedView, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let g = theme.glyphs;
    let mut spans = vec![Span::styled("Archived", theme.title()), Span::raw(g.dot)];
    match &view.rows {
        None => spans.push(Span::raw(format!("loading{}", g.ellipsis))),
        Some(rows) if view.filter.value().trim().is_empty() => {
            spans.push(Span::raw(format::count(rows.len())));
        }
        Some(rows) => {
            spans.push(Span::raw(format!(
                "{} of {}",
                format::count(view.shown.len()),
                format::count(rows.len())
            )));
            spans.push(Span::raw(g.dot));
            spans.push(Span::styled(
                format!("filter: {}", view.filter.value().trim()),
                theme.key(),
            ));
        }
    }
    let arrow = g.sort_arrow(view.sort.descending());
    let right = format!("sort: {} {arrow}", view.sort.column.name());
    frame.render_widget(Clear, area);
    super::title_line(frame, area, theme, Line::from(spans), right);
}

fn table(state: &State, view: &ArchivedView, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let g = theme.glyphs;
    let Some(rows) = &view.rows else {
        let text = format!("Reading the archived customers{}", g.ellipsis);
        frame.render_widget(Paragraph::new(Span::styled(text, theme.dim())), area);
        return;
    };
    if view.shown.is_empty() {
        let text = if rows.is_empty() {
            "No archived customers"
        } else {
            "No archived customer matches the filter"
        };
        frame.render_widget(Paragraph::new(Span::styled(text, theme.dim())), area);
        return;
    }
    let visible = usize::from(area.height.saturating_sub(1));
    let on_screen: Vec<(usize, &ArchivedEntry)> = (view.offset..view.shown.len())
        .take(visible)
        .filter_map(|row| view.at(row).map(|a| (row, a)))
        .collect();
    let notes: Vec<String> = on_screen.iter().map(|(_, a)| archived_note(a)).collect();
    let largest = rows.iter().map(|a| a.entry.display_id).max().unwrap_or(0);
    let id = id_width(largest);
    let note = notes
        .iter()
        .map(|n| n.width())
        .max()
        .unwrap_or(0)
        .max("Archived".len());
    let note = u16::try_from(note).unwrap_or(u16::MAX);
    let rest = area
        .width
        .saturating_sub(id + note + 3 * COLUMN_SPACING)
        .max(8);
    let name = rest.saturating_mul(3) / 5;
    let domain = rest - name;
    let widths = [id, name, domain, note];
    let arrow = g.sort_arrow(view.sort.descending());
    let header = Row::new(["#", "Name", "Domain", "Archived"].map(|title| {
        let sorted = matches!(
            (title, view.sort.column.name()),
            ("#", "#id") | ("Name", "name") | ("Domain", "domain") | ("Archived", "updated")
        );
        if sorted {
            Cell::from(format!("{title} {arrow}"))
        } else {
            Cell::from(title)
        }
    }))
    .style(theme.column_header());
    let lines = on_screen.iter().zip(&notes).map(|((row, archived), note)| {
        let selected = *row == view.selected;
        let entry = &archived.entry;
        let number = if selected && theme.screen_reader {
            format!(">{}", entry.display_id)
        } else {
            format!("#{}", entry.display_id)
        };
        let cut = |text: &str, width: u16| g.truncate(text, usize::from(width)).into_owned();
        let domain_text = entry.domain.as_deref().unwrap_or(g.blank);
        let cells = [
            Cell::from(Span::styled(number, theme.dim())),
            Cell::from(cut(&entry.name, name)),
            Cell::from(cut(domain_text, domain)),
            Cell::from(note.clone()),
        ];
        let style = if selected {
            theme.selected()
        } else {
            Style::new()
        };
        Row::new(cells).style(style)
    });
    let table = Table::new(lines, widths.map(Constraint::Length))
        .header(header)
        .column_spacing(COLUMN_SPACING);
    frame.render_widget(table, area);
    if theme.screen_reader
        && let Some(line) = view.selected.checked_sub(view.offset)
        && let Ok(line) = u16::try_from(line + 1)
        && line < area.height
    {
        frame.set_cursor_position(Position::new(area.x, area.y + line));
    }
}

fn filter_line(state: &State, view: &ArchivedView, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let total = view.rows.as_ref().map_or(0, Vec::len);
    let count = format!(
        "  {} of {}",
        format::count(view.shown.len()),
        format::count(total)
    );
    let value = view.filter.value();
    let room = usize::from(area.width).saturating_sub(count.width() + 2);
    let scroll = view.filter.visual_scroll(room);
    let shown: String = value.chars().skip(scroll).collect();
    let shown = theme.glyphs.truncate(&shown, room).into_owned();
    let cursor = view.filter.visual_cursor().saturating_sub(scroll);
    let spans = vec![
        Span::styled("/", theme.key()),
        Span::raw(shown),
        Span::styled(count, theme.dim()),
    ];
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    let column = u16::try_from(cursor + 1).unwrap_or(u16::MAX);
    if column < area.width {
        frame.set_cursor_position(Position::new(area.x + column, area.y));
    }
}
