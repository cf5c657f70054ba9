//! The `pivotal` binary: parses the command line and runs the chosen command.

mod cli;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use directories::ProjectDirs;
use pivotal_tui::server::{self, Faults, ServerConfig};

use cli::{Cli, Command, ServeArgs};

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
            Command::Serve(args) => serve(args).await,
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

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_stderr_logs();
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => ProjectDirs::from("app", "Pivotal", "pivotal-tui")
            .context("no home directory to keep the server's data in; pass --data-dir")?
            .data_dir()
            .join("server"),
    };
    let config = ServerConfig {
        addr: args.addr,
        data_dir,
        api_key: args.api_key,
        seed: args.seed,
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
