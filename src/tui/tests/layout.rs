//! How the list and the status line use the screen: ids never cut, extra
//! width where values are cut, an Updated column on wide screens, and a
//! status line that never overflows.

use crossterm::event::KeyCode;

use super::*;

#[test]
fn ids_are_never_cut_so_two_customers_never_look_alike() {
    let customers = vec![
        customer(10100, "Beaconlight Insurance", Some("beaconlight.com")),
        customer(101_001, "Example Holdings", Some("example.com")),
        customer(101_002, "Example Dup", Some("example-dup.com")),
    ];
    for (width, height) in [(200, 10), (80, 10), (60, 10)] {
        let state = app(Theme::colored(), (width, height), customers.clone());
        let shown = screen(&state);
        for id in ["#10100 ", "#101001 ", "#101002 "] {
            assert!(shown.contains(id), "{width}: {id} in\n{shown}");
        }
    }
}

#[test]
fn a_wide_screen_shows_long_values_whole_and_when_each_customer_changed() {
    let state = demo_app(200, 30);
    let shown = screen(&state);
    for whole in ["Priya Natarajan", "Growth (legacy)", "Updated", " ago"] {
        assert!(shown.contains(whole), "{whole} in\n{shown}");
    }
    insta::assert_snapshot!("list_at_200x30", shown);
}

#[test]
fn the_updated_column_can_be_hidden_and_sorted_by() {
    let mut state = demo_app(200, 20);
    while state.model.customers.sort().column != crate::domain::SortColumn::Updated {
        press(&mut state, KeyCode::Char('s'));
    }
    let shown = screen(&state);
    assert!(
        shown.contains("Updated ↓") || shown.contains("Updated ↑"),
        "{shown}"
    );
    state.model.view_settings.hidden_columns = vec!["updated".into()];
    assert!(!screen(&state).contains("Updated"));
}

#[test]
fn the_status_line_drops_context_before_what_matters_and_never_overflows() {
    let mut state = demo_app(120, 24);
    let id = state
        .selected_entry()
        .and_then(|e| e.id().map(str::to_owned))
        .expect("a row");
    press(&mut state, KeyCode::Char('a'));
    let (key, _) = submitted(&press(&mut state, KeyCode::Char('y')));
    update(
        &mut state,
        Message::Sync(SyncEvent::Queued { key: key.clone() }),
    );
    update(
        &mut state,
        Message::Sync(SyncEvent::Waiting {
            key,
            reason: "connection refused".into(),
            retry_in: Duration::from_secs(8),
        }),
    );
    update(
        &mut state,
        Message::Sync(SyncEvent::Failed {
            generation: 0,
            reason: "connection refused".into(),
            retry_in: Duration::from_secs(8),
        }),
    );
    state.config_problem = Some("config.toml line 3: theme = \"neon\" is not a theme".into());
    for width in [120, 80, 60] {
        state.width = width;
        let shown = screen(&state);
        let status = shown
            .lines()
            .nth(usize::from(state.height) - 2)
            .expect("status");
        assert!(status.contains("1 pending"), "{width}: {status}");
        assert!(status.contains("offline"), "{width}: {status}");
        assert!(!status.contains(&id), "{status}");
        assert!(status.trim_end().ends_with('"'), "{width}: cut: {status}");
    }
}
