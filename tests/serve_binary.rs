//! `pivotal serve` as a user runs it: the real binary, its first stdout line,
//! and its data surviving a stop and start.

mod common;

use std::process::Command;

use common::serve::Serve;
use common::{all_customers, client_for};
use pivotal_tui::api::{IdempotencyKey, NewCustomer};

/// `pivotal serve` on a free port, its address checked to be loopback.
fn serve(data_dir: &std::path::Path, extra: &[&str]) -> Serve {
    let serve = common::serve::serve(data_dir, ":0", extra);
    assert!(serve.url.starts_with("http://127.0.0.1:"), "{}", serve.url);
    serve
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
