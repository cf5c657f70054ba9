//! Rendering: pure functions from `&State` to a frame. Views read state and
//! draw; they never change state or start work.

mod detail;
pub mod form;
mod help;
mod list;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::form::FormContext;
use super::format;
use super::keymap;
use super::state::{SIDE_PANE_MIN_WIDTH, State, SyncStatus};

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
    if let Some(session) = &state.form {
        let ctx = FormContext {
            customers: &state.customers,
            team: &session.team,
            me: state.me.as_deref(),
            plans: &session.plans,
        };
        if state.width >= SIDE_PANE_MIN_WIDTH {
            let [left, right] =
                Layout::horizontal([Constraint::Min(40), Constraint::Length(FORM_WIDTH)])
                    .areas(main);
            list::render(state, frame, left);
            frame.buffer_mut().set_style(left, state.theme.dim());
            form::render(&session.form, &ctx, state.theme, frame, right);
        } else {
            form::render(&session.form, &ctx, state.theme, frame, main);
        }
    } else if state.detail_open && state.selected_entry().is_some() {
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
    if state.help_open {
        help::render(state, frame, frame.area());
    }
}

fn render_title(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let mut spans = vec![
        Span::styled("Customers", theme.title()),
        Span::raw("  "),
        Span::raw(format::count(state.customers.len())),
    ];
    let dupes = state.customers.duplicate_domains();
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
    if state.demo {
        spans.push(Span::styled("  demo", theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn render_status(state: &State, frame: &mut Frame, area: Rect) {
    let theme = state.theme;
    let status = state.sync_status();
    let style = match status {
        SyncStatus::Fresh(_) => theme.ok(),
        SyncStatus::Busy(_) => theme.dim(),
        SyncStatus::Offline(_) => theme.warning(),
    };
    if state.confirm_quit {
        let n = state.outbox.len();
        let text = format!(
            "{n} change{} not sent yet; they will be sent next time. Quit? (y/N)",
            if n == 1 { " is" } else { "s are" }
        );
        frame.render_widget(Paragraph::new(Span::styled(text, theme.warning())), area);
        return;
    }
    if let Some(flash) = &state.flash {
        frame.render_widget(
            Paragraph::new(Span::styled(flash.clone(), theme.ok())),
            area,
        );
        return;
    }
    let mut spans = vec![Span::styled(status.text().to_owned(), style)];
    if let Some(pending) = state.pending_status() {
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(pending, theme.warning()));
    }
    if let Some(notice) = &state.notice {
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(notice.clone(), theme.error()));
    }
    let text = Line::from(spans);
    frame.render_widget(Paragraph::new(text), area);
}

fn render_hints(state: &State, frame: &mut Frame, area: Rect) {
    if state.form.is_some() {
        // The form shows its own keys; the list's would mislead.
        return;
    }
    let theme = state.theme;
    let mut spans = Vec::new();
    for (key, word) in keymap::hints(state.detail_open) {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::styled(format!(" {word}"), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
