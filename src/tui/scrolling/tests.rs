//! The scrolling layer on an in-memory terminal: what it writes, read back
//! through a VT emulator (`vt100`), must always show the frame ratatui drew.

use ratatui::Terminal;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::*;

/// A terminal over the layer, writing to memory, and a VT emulator fed
/// with every byte it writes.
pub(crate) struct Emulated {
    pub terminal: Terminal<ScrollingBackend<Vec<u8>>>,
    parser: vt100::Parser,
    /// Bytes written by the last frame.
    pub last: usize,
}

impl Emulated {
    pub(crate) fn new(width: u16, height: u16) -> Emulated {
        Self::with(ScrollingBackend::fixed(Vec::new(), width, height))
    }

    pub(crate) fn with(backend: ScrollingBackend<Vec<u8>>) -> Emulated {
        let size = backend.size().expect("a fixed size");
        let terminal = Terminal::new(backend).expect("a terminal in memory");
        Emulated {
            terminal,
            parser: vt100::Parser::new(non_zero(size.height), non_zero(size.width), 0),
            last: 0,
        }
    }

    /// Draws a frame with `render`, feeds the emulator what was written,
    /// and checks it shows that frame; returns the bytes written.
    pub(crate) fn draw(&mut self, render: impl FnOnce(&mut ratatui::Frame)) -> usize {
        let frame = self.terminal.draw(render).expect("draws").buffer.clone();
        let bytes = std::mem::take(self.terminal.backend_mut().writer_mut());
        self.parser.process(&bytes);
        assert_shows(self.parser.screen(), &frame);
        self.last = bytes.len();
        bytes.len()
    }

    /// The window is resized to `width`×`height`.
    pub(crate) fn resize(&mut self, width: u16, height: u16) {
        self.terminal.backend_mut().resize(width, height);
        self.parser.set_size(non_zero(height), non_zero(width));
    }

    pub(crate) fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }
}

fn non_zero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("a screen of some size")
}

/// Panics, naming the first cell that differs, unless the emulated
/// `screen` shows `frame`: every visible cell's text, colours, bold,
/// italic, underline and reverse video.
pub(crate) fn assert_shows(screen: &vt100::Screen, frame: &Buffer) {
    let (rows, cols) = (screen.size().0.get(), screen.size().1.get());
    assert_eq!(
        (cols, rows),
        (frame.area.width, frame.area.height),
        "screen size"
    );
    for y in 0..rows {
        let mut x = 0;
        while x < cols {
            let want = &frame[(x, y)];
            let got = screen.cell(y, x).expect("a cell on screen");
            let text = if got.contents().is_empty() {
                " "
            } else {
                got.contents()
            };
            let shown = (
                text,
                got.fgcolor(),
                got.bgcolor(),
                got.bold(),
                got.italic(),
                got.underline(),
                got.inverse(),
            );
            let wanted = (
                want.symbol(),
                vt_color(want.fg),
                vt_color(want.bg),
                want.modifier.contains(Modifier::BOLD),
                want.modifier.contains(Modifier::ITALIC),
                want.modifier.contains(Modifier::UNDERLINED),
                want.modifier.contains(Modifier::REVERSED),
            );
            assert_eq!(
                shown,
                wanted,
                "cell ({x}, {y}) differs; screen:\n{}",
                screen.contents()
            );
            x += want.cell_width().max(1);
        }
    }
}

/// ratatui's colour as crossterm writes it and vt100 reads it back.
fn vt_color(color: Color) -> vt100::Color {
    let named = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    match color {
        Color::Reset => vt100::Color::Default,
        Color::Indexed(index) => vt100::Color::Idx(index),
        Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
        named_color => named
            .iter()
            .position(|c| *c == named_color)
            .and_then(|index| u8::try_from(index).ok())
            .map_or(vt100::Color::Default, vt100::Color::Idx),
    }
}

/// A list screen: a header, `rows` rows of a list starting at item
/// `first` with item `selected` in reverse video, and a footer.
fn list(first: usize, selected: usize, rows: u16) -> impl FnOnce(&mut ratatui::Frame) {
    move |frame| {
        let area = frame.area();
        let mut lines = vec![Line::styled(
            "Customers   header",
            Style::new().fg(Color::Yellow),
        )];
        for i in first..first + usize::from(rows) {
            let style = if i == selected {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new().fg(Color::Indexed(245))
            };
            let name = if i % 7 == 3 {
                format!("#{i:04} 株式会社 クラ {i}")
            } else {
                format!("#{i:04} Customer number {i}")
            };
            lines.push(Line::styled(format!("{name:<40}owner {}", i % 5), style));
        }
        while lines.len() + 1 < usize::from(area.height) {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled("j/k move  q quit", Style::new().bold()));
        frame.render_widget(Paragraph::new(lines), area);
    }
}

#[test]
fn a_list_moving_one_row_is_scrolled_not_rewritten() {
    let mut screen = Emulated::new(60, 20);
    let full = screen.draw(list(0, 17, 17));
    let scrolled = screen.draw(list(1, 18, 17));
    // Without the layer, every list row is written again.
    let mut plain = Emulated::with(ScrollingBackend::fixed(Vec::new(), 60, 20).scrolling(false));
    plain.draw(list(0, 17, 17));
    let rewritten = plain.draw(list(1, 18, 17));
    assert!(scrolled * 4 < rewritten, "{scrolled} B vs {rewritten} B");
    assert!(
        scrolled < full / 4,
        "{scrolled} B vs a full screen's {full} B"
    );
    assert!(rewritten > 500, "{rewritten}");
}

#[test]
fn a_list_moving_back_up_is_scrolled_down() {
    let mut screen = Emulated::new(60, 20);
    screen.draw(list(10, 10, 17));
    let scrolled = screen.draw(list(9, 9, 17));
    assert!(scrolled < 250, "{scrolled} B");
}

#[test]
fn a_page_and_a_jump_far_away_are_drawn_right() {
    let mut screen = Emulated::new(60, 20);
    screen.draw(list(0, 0, 17));
    screen.draw(list(16, 16, 17));
    screen.draw(list(100, 101, 17));
    screen.draw(list(95, 95, 17));
    screen.draw(list(95, 99, 17));
}

#[test]
fn finding_the_shift_names_the_region_that_moved() {
    let area = Rect::new(0, 0, 3, 6);
    let rows = |text: [&str; 6]| Buffer::with_lines(text);
    let before = rows(["hdr", "a", "b", "c", "d", "ftr"]);
    let after = rows(["hdr", "b", "c", "d", "e", "ftr"]);
    assert_eq!(before.area, area);
    assert_eq!(
        find_shift(&before, &after),
        Some(Shift {
            top: 1,
            bottom: 4,
            rows: 1
        })
    );
    assert_eq!(
        find_shift(&after, &before),
        Some(Shift {
            top: 1,
            bottom: 4,
            rows: -1
        })
    );
    assert_eq!(find_shift(&before, &before), None);
}

#[test]
fn scrolling_the_model_blanks_the_rows_that_come_in() {
    let mut screen = Buffer::with_lines(["hdr", "a", "b", "c", "ftr"]);
    scroll(
        &mut screen,
        Shift {
            top: 1,
            bottom: 3,
            rows: 1,
        },
    );
    assert_eq!(screen, Buffer::with_lines(["hdr", "b", "c", "", "ftr"]));
    scroll(
        &mut screen,
        Shift {
            top: 1,
            bottom: 3,
            rows: -2,
        },
    );
    assert_eq!(screen, Buffer::with_lines(["hdr", "", "", "b", "ftr"]));
}

#[test]
fn a_resize_clears_and_draws_everything_again() {
    let mut screen = Emulated::new(60, 20);
    screen.draw(list(0, 3, 17));
    screen.resize(50, 12);
    screen.draw(list(5, 6, 9));
    screen.resize(70, 25);
    let full = screen.draw(list(5, 6, 22));
    assert!(full > 1000, "{full}");
}

#[test]
fn the_cursor_is_placed_after_the_cells_and_hidden_only_once() {
    let mut screen = Emulated::new(30, 6);
    let with_cursor = |x: u16| {
        move |frame: &mut ratatui::Frame| {
            frame.render_widget(Paragraph::new("name: Acme"), frame.area());
            frame.set_cursor_position((x, 0));
        }
    };
    screen.draw(with_cursor(10));
    assert_eq!(screen.screen().cursor_position(), (0, 10));
    assert!(!screen.screen().hide_cursor());
    screen.draw(with_cursor(4));
    assert_eq!(screen.screen().cursor_position(), (0, 4));
    let hidden = |frame: &mut ratatui::Frame| {
        frame.render_widget(Paragraph::new("name: Acme"), frame.area());
    };
    screen.draw(hidden);
    assert!(screen.screen().hide_cursor());
    assert_eq!(screen.draw(hidden), 0, "an unchanged frame writes nothing");
}

#[test]
fn wide_characters_replaced_by_narrow_ones_leave_nothing_behind() {
    let mut screen = Emulated::new(12, 3);
    let text = |s: &'static str| {
        move |frame: &mut ratatui::Frame| {
            frame.render_widget(Paragraph::new(s), frame.area());
        }
    };
    screen.draw(text("株式会社\nab\n☕x"));
    screen.draw(text("a株b式\n株式\nx☕"));
    screen.draw(text("abcdefgh\n\n☕☕"));
    screen.draw(text("\nabcdefgh\n"));
}

/// A terminal that refuses writes while `broken` is set.
#[derive(Default)]
struct Flaky {
    bytes: Vec<u8>,
    broken: bool,
}

impl Write for Flaky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.broken {
            return Err(io::Error::other("the link dropped"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn after_a_failed_write_the_next_frame_is_drawn_whole() {
    let mut terminal = Terminal::new(ScrollingBackend::fixed(Flaky::default(), 60, 20))
        .expect("a terminal in memory");
    terminal.draw(list(0, 0, 17)).expect("draws");
    terminal.backend_mut().writer_mut().broken = true;
    assert!(terminal.draw(list(0, 1, 17)).is_err());
    let writer = terminal.backend_mut().writer_mut();
    writer.broken = false;
    writer.bytes.clear();
    let frame = terminal.draw(list(0, 2, 17)).expect("draws").buffer.clone();
    let bytes = std::mem::take(&mut terminal.backend_mut().writer_mut().bytes);
    assert!(bytes.starts_with(b"\x1b[m\x1b[2J"), "cleared first");
    // Whatever the terminal showed, the frame is all there.
    let mut parser = vt100::Parser::new(non_zero(20), non_zero(60), 0);
    parser.process(b"garbage everywhere");
    parser.process(&bytes);
    assert_shows(parser.screen(), &frame);
}
