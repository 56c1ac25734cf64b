//! The embedded store: blobs, the tiled log and the index under one directory, with one writer
//! at a time.
//!
//! ```text
//! <store>/lock                the writers' file lock
//! <store>/blobs/packs/…       content blobs (packed; older stores: blobs/sha256/…)
//! <store>/log/…               the log in tlog-tiles layout (checkpoint, tiles, entry bundles)
//! <store>/log/vkey            the verifier key of the log (informational: pin it elsewhere)
//! <store>/index.sqlite        the evidence index (unless it is in PostgreSQL)
//! <store>/keys/signing.key    the default location of the signing key (owner-only)
//! ```
//!
//! An append writes content blobs, entry bundles and hash tiles (synced together), the index
//! rows (at the same time, on another thread), and, once all of those are done, the signed
//! checkpoint. Everything before the checkpoint is invisible to readers
//! until the checkpoint names it, so a crash at any point leaves a log that verifies; the next
//! writer rebuilds its state from the last checkpoint, overwrites what was left beyond it and
//! repairs the index.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use evident_ledger::Hash;
use evident_ledger::checkpoint::{self, Checkpoint};
use evident_ledger::dsse;
use evident_ledger::merkle::{self, Frontier};
use evident_ledger::note::Verifier;
use evident_ledger::record::{BlobRef, EvidenceRecord, LogEntry};
use evident_ledger::statement::Statement;

use crate::blob::{BlobError, BlobStore, FsBlobStore};
use crate::index::{AnyIndex, Index, IndexError, IndexRow, Query};
use crate::keys::LogKey;
use crate::prepare::Prepared;
use crate::tiles::{
    TILE_HEIGHT, TILE_WIDTH, TileDir, TileError, TileSource, entries_file, tile_file, tile_width,
};
use crate::timefmt;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A blob failed.
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// A tile failed.
    #[error(transparent)]
    Tile(#[from] TileError),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The log is not in a state that may be appended to.
    #[error("the log cannot be appended to: {0}; run `evident ledger verify` to find out more")]
    Corrupt(String),
    /// An entry is not valid.
    #[error("{0}")]
    Entry(String),
    /// The key does not belong to this log.
    #[error("{0}")]
    WrongKey(String),
    /// No entry with that number.
    #[error("entry {seq} does not exist: the log has {size} entries")]
    NoSuchEntry {
        /// Asked for.
        seq: u64,
        /// Log size.
        size: u64,
    },
    /// Refused by retention.
    #[error("{0}")]
    Retention(String),
    /// A filesystem error.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The store's options are unusable.
    #[error("{0}")]
    Config(String),
}

/// A new piece of evidence to append.
#[derive(Debug, Clone)]
pub struct NewEvidence {
    /// The record's metadata; its `blobs` are filled in from `content`.
    pub record: EvidenceRecord,
    /// The in-toto statement to sign.
    pub statement: Statement,
    /// Content to store as blobs, with their descriptions (the digest and size are computed).
    pub content: Vec<(BlobRef, Vec<u8>)>,
}

/// Where a store keeps what is not in its directory.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// The database of the index (`postgres://…`); `None`: `<store>/index.sqlite`.
    pub database_url: Option<String>,
    /// Where the log and the content blobs live (`s3://bucket/prefix`, with the endpoint and
    /// credentials from the environment: see [`crate::s3::S3Config::from_env`]); `None`: the
    /// store directory.
    pub blob_url: Option<String>,
}

/// How long the log's tiles and bundles are locked in a bucket: 7 years, the default retention
/// of records (blobs are locked until their record's own `retain_until`).
const LOG_RETENTION: jiff::SignedDuration = jiff::SignedDuration::from_hours(7 * 366 * 24);

/// The content blobs: in the store directory or in a bucket.
#[derive(Debug)]
pub(crate) enum Blobs {
    Dir(FsBlobStore),
    S3(Box<crate::s3::S3BlobStore>),
}

/// The embedded store.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    tiles: TileDir,
    pub(crate) blobs: Blobs,
    index: AnyIndex,
    rt: std::sync::Arc<tokio::runtime::Runtime>,
}

/// The checkpoint body of a signed note (a checkpoint has no blank line; the signatures follow
/// the first one), not verified.
pub(crate) fn parse_unverified(note: &str) -> Result<Checkpoint, StoreError> {
    let body = note.split("\n\n").next().unwrap_or("");
    Checkpoint::parse(&format!("{body}\n"))
        .map_err(|e| StoreError::Corrupt(format!("log/checkpoint: {e}")))
}

/// Where the default signing key of a store lives.
pub fn default_key_path(store: &Path) -> PathBuf {
    store.join("keys").join("signing.key")
}

impl Store {
    /// Opens the store at `root`, creating it when missing, with its index in the embedded
    /// SQLite file.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        Self::open_with_database(root, None)
    }

    /// Opens the store at `root`, creating it when missing, with its index in the database at
    /// `database_url`: `None` for the embedded SQLite file (`<store>/index.sqlite`), or
    /// `postgres://user@host:port/database` (with `?schema=NAME` for another schema than
    /// `evident`; one schema per store). Blobs, tiles and the checkpoint stay under `root`.
    pub fn open_with_database(root: &Path, database_url: Option<&str>) -> Result<Self, StoreError> {
        Self::open_with(
            root,
            &StoreOptions {
                database_url: database_url.map(str::to_owned),
                blob_url: None,
            },
        )
    }

    /// Opens the store at `root`, creating it when missing, with its index, log and blobs where
    /// `options` say. With the log in a bucket, the directory keeps the lock, the keys and
    /// (without a database) the SQLite index.
    pub fn open_with(root: &Path, options: &StoreOptions) -> Result<Self, StoreError> {
        let database_url = options.database_url.as_deref();
        fs::create_dir_all(root.join("log")).map_err(|source| StoreError::Io {
            action: "create",
            path: root.join("log"),
            source,
        })?;
        let gitignore = root.join(".gitignore");
        if !gitignore.exists() {
            // The store is data, not source: keep it out of commits by default.
            let _ = fs::write(&gitignore, "*\n");
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| StoreError::Io {
                action: "start the runtime for",
                path: root.to_owned(),
                source,
            })?;
        let (tiles, blobs) = match options.blob_url.as_deref() {
            None => (
                TileDir::new(root.join("log")),
                Blobs::Dir(FsBlobStore::new(root.join("blobs"))),
            ),
            Some(url) => {
                let location = crate::s3::S3Location::parse(url)
                    .map_err(|e| StoreError::Config(format!("--blob-url: {e}")))?;
                let config = crate::s3::S3Config::from_env()
                    .map_err(|e| StoreError::Config(format!("--blob-url {url}: {e}")))?;
                let bucket = crate::s3::S3Bucket::new(&config, location.bucket())
                    .map_err(|e| StoreError::Config(format!("--blob-url {url}: {e}")))?;
                let blobs =
                    crate::s3::S3BlobStore::new(bucket.clone(), location.prefix(), LOG_RETENTION)
                        .map_err(|e| StoreError::Config(format!("--blob-url {url}: {e}")))?;
                let tiles = TileDir::in_bucket(
                    root.join("log"),
                    bucket,
                    location.prefix(),
                    LOG_RETENTION,
                    std::sync::Arc::new(evident_core::SystemClock),
                );
                (tiles, Blobs::S3(Box::new(blobs)))
            }
        };
        let index = rt.block_on(AnyIndex::open(&root.join("index.sqlite"), database_url))?;
        Ok(Self {
            root: root.to_owned(),
            tiles,
            blobs,
            index,
            rt: std::sync::Arc::new(rt),
        })
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The log directory (tlog-tiles layout).
    pub fn tiles(&self) -> &TileDir {
        &self.tiles
    }

    /// The blob store.
    pub fn blobs(&self) -> &dyn BlobStore {
        match &self.blobs {
            Blobs::Dir(b) => b,
            Blobs::S3(b) => b.as_ref(),
        }
    }

    /// The latest checkpoint note, as stored (not verified).
    pub fn checkpoint_note(&self) -> Result<Option<String>, StoreError> {
        Ok(self.tiles.read_checkpoint()?)
    }

    /// The latest checkpoint's body, read without checking its signature (for reading the
    /// log's size; anything that must be trusted uses [`Store::checkpoint`]).
    pub fn checkpoint_unverified(&self) -> Result<Option<Checkpoint>, StoreError> {
        let Some(note) = self.tiles.read_checkpoint()? else {
            return Ok(None);
        };
        parse_unverified(&note).map(Some)
    }

    /// The latest checkpoint, verified with `verifier`; `None` for an empty log.
    pub fn checkpoint(&self, verifier: &Verifier) -> Result<Option<Checkpoint>, StoreError> {
        let Some(note) = self.tiles.read_checkpoint()? else {
            return Ok(None);
        };
        let (cp, _) = checkpoint::open_checkpoint(note.as_bytes(), std::slice::from_ref(verifier))
            .map_err(|e| StoreError::WrongKey(format!("log/checkpoint: {e}")))?;
        Ok(Some(cp))
    }

    /// Starts appending: takes the writers' lock, checks the log against the key and repairs
    /// what a crashed writer left behind. The writer holds the lock until it is dropped, so
    /// every other writer waits: right for a command that appends and exits.
    pub fn writer<'a>(&'a self, key: &'a LogKey) -> Result<Writer<'a>, StoreError> {
        let mut writer = self.open_writer(key, false)?;
        writer.lock()?;
        writer.reload()?;
        writer.repair_index()?;
        Ok(writer)
    }

    /// A writer that shares the log with other writers (other processes on this store, or,
    /// with the index in PostgreSQL, other hosts): it takes the writers' lock only while it
    /// appends. Each [`Writer::begin`] catches up with what the others appended since.
    pub fn shared_writer<'a>(&'a self, key: &'a LogKey) -> Result<Writer<'a>, StoreError> {
        let mut writer = self.open_writer(key, true)?;
        writer.begin()?;
        writer.end();
        Ok(writer)
    }

    fn open_writer<'a>(&'a self, key: &'a LogKey, shared: bool) -> Result<Writer<'a>, StoreError> {
        let lock_path = self.root.join("lock");
        let lock_file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StoreError::Io {
                action: "open",
                path: lock_path.clone(),
                source,
            })?;
        Ok(Writer {
            store: self,
            key,
            lock_file,
            shared,
            locked: false,
            db_lock: None,
            state: LogState::default(),
            // Nothing is known of the log yet: the first `begin` reads it.
            poisoned: true,
            indexer: None,
        })
    }

    /// Reads the log's state at its last checkpoint: the frontier of its tree and the partial
    /// tiles and entry bundle at its right edge, checked against the checkpoint and the key.
    fn load_state(&self, key: &LogKey) -> Result<LogState, StoreError> {
        let note = self.tiles.read_checkpoint()?;
        let cp = match &note {
            None => None,
            Some(text) => Some(
                checkpoint::open_checkpoint(text.as_bytes(), std::slice::from_ref(&key.verifier()))
                    .map(|(cp, _)| cp)
                    .map_err(|e| {
                        StoreError::WrongKey(format!(
                            "log/checkpoint: {e}\nthe signing key {} did not sign this log's checkpoint: use the log's own key",
                            key.verifier_text()
                        ))
                    })?,
            ),
        };
        let (size, root) = cp
            .as_ref()
            .map_or((0, merkle::EMPTY_ROOT), |c| (c.size, c.root));
        if cp.is_none() {
            self.tiles
                .write_vkey(&format!("{}\n", key.verifier_text()))?;
        }
        let source = TileSource::new(&self.tiles, size);
        let nodes = merkle::frontier_indexes(size)
            .into_iter()
            .map(|(level, index)| merkle::NodeSource::node(&source, level, index))
            .collect::<Result<Vec<Hash>, TileError>>()?;
        let frontier = Frontier::from_nodes(size, nodes).map_err(|e| {
            StoreError::Corrupt(format!("the tiles do not match the checkpoint: {e}"))
        })?;
        if frontier.root() != root {
            return Err(StoreError::Corrupt(
                "the tiles do not hash to the checkpoint's root".into(),
            ));
        }
        // The partial tiles at the right edge, which the next entries extend.
        let mut partial = Vec::new();
        let mut level = 0u8;
        while u32::from(level) * u32::from(TILE_HEIGHT) < 64
            && size >> (u32::from(level) * u32::from(TILE_HEIGHT)) > 0
        {
            let nodes = size >> (u32::from(level) * u32::from(TILE_HEIGHT));
            let n = nodes / TILE_WIDTH;
            let width = tile_width(level, n, size);
            partial.push(if width == 0 || width == TILE_WIDTH {
                Vec::new()
            } else {
                self.tiles.read_tile(level, n, width)?
            });
            level += 1;
        }
        let entries_width = size % TILE_WIDTH;
        let partial_entries = if entries_width == 0 {
            Vec::new()
        } else {
            self.tiles.read_entries(size / TILE_WIDTH, entries_width)?
        };
        Ok(LogState {
            note,
            frontier,
            size,
            partial,
            partial_entries,
        })
    }

    /// Index rows matching a query.
    pub fn query(&self, q: &Query) -> Result<Vec<IndexRow>, StoreError> {
        Ok(self.rt.block_on(self.index.query(q))?)
    }

    /// The indexed facts of the entries in `[from, below)`, for verification.
    pub fn index_summaries(
        &self,
        from: u64,
        below: u64,
    ) -> Result<Vec<crate::index::Summary>, StoreError> {
        Ok(self.rt.block_on(self.index.summaries(from, below))?)
    }

    /// Reads entry `seq` of a log of `size` entries.
    pub fn entry(&self, seq: u64, size: u64) -> Result<(Vec<u8>, LogEntry), StoreError> {
        if seq >= size {
            return Err(StoreError::NoSuchEntry { seq, size });
        }
        let n = seq / TILE_WIDTH;
        let bundle = self.tiles.read_entries(n, tile_width(0, n, size))?;
        let bytes = bundle[(seq % TILE_WIDTH) as usize].clone();
        let entry = LogEntry::from_bytes(&bytes)
            .map_err(|e| StoreError::Entry(format!("entry {seq}: {e}")))?;
        Ok((bytes, entry))
    }

    /// An inclusion proof for entry `seq` in the tree of `size` entries.
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        let source = TileSource::new(&self.tiles, size);
        merkle::inclusion_proof(&source, seq, size).map_err(|e| StoreError::Entry(e.to_string()))
    }

    /// A consistency proof from the tree of `size1` entries to the tree of `size2`.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, StoreError> {
        let source = TileSource::new(&self.tiles, size2);
        merkle::consistency_proof(&source, size1, size2)
            .map_err(|e| StoreError::Entry(e.to_string()))
    }

    fn close(&self) {
        self.rt.block_on(self.index.close());
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

/// A writer of a store: the one writer while it holds the store's lock.
#[derive(Debug)]
pub struct Writer<'a> {
    store: &'a Store,
    key: &'a LogKey,
    lock_file: fs::File,
    /// Whether the lock is taken only while appending.
    shared: bool,
    /// Whether the lock is held.
    locked: bool,
    /// The database's part of the lock, while held (PostgreSQL only).
    db_lock: Option<crate::index_pg::PgWriterLock>,
    state: LogState,
    /// Set while an append changes the in-memory state; left set if it fails half-way.
    poisoned: bool,
    /// Writes each batch's index rows while the batch's files are written (started by the
    /// first append).
    indexer: Option<Indexer>,
}

/// A thread that writes index rows for a writer, one batch at a time, while the writer writes
/// and syncs the batch's files. One thread for the writer's life: starting a thread per batch
/// costs more than a small batch's rows.
#[derive(Debug)]
struct Indexer {
    jobs: Option<std::sync::mpsc::Sender<Vec<IndexRow>>>,
    done: std::sync::mpsc::Receiver<Result<(), IndexError>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Indexer {
    fn start(store: &Store) -> Result<Self, StoreError> {
        let (jobs, rx) = std::sync::mpsc::channel::<Vec<IndexRow>>();
        let (tx, done) = std::sync::mpsc::channel();
        let rt = std::sync::Arc::clone(&store.rt);
        let index = store.index.clone();
        let thread = std::thread::Builder::new()
            .name("evident-index".into())
            .spawn(move || {
                for rows in rx {
                    if tx.send(rt.block_on(index.insert(&rows))).is_err() {
                        break;
                    }
                }
            })
            .map_err(|source| StoreError::Io {
                action: "start the index writer for",
                path: store.root.clone(),
                source,
            })?;
        Ok(Self {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
        })
    }

    /// Starts writing `rows`; [`Indexer::wait`] returns the outcome.
    fn insert(&self, rows: Vec<IndexRow>) -> Result<(), StoreError> {
        match &self.jobs {
            Some(jobs) if jobs.send(rows).is_ok() => Ok(()),
            _ => Err(Self::stopped()),
        }
    }

    /// Waits for the rows sent last.
    fn wait(&self) -> Result<(), StoreError> {
        Ok(self.done.recv().map_err(|_| Self::stopped())??)
    }

    fn stopped() -> StoreError {
        StoreError::Corrupt("the index writer stopped before writing a batch's rows".into())
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What a writer knows of the log.
#[derive(Debug, Default)]
struct LogState {
    /// The checkpoint note the state was read from (`None`: the empty log).
    note: Option<String>,
    frontier: Frontier,
    size: u64,
    /// For each tile level, the hashes of its partial tile at the right edge.
    partial: Vec<Vec<Hash>>,
    partial_entries: Vec<Vec<u8>>,
}

pub(crate) fn index_row(seq: u64, entry: &LogEntry, leaf: &Hash) -> Result<IndexRow, StoreError> {
    let record = &entry.record;
    let parse = |what: &str, text: &str| {
        timefmt::parse(text).map_err(|e| StoreError::Entry(format!("entry {seq}: {what}: {e}")))
    };
    Ok(IndexRow {
        seq,
        kind: record.kind.as_str().to_owned(),
        subject: record.subject.clone(),
        predicate_type: record.predicate_type.clone(),
        actor: record.actor.clone(),
        recorded_at: parse("recorded_at", &record.recorded_at)?.as_second(),
        retain_until: parse("retain_until", &record.retain_until)?.as_second(),
        controls: record.controls.clone(),
        leaf_hash: hex::encode(leaf),
    })
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        self.unlock();
    }
}

impl Writer<'_> {
    /// The number of entries in the log (as of the last checkpoint this writer wrote or read).
    pub fn size(&self) -> u64 {
        self.state.size
    }

    /// Takes the writers' lock: the store's file lock, then the database's, if it has one.
    fn lock(&mut self) -> Result<(), StoreError> {
        if self.locked {
            return Ok(());
        }
        self.lock_file.lock().map_err(|source| StoreError::Io {
            action: "lock",
            path: self.store.root.join("lock"),
            source,
        })?;
        match self.store.rt.block_on(self.store.index.lock_writer()) {
            Ok(db_lock) => {
                self.locked = true;
                self.db_lock = db_lock;
                Ok(())
            }
            Err(e) => {
                let _ = self.lock_file.unlock();
                Err(e.into())
            }
        }
    }

    /// Releases the writers' lock, if held.
    fn unlock(&mut self) {
        if self.locked {
            if let Some(db_lock) = self.db_lock.take() {
                self.store.rt.block_on(db_lock.release());
            }
            let _ = self.lock_file.unlock();
            self.locked = false;
        }
    }

    /// Reads the log's state afresh from its last checkpoint.
    fn reload(&mut self) -> Result<(), StoreError> {
        self.state = self.store.load_state(self.key)?;
        self.poisoned = false;
        Ok(())
    }

    /// Takes the lock (a shared writer; an exclusive one holds it already) and catches up with
    /// the log: when another writer appended since this one last looked, the state is read
    /// again from the new checkpoint. Returns the entries the others appended meanwhile, and
    /// repairs the index. The next [`Writer::append`] (or [`Writer::end`]) releases the lock
    /// of a shared writer.
    pub fn begin(&mut self) -> Result<std::ops::Range<u64>, StoreError> {
        self.lock()?;
        let before = self.state.size;
        let result = (|| {
            let note = self.store.tiles.read_checkpoint()?;
            // The index is checked against the log (a count of its rows, which takes longer
            // as the log grows) only when the log is read afresh: after this writer's own
            // appends the two agree, as an append indexes its batch before publishing it.
            if self.poisoned || note != self.state.note {
                self.reload()?;
                self.repair_index()?;
            }
            Ok(before.min(self.state.size)..self.state.size)
        })();
        if result.is_err() && self.shared {
            self.unlock();
        }
        result
    }

    /// Releases the lock of a shared writer (without appending); an exclusive writer keeps it.
    pub fn end(&mut self) {
        if self.shared {
            self.unlock();
        }
    }

    fn repair_index(&mut self) -> Result<(), StoreError> {
        let store = self.store;
        let size = self.state.size;
        let count = store.rt.block_on(store.index.count())?;
        if count > size {
            store.rt.block_on(store.index.truncate(size))?;
        } else if count < size {
            let mut rows = Vec::new();
            for seq in count..size {
                let (bytes, entry) = store.entry(seq, size)?;
                rows.push(index_row(seq, &entry, &merkle::leaf_hash(&bytes))?);
                if rows.len() >= 10_000 {
                    store.rt.block_on(store.index.insert(&rows))?;
                    rows.clear();
                }
            }
            store.rt.block_on(store.index.insert(&rows))?;
        }
        Ok(())
    }

    /// Signs and appends a batch of evidence; returns the entries' sequence numbers. The batch
    /// is durable (blobs, tiles, index and checkpoint synced) when this returns.
    ///
    /// A shared writer takes the lock first (see [`Writer::begin`]; a batch planned after an
    /// explicit `begin` is appended under the same lock) and releases it when done.
    pub fn append(&mut self, batch: Vec<NewEvidence>) -> Result<Vec<u64>, StoreError> {
        // Checks, a bucket's blobs, signatures and encoding need no lock.
        match self.store.prepare(self.key, batch) {
            Ok(prepared) => self.append_prepared(prepared),
            Err(e) => {
                // As a failed append does: a shared writer's lock (taken by `begin`) goes.
                self.end();
                Err(e)
            }
        }
    }

    /// Appends evidence made ready with [`Store::prepare`] (with this writer's key); returns
    /// the entries' sequence numbers. The same locking and durability as [`Writer::append`].
    pub fn append_prepared(&mut self, prepared: Vec<Prepared>) -> Result<Vec<u64>, StoreError> {
        if !self.shared {
            return self.append_prepared_locked(prepared);
        }
        if !self.locked {
            self.begin()?;
        }
        let result = self.append_prepared_locked(prepared);
        self.unlock();
        result
    }

    fn append_prepared_locked(&mut self, prepared: Vec<Prepared>) -> Result<Vec<u64>, StoreError> {
        if prepared.is_empty() {
            return Ok(Vec::new());
        }
        if self.poisoned {
            return Err(StoreError::Corrupt(
                "an earlier append of this writer failed half-way; open a new writer".into(),
            ));
        }
        let key_id = dsse::ed25519_keyid(&self.key.dsse_key().verifying_key());
        if let Some(other) = prepared.iter().find(|p| p.key_id != key_id) {
            return Err(StoreError::Entry(format!(
                "evidence prepared with key {} cannot be appended by the writer of key {key_id}",
                other.key_id
            )));
        }
        let store = self.store;
        let first = self.state.size;
        let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
        let mut encoded = Vec::with_capacity(prepared.len());
        for (i, p) in prepared.into_iter().enumerate() {
            blobs.extend(p.blob_files);
            let mut row = p.row;
            row.seq = first + i as u64;
            encoded.push((p.bytes, p.leaf, row));
        }

        // 3. Entry bundles and hash tiles (and the content blobs), written as one batch.
        self.poisoned = true;
        let count = encoded.len();
        let mut rows = Vec::with_capacity(count);
        let mut files = Vec::new();
        // The levels whose partial tile at the right edge changes in this batch: only those
        // are written. The others' partial tile is the one the checkpoint already covers, never
        // to be rewritten (in a bucket, each rewrite would be one more locked version).
        let mut grown = vec![false; self.state.partial.len()];
        for (i, (bytes, leaf, row)) in encoded.into_iter().enumerate() {
            let seq = first + i as u64;
            rows.push(row);
            self.state.partial_entries.push(bytes);
            if self.state.partial_entries.len() as u64 == TILE_WIDTH {
                files.push(entries_file(seq / TILE_WIDTH, &self.state.partial_entries));
                self.state.partial_entries.clear();
            }
            let mut completed = Vec::new();
            self.state
                .frontier
                .push_with(leaf, |level, index, hash| {
                    if level % TILE_HEIGHT == 0 {
                        completed.push((level / TILE_HEIGHT, index, hash));
                    }
                })
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            for (tile_level, index, hash) in completed {
                let l = usize::from(tile_level);
                if self.state.partial.len() <= l {
                    self.state.partial.resize(l + 1, Vec::new());
                }
                if grown.len() <= l {
                    grown.resize(l + 1, false);
                }
                grown[l] = true;
                self.state.partial[l].push(hash);
                if self.state.partial[l].len() as u64 == TILE_WIDTH {
                    files.push(tile_file(
                        tile_level,
                        index / TILE_WIDTH,
                        &self.state.partial[l],
                    ));
                    self.state.partial[l].clear();
                }
            }
        }
        let size = first + count as u64;
        if !self.state.partial_entries.is_empty() {
            files.push(entries_file(size / TILE_WIDTH, &self.state.partial_entries));
        }
        for (l, hashes) in self.state.partial.iter().enumerate() {
            if !hashes.is_empty() && grown.get(l).copied().unwrap_or(false) {
                let level = l as u8;
                let n = (size >> (u32::from(level) * u32::from(TILE_HEIGHT))) / TILE_WIDTH;
                files.push(tile_file(level, n, hashes));
            }
        }
        // 4. The checkpoint that will publish the batch, signed now: it is staged with the
        //    batch's files (in a directory, as the checkpoint's spare) and synced with them.
        let cp = Checkpoint {
            origin: self.key.name().to_owned(),
            size,
            root: self.state.frontier.root(),
            extensions: Vec::new(),
        };
        let note = checkpoint::sign_checkpoint(&cp, self.key.signer())
            .map_err(|e| StoreError::Entry(e.to_string()))?;
        // 5. Index, while the files are written and synced: both are invisible to readers
        //    until the checkpoint, and both are done before it is published.
        if self.indexer.is_none() {
            self.indexer = Some(Indexer::start(store)?);
        }
        let indexer = self.indexer.as_ref().expect("started above");
        let indexing = indexer.insert(rows);
        let written = match &store.blobs {
            Blobs::Dir(b) => b.pack(&blobs).map(|packs| (packs, Some(b.packs_dir()))),
            Blobs::S3(_) => Ok((Vec::new(), None)),
        }
        .map_err(StoreError::from)
        .and_then(|(packs, root)| {
            store
                .tiles
                .write_batch(&files, packs, root, Some(&note))
                .map_err(StoreError::from)
        });
        let indexed = indexing.and_then(|()| indexer.wait());
        if indexed.is_err() {
            // Started again by the next append.
            self.indexer = None;
        }
        written?;
        indexed?;

        // 6. Checkpoint: the only step that publishes the new entries.
        store.tiles.publish_checkpoint(&note)?;
        self.state.size = size;
        self.state.note = Some(note);
        self.poisoned = false;
        Ok((first..size).collect())
    }
}
