//! The demo account behind `--demo`, for the app and every command alike:
//! the reference server seeded with the demo customers, running in this
//! process on a free loopback port, with its data and the client's cache in
//! a new temporary directory that is removed when the run ends. So each run
//! starts from the same account, and nothing a run changes is kept. No key,
//! no network; the user's credentials are never read, and their settings
//! are only read (for the share link base and the app's view).

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::api::ApiKey;
use crate::server::{self, RunningServer, ServerConfig, ServerError};

/// Why the demo account could not be started.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("could not create a temporary directory for the demo: {0}")]
    TempDir(#[source] std::io::Error),
    #[error("could not start the demo server: {0}")]
    Server(#[from] ServerError),
}

/// A running demo account. Call [`shutdown`](Demo::shutdown) when done.
pub struct Demo {
    server: RunningServer,
    /// Removed on drop, after the server has let go of it.
    dir: TempDir,
}

impl Demo {
    /// Starts a fresh demo account.
    ///
    /// # Errors
    ///
    /// No temporary directory, or the server could not start.
    pub async fn start() -> Result<Demo, DemoError> {
        let dir = tempfile::Builder::new()
            .prefix("pivotal-demo-")
            .tempdir()
            .map_err(DemoError::TempDir)?;
        let mut config = ServerConfig::new(dir.path().join("server"));
        config.seed = Some(server::Seed::Embedded(server::DEMO_CUSTOMERS));
        let server = server::start(config).await?;
        Ok(Demo { server, dir })
    }

    /// The demo server's base URL.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The key the demo server accepts.
    pub fn key() -> ApiKey {
        ApiKey::new(server::DEFAULT_API_KEY.to_owned())
            .expect("the built-in demo key is a valid key")
    }

    /// Where the client keeps its data for this run (inside the temporary
    /// directory).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("client")
    }

    /// The temporary directory everything lives in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server, then removes the temporary directory.
    pub async fn shutdown(self) {
        let Demo { server, dir } = self;
        server.shutdown().await;
        drop(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_demo_starts_fresh_and_leaves_nothing_behind() {
        let first = Demo::start().await.expect("started");
        let second = Demo::start().await.expect("started");
        assert_ne!(first.dir(), second.dir(), "a new account each time");
        assert_ne!(first.url(), second.url());
        let dir = first.dir().to_owned();
        assert!(dir.exists());
        first.shutdown().await;
        second.shutdown().await;
        assert!(!dir.exists(), "the temporary directory is removed");
    }
}
