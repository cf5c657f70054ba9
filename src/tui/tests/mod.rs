//! The TUI driven through its real `update` with key and sync messages,
//! rendered to ratatui's `TestBackend` and compared with insta snapshots.
//! This file holds the shared fixtures and the list, detail, help and form
//! tests; finding and triage have their own files.

mod archived;
mod contrast;
mod feedback;
mod finding;
mod layout;
mod likely;
mod merge;
mod mouse;
mod navigation;
mod plain;
mod preview;
mod queue;
mod reader;
mod slow_links;
mod triage;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::OffsetDateTime;
use time::macros::datetime;

use super::message::{Command, Message};
use super::state::{State, SyncPhase};
use super::theme::Theme;
use super::update;
use crate::api::{Customer, CustomerPatch, HistoryEvent, IdempotencyKey, NewCustomer, Source};
use crate::domain::CustomerSet;
use crate::server::{DEMO_CUSTOMERS, team};
use crate::store::{OutboxItem, OutboxOp};
use crate::sync::{SyncCommand, SyncEvent};

const NOW: OffsetDateTime = datetime!(2026-11-27 10:00:00 UTC);

fn demo_customers() -> Vec<Customer> {
    serde_json::from_str(DEMO_CUSTOMERS).expect("demo data parses as customers")
}

fn live_demo_count() -> usize {
    demo_customers().iter().filter(|c| !c.archived).count()
}

/// A page's records as the engine sends them: made into entries.
fn entries(customers: Vec<Customer>) -> Vec<crate::domain::Entry> {
    customers
        .into_iter()
        .map(crate::domain::Entry::from)
        .collect()
}

/// A set as the engine builds it from the cache.
fn set_of(customers: Vec<Customer>) -> CustomerSet {
    let mut set = CustomerSet::default();
    set.apply(customers);
    set
}

/// Whether the customer numbered `display_id` is among the list's rows.
fn in_rows(state: &State, display_id: u64) -> bool {
    (0..state.row_count()).any(|row| {
        state
            .entry_at_row(row)
            .is_some_and(|e| e.display_id == display_id)
    })
}

/// A page of the current sync run bringing `customers`.
fn page_of(customers: Vec<Customer>) -> Message {
    let fetched = customers.len();
    Message::Sync(SyncEvent::Page {
        generation: 0,
        customers: entries(customers),
        fetched,
    })
}

fn cache_loaded(customers: Vec<Customer>, last_synced: Option<OffsetDateTime>) -> Message {
    let users = team::members();
    let me = users.first().cloned();
    Message::Sync(SyncEvent::CacheLoaded {
        customers: Box::new(set_of(customers)),
        index: None,
        users,
        me,
        last_synced,
        pending: Vec::new(),
        merges: Vec::new(),
    })
}

fn app(theme: Theme, (width, height): (u16, u16), customers: Vec<Customer>) -> State {
    let mut state = State::new(theme, NOW, (width, height));
    update(
        &mut state,
        cache_loaded(customers, Some(NOW - Duration::from_secs(12))),
    );
    state
}

/// One note in the history of every customer in `state`, as if each had
/// loaded: compare and the details then show a history.
fn one_note_each(state: &mut State) {
    let ids: Vec<String> = state
        .model
        .customers
        .iter_ordered()
        .filter_map(|e| e.id().map(str::to_owned))
        .collect();
    for customer_id in ids {
        let events = vec![HistoryEvent {
            at: NOW - Duration::from_secs(3_600),
            kind: "note".into(),
            summary: "QBR held".into(),
            actor: Some("usr_8f3c21".into()),
        }];
        update(
            state,
            Message::Sync(SyncEvent::History {
                customer_id,
                events,
                fresh: true,
            }),
        );
    }
}

fn demo_app(width: u16, height: u16) -> State {
    app(Theme::colored(), (width, height), demo_customers())
}

fn press(state: &mut State, code: KeyCode) -> Vec<Command> {
    update(state, Message::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn screen(state: &State) -> String {
    let backend = TestBackend::new(state.width, state.height);
    let mut terminal = Terminal::new(backend).expect("test terminal");
    terminal
        .draw(|frame| crate::tui::render(state, frame))
        .expect("draws");
    terminal.backend().to_string()
}

/// The domain's test customer, as a HubSpot one owned by Dana on Growth,
/// created a day and changed an hour before [`NOW`].
fn customer(display_id: u64, name: &str, domain: Option<&str>) -> Customer {
    Customer {
        owner_id: Some("usr_8f3c21".into()),
        plan: Some("Growth".into()),
        source: Source::Hubspot,
        created_at: NOW - Duration::from_secs(86_400),
        updated_at: NOW - Duration::from_secs(3_600),
        ..crate::domain::fixtures::customer(display_id, name, domain)
    }
}

#[test]
fn list_at_120_columns_shows_every_column_and_badges() {
    let state = demo_app(120, 40);
    let screen = screen(&state);
    assert!(screen.contains("Source"));
    assert!(screen.contains(" 2 "), "a pill badge for a shared domain");
    insta::assert_snapshot!(screen);
}

#[test]
fn list_at_80x24_drops_source_and_plan_but_keeps_domains() {
    let state = demo_app(80, 24);
    let screen = screen(&state);
    assert!(!screen.contains("Source"));
    assert!(!screen.contains("Plan"));
    assert!(screen.contains("Domain"));
    insta::assert_snapshot!(screen);
}

#[test]
fn list_at_60_columns_is_still_usable() {
    insta::assert_snapshot!(screen(&demo_app(60, 20)));
}

#[test]
fn the_header_counts_customers_and_duplicate_domains() {
    let state = demo_app(120, 40);
    let first_line = screen(&state).lines().next().unwrap_or_default().to_owned();
    let expected = format!(
        "Customers  {} · {} duplicate domains",
        live_demo_count(),
        state.model.customers.duplicate_domains()
    );
    assert!(first_line.contains(&expected), "{first_line}");
    assert!(state.model.customers.duplicate_domains() >= 6);
}

#[test]
fn without_colour_badges_are_bracketed() {
    let state = app(Theme::mono(), (100, 20), demo_customers());
    let screen = screen(&state);
    assert!(screen.contains("[3]"), "the acme.com triple");
    assert!(screen.contains("[2]"));
    insta::assert_snapshot!(screen);
}

#[test]
fn an_empty_account_says_so() {
    let state = app(Theme::colored(), (80, 12), Vec::new());
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn offline_with_a_cache_keeps_the_list_and_says_when_it_retries() {
    let mut state = demo_app(80, 24);
    update(
        &mut state,
        Message::Sync(SyncEvent::Started {
            generation: 1,
            full: false,
        }),
    );
    update(
        &mut state,
        Message::Sync(SyncEvent::Failed {
            generation: 1,
            reason: "connection refused".into(),
            retry_in: Duration::from_secs(8),
        }),
    );
    let screen = screen(&state);
    assert!(screen.contains("offline — retrying in 8s (connection refused)"));
    insta::assert_snapshot!(screen);
}

#[test]
fn the_first_sync_shows_progress_while_the_list_scrolls() {
    let mut state = app(Theme::colored(), (80, 24), Vec::new());
    update(
        &mut state,
        Message::Sync(SyncEvent::Started {
            generation: 1,
            full: true,
        }),
    );
    let page: Vec<Customer> = (1..=1000)
        .map(|i| customer(i, &format!("Customer {i:04}"), Some(&format!("c{i}.com"))))
        .collect();
    update(
        &mut state,
        Message::Sync(SyncEvent::Page {
            generation: 1,
            customers: entries(page),
            fetched: 1000,
        }),
    );
    press(&mut state, KeyCode::PageDown);
    assert!(state.selected > 0, "the list scrolls while syncing");
    assert!(screen(&state).contains("syncing 1,000…"));
}

#[test]
fn a_page_from_a_superseded_sync_is_ignored() {
    let mut state = app(
        Theme::colored(),
        (80, 24),
        vec![customer(1, "Acme", Some("acme.com"))],
    );
    update(
        &mut state,
        Message::Sync(SyncEvent::Started {
            generation: 2,
            full: false,
        }),
    );
    let mut stale = customer(2, "Stale Co", Some("stale.com"));
    stale.updated_at = NOW;
    update(
        &mut state,
        Message::Sync(SyncEvent::Page {
            generation: 1,
            customers: entries(vec![stale]),
            fetched: 1,
        }),
    );
    assert_eq!(state.model.customers.len(), 1);
}

#[test]
fn moving_past_the_screen_scrolls_and_keeps_the_selection_visible() {
    let mut state = demo_app(80, 24);
    let rows = state.list_rows();
    for _ in 0..rows + 3 {
        press(&mut state, KeyCode::Char('j'));
    }
    assert_eq!(state.selected, rows + 3);
    assert!(state.offset > 0 && state.selected < state.offset + rows);
    press(&mut state, KeyCode::Char('G'));
    assert_eq!(state.selected, state.model.customers.len() - 1);
    press(&mut state, KeyCode::Char('g'));
    assert_eq!((state.selected, state.offset), (0, 0));
    press(&mut state, KeyCode::Char('k'));
    assert_eq!(state.selected, 0, "no wrap-around above the top");
}

#[test]
fn the_selected_customer_stays_selected_when_a_page_reorders_the_list() {
    let mut state = app(
        Theme::colored(),
        (80, 24),
        vec![customer(1, "Beta", None), customer(2, "Gamma", None)],
    );
    press(&mut state, KeyCode::Char('j'));
    assert_eq!(state.selected_entry().map(|e| e.display_id), Some(2));
    update(&mut state, page_of(vec![customer(3, "Alpha", None)]));
    assert_eq!(state.selected_entry().map(|e| e.display_id), Some(2));
}

#[test]
fn enter_opens_the_detail_pane_and_asks_for_history_once() {
    let mut state = demo_app(120, 40);
    let commands = press(&mut state, KeyCode::Enter);
    let id = state
        .selected_entry()
        .and_then(|e| e.id().map(str::to_owned))
        .expect("selected");
    assert_eq!(
        commands,
        vec![Command::Sync(SyncCommand::LoadHistory(id.clone()))]
    );
    let events = vec![
        HistoryEvent {
            at: NOW - Duration::from_secs(3_600),
            kind: "note".into(),
            summary: "QBR held\u{1b}[31m; expansion discussed".into(),
            actor: Some("usr_8f3c21".into()),
        },
        HistoryEvent {
            at: NOW - Duration::from_secs(86_400 * 30),
            kind: "created".into(),
            summary: "Created from HubSpot deal #4411".into(),
            actor: None,
        },
    ];
    update(
        &mut state,
        Message::Sync(SyncEvent::History {
            customer_id: id,
            events,
            fresh: true,
        }),
    );
    let screen = screen(&state);
    assert!(screen.contains("History (2)"));
    assert!(
        !screen.contains('\u{1b}'),
        "escape sequences never reach the screen"
    );
    insta::assert_snapshot!(screen);
    press(&mut state, KeyCode::Char('j'));
    press(&mut state, KeyCode::Char('k'));
    assert!(
        press(&mut state, KeyCode::Char('j')).is_empty(),
        "a history already asked for is not asked again"
    );
    press(&mut state, KeyCode::Esc);
    assert!(!state.modes.detail_open());
}

#[test]
fn at_80_columns_the_detail_pane_covers_the_list() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Enter);
    insta::assert_snapshot!(screen(&state));
}

#[test]
fn help_lists_every_key_and_escape_closes_it() {
    let mut state = demo_app(80, 32);
    press(&mut state, KeyCode::Char('?'));
    let screen = screen(&state);
    // The keys of the list, where help was opened.
    let list = super::keymap::KeyMode::List;
    for binding in super::keymap::BINDINGS
        .iter()
        .filter(|b| b.in_mode(list).is_some())
    {
        assert!(
            screen.contains(binding.says(list)),
            "{}",
            binding.says(list)
        );
    }
    insta::assert_snapshot!(screen);
    press(&mut state, KeyCode::Char('j'));
    assert_eq!(state.selected, 0, "help is modal");
    press(&mut state, KeyCode::Esc);
    assert!(!state.modes.help_open());
}

#[test]
fn on_a_short_screen_help_scrolls_to_every_key() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('?'));
    let top = screen(&state);
    assert!(top.contains("j/k scroll"), "{top}");
    for _ in 0..10 {
        press(&mut state, KeyCode::Char('j'));
    }
    let bottom = screen(&state);
    let seen = format!("{top}{bottom}");
    let list = super::keymap::KeyMode::List;
    for binding in super::keymap::BINDINGS
        .iter()
        .filter(|b| b.in_mode(list).is_some())
    {
        assert!(seen.contains(binding.says(list)), "{}", binding.says(list));
    }
    assert_eq!(state.selected, 0, "j scrolls the help, not the list");
}

#[test]
fn r_twice_within_two_seconds_asks_for_a_full_sync() {
    let mut state = demo_app(80, 24);
    let r = |state: &mut State| press(state, KeyCode::Char('r'));
    assert_eq!(r(&mut state), vec![Command::Sync(SyncCommand::Refresh)]);
    update(&mut state, Message::Tick(NOW + Duration::from_secs(1)));
    assert_eq!(r(&mut state), vec![Command::Sync(SyncCommand::FullRefresh)]);
    assert!(screen(&state).contains("syncing every customer again"));

    // A third press starts counting again; one long after is a plain sync.
    assert_eq!(r(&mut state), vec![Command::Sync(SyncCommand::Refresh)]);
    update(&mut state, Message::Tick(NOW + Duration::from_secs(10)));
    assert_eq!(r(&mut state), vec![Command::Sync(SyncCommand::Refresh)]);
}

#[test]
fn records_a_sync_could_not_read_are_counted_in_the_status_line() {
    let mut state = demo_app(80, 24);
    update(
        &mut state,
        Message::Sync(SyncEvent::Started {
            generation: 1,
            full: false,
        }),
    );
    update(
        &mut state,
        Message::Sync(SyncEvent::Finished {
            generation: 1,
            at: NOW,
            skipped: 1,
        }),
    );
    let shown = screen(&state);
    assert!(
        shown.contains("synced just now · 1 record could not be read"),
        "{shown}"
    );

    update(
        &mut state,
        Message::Sync(SyncEvent::Finished {
            generation: 2,
            at: NOW,
            skipped: 0,
        }),
    );
    assert!(!screen(&state).contains("could not be read"));
}

#[test]
fn q_and_ctrl_c_quit_and_r_refreshes() {
    let mut state = demo_app(80, 24);
    assert_eq!(
        press(&mut state, KeyCode::Char('r')),
        vec![Command::Sync(SyncCommand::Refresh)]
    );
    assert_eq!(press(&mut state, KeyCode::Char('q')), vec![Command::Quit]);
    let mut state = demo_app(80, 24);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(
        update(&mut state, Message::Key(ctrl_c)),
        vec![Command::Quit]
    );
}

#[test]
fn nothing_is_redrawn_when_nothing_changed() {
    let mut state = demo_app(80, 24);
    state.take_dirty();
    update(&mut state, Message::Tick(NOW + Duration::from_secs(1)));
    assert!(!state.take_dirty(), "the status text did not change");
    press(&mut state, KeyCode::F(5));
    assert!(!state.take_dirty(), "an unbound key changes nothing");
    press(&mut state, KeyCode::Char('k'));
    assert!(!state.take_dirty(), "already at the top");
    update(&mut state, Message::Tick(NOW + Duration::from_secs(60)));
    assert!(state.take_dirty(), "\"synced 1 min ago\" is new text");
    // Synced 72 s ago: the text next changes at two minutes, and nothing
    // wakes the app before then.
    assert_eq!(state.next_wakeup(), Some(Duration::from_secs(48)));
}

#[test]
fn after_the_first_minute_the_idle_app_wakes_at_most_once_a_minute() {
    // `demo_app` synced 12 s before NOW: `just now` for the whole first
    // minute, then one change a minute.
    let mut state = demo_app(80, 24);
    assert!(screen(&state).contains("synced just now"));
    assert_eq!(state.next_wakeup(), Some(Duration::from_secs(48)));
    state.take_dirty();
    update(&mut state, Message::Tick(NOW + Duration::from_secs(47)));
    assert!(!state.take_dirty(), "still just now");
    update(&mut state, Message::Tick(NOW + Duration::from_secs(48)));
    assert!(screen(&state).contains("synced 1 min ago"));
    update(&mut state, Message::Tick(NOW + Duration::from_secs(3 * 60)));
    assert!(screen(&state).contains("synced 3 min ago"));
    let mut state = demo_app(80, 24);
    let mut woken = 0;
    let mut at = NOW;
    while at < NOW + Duration::from_secs(3 * 3600) {
        let after = state.next_wakeup().expect("idle with a sync time");
        if at > NOW + Duration::from_secs(60) {
            assert!(after >= Duration::from_secs(1), "{at}");
        }
        at += after;
        update(&mut state, Message::Tick(at));
        assert!(state.take_dirty(), "woken at {at} for a text that changed");
        woken += 1;
    }
    // Once at the first minute, each minute up to the hour, then hours.
    assert!(woken <= 1 + 59 + 3, "{woken} wakeups");
}

#[test]
fn resizing_relays_out_at_once() {
    let mut state = demo_app(120, 40);
    press(&mut state, KeyCode::Char('G'));
    update(
        &mut state,
        Message::Resize {
            width: 60,
            height: 12,
        },
    );
    assert!(
        state.selected < state.offset + state.list_rows(),
        "selection still visible"
    );
    assert!(!screen(&state).contains("Source"));
}

#[test]
fn syncing_is_the_only_time_the_spinner_ticks() {
    let mut state = demo_app(80, 24);
    assert_eq!(state.next_wakeup(), Some(Duration::from_secs(48)));
    update(
        &mut state,
        Message::Sync(SyncEvent::Started {
            generation: 1,
            full: false,
        }),
    );
    assert!(matches!(state.model.sync.phase, SyncPhase::Syncing { .. }));
    // A background sync stays off the status line for its first second.
    assert_eq!(state.next_wakeup(), Some(Duration::from_secs(1)));
    update(&mut state, Message::Tick(NOW + Duration::from_secs(1)));
    assert_eq!(state.next_wakeup(), Some(Duration::from_millis(125)));
    let fresh = State::new(Theme::colored(), NOW, (80, 24));
    assert_eq!(
        fresh.next_wakeup(),
        None,
        "idle with nothing to count: sleep"
    );
}

#[test]
fn a_background_sync_that_brings_nothing_leaves_the_idle_screen_alone() {
    let mut state = demo_app(80, 24);
    let before = screen(&state);
    let started = |generation| {
        Message::Sync(SyncEvent::Started {
            generation,
            full: false,
        })
    };
    update(&mut state, started(1));
    update(&mut state, Message::Tick(NOW + Duration::from_millis(400)));
    assert_eq!(screen(&state), before, "no spinner for a quick sync");
    update(
        &mut state,
        Message::Sync(SyncEvent::Finished {
            generation: 1,
            at: NOW - Duration::from_secs(12),
            skipped: 0,
        }),
    );
    assert_eq!(screen(&state), before);

    // One that takes longer than a second says so, and so does one the
    // user asked for, at once.
    update(&mut state, started(2));
    update(
        &mut state,
        Message::Tick(NOW + Duration::from_millis(1_500)),
    );
    assert!(screen(&state).contains("syncing…"), "{}", screen(&state));
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('r'));
    update(&mut state, started(1));
    assert!(screen(&state).contains("syncing…"), "{}", screen(&state));
}

// --- Creating and editing customers -------------------------------------

fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        press(state, KeyCode::Char(c));
    }
}

fn submitted(commands: &[Command]) -> (IdempotencyKey, OutboxOp) {
    match commands {
        [Command::Sync(SyncCommand::Submit { key, op })] => (key.clone(), op.clone()),
        other => panic!("expected one Submit, got {other:?}"),
    }
}

fn created(key: &IdempotencyKey, op: &OutboxOp, display_id: u64) -> Message {
    let OutboxOp::Create { customer } = op else {
        panic!("not a create: {op:?}");
    };
    Message::Sync(SyncEvent::Delivered {
        key: key.clone(),
        op: op.clone(),
        customer: customer.to_customer(format!("cus_NEW{display_id}"), display_id, NOW),
    })
}

#[test]
fn a_new_customer_shows_as_pending_at_once_then_opens_at_its_display_id() {
    let mut state = demo_app(120, 40);
    press(&mut state, KeyCode::Char('n'));
    type_text(&mut state, "Zephyr Analytics");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "https://www.Zephyr.io/pricing");
    insta::assert_snapshot!("form_beside_the_list_at_120x40", screen(&state));
    let (key, op) = submitted(&press(&mut state, KeyCode::Enter));
    let OutboxOp::Create { customer } = &op else {
        panic!("not a create: {op:?}");
    };
    assert_eq!(
        customer.domain.as_deref(),
        Some("zephyr.io"),
        "the normalised domain is sent"
    );
    assert_eq!(
        customer.owner_id.as_deref(),
        Some("usr_8f3c21"),
        "owner defaults to me"
    );
    assert!(state.modes.form().is_none(), "the form closes on submit");
    let pending = state.selected_entry().expect("the new row is selected");
    assert!(pending.pending && pending.name == "Zephyr Analytics");
    let screen_now = screen(&state);
    assert!(screen_now.contains("⋯"), "pending rows have no number yet");
    assert!(screen_now.contains("1 pending"));

    update(&mut state, created(&key, &op, 1062));
    let entry = state.selected_entry().expect("selected");
    assert_eq!((entry.display_id, entry.pending), (1062, false));
    assert!(state.modes.detail_open(), "the new customer opens");
    assert!(state.model.outbox.is_empty());
    let screen_now = screen(&state);
    assert!(screen_now.contains("https://app.pivotal.app/customers/1062"));
    assert_eq!(
        press(&mut state, KeyCode::Char('y')),
        vec![Command::Copy(
            "https://app.pivotal.app/customers/1062".into()
        )]
    );
    assert!(screen(&state).contains("sent to clipboard"));
}

#[test]
fn a_huge_paste_into_the_form_is_cut_to_the_fields_limit_with_a_note() {
    use super::form::{Focus, TextField};
    fn field(state: &State, focus: Focus) -> Option<&TextField> {
        state.modes.form().and_then(|s| s.form.text_field(focus))
    }
    let mut state = demo_app(120, 40);
    press(&mut state, KeyCode::Char('n'));
    // 300 KB, as the paste that once froze the form for half a minute.
    let huge = "Acme Widgets ".repeat(300 * 1024 / 13);
    update(&mut state, Message::Paste(huge.clone()));
    let name = field(&state, Focus::Name).expect("the name field");
    assert_eq!(name.value().chars().count(), 200);
    assert!(huge.starts_with(name.value()));
    assert_eq!(name.note(), Some("pasted text was cut to 200 characters"));
    assert!(screen(&state).contains("pasted text was cut to 200 characters"));

    // Typing more is refused too, and says so.
    press(&mut state, KeyCode::Char('x'));
    let name = field(&state, Focus::Name);
    assert_eq!(name.map(|n| n.value().chars().count()), Some(200));
    assert!(screen(&state).contains("at most 200 characters here"));
    // Making room lets typing in again, and the note goes.
    press(&mut state, KeyCode::Backspace);
    press(&mut state, KeyCode::Char('x'));
    let name = field(&state, Focus::Name);
    assert!(name.is_some_and(|n| n.value().ends_with('x') && n.note().is_none()));

    // The domain holds a host name at most.
    press(&mut state, KeyCode::Tab);
    update(&mut state, Message::Paste("a".repeat(300 * 1024)));
    let domain = field(&state, Focus::Domain);
    assert_eq!(domain.map(|d| d.value().len()), Some(253));
    assert!(screen(&state).contains("pasted text was cut to 253 characters"));
}

#[test]
fn a_duplicate_domain_warns_and_needs_a_second_yes() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('n'));
    type_text(&mut state, "Acme Holdings");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "www.acme.com");
    insta::assert_snapshot!(
        "form_full_width_with_duplicate_warning_at_80x24",
        screen(&state)
    );
    assert!(press(&mut state, KeyCode::Enter).is_empty(), "asks first");
    assert!(screen(&state).contains("Create anyway? (y/N)"));
    assert!(press(&mut state, KeyCode::Char('n')).is_empty());
    assert!(state.modes.form().is_some(), "n goes back to the form");
    press(&mut state, KeyCode::Enter);
    let (_, op) = submitted(&press(&mut state, KeyCode::Char('y')));
    assert!(matches!(op, OutboxOp::Create { .. }));
}

#[test]
fn a_422_reopens_the_form_as_typed_with_the_message_under_the_field() {
    let mut state = demo_app(120, 40);
    press(&mut state, KeyCode::Char('n'));
    type_text(&mut state, "Quokka Labs");
    press(&mut state, KeyCode::Tab);
    type_text(&mut state, "HTTPS://Quokka.dev/");
    let (key, op) = submitted(&press(&mut state, KeyCode::Enter));
    update(
        &mut state,
        Message::Sync(SyncEvent::Rejected {
            key,
            op,
            status: 422,
            message: "Domain is on a blocked list\u{1b}[31m".into(),
            param: Some("domain".into()),
        }),
    );
    let form = &state.modes.form().expect("the form is back").form;
    assert_eq!(form.draft().name, "Quokka Labs");
    assert_eq!(
        form.draft().domain,
        "HTTPS://Quokka.dev/",
        "exactly as typed"
    );
    assert!(
        state.model.customers.iter_ordered().all(|e| !e.pending),
        "the pending row is gone"
    );
    let screen_now = screen(&state);
    assert!(screen_now.contains("Domain is on a blocked list"));
    assert!(!screen_now.contains('\u{1b}'));
}

#[test]
fn quitting_with_changes_waiting_asks_first() {
    let mut state = demo_app(80, 24);
    press(&mut state, KeyCode::Char('n'));
    type_text(&mut state, "Waiting Co");
    submitted(&press(&mut state, KeyCode::Enter));
    assert!(press(&mut state, KeyCode::Char('q')).is_empty());
    assert!(
        screen(&state)
            .contains("1 change is not sent yet; they will be sent next time. Quit? (y/N)")
    );
    assert!(
        press(&mut state, KeyCode::Char('n')).is_empty(),
        "anything but y stays"
    );
    press(&mut state, KeyCode::Char('q'));
    assert_eq!(press(&mut state, KeyCode::Char('y')), vec![Command::Quit]);
}

#[test]
fn changes_left_in_the_outbox_show_as_pending_on_start() {
    let mut state = State::new(Theme::colored(), NOW, (80, 24));
    let key = IdempotencyKey::new();
    update(
        &mut state,
        Message::Sync(SyncEvent::CacheLoaded {
            customers: Box::new(set_of(demo_customers())),
            index: None,
            users: team::members(),
            me: team::members().first().cloned(),
            last_synced: Some(NOW),
            pending: vec![OutboxItem {
                key,
                op: OutboxOp::Create {
                    customer: NewCustomer {
                        name: "Left Behind Ltd".into(),
                        ..NewCustomer::default()
                    },
                },
                queued_at: NOW,
                attempts: 3,
                last_error: Some("connection refused".into()),
            }],
            merges: Vec::new(),
        }),
    );
    let row = state
        .model
        .customers
        .iter_ordered()
        .find(|e| e.name == "Left Behind Ltd");
    assert!(row.is_some_and(|e| e.pending));
    assert!(screen(&state).contains("1 pending (connection refused)"));
}

#[test]
fn editing_sends_only_the_changed_fields() {
    let mut state = demo_app(120, 40);
    let original = state.selected_entry().cloned().expect("selected");
    press(&mut state, KeyCode::Char('e'));
    for _ in 0..3 {
        press(&mut state, KeyCode::Tab);
    }
    for _ in 0..original.plan.as_deref().unwrap_or_default().chars().count() {
        press(&mut state, KeyCode::Backspace);
    }
    type_text(&mut state, "Scale");
    let (_, op) = submitted(&press(&mut state, KeyCode::Enter));
    match op {
        OutboxOp::Update { customer_id, patch } => {
            assert_eq!(customer_id, original.key);
            assert_eq!(
                patch,
                CustomerPatch {
                    plan: crate::api::Patch::Set("Scale".into()),
                    ..CustomerPatch::default()
                }
            );
        }
        other => panic!("expected an update, got {other:?}"),
    }
    let row = state
        .model
        .customers
        .get(&original.key)
        .expect("still listed");
    assert!(
        row.pending && row.plan.as_deref() == Some("Scale"),
        "shown at once, marked pending"
    );
}
