//! The details of the selected customer and its history: the list's keys
//! still move the selection (the details follow it), `J`/`K` scroll,
//! `Esc`/`q` go back to the view they were opened from.

use crossterm::event::KeyEvent;
use ratatui::Frame;

use super::super::keymap::{Action, KeyMode};
use super::super::message::Command;
use super::super::mode::{Detail, Mode};
use super::super::state::{History, State};
use super::super::view::{self, Areas};
use super::{Screen, list, quit_or_ask};
use crate::domain::Entry;
use crate::sync::SyncCommand;

impl Screen for Detail {
    fn keys(&self, _: &State) -> KeyMode {
        KeyMode::Detail
    }

    fn handle(state: &mut State, key: KeyEvent) -> Vec<Command> {
        match super::action(state, KeyMode::Detail, &key) {
            Some(Action::Exit) => quit_or_ask(state),
            // As in less and k9s: `q` leaves a sub-view.
            Some(Action::Close | Action::Quit) => {
                if matches!(state.modes.top(), Some(Mode::Detail(_))) {
                    state.modes.pop();
                }
                state.mark_dirty();
                Vec::new()
            }
            Some(Action::DetailDown) => scroll(state, 1),
            Some(Action::DetailUp) => scroll(state, -1),
            Some(action) => list::on_action(state, action),
            None => Vec::new(),
        }
    }

    fn render(&self, state: &State, frame: &mut Frame, areas: &Areas) {
        view::detail(state, self, frame, areas.main);
    }
}

fn scroll(state: &mut State, lines: i32) -> Vec<Command> {
    state.modes.scroll_detail(lines);
    state.mark_dirty();
    Vec::new()
}

/// With the details showing, asks for the selected customer's history
/// again (the cached copy stays on screen until the fresh one comes).
pub fn reload_history(state: &mut State) -> Vec<Command> {
    load_history(state, true)
}

/// With the details showing, asks for the history of the customer that is
/// now selected unless it is known already.
pub fn follow_selection(state: &mut State) -> Vec<Command> {
    load_history(state, false)
}

/// Asks for the selected customer's history while the details show it:
/// `again`, even when it is known.
fn load_history(state: &mut State, again: bool) -> Vec<Command> {
    if !state.modes.detail_open() {
        return Vec::new();
    }
    let Some(id) = state
        .selected_entry()
        .and_then(Entry::id)
        .map(str::to_owned)
    else {
        return Vec::new();
    };
    if !again && state.model.histories.contains_key(&id) {
        return Vec::new();
    }
    state
        .model
        .histories
        .entry(id.clone())
        .or_insert(History::Loading);
    vec![Command::Sync(SyncCommand::LoadHistory(id))]
}
