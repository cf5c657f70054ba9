//! Likely duplicates by name through the real key handling: the marker
//! beside the name, the likely groups after the domain groups in `D`,
//! compare, merge and undo on one, and dismissing one under its own
//! namespace.

use crossterm::event::KeyCode;

use super::*;

const ATLAS: &str = "name/atlasbridge security";

/// `D`, then `]` until the selection is in the Atlasbridge group.
fn at_atlasbridge(width: u16, height: u16) -> State {
    let mut state = demo_app(width, height);
    press(&mut state, KeyCode::Char('D'));
    for _ in 0..20 {
        if state.selected_group().as_deref() == Some(ATLAS) {
            return state;
        }
        press(&mut state, KeyCode::Char(']'));
    }
    panic!("no Atlasbridge group in D:\n{}", screen(&state));
}

fn marker_of(state: &State, display_id: u64) -> Option<usize> {
    let entry = state
        .model
        .customers
        .iter_ordered()
        .find(|e| e.display_id == display_id)?;
    state.model.customers.likely_badge(entry)
}

#[test]
fn d_lists_the_likely_groups_after_the_domain_groups_under_their_own_headers() {
    let mut state = at_atlasbridge(80, 24);
    let shown = screen(&state);
    assert!(
        shown.contains("Atlasbridge Security · 2 records · same name"),
        "{shown}"
    );
    assert!(shown.contains("#1062 Atlasbridge Secu… ≈2"), "{shown}");
    assert!(
        shown.contains("duplicates only · 10 groups · 0 done"),
        "{shown}"
    );
    // `]` from the last domain group lands here, and on to Cedargrid.
    press(&mut state, KeyCode::Char(']'));
    assert_eq!(
        state.selected_group().as_deref(),
        Some("name/cedargrid foods")
    );
    press(&mut state, KeyCode::Char('['));
    assert_eq!(state.selected_group().as_deref(), Some(ATLAS));
    press(&mut state, KeyCode::Char('j'));
    assert_eq!(state.selected_entry().map(|e| e.display_id), Some(1063));
    insta::assert_snapshot!("likely_groups_in_d_at_80x24", screen(&state));
}

#[test]
fn compare_merges_a_likely_group_then_opens_the_next_and_u_undoes_it() {
    let mut state = at_atlasbridge(120, 40);
    press(&mut state, KeyCode::Char('c'));
    assert_eq!(state.modes.compare().map(|c| c.key.as_str()), Some(ATLAS));
    let shown = screen(&state);
    assert!(
        shown.contains("Atlasbridge Security · same name · 2 records · group 9 of 10"),
        "{shown}"
    );
    assert!(shown.contains("keep #1062"), "{shown}");

    press(&mut state, KeyCode::Char('M'));
    let shown = screen(&state);
    assert!(
        shown.contains("Merge into #1062 Atlasbridge Security:")
            && shown.contains("archive #1063?"),
        "{shown}"
    );
    let commands = press(&mut state, KeyCode::Char('y'));
    let unit = commands
        .iter()
        .find_map(|c| match c {
            Command::Sync(SyncCommand::SubmitUnit(unit)) => Some(unit.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a merge unit: {commands:?}"));
    let ops: Vec<&OutboxOp> = unit.items.iter().map(|(_, op)| op).collect();
    assert!(
        matches!(ops[..], [OutboxOp::Update { .. }, OutboxOp::Archive { .. }]),
        "the keeper's edit, then the archive: {ops:?}"
    );
    assert_eq!(marker_of(&state, 1062), None, "one record left: no marker");
    assert_eq!(marker_of(&state, 1063), None, "archived");
    assert_eq!(
        state.modes.compare().map(|c| c.key.as_str()),
        Some("name/cedargrid foods"),
        "the next group opens by itself"
    );

    press(&mut state, KeyCode::Char('u'));
    assert_eq!(marker_of(&state, 1062), Some(2), "both records back");
    assert_eq!(marker_of(&state, 1063), Some(2));
}

#[test]
fn x_dismisses_a_likely_group_under_its_name_key_and_a_new_member_brings_it_back() {
    let mut state = at_atlasbridge(120, 40);
    let commands = press(&mut state, KeyCode::Char('x'));
    assert!(
        commands.iter().any(|c| matches!(
            c,
            Command::Sync(SyncCommand::Dismiss(group)) if group.key == ATLAS && group.members.len() == 2
        )),
        "{commands:?}"
    );
    assert!(!in_rows(&state, 1062), "out of D");
    assert_eq!(marker_of(&state, 1062), Some(2), "the marker stays, dimmed");
    assert!(
        screen(&state).contains("Atlasbridge Security: not a duplicate"),
        "{}",
        screen(&state)
    );
    let commands = press(&mut state, KeyCode::Char('u'));
    assert!(commands.contains(&Command::Sync(SyncCommand::Undismiss(ATLAS.into()))));
    assert!(in_rows(&state, 1062), "back in D");

    press(&mut state, KeyCode::Char('x'));
    let newcomer = customer(1099, "Atlasbridge Security Inc", Some("atlasbridge.net"));
    update(&mut state, page_of(vec![newcomer]));
    assert!(
        in_rows(&state, 1062) && in_rows(&state, 1099),
        "it has a new member"
    );
    assert_eq!(marker_of(&state, 1099), Some(3));
}
