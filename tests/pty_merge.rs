//! Merging with the real binaries: `pivotal` against `pivotal serve`,
//! each in its own process.
//!
//! - In a pseudo-terminal, as a user does it: `D`, `c`, a field taken from
//!   a loser, `M`, `y`, on to the next group, `u`; the screen read back
//!   through a vt100 parser, the server asked what it holds.
//! - Interrupted by `kill -9`: `pivotal customers merge` against a server
//!   that holds each archive (`--fault-archive-latency-ms`), killed once
//!   Pivotal has the keeper's edit and before any archive; the app started
//!   again finishes the merge, exactly once.

mod common;
#[path = "common/pty.rs"]
mod pty;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::serve::{Serve, demo_seed};
use common::{KEY, client_for};
use pivotal_tui::api::{Client, Customer};
use pivotal_tui::store::{OutboxItem, OutboxOp, Store};
use pty::PtyApp;

const WAIT: Duration = Duration::from_secs(30);

/// `pivotal serve` on `addr` with the demo account in `data_dir`.
fn serve(data_dir: &Path, addr: &str, extra: &[&str]) -> Serve {
    let seed = demo_seed();
    let seed = seed.to_str().expect("a UTF-8 path");
    let args: Vec<&str> = ["--seed", seed]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    common::serve::serve(data_dir, addr, &args)
}

/// `pivotal` as a script runs it, in `home`, against `url`.
fn pivotal(home: &Path, url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pivotal"));
    command
        .args(["--api-url", url])
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("PIVOTAL_NO_KEYRING", "1")
        .env("PIVOTAL_API_KEY", KEY)
        .env_remove("PIVOTAL_API_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// The account's store file under `home`, once a run has made it.
fn store_file(home: &Path) -> Option<PathBuf> {
    let accounts = home.join(".local/share/pivotal-tui/accounts");
    std::fs::read_dir(accounts)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "sqlite3"))
}

fn outbox(store: &Path) -> Vec<OutboxItem> {
    Store::open(store)
        .expect("the store opens")
        .outbox_pending()
        .expect("the outbox reads")
}

/// Polls `check` until it gives a value, for at most [`WAIT`].
fn poll<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn by_display_id(client: &Client, display_id: u64) -> Customer {
    common::all_customers(client)
        .await
        .into_iter()
        .find(|c| c.display_id == display_id)
        .expect("a demo customer")
}

async fn archived(client: &Client) -> usize {
    let all = common::all_customers(client).await;
    all.iter().filter(|c| c.archived).count()
}

/// How many events of `kind` the server has recorded for `id`.
async fn events(client: &Client, id: &str, kind: &str) -> usize {
    let history = client.history(id).await.expect("history");
    history.iter().filter(|e| e.kind == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_killed_between_its_edit_and_its_archives_completes_once_on_the_next_start() {
    let data = tempfile::tempdir().expect("server dir");
    let home = Rc::new(tempfile::tempdir().expect("home"));
    let server = serve(data.path(), ":0", &["--fault-archive-latency-ms", "600000"]);
    let url = server.url.clone();
    let api = client_for(&url);
    let keeper = by_display_id(&api, 1003).await;
    let losers = [
        by_display_id(&api, 1036).await.id,
        by_display_id(&api, 1052).await.id,
    ];
    let edits_before = events(&api, &keeper.id, "updated").await;
    let archived_before = archived(&api).await;

    let mut merge = pivotal(home.path(), &url)
        .args(["customers", "merge", "#1003", "#1036", "#1052"])
        .args(["--take", "plan=#1036", "--yes"])
        .spawn()
        .expect("the merge starts");
    let store = poll("the account's store", || store_file(home.path()));
    // Pivotal has the edit and the client knows it: only the archives
    // wait, the first of them held by the server.
    poll("the edit delivered", || {
        let left = outbox(&store);
        (left.len() == 2
            && left
                .iter()
                .all(|i| matches!(i.op, OutboxOp::Archive { .. })))
        .then_some(())
    });
    merge.kill().expect("kill -9");
    merge.wait().expect("reaped");
    assert_eq!(outbox(&store).len(), 2, "both archives kept");

    // Pivotal again, on the same address (the account's store is by URL),
    // without the hold.
    let addr = url.trim_start_matches("http://").to_owned();
    drop(server);
    let _server = serve(data.path(), &addr, &[]);
    for loser in &losers {
        let live = api.get_customer(loser).await.expect("get");
        assert!(!live.archived, "killed before any archive took effect");
    }

    let mut app = PtyApp::spawn_with_env(
        Rc::clone(&home),
        &["--api-url", &url],
        &[("PIVOTAL_API_KEY", KEY)],
    );
    app.wait_until("the outbox delivered", || outbox(&store).is_empty());
    // Still one merge to the app that finished it, for `u`.
    app.wait_for("the merge's undo hint, nothing pending", |s| {
        s.contains("Merged into #1003 — u to undo") && !s.contains("pending")
    });
    app.press(b"q");
    assert!(app.wait_exit().success());

    let keeper_now = api.get_customer(&keeper.id).await.expect("get");
    assert_eq!(keeper_now.plan.as_deref(), Some("Growth"));
    assert!(keeper_now.tags.contains(&"self-serve".to_owned()));
    assert_eq!(
        keeper_now
            .custom_fields
            .get("billing_country")
            .map(String::as_str),
        Some("US")
    );
    assert_eq!(
        events(&api, &keeper.id, "updated").await,
        edits_before + 1,
        "the edit applied once"
    );
    for loser in &losers {
        assert!(api.get_customer(loser).await.expect("get").archived);
        assert_eq!(events(&api, loser, "archived").await, 1, "archived once");
    }
    assert_eq!(
        archived(&api).await,
        archived_before + 2,
        "nothing else archived"
    );
    assert!(outbox(&store).is_empty());
}

/// The keeper and the losers of acme.com as the server has them.
async fn acme_on(api: &Client) -> (Customer, [Customer; 2]) {
    (
        by_display_id(api, 1003).await,
        [
            by_display_id(api, 1036).await,
            by_display_id(api, 1052).await,
        ],
    )
}

/// acme.com as the server has it once `done` holds and the app's outbox
/// is empty, or as it is after 30 s (the test's asserts then say what is
/// wrong). The screen's word comes before the store has the change, so an
/// empty outbox alone could be one the change has not reached yet.
async fn acme_once(
    api: &Client,
    store: &Path,
    done: impl Fn(&Customer, &[Customer; 2]) -> bool,
) -> (Customer, [Customer; 2]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (keeper, losers) = acme_on(api).await;
        if (done(&keeper, &losers) && outbox(store).is_empty()) || Instant::now() > deadline {
            return (keeper, losers);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_terminal_d_c_a_triple_merged_taking_a_losers_plan_lands_on_the_next_group_and_u_undoes_it()
 {
    let data = tempfile::tempdir().expect("server dir");
    let server = serve(data.path(), ":0", &[]);
    let api = client_for(&server.url);
    let home = Rc::new(tempfile::tempdir().expect("home"));
    let mut app = PtyApp::spawn_with_env(
        Rc::clone(&home),
        &["--api-url", &server.url],
        &[("PIVOTAL_API_KEY", KEY)],
    );
    app.wait_for("the list, synced", |s| s.contains("synced just now"));
    app.press(b"D");
    app.wait_for("the queue", |s| s.contains("10 groups"));
    app.press(b"c");
    app.wait_for("compare with the suggested keeper", |s| {
        s.contains("acme.com · 3 records · group 1 of 10")
            && s.contains("keep #1003: most history (8 events)")
    });
    // #1036 in focus, the field cursor down to Plan, taken.
    app.press(b"ljjjj ");
    app.wait_for("the plan taken", |s| s.contains("plan: taken from #1036"));
    app.press(b"M");
    app.wait_for("the one question", |s| {
        s.contains("Merge into #1003 Acme Co") && s.contains("(y/N)")
    });
    app.press(b"y");
    app.wait_for("the next group", |s| s.contains("group 2 of 10"));
    assert!(
        !app.screen().contents().contains("acme.com · 3 records"),
        "{}",
        app.screen().contents()
    );
    let store = store_file(home.path()).expect("the account's store");
    let (keeper, losers) =
        acme_once(&api, &store, |_, losers| losers.iter().all(|l| l.archived)).await;
    assert_eq!(keeper.plan.as_deref(), Some("Growth"));
    assert!(keeper.tags.contains(&"self-serve".to_owned()));
    assert!(losers.iter().all(|l| l.archived), "both archived");

    app.press(b"u");
    app.wait_for("the merge undone", |s| {
        s.contains("Restoring #1036, #1052 and #1003's fields")
    });
    let (keeper, losers) = acme_once(&api, &store, |keeper, losers| {
        keeper.plan.as_deref() == Some("Enterprise") && losers.iter().all(|l| !l.archived)
    })
    .await;
    assert_eq!(keeper.plan.as_deref(), Some("Enterprise"));
    assert!(!keeper.tags.contains(&"self-serve".to_owned()));
    assert!(!keeper.custom_fields.contains_key("billing_country"));
    assert!(losers.iter().all(|l| !l.archived), "both live again");
    app.wait_for("the app's own word that nothing is pending", |s| {
        !s.contains("pending")
    });
    app.press(b"[");
    app.wait_for("acme.com back, first in the queue", |s| {
        s.contains("acme.com · 3 records · group 1 of 10")
    });
    app.press(b"q");
    app.press(b"q");
    assert!(app.wait_exit().success());
}
