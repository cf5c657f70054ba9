//! The compare view: every live record sharing a domain, side by side on
//! wide screens and stacked below 100 columns, with the fields that differ
//! picked out and each record's history (count and latest events) so the
//! CSM can see which one has the cleaner history.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use unicode_width::UnicodeWidthStr;

use super::super::format;
use super::super::mode::Compare;
use super::super::state::{History, SIDE_PANE_MIN_WIDTH, State};
use super::super::triage;
use crate::domain::Entry;
use crate::domain::keeper;

/// Labels get the room of the longest, within these bounds.
const LABEL_MIN: u16 = 9;
const LABEL_MAX: u16 = 16;
/// How many of each record's latest history events are shown.
const LATEST_EVENTS: usize = 3;

/// One compared field: its label and each record's value.
struct Field {
    label: String,
    values: Vec<Option<String>>,
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
    let g = theme.glyphs;
    let records = triage::compared(state);
    let domain = records
        .first()
        .and_then(|e| e.domain_key.as_deref())
        .unwrap_or(&compare.key);
    let title = match records.len() {
        1 => format!(" {domain}{}1 record left, no duplicate ", g.dot),
        n => format!(" {domain}{}{n} records share this domain ", g.dot),
    };
    let block = Block::default()
        .borders(Borders::TOP)
        .border_set(g.border)
        .border_style(theme.border())
        .title(Span::styled(title, theme.title()));
    let mut inner = block.inner(area);
    frame.render_widget(block, area);
    if let Some(suggestion) = suggest_keeper(state, &records) {
        let line = g
            .truncate(&suggestion.reason, usize::from(inner.width))
            .into_owned();
        frame.render_widget(
            Paragraph::new(Span::styled(line, theme.ok())),
            Rect { height: 1, ..inner },
        );
        inner.y = inner.y.saturating_add(1);
        inner.height = inner.height.saturating_sub(1);
    }
    let fields = fields(state, &records);
    let longest = fields.iter().map(|f| f.label.width()).max().unwrap_or(0);
    let label = u16::try_from(longest + 1)
        .unwrap_or(LABEL_MAX)
        .clamp(LABEL_MIN, LABEL_MAX);
    let layout = Layout {
        records: &records,
        fields: &fields,
        label,
    };
    if area.width >= SIDE_PANE_MIN_WIDTH {
        side_by_side(state, compare, &layout, frame, inner);
    } else {
        stacked(state, compare, &layout, frame, inner);
    }
}

/// The record the domain's rule would keep, with why, from what the view
/// knows (histories still loading count as none yet).
fn suggest_keeper(state: &State, records: &[&Entry]) -> Option<keeper::Suggestion> {
    let candidates: Vec<keeper::Candidate<'_>> = records
        .iter()
        .map(|e| keeper::Candidate {
            display_id: e.display_id,
            history: match e.id().and_then(|id| state.model.histories.get(id)) {
                Some(History::Loaded { events, .. }) => Some(events.len()),
                _ => None,
            },
            source: &e.source,
            has_owner: e.owner_id.is_some(),
            created_at: e.created_at,
        })
        .collect();
    keeper::suggest(&candidates)
}

/// What both layouts draw.
struct Layout<'a> {
    records: &'a [&'a Entry],
    fields: &'a [Field],
    /// Width of the label column.
    label: u16,
}

/// Every field worth comparing, in reading order. Custom fields are the
/// union of the records' keys.
fn fields(state: &State, records: &[&Entry]) -> Vec<Field> {
    let each = |f: &dyn Fn(&Entry) -> Option<String>| records.iter().map(|e| f(e)).collect();
    let mut fields = vec![
        Field {
            label: "Domain".into(),
            values: each(&|e| e.domain.as_deref().map(str::to_owned)),
        },
        Field {
            label: "Source".into(),
            values: each(&|e| Some(e.source.to_string())),
        },
        Field {
            label: "Owner".into(),
            values: each(&|e| state.owner_label(e.owner_id.as_deref())),
        },
        Field {
            label: "Plan".into(),
            values: each(&|e| e.plan.as_deref().map(str::to_owned)),
        },
        Field {
            label: "Tags".into(),
            values: each(&|e| (!e.tags.is_empty()).then(|| e.tags.join(", "))),
        },
    ];
    let mut keys: Vec<&str> = records
        .iter()
        .flat_map(|e| e.custom_fields.iter().map(|(k, _)| &**k))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        fields.push(Field {
            label: key.to_owned(),
            values: each(&|e| {
                e.custom_fields
                    .iter()
                    .find(|(k, _)| &**k == key)
                    .map(|(_, v)| v.to_string())
            }),
        });
    }
    fields.push(Field {
        label: "Created".into(),
        values: each(&|e| Some(format::date(e.created_at))),
    });
    fields.push(Field {
        label: "Updated".into(),
        values: each(&|e| {
            Some(format!(
                "{} ({})",
                format::date(e.updated_at),
                format::ago(state.now, e.updated_at)
            ))
        }),
    });
    fields.push(Field {
        label: "History".into(),
        values: each(&|e| Some(history_count(state, e))),
    });
    fields
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

fn heading(entry: &Entry) -> String {
    format!("#{} {}", entry.display_id, entry.name)
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

fn side_by_side(state: &State, compare: &Compare, layout: &Layout, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let (records, fields, label_width) = (layout.records, layout.fields, layout.label);
    let n = u16::try_from(records.len().max(1)).unwrap_or(u16::MAX);
    let column = area.width.saturating_sub(label_width + n) / n;
    let width = usize::from(column);
    let header = Row::new(
        std::iter::once(Cell::from("")).chain(records.iter().enumerate().map(|(i, e)| {
            let style = if i == compare.focus {
                theme.selected()
            } else {
                theme.title()
            };
            Cell::from(Span::styled(
                theme.glyphs.truncate(&heading(e), width).into_owned(),
                style,
            ))
        })),
    );
    let mut rows: Vec<Row> = fields
        .iter()
        .map(|field| {
            let differs = field.differs();
            let label = theme
                .glyphs
                .truncate(&field.label, usize::from(label_width))
                .into_owned();
            let label = Span::styled(label, theme.dim());
            Row::new(
                std::iter::once(Cell::from(label)).chain(
                    field
                        .values
                        .iter()
                        .map(|v| Cell::from(value_span(state, v.as_deref(), width, differs))),
                ),
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
                    theme.glyphs.truncate(text, width).into_owned(),
                    theme.dim(),
                ))
            }),
        )));
    }
    let skip = usize::from(compare.scroll).min(rows.len().saturating_sub(1));
    let rows: Vec<Row> = rows.into_iter().skip(skip).collect();
    let widths = std::iter::once(Constraint::Length(label_width))
        .chain(records.iter().map(|_| Constraint::Length(column)));
    let table = Table::new(rows, widths)
        .header(header.bottom_margin(1))
        .column_spacing(1);
    frame.render_widget(table, area);
    if theme.screen_reader {
        let x = label_width + 1 + (column + 1) * u16::try_from(compare.focus).unwrap_or(0);
        place_cursor(frame, area, x, 0);
    }
}

/// For a screen reader, which follows it: the terminal cursor on the
/// focused record's heading, `(x, y)` into `area`.
fn place_cursor(frame: &mut Frame, area: Rect, x: u16, y: u16) {
    if x < area.width && y < area.height {
        frame.set_cursor_position(ratatui::layout::Position::new(area.x + x, area.y + y));
    }
}

fn stacked(state: &State, compare: &Compare, layout: &Layout, frame: &mut Frame, area: Rect) {
    let summary = summary_lines(state, compare, layout.records, usize::from(area.width));
    let height = u16::try_from(summary.len()).unwrap_or(u16::MAX);
    let [summary_area, area] = ratatui::layout::Layout::vertical([
        Constraint::Length(height.saturating_add(1)),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(summary), summary_area);
    let (lines, focus_line) = record_blocks(state, compare, layout, usize::from(area.width));
    // Scrolling counts from the focused record, so Tab brings it to the top.
    let top = (focus_line + usize::from(compare.scroll)).min(lines.len().saturating_sub(1));
    let lines: Vec<Line> = lines.into_iter().skip(top).collect();
    frame.render_widget(Paragraph::new(lines), area);
    if state.theme.screen_reader && compare.scroll == 0 {
        place_cursor(frame, area, 0, 0);
    }
}

/// Every record named with its source and history, so the choice is visible
/// at a glance while only one record's block fits: on one line when they
/// fit in `width`, else one line each.
fn summary_lines<'a>(
    state: &State,
    compare: &Compare,
    records: &[&Entry],
    width: usize,
) -> Vec<Line<'a>> {
    let theme = state.theme;
    let names: Vec<Span> = records
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let style = if i == compare.focus {
                theme.selected()
            } else {
                Style::new()
            };
            let count = history_count(state, entry);
            Span::styled(
                format!(
                    "#{} {}{}{count}",
                    entry.display_id, entry.source, theme.glyphs.dot
                ),
                style,
            )
        })
        .collect();
    let one_line = names.iter().map(Span::width).sum::<usize>() + 3 * names.len();
    if one_line > width {
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

/// One block per record (heading, every field, latest events), and the
/// line where the focused record's block starts.
fn record_blocks<'a>(
    state: &'a State,
    compare: &Compare,
    layout: &'a Layout,
    width: usize,
) -> (Vec<Line<'a>>, usize) {
    let theme = state.theme;
    let g = theme.glyphs;
    let label_width = usize::from(layout.label);
    let room = width.saturating_sub(label_width + 2);
    let mut lines: Vec<Line> = Vec::new();
    let mut focus_line = 0;
    for (i, entry) in layout.records.iter().enumerate() {
        let focused = i == compare.focus;
        if focused {
            focus_line = lines.len();
        }
        let (marker, style) = if focused {
            (g.marker, theme.selected())
        } else {
            ("  ", theme.title())
        };
        lines.push(Line::from(Span::styled(
            g.truncate(&format!("{marker}{}", heading(entry)), width)
                .into_owned(),
            style,
        )));
        for field in layout.fields {
            let differs = field.differs();
            lines.push(Line::from(vec![
                Span::styled(
                    format!(
                        "  {:<label_width$}",
                        g.truncate(&field.label, label_width - 1)
                    ),
                    theme.dim(),
                ),
                value_span(state, field.values[i].as_deref(), room, differs),
            ]));
        }
        for event in latest_events(state, entry) {
            lines.push(Line::from(Span::styled(
                format!("  {:<label_width$}{}", "", g.truncate(&event, room)),
                theme.dim(),
            )));
        }
        lines.push(Line::default());
    }
    (lines, focus_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(values: &[Option<&str>]) -> Field {
        Field {
            label: "plan".into(),
            values: values.iter().map(|v| v.map(str::to_owned)).collect(),
        }
    }

    #[test]
    fn only_two_different_values_are_a_difference_a_blank_is_a_fill() {
        assert!(!field(&[Some("US"), None, None]).differs());
        assert!(!field(&[Some("US"), None, Some("US")]).differs());
        assert!(!field(&[None, None]).differs());
        assert!(field(&[Some("US"), None, Some("DE")]).differs());
    }
}
