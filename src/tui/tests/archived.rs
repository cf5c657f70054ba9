//! The archived customers (`A`, `R`) and the groups marked not a
//! duplicate (`D` twice, `R`), through the real `update` and drawn on
//! `TestBackend`.

use crossterm::event::KeyCode;
use time::macros::datetime;

use super::*;
use crate::domain::Entry;
use crate::store::MergedInto;
use crate::sync::ArchivedEntry;

/// The demo's archived customers as the engine reads them from the store,
/// plus the Acme record a merge put into #1003.
fn archived_from_store() -> Vec<ArchivedEntry> {
    let mut archived: Vec<ArchivedEntry> = demo_customers()
        .into_iter()
        .filter(|c| c.archived)
        .map(|c| ArchivedEntry {
            entry: Entry::from(c),
            merged_into: None,
        })
        .collect();
    let mut loser = customer(1036, "Acme Corporation", Some("www.acme.com"));
    loser.archived = true;
    loser.updated_at = datetime!(2026-12-01 09:00:00 UTC);
    archived.push(ArchivedEntry {
        merged_into: Some(MergedInto {
            customer_id: loser.id.clone(),
            keeper_id: "cus_keeper".into(),
            keeper_display_id: 1003,
            at: datetime!(2026-12-01 09:00:00 UTC),
        }),
        entry: Entry::from(loser),
    });
    archived
}

/// `A`, then the engine's answer.
fn open_archived(state: &mut State) {
    let commands = press(state, KeyCode::Char('A'));
    assert_eq!(
        commands,
        vec![Command::Sync(SyncCommand::LoadArchived)],
        "read from the store on demand"
    );
    update(
        state,
        Message::Sync(SyncEvent::Archived {
            customers: archived_from_store(),
        }),
    );
}

fn shown_ids(state: &State) -> Vec<u64> {
    let view = state.modes.archived().expect("the archived view is open");
    (0..view.shown.len())
        .filter_map(|row| view.at(row).map(|a| a.entry.display_id))
        .collect()
}

#[test]
fn a_shows_the_archived_customers_as_their_own_view_and_esc_or_a_goes_back() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('A'));
    assert!(screen(&state).contains("Archived · loading"));

    update(
        &mut state,
        Message::Sync(SyncEvent::Archived {
            customers: archived_from_store(),
        }),
    );
    let shown = screen(&state);
    assert!(shown.contains("Archived · 3"), "{shown}");
    assert!(shown.contains("merged into #1003 on 2026-12-01"), "{shown}");
    assert!(shown.contains("Calloway Fitness"), "{shown}");
    assert!(shown.contains("R restore"), "the hint bar names R: {shown}");
    assert!(!shown.contains("Customers"), "a distinct view: {shown}");
    // The most recently archived first.
    assert_eq!(shown_ids(&state)[0], 1036);
    insta::assert_snapshot!("archived_at_80x24", shown);

    press(&mut state, KeyCode::Esc);
    assert!(state.modes.archived().is_none());
    assert!(screen(&state).contains("Customers"));
    open_archived(&mut state);
    press(&mut state, KeyCode::Char('A'));
    assert!(state.modes.archived().is_none(), "A again goes back");
    // Nothing of the archived view stays in memory, nor in the live list.
    assert_eq!(state.model.customers.len(), live_demo_count());
}

#[test]
fn an_answer_arriving_after_the_view_closed_is_dropped() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('A'));
    press(&mut state, KeyCode::Esc);
    update(
        &mut state,
        Message::Sync(SyncEvent::Archived {
            customers: archived_from_store(),
        }),
    );
    assert!(state.modes.archived().is_none());
    assert_eq!(state.model.customers.len(), live_demo_count());
}

#[test]
fn the_archived_view_filters_and_sorts_on_its_own() {
    let mut state = demo_app(100, 30);
    open_archived(&mut state);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "provisions");
    assert_eq!(shown_ids(&state), [1041]);
    assert!(screen(&state).contains("1 of 3"));
    press(&mut state, KeyCode::Enter);
    assert!(screen(&state).contains("filter: provisions"));
    // The list's own filter is untouched.
    assert!(state.finder.query().is_none());
    press(&mut state, KeyCode::Esc);
    assert_eq!(shown_ids(&state).len(), 3, "Esc clears the filter first");
    assert!(state.modes.archived().is_some());

    // `s` from updated goes to name, then #id; `S` reverses.
    press(&mut state, KeyCode::Char('s'));
    assert_eq!(shown_ids(&state), [1036, 1015, 1041]);
    assert!(screen(&state).contains("sort: name"));
    press(&mut state, KeyCode::Char('s'));
    assert_eq!(shown_ids(&state), [1015, 1036, 1041]);
    press(&mut state, KeyCode::Char('S'));
    assert_eq!(shown_ids(&state), [1041, 1036, 1015]);
    press(&mut state, KeyCode::Char('j'));
    let view = state.modes.archived().expect("open");
    assert_eq!(view.selected_entry().unwrap().entry.display_id, 1036);
}

/// Closed and opened again, the archived view keeps the order it was
/// left in (the list's own order is untouched).
#[test]
fn the_archived_view_opens_again_in_the_order_it_was_left_in() {
    let mut state = demo_app(100, 30);
    let list_sort = state.model.customers.sort();
    open_archived(&mut state);
    press(&mut state, KeyCode::Char('s'));
    press(&mut state, KeyCode::Char('S'));
    assert_eq!(shown_ids(&state), [1041, 1015, 1036], "name, Z to A");
    press(&mut state, KeyCode::Esc);
    assert!(state.modes.archived().is_none());

    open_archived(&mut state);
    assert_eq!(shown_ids(&state), [1041, 1015, 1036], "still name, Z to A");
    assert!(screen(&state).contains("sort: name"), "{}", screen(&state));
    assert_eq!(state.model.customers.sort(), list_sort);
}

#[test]
fn r_restores_the_selected_customer_through_the_outbox_and_it_is_back_pending() {
    let mut state = demo_app(100, 30);
    open_archived(&mut state);
    press(&mut state, KeyCode::Char('s')); // by name: Acme Corporation first
    press(&mut state, KeyCode::Char('j')); // Calloway Fitness Studios
    let commands = press(&mut state, KeyCode::Char('R'));
    let (key, op) = submitted(&commands);
    let calloway = demo_customers()
        .into_iter()
        .find(|c| c.display_id == 1015)
        .expect("demo");
    assert_eq!(
        op,
        OutboxOp::Restore {
            customer_id: calloway.id.clone()
        }
    );
    assert!(state.model.outbox.contains_key(&key), "queued before sent");
    let back = state
        .model
        .customers
        .get(calloway.id.as_str())
        .expect("live again");
    assert!(back.pending && !back.archived);
    assert_eq!(shown_ids(&state), [1036, 1041], "it left the archived view");
    assert!(screen(&state).contains("Restoring #1015"));

    let mut answer = calloway.clone();
    answer.archived = false;
    answer.updated_at = NOW;
    update(
        &mut state,
        Message::Sync(SyncEvent::Delivered {
            key,
            op,
            customer: answer,
        }),
    );
    let back = state
        .model
        .customers
        .get(calloway.id.as_str())
        .expect("live");
    assert!(!back.pending);
    assert_eq!(state.model.customers.len(), live_demo_count() + 1);
    assert!(screen(&state).contains("Restored #1015"));
}

#[test]
fn a_refused_restore_goes_back_to_the_archived_view_with_the_reason() {
    let mut state = demo_app(100, 30);
    open_archived(&mut state);
    let commands = press(&mut state, KeyCode::Char('R'));
    let (key, op) = submitted(&commands);
    assert_eq!(shown_ids(&state).len(), 2);
    update(
        &mut state,
        Message::Sync(SyncEvent::Rejected {
            key,
            op,
            status: 404,
            message: "no such customer".into(),
            param: None,
        }),
    );
    assert_eq!(shown_ids(&state).len(), 3);
    assert_eq!(state.model.customers.len(), live_demo_count());
    assert!(screen(&state).contains("Could not restore #1036"));
}

#[test]
fn an_archive_of_this_session_shows_under_a_before_pivotal_confirms_and_r_undoes_it() {
    let mut state = demo_app(100, 30);
    press(&mut state, KeyCode::Char('a'));
    let commands = press(&mut state, KeyCode::Char('y'));
    let (_, archive) = submitted(&commands);
    let OutboxOp::Archive { customer_id } = archive else {
        panic!("an archive: {archive:?}");
    };
    press(&mut state, KeyCode::Char('A'));
    // The store does not have it yet (not delivered).
    update(
        &mut state,
        Message::Sync(SyncEvent::Archived {
            customers: Vec::new(),
        }),
    );
    let view = state.modes.archived().expect("open");
    assert_eq!(view.shown.len(), 1);
    assert_eq!(
        view.selected_entry().unwrap().entry.id(),
        Some(customer_id.as_str())
    );
    let commands = press(&mut state, KeyCode::Char('R'));
    assert!(matches!(submitted(&commands).1, OutboxOp::Restore { .. }));
    assert!(state.model.customers.get(customer_id.as_str()).is_some());
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Char('u'));
    assert!(
        screen(&state).contains("Nothing to undo"),
        "the restore was that archive's undo"
    );
}

#[test]
fn a_finished_sync_reads_the_open_archived_view_again() {
    let mut state = demo_app(80, 24);
    open_archived(&mut state);
    let commands = update(
        &mut state,
        Message::Sync(SyncEvent::Finished {
            generation: 1,
            at: NOW,
            skipped: 0,
        }),
    );
    assert!(commands.contains(&Command::Sync(SyncCommand::LoadArchived)));
    press(&mut state, KeyCode::Esc);
    let commands = update(
        &mut state,
        Message::Sync(SyncEvent::Finished {
            generation: 2,
            at: NOW,
            skipped: 0,
        }),
    );
    assert!(!commands.contains(&Command::Sync(SyncCommand::LoadArchived)));
}

#[test]
fn help_in_the_archived_view_lists_its_keys() {
    let mut state = demo_app(100, 40);
    open_archived(&mut state);
    press(&mut state, KeyCode::Char('?'));
    let shown = screen(&state);
    assert!(shown.contains("restore the selected customer"), "{shown}");
    assert!(shown.contains("back to the list"), "{shown}");
    press(&mut state, KeyCode::Esc);
    assert!(state.modes.archived().is_some(), "help closes back to it");
}

#[test]
fn for_a_screen_reader_and_in_ascii_the_archived_view_says_it_in_text() {
    let mut state = app(
        Theme::mono().ascii().for_screen_reader(),
        (80, 24),
        demo_customers(),
    );
    open_archived(&mut state);
    let shown = screen(&state);
    assert!(shown.contains(">1036"), "{shown}");
    assert!(shown.contains("Archived | 3"), "{shown}");
    assert!(shown.is_ascii(), "{shown}");
}

/// The rows of duplicates only, as display ids.
fn list_ids(state: &State) -> Vec<u64> {
    (0..state.row_count())
        .filter_map(|row| state.entry_at_row(row).map(|e| e.display_id))
        .collect()
}

#[test]
fn d_twice_lists_the_groups_marked_not_a_duplicate_and_r_revives_one() {
    let mut state = demo_app(100, 30);
    press(&mut state, KeyCode::Char('D'));
    let key = state
        .selected_entry()
        .and_then(|e| e.domain_key().map(str::to_owned))
        .expect("a group");
    let group: Vec<u64> = list_ids(&state)
        .into_iter()
        .filter(|id| {
            state
                .model
                .customers
                .iter_ordered()
                .any(|e| e.display_id == *id && e.domain_key() == Some(&*key))
        })
        .collect();
    let commands = press(&mut state, KeyCode::Char('x'));
    assert!(matches!(
        commands[0],
        Command::Sync(SyncCommand::Dismiss(_))
    ));
    assert!(!list_ids(&state).contains(&group[0]));

    press(&mut state, KeyCode::Char('D'));
    assert!(state.finder.dismissed_only);
    assert_eq!(list_ids(&state), group);
    let shown = screen(&state);
    assert!(shown.contains("not a duplicate"), "{shown}");
    assert!(shown.contains("not duplicates: 1 group"), "{shown}");
    assert!(shown.contains("R revive"), "the hint bar names R: {shown}");

    let commands = press(&mut state, KeyCode::Char('R'));
    assert_eq!(
        commands,
        vec![Command::Sync(SyncCommand::Undismiss(key.clone()))]
    );
    assert!(!state.model.dismissed.contains_key(&key));
    // None left to list: back to the queue, the group in it again.
    assert!(!state.finder.dismissed_only && state.finder.duplicates_only);
    assert!(list_ids(&state).contains(&group[0]));
    press(&mut state, KeyCode::Char('u'));
    assert!(
        !state.model.dismissed.contains_key(&key),
        "u does not dismiss it again"
    );
}

#[test]
fn groups_dismissed_in_an_earlier_session_are_listed_and_revived_too() {
    let mut state = demo_app(100, 30);
    let acme = state
        .model
        .customers
        .same_domain("acme.com")
        .iter()
        .filter_map(|e| e.id().map(str::to_owned))
        .collect();
    update(
        &mut state,
        Message::Sync(SyncEvent::Dismissed {
            groups: vec![crate::store::Dismissed {
                key: "acme.com".into(),
                members: acme,
            }],
            seen: None,
        }),
    );
    press(&mut state, KeyCode::Char('D'));
    press(&mut state, KeyCode::Char('D'));
    assert_eq!(list_ids(&state).len(), 3);
    let commands = press(&mut state, KeyCode::Char('R'));
    assert_eq!(
        commands,
        vec![Command::Sync(SyncCommand::Undismiss("acme.com".into()))]
    );
    // D from the queue: off, as before when nothing is dismissed.
    press(&mut state, KeyCode::Char('D'));
    assert!(!state.finder.duplicates_only);
}

#[test]
fn r_outside_the_dismissed_groups_says_where_it_works() {
    let mut state = demo_app(100, 30);
    let commands = press(&mut state, KeyCode::Char('R'));
    assert!(commands.is_empty());
    assert!(screen(&state).contains("D twice lists the groups"));
}

#[test]
fn the_mouse_selects_a_row_of_the_archived_view_and_the_wheel_moves_through_it() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mouse = |state: &mut State, kind: MouseEventKind, row: u16| {
        update(
            state,
            Message::Mouse(MouseEvent {
                kind,
                column: 10,
                row,
                modifiers: KeyModifiers::NONE,
            }),
        )
    };
    let mut state = demo_app(80, 24);
    open_archived(&mut state);
    let line = screen(&state)
        .lines()
        .position(|l| l.contains("Calloway"))
        .expect("drawn");
    mouse(
        &mut state,
        MouseEventKind::Down(MouseButton::Left),
        u16::try_from(line).expect("small"),
    );
    let selected = |state: &State| {
        let view = state.modes.archived().expect("open");
        view.selected_entry().map(|a| a.entry.display_id)
    };
    assert_eq!(selected(&state), Some(1015));
    mouse(&mut state, MouseEventKind::ScrollUp, 12);
    assert_eq!(selected(&state), Some(1036));
    // The column titles and the blank lines below the rows take no click.
    mouse(&mut state, MouseEventKind::Down(MouseButton::Left), 1);
    mouse(&mut state, MouseEventKind::Down(MouseButton::Left), 20);
    assert_eq!(selected(&state), Some(1036));
}
