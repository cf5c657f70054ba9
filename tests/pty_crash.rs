//! A panic anywhere while the Customers screen is open: the terminal comes
//! back (cooked mode, main screen, cursor, no bracketed paste), the message
//! says where the details are, and the app exits non-zero instead of
//! hanging. The panics are triggered with `PIVOTAL_DEBUG_PANIC`, which only
//! debug builds read.

#[path = "common/pty.rs"]
mod pty;

use std::rc::Rc;

use pty::PtyApp;

fn crash(on: &str) {
    let home = Rc::new(tempfile::tempdir().expect("home"));
    let mut app = PtyApp::spawn_with_env(
        home,
        &["--demo"],
        &[("PIVOTAL_DEBUG_PANIC", on), ("RUST_BACKTRACE", "0")],
    );
    let status = app.wait_exit();
    assert!(!status.success(), "a crash is a failure, got {status:?}");
    assert_eq!(status.exit_code(), 101, "{status:?}");
    let screen = app.screen();
    assert!(!screen.alternate_screen(), "alternate screen left");
    assert!(!screen.hide_cursor(), "cursor visible again");
    assert!(!screen.bracketed_paste(), "bracketed paste off again");
    assert_eq!(
        screen.mouse_protocol_mode(),
        vt100::MouseProtocolMode::None,
        "the mouse given back"
    );
    let text = screen.contents();
    assert!(
        text.contains("pivotal crashed; the terminal was restored. Details are in"),
        "{text}"
    );
    assert!(
        text.contains("PIVOTAL_DEBUG_PANIC"),
        "the panic is named: {text}"
    );
    assert_eq!(
        text.matches("pivotal crashed").count(),
        1,
        "said once: {text}"
    );
}

#[test]
fn a_panic_on_a_background_task_restores_the_terminal_and_exits_non_zero() {
    crash("task");
}

#[test]
fn a_panic_on_the_ui_thread_restores_the_terminal_and_exits_non_zero() {
    crash("ui");
}
