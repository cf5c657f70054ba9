//! The command-line commands beside the TUI: `customers …`, `login`,
//! `logout`, `config …`, `completions`. They use the app's own client
//! (and retry policy), sanitiser, validation, filter and local store, and
//! speak the TUI's words.
//!
//! Owns what each command prints and its exit status ([`CommandError`]).
//! Output goes to the writer given; errors are one sentence on stderr,
//! printed by the binary. No terminal UI.

pub mod account;
pub mod customers;
pub mod demo;
pub mod merge;
mod output;

use std::path::PathBuf;

use directories::ProjectDirs;

use crate::api::{ApiError, ApiKey, Client};
use crate::settings::credentials::{self, CredentialError, KeySource};
use crate::settings::{FILE_NAME, SettingsError, SettingsFile};

/// The API used when nothing says otherwise.
pub const DEFAULT_API_URL: &str = "https://api.pivotal.app";

/// Exit statuses, for scripts.
pub mod exit {
    pub const OK: u8 = 0;
    /// Bad arguments, no API key, unusable settings.
    pub const USAGE: u8 = 2;
    /// The API refused the request (4xx).
    pub const REFUSED: u8 = 3;
    /// The network or the server could not be reached (or failed, 5xx).
    pub const UNREACHABLE: u8 = 4;
    /// `--if-no-duplicate` found the domain taken.
    pub const DUPLICATE: u8 = 5;
}

/// What ends a command early, with its exit status. Messages are one
/// sentence that says what to do; none carries the API key.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(
        "no API key: run `pivotal login`, or set PIVOTAL_API_KEY (try the app without one: pivotal --demo)"
    )]
    NoKey,
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("{}", api_sentence(.0))]
    Api(#[from] ApiError),
    #[error("{0}")]
    Duplicate(String),
    #[error("the local store failed: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("could not write the output: {0}")]
    Output(#[from] std::io::Error),
    #[error(transparent)]
    Demo(#[from] demo::DemoError),
}

impl CommandError {
    /// The exit status this error ends the command with.
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::NoKey
            | CommandError::Usage(_)
            | CommandError::Credentials(_)
            | CommandError::Settings(_) => exit::USAGE,
            CommandError::Api(err) => match err.status() {
                Some(status) if (400..500).contains(&status) && status != 429 => exit::REFUSED,
                _ => exit::UNREACHABLE,
            },
            CommandError::Duplicate(_) => exit::DUPLICATE,
            CommandError::Store(_) | CommandError::Output(_) | CommandError::Demo(_) => 1,
        }
    }
}

impl CommandError {
    /// The output went to a reader that had enough and closed it
    /// (`pivotal customers list --csv | head -1`): not a failure. The
    /// command ends quietly with status 0.
    pub fn is_closed_output(&self) -> bool {
        let CommandError::Output(err) = self else {
            return false;
        };
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(error) = current {
            if let Some(io) = error.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return true;
            }
            current = error
                .downcast_ref::<std::io::Error>()
                .and_then(|io| {
                    io.get_ref()
                        .map(|inner| inner as &(dyn std::error::Error + 'static))
                })
                .or_else(|| error.source());
        }
        false
    }
}

/// An API error as one sentence with what to do about it.
fn api_sentence(err: &ApiError) -> String {
    match err {
        ApiError::Api { status: 401, .. } => {
            "Pivotal refused the API key; run `pivotal login` with a valid one".to_owned()
        }
        ApiError::Api {
            status: 403,
            message,
            ..
        } => format!(
            "not allowed: Pivotal does not let this API key do that ({message}); ask an admin"
        ),
        ApiError::Api {
            status: 404,
            message,
            ..
        } => format!("not found: {message}"),
        ApiError::Api {
            status,
            message,
            param: Some(param),
            ..
        } if (400..500).contains(status) => format!("Pivotal refused it: {param}: {message}"),
        ApiError::Api {
            status, message, ..
        } if (400..500).contains(status) => format!("Pivotal refused it: {message}"),
        ApiError::Network { reason } => {
            format!("could not reach Pivotal ({reason}); check the network or --api-url")
        }
        other => format!("{other}; try again shortly"),
    }
}

/// Where this user's files live (XDG on Linux).
#[derive(Debug, Clone)]
pub struct Dirs {
    pub config: PathBuf,
    pub data: PathBuf,
    /// Logs (the state dir where the OS has one).
    pub logs: PathBuf,
}

impl Dirs {
    /// The app's directories from `directories`.
    ///
    /// # Errors
    ///
    /// Without a home directory.
    pub fn of_user() -> Result<Dirs, CommandError> {
        let dirs = ProjectDirs::from("app", "Pivotal", "pivotal-tui").ok_or_else(|| {
            CommandError::Usage("no home directory to keep settings in; set HOME".into())
        })?;
        Ok(Dirs {
            config: dirs.config_dir().to_owned(),
            data: dirs.data_dir().to_owned(),
            logs: dirs
                .state_dir()
                .unwrap_or_else(|| dirs.data_dir())
                .join("logs"),
        })
    }

    pub fn settings_file(&self) -> PathBuf {
        self.config.join(FILE_NAME)
    }
}

/// What every API command needs: the settings, the API URL in force and
/// how it was chosen, and the user's key.
#[derive(Debug)]
pub struct Context {
    pub dirs: Dirs,
    pub settings: SettingsFile,
    pub api_url: String,
    /// `--api-url` was given: a successful run remembers it.
    pub api_url_from_flag: bool,
    /// Running against the built-in demo account ([`demo::Demo`]): its key,
    /// never the user's.
    pub demo: bool,
}

impl Context {
    /// Reads the settings and picks the API URL: `--api-url`, then
    /// `PIVOTAL_API_URL`, then the settings, then the default. A broken
    /// settings file is reported on stderr and the defaults are used.
    ///
    /// # Errors
    ///
    /// Without a home directory.
    pub fn new(api_url_flag: Option<String>) -> Result<Context, CommandError> {
        let dirs = Dirs::of_user()?;
        let settings = load_settings(&dirs);
        let from_flag = api_url_flag.is_some();
        let api_url = api_url_flag
            .or_else(|| {
                std::env::var("PIVOTAL_API_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
            })
            .or_else(|| settings.settings().api_url.clone())
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        Ok(Context {
            dirs,
            settings,
            api_url,
            api_url_from_flag: from_flag,
            demo: false,
        })
    }

    /// The context for a run against `demo`: its URL and key, and a local
    /// store inside its temporary directory. The user's settings are read
    /// (for the link base) but never written, and their key is never read.
    ///
    /// # Errors
    ///
    /// Without a home directory.
    pub fn demo(demo: &demo::Demo) -> Result<Context, CommandError> {
        let user = Dirs::of_user()?;
        let settings = load_settings(&user);
        Ok(Context {
            dirs: Dirs {
                data: demo.data_dir(),
                ..user
            },
            settings,
            api_url: demo.url(),
            api_url_from_flag: false,
            demo: true,
        })
    }

    /// The API key, from wherever it is kept.
    ///
    /// # Errors
    ///
    /// [`CommandError::NoKey`] when there is none, or a key file problem.
    pub async fn key(&self) -> Result<(ApiKey, KeySource), CommandError> {
        if self.demo {
            return Ok((demo::Demo::key(), KeySource::Demo));
        }
        credentials::find(&self.dirs.config)
            .await?
            .ok_or(CommandError::NoKey)
    }

    /// A client for the API in force with `key`.
    ///
    /// # Errors
    ///
    /// An unusable URL.
    pub fn client(&self, key: ApiKey) -> Result<Client, CommandError> {
        Client::new(&self.api_url, key).map_err(|err| match err {
            ApiError::Config { reason } => CommandError::Usage(format!(
                "the API URL `{}` is not usable: {reason}",
                crate::domain::sanitize(&self.api_url)
            )),
            other => CommandError::Api(other),
        })
    }

    /// The account's local store, as the TUI uses it.
    pub fn store_path(&self, key: &ApiKey) -> PathBuf {
        crate::store::account_file(&self.dirs.data, &self.api_url, key)
    }

    /// Remembers the API URL after a run with `--api-url` worked.
    pub fn remember_api_url(&mut self) {
        if self.api_url_from_flag
            && let Err(err) = self.settings.remember_api_url(&self.api_url)
        {
            tracing::warn!(error = %err, "could not remember the API URL");
        }
    }
}

/// The user's settings file; a broken one is reported on stderr and the
/// defaults are used.
fn load_settings(dirs: &Dirs) -> SettingsFile {
    let settings = SettingsFile::load(dirs.settings_file());
    if let Some(problem) = settings.problem() {
        // The problem may quote the file, which anyone could have written.
        let problem = crate::domain::sanitize(problem).into_owned();
        eprintln!("pivotal: {problem}; using the defaults meanwhile");
    }
    settings
}

/// Resolves `cus_…` or `#1042` (also `1042`) to what to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    Id(String),
    DisplayId(u64),
}

impl CustomerRef {
    /// # Errors
    ///
    /// Neither an id nor a display id.
    pub fn parse(text: &str) -> Result<CustomerRef, CommandError> {
        let text = text.trim();
        // Echoed in errors: never print what a terminal would run.
        let shown = crate::domain::sanitize(text);
        let digits = text.strip_prefix('#').unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return digits
                .parse()
                .map(CustomerRef::DisplayId)
                .map_err(|_| CommandError::Usage(format!("`{shown}` is not a customer number")));
        }
        if text.starts_with("cus_") && text.len() > 4 {
            return Ok(CustomerRef::Id(text.to_owned()));
        }
        Err(CommandError::Usage(format!(
            "`{shown}` is not a customer: give its id (cus_…) or its number (#1042)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_are_named_by_id_or_number() {
        assert_eq!(
            CustomerRef::parse("#1042").unwrap(),
            CustomerRef::DisplayId(1042)
        );
        assert_eq!(
            CustomerRef::parse("1042").unwrap(),
            CustomerRef::DisplayId(1042)
        );
        assert_eq!(
            CustomerRef::parse("cus_01ABC").unwrap(),
            CustomerRef::Id("cus_01ABC".into())
        );
        assert!(CustomerRef::parse("acme").is_err());
        assert!(CustomerRef::parse("#").is_err());
        let echoed = CustomerRef::parse("acme\u{1b}]0;X\u{7}")
            .expect_err("not a customer")
            .to_string();
        assert!(!echoed.contains('\u{1b}'), "{echoed:?}");
    }

    #[test]
    fn a_closed_output_is_told_apart_from_a_failed_one() {
        use std::io::{Error, ErrorKind};
        let closed = CommandError::Output(Error::from(ErrorKind::BrokenPipe));
        assert!(closed.is_closed_output());
        let wrapped = CommandError::Output(Error::other(Error::from(ErrorKind::BrokenPipe)));
        assert!(
            wrapped.is_closed_output(),
            "a closed pipe under another error"
        );
        let full = CommandError::Output(Error::from(ErrorKind::StorageFull));
        assert!(!full.is_closed_output());
        assert!(!CommandError::NoKey.is_closed_output());
    }

    #[test]
    fn exit_codes_follow_the_kind_of_failure() {
        let refused = CommandError::Api(ApiError::Api {
            status: 422,
            kind: "validation_error".into(),
            message: "bad".into(),
            param: Some("domain".into()),
        });
        assert_eq!(refused.exit_code(), exit::REFUSED);
        assert_eq!(refused.to_string(), "Pivotal refused it: domain: bad");
        let down = CommandError::Api(ApiError::Network {
            reason: "connection refused".into(),
        });
        assert_eq!(down.exit_code(), exit::UNREACHABLE);
        let failing = CommandError::Api(ApiError::Api {
            status: 503,
            kind: "unavailable".into(),
            message: "later".into(),
            param: None,
        });
        assert_eq!(failing.exit_code(), exit::UNREACHABLE);
        assert_eq!(CommandError::NoKey.exit_code(), exit::USAGE);
        let forbidden = CommandError::Api(ApiError::Api {
            status: 403,
            kind: "forbidden".into(),
            message: "admins only".into(),
            param: None,
        });
        assert_eq!(forbidden.exit_code(), exit::REFUSED);
        let said = forbidden.to_string();
        assert!(said.starts_with("not allowed"), "{said}");
        assert!(!said.contains("refused the API key"), "{said}");
        assert_eq!(
            CommandError::Duplicate("x".into()).exit_code(),
            exit::DUPLICATE
        );
    }
}
