//! Every screen measured cell by cell, as a person in a standard xterm
//! sees it: each drawn character must stand out 4.5:1 from its background
//! (WCAG AA for text), in the dark and light themes and without colour.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use super::*;
use crate::tui::theme::contrast::{self, DARK_SCREEN, LIGHT_SCREEN, Screen};

/// AA for normal text.
const MINIMUM: f64 = 4.5;

fn buffer(state: &State) -> Buffer {
    let backend = TestBackend::new(state.width, state.height);
    let mut terminal = Terminal::new(backend).expect("test terminal");
    terminal
        .draw(|frame| crate::tui::render(state, frame))
        .expect("draws");
    terminal.backend().buffer().clone()
}

/// Every drawn character below the minimum, as `x,y 'c' ratio`.
fn unreadable(buffer: &Buffer, screen: Screen) -> Vec<String> {
    let area = buffer.area;
    let mut found = Vec::new();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let cell = &buffer[(x, y)];
            if cell.symbol().trim().is_empty() {
                continue;
            }
            let (fg, bg) = contrast::shown(cell.fg, cell.bg, cell.modifier, screen);
            let ratio = contrast::ratio(fg, bg);
            if ratio < MINIMUM {
                found.push(format!("{x},{y} {:?} {ratio:.2}", cell.symbol()));
            }
        }
    }
    found
}

/// The screens the issue names, each in the given theme.
fn screens(theme: Theme) -> Vec<(&'static str, State)> {
    let mut out = Vec::new();
    let list = app(theme, (120, 40), demo_customers());
    out.push(("list with a selection and badges", list));

    let mut detail = app(theme, (120, 40), demo_customers());
    press(&mut detail, KeyCode::Enter);
    one_note_each(&mut detail);
    assert!(screen(&detail).contains("QBR held"), "the history shows");
    out.push(("details with history", detail));

    let mut compare = app(theme, (120, 40), demo_customers());
    press(&mut compare, KeyCode::Char('c'));
    one_note_each(&mut compare);
    assert!(screen(&compare).contains("records "), "compare shows");
    out.push(("compare", compare));

    let mut form = app(theme, (80, 24), demo_customers());
    press(&mut form, KeyCode::Char('n'));
    type_text(&mut form, "Acme Holdings");
    press(&mut form, KeyCode::Tab);
    type_text(&mut form, "www.acme.com");
    out.push(("form with a duplicate warning", form));

    let mut beside = app(theme, (120, 40), demo_customers());
    press(&mut beside, KeyCode::Char('n'));
    type_text(&mut beside, "Zephyr");
    out.push(("form beside the list", beside));

    let mut filter = app(theme, (120, 30), demo_customers());
    press(&mut filter, KeyCode::Char('/'));
    type_text(&mut filter, "acme");
    out.push(("filter with highlights", filter));

    let mut help = app(theme, (80, 32), demo_customers());
    press(&mut help, KeyCode::Char('?'));
    out.push(("help", help));

    let mut offline = app(theme, (80, 24), demo_customers());
    update(
        &mut offline,
        Message::Sync(SyncEvent::Started {
            generation: 1,
            full: false,
        }),
    );
    update(
        &mut offline,
        Message::Sync(SyncEvent::Failed {
            generation: 1,
            reason: "connection refused".into(),
            retry_in: Duration::from_secs(8),
        }),
    );
    out.push(("offline status", offline));
    out
}

/// Fails naming each screen with characters below the minimum, and where.
fn assert_every_screen_reads(theme: Theme, screen: Screen) {
    let mut failures = Vec::new();
    let mut total = 0;
    for (name, state) in screens(theme) {
        let bad = unreadable(&buffer(&state), screen);
        total += bad.len();
        if !bad.is_empty() {
            failures.push(format!(
                "{name}: {} characters, {}",
                bad.len(),
                bad[..bad.len().min(8)].join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{total} characters below {MINIMUM}:1 on {}:\n{}",
        screen.name,
        failures.join("\n")
    );
}

#[test]
fn every_screen_of_the_dark_theme_reads_at_4_5_to_1_on_black() {
    assert_every_screen_reads(Theme::colored(), DARK_SCREEN);
}

#[test]
fn every_screen_of_the_light_theme_reads_at_4_5_to_1_on_white() {
    assert_every_screen_reads(
        Theme::choose(crate::settings::ThemeChoice::Light),
        LIGHT_SCREEN,
    );
}

#[test]
fn every_screen_in_16_colours_reads_at_4_5_to_1_dark_on_black_and_light_on_white() {
    assert_every_screen_reads(Theme::colored().sixteen_colours(), DARK_SCREEN);
    assert_every_screen_reads(
        Theme::choose(crate::settings::ThemeChoice::Light).sixteen_colours(),
        LIGHT_SCREEN,
    );
}

#[test]
fn every_screen_without_colour_reads_on_black_and_on_white() {
    assert_every_screen_reads(Theme::mono(), DARK_SCREEN);
    assert_every_screen_reads(Theme::mono(), LIGHT_SCREEN);
}

/// Four customers, three sharing a domain, drawn with their colours: the
/// text, then each change of style (ratatui's `Buffer` debug form).
fn coloured_list(theme: Theme) -> String {
    let customers = vec![
        customer(1003, "Acme Co", Some("acme.com")),
        customer(1036, "Acme Corporation", Some("www.acme.com")),
        customer(1052, "ACME Co.", Some("Acme.com")),
        customer(1061, "Beacon Analytics", Some("beaconanalytics.sg")),
    ];
    let mut state = app(theme, (120, 7), customers);
    press(&mut state, KeyCode::Char('j'));
    format!("{:?}", buffer(&state))
}

#[test]
fn the_dark_list_draws_the_selected_row_as_one_bar_with_the_badge_a_pill() {
    insta::assert_snapshot!(coloured_list(Theme::colored()));
}

#[test]
fn the_light_list_draws_the_selected_row_as_one_bar_with_the_badge_a_pill() {
    insta::assert_snapshot!(coloured_list(Theme::choose(
        crate::settings::ThemeChoice::Light
    )));
}
