//! The layer between ratatui and the terminal that knows what the terminal
//! shows, so that a list moving by whole rows costs the rows that came into
//! view rather than the whole screen (issue 15, slow links).
//!
//! [`ScrollingBackend`] is a ratatui [`Backend`]. ratatui hands it the cells
//! that changed against ratatui's previous frame; it applies them to its copy
//! of the wanted screen and writes nothing until [`Backend::flush`]. There it
//! compares the wanted screen with its model of what the terminal shows, row
//! by row: when a block of full-width rows moved by the same number of rows,
//! it moves that text with the terminal's own scrolling (a scroll region,
//! line feeds at its bottom or reverse index at its top, the region reset),
//! shifts its model the same way, and then writes only the cells that still
//! differ, whichever of the two ways writes fewer bytes (`encode` writes
//! them). After each flush the model equals ratatui's previous frame in
//! every cell a terminal shows, so ratatui's own diffing stays right. A
//! clear (ratatui clears on every resize) or a failed write starts the
//! model over: the next frame is drawn whole.
//!
//! It owns the model, the choice to scroll, and the cursor's shown state (a
//! frame's cursor changes go out after its cells). It must not decide what
//! the screen shows, read input, or write anything but whole frames.

use std::cell::Cell as Shared;
use std::hash::Hasher;
use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::{Buffer, Cell, CellWidth};
use ratatui::layout::{Position, Rect, Size};
use ratatui::style::Color;

/// A frame this short is written as it is: scrolling saves nothing.
const SMALL_FRAME: usize = 160;

/// A ratatui backend over the terminal `W` that scrolls instead of
/// rewriting rows that only moved.
pub struct ScrollingBackend<W: Write> {
    out: W,
    /// Where the size comes from.
    size: SizeSource,
    /// The size last reported to ratatui: the area its buffers have.
    last_size: Shared<Size>,
    /// What the terminal shows, as of the last flush; `None`: unknown.
    shown: Option<Buffer>,
    /// What ratatui wants shown: `shown` plus this frame's changes.
    wanted: Buffer,
    cursor: CursorState,
    /// Off: ratatui's plain diff and crossterm's encoding, as before.
    scrolling: bool,
}

/// Where a [`ScrollingBackend`] learns its size.
#[derive(Debug, Clone, Copy)]
enum SizeSource {
    /// The terminal on standard output.
    Terminal,
    /// A fixed size (an in-memory screen: tests and the bench).
    Fixed(Size),
}

/// The cursor ratatui asked for this frame, and what the terminal shows.
#[derive(Debug, Default)]
struct CursorState {
    visible: bool,
    position: Position,
    /// Visibility on the terminal; `None` until first set.
    shown_visible: Option<bool>,
    /// Where the terminal's cursor is, when known.
    shown_position: Option<Position>,
}

/// Moving rows `top..=bottom` by `rows`: up when positive (the text of row
/// `y + rows` ends at row `y`), down when negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shift {
    top: u16,
    bottom: u16,
    rows: i32,
}

impl<W: Write> ScrollingBackend<W> {
    /// The backend for the real terminal: its size is asked of the terminal.
    pub fn new(out: W) -> io::Result<Self> {
        let (width, height) = crossterm::terminal::size()?;
        Ok(Self::with_source(
            out,
            SizeSource::Terminal,
            Size::new(width, height),
        ))
    }

    /// A backend of a fixed size writing to `out` (an in-memory screen).
    pub fn fixed(out: W, width: u16, height: u16) -> Self {
        let size = Size::new(width, height);
        Self::with_source(out, SizeSource::Fixed(size), size)
    }

    fn with_source(out: W, size: SizeSource, current: Size) -> Self {
        let area = Rect::from((Position::ORIGIN, current));
        ScrollingBackend {
            out,
            size,
            last_size: Shared::new(current),
            // ratatui starts from a blank screen, and so does the alternate one.
            shown: Some(Buffer::empty(area)),
            wanted: Buffer::empty(area),
            cursor: CursorState::default(),
            scrolling: true,
        }
    }

    /// With `false`, writes the cells ratatui's plain diff and crossterm
    /// write: no scrolling, no shorter encoding (for comparing).
    #[must_use]
    pub fn scrolling(mut self, on: bool) -> Self {
        self.scrolling = on;
        self
    }

    /// A fixed-size screen's new size, as a terminal window being resized
    /// (ratatui notices at its next draw and clears).
    pub fn resize(&mut self, width: u16, height: u16) {
        if let SizeSource::Fixed(_) = self.size {
            self.size = SizeSource::Fixed(Size::new(width, height));
        }
    }

    /// Where the bytes go.
    pub fn writer(&self) -> &W {
        &self.out
    }

    /// Where the bytes go, to take them (tests).
    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Forgets what the terminal shows, so the next flush clears and draws
    /// everything.
    fn forget_screen(&mut self) {
        let area = Rect::from((Position::ORIGIN, self.last_size.get()));
        self.shown = None;
        self.wanted = Buffer::empty(area);
        self.cursor.shown_position = None;
    }

    /// Builds the frame's bytes: the cells (scrolling first or not,
    /// whichever is shorter), then the cursor.
    fn frame_bytes(&mut self) -> io::Result<Vec<u8>> {
        let mut frame = Vec::new();
        let mut shown = match self.shown.take() {
            Some(shown) if shown.area == self.wanted.area => shown,
            _ => {
                frame.extend_from_slice(b"\x1b[m\x1b[2J");
                Buffer::empty(self.wanted.area)
            }
        };
        if self.scrolling {
            frame.extend(cells(&mut shown, &self.wanted));
        } else {
            CrosstermBackend::new(&mut frame).draw(shown.diff_iter(&self.wanted))?;
        }
        if !frame.is_empty() {
            self.cursor.shown_position = None;
        }
        self.cursor_bytes(&mut frame)?;
        shown.clone_from(&self.wanted);
        self.shown = Some(shown);
        Ok(frame)
    }

    /// The cursor as ratatui asked, after the cells: placed, then shown;
    /// or hidden. Nothing when the terminal already shows it so.
    fn cursor_bytes(&mut self, frame: &mut Vec<u8>) -> io::Result<()> {
        use crossterm::cursor::{Hide, MoveTo, Show};
        let cursor = &mut self.cursor;
        if cursor.visible {
            if cursor.shown_position != Some(cursor.position) {
                let Position { x, y } = cursor.position;
                crossterm::queue!(frame, MoveTo(x, y))?;
                cursor.shown_position = Some(cursor.position);
            }
            if cursor.shown_visible != Some(true) {
                crossterm::queue!(frame, Show)?;
            }
        } else if cursor.shown_visible != Some(false) {
            crossterm::queue!(frame, Hide)?;
        }
        cursor.shown_visible = Some(cursor.visible);
        Ok(())
    }
}

impl<W: Write> Backend for ScrollingBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        for (x, y, cell) in content {
            if !self.wanted.area.contains(Position { x, y }) {
                tracing::debug!(x, y, "a cell outside the screen");
                continue;
            }
            put(&mut self.wanted, x, y, cell);
        }
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.cursor.visible = false;
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.cursor.visible = true;
        Ok(())
    }

    /// Where ratatui last put the cursor (the terminal is not asked).
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor.position)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.cursor.position = position.into();
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        // Every clear starts the model over: the next flush clears the
        // whole screen and draws every cell ratatui wants.
        if clear_type != ClearType::All {
            tracing::debug!(?clear_type, "partial clear: redrawing everything");
        }
        self.forget_screen();
        Ok(())
    }

    fn size(&self) -> io::Result<Size> {
        let size = match self.size {
            SizeSource::Terminal => {
                let (width, height) = crossterm::terminal::size()?;
                Size::new(width, height)
            }
            SizeSource::Fixed(size) => size,
        };
        self.last_size.set(size);
        Ok(size)
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        match self.size {
            SizeSource::Terminal => {
                let size = crossterm::terminal::window_size()?;
                Ok(WindowSize {
                    columns_rows: Size::new(size.columns, size.rows),
                    pixels: Size::new(size.width, size.height),
                })
            }
            SizeSource::Fixed(size) => Ok(WindowSize {
                columns_rows: size,
                pixels: Size::default(),
            }),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let frame = self.frame_bytes()?;
        let written = if frame.is_empty() {
            Ok(())
        } else {
            self.out.write_all(&frame)
        };
        let flushed = written.and_then(|()| self.out.flush());
        if flushed.is_err() {
            // Some of the frame may be on screen: draw it all next time.
            self.shown = None;
        }
        flushed
    }
}

/// Sets one cell of `screen` as a terminal shows it: a wide character
/// covers the cells after it (kept blank here), and writing over part of a
/// wide character blanks the rest of it. A blank written where a wide
/// character covers (ratatui refreshing an emoji's trailing cell) changes
/// nothing.
fn put(screen: &mut Buffer, x: u16, y: u16, cell: &Cell) {
    if let Some(left) = covering(screen, x, y) {
        if cell.symbol().trim().is_empty() {
            return;
        }
        screen[(left, y)] = Cell::EMPTY;
    }
    let width = cell.cell_width().max(screen[(x, y)].cell_width());
    screen[(x, y)] = cell.clone();
    let end = x.saturating_add(width).min(screen.area.right());
    for hidden in x.saturating_add(1)..end {
        screen[(hidden, y)] = Cell::EMPTY;
    }
}

/// The wide character to the left of cell `x` of row `y` that covers it.
fn covering(screen: &Buffer, x: u16, y: u16) -> Option<u16> {
    (screen.area.left()..x)
        .rev()
        .take(3)
        .find(|&left| left + screen[(left, y)].cell_width() > x)
}

/// The bytes that make the terminal showing `shown` show `wanted`: the
/// cells that differ, or, when it is shorter, a scroll and then the cells
/// that still differ.
/// `shown` is spent: the caller makes it `wanted` next.
fn cells(shown: &mut Buffer, wanted: &Buffer) -> Vec<u8> {
    let plain = encode_cells(shown, wanted);
    if plain.len() <= SMALL_FRAME {
        return plain;
    }
    let Some(shift) = find_shift(shown, wanted) else {
        return plain;
    };
    scroll(shown, shift);
    let mut scrolled = scroll_bytes(shift);
    scrolled.extend(encode_cells(shown, wanted));
    if scrolled.len() < plain.len() {
        scrolled
    } else {
        plain
    }
}

/// The cells of `wanted` that differ from `shown`, as the terminal's bytes.
fn encode_cells(shown: &Buffer, wanted: &Buffer) -> Vec<u8> {
    encode::encode(&changes(shown, wanted), shown, wanted)
}

/// ratatui's diff, plus the rest of every wide character that a narrower
/// one replaces: the terminal blanks it in the style then in force (an
/// underline, say), so it is written again as wanted.
fn changes<'a>(shown: &Buffer, wanted: &'a Buffer) -> Vec<(u16, u16, &'a Cell)> {
    let mut changes: Vec<(u16, u16, &Cell)> = Vec::new();
    for (x, y, cell) in shown.diff_iter(wanted) {
        if changes
            .last()
            .is_some_and(|&(lx, ly, _)| ly == y && lx >= x)
        {
            continue;
        }
        changes.push((x, y, cell));
        let (old, new) = (shown[(x, y)].cell_width(), cell.cell_width().max(1));
        let end = x.saturating_add(old).min(wanted.area.right());
        for rest in x.saturating_add(new)..end {
            changes.push((rest, y, &wanted[(rest, y)]));
        }
    }
    changes
}

/// The largest block of full-width rows of `wanted` that `shown` holds
/// elsewhere, all moved by the same number of rows, counted by the rows
/// that would otherwise be rewritten. `None` when nothing moved.
fn find_shift(shown: &Buffer, wanted: &Buffer) -> Option<Shift> {
    if shown.area != wanted.area || shown.area.height < 2 {
        return None;
    }
    let before = row_hashes(shown);
    let after = row_hashes(wanted);
    let height = before.len();
    let mut best: Option<(usize, Shift)> = None;
    for distance in 1..height {
        for up in [true, false] {
            // Row `y` of the new screen was row `from(y)` of the old one.
            let from = |y: usize| if up { y + distance } else { y - distance };
            let rows = if up {
                0..height - distance
            } else {
                distance..height
            };
            let mut start = None;
            let mut gained = 0;
            for y in rows.clone().chain([usize::MAX]) {
                if y != usize::MAX && after[y] == before[from(y)] {
                    start = start.or(Some(y));
                    gained += usize::from(after[y] != before[y]);
                    continue;
                }
                if let Some(first) = start.take()
                    && gained > best.map_or(0, |(most, _)| most)
                {
                    let last = if y == usize::MAX { rows.end - 1 } else { y - 1 };
                    best = Some((gained, block_shift(first, last, distance, up)));
                }
                gained = 0;
            }
        }
    }
    best.map(|(_, shift)| shift)
}

/// The scroll region that brings rows `first..=last` of the new screen
/// from `distance` rows below (`up`) or above.
fn block_shift(first: usize, last: usize, distance: usize, up: bool) -> Shift {
    let (top, bottom) = if up {
        (first, last + distance)
    } else {
        (first - distance, last)
    };
    let distance = i32::try_from(distance).unwrap_or(i32::MAX);
    Shift {
        top: u16::try_from(top).unwrap_or(u16::MAX),
        bottom: u16::try_from(bottom).unwrap_or(u16::MAX),
        rows: if up { distance } else { -distance },
    }
}

/// One hash per row, of every cell's symbol and style.
fn row_hashes(screen: &Buffer) -> Vec<u64> {
    let width = usize::from(screen.area.width.max(1));
    screen
        .content
        .chunks(width)
        .map(|row| {
            let mut hasher = RowHasher(0);
            for cell in row {
                hasher.write(cell.symbol().as_bytes());
                let fg = u64::from(color_key(cell.fg));
                let bg = u64::from(color_key(cell.bg));
                hasher.write_u64(fg << 32 | bg);
                let underline = u64::from(color_key(cell.underline_color));
                hasher.write_u64(underline << 32 | u64::from(cell.modifier.bits()));
            }
            hasher.finish()
        })
        .collect()
}

/// A number for each colour as the terminal is told it.
fn color_key(color: Color) -> u32 {
    match color {
        Color::Reset => 0,
        Color::Rgb(r, g, b) => 1 << 24 | u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b),
        other => 1 << 25 | u32::from(encode::palette_index(other).unwrap_or(0)),
    }
}

/// A quick hash (as rustc's `FxHasher`): rows are compared for equality
/// by it, and a collision costs only bytes, never a wrong screen (the
/// cells written are found by comparing cells).
struct RowHasher(u64);

impl Hasher for RowHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Moves the rows of `screen` as the terminal does for `shift`: the rows
/// that come into the region are blank, in the default style.
fn scroll(screen: &mut Buffer, shift: Shift) {
    let width = usize::from(screen.area.width);
    let (top, bottom) = (usize::from(shift.top), usize::from(shift.bottom));
    let rows = usize::try_from(shift.rows.unsigned_abs()).unwrap_or(usize::MAX);
    let Some(region) = screen.content.get_mut(top * width..(bottom + 1) * width) else {
        return;
    };
    let moved = (rows * width).min(region.len());
    if shift.rows > 0 {
        region.rotate_left(moved);
        let len = region.len();
        region[len - moved..].fill(Cell::EMPTY);
    } else {
        region.rotate_right(moved);
        region[..moved].fill(Cell::EMPTY);
    }
}

/// The bytes that scroll the terminal by `shift`, with the default style
/// (new lines take the current background): set the region, line feeds at
/// its bottom or reverse index at its top, reset the region. These are
/// VT100's own, so every terminal has them.
fn scroll_bytes(shift: Shift) -> Vec<u8> {
    let (top, bottom) = (u32::from(shift.top) + 1, u32::from(shift.bottom) + 1);
    let mut bytes = format!("\x1b[m\x1b[{top};{bottom}r").into_bytes();
    let count = usize::try_from(shift.rows.unsigned_abs()).unwrap_or(0);
    if shift.rows > 0 {
        bytes.extend(format!("\x1b[{bottom}H").bytes());
        bytes.extend(std::iter::repeat_n(b'\n', count));
    } else {
        bytes.extend(format!("\x1b[{top}H").bytes());
        for _ in 0..count {
            bytes.extend_from_slice(b"\x1bM");
        }
    }
    bytes.extend_from_slice(b"\x1b[r");
    bytes
}

mod encode;
#[cfg(test)]
pub(crate) mod tests;
