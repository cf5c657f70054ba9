//! The commands for scripts, as a script runs them: the real `pivotal`
//! binary in its own home directory (no keyring: the credentials file),
//! against the reference server over sockets. Checks output shapes,
//! filters, exit statuses, sanitising, and that the key never reaches the
//! log.

mod common;

use std::path::Path;

use common::cli::Home;
use common::{KEY, TestServer};
use pivotal_tui::server::{DEMO_CUSTOMERS, Seed};

async fn demo_server() -> TestServer {
    TestServer::start_with(|c| c.seed = Some(Seed::Embedded(DEMO_CUSTOMERS))).await
}

/// The live customers of the demo account.
fn live_demo_count() -> usize {
    let all: Vec<serde_json::Value> = serde_json::from_str(DEMO_CUSTOMERS).expect("demo");
    all.iter().filter(|c| c["archived"] != true).count()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread")]
async fn login_reads_the_key_from_stdin_checks_it_and_keeps_it_for_the_owner_only() {
    let server = demo_server().await;
    let home = Home::new();
    let run = home
        .run(&["login", "--api-url", &server.url()], &format!("{KEY}\n"))
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("as Dana Reyes"), "{}", run.stdout);
    assert!(!run.stdout.contains(KEY), "the key is never printed");
    let credentials = home.config_dir().join("credentials");
    #[cfg(unix)]
    assert_eq!(mode(&credentials), 0o600);
    let config = std::fs::read_to_string(home.config_dir().join("config.toml")).unwrap();
    assert!(
        config.contains(&format!("api_url = \"{}\"", server.url())),
        "{config}"
    );

    // The next command needs neither the key nor the URL again.
    let run = home.run(&["customers", "list", "--csv"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout.lines().count(), live_demo_count() + 1);

    let run = home.run(&["logout"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!credentials.exists());
    let run = home.run(&["customers", "list"], "").await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("pivotal login"), "{}", run.stderr);
    assert!(run.stderr.contains("PIVOTAL_API_KEY"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_pivotal_refuses_is_not_stored_and_exits_3() {
    let server = demo_server().await;
    let home = Home::new();
    let run = home
        .run(
            &["login", "--api-url", &server.url()],
            "pk_test_wrong_key\n",
        )
        .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("refused the API key"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("pk_test_wrong_key"),
        "no key in errors"
    );
    assert!(!home.config_dir().join("credentials").exists());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_key_file_others_can_read_is_refused_with_the_command_that_fixes_it() {
    use std::os::unix::fs::PermissionsExt;
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    let credentials = home.config_dir().join("credentials");
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = home.run(&["customers", "list"], "").await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
    assert!(!run.stderr.contains(KEY));
}

#[tokio::test(flavor = "multi_thread")]
async fn list_prints_a_table_json_or_csv_with_the_apps_filters() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;

    let table = home.run(&["customers", "list"], "").await;
    assert_eq!(table.code, 0, "{table:?}");
    let header = table.stdout.lines().next().unwrap();
    for column in ["#", "Name", "Domain", "Owner", "Plan", "Source"] {
        assert!(header.contains(column), "{header}");
    }
    assert!(table.stdout.contains("acme.com [3]"), "badges in the table");
    assert!(
        !table.stdout.contains('\u{1b}'),
        "no colour when not a terminal"
    );

    let json = home.run(&["customers", "list", "--json"], "").await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).expect("a JSON array");
    assert_eq!(rows.len(), live_demo_count());
    let acme = rows
        .iter()
        .find(|r| r["display_id"] == 1003)
        .expect("#1003");
    assert_eq!(acme["normalized_domain"], "acme.com");
    assert_eq!(acme["duplicates"], 3);
    assert_eq!(acme["owner"], "Dana Reyes");
    assert!(acme["id"].as_str().unwrap().starts_with("cus_"));

    let csv = home
        .run(&["customers", "list", "--csv", "--filter", "acme"], "")
        .await;
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "display_id,name,domain,normalized_domain,duplicates,owner,owner_id,plan,source,tags,archived,created_at,updated_at,id,\
         cf.arr,cf.billing_country,cf.csm_tier,cf.industry,cf.region,cf.renewal_date,cf.seats"
    );
    assert_eq!(lines.len(), 4, "three acme.com customers: {lines:?}");

    let dups = home
        .run(&["customers", "list", "--json", "--duplicates"], "")
        .await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&dups.stdout).unwrap();
    assert_eq!(rows.len(), 17);
    assert_eq!(
        rows[0]["normalized_domain"], "acme.com",
        "largest group first"
    );
    assert!(rows.iter().all(|r| r["duplicates"].as_u64().unwrap() >= 2));

    let mine = home
        .run(&["customers", "list", "--json", "--mine"], "")
        .await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&mine.stdout).unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["owner_id"] == "usr_8f3c21"));

    let fuzzy = home
        .run(&["customers", "list", "--json", "--filter", "~glbx"], "")
        .await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&fuzzy.stdout).unwrap();
    let ids: Vec<u64> = rows
        .iter()
        .map(|r| r["display_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");

    let all = home
        .run(&["customers", "list", "--json", "--include-archived"], "")
        .await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&all.stdout).unwrap();
    assert!(rows.len() > live_demo_count());
    assert!(rows.iter().any(|r| r["archived"] == true));
}

#[tokio::test(flavor = "multi_thread")]
async fn create_normalises_checks_and_refuses_a_taken_domain_when_asked() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;

    let run = home
        .run(
            &[
                "customers",
                "create",
                "--name",
                "Zephyr Analytics",
                "--domain",
                "https://www.Zephyr.io/pricing",
                "--plan",
                "Growth",
                "--tag",
                "beta",
                "--field",
                "region=EU",
            ],
            "",
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Created #1066 Zephyr Analytics"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("https://app.pivotal.app/customers/1066")
    );
    let created = server
        .client()
        .get_customer(&find_id(&home, 1066).await)
        .await
        .unwrap();
    assert_eq!(created.domain.as_deref(), Some("zephyr.io"));
    assert_eq!(
        created.owner_id.as_deref(),
        Some("usr_8f3c21"),
        "owner defaults to me"
    );

    let run = home
        .run(
            &[
                "customers",
                "create",
                "--name",
                "Acme Holdings",
                "--domain",
                "www.ACME.com",
                "--if-no-duplicate",
            ],
            "",
        )
        .await;
    assert_eq!(run.code, 5, "{run:?}");
    assert!(run.stderr.contains("#1003 Acme Co"), "{}", run.stderr);

    let run = home
        .run(
            &[
                "customers",
                "create",
                "--name",
                "  ",
                "--domain",
                "not a domain",
            ],
            "",
        )
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("name"), "{}", run.stderr);

    let run = home
        .run(
            &[
                "customers",
                "create",
                "--name",
                "X",
                "--owner",
                "nobody@example.com",
            ],
            "",
        )
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no teammate"), "{}", run.stderr);

    let count = home.run(&["customers", "list", "--csv"], "").await;
    assert_eq!(
        count.stdout.lines().count(),
        live_demo_count() + 2,
        "only Zephyr made"
    );
}

/// The id of the customer with this display id, from `list --json`.
async fn find_id(home: &Home, display_id: u64) -> String {
    let run = home
        .run(&["customers", "list", "--json", "--include-archived"], "")
        .await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    rows.iter()
        .find(|r| r["display_id"] == display_id)
        .and_then(|r| r["id"].as_str())
        .expect("listed")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn show_archive_and_restore_take_an_id_or_a_number() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;

    let show = home.run(&["customers", "show", "#1052"], "").await;
    assert_eq!(show.code, 0, "{show:?}");
    assert!(show.stdout.contains("#1052 ACME Co."), "{}", show.stdout);
    assert!(show.stdout.contains("shared by 3 customers"));
    assert!(show.stdout.contains("History   2 events"));

    let id = find_id(&home, 1052).await;
    let run = home.run(&["customers", "archive", &id], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Archived #1052"));
    assert!(server.client().get_customer(&id).await.unwrap().archived);
    // Found by its number among the cache's archived rows.
    let archived = home.run(&["customers", "show", "#1052"], "").await;
    assert_eq!(archived.code, 0, "{archived:?}");
    assert!(
        archived.stdout.contains("#1052 ACME Co."),
        "{}",
        archived.stdout
    );
    assert!(
        archived.stdout.contains("Status    archived"),
        "{}",
        archived.stdout
    );
    let acme = home
        .run(&["customers", "list", "--filter", "acme.com", "--csv"], "")
        .await;
    assert!(
        acme.stdout.contains(",acme.com,2,"),
        "the badge dropped:\n{}",
        acme.stdout
    );

    let run = home.run(&["customers", "restore", "#1052"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!server.client().get_customer(&id).await.unwrap().archived);

    let missing = home.run(&["customers", "show", "#999999"], "").await;
    assert_eq!(missing.code, 3, "{missing:?}");
    let bad = home.run(&["customers", "show", "acme"], "").await;
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_server_exits_4() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    // A loopback port nothing listens on.
    let dead = {
        let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", socket.local_addr().unwrap())
    };
    let run = home
        .run(&["customers", "list", "--api-url", &dead], "")
        .await;
    assert_eq!(run.code, 4, "{run:?}");
    assert!(
        run.stderr.contains("could not reach Pivotal"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_come_out_clean_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("hostile.json");
    std::fs::write(
        &seed,
        serde_json::json!([{
            "id": "cus_HOSTILE", "display_id": 1, "name": "Evil\u{1b}[2J\u{1b}]52;c;aGk=\u{7} Corp\u{202e}",
            "domain": "evil\u{1b}[31m.com", "owner_id": null, "plan": "Pro\r\nX", "tags": ["\u{1b}[1mt"],
            "custom_fields": {}, "source": "manual", "archived": false,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        }])
        .to_string(),
    )
    .unwrap();
    let server = TestServer::start_with(|c| c.seed = Some(Seed::File(seed.clone()))).await;
    let home = Home::new();
    home.login(&server.url()).await;
    for format in [&[][..], &["--csv"], &["--json"]] {
        let mut args = vec!["customers", "list"];
        args.extend_from_slice(format);
        let run = home.run(&args, "").await;
        assert_eq!(run.code, 0, "{run:?}");
        for bad in ['\u{1b}', '\u{7}', '\u{202e}', '\r'] {
            assert!(
                !run.stdout.contains(bad),
                "{format:?} printed {bad:?}:\n{}",
                run.stdout
            );
        }
        assert!(run.stdout.contains("Evil"), "{}", run.stdout);
    }
    let show = home.run(&["customers", "show", "#1"], "").await;
    assert!(!show.stdout.contains('\u{1b}'), "{}", show.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn config_shows_and_sets_settings_and_never_the_key() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    let path = home.run(&["config", "path"], "").await;
    assert_eq!(
        path.stdout.trim(),
        home.config_dir().join("config.toml").to_str().unwrap()
    );

    let set = home.run(&["config", "set", "view.sort", "plan"], "").await;
    assert_eq!(set.code, 0, "{set:?}");
    let show = home.run(&["config", "show"], "").await;
    assert!(show.stdout.contains("sort = \"plan\""), "{}", show.stdout);
    assert!(show.stdout.contains("pk_test_…"), "{}", show.stdout);
    assert!(!show.stdout.contains(KEY), "the key is masked");

    let wrong = home.run(&["config", "set", "theme", "neon"], "").await;
    assert_eq!(wrong.code, 2, "{wrong:?}");
    let unknown = home.run(&["config", "set", "colour", "red"], "").await;
    assert_eq!(unknown.code, 2, "{unknown:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_settings_file_is_named_on_stderr_and_left_as_it_is() {
    let home = Home::new();
    std::fs::create_dir_all(home.config_dir()).unwrap();
    let broken = "theme = \"dark\"\n\n[view]\nsort = 12\n";
    std::fs::write(home.config_dir().join("config.toml"), broken).unwrap();
    let show = home.run(&["config", "show"], "").await;
    assert!(
        show.stderr.contains("config.toml line 4"),
        "{}",
        show.stderr
    );
    let set = home.run(&["config", "set", "view.mine", "true"], "").await;
    assert_eq!(set.code, 2, "{set:?}");
    let after = std::fs::read_to_string(home.config_dir().join("config.toml")).unwrap();
    assert_eq!(after, broken);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_never_reaches_the_log_even_at_trace_level() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    for args in [
        &["customers", "list", "--log-level", "trace"][..],
        &["customers", "show", "#1003", "--log-level", "trace"],
        &[
            "customers",
            "list",
            "--api-url",
            "http://127.0.0.1:9",
            "--log-level",
            "trace",
        ],
    ] {
        home.run(args, "").await;
    }
    let mut logged = String::new();
    for entry in std::fs::read_dir(home.log_dir()).expect("a log dir") {
        logged.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    assert!(!logged.is_empty(), "something was logged");
    assert!(!logged.contains(KEY), "the key is in the log");
    assert!(!logged.contains("s3cr3t"), "part of the key is in the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_are_printed_for_each_shell() {
    let home = Home::new();
    for shell in ["bash", "zsh", "fish"] {
        let run = home.run(&["completions", shell], "").await;
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("customers"), "{shell}");
    }
    let bad = home.run(&["completions", "tcsh"], "").await;
    assert_eq!(bad.code, 2, "usage errors exit 2");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_that_cannot_be_sent_is_kept_and_the_next_command_sends_it_first() {
    use common::engine::{start_on, start_on_with};
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    let (archived, restored) = (find_id(&home, 1052).await, find_id(&home, 1056).await);
    let TestServer {
        server: running,
        dir,
    } = server;
    let addr = running.addr();
    running.shutdown().await;
    // Pivotal fails every request for a while.
    let failing = start_on_with(&dir, addr, |c| c.faults = common::faults(1.0, 0.0)).await;
    let run = home.run(&["customers", "archive", &archived], "").await;
    assert_eq!(run.code, 4, "{run:?}");
    assert!(run.stderr.contains("saved"), "{}", run.stderr);
    failing.shutdown().await;

    let server = TestServer {
        server: start_on(&dir, addr).await,
        dir,
    };
    let run = home.run(&["customers", "archive", &restored], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("sent a change saved earlier: archive of"),
        "{}",
        run.stderr
    );
    let client = server.client();
    assert!(
        client.get_customer(&archived).await.unwrap().archived,
        "the kept one"
    );
    assert!(
        client.get_customer(&restored).await.unwrap().archived,
        "and the new one"
    );
    let history = client.history(&archived).await.unwrap();
    let archives = history.iter().filter(|e| e.kind == "archived").count();
    assert_eq!(archives, 1, "sent once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_stdout_ends_every_command_quietly_with_status_0() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    for args in [
        &["customers", "list", "--csv"][..],
        &["customers", "list", "--json"],
        &["customers", "list"],
        &["customers", "show", "#1003"],
        &["completions", "zsh"],
        &["completions", "bash"],
        &["config", "show"],
        &["bench", "--customers", "10", "--keystrokes", "1"],
    ] {
        let run = home.run_into_closed_pipe(args).await;
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        assert_eq!(run.stderr, "", "{args:?} ends quietly");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reader_that_stops_after_one_line_ends_a_long_listing_quietly() {
    // More CSV than a pipe holds, so the command is still writing when the
    // reader goes.
    let server = TestServer::start_with(|c| c.generate = Some(2_000)).await;
    let home = Home::new();
    home.login(&server.url()).await;
    for format in ["--csv", "--json"] {
        let (first, run) = home
            .run_reading_one_line(&["customers", "list", format])
            .await;
        assert!(!first.is_empty(), "{format}: the first line arrived");
        assert_eq!(run.code, 0, "{format}: {run:?}");
        assert_eq!(run.stderr, "", "{format} ends quietly");
    }
}

/// A seed file of customers with these display ids (archived where the
/// flag says so), all owned by nobody.
fn seed_with_ids(dir: &Path, ids: &[(u64, bool)]) -> std::path::PathBuf {
    let customers: Vec<serde_json::Value> = ids
        .iter()
        .map(|&(n, archived)| {
            serde_json::json!({
                "id": format!("cus_{n}"), "display_id": n, "name": format!("Customer {n}"),
                "domain": null, "owner_id": null, "plan": null, "tags": [],
                "custom_fields": {}, "source": "api", "archived": archived,
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
            })
        })
        .collect();
    let path = dir.join("seed.json");
    std::fs::write(&path, serde_json::Value::from(customers).to_string()).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hash_number_filter_lists_exactly_that_customer_not_every_id_it_begins() {
    let dir = tempfile::tempdir().unwrap();
    let seed = seed_with_ids(
        dir.path(),
        &[
            (144, false),
            (1441, false),
            (14410, false),
            (14411, true),
            (14419, false),
        ],
    );
    let server = TestServer::start_with(|c| c.seed = Some(Seed::File(seed.clone()))).await;
    let home = Home::new();
    home.login(&server.url()).await;
    let ids = |run: &common::cli::Run| -> Vec<u64> {
        let rows: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).expect("JSON");
        rows.iter()
            .filter_map(|r| r["display_id"].as_u64())
            .collect()
    };
    let exact = home
        .run(&["customers", "list", "--json", "--filter", "#1441"], "")
        .await;
    assert_eq!(exact.code, 0, "{exact:?}");
    assert_eq!(ids(&exact), [1441]);
    let archived = home
        .run(
            &[
                "customers",
                "list",
                "--json",
                "--include-archived",
                "--filter",
                "#14411",
            ],
            "",
        )
        .await;
    assert_eq!(ids(&archived), [14411], "archived ones too");
    let text = home
        .run(&["customers", "list", "--json", "--filter", "1441"], "")
        .await;
    assert_eq!(ids(&text).len(), 3, "without `#` it is text: {text:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn help_describes_every_flag_and_lists_global_options_after_the_commands_own() {
    let home = Home::new();
    // Set but empty, as a shell profile may leave it.
    let run = home
        .run_with_env(
            &["customers", "create", "--help"],
            "",
            &[("PIVOTAL_SHARE_URL_BASE", "")],
        )
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let help = run.stdout;
    for line in help.lines().filter(|l| l.trim_start().starts_with('-')) {
        let described = line
            .trim_start()
            .split_once("  ")
            .is_some_and(|(_, text)| !text.trim().is_empty());
        assert!(described, "no description: {line:?}\n{help}");
    }
    let own = help.find("--if-no-duplicate").expect("the command's flags");
    let heading = help
        .find("Global options:")
        .expect("a heading of their own");
    assert!(own < heading, "the command's own flags first:\n{help}");
    for global in ["--demo", "--api-url", "--share-url-base", "--log-level"] {
        let at = help.find(global).expect(global);
        assert!(at > heading, "{global} is under Global options:\n{help}");
    }
    assert!(!help.contains("=]"), "no empty env value shown:\n{help}");
}

#[tokio::test(flavor = "multi_thread")]
async fn config_refusals_read_as_sentences_that_say_what_to_do() {
    let home = Home::new();
    let taken = home.run(&["config", "set", "keys.archive", "D"], "").await;
    assert_eq!(taken.code, 2, "{taken:?}");
    assert_eq!(
        taken.stderr,
        "pivotal: keys.archive: `D` is already the key for duplicates; choose another\n"
    );
    let neon = home.run(&["config", "set", "theme", "neon"], "").await;
    assert_eq!(neon.code, 2, "{neon:?}");
    assert!(
        neon.stderr
            .contains("theme = \"neon\" is not one of auto, dark, light, mono"),
        "{}",
        neon.stderr
    );
    std::fs::create_dir_all(home.config_dir()).unwrap();
    std::fs::write(home.config_dir().join("config.toml"), "theme = \"neon\"\n").unwrap();
    let show = home.run(&["config", "show"], "").await;
    assert!(
        show.stderr
            .contains("config.toml line 1: theme = \"neon\" is not one of auto, dark, light, mono"),
        "{}",
        show.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_and_json_carry_every_field_of_the_customer() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;
    let created = home
        .run(
            &[
                "customers",
                "create",
                "--name",
                "Zephyr",
                "--tag",
                "beta",
                "--field",
                "region=EU",
                "--field",
                "seats=12",
            ],
            "",
        )
        .await;
    assert_eq!(created.code, 0, "{created:?}");
    let csv = home
        .run(&["customers", "list", "--csv", "--filter", "#1066"], "")
        .await;
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].ends_with(",created_at,updated_at,id,cf.region,cf.seats"),
        "{}",
        lines[0]
    );
    let cells: Vec<&str> = lines[1].split(',').collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let cell = |name: &str| cells[header.iter().position(|h| *h == name).expect(name)];
    assert_eq!(cell("cf.region"), "EU");
    assert_eq!(cell("cf.seats"), "12");
    assert_eq!(cell("tags"), "beta");
    for at in ["created_at", "updated_at"] {
        let stamp = cell(at);
        assert!(
            time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{at} is RFC 3339: {stamp}"
        );
    }
    let json = home
        .run(&["customers", "list", "--json", "--filter", "#1066"], "")
        .await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(rows[0]["custom_fields"]["region"], "EU");
    assert_eq!(rows[0]["created_at"], cell("created_at"));
    assert_eq!(rows[0]["updated_at"], cell("updated_at"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_runs_on_a_fresh_demo_account_with_no_key_and_no_settings_written() {
    let home = Home::new();
    let list = home
        .run(&["--demo", "customers", "list", "--json"], "")
        .await;
    assert_eq!(list.code, 0, "{list:?}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&list.stdout).expect("JSON");
    assert_eq!(rows.len(), live_demo_count());

    let create = home
        .run(&["--demo", "customers", "create", "--name", "Zephyr"], "")
        .await;
    assert_eq!(create.code, 0, "{create:?}");
    assert!(
        create.stdout.starts_with("Created #1066 Zephyr"),
        "{}",
        create.stdout
    );
    // The flag may also follow the command, like the other global flags.
    let again = home
        .run(&["customers", "list", "--csv", "--demo"], "")
        .await;
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        !again.stdout.contains("Zephyr"),
        "each run starts from the same demo account"
    );

    let show = home
        .run(&["--demo", "customers", "show", "#1003"], "")
        .await;
    assert!(show.stdout.contains("#1003 Acme Co"), "{show:?}");
    let archive = home
        .run(&["--demo", "customers", "archive", "#1052"], "")
        .await;
    assert!(archive.stdout.contains("Archived #1052"), "{archive:?}");
    let restore = home
        .run(&["--demo", "customers", "restore", "#1052"], "")
        .await;
    assert_eq!(restore.code, 0, "{restore:?}");
    let config = home.run(&["--demo", "config", "show"], "").await;
    assert!(
        config.stdout.contains("from the built-in demo account"),
        "{config:?}"
    );

    let login = home.run(&["--demo", "login"], "").await;
    assert_eq!(login.code, 2, "{login:?}");
    let both = home
        .run(
            &[
                "--demo",
                "customers",
                "list",
                "--api-url",
                "http://127.0.0.1:9",
            ],
            "",
        )
        .await;
    assert_eq!(both.code, 2, "{both:?}");

    assert!(
        !home.config_dir().exists(),
        "no settings or credentials written"
    );
    assert!(!home.data_dir().exists(), "no cache kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicates_lists_the_groups_and_merge_plans_asks_and_merges_through_the_outbox() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;

    let groups = home.run(&["customers", "duplicates", "--json"], "").await;
    assert_eq!(groups.code, 0, "{groups:?}");
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&groups.stdout).expect("json");
    assert_eq!(parsed.len(), 8, "{}", groups.stdout);
    assert_eq!(parsed[0]["shares"], "acme.com", "largest first");
    assert_eq!(parsed[0]["records"].as_array().map(Vec::len), Some(3));
    let table = home.run(&["customers", "duplicates"], "").await;
    assert!(
        table.stdout.contains("acme.com · 3 records"),
        "{}",
        table.stdout
    );

    let plan = [
        "customers",
        "merge",
        "#1003",
        "#1036",
        "#1052",
        "--take",
        "plan=#1036",
    ];
    let dry = home.run(&[&plan[..], &["--dry-run"]].concat(), "").await;
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stdout.contains(
            "Merge into #1003 Acme Co: set plan=Growth, set billing_country=US, add tag self-serve; archive #1036, #1052"
        ),
        "{}",
        dry.stdout
    );
    let id_1036 = find_id(&home, 1036).await;
    assert!(
        !server
            .client()
            .get_customer(&id_1036)
            .await
            .unwrap()
            .archived,
        "a dry run changes nothing"
    );
    let unasked = home.run(&plan, "").await;
    assert_eq!(unasked.code, 2, "no terminal to ask on: {unasked:?}");

    let merged = home.run(&[&plan[..], &["--yes"]].concat(), "").await;
    assert_eq!(merged.code, 0, "{merged:?}");
    assert!(
        merged.stdout.contains("Merged into #1003"),
        "{}",
        merged.stdout
    );
    let keeper = server
        .client()
        .get_customer(&find_id(&home, 1003).await)
        .await
        .unwrap();
    assert_eq!(keeper.plan.as_deref(), Some("Growth"));
    assert!(keeper.tags.contains(&"self-serve".to_owned()));
    assert!(
        server
            .client()
            .get_customer(&id_1036)
            .await
            .unwrap()
            .archived
    );
    let show = home.run(&["customers", "show", "#1036"], "").await;
    assert!(
        show.stdout.contains("merged into #1003 on "),
        "{}",
        show.stdout
    );

    let bad = home
        .run(
            &[
                "customers",
                "merge",
                "#1008",
                "#1042",
                "--take",
                "tags=#1042",
                "--yes",
            ],
            "",
        )
        .await;
    assert_eq!(bad.code, 2, "{bad:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicates_likely_adds_the_same_name_groups_after_the_domain_groups() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;

    let domains = home.run(&["customers", "duplicates", "--json"], "").await;
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&domains.stdout).expect("json");
    assert!(parsed.iter().all(|g| g["kind"] == "domain"), "by default");

    let run = home
        .run(&["customers", "duplicates", "--json", "--likely"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(parsed.len(), 10, "8 domain groups, then 2 likely");
    assert!(parsed[..8].iter().all(|g| g["kind"] == "domain"));
    let atlas = &parsed[8];
    assert_eq!(atlas["kind"], "name");
    assert_eq!(atlas["shares"], "Atlasbridge Security");
    let ids: Vec<u64> = atlas["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["display_id"].as_u64().expect("id"))
        .collect();
    assert_eq!(ids, [1062, 1063]);
    assert_eq!(atlas["keep"], 1062, "{atlas}");
    assert!(
        atlas["why"]
            .as_str()
            .is_some_and(|w| w.starts_with("keep #1062"))
    );
    assert_eq!(parsed[9]["shares"], "Cedargrid Foods Inc.");

    let text = home.run(&["customers", "duplicates", "--likely"], "").await;
    assert!(
        text.stdout
            .contains("Atlasbridge Security · 2 records · same name\n  ✓ #1062 Atlasbridge Security (hubspot, atlasbridge.com)\n    #1063 ATLASBRIDGE SECURITY, LLC (stripe, atlasbridge.io)\n  keep #1062"),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn likely_groups_of_hostile_names_come_out_clean() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("hostile.json");
    let record = |id: u64, name: &str, domain: &str| {
        serde_json::json!({
            "id": format!("cus_H{id}"), "display_id": id, "name": name,
            "domain": domain, "owner_id": null, "plan": null, "tags": [],
            "custom_fields": {}, "source": "manual", "archived": false,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        })
    };
    std::fs::write(
        &seed,
        serde_json::json!([
            record(1, "Evil\u{1b}[2J Corp\u{202e}", "evil.com"),
            record(2, "EVIL CORP, Inc.\u{7}", "evil.io"),
        ])
        .to_string(),
    )
    .unwrap();
    let server = TestServer::start_with(|c| c.seed = Some(Seed::File(seed.clone()))).await;
    let home = Home::new();
    home.login(&server.url()).await;
    for format in [&[][..], &["--json"]] {
        let mut args = vec!["customers", "duplicates", "--likely"];
        args.extend_from_slice(format);
        let run = home.run(&args, "").await;
        assert_eq!(run.code, 0, "{run:?}");
        for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
            assert!(
                !run.stdout.contains(bad),
                "{format:?} printed {bad:?}:\n{}",
                run.stdout
            );
        }
        assert!(
            run.stdout.contains("#2") || run.stdout.contains("\"display_id\": 2"),
            "{}",
            run.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn archived_lists_the_cache_with_the_record_a_merge_went_into() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;

    let run = home.run(&["customers", "archived"], "").await;
    assert_eq!(run.code, 0, "{run:?}");
    let header = run.stdout.lines().next().unwrap();
    for column in ["#", "Name", "Domain", "Owner", "Archived"] {
        assert!(header.contains(column), "{header}");
    }
    assert!(run.stdout.contains("#1015"), "{}", run.stdout);
    assert!(run.stdout.contains("#1041"), "{}", run.stdout);
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.stdout);

    let merged = home
        .run(&["customers", "merge", "#1003", "#1036", "--yes"], "")
        .await;
    assert_eq!(merged.code, 0, "{merged:?}");
    let run = home.run(&["customers", "archived"], "").await;
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("#1036"))
        .unwrap_or_else(|| panic!("#1036 listed:\n{}", run.stdout));
    assert!(line.contains("merged into #1003 on "), "{line}");

    let json = home.run(&["customers", "archived", "--json"], "").await;
    assert_eq!(json.code, 0, "{json:?}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["display_id"], 1036, "the latest archive first");
    assert_eq!(rows[0]["archived"], true);
    assert_eq!(rows[0]["merged_into"]["display_id"], 1003);
    assert!(rows[1]["merged_into"].is_null());

    // A restore takes it out of the list; the live list never had it.
    let restored = home.run(&["customers", "restore", "#1036"], "").await;
    assert_eq!(restored.code, 0, "{restored:?}");
    let run = home.run(&["customers", "archived"], "").await;
    assert!(!run.stdout.contains("#1036"), "{}", run.stdout);
    let listed = home.run(&["customers", "list", "--csv"], "").await;
    assert_eq!(listed.stdout.lines().count(), live_demo_count() + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn dismiss_marks_a_group_not_a_duplicate_and_duplicates_lists_it_on_request() {
    let server = demo_server().await;
    let home = Home::new();
    home.login(&server.url()).await;

    let run = home
        .run(&["customers", "dismiss", "#1008", "#1042"], "")
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with("Marked globex.io (")
            && run.stdout.contains("#1008")
            && run.stdout.contains("#1042")
            && run.stdout.contains("as not a duplicate"),
        "{}",
        run.stdout
    );

    let groups = home.run(&["customers", "duplicates", "--json"], "").await;
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&groups.stdout).expect("json");
    assert_eq!(parsed.len(), 7, "{}", groups.stdout);
    assert!(parsed.iter().all(|g| g["shares"] != "globex.io"));
    let all = home
        .run(
            &["customers", "duplicates", "--json", "--include-dismissed"],
            "",
        )
        .await;
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&all.stdout).expect("json");
    assert_eq!(parsed.len(), 8, "{}", all.stdout);
    let last = parsed.last().unwrap();
    assert_eq!(last["shares"], "globex.io", "dismissed groups come last");
    assert_eq!(last["dismissed"], true);
    assert_eq!(parsed[0]["dismissed"], false);
    let table = home
        .run(&["customers", "duplicates", "--include-dismissed"], "")
        .await;
    assert!(
        table
            .stdout
            .contains("globex.io · 2 records · not a duplicate"),
        "{}",
        table.stdout
    );

    let apart = home
        .run(&["customers", "dismiss", "#1003", "#1042"], "")
        .await;
    assert_eq!(apart.code, 2, "{apart:?}");
    assert!(apart.stderr.contains("share no group"), "{}", apart.stderr);
    let alone = home.run(&["customers", "dismiss", "#1007"], "").await;
    assert_eq!(alone.code, 2, "{alone:?}");
    assert!(
        alone.stderr.contains("no other live customer"),
        "{}",
        alone.stderr
    );
    let unknown = home.run(&["customers", "dismiss", "#999999"], "").await;
    assert_eq!(unknown.code, 2, "{unknown:?}");

    // A likely group (the same name at two domains) is dismissed the same
    // way, and leaves `--likely` until it gains a record.
    let named = home
        .run(&["customers", "dismiss", "#1062", "#1063"], "")
        .await;
    assert_eq!(named.code, 0, "{named:?}");
    assert!(
        named
            .stdout
            .starts_with("Marked Atlasbridge Security (same name) (#1062, #1063)"),
        "{}",
        named.stdout
    );
    let likely = home
        .run(&["customers", "duplicates", "--json", "--likely"], "")
        .await;
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&likely.stdout).expect("json");
    assert!(
        parsed.iter().all(|g| g["shares"] != "Atlasbridge Security"),
        "{}",
        likely.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn archived_customers_come_out_clean_in_the_table_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("hostile.json");
    std::fs::write(
        &seed,
        serde_json::json!([{
            "id": "cus_HOSTILE", "display_id": 1, "name": "Evil\u{1b}[2J\u{1b}]52;c;aGk=\u{7} Corp\u{202e}",
            "domain": "evil\u{1b}[31m.com", "owner_id": null, "plan": "Pro\r\nX", "tags": ["\u{1b}[1mt"],
            "custom_fields": {"k\u{1b}": "v\u{200b}"}, "source": "manual", "archived": true,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        }])
        .to_string(),
    )
    .unwrap();
    let server = TestServer::start_with(|c| c.seed = Some(Seed::File(seed.clone()))).await;
    let home = Home::new();
    home.login(&server.url()).await;
    for format in [&[][..], &["--json"]] {
        let mut args = vec!["customers", "archived"];
        args.extend_from_slice(format);
        let run = home.run(&args, "").await;
        assert_eq!(run.code, 0, "{run:?}");
        for bad in ['\u{1b}', '\u{7}', '\u{202e}', '\r', '\u{200b}'] {
            assert!(
                !run.stdout.contains(bad),
                "{format:?} printed {bad:?}:\n{}",
                run.stdout
            );
        }
        assert!(run.stdout.contains("Evil"), "{}", run.stdout);
    }
}
