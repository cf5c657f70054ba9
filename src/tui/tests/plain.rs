//! Plain terminals: the screens as the Linux console draws them (ASCII,
//! the 16 base colours), at 80×24. Each snapshot is the text, then every
//! style drawn with the first text drawn in it. Whatever the app draws
//! itself is ASCII; customer data is shown as it is.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Style};

use super::*;

/// `TERM=linux`: ASCII and the 16 base colours.
fn console() -> Theme {
    Theme::colored().sixteen_colours().ascii()
}

fn buffer(state: &State) -> Buffer {
    let backend = TestBackend::new(state.width, state.height);
    let mut terminal = Terminal::new(backend).expect("test terminal");
    terminal
        .draw(|frame| crate::tui::render(state, frame))
        .expect("draws");
    terminal.backend().buffer().clone()
}

/// One style drawn, with the first run of text drawn in it.
struct Drawn {
    style: Style,
    sample: String,
    /// Still taking text: its first run that is not blank has not ended.
    open: bool,
}

/// Ends the run of `style`: its sample is kept once it has text.
fn close(styles: &mut [Drawn], style: Option<Style>) {
    if let Some(drawn) = styles.iter_mut().find(|d| Some(d.style) == style) {
        if drawn.sample.trim().is_empty() {
            drawn.sample.clear();
        } else {
            drawn.open = false;
        }
    }
}

/// The screen's text, then each style drawn (in order of first use) with
/// the first run of text drawn in it.
fn rendering(state: &State) -> String {
    let buffer = buffer(state);
    let mut styles: Vec<Drawn> = Vec::new();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        let mut previous = None;
        for x in 0..buffer.area.width {
            let cell = &buffer[(x, y)];
            text.push_str(cell.symbol());
            let style = cell.style();
            if previous != Some(style) {
                close(&mut styles, previous);
                previous = Some(style);
            }
            if !styles.iter().any(|d| d.style == style) {
                styles.push(Drawn {
                    style,
                    sample: String::new(),
                    open: true,
                });
            }
            if let Some(drawn) = styles.iter_mut().find(|d| d.style == style && d.open)
                && drawn.sample.chars().count() < 32
            {
                drawn.sample.push_str(cell.symbol());
            }
        }
        close(&mut styles, previous);
        text.push('\n');
    }
    text.push_str("\nstyles:\n");
    for Drawn { style, sample, .. } in styles {
        let fg = style.fg.map_or("-".to_owned(), |c| format!("{c:?}"));
        let bg = style.bg.map_or("-".to_owned(), |c| format!("{c:?}"));
        let mods = style.add_modifier;
        text.push_str(&format!(
            "fg {fg:<12} bg {bg:<7} {mods:<20?} {:?}\n",
            sample.trim()
        ));
    }
    text
}

/// Every character on screen is ASCII, and every colour one of the 16.
fn assert_plain(buffer: &Buffer, what: &str) {
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            let cell = &buffer[(x, y)];
            assert!(
                cell.symbol().is_ascii(),
                "{what}: {:?} at {x},{y} is not ASCII",
                cell.symbol()
            );
            for colour in [cell.fg, cell.bg] {
                assert!(
                    !matches!(colour, Color::Indexed(_) | Color::Rgb(..)),
                    "{what}: {colour:?} at {x},{y} is not one of the 16"
                );
            }
        }
    }
}

/// The demo customers with every character of their data made ASCII, so
/// that anything else on screen is the app's own.
fn ascii_customers() -> Vec<Customer> {
    let json: String = crate::server::DEMO_CUSTOMERS
        .chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect();
    serde_json::from_str(&json).expect("the demo data still parses")
}

/// The four screens the issue names, on `customers`.
fn screens(customers: fn() -> Vec<Customer>) -> Vec<(&'static str, State)> {
    let list = app(console(), (80, 24), customers());

    let mut compare = app(console(), (80, 24), customers());
    press(&mut compare, KeyCode::Char('c'));
    one_note_each(&mut compare);

    let mut help = app(console(), (80, 24), customers());
    press(&mut help, KeyCode::Char('?'));

    let mut form = app(console(), (80, 24), customers());
    press(&mut form, KeyCode::Char('n'));
    type_text(&mut form, "Acme Holdings");
    press(&mut form, KeyCode::Tab);
    type_text(&mut form, "www.acme.com");
    press(&mut form, KeyCode::Tab);
    press(&mut form, KeyCode::Tab);
    type_text(&mut form, "Gr");
    vec![
        ("list", list),
        ("compare", compare),
        ("help", help),
        ("form", form),
    ]
}

#[test]
fn on_the_linux_console_everything_the_app_draws_is_ascii_in_16_colours() {
    for (name, state) in screens(ascii_customers) {
        assert_plain(&buffer(&state), name);
    }
    // The queue of duplicates (its title counts groups), the same-name
    // groups at its end, and the archived customers.
    let mut queue = app(console(), (80, 24), ascii_customers());
    press(&mut queue, KeyCode::Char('D'));
    assert_plain(&buffer(&queue), "duplicates only");
    press(&mut queue, KeyCode::Char('G'));
    assert_plain(&buffer(&queue), "the same-name groups");
    let mut archived = app(console(), (80, 24), ascii_customers());
    press(&mut archived, KeyCode::Char('A'));
    assert_plain(&buffer(&archived), "archived");
}

#[test]
fn the_spinner_and_the_status_line_are_ascii_too() {
    let mut state = app(console(), (80, 24), ascii_customers());
    update(
        &mut state,
        Message::Sync(SyncEvent::Started {
            generation: 1,
            full: true,
        }),
    );
    for step in 0..8 {
        let now = NOW + Duration::from_millis(125 * step);
        update(&mut state, Message::Tick(now));
        assert_plain(&buffer(&state), "syncing");
    }
    update(
        &mut state,
        Message::Sync(SyncEvent::Failed {
            generation: 1,
            reason: "connection refused".into(),
            retry_in: Duration::from_secs(8),
        }),
    );
    let shown = screen(&state);
    assert!(shown.contains("offline - retrying in 8s"), "{shown}");
    assert_plain(&buffer(&state), "offline");
}

#[test]
fn customer_data_is_shown_as_it_is() {
    let state = app(console(), (80, 24), demo_customers());
    let shown = screen(&state);
    assert!(shown.contains("Bücher.de"), "{shown}");
    let brightline = shown
        .lines()
        .find(|line| line.contains("Brightline Dental Group —"))
        .unwrap_or_else(|| panic!("the name as it is, cut:\n{shown}"));
    assert!(brightline.contains("..."), "{brightline}");
}

#[test]
fn the_list_on_the_linux_console_at_80x24() {
    let state = app(console(), (80, 24), demo_customers());
    insta::assert_snapshot!(rendering(&state));
}

#[test]
fn compare_on_the_linux_console_at_80x24() {
    let (_, state) = screens(demo_customers).swap_remove(1);
    insta::assert_snapshot!(rendering(&state));
}

#[test]
fn help_on_the_linux_console_at_80x24() {
    let (_, state) = screens(demo_customers).swap_remove(2);
    insta::assert_snapshot!(rendering(&state));
}

#[test]
fn the_form_on_the_linux_console_at_80x24() {
    let (_, state) = screens(demo_customers).swap_remove(3);
    insta::assert_snapshot!(rendering(&state));
}

#[test]
fn the_light_theme_in_16_colours_at_80x24() {
    let theme = Theme::choose(crate::settings::ThemeChoice::Light).sixteen_colours();
    let mut state = app(theme, (80, 24), demo_customers());
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "acme");
    insta::assert_snapshot!(rendering(&state));
}
