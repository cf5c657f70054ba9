//! Duplicate triage: the compare view of every record sharing a domain,
//! moving between groups and where a group stands in the queue, archiving
//! with a confirmation that names the customer, and undoing one change at
//! a time, newest first (an archive here; a merge or a dismissal through
//! `merge` and `dismiss`). Archives and restores go through the outbox like
//! every other change; the list changes at once and follows the server's
//! answer. State updates only, called from `update`; no I/O.

use crossterm::event::KeyEvent;

use unicode_width::UnicodeWidthStr;

use super::finder;
use super::keymap::{Action, KeyMode};
use super::message::Command;
use super::mode::{Compare, ConfirmArchive, Detail, Mode};
use super::state::{Archived, History, PendingChange, State};
use super::{archived, dismiss, merge};
use crate::api::{Customer, IdempotencyKey};
use crate::domain::{CustomerKey, Entry};
use crate::store::{OutboxItem, OutboxOp};
use crate::sync::{ArchivedEntry, SyncCommand};

/// What `c`, `x` and the like say on a record in no group.
pub const NO_GROUP: &str = "No other customer shares this domain or name";

/// How a group is named on screen: a domain group by its domain
/// (`acme.com`), a likely group by its first record's name (`Atlasbridge
/// Security`), which is sanitised like every name.
pub fn group_label(state: &State, key: &str) -> String {
    if crate::domain::customers::as_name_group(key).is_none() {
        return key.to_owned();
    }
    state
        .model
        .customers
        .group(key)
        .first()
        .map_or_else(|| key.to_owned(), |e| e.name.to_string())
}

/// `a`: asks before archiving the customer in focus (the compare view's,
/// else the selected one). Also fetches its history, which the question
/// counts.
pub fn ask_archive(state: &mut State) -> Vec<Command> {
    state.mark_dirty();
    if state.refuse_changes() {
        return Vec::new();
    }
    let Some(entry) = target(state) else {
        return Vec::new();
    };
    let Some(id) = entry.id().filter(|_| !entry.pending).map(str::to_owned) else {
        state.flash = Some("This customer is still being saved; archive it once it is.".into());
        return Vec::new();
    };
    state
        .modes
        .push(Mode::ConfirmArchive(ConfirmArchive { id: id.clone() }));
    load_histories(state, [id])
}

/// The question `a` asks, naming the customer and how much history it has,
/// in at most `width` columns: a long name is cut, never the `(y/N)`.
pub fn archive_question(state: &State, id: &str, width: usize) -> Option<String> {
    let entry = state.model.customers.get(id)?;
    let history = match state.model.histories.get(id) {
        Some(History::Loaded { events, .. }) => match events.len() {
            1 => ", 1 history event".to_owned(),
            n => format!(", {n} history events"),
        },
        Some(History::Loading) => format!(", history loading{}", state.theme.glyphs.ellipsis),
        Some(History::Failed(_)) | None => String::new(),
    };
    let head = format!("Archive #{} ", entry.display_id);
    let yes = state.keymap.label(Action::Yes);
    let tail = format!(" ({}{history})? ({yes}/N)", entry.source);
    let room = width.saturating_sub(head.width() + tail.width()).max(8);
    Some(format!(
        "{head}{}{tail}",
        state.theme.glyphs.truncate(&entry.name, room)
    ))
}

/// The answer to the archive question: only yes (`y`) archives.
pub fn on_confirm_key(state: &mut State, key: KeyEvent) -> Vec<Command> {
    state.mark_dirty();
    let Some(Mode::ConfirmArchive(ConfirmArchive { id })) = state.modes.pop() else {
        return Vec::new();
    };
    if state.keymap.action_for(KeyMode::Confirm, &key) != Some(Action::Yes) {
        state.flash = Some("Not archived".into());
        return Vec::new();
    }
    archive(state, &id)
}

fn archive(state: &mut State, id: &str) -> Vec<Command> {
    let Some(entry) = state.model.customers.remove(id) else {
        return Vec::new();
    };
    // The archive is now the latest change: its undo hint shows.
    state.change_note = None;
    let comparing = state.modes.compare().is_some();
    let key = IdempotencyKey::new();
    state
        .model
        .outbox
        .insert(key.clone(), PendingChange::default());
    state.model.archived.push(Archived {
        entry,
        key: key.clone(),
        delivered: false,
        merge: None,
        stamp: state.model.undo_stamp,
    });
    state.model.undo_stamp += 1;
    clamp_compare(state);
    let mut commands = vec![Command::Sync(SyncCommand::Submit {
        key,
        op: OutboxOp::Archive {
            customer_id: id.to_owned(),
        },
    })];
    if comparing {
        commands.extend(advance_if_done(state));
    }
    commands
}

/// A group archived or merged down to one record is done: compare moves
/// on to the next. When there is none, the undo hint stays where the user
/// looks.
pub(super) fn advance_if_done(state: &mut State) -> Vec<Command> {
    if state.modes.compare().is_none() || compared(state).len() > 1 {
        return Vec::new();
    }
    if let Some(compare) = state.modes.compare() {
        state.model.groups_done.insert(compare.key.clone());
    }
    finder::refresh(state);
    let key = state.modes.compare().map(|c| c.key.clone());
    if group_row(state, true, key.as_deref()).is_some() {
        return to_group(state, true);
    }
    Vec::new()
}

/// `u`: restores the newest archive of this session.
pub fn undo(state: &mut State) -> Vec<Command> {
    state.mark_dirty();
    if state.refuse_changes() {
        return Vec::new();
    }
    let archived_at = state.model.archived.last().map(|a| a.stamp);
    if let Some((_, at)) = state.model.dismissals.last()
        && archived_at.is_none_or(|a| a < *at)
    {
        return dismiss::undo(state);
    }
    if let Some(unit) = state.model.archived.last().and_then(|a| a.merge.clone()) {
        return merge::undo(state, &unit);
    }
    let Some(archived) = state.model.archived.pop() else {
        state.flash = Some("Nothing to undo".into());
        return Vec::new();
    };
    let id = archived.entry.key.clone();
    let display_id = archived.entry.display_id;
    let commands = submit_restore(state, archived.entry);
    if state.modes.compare().is_none() {
        finder::show(state, id);
    }
    state.flash = Some(match state.model.archived.last() {
        Some(next) => format!(
            "Restoring #{display_id}{}u again restores #{}",
            state.theme.glyphs.dash, next.entry.display_id
        ),
        None => format!("Restoring #{display_id}"),
    });
    commands
}

/// Restores an archived customer through the outbox (the one path for
/// `u` and the archived view's `R`): it is back in the list at once,
/// marked pending, and held there against sync pages until Pivotal
/// answers (see [`reassert`]).
pub(super) fn submit_restore(state: &mut State, entry: Entry) -> Vec<Command> {
    // Only confirmed customers are archived (`a` refuses a pending one).
    let customer_id = entry.id().unwrap_or_default().to_owned();
    let key = IdempotencyKey::new();
    state
        .model
        .customers
        .reinstate(entry.clone().into_pending());
    state.model.restoring.insert(key.clone(), entry);
    state
        .model
        .outbox
        .insert(key.clone(), PendingChange::default());
    vec![Command::Sync(SyncCommand::Submit {
        key,
        op: OutboxOp::Restore { customer_id },
    })]
}

/// What the status line says about this session's archives.
pub fn undo_status(state: &State) -> Option<String> {
    if state.change_note.is_some() {
        return None;
    }
    let archived_at = state.model.archived.last().map(|a| a.stamp);
    if let Some((key, at)) = state.model.dismissals.last()
        && archived_at.is_none_or(|a| a < *at)
    {
        return Some(format!(
            "{}: not a duplicate — u to undo",
            group_label(state, key)
        ));
    }
    let last = state.model.archived.last()?;
    if let Some(unit) = &last.merge {
        return merge::undo_status(state, unit);
    }
    Some(format!(
        "Archived #{}{}u to undo",
        last.entry.display_id, state.theme.glyphs.dash
    ))
}

/// The server confirmed an archive or a restore.
pub fn delivered(state: &mut State, key: &IdempotencyKey, op: &OutboxOp, customer: Customer) {
    match op {
        OutboxOp::Archive { .. } => {
            if let Some(archived) = state.model.archived.iter_mut().find(|a| &a.key == key) {
                archived.delivered = true;
            }
        }
        OutboxOp::Restore { .. } => {
            if state.model.restoring.remove(key).is_some() {
                state.flash = Some(format!("Restored #{}", customer.display_id));
            }
        }
        OutboxOp::Create { .. } | OutboxOp::Update { .. } => {}
    }
    state.model.customers.apply([customer]);
    reassert(state);
}

/// Another process on the account (the command line, a second window)
/// settled this app's archive or restore: it is no longer held on screen
/// against sync pages, which from now on show what the server has.
pub fn settled_elsewhere(state: &mut State, key: &IdempotencyKey) {
    if let Some(archived) = state.model.archived.iter_mut().find(|a| &a.key == key) {
        archived.delivered = true;
    }
    state.model.restoring.remove(key);
}

/// The server refused an archive or a restore: the list goes back to what
/// it was, with the reason.
pub fn rejected(state: &mut State, key: &IdempotencyKey, op: &OutboxOp, message: &str) {
    match op {
        OutboxOp::Archive { .. } => {
            if let Some(at) = state.model.archived.iter().position(|a| &a.key == key) {
                let archived = state.model.archived.remove(at);
                state.flash = Some(format!(
                    "Could not archive #{}: {message}",
                    archived.entry.display_id
                ));
                state.model.customers.reinstate(archived.entry);
            }
        }
        OutboxOp::Restore { .. } => {
            if let Some(entry) = state.model.restoring.remove(key) {
                state.flash = Some(format!(
                    "Could not restore #{}: {message}",
                    entry.display_id
                ));
                state.model.customers.remove(&entry.key);
                archived::refused(
                    state,
                    ArchivedEntry {
                        entry,
                        merged_into: None,
                    },
                );
            }
        }
        OutboxOp::Create { .. } | OutboxOp::Update { .. } => {}
    }
    clamp_compare(state);
}

/// Archives waiting in the outbox when the app last stopped leave the list
/// again, and can be undone like new ones.
pub fn restore_pending(state: &mut State, pending: &[OutboxItem]) {
    for item in pending {
        if let OutboxOp::Archive { customer_id } = &item.op
            && let Some(entry) = state.model.customers.remove(customer_id)
        {
            state.model.archived.push(Archived {
                entry,
                key: item.key.clone(),
                delivered: false,
                merge: None,
                stamp: 0,
            });
        }
    }
}

/// Keeps this app's unconfirmed archives and restores on screen whatever a
/// sync page says: a page read before the change was made would otherwise
/// undo it on screen until the next sync.
pub fn reassert(state: &mut State) {
    for archived in state.model.archived.iter().filter(|a| !a.delivered) {
        if state.model.customers.get(&archived.entry.key).is_some() {
            state.model.customers.remove(&archived.entry.key);
        }
    }
    for entry in state.model.restoring.values() {
        if state.model.customers.get(&entry.key).is_none() {
            state
                .model
                .customers
                .reinstate(entry.clone().into_pending());
        }
    }
    clamp_compare(state);
}

/// `c`: compares the selected customer with every record sharing its
/// domain.
pub fn open_compare(state: &mut State) -> Vec<Command> {
    state.mark_dirty();
    let Some(entry) = state.selected_entry() else {
        return Vec::new();
    };
    let id = entry.key.clone();
    let Some(key) = state.selected_group() else {
        state.flash = Some(NO_GROUP.into());
        return Vec::new();
    };
    let group: Vec<CustomerKey> = state
        .model
        .customers
        .group(&key)
        .iter()
        .map(|e| e.key.clone())
        .collect();
    let focus = group.iter().position(|g| *g == id).unwrap_or(0);
    state
        .modes
        .push(Mode::Compare(Compare::new(key.to_string(), focus)));
    let ids: Vec<String> = group
        .iter()
        .filter_map(CustomerKey::id)
        .map(str::to_owned)
        .collect();
    load_histories(state, ids)
}

/// `]` and `[`: the selection moves to the first row of the next (or
/// previous) group of customers sharing a domain, in list order; in
/// compare, the view moves to that group. Says so when there is none.
pub fn to_group(state: &mut State, forward: bool) -> Vec<Command> {
    state.mark_dirty();
    let comparing = state.modes.compare().map(|c| c.key.clone());
    let current = comparing.clone().or_else(|| state.selected_group());
    let Some(row) = group_row(state, forward, current.as_deref()) else {
        state.flash = Some(if forward {
            "No more groups of duplicates below".into()
        } else {
            "No more groups of duplicates above".into()
        });
        return Vec::new();
    };
    if comparing.is_some() {
        state.modes.pop();
    }
    state.move_to(row);
    if comparing.is_some() {
        return open_compare(state);
    }
    Vec::new()
}

/// The first row of the next (or previous) duplicate group after the group
/// `current` (where its rows are, else the selection): rows in a group
/// (see [`State::group_at_row`]) with another group key.
fn group_row(state: &State, forward: bool, current: Option<&str>) -> Option<usize> {
    if state.finder.duplicates_only {
        queue_row(state, forward, current)
    } else {
        walk_row(state, forward, current)
    }
}

/// [`group_row`] by walking the rows, reading each one's group: in the
/// full list, where the rows of a group need not be adjacent.
pub(super) fn walk_row(state: &State, forward: bool, current: Option<&str>) -> Option<usize> {
    let key_at = |row: usize| state.group_at_row(row);
    let other = |row: usize| key_at(row).is_some_and(|k| Some(&*k) != current);
    let anchor =
        current.and_then(|k| (0..state.row_count()).find(|&r| key_at(r).as_deref() == Some(k)));
    if forward {
        // Past the group's rows, or from the selection when they are gone.
        let from = anchor.map_or(state.selected, |a| a + 1);
        return (from..state.row_count()).find(|&row| other(row));
    }
    let from = anchor.unwrap_or(state.selected);
    let found = (0..from).rev().find(|&row| other(row))?;
    // Up to where that group starts.
    let key = key_at(found);
    let mut start = found;
    while start > 0 && key_at(start - 1) == key {
        start -= 1;
    }
    Some(start)
}

/// [`group_row`] in duplicates only, where every row is in a group and the
/// rows know where each starts: the first row of the group after (or
/// before) `current`, or, when it is gone, of the group at (or above) the
/// selection.
pub(super) fn queue_row(state: &State, forward: bool, current: Option<&str>) -> Option<usize> {
    let groups = state.finder.rows.groups();
    let at = current.and_then(|k| groups.iter().position(|(_, key)| key == k));
    let index = match (at, forward) {
        (Some(at), true) => at + 1,
        (Some(at), false) => at.checked_sub(1)?,
        (None, true) => return (state.selected < state.row_count()).then_some(state.selected),
        // The group of the row above the selection.
        (None, false) => {
            let above = state.selected.checked_sub(1)?;
            groups
                .partition_point(|&(start, _)| start <= above)
                .checked_sub(1)?
        }
    };
    groups.get(index).map(|&(start, _)| start)
}

/// Where the group sharing `key` is in the queue, counting the groups done
/// this session first: `(2, 8)` for group 2 of 8. Only while the list
/// shows duplicates only (its rows are then the groups, in order).
pub fn group_place(state: &State, key: &str) -> Option<(usize, usize)> {
    if !state.finder.duplicates_only {
        return None;
    }
    let done = state.model.groups_done.len();
    let queue = state.finder.rows.groups();
    let at = queue.iter().position(|(_, k)| k == key)?;
    Some((done + at + 1, done + queue.len()))
}

/// How many groups the queue holds, the done ones included, and how many
/// are done: `(8, 3)` for `8 groups · 3 done`.
pub fn queue_count(state: &State) -> (usize, usize) {
    let done = state.model.groups_done.len();
    (done + state.finder.rows.groups().len(), done)
}

/// The records the compare view shows, by `display_id`.
pub fn compared(state: &State) -> Vec<&Entry> {
    state
        .modes
        .compare()
        .map(|c| state.model.customers.group(&c.key))
        .unwrap_or_default()
}

/// What the compare view's own keys do. Returns `None` for actions it
/// shares with the list (archive, undo, help, sync).
pub fn on_compare_action(state: &mut State, action: Action) -> Option<Vec<Command>> {
    let compare = state.modes.compare_mut()?;
    let count = state.model.customers.group(&compare.key).len().max(1);
    match action {
        Action::Close | Action::Compare | Action::Quit => {
            state.modes.pop();
        }
        Action::Next => {
            compare.focus = (compare.focus + 1) % count;
        }
        Action::Previous => {
            compare.focus = (compare.focus + count - 1) % count;
        }
        Action::OpenDetail => {
            let id = target(state).map(|e| e.key.clone());
            // Over the compare view, so that closing them comes back here.
            if let Some(id) = id {
                finder::show(state, id);
                state.modes.push(Mode::Detail(Detail::default()));
            }
        }
        _ => return None,
    }
    state.mark_dirty();
    Some(Vec::new())
}

/// Focuses the compare view's `record` (a click on it), as `←`/`→` would.
pub fn focus_record(state: &mut State, record: usize) {
    let Some(compare) = state.modes.compare_mut() else {
        return;
    };
    let count = state.model.customers.group(&compare.key).len();
    if record < count && compare.focus != record {
        compare.focus = record;
        state.mark_dirty();
    }
}

/// The customer `a` acts on: the compare view's focus, else the selection.
fn target(state: &State) -> Option<&Entry> {
    match state.modes.compare() {
        Some(compare) => compared(state).get(compare.focus).copied(),
        None => state.selected_entry(),
    }
}

/// Keeps the compare view's focus on a record, closing it when none is
/// left.
pub(super) fn clamp_compare(state: &mut State) {
    let customers = &state.model.customers;
    for compare in state.modes.compares_mut() {
        let count = customers.group(&compare.key).len();
        compare.focus = compare.focus.min(count.saturating_sub(1));
    }
    state
        .modes
        .close_compare_views(|c| customers.group(&c.key).is_empty());
}

/// Asks for the histories of `ids` that are not known yet.
pub(super) fn load_histories(
    state: &mut State,
    ids: impl IntoIterator<Item = String>,
) -> Vec<Command> {
    ids.into_iter()
        .filter(|id| !state.model.histories.contains_key(id))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|id| {
            state.model.histories.insert(id.clone(), History::Loading);
            Command::Sync(SyncCommand::LoadHistory(id))
        })
        .collect()
}
