//! `update`: the one place where the app's state changes. It turns a
//! [`Message`] into new state and a list of [`Command`]s for the outside
//! world; it does no I/O and draws nothing.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};
use time::OffsetDateTime;

use super::changes;
use super::finder;
use super::form::FormOutcome;
use super::keymap::{Action, KeyMode};
use super::message::{Command, Message};
use super::mode::Mode;
use super::preview;
use super::state::{History, HistoryLine, State, SyncPhase};
use super::triage;
use crate::api::{Customer, HistoryEvent, IdempotencyKey, User};
use crate::domain::{CustomerSet, Entry, sanitize};
use crate::store::OutboxOp;
use crate::sync::{SyncCommand, SyncEvent};

/// Rows moved per mouse-wheel notch.
const WHEEL_ROWS: usize = 3;
/// A sync starting this soon after `r` was asked for: shown at once.
const QUIET_UNLESS_ASKED_WITHIN: time::Duration = time::Duration::seconds(5);
/// A second `r` this soon after the first syncs everything again.
const FULL_REFRESH_WITHIN: time::Duration = time::Duration::seconds(2);

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
    let current = state.selected_entry().map(|e| e.id.as_str());
    if current != state.selected_id.as_deref() {
        state.selected_id = current.map(str::to_owned);
    }
}

fn dispatch(state: &mut State, message: Message) -> Vec<Command> {
    match message {
        Message::Key(key) => on_key(state, key),
        Message::Mouse(mouse) => {
            match mouse.kind {
                MouseEventKind::ScrollDown => state.move_by(WHEEL_ROWS as isize),
                MouseEventKind::ScrollUp => state.move_by(-(WHEEL_ROWS as isize)),
                _ => return Vec::new(),
            }
            follow_selection(state)
        }
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

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Command> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    if state.flash.take().is_some() {
        state.mark_dirty();
    }
    if let Some(commands) = on_modal_key(state, key) {
        return commands;
    }
    if state.finder.line.as_ref().is_some_and(|l| l.editing) {
        finder::on_line_key(state, key);
        return follow_selection(state);
    }
    let mode = state.modes.key_mode();
    let Some(action) = state.keymap.action_for(mode, &key) else {
        nothing_here(state, &key);
        return Vec::new();
    };
    if action == Action::Exit {
        return quit_or_ask(state);
    }
    if mode == KeyMode::Compare
        && let Some(commands) = triage::on_compare_action(state, action)
    {
        return commands;
    }
    on_action(state, action)
}

/// Keys for the mode on top when it takes every key itself: a question,
/// the form, help. `None` when the list's keymap applies.
fn on_modal_key(state: &mut State, key: KeyEvent) -> Option<Vec<Command>> {
    let commands = match state.modes.top()? {
        Mode::ConfirmQuit => {
            state.modes.pop();
            state.mark_dirty();
            if state.keymap.action_for(KeyMode::Confirm, &key) == Some(Action::Yes) {
                quit(state)
            } else {
                Vec::new()
            }
        }
        // The form's keys are the keymap's Form rows (Ctrl-c there is
        // Esc: a reflex never throws away typing).
        Mode::Form(_) => changes::on_form_input(state, |form, ctx| form.handle_key(key, ctx)),
        Mode::ConfirmArchive { .. } => triage::on_confirm_key(state, key),
        Mode::Help { .. } => on_help_key(state, key),
        Mode::Detail { .. } | Mode::Compare(_) => return None,
    };
    Some(commands)
}

/// An action in the list or the details (and those compare shares).
fn on_action(state: &mut State, action: Action) -> Vec<Command> {
    let page = state.list_rows() as isize;
    let before = state.selected;
    match action {
        Action::Down => state.move_by(1),
        Action::Up => state.move_by(-1),
        Action::PageDown => state.move_by(page),
        Action::PageUp => state.move_by(-page),
        Action::HalfPageDown => state.move_by(page / 2),
        Action::HalfPageUp => state.move_by(-page / 2),
        Action::Top => state.move_to(0),
        Action::Bottom => state.move_to(usize::MAX),
        Action::OpenDetail => {
            if state.selected_entry().is_some() {
                state.modes.open_detail();
            }
            state.mark_dirty();
        }
        Action::Close => {
            if state.modes.detail_open() {
                close_detail(state);
            } else {
                finder::clear_line(state);
            }
            state.mark_dirty();
            return Vec::new();
        }
        Action::Filter => {
            finder::open_line(state);
            return Vec::new();
        }
        Action::Mine => finder::toggle_mine(state),
        Action::Duplicates => finder::toggle_duplicates(state),
        Action::Compare => return triage::open_compare(state),
        Action::Archive => return triage::ask_archive(state),
        Action::Undo => return triage::undo(state),
        Action::Sort => finder::set_sort(state, state.model.customers.sort().cycled()),
        Action::Reverse => finder::set_sort(state, state.model.customers.sort().flipped()),
        Action::Refresh => return refresh(state),
        Action::Help => {
            state.modes.push(Mode::Help { scroll: 0 });
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
        // As in less and k9s: `q` leaves a sub-view, and quits from the
        // list.
        Action::Quit if state.modes.detail_open() => {
            close_detail(state);
            state.mark_dirty();
            return Vec::new();
        }
        Action::Quit | Action::Exit => return quit_or_ask(state),
        Action::NextGroup => return triage::to_group(state, true),
        Action::PreviousGroup => return triage::to_group(state, false),
        Action::DetailDown => state.modes.scroll_detail(1),
        Action::DetailUp => state.modes.scroll_detail(-1),
        // Keys of other modes.
        Action::Next
        | Action::Previous
        | Action::Yes
        | Action::KeepFilter
        | Action::ClearFilter
        | Action::NextMatch
        | Action::PreviousMatch
        | Action::Submit
        | Action::OpenDuplicate
        | Action::NextField
        | Action::PreviousField
        | Action::RemoveRow => return Vec::new(),
    }
    if state.selected != before {
        // Another customer's details start at their top.
        state.modes.reset_detail_scroll();
    }
    follow_selection(state)
}

/// `r`: sync now, and the open customer's history; twice within
/// [`FULL_REFRESH_WITHIN`], sync every customer again.
fn refresh(state: &mut State) -> Vec<Command> {
    state.mark_dirty();
    let again = state
        .model
        .sync
        .refresh_asked_at
        .replace(state.now)
        .is_some_and(|at| state.now - at <= FULL_REFRESH_WITHIN);
    let sync = if again {
        state.model.sync.refresh_asked_at = None;
        state.flash = Some("syncing every customer again".to_owned());
        SyncCommand::FullRefresh
    } else {
        SyncCommand::Refresh
    };
    let mut commands = vec![Command::Sync(sync)];
    commands.extend(reload_history(state));
    commands
}

/// A character key that means nothing where the user is: say so briefly,
/// rather than nothing at all.
fn nothing_here(state: &mut State, key: &KeyEvent) {
    if let KeyCode::Char(c) = key.code
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        let help = state.keymap.label(Action::Help).to_owned();
        state.flash = Some(format!("{c} does nothing here · {help} for keys"));
        state.mark_dirty();
    }
}

/// Quits, asking first when changes are not sent yet.
fn quit_or_ask(state: &mut State) -> Vec<Command> {
    if state.model.outbox.is_empty() {
        return quit(state);
    }
    state.modes.push(Mode::ConfirmQuit);
    state.mark_dirty();
    Vec::new()
}

/// Help is modal: any closing key closes it, back to the view below; the
/// moving keys scroll it; Ctrl-C still quits.
fn on_help_key(state: &mut State, key: KeyEvent) -> Vec<Command> {
    let action = state.keymap.action_for(KeyMode::Help, &key);
    let Some(Mode::Help { scroll }) = state.modes.top_mut() else {
        return Vec::new();
    };
    match action {
        Some(Action::Exit) => return quit_or_ask(state),
        Some(Action::Close | Action::Help | Action::Quit) => {
            state.modes.pop();
        }
        Some(Action::Down | Action::PageDown) => *scroll = scroll.saturating_add(1),
        Some(Action::Up | Action::PageUp) => *scroll = scroll.saturating_sub(1),
        _ => return Vec::new(),
    }
    state.mark_dirty();
    Vec::new()
}

/// Closes the details, back to the view they were opened from.
fn close_detail(state: &mut State) {
    if matches!(state.modes.top(), Some(Mode::Detail { .. })) {
        state.modes.pop();
    }
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

/// With the detail pane open, asks for the selected customer's history
/// again (the cached copy stays on screen until the fresh one comes).
fn reload_history(state: &mut State) -> Vec<Command> {
    if !state.modes.detail_open() {
        return Vec::new();
    }
    let Some(id) = state.selected_entry().map(|e| e.id.clone()) else {
        return Vec::new();
    };
    state
        .model
        .histories
        .entry(id.clone())
        .or_insert(History::Loading);
    vec![Command::Sync(SyncCommand::LoadHistory(id))]
}

/// With the detail pane open, asks for the history of the customer that is
/// now selected unless it is known already.
fn follow_selection(state: &mut State) -> Vec<Command> {
    if !state.modes.detail_open() {
        return Vec::new();
    }
    let Some(id) = state.selected_entry().map(|e| e.id.clone()) else {
        return Vec::new();
    };
    if state.model.histories.contains_key(&id) {
        return Vec::new();
    }
    state.model.histories.insert(id.clone(), History::Loading);
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
            take_cache(state, customers);
            triage::restore_pending(state, &pending);
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
        SyncEvent::StoreFailed { reason } => {
            state.notice = Some(sanitize(&reason).into_owned());
        }
        outbox => return on_outbox_event(state, outbox),
    }
    Vec::new()
}

/// The engine's set, read from the cache: taken whole in the usual case (an
/// empty list), merged otherwise.
fn take_cache(state: &mut State, customers: CustomerSet) {
    if state.model.customers.is_empty() {
        let sort = state.model.customers.sort();
        state.model.customers = customers;
        state.model.customers.set_sort(sort);
        set_owner_names(state);
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
    if std::mem::take(&mut state.model.remember_api_url) {
        return vec![Command::RememberApiUrl];
    }
    Vec::new()
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
        SyncEvent::Outbox { pending } => {
            let mut commands = changes::reconcile(state, pending);
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
        OutboxOp::Create { .. } | OutboxOp::Update { .. } => {
            changes::delivered(state, key, op, customer);
        }
    }
    finder::refresh(state);
    if state.selected_entry().is_some_and(|e| e.id == changed) {
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
    triage::reassert(state);
}

pub(super) fn set_users(state: &mut State, users: Vec<User>, me: Option<User>) {
    if let Some(me) = me {
        state.model.me = Some(me.id.clone());
        state
            .model
            .users
            .insert(me.id, sanitize(&me.name).into_owned());
    }
    for user in users {
        state
            .model
            .users
            .insert(user.id, sanitize(&user.name).into_owned());
    }
    state.model.team_version += 1;
    set_owner_names(state);
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
