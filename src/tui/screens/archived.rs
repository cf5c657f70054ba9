//! The archived customers (`A`): moving, its own filter line and sort, `R`
//! to restore, and `A`, `Esc` or `q` back to the list.

use crossterm::event::KeyEvent;
use ratatui::Frame;

use super::super::archived;
use super::super::keymap::{Action, KeyMode};
use super::super::message::Command;
use super::super::mode::{ArchivedView, Help, Mode};
use super::super::state::State;
use super::super::view::{self, Areas};
use super::{Screen, quit_or_ask};

impl Screen for ArchivedView {
    fn keys(&self, _: &State) -> KeyMode {
        if self.editing {
            KeyMode::FilterLine
        } else {
            KeyMode::Archived
        }
    }

    fn handle(state: &mut State, key: KeyEvent) -> Vec<Command> {
        if state.modes.archived().is_some_and(|v| v.editing) {
            archived::on_line_key(state, key);
            return Vec::new();
        }
        match super::action(state, KeyMode::Archived, &key) {
            Some(Action::Exit) => quit_or_ask(state),
            Some(Action::Archived | Action::Quit) => {
                state.modes.close_archived();
                state.mark_dirty();
                Vec::new()
            }
            Some(Action::Close) => {
                archived::close(state);
                Vec::new()
            }
            Some(Action::Help) => {
                state.modes.push(Mode::Help(Help::default()));
                state.mark_dirty();
                Vec::new()
            }
            Some(action) => archived::on_action(state, action),
            None => Vec::new(),
        }
    }

    fn render(&self, state: &State, frame: &mut Frame, areas: &Areas) {
        view::archived(state, self, frame, areas);
    }

    fn hints(&self, state: &State) -> Vec<(String, &'static str)> {
        if self.editing {
            // The filter line has the hint bar's row.
            return Vec::new();
        }
        state.keymap.hints(KeyMode::Archived)
    }
}
