//! Triage as the app does it, without a terminal: the real `State` and
//! `update`, keys pressed as a user would, the commands they return sent
//! to the real sync engine, and its events fed back, against the reference
//! server over sockets. The screen is rendered to a `TestBackend`.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{TestServer, client_for, fast_retry};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pivotal_tui::server::{DEMO_CUSTOMERS, Seed};
use pivotal_tui::store::Store;
use pivotal_tui::sync::{self, SyncConfig, SyncEvent, SyncHandle};
use pivotal_tui::tui::theme::Theme;
use pivotal_tui::tui::{Command, Message, State, update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::sync::mpsc::{self, UnboundedReceiver};

const WAIT: Duration = Duration::from_secs(20);

/// The app's state wired to a real engine.
struct App {
    state: State,
    engine: SyncHandle,
    events: UnboundedReceiver<SyncEvent>,
    _store: TempDir,
}

impl App {
    async fn start(server: &TestServer, (width, height): (u16, u16)) -> App {
        let dir = tempfile::tempdir().expect("store dir");
        let path: PathBuf = dir.path().join("accounts").join("app.sqlite3");
        let store = Store::open(&path).expect("open the store");
        let (tx, events) = mpsc::unbounded_channel();
        let config = SyncConfig {
            refresh_every: Duration::from_secs(3600),
            page_size: 100,
            retry_min: Duration::from_millis(50),
            retry_max: Duration::from_millis(200),
        };
        let client = client_for(&server.url()).with_retry(fast_retry(2));
        let engine = sync::spawn(client, store, config, tx);
        let state = State::new(Theme::colored(), OffsetDateTime::now_utc(), (width, height));
        let mut app = App {
            state,
            engine,
            events,
            _store: dir,
        };
        app.until("the first sync", |s| s.sync.last_synced.is_some())
            .await;
        app
    }

    /// Handles a message and sends the engine what it asks for.
    fn handle(&mut self, message: Message) {
        for command in update(&mut self.state, message) {
            if let Command::Sync(command) = command {
                self.engine.send(command);
            }
        }
    }

    fn press(&mut self, c: char) {
        self.handle(Message::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }

    fn type_text(&mut self, text: &str) {
        text.chars().for_each(|c| self.press(c));
    }

    fn key(&mut self, code: KeyCode) {
        self.handle(Message::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// Feeds engine events to the app until `done` holds.
    async fn until(&mut self, what: &str, done: impl Fn(&State) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(&self.state) {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.events.recv()).await {
                Ok(Some(event)) => self.handle(Message::Sync(event)),
                Ok(None) => panic!("the engine stopped while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; screen:\n{}", self.screen()),
            }
        }
    }

    fn screen(&self) -> String {
        screen_of(&self.state)
    }

    /// Selects a customer by typing `#<display_id>` Enter.
    fn go_to(&mut self, display_id: u64) {
        self.press('/');
        self.type_text(&format!("#{display_id}"));
        self.key(KeyCode::Enter);
        let selected = self.state.selected_entry().map(|e| e.display_id);
        assert_eq!(selected, Some(display_id));
    }

    fn badge(&self, display_id: u64) -> Option<usize> {
        let entry = self
            .state
            .customers
            .iter_ordered()
            .find(|e| e.display_id == display_id)?;
        self.state.customers.badge(entry)
    }

    fn id_of(&self, display_id: u64) -> String {
        self.state
            .customers
            .iter_ordered()
            .find(|e| e.display_id == display_id)
            .map(|e| e.id.clone())
            .expect("a live customer")
    }
}

/// The screen as text, one line per row.
fn screen_of(state: &State) -> String {
    let backend = TestBackend::new(state.width, state.height);
    let mut terminal = Terminal::new(backend).expect("test terminal");
    terminal
        .draw(|frame| view::render(state, frame))
        .expect("draws");
    terminal.backend().to_string()
}

async fn demo_server() -> TestServer {
    TestServer::start_with(|c| c.seed = Some(Seed::Embedded(DEMO_CUSTOMERS))).await
}

#[tokio::test]
async fn compare_shows_a_triple_and_a_pair_with_their_histories_from_the_server() {
    let server = demo_server().await;
    let mut app = App::start(&server, (120, 40)).await;

    app.go_to(1003);
    app.press('c');
    app.until("the three histories", |s| {
        let screen = screen_of(s);
        screen.contains("8 events") && screen.matches("2 events").count() == 2
    })
    .await;
    let screen = app.screen();
    for text in [
        "acme.com · 3 records share this domain",
        "#1003 Acme Co",
        "#1036 Acme Corporation",
        "#1052 ACME Co.",
        "www.acme.com",
        "Acme.com",
        "8 events",
        "2 events",
    ] {
        assert!(screen.contains(text), "{text}:\n{screen}");
    }

    app.key(KeyCode::Esc);
    app.go_to(1008);
    app.press('c');
    app.until("the pair's histories", |s| {
        let screen = screen_of(s);
        screen.contains("6 events") && screen.contains("1 event ")
    })
    .await;
    let screen = app.screen();
    for text in [
        "globex.io · 2 records share this domain",
        "https://globex.io/",
        "6 events",
        "1 event",
    ] {
        assert!(screen.contains(text), "{text}:\n{screen}");
    }
}

#[tokio::test]
async fn archive_asks_n_keeps_it_y_archives_on_the_server_and_u_restores_it() {
    let server = demo_server().await;
    let api = server.client();
    let mut app = App::start(&server, (80, 24)).await;
    let loser = app.id_of(1052);

    app.go_to(1052);
    app.press('a');
    assert!(app.state.modes.confirm_archive().is_some());
    app.press('n');
    assert_eq!(app.badge(1003), Some(3), "n changes nothing");
    let on_server = api.get_customer(&loser).await.expect("get");
    assert!(!on_server.archived, "n sends nothing");

    app.go_to(1052);
    app.press('a');
    app.press('y');
    assert_eq!(app.badge(1003), Some(2), "the badge drops at once");
    app.until("the archive delivered", |s| s.outbox.is_empty())
        .await;
    let on_server = api.get_customer(&loser).await.expect("get");
    assert!(on_server.archived, "archived on the server");
    assert!(app.screen().contains("Archived #1052 — u to undo"));

    app.press('u');
    assert_eq!(app.badge(1003), Some(3), "back at once");
    app.until("the restore delivered", |s| s.outbox.is_empty())
        .await;
    let on_server = api.get_customer(&loser).await.expect("get");
    assert!(!on_server.archived, "live again on the server");
    let history = api.history(&loser).await.expect("history");
    let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(&kinds[..2], ["restored", "archived"], "{kinds:?}");

    app.press('r');
    let before = app.state.sync.last_synced;
    app.until("a sync after the restore", |s| s.sync.last_synced > before)
        .await;
    assert_eq!(app.badge(1052), Some(3), "a fresh sync agrees");
}
