//! Writing changed cells in few bytes: what ratatui's crossterm backend
//! writes, less the waste. The cursor moves the shortest way (a few
//! unchanged cells in the pen's style are written again rather than jumped
//! over; `CR LF`, `CUF` and `CUP` otherwise), one SGR sequence carries only
//! what changed in the style, a row is erased from its first change (`EL`)
//! and its new text written when that is shorter than overwriting the old
//! text, and the style is reset once, at the end. Foreground
//! colours are written as crossterm writes them (`38;5;n`), never as
//! `30`–`37`, which some terminals brighten in bold: the screen looks the
//! same as before.
//!
//! Pure: takes the changes and the wanted screen, returns bytes. Knows
//! nothing of scrolling or of the terminal's state between frames, except
//! that each frame starts and ends with the default style.

use std::fmt::Write as _;

use ratatui::buffer::{Buffer, Cell, CellWidth};
use ratatui::style::{Color, Modifier};

/// A cell to write at `(x, y)`.
pub(super) type Change<'a> = (u16, u16, &'a Cell);

/// A gap this many bytes long or shorter is written again, not jumped.
const MOST_REWRITTEN: usize = 6;

/// The style the terminal writes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    underline: Color,
    modifier: Modifier,
}

impl Pen {
    const DEFAULT: Pen = Pen {
        fg: Color::Reset,
        bg: Color::Reset,
        underline: Color::Reset,
        modifier: Modifier::empty(),
    };

    fn of(cell: &Cell) -> Pen {
        Pen {
            fg: cell.fg,
            bg: cell.bg,
            underline: cell.underline_color,
            modifier: cell.modifier,
        }
    }
}

/// The terminal's cursor and pen while a frame is written.
struct Writer<'a> {
    out: String,
    wanted: &'a Buffer,
    /// Where the next character goes, when known (`x` may be one past the
    /// last column: the terminal waits to wrap).
    at: Option<(u16, u16)>,
    pen: Pen,
}

/// The bytes that make a terminal showing `shown` show the cells of
/// `changes` (sorted by row, then column, as ratatui's diff yields them)
/// as `wanted` has them. The terminal's style is the default before and
/// after.
pub(super) fn encode(changes: &[Change<'_>], shown: &Buffer, wanted: &Buffer) -> Vec<u8> {
    let mut writer = Writer {
        out: String::new(),
        wanted,
        at: None,
        pen: Pen::DEFAULT,
    };
    for row in changes.chunk_by(|a, b| a.1 == b.1) {
        let mut cells = writer.trial();
        cells.write(row);
        let erased = erased_from(row, shown, wanted).map(|rest| {
            let mut erased = writer.trial();
            erased.erase_from(row[0].0, row[0].1);
            erased.write(&rest);
            erased
        });
        let best = match erased {
            Some(erased) if erased.out.len() < cells.out.len() => erased,
            _ => cells,
        };
        writer.out.push_str(&best.out);
        (writer.at, writer.pen) = (best.at, best.pen);
    }
    writer.set_pen(Pen::DEFAULT);
    writer.out.into_bytes()
}

/// The other way to change `row`: erase it from its first change on, then
/// write these cells, what is not blank there. `None` where a wide
/// character straddles that first change.
fn erased_from<'a>(
    row: &[Change<'_>],
    shown: &Buffer,
    wanted: &'a Buffer,
) -> Option<Vec<Change<'a>>> {
    let &(first, y, _) = row.first()?;
    let wide =
        |screen: &Buffer| first > screen.area.left() && screen[(first - 1, y)].cell_width() > 1;
    if wide(shown) || wide(wanted) {
        return None;
    }
    let mut rest = Vec::new();
    let mut x = first;
    while x < wanted.area.right() {
        let cell = &wanted[(x, y)];
        if *cell != Cell::EMPTY {
            rest.push((x, y, cell));
        }
        x = x.saturating_add(cell.cell_width().max(1));
    }
    Some(rest)
}

impl<'a> Writer<'a> {
    /// A writer that goes on from where this one is, to try a way.
    fn trial(&self) -> Writer<'a> {
        Writer {
            out: String::new(),
            wanted: self.wanted,
            at: self.at,
            pen: self.pen,
        }
    }

    /// Writes the cells of `changes`, on one row.
    fn write(&mut self, changes: &[Change<'_>]) {
        for &(x, y, cell) in changes {
            self.move_to(x, y);
            self.set_pen(Pen::of(cell));
            self.print(cell, x, y);
        }
    }

    /// Erases row `y` from `x` on, in the default style.
    fn erase_from(&mut self, x: u16, y: u16) {
        self.move_to(x, y);
        self.set_pen(Pen::DEFAULT);
        self.out.push_str("\x1b[K");
    }

    /// Moves the cursor to `(x, y)` the shortest way.
    fn move_to(&mut self, x: u16, y: u16) {
        let at = self.at;
        let gap = |from: u16| self.gap_text(from, x, y);
        let (step, gap) = match at {
            Some(at) if at == (x, y) => ("", None),
            Some((ax, ay)) if ay == y && ax < x && gap(ax).is_some() => ("", gap(ax)),
            Some((_, ay)) if ay + 1 == y && gap(0).is_some() => ("\r\n", gap(0)),
            Some((_, ay)) if ay == y && gap(0).is_some() => ("\r", gap(0)),
            Some((ax, ay)) if ay == y && ax < x && ax < self.wanted.area.right() => {
                let _ = match x - ax {
                    1 => write!(self.out, "\x1b[C"),
                    n => write!(self.out, "\x1b[{n}C"),
                };
                ("", None)
            }
            _ if x == 0 => {
                let _ = write!(self.out, "\x1b[{}H", y + 1);
                ("", None)
            }
            _ => {
                let _ = write!(self.out, "\x1b[{};{}H", y + 1, x + 1);
                ("", None)
            }
        };
        self.out.push_str(step);
        self.out.push_str(&gap.unwrap_or_default());
        self.at = Some((x, y));
    }

    /// Cells `from..to` of row `y`, to write again rather than jump over
    /// them: when they are narrow, in the pen's style, and few bytes.
    fn gap_text(&self, from: u16, to: u16, y: u16) -> Option<String> {
        let mut text = String::new();
        for x in from..to {
            let cell = &self.wanted[(x, y)];
            if Pen::of(cell) != self.pen || cell.cell_width() != 1 {
                return None;
            }
            text.push_str(cell.symbol());
            if text.len() > MOST_REWRITTEN {
                return None;
            }
        }
        Some(text)
    }

    /// Prints `cell` at `(x, y)`, where the cursor is.
    fn print(&mut self, cell: &Cell, x: u16, y: u16) {
        self.out.push_str(cell.symbol());
        let width = cell.cell_width().max(1);
        self.at = Some((x.saturating_add(width), y));
    }

    /// Changes the terminal's style to `pen`, in one sequence.
    fn set_pen(&mut self, pen: Pen) {
        if pen == self.pen {
            return;
        }
        let mut params: Vec<String> = Vec::new();
        let (old, new) = (self.pen.modifier, pen.modifier);
        let removed = old - new;
        let mut added = new - old;
        if removed.intersects(Modifier::BOLD | Modifier::DIM) {
            params.push("22".into());
            added |= new & (Modifier::BOLD | Modifier::DIM);
        }
        if removed.intersects(Modifier::SLOW_BLINK | Modifier::RAPID_BLINK) {
            params.push("25".into());
            added |= new & (Modifier::SLOW_BLINK | Modifier::RAPID_BLINK);
        }
        for (modifier, off) in [
            (Modifier::ITALIC, "23"),
            (Modifier::UNDERLINED, "24"),
            (Modifier::REVERSED, "27"),
            (Modifier::HIDDEN, "28"),
            (Modifier::CROSSED_OUT, "29"),
        ] {
            if removed.contains(modifier) {
                params.push(off.into());
            }
        }
        for (modifier, on) in [
            (Modifier::BOLD, "1"),
            (Modifier::DIM, "2"),
            (Modifier::ITALIC, "3"),
            (Modifier::UNDERLINED, "4"),
            (Modifier::SLOW_BLINK, "5"),
            (Modifier::RAPID_BLINK, "6"),
            (Modifier::REVERSED, "7"),
            (Modifier::HIDDEN, "8"),
            (Modifier::CROSSED_OUT, "9"),
        ] {
            if added.contains(modifier) {
                params.push(on.into());
            }
        }
        for (old, new, base) in [
            (self.pen.fg, pen.fg, 3),
            (self.pen.bg, pen.bg, 4),
            (self.pen.underline, pen.underline, 5),
        ] {
            if old != new {
                params.push(color(new, base));
            }
        }
        let _ = write!(self.out, "\x1b[{}m", params.join(";"));
        self.pen = pen;
    }
}

/// The SGR parameter for `color` as foreground (`base` 3), background (4)
/// or underline colour (5), as crossterm writes it (but for a background
/// of the first sixteen colours, written short).
fn color(color: Color, base: u8) -> String {
    let index = match color {
        Color::Reset => return format!("{base}9"),
        Color::Rgb(r, g, b) => return format!("{base}8;2;{r};{g};{b}"),
        other => palette_index(other).unwrap_or(0),
    };
    match (base, index) {
        // A background of the first sixteen in its short form: bold does
        // not brighten backgrounds, so it looks the same.
        (4, 0..=7) => format!("4{index}"),
        (4, 8..=15) => format!("10{}", index - 8),
        _ => format!("{base}8;5;{index}"),
    }
}

/// The terminal palette's number for `color`, as crossterm sends it
/// (`Red` is 1, `LightRed` 9); `None` for reset and RGB colours.
pub(super) fn palette_index(color: Color) -> Option<u8> {
    Some(match color {
        Color::Reset | Color::Rgb(..) => return None,
        Color::Indexed(index) => index,
        Color::Black => 0,
        Color::Red => 1,
        Color::Green => 2,
        Color::Yellow => 3,
        Color::Blue => 4,
        Color::Magenta => 5,
        Color::Cyan => 6,
        Color::Gray => 7,
        Color::DarkGray => 8,
        Color::LightRed => 9,
        Color::LightGreen => 10,
        Color::LightYellow => 11,
        Color::LightBlue => 12,
        Color::LightMagenta => 13,
        Color::LightCyan => 14,
        Color::White => 15,
    })
}

#[cfg(test)]
mod tests {
    use ratatui::style::Style;

    use super::*;

    fn changed(wanted: &Buffer) -> Vec<Change<'_>> {
        Buffer::empty(wanted.area).diff(wanted)
    }

    #[test]
    fn a_short_unchanged_gap_is_written_again_and_a_long_one_jumped() {
        let mut wanted = Buffer::with_lines(["ab cd          ef"]);
        wanted[(1, 0)].set_symbol("b");
        let changes = vec![
            (0, 0, &wanted[(0, 0)]),
            (3, 0, &wanted[(3, 0)]),
            (15, 0, &wanted[(15, 0)]),
        ];
        let shown = Buffer::with_lines(["a  c           xf"]);
        let bytes = encode(&changes, &shown, &wanted);
        assert_eq!(String::from_utf8_lossy(&bytes), "\x1b[1Hab c\x1b[11Ce");
    }

    #[test]
    fn a_style_change_is_one_sequence_of_what_changed() {
        let mut wanted = Buffer::empty(ratatui::layout::Rect::new(0, 0, 4, 1));
        wanted.set_string(0, 0, "a", Style::new().bold().fg(Color::Indexed(245)));
        wanted.set_string(1, 0, "b", Style::new().fg(Color::Indexed(245)));
        wanted.set_string(2, 0, "c", Style::new().reversed().fg(Color::Red));
        let bytes = encode(&changed(&wanted), &Buffer::empty(wanted.area), &wanted);
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "\x1b[1H\x1b[1;38;5;245ma\x1b[22mb\x1b[7;38;5;1mc\x1b[27;39m"
        );
    }

    #[test]
    fn the_blank_rest_of_a_row_is_erased_and_the_next_row_reached_by_cr_lf() {
        let wanted = Buffer::with_lines(["x        ", "yy       "]);
        let shown = Buffer::with_lines(["x abcdefg", "yyabcdefg"]);
        let bytes = encode(&shown.diff(&wanted), &shown, &wanted);
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            "\x1b[1;3H\x1b[K\r\nyy\x1b[K"
        );
    }
}
