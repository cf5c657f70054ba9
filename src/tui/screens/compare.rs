//! Compare: the records sharing a domain side by side, with the merge's
//! result. Its own keys move the focus and the field cursor, choose the
//! keeper, take fields and merge; the list's archive, undo, group and sync
//! keys work here too, on the record in focus.

use crossterm::event::KeyEvent;
use ratatui::Frame;

use super::super::keymap::{Action, KeyMode};
use super::super::message::Command;
use super::super::mode::Compare;
use super::super::state::State;
use super::super::view::{self, Areas};
use super::super::{merge, triage};
use super::{Screen, list, quit_or_ask};

impl Screen for Compare {
    fn keys(&self, _: &State) -> KeyMode {
        KeyMode::Compare
    }

    fn handle(state: &mut State, key: KeyEvent) -> Vec<Command> {
        match super::action(state, KeyMode::Compare, &key) {
            Some(Action::Exit) => quit_or_ask(state),
            Some(action) => merge::on_compare_action(state, action)
                .or_else(|| triage::on_compare_action(state, action))
                .unwrap_or_else(|| list::on_action(state, action)),
            None => Vec::new(),
        }
    }

    fn render(&self, state: &State, frame: &mut Frame, areas: &Areas) {
        view::compare(state, self, frame, areas.main);
    }
}
