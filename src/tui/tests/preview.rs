//! The first screen before the set is built: the preview the engine reads
//! from the store's indexes is the list the whole set makes, row for row
//! and badge for badge, in every view it serves; keys that move page
//! through it, other keys wait for the set, and the selection stays on the
//! same customer when the set arrives.

use std::collections::BTreeMap;

use crossterm::event::KeyCode;
use tempfile::TempDir;

use super::*;
use crate::api::{CustomerPatch, Patch};
use crate::domain::Entry;
use crate::settings::ViewSettings;
use crate::store::Store;
use crate::sync::{PageRequest, Preview, PreviewRow, PreviewSource, PreviewSpec};

/// Names that tie once folded, differ only in case or accents, need
/// Unicode lower-casing, or hide invisible characters.
const NAMES: &[&str] = &[
    "Acme",
    "acme",
    "ACME",
    "Acme Co",
    "Ärzte Verbund",
    "ärzte verbund",
    "Zoë",
    "zoe",
    "Ωmega",
    "😀 Smile",
    "Bücher",
    "buecher",
    "Straße",
    "İstanbul Tea",
    "Acme\u{200b}",
    "zz top",
    "  Padded",
    "Émile",
    "emile",
];

const DOMAINS: &[Option<&str>] = &[
    Some("acme.com"),
    Some("www.ACME.com"),
    Some("https://acme.com/pricing"),
    Some("globex.io"),
    Some("Globex.io"),
    Some("bücher.de"),
    Some("xn--bcher-kva.de"),
    None,
    Some("solo.example"),
];

/// A cache of `n` customers spread over those names, domains and owners,
/// with display ids that tie too (the id breaks the tie).
fn varied_customers(n: u64) -> Vec<Customer> {
    let owners = team::members();
    (0..n)
        .map(|i| {
            let i_usize = usize::try_from(i).unwrap_or(0);
            let mut c = customer(
                1000 + i % 7,
                NAMES[i_usize % NAMES.len()],
                DOMAINS[(i_usize * 7 + 3) % DOMAINS.len()],
            );
            c.id = format!("cus_{:04}", (i * 7919) % 10_000);
            c.owner_id = match i % 4 {
                0 => None,
                k => Some(
                    owners[usize::try_from(k - 1).unwrap_or(0) % owners.len()]
                        .id
                        .clone(),
                ),
            };
            c
        })
        .collect()
}

/// Changes waiting in the outbox: creates that tie with cached names, an
/// archive of a customer whose domain others share, an edit that renames
/// (and so moves) a customer, one that moves it to another domain and
/// owner, and an edit of an archived customer (which does nothing).
fn pending_changes(cached: &[Customer]) -> Vec<(IdempotencyKey, OutboxOp)> {
    let me = team::members()[0].id.clone();
    let create = |name: &str, domain: Option<&str>, owner: Option<&str>| OutboxOp::Create {
        customer: NewCustomer {
            name: name.to_owned(),
            domain: domain.map(str::to_owned),
            owner_id: owner.map(str::to_owned),
            ..NewCustomer::default()
        },
    };
    let renamed = CustomerPatch {
        name: Some("aaa First Now".to_owned()),
        ..CustomerPatch::default()
    };
    let moved = CustomerPatch {
        domain: Patch::Set("globex.io".to_owned()),
        owner_id: Patch::Set(me.clone()),
        ..CustomerPatch::default()
    };
    let ops = vec![
        create("Acme", Some("acme.com"), Some(&me)),
        create("ärzte verbund", None, None),
        OutboxOp::Archive {
            customer_id: cached[0].id.clone(),
        },
        OutboxOp::Update {
            customer_id: cached[5].id.clone(),
            patch: renamed,
        },
        OutboxOp::Update {
            customer_id: cached[9].id.clone(),
            patch: moved,
        },
        OutboxOp::Update {
            customer_id: cached[0].id.clone(),
            patch: CustomerPatch {
                name: Some("Gone Anyway".to_owned()),
                ..CustomerPatch::default()
            },
        },
    ];
    ops.into_iter()
        .map(|op| (IdempotencyKey::new(), op))
        .collect()
}

/// A store file holding `customers` (archived ones leave it as the cache
/// does), the team with its first member as "me", and `pending` changes.
fn store_with(customers: &[Customer], pending: &[(IdempotencyKey, OutboxOp)]) -> (TempDir, Store) {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(&dir.path().join("account.sqlite3")).expect("open");
    let users = team::members();
    store.save_users(&users, &users[0]).expect("users");
    store.apply_page(customers).expect("cache");
    for (key, op) in pending {
        store.outbox_push(key, op, NOW).expect("queue");
    }
    (dir, store)
}

fn view(spec: PreviewSpec) -> ViewSettings {
    ViewSettings {
        sort: Some("name".to_owned()),
        sort_reversed: spec.descending,
        mine: spec.mine,
        hidden_columns: Vec::new(),
    }
}

/// The app started as it is today: the whole set built from `store`, the
/// outbox laid over it, the saved view applied.
fn app_from_set(store: &Store, spec: PreviewSpec, height: u16) -> State {
    let mut state = State::new(Theme::colored(), NOW, (100, height));
    state.apply_view(view(spec));
    update(&mut state, cache_loaded_from(store));
    state
}

fn cache_loaded_from(store: &Store) -> Message {
    let (users, me) = store.load_users().expect("users");
    Message::Sync(SyncEvent::CacheLoaded {
        customers: Box::new(CustomerSet::from_entries(
            store.load_entries().expect("entries"),
        )),
        index: None,
        users,
        me,
        last_synced: None,
        pending: store.outbox_pending().expect("outbox"),
        merges: store.pending_merges().expect("merges"),
    })
}

/// Every row of the list, with its badge.
fn list_rows(state: &State) -> Vec<(Entry, Option<usize>)> {
    (0..state.row_count())
        .map(|row| {
            let entry = state.entry_at_row(row).expect("a row").clone();
            let badge = state.badge(&entry);
            (entry, badge)
        })
        .collect()
}

fn as_pairs(rows: Vec<PreviewRow>) -> Vec<(Entry, Option<usize>)> {
    rows.into_iter().map(|r| (r.entry, r.badge)).collect()
}

/// The whole view read page by page after the first screen, `page` rows a
/// time, each page after the last row of the one before.
fn paged_forward(
    source: &PreviewSource,
    store: &Store,
    first: Vec<PreviewRow>,
    page: usize,
) -> Vec<(Entry, Option<usize>)> {
    let mut rows = as_pairs(first);
    loop {
        let request = PageRequest {
            after: rows.last().map(|(e, _)| e.name_position()),
            backward: false,
            limit: page,
        };
        let next = source.page(store, &request).expect("page");
        if next.is_empty() {
            return rows;
        }
        rows.extend(as_pairs(next));
    }
}

/// The same, from the last row back to the first.
fn paged_backward(
    source: &PreviewSource,
    store: &Store,
    page: usize,
) -> Vec<(Entry, Option<usize>)> {
    let mut rows: Vec<(Entry, Option<usize>)> = Vec::new();
    loop {
        let request = PageRequest {
            after: rows.last().map(|(e, _)| e.name_position()),
            backward: true,
            limit: page,
        };
        let next = source.page(store, &request).expect("page");
        if next.is_empty() {
            rows.reverse();
            return rows;
        }
        rows.extend(as_pairs(next));
    }
}

const SPECS: [PreviewSpec; 4] = [
    PreviewSpec {
        descending: false,
        mine: false,
        rows: 6,
    },
    PreviewSpec {
        descending: true,
        mine: false,
        rows: 6,
    },
    PreviewSpec {
        descending: false,
        mine: true,
        rows: 6,
    },
    PreviewSpec {
        descending: true,
        mine: true,
        rows: 6,
    },
];

#[test]
fn the_preview_is_the_first_screen_of_the_whole_set_in_every_view_it_serves() {
    let mut customers = varied_customers(120);
    // Archived records never reach the list, nor the preview.
    customers.push(Customer {
        archived: true,
        ..customer(1, "Aaa Archived", Some("acme.com"))
    });
    let pending = pending_changes(&customers);
    let (_dir, store) = store_with(&customers, &pending);
    for spec in SPECS {
        let app = app_from_set(&store, spec, 10);
        let expected = list_rows(&app);
        assert!(expected.len() > 10, "{spec:?}");

        let source = PreviewSource::new(&store, spec, NOW).expect("source");
        let Preview { counts, rows, .. } = source.first(&store, spec.rows).expect("preview");
        assert_eq!(
            as_pairs(rows.clone()),
            expected[..spec.rows],
            "first screen, {spec:?}"
        );
        assert_eq!(counts.total, app.model.customers.len(), "{spec:?}");
        assert_eq!(counts.in_view, app.row_count(), "{spec:?}");
        assert_eq!(
            counts.duplicate_domains,
            app.model.customers.duplicate_domains(),
            "{spec:?}"
        );
        assert_eq!(counts.max_display_id, app.model.max_display_id, "{spec:?}");

        for page in [1, 4, 7] {
            let forward = paged_forward(&source, &store, rows.clone(), page);
            assert_eq!(forward, expected, "forward by {page}, {spec:?}");
            assert_eq!(
                paged_backward(&source, &store, page),
                expected,
                "backward by {page}, {spec:?}"
            );
        }
    }
}

#[test]
fn without_pending_changes_the_preview_reads_the_cache_alone() {
    let (_dir, store) = store_with(&varied_customers(40), &[]);
    for spec in SPECS {
        let expected = list_rows(&app_from_set(&store, spec, 10));
        let source = PreviewSource::new(&store, spec, NOW).expect("source");
        let first = source.first(&store, spec.rows).expect("preview");
        assert_eq!(
            paged_forward(&source, &store, first.rows, 3),
            expected,
            "{spec:?}"
        );
    }
}

/// The app, started with the preview of `store` as its first event.
fn app_with_preview(store: &Store, spec: PreviewSpec, height: u16) -> (State, PreviewSource) {
    let mut state = State::new(Theme::colored(), NOW, (100, height));
    state.apply_view(view(spec));
    let source = PreviewSource::new(store, spec, NOW).expect("source");
    let preview = source.first(store, state.list_rows()).expect("preview");
    update(&mut state, Message::Sync(SyncEvent::Preview(preview)));
    (state, source)
}

/// Answers the page requests among `commands` as the engine does, until
/// none is left.
fn answer_pages(
    state: &mut State,
    source: &PreviewSource,
    store: &Store,
    mut commands: Vec<Command>,
) {
    while let Some(request) = commands.iter().find_map(|c| match c {
        Command::Sync(SyncCommand::PreviewPage(request)) => Some(request.clone()),
        _ => None,
    }) {
        let rows = source.page(store, &request).expect("page");
        commands = update(
            state,
            Message::Sync(SyncEvent::PreviewPage { request, rows }),
        );
    }
}

#[test]
fn the_first_frame_is_the_preview_and_says_the_set_is_loading() {
    let (_dir, store) = store_with(&varied_customers(120), &[]);
    let spec = SPECS[0];
    let (state, _) = app_with_preview(&store, spec, 12);
    let full = app_from_set(&store, spec, 12);
    let preview_screen = screen(&state);
    let full_screen = screen(&full);
    let lines = |s: &str| s.lines().map(blank_name_markers).collect::<Vec<_>>();
    let (p, f) = (lines(&preview_screen), lines(&full_screen));
    assert!(
        full_screen.contains('≈'),
        "the set marks likely names: {full_screen}"
    );
    // Title, column header and every row are the set's; the status line
    // says what is happening.
    assert_eq!(p[..p.len() - 2], f[..f.len() - 2], "{preview_screen}");
    assert!(preview_screen.contains("loading 120…"), "{preview_screen}");
}

#[test]
fn moving_keys_page_through_the_preview_exactly_as_through_the_set() {
    let (_dir, store) = store_with(
        &varied_customers(120),
        &pending_changes(&varied_customers(120)),
    );
    for spec in SPECS {
        let (mut state, source) = app_with_preview(&store, spec, 10);
        let mut full = app_from_set(&store, spec, 10);
        let keys = [
            KeyCode::Char('j'),
            KeyCode::PageDown,
            KeyCode::PageDown,
            KeyCode::Char('k'),
            KeyCode::Char('G'),
            KeyCode::PageUp,
            KeyCode::Char('k'),
            KeyCode::Char('g'),
            KeyCode::PageDown,
            KeyCode::Char('j'),
        ];
        for key in keys {
            let commands = press(&mut state, key);
            answer_pages(&mut state, &source, &store, commands);
            press(&mut full, key);
            assert_eq!(
                (state.selected, state.offset),
                (full.selected, full.offset),
                "{key:?}, {spec:?}"
            );
            assert_eq!(screen_rows(&state), screen_rows(&full), "{key:?}, {spec:?}");
        }
    }
}

/// The list part of the screen (title and rows, not the status line),
/// with every likely-duplicate marker (`≈6`) blanked: the marker needs the
/// whole set's name index, so the preview leaves its place empty, and
/// everything else must be the same.
fn screen_rows(state: &State) -> Vec<String> {
    let text = screen(state);
    let lines: Vec<String> = text.lines().map(blank_name_markers).collect();
    lines[..lines.len() - 2].to_vec()
}

/// `Acme ≈34` as `Acme    `.
fn blank_name_markers(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_marker = false;
    for c in line.chars() {
        in_marker = c == '≈' || (in_marker && c.is_ascii_digit());
        out.push(if in_marker { ' ' } else { c });
    }
    out
}

#[test]
fn other_keys_wait_for_the_set_in_order_and_the_selection_stays_on_the_customer() {
    let (_dir, store) = store_with(&varied_customers(120), &[]);
    let spec = SPECS[0];
    let (mut state, source) = app_with_preview(&store, spec, 10);
    for key in [KeyCode::PageDown, KeyCode::Char('j'), KeyCode::Char('j')] {
        let commands = press(&mut state, key);
        answer_pages(&mut state, &source, &store, commands);
    }
    let chosen = state.selected_entry().expect("a customer").key.clone();

    // `S` (reverse the sort) and Enter (details) wait, and say so.
    assert!(press(&mut state, KeyCode::Char('S')).is_empty());
    press(&mut state, KeyCode::Enter);
    assert!(!state.modes.detail_open());
    let waiting = screen(&state);
    assert!(
        waiting.contains("loading 120… · 2 keys wait for it"),
        "{waiting}"
    );

    // The set arrives: the selection is on the same customer, then the
    // waiting keys apply, in order (Enter opens that customer reversed).
    let commands = update(&mut state, cache_loaded_from(&store));
    assert!(commands.contains(&Command::Sync(SyncCommand::EndPreview)));
    assert!(state.preview.is_none());
    assert_eq!(state.selected_entry().map(|e| e.key.clone()), Some(chosen));
    assert!(state.model.customers.sort().reversed, "S applied");
    assert!(state.modes.detail_open(), "Enter applied after S");

    // Without waiting keys the row and the scroll do not move either.
    let (mut state, source) = app_with_preview(&store, spec, 10);
    for key in [KeyCode::PageDown, KeyCode::Char('j')] {
        let commands = press(&mut state, key);
        answer_pages(&mut state, &source, &store, commands);
    }
    let before = (
        state.selected,
        state.offset,
        state.selected_entry().map(|e| e.key.clone()),
    );
    let rows_before = screen_rows(&state);
    update(&mut state, cache_loaded_from(&store));
    let after = (
        state.selected,
        state.offset,
        state.selected_entry().map(|e| e.key.clone()),
    );
    assert_eq!(before, after);
    assert_eq!(screen_rows(&state), rows_before);
}

#[test]
fn a_preview_after_the_set_or_of_an_empty_cache_is_not_shown() {
    let (_dir, store) = store_with(&varied_customers(20), &[]);
    let spec = SPECS[0];
    let mut state = app_from_set(&store, spec, 10);
    let source = PreviewSource::new(&store, spec, NOW).expect("source");
    let preview = source.first(&store, 5).expect("preview");
    update(&mut state, Message::Sync(SyncEvent::Preview(preview)));
    assert!(state.preview.is_none());

    let (_dir, empty) = store_with(&[], &[]);
    let mut state = State::new(Theme::colored(), NOW, (100, 10));
    let source = PreviewSource::new(&empty, spec, NOW).expect("source");
    let preview = source.first(&empty, 5).expect("preview");
    update(&mut state, Message::Sync(SyncEvent::Preview(preview)));
    assert!(state.preview.is_none());
}

#[test]
fn custom_fields_survive_an_edit_laid_over_the_preview() {
    let mut cached = varied_customers(10);
    cached[3].custom_fields = BTreeMap::from([("tier".to_owned(), "gold".to_owned())]);
    let pending = vec![(
        IdempotencyKey::new(),
        OutboxOp::Update {
            customer_id: cached[3].id.clone(),
            patch: CustomerPatch {
                plan: Patch::Clear,
                ..CustomerPatch::default()
            },
        },
    )];
    let (_dir, store) = store_with(&cached, &pending);
    let spec = SPECS[0];
    let expected = list_rows(&app_from_set(&store, spec, 20));
    let source = PreviewSource::new(&store, spec, NOW).expect("source");
    let first = source.first(&store, 30).expect("preview");
    assert_eq!(as_pairs(first.rows), expected);
}

/// The cache changed under the preview (another window archived
/// customers): a page comes back empty, and the app stops asking rather
/// than asking again and again until the set arrives.
#[test]
fn a_page_that_comes_back_empty_is_not_asked_for_again() {
    let (_dir, store) = store_with(&varied_customers(20), &[]);
    let spec = SPECS[0];
    let mut state = State::new(Theme::colored(), NOW, (100, 10));
    state.apply_view(view(spec));
    let source = PreviewSource::new(&store, spec, NOW).expect("source");
    let mut preview = source.first(&store, state.list_rows()).expect("preview");
    preview.counts.in_view += 50;
    update(&mut state, Message::Sync(SyncEvent::Preview(preview)));
    let commands = press(&mut state, KeyCode::Char('G'));
    let [Command::Sync(SyncCommand::PreviewPage(request))] = commands.as_slice() else {
        panic!("G asks for the last page: {commands:?}");
    };
    let answer = Message::Sync(SyncEvent::PreviewPage {
        request: request.clone(),
        rows: Vec::new(),
    });
    assert_eq!(update(&mut state, answer), Vec::new());
    assert_eq!(press(&mut state, KeyCode::PageUp), Vec::new());
}
