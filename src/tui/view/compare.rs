//! The compare view: every live record sharing a domain, with the merge's
//! result, side by side on wide screens and stacked below 100 columns (the
//! focused record beside the result, every record named above). Fields
//! where two records hold different values are picked out, each record's
//! history is counted (and its latest events shown when wide), the field
//! cursor's row is marked and kept in sight, and every record's full value
//! of that field is written out below the table, so nothing cut is out of
//! reach.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use unicode_width::UnicodeWidthStr;

use super::super::format;
use super::super::merge::{self, Row as Kind};
use super::super::mode::Compare;
use super::super::state::{History, SIDE_PANE_MIN_WIDTH, State};
use super::super::theme::Glyphs;
use super::super::triage;
use crate::domain::Entry;
use crate::domain::merge::{MergeField, Merged, Valued};

/// Labels get the room of the longest, within these bounds.
const LABEL_MIN: u16 = 9;
const LABEL_MAX: u16 = 18;
/// How many of each record's latest history events are shown.
const LATEST_EVENTS: usize = 3;
/// At most this share of the view (1/n) goes to the full values below.
const PANEL_SHARE: u16 = 3;

/// One compared field: its label, each record's value and the result's.
struct Field {
    label: String,
    values: Vec<Option<String>>,
    /// What the merge makes of it (`None`: not merged, e.g. Source).
    result: Option<Valued>,
}

impl Field {
    /// Two or more records hold different values; a value only some have
    /// is a fill, not a conflict.
    fn differs(&self) -> bool {
        let mut held = self.values.iter().flatten();
        let Some(first) = held.next() else {
            return false;
        };
        held.any(|value| value != first)
    }
}

pub fn render(state: &State, compare: &Compare, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let records = triage::compared(state);
    let block = Block::default()
        .borders(Borders::TOP)
        .border_set(theme.glyphs.border)
        .border_style(theme.border())
        .title(Span::styled(title(state, compare, &records), theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let suggestion = merge::suggestion(state, &records);
    let below = below_suggestion(inner, suggestion.is_some());
    let merged = merge::result(state, compare, &records);
    if let Some(suggestion) = suggestion {
        let text = match (&merged, compare.choices.keeper) {
            (Some(m), Some(_)) if m.keeper != suggestion.index => format!(
                "keep #{} (your choice; suggested: {})",
                records[m.keeper].display_id,
                suggestion.reason.trim_start_matches("keep ")
            ),
            _ => suggestion.reason,
        };
        let line = state
            .theme
            .glyphs
            .truncate(&text, usize::from(inner.width))
            .into_owned();
        frame.render_widget(
            Paragraph::new(Span::styled(line, theme.ok())),
            Rect { height: 1, ..inner },
        );
    }
    let fields = fields(state, &records, merged.as_ref());
    let layout = Layout::new(state, &records, &fields, merged.as_ref());
    let panel = panel_lines(state, compare, &layout);
    let [table_area, panel_area] = table_and_panel(below, &panel);
    if area.width >= SIDE_PANE_MIN_WIDTH {
        side_by_side(state, compare, &layout, frame, table_area);
    } else {
        stacked(state, compare, &layout, frame, table_area);
    }
    frame.render_widget(Paragraph::new(panel).wrap(Wrap { trim: false }), panel_area);
}

/// `acme.com · 3 records · group 2 of 8`.
/// The record drawn under `(x, y)`, compare being drawn in `area`: its
/// column side by side (heading, values or events), its name in the list
/// of records above the stacked table. Worked out the way [`render`] lays
/// the view out, so a click lands where the record is drawn.
pub fn record_at(
    state: &State,
    compare: &Compare,
    area: Rect,
    (x, y): (u16, u16),
) -> Option<usize> {
    let records = triage::compared(state);
    let merged = merge::result(state, compare, &records);
    let inner = below_suggestion(
        Block::default().borders(Borders::TOP).inner(area),
        merge::suggestion(state, &records).is_some(),
    );
    let fields = fields(state, &records, merged.as_ref());
    let layout = Layout::new(state, &records, &fields, merged.as_ref());
    let [table, _] = table_and_panel(inner, &panel_lines(state, compare, &layout));
    if !table.contains(ratatui::layout::Position::new(x, y)) {
        return None;
    }
    if area.width >= SIDE_PANE_MIN_WIDTH {
        let n = u16::try_from(records.len() + 1).unwrap_or(u16::MAX);
        let column = table.width.saturating_sub(layout.label + n) / n;
        let into = x.checked_sub(table.x + layout.label + 1)?;
        let i = usize::from(into / (column + 1));
        return (i < records.len() && into % (column + 1) < column).then_some(i);
    }
    let names = summary_names(state, compare, &layout);
    let line = usize::from(y - table.y);
    if summary_width(&names, state.theme.glyphs) > usize::from(table.width) {
        return (line < names.len()).then_some(line);
    }
    if line > 0 {
        return None;
    }
    let rule = state.theme.glyphs.rule.width();
    let mut from = usize::from(table.x);
    for (i, name) in names.iter().enumerate() {
        let to = from + name.width();
        if (from..to).contains(&usize::from(x)) {
            return Some(i);
        }
        from = to + rule;
    }
    None
}

/// `inner` less the line the suggestion takes, when one is `suggested`.
fn below_suggestion(mut inner: Rect, suggested: bool) -> Rect {
    if suggested {
        inner.y = inner.y.saturating_add(1);
        inner.height = inner.height.saturating_sub(1);
    }
    inner
}

/// Labels get the room of the longest, within bounds.
fn label_width(fields: &[Field]) -> u16 {
    let longest = fields.iter().map(|f| f.label.width()).max().unwrap_or(0);
    u16::try_from(longest + 3)
        .unwrap_or(LABEL_MAX)
        .clamp(LABEL_MIN, LABEL_MAX)
}

/// The table's room and, below it, the panel's (at most 1/[`PANEL_SHARE`]).
fn table_and_panel(inner: Rect, panel: &[Line]) -> [Rect; 2] {
    let panel_height = wrapped_height(panel, inner.width).min(inner.height / PANEL_SHARE);
    ratatui::layout::Layout::vertical([Constraint::Min(0), Constraint::Length(panel_height)])
        .areas(inner)
}

fn title(state: &State, compare: &Compare, records: &[&Entry]) -> String {
    let dot = state.theme.glyphs.dot;
    let domain = match crate::domain::customers::as_name_group(&compare.key) {
        Some(_) => format!("{}{dot}same name", triage::group_label(state, &compare.key)),
        None => records
            .first()
            .and_then(|e| e.domain_key())
            .unwrap_or(&compare.key)
            .to_owned(),
    };
    let group = match triage::group_place(state, &compare.key) {
        Some((at, of)) => format!("{dot}group {at} of {of}"),
        None => String::new(),
    };
    match records.len() {
        1 => format!(" {domain}{dot}1 record left, no duplicate "),
        n => format!(" {domain}{dot}{n} records{group} "),
    }
}

/// What both layouts draw.
struct Layout<'a> {
    records: &'a [&'a Entry],
    fields: &'a [Field],
    /// Width of the label column.
    label: u16,
    merged: Option<&'a Merged>,
    glyphs: &'static Glyphs,
}

impl<'a> Layout<'a> {
    fn new(
        state: &State,
        records: &'a [&'a Entry],
        fields: &'a [Field],
        merged: Option<&'a Merged>,
    ) -> Layout<'a> {
        Layout {
            records,
            fields,
            label: label_width(fields),
            merged,
            glyphs: state.theme.glyphs,
        }
    }

    fn is_keeper(&self, i: usize) -> bool {
        self.merged.is_some_and(|m| m.keeper == i)
    }

    fn result_heading(&self) -> String {
        match self.merged {
            Some(m) => format!(
                "Result {} #{}",
                self.glyphs.right, self.records[m.keeper].display_id
            ),
            None => "Result".to_owned(),
        }
    }
}

/// Every row compare shows, in reading order, with each record's value
/// and the result's.
fn fields(state: &State, records: &[&Entry], merged: Option<&Merged>) -> Vec<Field> {
    merge::rows(records)
        .into_iter()
        .map(|row| {
            let values = records.iter().map(|e| info(state, &row, e)).collect();
            let result = match &row {
                Kind::Merge(field) => merged.and_then(|m| m.get(field)).map(|v| Valued {
                    value: merge::shown(state, field, v.value.clone()),
                    ..v
                }),
                _ => None,
            };
            Field {
                label: row.label().to_owned(),
                values,
                result,
            }
        })
        .collect()
}

/// One record's value of one row, as compare writes it.
fn info(state: &State, row: &Kind, e: &Entry) -> Option<String> {
    match row {
        Kind::Merge(MergeField::Owner) => state.owner_label(e.owner_id.as_deref()),
        Kind::Merge(field) => field.value_of(e),
        Kind::Source => Some(e.source.to_string()),
        Kind::Created => Some(format::date(e.created_at)),
        Kind::Updated => Some(format!(
            "{} ({})",
            format::date(e.updated_at),
            format::ago(state.now, e.updated_at)
        )),
        Kind::History => Some(history_count(state, e)),
    }
}

fn history_count(state: &State, entry: &Entry) -> String {
    match entry.id().and_then(|id| state.model.histories.get(id)) {
        Some(History::Loaded { events, .. }) if events.len() == 1 => "1 event".into(),
        Some(History::Loaded { events, .. }) => format!("{} events", events.len()),
        Some(History::Loading) => format!("loading{}", state.theme.glyphs.ellipsis),
        Some(History::Failed(reason)) => format!("unavailable ({reason})"),
        None => state.theme.glyphs.blank.into(),
    }
}

/// The latest few events of a record, newest first, one line each.
fn latest_events(state: &State, entry: &Entry) -> Vec<String> {
    match entry.id().and_then(|id| state.model.histories.get(id)) {
        Some(History::Loaded { events, .. }) => events
            .iter()
            .take(LATEST_EVENTS)
            .map(|e| format!("{} {} {}", format::date(e.at), e.kind, e.summary))
            .collect(),
        _ => Vec::new(),
    }
}

/// `✓ #1003 Acme Co` for the keeper, `#1036 Acme Corporation` otherwise.
fn heading(g: &Glyphs, entry: &Entry, keeper: bool) -> String {
    let mark = if keeper { g.keeper } else { "" };
    format!("{mark}#{} {}", entry.display_id, entry.name)
}

fn value_span(state: &State, value: Option<&str>, width: usize, differs: bool) -> Span<'static> {
    let theme = state.theme;
    let g = theme.glyphs;
    match value {
        Some(v) if differs => {
            let v = format!("{v}{}", theme.differs_note());
            Span::styled(g.truncate(&v, width).into_owned(), theme.differs())
        }
        Some(v) => Span::styled(g.truncate(v, width).into_owned(), Style::new()),
        None if differs => Span::styled(g.blank, theme.differs()),
        None => Span::styled(g.blank, theme.dim()),
    }
}

/// The result's value, marked `←#1036` when it comes from another record.
fn result_span(state: &State, result: Option<&Valued>, width: usize) -> Span<'static> {
    let theme = state.theme;
    let Some(result) = result else {
        return Span::styled("", theme.dim());
    };
    let g = theme.glyphs;
    let value = result.value.as_deref().unwrap_or(g.blank);
    match result.from {
        Some(from) => {
            let mark = format!(" {}#{from}", g.from);
            let room = width.saturating_sub(mark.width()).max(1);
            Span::styled(format!("{}{mark}", g.truncate(value, room)), theme.ok())
        }
        None if result.value.is_none() => Span::styled(g.blank, theme.dim()),
        None => Span::raw(g.truncate(value, width).into_owned()),
    }
}

/// The row's label, marked `▸` under the cursor.
fn label_cell(state: &State, field: &Field, width: usize, cursor: bool) -> Span<'static> {
    let g = state.theme.glyphs;
    let text = g
        .truncate(&field.label, width.saturating_sub(2))
        .into_owned();
    if cursor {
        Span::styled(format!("{}{text}", g.marker), state.theme.selected())
    } else {
        Span::styled(format!("  {text}"), state.theme.dim())
    }
}

/// Rows to skip so the cursor's row is in sight among `visible` rows.
fn skip_for(cursor: usize, visible: usize) -> usize {
    (cursor + 2).saturating_sub(visible.max(1))
}

fn side_by_side(state: &State, compare: &Compare, layout: &Layout, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let (records, fields, label_width) = (layout.records, layout.fields, layout.label);
    let n = u16::try_from(records.len() + 1).unwrap_or(u16::MAX);
    let column = area.width.saturating_sub(label_width + n) / n;
    let width = usize::from(column);
    let header = Row::new(
        std::iter::once(Cell::from(""))
            .chain(records.iter().enumerate().map(|(i, e)| {
                let style = if i == compare.focus {
                    theme.selected()
                } else {
                    theme.title()
                };
                Cell::from(Span::styled(
                    state
                        .theme
                        .glyphs
                        .truncate(&heading(theme.glyphs, e, layout.is_keeper(i)), width)
                        .into_owned(),
                    style,
                ))
            }))
            .chain(std::iter::once(Cell::from(Span::styled(
                state
                    .theme
                    .glyphs
                    .truncate(&layout.result_heading(), width)
                    .into_owned(),
                theme.title(),
            )))),
    );
    let mut rows: Vec<Row> = fields
        .iter()
        .enumerate()
        .map(|(at, field)| {
            let differs = field.differs();
            let label = label_cell(state, field, usize::from(label_width), at == compare.cursor);
            Row::new(
                std::iter::once(Cell::from(label))
                    .chain(
                        field
                            .values
                            .iter()
                            .map(|v| Cell::from(value_span(state, v.as_deref(), width, differs))),
                    )
                    .chain(std::iter::once(Cell::from(result_span(
                        state,
                        field.result.as_ref(),
                        width,
                    )))),
            )
        })
        .collect();
    let events: Vec<Vec<String>> = records.iter().map(|e| latest_events(state, e)).collect();
    let deepest = events.iter().map(Vec::len).max().unwrap_or(0);
    for line in 0..deepest {
        rows.push(Row::new(std::iter::once(Cell::from("")).chain(
            events.iter().map(|lines| {
                let text = lines.get(line).map_or("", String::as_str);
                Cell::from(Span::styled(
                    state.theme.glyphs.truncate(text, width).into_owned(),
                    theme.dim(),
                ))
            }),
        )));
    }
    let visible = usize::from(area.height.saturating_sub(2));
    let skip = skip_for(compare.cursor, visible).min(rows.len().saturating_sub(1));
    let rows: Vec<Row> = rows.into_iter().skip(skip).collect();
    let widths = std::iter::once(Constraint::Length(label_width))
        .chain((0..=records.len()).map(|_| Constraint::Length(column)));
    let table = Table::new(rows, widths)
        .header(header.bottom_margin(1))
        .column_spacing(1);
    frame.render_widget(table, area);
    let focus = u16::try_from(compare.focus).unwrap_or(0);
    reader_cursor(state, frame, area, label_width + 1 + (column + 1) * focus);
}

/// For a screen reader, which follows it: the terminal cursor on the
/// focused record's heading, `x` columns into `area`'s first line.
fn reader_cursor(state: &State, frame: &mut Frame, area: Rect, x: u16) {
    if state.theme.screen_reader && x < area.width && area.height > 0 {
        frame.set_cursor_position(ratatui::layout::Position::new(area.x + x, area.y));
    }
}

/// Below 100 columns: every record named on top, then the focused record
/// beside the result, one row per field.
fn stacked(state: &State, compare: &Compare, layout: &Layout, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let summary = summary_lines(state, compare, layout, usize::from(area.width));
    let height = u16::try_from(summary.len()).unwrap_or(u16::MAX);
    let [summary_area, area] = ratatui::layout::Layout::vertical([
        Constraint::Length(height.saturating_add(1)),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(summary), summary_area);
    let label_width = layout.label;
    let column = area.width.saturating_sub(label_width + 2) / 2;
    let width = usize::from(column);
    let focus = compare.focus.min(layout.records.len().saturating_sub(1));
    let Some(entry) = layout.records.get(focus) else {
        return;
    };
    let header = Row::new([
        Cell::from(""),
        Cell::from(Span::styled(
            theme
                .glyphs
                .truncate(
                    &format!(
                        "{}{}",
                        theme.glyphs.marker,
                        heading(theme.glyphs, entry, layout.is_keeper(focus))
                    ),
                    width,
                )
                .into_owned(),
            theme.selected(),
        )),
        Cell::from(Span::styled(
            state
                .theme
                .glyphs
                .truncate(&layout.result_heading(), width)
                .into_owned(),
            theme.title(),
        )),
    ]);
    let rows: Vec<Row> = layout
        .fields
        .iter()
        .enumerate()
        .map(|(at, field)| {
            let differs = field.differs();
            Row::new([
                Cell::from(label_cell(
                    state,
                    field,
                    usize::from(label_width),
                    at == compare.cursor,
                )),
                Cell::from(value_span(
                    state,
                    field.values.get(focus).and_then(Option::as_deref),
                    width,
                    differs,
                )),
                Cell::from(result_span(state, field.result.as_ref(), width)),
            ])
        })
        .collect();
    let visible = usize::from(area.height.saturating_sub(2));
    let skip = skip_for(compare.cursor, visible).min(rows.len().saturating_sub(1));
    let rows: Vec<Row> = rows.into_iter().skip(skip).collect();
    let widths = [
        Constraint::Length(label_width),
        Constraint::Length(column),
        Constraint::Length(column),
    ];
    let table = Table::new(rows, widths)
        .header(header.bottom_margin(1))
        .column_spacing(1);
    frame.render_widget(table, area);
    reader_cursor(state, frame, area, label_width + 1);
}

/// Every record named with its source and history (the keeper marked `✓`),
/// so the choice is visible at a glance while only one record is shown: on
/// one line when they fit in `width`, else one line each.
fn summary_lines<'a>(
    state: &State,
    compare: &Compare,
    layout: &Layout,
    width: usize,
) -> Vec<Line<'a>> {
    let theme = state.theme;
    let names = summary_names(state, compare, layout);
    if summary_width(&names, theme.glyphs) > width {
        return names.into_iter().map(Line::from).collect();
    }
    let mut spans = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(theme.glyphs.rule, theme.dim()));
        }
        spans.push(name);
    }
    vec![Line::from(spans)]
}

/// The width of the records' names on one line, with a rule between each.
fn summary_width(names: &[Span], glyphs: &Glyphs) -> usize {
    names.iter().map(Span::width).sum::<usize>()
        + glyphs.rule.width() * names.len().saturating_sub(1)
}

/// Each record's name in the summary: `✓#1003 hubspot · 8 events`, the
/// focused one picked out.
fn summary_names<'a>(state: &State, compare: &Compare, layout: &Layout) -> Vec<Span<'a>> {
    let theme = state.theme;
    layout
        .records
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let style = if i == compare.focus {
                theme.selected()
            } else {
                Style::new()
            };
            let count = history_count(state, entry);
            let g = theme.glyphs;
            let mark = if layout.is_keeper(i) { g.keeper } else { "" };
            Span::styled(
                format!(
                    "{mark}#{} {}{}{count}",
                    entry.display_id, entry.source, g.dot
                ),
                style,
            )
        })
        .collect()
}

/// The field under the cursor, every record's value in full, and the
/// result's with where it comes from.
fn panel_lines<'a>(state: &State, compare: &Compare, layout: &Layout) -> Vec<Line<'a>> {
    let theme = state.theme;
    let Some(field) = layout.fields.get(compare.cursor) else {
        return Vec::new();
    };
    let mut lines = vec![Line::from(Span::styled(
        format!("{} {} ", theme.glyphs.line, field.label),
        theme.border(),
    ))];
    for (i, entry) in layout.records.iter().enumerate() {
        let mut value = field.values[i]
            .clone()
            .unwrap_or_else(|| theme.glyphs.blank.to_owned());
        if field.label == Kind::History.label() {
            // The latest events, whole.
            for event in latest_events(state, entry) {
                value.push_str(theme.glyphs.dot);
                value.push_str(&event);
            }
        }
        let style = if i == compare.focus {
            theme.title()
        } else {
            theme.dim()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("#{:<6} ", entry.display_id), style),
            Span::raw(value),
        ]));
    }
    if let Some(result) = &field.result {
        let whence = match (result.from, result.taken) {
            (Some(from), true) => format!("  (taken from #{from})"),
            (Some(from), false) => format!("  (filled from #{from})"),
            (None, _) => String::new(),
        };
        lines.push(Line::from(vec![
            Span::styled("Result  ", theme.title()),
            Span::raw(
                result
                    .value
                    .clone()
                    .unwrap_or_else(|| theme.glyphs.blank.to_owned()),
            ),
            Span::styled(whence, theme.ok()),
        ]));
    }
    lines
}

/// How many rows `lines` take wrapped at `width`.
fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(values: &[Option<&str>]) -> Field {
        Field {
            label: "plan".into(),
            values: values.iter().map(|v| v.map(str::to_owned)).collect(),
            result: None,
        }
    }

    #[test]
    fn only_two_different_values_are_a_difference_a_blank_is_a_fill() {
        assert!(!field(&[Some("US"), None, None]).differs());
        assert!(!field(&[Some("US"), None, Some("US")]).differs());
        assert!(!field(&[None, None]).differs());
        assert!(field(&[Some("US"), None, Some("DE")]).differs());
    }

    #[test]
    fn the_cursor_row_stays_in_sight() {
        assert_eq!(skip_for(0, 10), 0);
        assert_eq!(skip_for(8, 10), 0);
        assert_eq!(skip_for(9, 10), 1);
        assert_eq!(skip_for(20, 10), 12);
    }
}
