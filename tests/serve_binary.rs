//! `pivotal serve` as a user runs it: the real binary, its first stdout line,
//! and its data surviving a stop and start.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{KEY, all_customers, client_for};
use pivotal_tui::api::{IdempotencyKey, NewCustomer};

struct Serve {
    child: Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data_dir: &std::path::Path, extra: &[&str]) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pivotal"))
        .args(["serve", "--addr", ":0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env("PIVOTAL_SERVER_API_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    Serve { child, url }
}

fn terminate(mut serve: Serve) {
    let pid = serve.child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = serve.child.wait().expect("exits");
    assert!(exit.success(), "SIGTERM is a clean shutdown: {exit:?}");
}

#[tokio::test]
async fn serve_prints_its_address_first_and_keeps_data_across_restarts() {
    let dir = tempfile::tempdir().expect("dir");
    let first = serve(dir.path(), &["--generate", "25"]);
    let client = client_for(&first.url);
    let created = client
        .create_customer(
            &NewCustomer {
                name: "Made over the wire".into(),
                ..NewCustomer::default()
            },
            &IdempotencyKey::new(),
        )
        .await
        .expect("create");
    assert_eq!(all_customers(&client).await.len(), 26);
    terminate(first);

    let second = serve(dir.path(), &[]);
    let client = client_for(&second.url);
    let customers = all_customers(&client).await;
    assert_eq!(customers.len(), 26);
    assert!(customers.contains(&created));
}
