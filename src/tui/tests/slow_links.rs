//! Slow links: the app's real frames go through the scrolling layer
//! ([`crate::tui::scrolling`]) to a VT emulator, which must always show
//! exactly what the app drew, whatever the user does, and a list moving by
//! rows must cost little.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

use super::*;
use crate::test_rng::Rng;
use crate::tui::scrolling::tests::Emulated;

/// The demo account (wide characters included) and enough more customers
/// that the list scrolls a long way.
fn many_customers() -> Vec<Customer> {
    let mut customers = demo_customers();
    let names = [
        "Harbor",
        "Granite",
        "株式会社 ミ",
        "Bücher",
        "Zephyr",
        "Oak",
    ];
    customers.extend((0..240).map(|i| {
        let name = format!("{} {i:03}", names[i % names.len()]);
        let domain = format!("d{}.com", i % 97);
        customer(2000 + i as u64, &name, Some(&domain))
    }));
    customers
}

/// What a user may do next: keys (plain and with Ctrl), or a resize.
enum Action {
    Key(KeyCode, KeyModifiers),
    Resize(u16, u16),
}

fn next_action(rng: &mut Rng) -> Action {
    const KEYS: &[KeyCode] = &[
        KeyCode::Char('j'),
        KeyCode::Char('j'),
        KeyCode::Char('j'),
        KeyCode::Char('k'),
        KeyCode::Down,
        KeyCode::Up,
        KeyCode::PageDown,
        KeyCode::PageUp,
        KeyCode::Char('g'),
        KeyCode::Char('G'),
        KeyCode::Home,
        KeyCode::End,
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Char('/'),
        KeyCode::Char('a'),
        KeyCode::Char('r'),
        KeyCode::Char('e'),
        KeyCode::Backspace,
        KeyCode::Char('D'),
        KeyCode::Char('m'),
        KeyCode::Char('s'),
        KeyCode::Char('S'),
        KeyCode::Char('c'),
        KeyCode::Char('?'),
        KeyCode::Char(']'),
        KeyCode::Char('['),
        KeyCode::Char('J'),
        KeyCode::Char('K'),
        KeyCode::Char('n'),
        KeyCode::Tab,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Char('u'),
    ];
    const SIZES: &[(u16, u16)] = &[(120, 40), (80, 24), (60, 20), (100, 30), (140, 45)];
    match rng.below(40) {
        0 => {
            let (width, height) = *rng.pick(SIZES);
            Action::Resize(width, height)
        }
        1 | 2 => Action::Key(
            *rng.pick(&[KeyCode::Char('d'), KeyCode::Char('u')]),
            KeyModifiers::CONTROL,
        ),
        _ => Action::Key(*rng.pick(KEYS), KeyModifiers::NONE),
    }
}

#[test]
fn the_emulated_screen_always_shows_what_the_app_drew() {
    let customers = many_customers();
    for seed in 1..=12_u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let theme = if seed % 3 == 0 {
            Theme::mono()
        } else {
            Theme::colored()
        };
        let mut state = app(theme, (120, 40), customers.clone());
        let mut screen = Emulated::new(120, 40);
        screen.draw(|frame| crate::tui::render(&state, frame));
        for _ in 0..100 {
            match next_action(&mut rng) {
                Action::Resize(width, height) => {
                    screen.resize(width, height);
                    update(&mut state, Message::Resize { width, height });
                }
                Action::Key(code, modifiers) => {
                    update(&mut state, Message::Key(KeyEvent::new(code, modifiers)));
                }
            }
            if state.quitting {
                break;
            }
            if state.take_dirty() {
                // Panics, naming the cell, if the screen is not the frame.
                screen.draw(|frame| crate::tui::render(&state, frame));
            }
        }
    }
}

/// Counts the bytes written to it.
#[derive(Clone, Default)]
struct Count(std::rc::Rc<std::cell::Cell<usize>>);

impl std::io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.set(self.0.get() + buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// ratatui's own diff over crossterm, as the app wrote before issue 15.
fn plain_ratatui(count: Count) -> Terminal<ratatui::backend::CrosstermBackend<Count>> {
    let viewport = ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 120, 40));
    let backend = ratatui::backend::CrosstermBackend::new(count);
    Terminal::with_options(backend, ratatui::TerminalOptions { viewport }).expect("in memory")
}

#[test]
fn scrolling_the_list_a_row_writes_about_a_row_and_a_page_about_a_page() {
    let mut state = app(Theme::colored(), (120, 40), many_customers());
    let mut screen = Emulated::new(120, 40);
    let count = Count::default();
    let mut plain = plain_ratatui(count.clone());
    let mut draw = |state: &State| {
        plain
            .draw(|frame| crate::tui::render(state, frame))
            .expect("draws");
        let before = count.0.replace(0);
        (
            before,
            screen.draw(|frame| crate::tui::render(state, frame)),
        )
    };
    draw(&state);
    let mut per_key = Vec::new();
    for _ in 0..80 {
        press(&mut state, KeyCode::Char('j'));
        per_key.push(draw(&state));
    }
    // Once the list scrolls, a row comes into view and the bar moves; a
    // longer value coming into view widens its column, which moves text
    // sideways and costs a rewrite of the list.
    let mut scrolling: Vec<usize> = per_key[40..].iter().map(|&(_, after)| after).collect();
    scrolling.sort_unstable();
    assert!(scrolling[scrolling.len() / 2] <= 400, "{scrolling:?}");
    assert!(scrolling[scrolling.len() * 3 / 4] <= 1024, "{scrolling:?}");
    assert!(per_key[40..].iter().all(|&(before, after)| after <= before));
    press(&mut state, KeyCode::PageDown);
    let (before, page) = draw(&state);
    assert!(page * 5 < before * 4, "a page: {page} B, before {before} B");
}
