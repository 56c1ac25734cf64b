//! The writer: a dedicated thread that owns the store, appends what the handlers queue in
//! batches, and keeps the set of seen deliveries. A second thread signs and encodes the queued
//! evidence meanwhile, so one batch is signed while the one before is written and synced.
//!
//! The log may have other writers: other `evident serve` replicas on the same store (and, with
//! the index in PostgreSQL, the same database), or `evident record` run beside the server.
//! The writer takes the store's writers' lock for each batch only ([`Store::shared_writer`]);
//! under the lock it first reads what the others appended since its last batch.
//!
//! De-duplication happens under that lock, so two concurrent copies of a delivery cannot both
//! be stored, whichever replica receives them. The set of seen deliveries is rebuilt at startup
//! from the labels (`platform`, `delivery`) of the `event` entries in the log, and extended with
//! the others' entries at each batch, which makes the log itself the table of record: nothing
//! else has to be kept consistent with it.

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;

use evident_ledger::record::{EvidenceKind, LogEntry};
use evident_store::index::Query;
use evident_store::keys::LogKey;
use evident_store::tiles::{TILE_WIDTH, tile_width};
use evident_store::{NewEvidence, Prepared, Store, StoreError, StoreOptions};
use tokio::sync::{mpsc, oneshot};

/// How many queued appends one batch takes at most.
const MAX_BATCH: usize = 256;
/// How many appends may wait for the writer before handlers wait too.
const QUEUE: usize = 1024;
/// How many signed appends may wait for their batch before the signer waits.
const MAX_PENDING: usize = 1024;

/// What became of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored as this entry.
    Stored(u64),
    /// Already stored as this entry: nothing was written.
    Duplicate(u64),
}

/// A request to the writer.
struct Job {
    evidence: NewEvidence,
    /// `<platform>:<delivery>`, for deliveries that must be stored once.
    dedup: Option<String>,
    reply: oneshot::Sender<Result<Appended, String>>,
}

/// What the writer found at startup.
#[derive(Debug, Clone, Copy)]
pub struct StartInfo {
    /// Entries in the log.
    pub size: u64,
    /// Deliveries already recorded.
    pub deliveries: usize,
}

/// The handlers' side of the writer.
#[derive(Debug, Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Job>,
    alive: Arc<AtomicBool>,
    /// Entries appended since the writer started.
    appended: Arc<AtomicU64>,
}

/// The key of a delivery in the seen set.
pub fn dedup_key(platform: &str, delivery: &str) -> String {
    format!("{platform}:{delivery}")
}

impl WriterHandle {
    /// Appends `evidence` (unless `dedup` was seen before) and waits until it is durable.
    pub async fn append(
        &self,
        evidence: NewEvidence,
        dedup: Option<String>,
    ) -> Result<Appended, String> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                evidence,
                dedup,
                reply,
            })
            .await
            .map_err(|_| "the writer has stopped".to_owned())?;
        rx.await.map_err(|_| "the writer has stopped".to_owned())?
    }

    /// Whether appends can be served.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst) && !self.tx.is_closed()
    }

    /// Appends waiting in the queue.
    pub fn queue_depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Entries appended since the writer started.
    pub fn appended(&self) -> u64 {
        self.appended.load(Ordering::Relaxed)
    }
}

/// Opens the store, takes its lock, rebuilds the seen deliveries and starts the writer thread.
/// Returns once the writer is ready (or could not start).
pub fn start(
    store_dir: PathBuf,
    options: StoreOptions,
    key: LogKey,
) -> Result<(WriterHandle, JoinHandle<()>, StartInfo), StoreError> {
    let (tx, rx) = mpsc::channel::<Job>(QUEUE);
    let (init_tx, init_rx) = std::sync::mpsc::sync_channel(1);
    let alive = Arc::new(AtomicBool::new(false));
    let alive_thread = Arc::clone(&alive);
    let appended = Arc::new(AtomicU64::new(0));
    let appended_thread = Arc::clone(&appended);
    let thread = std::thread::Builder::new()
        .name("evident-writer".into())
        .spawn(move || {
            let store = match Store::open_with(&store_dir, &options) {
                Ok(s) => s,
                Err(e) => {
                    let _ = init_tx.send(Err(e));
                    return;
                }
            };
            let writer = match store.shared_writer(&key) {
                Ok(w) => w,
                Err(e) => {
                    let _ = init_tx.send(Err(e));
                    return;
                }
            };
            let seen = match seen_deliveries(&store, writer.size()) {
                Ok(s) => s,
                Err(e) => {
                    let _ = init_tx.send(Err(e));
                    return;
                }
            };
            alive_thread.store(true, Ordering::SeqCst);
            let _ = init_tx.send(Ok(StartInfo {
                size: writer.size(),
                deliveries: seen.len(),
            }));
            run(&store, &key, writer, seen, rx, &appended_thread);
            alive_thread.store(false, Ordering::SeqCst);
        })
        .map_err(|source| StoreError::Io {
            action: "start the writer for",
            path: PathBuf::new(),
            source,
        })?;
    let info = init_rx
        .recv()
        .map_err(|_| StoreError::Corrupt("the writer stopped while starting".into()))??;
    Ok((
        WriterHandle {
            tx,
            alive,
            appended,
        },
        thread,
        info,
    ))
}

/// The deliveries recorded in the first `size` entries, by `<platform>:<delivery>`.
fn seen_deliveries(store: &Store, size: u64) -> Result<HashMap<String, u64>, StoreError> {
    let rows = store.query(&Query {
        kind: Some("event".into()),
        below: Some(size),
        ..Query::default()
    })?;
    let mut seen = HashMap::with_capacity(rows.len());
    for row in rows {
        let (_, entry) = store.entry(row.seq, size)?;
        note_delivery(&mut seen, row.seq, &entry);
    }
    Ok(seen)
}

fn note_delivery(seen: &mut HashMap<String, u64>, seq: u64, entry: &LogEntry) {
    if entry.record.kind != EvidenceKind::Event {
        return;
    }
    let labels = &entry.record.labels;
    if let (Some(p), Some(d)) = (labels.get("platform"), labels.get("delivery")) {
        seen.entry(dedup_key(p, d)).or_insert(seq);
    }
}

/// Adds the deliveries of the entries `range` (appended by other writers) to `seen`, reading
/// each entry bundle once.
fn catch_up(
    store: &Store,
    seen: &mut HashMap<String, u64>,
    range: Range<u64>,
    size: u64,
) -> Result<(), StoreError> {
    let mut seq = range.start;
    while seq < range.end {
        let n = seq / TILE_WIDTH;
        let bundle = store.tiles().read_entries(n, tile_width(0, n, size))?;
        let first = n * TILE_WIDTH;
        while seq < range.end && seq < first + bundle.len() as u64 {
            let bytes = &bundle[usize::try_from(seq - first).unwrap_or(usize::MAX)];
            let entry = LogEntry::from_bytes(bytes)
                .map_err(|e| StoreError::Entry(format!("entry {seq}: {e}")))?;
            note_delivery(seen, seq, &entry);
            seq += 1;
        }
        if seq < first + TILE_WIDTH && seq < range.end {
            return Err(StoreError::Corrupt(format!(
                "entry bundle {n} ends before entry {seq}"
            )));
        }
    }
    Ok(())
}

enum Plan {
    New(usize),
    Duplicate(u64),
    DuplicateInBatch(usize),
}

/// A job signed and encoded, waiting for the committer.
struct Ready {
    prepared: Prepared,
    dedup: Option<String>,
    reply: oneshot::Sender<Result<Appended, String>>,
}

/// What the preparer hands to the committer.
#[derive(Default)]
struct Pending {
    ready: Vec<Ready>,
    /// The queue is closed and the preparer has stopped.
    closed: bool,
}

/// The two stages' meeting point.
#[derive(Default)]
struct Handover {
    pending: std::sync::Mutex<Pending>,
    changed: std::sync::Condvar,
}

impl Handover {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The writer's two stages: a preparer thread signs and encodes queued jobs as they come (no
/// lock needed), while this thread appends what is ready, a batch at a time, under the
/// writers' lock. So the next batch is signed while the last one is written and synced.
fn run(
    store: &Store,
    key: &LogKey,
    writer: evident_store::Writer<'_>,
    seen: HashMap<String, u64>,
    rx: mpsc::Receiver<Job>,
    appended: &AtomicU64,
) {
    let handover = Handover::default();
    std::thread::scope(|scope| {
        let handover = &handover;
        let preparer = std::thread::Builder::new()
            .name("evident-signer".into())
            .spawn_scoped(scope, move || prepare(store, key, rx, handover));
        if let Err(e) = preparer {
            log_line!("evident serve: cannot start the writer's signer: {e}");
            handover.lock().closed = true;
        }
        commit(store, writer, seen, handover, appended);
    });
}

/// The first stage: takes queued jobs, signs and encodes them, and hands them over (waiting
/// while [`MAX_PENDING`] are already waiting, so that handlers feel the back-pressure).
fn prepare(store: &Store, key: &LogKey, mut rx: mpsc::Receiver<Job>, handover: &Handover) {
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut evidence = Vec::with_capacity(jobs.len());
        let mut rest = Vec::with_capacity(jobs.len());
        for job in jobs {
            evidence.push(job.evidence);
            rest.push((job.dedup, job.reply));
        }
        match store.prepare(key, evidence) {
            Ok(prepared) => {
                let mut pending = handover.lock();
                while pending.ready.len() >= MAX_PENDING {
                    pending = handover
                        .changed
                        .wait(pending)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
                pending.ready.extend(prepared.into_iter().zip(rest).map(
                    |(prepared, (dedup, reply))| Ready {
                        prepared,
                        dedup,
                        reply,
                    },
                ));
                handover.changed.notify_all();
            }
            Err(e) => {
                log_line!("evident serve: cannot prepare evidence: {e}");
                for (_, reply) in rest {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
    handover.lock().closed = true;
    handover.changed.notify_all();
}

/// The second stage: appends what is ready, a batch at a time, under the writers' lock.
fn commit<'a>(
    store: &'a Store,
    writer: evident_store::Writer<'a>,
    mut seen: HashMap<String, u64>,
    handover: &Handover,
    appended: &AtomicU64,
) {
    let mut writer = writer;
    loop {
        let ready = {
            let mut pending = handover.lock();
            while pending.ready.is_empty() && !pending.closed {
                pending = handover
                    .changed
                    .wait(pending)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            if pending.ready.is_empty() {
                return;
            }
            let take = pending.ready.len().min(MAX_BATCH);
            let ready: Vec<Ready> = pending.ready.drain(..take).collect();
            handover.changed.notify_all();
            ready
        };
        // Under the writers' lock: what the other writers appended, then this batch.
        let caught_up = writer
            .begin()
            .and_then(|others| catch_up(store, &mut seen, others, writer.size()));
        if let Err(e) = caught_up {
            writer.end();
            log_line!("evident serve: cannot append: {e}");
            for r in ready {
                let _ = r.reply.send(Err(e.to_string()));
            }
            continue;
        }
        let mut batch = Vec::new();
        let mut pending: HashMap<String, usize> = HashMap::new();
        let mut plans = Vec::with_capacity(ready.len());
        for r in ready {
            let plan = match &r.dedup {
                Some(k) if seen.contains_key(k) => Plan::Duplicate(seen[k]),
                Some(k) if pending.contains_key(k) => Plan::DuplicateInBatch(pending[k]),
                dedup => {
                    if let Some(k) = dedup {
                        pending.insert(k.clone(), batch.len());
                    }
                    batch.push(r.prepared);
                    Plan::New(batch.len() - 1)
                }
            };
            plans.push((r.reply, plan));
        }
        let result = if batch.is_empty() {
            writer.end();
            Ok(Vec::new())
        } else {
            // Appends and releases the lock; a failed append leaves the writer to read the
            // log again (and repair what the failure left beyond the checkpoint) next time.
            writer.append_prepared(batch).map_err(|e| e.to_string())
        };
        match result {
            Ok(seqs) => {
                appended.fetch_add(seqs.len() as u64, Ordering::Relaxed);
                for (k, i) in pending {
                    seen.insert(k, seqs[i]);
                }
                for (reply, plan) in plans {
                    let answer = match plan {
                        Plan::New(i) => Appended::Stored(seqs[i]),
                        Plan::DuplicateInBatch(i) => Appended::Duplicate(seqs[i]),
                        Plan::Duplicate(seq) => Appended::Duplicate(seq),
                    };
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(e) => {
                log_line!("evident serve: append failed: {e}");
                for (reply, plan) in plans {
                    let answer = match plan {
                        Plan::Duplicate(seq) => Ok(Appended::Duplicate(seq)),
                        _ => Err(e.clone()),
                    };
                    let _ = reply.send(answer);
                }
            }
        }
    }
}
