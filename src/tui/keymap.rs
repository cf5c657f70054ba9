//! The one keymap table: it dispatches keys, fills the help overlay and the
//! hint bar, so the three can never disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Down,
    Up,
    PageDown,
    PageUp,
    HalfPageDown,
    HalfPageUp,
    Top,
    Bottom,
    OpenDetail,
    Close,
    Filter,
    Mine,
    Duplicates,
    Sort,
    Reverse,
    Compare,
    Archive,
    Undo,
    NewCustomer,
    Edit,
    CopyLink,
    Refresh,
    Help,
    Quit,
}

/// A key press a binding matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
}

const fn plain(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

const fn ch(c: char) -> Key {
    plain(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

/// One row of the keymap.
#[derive(Debug)]
pub struct Binding {
    pub action: Action,
    pub keys: &'static [Key],
    /// How the keys are written in help, e.g. `j / ↓`.
    pub label: &'static str,
    pub description: &'static str,
    /// The keys and word in the hint bar under the list, for the few
    /// bindings that earn a place there.
    pub hint: Option<(&'static str, &'static str)>,
    /// The same while the detail pane is open.
    pub detail_hint: Option<(&'static str, &'static str)>,
}

pub const BINDINGS: &[Binding] = &[
    Binding {
        action: Action::Down,
        keys: &[ch('j'), plain(KeyCode::Down)],
        label: "j / ↓",
        description: "next customer",
        hint: Some(("j/k", "move")),
        detail_hint: Some(("j/k", "move")),
    },
    Binding {
        action: Action::Up,
        keys: &[ch('k'), plain(KeyCode::Up)],
        label: "k / ↑",
        description: "previous customer",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::PageDown,
        keys: &[plain(KeyCode::PageDown)],
        label: "PgDn",
        description: "one screen down",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::PageUp,
        keys: &[plain(KeyCode::PageUp)],
        label: "PgUp",
        description: "one screen up",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::HalfPageDown,
        keys: &[ctrl('d')],
        label: "Ctrl-d",
        description: "half a screen down",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::HalfPageUp,
        keys: &[ctrl('u')],
        label: "Ctrl-u",
        description: "half a screen up",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::Top,
        keys: &[ch('g'), plain(KeyCode::Home)],
        label: "g / Home",
        description: "first customer",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::Bottom,
        keys: &[ch('G'), plain(KeyCode::End)],
        label: "G / End",
        description: "last customer",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::OpenDetail,
        keys: &[plain(KeyCode::Enter)],
        label: "Enter",
        description: "open the customer's details and history",
        hint: Some(("Enter", "details")),
        detail_hint: None,
    },
    Binding {
        action: Action::Close,
        keys: &[plain(KeyCode::Esc)],
        label: "Esc",
        description: "close the details or this help; clear the filter",
        hint: None,
        detail_hint: Some(("Esc", "close")),
    },
    Binding {
        action: Action::Filter,
        keys: &[ch('/')],
        label: "/",
        description: "filter: text, ~fuzzy or #id (Esc clears)",
        hint: Some(("/", "filter")),
        detail_hint: None,
    },
    Binding {
        action: Action::Mine,
        keys: &[ch('m')],
        label: "m",
        description: "My customers on/off",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::Duplicates,
        keys: &[ch('D')],
        label: "D",
        description: "duplicates only on/off, grouped by domain",
        hint: Some(("D", "dupes")),
        detail_hint: None,
    },
    Binding {
        action: Action::Sort,
        keys: &[ch('s')],
        label: "s",
        description: "sort by the next column",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::Reverse,
        keys: &[ch('S')],
        label: "S",
        description: "reverse the sort",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::Compare,
        keys: &[ch('c')],
        label: "c",
        description: "compare every record sharing this domain",
        hint: Some(("c", "compare")),
        detail_hint: Some(("c", "compare")),
    },
    Binding {
        action: Action::Archive,
        keys: &[ch('a')],
        label: "a",
        description: "archive the customer (asks first)",
        hint: None,
        detail_hint: Some(("a", "archive")),
    },
    Binding {
        action: Action::Undo,
        keys: &[ch('u')],
        label: "u",
        description: "undo the last archive (again for the one before)",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::NewCustomer,
        keys: &[ch('n')],
        label: "n",
        description: "new customer",
        hint: Some(("n", "new")),
        detail_hint: None,
    },
    Binding {
        action: Action::Edit,
        keys: &[ch('e')],
        label: "e",
        description: "edit the selected customer",
        hint: None,
        detail_hint: Some(("e", "edit")),
    },
    Binding {
        action: Action::CopyLink,
        keys: &[ch('y')],
        label: "y",
        description: "copy the customer's link (works over SSH)",
        hint: None,
        detail_hint: Some(("y", "copy link")),
    },
    Binding {
        action: Action::Refresh,
        keys: &[ch('r')],
        label: "r",
        description: "sync with Pivotal now",
        hint: None,
        detail_hint: None,
    },
    Binding {
        action: Action::Help,
        keys: &[ch('?')],
        label: "?",
        description: "show every key",
        hint: Some(("?", "help")),
        detail_hint: Some(("?", "help")),
    },
    Binding {
        action: Action::Quit,
        keys: &[ch('q'), ctrl('c')],
        label: "q / Ctrl-c",
        description: "quit",
        hint: Some(("q", "quit")),
        detail_hint: Some(("q", "quit")),
    },
];

/// The action bound to a key press, if any.
pub fn action_for(event: &KeyEvent) -> Option<Action> {
    // Alt-combinations are not ours (and `Esc` then a key, sent together,
    // arrives as one).
    if event.modifiers.contains(KeyModifiers::ALT) {
        return None;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    // Shift is already in the character (`G`), so it is not compared.
    let pressed = Key {
        code: event.code,
        ctrl,
    };
    BINDINGS
        .iter()
        .find(|b| b.keys.contains(&pressed))
        .map(|b| b.action)
}

/// The bindings that appear in the hint bar, as (keys, word), for the list
/// or for the open detail pane.
pub fn hints(detail_open: bool) -> impl Iterator<Item = (&'static str, &'static str)> {
    BINDINGS
        .iter()
        .filter_map(move |b| if detail_open { b.detail_hint } else { b.hint })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> Option<Action> {
        action_for(&KeyEvent::new(code, modifiers))
    }

    #[test]
    fn keys_dispatch_to_their_actions() {
        assert_eq!(
            press(KeyCode::Char('j'), KeyModifiers::NONE),
            Some(Action::Down)
        );
        assert_eq!(press(KeyCode::Down, KeyModifiers::NONE), Some(Action::Down));
        assert_eq!(
            press(KeyCode::Char('G'), KeyModifiers::SHIFT),
            Some(Action::Bottom)
        );
        assert_eq!(
            press(KeyCode::Char('d'), KeyModifiers::CONTROL),
            Some(Action::HalfPageDown)
        );
        assert_eq!(
            press(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(Action::Quit)
        );
        assert_eq!(press(KeyCode::Char('d'), KeyModifiers::NONE), None);
    }

    #[test]
    fn no_key_is_bound_twice() {
        let keys: Vec<&Key> = BINDINGS.iter().flat_map(|b| b.keys).collect();
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(k), "{k:?} is bound twice");
        }
    }
}
