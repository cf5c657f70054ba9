//! The form's building blocks: a text field (a tui-input line plus its
//! validation error) and the owner picker. No rendering, no I/O.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;
use tui_input::{Input, InputRequest};

use crate::domain::FieldError;

/// One text input and its live validation error.
#[derive(Debug, Clone, Default)]
pub struct TextField {
    pub(super) input: Input,
    pub(super) error: Option<FieldError>,
}

impl TextField {
    pub(super) fn new(value: String) -> TextField {
        TextField {
            input: Input::new(value),
            error: None,
        }
    }

    /// The input, for its value, cursor and horizontal scroll.
    #[must_use]
    pub fn input(&self) -> &Input {
        &self.input
    }

    /// The text as typed.
    #[must_use]
    pub fn value(&self) -> &str {
        self.input.value()
    }

    /// Why the text can't be sent, as of the last edit or submit.
    #[must_use]
    pub fn error(&self) -> Option<&FieldError> {
        self.error.as_ref()
    }

    /// Applies a key; true when the text changed.
    pub(super) fn handle_key(&mut self, key: KeyEvent) -> bool {
        let changed = match readline_alt(key) {
            Some(request) => self.input.handle(request),
            None => self.input.handle_event(&Event::Key(key)),
        };
        changed.is_some_and(|c| c.value)
    }

    /// Inserts text at the cursor; true when the text changed.
    pub(super) fn insert(&mut self, text: &str) -> bool {
        text.chars()
            .filter_map(|c| self.input.handle(InputRequest::InsertChar(c)))
            .count()
            > 0
    }

    pub(super) fn cursor_at_end(&self) -> bool {
        self.input.cursor() == self.value().chars().count()
    }
}

/// The readline `Alt` keys that terminals report as `ALT` (tui-input only
/// maps them under `META`).
fn readline_alt(key: KeyEvent) -> Option<InputRequest> {
    if key.modifiers != KeyModifiers::ALT {
        return None;
    }
    match key.code {
        KeyCode::Char('b') | KeyCode::Left => Some(InputRequest::GoToPrevWord),
        KeyCode::Char('f') | KeyCode::Right => Some(InputRequest::GoToNextWord),
        KeyCode::Char('d') => Some(InputRequest::DeleteNextWord),
        _ => None,
    }
}

/// The open owner picker: a filter query and the highlighted row.
#[derive(Debug, Clone, Default)]
pub struct OwnerPicker {
    pub(super) query: Input,
    pub(super) highlighted: usize,
}

impl OwnerPicker {
    /// The filter as typed.
    #[must_use]
    pub fn query(&self) -> &Input {
        &self.query
    }

    /// The highlighted row of [`Form::owner_choices`].
    #[must_use]
    pub fn highlighted(&self) -> usize {
        self.highlighted
    }
}

/// One row of the owner picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerChoice<'a> {
    /// Clear the owner (offered when editing only: a create without an
    /// owner gets the key's user).
    Nobody,
    Member {
        id: &'a str,
        name: &'a str,
    },
}

/// Types `text` into the picker's query, highlighting the first match.
pub(super) fn insert_into_query(picker: &mut OwnerPicker, text: &str) {
    for c in text.chars() {
        picker.query.handle(InputRequest::InsertChar(c));
    }
    picker.highlighted = 0;
}
