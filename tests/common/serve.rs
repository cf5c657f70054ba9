//! The `pivotal serve` binary in its own process, as a user starts it: its
//! address read from its first line of output, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::KEY;

/// `pivotal serve` running; killed when dropped.
pub struct Serve {
    pub child: Child,
    pub url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo account's seed file, for `--seed`.
pub fn demo_seed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-customers.json")
}

/// Starts `pivotal serve --addr ADDR --data-dir DATA_DIR EXTRA…` with the
/// tests' key, and waits for its `listening on URL` line.
pub fn serve(data_dir: &Path, addr: &str, extra: &[&str]) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pivotal"))
        .args(["serve", "--addr", addr, "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env("PIVOTAL_SERVER_API_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("its first line");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .to_owned();
    Serve { child, url }
}
