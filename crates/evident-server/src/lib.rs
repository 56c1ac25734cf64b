//! The evident server: authenticated, de-duplicated webhook ingestion into the embedded
//! evidence store.
//!
//! - [`auth`]: the webhook secrets and their constant-time checks.
//! - [`platform`]: what a delivery is about (event, action, delivery id, repository, commit).
//! - [`evidence`]: a record and its signed statement, built from a delivery.
//! - [`writer`]: the one writer thread that owns the store's lock, batches appends and
//!   de-duplicates deliveries.
//! - [`tokens`]: API tokens and their roles, kept hashed in `<store>/tokens.json`.
//! - [`api`]: the REST API under `/api/v1`, read through read-only store handles (one of them
//!   for exports alone).
//! - [`metrics`]: the counters of `/metrics`.
//! - [`app`]: the HTTP routes.
//!
//! Every accepted delivery is durable (appended, synced and covered by a signed checkpoint)
//! before its `2xx` is sent; every rejected one is itself recorded as `security` evidence.

/// Writes one line to standard error with one `write`: `eprintln!` writes each piece of its
/// format on its own (a line per delivery was several system calls), and panics when standard
/// error is gone, which must not take a request down with it.
macro_rules! log_line {
    ($($arg:tt)*) => {
        $crate::log::line(::std::format_args!($($arg)*))
    };
}

pub mod api;
pub mod app;
pub mod auth;
pub mod evidence;
mod log;
pub mod metrics;
pub mod picked;
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
/// How long a connection may refuse every byte of an answer, by default.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
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
    /// A connection whose peer accepts not one byte of an answer for this long (it does not
    /// read) is closed.
    pub write_timeout: Duration,
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
    write: Duration,
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
        // The API reads through handles of its own, never the writer's: one for the reads,
        // one for the exports (so that building a package holds up no other read).
        let reader = api::Reader::new(
            Store::open_with(&config.store, &options)?,
            Store::open_with(&config.store, &options)?,
        );
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
                write: config.write_timeout,
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
/// `limits.header` to send each request head, and is closed when its peer accepts no byte of
/// an answer for `limits.write` ([`WriteTimeout`]). Then: no more connections, keep-alive ends,
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
                    log_line!("evident serve: cannot accept a connection: {e}");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        let Ok(service) = make_service.call(remote).await;
        let connection = http.serve_connection(
            TokioIo::new(WriteTimeout::new(stream, limits.write)),
            TowerToHyperService::new(service),
        );
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                ended = connection.as_mut() => return report_write_timeout(remote, ended),
                _ = stop.wait_for(|stop| *stop) => {}
            }
            // Finish the request in flight, if any, then close.
            connection.as_mut().graceful_shutdown();
            report_write_timeout(remote, connection.await);
        });
    }
    drop(listener);
    stop_tx.send_replace(true);
    let drained = tokio::time::timeout(limits.grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        log_line!(
            "evident serve: closing {} connection(s) still open after the {:?} grace period",
            connections.len(),
            limits.grace
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Says so when a connection ended because its peer stopped accepting its answer (other ends
/// of connections are routine: closed by the client, timed out in a request head).
fn report_write_timeout(remote: SocketAddr, ended: Result<(), hyper::Error>) {
    let Err(e) = ended else { return };
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            log_line!("evident serve: closed the connection of {remote}: {io}");
            return;
        }
        source = cause.source();
    }
}

/// A connection's stream whose writes give up when the peer accepts nothing: a write that
/// stays pending for `timeout` (no byte taken in that time) fails with
/// [`std::io::ErrorKind::TimedOut`], which ends the connection. Every byte taken starts the
/// time again, so a slow reader is served as long as it reads; reads are not timed here.
struct WriteTimeout<S> {
    inner: S,
    timeout: Duration,
    /// When the pending write gives up; armed only while a write is pending.
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    armed: bool,
}

impl<S> WriteTimeout<S> {
    /// `inner` with writes timed by `timeout` (inside a Tokio runtime with its timer).
    fn new(inner: S, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            armed: false,
        }
    }

    /// What a write of the inner stream that returned `polled` returns: the same when it made
    /// progress or failed (and the time starts again), pending until the deadline (armed at
    /// the first pending write) and then an error.
    fn timed<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        polled: std::task::Poll<std::io::Result<T>>,
    ) -> std::task::Poll<std::io::Result<T>> {
        use std::task::Poll;
        if polled.is_ready() {
            self.armed = false;
            return polled;
        }
        if !self.armed {
            self.armed = true;
            let at = tokio::time::Instant::now() + self.timeout;
            self.deadline.as_mut().reset(at);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                self.armed = false;
                Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "it accepted no byte of the answer for {:?} (--write-timeout)",
                        self.timeout
                    ),
                )))
            }
        }
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WriteTimeout<S> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for WriteTimeout<S> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = std::pin::Pin::new(&mut this.inner).poll_write(cx, buf);
        this.timed(cx, polled)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = std::pin::Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.timed(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let polled = std::pin::Pin::new(&mut this.inner).poll_flush(cx);
        this.timed(cx, polled)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let polled = std::pin::Pin::new(&mut this.inner).poll_shutdown(cx);
        this.timed(cx, polled)
    }
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

    /// A peer that reads nothing: the write gives up after the timeout, not before.
    #[tokio::test(start_paused = true)]
    async fn a_write_the_peer_takes_nothing_of_times_out() {
        use tokio::io::AsyncWriteExt as _;
        let (server, _peer) = tokio::io::duplex(64);
        let mut server = WriteTimeout::new(server, Duration::from_secs(1));
        let started = tokio::time::Instant::now();
        // Bounded by the test too, so that a wrapper that never gives up fails it.
        let e = tokio::time::timeout(Duration::from_hours(1), server.write_all(&[b'x'; 1024]))
            .await
            .expect("the write gave up by itself")
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
        assert!(e.to_string().contains("1s"), "{e}");
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }

    /// A peer that reads slowly but keeps reading: every byte taken starts the time again, so
    /// the whole answer goes through although it takes many timeouts' time.
    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_is_served_as_long_as_it_reads() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let (server, mut peer) = tokio::io::duplex(64);
        let mut server = WriteTimeout::new(server, Duration::from_secs(1));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut chunk = [0; 64];
            loop {
                tokio::time::sleep(Duration::from_millis(900)).await;
                match peer.read(&mut chunk).await.unwrap() {
                    0 => return got,
                    n => got.extend_from_slice(&chunk[..n]),
                }
            }
        });
        let started = tokio::time::Instant::now();
        let answer: Vec<u8> = (0..1024u32).map(|i| (i % 251) as u8).collect();
        server.write_all(&answer).await.unwrap();
        server.shutdown().await.unwrap();
        assert!(
            started.elapsed() > Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(reader.await.unwrap(), answer);
    }

    /// Nothing to send, nothing timed: an idle connection is the header timeout's business,
    /// and reads go through untouched.
    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_is_not_timed_and_reads_pass_through() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let (server, mut peer) = tokio::io::duplex(64);
        let mut server = WriteTimeout::new(server, Duration::from_secs(1));
        tokio::time::sleep(Duration::from_hours(1)).await;
        peer.write_all(b"GET /healthz").await.unwrap();
        let mut head = [0; 12];
        server.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"GET /healthz");
        server.write_all(b"200").await.unwrap();
        let mut answer = [0; 3];
        peer.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"200");
        // A stall after progress still times out.
        let e = tokio::time::timeout(Duration::from_hours(1), server.write_all(&[0; 1024]))
            .await
            .expect("the write gave up by itself")
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
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
