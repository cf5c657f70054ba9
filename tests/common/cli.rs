//! The real `pivotal` binary as a script runs it: in its own home
//! directory (no keyring: the credentials file), with what it printed and
//! its exit status.

use std::path::PathBuf;
use std::process::Output;

use tempfile::TempDir;

use super::KEY;

/// A user's home for the binary: config, data and logs inside it.
pub struct Home {
    dir: TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("home"),
        }
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join(".config/pivotal-tui")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.path().join(".local/state/pivotal-tui/logs")
    }

    /// Where the binary keeps its local stores.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join(".local/share/pivotal-tui")
    }

    /// Everything the log files hold.
    pub fn logs(&self) -> String {
        let Ok(entries) = std::fs::read_dir(self.log_dir()) else {
            return String::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect()
    }

    /// Runs `pivotal --api-url URL args…` with the test key in
    /// `PIVOTAL_API_KEY` (no sign-in), for at most a minute.
    pub async fn run_against(&self, url: &str, args: &[&str]) -> Run {
        let child = self
            .command(&[&["--api-url", url], args].concat())
            .env("PIVOTAL_API_KEY", KEY)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("pivotal starts");
        finish(child).await
    }

    /// Starts `pivotal args…` without waiting for it.
    pub fn spawn(&self, args: &[&str]) -> tokio::process::Child {
        self.command(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("pivotal starts")
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let home = self.dir.path();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pivotal"));
        command
            .args(args)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("PIVOTAL_NO_KEYRING", "1")
            .env_remove("PIVOTAL_API_KEY")
            .env_remove("PIVOTAL_API_URL")
            .env_remove("PIVOTAL_LOG")
            .env_remove("PIVOTAL_SHARE_URL_BASE");
        command
    }

    /// Runs `pivotal args…` with `stdin` and returns what it did.
    pub async fn run(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with_env(args, stdin, &[]).await
    }

    /// As [`run`](Self::run), with these environment variables set.
    pub async fn run_with_env(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        use tokio::io::AsyncWriteExt;
        let mut child = self
            .command(args)
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("pivotal starts");
        let mut input = child.stdin.take().expect("stdin");
        input
            .write_all(stdin.as_bytes())
            .await
            .expect("stdin written");
        drop(input);
        finish(child).await
    }

    /// Runs `pivotal args…` with a stdout whose reader is already gone,
    /// as in `pivotal … | head -1` once `head` has had its line: every
    /// write fails with a broken pipe.
    pub async fn run_into_closed_pipe(&self, args: &[&str]) -> Run {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let child = self
            .command(args)
            .stdin(std::process::Stdio::null())
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("pivotal starts");
        finish(child).await
    }

    /// Runs `pivotal args…`, reads the first line it prints and closes the
    /// pipe, as `pivotal … | head -1` does; returns that line and the run.
    pub async fn run_reading_one_line(&self, args: &[&str]) -> (String, Run) {
        use tokio::io::AsyncBufReadExt;
        let mut child = self.spawn(args);
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        tokio::io::BufReader::new(stdout)
            .read_line(&mut line)
            .await
            .expect("a line");
        // The reader is dropped here: the pipe is closed.
        (line, finish(child).await)
    }

    /// Signs in to `url` with the test key, as a user would.
    pub async fn login(&self, url: &str) {
        let run = self
            .run(&["login", "--api-url", url], &format!("{KEY}\n"))
            .await;
        assert_eq!(run.code, 0, "{run:?}");
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Waits for a run of the binary, for at most a minute (a hang fails the
/// test, not the suite), and says what it did.
async fn finish(child: tokio::process::Child) -> Run {
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("pivotal finishes within a minute")
        .expect("pivotal runs");
    Run::from(output)
}
