//! The `pivotal` binary: parses the command line, sets up the log file and
//! runs the chosen command. Everything else is in the library.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use pivotal_tui::cli::{Cli, Command, ConfigCommand, CustomersCommand, ServeArgs};
use pivotal_tui::commands::demo::Demo;
use pivotal_tui::commands::{CommandError, Context, Dirs, account, customers, merge};
use pivotal_tui::logs;
use pivotal_tui::server::{self, Faults, ServerConfig};
use pivotal_tui::settings::{MAX_REFRESH_SECS, MIN_REFRESH_SECS, SettingsFile};
use pivotal_tui::sync::SyncConfig;
use pivotal_tui::tui::theme::Asked;
use pivotal_tui::tui::{self, TuiConfig, TuiError};

fn main() -> ExitCode {
    pivotal_tui::heap::tune();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("pivotal: could not start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `pivotal customers list | head`: the reader had enough.
        Err(RunError::Command(err)) if err.is_closed_output() => ExitCode::SUCCESS,
        // The panic hook restored the terminal and said where the log is.
        Err(RunError::Crashed) => ExitCode::from(101),
        Err(err) => {
            eprintln!("pivotal: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// What went wrong, for the exit status: a command's own error, or
/// something around it (the runtime, the TUI, the server).
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
    /// A task panicked while the Customers screen was open.
    #[error("pivotal crashed")]
    Crashed,
}

impl RunError {
    fn exit_code(&self) -> u8 {
        match self {
            RunError::Command(err) => err.exit_code(),
            RunError::Other(_) => 1,
            RunError::Crashed => 101,
        }
    }
}

async fn run(cli: Cli) -> Result<(), RunError> {
    let log_level = cli.log_level.clone();
    if cli.demo && cli.api_url.is_some() {
        return Err(CommandError::Usage(
            "--demo runs its own server, so --api-url has nothing to do; drop one of them".into(),
        )
        .into());
    }
    match cli.command {
        Some(Command::Serve(_) | Command::Bench(_)) if cli.demo => {
            return Err(CommandError::Usage(
                "--demo is for the Customers screen and the customers and config commands; \
                 `pivotal serve` and `pivotal bench` make their own data (serve: --seed \
                 assets/demo-customers.json)"
                    .into(),
            )
            .into());
        }
        Some(Command::Login | Command::Logout) if cli.demo => {
            return Err(CommandError::Usage(
                "the demo account needs no key: drop --demo to sign in to Pivotal or out".into(),
            )
            .into());
        }
        Some(Command::Serve(args)) => return serve(args).await.map_err(RunError::Other),
        Some(Command::Bench(args)) => {
            return match pivotal_tui::bench::run(args.customers, args.keystrokes).await {
                // `pivotal bench | head -3`: the reader had enough.
                Err(err)
                    if err
                        .downcast_ref::<std::io::Error>()
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
                {
                    Ok(())
                }
                other => other.map_err(RunError::Other),
            };
        }
        Some(Command::Completions { shell }) => {
            return Ok(account::completions(shell, &mut std::io::stdout())?);
        }
        _ => {}
    }
    let dirs = Dirs::of_user()?;
    let log = logs::to_file(&dirs.logs, log_level.as_deref()).ok();
    let log_path = log.as_ref().map(logs::LogFile::current);
    install_panic_message(log_path);
    // `--demo`: a fresh demo account for this run, for the app and for every
    // command that talks to Pivotal.
    let uses_account = matches!(
        cli.command,
        None | Some(Command::Customers(_) | Command::Config(ConfigCommand::Show))
    );
    let demo = if cli.demo && uses_account {
        Some(Demo::start().await.map_err(CommandError::from)?)
    } else {
        None
    };
    let result = run_with(cli, dirs, demo.as_ref()).await;
    if let Some(demo) = demo {
        demo.shutdown().await;
    }
    result
}

/// The commands that need the user's files (or the demo account).
async fn run_with(cli: Cli, dirs: Dirs, demo: Option<&Demo>) -> Result<(), RunError> {
    let mut out = std::io::stdout().lock();
    let share_url_base = |ctx: &Context| {
        cli.share_url_base
            .clone()
            .or_else(|| ctx.settings.settings().share_url_base.clone())
            .unwrap_or_else(|| tui::DEFAULT_SHARE_URL_BASE.to_owned())
    };
    let context = || match demo {
        Some(demo) => Context::demo(demo),
        None => Context::new(cli.api_url.clone()),
    };
    match cli.command {
        None => match demo {
            Some(demo) => {
                let settings = SettingsFile::load(dirs.settings_file());
                let base = cli
                    .share_url_base
                    .clone()
                    .or_else(|| settings.settings().share_url_base.clone())
                    .unwrap_or_else(|| tui::DEFAULT_SHARE_URL_BASE.to_owned());
                demo_screen(demo, base, settings, asked(&cli)).await?;
            }
            None => {
                let ctx = context()?;
                let base = share_url_base(&ctx);
                customers_screen(ctx, base, asked(&cli)).await?;
            }
        },
        Some(Command::Customers(command)) => {
            let mut ctx = context()?;
            let base = share_url_base(&ctx);
            customers_command(&mut ctx, command, &base, &mut out).await?;
        }
        Some(Command::Login) => {
            let mut ctx = context()?;
            account::login(&mut ctx, &mut out).await?;
        }
        Some(Command::Logout) => account::logout(&dirs, &mut out).await?,
        Some(Command::Config(command)) => match command {
            ConfigCommand::Path => account::config_path(&dirs, &mut out)?,
            ConfigCommand::Show => {
                let ctx = context()?;
                account::config_show(&ctx, &mut out).await?;
            }
            ConfigCommand::Set { key, value } => {
                let mut settings = SettingsFile::load(dirs.settings_file());
                account::config_set(&mut settings, &key, &value, &mut out)?;
            }
        },
        Some(Command::Serve(_) | Command::Bench(_) | Command::Completions { .. }) => {
            unreachable!("handled above")
        }
    }
    out.flush().map_err(CommandError::Output)?;
    Ok(())
}

/// One `pivotal customers …` command.
async fn customers_command(
    ctx: &mut Context,
    command: CustomersCommand,
    base: &str,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    match command {
        CustomersCommand::List(args) => customers::list(ctx, &args, out).await,
        CustomersCommand::Create(args) => customers::create(ctx, &args, base, out).await,
        CustomersCommand::Show { customer, json } => {
            customers::show(ctx, &customer, json, base, out).await
        }
        CustomersCommand::Archive { customer } => {
            customers::archive_or_restore(ctx, &customer, true, out).await
        }
        CustomersCommand::Restore { customer } => {
            customers::archive_or_restore(ctx, &customer, false, out).await
        }
        CustomersCommand::Duplicates {
            json,
            likely,
            include_dismissed,
        } => merge::duplicates(ctx, json, likely, include_dismissed, out).await,
        CustomersCommand::Dismiss { customers } => merge::dismiss(ctx, &customers, out).await,
        CustomersCommand::Archived { json } => customers::archived(ctx, json, out).await,
        CustomersCommand::Merge {
            keeper,
            others,
            takes,
            dry_run,
            yes,
        } => {
            let request = merge::MergeRequest {
                keeper: &keeper,
                others: &others,
                takes: &takes,
                dry_run,
                yes,
            };
            merge::merge(ctx, &request, out).await
        }
    }
}

/// After the terminal is restored (the TUI's hook runs first and chains to
/// this one), says where the details of a crash are.
fn install_panic_message(log: Option<std::path::PathBuf>) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!(panic = %info, "pivotal crashed");
        previous(info);
        match &log {
            Some(path) => eprintln!(
                "pivotal crashed; the terminal was restored. Details are in {}",
                path.display()
            ),
            None => eprintln!("pivotal crashed; the terminal was restored."),
        }
    }));
}

/// What the command line asks of the screen (`--ascii`,
/// `--screen-reader`).
fn asked(cli: &Cli) -> Asked {
    Asked {
        ascii: cli.ascii,
        screen_reader: cli.screen_reader,
    }
}

/// The Customers screen against a real account.
async fn customers_screen(
    ctx: Context,
    share_url_base: String,
    asked: Asked,
) -> Result<(), RunError> {
    let (key, source) = ctx.key().await?;
    tracing::info!(api_url = %ctx.api_url, key = %key, from = %source, "opening the Customers screen");
    let store_path = ctx.store_path(&key);
    let settings = ctx.settings.settings();
    let refresh = settings
        .refresh_interval_secs
        .map(|s| Duration::from_secs(s.clamp(MIN_REFRESH_SECS, MAX_REFRESH_SECS)));
    let mut sync = SyncConfig::default();
    if let Some(every) = refresh {
        sync.refresh_every = every;
    }
    tui::run(TuiConfig {
        api_url: ctx.api_url.clone(),
        key,
        store_path,
        demo: false,
        sync,
        share_url_base,
        remember_api_url: ctx.api_url_from_flag,
        settings: ctx.settings,
        asked,
    })
    .await
    .map_err(|err| match err {
        TuiError::Crashed => RunError::Crashed,
        err => RunError::Other(err.into()),
    })
}

/// The Customers screen against the demo account ([`Demo`]), whose
/// temporary directory also holds the client's cache. The view settings are
/// the user's own.
async fn demo_screen(
    demo: &Demo,
    share_url_base: String,
    settings: SettingsFile,
    asked: Asked,
) -> Result<(), RunError> {
    let result = tui::run(TuiConfig {
        api_url: demo.url(),
        key: Demo::key(),
        store_path: demo.dir().join("client.sqlite3"),
        demo: true,
        sync: SyncConfig::default(),
        share_url_base,
        settings,
        remember_api_url: false,
        asked,
    })
    .await;
    match result {
        Err(TuiError::Crashed) => Err(RunError::Crashed),
        other => Ok(other.map_err(anyhow::Error::from)?),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_stderr_logs();
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => Dirs::of_user()
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .data
            .join("server"),
    };
    let config = ServerConfig {
        addr: args.addr,
        data_dir,
        api_key: args.api_key,
        seed: args.seed.map(server::Seed::File),
        generate: args.generate,
        faults: Faults {
            latency: Duration::from_millis(args.fault_latency_ms),
            archive_latency: Duration::from_millis(args.fault_archive_latency_ms),
            error_rate: args.fault_error_rate,
            drop_rate: args.fault_drop_rate,
            rate_limit_rate: args.fault_429_rate,
        },
        header_timeout: server::limits::HEADER_TIMEOUT,
    };
    if !config.faults.is_off() {
        tracing::warn!(faults = ?config.faults, "fault injection is on");
    }
    let running = server::start(config).await?;
    // The first line on stdout is the contract with scripts and tests. A
    // closed stdout is no reason to stop serving (nor to panic).
    let mut stdout = std::io::stdout();
    if let Err(err) =
        writeln!(stdout, "listening on {}", running.url()).and_then(|()| stdout.flush())
    {
        tracing::debug!(error = %err, "could not print the address");
    }
    wait_for_stop_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(())
}

/// The server logs to stderr: it has no terminal UI to protect.
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
