//! What the server sends is not trusted: the real `pivotal` binary and the
//! library's client and sync engine against a hostile server over real
//! sockets (see `common/hostile.rs`). Escape sequences in every string
//! field, cursors that never end, an unreadable record, a date in year
//! 9999, and answers of hundreds of megabytes.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::cli::Home;
use common::engine::{start_engine, store_file};
use common::hostile::{Asked, Hostile, customer, endless_body, json_reply, page, users_reply};
use pivotal_tui::api::{ApiError, ListParams, RetryPolicy};
use pivotal_tui::sync::{SyncCommand, SyncEvent};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// OSC 52 (clipboard write), OSC 0 (window title), CSI 2J (clear screen),
/// an 8-bit CSI, a right-to-left override, an isolate and a zero-width space.
const EVIL: &str = "\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\
                    \u{202e}\u{2066}\u{200b}";

/// Characters that must never be printed: ESC, C1 controls, bidi controls
/// and zero-width characters.
fn forbidden(c: char) -> bool {
    matches!(c,
        '\u{1b}' | '\u{7}' | '\u{80}'..='\u{9f}' | '\u{061c}' | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn assert_clean(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|&c| forbidden(c)) {
        panic!("{what} printed {c:?}:\n{text:?}");
    }
}

fn evil(text: &str) -> String {
    format!("{text}{EVIL}")
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("formats")
}

/// A customer with an escape sequence in every string field.
fn evil_customer(display_id: u64, owner_id: &str) -> Value {
    json!({
        "id": evil(&format!("cus_{display_id}")),
        "display_id": display_id,
        "name": evil("=HYPERLINK(\"http://x\")"),
        "domain": evil("acme.com"),
        "owner_id": owner_id,
        "plan": evil("+Growth"),
        "tags": [evil("-beta"), evil("@emea")],
        "custom_fields": { evil("region"): evil("EMEA") },
        "source": evil("crm"),
        "archived": false,
        "created_at": "2026-11-26T10:00:00Z",
        "updated_at": "2026-11-26T10:00:00Z",
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn escape_sequences_from_the_server_never_reach_the_table_csv_json_or_show() {
    let customers = vec![
        evil_customer(7, "usr_other"),
        evil_customer(8, &evil("usr_")),
    ];
    let server = Hostile::start(move |asked: &Asked| {
        if let Some(reply) = users_reply(asked, &evil("Mallory")) {
            return reply;
        }
        let path = asked.path.as_str();
        if path == "/v1/customers" {
            page(&customers, None)
        } else if path.ends_with("/history") {
            let event = json!({"at": "2026-11-26T10:00:00Z", "kind": evil("note"),
                               "summary": evil("called"), "actor": evil("usr_")});
            json_reply(StatusCode::OK, &json!({ "data": [event] }))
        } else {
            json_reply(StatusCode::OK, &customers[0])
        }
    })
    .await;
    let home = Home::new();

    let table = home.run_against(&server.url, &["customers", "list"]).await;
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table.stdout.contains("Mallory"), "{}", table.stdout);
    assert_clean("the table", &table.stdout);

    let csv = home
        .run_against(&server.url, &["customers", "list", "--csv"])
        .await;
    assert_eq!(csv.code, 0, "{csv:?}");
    assert_clean("--csv", &csv.stdout);
    assert!(csv.stdout.contains("\"'=HYPERLINK"), "{}", csv.stdout);
    assert!(csv.stdout.contains(",'+Growth"), "{}", csv.stdout);

    let json = home
        .run_against(&server.url, &["customers", "list", "--json"])
        .await;
    assert_eq!(json.code, 0, "{json:?}");
    assert_clean("--json", &json.stdout);
    let rows: Value = serde_json::from_str(&json.stdout).expect("valid JSON");
    assert_eq!(rows.as_array().map(Vec::len), Some(2), "{rows}");
    assert_strings_clean(&rows);

    for args in [
        &["customers", "show", "#7"][..],
        &["customers", "show", "#7", "--json"],
    ] {
        let shown = home.run_against(&server.url, args).await;
        assert_eq!(shown.code, 0, "{args:?}: {shown:?}");
        assert_clean("show", &shown.stdout);
        assert!(shown.stdout.contains("Mallory"), "{}", shown.stdout);
    }
    assert_clean(
        "stderr",
        &format!("{}{}{}", table.stderr, csv.stderr, json.stderr),
    );
}

/// Every string in `value`, keys included, once decoded: the values are
/// sanitised, not only escaped.
fn assert_strings_clean(value: &Value) {
    match value {
        Value::String(s) => assert_clean("a --json string", s),
        Value::Array(items) => items.iter().for_each(assert_strings_clean),
        Value::Object(fields) => {
            for (key, field) in fields {
                assert_clean("a --json key", key);
                assert_strings_clean(field);
            }
        }
        _ => {}
    }
}

/// Pages that go round: no cursor → `a` → `b` → `a` …, each page with a
/// record not seen before.
fn cycling_cursors(asked: &Asked, served: &AtomicUsize) -> axum::response::Response {
    if let Some(reply) = users_reply(asked, "Dana") {
        return reply;
    }
    let n = served.fetch_add(1, Ordering::SeqCst);
    let record = customer(
        &format!("cus_{n}"),
        n as u64 + 1,
        "Acme",
        "2026-11-26T10:00:00Z",
    );
    let next = match asked.query.get("cursor").map(String::as_str) {
        None | Some("b") => "a",
        Some(_) => "b",
    };
    page(&[record], Some(next))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cursor_that_never_ends_stops_customers_list_with_an_error() {
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    let server = Hostile::start(move |asked: &Asked| cycling_cursors(asked, &count)).await;
    let home = Home::new();
    let run = home.run_against(&server.url, &["customers", "list"]).await;
    assert_eq!(run.code, 4, "{run:?}");
    assert!(
        run.stderr.contains("repeated a page cursor"),
        "{}",
        run.stderr
    );
    assert!(
        served.load(Ordering::SeqCst) <= 3,
        "{} pages",
        served.load(Ordering::SeqCst)
    );

    // The same page again and again, under a new cursor each time.
    let cursors = AtomicUsize::new(0);
    let server = Hostile::start(move |asked: &Asked| {
        if let Some(reply) = users_reply(asked, "Dana") {
            return reply;
        }
        let cursor = format!("c{}", cursors.fetch_add(1, Ordering::SeqCst));
        page(
            &[customer("cus_1", 1, "Acme", "2026-11-26T10:00:00Z")],
            Some(&cursor),
        )
    })
    .await;
    let run = home.run_against(&server.url, &["customers", "list"]).await;
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("nothing new"), "{}", run.stderr);
    assert!(server.requests() < 10, "{} requests", server.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cursor_that_never_ends_fails_the_apps_sync_run_instead_of_syncing_for_good() {
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    let server = Hostile::start(move |asked: &Asked| cycling_cursors(asked, &count)).await;
    let (_dir, store) = store_file();
    let (handle, mut events) = start_engine(&server.url, &store);
    let failed = events
        .next_matching(
            |e| matches!(e, SyncEvent::Failed { .. } | SyncEvent::Finished { .. }),
            Duration::from_secs(30),
        )
        .await;
    assert!(matches!(failed, SyncEvent::Failed { .. }), "{failed:?}");
    handle.stop().await;
}

/// One page of three customers, the middle one without a `name`.
fn one_unreadable(asked: &Asked) -> axum::response::Response {
    if let Some(reply) = users_reply(asked, "Dana") {
        return reply;
    }
    let mut broken = customer("cus_broken", 2, "", "2026-11-26T10:00:01Z");
    broken.as_object_mut().expect("object").remove("name");
    page(
        &[
            customer("cus_1", 1, "Acme", "2026-11-26T10:00:00Z"),
            broken,
            customer("cus_3", 3, "Globex", "2026-11-26T10:00:02Z"),
        ],
        None,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn one_unreadable_record_is_skipped_counted_and_logged_and_the_rest_listed() {
    let server = Hostile::start(one_unreadable).await;
    let home = Home::new();
    let run = home
        .run_against(&server.url, &["customers", "list", "--csv"])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.stdout);
    assert!(run.stdout.contains("Acme") && run.stdout.contains("Globex"));
    assert!(
        run.stderr
            .contains("pivotal: 1 record could not be read and was skipped (see the log)"),
        "{}",
        run.stderr
    );
    let logs = home.logs();
    assert!(logs.contains("cus_broken"), "{logs}");
    assert!(!logs.contains(common::KEY), "the key never reaches the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_syncs_the_readable_records_and_counts_the_one_it_could_not_read() {
    let server = Hostile::start(one_unreadable).await;
    let (_dir, store) = store_file();
    let (handle, mut events) = start_engine(&server.url, &store);
    let finished = events
        .next_matching(
            |e| matches!(e, SyncEvent::Finished { .. } | SyncEvent::Failed { .. }),
            Duration::from_secs(30),
        )
        .await;
    let SyncEvent::Finished { skipped, .. } = finished else {
        panic!("the run failed: {finished:?}");
    };
    assert_eq!(skipped, 1);
    handle.stop().await;
}

/// A server that keeps `records` and answers `updated_since` as the
/// contract says, on one page.
fn incremental(records: Arc<Mutex<Vec<Value>>>) -> impl Fn(&Asked) -> axum::response::Response {
    move |asked: &Asked| {
        if let Some(reply) = users_reply(asked, "Dana") {
            return reply;
        }
        assert_eq!(asked.method, Method::GET);
        let since = asked
            .query
            .get("updated_since")
            .map(|s| OffsetDateTime::parse(s, &Rfc3339).expect("an RFC 3339 time"));
        let updated = |c: &Value| {
            OffsetDateTime::parse(c["updated_at"].as_str().expect("text"), &Rfc3339)
                .expect("a time")
        };
        let mut chosen: Vec<Value> = records
            .lock()
            .expect("records")
            .iter()
            .filter(|c| since.is_none_or(|since| updated(c) >= since))
            .cloned()
            .collect();
        chosen.sort_by_key(|c| updated(c));
        page(&chosen, None)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_dated_9999_does_not_hide_later_changes_and_full_fetches_everything() {
    let now = OffsetDateTime::now_utc();
    let records = Arc::new(Mutex::new(vec![
        customer("cus_a", 1, "Acme", &rfc3339(now - time::Duration::HOUR)),
        customer("cus_z", 2, "Zeta from the future", "9999-12-31T23:59:59Z"),
    ]));
    let server = Hostile::start(incremental(Arc::clone(&records))).await;
    let home = Home::new();
    let run = home
        .run_against(&server.url, &["customers", "list", "--csv"])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Zeta from the future"),
        "{}",
        run.stdout
    );

    let later = OffsetDateTime::now_utc();
    records
        .lock()
        .expect("records")
        .push(customer("cus_b", 3, "Bluebird", &rfc3339(later)));
    let run = home
        .run_against(&server.url, &["customers", "list", "--csv"])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Bluebird"),
        "the change after 9999: {}",
        run.stdout
    );

    // A record the incremental sync cannot see (dated before the mark)
    // comes with --full.
    records.lock().expect("records").push(customer(
        "cus_c",
        4,
        "Cobalt, backdated",
        &rfc3339(now - time::Duration::DAY),
    ));
    let run = home
        .run_against(&server.url, &["customers", "list", "--csv"])
        .await;
    assert!(!run.stdout.contains("Cobalt"), "{}", run.stdout);
    let run = home
        .run_against(&server.url, &["customers", "list", "--csv", "--full"])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Cobalt, backdated"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_sees_changes_after_a_9999_record_and_a_full_refresh_fetches_everything() {
    let now = OffsetDateTime::now_utc();
    let records = Arc::new(Mutex::new(vec![
        customer("cus_a", 1, "Acme", &rfc3339(now - time::Duration::HOUR)),
        customer("cus_z", 2, "Zeta", "9999-12-31T23:59:59Z"),
    ]));
    let server = Hostile::start(incremental(Arc::clone(&records))).await;
    let (_dir, store) = store_file();
    let (handle, mut events) = start_engine(&server.url, &store);
    let finished =
        |e: &SyncEvent| matches!(e, SyncEvent::Finished { .. } | SyncEvent::Failed { .. });
    let within = Duration::from_secs(30);
    let first = events.next_matching(finished, within).await;
    assert!(matches!(first, SyncEvent::Finished { .. }), "{first:?}");

    let has = |id: &'static str| move |e: &SyncEvent| matches!(e, SyncEvent::Page { customers, .. } if customers.iter().any(|c| c.key == id));
    records.lock().expect("records").push(customer(
        "cus_b",
        3,
        "Bluebird",
        &rfc3339(OffsetDateTime::now_utc()),
    ));
    // A Refresh sent while the first run is still winding down does
    // nothing, so ask until a run brings the change.
    let mut seen = false;
    for _ in 0..60 {
        handle.send(SyncCommand::Refresh);
        let wait = events.next_matching(has("cus_b"), within);
        if tokio::time::timeout(Duration::from_millis(500), wait)
            .await
            .is_ok()
        {
            seen = true;
            break;
        }
    }
    assert!(
        seen,
        "the change made after the 9999 record was never synced"
    );
    events.next_matching(finished, within).await;

    records.lock().expect("records").push(customer(
        "cus_c",
        4,
        "Cobalt",
        &rfc3339(now - time::Duration::DAY),
    ));
    handle.send(SyncCommand::FullRefresh);
    events.next_matching(has("cus_c"), within).await;
    handle.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_answer_is_refused_after_32_mib_and_never_read_whole() {
    let produced = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&produced);
    let server = Hostile::start(move |asked: &Asked| {
        users_reply(asked, "Dana")
            .unwrap_or_else(|| endless_body(200 * 1024 * 1024, Arc::clone(&counter)))
    })
    .await;
    let client = common::client_for(&server.url).with_retry(RetryPolicy::none());
    let err = client
        .list_customers(&ListParams::default())
        .await
        .expect_err("too large");
    assert!(matches!(err, ApiError::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
    let sent = produced.load(Ordering::SeqCst);
    assert!(sent < 96 * 1024 * 1024, "the server produced {sent} bytes");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_with_a_megabyte_message_is_cut_to_one_line() {
    let server = Hostile::start(|_: &Asked| {
        let message = format!("{EVIL}{}", "x".repeat(1024 * 1024));
        json_reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"error": {"type": "validation_failed", "message": message, "param": "name"}}),
        )
    })
    .await;
    let client = common::client_for(&server.url).with_retry(RetryPolicy::none());
    let err = client.me().await.expect_err("refused");
    let ApiError::Api { message, .. } = &err else {
        panic!("not an API error: {err:?}");
    };
    assert!(
        message.chars().count() <= 300,
        "{} characters",
        message.chars().count()
    );
    assert!(message.ends_with('…'), "{message}");
    assert_clean("the error", &err.to_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_share_url_base_with_an_escape_sequence_is_refused_or_never_printed_raw() {
    let server = Hostile::start(|asked: &Asked| {
        if let Some(reply) = users_reply(asked, "Dana") {
            return reply;
        }
        if asked.method == Method::POST {
            let created = customer("cus_new", 42, "Acme", "2026-11-26T10:00:00Z");
            return json_reply(StatusCode::CREATED, &created);
        }
        page(&[], None)
    })
    .await;
    let home = Home::new();
    let base = "https://x\u{1b}]0;X\u{7}";
    let run = home
        .run_against(
            &server.url,
            &[
                "customers",
                "create",
                "--name",
                "Acme",
                "--share-url-base",
                base,
            ],
        )
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("control or escape"), "{}", run.stderr);
    assert_clean("the refusal", &run.stderr);

    // From the settings file, where nothing checks it on the way in.
    let config = home.config_dir();
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(
        config.join("config.toml"),
        "share_url_base = \"https://x/a\\u001b]0;X\\u0007\"\n",
    )
    .expect("settings written");
    let run = home
        .run_against(&server.url, &["customers", "create", "--name", "Acme"])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("Created #42 Acme  https://x/a/customers/42"),
        "{}",
        run.stdout
    );
    assert_clean("create", &format!("{}{}", run.stdout, run.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_403_says_not_allowed_rather_than_that_the_key_was_refused() {
    let server = Hostile::start(|_: &Asked| {
        let error =
            json!({"error": {"type": "forbidden", "message": "admins only", "param": null}});
        json_reply(StatusCode::FORBIDDEN, &error)
    })
    .await;
    let home = Home::new();
    let run = home.run_against(&server.url, &["customers", "list"]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("not allowed"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("refused the API key"),
        "{}",
        run.stderr
    );
}
