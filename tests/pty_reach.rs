//! The app in a pseudo-terminal as plain terminals and mouse users reach
//! it: ASCII where the locale is not UTF-8, the mouse taken while it runs
//! (and given back however it ends), clicks and the wheel sent as a
//! terminal sends them (SGR mouse reports).

mod common;
#[path = "common/pty.rs"]
mod pty;

use std::rc::Rc;
use std::time::Duration;

use common::{KEY, TestServer};

use pty::PtyApp;
use vt100::MouseProtocolMode;

fn shows_list(text: &str) -> bool {
    // `#1003`, or `>1003` selected for a screen reader.
    text.contains("Customers") && text.contains("1003 Acme Co")
}

/// Where `text` starts on screen, 1-based as mouse reports count.
fn cell_of(app: &PtyApp, text: &str) -> (usize, usize) {
    let contents = app.screen().contents();
    contents
        .lines()
        .enumerate()
        .find_map(|(y, line)| {
            let x = line.find(text)?;
            Some((line[..x].chars().count() + 1, y + 1))
        })
        .unwrap_or_else(|| panic!("{text:?} on screen:\n{contents}"))
}

/// A left click at a 1-based cell, pressed and released.
fn click(app: &mut PtyApp, (x, y): (usize, usize)) {
    app.press(format!("\x1b[<0;{x};{y}M\x1b[<0;{x};{y}m").as_bytes());
}

#[test]
fn the_mouse_is_taken_while_the_app_runs_and_a_double_click_opens_a_row() {
    let mut app = PtyApp::spawn(&["--demo"]);
    app.wait_for("the customer list", shows_list);
    assert_eq!(
        app.screen().mouse_protocol_mode(),
        MouseProtocolMode::PressRelease,
        "the app asks for clicks and the wheel, not for every move"
    );

    let row = cell_of(&app, "#1061");
    click(&mut app, row);
    click(&mut app, row);
    app.wait_for("the details of the row clicked twice", |text| {
        text.contains(" #1061 Beacon Analytics") && text.contains("History")
    });

    let header = cell_of(&app, "Domain");
    click(&mut app, (header.0, header.1));
    app.wait_for("the list sorted by domain", |text| {
        text.contains("sort: domain ↑")
    });

    app.press(b"q");
    app.press(b"q");
    assert!(app.wait_exit().success());
    assert_eq!(
        app.screen().mouse_protocol_mode(),
        MouseProtocolMode::None,
        "the mouse is given back"
    );
}

#[test]
fn mouse_false_leaves_the_mouse_to_the_terminal() {
    let home = Rc::new(tempfile::tempdir().expect("home"));
    let dir = home.path().join(".config/pivotal-tui");
    std::fs::create_dir_all(&dir).expect("config dir");
    std::fs::write(dir.join("config.toml"), "mouse = false\n").expect("write");
    let mut app = PtyApp::spawn_in(home, &["--demo"]);
    app.wait_for("the customer list", shows_list);
    assert_eq!(app.screen().mouse_protocol_mode(), MouseProtocolMode::None);
    app.press(b"q");
    assert!(app.wait_exit().success());
}

#[test]
fn sighup_gives_the_mouse_back() {
    let mut app = PtyApp::spawn(&["--demo"]);
    app.wait_for("the customer list", shows_list);
    let killed = std::process::Command::new("kill")
        .args(["-HUP", &app.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    assert!(app.wait_exit().success(), "SIGHUP is a clean exit");
    assert_eq!(app.screen().mouse_protocol_mode(), MouseProtocolMode::None);
    assert!(!app.screen().alternate_screen());
}

#[test]
fn outside_a_utf_8_locale_the_app_draws_ascii() {
    let home = Rc::new(tempfile::tempdir().expect("home"));
    let mut app = PtyApp::spawn_with_env(home, &["--demo"], &[("LANG", "C")]);
    app.wait_for("the list in ASCII", |text| {
        shows_list(text) && text.contains("63 | 8 duplicate domains")
    });
    let text = app.screen().contents();
    assert!(text.contains("sort: name ^"), "{text}");
    for c in ['·', '…', '—', '↑', '⠋'] {
        let mine: Vec<&str> = text
            .lines()
            .filter(|line| line.contains(c) && !line.starts_with('#'))
            .collect();
        assert!(mine.is_empty(), "{c} drawn by the app: {mine:?}");
    }
    app.press(b"q");
    assert!(app.wait_exit().success());
}

#[test]
fn for_a_screen_reader_the_cursor_is_on_the_selected_row_and_nothing_spins() {
    let home = Rc::new(tempfile::tempdir().expect("home"));
    let mut app = PtyApp::spawn_with_env(home, &["--demo"], &[("PIVOTAL_SCREEN_READER", "1")]);
    let spun = std::cell::Cell::new(false);
    let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    app.wait_for("the list, synced", |text| {
        if text.contains(frames) {
            spun.set(true);
        }
        shows_list(text) && text.contains("synced")
    });
    assert!(!spun.get(), "no spinner frame was drawn");
    app.wait_for_screen("the cursor shown on the first row", |screen| {
        !screen.hide_cursor() && screen.cursor_position() == (2, 0)
    });

    app.press(b"j");
    app.press(b"j");
    app.press(b"\r");
    app.wait_for_screen("the cursor on the third row, details beside", |screen| {
        screen.contents().contains(" #1036 Acme Corporation") && screen.cursor_position() == (4, 0)
    });
    app.press_escape();

    app.press(b"/");
    app.press(b"acme");
    app.wait_for_screen("the cursor after `/acme`", |screen| {
        screen.contents().contains("/acme") && screen.cursor_position().1 == 5
    });
    app.press_escape();
    app.press(b"q");
    assert!(app.wait_exit().success());
}

/// A first sync long enough to be seen (40,000 customers from a real
/// server), for a screen reader: its progress is words and never a spinner
/// frame, in any byte the app writes; a status sentence (`Archived #…`)
/// is written whole, and an idle screen with it writes nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn for_a_screen_reader_a_long_sync_is_words_and_a_status_sentence_is_not_redrawn() {
    let server = TestServer::start_with(|config| config.generate = Some(40_000)).await;
    let home = Rc::new(tempfile::tempdir().expect("home"));
    let mut app = PtyApp::spawn_with_env(
        home,
        &["--api-url", &server.url()],
        &[("PIVOTAL_API_KEY", KEY), ("PIVOTAL_SCREEN_READER", "1")],
    );
    let worded = std::cell::Cell::new(false);
    app.wait_for("the first sync to end", |text| {
        worded.set(worded.get() || text.contains("syncing"));
        text.contains("synced just now")
    });
    let written = String::from_utf8_lossy(app.written()).into_owned();
    let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    assert!(
        !written.contains(frames),
        "a spinner frame was written while syncing"
    );
    assert!(
        worded.get() || written.contains("syncing"),
        "the sync's progress was said in words"
    );

    app.press(b"a");
    app.wait_for("the question", |text| text.contains("(y/N)"));
    app.press(b"y");
    app.wait_for("the status sentence", |text| text.contains("Archived #"));
    // Let the archive reach Pivotal and the screen settle, then listen.
    app.idle_for(Duration::from_secs(1));
    let before = app.written().len();
    app.idle_for(Duration::from_secs(2));
    assert_eq!(
        app.written().len(),
        before,
        "an unchanged screen is not written again: {:?}",
        String::from_utf8_lossy(&app.written()[before..])
    );
    assert!(app.screen().contents().contains("Archived #"));
    app.press(b"q");
    assert!(app.wait_exit().success());
}
