//! The event loop, one step at a time: terminal input, the sync engine's
//! events, signals and timers become messages, `update` applies them, and
//! the screen is drawn once per step, only when the state changed.
//!
//! Generic over the ratatui backend and the stream of terminal events, so
//! tests drive the real loop with a `TestBackend` and scripted keys; the app
//! uses the terminal and crossterm's `EventStream`. Owns no state of its own
//! beyond the wiring: the state is `State`, changed only by `update`.

use std::io;

use crossterm::event::{Event, KeyEventKind};
use futures_util::future::poll_immediate;
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::message::{Command, Message};
use super::state::State;
use super::{screens, terminal, update};
use crate::domain::FOLLOWABLE_BATCH;
use crate::settings::SettingsFile;
use crate::sync::{SyncEvent, SyncHandle};

/// Whether to go on after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The user quit, a signal came, the input ended or a panic elsewhere
    /// gave the terminal back.
    Stop,
}

/// The app's loop over a terminal `B` and terminal events `I`.
pub struct Runner<B: Backend, I> {
    pub terminal: Terminal<B>,
    input: I,
    pub state: State,
    engine: SyncHandle,
    sync_events: mpsc::UnboundedReceiver<SyncEvent>,
    settings: Option<SettingsWriter>,
    signals: Option<Signals>,
    copy: fn(&str),
    drawn: bool,
}

impl<B, I> Runner<B, I>
where
    B: Backend,
    I: Stream<Item = io::Result<Event>> + Unpin,
{
    /// A loop over `terminal` and `input` for `state`, wired to the engine
    /// `engine` whose events arrive on `sync_events`. Copying writes OSC 52
    /// to stdout; settings are not saved and signals not heard until
    /// [`Runner::with_settings`] and [`Runner::with_signals`].
    pub fn new(
        terminal: Terminal<B>,
        input: I,
        state: State,
        engine: SyncHandle,
        sync_events: mpsc::UnboundedReceiver<SyncEvent>,
    ) -> Self {
        Runner {
            terminal,
            input,
            state,
            engine,
            sync_events,
            settings: None,
            signals: None,
            copy: copy_to_clipboard,
            drawn: false,
        }
    }

    pub(super) fn with_settings(mut self, settings: SettingsWriter) -> Self {
        self.settings = Some(settings);
        self
    }

    /// SIGTERM and SIGHUP end the loop.
    pub(super) fn with_signals(mut self) -> io::Result<Self> {
        self.signals = Some(Signals::new()?);
        Ok(self)
    }

    /// What copying a link does (tests: nothing).
    #[must_use]
    pub fn on_copy(mut self, copy: fn(&str)) -> Self {
        self.copy = copy;
        self
    }

    /// Steps until the loop stops.
    ///
    /// # Errors
    ///
    /// The terminal or its input failing.
    pub async fn run(&mut self) -> io::Result<()> {
        while self.step().await? == Flow::Continue {}
        Ok(())
    }

    /// One pass: draws if the state changed, waits for the next input,
    /// engine event, signal or timer, then applies everything waiting:
    /// the input first, drawn at once when engine events wait too (a key
    /// is answered before a backlog of sync pages is merged), then the
    /// engine's events, consecutive pages merged into one.
    ///
    /// # Errors
    ///
    /// The terminal or its input failing.
    pub async fn step(&mut self) -> io::Result<Flow> {
        if !self.draw()? || self.state.quitting {
            return Ok(Flow::Stop);
        }
        let Some(first) = self.next_message().await? else {
            return Ok(Flow::Stop);
        };
        let mut messages = vec![Message::Tick(OffsetDateTime::now_utc())];
        let mut events = Vec::new();
        match first {
            Some(Message::Sync(event)) => events.push(event),
            other => messages.extend(other),
        }
        // `poll_immediate` polls with this task's real waker: crossterm only
        // remembers the first waker it sees, so a no-op waker would hang input.
        while let Some(Some(Ok(event))) = poll_immediate(self.input.next()).await {
            messages.extend(translate(event));
        }
        while let Ok(event) = self.sync_events.try_recv() {
            events.push(event);
        }
        let typed = messages.len() > 1;
        self.apply(messages);
        if typed && !events.is_empty() && !self.state.quitting && !self.draw()? {
            return Ok(Flow::Stop);
        }
        self.apply(merge_pages(events).into_iter().map(Message::Sync));
        if self.state.quitting {
            self.draw()?;
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }

    fn apply(&mut self, messages: impl IntoIterator<Item = Message>) {
        for message in messages {
            for command in update(&mut self.state, message) {
                self.perform(command);
            }
        }
    }

    /// Stops the engine and the settings writer, letting their last work
    /// finish, and hands back the state.
    pub async fn stop(self) -> State {
        self.engine.stop().await;
        if let Some(settings) = self.settings {
            settings.finish().await;
        }
        self.state
    }

    /// Draws when the state changed. `false` when a panic elsewhere gave
    /// the terminal back.
    ///
    /// # Errors
    ///
    /// The terminal failing.
    pub fn draw(&mut self) -> io::Result<bool> {
        if !self.state.take_dirty() {
            return Ok(true);
        }
        let (terminal, state) = (&mut self.terminal, &self.state);
        let drew = terminal::draw_frame(|| {
            terminal
                .draw(|frame| screens::render(state, frame))
                .map_err(|err| io::Error::other(err.to_string()))?;
            Ok(())
        })?;
        if drew && !self.drawn {
            self.drawn = true;
            terminal::debug_panic_after_first_frame();
        }
        Ok(drew)
    }

    /// The next message to apply (`Some(None)`: a timer, only the clock
    /// moved), or `None` when the loop must stop.
    async fn next_message(&mut self) -> io::Result<Option<Option<Message>>> {
        let wakeup = self.state.next_wakeup();
        let timer = async {
            match wakeup {
                Some(after) => tokio::time::sleep(after).await,
                None => std::future::pending().await,
            }
        };
        let signals = async {
            match &mut self.signals {
                Some(signals) => signals.recv().await,
                None => std::future::pending().await,
            }
        };
        let problems = async {
            match &mut self.settings {
                Some(settings) => settings.problems.recv().await,
                None => std::future::pending().await,
            }
        };
        Ok(Some(tokio::select! {
            biased;
            () = terminal::crashed() => return Ok(None),
            event = self.input.next() => match event {
                Some(Ok(event)) => translate(event),
                Some(Err(err)) => return Err(err),
                None => Some(Message::Terminate),
            },
            () = signals => Some(Message::Terminate),
            Some(event) = self.sync_events.recv() => Some(Message::Sync(event)),
            Some(problem) = problems => Some(Message::SettingsNotSaved(problem)),
            () = timer => None,
        }))
    }

    fn perform(&mut self, command: Command) {
        match command {
            Command::Sync(command) => self.engine.send(command),
            Command::Copy(text) => (self.copy)(&text),
            Command::Quit => self.state.quitting = true,
            command @ (Command::SaveView(_) | Command::RememberApiUrl) => {
                if let Some(settings) = &self.settings {
                    settings.send(command);
                }
            }
        }
    }
}

/// Writes settings changes off the UI task, in order, one at a time. The
/// first write that fails is reported to the UI (`problems`), once: the
/// same cause would fail every later one.
pub(super) struct SettingsWriter {
    tx: mpsc::UnboundedSender<Command>,
    task: tokio::task::JoinHandle<()>,
    problems: mpsc::UnboundedReceiver<String>,
}

impl SettingsWriter {
    pub(super) fn spawn(mut file: SettingsFile, api_url: String) -> SettingsWriter {
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
    pub(super) async fn finish(self) {
        drop(self.tx);
        let _ = self.task.await;
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

/// The engine's events in order, with each run of consecutive pages of
/// one sync run merged into one page (up to [`FOLLOWABLE_BATCH`] records,
/// which views still follow change by change): the set, the search index
/// and an open filter then follow a backlog once instead of once a page.
fn merge_pages(events: Vec<SyncEvent>) -> Vec<SyncEvent> {
    let mut merged: Vec<SyncEvent> = Vec::with_capacity(events.len());
    for event in events {
        match (merged.last_mut(), event) {
            (
                Some(SyncEvent::Page {
                    generation: run,
                    customers,
                    fetched,
                }),
                SyncEvent::Page {
                    generation,
                    customers: more,
                    fetched: now,
                },
            ) if *run == generation && customers.len() + more.len() <= FOLLOWABLE_BATCH => {
                customers.extend(more);
                *fetched = now;
            }
            (_, event) => merged.push(event),
        }
    }
    merged
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Entry, fixtures};

    fn page(generation: u64, ids: &[u64]) -> SyncEvent {
        SyncEvent::Page {
            generation,
            customers: ids
                .iter()
                .map(|&n| Entry::from(fixtures::customer(n, "Acme", None)))
                .collect(),
            fetched: ids.last().copied().unwrap_or(0) as usize,
        }
    }

    fn shape(events: &[SyncEvent]) -> Vec<(u64, Vec<u64>, usize)> {
        events
            .iter()
            .map(|e| match e {
                SyncEvent::Page {
                    generation,
                    customers,
                    fetched,
                } => (
                    *generation,
                    customers.iter().map(|c| c.display_id).collect(),
                    *fetched,
                ),
                _ => (0, Vec::new(), 0),
            })
            .collect()
    }

    #[test]
    fn a_backlog_of_pages_of_one_run_is_merged_in_order() {
        let events = vec![
            page(1, &[1, 2]),
            page(1, &[3]),
            page(2, &[4]),
            SyncEvent::Started {
                generation: 2,
                full: false,
            },
            page(2, &[5]),
            page(2, &[6]),
        ];
        assert_eq!(
            shape(&merge_pages(events)),
            [
                (1, vec![1, 2, 3], 3),
                (2, vec![4], 4),
                (0, vec![], 0),
                (2, vec![5, 6], 6),
            ],
            "a newer run and any other event break a run of pages"
        );
    }

    #[test]
    fn a_merged_page_stays_small_enough_for_views_to_follow() {
        let many: Vec<u64> = (1..=FOLLOWABLE_BATCH as u64).collect();
        let merged = merge_pages(vec![page(1, &many), page(1, &[0])]);
        assert_eq!(
            merged.len(),
            2,
            "one more record would make views recompute"
        );
    }
}
