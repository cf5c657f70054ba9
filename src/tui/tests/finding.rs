//! Finding customers through the real key handling: the `/` filter line,
//! `#id` jumps, fuzzy queries, My customers, duplicates only and sorting.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;

use super::*;
use crate::domain::SortColumn;

/// The display ids of the rows the list shows, top to bottom.
fn shown(state: &State) -> Vec<u64> {
    (0..state.row_count())
        .map(|row| state.entry_at_row(row).expect("row").display_id)
        .collect()
}

fn selected_id(state: &State) -> u64 {
    state.selected_entry().expect("a selection").display_id
}

/// The text drawn in the filter's match style, row by row (list rows only):
/// bold and underlined (in the selected row the match keeps those but not
/// its colour).
fn marked_text(state: &State) -> Vec<String> {
    let backend = TestBackend::new(state.width, state.height);
    let mut terminal = Terminal::new(backend).expect("test terminal");
    terminal
        .draw(|frame| crate::tui::render(state, frame))
        .expect("draws");
    let buffer = terminal.backend().buffer();
    (2..state.height.saturating_sub(2))
        .map(|y| {
            (0..state.width)
                .map(|x| &buffer[(x, y)])
                .filter(|c| c.modifier.contains(Modifier::BOLD | Modifier::UNDERLINED))
                .map(|c| c.symbol())
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn typing_a_filter_narrows_the_list_counts_and_highlights_the_matches() {
    let mut state = demo_app(120, 30);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "acme");
    assert_eq!(shown(&state), [1003, 1052, 1036]);
    let screen_now = screen(&state);
    assert!(
        screen_now.contains("3 of 63 · filter: acme"),
        "{screen_now}"
    );
    assert!(
        screen_now.contains("/acme  3 of 63"),
        "the line shows the count"
    );
    assert_eq!(
        marked_text(&state),
        ["Acmeacme", "ACMEAcme", "Acmeacme"],
        "name and domain matches are marked, case-insensitively"
    );
    insta::assert_snapshot!("filter_with_highlights_at_120x30", screen_now);
}

#[test]
fn enter_keeps_the_filter_and_escape_clears_it_keeping_the_selection() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "hooli");
    assert_eq!(shown(&state), [1056, 1005]);
    press(&mut state, KeyCode::Enter);
    assert!(!state.finder.line.as_ref().expect("kept").editing);
    press(&mut state, KeyCode::Char('j'));
    assert_eq!(selected_id(&state), 1005, "the list has the keys again");
    assert!(screen(&state).contains("Esc clear filter"));
    press(&mut state, KeyCode::Esc);
    assert_eq!(state.row_count(), live_demo_count());
    assert_eq!(selected_id(&state), 1005, "still on the customer found");
    assert!(screen(&state).contains("Customers  63 · 8 duplicate domains"));
}

#[test]
fn escape_in_the_filter_line_clears_it() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "zzz-nobody");
    assert_eq!(state.row_count(), 0);
    assert!(screen(&state).contains("0 of 63"));
    assert!(
        screen(&state).contains("No customer matches"),
        "not an empty account"
    );
    press(&mut state, KeyCode::Esc);
    assert!(state.finder.line.is_none());
    assert_eq!(state.row_count(), live_demo_count());
}

#[test]
fn ctrl_c_in_the_filter_line_clears_it_and_does_not_quit() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "acme");
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(update(&mut state, Message::Key(ctrl_c)).is_empty());
    assert!(!state.quitting);
    assert!(state.finder.line.is_none());
}

#[test]
fn a_display_id_jumps_to_that_customer_and_enter_shows_it_in_the_whole_list() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "#1042");
    assert_eq!(selected_id(&state), 1042);
    press(&mut state, KeyCode::Enter);
    assert!(
        state.finder.line.is_none(),
        "the jump leaves no filter behind"
    );
    assert_eq!(state.row_count(), live_demo_count());
    assert_eq!(selected_id(&state), 1042);
}

#[test]
fn a_tilde_matches_fuzzily_best_first() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "~glbx");
    assert_eq!(
        shown(&state),
        [1042, 1008],
        "Globex, then Globex Corporation"
    );
    assert!(
        !marked_text(&state).is_empty(),
        "fuzzy matches are marked too"
    );
}

#[test]
fn backspace_widens_the_filter_again() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "hooli inc");
    assert_eq!(shown(&state), [1005]);
    for _ in 0..4 {
        press(&mut state, KeyCode::Backspace);
    }
    assert_eq!(shown(&state), [1056, 1005]);
}

#[test]
fn pasted_text_goes_into_the_filter_line() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('/'));
    update(&mut state, Message::Paste("globex\u{1b}[31m\n".into()));
    assert_eq!(state.finder.line.as_ref().unwrap().input.value(), "globex");
    assert_eq!(shown(&state), [1042, 1008]);
}

#[test]
fn my_customers_shows_only_mine_and_the_header_says_so() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('m'));
    let me = state.model.me.clone().expect("me is known");
    assert!(state.row_count() > 0);
    for row in 0..state.row_count() {
        let entry = state.entry_at_row(row).unwrap();
        assert_eq!(
            entry.owner_id.as_deref(),
            Some(me.as_str()),
            "#{}",
            entry.display_id
        );
    }
    assert!(screen(&state).contains("· My customers"));
    press(&mut state, KeyCode::Char('m'));
    assert_eq!(state.row_count(), live_demo_count());
}

#[test]
fn duplicates_only_groups_each_domain_largest_group_first() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('D'));
    let rows: Vec<&crate::domain::Entry> = (0..state.row_count())
        .map(|row| state.entry_at_row(row).unwrap())
        .collect();
    assert_eq!(
        rows.len(),
        21,
        "8 shared domains (one triple and seven pairs), then 2 likely pairs"
    );
    let (domains, likely) = rows.split_at(17);
    assert!(
        domains
            .iter()
            .all(|e| state.model.customers.badge(e).is_some())
    );
    assert_eq!(
        likely.iter().map(|e| e.display_id).collect::<Vec<_>>(),
        [1062, 1063, 1065, 1064],
        "after the domain groups, the same names by key, each in list order"
    );
    assert_eq!(
        state.group_at_row(17).as_deref(),
        Some("name/atlasbridge security")
    );
    let rows = &rows[..17];
    assert_eq!(
        rows[..3].iter().map(|e| e.display_id).collect::<Vec<_>>(),
        [1003, 1052, 1036],
        "the acme.com triple first"
    );
    // Each domain's records are adjacent: a key never comes back.
    let mut seen = Vec::new();
    for entry in rows {
        let key = entry.domain_key();
        if seen.last() != Some(&key) {
            assert!(!seen.contains(&key), "{key:?} split");
            seen.push(key);
        }
    }
    insta::assert_snapshot!("duplicates_only_at_80x24", screen(&state));
}

#[test]
fn filters_combine_and_the_header_names_each() {
    let mut state = demo_app(120, 30);
    press(&mut state, KeyCode::Char('m'));
    press(&mut state, KeyCode::Char('D'));
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "acme");
    press(&mut state, KeyCode::Enter);
    assert_eq!(shown(&state), [1003], "mine, duplicated and matching acme");
    assert!(
        screen(&state)
            .contains("1 of 63 · My customers · duplicates only · 1 group · 0 done · filter: acme"),
        "{}",
        screen(&state)
    );
}

#[test]
fn s_cycles_the_sort_and_keeps_the_selected_customer_selected() {
    let mut state = demo_app(120, 30);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "#1042");
    press(&mut state, KeyCode::Enter);
    assert_eq!(selected_id(&state), 1042);
    press(&mut state, KeyCode::Char('s'));
    assert_eq!(state.model.customers.sort().column, SortColumn::DisplayId);
    assert_eq!(
        selected_id(&state),
        1042,
        "the selection follows the customer"
    );
    assert_eq!(state.entry_at_row(0).unwrap().display_id, 1001);
    assert!(screen(&state).contains("sort: #id ↑"));
    assert!(
        screen(&state).contains("# ↑"),
        "the column header shows it too"
    );
    press(&mut state, KeyCode::Char('S'));
    assert_eq!(state.entry_at_row(0).unwrap().display_id, 1065);
    assert_eq!(selected_id(&state), 1042);
    assert!(screen(&state).contains("sort: #id ↓"));
    for _ in 0..6 {
        press(&mut state, KeyCode::Char('s'));
    }
    assert_eq!(
        state.model.customers.sort().column,
        SortColumn::Name,
        "round trip"
    );
}

#[test]
fn the_view_is_saved_when_it_changes_and_only_then() {
    let saves = |commands: Vec<Command>| {
        commands
            .into_iter()
            .filter(|c| matches!(c, Command::SaveView(_)))
            .count()
    };
    // Starting with the default view writes no settings file.
    let mut state = State::new(Theme::colored(), NOW, (80, 24));
    let loaded = cache_loaded(demo_customers(), Some(NOW));
    assert_eq!(
        saves(update(&mut state, loaded)),
        0,
        "starting saves nothing"
    );
    assert_eq!(
        saves(press(&mut state, KeyCode::Char('j'))),
        0,
        "moving saves nothing"
    );
    assert_eq!(saves(press(&mut state, KeyCode::Char('s'))), 1);
    assert_eq!(saves(press(&mut state, KeyCode::Char('m'))), 1);
    assert_eq!(saves(press(&mut state, KeyCode::Char('k'))), 0);
}

#[test]
fn sorting_is_stable_ties_stay_in_name_order_either_way() {
    let mut state = demo_app(120, 30);
    while state.model.customers.sort().column != SortColumn::Source {
        press(&mut state, KeyCode::Char('s'));
    }
    for reversed in [false, true] {
        let rows: Vec<(String, String)> = (0..state.row_count())
            .map(|row| state.entry_at_row(row).unwrap())
            .map(|e| (e.source.to_string(), e.name.to_lowercase()))
            .collect();
        for pair in rows.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.0 == b.0 {
                assert!(a.1 <= b.1, "ties keep name order: {a:?} {b:?}");
            } else {
                assert_eq!(a.0 > b.0, reversed, "{a:?} {b:?}");
            }
        }
        press(&mut state, KeyCode::Char('S'));
        assert_eq!(state.model.customers.sort().reversed, !reversed);
    }
}

#[test]
fn a_sync_page_under_a_filter_updates_the_matches() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "zephyr");
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.row_count(), 0);
    update(
        &mut state,
        page_of(vec![customer(2001, "Zephyr Analytics", Some("zephyr.io"))]),
    );
    assert_eq!(shown(&state), [2001]);
    assert!(screen(&state).contains("1 of 64"));
}

#[test]
fn the_engines_search_index_is_taken_only_when_built_with_the_names_the_app_shows() {
    use std::sync::Arc;

    use crate::domain::SearchIndex;
    use crate::sync::{BuiltIndex, owner_names};

    let users = team::members();
    let me = users.first().cloned();
    let owner = users[1].clone();
    let owned = demo_customers()
        .iter()
        .filter(|c| !c.archived && c.owner_id.as_deref() == Some(owner.id.as_str()))
        .count();
    assert!(owned > 0, "the demo gives {} customers", owner.name);
    let shown_names = owner_names(me.iter().chain(&users));
    let mut stale_names = shown_names.clone();
    for name in stale_names.values_mut() {
        *name = "Somebody Else".to_owned();
    }
    for (owners, taken) in [(shown_names, true), (stale_names, false)] {
        let set = set_of(demo_customers());
        let index = SearchIndex::build(&set, |id| owners.get(id).map(String::as_str));
        let mut state = State::new(Theme::colored(), NOW, (120, 40));
        update(
            &mut state,
            Message::Sync(SyncEvent::CacheLoaded {
                customers: Box::new(set),
                index: Some(Arc::new(BuiltIndex { index, owners })),
                users: users.clone(),
                me: me.clone(),
                last_synced: None,
                pending: Vec::new(),
                merges: Vec::new(),
            }),
        );
        assert_eq!(state.finder.index.is_some(), taken, "taken: {taken}");
        press(&mut state, KeyCode::Char('/'));
        type_text(&mut state, &owner.name.to_lowercase());
        assert_eq!(
            state.row_count(),
            owned,
            "a search by {} finds their customers (index taken: {taken})",
            owner.name
        );
    }
}

#[test]
fn a_sync_run_that_fetches_the_same_team_keeps_the_search_index_and_a_renamed_owner_is_found() {
    let mut state = demo_app(120, 40);
    press(&mut state, KeyCode::Char('/'));
    let team = state.model.team_version;
    let users = team::members();
    let users_again = |users: Vec<crate::api::User>| {
        let me = users[0].clone();
        Message::Sync(SyncEvent::Users { users, me })
    };
    update(&mut state, users_again(users.clone()));
    assert_eq!(
        state.model.team_version, team,
        "the same team again changes nothing (no re-index)"
    );

    let mut renamed = users;
    renamed[1].name = "Quillon Vance".to_owned();
    let id = renamed[1].id.clone();
    update(&mut state, users_again(renamed));
    assert_eq!(state.model.team_version, team + 1);
    type_text(&mut state, "quillon");
    let owned = state
        .model
        .customers
        .iter_ordered()
        .filter(|e| e.owner_id.as_deref() == Some(id.as_str()))
        .count();
    assert!(owned > 0);
    assert_eq!(state.row_count(), owned, "found by the new name");
}
