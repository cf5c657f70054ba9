//! Where an account's store file lives: one file per (API URL, API key).
//!
//! Owns the file naming. The key is only ever hashed here; it must never be
//! stored, logged or put in a path in clear.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::api::ApiKey;

/// How many bytes of the SHA-256 name the file (32 hex characters).
const NAME_BYTES: usize = 16;

/// The store file of one account:
/// `data_dir/accounts/<hex of the first 16 bytes of SHA-256(url + "\n" + key)>.sqlite3`,
/// with `api_url` taken without trailing slashes.
///
/// The same URL and key always give the same file; another URL or another key
/// gives another file, so two accounts never share a cache.
pub fn account_file(data_dir: &Path, api_url: &str, key: &ApiKey) -> PathBuf {
    let mut hasher = Sha256::new();
    hasher.update(api_url.trim_end_matches('/'));
    hasher.update(b"\n");
    hasher.update(key.expose());
    let digest = hasher.finalize();
    let name: String = digest[..NAME_BYTES]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    data_dir.join("accounts").join(format!("{name}.sqlite3"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://api.pivotal.app";
    const SECRET: &str = "pk_live_s3cr3tvalue";

    fn key(secret: &str) -> ApiKey {
        ApiKey::new(secret.to_owned()).expect("valid key")
    }

    fn file(url: &str, secret: &str) -> PathBuf {
        account_file(Path::new("/data"), url, &key(secret))
    }

    #[test]
    fn the_same_url_and_key_always_give_the_same_file_under_accounts() {
        let path = file(URL, SECRET);
        assert_eq!(path, file(URL, SECRET));
        assert_eq!(path.parent(), Some(Path::new("/data/accounts")));
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        let stem = name.strip_suffix(".sqlite3").expect("extension");
        assert_eq!(stem.len(), 2 * NAME_BYTES);
        assert!(stem.bytes().all(|b| b.is_ascii_hexdigit()), "{stem}");
    }

    #[test]
    fn another_url_or_another_key_gives_another_file() {
        let path = file(URL, SECRET);
        assert_ne!(path, file("http://127.0.0.1:8080", SECRET));
        assert_ne!(path, file(URL, "pk_live_other"));
    }

    #[test]
    fn a_trailing_slash_in_the_url_does_not_change_the_file() {
        assert_eq!(file(URL, SECRET), file("https://api.pivotal.app/", SECRET));
    }

    #[test]
    fn the_path_never_contains_the_key() {
        let shown = file(URL, SECRET).display().to_string();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(!shown.contains("pk_live"), "{shown}");
    }
}
