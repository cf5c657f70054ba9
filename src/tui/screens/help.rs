//! Help: every key of the screen below, over it. The moving keys scroll
//! it, any closing key closes it, `Ctrl-c` still quits.

use crossterm::event::KeyEvent;
use ratatui::Frame;

use super::super::keymap::{Action, KeyMode};
use super::super::message::Command;
use super::super::mode::{Help, Mode};
use super::super::state::State;
use super::super::view::{self, Areas};
use super::{Screen, quit_or_ask, showing};

impl Screen for Help {
    fn keys(&self, _: &State) -> KeyMode {
        KeyMode::Help
    }

    fn handle(state: &mut State, key: KeyEvent) -> Vec<Command> {
        let action = state.keymap.action_for(KeyMode::Help, &key);
        let Some(Mode::Help(help)) = state.modes.top_mut() else {
            return Vec::new();
        };
        match action {
            Some(Action::Exit) => return quit_or_ask(state),
            Some(Action::Close | Action::Help | Action::Quit) => {
                state.modes.pop();
            }
            Some(Action::Down | Action::PageDown) => help.scroll = help.scroll.saturating_add(1),
            Some(Action::Up | Action::PageUp) => help.scroll = help.scroll.saturating_sub(1),
            _ => return Vec::new(),
        }
        state.mark_dirty();
        Vec::new()
    }

    fn render(&self, state: &State, frame: &mut Frame, areas: &Areas) {
        // The keys of the screen under the overlay.
        let keys = showing(&state.modes).keys(state);
        view::help(state, keys, self.scroll, frame, areas.whole);
    }
}
