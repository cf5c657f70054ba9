//! Where the API key comes from, as a script meets it: the real `pivotal`
//! binary in its own home directory (no keyring), with a key stored by
//! `pivotal login` and `PIVOTAL_API_KEY` set or not, or something that is
//! not a file where the key file should be.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{KEY, TestServer};
use tempfile::TempDir;

/// How long any run may take; a hang fails the test instead of the suite.
const TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `pivotal args…` in `home` with `env` (nothing else of the
/// caller's `PIVOTAL_*`), stdin closed.
async fn pivotal(home: &TempDir, args: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = home.path();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_pivotal"));
    command
        .args(args)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .env("XDG_DATA_HOME", dir.join(".local/share"))
        .env("XDG_STATE_HOME", dir.join(".local/state"))
        .env("PIVOTAL_NO_KEYRING", "1")
        .env_remove("PIVOTAL_API_KEY")
        .env_remove("PIVOTAL_API_URL")
        .env_remove("PIVOTAL_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (var, value) in env {
        command.env(var, value);
    }
    let child = command.spawn().expect("pivotal starts");
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("pivotal {args:?} did not finish within {TIMEOUT:?}"))
        .expect("pivotal runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Signs in to `url` with the test key, the key on stdin.
async fn login(home: &TempDir, url: &str) {
    use tokio::io::AsyncWriteExt;
    let dir = home.path();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pivotal"))
        .args(["login", "--api-url", url])
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .env("XDG_DATA_HOME", dir.join(".local/share"))
        .env("XDG_STATE_HOME", dir.join(".local/state"))
        .env("PIVOTAL_NO_KEYRING", "1")
        .env_remove("PIVOTAL_API_KEY")
        .env_remove("PIVOTAL_API_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("login starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{KEY}\n").as_bytes())
        .await
        .expect("key typed");
    drop(stdin);
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .expect("login finishes")
        .expect("login runs");
    assert!(output.status.success(), "{output:?}");
}

fn credentials(home: &TempDir) -> PathBuf {
    home.path().join(".config/pivotal-tui/credentials")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_pivotal_api_key_is_an_error_naming_it_and_the_stored_key_is_not_used() {
    let server = TestServer::start().await;
    let home = tempfile::tempdir().expect("home");
    login(&home, &server.url()).await;
    let works = pivotal(&home, &["customers", "list"], &[]).await;
    assert_eq!(works.code, Some(0), "the stored key works: {works:?}");

    let malformed = "sk_live_0ther4ccount";
    for args in [&["customers", "list"][..], &[][..]] {
        let run = pivotal(&home, args, &[("PIVOTAL_API_KEY", malformed)]).await;
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(
            run.stderr.contains(
                "PIVOTAL_API_KEY is set but is not a Pivotal API key (expected pk_live_… or pk_test_…)"
            ),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "nothing listed: {}", run.stdout);
        assert!(!run.stderr.contains("0ther4ccount"), "never the value");
    }

    // A blank variable is an unset one: the stored key again.
    let run = pivotal(&home, &["customers", "list"], &[("PIVOTAL_API_KEY", "")]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_fifo_at_the_credentials_path_is_refused_instead_of_hanging_every_command() {
    let home = tempfile::tempdir().expect("home");
    let path = credentials(&home);
    std::fs::create_dir_all(path.parent().expect("config dir")).expect("config dir made");
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());

    for args in [&["customers", "list"][..], &["config", "show"][..]] {
        let run = pivotal(&home, args, &[("PIVOTAL_API_URL", "http://127.0.0.1:9")]).await;
        assert!(
            run.stderr
                .contains(&format!("{} is not a regular file", path.display()))
                || run
                    .stdout
                    .contains(&format!("{} is not a regular file", path.display())),
            "{args:?}: {run:?}"
        );
        if args[0] == "customers" {
            assert_eq!(run.code, Some(2), "{run:?}");
        }
    }
}
