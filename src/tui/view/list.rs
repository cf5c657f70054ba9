//! The Customers table. Only the rows on screen become widgets, so a list of
//! 100,000 costs the same to draw as a list of 100. Columns give way on
//! narrow screens: Source first, then Plan, then Owner; the domain and its
//! badge always stay.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use std::borrow::Cow;
use std::ops::Range;

use unicode_width::UnicodeWidthStr;

use super::super::format;
use super::super::state::{State, SyncPhase};
use crate::domain::filter::{self, FieldKind, Highlight, Query};
use crate::domain::{Entry, SortColumn};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Id,
    Name,
    Domain,
    Owner,
    Plan,
    Source,
}

impl Column {
    /// The sort column this column shows, if any.
    fn sort_column(self) -> SortColumn {
        match self {
            Column::Id => SortColumn::DisplayId,
            Column::Name => SortColumn::Name,
            Column::Domain => SortColumn::Domain,
            Column::Owner => SortColumn::Owner,
            Column::Plan => SortColumn::Plan,
            Column::Source => SortColumn::Source,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Column::Id => "#",
            Column::Name => "Name",
            Column::Domain => "Domain",
            Column::Owner => "Owner",
            Column::Plan => "Plan",
            Column::Source => "Source",
        }
    }
}

const ID_WIDTH: u16 = 6;
const DOMAIN_WIDTH: u16 = 28;
const OWNER_WIDTH: u16 = 14;
const PLAN_WIDTH: u16 = 13;
const SOURCE_WIDTH: u16 = 8;
const NAME_MIN: u16 = 20;

/// The columns that fit in `width`, with their widths; Name takes the rest.
/// `hidden` names optional columns the settings leave out (`owner`,
/// `plan`, `source`).
pub fn columns_for(width: u16, hidden: &[String]) -> Vec<(Column, u16)> {
    let optional: Vec<(Column, u16)> = [
        (Column::Owner, OWNER_WIDTH),
        (Column::Plan, PLAN_WIDTH),
        (Column::Source, SOURCE_WIDTH),
    ]
    .into_iter()
    .filter(|(column, _)| {
        !hidden
            .iter()
            .any(|h| h.eq_ignore_ascii_case(column.title()))
    })
    .collect();
    // Try all optional columns, then drop them from the right.
    for keep in (0..=optional.len()).rev() {
        let mut cols = vec![
            (Column::Id, ID_WIDTH),
            (Column::Name, 0),
            (Column::Domain, DOMAIN_WIDTH),
        ];
        cols.extend_from_slice(&optional[..keep]);
        let fixed: u16 = cols.iter().map(|(_, w)| *w).sum();
        let gaps = cols.len() as u16 - 1;
        let left = width.saturating_sub(fixed + gaps);
        if left >= NAME_MIN || keep == 0 {
            let domain = if keep == 0 {
                // Very narrow: share what there is between name and domain.
                let shared = width.saturating_sub(ID_WIDTH + 2);
                cols[2].1 = (shared / 2).clamp(12, DOMAIN_WIDTH);
                shared.saturating_sub(cols[2].1)
            } else {
                left
            };
            cols[1].1 = domain;
            return cols;
        }
    }
    unreachable!("keep == 0 always returns")
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    if state.row_count() == 0 {
        render_empty(state, frame, area);
        return;
    }
    let theme = state.theme;
    let columns = columns_for(area.width, &state.view_settings.hidden_columns);
    let sort = state.customers.sort();
    let header = Row::new(columns.iter().map(|(c, _)| {
        if c.sort_column() == sort.column {
            let arrow = if sort.descending() { '↓' } else { '↑' };
            Cell::from(format!("{} {arrow}", c.title()))
        } else {
            Cell::from(c.title())
        }
    }))
    .style(theme.column_header());
    let visible = usize::from(area.height.saturating_sub(1));
    let offset = state.offset.min(state.row_count().saturating_sub(1));
    let query = state.finder.query();
    let rows = (offset..offset + visible)
        .filter_map(|row| state.entry_at_row(row).map(|e| (row, e)))
        .map(|(position, entry)| {
            let marks = Marks::of(state, query.as_ref(), entry);
            let row = Row::new(
                columns
                    .iter()
                    .map(|(c, w)| cell(state, entry, &marks, *c, *w)),
            );
            let row = if entry.pending {
                row.style(theme.dim())
            } else {
                row
            };
            if position == state.selected {
                row.style(theme.selected())
            } else {
                row
            }
        });
    let widths = columns.iter().map(|(_, w)| Constraint::Length(*w));
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    frame.render_widget(table, area);
}

/// Where the filter matched one row, by field.
#[derive(Default)]
struct Marks(Vec<Highlight>);

impl Marks {
    fn of(state: &State, query: Option<&Query>, entry: &Entry) -> Marks {
        let Some(query) = query else {
            return Marks::default();
        };
        let users = &state.users;
        let spans = filter::matches(query, entry, |id| users.get(id).map(String::as_str));
        Marks(spans.unwrap_or_default())
    }

    fn ranges(&self, field: FieldKind) -> impl Iterator<Item = Range<usize>> + '_ {
        self.0
            .iter()
            .filter(move |h| h.field == field)
            .map(|h| h.start..h.end)
    }

    fn any(&self, field: FieldKind) -> bool {
        self.ranges(field).next().is_some()
    }
}

/// `text` cut to `width` columns, with the byte `ranges` styled as matches.
fn marked<'a>(
    text: &'a str,
    width: usize,
    ranges: impl Iterator<Item = Range<usize>>,
    style: Style,
    base: Style,
) -> Line<'a> {
    let shown = format::truncate(text, width);
    let (visible, ellipsis) = match &shown {
        Cow::Borrowed(s) => (s.len(), false),
        Cow::Owned(s) => (s.len() - '…'.len_utf8(), true),
    };
    let mut spans = Vec::new();
    let mut at = 0;
    for range in ranges {
        let (start, end) = (range.start.max(at), range.end.min(visible));
        if start >= end {
            continue;
        }
        if start > at {
            spans.push(Span::styled(&text[at..start], base));
        }
        spans.push(Span::styled(&text[start..end], style));
        at = end;
    }
    if at < visible {
        spans.push(Span::styled(&text[at..visible], base));
    }
    if ellipsis {
        spans.push(Span::styled("…", base));
    }
    Line::from(spans)
}

fn cell<'a>(
    state: &State,
    entry: &'a Entry,
    marks: &Marks,
    column: Column,
    width: u16,
) -> Cell<'a> {
    let theme = state.theme;
    let width = usize::from(width);
    let matched = theme.matched();
    match column {
        // A create the server has not confirmed has no number yet.
        Column::Id if entry.display_id == 0 => Cell::from(Span::styled("⋯", theme.warning())),
        Column::Id if marks.any(FieldKind::DisplayId) => {
            Cell::from(Span::styled(format!("#{}", entry.display_id), matched))
        }
        Column::Id => Cell::from(Span::styled(format!("#{}", entry.display_id), theme.dim())),
        Column::Name => Cell::from(marked(
            &entry.name,
            width,
            marks.ranges(FieldKind::Name),
            matched,
            Style::new(),
        )),
        Column::Domain => Cell::from(domain_line(state, entry, marks, width)),
        Column::Owner => match state.owner_label(entry.owner_id.as_deref()) {
            // `me` is not the text searched (the name is), so no marks.
            Some(owner) if owner == "me" => Cell::from(owner),
            Some(owner) => {
                let line = marked(
                    &owner,
                    width,
                    marks.ranges(FieldKind::Owner),
                    matched,
                    Style::new(),
                );
                let spans: Vec<Span<'static>> = line
                    .spans
                    .into_iter()
                    .map(|s| Span::styled(s.content.into_owned(), s.style))
                    .collect();
                Cell::from(Line::from(spans))
            }
            None => Cell::from(Span::styled("—", theme.dim())),
        },
        Column::Plan => match &entry.plan {
            Some(plan) => Cell::from(marked(
                plan,
                width,
                marks.ranges(FieldKind::Plan),
                matched,
                Style::new(),
            )),
            None => Cell::from(Span::styled("—", theme.dim())),
        },
        Column::Source => Cell::from(Span::styled(entry.source.as_str().to_owned(), theme.dim())),
    }
}

/// The stored domain, cut to leave room for its badge, and the badge.
fn domain_line<'a>(state: &State, entry: &'a Entry, marks: &Marks, width: usize) -> Line<'a> {
    let theme = state.theme;
    let Some(domain) = entry.domain.as_deref() else {
        return Line::from(Span::styled("—", theme.dim()));
    };
    let badge = state.customers.badge(entry).map(|n| theme.badge_text(n));
    let room = match &badge {
        Some(badge) => width.saturating_sub(badge.width() + 1),
        None => width,
    };
    // A match in the normalised domain alone (`xn--bcher` for `Bücher.de`)
    // marks the whole stored domain.
    let base = if marks.any(FieldKind::DomainKey) && !marks.any(FieldKind::Domain) {
        theme.matched()
    } else {
        Style::new()
    };
    let mut line = marked(
        domain,
        room,
        marks.ranges(FieldKind::Domain),
        theme.matched(),
        base,
    );
    if let Some(badge) = badge {
        line.spans.push(Span::raw(" "));
        line.spans.push(Span::styled(badge, theme.badge()));
    }
    line
}

fn render_empty(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let (text, style) = match (&state.sync.phase, state.cache_loaded) {
        _ if state.finder.narrowed() && !state.customers.is_empty() => (
            "No customer matches. Esc clears the filter; m and D switch My customers and \
             duplicates only off."
                .to_owned(),
            theme.dim(),
        ),
        (_, false) => ("Reading the local cache…".to_owned(), theme.dim()),
        (SyncPhase::Syncing { .. }, _) => {
            ("Fetching customers from Pivotal…".to_owned(), theme.dim())
        }
        (SyncPhase::Offline { .. }, _) => (
            "Pivotal can't be reached and nothing is cached yet. The app keeps retrying; \
             see the status line below."
                .to_owned(),
            theme.warning(),
        ),
        (SyncPhase::Idle, _) if state.sync.last_synced.is_some() => {
            ("No customers in this account yet.".to_owned(), Style::new())
        }
        (SyncPhase::Idle, _) => ("Connecting to Pivotal…".to_owned(), theme.dim()),
    };
    let paragraph = Paragraph::new(text)
        .style(style)
        .wrap(ratatui::widgets::Wrap { trim: true });
    frame.render_widget(paragraph, area.inner(ratatui::layout::Margin::new(2, 1)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(width: u16) -> Vec<Column> {
        columns_for(width, &[])
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    #[test]
    fn columns_give_way_source_then_plan_then_owner() {
        use Column::*;
        assert_eq!(names(120), [Id, Name, Domain, Owner, Plan, Source]);
        assert_eq!(names(80), [Id, Name, Domain, Owner]);
        assert_eq!(names(60), [Id, Name, Domain]);
        assert_eq!(names(40), [Id, Name, Domain]);
    }

    #[test]
    fn hidden_columns_stay_hidden_and_name_takes_the_room() {
        let hidden = ["source".to_owned(), "Plan".to_owned()];
        let cols: Vec<Column> = columns_for(120, &hidden)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(
            cols,
            [Column::Id, Column::Name, Column::Domain, Column::Owner]
        );
    }

    #[test]
    fn columns_never_overflow_the_width() {
        for width in 30..200 {
            let cols = columns_for(width, &[]);
            let total: u16 = cols.iter().map(|(_, w)| *w).sum::<u16>() + cols.len() as u16 - 1;
            assert!(total <= width, "{width}: {cols:?}");
            let name = cols
                .iter()
                .find(|(c, _)| *c == Column::Name)
                .map(|(_, w)| *w);
            assert!(name.unwrap_or(0) >= 10, "{width}: name too narrow");
        }
    }
}
