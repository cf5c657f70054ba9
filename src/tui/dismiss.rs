//! "Not a duplicate": `x` on a group (in compare, or on a row of the list)
//! dismisses it. It leaves duplicates only and its badges are dimmed; the
//! mark is kept in the account's store with the group's members then, so
//! it lasts across restarts and a group that gains a member comes back.
//! `u` undoes the newest dismissal like any other change; `D` twice lists
//! the dismissed groups, and `R` there revives the group under the
//! selection, for good (the store forgets the mark).
//!
//! State updates only, called from the screens and `update`; the store
//! write is the engine's (`SyncCommand::Dismiss`).

use std::collections::HashMap;

use super::keymap::Action;
use super::message::Command;
use super::mode::Mode;
use super::state::State;
use super::{finder, triage};
use crate::store::Dismissed;
use crate::sync::SyncCommand;

/// `x`: dismisses the group in compare, else the selected row's group;
/// compare moves on to the next group by itself.
pub fn dismiss(state: &mut State) -> Vec<Command> {
    state.mark_dirty();
    let comparing = state.modes.compare().map(|c| c.key.clone());
    let key = comparing.clone().or_else(|| state.selected_group());
    let Some(key) = key else {
        state.flash = Some(triage::NO_GROUP.into());
        return Vec::new();
    };
    let members: Vec<String> = state
        .model
        .customers
        .group(&key)
        .iter()
        .filter_map(|e| e.id().map(str::to_owned))
        .collect();
    state.model.dismissed.insert(key.clone(), members.clone());
    state
        .model
        .dismissals
        .push((key.clone(), state.model.undo_stamp));
    state.model.undo_stamp += 1;
    state.model.groups_done.insert(key.clone());
    state.change_note = None;
    state.finder.invalidate();
    let mut commands = vec![sent(
        state,
        SyncCommand::Dismiss(Dismissed {
            key: key.clone(),
            members,
        }),
    )];
    if comparing.is_some() {
        commands.extend(next_group(state, &key));
    } else {
        finder::refresh(state);
    }
    commands
}

/// After a dismissal in compare: the next group, or back to the list when
/// there is none.
fn next_group(state: &mut State, key: &str) -> Vec<Command> {
    finder::refresh(state);
    let commands = triage::to_group(state, true);
    if state.modes.compare().map(|c| c.key.as_str()) == Some(key) {
        // No group below: the list, where the undo hint shows.
        state.flash = None;
        if matches!(state.modes.top(), Some(Mode::Compare(_))) {
            state.modes.pop();
        }
    }
    commands
}

/// `u` on a dismissal: the group is a duplicate again.
pub fn undo(state: &mut State) -> Vec<Command> {
    let Some((key, _)) = state.model.dismissals.pop() else {
        return Vec::new();
    };
    state.model.dismissed.remove(&key);
    state.model.groups_done.remove(&key);
    state.finder.invalidate();
    state.flash = Some(format!(
        "{} is a duplicate group again",
        triage::group_label(state, &key)
    ));
    vec![sent(state, SyncCommand::Undismiss(key))]
}

/// `R` in the dismissed groups (`D` twice): the group under the selection
/// is a duplicate group again, here and in the store.
pub fn revive(state: &mut State) -> Vec<Command> {
    state.mark_dirty();
    if !(state.finder.duplicates_only && state.finder.dismissed_only) {
        let d = state.keymap.label(Action::Duplicates).to_owned();
        state.flash = Some(format!(
            "Nothing to revive here: {d} twice lists the groups marked not a duplicate"
        ));
        return Vec::new();
    }
    let key = state
        .selected_entry()
        .and_then(|e| e.domain_key())
        .filter(|key| state.finder.is_hidden(Some(key)))
        .map(str::to_owned);
    let Some(key) = key else {
        state.flash = Some("No group marked not a duplicate is selected".into());
        return Vec::new();
    };
    state.model.dismissed.remove(&key);
    state.model.dismissals.retain(|(k, _)| *k != key);
    state.model.groups_done.remove(&key);
    state.finder.invalidate();
    finder::refresh(state);
    if state.finder.hidden.is_empty() {
        // None left to list: back to the queue, where the group now is.
        state.finder.dismissed_only = false;
        state.finder.invalidate();
    }
    state.flash = Some(format!("{key} is a duplicate group again"));
    vec![sent(state, SyncCommand::Undismiss(key))]
}

/// `command` (a `Dismiss` or `Undismiss`) to send, counted.
fn sent(state: &mut State, command: SyncCommand) -> Command {
    state.model.dismiss_commands += 1;
    Command::Sync(command)
}

/// The dismissed groups the store holds: at start (`seen: None`) added to
/// those made here already; after a sync run, all of them, which replace
/// the app's own, so that a group marked or revived by another process
/// (`pivotal customers dismiss`, a second window) shows here too, unless
/// the store had not yet taken every dismissal made here (`seen` short of
/// the commands sent): the next run's list will have them.
pub fn loaded(state: &mut State, groups: Vec<Dismissed>, seen: Option<u64>) {
    match seen {
        None => {}
        Some(seen) if seen == state.model.dismiss_commands => {
            let now: HashMap<String, Vec<String>> = groups
                .iter()
                .map(|g| (g.key.clone(), g.members.clone()))
                .collect();
            if now == state.model.dismissed {
                return;
            }
            state.model.dismissed.clear();
        }
        Some(_) => return,
    }
    for group in groups {
        state.model.dismissed.insert(group.key, group.members);
    }
    state.finder.invalidate();
    state.mark_dirty();
}
