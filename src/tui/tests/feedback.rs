//! Telling the user what happened: an edit confirmed in words, the details'
//! history brought up to date, a completion that cannot be taken for typed
//! text, and settings that could not be saved.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::api::Patch;

/// Edits the selected customer's plan to `plan` and returns the submitted
/// change.
fn edit_plan(state: &mut State, plan: &str) -> (IdempotencyKey, OutboxOp) {
    let original = state.selected_entry().cloned().expect("selected");
    press(state, KeyCode::Char('e'));
    for _ in 0..3 {
        press(state, KeyCode::Tab);
    }
    for _ in 0..original.plan.as_deref().unwrap_or_default().chars().count() {
        press(state, KeyCode::Backspace);
    }
    type_text(state, plan);
    update(
        state,
        Message::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)),
    )
    .into_iter()
    .find_map(|c| match c {
        Command::Sync(SyncCommand::Submit { key, op }) => Some((key, op)),
        _ => None,
    })
    .expect("submitted")
}

#[test]
fn an_edit_says_saving_then_saved_with_what_changed_after_an_archive_hint() {
    let mut state = demo_app(120, 30);
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Char('a'));
    press(&mut state, KeyCode::Char('y'));
    assert!(screen(&state).contains("u to undo"));

    let selected = state.selected_entry().cloned().expect("selected");
    let (key, op) = edit_plan(&mut state, "Enterprise Plus");
    let shown = screen(&state);
    assert!(
        shown.contains(&format!("Saving #{}…", selected.display_id)),
        "{shown}"
    );
    assert!(!shown.contains("u to undo"), "the edit is newer: {shown}");

    let mut customer = demo_customers()
        .into_iter()
        .find(|c| c.id == selected.key)
        .expect("demo");
    customer.plan = Some("Enterprise Plus".into());
    customer.updated_at = NOW;
    update(
        &mut state,
        Message::Sync(SyncEvent::Delivered { key, op, customer }),
    );
    let shown = screen(&state);
    assert!(
        shown.contains(&format!(
            "Saved #{} — plan: Enterprise Plus",
            selected.display_id
        )),
        "{shown}"
    );
}

#[test]
fn open_details_fetch_the_history_again_after_a_change_and_on_r() {
    let mut state = demo_app(120, 30);
    press(&mut state, KeyCode::Enter);
    let id = state
        .selected_entry()
        .and_then(|e| e.id().map(str::to_owned))
        .expect("selected");
    update(
        &mut state,
        Message::Sync(SyncEvent::History {
            customer_id: id.clone(),
            events: Vec::new(),
            fresh: true,
        }),
    );
    let asks_history = |commands: &[Command]| {
        commands
            .iter()
            .any(|c| *c == Command::Sync(SyncCommand::LoadHistory(id.clone())))
    };
    assert!(asks_history(&press(&mut state, KeyCode::Char('r'))));

    let (key, op) = edit_plan(&mut state, "Scale");
    let OutboxOp::Update { patch, .. } = &op else {
        panic!("an update: {op:?}");
    };
    assert_eq!(patch.plan, Patch::Set("Scale".into()));
    let mut customer = demo_customers()
        .into_iter()
        .find(|c| c.id == id)
        .expect("demo");
    customer.plan = Some("Scale".into());
    customer.updated_at = NOW;
    let commands = update(
        &mut state,
        Message::Sync(SyncEvent::Delivered { key, op, customer }),
    );
    assert!(asks_history(&commands), "{commands:?}");
}

#[test]
fn without_colour_a_plan_completion_is_bracketed_and_tab_takes_it() {
    let mut state = app(Theme::mono(), (120, 30), demo_customers());
    press(&mut state, KeyCode::Char('n'));
    for _ in 0..3 {
        press(&mut state, KeyCode::Tab);
    }
    type_text(&mut state, "Gr");
    let shown = screen(&state);
    assert!(shown.contains("Gr[owth]"), "{shown}");
    assert!(shown.contains("Tab completes"), "{shown}");
    press(&mut state, KeyCode::Tab);
    let plan = state
        .modes
        .form()
        .map(|f| f.form.draft().plan)
        .expect("form");
    assert_eq!(plan, "Growth");
}

#[test]
fn settings_that_cannot_be_saved_are_named_on_the_status_line() {
    let mut state = demo_app(120, 30);
    update(
        &mut state,
        Message::SettingsNotSaved("read-only file system".into()),
    );
    assert!(screen(&state).contains("settings not saved: read-only file system"));
}

#[test]
fn event_kinds_read_as_words_in_compare() {
    let mut state = demo_app(120, 30);
    while state.selected_entry().map(|e| e.display_id) != Some(1003) {
        press(&mut state, KeyCode::Down);
    }
    let id = state
        .selected_entry()
        .and_then(|e| e.id().map(str::to_owned))
        .expect("selected");
    press(&mut state, KeyCode::Char('c'));
    update(
        &mut state,
        Message::Sync(SyncEvent::History {
            customer_id: id,
            events: vec![HistoryEvent {
                at: NOW,
                kind: "contact_added".into(),
                summary: "Met Priya".into(),
                actor: None,
            }],
            fresh: true,
        }),
    );
    // The field cursor on History: every record's latest events, whole.
    press(&mut state, KeyCode::PageDown);
    press(&mut state, KeyCode::PageDown);
    let shown = screen(&state);
    assert!(shown.contains("contact added Met"), "{shown}");
    assert!(!shown.contains("contact_added"), "{shown}");
}

#[test]
fn the_details_scroll_with_shift_j_and_k_and_show_each_event_whole() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Enter);
    let id = state
        .selected_entry()
        .and_then(|e| e.id().map(str::to_owned))
        .expect("selected");
    let long = "Renewal call: the customer asked for a second workspace, SSO for \\
                their EMEA team and a quote before the end of the quarter";
    update(
        &mut state,
        Message::Sync(SyncEvent::History {
            customer_id: id,
            events: vec![HistoryEvent {
                at: NOW,
                kind: "note".into(),
                summary: long.into(),
                actor: None,
            }],
            fresh: true,
        }),
    );
    let top = screen(&state);
    assert!(top.contains("Name"), "{top}");
    for _ in 0..12 {
        press(&mut state, KeyCode::Char('J'));
    }
    let scrolled = screen(&state);
    assert!(
        !scrolled.contains("Name "),
        "scrolled past the top:\n{scrolled}"
    );
    assert!(
        scrolled.contains("end of the quarter"),
        "the event whole:\n{scrolled}"
    );
    press(&mut state, KeyCode::Char('j'));
    assert_eq!(
        state.modes.detail_scroll(),
        0,
        "another customer starts at the top"
    );
}
