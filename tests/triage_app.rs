//! Triage as the app does it, without a terminal: the app's real event
//! loop ([`Runner`]) over a `TestBackend`, keys pressed as a user would
//! through a scripted input stream, the real sync engine, against the
//! reference server over sockets. The screen is what the loop drew.

mod common;

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{TestServer, client_for, fast_retry};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures_util::Stream;
use pivotal_tui::server::{DEMO_CUSTOMERS, Seed};
use pivotal_tui::store::Store;
use pivotal_tui::sync::{self, SyncConfig};
use pivotal_tui::tui::theme::Theme;
use pivotal_tui::tui::{Flow, Runner, State};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);

/// Terminal events as the test types them.
type Input = Box<dyn Stream<Item = io::Result<Event>> + Unpin + Send>;

/// The app's loop, wired to a real engine, with a keyboard the test types
/// on.
struct App {
    runner: Runner<TestBackend, Input>,
    keyboard: mpsc::UnboundedSender<io::Result<Event>>,
    _store: TempDir,
}

impl App {
    async fn start(server: &TestServer, size: (u16, u16)) -> App {
        let mut app = App::starting(server, size);
        app.until("the first sync", |s, _| s.model.sync.last_synced.is_some())
            .await;
        app
    }

    /// The app as it starts: the first sync has not run yet.
    fn starting(server: &TestServer, (width, height): (u16, u16)) -> App {
        let dir = tempfile::tempdir().expect("store dir");
        let path: PathBuf = dir.path().join("accounts").join("app.sqlite3");
        let store = Store::open(&path).expect("open the store");
        let (tx, events) = mpsc::unbounded_channel();
        let config = SyncConfig {
            refresh_every: Duration::from_secs(3600),
            page_size: 100,
            retry_min: Duration::from_millis(50),
            retry_max: Duration::from_millis(200),
            preview: None,
        };
        let client = client_for(&server.url()).with_retry(fast_retry(2));
        let engine = sync::spawn(client, store, config, tx);
        let state = State::new(Theme::colored(), OffsetDateTime::now_utc(), (width, height));
        let terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
        let (keyboard, mut keys) = mpsc::unbounded_channel();
        let input: Input = Box::new(futures_util::stream::poll_fn(move |cx| keys.poll_recv(cx)));
        let runner = Runner::new(terminal, input, state, engine, events).on_copy(|_| {});
        App {
            runner,
            keyboard,
            _store: dir,
        }
    }

    fn state(&self) -> &State {
        &self.runner.state
    }

    /// Types `code` and lets the loop take it.
    async fn key(&mut self, code: KeyCode) {
        let key = Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
        self.keyboard.send(Ok(key)).expect("the loop listens");
        self.step().await;
    }

    async fn press(&mut self, c: char) {
        self.key(KeyCode::Char(c)).await;
    }

    async fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.press(c).await;
        }
    }

    async fn step(&mut self) {
        let flow = tokio::time::timeout(WAIT, self.runner.step())
            .await
            .expect("the loop answers")
            .expect("the loop runs");
        assert_eq!(flow, Flow::Continue, "the app quit");
    }

    /// Runs the loop until `done` holds for the state and the screen it
    /// drew.
    async fn until(&mut self, what: &str, done: impl Fn(&State, &str) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            self.runner.draw().expect("draws");
            if done(self.state(), &self.screen()) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.runner.step()).await {
                Ok(Ok(Flow::Continue)) => {}
                Ok(other) => panic!("the loop ended ({other:?}) while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; screen:\n{}", self.screen()),
            }
        }
    }

    /// What the loop last drew, one line per row.
    fn screen(&self) -> String {
        self.runner.terminal.backend().to_string()
    }

    /// Selects a customer by typing `#<display_id>` Enter.
    async fn go_to(&mut self, display_id: u64) {
        self.press('/').await;
        self.type_text(&format!("#{display_id}")).await;
        self.key(KeyCode::Enter).await;
        let selected = self.state().selected_entry().map(|e| e.display_id);
        assert_eq!(selected, Some(display_id));
    }

    fn badge(&self, display_id: u64) -> Option<usize> {
        let entry = self
            .state()
            .model
            .customers
            .iter_ordered()
            .find(|e| e.display_id == display_id)?;
        self.state().model.customers.badge(entry)
    }

    fn id_of(&self, display_id: u64) -> String {
        self.state()
            .model
            .customers
            .iter_ordered()
            .find(|e| e.display_id == display_id)
            .and_then(|e| e.id().map(str::to_owned))
            .expect("a live customer")
    }

    /// The screen, drawn now.
    fn drawn(&mut self) -> String {
        self.runner.draw().expect("draws");
        self.screen()
    }
}

async fn demo_server() -> TestServer {
    TestServer::start_with(|c| c.seed = Some(Seed::Embedded(DEMO_CUSTOMERS))).await
}

#[tokio::test]
async fn compare_shows_a_triple_and_a_pair_with_their_histories_from_the_server() {
    let server = demo_server().await;
    let mut app = App::start(&server, (120, 40)).await;

    app.go_to(1003).await;
    app.press('c').await;
    app.until("the three histories", |_, screen| {
        screen.contains("8 events") && screen.matches("2 events").count() == 2
    })
    .await;
    let screen = app.drawn();
    for text in [
        "acme.com · 3 records ",
        "#1003 Acme Co",
        "#1036 Acme Corporation",
        "#1052 ACME Co.",
        "www.acme.com",
        "Acme.com",
        "8 events",
        "2 events",
        // The suggested keeper, from the histories Pivotal has.
        "keep #1003: most history (8 events), from hubspot",
    ] {
        assert!(screen.contains(text), "{text}:\n{screen}");
    }

    app.key(KeyCode::Esc).await;
    app.go_to(1008).await;
    app.press('c').await;
    app.until("the pair's histories", |_, screen| {
        screen.contains("6 events") && screen.contains("1 event ")
    })
    .await;
    let screen = app.drawn();
    for text in [
        "globex.io · 2 records ",
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

    app.go_to(1052).await;
    app.press('a').await;
    assert!(app.state().modes.confirm_archive().is_some());
    app.press('n').await;
    assert_eq!(app.badge(1003), Some(3), "n changes nothing");
    let on_server = api.get_customer(&loser).await.expect("get");
    assert!(!on_server.archived, "n sends nothing");

    app.go_to(1052).await;
    app.press('a').await;
    app.press('y').await;
    assert_eq!(app.badge(1003), Some(2), "the badge drops at once");
    app.until("the archive delivered", |s, _| s.model.outbox.is_empty())
        .await;
    let on_server = api.get_customer(&loser).await.expect("get");
    assert!(on_server.archived, "archived on the server");
    assert!(app.drawn().contains("Archived #1052 — u to undo"));

    app.press('u').await;
    assert_eq!(app.badge(1003), Some(3), "back at once");
    app.until("the restore delivered", |s, _| s.model.outbox.is_empty())
        .await;
    let on_server = api.get_customer(&loser).await.expect("get");
    assert!(!on_server.archived, "live again on the server");
    let history = api.history(&loser).await.expect("history");
    let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(&kinds[..2], ["restored", "archived"], "{kinds:?}");

    app.press('r').await;
    let before = app.state().model.sync.last_synced;
    app.until("a sync after the restore", |s, _| {
        s.model.sync.last_synced > before
    })
    .await;
    assert_eq!(app.badge(1052), Some(3), "a fresh sync agrees");
}

#[tokio::test]
async fn d_then_a_merge_taking_a_field_from_a_loser_lands_on_the_next_group_and_u_undoes_it() {
    let server = demo_server().await;
    let api = server.client();
    let mut app = App::start(&server, (120, 40)).await;
    let (keeper, losers) = (app.id_of(1003), [app.id_of(1036), app.id_of(1052)]);

    app.press('D').await;
    app.press('c').await;
    app.until("the suggested keeper", |_, screen| {
        screen.contains("keep #1003: most history (8 events)")
    })
    .await;
    assert!(app.drawn().contains("acme.com · 3 records · group 1 of 10"));
    // #1036's plan, under the field cursor, into the result.
    app.key(KeyCode::Right).await;
    for _ in 0..4 {
        app.press('j').await;
    }
    app.press(' ').await;
    app.press('M').await;
    let screen = app.drawn();
    assert!(
        screen.contains(
            "Merge into #1003 Acme Co: set plan=Growth, set billing_country=US, add tag self-serve; archive #1036, #1052? (y/N)"
        ),
        "{screen}"
    );
    app.press('y').await;
    assert_eq!(app.badge(1003), None, "the badge goes at once");
    let next = app.state().modes.compare().map(|c| c.key.clone());
    assert!(
        next.as_deref().is_some_and(|k| k != "acme.com"),
        "the next group opens by itself: {next:?}"
    );
    app.until("the merge delivered", |s, _| s.model.outbox.is_empty())
        .await;
    let on_server = api.get_customer(&keeper).await.expect("get");
    assert_eq!(on_server.plan.as_deref(), Some("Growth"));
    assert!(on_server.tags.contains(&"self-serve".to_owned()));
    assert_eq!(
        on_server
            .custom_fields
            .get("billing_country")
            .map(String::as_str),
        Some("US")
    );
    for loser in &losers {
        assert!(api.get_customer(loser).await.expect("get").archived);
    }

    app.press('u').await;
    assert_eq!(app.badge(1003), Some(3), "back at once");
    app.until("the undo delivered", |s, _| s.model.outbox.is_empty())
        .await;
    let on_server = api.get_customer(&keeper).await.expect("get");
    assert_eq!(on_server.plan.as_deref(), Some("Enterprise"));
    assert!(!on_server.tags.contains(&"self-serve".to_owned()));
    assert!(!on_server.custom_fields.contains_key("billing_country"));
    for loser in &losers {
        assert!(!api.get_customer(loser).await.expect("get").archived);
    }
}

#[tokio::test]
async fn keys_typed_while_the_first_sync_pours_in_are_all_taken_in_order() {
    let server = TestServer::start_with(|c| c.generate = Some(3_000)).await;
    let mut app = App::starting(&server, (100, 30));
    // Typed before the loop has taken a single page, and more between
    // pages: none may be lost or swapped however the pages queue up.
    for c in "/.c".chars() {
        let key = Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        app.keyboard.send(Ok(key)).expect("the loop listens");
    }
    app.step().await;
    for c in "om".chars() {
        app.press(c).await;
    }
    app.until("the first sync", |s, _| s.model.sync.last_synced.is_some())
        .await;
    let typed = app
        .state()
        .finder
        .line
        .as_ref()
        .map(|l| l.input.value().to_owned());
    assert_eq!(typed.as_deref(), Some(".com"));
    let total = app.state().model.customers.len();
    assert_eq!(total, 3_000, "every page arrived");
    let shown = app.state().row_count();
    let expected = app
        .state()
        .model
        .customers
        .iter_ordered()
        .filter(|e| {
            [Some(e.name.as_str()), e.domain.as_deref()]
                .into_iter()
                .flatten()
                .any(|text| text.to_lowercase().contains(".com"))
        })
        .count();
    assert!(
        shown >= expected && shown > 0,
        "{shown} rows for {expected} names and domains"
    );
}
