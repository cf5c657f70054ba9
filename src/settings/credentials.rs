//! Where the API key is kept, in the order it is looked for:
//! `PIVOTAL_API_KEY`, then the OS keyring where there is one (Secret
//! Service on Linux desktops, Keychain, Credential Manager), then a
//! `credentials` file beside the settings that only its owner may read.
//!
//! Over SSH and in CI there is usually no keyring: every keyring failure
//! quietly means "not there" (logged at debug, never printed), and the file
//! is used. A key file that group or others can read is refused with the
//! command that fixes it. The key itself is only ever handled as an
//! [`ApiKey`], which never prints in full.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::api::ApiKey;

/// The keyring entry: service and user name.
const SERVICE: &str = "pivotal-tui";
const ACCOUNT: &str = "api-key";

/// The environment variable that wins over everything stored.
pub const ENV: &str = "PIVOTAL_API_KEY";

/// How long a keyring may take to answer before it counts as absent (a
/// D-Bus address that nothing listens on can otherwise hang).
const KEYRING_TIMEOUT: Duration = Duration::from_secs(3);

/// Where a key came from, or went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    Keyring,
    File(PathBuf),
    /// The built-in demo account's own key (`--demo`).
    Demo,
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => write!(f, "the {ENV} environment variable"),
            KeySource::Keyring => f.write_str("the system keyring"),
            KeySource::File(path) => write!(f, "{}", path.display()),
            KeySource::Demo => f.write_str("the built-in demo account"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "{path} can be read by other users (mode {mode:o}); run `chmod 600 {path}` or `pivotal login` again",
        path = .path.display()
    )]
    Exposed { path: PathBuf, mode: u32 },
    #[error("could not {action} {path}: {source}", path = .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the key in {path} is not usable: {reason}", path = .path.display())]
    Invalid { path: PathBuf, reason: String },
    /// `PIVOTAL_API_KEY` holds something else than a key. Never falls back
    /// to the stored key, which may be another account's. The value is
    /// never shown.
    #[error(
        "{ENV} is set but is not a Pivotal API key (expected pk_live_… or pk_test_…); fix it, or unset it to use the stored key"
    )]
    MalformedEnv,
    /// Something other than a file is where the key file should be (a
    /// FIFO would block every command on reading it).
    #[error("{path} is not a regular file; remove it and run `pivotal login` again", path = .path.display())]
    NotAFile { path: PathBuf },
}

/// The `credentials` file in `config_dir`.
pub fn file_path(config_dir: &Path) -> PathBuf {
    config_dir.join("credentials")
}

/// The key to use and where it came from; `Ok(None)` when there is none.
///
/// # Errors
///
/// A key file readable by others ([`CredentialError::Exposed`]) or one that
/// cannot be read or holds no valid key.
pub async fn find(config_dir: &Path) -> Result<Option<(ApiKey, KeySource)>, CredentialError> {
    if let Some(key) = from_env(std::env::var_os(ENV))? {
        return Ok(Some((key, KeySource::Env)));
    }
    if let Some(secret) = keyring_get().await
        && let Ok(key) = ApiKey::new(secret)
    {
        return Ok(Some((key, KeySource::Keyring)));
    }
    let path = file_path(config_dir);
    read_file(&path).map(|key| key.map(|key| (key, KeySource::File(path))))
}

/// The key in `PIVOTAL_API_KEY`'s value: `None` when unset or blank (as
/// `PIVOTAL_API_KEY= pivotal …` leaves it), trimmed otherwise.
///
/// # Errors
///
/// [`CredentialError::MalformedEnv`] for anything but a Pivotal key.
fn from_env(value: Option<std::ffi::OsString>) -> Result<Option<ApiKey>, CredentialError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let Some(text) = value.to_str() else {
        return Err(CredentialError::MalformedEnv);
    };
    let secret = text.trim();
    if secret.is_empty() {
        return Ok(None);
    }
    if !ApiKey::has_pivotal_format(secret) {
        return Err(CredentialError::MalformedEnv);
    }
    ApiKey::new(secret.to_owned())
        .map(Some)
        .map_err(|_| CredentialError::MalformedEnv)
}

/// Stores `key` in the keyring if there is one, else in the `credentials`
/// file (mode 0600, written atomically). Returns where it went.
///
/// # Errors
///
/// When neither works.
pub async fn store(config_dir: &Path, key: &ApiKey) -> Result<KeySource, CredentialError> {
    if keyring_set(key.expose().to_owned()).await {
        // A stale file would otherwise shadow nothing but confuse `logout`.
        let _ = remove_file(&file_path(config_dir));
        return Ok(KeySource::Keyring);
    }
    let path = file_path(config_dir);
    write_file(&path, key)?;
    Ok(KeySource::File(path))
}

/// Forgets the stored key everywhere it is stored; returns where it was.
///
/// # Errors
///
/// If the file exists but cannot be removed.
pub async fn forget(config_dir: &Path) -> Result<Vec<KeySource>, CredentialError> {
    let mut forgotten = Vec::new();
    if keyring_delete().await {
        forgotten.push(KeySource::Keyring);
    }
    let path = file_path(config_dir);
    if remove_file(&path)? {
        forgotten.push(KeySource::File(path));
    }
    Ok(forgotten)
}

/// Reads the key file: `Ok(None)` when there is none.
///
/// # Errors
///
/// See [`find`].
pub fn read_file(path: &Path) -> Result<Option<ApiKey>, CredentialError> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CredentialError::Io {
                action: "read",
                path: path.to_owned(),
                source,
            });
        }
    };
    // Before opening: opening a FIFO for reading blocks until a writer
    // comes, and reading a device may never end.
    if !metadata.is_file() {
        return Err(CredentialError::NotAFile {
            path: path.to_owned(),
        });
    }
    check_private(path, &metadata)?;
    let text = read_regular(path).map_err(|source| CredentialError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })?;
    let secret = text.trim();
    if secret.is_empty() {
        return Ok(None);
    }
    ApiKey::new(secret.to_owned())
        .map(Some)
        .map_err(|err| CredentialError::Invalid {
            path: path.to_owned(),
            reason: err.to_string(),
        })
}

/// Reads a key file, refusing (after the fact) one that stopped being a
/// regular file between the check and the open; small, so capped.
fn read_regular(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut text = String::new();
    file.take(64 * 1024).read_to_string(&mut text)?;
    Ok(text)
}

#[cfg(unix)]
fn check_private(path: &Path, metadata: &std::fs::Metadata) -> Result<(), CredentialError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CredentialError::Exposed {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path, _: &std::fs::Metadata) -> Result<(), CredentialError> {
    Ok(())
}

/// Writes the key file readable by its owner only, atomically.
fn write_file(path: &Path, key: &ApiKey) -> Result<(), CredentialError> {
    let line = format!("{}\n", key.expose());
    super::write_file(path, line.as_bytes(), true).map_err(|(action, source)| CredentialError::Io {
        action,
        path: path.to_owned(),
        source,
    })
}

/// Removes the key file; whether there was one.
fn remove_file(path: &Path) -> Result<bool, CredentialError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(CredentialError::Io {
            action: "remove",
            path: path.to_owned(),
            source,
        }),
    }
}

/// Runs a keyring call on a blocking thread with a time limit; `None` when
/// the keyring is absent, refuses, or does not answer in time.
async fn with_keyring<T: Send + 'static>(
    call: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
) -> Option<T> {
    if std::env::var_os("PIVOTAL_NO_KEYRING").is_some() {
        return None;
    }
    let task = tokio::task::spawn_blocking(move || {
        let entry = keyring::Entry::new(SERVICE, ACCOUNT)?;
        call(&entry)
    });
    match tokio::time::timeout(KEYRING_TIMEOUT, task).await {
        Ok(Ok(Ok(value))) => Some(value),
        Ok(Ok(Err(keyring::Error::NoEntry))) => None,
        Ok(Ok(Err(err))) => {
            tracing::debug!(error = %err, "no usable keyring; using the credentials file");
            None
        }
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "the keyring call failed");
            None
        }
        Err(_) => {
            tracing::debug!("the keyring did not answer in time");
            None
        }
    }
}

async fn keyring_get() -> Option<String> {
    with_keyring(keyring::Entry::get_password).await
}

async fn keyring_set(secret: String) -> bool {
    with_keyring(move |entry| entry.set_password(&secret))
        .await
        .is_some()
}

async fn keyring_delete() -> bool {
    with_keyring(keyring::Entry::delete_credential)
        .await
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ApiKey {
        ApiKey::new("pk_live_0123456789abcdefc3f1".to_owned()).unwrap()
    }

    #[test]
    fn the_key_file_is_written_for_its_owner_only_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(dir.path());
        write_file(&path, &key()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let read = read_file(&path).unwrap().expect("a key");
        assert_eq!(read.expose(), key().expose());
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(dir.path());
        write_file(&path, &key()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_file(&path).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("chmod 600"), "{message}");
        assert!(message.contains("644"), "{message}");
        assert!(!message.contains("0123456789abcdef"), "the key never shows");
    }

    #[test]
    fn a_malformed_environment_key_is_an_error_that_never_shows_it() {
        let value = |s: &str| Some(std::ffi::OsString::from(s));
        assert!(from_env(None).unwrap().is_none());
        assert!(from_env(value("  ")).unwrap().is_none(), "blank is unset");
        let key = from_env(value(" pk_live_s3cr3t\n"))
            .unwrap()
            .expect("a key");
        assert_eq!(key.expose(), "pk_live_s3cr3t");
        for bad in ["s3cr3t", "pk_s3cr3t", "pk_live_s3cr3t value", "pk_live_"] {
            let err = from_env(value(bad)).unwrap_err();
            assert!(matches!(err, CredentialError::MalformedEnv), "{bad}");
            let message = err.to_string();
            assert!(
                message.starts_with("PIVOTAL_API_KEY is set but"),
                "{message}"
            );
            assert!(!message.contains("s3cr3t"), "{message}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_a_directory_where_the_key_file_should_be_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(dir.path());
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let err = read_file(&path).unwrap_err();
        assert!(matches!(err, CredentialError::NotAFile { .. }), "{err:?}");
        assert!(err.to_string().contains("is not a regular file"), "{err}");
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let err = read_file(&path).unwrap_err();
        assert!(matches!(err, CredentialError::NotAFile { .. }), "{err:?}");
    }

    #[test]
    fn no_file_is_no_key() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_file(&file_path(dir.path())).unwrap().is_none());
    }
}
