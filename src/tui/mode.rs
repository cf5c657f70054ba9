//! Which screen the app shows, and where `Esc` goes back to: a stack of
//! modes over the list. The list is the bottom and is always there; each
//! view opened from another is pushed on it (details over compare, compare
//! over details, the form over either), and overlays (help, a question)
//! go on top of whatever screen is showing. Closing a view pops it, so
//! every view returns to the one it was opened from, and combinations that
//! cannot be shown (a form and a compare view at once) cannot be held.
//!
//! Owns the modes and their own state; what the whole app shares
//! (customers, team, outbox bookkeeping) stays in `State`.

use tui_input::Input;

use super::form::Form;
use crate::api::CustomerPatch;
use crate::domain::merge::Choices;
use crate::domain::{Entry, Sort, SortColumn};
use crate::sync::ArchivedEntry;

/// The compare view: the live records sharing one duplicate key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compare {
    /// The duplicate key the records share.
    pub key: String,
    /// The record `a`, `K`, `Space` and `Enter` act on, as an index into
    /// the group.
    pub focus: usize,
    /// The field row under the cursor (`j`/`k`); the view keeps it in
    /// sight.
    pub cursor: usize,
    /// The keeper chosen with `K` and the fields taken with `Space`.
    pub choices: Choices,
}

impl Compare {
    /// The group sharing `key`, with `focus` on one record.
    pub fn new(key: String, focus: usize) -> Compare {
        Compare {
            key,
            focus,
            cursor: 0,
            choices: Choices::default(),
        }
    }
}

/// `Merge into #1003 Acme Co: set …; archive #1036, #1052? (y/N)`: the
/// whole plan, fixed when `M` asked, so `y` does exactly what was named.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmMerge {
    /// The group's duplicate key (its compare view).
    pub group: String,
    /// The keeper as it is now.
    pub keeper: Entry,
    /// The records to archive, in suggestion order.
    pub losers: Vec<Entry>,
    /// The keeper's edit: only the fields that change.
    pub patch: CustomerPatch,
    /// What the edit does, in words (`set billing_country=US`).
    pub changes: Vec<String>,
}

/// An open form and what it offers: the team and the plans in use, taken
/// when it opened.
#[derive(Debug)]
pub struct FormSession {
    pub form: Form,
    pub team: Vec<(String, String)>,
    pub plans: Vec<String>,
}

/// The selected customer's details and history (beside the list on wide
/// screens).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Detail {
    /// Lines scrolled off the top.
    pub scroll: u16,
}

/// Every key of the screen below, over it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Help {
    /// Lines scrolled off the top (on a short screen).
    pub scroll: u16,
}

/// The archived customers (`A`), read from the store when it opened and
/// dropped when it closes, so the live set never holds them. Filtered and
/// sorted on its own, apart from the list's filter and sort.
#[derive(Debug)]
pub struct ArchivedView {
    /// `None` while the store is read.
    pub rows: Option<Vec<ArchivedEntry>>,
    pub sort: Sort,
    /// The filter typed after `/` (text, `~fuzzy`, `#id`, as the list's).
    pub filter: Input,
    /// The filter line has the cursor.
    pub editing: bool,
    /// Indexes into `rows` that the filter keeps, in sort order.
    pub shown: Vec<usize>,
    /// The selected row of `shown`, and the first one on screen.
    pub selected: usize,
    pub offset: usize,
}

impl Default for ArchivedView {
    /// Loading, the most recently archived first.
    fn default() -> Self {
        ArchivedView {
            rows: None,
            sort: Sort {
                column: SortColumn::Updated,
                reversed: false,
            },
            filter: Input::default(),
            editing: false,
            shown: Vec::new(),
            selected: 0,
            offset: 0,
        }
    }
}

impl ArchivedView {
    /// The archived customer on row `row`.
    pub fn at(&self, row: usize) -> Option<&ArchivedEntry> {
        let index = *self.shown.get(row)?;
        self.rows.as_ref()?.get(index)
    }

    /// The selected archived customer.
    pub fn selected_entry(&self) -> Option<&ArchivedEntry> {
        self.at(self.selected)
    }
}

/// `Archive #1052 …? (y/N)`, on the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmArchive {
    /// The customer asked about.
    pub id: String,
}

/// `2 changes are not sent yet … Quit? (y/N)`, on the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfirmQuit;

/// One view or overlay on the stack. Each variant's data is its own; what
/// it does with a key, its hints and how it draws are its
/// [`Screen`](super::screens::Screen) implementation in `tui/screens/`.
#[derive(Debug)]
pub enum Mode {
    Detail(Detail),
    /// Records sharing a domain, side by side.
    Compare(Compare),
    /// The create or edit form (boxed: it is far larger than the others).
    Form(Box<FormSession>),
    Help(Help),
    /// The archived customers (boxed: its filter input is large).
    Archived(Box<ArchivedView>),
    ConfirmArchive(ConfirmArchive),
    ConfirmMerge(Box<ConfirmMerge>),
    ConfirmQuit(ConfirmQuit),
}

impl Mode {
    /// Whether this is drawn over a screen rather than being one.
    pub fn is_overlay(&self) -> bool {
        matches!(
            self,
            Mode::Help(_) | Mode::ConfirmArchive(_) | Mode::ConfirmMerge(_) | Mode::ConfirmQuit(_)
        )
    }
}

/// The modes over the list, bottom first. Empty: the list alone.
#[derive(Debug, Default)]
pub struct Modes {
    stack: Vec<Mode>,
    /// The order the archived view was last left in, this session: it
    /// opens in it again.
    archived_sort: Option<Sort>,
}

impl Modes {
    /// The mode that takes the keys: the top of the stack, if any.
    pub fn top(&self) -> Option<&Mode> {
        self.stack.last()
    }

    pub fn top_mut(&mut self) -> Option<&mut Mode> {
        self.stack.last_mut()
    }

    pub fn push(&mut self, mode: Mode) {
        self.stack.push(mode);
    }

    /// Closes the top mode, back to the one below.
    pub fn pop(&mut self) -> Option<Mode> {
        self.stack.pop()
    }

    /// The screen showing: the topmost mode that is not an overlay (`None`
    /// for the list).
    pub fn screen(&self) -> Option<&Mode> {
        self.stack.iter().rev().find(|m| !m.is_overlay())
    }

    pub fn detail_open(&self) -> bool {
        matches!(self.screen(), Some(Mode::Detail(_)))
    }

    /// The compare view, when it is the screen showing.
    pub fn compare(&self) -> Option<&Compare> {
        match self.screen() {
            Some(Mode::Compare(compare)) => Some(compare),
            _ => None,
        }
    }

    pub fn compare_mut(&mut self) -> Option<&mut Compare> {
        match self.stack.iter_mut().rev().find(|m| !m.is_overlay()) {
            Some(Mode::Compare(compare)) => Some(compare),
            _ => None,
        }
    }

    /// Every compare view on the stack, shown or below another view.
    pub fn compares_mut(&mut self) -> impl Iterator<Item = &mut Compare> {
        self.stack.iter_mut().filter_map(|m| match m {
            Mode::Compare(compare) => Some(compare),
            _ => None,
        })
    }

    /// Removes every compare view (its group is gone), with the details
    /// opened from them.
    pub fn close_compare_views(&mut self, which: impl Fn(&Compare) -> bool) {
        if let Some(at) = self
            .stack
            .iter()
            .position(|m| matches!(m, Mode::Compare(c) if which(c)))
        {
            self.stack.truncate(at);
        }
    }

    /// The archived view, wherever it is on the stack (help may be over
    /// it).
    pub fn archived(&self) -> Option<&ArchivedView> {
        self.stack.iter().rev().find_map(|m| match m {
            Mode::Archived(view) => Some(view.as_ref()),
            _ => None,
        })
    }

    pub fn archived_mut(&mut self) -> Option<&mut ArchivedView> {
        self.stack.iter_mut().rev().find_map(|m| match m {
            Mode::Archived(view) => Some(view.as_mut()),
            _ => None,
        })
    }

    /// Closes the archived view and what was opened over it.
    /// Opens the archived view (loading), in the order it was last left in.
    pub fn open_archived(&mut self) {
        let mut view = ArchivedView::default();
        if let Some(sort) = self.archived_sort {
            view.sort = sort;
        }
        self.stack.push(Mode::Archived(Box::new(view)));
    }

    /// Puts the open archived view in `sort`, and keeps it for the next
    /// time the view opens.
    pub fn sort_archived(&mut self, sort: Sort) {
        self.archived_sort = Some(sort);
        if let Some(view) = self.archived_mut() {
            view.sort = sort;
        }
    }

    pub fn close_archived(&mut self) {
        if let Some(at) = self
            .stack
            .iter()
            .position(|m| matches!(m, Mode::Archived(_)))
        {
            self.stack.truncate(at);
        }
    }

    /// The open form, when it is the screen showing.
    pub fn form(&self) -> Option<&FormSession> {
        match self.screen() {
            Some(Mode::Form(session)) => Some(session),
            _ => None,
        }
    }

    pub fn form_mut(&mut self) -> Option<&mut FormSession> {
        match self.stack.iter_mut().rev().find(|m| !m.is_overlay()) {
            Some(Mode::Form(session)) => Some(session),
            _ => None,
        }
    }

    /// Closes the form showing and hands it back.
    pub fn take_form(&mut self) -> Option<FormSession> {
        let at = self.stack.iter().rposition(|m| !m.is_overlay())?;
        if !matches!(self.stack[at], Mode::Form(_)) {
            return None;
        }
        match self.stack.remove(at) {
            Mode::Form(session) => Some(*session),
            _ => None,
        }
    }

    /// How far help is scrolled, while it is open.
    pub fn help_scroll(&self) -> Option<u16> {
        match self.top() {
            Some(Mode::Help(help)) => Some(help.scroll),
            _ => None,
        }
    }

    pub fn help_open(&self) -> bool {
        self.help_scroll().is_some()
    }

    /// The customer `a` asks about, while the question is open.
    pub fn confirm_archive(&self) -> Option<&str> {
        match self.top() {
            Some(Mode::ConfirmArchive(question)) => Some(&question.id),
            _ => None,
        }
    }

    pub fn confirm_quit(&self) -> bool {
        matches!(self.top(), Some(Mode::ConfirmQuit(_)))
    }

    /// The details showing, if they are the screen.
    fn detail_mut(&mut self) -> Option<&mut Detail> {
        match self.stack.iter_mut().rev().find(|m| !m.is_overlay()) {
            Some(Mode::Detail(detail)) => Some(detail),
            _ => None,
        }
    }

    /// How far the details showing are scrolled.
    pub fn detail_scroll(&self) -> u16 {
        match self.screen() {
            Some(Mode::Detail(detail)) => detail.scroll,
            _ => 0,
        }
    }

    /// Scrolls the details showing by `lines` (negative: up).
    pub fn scroll_detail(&mut self, lines: i32) {
        if let Some(detail) = self.detail_mut() {
            let scroll = (i32::from(detail.scroll) + lines).max(0);
            detail.scroll = u16::try_from(scroll).unwrap_or(u16::MAX);
        }
    }

    /// Back to the top of the details showing.
    pub fn reset_detail_scroll(&mut self) {
        if let Some(detail) = self.detail_mut() {
            detail.scroll = 0;
        }
    }

    /// Shows the details, over whatever screen shows now, unless they are
    /// the screen already.
    pub fn open_detail(&mut self) {
        if !self.detail_open() {
            self.stack.push(Mode::Detail(Detail::default()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_view_returns_to_the_one_it_was_opened_from() {
        let mut modes = Modes::default();
        modes.push(Mode::Compare(Compare::new("acme.com".into(), 0)));
        modes.open_detail();
        assert!(modes.detail_open() && modes.compare().is_none());
        modes.push(Mode::Help(Help::default()));
        assert!(modes.detail_open(), "help is drawn over the details");
        modes.pop();
        modes.pop();
        assert!(modes.compare().is_some(), "back to compare");
        modes.pop();
        assert!(modes.screen().is_none(), "back to the list");
    }

    #[test]
    fn details_are_not_opened_twice() {
        let mut modes = Modes::default();
        modes.open_detail();
        modes.open_detail();
        modes.pop();
        assert!(modes.screen().is_none());
    }
}
