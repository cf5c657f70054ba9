//! The event loop: terminal set-up and restore, input, signals, the sync
//! engine's events, and drawing only when the state changed.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use futures_util::future::poll_immediate;
use ratatui::DefaultTerminal;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::keymap::Keymap;
use super::message::{Command, Message};
use super::state::State;
use super::theme::Theme;
use super::{terminal, update, view};
use crate::api::{ApiError, ApiKey, Client, RetryPolicy};
use crate::settings::SettingsFile;
use crate::store::{Store, StoreError};
use crate::sync::{self, SyncConfig, SyncEvent, SyncHandle};

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

    let mut terminal = terminal::enter()?;
    let _guard = TerminalGuard;
    let size = terminal.size()?;
    let settings = config.settings.settings().clone();
    let mut state = State::new(
        Theme::choose(settings.theme),
        OffsetDateTime::now_utc(),
        (size.width, size.height),
    );
    state.demo = config.demo;
    state.share_url_base = config.share_url_base;
    state.store_problem = store_problem;
    state.changes_blocked = changes_blocked;
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
    state.remember_api_url = config.remember_api_url;
    state.apply_view(settings.view);

    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let engine = sync::spawn(client, store, config.sync, events_tx);
    let mut settings = SettingsWriter::spawn(config.settings, config.api_url);
    let result = event_loop(&mut terminal, &mut state, &engine, &mut settings, events_rx).await;
    let stopped = async {
        engine.stop().await;
        settings.finish().await;
    };
    if terminal::has_crashed() {
        if tokio::time::timeout(STOP_AFTER_CRASH, stopped)
            .await
            .is_err()
        {
            tracing::error!("the engine did not stop after a crash");
        }
        return Err(TuiError::Crashed);
    }
    stopped.await;
    // Quitting: the engine has closed the store and the settings are
    // written, so nothing is left to save. The state's memory (about a
    // million small allocations at 100,000 customers, ~250 ms to free one by
    // one) is left to the OS, which takes it back at exit in one go.
    std::mem::forget(state);
    result.map_err(TuiError::from)
}

/// Writes settings changes off the UI task, in order, one at a time. The
/// first write that fails is reported to the UI (`problems`), once: the
/// same cause would fail every later one.
struct SettingsWriter {
    tx: mpsc::UnboundedSender<Command>,
    task: tokio::task::JoinHandle<()>,
    problems: mpsc::UnboundedReceiver<String>,
}

impl SettingsWriter {
    fn spawn(mut file: SettingsFile, api_url: String) -> SettingsWriter {
        let (tx, mut rx) = mpsc::unbounded_channel::<Command>();
        let (report, problems) = mpsc::unbounded_channel::<String>();
        let task = tokio::spawn(async move {
            let mut told = false;
            while let Some(command) = rx.recv().await {
                let url = api_url.clone();
                let written = tokio::task::spawn_blocking(move || {
                    let result = match command {
                        Command::SaveView(view) => file.save_view(&view),
                        Command::RememberApiUrl => file.remember_api_url(&url),
                        _ => Ok(()),
                    };
                    (file, result)
                })
                .await;
                match written {
                    Ok((back, result)) => {
                        file = back;
                        if let Err(err) = result {
                            tracing::warn!(error = %err, "settings not saved");
                            // A broken file is already named on the status
                            // line, with why it is left alone.
                            let known = matches!(err, crate::settings::SettingsError::Broken(_));
                            if !known && !std::mem::replace(&mut told, true) {
                                let _ = report.send(err.to_string());
                            }
                        }
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "the settings writer failed");
                        return;
                    }
                }
            }
        });
        SettingsWriter { tx, task, problems }
    }

    fn send(&self, command: Command) {
        let _ = self.tx.send(command);
    }

    /// Lets the last writes finish.
    async fn finish(self) {
        drop(self.tx);
        let _ = self.task.await;
    }
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

async fn event_loop(
    terminal: &mut DefaultTerminal,
    state: &mut State,
    engine: &SyncHandle,
    settings: &mut SettingsWriter,
    mut sync_events: mpsc::UnboundedReceiver<SyncEvent>,
) -> io::Result<()> {
    let mut input = EventStream::new();
    let mut signals = Signals::new()?;
    let mut drawn = false;
    loop {
        if state.take_dirty() {
            let drew = terminal::draw_frame(|| {
                terminal.draw(|frame| view::render(state, frame))?;
                Ok(())
            })?;
            if !drew {
                // A panic elsewhere gave the terminal back.
                return Ok(());
            }
            if !drawn {
                drawn = true;
                terminal::debug_panic_after_first_frame();
            }
        }
        if state.quitting {
            return Ok(());
        }
        let wakeup = state.next_wakeup();
        let timer = async {
            match wakeup {
                Some(after) => tokio::time::sleep(after).await,
                None => std::future::pending().await,
            }
        };
        let first = tokio::select! {
            biased;
            () = terminal::crashed() => return Ok(()),
            event = input.next() => match event {
                Some(Ok(event)) => translate(event),
                Some(Err(err)) => return Err(err),
                None => Some(Message::Terminate),
            },
            _ = signals.recv() => Some(Message::Terminate),
            Some(event) = sync_events.recv() => Some(Message::Sync(event)),
            Some(problem) = settings.problems.recv() => Some(Message::SettingsNotSaved(problem)),
            _ = timer => None,
        };
        // Take everything that is already waiting, then draw once.
        let mut messages = vec![Message::Tick(OffsetDateTime::now_utc())];
        messages.extend(first);
        // `poll_immediate` polls with this task's real waker: crossterm only
        // remembers the first waker it sees, so a no-op waker would hang input.
        while let Some(Some(Ok(event))) = poll_immediate(input.next()).await {
            messages.extend(translate(event));
        }
        while let Ok(event) = sync_events.try_recv() {
            messages.push(Message::Sync(event));
        }
        for message in messages {
            for command in update(state, message) {
                match command {
                    Command::Sync(command) => engine.send(command),
                    Command::Copy(text) => copy_to_clipboard(&text),
                    Command::Quit => state.quitting = true,
                    command @ (Command::SaveView(_) | Command::RememberApiUrl) => {
                        settings.send(command);
                    }
                }
            }
        }
    }
}

/// OSC 52: the terminal puts the text on the clipboard of the machine the
/// user sits at, which works over SSH and in tmux (with `set-clipboard`).
fn copy_to_clipboard(text: &str) {
    use crossterm::clipboard::CopyToClipboard;
    if let Err(err) = crossterm::execute!(io::stdout(), CopyToClipboard::to_clipboard_from(text)) {
        tracing::warn!(error = %err, "could not write to the clipboard");
    }
}

fn translate(event: Event) -> Option<Message> {
    match event {
        Event::Paste(text) => Some(Message::Paste(text)),
        Event::Key(key) if key.kind != KeyEventKind::Release => Some(Message::Key(key)),
        Event::Mouse(mouse) => Some(Message::Mouse(mouse)),
        Event::Resize(width, height) => Some(Message::Resize { width, height }),
        _ => None,
    }
}

/// SIGTERM and SIGHUP (an SSH drop) end the app cleanly.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                hup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.hup.recv() => {}
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await
    }
}
