//! Ledger benchmark: durable appends, `verify()`, inclusion proofs and the store's size on disk.
//!
//! ```text
//! cargo bench -p evident-store --bench ledger             # N = 1,000,000 entries
//! cargo bench -p evident-store --bench ledger -- 20000    # N = 20,000
//! EVIDENT_BENCH_ENTRIES=20000 cargo bench -p evident-store --bench ledger
//! ```
//!
//! Environment (all optional):
//!
//! | variable | default | meaning |
//! | --- | --- | --- |
//! | `EVIDENT_BENCH_ENTRIES` | 1000000 | N, the entries of the big store (also the first plain argument) |
//! | `EVIDENT_BENCH_BATCH` | 1000 | entries per durable batch in the batched run |
//! | `EVIDENT_BENCH_SINGLE` | 500 | one-entry appends in the single run |
//! | `EVIDENT_BENCH_BLOB_EVERY` | 100 | every k-th entry carries a ~1 KB content blob (0: none) |
//! | `EVIDENT_BENCH_DIR` | the system temp dir | where the stores are made (use a real disk, not tmpfs) |
//! | `EVIDENT_BENCH_KEEP` | 0 | 1 keeps the stores (their path is printed) |
//! | `EVIDENT_BENCH_PHASES` | 1 | 0 skips the phase breakdowns of `verify()` and of a batch |
//! | `EVIDENT_BENCH_VERIFY_TIMEOUT` | 600 | seconds to wait for `verify()` before reporting it as missed |
//!
//! `verify()` runs last, in a thread of its own, so that a run past the time limit can be
//! reported (and abandoned) without disturbing the other measurements.
//!
//! Every entry is a realistic approval record, as `evident record --kind approval` makes it: an
//! [`EvidenceRecord`] and an in-toto statement with the approval predicate (actor, time,
//! environment, change, reason, ticket, labels), plus an optional JSON content blob.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use evident_ledger::entry_view::EntryView;
use evident_ledger::merkle::{self, MemoryTree, NodeSource};
use evident_ledger::note::Verifier;
use evident_ledger::record::{self, BlobRef, EvidenceKind, EvidenceRecord, LogEntry};
use evident_ledger::statement::{ResourceDescriptor, Statement, predicate_type};
use evident_ledger::tlog_proof::TlogProof;
use evident_ledger::{batch, dsse};
use evident_store::blob::sha256_hex;
use evident_store::index::{Index, IndexRow, SqliteIndex};
use evident_store::keys::LogKey;
use evident_store::tiles::{TILE_HEIGHT, TILE_WIDTH, tile_width};
use evident_store::verify::{VerifyReport, verify};
use evident_store::{NewEvidence, Prepared, Store, timefmt};
use jiff::Timestamp;
use rayon::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The allocator of the `evident` binary, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The log's origin (and key name).
const ORIGIN: &str = "evident.example.com/bench";
/// 2026-09-21T…: a fixed clock, so runs are reproducible.
const BASE_TIME: i64 = 1_790_000_000;

const TARGET_APPENDS_PER_SEC: f64 = 20_000.0;
const TARGET_VERIFY_SECS_PER_MILLION: f64 = 10.0;
const TARGET_INCLUSION_US: f64 = 50.0;

struct Config {
    entries: u64,
    batch: u64,
    single: u64,
    blob_every: u64,
    dir: Option<PathBuf>,
    keep: bool,
    phases: bool,
    verify_timeout: Duration,
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
        // `cargo bench` adds `--bench`; the first plain argument is N.
        let arg = std::env::args()
            .skip(1)
            .find(|a| !a.starts_with('-'))
            .map(|a| {
                a.replace(['_', ','], "")
                    .parse::<u64>()
                    .unwrap_or_else(|_| panic!("the argument must be N (entries), not `{a}`"))
            });
        let config = Self {
            entries: env_u64("EVIDENT_BENCH_ENTRIES")
                .or(arg)
                .unwrap_or(1_000_000),
            batch: env_u64("EVIDENT_BENCH_BATCH").unwrap_or(1_000),
            single: env_u64("EVIDENT_BENCH_SINGLE").unwrap_or(500),
            blob_every: env_u64("EVIDENT_BENCH_BLOB_EVERY").unwrap_or(100),
            dir: std::env::var_os("EVIDENT_BENCH_DIR").map(PathBuf::from),
            keep: env_u64("EVIDENT_BENCH_KEEP").unwrap_or(0) == 1,
            phases: env_u64("EVIDENT_BENCH_PHASES").unwrap_or(1) == 1,
            verify_timeout: Duration::from_secs(
                env_u64("EVIDENT_BENCH_VERIFY_TIMEOUT").unwrap_or(600),
            ),
        };
        assert!(config.entries >= 2, "N must be at least 2");
        assert!(config.batch >= 1, "EVIDENT_BENCH_BATCH must be at least 1");
        config
    }
}

// ------------------------------------------------------------------------------------------
// The evidence

const ACTORS: [&str; 5] = [
    "github:alice",
    "github:bob",
    "github:carol",
    "gitlab:dmitri",
    "github:erin",
];

/// A realistic approval record (what `evident record --kind approval --reason … --ticket …
/// --label environment=production --label repository=acme/payments` builds), every
/// `blob_every`-th one with the exported review as a JSON content blob.
fn approval(i: u64, blob_every: u64) -> NewEvidence {
    let commit = hex::encode(&Sha256::digest(i.to_le_bytes())[..20]);
    let subject = format!("git:{commit}");
    let actor = ACTORS[(i % ACTORS.len() as u64) as usize].to_owned();
    let now = Timestamp::from_second(BASE_TIME + i64::try_from(i / 4).expect("a small index"))
        .expect("a valid time");
    let retain_until = timefmt::add_years(now, 7).expect("a valid time");
    let pr = 1_000 + i / 3;
    let labels = BTreeMap::from([
        ("environment".to_owned(), "production".to_owned()),
        ("repository".to_owned(), "acme/payments".to_owned()),
    ]);
    let mut predicate = serde_json::Map::new();
    predicate.insert("actor".into(), json!(actor));
    predicate.insert("time".into(), json!(timefmt::format(now)));
    predicate.insert("environment".into(), json!("production"));
    predicate.insert(
        "change".into(),
        json!(format!("https://github.com/acme/payments/pull/{pr}")),
    );
    predicate.insert(
        "reason".into(),
        json!("reviewed the diff, the test results and the rollout plan; approved for release"),
    );
    predicate.insert("ticket".into(), json!(format!("CHG-{}", 40_000 + i / 3)));
    for (k, v) in &labels {
        predicate.entry(k.clone()).or_insert_with(|| json!(v));
    }
    let mut content = Vec::new();
    if blob_every > 0 && i.is_multiple_of(blob_every) {
        let review = json!({
            "pull_request": format!("https://github.com/acme/payments/pull/{pr}"),
            "commit": commit,
            "state": "APPROVED",
            "reviewer": actor,
            "submitted_at": timefmt::format(now),
            "body": "LGTM. Checked the migration is reversible and the feature flag defaults to off. \
                     The canary dashboards are linked in the ticket; rollback is `evident`-recorded.",
            "checks": [
                {"name": "build", "conclusion": "success"},
                {"name": "test", "conclusion": "success"},
                {"name": "evident-gate", "conclusion": "success"},
                {"name": "secret-scan", "conclusion": "success"},
            ],
            "files_changed": 14, "additions": 412, "deletions": 96,
        });
        let bytes = serde_json::to_vec_pretty(&review).expect("JSON");
        let sha = sha256_hex(&bytes);
        let blob = BlobRef {
            sha256: sha.clone(),
            size: bytes.len() as u64,
            media_type: "application/json".into(),
            name: Some("review.json".into()),
        };
        predicate.insert(
            "content".into(),
            json!([{ "digest": { "sha256": sha }, "mediaType": blob.media_type, "name": "review.json" }]),
        );
        content.push((blob, bytes));
    }
    let statement = Statement::new(
        vec![ResourceDescriptor {
            name: Some(subject.clone()),
            digest: BTreeMap::from([("gitCommit".to_owned(), commit)]),
            ..ResourceDescriptor::default()
        }],
        predicate_type::EVIDENT_APPROVAL_V1,
        Value::Object(predicate),
    );
    statement.validate().expect("a valid statement");
    NewEvidence {
        record: EvidenceRecord {
            kind: EvidenceKind::Approval,
            subject,
            controls: vec!["iso27001:A.8.32".into(), "soc2:CC8.1".into()],
            actor,
            recorded_at: timefmt::format(now),
            retain_until: timefmt::format(retain_until),
            predicate_type: predicate_type::EVIDENT_APPROVAL_V1.into(),
            blobs: Vec::new(),
            labels,
        },
        statement,
        content,
    }
}

// ------------------------------------------------------------------------------------------
// Output helpers

/// `writeln!` into a `String`, which cannot fail.
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
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

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

fn progress(text: &str) {
    eprintln!("  .. {text}");
}

/// Peak and current resident memory of this process (from /proc; zero elsewhere).
fn rss_mb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The 1, 5 and 15 minute load averages (other work on the machine skews the figures).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".into(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// Times `f` over `iters` iterations; returns microseconds per iteration.
fn per_iter_us(iters: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    secs(start.elapsed()) * 1e6 / f64::from(iters)
}

// ------------------------------------------------------------------------------------------
// 1 and 2. Appends

struct SingleFigures {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn bench_single(root: &Path, key: &LogKey, count: u64, blob_every: u64) -> SingleFigures {
    let store = Store::open(root).expect("open the store");
    let mut writer = store.writer(key).expect("a writer");
    let items: Vec<NewEvidence> = (0..count).map(|i| approval(i, blob_every)).collect();
    let mut latencies = Vec::with_capacity(items.len());
    let start = Instant::now();
    for item in items {
        let t = Instant::now();
        writer.append(vec![item]).expect("append");
        latencies.push(t.elapsed());
    }
    let total = start.elapsed();
    assert_eq!(writer.size(), count);
    latencies.sort();
    let pick = |q: f64| secs(latencies[((latencies.len() - 1) as f64 * q).round() as usize]) * 1e3;
    SingleFigures {
        per_sec: count as f64 / secs(total),
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        max_ms: pick(1.0),
    }
}

struct BatchFigures {
    append: Duration,
    build: Duration,
    slowest_batch: Duration,
    writer_open: Duration,
}

/// `entries` entries appended in batches of `config.batch`, each batch durable before the next.
/// Serially, each batch is built, signed and appended in turn; with `pipelined`, as `evident
/// serve` appends, a second thread builds and prepares (checks, signs, encodes) batch k+1 while
/// batch k is written and synced, and the measured time includes the building.
fn bench_batched(
    root: &Path,
    key: &LogKey,
    config: &Config,
    entries: u64,
    pipelined: bool,
) -> BatchFigures {
    let store = Store::open(root).expect("open the store");
    let t = Instant::now();
    let mut writer = store.writer(key).expect("a writer");
    let writer_open = t.elapsed();
    let (mut append, mut build, mut slowest_batch) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let make = |from: u64| -> Vec<NewEvidence> {
        let end = (from + config.batch).min(entries);
        (from..end)
            .into_par_iter()
            .map(|i| approval(i, config.blob_every))
            .collect()
    };
    let mut reported = 0u64;
    let mut report = |done: u64, elapsed: Duration| {
        if done * 10 / entries > reported {
            reported = done * 10 / entries;
            progress(&format!(
                "appended {} entries in {:.1} s ({:.0}/s so far)",
                thousands(done),
                secs(elapsed),
                done as f64 / secs(elapsed)
            ));
        }
    };
    if pipelined {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Prepared>>(1);
        let start = Instant::now();
        std::thread::scope(|scope| {
            let store = &store;
            let make = &make;
            scope.spawn(move || {
                let mut next = 0u64;
                while next < entries {
                    let batch = make(next);
                    next += batch.len() as u64;
                    let prepared = store.prepare(key, batch).expect("prepare");
                    if tx.send(prepared).is_err() {
                        return;
                    }
                }
            });
            for prepared in rx {
                let t = Instant::now();
                writer.append_prepared(prepared).expect("append");
                slowest_batch = slowest_batch.max(t.elapsed());
                report(writer.size(), start.elapsed());
            }
        });
        append = start.elapsed();
    } else {
        let mut next = 0u64;
        while next < entries {
            let t = Instant::now();
            let batch = make(next);
            build += t.elapsed();
            let t = Instant::now();
            let seqs = writer.append(batch).expect("append");
            let took = t.elapsed();
            append += took;
            slowest_batch = slowest_batch.max(took);
            assert_eq!(seqs.first().copied(), Some(next));
            next += seqs.len() as u64;
            report(next, append);
        }
    }
    assert_eq!(writer.size(), entries);
    BatchFigures {
        append,
        build,
        slowest_batch,
        writer_open,
    }
}

/// Where the time of one durable batch goes, measured piece by piece outside the store.
fn batch_breakdown(out: &mut String, scratch: &Path, key: &LogKey, batch: u64, blob_every: u64) {
    let n = batch.max(1);
    let items: Vec<NewEvidence> = (0..n).map(|i| approval(i, blob_every)).collect();
    let t = Instant::now();
    let payloads: Vec<Vec<u8>> = items
        .iter()
        .map(|e| e.statement.to_payload().expect("payload"))
        .collect();
    let jcs_statement = t.elapsed();
    let keyid = dsse::ed25519_keyid(&key.dsse_key().verifying_key());
    let t = Instant::now();
    let envelopes: Vec<dsse::Envelope> = payloads
        .iter()
        .map(|p| dsse::Envelope::sign(dsse::PAYLOAD_TYPE_IN_TOTO, p, key.dsse_key(), keyid.clone()))
        .collect();
    let sign = t.elapsed();
    let entries: Vec<LogEntry> = items
        .iter()
        .zip(envelopes)
        .map(|(item, envelope)| LogEntry {
            v: record::ENTRY_VERSION,
            record: item.record.clone(),
            envelope,
        })
        .collect();
    let t = Instant::now();
    let bytes: Vec<Vec<u8>> = entries
        .iter()
        .map(|e| e.to_bytes().expect("entry bytes"))
        .collect();
    let jcs_entry = t.elapsed();
    let t = Instant::now();
    let leaves: Vec<_> = bytes.iter().map(|b| merkle::leaf_hash(b)).collect();
    let mut frontier = merkle::Frontier::new();
    for leaf in &leaves {
        frontier.push(*leaf).expect("push");
    }
    black_box(frontier.root());
    let hashing = t.elapsed();
    let t = Instant::now();
    for e in &entries {
        timefmt::parse(&e.record.recorded_at).expect("time");
        timefmt::parse(&e.record.retain_until).expect("time");
    }
    let times = t.elapsed();

    // The durable writes of one batch: one atomic write (write, fsync, rename) per bundle and
    // tile, a directory fsync per touched directory, the checkpoint (write, fsync, rename,
    // directory fsync).
    let bundle_bytes: usize =
        bytes.iter().map(|b| b.len() + 2).sum::<usize>() / n as usize * TILE_WIDTH as usize;
    let dir = scratch.join("fsync");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let atomic = |name: &str, size: usize| {
        let tmp = dir.join(format!(".{name}.tmp"));
        let mut f = std::fs::File::create(&tmp).expect("create");
        f.write_all(&vec![7u8; size]).expect("write");
        f.sync_all().expect("fsync");
        std::fs::rename(&tmp, dir.join(name)).expect("rename");
    };
    let rounds = 20u32;
    let bundle_write_ms = per_iter_us(rounds, || atomic("bundle", bundle_bytes)) / 1e3;
    let tile_write_ms = per_iter_us(rounds, || atomic("tile", 8192)) / 1e3;
    let dir_sync_ms = per_iter_us(rounds, || {
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .expect("dir fsync");
    }) / 1e3;
    let blob_write_ms = per_iter_us(rounds, || atomic("blob", 1_000)) / 1e3;

    // The index insert of one batch into a fresh index.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rows: Vec<IndexRow> = entries
        .iter()
        .zip(&leaves)
        .enumerate()
        .map(|(seq, (e, leaf))| IndexRow {
            seq: seq as u64,
            kind: e.record.kind.as_str().to_owned(),
            subject: e.record.subject.clone(),
            predicate_type: e.record.predicate_type.clone(),
            actor: e.record.actor.clone(),
            recorded_at: BASE_TIME,
            retain_until: BASE_TIME,
            controls: e.record.controls.clone(),
            leaf_hash: hex::encode(leaf),
        })
        .collect();
    let index_insert = rt.block_on(async {
        let index = SqliteIndex::open(&scratch.join("index.sqlite"))
            .await
            .expect("index");
        let t = Instant::now();
        index.insert(&rows).await.expect("insert");
        let took = t.elapsed();
        index.close().await;
        took
    });

    let n_f = n as f64;
    let bundles = n.div_ceil(TILE_WIDTH) + 1;
    let blobs = if blob_every == 0 {
        0
    } else {
        n.div_ceil(blob_every)
    };
    outln!(
        out,
        "  one batch of {} entries, piece by piece (CPU parts single-threaded):",
        thousands(n)
    );
    let mut row = |what: &str, total_ms: f64, note: &str| {
        outln!(
            out,
            "    {what:<40} {total_ms:>8.1} ms  {:>7.1} µs/entry  {note}",
            total_ms * 1e3 / n_f
        );
    };
    row(
        "statement → JCS payload",
        secs(jcs_statement) * 1e3,
        "(Statement::to_payload)",
    );
    row(
        "DSSE sign (PAE + Ed25519)",
        secs(sign) * 1e3,
        "(Envelope::sign)",
    );
    row(
        "entry → JCS bytes",
        secs(jcs_entry) * 1e3,
        "(LogEntry::to_bytes)",
    );
    row("leaf hashes + frontier", secs(hashing) * 1e3, "");
    row("time parsing", secs(times) * 1e3, "");
    row(
        "index insert (fresh SQLite, 1 tx)",
        secs(index_insert) * 1e3,
        "(3 statements per row: 1 row + 2 controls)",
    );
    row(
        &format!("≈{bundles} bundle writes (write+fsync+rename)"),
        bundle_write_ms * bundles as f64,
        &format!(
            "({bundle_write_ms:.2} ms each, {} each)",
            mb(bundle_bytes as u64)
        ),
    );
    row(
        "≈6 tile writes (write+fsync+rename)",
        tile_write_ms * 6.0,
        &format!("({tile_write_ms:.2} ms each)"),
    );
    row(
        "≈8 directory fsyncs",
        dir_sync_ms * 8.0,
        &format!("({dir_sync_ms:.2} ms each)"),
    );
    if blobs > 0 {
        row(
            &format!("{blobs} blob writes (write+fsync+rename)"),
            blob_write_ms * blobs as f64,
            &format!("({blob_write_ms:.2} ms each)"),
        );
    }
}

// ------------------------------------------------------------------------------------------
// 3. verify() and its phases

/// Runs the phases of `verify()` one by one, with the same parallelism, to show where its
/// time goes.
fn verify_breakdown(out: &mut String, store: &Store, verifier: &Verifier, size: u64) {
    let mut phases: Vec<(&str, Duration, String)> = Vec::new();

    let t = Instant::now();
    let note = store
        .checkpoint_note()
        .expect("note")
        .expect("a checkpoint");
    let cp = evident_ledger::checkpoint::open_checkpoint(
        note.as_bytes(),
        std::slice::from_ref(verifier),
    )
    .expect("checkpoint")
    .0;
    phases.push(("checkpoint signature", t.elapsed(), String::new()));

    let t = Instant::now();
    let mut entries: Vec<Vec<u8>> = Vec::with_capacity(size as usize);
    let mut n = 0;
    while tile_width(0, n, size) > 0 {
        entries.extend(
            store
                .tiles()
                .read_entries(n, tile_width(0, n, size))
                .expect("bundle"),
        );
        n += 1;
    }
    let entry_bytes: usize = entries.iter().map(Vec::len).sum();
    phases.push((
        "read entry bundles (serial)",
        t.elapsed(),
        format!("{n} bundles, {}", mb(entry_bytes as u64)),
    ));

    let t = Instant::now();
    let leaves: Vec<_> = entries.par_iter().map(|e| merkle::leaf_hash(e)).collect();
    phases.push(("leaf hashes (parallel)", t.elapsed(), String::new()));

    let t = Instant::now();
    let mut tree = MemoryTree::new();
    for leaf in &leaves {
        tree.push(*leaf);
    }
    phases.push(("MemoryTree build (serial)", t.elapsed(), String::new()));
    assert_eq!(tree.root(), cp.root);

    let t = Instant::now();
    let mut tiles = 0u64;
    let mut level = 0u8;
    while u32::from(level) * u32::from(TILE_HEIGHT) < 64
        && size >> (u32::from(level) * u32::from(TILE_HEIGHT)) > 0
    {
        let mut n = 0;
        while tile_width(level, n, size) > 0 {
            let stored = store
                .tiles()
                .read_tile(level, n, tile_width(level, n, size))
                .expect("tile");
            for (i, hash) in stored.iter().enumerate() {
                let Ok(expected) = tree.node(level * TILE_HEIGHT, n * TILE_WIDTH + i as u64);
                assert_eq!(*hash, expected);
            }
            tiles += 1;
            n += 1;
        }
        level += 1;
    }
    phases.push((
        "hash tiles: read + compare (serial)",
        t.elapsed(),
        format!("{tiles} tiles"),
    ));

    let t = Instant::now();
    let views: Vec<EntryView<'_>> = entries
        .par_iter()
        .map(|b| {
            let view = EntryView::read(b).expect("every bench entry is read borrowed");
            let recorded = timefmt::parse(view.recorded_at).expect("time");
            let retain = timefmt::parse(view.retain_until).expect("time");
            assert!(retain >= recorded);
            view
        })
        .collect();
    phases.push((
        "entry read + checks (parallel)",
        t.elapsed(),
        "EntryView::read (parse, canonical form, statement), times".into(),
    ));

    let key = ed25519_dalek::VerifyingKey::from_bytes(&verifier.public_key()).expect("key");
    let t = Instant::now();
    let signed = views.par_chunks(4096).all(|chunk| {
        let sigs: Vec<ed25519_dalek::Signature> = chunk
            .iter()
            .map(|v| ed25519_dalek::Signature::from_bytes(&v.signatures[0].1))
            .collect();
        let items: Vec<(&[u8], &ed25519_dalek::Signature)> =
            chunk.iter().map(|v| v.pae.as_slice()).zip(&sigs).collect();
        batch::verify_same_key(&key, &items)
    });
    phases.push((
        "DSSE verify (parallel)",
        t.elapsed(),
        "same-key batches of 4,096".into(),
    ));
    assert!(signed);

    let t = Instant::now();
    let blobs: u64 = views
        .par_iter()
        .zip(entries.par_iter())
        .filter(|(v, _)| v.has_blobs)
        .map(|(_, bytes)| {
            let e = LogEntry::from_bytes(bytes).expect("entry");
            for b in &e.record.blobs {
                assert_eq!(
                    store.blobs().get(&b.sha256).expect("blob").len() as u64,
                    b.size
                );
            }
            e.record.blobs.len() as u64
        })
        .sum();
    phases.push((
        "blob reads + SHA-256 (parallel)",
        t.elapsed(),
        format!("{} blobs", thousands(blobs)),
    ));

    // The index rows `check_index` compares (every row, read as verify.rs reads them).
    let t = Instant::now();
    let rows = store.index_summaries(0, size).expect("index");
    let query_time = t.elapsed();
    phases.push((
        "index summaries (all rows)",
        query_time,
        format!("{} rows", thousands(rows.len() as u64)),
    ));

    let t = Instant::now();
    let mismatched = rows
        .iter()
        .filter(|row| {
            let seq = usize::try_from(row.seq).expect("seq");
            let v = &views[seq];
            row.leaf_hash != hex::encode(leaves[seq])
                || row.kind != v.kind.as_str()
                || row.subject != v.subject
        })
        .count();
    phases.push(("index compare (serial)", t.elapsed(), String::new()));
    assert_eq!(mismatched, 0);

    let total: Duration = phases.iter().map(|p| p.1).sum();
    outln!(
        out,
        "  verify() phase by phase (same order and parallelism as verify.rs; {} threads):",
        rayon::current_num_threads()
    );
    for (what, took, note) in &phases {
        outln!(
            out,
            "    {what:<40} {:>8.3} s  {:>5.1} %  {note}",
            secs(*took),
            100.0 * secs(*took) / secs(total)
        );
    }
    outln!(out, "    {:<40} {:>8.3} s", "sum", secs(total));
    outln!(
        out,
        "    {:<40} {:>8.3} s",
        "sum without the index query",
        secs(total) - secs(query_time)
    );

    // Single-threaded cost per entry of the CPU-bound steps, on a sample.
    let sample = entries.len().min(20_000);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let per_entry = |f: &(dyn Fn(usize) + Sync)| {
        one.install(|| {
            let t = Instant::now();
            (0..sample).for_each(f);
            secs(t.elapsed()) * 1e6 / sample as f64
        })
    };
    let messages: Vec<&[u8]> = views[..sample].iter().map(|v| v.pae.as_slice()).collect();
    let sigs: Vec<ed25519_dalek::Signature> = views[..sample]
        .iter()
        .map(|v| ed25519_dalek::Signature::from_bytes(&v.signatures[0].1))
        .collect();
    let costs = [
        (
            "leaf hash",
            per_entry(&|i| {
                black_box(merkle::leaf_hash(&entries[i]));
            }),
        ),
        (
            "EntryView::read (what verify() does)",
            per_entry(&|i| {
                black_box(EntryView::read(&entries[i]).expect("entry"));
            }),
        ),
        (
            "the owned path, for comparison",
            per_entry(&|i| {
                let e = LogEntry::from_bytes(&entries[i]).expect("entry");
                black_box(Statement::from_payload(&e.envelope.payload).expect("st"));
            }),
        ),
        (
            "Ed25519 verify_strict (PAE prebuilt)",
            per_entry(&|i| {
                assert!(key.verify_strict(messages[i], &sigs[i]).is_ok());
            }),
        ),
        (
            "Ed25519 same-key batch (PAE prebuilt)",
            per_entry(&|i| {
                if i % 4096 == 0 {
                    let end = (i + 4096).min(sample);
                    let items: Vec<(&[u8], &ed25519_dalek::Signature)> = messages[i..end]
                        .iter()
                        .copied()
                        .zip(&sigs[i..end])
                        .collect();
                    assert!(batch::verify_same_key(&key, &items));
                }
            }),
        ),
        (
            "time parsing (2 per entry)",
            per_entry(&|i| {
                black_box(timefmt::parse(views[i].recorded_at).expect("time"));
                black_box(timefmt::parse(views[i].retain_until).expect("time"));
            }),
        ),
    ];
    outln!(
        out,
        "  single-threaded CPU cost per entry (sample of {sample} entries):"
    );
    for (what, us) in costs {
        outln!(
            out,
            "    {what:<40} {us:>8.2} µs  (= {us:.2} core-seconds per million entries)"
        );
    }
}

// ------------------------------------------------------------------------------------------
// 5. Size on disk

#[derive(Default)]
struct Usage {
    files: u64,
    bytes: u64,
    allocated: u64,
}

fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, Usage>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            walk(&path, &child, out);
            continue;
        }
        let group = if child.starts_with("log/tile/entries/") {
            if child.contains(".p/") {
                "log/tile/entries (partial bundles)".to_owned()
            } else {
                "log/tile/entries (full bundles)".to_owned()
            }
        } else if let Some(rest) = child.strip_prefix("log/tile/") {
            let level = rest.split('/').next().unwrap_or("?");
            if child.contains(".p/") {
                format!("log/tile/{level} (partial hash tiles)")
            } else {
                format!("log/tile/{level} (full hash tiles)")
            }
        } else if child.starts_with("index.sqlite") {
            "index.sqlite (+ -wal, -shm)".to_owned()
        } else if child.starts_with("blobs/") {
            "blobs".to_owned()
        } else {
            "other (checkpoint, vkey, lock …)".to_owned()
        };
        let usage = out.entry(group).or_default();
        usage.files += 1;
        usage.bytes += meta.len();
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            usage.allocated += meta.blocks() * 512;
        }
        #[cfg(not(unix))]
        {
            usage.allocated += meta.len();
        }
    }
}

fn disk_usage(root: &Path) -> (BTreeMap<String, Usage>, Usage) {
    let mut groups = BTreeMap::new();
    walk(root, "", &mut groups);
    let mut total = Usage::default();
    for u in groups.values() {
        total.files += u.files;
        total.bytes += u.bytes;
        total.allocated += u.allocated;
    }
    (groups, total)
}

// ------------------------------------------------------------------------------------------

/// What `verify()` of the big store came to.
enum VerifyOutcome {
    Done {
        took: Duration,
        report: Box<VerifyReport>,
        peak_rss_mb: u64,
    },
    TimedOut(Duration),
}

/// Runs `verify()` on a store of its own in another thread and waits for it at most `limit`;
/// a run that takes longer is left behind (the process ends soon after).
fn timed_verify(root: &Path, verifier: &Verifier, limit: Duration) -> VerifyOutcome {
    let (tx, rx) = std::sync::mpsc::channel();
    let root = root.to_owned();
    let verifier = verifier.clone();
    std::thread::spawn(move || {
        let store = Store::open(&root).expect("open the store");
        let t = Instant::now();
        let report = verify(&store, &verifier).expect("verify");
        let took = t.elapsed();
        let _ = tx.send((took, report, rss_mb().0));
        drop(store);
    });
    match rx.recv_timeout(limit) {
        Ok((took, report, peak_rss_mb)) => VerifyOutcome::Done {
            took,
            report: Box::new(report),
            peak_rss_mb,
        },
        Err(_) => VerifyOutcome::TimedOut(limit),
    }
}

#[allow(clippy::too_many_lines)]
fn main() {
    let config = Config::from_env();
    let parent = config.dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&parent).expect("the bench directory");
    let work = tempfile::Builder::new()
        .prefix("evident-ledger-bench-")
        .tempdir_in(&parent)
        .expect("a temporary directory");
    let key = LogKey::generate(ORIGIN).expect("a key");
    let verifier = key.verifier();
    let n = config.entries;

    println!(
        "evident ledger benchmark — N = {} entries, batches of {}, {} single appends, a ~1 KB blob every {} entries — {} threads",
        thousands(n),
        thousands(config.batch),
        thousands(config.single),
        if config.blob_every == 0 {
            "∞".to_owned()
        } else {
            thousands(config.blob_every)
        },
        rayon::current_num_threads()
    );
    println!(
        "stores in {} — load average at start: {}",
        work.path().display(),
        loadavg()
    );
    let sample = approval(1, 0);
    let sample_bytes = {
        let payload = sample.statement.to_payload().expect("payload");
        let envelope = dsse::Envelope::sign(
            dsse::PAYLOAD_TYPE_IN_TOTO,
            &payload,
            key.dsse_key(),
            dsse::ed25519_keyid(&key.dsse_key().verifying_key()),
        );
        LogEntry {
            v: record::ENTRY_VERSION,
            record: sample.record,
            envelope,
        }
        .to_bytes()
        .expect("entry")
        .len()
    };
    println!("one approval entry (no blob) is {sample_bytes} bytes of canonical JSON");
    println!();

    // 1. Single appends.
    eprintln!("[1/5] {} single appends …", config.single);
    let single = (config.single > 0).then(|| {
        bench_single(
            &work.path().join("single"),
            &key,
            config.single,
            config.blob_every,
        )
    });

    // 2. Batched appends.
    eprintln!(
        "[2/5] {} entries in batches of {} …",
        thousands(n),
        thousands(config.batch)
    );
    let store_dir = work.path().join("store");
    let batched = bench_batched(&store_dir, &key, &config, n, true);
    let batched_per_sec = n as f64 / secs(batched.append);
    let serial_entries = n.min(100_000);
    eprintln!(
        "[2/5] {} entries in batches of {}, one batch after the other …",
        thousands(serial_entries),
        thousands(config.batch)
    );
    let serial = bench_batched(
        &work.path().join("serial"),
        &key,
        &config,
        serial_entries,
        false,
    );
    let serial_per_sec = serial_entries as f64 / secs(serial.append);
    let _ = std::fs::remove_dir_all(work.path().join("serial"));

    let store = Store::open(&store_dir).expect("reopen the store");

    // 4. Proofs (before verify(), which runs last: see below).
    eprintln!("[3/5] inclusion proofs …");
    let index = n / 2;
    let t = Instant::now();
    let proof = store.inclusion_proof(index, n).expect("proof");
    let proof_gen = t.elapsed();
    let (entry_bytes, _) = store.entry(index, n).expect("entry");
    let leaf = merkle::leaf_hash(&entry_bytes);
    let note = store.checkpoint_note().expect("note").expect("checkpoint");
    let cp = store
        .checkpoint(&verifier)
        .expect("cp")
        .expect("checkpoint");
    assert_eq!(cp.size, n);
    let tlog = TlogProof {
        extra: None,
        index,
        proof: proof.clone(),
        checkpoint: note,
    };
    let text = tlog.format().expect("proof text");
    let inclusion_iters = 200_000;
    let inclusion_us = per_iter_us(inclusion_iters, || {
        merkle::verify_inclusion(
            black_box(index),
            black_box(n),
            black_box(&leaf),
            black_box(&proof),
            black_box(&cp.root),
        )
        .expect("inclusion");
    });
    let verifiers = [verifier.clone()];
    let full_iters = 5_000;
    let full_us = per_iter_us(full_iters, || {
        black_box(&tlog)
            .verify(black_box(&leaf), &verifiers)
            .expect("tlog proof");
    });
    let parse_full_us = per_iter_us(full_iters, || {
        TlogProof::parse(black_box(text.as_bytes()))
            .expect("parse")
            .verify(black_box(&leaf), &verifiers)
            .expect("tlog proof");
    });
    let entry_proof_us = per_iter_us(100, || {
        let (bytes, _) = store.entry(black_box(index), n).expect("entry");
        let proof = store.inclusion_proof(black_box(index), n).expect("proof");
        black_box((bytes, proof));
    });

    // 5. Size on disk.
    eprintln!("[4/5] size on disk …");
    let (groups, total) = disk_usage(&store_dir);

    // Where the time goes.
    let mut breakdown = String::new();
    if config.phases {
        eprintln!("[+] phase breakdowns …");
        let scratch = work.path().join("scratch");
        std::fs::create_dir_all(&scratch).expect("scratch dir");
        batch_breakdown(
            &mut breakdown,
            &scratch,
            &key,
            config.batch,
            config.blob_every,
        );
        let t = Instant::now();
        let writer = store.writer(&key).expect("writer");
        outln!(
            breakdown,
            "  writer open on the {}-entry store: {:.1} ms (on the empty store: {:.1} ms)",
            thousands(n),
            secs(t.elapsed()) * 1e3,
            secs(batched.writer_open) * 1e3
        );
        drop(writer);
        verify_breakdown(&mut breakdown, &store, &verifier, n);
    }
    drop(store);

    // 3. verify(), last, in a thread of its own: a run past the time limit is reported and left
    // behind rather than waited for.
    eprintln!(
        "[5/5] verify() of the {}-entry store (giving up after {} s) …",
        thousands(n),
        config.verify_timeout.as_secs()
    );
    let verified = timed_verify(&store_dir, &verifier, config.verify_timeout);
    let verify_target = TARGET_VERIFY_SECS_PER_MILLION * n as f64 / 1e6;
    let verify_target_text = if n == 1_000_000 {
        format!("{verify_target:.0} s")
    } else {
        format!("{verify_target:.3} s ({TARGET_VERIFY_SECS_PER_MILLION:.0} s per million)")
    };

    // ---------------------------------------------------------------- figures
    println!("figures (targets beside them):");
    if let Some(s) = &single {
        println!(
            "  1. appends/s, single (1 entry per durable batch)  {:>10.0} /s   p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms per append ({} appends)",
            s.per_sec,
            s.p50_ms,
            s.p99_ms,
            s.max_ms,
            thousands(config.single)
        );
    }
    println!(
        "  2. appends/s, batched ({} per durable batch)        {:>10.0} /s   target ≥ {:.0}/s: {}   ({} entries in {:.1} s, building the NewEvidence included; pipelined as evident serve appends: the next batch signed while the last is written and synced; slowest batch {:.0} ms)",
        thousands(config.batch),
        batched_per_sec,
        TARGET_APPENDS_PER_SEC,
        verdict(batched_per_sec >= TARGET_APPENDS_PER_SEC),
        thousands(n),
        secs(batched.append),
        secs(batched.slowest_batch) * 1e3,
    );
    println!(
        "     the same, one batch after the other         {:>10.0} /s   ({} entries on a new store in {:.1} s; slowest batch {:.0} ms; building the NewEvidence took another {:.1} s)",
        serial_per_sec,
        thousands(serial_entries),
        secs(serial.append),
        secs(serial.slowest_batch) * 1e3,
        secs(serial.build),
    );
    match &verified {
        VerifyOutcome::Done {
            took,
            report,
            peak_rss_mb,
        } => {
            println!(
                "  3. verify() of {} entries                    {:>10.2} s    target ≤ {}: {}   (report ok: {} signatures, {} blobs, {} tiles; peak RSS of the process {} MB)",
                thousands(n),
                secs(*took),
                verify_target_text,
                verdict(secs(*took) <= verify_target),
                thousands(report.signatures_verified),
                thousands(report.blobs_verified),
                thousands(report.tiles_verified),
                peak_rss_mb,
            );
        }
        VerifyOutcome::TimedOut(limit) => {
            println!(
                "  3. verify() of {} entries                    > {:.0} s    target ≤ {}: MISSED   (did not finish within EVIDENT_BENCH_VERIFY_TIMEOUT; see the phases below)",
                thousands(n),
                secs(*limit),
                verify_target_text,
            );
        }
    }
    println!(
        "  4. proof of entry {} of {}: tlog-proof text {} bytes, {} hashes ({} bytes of hashes); generated from tiles in {:.0} µs (entry + proof, warm: {:.0} µs)",
        thousands(index),
        thousands(n),
        text.len(),
        proof.len(),
        proof.len() * 32,
        secs(proof_gen) * 1e6,
        entry_proof_us,
    );
    println!(
        "     merkle::verify_inclusion                     {:>10.2} µs   target ≤ {:.0} µs: {}   (mean of {} runs)",
        inclusion_us,
        TARGET_INCLUSION_US,
        verdict(inclusion_us <= TARGET_INCLUSION_US),
        thousands(u64::from(inclusion_iters)),
    );
    println!(
        "     TlogProof::verify (+ checkpoint signature)   {:>10.2} µs   target ≤ {:.0} µs: {}   (mean of {} runs; parse + verify: {:.2} µs)",
        full_us,
        TARGET_INCLUSION_US,
        verdict(full_us <= TARGET_INCLUSION_US),
        thousands(u64::from(full_iters)),
        parse_full_us,
    );
    println!(
        "  5. store on disk                                 {:>10}   ({} files; {} allocated; {:.0} bytes per entry)",
        mb(total.bytes),
        thousands(total.files),
        mb(total.allocated),
        total.bytes as f64 / n as f64,
    );
    for (group, u) in &groups {
        println!(
            "       {group:<40} {:>12}  {:>9} files  ({} allocated)",
            mb(u.bytes),
            thousands(u.files),
            mb(u.allocated)
        );
    }
    println!("load average at the end: {}", loadavg());
    if !breakdown.is_empty() {
        println!();
        println!("where the time goes:");
        print!("{breakdown}");
    }
    let _ = std::io::stdout().flush();

    let timed_out = matches!(verified, VerifyOutcome::TimedOut(_));
    if let VerifyOutcome::Done { report, .. } = verified {
        assert!(
            report.ok(),
            "verify() found problems: {:?}",
            &report.problems[..report.problems.len().min(5)]
        );
        assert_eq!(report.size, n);
        assert_eq!(report.signatures_verified, n);
    }
    if config.keep {
        let kept = work.keep();
        println!("kept the stores in {}", kept.display());
    } else {
        drop(work);
    }
    if timed_out {
        // The abandoned verify() is still running: end the process rather than wait for it.
        std::process::exit(0);
    }
}
