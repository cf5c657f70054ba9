//! The list, the bottom of the stack: moving, filtering, sorting, and the
//! keys that open every other mode. Its actions are also the details' and
//! compare's where they share a key.

use crossterm::event::KeyEvent;
use ratatui::Frame;

use super::super::keymap::{Action, KeyMode};
use super::super::message::Command;
use super::super::mode::{Help, Mode};
use super::super::state::State;
use super::super::view::{self, Areas};
use super::super::{archived, changes, dismiss, finder, triage};
use super::{Screen, follow_selection, quit_or_ask, reload_history};
use crate::sync::SyncCommand;

/// A second `r` this soon after the first syncs everything again.
const FULL_REFRESH_WITHIN: time::Duration = time::Duration::seconds(2);

/// The customers list (with the filter line under it while typing).
#[derive(Debug, Clone, Copy)]
pub struct List;

impl Screen for List {
    fn keys(&self, state: &State) -> KeyMode {
        if filter_line_editing(state) {
            KeyMode::FilterLine
        } else {
            KeyMode::List
        }
    }

    fn handle(state: &mut State, key: KeyEvent) -> Vec<Command> {
        if filter_line_editing(state) {
            finder::on_line_key(state, key);
            return follow_selection(state);
        }
        match super::action(state, KeyMode::List, &key) {
            Some(Action::Exit) => quit_or_ask(state),
            Some(action) => on_action(state, action),
            None => Vec::new(),
        }
    }

    fn render(&self, state: &State, frame: &mut Frame, areas: &Areas) {
        view::list(state, frame, areas.main);
        if let Some(line) = state.finder.line.as_ref().filter(|l| l.editing) {
            view::filter_line(state, line, frame, areas.hints);
        }
    }

    fn hints(&self, state: &State) -> Vec<(String, &'static str)> {
        if filter_line_editing(state) {
            // The filter line has the hint bar's row.
            return Vec::new();
        }
        let mut hints = Vec::new();
        if state.finder.query().is_some() {
            hints.push((state.keymap.label(Action::Close).to_owned(), "clear filter"));
        }
        if state.finder.duplicates_only && state.finder.dismissed_only {
            // The one place `R` means reviving a group: said where it works.
            hints.push((state.keymap.label(Action::Restore).to_owned(), "revive"));
        }
        hints.extend(state.keymap.hints(KeyMode::List));
        hints
    }
}

fn filter_line_editing(state: &State) -> bool {
    state.finder.line.as_ref().is_some_and(|l| l.editing)
}

/// An action of the list (and those the details and compare share).
pub fn on_action(state: &mut State, action: Action) -> Vec<Command> {
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
        Action::Mine => finder::toggle_mine(state),
        Action::Duplicates => finder::toggle_duplicates(state),
        Action::Sort => finder::set_sort(state, state.model.customers.sort().cycled()),
        Action::Reverse => finder::set_sort(state, state.model.customers.sort().flipped()),
        _ => return open_or_act(state, action),
    }
    if state.selected != before {
        // Another customer's details start at their top.
        state.modes.reset_detail_scroll();
    }
    follow_selection(state)
}

/// The actions that open another mode or start a change.
fn open_or_act(state: &mut State, action: Action) -> Vec<Command> {
    state.mark_dirty();
    match action {
        Action::OpenDetail => {
            if state.selected_entry().is_some() {
                state.modes.open_detail();
            }
            follow_selection(state)
        }
        Action::Close => {
            finder::clear_line(state);
            Vec::new()
        }
        Action::Filter => {
            finder::open_line(state);
            Vec::new()
        }
        Action::Compare => triage::open_compare(state),
        Action::Archive => triage::ask_archive(state),
        Action::Undo => triage::undo(state),
        Action::Dismiss => dismiss::dismiss(state),
        Action::Refresh => refresh(state),
        Action::Help => {
            state.modes.push(Mode::Help(Help::default()));
            Vec::new()
        }
        Action::NewCustomer => {
            changes::open_create(state);
            Vec::new()
        }
        Action::Edit => {
            changes::open_edit(state);
            Vec::new()
        }
        Action::CopyLink => copy_link(state),
        Action::Quit | Action::Exit => quit_or_ask(state),
        Action::Archived => archived::toggle(state),
        Action::Restore => dismiss::revive(state),
        Action::NextGroup => triage::to_group(state, true),
        Action::PreviousGroup => triage::to_group(state, false),
        // Keys of other modes.
        _ => Vec::new(),
    }
}

/// `r`: sync now, and the open customer's history; twice within
/// [`FULL_REFRESH_WITHIN`], sync every customer again.
fn refresh(state: &mut State) -> Vec<Command> {
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

/// `y`: the selected customer's link, to the clipboard.
fn copy_link(state: &mut State) -> Vec<Command> {
    let Some((pending, display_id)) = state.selected_entry().map(|e| (e.pending, e.display_id))
    else {
        return Vec::new();
    };
    if pending {
        state.flash = Some("No link yet: the server has not confirmed this customer".into());
        return Vec::new();
    }
    let url = state.share_url(display_id);
    state.flash = Some(format!("{url} sent to clipboard"));
    vec![Command::Copy(url)]
}
