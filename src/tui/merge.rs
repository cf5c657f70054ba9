//! Merging a group of duplicates into its keeper, from the compare view:
//! the rows compare shows and which of them a merge can fill, the field
//! cursor (`j`/`k`), choosing the keeper (`K`), taking a field from the
//! record in focus (`Space`), the one question `M` asks, and the merge
//! itself: the keeper's edit and each archive queued as one unit in the
//! outbox, shown at once, followed by the server's answers, and undone
//! whole by `u`. The rule of the result is `domain::merge`'s.
//!
//! State updates only, called from `update` and the screens; no I/O.

use crossterm::event::KeyEvent;
use time::OffsetDateTime;
use unicode_width::UnicodeWidthStr;

use super::changes;
use super::finder;
use super::format;
use super::keymap::{Action, KeyMode};
use super::message::Command;
use super::mode::{Compare, ConfirmMerge, Mode};
use super::state::{Archived, History, MergeDone, PendingChange, State};
use super::triage;
use crate::api::{Customer, IdempotencyKey};
use crate::domain::Entry;
use crate::domain::keeper::{self, Candidate, Suggestion};
use crate::domain::merge::{self, MergeField, Merged};
use crate::store::{MergedInto, OutboxOp, PendingMerge, Unit};
use crate::sync::SyncCommand;

/// How far `PgDn`/`PgUp` move the field cursor.
const PAGE: usize = 10;

/// One row of the compare table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A field a merge fills or takes.
    Merge(MergeField),
    Source,
    Created,
    Updated,
    History,
}

impl Row {
    pub fn label(&self) -> &str {
        match self {
            Row::Merge(MergeField::Name) => "Name",
            Row::Merge(MergeField::Domain) => "Domain",
            Row::Merge(MergeField::Owner) => "Owner",
            Row::Merge(MergeField::Plan) => "Plan",
            Row::Merge(MergeField::Tags) => "Tags",
            Row::Merge(MergeField::Custom(key)) => key,
            Row::Source => "Source",
            Row::Created => "Created",
            Row::Updated => "Updated",
            Row::History => "History",
        }
    }
}

/// The rows compare shows for `records`, in reading order: custom fields
/// are the union of the records' keys, sorted.
pub fn rows(records: &[&Entry]) -> Vec<Row> {
    let mut rows = vec![
        Row::Merge(MergeField::Name),
        Row::Merge(MergeField::Domain),
        Row::Source,
        Row::Merge(MergeField::Owner),
        Row::Merge(MergeField::Plan),
        Row::Merge(MergeField::Tags),
    ];
    rows.extend(
        merge::custom_keys(records)
            .into_iter()
            .map(|k| Row::Merge(MergeField::Custom(k.to_owned()))),
    );
    rows.extend([Row::Created, Row::Updated, Row::History]);
    rows
}

/// What the keeper rule looks at, from what the app knows (histories
/// still loading count as none yet).
fn candidates<'a>(state: &State, records: &[&'a Entry]) -> Vec<Candidate<'a>> {
    records
        .iter()
        .map(|e| Candidate {
            display_id: e.display_id,
            history: match e.id().and_then(|id| state.model.histories.get(id)) {
                Some(History::Loaded { events, .. }) => Some(events.len()),
                _ => None,
            },
            source: &e.source,
            has_owner: e.owner_id.is_some(),
            created_at: e.created_at,
        })
        .collect()
}

/// The suggested keeper of `records`, with why.
pub fn suggestion(state: &State, records: &[&Entry]) -> Option<Suggestion> {
    keeper::suggest(&candidates(state, records))
}

/// The keeper after merging the compared `records` as `compare` chose.
pub fn result(state: &State, compare: &Compare, records: &[&Entry]) -> Option<Merged> {
    let order = keeper::ranked(&candidates(state, records));
    merge::merge(records, &order, &compare.choices)
}

/// How the result writes one field's value: an owner by name.
pub fn shown(state: &State, field: &MergeField, value: Option<String>) -> Option<String> {
    match field {
        MergeField::Owner => value.and_then(|id| state.owner_label(Some(&id))),
        _ => value,
    }
}

/// The compare view's merge keys: the field cursor, `K`, `Space`, `M`.
/// `None` for the others.
pub fn on_compare_action(state: &mut State, action: Action) -> Option<Vec<Command>> {
    let records = triage::compared(state);
    let count = rows(&records).len();
    let focused = records
        .get(state.modes.compare()?.focus)
        .map(|e| e.display_id);
    let compare = state.modes.compare_mut()?;
    let last = count.saturating_sub(1);
    match action {
        Action::Down => compare.cursor = (compare.cursor + 1).min(last),
        Action::Up => compare.cursor = compare.cursor.saturating_sub(1),
        Action::PageDown => compare.cursor = (compare.cursor + PAGE).min(last),
        Action::PageUp => compare.cursor = compare.cursor.saturating_sub(PAGE),
        Action::MakeKeeper => {
            let id = focused?;
            compare.choices.keeper = Some(id);
            compare.choices.takes.retain(|_, from| *from != id);
            state.flash = Some(format!("#{id} is the keeper"));
        }
        Action::Take => take(state),
        Action::Merge => return Some(ask(state)),
        _ => return None,
    }
    state.mark_dirty();
    Some(Vec::new())
}

/// `Space`: the result takes the focused record's value of the field under
/// the cursor (again, or on the keeper: back to the rule).
fn take(state: &mut State) {
    let records = triage::compared(state);
    let Some(compare) = state.modes.compare() else {
        return;
    };
    let Some(entry) = records.get(compare.focus) else {
        return;
    };
    let id = entry.display_id;
    let row = rows(&records).into_iter().nth(compare.cursor);
    let keeper = result(state, compare, &records).map(|m| records[m.keeper].display_id);
    let message = match row {
        Some(Row::Merge(MergeField::Tags)) => {
            Err("Tags are merged as the union of every record's".to_owned())
        }
        Some(Row::Merge(field)) => {
            if merge::is_blank(field.value_of(entry).as_deref()) {
                Err(format!("#{id} has no {}", field.label()))
            } else {
                Ok((field, id))
            }
        }
        Some(other) => Err(format!("{} stays the keeper's", other.label())),
        None => return,
    };
    let flash = match message {
        Err(why) => why,
        Ok((field, id)) => {
            let label = field.label().to_owned();
            let Some(compare) = state.modes.compare_mut() else {
                return;
            };
            let takes = &mut compare.choices.takes;
            if Some(id) == keeper || takes.get(&field) == Some(&id) {
                takes.remove(&field);
                format!("{label}: back to the keeper's (blank: filled)")
            } else {
                takes.insert(field, id);
                format!("{label}: taken from #{id}")
            }
        }
    };
    state.flash = Some(flash);
}

/// `M`: asks once, naming everything the merge will do.
fn ask(state: &mut State) -> Vec<Command> {
    state.mark_dirty();
    if state.refuse_changes() {
        return Vec::new();
    }
    let records = triage::compared(state);
    let Some(compare) = state.modes.compare() else {
        return Vec::new();
    };
    let Some(merged) = result(state, compare, &records) else {
        state.flash = Some("Nothing to merge: one record left".into());
        return Vec::new();
    };
    if records.iter().any(|e| e.pending || e.id().is_none()) {
        state.flash = Some("A record is still being saved; merge once it is.".into());
        return Vec::new();
    }
    let keeper = records[merged.keeper].clone();
    let owner = |id: &str| state.owner_label(Some(id)).unwrap_or_else(|| id.to_owned());
    let changes = merged
        .describe(&keeper, &owner)
        .iter()
        .map(ToString::to_string)
        .collect();
    let plan = ConfirmMerge {
        group: compare.key.clone(),
        patch: merged.patch(&keeper),
        losers: merged.losers.iter().map(|&i| records[i].clone()).collect(),
        keeper,
        changes,
    };
    state.modes.push(Mode::ConfirmMerge(Box::new(plan)));
    Vec::new()
}

/// The question, whole: `Merge into #1003 Acme Co: set billing_country=US,
/// add tag self-serve; archive #1036, #1052? (y/N)`.
pub fn question(state: &State, plan: &ConfirmMerge) -> String {
    let yes = state.keymap.label(Action::Yes);
    let losers: Vec<String> = plan
        .losers
        .iter()
        .map(|e| format!("#{}", e.display_id))
        .collect();
    let changes = if plan.changes.is_empty() {
        String::new()
    } else {
        format!("{}; ", plan.changes.join(", "))
    };
    format!(
        "Merge into #{} {}: {changes}archive {}? ({yes}/N)",
        plan.keeper.display_id,
        plan.keeper.name,
        losers.join(", ")
    )
}

/// The question in at most `width` columns for the status line: the
/// middle is cut, never the keeper or the `(y/N)`.
pub fn short_question(state: &State, plan: &ConfirmMerge, width: usize) -> String {
    let whole = question(state, plan);
    if whole.width() <= width {
        return whole;
    }
    let yes = state.keymap.label(Action::Yes);
    let head = format!(
        "Merge into #{} {}: ",
        plan.keeper.display_id,
        format::truncate(&plan.keeper.name, 20)
    );
    let tail = format!("? ({yes}/N)");
    let body = whole
        .split_once(": ")
        .map_or("", |(_, rest)| rest)
        .trim_end_matches(&format!("? ({yes}/N)"));
    let room = width.saturating_sub(head.width() + tail.width()).max(4);
    format!("{head}{}{tail}", format::truncate(body, room))
}

/// The answer to `M`'s question: only yes merges.
pub fn on_confirm_key(state: &mut State, key: KeyEvent) -> Vec<Command> {
    state.mark_dirty();
    let Some(Mode::ConfirmMerge(plan)) = state.modes.pop() else {
        return Vec::new();
    };
    if state.keymap.action_for(KeyMode::Confirm, &key) != Some(Action::Yes) {
        state.flash = Some("Not merged".into());
        return Vec::new();
    }
    execute(state, *plan)
}

/// Queues the merge as one unit (the keeper's edit, then each archive),
/// shows its result at once, and moves on to the next group.
fn execute(state: &mut State, plan: ConfirmMerge) -> Vec<Command> {
    let Some(keeper_id) = plan.keeper.id().map(str::to_owned) else {
        return Vec::new();
    };
    let unit = IdempotencyKey::new();
    let mut items = Vec::new();
    let edit = (!plan.patch.is_empty()).then(|| (IdempotencyKey::new(), plan.patch.clone()));
    let back = edit
        .as_ref()
        .map(|(_, patch)| merge::undo_patch(&plan.keeper, patch));
    if let Some((key, patch)) = &edit {
        changes::show_pending_update(state, &keeper_id, patch);
        items.push((
            key.clone(),
            OutboxOp::Update {
                customer_id: keeper_id.clone(),
                patch: patch.clone(),
            },
        ));
    }
    let mut archives = Vec::new();
    let mut merged = Vec::new();
    for loser in plan.losers {
        let Some(id) = loser.id().map(str::to_owned) else {
            continue;
        };
        let Some(entry) = state.model.customers.remove(&id) else {
            continue;
        };
        let key = IdempotencyKey::new();
        state.model.archived.push(Archived {
            entry,
            key: key.clone(),
            delivered: false,
            merge: Some(unit.clone()),
            stamp: state.model.undo_stamp,
        });
        merged.push(MergedInto {
            customer_id: id.clone(),
            keeper_id: keeper_id.clone(),
            keeper_display_id: plan.keeper.display_id,
            at: state.now,
        });
        items.push((key.clone(), OutboxOp::Archive { customer_id: id }));
        archives.push(key);
    }
    for (key, _) in &items {
        state
            .model
            .outbox
            .insert(key.clone(), PendingChange::default());
    }
    state.change_note = None;
    state.model.undo_stamp += 1;
    state.model.merges.push(MergeDone {
        unit: unit.clone(),
        keeper: plan.keeper,
        edit,
        back: back.clone(),
        edited_at: None,
        archives,
        gone: Vec::new(),
        refused: false,
    });
    triage::clamp_compare(state);
    let mut commands = vec![Command::Sync(SyncCommand::SubmitUnit(Unit {
        id: unit,
        items,
        merged,
        unmerged: Vec::new(),
        keeper_back: back,
    }))];
    commands.extend(triage::advance_if_done(state));
    commands
}

/// `u` on a merge: restores its records, and sets the keeper's changed
/// fields back unless someone changed the keeper since (then says so).
pub fn undo(state: &mut State, unit: &IdempotencyKey) -> Vec<Command> {
    let Some(at) = state.model.merges.iter().position(|m| &m.unit == unit) else {
        return Vec::new();
    };
    let done = state.model.merges.remove(at);
    let (losers, kept): (Vec<Archived>, Vec<Archived>) = std::mem::take(&mut state.model.archived)
        .into_iter()
        .partition(|a| a.merge.as_ref() == Some(unit));
    state.model.archived = kept;
    let mut items = Vec::new();
    let mut unmerged = Vec::new();
    let mut names = Vec::new();
    for archived in losers {
        let Some(id) = archived.entry.id().map(str::to_owned) else {
            continue;
        };
        let key = IdempotencyKey::new();
        names.push(format!("#{}", archived.entry.display_id));
        state
            .model
            .customers
            .reinstate(archived.entry.clone().into_pending());
        state.model.restoring.insert(key.clone(), archived.entry);
        items.push((
            key,
            OutboxOp::Restore {
                customer_id: id.clone(),
            },
        ));
        unmerged.push(id);
    }
    names.extend(restore_gone(&done.gone, &mut items, &mut unmerged));
    let keeper = done.keeper.display_id;
    let mut flash = format!("Restoring {}", names.join(", "));
    if let (Some(back), Some(id)) = (done.back, done.keeper.id()) {
        let now = state.model.customers.get(id);
        let changed_since = match (now, done.edited_at) {
            (Some(entry), Some(at)) => entry.updated_at > at,
            _ => false,
        };
        if changed_since {
            flash.push_str(&format!(
                "; #{keeper} changed since the merge, so its fields stay"
            ));
        } else {
            changes::show_pending_update(state, id, &back);
            flash.push_str(&format!(" and #{keeper}'s fields"));
            items.push((
                IdempotencyKey::new(),
                OutboxOp::Update {
                    customer_id: id.to_owned(),
                    patch: back,
                },
            ));
        }
    }
    for (key, _) in &items {
        state
            .model
            .outbox
            .insert(key.clone(), PendingChange::default());
    }
    state.flash = Some(flash);
    vec![Command::Sync(SyncCommand::SubmitUnit(Unit {
        id: IdempotencyKey::new(),
        items,
        merged: Vec::new(),
        unmerged,
        keeper_back: None,
    }))]
}

/// Restores of the losers the server archived before this start, by id
/// (they come back with the server's answer); says how many, if any.
fn restore_gone(
    gone: &[String],
    items: &mut Vec<(IdempotencyKey, OutboxOp)>,
    unmerged: &mut Vec<String>,
) -> Option<String> {
    for id in gone {
        let customer_id = id.clone();
        items.push((IdempotencyKey::new(), OutboxOp::Restore { customer_id }));
        unmerged.push(id.clone());
    }
    match gone.len() {
        0 => None,
        1 => Some("1 record archived before this start".to_owned()),
        n => Some(format!("{n} records archived before this start")),
    }
}

/// Merges still in the outbox when the app started, as the store rebuilt
/// them: each is one merge again, as in the session that made it, so `u`
/// restores all its losers and sets its keeper's fields back (by the same
/// rule: not when someone else changed the keeper since). Called after the
/// waiting archives were taken off the list (`triage::restore_pending`)
/// and before the waiting edits are shown on it, so that the keeper is as
/// the store has it; at start, and for a merge another process queued. A
/// merge already known here is left as it is; one whose keeper the cache
/// lacks stays archives to undo one by one.
pub fn restore_pending(state: &mut State, merges: Vec<PendingMerge>) {
    for pending in merges {
        if state.model.merges.iter().any(|m| m.unit == pending.unit) {
            continue;
        }
        let Some(keeper) = state.model.customers.get(&pending.keeper_id).cloned() else {
            continue;
        };
        let archives: Vec<IdempotencyKey> =
            pending.archives.iter().map(|(k, _)| k.clone()).collect();
        for archived in &mut state.model.archived {
            if archives.contains(&archived.key) {
                archived.merge = Some(pending.unit.clone());
            }
        }
        let gone = pending
            .losers
            .iter()
            .filter(|id| !pending.archives.iter().any(|(_, l)| l == *id))
            .cloned()
            .collect();
        state.model.merges.push(MergeDone {
            unit: pending.unit,
            keeper,
            edit: pending.edit,
            back: pending.back,
            edited_at: pending.edited_at,
            archives,
            gone,
            refused: false,
        });
    }
}

/// What the status line says after a merge, for `u`.
pub fn undo_status(state: &State, unit: &IdempotencyKey) -> Option<String> {
    let done = state.model.merges.iter().find(|m| &m.unit == unit)?;
    Some(format!(
        "Merged into #{} — u to undo",
        done.keeper.display_id
    ))
}

/// Whether `key` is the edit of one of this session's merges.
pub fn is_edit(state: &State, key: &IdempotencyKey) -> bool {
    state
        .model
        .merges
        .iter()
        .any(|m| m.edit.as_ref().is_some_and(|(k, _)| k == key))
}

/// The server applied a merge's edit: the keeper shows its answer, and
/// its `updated_at` is remembered for undo.
pub fn edit_delivered(state: &mut State, key: &IdempotencyKey, customer: Customer) {
    let at: OffsetDateTime = customer.updated_at;
    if let Some(done) = state
        .model
        .merges
        .iter_mut()
        .find(|m| m.edit.as_ref().is_some_and(|(k, _)| k == key))
    {
        done.edited_at = Some(at);
    }
    state.model.customers.apply([customer]);
    triage::reassert(state);
}

/// The server refused a change of a merge. A refused edit puts the keeper
/// back and, as its archives were dropped unsent, each loser comes back
/// quietly; the one message says why, under the merge. Returns `false`
/// when `key` is not a merge's: the caller handles it.
pub fn rejected(state: &mut State, key: &IdempotencyKey, message: &str) -> bool {
    if let Some(done) = state
        .model
        .merges
        .iter_mut()
        .find(|m| m.edit.as_ref().is_some_and(|(k, _)| k == key))
    {
        done.refused = true;
        let mut keeper = done.keeper.clone();
        keeper.pending = false;
        let display_id = keeper.display_id;
        state.model.customers.apply_entries(vec![keeper]);
        state.flash = Some(format!(
            "Merge into #{display_id} refused, nothing archived: {message}"
        ));
        return true;
    }
    let Some(at) = state
        .model
        .merges
        .iter()
        .position(|m| m.refused && m.archives.contains(key))
    else {
        return false;
    };
    if let Some(pos) = state.model.archived.iter().position(|a| &a.key == key) {
        let archived = state.model.archived.remove(pos);
        state.model.customers.reinstate(archived.entry);
    }
    let archived = &state.model.archived;
    let left = state.model.merges[at]
        .archives
        .iter()
        .any(|k| archived.iter().any(|a| &a.key == k));
    if !left {
        state.model.merges.remove(at);
    }
    triage::clamp_compare(state);
    finder::refresh(state);
    true
}
