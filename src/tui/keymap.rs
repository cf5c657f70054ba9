//! The one keymap table, for every mode: it dispatches keys, fills the help
//! overlay (with the keys of the mode you are in) and the hint bar, so the
//! three can never disagree. Each row says which modes it works in
//! ([`KeyMode`]), with its hint and, where the mode changes it, its meaning
//! there. The user's `[keys]` overrides from the settings apply on top
//! ([`Keymap`]) in every mode, checked for conflicts mode by mode when the
//! app starts. The form and the filter line edit text, and keep their own
//! keys.

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
    /// Quit from anywhere (asking first while changes are unsent).
    Exit,
    /// The next record (compare).
    Next,
    /// The previous record (compare).
    Previous,
    /// Yes, to a question.
    Yes,
    /// Keep the filter typed and give the list the keys back.
    KeepFilter,
    /// Clear the filter being typed (Ctrl-c there: a reflex never quits).
    ClearFilter,
    /// Make the highlighted person the owner, in the owner picker.
    Choose,
    /// The next match, while typing a filter.
    NextMatch,
    /// The previous match, while typing a filter.
    PreviousMatch,
    /// Create or save what the form holds.
    Submit,
    /// Open the customer that already has the domain typed.
    OpenDuplicate,
    /// The form's next field.
    NextField,
    /// The form's previous field.
    PreviousField,
    /// Remove the custom-field row in focus.
    RemoveRow,
    /// The next group of duplicates.
    NextGroup,
    /// The previous group of duplicates.
    PreviousGroup,
    /// Scroll the details down.
    DetailDown,
    /// Scroll the details up.
    DetailUp,
    /// Make the record in focus the keeper (compare).
    MakeKeeper,
    /// Take the focused record's value of the field under the cursor into
    /// the merge's result (compare).
    Take,
    /// Merge the group into its keeper (asks first).
    Merge,
    /// Mark the group as not a duplicate.
    Dismiss,
    /// Show the archived customers (again: back).
    Archived,
    /// Restore the selected archived customer; in the list's dismissed
    /// groups, revive the group under the selection.
    Restore,
}

/// The modes keys work in: what is on screen decides which table rows
/// apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    List,
    Detail,
    Compare,
    Help,
    /// A yes/no question in the status line.
    Confirm,
    /// Typing in the filter line: only keys that cannot be typed.
    FilterLine,
    /// The create/edit form (keys that edit text stay the inputs' own).
    Form,
    /// The form's owner picker, open under the Owner field: typing
    /// filters the team; keys it does not use close it and go to the form.
    OwnerPicker,
    /// The archived customers (`A`).
    Archived,
}

/// A binding's place in one mode: the hint it shows in that mode's bar (if
/// it earns one), and what it does there when that differs from the row's
/// description.
#[derive(Debug, Clone, Copy)]
pub struct In {
    pub mode: KeyMode,
    pub hint: Option<(&'static str, &'static str)>,
    pub says: Option<&'static str>,
}

const fn at(mode: KeyMode) -> In {
    In {
        mode,
        hint: None,
        says: None,
    }
}

const fn hinted(mode: KeyMode, keys: &'static str, word: &'static str) -> In {
    In {
        mode,
        hint: Some((keys, word)),
        says: None,
    }
}

const fn meaning(mode: KeyMode, says: &'static str) -> In {
    In {
        mode,
        hint: None,
        says: Some(says),
    }
}

const fn hinted_meaning(
    mode: KeyMode,
    keys: &'static str,
    word: &'static str,
    says: &'static str,
) -> In {
    In {
        mode,
        hint: Some((keys, word)),
        says: Some(says),
    }
}

use KeyMode::{
    Archived as V, Compare as C, Confirm as Q, Detail as D, FilterLine as F, Form as E, Help as H,
    List as L, OwnerPicker as P,
};

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
    /// The modes it works in.
    pub modes: &'static [In],
}

impl Binding {
    /// Its place in `mode`, if it works there.
    pub fn in_mode(&self, mode: KeyMode) -> Option<&In> {
        self.modes.iter().find(|m| m.mode == mode)
    }

    /// What it does in `mode`.
    pub fn says(&self, mode: KeyMode) -> &'static str {
        self.in_mode(mode)
            .and_then(|m| m.says)
            .unwrap_or(self.description)
    }
}

pub const BINDINGS: &[Binding] = &[
    Binding {
        action: Action::Down,
        keys: &[ch('j'), plain(KeyCode::Down)],
        label: "j / ↓",
        description: "next customer",
        modes: &[
            hinted(L, "j/k", "move"),
            hinted(D, "j/k", "move"),
            hinted_meaning(C, "j/k", "field", "the field cursor down"),
            at(H),
            hinted(V, "j/k", "move"),
        ],
    },
    Binding {
        action: Action::Up,
        keys: &[ch('k'), plain(KeyCode::Up)],
        label: "k / ↑",
        description: "previous customer",
        modes: &[
            at(L),
            at(D),
            meaning(C, "the field cursor up"),
            at(H),
            at(V),
        ],
    },
    Binding {
        action: Action::PageDown,
        keys: &[plain(KeyCode::PageDown)],
        label: "PgDn",
        description: "one screen down",
        modes: &[
            at(L),
            at(D),
            meaning(C, "the field cursor ten rows down"),
            at(H),
            at(V),
        ],
    },
    Binding {
        action: Action::PageUp,
        keys: &[plain(KeyCode::PageUp)],
        label: "PgUp",
        description: "one screen up",
        modes: &[
            at(L),
            at(D),
            meaning(C, "the field cursor ten rows up"),
            at(H),
            at(V),
        ],
    },
    Binding {
        action: Action::HalfPageDown,
        keys: &[ctrl('d')],
        label: "Ctrl-d",
        description: "half a screen down",
        modes: &[at(L), at(D), at(V)],
    },
    Binding {
        action: Action::HalfPageUp,
        keys: &[ctrl('u')],
        label: "Ctrl-u",
        description: "half a screen up",
        modes: &[at(L), at(D), at(V)],
    },
    Binding {
        action: Action::Top,
        keys: &[ch('g'), plain(KeyCode::Home)],
        label: "g / Home",
        description: "first customer",
        modes: &[at(L), at(D), at(V)],
    },
    Binding {
        action: Action::Bottom,
        keys: &[ch('G'), plain(KeyCode::End)],
        label: "G / End",
        description: "last customer",
        modes: &[at(L), at(D), at(V)],
    },
    Binding {
        action: Action::NextGroup,
        keys: &[ch(']')],
        label: "]",
        description: "the next group of duplicates",
        modes: &[at(L), at(D), hinted(C, "[/]", "group")],
    },
    Binding {
        action: Action::PreviousGroup,
        keys: &[ch('[')],
        label: "[",
        description: "the previous group of duplicates",
        modes: &[at(L), at(D), at(C)],
    },
    Binding {
        action: Action::DetailDown,
        keys: &[ch('J')],
        label: "J",
        description: "scroll the details down",
        modes: &[hinted(D, "J/K", "scroll")],
    },
    Binding {
        action: Action::DetailUp,
        keys: &[ch('K')],
        label: "K",
        description: "scroll the details up",
        modes: &[at(D)],
    },
    Binding {
        action: Action::Next,
        keys: &[plain(KeyCode::Right), ch('l'), plain(KeyCode::Tab)],
        label: "→ / l / Tab",
        description: "the next record",
        modes: &[hinted(C, "←/→", "record")],
    },
    Binding {
        action: Action::Previous,
        keys: &[plain(KeyCode::Left), ch('h'), plain(KeyCode::BackTab)],
        label: "← / h / S-Tab",
        description: "the previous record",
        modes: &[at(C)],
    },
    Binding {
        action: Action::Merge,
        keys: &[ch('M')],
        label: "M",
        description: "merge the group into the keeper (asks first, naming everything)",
        modes: &[hinted(C, "M", "merge")],
    },
    Binding {
        action: Action::MakeKeeper,
        keys: &[ch('K')],
        label: "K",
        description: "make the record in focus the keeper",
        modes: &[hinted(C, "K", "keep")],
    },
    Binding {
        action: Action::Take,
        keys: &[ch(' ')],
        label: "Space",
        description: "take the focused record's value of the field under the cursor (again: undo)",
        modes: &[hinted(C, "Spc", "take")],
    },
    Binding {
        action: Action::Dismiss,
        keys: &[ch('x')],
        label: "x",
        description: "not a duplicate: the group leaves duplicates only (u undoes)",
        modes: &[at(L), hinted(C, "x", "not dup")],
    },
    Binding {
        action: Action::OpenDetail,
        keys: &[plain(KeyCode::Enter)],
        label: "Enter",
        description: "open the customer's details and history",
        modes: &[
            hinted(L, "Enter", "details"),
            at(D),
            hinted_meaning(C, "Enter", "details", "the details of the record in focus"),
        ],
    },
    Binding {
        action: Action::Close,
        keys: &[plain(KeyCode::Esc)],
        label: "Esc",
        description: "close the details or this help; clear the filter",
        modes: &[
            at(L),
            hinted_meaning(V, "Esc", "back", "clear the filter, else back to the list"),
            hinted(D, "Esc", "close"),
            hinted_meaning(C, "Esc", "back", "back to where compare was opened"),
            at(H),
            meaning(E, "cancel (asks first when something was typed)"),
            hinted_meaning(P, "Esc", "close", "close the picker, keeping the owner"),
        ],
    },
    Binding {
        action: Action::Filter,
        keys: &[ch('/')],
        label: "/",
        description: "filter: text, ~fuzzy or #id (Esc clears)",
        modes: &[hinted(L, "/", "filter"), at(D), hinted(V, "/", "filter")],
    },
    Binding {
        action: Action::Mine,
        keys: &[ch('m')],
        label: "m",
        description: "My customers on/off",
        modes: &[at(L), at(D)],
    },
    Binding {
        action: Action::Duplicates,
        keys: &[ch('D')],
        label: "D",
        description: "duplicates only; again: the groups marked not a duplicate",
        modes: &[hinted(L, "D", "dupes"), at(D)],
    },
    Binding {
        action: Action::Archived,
        keys: &[ch('A')],
        label: "A",
        description: "archived customers (R restores; A or Esc: back)",
        modes: &[at(L), at(D), meaning(V, "back to the list")],
    },
    Binding {
        action: Action::Restore,
        keys: &[ch('R')],
        label: "R",
        description: "restore the selected customer (pending until confirmed)",
        modes: &[
            hinted(V, "R", "restore"),
            meaning(L, "in D's not-a-duplicate groups: a duplicate group again"),
        ],
    },
    Binding {
        action: Action::Sort,
        keys: &[ch('s')],
        label: "s",
        description: "sort by the next column",
        modes: &[at(L), at(D), hinted(V, "s", "sort")],
    },
    Binding {
        action: Action::Reverse,
        keys: &[ch('S')],
        label: "S",
        description: "reverse the sort",
        modes: &[at(L), at(D), at(V)],
    },
    Binding {
        action: Action::Compare,
        keys: &[ch('c')],
        label: "c",
        description: "compare every record sharing this domain or name",
        modes: &[
            hinted(L, "c", "compare"),
            hinted(D, "c", "compare"),
            meaning(C, "back to where compare was opened"),
        ],
    },
    Binding {
        action: Action::Archive,
        keys: &[ch('a')],
        label: "a",
        description: "archive the customer (asks first)",
        modes: &[
            at(L),
            hinted(D, "a", "archive"),
            hinted_meaning(
                C,
                "a",
                "archive it",
                "archive the record in focus (asks first)",
            ),
        ],
    },
    Binding {
        action: Action::Undo,
        keys: &[ch('u')],
        label: "u",
        description: "undo the last archive, merge or not-a-duplicate",
        modes: &[at(L), at(D), hinted(C, "u", "undo")],
    },
    Binding {
        action: Action::NewCustomer,
        keys: &[ch('n')],
        label: "n",
        description: "new customer",
        modes: &[hinted(L, "n", "new"), at(D)],
    },
    Binding {
        action: Action::Edit,
        keys: &[ch('e')],
        label: "e",
        description: "edit the selected customer",
        modes: &[at(L), hinted(D, "e", "edit")],
    },
    Binding {
        action: Action::CopyLink,
        keys: &[ch('y')],
        label: "y",
        description: "copy the customer's link (works over SSH)",
        modes: &[at(L), hinted(D, "y", "copy link")],
    },
    Binding {
        action: Action::Refresh,
        keys: &[ch('r')],
        label: "r",
        description: "sync now (twice quickly: sync everything)",
        modes: &[at(L), at(D), at(C)],
    },
    Binding {
        action: Action::Help,
        keys: &[ch('?')],
        label: "?",
        description: "show the keys of this view",
        modes: &[
            hinted(L, "?", "help"),
            hinted(D, "?", "help"),
            at(C),
            at(H),
            hinted(V, "?", "help"),
        ],
    },
    Binding {
        action: Action::Quit,
        keys: &[ch('q')],
        label: "q",
        description: "quit (in details: close them)",
        modes: &[
            hinted(L, "q", "quit"),
            meaning(D, "close the details"),
            meaning(C, "close compare"),
            meaning(H, "close this help"),
            meaning(V, "back to the list"),
        ],
    },
    Binding {
        action: Action::Exit,
        keys: &[ctrl('c')],
        label: "Ctrl-c",
        description: "quit from anywhere (asks first while changes are unsent)",
        modes: &[
            at(L),
            at(D),
            at(C),
            at(H),
            at(V),
            meaning(E, "as Esc: a reflex never throws away typing"),
            meaning(P, "as Esc"),
        ],
    },
    Binding {
        action: Action::Submit,
        keys: &[ctrl('s')],
        label: "Ctrl-s",
        description: "create or save",
        modes: &[at(E), at(P)],
    },
    Binding {
        action: Action::OpenDuplicate,
        keys: &[ctrl('o')],
        label: "Ctrl-o",
        description: "open the customer that already has this domain",
        modes: &[at(E), at(P)],
    },
    Binding {
        action: Action::NextField,
        keys: &[plain(KeyCode::Tab), plain(KeyCode::Down)],
        label: "Tab / ↓",
        description: "next field (Tab first takes a plan completion)",
        modes: &[at(E)],
    },
    Binding {
        action: Action::PreviousField,
        keys: &[plain(KeyCode::BackTab), plain(KeyCode::Up)],
        label: "S-Tab / ↑",
        description: "previous field",
        modes: &[at(E)],
    },
    Binding {
        action: Action::RemoveRow,
        keys: &[ctrl('d')],
        label: "Ctrl-d",
        description: "remove this custom field",
        modes: &[at(E)],
    },
    Binding {
        action: Action::KeepFilter,
        keys: &[plain(KeyCode::Enter)],
        label: "Enter",
        description: "keep the filter (#N: show that customer)",
        modes: &[at(F)],
    },
    Binding {
        action: Action::ClearFilter,
        keys: &[plain(KeyCode::Esc), ctrl('c')],
        label: "Esc / Ctrl-c",
        description: "clear the filter",
        modes: &[at(F)],
    },
    Binding {
        action: Action::NextMatch,
        keys: &[plain(KeyCode::Down), ctrl('n')],
        label: "↓ / Ctrl-n",
        description: "next match",
        modes: &[at(F), hinted_meaning(P, "↑/↓", "choose", "next person")],
    },
    Binding {
        action: Action::PreviousMatch,
        keys: &[plain(KeyCode::Up), ctrl('p')],
        label: "↑ / Ctrl-p",
        description: "previous match",
        modes: &[at(F), meaning(P, "previous person")],
    },
    Binding {
        action: Action::Choose,
        keys: &[plain(KeyCode::Enter)],
        label: "Enter",
        description: "make the highlighted person the owner",
        modes: &[hinted(P, "Enter", "pick")],
    },
    Binding {
        action: Action::Yes,
        keys: &[ch('y'), ch('Y')],
        label: "y",
        description: "yes (any other key: no)",
        modes: &[at(Q)],
    },
];

/// The action bound to a key press in the list, in the default keymap.
#[cfg(test)]
fn action_for(event: &KeyEvent) -> Option<Action> {
    Keymap::default().action_for(KeyMode::List, event)
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
            Action::Exit => "exit",
            Action::Next => "next",
            Action::Previous => "previous",
            Action::Yes => "yes",
            Action::KeepFilter => "keep_filter",
            Action::Choose => "choose",
            Action::ClearFilter => "clear_filter",
            Action::NextMatch => "next_match",
            Action::PreviousMatch => "previous_match",
            Action::Submit => "submit",
            Action::OpenDuplicate => "open_duplicate",
            Action::NextField => "next_field",
            Action::PreviousField => "previous_field",
            Action::RemoveRow => "remove_row",
            Action::NextGroup => "next_group",
            Action::PreviousGroup => "previous_group",
            Action::DetailDown => "details_down",
            Action::DetailUp => "details_up",
            Action::MakeKeeper => "keeper",
            Action::Take => "take",
            Action::Merge => "merge",
            Action::Dismiss => "not_duplicate",
            Action::Archived => "archived",
            Action::Restore => "restore",
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
        keymap.check_conflicts()?;
        Ok(keymap)
    }

    /// A key that would do two things in one mode, named by the setting
    /// that asked for it.
    fn check_conflicts(&self) -> Result<(), String> {
        let rows: Vec<(&Binding, &Bound)> = BINDINGS.iter().zip(&self.bound).collect();
        for (i, (a_row, a)) in rows.iter().enumerate() {
            for (b_row, b) in &rows[i + 1..] {
                let shared_mode = a_row.modes.iter().any(|m| b_row.in_mode(m.mode).is_some());
                let Some(key) = a.keys.iter().find(|k| b.keys.contains(k)) else {
                    continue;
                };
                if !shared_mode {
                    continue;
                }
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
        Ok(())
    }

    /// The action bound to a key press in `mode`, if any.
    pub fn action_for(&self, mode: KeyMode, event: &KeyEvent) -> Option<Action> {
        // Alt-combinations are not ours (and `Esc` then a key, sent
        // together, arrives as one).
        if event.modifiers.contains(KeyModifiers::ALT) {
            return None;
        }
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        // Shift is already in the character (`G`), so it is not compared;
        // Shift-Tab arrives as its own code.
        let pressed = Key {
            code: event.code,
            ctrl,
        };
        BINDINGS
            .iter()
            .zip(&self.bound)
            .find(|(row, b)| row.in_mode(mode).is_some() && b.keys.contains(&pressed))
            .map(|(_, b)| b.action)
    }

    /// The hint bar's (keys, word) pairs in `mode`, in table order.
    pub fn hints(&self, mode: KeyMode) -> Vec<(String, &'static str)> {
        BINDINGS
            .iter()
            .zip(&self.bound)
            .filter_map(|(row, bound)| {
                let (keys, word) = row.in_mode(mode)?.hint?;
                let keys = if bound.overridden {
                    bound.label.clone()
                } else {
                    keys.to_owned()
                };
                Some((keys, word))
            })
            .collect()
    }

    /// Every binding that works in `mode`, for help: (keys, what it does).
    pub fn help(&self, mode: KeyMode) -> impl Iterator<Item = (&str, &'static str)> {
        BINDINGS
            .iter()
            .zip(&self.bound)
            .filter(move |(row, _)| row.in_mode(mode).is_some())
            .map(move |(row, bound)| (bound.label.as_str(), row.says(mode)))
    }

    /// How a hint writes the keys of `action`: `short` for the table's own
    /// keys, the user's key when `[keys]` rebound it.
    pub fn hint_key(&self, action: Action, short: &str) -> String {
        match self.bound.iter().find(|b| b.action == action) {
            Some(bound) if bound.overridden => bound.label.clone(),
            _ => short.to_owned(),
        }
    }

    /// How the keys of `action` are written (`y`, or the user's key).
    pub fn label(&self, action: Action) -> &str {
        self.bound
            .iter()
            .find(|b| b.action == action)
            .map_or("", |b| b.label.as_str())
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
            Some(Action::Exit)
        );
        assert_eq!(press(KeyCode::Char('d'), KeyModifiers::NONE), None);
    }

    #[test]
    fn overrides_rebind_an_action_and_show_in_help_and_hints() {
        let overrides = BTreeMap::from([
            ("archive".to_owned(), "Z".to_owned()),
            ("filter".to_owned(), "ctrl-f".to_owned()),
        ]);
        let keymap = Keymap::with_overrides(&overrides).unwrap();
        let shift_z = KeyEvent::new(KeyCode::Char('Z'), KeyModifiers::SHIFT);
        assert_eq!(
            keymap.action_for(KeyMode::List, &shift_z),
            Some(Action::Archive)
        );
        assert_eq!(
            keymap.action_for(
                KeyMode::List,
                &KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE)
            ),
            None,
            "the old key is free"
        );
        let ctrl_f = KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL);
        assert_eq!(
            keymap.action_for(KeyMode::List, &ctrl_f),
            Some(Action::Filter)
        );
        assert!(
            keymap
                .hints(KeyMode::List)
                .contains(&("Ctrl-f".to_owned(), "filter"))
        );
        assert!(
            keymap
                .help(KeyMode::List)
                .any(|(keys, d)| keys == "Z" && d.starts_with("archive"))
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
    fn no_key_does_two_things_in_one_mode() {
        Keymap::default()
            .check_conflicts()
            .expect("the table has no conflict");
    }

    #[test]
    fn a_opens_the_archived_view_from_the_list_and_details_and_r_means_what_the_view_needs() {
        let keymap = Keymap::default();
        let a = KeyEvent::new(KeyCode::Char('A'), KeyModifiers::SHIFT);
        let r = KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT);
        for mode in [KeyMode::List, KeyMode::Detail, KeyMode::Archived] {
            assert_eq!(keymap.action_for(mode, &a), Some(Action::Archived));
        }
        assert_eq!(keymap.action_for(KeyMode::Compare, &a), None);
        assert_eq!(
            keymap.action_for(KeyMode::Archived, &r),
            Some(Action::Restore)
        );
        assert_eq!(keymap.action_for(KeyMode::List, &r), Some(Action::Restore));
        assert!(
            keymap
                .hints(KeyMode::Archived)
                .contains(&("R".to_owned(), "restore"))
        );
        let rebound = BTreeMap::from([("restore".to_owned(), "ctrl-r".to_owned())]);
        let keymap = Keymap::with_overrides(&rebound).unwrap();
        let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
        assert_eq!(
            keymap.action_for(KeyMode::Archived, &ctrl_r),
            Some(Action::Restore)
        );
        // `A` is taken now: an old `archive = "A"` is refused with a reason.
        let old = BTreeMap::from([("archive".to_owned(), "A".to_owned())]);
        assert_eq!(
            Keymap::with_overrides(&old).unwrap_err(),
            "keys.archive: `A` is already the key for archived; choose another"
        );
    }

    #[test]
    fn a_key_may_mean_one_thing_in_compare_and_be_free_in_the_list() {
        let keymap = Keymap::default();
        let l = KeyEvent::new(KeyCode::Char('l'), KeyModifiers::NONE);
        assert_eq!(keymap.action_for(KeyMode::Compare, &l), Some(Action::Next));
        assert_eq!(keymap.action_for(KeyMode::List, &l), None);
        // `s` sorts the list but does nothing in compare.
        let s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::NONE);
        assert_eq!(keymap.action_for(KeyMode::Compare, &s), None);
    }

    #[test]
    fn a_rebound_key_changes_in_every_mode_its_hint_and_its_help() {
        let overrides = BTreeMap::from([("archive".to_owned(), "z".to_owned())]);
        let keymap = Keymap::with_overrides(&overrides).unwrap();
        let x = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::NONE);
        let a = KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE);
        for mode in [KeyMode::List, KeyMode::Detail, KeyMode::Compare] {
            assert_eq!(
                keymap.action_for(mode, &x),
                Some(Action::Archive),
                "{mode:?}"
            );
            assert_eq!(keymap.action_for(mode, &a), None, "{mode:?}");
            assert!(
                keymap
                    .help(mode)
                    .any(|(keys, d)| keys == "z" && d.contains("archive")),
                "{mode:?}"
            );
        }
        for mode in [KeyMode::Detail, KeyMode::Compare] {
            assert!(
                keymap
                    .hints(mode)
                    .iter()
                    .any(|(keys, w)| keys == "z" && w.contains("archive")),
                "{mode:?}"
            );
        }
        // The filter line's keys are rows too: rebinding them works there.
        let typed = BTreeMap::from([("clear_filter".to_owned(), "ctrl-g".to_owned())]);
        let keymap_g = Keymap::with_overrides(&typed).unwrap();
        let ctrl_g = KeyEvent::new(KeyCode::Char('g'), KeyModifiers::CONTROL);
        assert_eq!(
            keymap_g.action_for(KeyMode::FilterLine, &ctrl_g),
            Some(Action::ClearFilter)
        );
        // A key free in the list but taken in compare is refused.
        let taken = BTreeMap::from([("archive".to_owned(), "l".to_owned())]);
        assert_eq!(
            Keymap::with_overrides(&taken).unwrap_err(),
            "keys.archive: `l` is already the key for next; choose another"
        );
    }
}
