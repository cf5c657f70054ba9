//! `pivotal --demo` as a user sees it: the real binary in a pseudo-terminal,
//! driven by key presses, with its screen read back through a vt100 parser.

#[path = "common/pty.rs"]
mod pty;

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use pty::{PtyApp, TIMEOUT};

/// True when a row shows `acme.com` followed by a duplicate badge of 2 or
/// more, e.g. `#1003  Acme Co   acme.com  3   me   Enterprise`.
fn shows_acme_duplicate_badge(text: &str) -> bool {
    text.lines().any(|line| {
        line.split_once("acme.com").is_some_and(|(_, after)| {
            after
                .split_whitespace()
                .next()
                .and_then(|word| word.parse::<u32>().ok())
                .is_some_and(|count| count >= 2)
        })
    })
}

fn shows_customer_list(text: &str) -> bool {
    text.contains("Customers") && shows_acme_duplicate_badge(text)
}

/// The ids (`#1003`) of the customer rows, top to bottom.
fn row_ids(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.len() > 1 && word.starts_with('#'))
        .collect()
}

#[test]
fn demo_lists_customers_opens_details_and_quits_restoring_the_terminal() {
    let mut app = PtyApp::spawn(&["--demo"]);
    app.wait_for(
        "the customer list with a duplicate badge",
        shows_customer_list,
    );
    assert!(
        app.screen().alternate_screen(),
        "the UI uses the alternate screen"
    );

    let text = app.screen().contents();
    let third = row_ids(&text)
        .get(2)
        .map(|id| id.to_string())
        .unwrap_or_else(|| panic!("at least three customer rows:\n{text}"));

    app.press(b"j");
    app.press(b"j");
    app.press(b"\r");
    // The pane's title is ` #1036 Acme Corporation `; in the list the id
    // starts its line, so a space before it means the title.
    let title = format!(" {third} ");
    app.wait_for("the third customer's details and history", |text| {
        text.contains(&title) && text.contains("History (")
    });

    app.press_escape();
    app.wait_for("the detail pane to close", |text| {
        !text.contains("History") && shows_customer_list(text)
    });

    app.press(b"q");
    let status = app.wait_exit();
    assert!(status.success(), "q exits cleanly, got {status:?}");
    assert!(!app.screen().alternate_screen(), "alternate screen left");
    assert!(!app.screen().hide_cursor(), "cursor visible again");
}

#[test]
fn sigterm_ends_the_demo_and_restores_the_terminal() {
    let mut app = PtyApp::spawn(&["--demo"]);
    app.wait_for("the customer list", shows_customer_list);
    assert!(
        app.screen().alternate_screen(),
        "the UI uses the alternate screen"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &app.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success(), "kill -TERM delivered");

    let status = app.wait_exit();
    assert!(status.success(), "SIGTERM is a clean exit, got {status:?}");
    assert!(!app.screen().alternate_screen(), "alternate screen left");
    assert_eq!(
        app.screen().mouse_protocol_mode(),
        vt100::MouseProtocolMode::None,
        "the mouse given back"
    );
    assert!(!app.screen().hide_cursor(), "cursor visible again");
}

#[test]
fn without_an_api_key_it_exits_with_usage_status_and_says_how_to_set_one() {
    let home = tempfile::tempdir().expect("temp home");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pivotal"))
        .env_remove("PIVOTAL_API_KEY")
        // A developer's own keyring must not answer for the test.
        .env("PIVOTAL_NO_KEYRING", "1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("TMPDIR", home.path())
        .current_dir(home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");

    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait().expect("poll the app").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pivotal without a key did not exit within {TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("collect output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("PIVOTAL_API_KEY"), "stderr: {stderr}");
}

#[test]
fn a_customer_typed_into_the_form_is_created_and_opens_at_its_display_id() {
    let mut app = PtyApp::spawn(&["--demo"]);
    app.wait_for("the customer list", shows_customer_list);

    app.press(b"n");
    app.wait_for("the new-customer form", |text| {
        text.contains("New customer")
    });
    app.press(b"Zephyr Analytics");
    app.press(b"\t");
    app.press(b"https://www.Zephyr.io/pricing");
    app.wait_for("the normalised domain preview", |text| {
        text.contains("zephyr.io") && text.contains('→')
    });
    app.press(b"\r");
    // The demo has 65 customers numbered up to #1065, so this is #1066.
    app.wait_for("the created customer's details and share link", |text| {
        text.contains("#1066 Zephyr Analytics")
            && text.contains("https://app.pivotal.app/customers/1066")
    });
    assert!(
        app.screen().contents().contains("Customers  64"),
        "counted once"
    );

    // q closes the details (as in less), then quits from the list.
    app.press(b"q");
    app.wait_for("the details to close", |text| !text.contains("History"));
    app.press(b"q");
    let status = app.wait_exit();
    assert!(status.success(), "q exits cleanly, got {status:?}");
}

#[test]
fn a_duplicate_pair_is_triaged_compared_archived_and_restored() {
    let mut app = PtyApp::spawn(&["--demo"]);
    app.wait_for("the customer list", shows_customer_list);

    app.press(b"D");
    app.wait_for("duplicates only, the acme.com triple first", |text| {
        text.contains("21 of 63 · duplicates only") && row_ids(text).first() == Some(&"#1003")
    });

    // The first pair after the triple: Globex (#1042, api) and Globex
    // Corporation (#1008, hubspot).
    app.press(b"/");
    app.press(b"globex");
    app.press(b"\r");
    app.wait_for("the Globex pair", |text| {
        text.contains("2 of 63 · duplicates only · 1 group · 0 done · filter: globex")
    });
    app.press(b"c");
    app.wait_for("the compare view with both histories", |text| {
        text.contains("globex.io · 2 records ")
            && text.contains("6 events")
            && text.contains("1 event")
    });

    // The view opens on the selected record, Globex (api, one event): the
    // one with the thinner history goes.
    app.press(b"a");
    app.wait_for("the archive question naming the customer", |text| {
        text.contains("Archive #1042 Globex (api, 1 history event)? (y/N)")
    });
    app.press(b"y");
    app.wait_for("the archive done, with undo offered", |text| {
        text.contains("globex.io · 1 record left, no duplicate")
            && text.contains("Archived #1042 — u to undo")
    });

    app.press_escape();
    app.wait_for("the list without the pair", |text| {
        text.contains("0 of 62 · duplicates only · 1 group · 1 done · filter: globex")
    });
    app.press(b"u");
    app.wait_for("the pair restored and confirmed", |text| {
        text.contains("2 of 63") && text.contains("Restored #1042")
    });

    app.press(b"q");
    let status = app.wait_exit();
    assert!(status.success(), "q exits cleanly, got {status:?}");
}

#[test]
fn the_view_is_saved_and_the_next_run_opens_with_it() {
    let mut app = PtyApp::spawn(&["--demo"]);
    app.wait_for("the customer list", shows_customer_list);
    // Sort by #id, descending, and only my customers.
    app.press(b"s");
    app.press(b"S");
    app.press(b"m");
    app.wait_for("the new view", |text| {
        text.contains("sort: #id ↓") && text.contains("My customers")
    });
    app.press(b"q");
    assert!(app.wait_exit().success());

    let config = app.home().path().join(".config/pivotal-tui/config.toml");
    let saved = std::fs::read_to_string(&config).expect("config.toml written");
    assert!(saved.contains("sort = \"id\""), "{saved}");

    let mut again = PtyApp::spawn_in(app.home(), &["--demo"]);
    again.wait_for("the list as it was left", |text| {
        text.contains("sort: #id ↓")
            && text.contains("My customers")
            && row_ids(text).first() == Some(&"#1064")
    });
    again.press(b"q");
    assert!(again.wait_exit().success());
}

#[test]
fn a_broken_settings_file_is_named_with_its_line_and_left_alone() {
    let home = std::rc::Rc::new(tempfile::tempdir().expect("home"));
    let dir = home.path().join(".config/pivotal-tui");
    std::fs::create_dir_all(&dir).expect("config dir");
    let broken = "theme = \"dark\"\n[view]\nmine = maybe\n";
    std::fs::write(dir.join("config.toml"), broken).expect("write");
    let mut app = PtyApp::spawn_in(home.clone(), &["--demo"]);
    app.wait_for("the problem in the status line", |text| {
        shows_customer_list(text) && text.contains("config.toml line 3")
    });
    app.press(b"s");
    app.press(b"q");
    assert!(app.wait_exit().success());
    let after = std::fs::read_to_string(dir.join("config.toml")).expect("read");
    assert_eq!(after, broken, "never written while broken");
}
