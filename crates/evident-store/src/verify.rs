//! `ledger verify`: recompute everything from the blobs upward and name the first bad place.
//!
//! The checks, in the order a problem is reported:
//! 1. the checkpoint is signed by the trusted verifier key;
//! 2. every entry bundle the checkpoint covers is present and well formed;
//! 3. every hash tile equals the hashes recomputed from the entries, and the recomputed root is
//!    the checkpoint's root;
//! 4. every entry is canonical, its DSSE envelope verifies with the log's key, its statement
//!    agrees with its record, and every blob it names is present with the right content (or was
//!    deleted by a later deletion entry after its retention period);
//! 5. the index holds exactly the entries of the log.

use evident_ledger::Hash;
use evident_ledger::checkpoint::{self, Checkpoint};
use evident_ledger::dsse;
use evident_ledger::merkle::{self, MemoryTree, NodeSource};
use evident_ledger::note::Verifier;
use evident_ledger::record::{EvidenceKind, LogEntry};
use evident_ledger::statement::Statement;
use rayon::prelude::*;
use serde::Serialize;

use crate::blob::BlobError;
use crate::index::Query;
use crate::store::{Store, StoreError};
use crate::tiles::{self, TILE_HEIGHT, TILE_WIDTH, tile_width};
use crate::timefmt;

/// One thing that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The entry concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
    /// The file or object concerned (relative to the store).
    pub place: String,
    /// What is wrong.
    pub what: String,
}

/// The outcome of a verification.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// The log's origin (from the checkpoint).
    pub origin: String,
    /// Entries covered by the checkpoint.
    pub size: u64,
    /// Hex root hash of the checkpoint.
    pub root: String,
    /// Entries whose envelope signature verified.
    pub signatures_verified: u64,
    /// Blobs whose content was hashed and matched.
    pub blobs_verified: u64,
    /// Blobs deleted after their retention period by a recorded deletion.
    pub blobs_deleted: u64,
    /// Hash tiles compared.
    pub tiles_verified: u64,
    /// Index rows beyond the checkpoint, left by an append that did not finish (not a problem:
    /// the next append removes them).
    pub pending_index_rows: u64,
    /// Everything wrong, the first bad place first.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// Whether nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn problem(entry: Option<u64>, place: impl Into<String>, what: impl Into<String>) -> Problem {
    Problem {
        entry,
        place: place.into(),
        what: what.into(),
    }
}

/// Verifies the whole store against the trusted verifier key.
pub fn verify(store: &Store, verifier: &Verifier) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    let Some(note) = store.tiles().read_checkpoint()? else {
        let has_entries = store.tiles().has_entries()?;
        if has_entries {
            report.problems.push(problem(
                None,
                "log/checkpoint",
                "the checkpoint is missing but the log has tiles",
            ));
        }
        return Ok(report);
    };
    let cp: Checkpoint =
        match checkpoint::open_checkpoint(note.as_bytes(), std::slice::from_ref(verifier)) {
            Ok((cp, _)) => cp,
            Err(e) => {
                report.problems.push(problem(
                    None,
                    "log/checkpoint",
                    format!("the checkpoint does not verify with the trusted key {verifier}: {e}"),
                ));
                // Go on with the unverified body, so the other problems are named too.
                match crate::store::parse_unverified(&note) {
                    Ok(cp) => cp,
                    Err(_) => return Ok(report),
                }
            }
        };
    report.origin.clone_from(&cp.origin);
    report.size = cp.size;
    report.root = hex::encode(cp.root);

    // 2–5, a chunk of bundles at a time so memory stays flat: entry bundles, leaf hashes,
    // entries and signatures (in batches), the index.
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&verifier.public_key()) else {
        report.problems.push(problem(
            None,
            "verifier key",
            "not a valid Ed25519 public key",
        ));
        return Ok(report);
    };
    let key_id = dsse::ed25519_keyid(&key);
    let size = cp.size;
    let mut tree = MemoryTree::new();
    // Entries whose content must be checked, and deletions.
    let mut with_content: Vec<(u64, LogEntry)> = Vec::new();
    // A reader thread reads the next chunk of bundles and its index rows while this thread
    // checks the current one.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk>(1);
    std::thread::scope(|scope| -> Result<(), StoreError> {
        scope.spawn(move || read_chunks(store, size, &tx));
        for chunk in rx {
            let (first, entries, rows) = match chunk {
                Chunk::Entries {
                    first,
                    entries,
                    rows,
                } => (first, entries, rows),
                Chunk::Broken(p) => {
                    report.problems.push(p);
                    break;
                }
                Chunk::Failed(e) => return Err(e),
            };
            // Everything per entry runs on the pool, a batch of signatures at a time: parse,
            // check, leaf hash, signature, index row. Only the tree is extended in order here.
            let checked: Vec<Checked> = entries
                .par_chunks(SIGNATURE_BATCH)
                .enumerate()
                .map(|(i, batch)| {
                    let from = first + (i * SIGNATURE_BATCH) as u64;
                    let mut checked = check_batch(from, batch, size, &key_id, &key);
                    check_index(&rows, &mut checked);
                    checked
                })
                .collect();
            for batch in checked {
                tree.extend(batch.leaves.iter().copied());
                report.signatures_verified += batch.good.len() as u64;
                report.problems.extend(batch.problems);
                with_content.extend(batch.good.into_iter().filter(|(_, e)| {
                    !e.record.blobs.is_empty() || e.record.kind == EvidenceKind::Deletion
                }));
            }
        }
        Ok(())
    })?;
    if tree.size() == size {
        check_tiles(store, &tree, size, &mut report);
        if tree.root() != cp.root {
            report.problems.push(problem(
                None,
                "log/checkpoint",
                format!(
                    "the entries hash to root {} but the checkpoint says {}",
                    hex::encode(tree.root()),
                    hex::encode(cp.root)
                ),
            ));
        }
    }

    // Content.
    let deletions: Vec<(u64, &LogEntry)> = with_content
        .iter()
        .filter(|(_, e)| e.record.kind == EvidenceKind::Deletion)
        .map(|(d, e)| (*d, e))
        .collect();
    let blob_problems: Vec<Result<(u64, u64), Problem>> = with_content
        .par_iter()
        .map(|(seq, entry)| check_blobs(store, *seq, entry, &deletions))
        .collect();
    for r in blob_problems {
        match r {
            Ok((verified, deleted)) => {
                report.blobs_verified += verified;
                report.blobs_deleted += deleted;
            }
            Err(p) => report.problems.push(p),
        }
    }
    // Rows beyond the checkpoint belong to an append that did not finish: they are not part of
    // the log, readers ignore them and the next writer removes them.
    report.pending_index_rows = store
        .query(&Query {
            from_seq: Some(size),
            ..Query::default()
        })?
        .len() as u64;

    report.problems.sort_by(|a, b| {
        a.entry
            .unwrap_or(u64::MAX)
            .cmp(&b.entry.unwrap_or(u64::MAX))
    });
    Ok(report)
}

/// What the reader thread hands over.
enum Chunk {
    /// Entries from `first` on, and the index rows for them.
    Entries {
        first: u64,
        entries: Vec<Vec<u8>>,
        rows: Vec<crate::index::Summary>,
    },
    /// A bundle that cannot be read: the log ends there for verification.
    Broken(Problem),
    /// The index failed.
    Failed(StoreError),
}

/// Reads the log's bundles a chunk at a time, with their index rows.
fn read_chunks(store: &Store, size: u64, tx: &std::sync::mpsc::SyncSender<Chunk>) {
    let mut n = 0;
    while tile_width(0, n, size) > 0 {
        let first = n * TILE_WIDTH;
        let mut entries: Vec<Vec<u8>> = Vec::new();
        for _ in 0..BUNDLES_PER_CHUNK {
            let width = tile_width(0, n, size);
            if width == 0 {
                break;
            }
            match store.tiles().read_entries(n, width) {
                Ok(bundle) => entries.extend(bundle),
                Err(e) => {
                    let _ = tx.send(Chunk::Broken(problem(
                        Some(n * TILE_WIDTH),
                        format!("log/{}", tiles::entries_path(n, width)),
                        e.to_string(),
                    )));
                    return;
                }
            }
            n += 1;
        }
        let below = first + entries.len() as u64;
        let chunk = match store.index_summaries(first, below) {
            Ok(rows) => Chunk::Entries {
                first,
                entries,
                rows,
            },
            Err(e) => Chunk::Failed(e),
        };
        let failed = matches!(chunk, Chunk::Failed(_));
        if tx.send(chunk).is_err() || failed {
            return;
        }
    }
}

/// A run of entries checked together.
struct Checked {
    /// The leaf hash of every entry of the run, in order.
    leaves: Vec<Hash>,
    /// The entries that passed, with their leaf hashes.
    good: Vec<(u64, LogEntry)>,
    /// The leaf hash of each good entry (parallel to `good`).
    good_leaves: Vec<Hash>,
    /// What is wrong with the others.
    problems: Vec<Problem>,
}

/// Bundles read, hashed and checked together.
const BUNDLES_PER_CHUNK: u64 = 64;
/// Signatures verified in one batch.
const SIGNATURE_BATCH: usize = 256;

/// Parses and checks a run of entries starting at `first`, verifying their signatures in one
/// batch; when the batch fails, each signature is checked alone to name the bad ones.
fn check_batch(
    first: u64,
    batch: &[Vec<u8>],
    size: u64,
    key_id: &str,
    key: &ed25519_dalek::VerifyingKey,
) -> Checked {
    let place = |seq: u64| {
        format!(
            "log/{}",
            tiles::entries_path(seq / TILE_WIDTH, tile_width(0, seq / TILE_WIDTH, size))
        )
    };
    let mut problems = Vec::new();
    let mut good = Vec::with_capacity(batch.len());
    let mut good_leaves = Vec::with_capacity(batch.len());
    let leaves: Vec<Hash> = batch.iter().map(|e| merkle::leaf_hash(e)).collect();
    for (i, bytes) in batch.iter().enumerate() {
        let seq = first + i as u64;
        match LogEntry::from_bytes(bytes) {
            Ok(entry) => match check_entry(&entry) {
                Ok(()) => {
                    good.push((seq, entry));
                    good_leaves.push(leaves[i]);
                }
                Err(what) => problems.push(problem(Some(seq), place(seq), what)),
            },
            Err(e) => problems.push(problem(Some(seq), place(seq), e.to_string())),
        }
    }
    // Signatures: all of the batch at once.
    let mut messages = Vec::with_capacity(good.len());
    let mut signatures = Vec::with_capacity(good.len());
    let mut batchable = true;
    for (_, entry) in &good {
        let sig = entry
            .envelope
            .signatures
            .iter()
            .find(|s| s.keyid == key_id)
            .and_then(|s| ed25519_dalek::Signature::from_slice(&s.sig).ok());
        match sig {
            Some(sig) => {
                messages.push(dsse::pae(
                    &entry.envelope.payload_type,
                    &entry.envelope.payload,
                ));
                signatures.push(sig);
            }
            None => batchable = false,
        }
    }
    let items: Vec<(&[u8], &ed25519_dalek::Signature)> = messages
        .iter()
        .map(Vec::as_slice)
        .zip(&signatures)
        .collect();
    if !batchable || !evident_ledger::batch::verify_same_key(key, &items) {
        let trusted = [(key_id.to_owned(), *key)];
        let mut kept = Vec::with_capacity(good.len());
        let mut kept_leaves = Vec::with_capacity(good.len());
        for ((seq, entry), leaf) in good.into_iter().zip(good_leaves) {
            match entry.envelope.verify(&trusted) {
                Ok(_) => {
                    kept.push((seq, entry));
                    kept_leaves.push(leaf);
                }
                Err(e) => problems.push(problem(
                    Some(seq),
                    place(seq),
                    format!("the envelope signature does not verify with the log's key: {e}"),
                )),
            }
        }
        good = kept;
        good_leaves = kept_leaves;
    }
    Checked {
        leaves,
        good,
        good_leaves,
        problems,
    }
}

fn check_tiles(store: &Store, tree: &MemoryTree, size: u64, report: &mut VerifyReport) {
    let mut level = 0u8;
    while u32::from(level) * u32::from(TILE_HEIGHT) < 64 {
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        if size >> shift == 0 {
            break;
        }
        let mut n = 0;
        while tile_width(level, n, size) > 0 {
            let width = tile_width(level, n, size);
            let place = format!("log/{}", tiles::tile_path(level, n, width));
            let first_leaf = (n * TILE_WIDTH) << shift;
            match store.tiles().read_tile(level, n, width) {
                Ok(stored) => {
                    report.tiles_verified += 1;
                    for (i, hash) in stored.iter().enumerate() {
                        let index = n * TILE_WIDTH + i as u64;
                        let Ok(expected) = tree.node(level * TILE_HEIGHT, index);
                        if *hash != expected {
                            report.problems.push(problem(
                                Some((index << shift).max(first_leaf)),
                                place.clone(),
                                format!(
                                    "hash {i} does not match the entries (it covers entries from {})",
                                    index << shift
                                ),
                            ));
                            break;
                        }
                    }
                }
                Err(e) => report
                    .problems
                    .push(problem(Some(first_leaf), place, e.to_string())),
            }
            n += 1;
        }
        level += 1;
    }
}

fn check_entry(entry: &LogEntry) -> Result<(), String> {
    if entry.envelope.payload_type != dsse::PAYLOAD_TYPE_IN_TOTO {
        return Err(format!(
            "the envelope carries {} instead of an in-toto statement",
            entry.envelope.payload_type
        ));
    }
    let payload = &entry.envelope.payload;
    let statement = Statement::from_payload(payload).map_err(|e| format!("the statement: {e}"))?;
    let record = &entry.record;
    if statement.predicate_type != record.predicate_type {
        return Err(format!(
            "the record says predicate type {} but the signed statement says {}",
            record.predicate_type, statement.predicate_type
        ));
    }
    let wanted = evident_ledger::record::subject_digest(&record.subject)
        .map_err(|e| format!("the record's subject: {e}"))?;
    if !statement
        .subject
        .iter()
        .any(|s| s.digest.get(&wanted.0) == Some(&wanted.1))
    {
        return Err(format!(
            "the signed statement is not about the record's subject {}",
            record.subject
        ));
    }
    let recorded = timefmt::parse(&record.recorded_at)?;
    let retain = timefmt::parse(&record.retain_until)?;
    if retain < recorded {
        return Err("retain_until is before recorded_at".into());
    }
    Ok(())
}

/// Whether `deletion` (entry `d`) is a deletion entry, later than entry `seq`, whose signed
/// statement names that entry and the content `digest`.
pub fn deletion_names(deletion: &LogEntry, d: u64, seq: u64, digest: &str) -> bool {
    if deletion.record.kind != EvidenceKind::Deletion || d <= seq {
        return false;
    }
    let Ok(statement) = Statement::from_payload(&deletion.envelope.payload) else {
        return false;
    };
    let names = |field: &str, wanted: &serde_json::Value| {
        statement.predicate[field]
            .as_array()
            .is_some_and(|a| a.contains(wanted))
    };
    names("entries", &serde_json::json!(seq)) && names("blobs", &serde_json::json!(digest))
}

/// Whether `deletion` was recorded at or after the end of `entry`'s retention period.
pub fn after_retention(deletion: &LogEntry, entry: &LogEntry) -> bool {
    match (
        timefmt::parse(&deletion.record.recorded_at),
        timefmt::parse(&entry.record.retain_until),
    ) {
        (Ok(at), Ok(until)) => at >= until,
        _ => false,
    }
}

fn check_blobs(
    store: &Store,
    seq: u64,
    entry: &LogEntry,
    deletions: &[(u64, &LogEntry)],
) -> Result<(u64, u64), Problem> {
    let (mut verified, mut deleted) = (0, 0);
    for blob in &entry.record.blobs {
        let place = format!(
            "blobs/sha256/{}/{}/{}",
            blob.sha256.get(..2).unwrap_or(""),
            blob.sha256.get(2..4).unwrap_or(""),
            blob.sha256
        );
        match store.blobs().get(&blob.sha256) {
            Ok(bytes) if bytes.len() as u64 == blob.size => verified += 1,
            Ok(bytes) => {
                return Err(problem(
                    Some(seq),
                    place,
                    format!(
                        "the blob has {} bytes but the record says {}",
                        bytes.len(),
                        blob.size
                    ),
                ));
            }
            Err(BlobError::Missing(_)) => {
                let mut by = deletions
                    .iter()
                    .filter(|(d, deletion)| deletion_names(deletion, *d, seq, &blob.sha256));
                let first = by.clone().next();
                if by.any(|(_, deletion)| after_retention(deletion, entry)) {
                    deleted += 1;
                } else if let Some((d, _)) = first {
                    return Err(problem(
                        Some(seq),
                        place,
                        format!(
                            "the blob was deleted by entry {d} before its retention period ended"
                        ),
                    ));
                } else {
                    return Err(problem(Some(seq), place, "the blob is missing"));
                }
            }
            Err(e) => return Err(problem(Some(seq), place, e.to_string())),
        }
    }
    Ok((verified, deleted))
}

/// Compares the good entries of a checked run with their index rows (`rows`: by sequence
/// number, possibly with gaps).
fn check_index(rows: &[crate::index::Summary], checked: &mut Checked) {
    let rebuild = "(the index is derived data: delete index.sqlite, or drop the PostgreSQL schema, and the next append rebuilds it)";
    for ((seq, entry), leaf) in checked.good.iter().zip(&checked.good_leaves) {
        let Ok(at) = rows.binary_search_by_key(seq, |r| r.seq) else {
            checked.problems.push(problem(
                Some(*seq),
                "index.sqlite",
                format!("the entry is not indexed {rebuild}"),
            ));
            continue;
        };
        let row = &rows[at];
        let mut controls: Vec<&str> = entry.record.controls.iter().map(String::as_str).collect();
        controls.sort_unstable();
        controls.dedup();
        if row.leaf_hash != hex::encode(leaf)
            || row.kind != entry.record.kind.as_str()
            || row.subject != entry.record.subject
            || !row.controls.iter().map(String::as_str).eq(controls)
        {
            checked.problems.push(problem(
                Some(*seq),
                "index.sqlite",
                format!("the index row does not match the entry {rebuild}"),
            ));
        }
    }
}
