//! `update`: the one place where the app's state changes. It turns a
//! [`Message`] into new state and a list of [`Command`]s for the outside
//! world; it does no I/O and draws nothing.

use std::sync::Arc;

use crossterm::event::{KeyEvent, KeyEventKind};
use time::OffsetDateTime;

use super::archived;
use super::changes;
use super::dismiss;
use super::finder;
use super::form::FormOutcome;
use super::merge;
use super::message::{Command, Message};
use super::pointer;
use super::preview;
use super::screens::{self, follow_selection, reload_history};
use super::state::{History, HistoryLine, State, SyncPhase};
use super::triage;
use crate::api::{Customer, HistoryEvent, IdempotencyKey, User};
use crate::domain::{CustomerSet, Entry, sanitize};
use crate::store::OutboxOp;
use crate::sync::{BuiltIndex, SyncEvent};

/// A sync starting this soon after `r` was asked for: shown at once.
const QUIET_UNLESS_ASKED_WITHIN: time::Duration = time::Duration::seconds(5);

/// Applies `message` to `state`, marks the state dirty when what is on
/// screen changed, and returns the work to do.
pub fn update(state: &mut State, message: Message) -> Vec<Command> {
    let (message, handed_over) = match preview::intercept(state, message) {
        preview::Step::Done(commands) => return commands,
        preview::Step::Apply(message, handed_over) => (message, handed_over),
    };
    // Rows are derived from the set and the filters; they are current
    // before a message is handled and made current again after it.
    finder::refresh(state);
    let mut commands = dispatch(state, message);
    state.note_progress();
    finder::refresh(state);
    remember_selection(state);
    let (sort, mine) = (state.model.customers.sort(), state.finder.mine);
    if (sort, mine)
        != (
            state.model.view_settings.sort(),
            state.model.view_settings.mine,
        )
    {
        let view = state.model.view_settings.with(sort, mine);
        state.model.view_settings = view.clone();
        commands.push(Command::SaveView(view));
    }
    commands.extend(preview::after(state, handed_over));
    commands
}

/// Notes which customer is selected, so the selection follows it when the
/// rows change; allocates only when the selection moved.
fn remember_selection(state: &mut State) {
    let current = state.selected_entry().map(|e| &e.key);
    if current != state.selected_id.as_ref() {
        state.selected_id = current.cloned();
    }
}

fn dispatch(state: &mut State, message: Message) -> Vec<Command> {
    match message {
        Message::Key(key) => on_key(state, key),
        Message::Mouse(mouse) => pointer::on_mouse(state, mouse),
        Message::Resize { width, height } => {
            state.width = width;
            state.height = height;
            state.keep_selection_visible();
            state.mark_dirty();
            Vec::new()
        }
        Message::Paste(text) if state.modes.form().is_none() => {
            if state.finder.line.as_ref().is_some_and(|l| l.editing) {
                finder::on_line_paste(state, &text);
            }
            Vec::new()
        }
        Message::Paste(text) => changes::on_form_input(state, |form, _| {
            form.handle_paste(&text);
            FormOutcome::Continue
        }),
        Message::Sync(event) => on_sync(state, event),
        Message::Tick(now) => {
            let before = state.clock_face();
            state.now = now;
            if state.clock_face() != before {
                state.mark_dirty();
            }
            Vec::new()
        }
        Message::SettingsNotSaved(reason) => {
            state.notice = Some(format!("settings not saved: {}", sanitize(&reason)));
            state.mark_dirty();
            Vec::new()
        }
        Message::Terminate => {
            state.quitting = true;
            vec![Command::Quit]
        }
    }
}

/// A key goes to the mode on top (`screens`); any key ends a flash.
fn on_key(state: &mut State, key: KeyEvent) -> Vec<Command> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    if state.flash.take().is_some() {
        state.mark_dirty();
    }
    screens::handle_key(state, key)
}

fn on_sync(state: &mut State, event: SyncEvent) -> Vec<Command> {
    state.mark_dirty();
    match event {
        SyncEvent::CacheLoaded {
            customers,
            index,
            users,
            me,
            last_synced,
            pending,
            merges,
        } => {
            set_users(state, users, me);
            take_cache(state, *customers, index);
            triage::restore_pending(state, &pending);
            merge::restore_pending(state, merges);
            changes::restore_pending(state, pending);
            state.model.sync.last_synced = last_synced;
            state.model.cache_loaded = true;
        }
        SyncEvent::Started { generation, full } => on_started(state, generation, full),
        SyncEvent::Users { users, me } => set_users(state, users, Some(me)),
        SyncEvent::Page {
            generation,
            customers,
            fetched,
        } => on_page(state, generation, customers, fetched),
        SyncEvent::Finished {
            generation,
            at,
            skipped,
        } => return on_finished(state, generation, at, skipped),
        SyncEvent::Failed {
            generation,
            reason,
            retry_in,
        } => {
            if generation >= state.model.sync.generation {
                let retry_at = state.now + retry_in;
                state.model.sync.phase = SyncPhase::Offline { reason, retry_at };
            }
        }
        SyncEvent::History {
            customer_id,
            events,
            fresh,
        } => {
            let events = events.into_iter().map(|e| history_line(state, e)).collect();
            state
                .model
                .histories
                .insert(customer_id, History::Loaded { events, fresh });
        }
        SyncEvent::HistoryFailed {
            customer_id,
            reason,
        } => {
            // Keep a cached history rather than replacing it with an error.
            if !matches!(
                state.model.histories.get(&customer_id),
                Some(History::Loaded { .. })
            ) {
                state
                    .model
                    .histories
                    .insert(customer_id, History::Failed(reason));
            }
        }
        SyncEvent::Dismissed { groups, seen } => dismiss::loaded(state, groups, seen),
        SyncEvent::Archived { customers } => archived::loaded(state, customers),
        SyncEvent::StoreFailed { reason } => {
            state.notice = Some(sanitize(&reason).into_owned());
        }
        outbox => return on_outbox_event(state, outbox),
    }
    Vec::new()
}

/// The engine's set, read from the cache: taken whole in the usual case (an
/// empty list), with the search index built beside it, or merged
/// otherwise.
fn take_cache(state: &mut State, customers: CustomerSet, index: Option<Arc<BuiltIndex>>) {
    if state.model.customers.is_empty() {
        let built_for = customers.version();
        let sort = state.model.customers.sort();
        state.model.customers = customers;
        state.model.customers.set_sort(sort);
        set_owner_names(state);
        if let Some(built) = index.and_then(|built| Arc::try_unwrap(built).ok())
            && built.owners == state.model.users
        {
            finder::take_index(state, built.index, built_for);
        }
    } else {
        state
            .model
            .customers
            .apply_entries(customers.into_entries());
    }
    let largest = state
        .model
        .customers
        .iter_ordered()
        .map(|e| e.display_id)
        .max();
    state.note_display_ids(largest);
}

/// A sync run began: a background one (periodic, incremental, not asked
/// for with `r`) stays off the status line for a while (see
/// `State::quiet_for`).
fn on_started(state: &mut State, generation: u64, full: bool) {
    state.model.sync.generation = state.model.sync.generation.max(generation);
    state.model.sync.phase = SyncPhase::Syncing { fetched: 0, full };
    let asked = (state.model.sync.refresh_asked_at)
        .is_some_and(|at| state.now - at <= QUIET_UNLESS_ASKED_WITHIN);
    state.model.sync.quiet_since = (!full && !asked).then_some(state.now);
}

/// A page of a sync run, unless a newer run replaced it.
fn on_page(state: &mut State, generation: u64, customers: Vec<Entry>, fetched: usize) {
    if generation < state.model.sync.generation {
        tracing::debug!(generation, "dropped a page from a superseded sync");
        return;
    }
    if let SyncPhase::Syncing { fetched: f, .. } = &mut state.model.sync.phase {
        *f = fetched;
    }
    apply_customers(state, customers);
}

fn on_finished(
    state: &mut State,
    generation: u64,
    at: OffsetDateTime,
    skipped: usize,
) -> Vec<Command> {
    if generation >= state.model.sync.generation {
        state.model.sync.phase = SyncPhase::Idle;
        state.model.sync.last_synced = Some(at);
        state.model.sync.skipped = skipped;
        state.notice = None;
    }
    // Archives and restores made elsewhere reach the open archived view.
    let mut commands = archived::reload(state);
    if std::mem::take(&mut state.model.remember_api_url) {
        commands.push(Command::RememberApiUrl);
    }
    commands
}

/// What the engine says about the outbox. A settled change (delivered or
/// refused) leaves the outbox bookkeeping here, once, before the views of
/// triage and the form act on it.
fn on_outbox_event(state: &mut State, event: SyncEvent) -> Vec<Command> {
    match event {
        SyncEvent::Queued { key } => {
            if let Some(change) = state.model.outbox.get_mut(&key) {
                change.stored = true;
            }
        }
        SyncEvent::Outbox { pending, merges } => {
            let mut commands = changes::reconcile(state, pending, merges);
            finder::refresh(state);
            commands.extend(follow_selection(state));
            return commands;
        }
        SyncEvent::Waiting { key, reason, .. } => {
            if let Some(change) = state.model.outbox.get_mut(&key) {
                change.reason = Some(sanitize(&reason).into_owned());
            }
        }
        SyncEvent::Delivered { key, op, customer } => {
            state.model.outbox.remove(&key);
            return on_delivered(state, &key, &op, customer);
        }
        SyncEvent::Rejected {
            key,
            op,
            message,
            param,
            ..
        } => {
            state.model.outbox.remove(&key);
            let message = sanitize(&message);
            if merge::rejected(state, &key, &message) {
                return Vec::new();
            }
            match op {
                OutboxOp::Archive { .. } | OutboxOp::Restore { .. } => {
                    triage::rejected(state, &key, &op, &message);
                }
                OutboxOp::Create { .. } | OutboxOp::Update { .. } => {
                    changes::rejected(state, &key, &op, param.as_deref(), &message);
                }
            }
        }
        _ => {}
    }
    Vec::new()
}

/// The server has a change: the views take its answer, and the details'
/// history, which now holds the change, is fetched again.
fn on_delivered(
    state: &mut State,
    key: &IdempotencyKey,
    op: &OutboxOp,
    customer: Customer,
) -> Vec<Command> {
    state.note_display_ids([customer.display_id]);
    let changed = customer.id.clone();
    match op {
        OutboxOp::Archive { .. } | OutboxOp::Restore { .. } => {
            triage::delivered(state, key, op, customer);
        }
        OutboxOp::Update { .. } if merge::is_edit(state, key) => {
            merge::edit_delivered(state, key, customer);
        }
        OutboxOp::Create { .. } | OutboxOp::Update { .. } => {
            changes::delivered(state, key, op, customer);
        }
    }
    finder::refresh(state);
    if state.selected_entry().and_then(Entry::id) == Some(changed.as_str()) {
        return reload_history(state);
    }
    state.model.histories.remove(&changed);
    follow_selection(state)
}

/// Applies a page the engine already made into entries; the selection
/// follows the selected customer when the rows are refreshed.
fn apply_customers(state: &mut State, customers: Vec<Entry>) {
    state.note_display_ids(customers.iter().map(|c| c.display_id));
    state.model.customers.apply_entries(customers);
    finder::keep_index(state);
    triage::reassert(state);
}

pub(super) fn set_users(state: &mut State, users: Vec<User>, me: Option<User>) {
    let mut changed = false;
    if let Some(me) = me {
        state.model.me = Some(me.id.clone());
        changed |= put_user(state, me);
    }
    for user in users {
        changed |= put_user(state, user);
    }
    // Every sync run fetches the team again; only a real change re-sorts
    // owners and re-indexes the list's search text (a full rebuild on the
    // UI task: 20 ms at 100,000 customers, a quarter second at 1,000,000).
    if changed {
        state.model.team_version += 1;
        set_owner_names(state);
    }
}

/// Files `user`'s name as the list shows it; true when that is news.
fn put_user(state: &mut State, user: User) -> bool {
    let name = sanitize(&user.name);
    if state.model.users.get(&user.id).map(String::as_str) == Some(&*name) {
        return false;
    }
    let name = name.into_owned();
    state.model.users.insert(user.id, name);
    true
}

/// Owners sort by the names the list shows.
fn set_owner_names(state: &mut State) {
    let names = state
        .model
        .users
        .iter()
        .map(|(id, name)| (id.as_str(), name.as_str()));
    state.model.customers.set_owner_names(names);
}

fn history_line(state: &State, event: HistoryEvent) -> HistoryLine {
    HistoryLine {
        at: event.at,
        // `contact_added` reads as `contact added`.
        kind: sanitize(&event.kind).replace('_', " "),
        summary: sanitize(&event.summary).into_owned(),
        actor: event
            .actor
            .as_deref()
            .and_then(|a| state.owner_label(Some(a))),
    }
}
