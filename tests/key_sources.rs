//! Where the API key comes from, as a script meets it: the real `pivotal`
//! binary in its own home directory (no keyring), with a key stored by
//! `pivotal login` and `PIVOTAL_API_KEY` set or not, or something that is
//! not a file where the key file should be.

mod common;

use std::path::PathBuf;

use common::TestServer;
use common::cli::Home;

fn credentials(home: &Home) -> PathBuf {
    home.config_dir().join("credentials")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_pivotal_api_key_is_an_error_naming_it_and_the_stored_key_is_not_used() {
    let server = TestServer::start().await;
    let home = Home::new();
    home.login(&server.url()).await;
    let works = home.run_with_env(&["customers", "list"], "", &[]).await;
    assert_eq!(works.code, 0, "the stored key works: {works:?}");

    let malformed = "sk_live_0ther4ccount";
    for args in [&["customers", "list"][..], &[][..]] {
        let run = home
            .run_with_env(args, "", &[("PIVOTAL_API_KEY", malformed)])
            .await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
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
    let run = home
        .run_with_env(&["customers", "list"], "", &[("PIVOTAL_API_KEY", "")])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_fifo_at_the_credentials_path_is_refused_instead_of_hanging_every_command() {
    let home = Home::new();
    let path = credentials(&home);
    std::fs::create_dir_all(path.parent().expect("config dir")).expect("config dir made");
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());

    for args in [&["customers", "list"][..], &["config", "show"][..]] {
        let run = home
            .run_with_env(args, "", &[("PIVOTAL_API_URL", "http://127.0.0.1:9")])
            .await;
        assert!(
            run.stderr
                .contains(&format!("{} is not a regular file", path.display()))
                || run
                    .stdout
                    .contains(&format!("{} is not a regular file", path.display())),
            "{args:?}: {run:?}"
        );
        if args[0] == "customers" {
            assert_eq!(run.code, 2, "{run:?}");
        }
    }
}
