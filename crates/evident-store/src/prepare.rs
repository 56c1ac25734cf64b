//! What an append does before it needs the writers' lock: check the evidence, store content
//! blobs in a bucket, sign each statement and encode each entry.
//!
//! [`Store::prepare`] does all of it for a batch; [`crate::Writer::append_prepared`] then only
//! places the entries in the log. A server prepares its next batch while the previous one is
//! being written and synced; [`crate::Writer::append`] does both steps in a row.

use evident_ledger::Hash;
use evident_ledger::dsse::{self, Envelope};
use evident_ledger::merkle;
use evident_ledger::record::{ENTRY_VERSION, LogEntry};
use rayon::prelude::*;

use crate::index::IndexRow;
use crate::keys::LogKey;
use crate::store::{Blobs, NewEvidence, Store, StoreError};
use crate::timefmt;

/// One piece of evidence signed and encoded for the log, waiting for its place in it.
#[derive(Debug)]
pub struct Prepared {
    /// The entry's canonical bytes.
    pub(crate) bytes: Vec<u8>,
    /// Its leaf hash.
    pub(crate) leaf: Hash,
    /// Its index row, whose `seq` is set when it is appended.
    pub(crate) row: IndexRow,
    /// Content blobs (digest, content) to write with the entry (a store directory's blobs; a
    /// bucket's are already stored).
    pub(crate) blob_files: Vec<(String, Vec<u8>)>,
    /// The DSSE key id of the key that signed it.
    pub(crate) key_id: String,
}

impl Prepared {
    /// The entry's canonical bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Store {
    /// Checks a batch of evidence, stores its content blobs if they live in a bucket, and signs
    /// and encodes every entry (in parallel for large batches), without the writers' lock. Nothing of the log
    /// changes; append the result with [`crate::Writer::append_prepared`] of a writer with the
    /// same key.
    pub fn prepare(
        &self,
        key: &LogKey,
        batch: Vec<NewEvidence>,
    ) -> Result<Vec<Prepared>, StoreError> {
        let mut items = Vec::with_capacity(batch.len());
        for item in batch {
            let mut record = item.record;
            record.blobs.clear();
            for time in [&record.recorded_at, &record.retain_until] {
                let t = timefmt::parse(time)
                    .map_err(|e| StoreError::Entry(format!("record times: {e}")))?;
                if timefmt::format(t) != *time {
                    return Err(StoreError::Entry(format!(
                        "record time `{time}` is not in canonical form (UTC, whole seconds: {})",
                        timefmt::format(t)
                    )));
                }
            }
            if record.predicate_type != item.statement.predicate_type {
                return Err(StoreError::Entry(format!(
                    "the record says predicate type {} but the statement has {}",
                    record.predicate_type, item.statement.predicate_type
                )));
            }
            let retain_until = timefmt::parse(&record.retain_until)
                .map_err(|e| StoreError::Entry(format!("record times: {e}")))?;
            let mut blob_files = Vec::new();
            for (mut blob, bytes) in item.content {
                blob.sha256 = crate::blob::sha256_hex(&bytes);
                blob.size = bytes.len() as u64;
                match &self.blobs {
                    Blobs::Dir(_) => blob_files.push((blob.sha256.clone(), bytes)),
                    // Locked until the record's retention ends. A blob stored for an entry that
                    // never reaches the log is harmless: content-addressed, written once.
                    Blobs::S3(b) => {
                        crate::blob::BlobStore::put_retained(b.as_ref(), &bytes, retain_until)?;
                    }
                }
                record.blobs.push(blob);
            }
            items.push((record, item.statement, blob_files));
        }
        let signing = key.dsse_key();
        let key_id = dsse::ed25519_keyid(&signing.verifying_key());
        let seal = |(record, statement, blob_files): Item| -> Result<Prepared, StoreError> {
            let payload = statement
                .to_payload()
                .map_err(|e| StoreError::Entry(e.to_string()))?;
            let envelope = Envelope::sign(
                dsse::PAYLOAD_TYPE_IN_TOTO,
                &payload,
                signing,
                key_id.clone(),
            );
            let entry = LogEntry {
                v: ENTRY_VERSION,
                record,
                envelope,
            };
            let bytes = entry
                .to_bytes()
                .map_err(|e| StoreError::Entry(e.to_string()))?;
            let leaf = merkle::leaf_hash(&bytes);
            let row = crate::store::index_row(0, &entry, &leaf)?;
            Ok(Prepared {
                bytes,
                leaf,
                row,
                blob_files,
                key_id: key_id.clone(),
            })
        };
        // Small batches (a server's, every few milliseconds) are signed on this thread: handing
        // them to the thread pool costs more than it saves, and its idle workers spin on the
        // cores the request handlers need.
        if items.len() < PARALLEL_FROM {
            items.into_iter().map(seal).collect()
        } else {
            items.into_par_iter().map(seal).collect()
        }
    }
}

/// A checked record, its statement and its content blobs, to be signed.
type Item = (
    evident_ledger::record::EvidenceRecord,
    evident_ledger::statement::Statement,
    Vec<(String, Vec<u8>)>,
);

/// The batch size from which entries are signed in parallel.
const PARALLEL_FROM: usize = 256;
