//! The app's state: everything the screen shows, and nothing about how it is
//! drawn. Changed only by `update`; read by the views.

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;

use super::filters::Finder;
use super::form::{Form, FormMode};
use super::format;
use super::keymap::Keymap;
use super::mode::Modes;
use super::preview::PreviewWindow;
use super::theme::Theme;
use crate::api::{CustomerPatch, IdempotencyKey};
use crate::domain::{CustomerKey, CustomerSet, Draft, Entry};
use crate::settings::ViewSettings;

/// Where shared customer links point unless configured otherwise.
pub const DEFAULT_SHARE_URL_BASE: &str = "https://app.pivotal.app";

/// Rows of the screen that are not list rows: title, column header, status
/// line and hint bar.
const CHROME_ROWS: u16 = 4;

/// Wider than this, the detail pane sits beside the list instead of over it.
pub const SIDE_PANE_MIN_WIDTH: u16 = 100;

#[derive(Debug)]
pub struct State {
    /// What the whole app shares: the account's customers and team, the
    /// sync status, the outbox bookkeeping and the settings in force.
    pub model: Model,
    /// What the list shows: filters, sort and the resulting rows.
    pub finder: Finder,
    /// The keys in force (the table with the user's overrides).
    pub keymap: Keymap,
    /// The selected row of the list.
    pub selected: usize,
    /// The first visible row.
    pub offset: usize,
    /// The id of the selected customer, so that the selection follows it
    /// when the rows change under it.
    pub selected_id: Option<CustomerKey>,
    /// Set by [`State::select`]: put the selection on `selected_id` at the
    /// next refresh of the rows.
    pub reselect: bool,
    pub width: u16,
    pub height: u16,
    /// The views open over the list, and where `Esc` goes back to.
    pub modes: Modes,
    pub theme: Theme,
    pub now: OffsetDateTime,
    /// A problem to show in the status line that is not about syncing.
    pub notice: Option<String>,
    /// How the latest edit stands (`Saving #1047…`, `Saved #1047 — plan:
    /// Enterprise`); newer than any archive's undo hint while set.
    pub change_note: Option<String>,
    /// What went wrong with the local store when the app opened it (moved
    /// aside as damaged, or not usable at all): shown for the whole session.
    pub store_problem: Option<String>,
    /// Why the settings file was not used (`config.toml line 12: …`);
    /// shown until the app quits.
    pub config_problem: Option<String>,
    /// A one-off message for the status line ("sent to clipboard"); cleared
    /// by the next key.
    pub flash: Option<String>,
    /// The last click on a row of the list, to tell a double click.
    pub last_click: Option<Click>,
    /// For a screen reader: the sync progress the status line says, and
    /// since when; it changes at most every [`SPOKEN_PROGRESS_EVERY`].
    pub spoken_progress: Option<(usize, OffsetDateTime)>,
    pub quitting: bool,
    /// The first screen, shown until the set arrives (see `preview.rs`).
    pub preview: Option<PreviewWindow>,
    dirty: bool,
}

/// A click on a row of the list: which row, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Click {
    pub row: usize,
    pub at: OffsetDateTime,
}

/// What the whole app shares, whatever the screen: the account's customers
/// and team, histories, the sync status, the changes on their way to the
/// server and the settings in force. The modes (`tui/mode.rs`) hold only
/// their own state and act on this.
#[derive(Debug)]
pub struct Model {
    pub customers: CustomerSet,
    /// User id → display name (sanitised).
    pub users: HashMap<String, String>,
    /// The largest display id seen, so the `#` column never cuts one.
    pub max_display_id: u64,
    pub me: Option<String>,
    /// Counts changes to `users` and `me` (owner names are searched).
    pub team_version: u64,
    pub histories: HashMap<String, History>,
    pub sync: SyncState,
    /// False until the local cache has been read.
    pub cache_loaded: bool,
    pub demo: bool,
    /// Why changes cannot be made: the local store could not be opened for
    /// writing, so nothing could be kept until it is sent. `None` normally.
    pub changes_blocked: Option<String>,
    /// Forms the server sent back (422) while another form was open.
    pub reopen_queue: Vec<Form>,
    /// Changes in the outbox, by key, with why they are still waiting.
    pub outbox: HashMap<IdempotencyKey, PendingChange>,
    /// What the user typed for each change in flight, to reopen the form
    /// exactly as typed if the server refuses it.
    pub submitted: HashMap<IdempotencyKey, Submitted>,
    /// The create to select and open once the server confirms it.
    pub open_on_delivery: Option<IdempotencyKey>,
    /// This session's archives, newest last, for `u`.
    pub archived: Vec<Archived>,
    /// Restores in flight, with the customer as it was before its archive.
    pub restoring: HashMap<IdempotencyKey, Entry>,
    /// This session's merges, newest last.
    pub merges: Vec<MergeDone>,
    /// Groups of duplicates marked "not a duplicate" (kept in the store),
    /// by duplicate key, with their members' ids then.
    pub dismissed: HashMap<String, Vec<String>>,
    /// This session's dismissals, newest last, for `u`: (key, stamp).
    pub dismissals: Vec<(String, u64)>,
    /// How many `Dismiss` and `Undismiss` commands this app has sent: a
    /// list of dismissed groups read from the store before it took all
    /// of them would undo one made here (see [`SyncEvent::Dismissed`]).
    ///
    /// [`SyncEvent::Dismissed`]: crate::sync::SyncEvent::Dismissed
    pub dismiss_commands: u64,
    /// Counts the changes `u` can undo, so it undoes the newest first
    /// (archives and merges carry their stamp too).
    pub undo_stamp: u64,
    /// Duplicate groups finished this session (merged or archived down to
    /// one record), by duplicate key: the queue counts them as done.
    pub groups_done: std::collections::BTreeSet<String>,
    pub share_url_base: String,
    /// The view as last saved; a change to sort or My customers saves it.
    pub view_settings: ViewSettings,
    /// Remember the API URL after the first sync that works (a run given
    /// `--api-url`).
    pub remember_api_url: bool,
}

/// An archive made in this session, newest last: what `u` undoes.
#[derive(Debug, Clone)]
pub struct Archived {
    /// The customer as it was, to put back on undo or refusal.
    pub entry: Entry,
    /// The outbox item that carries the archive.
    pub key: IdempotencyKey,
    /// The server has confirmed it.
    pub delivered: bool,
    /// The merge it is part of (the unit's key): `u` undoes the merge
    /// whole.
    pub merge: Option<IdempotencyKey>,
    /// When it was made, in `Model::undo_stamp` counts.
    pub stamp: u64,
}

/// A merge made in this session, for `u` and for the server's answers.
#[derive(Debug, Clone)]
pub struct MergeDone {
    /// The unit that carries it in the outbox.
    pub unit: IdempotencyKey,
    /// The keeper as it was before the merge.
    pub keeper: Entry,
    /// The keeper's edit and its outbox key; `None` when the merge changed
    /// no field, or (for a merge made before the app started) when the
    /// server had applied it already.
    pub edit: Option<(IdempotencyKey, CustomerPatch)>,
    /// What sets the keeper's changed fields back on undo; `None` when the
    /// merge changed no field.
    pub back: Option<CustomerPatch>,
    /// When the server last changed the keeper by the edit (its answer's
    /// `updated_at`): a later change was made by someone else.
    pub edited_at: Option<OffsetDateTime>,
    /// The losers' archives.
    pub archives: Vec<IdempotencyKey>,
    /// Losers of a merge made before the app started whose archive the
    /// server had applied then: undo restores them by id, and they come
    /// back with the server's answer.
    pub gone: Vec<String>,
    /// The server refused the edit: nothing was archived.
    pub refused: bool,
}

/// A customer's owner, resolved against the team; `me` is decided here,
/// once, and written only when drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    Me,
    Teammate(&'a str),
}

impl<'a> Owner<'a> {
    /// How the list writes it.
    pub fn label(self) -> &'a str {
        match self {
            Owner::Me => "me",
            Owner::Teammate(name) => name,
        }
    }
}

/// A change in the outbox, as the status line tells it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PendingChange {
    /// Why the last attempt failed, if one did.
    pub reason: Option<String>,
    /// The store has it (the engine said `Queued`, or it was read from the
    /// store): from then on, its absence from the store's outbox means
    /// another process settled it.
    pub stored: bool,
}

/// A submitted form, kept until the server answers.
#[derive(Debug)]
pub struct Submitted {
    pub draft: Draft,
    pub mode: FormMode,
}

/// A customer's history as far as the app knows it.
#[derive(Debug, Clone, PartialEq)]
pub enum History {
    Loading,
    Loaded {
        events: Vec<HistoryLine>,
        fresh: bool,
    },
    Failed(String),
}

/// One history event, sanitised.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryLine {
    pub at: OffsetDateTime,
    pub kind: String,
    pub summary: String,
    pub actor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncState {
    pub phase: SyncPhase,
    /// The newest sync run the app has heard of; older runs' pages are stale.
    pub generation: u64,
    pub last_synced: Option<OffsetDateTime>,
    /// Records the last finished run could not read (left out, logged).
    pub skipped: usize,
    /// When `r` last asked for a sync: a second `r` soon after asks for a
    /// full one.
    pub refresh_asked_at: Option<OffsetDateTime>,
    /// When the sync in progress started, if it runs in the background
    /// (periodic, incremental, not asked for): it stays off the status line
    /// for its first [`QUIET_SYNC`] unless it brings changes.
    pub quiet_since: Option<OffsetDateTime>,
}

/// How long a background sync stays off the status line.
pub const QUIET_SYNC: time::Duration = time::Duration::seconds(1);

#[derive(Debug, Clone, PartialEq, Default)]
pub enum SyncPhase {
    #[default]
    Idle,
    Syncing {
        fetched: usize,
        full: bool,
    },
    Offline {
        reason: String,
        retry_at: OffsetDateTime,
    },
}

impl State {
    pub fn new(theme: Theme, now: OffsetDateTime, (width, height): (u16, u16)) -> State {
        State {
            model: Model {
                customers: CustomerSet::default(),
                users: HashMap::new(),
                max_display_id: 0,
                me: None,
                team_version: 0,
                histories: HashMap::new(),
                sync: SyncState::default(),
                cache_loaded: false,
                demo: false,
                changes_blocked: None,
                reopen_queue: Vec::new(),
                outbox: HashMap::new(),
                submitted: HashMap::new(),
                open_on_delivery: None,
                archived: Vec::new(),
                restoring: HashMap::new(),
                merges: Vec::new(),
                groups_done: std::collections::BTreeSet::new(),
                dismissed: HashMap::new(),
                dismiss_commands: 0,
                dismissals: Vec::new(),
                undo_stamp: 0,
                share_url_base: DEFAULT_SHARE_URL_BASE.to_owned(),
                view_settings: ViewSettings::default(),
                remember_api_url: false,
            },
            finder: Finder::default(),
            keymap: Keymap::default(),
            selected: 0,
            offset: 0,
            selected_id: None,
            reselect: false,
            width,
            height,
            modes: Modes::default(),
            theme,
            now,
            notice: None,
            store_problem: None,
            change_note: None,
            config_problem: None,
            flash: None,
            last_click: None,
            spoken_progress: None,
            quitting: false,
            preview: None,
            dirty: true,
        }
    }

    /// Applies saved view settings: sort, My customers, hidden columns.
    pub fn apply_view(&mut self, view: ViewSettings) {
        self.model.customers.set_sort(view.sort());
        self.finder.mine = view.mine;
        self.model.view_settings = view;
        self.mark_dirty();
    }

    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Whether the screen needs drawing; clears the flag.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub fn selected_entry(&self) -> Option<&Entry> {
        self.entry_at_row(self.selected)
    }

    /// The customer shown at list row `row` (from the preview until the set
    /// arrives: `None` for a row it has not read yet).
    pub fn entry_at_row(&self, row: usize) -> Option<&Entry> {
        if let Some(preview) = &self.preview {
            return preview.entry_at(row);
        }
        self.finder
            .rows
            .position(row)
            .and_then(|p| self.model.customers.at(p))
    }

    /// How many rows the list shows.
    pub fn row_count(&self) -> usize {
        match &self.preview {
            Some(preview) => preview.counts.in_view,
            None => self.finder.rows.len(),
        }
    }

    /// How many live customers there are.
    pub fn customer_total(&self) -> usize {
        match &self.preview {
            Some(preview) => preview.counts.total,
            None => self.model.customers.len(),
        }
    }

    /// How many domains two or more live customers share.
    pub fn duplicate_domains(&self) -> usize {
        match &self.preview {
            Some(preview) => preview.counts.duplicate_domains,
            None => self.model.customers.duplicate_domains(),
        }
    }

    /// The badge of a customer on screen: how many live customers share its
    /// domain, when two or more do.
    pub fn badge(&self, entry: &Entry) -> Option<usize> {
        match &self.preview {
            Some(preview) => preview.badge(entry),
            None => self.model.customers.badge(entry),
        }
    }

    /// The group of the customer at list row `row`, by its group key: in
    /// duplicates only, a likely group's (`name/…`) for the rows after the
    /// domain groups and the shared domain's before them; elsewhere the
    /// shared domain's, else the likely group's. `None` when it is in no
    /// group.
    pub fn group_at_row(&self, row: usize) -> Option<String> {
        let entry = self.entry_at_row(row)?;
        let domain = || {
            entry
                .domain_key()
                .filter(|_| self.badge(entry).is_some())
                .map(str::to_owned)
        };
        if self.preview.is_some() {
            return domain();
        }
        let likely = || self.model.customers.likely_key(entry);
        if self.finder.duplicates_only {
            return if self.finder.rows.in_likely_group(row) {
                likely()
            } else {
                domain()
            };
        }
        domain().or_else(likely)
    }

    /// The group of the selected customer (see [`group_at_row`](Self::group_at_row)).
    pub fn selected_group(&self) -> Option<String> {
        self.group_at_row(self.selected)
    }

    /// Selects the customer with this id, wherever it is once the rows are
    /// next refreshed (at the end of this update at the latest).
    pub fn select(&mut self, id: CustomerKey) {
        self.selected_id = Some(id);
        self.reselect = true;
        self.mark_dirty();
    }

    /// Moves the selection by `delta` rows.
    pub fn move_by(&mut self, delta: isize) {
        let target = self.selected.saturating_add_signed(delta);
        self.move_to(target);
    }

    /// Selects row `row` (or the last one).
    pub fn move_to(&mut self, row: usize) {
        let row = row.min(self.row_count().saturating_sub(1));
        if row != self.selected {
            self.selected = row;
            self.mark_dirty();
        }
        self.keep_selection_visible();
    }

    /// Keeps the selected row in range and on screen.
    pub fn clamp_selection(&mut self) {
        self.selected = self.selected.min(self.row_count().saturating_sub(1));
        self.keep_selection_visible();
    }

    /// Scrolls just enough for the selected row to be on screen.
    pub fn keep_selection_visible(&mut self) {
        let rows = self.list_rows();
        let max_offset = self.row_count().saturating_sub(rows);
        let offset = if self.selected < self.offset {
            self.selected
        } else if self.selected >= self.offset + rows {
            self.selected + 1 - rows
        } else {
            self.offset
        }
        .min(max_offset);
        if offset != self.offset {
            self.offset = offset;
            self.mark_dirty();
        }
    }

    /// The link teammates open for a customer: `<base>/customers/<display_id>`,
    /// sanitised (the base comes from the settings file).
    pub fn share_url(&self, display_id: u64) -> String {
        crate::domain::share_url(&self.model.share_url_base, display_id)
    }

    /// Whether a change must be refused because nothing could keep it;
    /// says why where the user is looking.
    pub fn refuse_changes(&mut self) -> bool {
        let Some(reason) = &self.model.changes_blocked else {
            return false;
        };
        self.flash = Some(format!("Changes cannot be made now: {reason}"));
        self.mark_dirty();
        true
    }

    /// What the status line says about changes waiting in the outbox.
    pub fn pending_status(&self) -> Option<String> {
        let n = self.model.outbox.len();
        if n == 0 {
            return None;
        }
        let reason = self.model.outbox.values().find_map(|p| p.reason.as_deref());
        Some(match reason {
            Some(reason) => format!("{n} pending ({reason})"),
            None => format!("{n} pending"),
        })
    }

    /// How many list rows fit on the screen.
    pub fn list_rows(&self) -> usize {
        usize::from(self.height.saturating_sub(CHROME_ROWS)).max(1)
    }

    /// The detail pane covers the list on narrow screens.
    pub fn detail_covers_list(&self) -> bool {
        self.width < SIDE_PANE_MIN_WIDTH
    }

    /// Who owns a customer: the signed-in user, or a teammate by name (the
    /// raw id when the team does not know it).
    pub fn owner<'a>(&'a self, owner_id: Option<&'a str>) -> Option<Owner<'a>> {
        let id = owner_id?;
        if self.model.me.as_deref() == Some(id) {
            return Some(Owner::Me);
        }
        Some(Owner::Teammate(
            self.model.users.get(id).map_or(id, String::as_str),
        ))
    }

    /// An owner as the list shows it: `me`, a name, or the raw id.
    pub fn owner_label(&self, owner_id: Option<&str>) -> Option<String> {
        self.owner(owner_id).map(|o| o.label().to_owned())
    }

    /// Notes display ids now in the set, for the width of the `#` column.
    pub fn note_display_ids(&mut self, ids: impl IntoIterator<Item = u64>) {
        self.model.max_display_id = ids.into_iter().fold(self.model.max_display_id, u64::max);
    }

    /// What the status line says about syncing.
    pub fn sync_status(&self) -> SyncStatus {
        if self.preview.is_some() {
            return SyncStatus::Busy(self.loading());
        }
        match &self.model.sync.phase {
            _ if self.quiet_for().is_some() => self.idle_status(),
            SyncPhase::Syncing { full, .. } if self.theme.screen_reader => {
                SyncStatus::Busy(match self.spoken_progress {
                    Some((n, _)) if *full && n > 0 => {
                        format!("syncing, {} customers so far", format::count(n))
                    }
                    _ => "syncing".to_owned(),
                })
            }
            SyncPhase::Syncing { fetched, full } => {
                let g = self.theme.glyphs;
                let spinner = g.spinner_frame(self.spinner_step());
                let ellipsis = g.ellipsis;
                let text = if *full && *fetched > 0 {
                    format!("{spinner} syncing {}{ellipsis}", format::count(*fetched))
                } else {
                    format!("{spinner} syncing{ellipsis}")
                };
                SyncStatus::Busy(text)
            }
            SyncPhase::Offline { reason, retry_at } => {
                let secs = (*retry_at - self.now).whole_seconds().max(0);
                let g = self.theme.glyphs;
                let cached = match self.model.sync.last_synced {
                    Some(at) => {
                        format!("{}showing cache from {}", g.dot, format::ago(self.now, at))
                    }
                    None => String::new(),
                };
                SyncStatus::Offline(format!(
                    "offline{}retrying in {secs}s ({reason}){cached}",
                    g.dash
                ))
            }
            SyncPhase::Idle => self.idle_status(),
        }
    }

    /// The status line between syncs: how old the cache is.
    fn idle_status(&self) -> SyncStatus {
        match self.model.sync.last_synced {
            Some(at) if self.model.sync.skipped > 0 => SyncStatus::Offline(format!(
                "synced {}{}{}",
                format::staleness(self.now, at),
                self.theme.glyphs.dot,
                unreadable(self.model.sync.skipped)
            )),
            Some(at) => SyncStatus::Fresh(format!("synced {}", format::staleness(self.now, at))),
            None if self.model.cache_loaded => {
                SyncStatus::Busy(format!("connecting{}", self.theme.glyphs.ellipsis))
            }
            None => SyncStatus::Busy(format!("reading cache{}", self.theme.glyphs.ellipsis)),
        }
    }

    /// While a background sync that nobody asked for has brought nothing
    /// yet and started less than [`QUIET_SYNC`] ago: how much longer it
    /// stays off the status line. Most finish well within it, so the idle
    /// screen does not flicker a spinner every minute.
    fn quiet_for(&self) -> Option<Duration> {
        let SyncPhase::Syncing {
            fetched: 0,
            full: false,
        } = self.model.sync.phase
        else {
            return None;
        };
        let started = self.model.sync.quiet_since?;
        let left = QUIET_SYNC - (self.now - started);
        left.is_positive().then(|| left.unsigned_abs())
    }

    /// `loading 100,000…`, while the preview is shown, and how many keys
    /// wait for the set.
    fn loading(&self) -> String {
        let Some(preview) = &self.preview else {
            return String::new();
        };
        let mut text = format!("loading {}…", format::count(preview.counts.total));
        match preview.waiting() {
            0 => {}
            1 => text.push_str(" · 1 key waits for it"),
            n => text.push_str(&format!(" · {n} keys wait for it")),
        }
        text
    }

    /// What on screen moves with the clock alone: the spinner's frame, the
    /// offline countdown, the staleness step of `synced … ago`. A tick that
    /// leaves it as it was draws nothing, and no text is formatted to tell.
    pub fn clock_face(&self) -> ClockFace {
        match &self.model.sync.phase {
            _ if self.quiet_for().is_some() => self.staleness_face(),
            // Nothing animates for a screen reader.
            SyncPhase::Syncing { .. } if self.theme.screen_reader => ClockFace::Spinner(0),
            SyncPhase::Syncing { .. } => {
                ClockFace::Spinner(self.spinner_step() % self.theme.glyphs.spinner.len())
            }
            SyncPhase::Offline { retry_at, .. } => {
                ClockFace::Countdown((*retry_at - self.now).whole_seconds().max(0))
            }
            SyncPhase::Idle => self.staleness_face(),
        }
    }

    /// For a screen reader: takes the sync's progress into what the status
    /// line says when it has not changed for [`SPOKEN_PROGRESS_EVERY`], so
    /// the words change at most that often.
    pub fn note_progress(&mut self) {
        if !self.theme.screen_reader {
            return;
        }
        let SyncPhase::Syncing { fetched, .. } = self.model.sync.phase else {
            self.spoken_progress = None;
            return;
        };
        let every = time::Duration::try_from(SPOKEN_PROGRESS_EVERY).unwrap_or_default();
        let due = match self.spoken_progress {
            None => true,
            Some((said, at)) => said != fetched && self.now - at >= every,
        };
        if due {
            self.spoken_progress = Some((fetched, self.now));
            self.mark_dirty();
        }
    }

    /// Which frame of the spinner the clock shows: one every 125 ms.
    fn spinner_step(&self) -> usize {
        (self.now.millisecond() / 125) as usize
    }

    fn staleness_face(&self) -> ClockFace {
        ClockFace::Staleness(
            self.model
                .sync
                .last_synced
                .map(|at| format::staleness_step((self.now - at).whole_seconds()).0),
        )
    }

    /// When the screen next changes by itself, if nothing else happens: the
    /// spinner while syncing, the countdown while offline, the "synced …
    /// ago" text otherwise, woken only when that text changes (at most once
    /// a minute after the first, see [`until_staleness_changes`]). `None`
    /// means sleep until an event.
    pub fn next_wakeup(&self) -> Option<Duration> {
        let staleness = || {
            self.model
                .sync
                .last_synced
                .map(|at| until_staleness_changes(self.now, at))
        };
        if let Some(quiet) = self.quiet_for() {
            return Some(staleness().map_or(quiet, |s| s.min(quiet)));
        }
        match self.model.sync.phase {
            SyncPhase::Syncing { .. } if self.theme.screen_reader => Some(SPOKEN_PROGRESS_EVERY),
            SyncPhase::Syncing { .. } => Some(Duration::from_millis(125)),
            SyncPhase::Offline { .. } => Some(Duration::from_secs(1)),
            SyncPhase::Idle => staleness(),
        }
    }
}

/// How long until the "synced … ago" text ([`format::staleness`]) reads
/// differently: the next whole minute, hour or day since `at`, so an idle
/// screen wakes at most once a minute (`just now` lasts the first minute).
fn until_staleness_changes(now: OffsetDateTime, at: OffsetDateTime) -> Duration {
    let secs = (now - at).whole_seconds().max(0);
    let (_, step) = format::staleness_step(secs);
    let next = (secs / step + 1) * step;
    Duration::from_secs(u64::try_from(next - secs).unwrap_or(60).max(1))
}

/// How often, at most, a screen reader hears the sync's progress change.
pub const SPOKEN_PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// What a tick may change on screen (see [`State::clock_face`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockFace {
    Spinner(usize),
    Countdown(i64),
    Staleness(Option<(u8, i64)>),
}

/// `1 record could not be read`, for the status line.
fn unreadable(skipped: usize) -> String {
    match skipped {
        1 => "1 record could not be read".to_owned(),
        n => format!("{} records could not be read", format::count(n)),
    }
}

/// The sync part of the status line, with how it should look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStatus {
    Fresh(String),
    Busy(String),
    Offline(String),
}

impl SyncStatus {
    pub fn text(&self) -> &str {
        match self {
            SyncStatus::Fresh(t) | SyncStatus::Busy(t) | SyncStatus::Offline(t) => t,
        }
    }
}
