//! `update`: the one place where the app's state changes. It turns a
//! [`Message`] into new state and a list of [`Command`]s for the outside
//! world; it does no I/O and draws nothing.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};

use super::changes;
use super::form::FormOutcome;
use super::keymap::{Action, action_for};
use super::message::{Command, Message};
use super::state::{History, HistoryLine, State, SyncPhase};
use crate::api::{Customer, HistoryEvent, User};
use crate::domain::sanitize;
use crate::sync::{SyncCommand, SyncEvent};

/// Rows moved per mouse-wheel notch.
const WHEEL_ROWS: usize = 3;

/// Applies `message` to `state`, marks the state dirty when what is on
/// screen changed, and returns the work to do.
pub fn update(state: &mut State, message: Message) -> Vec<Command> {
    match message {
        Message::Key(key) => on_key(state, key),
        Message::Mouse(mouse) => {
            match mouse.kind {
                MouseEventKind::ScrollDown => move_by(state, WHEEL_ROWS as isize),
                MouseEventKind::ScrollUp => move_by(state, -(WHEEL_ROWS as isize)),
                _ => return Vec::new(),
            }
            follow_selection(state)
        }
        Message::Resize { width, height } => {
            state.width = width;
            state.height = height;
            keep_selection_visible(state);
            state.mark_dirty();
            Vec::new()
        }
        Message::Paste(text) => changes::on_form_input(state, |form, _| {
            form.handle_paste(&text);
            FormOutcome::Continue
        }),
        Message::Sync(event) => on_sync(state, event),
        Message::Tick(now) => {
            let before = state.sync_status();
            state.now = now;
            if state.sync_status() != before {
                state.mark_dirty();
            }
            Vec::new()
        }
        Message::Terminate => {
            state.quitting = true;
            vec![Command::Quit]
        }
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Command> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    if state.flash.take().is_some() {
        state.mark_dirty();
    }
    if state.confirm_quit {
        state.confirm_quit = false;
        state.mark_dirty();
        return if key.code == KeyCode::Char('y') {
            quit(state)
        } else {
            Vec::new()
        };
    }
    if state.form.is_some() {
        // In a form, Ctrl-C is Esc: a reflex must never throw away typing.
        let key = if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)
        {
            KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)
        } else {
            key
        };
        let commands = changes::on_form_input(state, |form, ctx| form.handle_key(key, ctx));
        clamp_selection(state);
        return commands;
    }
    let Some(action) = action_for(&key) else {
        return Vec::new();
    };
    if state.help_open {
        // Help is modal: any closing key closes it, quitting still quits.
        match action {
            Action::Close | Action::Help => {
                state.help_open = false;
                state.mark_dirty();
            }
            Action::Quit => return quit(state),
            _ => {}
        }
        return Vec::new();
    }
    let page = state.list_rows() as isize;
    match action {
        Action::Down => move_by(state, 1),
        Action::Up => move_by(state, -1),
        Action::PageDown => move_by(state, page),
        Action::PageUp => move_by(state, -page),
        Action::HalfPageDown => move_by(state, page / 2),
        Action::HalfPageUp => move_by(state, -page / 2),
        Action::Top => move_to(state, 0),
        Action::Bottom => move_to(state, state.customers.len().saturating_sub(1)),
        Action::OpenDetail => {
            state.detail_open = state.selected_entry().is_some();
            state.mark_dirty();
        }
        Action::Close => {
            state.detail_open = false;
            state.mark_dirty();
            return Vec::new();
        }
        Action::Refresh => {
            state.mark_dirty();
            return vec![Command::Sync(SyncCommand::Refresh)];
        }
        Action::Help => {
            state.help_open = true;
            state.mark_dirty();
            return Vec::new();
        }
        Action::NewCustomer => {
            changes::open_create(state);
            return Vec::new();
        }
        Action::Edit => {
            changes::open_edit(state);
            state.mark_dirty();
            return Vec::new();
        }
        Action::CopyLink => return copy_link(state),
        Action::Quit => {
            if state.outbox.is_empty() {
                return quit(state);
            }
            state.confirm_quit = true;
            state.mark_dirty();
            return Vec::new();
        }
    }
    follow_selection(state)
}

fn copy_link(state: &mut State) -> Vec<Command> {
    let Some((pending, display_id)) = state.selected_entry().map(|e| (e.pending, e.display_id))
    else {
        return Vec::new();
    };
    state.mark_dirty();
    if pending {
        state.flash = Some("No link yet: the server has not confirmed this customer".into());
        return Vec::new();
    }
    let url = state.share_url(display_id);
    state.flash = Some(format!("{url} sent to clipboard"));
    vec![Command::Copy(url)]
}

fn quit(state: &mut State) -> Vec<Command> {
    state.quitting = true;
    vec![Command::Quit]
}

fn move_by(state: &mut State, delta: isize) {
    let target = state.selected.saturating_add_signed(delta);
    move_to(state, target);
}

fn move_to(state: &mut State, position: usize) {
    let last = state.customers.len().saturating_sub(1);
    let position = position.min(last);
    if position != state.selected {
        state.selected = position;
        state.mark_dirty();
    }
    keep_selection_visible(state);
}

fn keep_selection_visible(state: &mut State) {
    let rows = state.list_rows();
    let max_offset = state.customers.len().saturating_sub(rows);
    let offset = if state.selected < state.offset {
        state.selected
    } else if state.selected >= state.offset + rows {
        state.selected + 1 - rows
    } else {
        state.offset
    }
    .min(max_offset);
    if offset != state.offset {
        state.offset = offset;
        state.mark_dirty();
    }
}

/// With the detail pane open, asks for the history of the customer that is
/// now selected unless it is known already.
fn follow_selection(state: &mut State) -> Vec<Command> {
    if !state.detail_open {
        return Vec::new();
    }
    let Some(id) = state.selected_entry().map(|e| e.id.clone()) else {
        return Vec::new();
    };
    if state.histories.contains_key(&id) {
        return Vec::new();
    }
    state.histories.insert(id.clone(), History::Loading);
    vec![Command::Sync(SyncCommand::LoadHistory(id))]
}

fn on_sync(state: &mut State, event: SyncEvent) -> Vec<Command> {
    state.mark_dirty();
    match event {
        SyncEvent::CacheLoaded {
            customers,
            users,
            me,
            last_synced,
            pending,
        } => {
            set_users(state, users, me);
            if state.customers.is_empty() {
                // The usual case: take the engine's ready-made set whole.
                state.customers = customers;
                clamp_selection(state);
            } else {
                let selected_id = state.selected_entry().map(|e| e.id.clone());
                state.customers.apply_entries(customers.into_entries());
                reselect(state, selected_id);
            }
            changes::restore_pending(state, pending);
            state.sync.last_synced = last_synced;
            state.cache_loaded = true;
        }
        SyncEvent::Started { generation, full } => {
            state.sync.generation = state.sync.generation.max(generation);
            state.sync.phase = SyncPhase::Syncing { fetched: 0, full };
        }
        SyncEvent::Users { users, me } => set_users(state, users, Some(me)),
        SyncEvent::Page {
            generation,
            customers,
            fetched,
        } => {
            if generation < state.sync.generation {
                tracing::debug!(generation, "dropped a page from a superseded sync");
                return Vec::new();
            }
            if let SyncPhase::Syncing { fetched: f, .. } = &mut state.sync.phase {
                *f = fetched;
            }
            apply_customers(state, customers);
        }
        SyncEvent::Finished { generation, at } => {
            if generation >= state.sync.generation {
                state.sync.phase = SyncPhase::Idle;
                state.sync.last_synced = Some(at);
                state.notice = None;
            }
        }
        SyncEvent::Failed {
            generation,
            reason,
            retry_in,
        } => {
            if generation >= state.sync.generation {
                let retry_at = state.now + retry_in;
                state.sync.phase = SyncPhase::Offline { reason, retry_at };
            }
        }
        SyncEvent::History {
            customer_id,
            events,
            fresh,
        } => {
            let events = events.into_iter().map(|e| history_line(state, e)).collect();
            state
                .histories
                .insert(customer_id, History::Loaded { events, fresh });
        }
        SyncEvent::HistoryFailed {
            customer_id,
            reason,
        } => {
            // Keep a cached history rather than replacing it with an error.
            if !matches!(
                state.histories.get(&customer_id),
                Some(History::Loaded { .. })
            ) {
                state.histories.insert(customer_id, History::Failed(reason));
            }
        }
        SyncEvent::Queued { .. } => {}
        SyncEvent::Delivered { key, op, customer } => {
            let selected_id = state.selected_entry().map(|e| e.id.clone());
            let moved = changes::delivered(state, &key, &op, customer);
            if !moved
                && let Some(position) = selected_id.and_then(|id| state.customers.position_of(&id))
            {
                state.selected = position;
            }
            clamp_selection(state);
            return follow_selection(state);
        }
        SyncEvent::Rejected {
            key,
            op,
            message,
            param,
            ..
        } => {
            changes::rejected(state, &key, &op, param.as_deref(), &sanitize(&message));
            clamp_selection(state);
        }
        SyncEvent::Waiting { key, reason, .. } => {
            if let Some(change) = state.outbox.get_mut(&key) {
                change.reason = Some(sanitize(&reason).into_owned());
            }
        }
        SyncEvent::StoreFailed { reason } => {
            state.notice = Some(sanitize(&reason).into_owned());
        }
    }
    Vec::new()
}

/// Applies customers and keeps the same customer selected, wherever the
/// change moved it.
fn apply_customers(state: &mut State, customers: Vec<Customer>) {
    let selected_id = state.selected_entry().map(|e| e.id.clone());
    state.customers.apply(customers);
    reselect(state, selected_id);
}

/// Selects `id` again wherever it moved, or keeps the position in range.
fn reselect(state: &mut State, id: Option<String>) {
    if let Some(position) = id.and_then(|id| state.customers.position_of(&id)) {
        state.selected = position;
    }
    clamp_selection(state);
}

fn clamp_selection(state: &mut State) {
    state.selected = state.selected.min(state.customers.len().saturating_sub(1));
    keep_selection_visible(state);
}

fn set_users(state: &mut State, users: Vec<User>, me: Option<User>) {
    if let Some(me) = me {
        state.me = Some(me.id.clone());
        state.users.insert(me.id, sanitize(&me.name).into_owned());
    }
    for user in users {
        state
            .users
            .insert(user.id, sanitize(&user.name).into_owned());
    }
}

fn history_line(state: &State, event: HistoryEvent) -> HistoryLine {
    HistoryLine {
        at: event.at,
        kind: sanitize(&event.kind).into_owned(),
        summary: sanitize(&event.summary).into_owned(),
        actor: event
            .actor
            .as_deref()
            .and_then(|a| state.owner_label(Some(a))),
    }
}
