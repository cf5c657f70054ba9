//! `pivotal login`, `logout`, `config path|show|set` and `completions`.

use std::io::{BufRead, IsTerminal, Write};

use clap::CommandFactory;

use super::{CommandError, Context, Dirs};
use crate::api::ApiKey;
use crate::cli::{Cli, Shell};
use crate::domain::sanitize;
use crate::settings::credentials::{self, KeySource};
use crate::settings::{SettingsFile, ThemeChoice};
use crate::tui::keymap::Keymap;

/// Asks for the key (no echo on a terminal; one line from stdin
/// otherwise), checks it with `/v1/users/me`, says whose it is and stores
/// it, with the API URL as `api_url`.
///
/// # Errors
///
/// No key typed, a key Pivotal refuses (exit 3), Pivotal unreachable
/// (exit 4), or nowhere to store it.
pub async fn login(ctx: &mut Context, out: &mut impl Write) -> Result<(), CommandError> {
    let secret = read_secret()?;
    let unusable = |err| CommandError::Usage(format!("that is not an API key: {err}"));
    // Two handles on the one secret: the client keeps its own.
    let key = ApiKey::new(secret.clone()).map_err(unusable)?;
    let client = ctx.client(ApiKey::new(secret).map_err(unusable)?)?;
    let me = client.me().await?;
    let stored = credentials::store(&ctx.dirs.config, &key).await?;
    ctx.settings.remember_api_url(&ctx.api_url)?;
    writeln!(
        out,
        "Signed in to {} as {} <{}>. The key ({key}) is kept in {}.",
        ctx.api_url,
        sanitize(&me.name),
        sanitize(&me.email),
        describe(&stored)
    )?;
    if std::env::var_os(credentials::ENV).is_some() {
        writeln!(
            out,
            "Note: PIVOTAL_API_KEY is set in this shell and wins over the stored key."
        )?;
    }
    Ok(())
}

/// Forgets the stored key.
///
/// # Errors
///
/// A key file that cannot be removed.
pub async fn logout(dirs: &Dirs, out: &mut impl Write) -> Result<(), CommandError> {
    let forgotten = credentials::forget(&dirs.config).await?;
    if forgotten.is_empty() {
        writeln!(out, "No API key was stored.")?;
    } else {
        let places: Vec<String> = forgotten.iter().map(describe).collect();
        writeln!(out, "Forgot the API key ({}).", places.join(", "))?;
    }
    if std::env::var_os(credentials::ENV).is_some() {
        writeln!(
            out,
            "PIVOTAL_API_KEY is still set in this shell; unset it to sign out fully."
        )?;
    }
    Ok(())
}

fn describe(source: &KeySource) -> String {
    match source {
        KeySource::File(path) => format!("{} (readable only by you)", path.display()),
        other => other.to_string(),
    }
}

/// The key typed without echo at a terminal, or the first line of stdin.
fn read_secret() -> Result<String, CommandError> {
    let secret = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Pivotal API key (Settings → API keys; not shown): ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line
    };
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        return Err(CommandError::Usage(
            "no key given; paste the key from Pivotal (Settings → API keys)".into(),
        ));
    }
    Ok(secret)
}

/// `config path`.
///
/// # Errors
///
/// Only a failed write.
pub fn config_path(dirs: &Dirs, out: &mut impl Write) -> Result<(), CommandError> {
    writeln!(out, "{}", dirs.settings_file().display())?;
    Ok(())
}

/// `config show`: the settings in force as TOML, with where the URL and
/// the key come from; the key only as its masked form.
///
/// # Errors
///
/// Only a failed write.
pub async fn config_show(ctx: &Context, out: &mut impl Write) -> Result<(), CommandError> {
    let settings = ctx.settings.settings();
    writeln!(out, "# {}", ctx.settings.path().display())?;
    if let Some(problem) = ctx.settings.problem() {
        writeln!(out, "# not used: {problem}")?;
    }
    writeln!(out, "api_url = {:?}", ctx.api_url)?;
    let share = settings
        .share_url_base
        .as_deref()
        .unwrap_or(crate::tui::DEFAULT_SHARE_URL_BASE);
    writeln!(out, "share_url_base = {share:?}")?;
    let refresh = settings.refresh_interval_secs.unwrap_or(60);
    writeln!(out, "refresh_interval_secs = {refresh}")?;
    let theme = match settings.theme {
        ThemeChoice::Auto => "auto",
        ThemeChoice::Dark => "dark",
        ThemeChoice::Light => "light",
        ThemeChoice::Mono => "mono",
    };
    writeln!(out, "theme = {theme:?}")?;
    writeln!(out, "ascii = {}", settings.ascii)?;
    writeln!(out, "mouse = {}", settings.mouse())?;
    writeln!(out, "screen_reader = {}", settings.screen_reader)?;
    writeln!(out, "\n[view]")?;
    let view = &settings.view;
    writeln!(out, "sort = {:?}", view.sort.as_deref().unwrap_or("name"))?;
    writeln!(out, "sort_reversed = {}", view.sort_reversed)?;
    writeln!(out, "mine = {}", view.mine)?;
    writeln!(out, "hidden_columns = {:?}", view.hidden_columns)?;
    writeln!(out, "\n[keys]")?;
    for (action, key) in &settings.keys {
        writeln!(out, "{action} = {key:?}")?;
    }
    let key = match ctx.key().await {
        Ok((key, source)) => format!("{key} (from {})", describe(&source)),
        Err(CommandError::NoKey) => "none; run `pivotal login` or set PIVOTAL_API_KEY".to_owned(),
        Err(err) => format!("unusable: {err}"),
    };
    writeln!(out, "\n# API key: {key}")?;
    Ok(())
}

/// `config set KEY VALUE`.
///
/// # Errors
///
/// An unknown key, a value that does not fit, a broken file.
pub fn config_set(
    settings: &mut SettingsFile,
    key: &str,
    value: &str,
    out: &mut impl Write,
) -> Result<(), CommandError> {
    if let Some(action) = key.strip_prefix("keys.") {
        // Checked as the app will check it, so a conflict is found now.
        let mut keys = settings.settings().keys.clone();
        keys.insert(action.to_owned(), value.to_owned());
        Keymap::with_overrides(&keys).map_err(CommandError::Usage)?;
    }
    settings.set(key, value)?;
    writeln!(out, "{key} = {value:?} in {}", settings.path().display())?;
    Ok(())
}

/// `completions SHELL`. The script is made in memory first:
/// `clap_complete` panics when its writer fails, and a closed pipe
/// (`pivotal completions zsh | head -1`) must end quietly instead.
///
/// # Errors
///
/// Only a failed write.
pub fn completions(shell: Shell, out: &mut impl Write) -> Result<(), CommandError> {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "pivotal", &mut script);
    out.write_all(&script)?;
    out.flush()?;
    Ok(())
}
