//! The evident server: authenticated, de-duplicated webhook ingestion into the embedded
//! evidence store.
//!
//! - [`auth`]: the webhook secrets and their constant-time checks.
//! - [`platform`]: what a delivery is about (event, action, delivery id, repository, commit).
//! - [`evidence`]: a record and its signed statement, built from a delivery.
//! - [`writer`]: the one writer thread that owns the store's lock, batches appends and
//!   de-duplicates deliveries.
//! - [`tokens`]: API tokens and their roles, kept hashed in `<store>/tokens.json`.
//! - [`api`]: the REST API under `/api/v1`, read through a read-only store handle.
//! - [`metrics`]: the counters of `/metrics`.
//! - [`app`]: the HTTP routes.
//!
//! Every accepted delivery is durable (appended, synced and covered by a signed checkpoint)
//! before its `2xx` is sent; every rejected one is itself recorded as `security` evidence.

pub mod api;
pub mod app;
pub mod auth;
pub mod evidence;
pub mod metrics;
pub mod platform;
pub mod sod;
pub mod tokens;
pub mod trail;
pub mod writer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use evident_core::Clock;
use evident_store::keys::LogKey;
use evident_store::{Store, StoreError};

pub use auth::Secrets;
pub use writer::StartInfo;

/// The largest request body accepted by default: 5 MiB (webhook payloads are mostly a few kB;
/// GitHub caps its own at 25 MB and drops larger ones).
pub const DEFAULT_MAX_BODY: usize = 5 * 1024 * 1024;

/// How the server runs.
pub struct ServerConfig {
    /// The store directory.
    pub store: PathBuf,
    /// The database of the evidence index (`postgres://…`); `None` for the store's SQLite file.
    pub database_url: Option<String>,
    /// The key that signs entries and checkpoints.
    pub key: LogKey,
    /// The webhook secrets.
    pub secrets: Secrets,
    /// The largest accepted request body, in bytes.
    pub max_body: usize,
    /// How many years records are kept.
    pub retain_years: i16,
    /// The time source of every record.
    pub clock: Arc<dyn Clock>,
    /// What the separation-of-duties findings hold changes and deployments to.
    pub sod_policy: sod::Policy,
}

/// Why the server failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The store could not be opened or locked.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The network failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A server whose writer holds the store: ready to serve on a listener.
pub struct Server {
    state: app::AppState,
    writer: JoinHandle<()>,
    info: StartInfo,
}

impl Server {
    /// Opens the store, takes its writer lock and rebuilds the set of seen deliveries.
    /// Blocks (call it before entering the runtime, or from a blocking task).
    pub fn start(config: ServerConfig) -> Result<Self, ServerError> {
        let verifier = config.key.verifier();
        let (handle, writer, info) = writer::start(
            config.store.clone(),
            config.database_url.clone(),
            config.key,
        )?;
        // The API reads through a handle of its own, never the writer's.
        let reader = api::Reader::new(Store::open_with_database(
            &config.store,
            config.database_url.as_deref(),
        )?);
        let state = app::AppState::new(app::StateConfig {
            writer: handle,
            secrets: config.secrets,
            clock: config.clock,
            retain_years: config.retain_years,
            max_body: config.max_body,
            reader,
            verifier,
            store: config.store,
            start_size: info.size,
            sod_policy: config.sod_policy,
        });
        Ok(Self {
            state,
            writer,
            info,
        })
    }

    /// What the writer found in the store.
    pub fn info(&self) -> StartInfo {
        self.info
    }

    /// Serves on `listener` until `shutdown` completes, then lets in-flight requests finish
    /// and stops the writer (after it has written what was queued).
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        // Token changes are picked up (and recorded) even when no request comes in.
        let watcher = tokio::spawn(api::watch_tokens(self.state.clone()));
        let router = app::router(self.state);
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        watcher.abort();
        let _ = watcher.await;
        served?;
        // The router (and with it the last sender) is gone: the writer drains and stops.
        let writer = self.writer;
        tokio::task::spawn_blocking(move || writer.join())
            .await
            .map_err(std::io::Error::other)?
            .map_err(|_| std::io::Error::other("the writer thread panicked"))?;
        Ok(())
    }
}
