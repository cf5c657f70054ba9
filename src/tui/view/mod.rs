//! Rendering: pure functions from `&State` to a frame, one per part of the
//! screen; `screens` decides which parts a mode draws. Views read state
//! and draw; they never change state or start work.

mod archived;
mod compare;
mod detail;
pub mod form;
mod help;
mod list;
mod status;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::filters::FilterLine;
use super::form::FormContext;
use super::format;
use super::keymap::{Action, KeyMode};
use super::mode::{ArchivedView, Compare, Detail, FormSession, Mode};
use super::state::{SIDE_PANE_MIN_WIDTH, State, SyncStatus};
use super::theme::Theme;
use super::triage;
use status::{Part, Priority};

/// Width of the form's side pane on wide screens.
const FORM_WIDTH: u16 = 54;

pub use list::{Column, ListHit, columns_for};

/// Where things go on the screen: the title row, the main area the screen
/// showing fills, the status line and the hint bar under it.
#[derive(Debug, Clone, Copy)]
pub struct Areas {
    pub whole: Rect,
    pub title: Rect,
    pub main: Rect,
    pub status: Rect,
    pub hints: Rect,
}

pub fn areas(whole: Rect) -> Areas {
    let [title, main, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(whole);
    Areas {
        whole,
        title,
        main,
        status,
        hints,
    }
}

/// The customers list, alone.
pub fn list(state: &State, frame: &mut Frame, area: Rect) {
    list::render(state, frame, area);
}

/// The details: beside the list on wide screens, over it on narrow ones.
pub fn detail(state: &State, detail: &Detail, frame: &mut Frame, area: Rect) {
    let (list_area, detail_area) = detail_split(state, area);
    if let Some(list_area) = list_area {
        list::render(state, frame, list_area);
    }
    if let Some(detail_area) = detail_area {
        detail::render(state, detail.scroll, frame, detail_area);
    }
}

/// Where the details screen puts the list and the details in `area`: the
/// list alone while nothing is selected, the details alone on narrow
/// screens, else both side by side.
fn detail_split(state: &State, area: Rect) -> (Option<Rect>, Option<Rect>) {
    if state.selected_entry().is_none() {
        (Some(area), None)
    } else if state.detail_covers_list() {
        (None, Some(area))
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(area);
        (Some(left), Some(right))
    }
}

/// What the pointer is over at `(x, y)`, found with the layout the screen
/// is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Under {
    /// A header or a row of the list, where the list takes clicks.
    List(Option<ListHit>),
    Detail,
    /// Compare, and the record drawn under the pointer, if any.
    Compare(Option<usize>),
    /// The archived view, and the row of it under the pointer, if any.
    Archived(Option<usize>),
    /// The help overlay, wherever the pointer is.
    Help,
    /// A part that takes no pointer (the title, the status line, a form).
    Other,
}

pub fn under(state: &State, (x, y): (u16, u16)) -> Under {
    let main = areas(Rect::new(0, 0, state.width, state.height)).main;
    let inside = |area: Rect| area.contains(Position::new(x, y));
    if state.modes.help_open() {
        return Under::Help;
    }
    if state.modes.top().is_some_and(Mode::is_overlay) || !inside(main) {
        return Under::Other;
    }
    let list_area = match state.modes.screen() {
        None => Some(main),
        Some(Mode::Detail(_)) => {
            let (list_area, detail_area) = detail_split(state, main);
            if detail_area.is_some_and(inside) {
                return Under::Detail;
            }
            list_area
        }
        Some(Mode::Compare(view)) => {
            return Under::Compare(compare::record_at(state, view, main, (x, y)));
        }
        Some(Mode::Archived(view)) => return Under::Archived(archived::row_at(view, main, y)),
        Some(_) => None,
    };
    match list_area {
        Some(area) if inside(area) => Under::List(list::hit(state, area, (x, y))),
        _ => Under::Other,
    }
}

/// The archived customers, with their own title over the list's.
pub fn archived(state: &State, view: &ArchivedView, frame: &mut Frame, areas: &Areas) {
    archived::render(state, view, frame, areas);
}

pub fn compare(state: &State, compare: &Compare, frame: &mut Frame, area: Rect) {
    compare::render(state, compare, frame, area);
}

/// The form: a side pane beside the dimmed list on wide screens, over the
/// list on narrow ones.
pub fn form_screen(state: &State, session: &FormSession, frame: &mut Frame, area: Rect) {
    let ctx = FormContext {
        customers: &state.model.customers,
        team: &session.team,
        me: state.model.me.as_deref(),
        plans: &session.plans,
        keymap: &state.keymap,
    };
    if state.width >= SIDE_PANE_MIN_WIDTH {
        let [left, right] =
            Layout::horizontal([Constraint::Min(40), Constraint::Length(FORM_WIDTH)]).areas(area);
        list::render(state, frame, left);
        frame.buffer_mut().set_style(left, state.theme.inactive());
        form::render(&session.form, &ctx, state.theme, frame, right);
    } else {
        form::render(&session.form, &ctx, state.theme, frame, area);
    }
}

/// The keys of `keys`' table, over the whole screen.
pub fn help(state: &State, keys: KeyMode, scroll: u16, frame: &mut Frame, area: Rect) {
    help::render(state, keys, scroll, frame, area);
}

/// A yes/no question, in place of the status line.
pub fn question(state: &State, text: String, frame: &mut Frame, area: Rect) {
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(Span::styled(text, state.theme.warning())),
        area,
    );
}

/// A question's whole text, wrapped in a box at the foot of `area`: the
/// status line holds only what fits.
pub fn plan(state: &State, text: &str, frame: &mut Frame, area: Rect) {
    let inner = area.width.saturating_sub(2).max(1);
    let lines = u16::try_from(text.width().div_ceil(usize::from(inner)))
        .unwrap_or(u16::MAX)
        .saturating_add(2)
        .min(area.height);
    let at = Rect {
        y: area.y + area.height - lines,
        height: lines,
        ..area
    };
    frame.render_widget(Clear, at);
    frame.render_widget(
        Paragraph::new(text.to_owned())
            .style(state.theme.warning())
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(
                ratatui::widgets::Block::bordered()
                    .border_style(state.theme.border())
                    .title(" merge "),
            ),
        at,
    );
}

pub fn title(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let g = theme.glyphs;
    let finder = &state.finder;
    let total = format::count(state.customer_total());
    let mut spans = vec![Span::styled("Customers", theme.title()), Span::raw("  ")];
    if finder.narrowed() {
        spans.push(Span::raw(format!(
            "{} of {total}",
            format::count(state.row_count())
        )));
        let mut names = Vec::new();
        if finder.mine {
            names.push("My customers".to_owned());
        }
        if finder.duplicates_only && finder.dismissed_only {
            let (groups, done) = triage::queue_count(state);
            let groups = groups - done;
            let noun = if groups == 1 { "group" } else { "groups" };
            names.push(format!("not duplicates: {groups} {noun}"));
        } else if finder.duplicates_only {
            names.push("duplicates only".to_owned());
            let (groups, done) = triage::queue_count(state);
            let noun = if groups == 1 { "group" } else { "groups" };
            names.push(format!("{groups} {noun}{}{done} done", g.dot));
        }
        if let Some(line) = finder.line.as_ref().filter(|_| finder.query().is_some()) {
            names.push(format!("filter: {}", line.input.value().trim()));
        }
        for name in names {
            spans.push(Span::raw(g.dot));
            spans.push(Span::styled(name, theme.key()));
        }
    } else {
        spans.push(Span::raw(total));
        let dupes = state.duplicate_domains();
        if dupes > 0 {
            let noun = if dupes == 1 {
                "duplicate domain"
            } else {
                "duplicate domains"
            };
            spans.push(Span::raw(g.dot));
            spans.push(Span::styled(
                format!("{} {noun}", format::count(dupes)),
                theme.warning(),
            ));
        }
    }
    let sort = state.model.customers.sort();
    let arrow = g.sort_arrow(sort.descending());
    let mut right = format!("sort: {} {arrow}", sort.column.name());
    if state.model.demo {
        right.push_str("  demo");
    }
    // Narrow screens keep the filters; the sort also shows as an arrow in
    // the column header.
    title_line(frame, area, theme, Line::from(spans), right);
}

/// A title: `left`, and `right` (dimmed) at the right end when both fit;
/// `left` alone when they do not.
pub(super) fn title_line(frame: &mut Frame, area: Rect, theme: Theme, left: Line, right: String) {
    if left.width() + right.width() + 2 > usize::from(area.width) {
        frame.render_widget(Paragraph::new(left), area);
        return;
    }
    let right_width = u16::try_from(right.width()).unwrap_or(u16::MAX);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_width + 1)]).areas(area);
    frame.render_widget(Paragraph::new(left), left_area);
    frame.render_widget(
        Paragraph::new(Span::styled(right, theme.dim())).alignment(Alignment::Right),
        right_area,
    );
}

/// The filter line, in place of the hints while it has the cursor.
pub fn filter_line(state: &State, line: &FilterLine, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let count = format!(
        "  {} of {}",
        format::count(state.row_count()),
        format::count(state.customer_total())
    );
    let value = line.input.value();
    let room = usize::from(area.width).saturating_sub(count.width() + 2);
    let scroll = line.input.visual_scroll(room);
    let shown: String = value.chars().skip(scroll).collect();
    let shown = theme.glyphs.truncate(&shown, room).into_owned();
    let cursor = line.input.visual_cursor().saturating_sub(scroll);
    let spans = vec![
        Span::styled("/", theme.key()),
        Span::raw(shown),
        Span::styled(count, theme.dim()),
    ];
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    let column = u16::try_from(cursor + 1).unwrap_or(u16::MAX);
    if column < area.width {
        frame.set_cursor_position(Position::new(area.x + column, area.y));
    }
}

pub fn status(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let status = state.sync_status();
    let style = match status {
        SyncStatus::Fresh(_) => theme.ok(),
        SyncStatus::Busy(_) => theme.dim(),
        SyncStatus::Offline(_) => theme.warning(),
    };
    if let Some(flash) = &state.flash {
        frame.render_widget(
            Paragraph::new(Span::styled(flash.clone(), theme.ok())),
            area,
        );
        return;
    }
    let mut parts = Vec::new();
    if let Some(note) = &state.change_note {
        parts.push(Part::new(note.clone(), theme.ok(), Priority::Busy));
    }
    if let Some(undo) = triage::undo_status(state) {
        parts.push(Part::new(undo, theme.ok(), Priority::Aside));
    }
    let priority = match status {
        SyncStatus::Fresh(_) => Priority::Calm,
        SyncStatus::Busy(_) => Priority::Busy,
        SyncStatus::Offline(_) => Priority::Vital,
    };
    // The first clause says what is going on; the rest (`showing cache from
    // 2m ago`) is context.
    for (i, clause) in status.text().split(theme.glyphs.dot).enumerate() {
        let priority = if i == 0 { priority } else { Priority::Aside };
        parts.push(Part::new(clause, style, priority));
    }
    if let Some(pending) = state.pending_status() {
        parts.push(Part::new(pending, theme.warning(), Priority::Vital));
    }
    let problems = [&state.store_problem, &state.notice, &state.config_problem];
    for problem in problems.into_iter().flatten() {
        let problem = theme.glyphs.text(problem).into_owned();
        parts.push(Part::new(problem, theme.error(), Priority::Vital));
    }
    let line = status::fit(parts, usize::from(area.width), theme.glyphs);
    frame.render_widget(Paragraph::new(line), area);
}

/// The hint bar: as many of `hints` as fit.
pub fn hints(state: &State, hints: Vec<(String, &str)>, frame: &mut Frame, area: Rect) {
    if hints.is_empty() {
        return;
    }
    let g = state.theme.glyphs;
    let mut hints: Vec<(String, &str)> = hints
        .into_iter()
        .map(|(k, w)| (g.text(&k).into_owned(), w))
        .collect();
    // Drop hints from the right until they fit, but keep `?`: it leads to
    // all the others.
    let width = |hints: &[(String, &str)]| -> usize {
        hints
            .iter()
            .map(|(k, w)| k.width() + w.width() + 3)
            .sum::<usize>()
    };
    let help = state.keymap.label(Action::Help);
    while width(&hints) > usize::from(area.width) + 2 && hints.len() > 1 {
        let drop = hints
            .iter()
            .rposition(|(k, _)| k != help)
            .unwrap_or(hints.len() - 1);
        hints.remove(drop);
    }
    let theme = state.theme;
    let mut spans = Vec::new();
    for (key, word) in hints {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::styled(format!(" {word}"), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
