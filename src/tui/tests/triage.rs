//! Duplicate triage through the real key handling: the compare view, the
//! archive confirmation, undo, and what the server's answers do.

use crossterm::event::KeyCode;

use super::*;
use crate::api::HistoryEvent;

/// The demo's history of one customer, as the engine would send it.
fn demo_history(display_id: u64) -> (String, Vec<HistoryEvent>) {
    let all: Vec<serde_json::Value> = serde_json::from_str(DEMO_CUSTOMERS).expect("demo parses");
    let record = all
        .into_iter()
        .find(|c| c["display_id"] == display_id)
        .expect("demo customer");
    let events = serde_json::from_value(record["history"].clone()).expect("history parses");
    (record["id"].as_str().expect("id").to_owned(), events)
}

/// Feeds the demo histories of `display_ids`.
fn load_histories(state: &mut State, display_ids: &[u64]) {
    for &display_id in display_ids {
        let (customer_id, mut events) = demo_history(display_id);
        events.reverse(); // newest first, as the API sends them
        update(
            state,
            Message::Sync(SyncEvent::History {
                customer_id,
                events,
                fresh: true,
            }),
        );
    }
}

/// Selects the customer with this display id through the filter line.
fn go_to(state: &mut State, display_id: u64) {
    press(state, KeyCode::Char('/'));
    type_text(state, &format!("#{display_id}"));
    press(state, KeyCode::Enter);
    assert_eq!(state.selected_entry().unwrap().display_id, display_id);
}

fn delivered(key: &IdempotencyKey, op: &OutboxOp, archived: bool) -> Message {
    let customer_id = match op {
        OutboxOp::Archive { customer_id } | OutboxOp::Restore { customer_id } => customer_id,
        other => panic!("not an archive or restore: {other:?}"),
    };
    let mut record = demo_customers()
        .into_iter()
        .find(|c| &c.id == customer_id)
        .expect("demo customer");
    record.archived = archived;
    record.updated_at = NOW;
    Message::Sync(SyncEvent::Delivered {
        key: key.clone(),
        op: op.clone(),
        customer: record,
    })
}

fn badge_of(state: &State, display_id: u64) -> Option<usize> {
    let entry = state
        .model
        .customers
        .iter_ordered()
        .find(|e| e.display_id == display_id)?;
    state.model.customers.badge(entry)
}

#[test]
fn c_compares_a_pair_side_by_side_with_history() {
    let mut state = demo_app(120, 40);
    go_to(&mut state, 1042);
    let commands = press(&mut state, KeyCode::Char('c'));
    assert_eq!(
        commands.len(),
        2,
        "both histories are asked for: {commands:?}"
    );
    load_histories(&mut state, &[1008, 1042]);
    let screen_now = screen(&state);
    for text in [
        "globex.io · 2 records ",
        "#1008 Globex Corporation",
        "#1042 Globex",
        "https://globex.io/",
        "hubspot",
        "api",
        "6 events",
        "1 event",
    ] {
        assert!(screen_now.contains(text), "{text}\n{screen_now}");
    }
    insta::assert_snapshot!("compare_pair_at_120x40", screen_now);
}

#[test]
fn c_compares_a_triple_stacked_at_80_columns() {
    let mut state = demo_app(80, 24);
    let commands = press(&mut state, KeyCode::Char('c'));
    assert_eq!(commands.len(), 3);
    load_histories(&mut state, &[1003, 1036, 1052]);
    let screen_now = screen(&state);
    assert!(screen_now.contains(
        "✓ #1003 hubspot · 8 events │ #1036 stripe · 2 events │ #1052 manual · 2 events"
    ));
    insta::assert_snapshot!("compare_triple_at_80x24", screen_now);
    press(&mut state, KeyCode::Tab);
    assert!(screen(&state).contains("▸ #1036 Acme Corporation"));
    press(&mut state, KeyCode::Esc);
    assert!(state.modes.compare().is_none());
}

#[test]
fn differing_fields_are_marked_and_equal_ones_are_not() {
    let mut state = demo_app(120, 40);
    go_to(&mut state, 1042);
    press(&mut state, KeyCode::Char('c'));
    let backend = TestBackend::new(state.width, state.height);
    let mut terminal = Terminal::new(backend).unwrap();
    terminal.draw(|f| crate::tui::render(&state, f)).unwrap();
    let buffer = terminal.backend().buffer();
    let row_style = |label: &str| {
        (0..state.height)
            .find(|&y| {
                (0..label.len() as u16)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
                    == label
            })
            .map(|y| buffer[(20, y)].fg)
    };
    let differs = state.theme.differs().fg;
    assert_eq!(row_style("  Source"), Some(differs.unwrap()));
    assert_ne!(row_style("  Tags"), differs, "neither has tags: the same");
}

#[test]
fn c_without_a_badge_says_there_is_nothing_to_compare() {
    let mut state = demo_app(80, 24);
    go_to(&mut state, 1045);
    assert!(press(&mut state, KeyCode::Char('c')).is_empty());
    assert!(state.modes.compare().is_none());
    assert!(screen(&state).contains("No other customer shares this domain"));
}

#[test]
fn archiving_asks_naming_the_customer_and_n_does_nothing() {
    let mut state = demo_app(80, 24);
    go_to(&mut state, 1052);
    press(&mut state, KeyCode::Char('a'));
    load_histories(&mut state, &[1052]);
    let screen_now = screen(&state);
    assert!(
        screen_now.contains("Archive #1052 ACME Co. (manual, 2 history events)? (y/N)"),
        "{screen_now}"
    );
    insta::assert_snapshot!("archive_confirmation_at_80x24", screen_now);
    assert!(press(&mut state, KeyCode::Char('n')).is_empty());
    assert_eq!(badge_of(&state, 1052), Some(3), "nothing changed");
    assert!(state.model.outbox.is_empty());
    assert!(screen(&state).contains("Not archived"));
}

#[test]
fn a_long_name_is_cut_in_the_question_but_never_the_answer_keys() {
    let mut state = demo_app(60, 20);
    go_to(&mut state, 1019);
    press(&mut state, KeyCode::Char('a'));
    let screen_now = screen(&state);
    let question = screen_now
        .lines()
        .find(|l| l.contains("Archive #1019"))
        .expect("the question");
    assert!(question.contains("Brightline…"), "{question}");
    assert!(question.contains("(hubspot"), "{question}");
    assert!(question.contains("? (y/N)"), "{question}");
}

#[test]
fn y_archives_through_the_outbox_and_the_badge_drops_at_once() {
    let mut state = demo_app(80, 24);
    go_to(&mut state, 1052);
    press(&mut state, KeyCode::Char('a'));
    let (key, op) = submitted(&press(&mut state, KeyCode::Char('y')));
    assert!(
        matches!(&op, OutboxOp::Archive { customer_id } if customer_id == "cus_01KKXRYMP0GQ1XMYJCNRD1GBHR")
    );
    assert_eq!(badge_of(&state, 1052), None, "gone from the list");
    assert_eq!(badge_of(&state, 1003), Some(2), "the triple is a pair now");
    assert!(screen(&state).contains("Archived #1052 — u to undo"));

    update(&mut state, delivered(&key, &op, true));
    assert!(state.model.outbox.is_empty());
    assert_eq!(badge_of(&state, 1003), Some(2));
    assert!(screen(&state).contains("Archived #1052 — u to undo"));
}

#[test]
fn archiving_from_the_compare_view_archives_the_record_in_focus() {
    let mut state = demo_app(120, 40);
    press(&mut state, KeyCode::Char('c'));
    press(&mut state, KeyCode::Right);
    press(&mut state, KeyCode::Char('a'));
    assert!(screen(&state).contains("Archive #1036 Acme Corporation (stripe"));
    submitted(&press(&mut state, KeyCode::Char('y')));
    let screen_now = screen(&state);
    assert!(screen_now.contains("acme.com · 2 records "), "{screen_now}");
    assert!(!screen_now.contains("Acme Corporation"));
}

#[test]
fn u_undoes_archives_one_by_one_newest_first() {
    let mut state = demo_app(80, 24);
    let mut archives = Vec::new();
    for display_id in [1052, 1056] {
        go_to(&mut state, display_id);
        press(&mut state, KeyCode::Char('a'));
        archives.push(submitted(&press(&mut state, KeyCode::Char('y'))));
    }
    for (key, op) in &archives {
        update(&mut state, delivered(key, op, true));
    }
    assert_eq!(state.model.customers.len(), live_demo_count() - 2);
    assert!(screen(&state).contains("Archived #1056 — u to undo"));

    let (key, op) = submitted(&press(&mut state, KeyCode::Char('u')));
    assert!(matches!(&op, OutboxOp::Restore { .. }));
    assert_eq!(
        state.selected_entry().unwrap().display_id,
        1056,
        "back and selected"
    );
    assert!(
        state.selected_entry().unwrap().pending,
        "until the server confirms"
    );
    assert_eq!(badge_of(&state, 1005), Some(2));
    assert!(screen(&state).contains("Restoring #1056 — u again restores #1052"));
    update(&mut state, delivered(&key, &op, false));
    assert!(screen(&state).contains("Restored #1056"));
    press(&mut state, KeyCode::Char('j'));
    assert!(screen(&state).contains("Archived #1052 — u to undo"));
    assert!(!state.selected_entry().unwrap().pending);

    submitted(&press(&mut state, KeyCode::Char('u')));
    assert_eq!(state.model.customers.len(), live_demo_count());
    assert_eq!(badge_of(&state, 1003), Some(3));
    assert!(press(&mut state, KeyCode::Char('u')).is_empty());
    assert!(screen(&state).contains("Nothing to undo"));
}

#[test]
fn a_refused_archive_brings_the_customer_back_with_the_reason() {
    let mut state = demo_app(80, 24);
    go_to(&mut state, 1052);
    press(&mut state, KeyCode::Char('a'));
    let (key, op) = submitted(&press(&mut state, KeyCode::Char('y')));
    update(
        &mut state,
        Message::Sync(SyncEvent::Rejected {
            key,
            op,
            status: 404,
            message: "No customer cus_01KKXRYMP0GQ1XMYJCNRD1GBHR".into(),
            param: None,
        }),
    );
    assert_eq!(badge_of(&state, 1052), Some(3));
    assert!(screen(&state).contains("Could not archive #1052: No customer"));
    assert!(state.model.archived.is_empty(), "nothing left to undo");
}

#[test]
fn a_sync_page_read_before_the_archive_does_not_bring_it_back() {
    let mut state = demo_app(80, 24);
    go_to(&mut state, 1052);
    press(&mut state, KeyCode::Char('a'));
    submitted(&press(&mut state, KeyCode::Char('y')));
    let stale: Vec<Customer> = demo_customers()
        .into_iter()
        .filter(|c| c.display_id == 1052)
        .collect();
    update(&mut state, page_of(stale));
    assert_eq!(badge_of(&state, 1052), None, "still archived on screen");
}

#[test]
fn an_archive_still_in_the_outbox_at_start_stays_archived_and_can_be_undone() {
    let mut state = State::new(Theme::colored(), NOW, (80, 24));
    let key = IdempotencyKey::new();
    let users = team::members();
    update(
        &mut state,
        Message::Sync(SyncEvent::CacheLoaded {
            customers: Box::new(set_of(demo_customers())),
            index: None,
            me: users.first().cloned(),
            users,
            last_synced: Some(NOW),
            pending: vec![OutboxItem {
                key: key.clone(),
                op: OutboxOp::Archive {
                    customer_id: "cus_01KKXRYMP0GQ1XMYJCNRD1GBHR".into(),
                },
                queued_at: NOW,
                attempts: 1,
                last_error: Some("connection refused".into()),
            }],
            merges: Vec::new(),
        }),
    );
    assert_eq!(badge_of(&state, 1052), None);
    assert!(screen(&state).contains("Archived #1052 — u to undo"));
    assert!(screen(&state).contains("1 pending (connection refused)"));
    let (_, op) = submitted(&press(&mut state, KeyCode::Char('u')));
    assert!(matches!(op, OutboxOp::Restore { .. }));
    assert_eq!(badge_of(&state, 1052), Some(3));
}

#[test]
fn no_key_archives_without_asking() {
    // Every plain key of the keymap, pressed in the list and in the compare
    // view: none may send an archive; `a` only asks.
    let keys: Vec<char> = crate::tui::keymap::BINDINGS
        .iter()
        .filter_map(|b| b.label.chars().next())
        .filter(|c| !matches!(c, 'q' | 'n' | 'e'))
        .collect();
    for in_compare in [false, true] {
        for &key in &keys {
            let mut state = demo_app(80, 24);
            if in_compare {
                press(&mut state, KeyCode::Char('c'));
            }
            let commands = press(&mut state, KeyCode::Char(key));
            let archives = commands.iter().any(|c| {
                matches!(
                    c,
                    Command::Sync(SyncCommand::Submit {
                        op: OutboxOp::Archive { .. },
                        ..
                    })
                )
            });
            assert!(!archives, "{key} archived without asking");
        }
    }
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('a'));
    assert!(state.modes.confirm_archive().is_some(), "a asks");
}

#[test]
fn brackets_move_between_groups_and_a_group_archived_down_to_one_opens_the_next() {
    let mut state = demo_app(120, 40);
    press(&mut state, KeyCode::Char('D'));
    let first = state
        .selected_entry()
        .and_then(|e| e.domain_key().map(str::to_owned));
    press(&mut state, KeyCode::Char(']'));
    let second = state
        .selected_entry()
        .and_then(|e| e.domain_key().map(str::to_owned));
    assert_ne!(first, second, "] goes to the next group");
    press(&mut state, KeyCode::Char('['));
    assert_eq!(
        state
            .selected_entry()
            .and_then(|e| e.domain_key().map(str::to_owned)),
        first,
        "[ comes back to the first row of the group before"
    );

    // A pair in compare: archive one, and compare moves on by itself.
    press(&mut state, KeyCode::Char(']'));
    let pair = state.modes.compare().map(|c| c.key.clone());
    assert!(pair.is_none());
    press(&mut state, KeyCode::Char('c'));
    let pair = state
        .modes
        .compare()
        .map(|c| c.key.clone())
        .expect("compare");
    let size = crate::tui::triage::compared(&state).len();
    for _ in 1..size {
        press(&mut state, KeyCode::Char('a'));
        press(&mut state, KeyCode::Char('y'));
    }
    let now = state.modes.compare().map(|c| c.key.clone());
    assert!(now.is_some() && now != Some(pair), "the next group opened");
}

/// In duplicates only, `]` and `[` (and compare moving on) read where each
/// group starts from the rows instead of reading every row's group: from
/// every selection, with every group current (and one that is gone, and
/// none), they land where walking the rows would, likely groups included.
#[test]
fn moves_between_groups_in_duplicates_only_land_where_a_walk_of_the_rows_would() {
    let mut state = demo_app(120, 30);
    press(&mut state, KeyCode::Char('D'));
    let groups = state.finder.rows.groups().to_vec();
    assert!(groups.len() > 3, "the demo has groups to move between");
    assert!(
        state.finder.rows.in_likely_group(state.row_count() - 1),
        "likely groups follow the domain groups"
    );
    let mut currents: Vec<Option<&str>> = groups.iter().map(|(_, k)| Some(k.as_str())).collect();
    currents.extend([Some("gone.example"), None]);
    for selected in 0..state.row_count() {
        state.selected = selected;
        for &current in &currents {
            for forward in [true, false] {
                assert_eq!(
                    crate::tui::triage::queue_row(&state, forward, current),
                    crate::tui::triage::walk_row(&state, forward, current),
                    "from row {selected}, {current:?}, forward: {forward}"
                );
            }
        }
    }
}

#[test]
fn the_queue_is_the_groups_the_rows_show_in_order() {
    let mut state = demo_app(120, 30);
    press(&mut state, KeyCode::Char('D'));
    let mut walked: Vec<(usize, String)> = Vec::new();
    for row in 0..state.row_count() {
        let key = state.group_at_row(row).expect("every row is in a group");
        if walked.last().is_none_or(|(_, last)| *last != key) {
            walked.push((row, key));
        }
    }
    assert_eq!(state.finder.rows.groups(), walked.as_slice());
}
