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
    assert!(!state.detail_open && !state.quitting, "details closed");

    press(&mut state, KeyCode::Char('c'));
    assert!(state.compare.is_some());
    assert!(press(&mut state, KeyCode::Char('q')).is_empty());
    assert!(state.compare.is_none() && !state.quitting, "compare closed");

    press(&mut state, KeyCode::Char('?'));
    assert!(press(&mut state, KeyCode::Char('q')).is_empty());
    assert!(!state.help_open && !state.quitting, "help closed");

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
    let focus = state.compare.as_ref().map(|c| c.focus);
    press(&mut state, KeyCode::Enter);
    assert!(state.detail_open && state.compare.is_none());
    press(&mut state, KeyCode::Esc);
    assert!(!state.detail_open);
    assert_eq!(
        state.compare.as_ref().map(|c| c.focus),
        focus,
        "back where the user was"
    );
    // And from there, back to the list.
    press(&mut state, KeyCode::Esc);
    assert!(state.compare.is_none() && !state.detail_open);
}
