//! `pivotal` in a pseudo-terminal, with a vt100 screen that follows its
//! output: the harness for end-to-end tests of the terminal UI.
//!
//! Include it from a test file with `#[path = "common/pty.rs"] mod pty;`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};
use tempfile::TempDir;

pub const ROWS: u16 = 30;
pub const COLS: u16 = 100;

/// How long any one wait may take. Generous for a loaded CI machine; the
/// waits return as soon as their condition holds.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The app running in a pty of `ROWS`×`COLS`, with its own home directory.
pub struct PtyApp {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: Receiver<Vec<u8>>,
    /// True once the pty reported end of output (the app closed it).
    closed: bool,
    parser: vt100::Parser,
    /// Every byte the app has written, in order.
    written: Vec<u8>,
    // Kept open for the whole test: dropping the master hangs up the app.
    _master: Box<dyn MasterPty + Send>,
    home: Rc<TempDir>,
}

impl PtyApp {
    /// Starts `pivotal` with `args`, `TERM=xterm-256color`, `LANG=C.UTF-8`,
    /// no `NO_COLOR`, no API key, and `HOME`, `XDG_*` and `TMPDIR` in a
    /// fresh temp dir.
    pub fn spawn(args: &[&str]) -> PtyApp {
        PtyApp::spawn_in(Rc::new(tempfile::tempdir().expect("temp home")), args)
    }

    /// [`spawn`](Self::spawn) in a home directory another run used, to see
    /// what it left behind (settings, caches).
    pub fn spawn_in(home: Rc<TempDir>, args: &[&str]) -> PtyApp {
        PtyApp::spawn_with_env(home, args, &[])
    }

    /// [`spawn_in`](Self::spawn_in) with extra environment variables.
    pub fn spawn_with_env(home: Rc<TempDir>, args: &[&str], env: &[(&str, &str)]) -> PtyApp {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");

        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_pivotal"));
        cmd.args(args);
        cmd.cwd(home.path());
        cmd.env("TERM", "xterm-256color");
        // A UTF-8 locale whatever the machine's, so the app draws Unicode.
        cmd.env("LANG", "C.UTF-8");
        for var in [
            "NO_COLOR",
            "PIVOTAL_API_KEY",
            "PIVOTAL_API_URL",
            "LC_ALL",
            "LC_CTYPE",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", home.path());
        // Never the keyring of whoever runs the tests.
        cmd.env("PIVOTAL_NO_KEYRING", "1");
        cmd.env("TMPDIR", home.path());
        for (var, dir) in [
            ("XDG_CONFIG_HOME", ".config"),
            ("XDG_DATA_HOME", ".local/share"),
            ("XDG_STATE_HOME", ".local/state"),
            ("XDG_CACHE_HOME", ".cache"),
        ] {
            cmd.env(var, home.path().join(dir));
        }
        for (var, value) in env {
            cmd.env(var, value);
        }
        let child = pair.slave.spawn_command(cmd).expect("spawn pivotal");
        // Only the app may hold the slave side, so its exit ends the output.
        drop(pair.slave);

        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let (tx, output) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            // Ends on EOF or EIO (the app exited) or when the test is gone.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });

        let size = |n| NonZeroU16::new(n).expect("non-zero size");
        PtyApp {
            child,
            writer,
            output,
            closed: false,
            parser: vt100::Parser::new(size(ROWS), size(COLS), 1000),
            written: Vec::new(),
            _master: pair.master,
            home,
        }
    }

    /// The home directory the app runs in.
    pub fn home(&self) -> Rc<TempDir> {
        Rc::clone(&self.home)
    }

    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("the app has a pid")
    }

    /// Waits until `done` holds for the screen's text, feeding the parser
    /// as output arrives. Panics with the screen after `TIMEOUT`.
    #[track_caller]
    pub fn wait_for(&mut self, what: &str, done: impl Fn(&str) -> bool) {
        self.wait_for_screen(what, |screen| done(&screen.contents()));
    }

    /// [`wait_for`](Self::wait_for) on the whole screen (the cursor, its
    /// modes), not only its text.
    #[track_caller]
    pub fn wait_for_screen(&mut self, what: &str, done: impl Fn(&vt100::Screen) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if done(self.screen()) {
                return;
            }
            let now = Instant::now();
            if now >= deadline || self.closed {
                let why = if self.closed {
                    "the app exited"
                } else {
                    "timed out"
                };
                panic!(
                    "{why} waiting for {what}; the screen:\n{}",
                    self.screen().contents()
                );
            }
            self.read_until(deadline - now);
        }
    }

    /// Waits until `done` holds for something off the screen (a file the
    /// app writes, a server it talks to), feeding the parser meanwhile and
    /// looking again at least every 50 ms: the app may have nothing more
    /// to draw when it happens. Panics with the screen after `TIMEOUT`.
    #[track_caller]
    pub fn wait_until(&mut self, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        while !done() {
            if Instant::now() >= deadline || self.closed {
                panic!(
                    "{} waiting for {what}; the screen:\n{}",
                    if self.closed {
                        "the app exited"
                    } else {
                        "timed out"
                    },
                    self.screen().contents()
                );
            }
            self.read_until(Duration::from_millis(50));
        }
    }

    /// Sends `bytes` to the app as typed keys.
    pub fn press(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    /// Sends Esc, then pauses so the next key is not read as Alt+key.
    pub fn press_escape(&mut self) {
        self.press(b"\x1b");
        thread::sleep(Duration::from_millis(300));
    }

    /// Waits for the app to exit (killing it and failing after `TIMEOUT`),
    /// then reads the rest of its output into the screen.
    #[track_caller]
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("poll the app") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!(
                    "the app did not exit within {TIMEOUT:?}; the screen:\n{}",
                    self.screen().contents()
                );
            }
            // Keep the pty drained so the app never blocks on a write.
            self.read_until(Duration::from_millis(20));
        };
        while !self.closed && Instant::now() < deadline {
            self.read_until(deadline - Instant::now());
        }
        status
    }

    /// Every byte the app has written so far (what a terminal, or a slow
    /// link, was sent), not only what the screen shows now.
    pub fn written(&self) -> &[u8] {
        &self.written
    }

    /// Reads the app's output for `period` whatever it writes, for tests
    /// that check what an idle app does (nothing, it should).
    pub fn idle_for(&mut self, period: Duration) {
        let end = Instant::now() + period;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if self.closed {
                return;
            }
            self.read_until(left);
        }
    }

    /// Feeds whatever output arrives within `limit` to the parser.
    fn read_until(&mut self, limit: Duration) {
        match self.output.recv_timeout(limit) {
            Ok(bytes) => {
                self.parser.process(&bytes);
                self.written.extend_from_slice(&bytes);
                while let Ok(bytes) = self.output.try_recv() {
                    self.parser.process(&bytes);
                    self.written.extend_from_slice(&bytes);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => self.closed = true,
        }
    }
}

impl Drop for PtyApp {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
