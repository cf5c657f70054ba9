//! The Customers table. Only the rows on screen become widgets, so a list of
//! 100,000 costs the same to draw as a list of 100. Columns give way on
//! narrow screens: Source first, then Plan, then Owner; the domain and its
//! badge always stay.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use unicode_width::UnicodeWidthStr;

use super::super::format;
use super::super::state::{State, SyncPhase};
use crate::domain::Entry;

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
pub fn columns_for(width: u16) -> Vec<(Column, u16)> {
    let optional = [
        (Column::Owner, OWNER_WIDTH),
        (Column::Plan, PLAN_WIDTH),
        (Column::Source, SOURCE_WIDTH),
    ];
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
    if state.customers.is_empty() {
        render_empty(state, frame, area);
        return;
    }
    let theme = state.theme;
    let columns = columns_for(area.width);
    let header =
        Row::new(columns.iter().map(|(c, _)| Cell::from(c.title()))).style(theme.column_header());
    let visible = usize::from(area.height.saturating_sub(1));
    let offset = state.offset.min(state.customers.len().saturating_sub(1));
    let rows = (offset..offset + visible)
        .filter_map(|position| state.customers.at(position).map(|e| (position, e)))
        .map(|(position, entry)| {
            let row = Row::new(columns.iter().map(|(c, w)| cell(state, entry, *c, *w)));
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

fn cell<'a>(state: &State, entry: &'a Entry, column: Column, width: u16) -> Cell<'a> {
    let theme = state.theme;
    let width = usize::from(width);
    match column {
        // A create the server has not confirmed has no number yet.
        Column::Id if entry.display_id == 0 => Cell::from(Span::styled("⋯", theme.warning())),
        Column::Id => Cell::from(Span::styled(format!("#{}", entry.display_id), theme.dim())),
        Column::Name => Cell::from(format::truncate(&entry.name, width)),
        Column::Domain => Cell::from(domain_line(state, entry, width)),
        Column::Owner => match state.owner_label(entry.owner_id.as_deref()) {
            Some(owner) => Cell::from(format::truncate(&owner, width).into_owned()),
            None => Cell::from(Span::styled("—", theme.dim())),
        },
        Column::Plan => match &entry.plan {
            Some(plan) => Cell::from(format::truncate(plan, width)),
            None => Cell::from(Span::styled("—", theme.dim())),
        },
        Column::Source => Cell::from(Span::styled(entry.source.as_str().to_owned(), theme.dim())),
    }
}

/// The stored domain, cut to leave room for its badge, and the badge.
fn domain_line<'a>(state: &State, entry: &'a Entry, width: usize) -> Line<'a> {
    let theme = state.theme;
    let Some(domain) = entry.domain.as_deref() else {
        return Line::from(Span::styled("—", theme.dim()));
    };
    match state.customers.badge(entry) {
        Some(n) => {
            let badge = theme.badge_text(n);
            let room = width.saturating_sub(badge.width() + 1);
            Line::from(vec![
                Span::raw(format::truncate(domain, room)),
                Span::raw(" "),
                Span::styled(badge, theme.badge()),
            ])
        }
        None => Line::from(Span::raw(format::truncate(domain, width))),
    }
}

fn render_empty(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let (text, style) = match (&state.sync.phase, state.cache_loaded) {
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
        columns_for(width).into_iter().map(|(c, _)| c).collect()
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
    fn columns_never_overflow_the_width() {
        for width in 30..200 {
            let cols = columns_for(width);
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
