//! The create and edit form, as a side pane beside the dimmed list on wide
//! screens and over it on narrow ones. It edits text, so it takes every
//! key itself (its keymap rows are the Form table); it shows its own keys.

use crossterm::event::KeyEvent;
use ratatui::Frame;

use super::super::changes;
use super::super::keymap::KeyMode;
use super::super::message::Command;
use super::super::mode::FormSession;
use super::super::state::State;
use super::super::view::{self, Areas};
use super::Screen;

impl Screen for FormSession {
    fn keys(&self, _: &State) -> KeyMode {
        KeyMode::Form
    }

    fn handle(state: &mut State, key: KeyEvent) -> Vec<Command> {
        // Ctrl-c here is Esc: a reflex never throws away typing.
        changes::on_form_input(state, |form, ctx| form.handle_key(key, ctx))
    }

    fn render(&self, state: &State, frame: &mut Frame, areas: &Areas) {
        view::form_screen(state, self, frame, areas.main);
    }

    fn hints(&self, _: &State) -> Vec<(String, &'static str)> {
        // The form shows its own keys; the list's would mislead.
        Vec::new()
    }
}
