//! Shared set-up for integration tests: a real reference server on
//! 127.0.0.1:0 with its own temporary data dir, and clients for it.
//! [`engine`] drives the sync engine against such a server.
#![allow(dead_code)]

pub mod cli;
pub mod engine;
pub mod hostile;
pub mod serve;

use std::time::Duration;

use pivotal_tui::api::{ApiKey, Client, Customer, ListParams, RetryPolicy};
use pivotal_tui::server::{self, Faults, RunningServer, ServerConfig};
use tempfile::TempDir;

pub const KEY: &str = "pk_test_integration_s3cr3t";

/// A running server and the directory that holds its data.
pub struct TestServer {
    pub server: RunningServer,
    pub dir: TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `configure` has adjusted its config.
    pub async fn start_with(configure: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = start_in(&dir, configure).await;
        TestServer { server, dir }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// A client with a quick retry policy suited to tests.
    pub fn client(&self) -> Client {
        client_for(&self.url())
    }

    /// Stops the server and starts a new one on the same data dir.
    pub async fn restart(self, configure: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let TestServer { server, dir } = self;
        server.shutdown().await;
        let server = start_in(&dir, configure).await;
        TestServer { server, dir }
    }
}

async fn start_in(dir: &TempDir, configure: impl FnOnce(&mut ServerConfig)) -> RunningServer {
    let mut config = ServerConfig::new(dir.path());
    config.api_key = KEY.to_owned();
    configure(&mut config);
    server::start(config).await.expect("server starts")
}

pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
    }
}

pub fn client_for(url: &str) -> Client {
    Client::new(url, ApiKey::new(KEY.to_owned()).expect("key"))
        .expect("client")
        .with_retry(fast_retry(6))
}

pub fn faults(error_rate: f64, drop_rate: f64) -> Faults {
    Faults {
        error_rate,
        drop_rate,
        ..Faults::default()
    }
}

/// Every customer, archived ones included, by walking all pages.
pub async fn all_customers(client: &Client) -> Vec<Customer> {
    let mut params = ListParams {
        limit: Some(1000),
        include_archived: true,
        ..ListParams::default()
    };
    let mut all = Vec::new();
    loop {
        let page = client.list_customers(&params).await.expect("list");
        all.extend(page.data);
        match page.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => return all,
        }
    }
}

/// A plain HTTP client for requests the typed client would never send.
pub fn raw() -> reqwest::Client {
    reqwest::Client::new()
}
