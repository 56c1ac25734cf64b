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
use std::time::Duration;

use evident_core::Clock;
use evident_store::keys::LogKey;
use evident_store::{Store, StoreError, StoreOptions};

pub use auth::Secrets;
pub use writer::StartInfo;

/// The largest request body accepted by default: 5 MiB (webhook payloads are mostly a few kB;
/// GitHub caps its own at 25 MB and drops larger ones).
pub const DEFAULT_MAX_BODY: usize = 5 * 1024 * 1024;

/// How long a client has, by default, to send a request's head (line and headers).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client has, by default, to send a request's body once its head arrived.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a graceful stop lets in-flight requests finish, by default.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The longest duration [`parse_duration`] accepts.
pub const MAX_DURATION: Duration = Duration::from_hours(24);

/// How the server runs.
pub struct ServerConfig {
    /// The store directory.
    pub store: PathBuf,
    /// The database of the evidence index (`postgres://…`); `None` for the store's SQLite file.
    pub database_url: Option<String>,
    /// Where the log and the content blobs live (`s3://bucket/prefix`); `None` for the store
    /// directory.
    pub blob_url: Option<String>,
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
    /// A connection that sends no complete request head within this time is closed (an idle
    /// keep-alive connection too).
    pub header_timeout: Duration,
    /// A request whose body has not arrived whole within this time after its head is answered
    /// `408` and nothing of it is stored.
    pub body_timeout: Duration,
    /// How long a graceful stop lets in-flight requests finish before it closes their
    /// connections.
    pub shutdown_grace: Duration,
}

/// Parses a duration of the server's options: numbers with units, `ms`, `s`, `m` or `h`
/// (`500ms`, `10s`, `2m`, `1m30s`), more than zero and at most [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "`{text}` is not a duration: use numbers with units ms, s, m or h, e.g. `500ms`, \
             `10s`, `2m`, `1m30s`"
        )
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, after) = rest.split_at(digits);
        let unit_len = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let (unit, after) = after.split_at(unit_len);
        let n: u64 = number.parse().map_err(|_| bad())?;
        let part = match unit {
            "ms" => Some(Duration::from_millis(n)),
            "s" => Some(Duration::from_secs(n)),
            "m" => n.checked_mul(60).map(Duration::from_secs),
            "h" => n.checked_mul(3_600).map(Duration::from_secs),
            _ => return Err(bad()),
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .filter(|t| *t <= MAX_DURATION)
            .ok_or_else(|| format!("`{text}` is too long: at most 24h"))?;
        rest = after;
    }
    if total.is_zero() {
        return Err(format!(
            "`{text}` is zero: a duration must be more than zero"
        ));
    }
    Ok(total)
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
    limits: Limits,
}

/// The time limits of connections and requests.
#[derive(Debug, Clone, Copy)]
struct Limits {
    header: Duration,
    body: Duration,
    grace: Duration,
}

impl Server {
    /// Opens the store, takes its writer lock and rebuilds the set of seen deliveries.
    /// Blocks (call it before entering the runtime, or from a blocking task).
    pub fn start(config: ServerConfig) -> Result<Self, ServerError> {
        let verifier = config.key.verifier();
        let options = StoreOptions {
            database_url: config.database_url.clone(),
            blob_url: config.blob_url.clone(),
        };
        let (handle, writer, info) =
            writer::start(config.store.clone(), options.clone(), config.key)?;
        // The API reads through a handle of its own, never the writer's.
        let reader = api::Reader::new(Store::open_with(&config.store, &options)?);
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
            limits: Limits {
                header: config.header_timeout,
                body: config.body_timeout,
                grace: config.shutdown_grace,
            },
        })
    }

    /// What the writer found in the store.
    pub fn info(&self) -> StartInfo {
        self.info
    }

    /// Serves on `listener` until `shutdown` completes, then stops accepting, lets in-flight
    /// requests finish for at most the shutdown grace, closes the connections left and stops
    /// the writer (after it has written what was queued).
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        // Token changes are picked up (and recorded) even when no request comes in.
        let watcher = tokio::spawn(api::watch_tokens(self.state.clone()));
        let router = app::router(self.state).layer(axum::middleware::from_fn_with_state(
            self.limits.body,
            app::body_deadline,
        ));
        let served = serve(listener, router, self.limits, shutdown).await;
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

/// Accepts HTTP/1 connections on `listener` until `shutdown` completes; each connection has
/// `limits.header` to send each request head. Then: no more connections, keep-alive ends,
/// in-flight requests get `limits.grace` to finish and whatever is still open is closed
/// (a request cut off is never acknowledged; what it queued is still written). Handlers get
/// the peer address as `ConnectInfo<SocketAddr>`.
async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower_service::Service as _;

    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            // Reaps finished connections as they end.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    eprintln!("evident serve: cannot accept a connection: {e}");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        let Ok(service) = make_service.call(remote).await;
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = stop.wait_for(|stop| *stop) => {}
            }
            // Finish the request in flight, if any, then close.
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    drop(listener);
    stop_tx.send_replace(true);
    let drained = tokio::time::timeout(limits.grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        eprintln!(
            "evident serve: closing {} connection(s) still open after the {:?} grace period",
            connections.len(),
            limits.grace
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// A failure of one incoming connection, not of the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_of_the_options() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_duration("10s"), Ok(ms(10_000)));
        assert_eq!(parse_duration("2m"), Ok(ms(120_000)));
        assert_eq!(parse_duration(" 1h "), Ok(ms(3_600_000)));
        assert_eq!(parse_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_duration("1s500ms"), Ok(ms(1_500)));
        assert_eq!(parse_duration("24h"), Ok(MAX_DURATION));
        for bad in [
            "", "10", "s", "10x", "1.5s", "-1s", "10 s", "1d", "10S", "ms10",
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains("is not a duration"), "{bad}: {e}");
        }
        assert!(parse_duration("0s").unwrap_err().contains("zero"));
        assert!(parse_duration("0ms0s").unwrap_err().contains("zero"));
        assert!(
            parse_duration("24h1ms")
                .unwrap_err()
                .contains("at most 24h")
        );
        assert!(
            parse_duration("99999999999999999999h")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(
            parse_duration("9999999999999999h")
                .unwrap_err()
                .contains("at most")
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(s in "\\PC{0,16}") {
            if let Ok(d) = parse_duration(&s) {
                proptest::prop_assert!(!d.is_zero() && d <= MAX_DURATION);
            }
        }

        #[test]
        fn what_is_written_is_what_is_read(h in 0u64..24, m in 0u64..60, s in 0u64..60, ms in 0u64..1000) {
            proptest::prop_assume!(h + m + s + ms > 0);
            let want = Duration::from_millis(((h * 60 + m) * 60 + s) * 1000 + ms);
            let text = format!("{h}h{m}m{s}s{ms}ms");
            proptest::prop_assert_eq!(parse_duration(&text), Ok(want));
            proptest::prop_assert_eq!(parse_duration(&format!("{}ms", want.as_millis())), Ok(want));
        }
    }
}
