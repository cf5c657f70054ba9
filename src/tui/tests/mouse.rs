//! The mouse through the real event handling: `update` with
//! `Message::Mouse`, on screens drawn as the user sees them, so a click is
//! found where its row or header is drawn.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use super::*;
use crate::domain::SortColumn;
use crate::tui::mode::Mode;

fn mouse(state: &mut State, kind: MouseEventKind, (column, row): (u16, u16)) -> Vec<Command> {
    update(
        state,
        Message::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }),
    )
}

fn click(state: &mut State, at: (u16, u16)) -> Vec<Command> {
    mouse(state, MouseEventKind::Down(MouseButton::Left), at)
}

/// Where `text` starts on screen: (column, line).
fn find(state: &State, text: &str) -> (u16, u16) {
    let shown = screen(state);
    shown
        .lines()
        .enumerate()
        .find_map(|(y, line)| {
            let x = line.find(text)?;
            let column = line[..x].chars().count();
            Some((u16::try_from(column).ok()?, u16::try_from(y).ok()?))
        })
        .unwrap_or_else(|| panic!("{text:?} on screen:\n{shown}"))
}

fn selected_id(state: &State) -> u64 {
    state.selected_entry().map_or(0, |e| e.display_id)
}

fn later(state: &mut State, millis: u64) {
    let now = state.now + Duration::from_millis(millis);
    update(state, Message::Tick(now));
}

#[test]
fn the_wheel_moves_through_the_list() {
    let mut state = demo_app(80, 24);
    mouse(&mut state, MouseEventKind::ScrollDown, (10, 8));
    assert_eq!(state.selected, 3);
    mouse(&mut state, MouseEventKind::ScrollUp, (10, 8));
    assert_eq!(state.selected, 0);
}

#[test]
fn a_click_selects_the_row_under_it_and_a_second_soon_after_opens_it() {
    let mut state = demo_app(80, 24);
    let at = find(&state, "#1061");
    assert!(click(&mut state, at).is_empty());
    assert_eq!(selected_id(&state), 1061);
    assert!(!state.modes.detail_open(), "one click only selects");

    later(&mut state, 250);
    let commands = click(&mut state, at);
    assert!(
        state.modes.detail_open(),
        "a double click opens the details"
    );
    assert!(
        matches!(commands[..], [Command::Sync(SyncCommand::LoadHistory(_))]),
        "and asks for the history: {commands:?}"
    );
    assert!(screen(&state).contains("Beacon Analytics"));
}

#[test]
fn clicks_far_apart_or_on_two_rows_are_two_single_clicks() {
    let mut state = demo_app(80, 24);
    let first = find(&state, "#1061");
    click(&mut state, first);
    later(&mut state, 600);
    click(&mut state, first);
    assert!(!state.modes.detail_open(), "too slow for a double click");

    let second = find(&state, "#1007");
    later(&mut state, 600);
    click(&mut state, first);
    later(&mut state, 100);
    click(&mut state, second);
    assert!(
        !state.modes.detail_open(),
        "two rows are not a double click"
    );
    assert_eq!(selected_id(&state), 1007);
}

#[test]
fn a_click_on_a_column_header_sorts_by_it_and_again_reverses() {
    let mut state = demo_app(80, 24);
    let domain = find(&state, "Domain");
    click(&mut state, domain);
    let sort = state.model.customers.sort();
    assert_eq!((sort.column, sort.reversed), (SortColumn::Domain, false));
    assert!(screen(&state).contains("Domain ↑"));

    click(&mut state, domain);
    let sort = state.model.customers.sort();
    assert_eq!((sort.column, sort.reversed), (SortColumn::Domain, true));

    let owner = find(&state, "Owner");
    click(&mut state, owner);
    let sort = state.model.customers.sort();
    assert_eq!((sort.column, sort.reversed), (SortColumn::Owner, false));
    assert_eq!(state.model.view_settings.sort.as_deref(), Some("owner"));
}

#[test]
fn every_header_the_list_draws_is_where_a_click_finds_it_at_every_width() {
    for width in [60, 80, 120, 200] {
        let mut state = demo_app(width, 24);
        for (title, column) in [
            ("#", SortColumn::DisplayId),
            ("Name", SortColumn::Name),
            ("Domain", SortColumn::Domain),
            ("Owner", SortColumn::Owner),
            ("Plan", SortColumn::Plan),
            ("Source", SortColumn::Source),
            ("Updated", SortColumn::Updated),
        ] {
            let header = screen(&state).lines().nth(1).unwrap_or_default().to_owned();
            let Some(x) = header.find(title) else {
                continue;
            };
            let x = u16::try_from(header[..x].chars().count()).unwrap_or(0);
            click(&mut state, (x, 1));
            assert_eq!(
                state.model.customers.sort().column,
                column,
                "{width}: {title}"
            );
            // Its last column too, where it is drawn now: the new order
            // puts other rows on screen, whose widths may move the columns.
            let header = screen(&state).lines().nth(1).unwrap_or_default().to_owned();
            let Some(x) = header.find(title) else {
                continue;
            };
            let x = u16::try_from(header[..x].chars().count()).unwrap_or(0);
            let last = x + u16::try_from(title.len()).unwrap_or(1) - 1;
            later(&mut state, 1000);
            click(&mut state, (last, 1));
            assert_eq!(
                state.model.customers.sort().column,
                column,
                "{width}: the end of {title}"
            );
        }
    }
}

#[test]
fn the_wheel_scrolls_the_details_under_it_and_the_list_beside_them() {
    let mut state = demo_app(120, 24);
    press(&mut state, KeyCode::Enter);
    assert!(state.modes.detail_open());
    // The details are the right 45%.
    mouse(&mut state, MouseEventKind::ScrollDown, (100, 10));
    assert_eq!(state.modes.detail_scroll(), 3);
    assert_eq!(state.selected, 0, "the list stays");
    mouse(&mut state, MouseEventKind::ScrollDown, (10, 10));
    assert_eq!(state.selected, 3, "the list beside them moves");
    assert_eq!(
        state.modes.detail_scroll(),
        0,
        "new details start at the top"
    );

    // On a narrow screen the details cover the list: they scroll.
    let mut narrow = demo_app(80, 24);
    press(&mut narrow, KeyCode::Enter);
    mouse(&mut narrow, MouseEventKind::ScrollDown, (10, 10));
    assert_eq!(narrow.modes.detail_scroll(), 3);
    assert_eq!(narrow.selected, 0);
}

#[test]
fn the_wheel_scrolls_compare_and_help() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('c'));
    mouse(&mut state, MouseEventKind::ScrollDown, (10, 10));
    assert_eq!(
        state.modes.compare().map(|c| c.cursor),
        Some(3),
        "the field cursor"
    );
    mouse(&mut state, MouseEventKind::ScrollUp, (10, 0));
    assert_eq!(
        state.modes.compare().map(|c| c.cursor),
        Some(0),
        "over the title, the screen showing scrolls"
    );

    let mut help = demo_app(80, 24);
    press(&mut help, KeyCode::Char('?'));
    mouse(&mut help, MouseEventKind::ScrollDown, (40, 12));
    assert_eq!(help.modes.help_scroll(), Some(3));
    click(&mut help, (10, 5));
    assert!(help.modes.help_open(), "a click does not reach the list");
    assert_eq!(help.selected, 0);
}

/// The index in compare of the record numbered `display_id`.
fn compared_index(state: &State, display_id: u64) -> usize {
    crate::tui::triage::compared(state)
        .iter()
        .position(|e| e.display_id == display_id)
        .unwrap_or_else(|| panic!("#{display_id} compared"))
}

#[test]
fn a_click_on_a_record_in_compare_focuses_it_side_by_side_and_stacked() {
    let mut wide = demo_app(120, 40);
    press(&mut wide, KeyCode::Char('c'));
    let focus = |state: &State| state.modes.compare().map(|c| c.focus);
    let (x, y) = find(&wide, "#1036 ");
    click(&mut wide, (x + 2, y));
    assert_eq!(
        focus(&wide),
        Some(compared_index(&wide, 1036)),
        "its heading"
    );
    let (x, y) = find(&wide, "#1052 ");
    click(&mut wide, (x + 1, y + 4));
    assert_eq!(
        focus(&wide),
        Some(compared_index(&wide, 1052)),
        "a value in its column"
    );
    let (x, y) = find(&wide, "Plan");
    click(&mut wide, (x, y));
    assert_eq!(
        focus(&wide),
        Some(compared_index(&wide, 1052)),
        "a label is no record"
    );

    let mut narrow = demo_app(80, 24);
    press(&mut narrow, KeyCode::Char('c'));
    let (x, y) = find(&narrow, "#1052 ");
    click(&mut narrow, (x + 1, y));
    assert_eq!(
        focus(&narrow),
        Some(compared_index(&narrow, 1052)),
        "its name above the stacked table:\n{}",
        screen(&narrow)
    );
    assert!(
        screen(&narrow).contains("#1052"),
        "the stacked table shows it"
    );
}

#[test]
fn while_a_form_is_open_the_list_behind_it_takes_no_clicks() {
    let mut state = demo_app(120, 24);
    press(&mut state, KeyCode::Char('n'));
    let at = find(&state, "#1061");
    click(&mut state, at);
    later(&mut state, 100);
    click(&mut state, at);
    assert_eq!(selected_id(&state), 1003);
    assert!(matches!(state.modes.top(), Some(Mode::Form(_))));
    mouse(&mut state, MouseEventKind::ScrollDown, at);
    assert_eq!(selected_id(&state), 1003);
}
