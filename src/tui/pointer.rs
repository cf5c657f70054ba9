//! The mouse: the wheel scrolls what is under the pointer (the list, the
//! details, compare, help, the archived view; elsewhere the screen
//! showing), a click selects a row of the list or the archived view (in
//! compare: focuses the record clicked), a second click on the same row within
//! [`DOUBLE_CLICK`] opens its details, and a click on a column header sorts
//! by that column (again: the other way).
//!
//! What is where comes from the views' own layout ([`view::under`]), so a
//! click lands where the row is drawn; what a gesture does is what the
//! keys do (`screens::on_action`, the finder's sort). Changes state only
//! as `update` asks; draws nothing and does no I/O.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use time::Duration;

use super::archived;
use super::finder;
use super::keymap::Action;
use super::merge;
use super::message::Command;
use super::mode::Mode;
use super::screens::{self, follow_selection};
use super::state::{Click, State};
use super::triage;
use super::view::{self, ListHit, Under};
use crate::domain::Sort;

/// Rows or lines moved per notch of the wheel.
const WHEEL_STEP: u16 = 3;

/// Two clicks on one row this close together open it.
pub const DOUBLE_CLICK: Duration = Duration::milliseconds(400);

/// One mouse event, against the app.
pub fn on_mouse(state: &mut State, mouse: MouseEvent) -> Vec<Command> {
    let at = (mouse.column, mouse.row);
    match mouse.kind {
        MouseEventKind::ScrollDown => wheel(state, at, true),
        MouseEventKind::ScrollUp => wheel(state, at, false),
        MouseEventKind::Down(MouseButton::Left) => click(state, at),
        _ => Vec::new(),
    }
}

/// Scrolls what is under the pointer, or the screen showing when that
/// takes no wheel.
fn wheel(state: &mut State, at: (u16, u16), down: bool) -> Vec<Command> {
    let target = match view::under(state, at) {
        Under::Other => showing(state),
        under => under,
    };
    let step = i32::from(WHEEL_STEP);
    let lines = if down { step } else { -step };
    match target {
        Under::Help => {
            if let Some(Mode::Help(help)) = state.modes.top_mut() {
                help.scroll = scrolled(help.scroll, lines);
            }
        }
        Under::Detail => state.modes.scroll_detail(lines),
        Under::Compare(_) => {
            // The wheel moves compare's field cursor, as j/k do.
            let action = if lines > 0 { Action::Down } else { Action::Up };
            for _ in 0..lines.unsigned_abs() {
                merge::on_compare_action(state, action);
            }
        }
        Under::Archived(_) => {
            let action = if lines > 0 { Action::Down } else { Action::Up };
            for _ in 0..lines.unsigned_abs() {
                archived::on_action(state, action);
            }
        }
        Under::List(_) => {
            let before = state.selected;
            state.move_by(lines as isize);
            if state.selected != before {
                state.modes.reset_detail_scroll();
            }
            return follow_selection(state);
        }
        Under::Other => return Vec::new(),
    }
    state.mark_dirty();
    Vec::new()
}

/// What the wheel scrolls when the pointer is over nothing that scrolls:
/// the screen showing (nothing under a form or a question).
fn showing(state: &State) -> Under {
    match state.modes.screen() {
        _ if state.modes.top().is_some_and(Mode::is_overlay) => Under::Other,
        None => Under::List(None),
        Some(Mode::Detail(_)) => Under::Detail,
        Some(Mode::Compare(_)) => Under::Compare(None),
        Some(Mode::Archived(_)) => Under::Archived(None),
        Some(_) => Under::Other,
    }
}

fn scrolled(scroll: u16, lines: i32) -> u16 {
    u16::try_from((i32::from(scroll) + lines).max(0)).unwrap_or(u16::MAX)
}

/// A left click: a header sorts, a row is selected, the same row again
/// soon after opens.
fn click(state: &mut State, at: (u16, u16)) -> Vec<Command> {
    let hit = match view::under(state, at) {
        Under::List(hit) => hit,
        Under::Archived(Some(row)) => {
            archived::select(state, row);
            return Vec::new();
        }
        Under::Compare(Some(record)) => {
            triage::focus_record(state, record);
            return Vec::new();
        }
        _ => None,
    };
    let last = state.last_click.take();
    match hit {
        Some(ListHit::Header(column)) => {
            let sort = state.model.customers.sort();
            let sort = if sort.column == column {
                sort.flipped()
            } else {
                Sort {
                    column,
                    reversed: false,
                }
            };
            finder::set_sort(state, sort);
            Vec::new()
        }
        Some(ListHit::Row(row)) => {
            let now = state.now;
            let again = last.is_some_and(|c| c.row == row && now - c.at <= DOUBLE_CLICK);
            if again && state.selected == row {
                return screens::on_action(state, Action::OpenDetail);
            }
            state.last_click = Some(Click { row, at: now });
            let before = state.selected;
            state.move_to(row);
            if state.selected != before {
                state.modes.reset_detail_scroll();
            }
            follow_selection(state)
        }
        None => Vec::new(),
    }
}
