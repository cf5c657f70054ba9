//! The form's building blocks: a text field (a tui-input line plus its
//! validation error) and the owner picker. No rendering, no I/O.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;
use tui_input::{Input, InputRequest};

use crate::domain::FieldError;

/// One text input, its live validation error, and a remark about the last
/// edit (text cut to fit).
#[derive(Debug, Clone, Default)]
pub struct TextField {
    pub(super) input: Input,
    pub(super) error: Option<FieldError>,
    pub(super) note: Option<String>,
}

impl TextField {
    pub(super) fn new(value: String) -> TextField {
        TextField {
            input: Input::new(value),
            error: None,
            note: None,
        }
    }

    /// What the last edit could not do, such as "pasted text was cut to
    /// 200 characters"; cleared by the next edit.
    #[must_use]
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
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

    /// Applies a key; true when the text changed. A character that would
    /// make the text longer than `cap` characters is refused, with a note.
    pub(super) fn handle_key(&mut self, key: KeyEvent, cap: usize) -> bool {
        self.note = None;
        let length = self.value().chars().count();
        if inserts_char(key) && length >= cap {
            self.note = Some(format!("at most {cap} characters here"));
            return false;
        }
        // Kept to undo a key that grows the text past the cap (`Ctrl-Y`).
        let before = self.input.clone();
        let changed = match readline_alt(key) {
            Some(request) => self.input.handle(request),
            None => self.input.handle_event(&Event::Key(key)),
        };
        let grown = self.value().chars().count();
        if grown > cap && grown > length {
            self.input = before;
            self.note = Some(format!("at most {cap} characters here"));
            return false;
        }
        changed.is_some_and(|c| c.value)
    }

    /// Inserts text at the cursor in one edit, cut so that the whole is at
    /// most `cap` characters (with a note saying so); true when the text
    /// changed. One edit, not one per character: a 300 KB paste once took
    /// half a minute.
    pub(super) fn insert(&mut self, text: &str, cap: usize) -> bool {
        let room = cap.saturating_sub(self.value().chars().count());
        let (kept, note) = match text.char_indices().nth(room) {
            Some((end, _)) if room == cap => (
                &text[..end],
                Some(format!("pasted text was cut to {cap} characters")),
            ),
            Some((end, _)) => (
                &text[..end],
                Some(format!(
                    "pasted text was cut to {room} characters ({cap} at most in all)"
                )),
            ),
            None => (text, None),
        };
        self.note = note;
        if kept.is_empty() {
            return false;
        }
        let value = self.value();
        let cursor = self.input.cursor();
        let at = value
            .char_indices()
            .nth(cursor)
            .map_or(value.len(), |(byte, _)| byte);
        let mut joined = String::with_capacity(value.len() + kept.len());
        joined.push_str(&value[..at]);
        joined.push_str(kept);
        joined.push_str(&value[at..]);
        self.input = Input::new(joined).with_cursor(cursor + kept.chars().count());
        true
    }

    pub(super) fn cursor_at_end(&self) -> bool {
        self.input.cursor() == self.value().chars().count()
    }
}

/// True for a key that types a character (what tui-input inserts).
fn inserts_char(key: KeyEvent) -> bool {
    matches!(key.code, KeyCode::Char(_))
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::META)
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

/// Types `text` into the picker's query (up to `cap` characters in all,
/// in one edit), highlighting the first match.
pub(super) fn insert_into_query(picker: &mut OwnerPicker, text: &str, cap: usize) {
    let mut query = picker.query.value().to_owned();
    let room = cap.saturating_sub(query.chars().count());
    query.extend(text.chars().take(room));
    picker.query = Input::new(query);
    picker.highlighted = 0;
}
