//! Rendering: pure functions from `&State` to a frame. Views read state and
//! draw; they never change state or start work.

mod compare;
mod detail;
pub mod form;
mod help;
mod list;
mod status;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::filters::FilterLine;
use super::form::FormContext;
use super::format;
use super::keymap::{Action, KeyMode};
use super::state::{SIDE_PANE_MIN_WIDTH, State, SyncStatus};
use super::triage;
use status::{Part, Priority};

/// Width of the form's side pane on wide screens.
const FORM_WIDTH: u16 = 54;

pub use list::{Column, columns_for};

/// Draws the whole screen.
pub fn render(state: &State, frame: &mut Frame) {
    let [title, main, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());

    render_title(state, frame, title);
    if let Some(session) = state.modes.form() {
        let ctx = FormContext {
            customers: &state.model.customers,
            team: &session.team,
            me: state.model.me.as_deref(),
            plans: &session.plans,
            keymap: &state.keymap,
        };
        if state.width >= SIDE_PANE_MIN_WIDTH {
            let [left, right] =
                Layout::horizontal([Constraint::Min(40), Constraint::Length(FORM_WIDTH)])
                    .areas(main);
            list::render(state, frame, left);
            frame.buffer_mut().set_style(left, state.theme.inactive());
            form::render(&session.form, &ctx, state.theme, frame, right);
        } else {
            form::render(&session.form, &ctx, state.theme, frame, main);
        }
    } else if let Some(compare) = state.modes.compare() {
        compare::render(state, compare, frame, main);
    } else if state.modes.detail_open() && state.selected_entry().is_some() {
        if state.detail_covers_list() {
            detail::render(state, frame, main);
        } else {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(main);
            list::render(state, frame, left);
            detail::render(state, frame, right);
        }
    } else {
        list::render(state, frame, main);
    }
    render_status(state, frame, status);
    render_hints(state, frame, hints);
    if state.modes.help_open() {
        help::render(state, frame, frame.area());
    }
}

fn render_title(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
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
        if finder.duplicates_only {
            names.push("duplicates only".to_owned());
        }
        if let Some(line) = finder.line.as_ref().filter(|_| finder.query().is_some()) {
            names.push(format!("filter: {}", line.input.value().trim()));
        }
        for name in names {
            spans.push(Span::raw(" · "));
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
            spans.push(Span::raw(" · "));
            spans.push(Span::styled(
                format!("{} {noun}", format::count(dupes)),
                theme.warning(),
            ));
        }
    }
    let mut right = format!("sort: {}", state.model.customers.sort().label());
    if state.model.demo {
        right.push_str("  demo");
    }
    let left = Line::from(spans);
    // Narrow screens keep the filters; the sort also shows as an arrow in
    // the column header.
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
fn render_filter_line(state: &State, line: &FilterLine, frame: &mut Frame, area: Rect) {
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
    let shown = format::truncate(&shown, room).into_owned();
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

fn render_status(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let status = state.sync_status();
    let style = match status {
        SyncStatus::Fresh(_) => theme.ok(),
        SyncStatus::Busy(_) => theme.dim(),
        SyncStatus::Offline(_) => theme.warning(),
    };
    if state.modes.confirm_quit() {
        let n = state.model.outbox.len();
        let text = format!(
            "{n} change{} not sent yet; they will be sent next time. Quit? ({}/N)",
            if n == 1 { " is" } else { "s are" },
            state.keymap.label(Action::Yes)
        );
        frame.render_widget(Paragraph::new(Span::styled(text, theme.warning())), area);
        return;
    }
    if let Some(question) = state
        .modes
        .confirm_archive()
        .and_then(|id| triage::archive_question(state, id, usize::from(area.width)))
    {
        frame.render_widget(
            Paragraph::new(Span::styled(question, theme.warning())),
            area,
        );
        return;
    }
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
    for (i, clause) in status.text().split(" · ").enumerate() {
        let priority = if i == 0 { priority } else { Priority::Aside };
        parts.push(Part::new(clause, style, priority));
    }
    if let Some(pending) = state.pending_status() {
        parts.push(Part::new(pending, theme.warning(), Priority::Vital));
    }
    let problems = [&state.store_problem, &state.notice, &state.config_problem];
    for problem in problems.into_iter().flatten() {
        parts.push(Part::new(problem.clone(), theme.error(), Priority::Vital));
    }
    let line = status::fit(parts, usize::from(area.width));
    frame.render_widget(Paragraph::new(line), area);
}

fn render_hints(state: &State, frame: &mut Frame, area: Rect) {
    if state.modes.form().is_some() {
        // The form shows its own keys; the list's would mislead.
        return;
    }
    if let Some(line) = state.finder.line.as_ref().filter(|l| l.editing) {
        render_filter_line(state, line, frame, area);
        return;
    }
    let mode = state.modes.screen_key_mode();
    let mut hints: Vec<(String, &str)> = Vec::new();
    if state.finder.query().is_some() && mode == KeyMode::List {
        hints.push((state.keymap.label(Action::Close).to_owned(), "clear filter"));
    }
    hints.extend(state.keymap.hints(mode));
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
