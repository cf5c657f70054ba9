//! `pivotal bench`, slow links: the bytes the app writes to the terminal
//! per action at the bench's 120×40, before (ratatui's plain diff, as the
//! app wrote until issue 15) and after (the scrolling layer,
//! [`crate::tui::scrolling`]). Each key goes through the real `update` on
//! the bench's `State`; the frame is drawn to both, each over an in-memory
//! writer that counts bytes. Counting only: no timing, no terminal.
//!
//! - a move inside the screen (`j` on the first screen);
//! - `j` once the list scrolls, and `k` back up once it scrolls the other way;
//! - `PgDn` through the list.

use std::cell::Cell;
use std::io::{self, Write};
use std::rc::Rc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use super::{HEIGHT, WIDTH};
use crate::tui::scrolling::ScrollingBackend;
use crate::tui::{Message, State, render, update};

/// `j` presses once the list scrolls, and as many `k`.
const ROWS: usize = 200;
/// `PgDn` presses.
const PAGES: usize = 20;

/// An in-memory terminal that only counts what it is sent.
#[derive(Clone, Default)]
struct Tally(Rc<Cell<usize>>);

impl Write for Tally {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.set(self.0.get() + buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Tally {
    /// The bytes counted since the last call.
    fn take(&self) -> usize {
        self.0.replace(0)
    }
}

/// The same frames drawn the way the app did before and the way it does now.
struct Screens {
    before: Terminal<CrosstermBackend<Tally>>,
    after: Terminal<ScrollingBackend<Tally>>,
    tally_before: Tally,
    tally_after: Tally,
}

impl Screens {
    fn new() -> anyhow::Result<Screens> {
        let (tally_before, tally_after) = (Tally::default(), Tally::default());
        // A fixed viewport: ratatui's plain path without asking a terminal
        // for its size.
        let before = Terminal::with_options(
            CrosstermBackend::new(tally_before.clone()),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT)),
            },
        )?;
        let after = Terminal::new(ScrollingBackend::fixed(tally_after.clone(), WIDTH, HEIGHT))?;
        Ok(Screens {
            before,
            after,
            tally_before,
            tally_after,
        })
    }

    /// Draws `state` to both; the bytes each wrote.
    fn draw(&mut self, state: &State) -> anyhow::Result<(usize, usize)> {
        self.before.draw(|frame| render(state, frame))?;
        self.after.draw(|frame| render(state, frame))?;
        Ok((self.tally_before.take(), self.tally_after.take()))
    }

    /// Presses `code` `times` times, drawing after each; the bytes per
    /// press, before and after.
    fn press(&mut self, state: &mut State, code: KeyCode, times: usize) -> anyhow::Result<Sample> {
        let mut sample = Sample::default();
        for _ in 0..times {
            update(state, Message::Key(KeyEvent::new(code, KeyModifiers::NONE)));
            let (before, after) = self.draw(state)?;
            sample.before.push(before);
            sample.after.push(after);
        }
        Ok(sample)
    }
}

/// Bytes per press, before and after.
#[derive(Default)]
struct Sample {
    before: Vec<usize>,
    after: Vec<usize>,
}

impl Sample {
    /// `mean B (p50 … max …)` of one side.
    fn describe(bytes: &[usize]) -> String {
        let mut sorted = bytes.to_vec();
        sorted.sort_unstable();
        let mean = sorted.iter().sum::<usize>() / sorted.len().max(1);
        let at = |p: usize| sorted.get((sorted.len().saturating_sub(1)) * p / 100);
        format!(
            "{mean:>5} B (p50 {}, max {})",
            at(50).copied().unwrap_or(0),
            at(100).copied().unwrap_or(0)
        )
    }
}

/// Prints the bytes per action, before and after, from the top of the
/// list of `state` (left at the bottom).
pub(super) fn run(state: &mut State) -> anyhow::Result<()> {
    update(
        state,
        Message::Resize {
            width: WIDTH,
            height: HEIGHT,
        },
    );
    let mut screens = Screens::new()?;
    update(state, key(KeyCode::Char('g')));
    let (first_before, first_after) = screens.draw(state)?;
    // The list's rows: the screen less the header, status and hint lines.
    let inside = usize::from(HEIGHT).saturating_sub(6);
    let moves = screens.press(state, KeyCode::Char('j'), inside)?;
    let down = screens.press(state, KeyCode::Char('j'), ROWS)?;
    screens.press(state, KeyCode::Char('k'), inside)?;
    let up = screens.press(state, KeyCode::Char('k'), ROWS)?;
    let pages = screens.press(state, KeyCode::PageDown, PAGES)?;
    say!(
        "  bytes written per action at {WIDTH}x{HEIGHT}, before (ratatui's diff) → after (scrolling):"
    );
    say!("    first frame               {first_before:>5} B → {first_after:>5} B");
    for (label, sample) in [
        ("move inside the screen", &moves),
        ("j once the list scrolls", &down),
        ("k once it scrolls back", &up),
        ("PgDn", &pages),
    ] {
        say!(
            "    {label:<25} {} → {}",
            Sample::describe(&sample.before),
            Sample::describe(&sample.after)
        );
    }
    Ok(())
}

fn key(code: KeyCode) -> Message {
    Message::Key(KeyEvent::new(code, KeyModifiers::NONE))
}
