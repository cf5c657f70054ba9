//! The Customers table. Only the rows on screen become widgets, so a list of
//! 100,000 costs the same to draw as a list of 100. Columns give way on
//! narrow screens: Updated first, then Source, Plan and Owner; the id (never
//! cut), the name, the domain and its badge always stay. On wide screens the
//! extra width goes first to the columns whose values on screen are cut,
//! and Name stops at a readable width.

use ratatui::Frame;
use ratatui::layout::{Constraint, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use std::borrow::Cow;
use std::ops::Range;

use unicode_width::UnicodeWidthStr;

use super::super::format;
use super::super::state::{Owner, State, SyncPhase};
use super::super::theme::Theme;
use super::super::triage;
use crate::domain::customers::as_name_group;
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
    Updated,
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
            Column::Updated => SortColumn::Updated,
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
            Column::Updated => "Updated",
        }
    }

    /// The name `view.hidden_columns` gives it (see
    /// `settings::HIDEABLE`); `None` for columns that always show.
    fn setting_name(self) -> Option<&'static str> {
        match self {
            Column::Owner => Some("owner"),
            Column::Plan => Some("plan"),
            Column::Source => Some("source"),
            Column::Updated => Some("updated"),
            Column::Id | Column::Name | Column::Domain => None,
        }
    }

    /// The narrowest and the widest it is drawn (the id's width is the
    /// largest id's, given separately).
    fn bounds(self) -> (u16, u16) {
        match self {
            Column::Id => (0, 0),
            Column::Name => (NAME_MIN, NAME_MAX),
            Column::Domain => (DOMAIN_WIDTH, 48),
            Column::Owner => (OWNER_WIDTH, 24),
            Column::Plan => (PLAN_WIDTH, 24),
            Column::Source => (SOURCE_WIDTH, SOURCE_WIDTH),
            Column::Updated => (UPDATED_WIDTH, UPDATED_WIDTH),
        }
    }
}

/// How wide each column's values on screen are, uncut (titles included).
pub type Wants<'a> = &'a dyn Fn(Column) -> u16;

const DOMAIN_WIDTH: u16 = 28;
const OWNER_WIDTH: u16 = 14;
const PLAN_WIDTH: u16 = 13;
const SOURCE_WIDTH: u16 = 8;
/// `just now`, `12d ago`, `400d ago`.
const UPDATED_WIDTH: u16 = 9;
const NAME_MIN: u16 = 20;
/// Past this, a longer name is cut rather than taking width another cut
/// column needs.
const NAME_MAX: u16 = 40;
/// Where even spare width stops widening Name: a row stays readable in one
/// glance.
const NAME_SPARE_MAX: u16 = 64;
/// The narrowest screen that shows Updated.
const UPDATED_FROM: u16 = 140;
/// Who gets extra width first: the columns a CSM reads to tell records
/// apart, then the rest.
const GROWTH_ORDER: [Column; 5] = [
    Column::Domain,
    Column::Owner,
    Column::Plan,
    Column::Name,
    Column::Updated,
];

/// The columns that fit in `width`, with their widths. `id_width` is the
/// width of the largest display id with its `#`, so no id is ever cut;
/// `hidden` names optional columns the settings leave out (`owner`, `plan`,
/// `source`, `updated`); `wants` says how wide each column's values on
/// screen are, so that extra width goes where something is cut.
pub fn columns_for(
    width: u16,
    id_width: u16,
    hidden: &[String],
    wants: Wants<'_>,
) -> Vec<(Column, u16)> {
    let mut optional = vec![Column::Owner, Column::Plan, Column::Source];
    if width >= UPDATED_FROM {
        optional.push(Column::Updated);
    }
    optional.retain(|column| {
        let name = column.setting_name();
        !hidden
            .iter()
            .any(|h| Some(h.trim().to_ascii_lowercase().as_str()) == name)
    });
    // Try all optional columns, then drop them from the right.
    for keep in (0..=optional.len()).rev() {
        let mut cols = vec![
            (Column::Id, id_width),
            (Column::Name, NAME_MIN),
            (Column::Domain, DOMAIN_WIDTH),
        ];
        cols.extend(optional[..keep].iter().map(|c| (*c, c.bounds().0)));
        let used: u16 = cols.iter().map(|(_, w)| *w).sum::<u16>() + cols.len() as u16 - 1;
        if used <= width {
            grow(&mut cols, width - used, wants);
            return cols;
        }
        if keep == 0 {
            // Very narrow: share what there is between name and domain.
            let shared = width.saturating_sub(id_width + 2);
            cols[2].1 = (shared / 2).clamp(12, DOMAIN_WIDTH);
            cols[1].1 = shared.saturating_sub(cols[2].1);
            return cols;
        }
    }
    unreachable!("keep == 0 always returns")
}

/// Hands out `extra` columns of width: first to each column whose values
/// are cut, up to what they need (in [`GROWTH_ORDER`], within its bounds),
/// then to the name up to [`NAME_MAX`], and what is still spare to a name
/// that is still cut, up to [`NAME_SPARE_MAX`].
fn grow(cols: &mut [(Column, u16)], mut extra: u16, wants: Wants<'_>) {
    for column in GROWTH_ORDER {
        let Some((_, width)) = cols.iter_mut().find(|(c, _)| *c == column) else {
            continue;
        };
        let target = wants(column).min(column.bounds().1);
        let more = target.saturating_sub(*width).min(extra);
        *width += more;
        extra -= more;
    }
    if let Some((_, width)) = cols.iter_mut().find(|(c, _)| *c == Column::Name) {
        let more = NAME_MAX.saturating_sub(*width).min(extra);
        *width += more;
        extra -= more;
        let spare = wants(Column::Name).min(NAME_SPARE_MAX);
        *width += spare.saturating_sub(*width).min(extra);
    }
}

/// What a point of the list is: a column's header, or a customer's row
/// (its index among the list's rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListHit {
    Header(SortColumn),
    Row(usize),
}

/// The customers on screen, each with its index among the list's rows.
type OnScreen<'a> = Vec<(usize, &'a Entry)>;

/// The rows on screen in `area` and the columns they are drawn in: what
/// [`render`] draws and [`hit`] finds, computed the same way for both.
fn layout(state: &State, area: Rect) -> (OnScreen<'_>, Vec<(Column, u16)>) {
    let on_screen = on_screen(state, usize::from(area.height.saturating_sub(1)));
    let wants = |column: Column| want(state, &on_screen, column);
    let columns = columns_for(
        area.width,
        id_width(state.model.max_display_id),
        &state.model.view_settings.hidden_columns,
        &wants,
    );
    (on_screen, columns)
}

/// What is at `(x, y)` of the list drawn in `area`: the header row names
/// columns (the space after a column counts as its own), the rows under it
/// customers.
pub fn hit(state: &State, area: Rect, (x, y): (u16, u16)) -> Option<ListHit> {
    if state.row_count() == 0 || !area.contains(Position::new(x, y)) {
        return None;
    }
    let (on_screen, columns) = layout(state, area);
    if y == area.y {
        let mut left = area.x;
        for (column, width) in columns {
            let right = left.saturating_add(width).saturating_add(COLUMN_SPACING);
            if x < right {
                return Some(ListHit::Header(column.sort_column()));
            }
            left = right;
        }
        return None;
    }
    let line = usize::from(y - area.y - 1);
    row_lines(state, &on_screen)
        .get(line)
        .copied()
        .flatten()
        .map(ListHit::Row)
}

/// What each line under the column titles shows: a customer's row, or
/// (`None`) a group's header in `D`.
fn row_lines(state: &State, on_screen: &[(usize, &Entry)]) -> Vec<Option<usize>> {
    let headers = group_headers(state, on_screen);
    let mut lines = Vec::with_capacity(on_screen.len() + headers.len());
    for (row, _) in on_screen {
        if headers.iter().any(|(at, _)| at == row) {
            lines.push(None);
        }
        lines.push(Some(*row));
    }
    lines
}

/// Between two columns.
const COLUMN_SPACING: u16 = 1;

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    if state.row_count() == 0 {
        render_empty(state, frame, area);
        return;
    }
    let theme = state.theme;
    let (on_screen, columns) = layout(state, area);
    let sort = state.model.customers.sort();
    let header = Row::new(columns.iter().map(|(c, _)| {
        if c.sort_column() == sort.column {
            let arrow = theme.glyphs.sort_arrow(sort.descending());
            Cell::from(format!("{} {arrow}", c.title()))
        } else {
            Cell::from(c.title())
        }
    }))
    .style(theme.column_header());
    let query = state.finder.query();
    let headers = group_headers(state, &on_screen);
    let shown_rows: Vec<usize> = on_screen.iter().map(|(row, _)| *row).collect();
    let rows = on_screen.into_iter().flat_map(|(position, entry)| {
        let marks = Marks::of(state, query.as_ref(), entry);
        // The selected row is one bar: its cells take the selection's look.
        let cell_theme = if position == state.selected {
            theme.in_selected_row()
        } else {
            theme
        };
        let selected = position == state.selected;
        let row = Row::new(
            columns
                .iter()
                .map(|(c, w)| cell(state, cell_theme, entry, (&marks, selected), *c, *w)),
        );
        let row = if entry.pending {
            row.style(theme.dim())
        } else {
            row
        };
        let row = if position == state.selected {
            row.style(theme.selected())
        } else {
            row
        };
        // A group's header is drawn over the blank row before it, across
        // every column (a table cell cannot span them).
        let header = headers
            .iter()
            .any(|(at, _)| *at == position)
            .then(|| Row::new(Vec::<Cell>::new()));
        header.into_iter().chain(std::iter::once(row))
    });
    let widths = columns.iter().map(|(_, w)| Constraint::Length(*w));
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(COLUMN_SPACING);
    frame.render_widget(table, area);
    draw_group_headers(state, &headers, &shown_rows, frame, area);
    if theme.screen_reader {
        place_cursor(state, frame, area);
    }
}

/// For a screen reader, which follows it: the terminal cursor at the start
/// of the selected row.
fn place_cursor(state: &State, frame: &mut Frame, area: Rect) {
    let on_screen = on_screen(state, usize::from(area.height.saturating_sub(1)));
    let line = row_lines(state, &on_screen)
        .iter()
        .position(|row| *row == Some(state.selected));
    if let Some(line) = line
        && let Ok(line) = u16::try_from(line + 1)
        && line < area.height
    {
        frame.set_cursor_position(Position::new(area.x, area.y + line));
    }
}

/// The rows that fit in `visible` lines, with their customers: in `D`,
/// each group's header takes a line too, and the first row always opens
/// with its group's header.
fn on_screen(state: &State, visible: usize) -> Vec<(usize, &Entry)> {
    let offset = state.offset.min(state.row_count().saturating_sub(1));
    let grouped = state.finder.duplicates_only;
    let offset = if grouped {
        grouped_offset(state, offset, visible)
    } else {
        offset
    };
    let mut on_screen: Vec<(usize, &Entry)> = Vec::new();
    let mut lines = 0;
    let mut previous = None;
    for row in offset..state.row_count() {
        let Some(entry) = state.entry_at_row(row) else {
            break;
        };
        let group = grouped.then(|| state.group_at_row(row)).flatten();
        let opens = grouped && (on_screen.is_empty() || group != previous);
        lines += 1 + usize::from(opens);
        if lines > visible && !on_screen.is_empty() {
            break;
        }
        previous = group;
        on_screen.push((row, entry));
    }
    on_screen
}

/// Writes each group's header over the blank line the table left for it.
fn draw_group_headers(
    state: &State,
    headers: &[(usize, String)],
    rows: &[usize],
    frame: &mut Frame,
    area: Rect,
) {
    for (line, text) in header_lines(headers, rows) {
        let y = area.y + 1 + u16::try_from(line).unwrap_or(u16::MAX);
        if y < area.y + area.height {
            let at = Rect {
                y,
                height: 1,
                ..area
            };
            frame.render_widget(Paragraph::new(Span::styled(text, state.theme.title())), at);
        }
    }
}

/// Each header's line below the column titles, given the rows drawn.
fn header_lines(headers: &[(usize, String)], rows: &[usize]) -> Vec<(usize, String)> {
    let mut line = 0;
    let mut out = Vec::new();
    for row in rows {
        if let Some((_, text)) = headers.iter().find(|(at, _)| at == row) {
            out.push((line, text.clone()));
            line += 1;
        }
        line += 1;
    }
    out
}

/// In `D`, the first row to draw so that the selection stays in sight
/// below the group headers: the list's own offset counts rows only.
fn grouped_offset(state: &State, offset: usize, visible: usize) -> usize {
    let mut start = offset.min(state.selected);
    loop {
        let mut lines = 0;
        let mut previous = None;
        for row in start..=state.selected {
            let key = state.group_at_row(row);
            lines += 1 + usize::from(row == start || key != previous);
            previous = key;
        }
        if lines <= visible || start >= state.selected {
            return start;
        }
        start += 1;
    }
}

/// `acme.com · 3 records` (or, for a likely group, `Atlasbridge Security
/// · 2 records · same name`), before the first row of each group on
/// screen (the group cut at the top is named too), by row.
fn group_headers(state: &State, on_screen: &[(usize, &Entry)]) -> Vec<(usize, String)> {
    if !state.finder.duplicates_only {
        return Vec::new();
    }
    let mut headers = Vec::new();
    let mut previous = None;
    for (i, (row, entry)) in on_screen.iter().enumerate() {
        let key = state.group_at_row(*row);
        if i == 0 || key != previous {
            let g = state.theme.glyphs;
            let text = match key.as_deref() {
                Some(k) if as_name_group(k).is_some() => {
                    let count = state.model.customers.likely_badge(entry).unwrap_or(1);
                    let name = triage::group_label(state, k);
                    format!("{name}{}{count} records{}same name", g.dot, g.dot)
                }
                _ => {
                    let count = state.badge(entry).unwrap_or(1);
                    let name = entry.domain_key().unwrap_or(g.blank);
                    format!("{name}{}{count} records", g.dot)
                }
            };
            let mut text = text;
            if state.finder.dismissed_only {
                text.push_str(g.dot);
                text.push_str("not a duplicate");
            }
            headers.push((*row, text));
        }
        previous = key;
    }
    headers
}

/// The width of `#` and the largest display id.
pub fn id_width(max_display_id: u64) -> u16 {
    let digits = max_display_id.max(1).ilog10() + 1;
    u16::try_from(digits).unwrap_or(20) + 1
}

/// How wide `column`'s values in `rows` are, uncut, with its title (and the
/// sort arrow it may carry).
fn want(state: &State, rows: &[(usize, &Entry)], column: Column) -> u16 {
    let title = column.title().width() + 2;
    let widest = rows
        .iter()
        .map(|(_, e)| match column {
            Column::Id | Column::Source | Column::Updated => 0,
            Column::Name => {
                let marker = state
                    .model
                    .customers
                    .likely_badge(e)
                    .filter(|_| state.preview.is_none())
                    .map_or(0, |n| state.theme.likely_text(n).width() + 1);
                e.name.width() + marker
            }
            Column::Domain => {
                let badge = state
                    .badge(e)
                    .map_or(0, |n| state.theme.badge_text(n).width() + 1);
                e.domain.as_deref().map_or(1, UnicodeWidthStr::width) + badge
            }
            Column::Owner => state
                .owner(e.owner_id.as_deref())
                .map_or(1, |o| o.label().width()),
            Column::Plan => e.plan.as_deref().map_or(1, UnicodeWidthStr::width),
        })
        .max()
        .unwrap_or(0);
    u16::try_from(widest.max(title)).unwrap_or(u16::MAX)
}

/// Where the filter matched one row, by field.
#[derive(Default)]
struct Marks(Vec<Highlight>);

impl Marks {
    fn of(state: &State, query: Option<&Query>, entry: &Entry) -> Marks {
        let Some(query) = query else {
            return Marks::default();
        };
        let users = &state.model.users;
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

/// `text` cut to `width` columns (ending in `ellipsis`), with the byte
/// `ranges` styled as matches.
fn marked<'a>(
    text: &'a str,
    (width, ellipsis): (usize, &'static str),
    ranges: impl Iterator<Item = Range<usize>>,
    style: Style,
    base: Style,
) -> Line<'a> {
    let shown = format::cut(text, width, ellipsis);
    let (visible, cut) = match &shown {
        Cow::Borrowed(s) => (s.len(), false),
        Cow::Owned(s) => (s.len().saturating_sub(ellipsis.len()), true),
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
    if cut {
        spans.push(Span::styled(ellipsis, base));
    }
    Line::from(spans)
}

fn cell<'a>(
    state: &State,
    theme: Theme,
    entry: &'a Entry,
    (marks, selected): (&Marks, bool),
    column: Column,
    width: u16,
) -> Cell<'a> {
    let g = theme.glyphs;
    // For a screen reader the selected row says so in text, not only in
    // its colours: `>1003` for `#1003`.
    let number = if selected && theme.screen_reader {
        format!(">{}", entry.display_id)
    } else {
        format!("#{}", entry.display_id)
    };
    let width = (usize::from(width), g.ellipsis);
    let matched = theme.matched();
    match column {
        // A create the server has not confirmed has no number yet.
        Column::Id if entry.pending_create_key().is_some() => {
            Cell::from(Span::styled(theme.pending_id(), theme.warning()))
        }
        Column::Id if marks.any(FieldKind::DisplayId) => Cell::from(Span::styled(number, matched)),
        Column::Id => Cell::from(Span::styled(number, theme.dim())),
        Column::Name => Cell::from(name_line(state, theme, entry, marks, width.0)),
        Column::Domain => Cell::from(domain_line(state, theme, entry, marks, width.0)),
        Column::Owner => match state.owner(entry.owner_id.as_deref()) {
            // `me` is not the text searched (the name is), so no marks.
            Some(Owner::Me) => Cell::from(Owner::Me.label()),
            Some(Owner::Teammate(owner)) => {
                let line = marked(
                    owner,
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
            None => Cell::from(Span::styled(g.blank, theme.dim())),
        },
        Column::Plan => match &entry.plan {
            Some(plan) => Cell::from(marked(
                plan,
                width,
                marks.ranges(FieldKind::Plan),
                matched,
                Style::new(),
            )),
            None => Cell::from(Span::styled(g.blank, theme.dim())),
        },
        Column::Source => Cell::from(Span::styled(entry.source.as_str().to_owned(), theme.dim())),
        Column::Updated => Cell::from(Span::styled(
            format::ago(state.now, entry.updated_at),
            theme.dim(),
        )),
    }
}

/// The name, cut to leave room for its likely-duplicate marker (`≈2`:
/// other live customers have a name of the same key), and the marker,
/// dimmed once the group is dismissed.
fn name_line<'a>(
    state: &State,
    theme: Theme,
    entry: &'a Entry,
    marks: &Marks,
    width: usize,
) -> Line<'a> {
    let likely = match state.preview {
        Some(_) => None,
        None => state.model.customers.likely_badge(entry),
    };
    let marker = likely.map(|n| theme.likely_text(n));
    let room = marker
        .as_ref()
        .map_or(width, |m| width.saturating_sub(m.width() + 1));
    let mut line = marked(
        &entry.name,
        (room, theme.glyphs.ellipsis),
        marks.ranges(FieldKind::Name),
        theme.matched(),
        Style::new(),
    );
    if let Some(marker) = marker {
        let key = state.model.customers.likely_key(entry);
        let style = group_mark_style(state, theme, key.as_deref(), theme.likely());
        push_mark(&mut line, marker, style);
    }
    line
}

/// A group's mark in `style`, dimmed when the group (by `key`) is
/// dismissed as not a duplicate: it keeps its count.
fn group_mark_style(state: &State, theme: Theme, key: Option<&str>, style: Style) -> Style {
    if state.finder.is_hidden(key) {
        theme.dim()
    } else {
        style
    }
}

/// Appends a mark (a badge) after a cell's text, one space apart.
fn push_mark(line: &mut Line<'_>, mark: String, style: Style) {
    line.spans.push(Span::raw(" "));
    line.spans.push(Span::styled(mark, style));
}

/// The stored domain, cut to leave room for its badge, and the badge.
fn domain_line<'a>(
    state: &State,
    theme: Theme,
    entry: &'a Entry,
    marks: &Marks,
    width: usize,
) -> Line<'a> {
    let Some(domain) = entry.domain.as_deref() else {
        return Line::from(Span::styled(theme.glyphs.blank, theme.dim()));
    };
    let badge = state.badge(entry).map(|n| theme.badge_text(n));
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
        (room, theme.glyphs.ellipsis),
        marks.ranges(FieldKind::Domain),
        theme.matched(),
        base,
    );
    if let Some(badge) = badge {
        let style = group_mark_style(state, theme, entry.domain_key(), theme.badge());
        push_mark(&mut line, badge, style);
    }
    line
}

fn render_empty(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let ellipsis = theme.glyphs.ellipsis;
    let (text, style) = match (&state.model.sync.phase, state.model.cache_loaded) {
        _ if state.finder.narrowed() && !state.model.customers.is_empty() => (
            "No customer matches. Esc clears the filter; m and D switch My customers and \
             duplicates only off."
                .to_owned(),
            theme.dim(),
        ),
        (_, false) => (format!("Reading the local cache{ellipsis}"), theme.dim()),
        (SyncPhase::Syncing { .. }, _) => (
            format!("Fetching customers from Pivotal{ellipsis}"),
            theme.dim(),
        ),
        (SyncPhase::Offline { .. }, _) => (
            "Pivotal can't be reached and nothing is cached yet. The app keeps retrying; \
             see the status line below."
                .to_owned(),
            theme.warning(),
        ),
        (SyncPhase::Idle, _) if state.model.sync.last_synced.is_some() => {
            ("No customers in this account yet.".to_owned(), Style::new())
        }
        (SyncPhase::Idle, _) => (format!("Connecting to Pivotal{ellipsis}"), theme.dim()),
    };
    let paragraph = Paragraph::new(text)
        .style(style)
        .wrap(ratatui::widgets::Wrap { trim: true });
    frame.render_widget(paragraph, area.inner(ratatui::layout::Margin::new(2, 1)));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values on screen that all fit their narrowest width.
    fn short(_: Column) -> u16 {
        0
    }

    fn names(width: u16) -> Vec<Column> {
        columns_for(width, 6, &[], &short)
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    fn width_of(cols: &[(Column, u16)], column: Column) -> Option<u16> {
        cols.iter().find(|(c, _)| *c == column).map(|(_, w)| *w)
    }

    #[test]
    fn columns_give_way_updated_then_source_then_plan_then_owner() {
        use Column::*;
        assert_eq!(names(160), [Id, Name, Domain, Owner, Plan, Source, Updated]);
        assert_eq!(names(120), [Id, Name, Domain, Owner, Plan, Source]);
        assert_eq!(names(80), [Id, Name, Domain, Owner]);
        assert_eq!(names(60), [Id, Name, Domain]);
        assert_eq!(names(40), [Id, Name, Domain]);
    }

    #[test]
    fn every_column_a_setting_may_hide_is_one_the_settings_accept() {
        let named: Vec<&str> = [Column::Owner, Column::Plan, Column::Source, Column::Updated]
            .into_iter()
            .filter_map(Column::setting_name)
            .collect();
        assert_eq!(named, crate::settings::HIDEABLE);
    }

    #[test]
    fn hidden_columns_stay_hidden() {
        let hidden = ["source".to_owned(), "Plan".to_owned(), "updated".to_owned()];
        let cols: Vec<Column> = columns_for(200, 6, &hidden, &short)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(
            cols,
            [Column::Id, Column::Name, Column::Domain, Column::Owner]
        );
    }

    #[test]
    fn the_id_column_holds_the_largest_id_at_every_width() {
        assert_eq!(id_width(1062), 5);
        assert_eq!(id_width(101_003), 7);
        assert_eq!(id_width(0), 2);
        for width in [40, 60, 80, 120, 200] {
            let cols = columns_for(width, id_width(1_000_003), &[], &short);
            assert_eq!(width_of(&cols, Column::Id), Some(8), "{width}");
        }
    }

    #[test]
    fn extra_width_goes_to_cut_columns_first_and_name_stops_at_its_cap() {
        // Long values everywhere, as on a real account.
        let long = |c: Column| match c {
            Column::Name => 70,
            Column::Domain => 35,
            Column::Owner => 18,
            Column::Plan => 16,
            _ => 0,
        };
        let cols = columns_for(200, 7, &[], &long);
        assert_eq!(width_of(&cols, Column::Domain), Some(35));
        assert_eq!(width_of(&cols, Column::Owner), Some(18));
        assert_eq!(width_of(&cols, Column::Plan), Some(16));
        assert_eq!(width_of(&cols, Column::Name), Some(NAME_SPARE_MAX));
        // When width is short, the name gives way first.
        let cols = columns_for(120, 7, &[], &long);
        assert_eq!(width_of(&cols, Column::Domain), Some(35));
        assert!(width_of(&cols, Column::Name) < Some(NAME_MAX));
        // Short names leave Name narrow; nothing else needs the room.
        let cols = columns_for(200, 7, &[], &short);
        assert_eq!(width_of(&cols, Column::Name), Some(NAME_MAX));
        assert_eq!(width_of(&cols, Column::Domain), Some(DOMAIN_WIDTH));
    }

    #[test]
    fn columns_never_overflow_the_width() {
        let long = |_: Column| 100;
        for width in 34..260 {
            for wants in [&short as Wants<'_>, &long] {
                let cols = columns_for(width, 8, &[], wants);
                let total: u16 = cols.iter().map(|(_, w)| *w).sum::<u16>() + cols.len() as u16 - 1;
                assert!(total <= width, "{width}: {cols:?}");
                let name = width_of(&cols, Column::Name);
                assert!(name.unwrap_or(0) >= 10, "{width}: name too narrow");
            }
        }
    }
}
