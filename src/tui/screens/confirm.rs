//! The questions asked on the status line: archive this customer, merge
//! this group, and quit with changes unsent. Only yes (`y`) goes ahead; any other key is
//! no.

use crossterm::event::KeyEvent;
use ratatui::Frame;

use super::super::keymap::{Action, KeyMode};
use super::super::message::Command;
use super::super::mode::{ConfirmArchive, ConfirmMerge, ConfirmQuit};
use super::super::state::State;
use super::super::view::{self, Areas};
use super::super::{merge, triage};
use super::{Screen, quit};

impl Screen for ConfirmArchive {
    fn keys(&self, _: &State) -> KeyMode {
        KeyMode::Confirm
    }

    fn handle(state: &mut State, key: KeyEvent) -> Vec<Command> {
        triage::on_confirm_key(state, key)
    }

    fn render(&self, state: &State, frame: &mut Frame, areas: &Areas) {
        let width = usize::from(areas.status.width);
        if let Some(question) = triage::archive_question(state, &self.id, width) {
            view::question(state, question, frame, areas.status);
        }
    }
}

impl Screen for ConfirmMerge {
    fn keys(&self, _: &State) -> KeyMode {
        KeyMode::Confirm
    }

    fn handle(state: &mut State, key: KeyEvent) -> Vec<Command> {
        merge::on_confirm_key(state, key)
    }

    /// The status line asks; when the whole plan does not fit there, it
    /// is also written out in full just above it.
    fn render(&self, state: &State, frame: &mut Frame, areas: &Areas) {
        let width = usize::from(areas.status.width);
        let short = merge::short_question(state, self, width);
        let whole = merge::question(state, self);
        if short != whole {
            view::plan(state, &whole, frame, areas.main);
        }
        view::question(state, short, frame, areas.status);
    }
}

impl Screen for ConfirmQuit {
    fn keys(&self, _: &State) -> KeyMode {
        KeyMode::Confirm
    }

    fn handle(state: &mut State, key: KeyEvent) -> Vec<Command> {
        state.modes.pop();
        state.mark_dirty();
        if state.keymap.action_for(KeyMode::Confirm, &key) == Some(Action::Yes) {
            quit(state)
        } else {
            Vec::new()
        }
    }

    fn render(&self, state: &State, frame: &mut Frame, areas: &Areas) {
        let n = state.model.outbox.len();
        let question = format!(
            "{n} change{} not sent yet; they will be sent next time. Quit? ({}/N)",
            if n == 1 { " is" } else { "s are" },
            state.keymap.label(Action::Yes)
        );
        view::question(state, question, frame, areas.status);
    }
}
