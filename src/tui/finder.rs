//! Finding customers: the `/` filter line, My customers, duplicates only and
//! the sort, and keeping the list's [`Rows`] and its selection in step with
//! them and with the customer set. State updates only, called from
//! `update`; the matching itself is `domain::filter`'s.
//!
//! Rows are derived state: [`refresh`] recomputes them when the set, the
//! team or a view option changed since the last time, and puts the
//! selection back on the same customer wherever it moved.

use crossterm::event::{Event, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use std::collections::HashMap;

use super::filters::FilterLine;
use super::keymap::{Action, KeyMode};
use super::state::State;
use crate::domain::{
    Criteria, CustomerKey, CustomerSet, Matches, Query, Rows, SearchIndex, Sort, sanitize,
};

/// `/`: opens the filter line (keeping a query already there), and makes
/// the search index ready so that the first character typed is as quick
/// as the rest.
pub fn open_line(state: &mut State) {
    state
        .finder
        .line
        .get_or_insert_with(FilterLine::default)
        .editing = true;
    index_now(state);
    state.mark_dirty();
}

/// Makes the search index current for the set and team now.
fn index_now(state: &mut State) {
    let key = (state.model.customers.version(), state.model.team_version);
    current_index(
        &mut state.finder.index,
        &state.model.customers,
        &state.model.users,
        key,
    );
}

/// Takes the search index the engine built beside the cached set (at set
/// version `built_for`, with the owner names the app shows now), so that
/// the first `/` finds it ready.
pub fn take_index(state: &mut State, index: SearchIndex, built_for: u64) {
    state.finder.index = Some((index, (built_for, state.model.team_version)));
}

/// Keeps a search index that exists in step with the set after a batch
/// of changes (a page of a sync): following its changed slots costs about
/// a millisecond a page, where letting them pile up past the set's log
/// would leave `/` a rebuild on the UI task. A set with no index yet (a
/// first sync) gets one at its first `/`.
pub fn keep_index(state: &mut State) {
    if state.finder.index.is_some() {
        index_now(state);
    }
}

/// The search index for the set and team at `key`: kept, brought up to
/// date from the set's log of changed slots (microseconds for an archive,
/// about a millisecond for a page of 1,000, whatever the set's size), or
/// built (about 24 ms at 100,000: after a first sync, which has no index
/// from the engine, a team change, or a batch larger than the set's log
/// keeps).
fn current_index<'a>(
    slot: &'a mut Option<(SearchIndex, (u64, u64))>,
    set: &CustomerSet,
    users: &HashMap<String, String>,
    key: (u64, u64),
) -> &'a SearchIndex {
    let owner = |id: &str| users.get(id).map(String::as_str);
    let (index, built) = match slot.take() {
        Some((index, built)) if built == key => (index, built),
        Some((mut index, (version, team))) if team == key.1 => {
            match set.slots_changed_since(version) {
                Some(changes) => index.follow(changes, set, owner),
                None => index.rebuild(set, owner),
            }
            (index, key)
        }
        _ => (SearchIndex::build(set, owner), key),
    };
    &slot.insert((index, built)).0
}

/// Clears the text filter; the selected customer stays selected.
pub fn clear_line(state: &mut State) {
    if state.finder.line.take().is_some() {
        state.finder.invalidate();
        state.mark_dirty();
    }
}

/// A key while the filter line has the cursor.
pub fn on_line_key(state: &mut State, key: KeyEvent) {
    if state.finder.line.is_none() {
        return;
    }
    state.mark_dirty();
    match state.keymap.action_for(KeyMode::FilterLine, &key) {
        Some(Action::ClearFilter) => clear_line(state),
        Some(Action::KeepFilter) => {
            if let Some(line) = state.finder.line.as_mut() {
                line.editing = false;
            }
            let target = jump_target(state);
            match target {
                // `#1042` Enter: show customer 1042 in the whole list.
                Some(id) => {
                    clear_line(state);
                    show(state, id);
                }
                None if state.finder.query().is_none() => clear_line(state),
                None => {}
            }
        }
        Some(Action::NextMatch) => state.move_by(1),
        Some(Action::PreviousMatch) => state.move_by(-1),
        _ => {
            let line = state.finder.line.as_mut().expect("checked above");
            if line.input.handle_event(&Event::Key(key)).is_some() {
                state.finder.invalidate();
            }
        }
    }
}

/// Pasted text goes into the filter line as one line.
pub fn on_line_paste(state: &mut State, text: &str) {
    let Some(line) = state.finder.line.as_mut() else {
        return;
    };
    let clean = sanitize(text);
    let value = format!("{}{}", line.input.value(), clean.trim());
    line.input = Input::new(value);
    state.finder.invalidate();
    state.mark_dirty();
}

/// `m`: My customers on or off.
pub fn toggle_mine(state: &mut State) {
    state.mark_dirty();
    if state.model.me.is_none() && !state.finder.mine {
        state.flash = Some("My customers needs your user; it arrives with the first sync".into());
        return;
    }
    state.finder.mine = !state.finder.mine;
    state.finder.invalidate();
}

/// `D`: duplicates only; again, the groups dismissed as not duplicates
/// (when there are any); again, off.
pub fn toggle_duplicates(state: &mut State) {
    let finder = &mut state.finder;
    if !finder.duplicates_only {
        finder.duplicates_only = true;
    } else if !finder.dismissed_only && !finder.hidden.is_empty() {
        finder.dismissed_only = true;
    } else {
        finder.duplicates_only = false;
        finder.dismissed_only = false;
    }
    finder.invalidate();
    state.mark_dirty();
}

/// `s` and `S`: another sort. The selected customer stays selected.
pub fn set_sort(state: &mut State, sort: Sort) {
    state.model.customers.set_sort(sort);
    state.mark_dirty();
}

/// Selects this customer, clearing the filters if they hide it.
pub fn show(state: &mut State, id: CustomerKey) {
    state.select(id.clone());
    refresh(state);
    if state.selected_entry().is_some_and(|e| e.key == id) {
        return;
    }
    state.finder.line = None;
    state.finder.mine = false;
    state.finder.duplicates_only = false;
    state.finder.dismissed_only = false;
    state.finder.invalidate();
    state.select(id);
    refresh(state);
}

/// The dismissed groups that have gained no member since, sorted.
fn hidden_groups(model: &super::state::Model) -> Vec<String> {
    let mut hidden: Vec<String> = model
        .dismissed
        .iter()
        .filter(|(key, members)| {
            let group = model.customers.group(key);
            group.len() >= 2
                && group
                    .iter()
                    .all(|e| e.id().is_some_and(|id| members.iter().any(|m| m == id)))
        })
        .map(|(key, _)| key.clone())
        .collect();
    hidden.sort_unstable();
    hidden
}

/// The customer a `#1042` query names, if it exists.
fn jump_target(state: &State) -> Option<CustomerKey> {
    let line = state.finder.line.as_ref()?;
    let position = line.filter.jump_target(&state.model.customers)?;
    state.model.customers.at(position).map(|e| e.key.clone())
}

/// Recomputes the rows if anything they depend on changed, then puts the
/// selection back on the selected customer (or, for a new query, on the
/// first match, or on the customer a `#1042` names).
pub fn refresh(state: &mut State) {
    let key = (state.model.customers.version(), state.model.team_version);
    let finder = &mut state.finder;
    if finder.rows_from == Some(key) {
        if state.reselect {
            state.reselect = false;
            reselect(state);
        }
        return;
    }
    let query = finder.query().unwrap_or_default();
    let typed = query != finder.applied && query != Query::Empty;
    let ranked;
    let matches = match &mut finder.line {
        Some(line) if query != Query::Empty => {
            let index = current_index(
                &mut finder.index,
                &state.model.customers,
                &state.model.users,
                key,
            );
            line.filter
                .refine(query.clone(), index, &state.model.customers);
            ranked = line.filter.list_order(index);
            match &ranked {
                Some(ranked) => Matches::Ranked(ranked),
                None => Matches::Ordered(line.filter.positions()),
            }
        }
        _ => Matches::All,
    };
    finder.hidden = hidden_groups(&state.model);
    // A group undone or refused back to two records is not done.
    let model = &mut state.model;
    let (customers, hidden) = (&model.customers, &finder.hidden);
    model
        .groups_done
        .retain(|k| customers.group(k).len() < 2 || hidden.contains(k));
    let criteria = Criteria {
        // My customers restored from the settings before the first sync
        // has said who "me" is: nobody matches yet, rather than everyone
        // under a header that says "My customers".
        owner: finder
            .mine
            .then(|| state.model.me.as_deref().unwrap_or_default()),
        duplicates_only: finder.duplicates_only,
        likely: true,
        hidden_groups: &finder.hidden,
        dismissed_only: finder.dismissed_only,
    };
    finder.rows = Rows::compute(&state.model.customers, matches, criteria);
    finder.rows_from = Some(key);
    finder.applied = query;
    state.reselect = false;
    // A new query starts at its first match (or the customer `#1042`
    // names); clearing it keeps the customer found.
    if typed {
        match jump_target(state) {
            Some(id) => state.select(id),
            None => state.selected_id = None,
        }
        state.offset = 0;
        state.selected = 0;
    }
    reselect(state);
    state.mark_dirty();
}

/// Puts the selection on `state.selected_id` if it is among the rows, else
/// keeps the row number in range.
fn reselect(state: &mut State) {
    let row = state
        .selected_id
        .as_ref()
        .and_then(|id| state.model.customers.position_of(id))
        .and_then(|position| state.finder.rows.row_of(position));
    if let Some(row) = row {
        state.selected = row;
    }
    state.clamp_selection();
}
