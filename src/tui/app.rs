//! Starting the app: the store, the engine, the terminal (restored however
//! the app ends) and the state from the settings, then the event loop
//! ([`Runner`]) until the user quits.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::EventStream;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::keymap::Keymap;
use super::runner::{Runner, SettingsWriter};
use super::state::State;
use super::terminal;
use super::theme::{Asked, Caps, Theme};
use crate::api::{ApiError, ApiKey, Client, RetryPolicy};
use crate::domain::SortColumn;
use crate::settings::SettingsFile;
use crate::store::{Store, StoreError};
use crate::sync::{self, PreviewSpec, SyncConfig};

/// What the TUI needs to start.
pub struct TuiConfig {
    pub api_url: String,
    pub key: ApiKey,
    /// The account's local store file.
    pub store_path: PathBuf,
    pub demo: bool,
    pub sync: SyncConfig,
    /// Where shared customer links point (`<base>/customers/<display_id>`).
    pub share_url_base: String,
    /// The settings file: the view is restored from it and saved to it.
    pub settings: SettingsFile,
    /// Remember `api_url` in the settings after the first sync that works.
    pub remember_api_url: bool,
    /// `--ascii` and `--screen-reader`.
    pub asked: Asked,
}

#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("terminal error: {0}")]
    Terminal(#[from] io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A task panicked; the panic hook restored the terminal and said
    /// where the details are.
    #[error("pivotal crashed")]
    Crashed,
}

/// How long stopping may take after a crash: a task that panicked may have
/// left something that never finishes, and the user is waiting.
const STOP_AFTER_CRASH: Duration = Duration::from_secs(5);

/// Restores the terminal when dropped, however the loop ends (the panic
/// hook may have done it already; it happens once).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        terminal::restore();
    }
}

/// Runs the app until the user quits or a signal arrives.
pub async fn run(config: TuiConfig) -> Result<(), TuiError> {
    // The sync engine retries a whole run with its own back-off, so each
    // request gives up quickly and the status line tells the truth early.
    let retry = RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    };
    let client = Client::new(&config.api_url, config.key)?
        .with_retry(retry)
        .with_timeout(Duration::from_secs(15));
    let (store, store_problem, changes_blocked) = open_store(config.store_path).await?;

    let settings = config.settings.settings().clone();
    let terminal = terminal::enter(settings.mouse())?;
    let _guard = TerminalGuard;
    let size = terminal.size()?;
    let caps = Caps::from_env(Asked {
        ascii: config.asked.ascii || settings.ascii,
        screen_reader: config.asked.screen_reader || settings.screen_reader,
    });
    let mut state = State::new(
        Theme::for_terminal(settings.theme, caps),
        OffsetDateTime::now_utc(),
        (size.width, size.height),
    );
    state.model.demo = config.demo;
    state.model.share_url_base = config.share_url_base;
    state.store_problem = store_problem;
    state.model.changes_blocked = changes_blocked;
    state.config_problem = config.settings.problem().map(str::to_owned);
    match Keymap::with_overrides(&settings.keys) {
        Ok(keymap) => state.keymap = keymap,
        Err(problem) => {
            // The default keys, and the reason where the user looks.
            state.config_problem = Some(format!(
                "config.toml: {problem}; the default keys are in use meanwhile"
            ));
        }
    }
    state.model.remember_api_url = config.remember_api_url;
    state.apply_view(settings.view);

    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let sync_config = SyncConfig {
        preview: preview_spec(&state),
        ..config.sync
    };
    let engine = sync::spawn(client, store, sync_config, events_tx);
    let settings = SettingsWriter::spawn(config.settings, config.api_url);
    let mut runner = Runner::new(terminal, EventStream::new(), state, engine, events_rx)
        .with_settings(settings)
        .with_signals()?;
    let result = runner.run().await;
    let stopped = runner.stop();
    if terminal::has_crashed() {
        if tokio::time::timeout(STOP_AFTER_CRASH, stopped)
            .await
            .is_err()
        {
            tracing::error!("the engine did not stop after a crash");
        }
        return Err(TuiError::Crashed);
    }
    let state = stopped.await;
    // Quitting: the engine has delivered or kept the outbox and closed the
    // store (SQLite checkpoints it), and the settings writer has written
    // its last change, so nothing in the state is left to save. Its memory
    // (about a million small allocations at 100,000 customers, ~250 ms to
    // free one by one) is left to the OS, which takes it back at exit in one
    // go. Nothing else is skipped: the terminal is restored when `_guard`
    // drops just below, and the log is flushed when the binary drops its
    // log guard after this returns.
    std::mem::forget(state);
    result.map_err(TuiError::from)
}

/// The first screen to ask the engine for while it builds the set: the
/// saved view, if the preview serves it (name order, either way, with or
/// without My customers); other sorts start as before, from the set.
fn preview_spec(state: &State) -> Option<PreviewSpec> {
    let sort = state.model.customers.sort();
    (sort.column == SortColumn::Name).then(|| PreviewSpec {
        descending: sort.descending(),
        mine: state.finder.mine,
        rows: state.list_rows(),
    })
}

/// Opens the account's store. A damaged one is moved aside and a fresh one
/// made (the notice says where the old one went); one that cannot be opened
/// at all gives a store in memory, with changes refused (the reason comes
/// second), since nothing could keep them until they are sent.
async fn open_store(path: PathBuf) -> Result<(Store, Option<String>, Option<String>), StoreError> {
    let opened = match tokio::task::spawn_blocking(move || Store::open_or_recover(&path)).await {
        Ok(opened) => opened,
        // Opening panicked: a bug, so let it surface as one.
        Err(err) => std::panic::resume_unwind(err.into_panic()),
    };
    match opened {
        Ok((store, None)) => Ok((store, None, None)),
        Ok((store, Some(recovered))) => {
            // Where the old copy went is in the log (a long path).
            tracing::warn!(moved_to = %recovered.moved_to.display(), "rebuilding a damaged local cache");
            let notice = "local cache was damaged: rebuilt, old copy kept (see the log)".to_owned();
            Ok((store, Some(notice), None))
        }
        Err(err) => {
            tracing::warn!(error = %err, "the local store cannot be opened; working from memory");
            let notice = format!("local cache unavailable ({err}); changes cannot be saved");
            let blocked = format!("the local cache cannot be written ({err})");
            Ok((Store::open_in_memory()?, Some(notice), Some(blocked)))
        }
    }
}
