//! The one keymap table: it dispatches keys, fills the help overlay and the
//! hint bar, so the three can never disagree. The user's `[keys]` overrides
//! from the settings apply on top ([`Keymap`]), checked for conflicts when
//! the app starts.

use std::collections::BTreeMap;

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
        description: "sync now (twice quickly: sync everything)",
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

/// The action bound to a key press in the default keymap, if any.
#[cfg(test)]
fn action_for(event: &KeyEvent) -> Option<Action> {
    Keymap::default().action_for(event)
}

impl Action {
    /// Every action, in table order.
    fn all() -> impl Iterator<Item = Action> {
        BINDINGS.iter().map(|b| b.action)
    }

    /// The name `[keys]` uses for it: `archive`, `page_down`, ….
    pub fn name(self) -> &'static str {
        match self {
            Action::Down => "down",
            Action::Up => "up",
            Action::PageDown => "page_down",
            Action::PageUp => "page_up",
            Action::HalfPageDown => "half_page_down",
            Action::HalfPageUp => "half_page_up",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::OpenDetail => "details",
            Action::Close => "close",
            Action::Filter => "filter",
            Action::Mine => "mine",
            Action::Duplicates => "duplicates",
            Action::Sort => "sort",
            Action::Reverse => "reverse",
            Action::Compare => "compare",
            Action::Archive => "archive",
            Action::Undo => "undo",
            Action::NewCustomer => "new",
            Action::Edit => "edit",
            Action::CopyLink => "copy_link",
            Action::Refresh => "refresh",
            Action::Help => "help",
            Action::Quit => "quit",
        }
    }

    fn parse(name: &str) -> Option<Action> {
        let name = name.trim().replace('-', "_").to_ascii_lowercase();
        Action::all().find(|a| a.name() == name)
    }
}

/// Named keys for `[keys]`, besides single characters and `ctrl-x`.
const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("space", KeyCode::Char(' ')),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
];

impl Key {
    /// `x`, `D`, `ctrl-x` or a named key (`pgdn`).
    fn parse(text: &str) -> Option<Key> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if let Some(rest) = lower
            .strip_prefix("ctrl-")
            .or_else(|| lower.strip_prefix("c-"))
            && let [c] = rest.chars().collect::<Vec<_>>()[..]
        {
            return Some(ctrl(c));
        }
        if let Some((_, code)) = NAMED.iter().find(|(name, _)| *name == lower) {
            return Some(plain(*code));
        }
        match text.chars().collect::<Vec<_>>()[..] {
            [c] if !c.is_control() => Some(ch(c)),
            _ => None,
        }
    }

    /// How help shows the key.
    fn label(self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) => c.to_string(),
            code => NAMED
                .iter()
                .find(|(_, named)| *named == code)
                .map_or_else(|| format!("{code:?}"), |(name, _)| (*name).to_owned()),
        };
        if self.ctrl {
            format!("Ctrl-{base}")
        } else {
            base
        }
    }
}

/// The keymap in force: the table, with the user's overrides.
#[derive(Debug, Clone)]
pub struct Keymap {
    bound: Vec<Bound>,
}

#[derive(Debug, Clone)]
struct Bound {
    action: Action,
    keys: Vec<Key>,
    /// The keys as help shows them.
    label: String,
    /// Set by the user: the hint bar shows these keys, not the table's.
    overridden: bool,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bound: BINDINGS
                .iter()
                .map(|b| Bound {
                    action: b.action,
                    keys: b.keys.to_vec(),
                    label: b.label.to_owned(),
                    overridden: false,
                })
                .collect(),
        }
    }
}

impl Keymap {
    /// The table with `overrides` (action name → key) applied: each
    /// replaces its action's keys.
    ///
    /// # Errors
    ///
    /// An unknown action or key, or a key that would then do two things;
    /// the message is a sentence that names the setting, the key and what
    /// to do (``keys.archive: `D` is already the key for duplicates; choose
    /// another``).
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> Result<Keymap, String> {
        let mut keymap = Keymap::default();
        for (name, text) in overrides {
            let action = Action::parse(name).ok_or_else(|| {
                let names: Vec<&str> = Action::all().map(Action::name).collect();
                format!(
                    "keys.{name}: there is no action `{name}`; choose one of {}",
                    names.join(", ")
                )
            })?;
            let key = Key::parse(text).ok_or_else(|| {
                format!(
                    "keys.{name}: `{text}` is not a key; use a character, ctrl-x, or enter, esc, tab, …"
                )
            })?;
            let bound = keymap
                .bound
                .iter_mut()
                .find(|b| b.action == action)
                .expect("every action is in the table");
            *bound = Bound {
                action,
                keys: vec![key],
                label: key.label(),
                overridden: true,
            };
        }
        for (i, a) in keymap.bound.iter().enumerate() {
            for b in &keymap.bound[i + 1..] {
                if let Some(key) = a.keys.iter().find(|k| b.keys.contains(k)) {
                    // Name the setting that asked for the key; the other
                    // action already has it.
                    let (set, holder) = if b.overridden { (b, a) } else { (a, b) };
                    return Err(format!(
                        "keys.{}: `{}` is already the key for {}; choose another",
                        set.action.name(),
                        key.label(),
                        holder.action.name()
                    ));
                }
            }
        }
        Ok(keymap)
    }

    /// The action bound to a key press, if any.
    pub fn action_for(&self, event: &KeyEvent) -> Option<Action> {
        // Alt-combinations are not ours (and `Esc` then a key, sent
        // together, arrives as one).
        if event.modifiers.contains(KeyModifiers::ALT) {
            return None;
        }
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        // Shift is already in the character (`G`), so it is not compared.
        let pressed = Key {
            code: event.code,
            ctrl,
        };
        self.bound
            .iter()
            .find(|b| b.keys.contains(&pressed))
            .map(|b| b.action)
    }

    /// The hint bar's (keys, word) pairs, for the list or the detail pane.
    pub fn hints(&self, detail_open: bool) -> Vec<(String, &'static str)> {
        BINDINGS
            .iter()
            .zip(&self.bound)
            .filter_map(|(b, bound)| {
                let (keys, word) = if detail_open { b.detail_hint } else { b.hint }?;
                let keys = if bound.overridden {
                    bound.label.clone()
                } else {
                    keys.to_owned()
                };
                Some((keys, word))
            })
            .collect()
    }

    /// Every binding for help: (keys, description).
    pub fn help(&self) -> impl Iterator<Item = (&str, &'static str)> {
        BINDINGS
            .iter()
            .zip(&self.bound)
            .map(|(b, bound)| (bound.label.as_str(), b.description))
    }
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
    fn overrides_rebind_an_action_and_show_in_help_and_hints() {
        let overrides = BTreeMap::from([
            ("archive".to_owned(), "A".to_owned()),
            ("filter".to_owned(), "ctrl-f".to_owned()),
        ]);
        let keymap = Keymap::with_overrides(&overrides).unwrap();
        let shift_a = KeyEvent::new(KeyCode::Char('A'), KeyModifiers::SHIFT);
        assert_eq!(keymap.action_for(&shift_a), Some(Action::Archive));
        assert_eq!(
            keymap.action_for(&KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE)),
            None,
            "the old key is free"
        );
        let ctrl_f = KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL);
        assert_eq!(keymap.action_for(&ctrl_f), Some(Action::Filter));
        assert!(
            keymap
                .hints(false)
                .contains(&("Ctrl-f".to_owned(), "filter"))
        );
        assert!(
            keymap
                .help()
                .any(|(keys, d)| keys == "A" && d.starts_with("archive"))
        );
    }

    #[test]
    fn a_key_bound_twice_or_a_wrong_name_is_refused_with_a_reason() {
        let twice = BTreeMap::from([("archive".to_owned(), "j".to_owned())]);
        let err = Keymap::with_overrides(&twice).unwrap_err();
        assert_eq!(
            err,
            "keys.archive: `j` is already the key for down; choose another"
        );
        let dupes = BTreeMap::from([("archive".to_owned(), "D".to_owned())]);
        assert_eq!(
            Keymap::with_overrides(&dupes).unwrap_err(),
            "keys.archive: `D` is already the key for duplicates; choose another"
        );
        // The setting named is the one that asked, wherever it sits in the
        // table.
        let early = BTreeMap::from([("down".to_owned(), "a".to_owned())]);
        assert_eq!(
            Keymap::with_overrides(&early).unwrap_err(),
            "keys.down: `a` is already the key for archive; choose another"
        );
        let unknown = BTreeMap::from([("explode".to_owned(), "x".to_owned())]);
        let err = Keymap::with_overrides(&unknown).unwrap_err();
        assert!(
            err.starts_with("keys.explode: there is no action `explode`; choose one of down, up"),
            "{err}"
        );
        let bad_key = BTreeMap::from([("archive".to_owned(), "ctrl-".to_owned())]);
        assert!(
            Keymap::with_overrides(&bad_key)
                .unwrap_err()
                .contains("not a key")
        );
    }

    #[test]
    fn no_key_is_bound_twice() {
        let keys: Vec<&Key> = BINDINGS.iter().flat_map(|b| b.keys).collect();
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(k), "{k:?} is bound twice");
        }
    }
}
