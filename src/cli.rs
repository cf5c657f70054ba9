//! The command line: flags and subcommands (clap derive). Parsing only; what
//! each command does lives in [`crate::commands`] (and `main.rs` wires it).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The heading the flags every command takes are listed under, after the
/// command's own.
const GLOBAL: &str = "Global options";

#[derive(Debug, Parser)]
#[command(
    name = "pivotal",
    version,
    about = "A fast, keyboard-driven terminal client for Pivotal customers",
    after_help = "Without a subcommand, opens the Customers screen. The API key comes from \
                  PIVOTAL_API_KEY, the system keyring or the credentials file that \
                  `pivotal login` writes.\n\nExit status: 0 ok, 2 usage (no key, bad \
                  arguments), 3 the API refused (4xx), 4 network or server unreachable, 5 a \
                  duplicate refused (--if-no-duplicate)."
)]
pub struct Cli {
    /// Run against a built-in demo account with sample data, new for each
    /// run (no key, no network; changes are not kept).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub demo: bool,
    /// The Pivotal API to use for this run [env: PIVOTAL_API_URL; default: the
    /// settings' api_url, else https://api.pivotal.app]. A run that syncs
    /// remembers it.
    #[arg(long, global = true, value_name = "URL", help_heading = GLOBAL)]
    pub api_url: Option<String>,
    /// Where shared customer links point: `<base>/customers/<display_id>`.
    #[arg(
        long,
        env = "PIVOTAL_SHARE_URL_BASE",
        hide_env_values = true,
        global = true,
        value_name = "URL",
        value_parser = parse_share_url_base,
        help_heading = GLOBAL
    )]
    pub share_url_base: Option<String>,
    /// How much goes to the log file: error, warn, info, debug or trace
    /// [env: PIVOTAL_LOG].
    #[arg(long, global = true, value_name = "LEVEL", help_heading = GLOBAL)]
    pub log_level: Option<String>,
    /// Draw only ASCII (borders, arrows, markers), as on a terminal whose
    /// locale is not UTF-8; the same as `ascii = true` in the settings.
    #[arg(long)]
    pub ascii: bool,
    /// Draw for a screen reader: the cursor on what has focus, words for
    /// what colour shows, nothing animated [env: PIVOTAL_SCREEN_READER=1].
    #[arg(long)]
    pub screen_reader: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, create, show, archive or restore customers.
    #[command(subcommand)]
    Customers(CustomersCommand),
    /// Store an API key (checked with Pivotal first) for this user; with
    /// --api-url, remember that API too.
    Login,
    /// Forget the stored API key.
    Logout,
    /// Show or change the settings file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script.
    Completions {
        /// bash, zsh or fish.
        shell: Shell,
    },
    /// Run the reference Pivotal API server (for demos, tests and benchmarks).
    Serve(ServeArgs),
    /// Measure sync, start-up, scrolling and memory on generated customers.
    Bench(BenchArgs),
}

/// The shells `pivotal completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Subcommand)]
pub enum CustomersCommand {
    /// List customers (sanitised, aligned; --json or --csv for scripts).
    List(ListArgs),
    /// Create a customer, normalised and checked like the app's form.
    Create(CreateArgs),
    /// Show one customer: ID or #DISPLAY_ID.
    Show {
        /// `cus_…` or `#1042`.
        customer: String,
        /// Print the customer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Archive a customer (it can be restored).
    Archive {
        /// `cus_…` or `#1042`.
        customer: String,
    },
    /// Restore an archived customer.
    Restore {
        /// `cus_…` or `#1042`.
        customer: String,
    },
    /// The groups of duplicates, largest first, each with the suggested
    /// keeper and why (groups marked "not a duplicate" are left out).
    /// By default the groups sharing a domain; `--likely` adds the likely
    /// duplicates after them.
    Duplicates {
        /// Print a JSON array (each group's `kind`: `domain` or `name`).
        #[arg(long)]
        json: bool,
        /// Also list likely duplicates: records whose company names match
        /// once case, punctuation, `the` and legal forms (Inc, LLC, GmbH…)
        /// are set aside, and that do not all share one domain.
        #[arg(long)]
        likely: bool,
        /// Also the groups marked "not a duplicate", after the others and
        /// marked as such.
        #[arg(long)]
        include_dismissed: bool,
    },
    /// Mark the group these records share as "not a duplicate", as the
    /// app's `x` does: it leaves `duplicates` and the app's `D` until it
    /// gains a record (`customers duplicates --include-dismissed` lists it).
    Dismiss {
        /// Records of one group: `cus_…` or `#1003`.
        #[arg(required = true)]
        customers: Vec<String>,
    },
    /// The archived customers, from the local cache after a sync, the most
    /// recently archived first; a merged one says which record it went
    /// into.
    Archived {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Merge records into a keeper: its blanks filled from the others,
    /// tags joined, every custom field kept; the others archived.
    Merge {
        /// The record to keep: `cus_…` or `#1003`.
        keeper: String,
        /// The records to merge into it and archive.
        #[arg(required = true)]
        others: Vec<String>,
        /// Take a field from one of the records: `plan=#1036`; repeat.
        #[arg(long = "take", value_name = "FIELD=ID")]
        takes: Vec<String>,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Merge without asking.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print a JSON array.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV with a header row.
    #[arg(long)]
    pub csv: bool,
    /// Only customers whose domain another live customer shares, grouped.
    #[arg(long)]
    pub duplicates: bool,
    /// Only customers you own.
    #[arg(long)]
    pub mine: bool,
    /// The app's `/` filter: text, `~fuzzy` or `#1042`.
    #[arg(long, value_name = "QUERY")]
    pub filter: Option<String>,
    /// Include archived customers.
    #[arg(long)]
    pub include_archived: bool,
    /// Fetch every customer again rather than only what changed since the
    /// last sync.
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The customer's name, as shown everywhere (1–200 characters).
    #[arg(long)]
    pub name: String,
    /// Any spelling: `https://www.Acme.com/pricing` is sent as `acme.com`.
    #[arg(long)]
    pub domain: Option<String>,
    /// A user id, `me` (the default) or an email address.
    #[arg(long, value_name = "ID|me|EMAIL")]
    pub owner: Option<String>,
    /// The plan, free-form (`Growth`, `Enterprise`, …).
    #[arg(long)]
    pub plan: Option<String>,
    /// A tag; repeat for more.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// A custom field; repeat for more.
    #[arg(long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
    /// Refuse (exit 5) when a live customer already has this domain.
    #[arg(long)]
    pub if_no_duplicate: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print where the settings file is.
    Path,
    /// Print the settings in force (never the API key).
    Show,
    /// Change one setting, e.g. `view.sort plan` or `keys.archive A`.
    Set {
        /// `api_url`, `share_url_base`, `refresh_interval_secs`, `theme`,
        /// `view.sort`, `view.sort_reversed`, `view.mine`,
        /// `view.hidden_columns` or `keys.<action>`.
        key: String,
        /// The new value, e.g. `plan`, `true` or `A`.
        value: String,
    },
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// How many customers to generate.
    #[arg(long, default_value_t = 100_000)]
    pub customers: usize,
    /// How many keystrokes to time while scrolling.
    #[arg(long, default_value_t = 2_000)]
    pub keystrokes: usize,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; `:0` or a port of 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:7420", value_parser = parse_addr)]
    pub addr: SocketAddr,
    /// Where the server keeps its database [default: the app's data dir].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The API key clients must send.
    #[arg(long, env = "PIVOTAL_SERVER_API_KEY", default_value = crate::server::DEFAULT_API_KEY, hide_env_values = true)]
    pub api_key: String,
    /// Import customers from a JSON file (API shape) into an empty data dir.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Add N deterministic generated customers to an empty data dir.
    #[arg(long, value_name = "N")]
    pub generate: Option<usize>,
    /// Delay every /v1 request by this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub fault_latency_ms: u64,
    /// Delay each archive request by this many milliseconds more (holds a
    /// merge between its edit and its archives, for tests).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub fault_archive_latency_ms: u64,
    /// Share of /v1 requests answered with a 500 (0.0–1.0).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_rate)]
    pub fault_error_rate: f64,
    /// Share of /v1 requests whose connection is closed without a response.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_rate)]
    pub fault_drop_rate: f64,
    /// Share of /v1 requests answered with a 429 and `Retry-After: 1`.
    #[arg(long = "fault-429-rate", value_name = "P", default_value_t = 0.0, value_parser = parse_rate)]
    pub fault_429_rate: f64,
}

fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let full = if s.starts_with(':') {
        format!("127.0.0.1{s}")
    } else {
        s.to_owned()
    };
    full.parse()
        .map_err(|_| format!("`{s}` is not an address like 127.0.0.1:7420 or :0"))
}

/// A link base is printed and copied: refuse control and escape characters
/// rather than carry them to a terminal.
fn parse_share_url_base(s: &str) -> Result<String, String> {
    if crate::domain::has_forbidden_chars(s) {
        return Err("a link base must not contain control or escape characters".to_owned());
    }
    Ok(s.to_owned())
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{s}` is not a share between 0.0 and 1.0")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn every_flag_and_argument_of_every_command_is_described() {
        use clap::CommandFactory;
        fn check(command: &clap::Command, path: &str) {
            for arg in command.get_arguments() {
                if arg.is_hide_set() {
                    continue;
                }
                assert!(
                    arg.get_help().is_some() || arg.get_long_help().is_some(),
                    "`{path}` has `{}` without a description",
                    arg.get_id()
                );
            }
            for sub in command.get_subcommands() {
                check(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        let mut cli = Cli::command();
        cli.build();
        check(&cli, "pivotal");
    }

    #[test]
    fn a_bare_port_binds_loopback() {
        assert_eq!(parse_addr(":0").unwrap(), "127.0.0.1:0".parse().unwrap());
        assert!(parse_addr("nonsense").is_err());
        assert!(parse_rate("1.5").is_err());
    }

    #[test]
    fn a_share_url_base_with_an_escape_sequence_is_refused() {
        let err = Cli::try_parse_from([
            "pivotal",
            "--share-url-base",
            "https://x\u{1b}]0;X\u{7}",
            "config",
            "path",
        ])
        .expect_err("refused");
        let message = err.to_string();
        assert!(message.contains("control or escape"), "{message}");
        assert!(!message.contains('\u{1b}'), "{message:?}");
        assert!(
            Cli::try_parse_from(["pivotal", "--share-url-base", "https://eu.pivotal.app"]).is_ok()
        );
    }
}
