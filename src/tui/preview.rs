//! The list before the customer set arrives: the engine's preview (the
//! first screen read from the cache's indexes) is shown at once, the keys
//! that only move page through it, and every other key waits, in order,
//! with `loading 100,000…` on the status line, until the set arrives; then
//! the selection stays on the same customer and the waiting keys apply.
//!
//! Owns the window of preview rows and the keys that wait. Reads no store
//! itself: pages are asked of the engine ([`SyncCommand::PreviewPage`]).

use crossterm::event::{KeyEvent, MouseEventKind};

use super::keymap::{Action, KeyMode};
use super::message::{Command, Message};
use super::state::State;
use crate::domain::Entry;
use crate::store::StoreCounts;
use crate::sync::{PageRequest, Preview, PreviewRow, SyncCommand, SyncEvent};

/// The rows of the preview the app holds: a contiguous run of the view,
/// from row `start`.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewWindow {
    /// What the whole set counts.
    pub counts: StoreCounts,
    start: usize,
    rows: Vec<PreviewRow>,
    /// The page asked for and not answered yet.
    asked: Option<PageRequest>,
    /// A page came back empty although the counts promised more rows (the
    /// cache changed under the preview): ask no more, the set is coming.
    dry: bool,
    /// Messages that wait for the set, in the order they came.
    waiting: Vec<Message>,
}

impl PreviewWindow {
    fn new(preview: Preview) -> PreviewWindow {
        PreviewWindow {
            counts: preview.counts,
            start: 0,
            rows: preview.rows,
            asked: None,
            dry: false,
            waiting: Vec::new(),
        }
    }

    /// The customer at list row `row`, if that row is held.
    #[must_use]
    pub fn entry_at(&self, row: usize) -> Option<&Entry> {
        let at = row.checked_sub(self.start)?;
        self.rows.get(at).map(|r| &r.entry)
    }

    /// The badge of a held customer.
    #[must_use]
    pub fn badge(&self, entry: &Entry) -> Option<usize> {
        self.rows
            .iter()
            .find(|r| r.entry.key == entry.key)
            .and_then(|r| r.badge)
    }

    /// How many keys wait for the set.
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    fn end(&self) -> usize {
        self.start + self.rows.len()
    }

    /// Takes the rows a request asked for, if it is the one in flight.
    fn take_page(&mut self, request: PageRequest, mut rows: Vec<PreviewRow>) {
        if self.asked.as_ref() != Some(&request) {
            return;
        }
        self.asked = None;
        self.dry |= rows.is_empty();
        if request.backward {
            rows.reverse();
        }
        match (request.after.is_some(), request.backward) {
            (true, false) => self.rows.extend(rows),
            (true, true) => {
                self.start = self.start.saturating_sub(rows.len());
                rows.append(&mut self.rows);
                self.rows = rows;
            }
            (false, false) => {
                self.start = 0;
                self.rows = rows;
            }
            (false, true) => {
                self.start = self.counts.in_view.saturating_sub(rows.len());
                self.rows = rows;
            }
        }
    }

    /// The page to ask for so that rows `need` (`start..end`) are held,
    /// with a screenful more in the direction of travel.
    fn next_request(
        &self,
        need_start: usize,
        need_end: usize,
        screen: usize,
    ) -> Option<PageRequest> {
        if self.dry || self.asked.is_some() || (need_start >= self.start && need_end <= self.end())
        {
            return None;
        }
        let first = self.rows.first().map(|r| r.entry.name_position());
        let last = self.rows.last().map(|r| r.entry.name_position());
        let (after, backward, limit) =
            if last.is_some() && need_end > self.end() && need_start <= self.end() {
                (last, false, need_end - self.end() + screen)
            } else if first.is_some() && need_start < self.start && need_end >= self.start {
                (
                    first,
                    true,
                    (self.start - need_start + screen).min(self.start),
                )
            } else if need_start == 0 {
                (None, false, need_end + screen)
            } else if need_end >= self.counts.in_view {
                (None, true, need_end - need_start + screen)
            } else if need_start > self.end() {
                (last, false, need_start - self.end() + screen)
            } else {
                (first, true, self.start.min(screen))
            };
        Some(PageRequest {
            after,
            backward,
            limit,
        })
    }
}

/// What `update` does with a message while a preview may be shown.
// Lives for one message, as `Message` itself does (see there).
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// Handled here (a preview page, or a key that waits for the set).
    Done(Vec<Command>),
    /// Apply it as usual; with `Some`, the set has just arrived and these
    /// messages waited for it.
    Apply(Message, Option<Vec<Message>>),
}

/// Takes the preview's own events, and holds back what must wait for the
/// set while the preview is shown.
pub fn intercept(state: &mut State, message: Message) -> Step {
    match message {
        Message::Sync(SyncEvent::Preview(preview)) => {
            // Too late once the set is here; nothing to show when empty.
            if !state.model.cache_loaded
                && state.model.customers.is_empty()
                && preview.counts.total > 0
            {
                state.note_display_ids([preview.counts.max_display_id]);
                let (users, me) = (preview.users.clone(), preview.me.clone());
                super::update::set_users(state, users, me);
                state.preview = Some(PreviewWindow::new(preview));
                state.mark_dirty();
            }
            Step::Done(Vec::new())
        }
        Message::Sync(SyncEvent::PreviewPage { request, rows }) => {
            if let Some(window) = &mut state.preview {
                window.take_page(request, rows);
                state.mark_dirty();
            }
            Step::Done(follow(state))
        }
        // The selection stays on the same customer: `selected_id` follows
        // it in the preview, and the rows made from the set put it back
        // there (the same row, as the orders are the same).
        Message::Sync(event @ SyncEvent::CacheLoaded { .. }) => {
            let waiting = state.preview.take().map(|w| w.waiting);
            Step::Apply(Message::Sync(event), waiting)
        }
        message if state.preview.is_some() && must_wait(state, &message) => {
            if let Some(window) = &mut state.preview {
                window.waiting.push(message);
            }
            state.mark_dirty();
            Step::Done(Vec::new())
        }
        message => Step::Apply(message, None),
    }
}

/// Whether a message must wait for the set: everything but the keys that
/// only move (and the mouse wheel), while nothing is open over the list.
fn must_wait(state: &State, message: &Message) -> bool {
    match message {
        Message::Key(key) => !only_moves(state, key),
        Message::Paste(_) => true,
        Message::Mouse(mouse) => !matches!(
            mouse.kind,
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp
        ),
        _ => false,
    }
}

fn only_moves(state: &State, key: &KeyEvent) -> bool {
    state.modes.top().is_none()
        && state.finder.line.is_none()
        && matches!(
            state.keymap.action_for(KeyMode::List, key),
            Some(
                Action::Down
                    | Action::Up
                    | Action::PageDown
                    | Action::PageUp
                    | Action::HalfPageDown
                    | Action::HalfPageUp
                    | Action::Top
                    | Action::Bottom
            )
        )
}

/// After a message: with the set just arrived, the preview ends and the
/// messages that waited apply in order; while the preview is shown, the
/// page the screen needs is asked for.
pub fn after(state: &mut State, handed_over: Option<Vec<Message>>) -> Vec<Command> {
    let Some(waiting) = handed_over else {
        return follow(state);
    };
    let mut commands = vec![Command::Sync(SyncCommand::EndPreview)];
    for message in waiting {
        commands.extend(super::update(state, message));
    }
    commands
}

/// Asks for the rows on screen that the window does not hold yet.
fn follow(state: &mut State) -> Vec<Command> {
    let screen = state.list_rows();
    let Some(window) = &mut state.preview else {
        return Vec::new();
    };
    let total = window.counts.in_view;
    let need_start = state.offset.min(total);
    let need_end = (state.offset + screen).min(total);
    match window.next_request(need_start, need_end, screen) {
        Some(request) => {
            window.asked = Some(request.clone());
            vec![Command::Sync(SyncCommand::PreviewPage(request))]
        }
        None => Vec::new(),
    }
}
