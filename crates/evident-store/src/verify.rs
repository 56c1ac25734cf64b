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
use evident_ledger::entry_view::EntryView;
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
            let (first, bundles, spans, rows) = match chunk {
                Chunk::Entries {
                    first,
                    bundles,
                    spans,
                    rows,
                } => (first, bundles, spans, rows),
                Chunk::Broken(p) => {
                    report.problems.push(p);
                    break;
                }
                Chunk::Failed(e) => return Err(e),
            };
            // Everything per entry runs on the pool, a batch of signatures at a time: parse,
            // check, leaf hash, signature, index row. Only the tree is extended in order here.
            let entries: Vec<&[u8]> = spans
                .iter()
                .map(|(b, span)| &bundles[*b][span.clone()])
                .collect();
            let checked: Vec<Checked> = entries
                .par_chunks(SIGNATURE_BATCH)
                .enumerate()
                .map(|(i, batch)| {
                    let from = first + (i * SIGNATURE_BATCH) as u64;
                    check_batch(from, batch, size, &key_id, &key, &rows)
                })
                .collect();
            for batch in checked {
                tree.extend(batch.leaves.iter().copied());
                report.signatures_verified += batch.good;
                report.problems.extend(batch.problems);
                with_content.extend(batch.with_content);
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
        /// The bundles' bytes, and where each entry lies in them (bundle, span), in order.
        bundles: Vec<Vec<u8>>,
        spans: Vec<(usize, std::ops::Range<usize>)>,
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
        let mut bundles: Vec<Vec<u8>> = Vec::new();
        let mut spans = Vec::new();
        for _ in 0..BUNDLES_PER_CHUNK {
            let width = tile_width(0, n, size);
            if width == 0 {
                break;
            }
            match store.tiles().read_bundle(n, width) {
                Ok((bytes, bundle)) => {
                    spans.extend(bundle.into_iter().map(|span| (bundles.len(), span)));
                    bundles.push(bytes);
                }
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
        let below = first + spans.len() as u64;
        let chunk = match store.index_summaries(first, below) {
            Ok(rows) => Chunk::Entries {
                first,
                bundles,
                spans,
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
    /// How many entries passed every check, signature included.
    good: u64,
    /// The good entries whose content is checked afterwards (blobs, deletions).
    with_content: Vec<(u64, LogEntry)>,
    /// What is wrong with the others.
    problems: Vec<Problem>,
}

/// Bundles read, hashed and checked together.
const BUNDLES_PER_CHUNK: u64 = 64;
/// Signatures verified in one batch.
const SIGNATURE_BATCH: usize = 4096;

/// An entry that passed every check but its signature and the index's.
struct Parsed<'a> {
    seq: u64,
    reading: Reading<'a>,
    /// What the log key's signature covers, and the signature.
    signed: Option<(Vec<u8>, ed25519_dalek::Signature)>,
}

/// How an entry was read.
enum Reading<'a> {
    /// Borrowed from the bundle (see [`EntryView`]), with the owned entry too where its
    /// content is checked afterwards.
    View(EntryView<'a>, Option<LogEntry>),
    /// Owned: the entries the borrowed reading leaves to the owned one.
    Owned(LogEntry),
}

impl Reading<'_> {
    fn kind(&self) -> EvidenceKind {
        match self {
            Self::View(v, _) => v.kind,
            Self::Owned(e) => e.record.kind,
        }
    }

    fn subject(&self) -> &str {
        match self {
            Self::View(v, _) => v.subject,
            Self::Owned(e) => &e.record.subject,
        }
    }

    fn controls(&self) -> Vec<&str> {
        match self {
            Self::View(v, _) => v.controls.clone(),
            Self::Owned(e) => e.record.controls.iter().map(String::as_str).collect(),
        }
    }

    fn owned(&self) -> Option<&LogEntry> {
        match self {
            Self::View(_, e) => e.as_ref(),
            Self::Owned(e) => Some(e),
        }
    }

    fn into_owned(self) -> Option<LogEntry> {
        match self {
            Self::View(_, e) => e,
            Self::Owned(e) => Some(e),
        }
    }

    /// The log key's signature and the bytes it covers (taken out of a borrowed reading);
    /// `None` when the entry carries none that can be batched (it is then checked alone).
    fn take_signed(&mut self, key_id: &str) -> Option<(Vec<u8>, ed25519_dalek::Signature)> {
        match self {
            Self::View(view, _) => {
                let (_, sig) = view.signatures.iter().find(|(k, _)| *k == key_id)?;
                let sig = ed25519_dalek::Signature::from_bytes(sig);
                Some((std::mem::take(&mut view.pae), sig))
            }
            Self::Owned(entry) => {
                let sig = entry
                    .envelope
                    .signatures
                    .iter()
                    .find(|s| s.keyid == key_id)
                    .and_then(|s| ed25519_dalek::Signature::from_slice(&s.sig).ok())?;
                Some((
                    dsse::pae(&entry.envelope.payload_type, &entry.envelope.payload),
                    sig,
                ))
            }
        }
    }
}

/// Reads one entry: borrowed where it can be (see [`EntryView`]), owned otherwise, which names
/// what is wrong.
fn parse(bytes: &[u8]) -> Result<Reading<'_>, String> {
    if let Some(view) = EntryView::read(bytes)
        && times_in_order(view.recorded_at, view.retain_until)
    {
        // The content of these is checked afterwards, from the owned entry.
        let owned = if has_content(view.kind, view.has_blobs) {
            Some(LogEntry::from_bytes(bytes).map_err(|e| e.to_string())?)
        } else {
            None
        };
        return Ok(Reading::View(view, owned));
    }
    let entry = LogEntry::from_bytes(bytes).map_err(|e| e.to_string())?;
    check_entry(&entry)?;
    Ok(Reading::Owned(entry))
}

fn times_in_order(recorded: &str, retain: &str) -> bool {
    check_times(recorded, retain).is_ok()
}

/// The record's times parse and its retention does not end before it was recorded.
fn check_times(recorded: &str, retain: &str) -> Result<(), String> {
    let recorded = timefmt::parse(recorded)?;
    if timefmt::parse(retain)? < recorded {
        return Err("retain_until is before recorded_at".into());
    }
    Ok(())
}

/// Whether an entry's content is checked after its signature: it names blobs, or it deletes
/// some.
fn has_content(kind: EvidenceKind, has_blobs: bool) -> bool {
    has_blobs || kind == EvidenceKind::Deletion
}

/// Parses and checks a run of entries starting at `first`, verifying their signatures in one
/// batch; when the batch fails, each signature is checked alone to name the bad ones. Then
/// compares the good ones with their index rows.
fn check_batch(
    first: u64,
    batch: &[&[u8]],
    size: u64,
    key_id: &str,
    key: &ed25519_dalek::VerifyingKey,
    rows: &[crate::index::Summary],
) -> Checked {
    let place = |seq: u64| {
        format!(
            "log/{}",
            tiles::entries_path(seq / TILE_WIDTH, tile_width(0, seq / TILE_WIDTH, size))
        )
    };
    let mut problems = Vec::new();
    let leaves: Vec<Hash> = batch.iter().map(|e| merkle::leaf_hash(e)).collect();
    let mut good: Vec<Parsed<'_>> = Vec::with_capacity(batch.len());
    for (i, bytes) in batch.iter().enumerate() {
        let seq = first + i as u64;
        match parse(bytes) {
            Ok(mut reading) => {
                let signed = reading.take_signed(key_id);
                good.push(Parsed {
                    seq,
                    reading,
                    signed,
                });
            }
            Err(what) => problems.push(problem(Some(seq), place(seq), what)),
        }
    }
    // Signatures: all of the batch at once.
    let batchable = good.iter().all(|p| p.signed.is_some());
    let items: Vec<(&[u8], &ed25519_dalek::Signature)> = good
        .iter()
        .filter_map(|p| p.signed.as_ref().map(|(m, s)| (m.as_slice(), s)))
        .collect();
    if !batchable || !evident_ledger::batch::verify_same_key(key, &items) {
        let trusted = [(key_id.to_owned(), *key)];
        let mut kept = Vec::with_capacity(good.len());
        for p in good {
            // Checked alone from the owned entry, whose envelope names what is wrong.
            let bytes = &batch[usize::try_from(p.seq - first).unwrap_or(usize::MAX)];
            let entry = match p.reading.owned() {
                Some(entry) => Ok(std::borrow::Cow::Borrowed(entry)),
                None => LogEntry::from_bytes(bytes).map(std::borrow::Cow::Owned),
            };
            let verdict = entry.map_err(|e| e.to_string()).and_then(|entry| {
                entry
                    .envelope
                    .verify(&trusted)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
            match verdict {
                Ok(()) => kept.push(p),
                Err(e) => problems.push(problem(
                    Some(p.seq),
                    place(p.seq),
                    format!("the envelope signature does not verify with the log's key: {e}"),
                )),
            }
        }
        good = kept;
    }
    check_index(rows, &good, &leaves, first, &mut problems);
    let count = good.len() as u64;
    let with_content = good
        .into_iter()
        .filter_map(|p| {
            let entry = p.reading.into_owned()?;
            has_content(entry.record.kind, !entry.record.blobs.is_empty()).then_some((p.seq, entry))
        })
        .collect();
    Checked {
        leaves,
        good: count,
        with_content,
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
    check_times(&record.recorded_at, &record.retain_until)
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
        let place = || store.blobs().place(&blob.sha256);
        match store.blobs().get(&blob.sha256) {
            Ok(bytes) if bytes.len() as u64 == blob.size => verified += 1,
            Ok(bytes) => {
                return Err(problem(
                    Some(seq),
                    place(),
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
                        place(),
                        format!(
                            "the blob was deleted by entry {d} before its retention period ended"
                        ),
                    ));
                } else {
                    return Err(problem(Some(seq), place(), "the blob is missing"));
                }
            }
            Err(e) => return Err(problem(Some(seq), place(), e.to_string())),
        }
    }
    Ok((verified, deleted))
}

/// Compares the good entries of a checked run with their index rows (`rows`: by sequence
/// number, possibly with gaps).
fn check_index(
    rows: &[crate::index::Summary],
    good: &[Parsed<'_>],
    leaves: &[Hash],
    first: u64,
    problems: &mut Vec<Problem>,
) {
    let rebuild = "(the index is derived data: delete index.sqlite, or drop the PostgreSQL schema, and the next append rebuilds it)";
    let mut hex_leaf = [0u8; 64];
    for p in good {
        let Ok(at) = rows.binary_search_by_key(&p.seq, |r| r.seq) else {
            problems.push(problem(
                Some(p.seq),
                "index.sqlite",
                format!("the entry is not indexed {rebuild}"),
            ));
            continue;
        };
        let row = &rows[at];
        let leaf = leaves[usize::try_from(p.seq - first).unwrap_or(usize::MAX)];
        let mut controls = p.reading.controls();
        controls.sort_unstable();
        controls.dedup();
        let leaf_matches = hex::encode_to_slice(leaf, &mut hex_leaf).is_ok()
            && row.leaf_hash.as_bytes() == hex_leaf;
        if !leaf_matches
            || row.kind != p.reading.kind().as_str()
            || row.subject != p.reading.subject()
            || !row.controls.iter().map(String::as_str).eq(controls)
        {
            problems.push(problem(
                Some(p.seq),
                "index.sqlite",
                format!("the index row does not match the entry {rebuild}"),
            ));
        }
    }
}
