//! The archived customers (`A`): opening the view, which asks the engine to
//! read them from the store (never at start, so the live set never holds
//! them), taking its answer, the view's own filter and sort, and `R`, which
//! restores the selected customer through the outbox exactly as undoing an
//! archive does. State updates only, called from the screens and
//! `update`; no I/O.

use crossterm::event::{Event, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::keymap::{Action, KeyMode};
use super::message::Command;
use super::mode::ArchivedView;
use super::state::State;
use super::triage;
use crate::domain::filter::matches;
use crate::domain::order::{OwnerNames, compare};
use crate::domain::{CustomerKey, Query, Sort};
use crate::sync::{ArchivedEntry, SyncCommand};

/// `A`: opens the archived view (loading), or closes it when it shows.
pub fn toggle(state: &mut State) -> Vec<Command> {
    state.mark_dirty();
    if state.modes.archived().is_some() {
        state.modes.close_archived();
        return Vec::new();
    }
    state.modes.open_archived();
    vec![Command::Sync(SyncCommand::LoadArchived)]
}

/// Asks for the archived customers again while the view is open (after a
/// sync, which may have brought archives or restores made elsewhere).
pub fn reload(state: &State) -> Vec<Command> {
    if state.modes.archived().is_some() {
        vec![Command::Sync(SyncCommand::LoadArchived)]
    } else {
        Vec::new()
    }
}

/// The store's archived customers, for the view if it is still open (else
/// dropped). This session's archives not yet confirmed are shown too, and
/// customers being restored are not: the view agrees with the list.
pub fn loaded(state: &mut State, mut customers: Vec<ArchivedEntry>) {
    if state.modes.archived().is_none() {
        return;
    }
    let model = &state.model;
    customers.retain(|a| {
        model.customers.get(&a.entry.key).is_none()
            && !model.restoring.values().any(|r| r.key == a.entry.key)
    });
    for archived in &model.archived {
        if !customers.iter().any(|a| a.entry.key == archived.entry.key) {
            let mut entry = archived.entry.clone();
            entry.archived = true;
            customers.push(ArchivedEntry {
                entry,
                merged_into: None,
            });
        }
    }
    let selected = state
        .modes
        .archived()
        .and_then(ArchivedView::selected_entry)
        .map(|a| a.entry.key.clone());
    if let Some(view) = state.modes.archived_mut() {
        view.rows = Some(customers);
    }
    refilter(state, selected);
}

/// A key while the archived view's filter line has the cursor.
pub fn on_line_key(state: &mut State, key: KeyEvent) {
    let action = state.keymap.action_for(KeyMode::FilterLine, &key);
    state.mark_dirty();
    let Some(view) = state.modes.archived_mut() else {
        return;
    };
    match action {
        Some(Action::ClearFilter) => {
            view.filter = Input::default();
            view.editing = false;
        }
        Some(Action::KeepFilter) => view.editing = false,
        Some(Action::NextMatch) => return move_by(state, 1),
        Some(Action::PreviousMatch) => return move_by(state, -1),
        _ => {
            if view.filter.handle_event(&Event::Key(key)).is_none() {
                return;
            }
            // A new query starts at its first match.
            view.selected = 0;
            view.offset = 0;
            return refilter(state, None);
        }
    }
    let selected = selected_key(state);
    refilter(state, selected);
}

/// An action of the archived view other than closing it.
pub fn on_action(state: &mut State, action: Action) -> Vec<Command> {
    let page = state.list_rows().cast_signed();
    state.mark_dirty();
    match action {
        Action::Down => move_by(state, 1),
        Action::Up => move_by(state, -1),
        Action::PageDown => move_by(state, page),
        Action::PageUp => move_by(state, -page),
        Action::HalfPageDown => move_by(state, page / 2),
        Action::HalfPageUp => move_by(state, -page / 2),
        Action::Top => move_by(state, isize::MIN),
        Action::Bottom => move_by(state, isize::MAX),
        Action::Filter => {
            if let Some(view) = state.modes.archived_mut() {
                view.editing = true;
            }
        }
        Action::Sort => resort(state, Sort::cycled),
        Action::Reverse => resort(state, Sort::flipped),
        Action::Restore => return restore(state),
        _ => {}
    }
    Vec::new()
}

/// A click on row `row`: selects it.
pub fn select(state: &mut State, row: usize) {
    let visible = state.list_rows();
    if let Some(view) = state.modes.archived_mut()
        && row < view.shown.len()
    {
        view.selected = row;
        keep_visible(view, visible);
        state.mark_dirty();
    }
}

/// `Esc`: clears a kept filter first, then goes back to the list.
pub fn close(state: &mut State) {
    state.mark_dirty();
    if let Some(view) = state.modes.archived_mut()
        && !view.filter.value().is_empty()
    {
        view.filter = Input::default();
        let selected = selected_key(state);
        refilter(state, selected);
        return;
    }
    state.modes.close_archived();
}

/// `R`: restores the selected archived customer through the outbox. It
/// leaves this view and is back in the list at once, pending until
/// Pivotal confirms; a refusal puts it back here with the reason.
fn restore(state: &mut State) -> Vec<Command> {
    if state.refuse_changes() {
        return Vec::new();
    }
    let Some(view) = state.modes.archived_mut() else {
        return Vec::new();
    };
    let (Some(&index), Some(rows)) = (view.shown.get(view.selected), view.rows.as_mut()) else {
        state.flash = Some("Nothing to restore here".into());
        return Vec::new();
    };
    let mut entry = rows.remove(index).entry;
    entry.archived = false;
    let selected = selected_key(state);
    refilter(state, selected);
    // An archive of this session, still on its way or not: restoring it
    // here is its undo, which `u` must not repeat.
    state.model.archived.retain(|a| a.entry.key != entry.key);
    state.flash = Some(format!(
        "Restoring #{}{}back in the list once Pivotal confirms",
        entry.display_id, state.theme.glyphs.dash
    ));
    triage::submit_restore(state, entry)
}

/// A restore Pivotal refused: the customer is archived still, and shows
/// here again if the view is open.
pub fn refused(state: &mut State, mut archived: ArchivedEntry) {
    let selected = selected_key(state);
    let Some(rows) = state.modes.archived_mut().and_then(|v| v.rows.as_mut()) else {
        return;
    };
    archived.entry.archived = true;
    rows.push(archived);
    refilter(state, selected);
}

fn selected_key(state: &State) -> Option<CustomerKey> {
    let view = state.modes.archived()?;
    view.selected_entry().map(|a| a.entry.key.clone())
}

fn resort(state: &mut State, change: fn(Sort) -> Sort) {
    let selected = selected_key(state);
    if let Some(view) = state.modes.archived() {
        state.modes.sort_archived(change(view.sort));
    }
    refilter(state, selected);
}

/// Moves the selection by `delta` rows, keeping it on screen.
fn move_by(state: &mut State, delta: isize) {
    let visible = state.list_rows();
    if let Some(view) = state.modes.archived_mut() {
        let last = view.shown.len().saturating_sub(1);
        view.selected = view.selected.saturating_add_signed(delta).min(last);
        keep_visible(view, visible);
    }
}

fn keep_visible(view: &mut ArchivedView, visible: usize) {
    if view.selected < view.offset {
        view.offset = view.selected;
    } else if view.selected >= view.offset + visible {
        view.offset = view.selected + 1 - visible;
    }
    let max_offset = view.shown.len().saturating_sub(visible);
    view.offset = view.offset.min(max_offset);
}

/// Recomputes which rows show, in what order, and puts the selection on
/// `selected` if it still shows (else keeps the row number in range).
fn refilter(state: &mut State, selected: Option<CustomerKey>) {
    let visible = state.list_rows();
    let users = &state.model.users;
    let owners: OwnerNames = users
        .iter()
        .map(|(id, name)| (id.clone(), name.to_lowercase()))
        .collect();
    let owner = |id: &str| users.get(id).map(String::as_str);
    let Some(view) = state.modes.archived_mut() else {
        return;
    };
    let Some(rows) = view.rows.as_ref() else {
        return;
    };
    let query = Query::parse(view.filter.value());
    let mut shown: Vec<usize> = (0..rows.len())
        .filter(|&i| matches(&query, &rows[i].entry, owner).is_some())
        .collect();
    shown.sort_by(|&a, &b| compare(view.sort, &owners, &rows[a].entry, &rows[b].entry));
    if let Some(key) = selected
        && let Some(row) = shown.iter().position(|&i| rows[i].entry.key == key)
    {
        view.selected = row;
    }
    view.shown = shown;
    view.selected = view.selected.min(view.shown.len().saturating_sub(1));
    keep_visible(view, visible);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selection_stays_on_screen_when_it_moves_past_either_edge() {
        let mut view = ArchivedView {
            shown: (0..50).collect(),
            ..ArchivedView::default()
        };
        view.selected = 30;
        keep_visible(&mut view, 10);
        assert_eq!(view.offset, 21);
        view.selected = 5;
        keep_visible(&mut view, 10);
        assert_eq!(view.offset, 5);
        view.shown.truncate(8);
        view.selected = 7;
        keep_visible(&mut view, 10);
        assert_eq!(view.offset, 0);
    }
}
