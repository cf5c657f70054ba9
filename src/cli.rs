//! The command line: flags and subcommands (clap derive). Parsing only; what
//! each command does lives in `main.rs` and the library.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "pivotal",
    version,
    about = "A fast, keyboard-driven terminal client for Pivotal customers",
    after_help = "Without a subcommand, opens the Customers screen. The API key comes from \
                  the PIVOTAL_API_KEY environment variable."
)]
pub struct Cli {
    /// Run against a built-in demo server with sample data (no key, no network).
    #[arg(long)]
    pub demo: bool,
    /// The Pivotal API to use.
    #[arg(
        long,
        env = "PIVOTAL_API_URL",
        default_value = "https://api.pivotal.app"
    )]
    pub api_url: String,
    /// Where shared customer links point: `<base>/customers/<display_id>`.
    #[arg(
        long,
        env = "PIVOTAL_SHARE_URL_BASE",
        default_value = pivotal_tui::tui::DEFAULT_SHARE_URL_BASE
    )]
    pub share_url_base: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the reference Pivotal API server (for demos, tests and benchmarks).
    Serve(ServeArgs),
    /// Measure sync, start-up, scrolling and memory on generated customers.
    Bench(BenchArgs),
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
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The API key clients must send.
    #[arg(long, env = "PIVOTAL_SERVER_API_KEY", default_value = pivotal_tui::server::DEFAULT_API_KEY, hide_env_values = true)]
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
    fn a_bare_port_binds_loopback() {
        assert_eq!(parse_addr(":0").unwrap(), "127.0.0.1:0".parse().unwrap());
        assert!(parse_addr("nonsense").is_err());
        assert!(parse_rate("1.5").is_err());
    }
}
