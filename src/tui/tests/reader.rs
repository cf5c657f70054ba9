//! The screen-reader mode: the terminal cursor sits on what has focus (the
//! selected row, the focused record in compare, the form's field, the
//! filter line), meaning is in words, and nothing animates.

use ratatui::layout::Position;

use super::*;

fn reader_app(width: u16, height: u16) -> State {
    app(
        Theme::colored().for_screen_reader(),
        (width, height),
        demo_customers(),
    )
}

/// The screen's text and where the cursor shows (`None`: hidden).
fn drawn(state: &State) -> (String, Option<Position>) {
    let backend = TestBackend::new(state.width, state.height);
    let mut terminal = Terminal::new(backend).expect("test terminal");
    terminal
        .draw(|frame| crate::tui::render(state, frame))
        .expect("draws");
    let backend = terminal.backend();
    let cursor = backend.cursor_visible().then(|| backend.cursor_position());
    let buffer = backend.buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    (text, cursor)
}

/// The line of the screen the cursor is on, from its column.
fn at_cursor(state: &State) -> String {
    let (text, cursor) = drawn(state);
    let Some(cursor) = cursor else {
        panic!("no cursor on\n{text}");
    };
    let line = text.lines().nth(usize::from(cursor.y)).unwrap_or_default();
    line.chars().skip(usize::from(cursor.x)).collect()
}

#[test]
fn the_cursor_sits_at_the_start_of_the_selected_row_as_it_moves() {
    let mut state = reader_app(80, 24);
    assert_eq!(drawn(&state).1, Some(Position::new(0, 2)));
    // The selected row says so in text too (`>` for `#`), not only in colour.
    assert!(at_cursor(&state).starts_with(">1003 Acme Co"));
    press(&mut state, KeyCode::Char('j'));
    press(&mut state, KeyCode::Char('j'));
    assert!(at_cursor(&state).starts_with(">1036 Acme Corporation"));
    let text = drawn(&state).0;
    assert!(
        text.contains("#1003 Acme Co"),
        "the others keep `#`: {text}"
    );
    press(&mut state, KeyCode::Char('G'));
    let (_, cursor) = drawn(&state);
    assert_eq!(cursor, Some(Position::new(0, 21)), "the last row on screen");

    let plain = demo_app(80, 24);
    assert_eq!(
        drawn(&plain).1,
        None,
        "without the mode the cursor is hidden"
    );
}

#[test]
fn the_cursor_follows_the_filter_line_the_form_and_compare() {
    let mut filter = reader_app(80, 24);
    press(&mut filter, KeyCode::Char('/'));
    type_text(&mut filter, "acme");
    assert_eq!(
        drawn(&filter).1,
        Some(Position::new(5, 23)),
        "after `/acme`"
    );

    let mut form = reader_app(80, 24);
    press(&mut form, KeyCode::Char('n'));
    type_text(&mut form, "Zep");
    let (text, cursor) = drawn(&form);
    let cursor = cursor.expect("a cursor in the form");
    let line = text.lines().nth(usize::from(cursor.y)).unwrap_or_default();
    assert!(line.contains("Zep"), "{line}");

    let mut compare = reader_app(80, 24);
    press(&mut compare, KeyCode::Char('c'));
    // The suggested keeper is marked ✓.
    let here = at_cursor(&compare);
    assert!(here.starts_with("▸ ✓ #1003 Acme Co"), "{here}");
    press(&mut compare, KeyCode::Right);
    let here = at_cursor(&compare);
    assert!(here.starts_with("▸ #1036 Acme Corporation"), "{here}");

    let mut wide = reader_app(120, 40);
    press(&mut wide, KeyCode::Char('c'));
    press(&mut wide, KeyCode::Right);
    assert!(
        at_cursor(&wide).starts_with("#1036 Acme Corporation"),
        "side by side, on the focused record's heading"
    );
}

#[test]
fn badges_unsaved_rows_and_differences_carry_words() {
    let state = reader_app(120, 40);
    let text = drawn(&state).0;
    assert!(text.contains("acme.com (3 share this domain)"), "{text}");
    assert!(
        text.contains("#1062 Atlasbridge… (2 share this name)"),
        "{text}"
    );

    let mut compare = reader_app(120, 40);
    press(&mut compare, KeyCode::Char('c'));
    let text = drawn(&compare).0;
    assert!(text.contains("(differs)"), "{text}");

    let mut pending = reader_app(80, 24);
    press(&mut pending, KeyCode::Char('n'));
    type_text(&mut pending, "Zephyr Analytics");
    press(&mut pending, KeyCode::Enter);
    let text = drawn(&pending).0;
    assert!(
        text.lines()
            .any(|l| l.starts_with("new") && l.contains("Zephyr")),
        "{text}"
    );
}

#[test]
fn sync_progress_is_words_that_change_at_most_every_three_seconds() {
    let mut state = app(Theme::colored().for_screen_reader(), (80, 24), Vec::new());
    update(
        &mut state,
        Message::Sync(SyncEvent::Started {
            generation: 1,
            full: true,
        }),
    );
    let page = |from: u64, fetched: usize| {
        Message::Sync(SyncEvent::Page {
            generation: 1,
            customers: entries(
                (from..from + 500)
                    .map(|i| customer(i, &format!("Customer {i}"), None))
                    .collect(),
            ),
            fetched,
        })
    };
    let status = |state: &State| {
        drawn(state)
            .0
            .lines()
            .nth(22)
            .unwrap_or_default()
            .to_owned()
    };
    update(&mut state, page(1, 500));
    assert_eq!(
        status(&state).trim(),
        "syncing",
        "not a count that just began"
    );

    let mut seen = vec![status(&state)];
    for step in 1..=24 {
        update(
            &mut state,
            Message::Tick(NOW + Duration::from_millis(125 * step)),
        );
        if step == 8 {
            update(&mut state, page(501, 1000));
        }
        seen.push(status(&state));
    }
    seen.dedup();
    assert_eq!(seen.len(), 2, "one change in three seconds: {seen:?}");
    assert!(
        seen[1].starts_with("syncing, 1,000 customers so far"),
        "{seen:?}"
    );
    for line in &seen {
        assert!(
            !crate::tui::theme::UNICODE
                .spinner
                .iter()
                .any(|f| line.contains(f)),
            "no spinner: {line}"
        );
    }
    assert_eq!(
        state.next_wakeup(),
        Some(crate::tui::state::SPOKEN_PROGRESS_EVERY),
        "no 125 ms frames"
    );
}

#[test]
fn help_lists_one_key_per_line() {
    let mut state = reader_app(80, 40);
    press(&mut state, KeyCode::Char('?'));
    let text = drawn(&state).0;
    let next: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("next customer"))
        .collect();
    assert_eq!(next.len(), 2, "j and the down arrow: {next:?}");
    assert!(!text.contains("j / "), "{text}");
    assert!(at_cursor(&state).starts_with("j "));
}
