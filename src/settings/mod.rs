//! Settings kept on this machine: the TOML file in the config dir (where it
//! lives, what it holds, how it is read and written) and the API key's
//! storage ([`credentials`]).
//!
//! A file that does not parse is reported with its line and never written
//! over while it is broken; writes are atomic and durable (a temporary
//! file, fsync, rename, fsync of the directory), so a crash leaves the old
//! or the new file. Comments in the file are kept on write. No UI, no
//! network.

pub mod credentials;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml_edit::{DocumentMut, Item, Value, value};

use crate::domain::{Sort, SortColumn};

/// The commented example the file starts from when it is first written.
pub const EXAMPLE: &str = include_str!("../../assets/config.example.toml");

/// The file name, as messages name it.
pub const FILE_NAME: &str = "config.toml";

/// The least `refresh_interval_secs` accepted.
pub const MIN_REFRESH_SECS: u64 = 10;

/// The most `refresh_interval_secs` accepted: once a day. Larger values
/// mean nothing useful, and a huge one once overflowed the engine's clock.
pub const MAX_REFRESH_SECS: u64 = 86_400;

/// What went wrong with the settings file.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file is not valid TOML or has a value of the wrong kind.
    #[error("{FILE_NAME} line {line}: {message}")]
    Parse { line: usize, message: String },
    /// A value parses but means nothing (`theme = "neon"`).
    #[error("{FILE_NAME}: {key}: {message}")]
    Invalid { key: String, message: String },
    #[error("{FILE_NAME} is broken ({0}); fix it before the app can write to it")]
    Broken(String),
    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unknown setting `{0}`; see `pivotal config show` for the keys")]
    UnknownKey(String),
}

/// Colours: `auto` follows `NO_COLOR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeChoice {
    #[default]
    Auto,
    Dark,
    Light,
    Mono,
}

/// The list as the user left it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewSettings {
    /// A [`SortColumn`] name (`name`, `id`, `plan`, …).
    pub sort: Option<String>,
    pub sort_reversed: bool,
    pub mine: bool,
    /// Optional columns left out of the list: `owner`, `plan`, `source`.
    pub hidden_columns: Vec<String>,
}

impl ViewSettings {
    /// The sort these settings name (the default for none).
    pub fn sort(&self) -> Sort {
        Sort {
            column: self
                .sort
                .as_deref()
                .and_then(SortColumn::parse)
                .unwrap_or_default(),
            reversed: self.sort_reversed,
        }
    }

    /// The view with `sort` and `mine` as the app has them now.
    #[must_use]
    pub fn with(&self, sort: Sort, mine: bool) -> ViewSettings {
        ViewSettings {
            sort: Some(sort_name(sort.column).to_owned()),
            sort_reversed: sort.reversed,
            mine,
            hidden_columns: self.hidden_columns.clone(),
        }
    }
}

/// The name a sort column is saved under (`id`, not `#id`).
fn sort_name(column: SortColumn) -> &'static str {
    match column {
        SortColumn::DisplayId => "id",
        other => other.name(),
    }
}

/// Everything the file can say. Missing keys take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub api_url: Option<String>,
    pub share_url_base: Option<String>,
    pub refresh_interval_secs: Option<u64>,
    pub theme: ThemeChoice,
    /// Draw only ASCII, whatever the terminal says it can show.
    pub ascii: bool,
    /// Take the mouse (wheel, clicks); on unless set to false.
    pub mouse: Option<bool>,
    /// Draw for a screen reader: the cursor on what has focus, words
    /// instead of colour and glyphs, nothing animated.
    pub screen_reader: bool,
    pub view: ViewSettings,
    /// Action name → key, e.g. `archive = "z"`.
    pub keys: BTreeMap<String, String>,
}

impl Settings {
    /// Whether the app takes the mouse: yes unless `mouse = false`.
    pub fn mouse(&self) -> bool {
        self.mouse.unwrap_or(true)
    }

    /// Parses the file's text, checking what serde cannot.
    ///
    /// # Errors
    ///
    /// [`SettingsError::Parse`] with the line of the problem, or
    /// [`SettingsError::Invalid`].
    pub fn parse(text: &str) -> Result<Settings, SettingsError> {
        let settings: Settings = toml::from_str(text).map_err(|err| SettingsError::Parse {
            line: err.span().map_or(1, |span| line_of(text, span.start)),
            message: err.span().map_or_else(
                || err.message().trim().to_owned(),
                |span| as_sentence(text, span, err.message().trim()),
            ),
        })?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key: &str, message: String| SettingsError::Invalid {
            key: key.to_owned(),
            message,
        };
        if let Some(secs) = self.refresh_interval_secs
            && !(MIN_REFRESH_SECS..=MAX_REFRESH_SECS).contains(&secs)
        {
            let why = if secs < MIN_REFRESH_SECS {
                "is too often"
            } else {
                "is too long"
            };
            return Err(invalid(
                "refresh_interval_secs",
                format!("{secs} {why}; use {MIN_REFRESH_SECS} to {MAX_REFRESH_SECS} seconds"),
            ));
        }
        if let Some(sort) = &self.view.sort
            && SortColumn::parse(sort).is_none()
        {
            return Err(invalid(
                "view.sort",
                format!(
                    "`{sort}` is not a column (name, id, domain, owner, plan, source, updated)"
                ),
            ));
        }
        for column in &self.view.hidden_columns {
            if !HIDEABLE.contains(&column.as_str()) {
                return Err(invalid(
                    "view.hidden_columns",
                    format!("`{column}` cannot be hidden (only owner, plan, source)"),
                ));
            }
        }
        for (key, url) in [
            ("api_url", &self.api_url),
            ("share_url_base", &self.share_url_base),
        ] {
            if let Some(url) = url
                && url::Url::parse(url).is_err()
            {
                return Err(invalid(key, format!("`{url}` is not a URL")));
            }
        }
        Ok(())
    }
}

/// The columns `hidden_columns` may name.
pub const HIDEABLE: &[&str] = &["owner", "plan", "source", "updated"];

/// A parser's message about the value at `span` of `text` as a sentence
/// that names the setting, the value and what is accepted:
/// `unknown variant `neon`, expected one of `auto`, …` becomes
/// `theme = "neon" is not one of auto, dark, light, mono`, `invalid type:
/// string "yes", expected a boolean` becomes `view.mine = "yes" is not a
/// boolean`, and `unknown field `colour`, …` says it is not a setting.
/// Any other message, or a value not on a `key = value` line, is kept.
fn as_sentence(text: &str, span: std::ops::Range<usize>, message: &str) -> String {
    let quoted = |list: &str| list.replace('`', "");
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once("`, expected one of ")
    {
        return format!(
            "`{field}` is not a setting here; use one of {}",
            quoted(expected)
        );
    }
    let Some(setting) = setting_at(text, span.start) else {
        return message.to_owned();
    };
    let value = text.get(span).unwrap_or_default().trim();
    if let Some(expected) = message
        .strip_prefix("unknown variant `")
        .and_then(|rest| rest.split_once("`, expected one of "))
        .map(|(_, expected)| expected)
    {
        return format!("{setting} = {value} is not one of {}", quoted(expected));
    }
    if let Some((_, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected "))
    {
        return format!("{setting} = {value} is not {expected}");
    }
    message.to_owned()
}

/// The dotted name of the setting whose value starts at byte `offset`
/// (`theme`, `view.sort`), from its `key =` and the `[table]` above it.
fn setting_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let key = before[line_start..].trim().strip_suffix('=')?.trim();
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return None;
    }
    let table = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find_map(|line| line.strip_prefix('[')?.strip_suffix(']'))
        .map(str::trim);
    Some(match table {
        Some(table) if !table.is_empty() => format!("{table}.{key}"),
        _ => key.to_owned(),
    })
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The settings file: where it is, what it said, and whether it may be
/// written.
#[derive(Debug)]
pub struct SettingsFile {
    path: PathBuf,
    settings: Settings,
    /// Why the file could not be used; while set, nothing is written.
    problem: Option<String>,
}

impl SettingsFile {
    /// Reads `path`. A missing file is the defaults; a broken one is the
    /// defaults plus [`problem`](Self::problem).
    pub fn load(path: impl Into<PathBuf>) -> SettingsFile {
        let path = path.into();
        let (settings, problem) = match std::fs::read_to_string(&path) {
            Ok(text) => match Settings::parse(&text) {
                Ok(settings) => (settings, None),
                Err(err) => (Settings::default(), Some(err.to_string())),
            },
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => (Settings::default(), None),
            Err(err) => (
                Settings::default(),
                Some(format!("{FILE_NAME} could not be read: {err}")),
            ),
        };
        SettingsFile {
            path,
            settings,
            problem,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Why the file was not used (`config.toml line 12: …`), if it was not.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// Saves the view as the app has it now.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set).
    pub fn save_view(&mut self, view: &ViewSettings) -> Result<(), SettingsError> {
        if &self.settings.view == view {
            return Ok(());
        }
        self.edit(|doc| {
            let table = doc
                .entry("view")
                .or_insert_with(|| Item::Table(toml_edit::Table::new()));
            let sort = view.sort.clone().unwrap_or_else(|| "name".to_owned());
            table["sort"] = value(sort);
            table["sort_reversed"] = value(view.sort_reversed);
            table["mine"] = value(view.mine);
            let mut hidden = toml_edit::Array::new();
            hidden.extend(view.hidden_columns.iter().cloned());
            table["hidden_columns"] = value(hidden);
        })
    }

    /// Sets one setting from text, as `pivotal config set` does: `api_url`,
    /// `share_url_base`, `refresh_interval_secs`, `theme`, `ascii`, `mouse`,
    /// `screen_reader`,
    /// `view.sort`,
    /// `view.sort_reversed`, `view.mine`, `view.hidden_columns`
    /// (comma-separated) or `keys.<action>`.
    ///
    /// # Errors
    ///
    /// [`SettingsError::UnknownKey`], [`SettingsError::Invalid`] for a value
    /// that does not fit, [`SettingsError::Broken`] while the file is broken,
    /// [`SettingsError::Io`] if it cannot be written.
    pub fn set(&mut self, key: &str, text: &str) -> Result<(), SettingsError> {
        let item: Value = match key {
            "api_url" | "share_url_base" | "theme" | "view.sort" => text.into(),
            "refresh_interval_secs" => {
                let secs: i64 = text.trim().parse().map_err(|_| SettingsError::Invalid {
                    key: key.to_owned(),
                    message: format!("`{text}` is not a number of seconds"),
                })?;
                secs.into()
            }
            "view.sort_reversed" | "view.mine" | "ascii" | "mouse" | "screen_reader" => {
                let on: bool = text.trim().parse().map_err(|_| SettingsError::Invalid {
                    key: key.to_owned(),
                    message: format!("`{text}` is not true or false"),
                })?;
                on.into()
            }
            "view.hidden_columns" => {
                let mut columns = toml_edit::Array::new();
                columns.extend(
                    text.split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned),
                );
                columns.into()
            }
            key if key.starts_with("keys.") && key.len() > 5 => text.into(),
            other => return Err(SettingsError::UnknownKey(other.to_owned())),
        };
        self.edit(|doc| {
            let mut path = key.split('.').peekable();
            let mut table = doc.as_table_mut();
            while let Some(part) = path.next() {
                if path.peek().is_none() {
                    table[part] = Item::Value(item.clone());
                    break;
                }
                table = table
                    .entry(part)
                    .or_insert_with(|| Item::Table(toml_edit::Table::new()))
                    .as_table_mut()
                    .expect("settings sections are tables");
            }
        })
    }

    /// Remembers the API URL a successful run used.
    ///
    /// # Errors
    ///
    /// As [`set`](Self::set).
    pub fn remember_api_url(&mut self, url: &str) -> Result<(), SettingsError> {
        if self.settings.api_url.as_deref() == Some(url) {
            return Ok(());
        }
        self.set("api_url", url)
    }

    /// Applies `change` to the file's document (the example, for a new
    /// file), checks the result parses and validates, and writes it
    /// atomically.
    fn edit(&mut self, change: impl FnOnce(&mut DocumentMut)) -> Result<(), SettingsError> {
        if let Some(problem) = &self.problem {
            return Err(SettingsError::Broken(problem.clone()));
        }
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                // A new file starts as the commented example with every
                // value commented out, so that only what was set is set.
                commented_out(EXAMPLE)
            }
            Err(source) => {
                return Err(SettingsError::Io {
                    action: "read",
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let mut doc: DocumentMut = text
            .parse()
            .map_err(|err: toml_edit::TomlError| SettingsError::Broken(err.to_string()))?;
        change(&mut doc);
        let new_text = doc.to_string();
        let settings = Settings::parse(&new_text)?;
        write_atomically(&self.path, new_text.as_bytes())?;
        self.settings = settings;
        Ok(())
    }
}

/// The example with each `key = value` line turned into a comment, so a new
/// file documents every setting but sets none.
fn commented_out(example: &str) -> String {
    example
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if !trimmed.is_empty() && !trimmed.starts_with('#') && !trimmed.starts_with('[') {
                format!("# {line}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new
/// one: a temporary file in the same directory, fsync, rename, fsync of the
/// directory (the `atomic-write-file` crate). Creates the directory.
///
/// # Errors
///
/// [`SettingsError::Io`] naming the path.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SettingsError> {
    write_file(path, bytes, false).map_err(|(action, source)| SettingsError::Io {
        action,
        path: path.to_owned(),
        source,
    })
}

/// [`write_atomically`], optionally readable by the owner only (mode 0600
/// from before the first byte is written); errors say what failed.
pub(crate) fn write_file(
    path: &Path,
    bytes: &[u8],
    private: bool,
) -> Result<(), (&'static str, std::io::Error)> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| ("create the folder for", e))?;
    }
    let mut file = atomic_write_file::AtomicWriteFile::open(path).map_err(|e| ("open", e))?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| ("protect", e))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    file.write_all(bytes).map_err(|e| ("write", e))?;
    file.commit().map_err(|e| ("save", e))?;
    Ok(())
}

#[cfg(test)]
mod tests;
