//! Logging to a file, never to the terminal the TUI owns: `tracing` into a
//! daily-rotated file in the state dir (a week kept), at the level of
//! `--log-level`, else `PIVOTAL_LOG`, else `info`. Nothing logged carries
//! the API key: it exists only inside [`crate::api::ApiKey`], which prints
//! masked, and requests are never logged with their headers.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

/// The log files' name: `pivotal.<date>.log`.
const PREFIX: &str = "pivotal";
const SUFFIX: &str = "log";
/// How many daily files are kept.
const KEEP: usize = 7;
/// Lines the writer thread may fall behind by before more are dropped.
const QUEUED_LINES: usize = 4_096;

/// Keeps the log writer flushing; drop it last.
pub struct LogFile {
    _guard: WorkerGuard,
    dir: PathBuf,
}

impl LogFile {
    /// Today's file, as messages name it.
    pub fn current(&self) -> PathBuf {
        current_file(&self.dir)
    }
}

/// Today's log file in `dir` (the appender names files by UTC date).
pub fn current_file(dir: &Path) -> PathBuf {
    let today = OffsetDateTime::now_utc().date();
    dir.join(format!(
        "{PREFIX}.{:04}-{:02}-{:02}.{SUFFIX}",
        today.year(),
        u8::from(today.month()),
        today.day()
    ))
}

/// Sends `tracing` output to the rotating file in `dir`.
///
/// # Errors
///
/// When the directory cannot be made or the file opened; the caller runs
/// on without a log.
pub fn to_file(dir: &Path, level: Option<&str>) -> Result<LogFile, std::io::Error> {
    std::fs::create_dir_all(dir)?;
    let appender = Builder::new()
        .rotation(Rotation::DAILY)
        .filename_prefix(PREFIX)
        .filename_suffix(SUFFIX)
        .max_log_files(KEEP)
        .build(dir)
        .map_err(std::io::Error::other)?;
    // The default queue holds 128,000 lines, allocated whole at start
    // (4 MiB resident for the life of the app); the app logs a few lines a
    // minute, so a short queue loses nothing and a burst past it is
    // dropped rather than blocking a task.
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(QUEUED_LINES)
        .finish(appender);
    let filter = match level {
        Some(level) => EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info")),
        None => EnvFilter::try_from_env("PIVOTAL_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    if installed.is_err() {
        tracing::debug!("a log subscriber was already installed");
    }
    Ok(LogFile {
        _guard: guard,
        dir: dir.to_owned(),
    })
}
