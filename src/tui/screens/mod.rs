//! The one interface every mode offers the event loop, and the one place
//! that picks which mode gets a key and which draws.
//!
//! A mode (the list at the bottom, then whatever is on the [`Modes`]
//! stack) says which keymap table is in force, handles a key against the
//! app, gives the hint bar its keys and draws itself: [`Screen`]. One file
//! per mode. What a mode does to the shared model lives in the feature
//! modules (`finder`, `triage`, `changes`), what it draws in `view`; this
//! module ties them together and does no I/O.

mod archived;
mod compare;
mod confirm;
mod detail;
mod form;
mod help;
mod list;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;

use super::keymap::{Action, KeyMode};
use super::message::Command;
use super::mode::{ConfirmArchive, ConfirmMerge, ConfirmQuit, Detail, Help, Mode, Modes};
use super::state::State;
use super::view::{self, Areas};

pub use detail::{follow_selection, reload_history};
pub use list::{List, on_action};

/// What each mode offers. A mode's own data is its value on the stack;
/// the model and the list's selection are the app's, in [`State`].
pub trait Screen {
    /// The keymap table in force: dispatch, the hint bar and `?` help all
    /// read it, so the three cannot disagree.
    fn keys(&self, state: &State) -> KeyMode;

    /// One key, against the app. The mode stays on the stack while it is
    /// handled, so what it calls sees the screen the user sees; it closes
    /// itself or opens another by changing the stack.
    fn handle(state: &mut State, key: KeyEvent) -> Vec<Command>
    where
        Self: Sized;

    /// Draws the mode: a screen in `areas.main` (and what else it owns),
    /// an overlay wherever it belongs.
    fn render(&self, state: &State, frame: &mut Frame, areas: &Areas);

    /// The hint bar's keys and words.
    fn hints(&self, state: &State) -> Vec<(String, &'static str)> {
        state.keymap.hints(self.keys(state))
    }
}

/// A key, to the mode on top.
pub fn handle_key(state: &mut State, key: KeyEvent) -> Vec<Command> {
    match state.modes.top() {
        None => List::handle(state, key),
        Some(Mode::Detail(_)) => Detail::handle(state, key),
        Some(Mode::Compare(_)) => super::mode::Compare::handle(state, key),
        Some(Mode::Form(_)) => super::mode::FormSession::handle(state, key),
        Some(Mode::Help(_)) => Help::handle(state, key),
        Some(Mode::Archived(_)) => super::mode::ArchivedView::handle(state, key),
        Some(Mode::ConfirmArchive(_)) => ConfirmArchive::handle(state, key),
        Some(Mode::ConfirmMerge(_)) => ConfirmMerge::handle(state, key),
        Some(Mode::ConfirmQuit(_)) => ConfirmQuit::handle(state, key),
    }
}

/// Draws the whole screen: the title, the screen showing, the status line
/// and its hints, then an overlay on top.
pub fn render(state: &State, frame: &mut Frame) {
    let areas = view::areas(frame.area());
    view::title(state, frame, areas.title);
    let screen = showing(&state.modes);
    screen.render(state, frame, &areas);
    view::status(state, frame, areas.status);
    view::hints(state, screen.hints(state), frame, areas.hints);
    if let Some(overlay) = state.modes.top().filter(|m| m.is_overlay()) {
        as_screen(overlay).render(state, frame, &areas);
    }
}

/// The screen showing (under any overlay): the list when the stack is
/// empty.
pub fn showing(modes: &Modes) -> &dyn Screen {
    match modes.screen() {
        Some(mode) => as_screen(mode),
        None => &List,
    }
}

fn as_screen(mode: &Mode) -> &dyn Screen {
    match mode {
        Mode::Detail(detail) => detail,
        Mode::Compare(compare) => compare,
        Mode::Form(session) => session.as_ref(),
        Mode::Help(help) => help,
        Mode::Archived(view) => view.as_ref(),
        Mode::ConfirmArchive(question) => question,
        Mode::ConfirmMerge(question) => question.as_ref(),
        Mode::ConfirmQuit(question) => question,
    }
}

/// The action `key` means in `mode`. A character that means nothing there
/// says so briefly rather than nothing at all.
fn action(state: &mut State, mode: KeyMode, key: &KeyEvent) -> Option<Action> {
    let action = state.keymap.action_for(mode, key);
    if action.is_none()
        && let KeyCode::Char(c) = key.code
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        let help = state.keymap.label(Action::Help).to_owned();
        let dot = state.theme.glyphs.dot;
        state.flash = Some(format!("{c} does nothing here{dot}{help} for keys"));
        state.mark_dirty();
    }
    action
}

/// Quits, asking first when changes are not sent yet.
pub fn quit_or_ask(state: &mut State) -> Vec<Command> {
    if state.model.outbox.is_empty() {
        return quit(state);
    }
    state.modes.push(Mode::ConfirmQuit(ConfirmQuit));
    state.mark_dirty();
    Vec::new()
}

fn quit(state: &mut State) -> Vec<Command> {
    state.quitting = true;
    vec![Command::Quit]
}
