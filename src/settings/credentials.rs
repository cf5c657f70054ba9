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
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => write!(f, "the {ENV} environment variable"),
            KeySource::Keyring => f.write_str("the system keyring"),
            KeySource::File(path) => write!(f, "{}", path.display()),
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
    if let Some(secret) = std::env::var(ENV).ok().filter(|k| !k.trim().is_empty())
        && let Ok(key) = ApiKey::new(secret.trim().to_owned())
    {
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
    check_private(path, &metadata)?;
    let text = std::fs::read_to_string(path).map_err(|source| CredentialError::Io {
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
    fn no_file_is_no_key() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_file(&file_path(dir.path())).unwrap().is_none());
    }
}
