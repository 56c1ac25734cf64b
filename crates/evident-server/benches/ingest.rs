//! Server ingest benchmark: GitHub deliveries per second through the whole server, and their
//! latency, with every delivery durable before its answer.
//!
//! ```text
//! bash bench/serve.sh                       # 50,000 deliveries, 32 connections
//! EVIDENT_BENCH_DELIVERIES=20000 cargo bench -p evident-server --bench ingest
//! ```
//!
//! The server runs **in this process**, as `evident serve` runs it: [`Server::start`] (the real
//! writer thread, the embedded store on disk with its fsyncs) and [`Server::run`] on a tokio
//! multi-thread runtime with the default worker count (one per core), on 127.0.0.1. The load
//! generator shares the machine, and is kept as light as `wrk -t1 -cN`: one thread running one
//! event loop over N keep-alive HTTP/1.1 connections, each sending its next delivery when the
//! answer to the last one has arrived. The deliveries are signed and framed before the clock
//! starts (as a tool replaying recorded requests sends them): the real GitHub push payload
//! `webhooks/github/push/payload.json` (7,324 bytes) from the shared data, each with a unique
//! `X-GitHub-Delivery` and a unique commit written over the payload's own (same length), so every
//! delivery is a new entry with a content blob of its own, as real pushes are. Latency is measured
//! per request by the client, from the first byte written to the last byte of the answer read.
//!
//! Environment (all optional):
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `EVIDENT_BENCH_DELIVERIES` | 50000 | measured deliveries (also the first plain argument) |
//! | `EVIDENT_BENCH_CONNECTIONS` | 32 | concurrent keep-alive connections |
//! | `EVIDENT_BENCH_DATABASE_URL` | none | the index in this PostgreSQL database (a fresh schema, dropped at the end) |
//! | `EVIDENT_BENCH_WARMUP` | 2000 | deliveries sent before measuring (stored too) |
//! | `BENCH_DIR` | the system temp dir | the store is made in a temporary directory under `BENCH_DIR/serve` (use a real disk, not tmpfs) |
//! | `EVIDENT_BENCH_KEEP` | 0 | 1 keeps the store (its path is printed) |
//! | `EVIDENT_BENCH_SAME_BODY` | 0 | 1 sends the same body every time (one shared content blob: shows the blob writes' share) |
//! | `EVIDENT_SHARED_DATA` | `../../../shared/data` from this crate | where the webhook payloads are |

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use evident_core::{Clock as _, SystemClock};
use evident_server::{DEFAULT_MAX_BODY, Secrets, Server, ServerConfig};
use evident_store::Store;
use evident_store::index::Query;
use evident_store::keys::LogKey;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// The allocator of the `evident` binary, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &[u8] = b"evident-bench-webhook-secret";
const PAYLOAD: &str = "webhooks/github/push/payload.json";

const TARGET_PER_SEC: f64 = 5_000.0;
const TARGET_P99_MS: f64 = 25.0;

struct Config {
    deliveries: u64,
    connections: usize,
    warmup: u64,
    dir: PathBuf,
    keep: bool,
    same_body: bool,
    /// `postgres://…` for the index, without a schema (a fresh one is used).
    database_url: Option<String>,
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let value = value.trim().replace(['_', ','], "");
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not `{value}`")),
    )
}

impl Config {
    fn from_env() -> Self {
        // `cargo bench` adds `--bench`; the first plain argument is the delivery count.
        let arg = std::env::args()
            .skip(1)
            .find(|a| !a.starts_with('-'))
            .map(|a| {
                a.replace(['_', ','], "")
                    .parse::<u64>()
                    .unwrap_or_else(|_| panic!("the argument must be a count, not `{a}`"))
            });
        let config = Self {
            deliveries: env_u64("EVIDENT_BENCH_DELIVERIES")
                .or(arg)
                .unwrap_or(50_000),
            connections: env_u64("EVIDENT_BENCH_CONNECTIONS").unwrap_or(32) as usize,
            warmup: env_u64("EVIDENT_BENCH_WARMUP").unwrap_or(2_000),
            dir: std::env::var_os("BENCH_DIR")
                .map_or_else(std::env::temp_dir, PathBuf::from)
                .join("serve"),
            keep: env_u64("EVIDENT_BENCH_KEEP").unwrap_or(0) == 1,
            same_body: env_u64("EVIDENT_BENCH_SAME_BODY").unwrap_or(0) == 1,
            database_url: std::env::var("EVIDENT_BENCH_DATABASE_URL")
                .ok()
                .filter(|u| !u.trim().is_empty()),
        };
        assert!(config.deliveries >= 1, "at least one delivery");
        assert!(config.connections >= 1, "at least one connection");
        config
    }
}

fn shared_data() -> PathBuf {
    std::env::var_os("EVIDENT_SHARED_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    )
}

/// The push payload, and where its commit is written (so each delivery can carry its own).
struct Template {
    body: Vec<u8>,
    /// Offsets of the payload's commit (40 hex), and of its 12-hex abbreviations elsewhere.
    full: Vec<usize>,
    short: Vec<usize>,
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

impl Template {
    fn load() -> Self {
        let path = shared_data().join(PAYLOAD);
        let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json: serde_json::Value = serde_json::from_slice(&body).expect("the payload is JSON");
        // The commit the server takes as the subject: `after`, or `before` for a deleted ref.
        let commit = ["after", "before"]
            .iter()
            .filter_map(|k| json[k].as_str())
            .find(|c| c.len() == 40 && c.bytes().any(|b| b != b'0'))
            .expect("the payload names a commit")
            .to_owned();
        let full = find_all(&body, commit.as_bytes());
        let short = find_all(&body, &commit.as_bytes()[..12]);
        Self { body, full, short }
    }

    /// The payload about commit `i` (same length, still the real document).
    fn body(&self, i: u64, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.body);
        let commit = commit_hex(i);
        for &at in &self.short {
            out[at..at + 12].copy_from_slice(&commit[..12]);
        }
        for &at in &self.full {
            out[at..at + 40].copy_from_slice(&commit);
        }
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A commit id for delivery `i`: 40 hex, unique per `i`.
fn commit_hex(i: u64) -> [u8; 40] {
    let text = format!(
        "{:016x}{:016x}{:08x}",
        splitmix(i),
        splitmix(i ^ 0x5555),
        i as u32
    );
    text.as_bytes().try_into().expect("40 hex digits")
}

/// Delivery `i`'s id, shaped like GitHub's (a UUID).
fn delivery_id(i: u64) -> String {
    let r = splitmix(i.wrapping_mul(7));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (r >> 32) as u32,
        (r >> 16) as u16,
        r & 0xfff,
        (r >> 12) & 0xfff,
        i
    )
}

fn signature(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Every delivery's request, signed and framed before the clock starts, as a load generator
/// replaying recorded requests sends them: the client's share of the two cores is then its
/// socket work only.
fn requests(template: &Template, count: u64, same_body: bool) -> Vec<Vec<u8>> {
    let mut body = Vec::with_capacity(template.body.len());
    (0..count)
        .map(|i| {
            template.body(if same_body { 0 } else { i }, &mut body);
            let mut request = Vec::with_capacity(body.len() + 512);
            write!(
                request,
                "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: GitHub-Hookshot/bench\r\n\
                 Accept: */*\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\n\
                 X-GitHub-Delivery: {}\r\nX-GitHub-Hook-ID: 292430182\r\n\
                 X-Hub-Signature-256: sha256={}\r\nContent-Length: {}\r\n\r\n",
                delivery_id(i),
                signature(&body),
                body.len()
            )
            .expect("writing to a Vec");
            request.extend_from_slice(&body);
            request
        })
        .collect()
}

/// One keep-alive HTTP/1.1 connection of the load generator, driven by its event loop.
struct Client {
    stream: tokio::net::TcpStream,
    /// What has been read of the answer so far.
    answer: Vec<u8>,
}

impl Client {
    async fn open(addr: SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect to the server");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Self {
            stream,
            answer: Vec::with_capacity(1024),
        }
    }

    /// Sends one request and reads its answer: the status and the client-side latency, from the
    /// first byte written to the last byte of the answer read.
    async fn send(&mut self, request: &[u8]) -> (u16, Duration) {
        let started = Instant::now();
        let mut written = 0;
        while written < request.len() {
            self.stream.writable().await.expect("the connection");
            match self.stream.try_write(&request[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("send a delivery: {e}"),
            }
        }
        let status = self.read_answer().await;
        (status, started.elapsed())
    }

    async fn read_answer(&mut self) -> u16 {
        self.answer.clear();
        loop {
            if let Some(head) = self.answer.windows(4).position(|w| w == b"\r\n\r\n") {
                let (status, length) = parse_head(&self.answer[..head]);
                let total = head + 4 + length;
                if self.answer.len() >= total {
                    assert_eq!(self.answer.len(), total, "one answer per request");
                    return status;
                }
            }
            let mut chunk = [0u8; 4096];
            self.stream.readable().await.expect("the connection");
            match self.stream.try_read(&mut chunk) {
                Ok(0) => panic!("the server closed the connection"),
                Ok(n) => self.answer.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("read an answer: {e}"),
            }
        }
    }
}

/// An answer's status and `Content-Length`.
fn parse_head(head: &[u8]) -> (u16, usize) {
    let head = std::str::from_utf8(head).expect("an HTTP head is text");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {status_line:?}"));
    let length = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.trim().parse().expect("a length"));
    (status, length)
}

/// `GET path` on a connection of its own: the body as text.
fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_mins(1)))
        .expect("a read timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .expect("send a request");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the answer");
    let head = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    String::from_utf8_lossy(&answer[head + 4..]).into_owned()
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    accepted: u64,
    /// Answers other than `202` (status, delivery).
    other: Vec<(u16, u64)>,
}

/// Sends the requests `next..end` (shared with the other connections) on `client`.
async fn drive(
    mut client: Client,
    requests: Arc<Vec<Vec<u8>>>,
    next: Arc<AtomicU64>,
    end: u64,
) -> (Client, Tally) {
    let mut tally = Tally::default();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= end {
            return (client, tally);
        }
        let (status, latency) = client.send(&requests[i as usize]).await;
        tally.latencies.push(latency);
        if status == 202 {
            tally.accepted += 1;
        } else {
            tally.other.push((status, i));
        }
    }
}

/// Every connection sends from `next` up to `end`; their clients come back with what they saw.
async fn phase(
    clients: Vec<Client>,
    requests: &Arc<Vec<Vec<u8>>>,
    next: u64,
    end: u64,
) -> (Vec<Client>, Vec<Tally>) {
    let next = Arc::new(AtomicU64::new(next));
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|c| tokio::spawn(drive(c, Arc::clone(requests), Arc::clone(&next), end)))
        .collect();
    let mut clients = Vec::with_capacity(tasks.len());
    let mut tallies = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (client, tally) = task.await.expect("a connection's task");
        clients.push(client);
        tallies.push(tally);
    }
    (clients, tallies)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".to_owned(),
        |t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The mean of the server's own `evident_ingest_duration_seconds{source="github"}`.
fn server_mean_ms(metrics: &str) -> Option<f64> {
    let value = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    let sum = value("evident_ingest_duration_seconds_sum{source=\"github\"}")?;
    let count = value("evident_ingest_duration_seconds_count{source=\"github\"}")?;
    (count > 0.0).then(|| sum / count * 1_000.0)
}

fn main() {
    let config = Config::from_env();
    let template = Arc::new(Template::load());
    std::fs::create_dir_all(&config.dir).expect("create BENCH_DIR/serve");
    let tmp = tempfile::Builder::new()
        .prefix("store-")
        .tempdir_in(&config.dir)
        .expect("a temporary directory");
    let store_dir = tmp.path().join("store");
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let schema = format!("evident_bench_{}", SystemClock.now().as_second());
    let database_url = config.database_url.as_ref().map(|url| {
        format!(
            "{url}{}schema={schema}",
            if url.contains('?') { '&' } else { '?' }
        )
    });

    println!(
        "evident serve ingest benchmark ({})",
        SystemClock.now().round(jiff::Unit::Second).expect("a time")
    );
    println!(
        "machine: {cores} cores, load average {} at the start",
        loadavg()
    );
    println!(
        "server: in-process Server::start + run, tokio multi-thread runtime ({cores} workers), \
         store at {} (the real writer, fsync), index in {}",
        store_dir.display(),
        if database_url.is_some() {
            format!("PostgreSQL (schema {schema}, dropped at the end)")
        } else {
            "SQLite".to_owned()
        }
    );
    println!(
        "load: one client thread (an event loop) over {} keep-alive HTTP/1.1 connections; {} \
         ({} bytes), {}, HMAC-SHA256 signed beforehand; unique delivery ids",
        config.connections,
        PAYLOAD,
        template.body.len(),
        if config.same_body {
            "the same body every time (EVIDENT_BENCH_SAME_BODY=1)"
        } else {
            "a unique commit per delivery"
        }
    );

    // The server.
    let key = LogKey::generate("evident.bench/serve").expect("a key");
    let server = Server::start(ServerConfig {
        store: store_dir.clone(),
        database_url: database_url.clone(),
        blob_url: None,
        key,
        secrets: Secrets {
            github: Some(SECRET.to_vec()),
            ..Secrets::default()
        },
        max_body: DEFAULT_MAX_BODY,
        retain_years: 7,
        clock: Arc::new(SystemClock),
        sod_policy: evident_server::sod::Policy::default(),
        header_timeout: evident_server::DEFAULT_HEADER_TIMEOUT,
        body_timeout: evident_server::DEFAULT_BODY_TIMEOUT,
        write_timeout: evident_server::DEFAULT_WRITE_TIMEOUT,
        shutdown_grace: evident_server::DEFAULT_SHUTDOWN_GRACE,
    })
    .expect("the server starts");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    let addr = listener.local_addr().expect("the address");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("evident-serve")
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("the listener");
            server
                .run(listener, async {
                    let _ = stop_rx.await;
                })
                .await
                .expect("the server runs");
        });
    });

    // The load generator: one thread, one event loop, N connections (as `wrk -t1 -cN`), sending
    // requests built beforehand. Warm-up, then the measured run.
    let end = config.warmup + config.deliveries;
    let requests = Arc::new(requests(&template, end, config.same_body));
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("the client's runtime");
    let (warm_secs, elapsed, tallies) = client_runtime.block_on(async {
        let mut clients = Vec::with_capacity(config.connections);
        for _ in 0..config.connections {
            clients.push(Client::open(addr).await);
        }
        let warm_started = Instant::now();
        let (clients, warm) = phase(clients, &requests, 0, config.warmup).await;
        let started = Instant::now();
        let (_clients, mut tallies) = phase(clients, &requests, config.warmup, end).await;
        let elapsed = started.elapsed();
        for (tally, warm) in tallies.iter_mut().zip(warm) {
            tally.accepted += warm.accepted;
            tally.other.extend(warm.other);
        }
        ((started - warm_started).as_secs_f64(), elapsed, tallies)
    });
    drop(requests);

    let mut latencies: Vec<Duration> = tallies
        .iter()
        .flat_map(|t| t.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    let accepted: u64 = tallies.iter().map(|t| t.accepted).sum();
    let other: Vec<(u16, u64)> = tallies.iter().flat_map(|t| t.other.clone()).collect();
    let rate = config.deliveries as f64 / elapsed.as_secs_f64();
    let (p50, p90, p99) = (
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
    );
    let max = latencies.last().copied().unwrap_or_default();
    let metrics = get(addr, "/metrics");

    println!(
        "warm-up: {} deliveries in {warm_secs:.2} s",
        thousands(config.warmup)
    );
    println!(
        "measured: {} deliveries in {:.2} s = {rate:.0} deliveries/s ({} connections)",
        thousands(config.deliveries),
        elapsed.as_secs_f64(),
        config.connections
    );
    println!(
        "latency per request, client-side: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(p50),
        ms(p90),
        ms(p99),
        ms(max)
    );
    if let Some(mean) = server_mean_ms(&metrics) {
        println!(
            "server-side mean from arrival to durable answer (evident_ingest_duration_seconds): {mean:.2} ms"
        );
    }
    if !other.is_empty() {
        println!(
            "NOT 202: {} answers, e.g. {:?}",
            other.len(),
            &other[..other.len().min(5)]
        );
    }

    // Stop the server (it drains the writer), then count what the store holds.
    let _ = stop_tx.send(());
    server_thread.join().expect("the server thread");
    let store =
        Store::open_with_database(&store_dir, database_url.as_deref()).expect("open the store");
    let size = store
        .checkpoint_unverified()
        .expect("read the checkpoint")
        .map_or(0, |c| c.size);
    let events = store
        .query(&Query {
            kind: Some("event".into()),
            ..Query::default()
        })
        .expect("query the index")
        .len() as u64;
    let ok = events == accepted && size == accepted;
    println!(
        "store: {} entries, {} of kind event; unique deliveries acknowledged (202): {} (warm-up \
         included) — {}",
        thousands(size),
        thousands(events),
        thousands(accepted),
        if ok { "equal" } else { "MISMATCH" }
    );
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    println!(
        "targets: >= {TARGET_PER_SEC:.0} deliveries/s: {}; p99 < {TARGET_P99_MS:.0} ms: {}",
        verdict(rate >= TARGET_PER_SEC),
        verdict(ms(p99) < TARGET_P99_MS)
    );
    println!("load average {} at the end", loadavg());
    if let (Some(url), false) = (&config.database_url, config.keep) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(async {
                let index = evident_store::index_pg::PgIndex::connect(url, Some(&schema))
                    .await
                    .expect("connect to drop the schema");
                index.drop_schema().await.expect("drop the schema");
            });
    }
    if config.keep {
        println!("kept the store: {}", tmp.keep().display());
    }
    assert!(
        ok,
        "the store does not hold exactly the acknowledged deliveries"
    );
    assert!(other.is_empty(), "some deliveries were not accepted");
}
