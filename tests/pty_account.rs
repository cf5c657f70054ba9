//! The Customers screen on a real account, as a user meets it: signed in
//! with `pivotal login` (key in the credentials file, no keyring), run in a
//! pseudo-terminal against `pivotal serve`, and what it leaves in the
//! settings.

mod common;
#[path = "common/pty.rs"]
mod pty;

use std::io::Write;
use std::process::{Command, Stdio};
use std::rc::Rc;

use common::KEY;
use common::serve::{Serve, demo_seed};
use pty::PtyApp;
use tempfile::TempDir;

/// `pivotal serve` with the demo data in a directory of its own, stopped
/// (and the directory removed) when dropped.
struct Served {
    server: Serve,
    _dir: TempDir,
}

impl std::ops::Deref for Served {
    type Target = Serve;
    fn deref(&self) -> &Serve {
        &self.server
    }
}

fn serve() -> Served {
    let dir = tempfile::tempdir().expect("server dir");
    let seed = demo_seed();
    let seed = seed.to_str().expect("a UTF-8 path");
    Served {
        server: common::serve::serve(dir.path(), ":0", &["--seed", seed]),
        _dir: dir,
    }
}

/// `pivotal login --api-url URL` in `home`, the key on stdin.
fn login(home: &TempDir, url: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pivotal"))
        .args(["login", "--api-url", url])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .env("XDG_STATE_HOME", home.path().join(".local/state"))
        .env("PIVOTAL_NO_KEYRING", "1")
        .env_remove("PIVOTAL_API_KEY")
        .env_remove("PIVOTAL_API_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("login starts");
    writeln!(child.stdin.take().expect("stdin"), "{KEY}").expect("key typed");
    let output = child.wait_with_output().expect("login ends");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn config(home: &TempDir) -> String {
    std::fs::read_to_string(home.path().join(".config/pivotal-tui/config.toml"))
        .expect("config.toml")
}

#[test]
fn a_signed_in_user_opens_the_list_and_a_run_with_api_url_is_remembered() {
    let first = serve();
    let second = serve();
    let home = Rc::new(tempfile::tempdir().expect("home"));
    login(&home, &first.url);
    assert!(
        config(&home).contains(&first.url),
        "login remembers the URL"
    );

    // No flag: the stored key and the remembered URL.
    let mut app = PtyApp::spawn_in(Rc::clone(&home), &[]);
    app.wait_for("the synced list", |text| {
        text.contains("Customers  63") && text.contains("synced")
    });
    assert!(!app.screen().contents().contains(KEY));
    app.press(b"q");
    assert!(app.wait_exit().success());

    // --api-url for one run, remembered once it synced.
    let mut app = PtyApp::spawn_in(Rc::clone(&home), &["--api-url", &second.url]);
    app.wait_for("the list from the second server", |text| {
        text.contains("Customers  63") && text.contains("synced")
    });
    app.press(b"q");
    assert!(app.wait_exit().success());
    let saved = config(&home);
    assert!(
        saved.contains(&format!("api_url = \"{}\"", second.url)),
        "{saved}"
    );

    // The log has the run, never the key.
    let logs = home.path().join(".local/state/pivotal-tui/logs");
    let mut logged = String::new();
    for entry in std::fs::read_dir(logs).expect("log dir") {
        logged.push_str(&std::fs::read_to_string(entry.expect("entry").path()).expect("log"));
    }
    assert!(logged.contains("opening the Customers screen"), "{logged}");
    assert!(!logged.contains(KEY));
}

#[test]
fn a_refresh_interval_too_long_for_the_clock_is_named_and_the_app_still_syncs_and_quits() {
    let server = serve();
    let home = Rc::new(tempfile::tempdir().expect("home"));
    login(&home, &server.url);
    // Once accepted, this overflowed the engine's clock after the first
    // sync, and the panic hook hung with the terminal raw.
    let path = home.path().join(".config/pivotal-tui/config.toml");
    let text = format!(
        "refresh_interval_secs = 9223372036854775807\n{}",
        config(&home)
    );
    std::fs::write(&path, text).expect("config written");

    let mut app = PtyApp::spawn_in(Rc::clone(&home), &["--api-url", &server.url]);
    app.wait_for("the list, synced, and the setting named", |text| {
        text.contains("Customers  63")
            && text.contains("synced")
            && text.contains("refresh_interval_secs")
    });
    // Sync again: the engine is alive and schedules its next run.
    app.press(b"r");
    app.wait_for("a second sync", |text| text.contains("synced just now"));
    app.press(b"q");
    let status = app.wait_exit();
    assert!(status.success(), "{status:?}");
    assert!(!app.screen().alternate_screen());
}
