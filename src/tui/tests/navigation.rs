//! Moving between views as in less, man and k9s: `q` leaves a sub-view and
//! quits from the list, Ctrl-C quits from anywhere, and every view returns
//! to the one it was opened from.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;

fn ctrl_c(state: &mut State) -> Vec<Command> {
    update(
        state,
        Message::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    )
}

/// The demo with `#1003` (of the acme.com triple) selected.
fn on_acme() -> State {
    let mut state = demo_app(120, 30);
    while state.selected_entry().map(|e| e.display_id) != Some(1003) {
        press(&mut state, KeyCode::Down);
    }
    state
}

#[test]
fn q_closes_details_compare_and_help_and_quits_only_from_the_list() {
    let mut state = on_acme();
    press(&mut state, KeyCode::Enter);
    assert!(press(&mut state, KeyCode::Char('q')).is_empty());
    assert!(
        !state.modes.detail_open() && !state.quitting,
        "details closed"
    );

    press(&mut state, KeyCode::Char('c'));
    assert!(state.modes.compare().is_some());
    assert!(press(&mut state, KeyCode::Char('q')).is_empty());
    assert!(
        state.modes.compare().is_none() && !state.quitting,
        "compare closed"
    );

    press(&mut state, KeyCode::Char('?'));
    assert!(press(&mut state, KeyCode::Char('q')).is_empty());
    assert!(!state.modes.help_open() && !state.quitting, "help closed");

    assert_eq!(press(&mut state, KeyCode::Char('q')), vec![Command::Quit]);
}

#[test]
fn ctrl_c_quits_from_any_view_and_asks_first_with_changes_unsent() {
    for open in ['c', '?'] {
        let mut state = on_acme();
        press(&mut state, KeyCode::Enter);
        press(&mut state, KeyCode::Char(open));
        assert_eq!(ctrl_c(&mut state), vec![Command::Quit], "from {open}");
    }
    let mut state = on_acme();
    press(&mut state, KeyCode::Char('a'));
    press(&mut state, KeyCode::Char('y'));
    press(&mut state, KeyCode::Char('c'));
    assert!(ctrl_c(&mut state).is_empty(), "asks first");
    assert!(screen(&state).contains("not sent yet"));
}

#[test]
fn details_opened_from_compare_go_back_to_compare() {
    let mut state = on_acme();
    press(&mut state, KeyCode::Char('c'));
    press(&mut state, KeyCode::Right);
    let focus = state.modes.compare().map(|c| c.focus);
    press(&mut state, KeyCode::Enter);
    assert!(state.modes.detail_open() && state.modes.compare().is_none());
    press(&mut state, KeyCode::Esc);
    assert!(!state.modes.detail_open());
    assert_eq!(
        state.modes.compare().map(|c| c.focus),
        focus,
        "back where the user was"
    );
    // And from there, back to the list.
    press(&mut state, KeyCode::Esc);
    assert!(state.modes.compare().is_none() && !state.modes.detail_open());
}

#[test]
fn a_key_that_does_nothing_in_this_view_says_so_and_help_shows_this_views_keys() {
    let mut state = on_acme();
    press(&mut state, KeyCode::Char('c'));
    // `s` sorts the list; in compare it does nothing, and says so.
    assert!(press(&mut state, KeyCode::Char('s')).is_empty());
    assert!(screen(&state).contains("s does nothing here · ? for keys"));
    press(&mut state, KeyCode::Char('?'));
    let help = screen(&state);
    assert!(help.contains("the next record"), "{help}");
    assert!(!help.contains("sort by the next column"), "{help}");
    press(&mut state, KeyCode::Esc);
    assert!(
        state.modes.compare().is_some(),
        "help closes back to compare"
    );
}

#[test]
fn a_rebound_archive_key_works_and_is_shown_in_compare_too() {
    let overrides = std::collections::BTreeMap::from([("archive".to_owned(), "z".to_owned())]);
    let mut state = on_acme();
    state.keymap = super::super::keymap::Keymap::with_overrides(&overrides).expect("keymap");
    press(&mut state, KeyCode::Char('c'));
    assert!(
        screen(&state).contains("z archive it"),
        "{}",
        screen(&state)
    );
    press(&mut state, KeyCode::Char('z'));
    assert!(state.modes.confirm_archive().is_some(), "z asks in compare");
}

#[test]
fn the_forms_keys_are_rebound_like_any_other_and_its_hints_follow() {
    let overrides = std::collections::BTreeMap::from([("submit".to_owned(), "ctrl-x".to_owned())]);
    let mut state = demo_app(120, 30);
    state.keymap = super::super::keymap::Keymap::with_overrides(&overrides).expect("keymap");
    press(&mut state, KeyCode::Char('n'));
    type_text(&mut state, "Rebound Co");
    // On Owner, the hint names the key that creates.
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Tab);
    assert!(
        screen(&state).contains("Ctrl-x create"),
        "{}",
        screen(&state)
    );
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    assert!(
        update(&mut state, Message::Key(ctrl('s'))).is_empty(),
        "the old key no longer submits"
    );
    let (_, op) = submitted(&update(&mut state, Message::Key(ctrl('x'))));
    assert!(matches!(op, OutboxOp::Create { .. }));
}
