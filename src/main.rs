//! The `pivotal` binary: parses the command line and runs the chosen command.

mod cli;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use directories::ProjectDirs;
use pivotal_tui::api::ApiKey;
use pivotal_tui::server::{self, Faults, ServerConfig};
use pivotal_tui::store::account_file;
use pivotal_tui::sync::SyncConfig;
use pivotal_tui::tui::{self, TuiConfig};

use cli::{Cli, Command, ServeArgs};

/// Exit status for a usage problem the user can fix (e.g. no API key).
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("pivotal: could not start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Serve(args)) => serve(args).await,
            Some(Command::Bench(args)) => {
                pivotal_tui::bench::run(args.customers, args.keystrokes).await
            }
            None if cli.demo => demo(cli.share_url_base).await,
            None => customers(cli.api_url, cli.share_url_base).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pivotal: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn project_dirs() -> anyhow::Result<ProjectDirs> {
    ProjectDirs::from("app", "Pivotal", "pivotal-tui")
        .context("no home directory to keep data in; set HOME")
}

/// The Customers screen against a real account.
async fn customers(api_url: String, share_url_base: String) -> anyhow::Result<()> {
    let Some(secret) = std::env::var("PIVOTAL_API_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty())
    else {
        eprintln!(
            "pivotal: no API key. Create one in Pivotal (Settings → API keys) and run:\n\n    \
             export PIVOTAL_API_KEY=pk_live_…\n\nor try the app with sample data: pivotal --demo"
        );
        std::process::exit(i32::from(EXIT_USAGE));
    };
    let key = ApiKey::new(secret)?;
    let store_path = account_file(project_dirs()?.data_dir(), &api_url, &key);
    tui::run(TuiConfig {
        api_url,
        key,
        store_path,
        demo: false,
        sync: SyncConfig::default(),
        share_url_base,
    })
    .await?;
    Ok(())
}

/// The Customers screen against an in-process reference server seeded with
/// the demo account, all in a temporary directory that is removed on exit.
async fn demo(share_url_base: String) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("pivotal-demo-")
        .tempdir()
        .context("could not create a temporary directory for the demo")?;
    let mut config = ServerConfig::new(dir.path().join("server"));
    config.seed = Some(server::Seed::Embedded(server::DEMO_CUSTOMERS));
    let running = server::start(config).await?;
    let result = tui::run(TuiConfig {
        api_url: running.url(),
        key: ApiKey::new(server::DEFAULT_API_KEY.to_owned())?,
        store_path: dir.path().join("client.sqlite3"),
        demo: true,
        sync: SyncConfig::default(),
        share_url_base,
    })
    .await;
    running.shutdown().await;
    result?;
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_stderr_logs();
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => project_dirs()?.data_dir().join("server"),
    };
    let config = ServerConfig {
        addr: args.addr,
        data_dir,
        api_key: args.api_key,
        seed: args.seed.map(server::Seed::File),
        generate: args.generate,
        faults: Faults {
            latency: Duration::from_millis(args.fault_latency_ms),
            error_rate: args.fault_error_rate,
            drop_rate: args.fault_drop_rate,
            rate_limit_rate: args.fault_429_rate,
        },
    };
    if !config.faults.is_off() {
        tracing::warn!(faults = ?config.faults, "fault injection is on");
    }
    let running = server::start(config).await?;
    // The first line on stdout is the contract with scripts and tests.
    println!("listening on {}", running.url());
    wait_for_stop_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(())
}

fn init_stderr_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PIVOTAL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Resolves on Ctrl-C, SIGTERM or SIGHUP.
async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
