//! The reference server: a real HTTP implementation of the Pivotal v1
//! contract over durable SQLite storage, used by `pivotal serve`, by
//! `--demo` and by every integration test.
//!
//! It owns routing, validation, storage, seeding and fault injection. It must
//! not depend on the client's retry logic or on anything UI.

mod db;
mod error;
pub mod faults;
mod generate;
mod ids;
pub mod limits;
mod routes;
mod seed;
pub mod team;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::middleware;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

pub use faults::Faults;
pub use routes::API_ROUTES;

use db::Db;
use faults::ConnectionKill;

/// Everything `pivotal serve` can be told.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub api_key: String,
    /// Customers to import into an empty data dir.
    pub seed: Option<Seed>,
    /// How many generated customers to add to an empty data dir.
    pub generate: Option<usize>,
    pub faults: Faults,
    /// How long a client may take to send a request head, and its first
    /// bytes on a new connection, before the connection is closed.
    pub header_timeout: Duration,
}

impl ServerConfig {
    /// A server on a free loopback port with the demo key and no faults.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            api_key: DEFAULT_API_KEY.to_owned(),
            seed: None,
            generate: None,
            faults: Faults::default(),
            header_timeout: limits::HEADER_TIMEOUT,
        }
    }
}

/// Where seed customers come from: a JSON array in the API shape.
#[derive(Debug, Clone)]
pub enum Seed {
    File(PathBuf),
    /// Seed text built into the binary, such as [`DEMO_CUSTOMERS`].
    Embedded(&'static str),
}

/// The demo account: about 60 customers with duplicate-domain pairs and a
/// triple, spelled as CRM imports bring them.
pub const DEMO_CUSTOMERS: &str = include_str!("../../assets/demo-customers.json");

/// The key `pivotal serve` accepts when none is given.
pub const DEFAULT_API_KEY: &str = "pk_test_demo";

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("could not use the data dir {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not open the server's database: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("could not read the seed customers from {origin}: {reason}")]
    Seed { origin: String, reason: String },
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server's start-up task failed")]
    Startup,
}

/// A server running in this process. Dropping it leaves the server running
/// until the runtime ends; call [`RunningServer::shutdown`] to stop it.
pub struct RunningServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL for clients, e.g. `http://127.0.0.1:7420`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, closes every open connection, and waits until the
    /// server has let go of its storage.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Opens the storage, seeds an empty data dir, binds and starts serving.
pub async fn start(config: ServerConfig) -> Result<RunningServer, ServerError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let db = tokio::task::spawn_blocking({
        let config = config.clone();
        move || open_and_seed(&config)
    })
    .await
    .map_err(|_| ServerError::Startup)??;

    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: config.addr,
        source,
    })?;
    let state = routes::AppState {
        db: Arc::new(db),
        api_key: Arc::from(config.api_key.as_str()),
    };
    let app = routes::router(state)
        .layer(middleware::from_fn_with_state(
            Arc::new(config.faults.clone()),
            faults::inject,
        ))
        .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
        .layer(middleware::map_response(limits::json_413))
        .layer(middleware::from_fn(limits::uri_length));
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, app, stopped, config.header_timeout));
    tracing::info!(%addr, data_dir = %config.data_dir.display(), "reference server started");
    Ok(RunningServer { addr, stop, task })
}

fn open_and_seed(config: &ServerConfig) -> Result<Db, ServerError> {
    let db = Db::open(&config.data_dir)?;
    if !db.is_empty()? {
        if config.seed.is_some() || config.generate.is_some() {
            tracing::info!("the data dir already has customers; not seeding");
        }
        return Ok(db);
    }
    if let Some(source) = &config.seed {
        let records = seed::read(source)?;
        let n = db.import(&records)?;
        tracing::info!(customers = n, seed = ?source, "imported seed customers");
    }
    if let Some(count) = config.generate {
        let first = db.next_display_id()?;
        let n = db.import(&generate::customers(count, first))?;
        tracing::info!(customers = n, "generated customers");
    }
    Ok(db)
}

/// Accepts connections until told to stop. Each connection gets its own
/// [`ConnectionKill`], which fault injection uses to drop it mid-request.
async fn accept_loop(
    listener: TcpListener,
    app: axum::Router,
    mut stopped: watch::Receiver<bool>,
    header_timeout: Duration,
) {
    let mut connections = JoinSet::new();
    loop {
        let stream = tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    continue;
                }
            },
            // Reap finished connections so the set does not grow forever.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let kill = ConnectionKill::default();
        let service = app.clone().map_request({
            let kill = kill.clone();
            move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(kill.clone());
                req.map(axum::body::Body::new)
            }
        });
        connections.spawn(async move {
            // hyper-util reads the first bytes (HTTP/1 or an HTTP/2
            // preface?) with no time limit; hyper's header timeout only
            // starts after that.
            if tokio::time::timeout(header_timeout, limits::first_bytes(&stream))
                .await
                .is_err()
            {
                tracing::debug!("connection closed: nothing sent in time");
                return;
            }
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            let mut conn = pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(error = %err, "connection ended with an error");
                    }
                }
                _ = kill.0.notified() => tracing::debug!("connection dropped by fault injection"),
            }
        });
    }
    connections.shutdown().await;
}
