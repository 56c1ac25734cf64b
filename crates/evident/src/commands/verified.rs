//! Reading evidence that a decision rests on: every entry is checked against the trusted key
//! (its DSSE signature) and against the signed checkpoint (its inclusion proof) before use, and
//! content is checked against its digest as it is read. The index only says where to look.

use std::path::Path;

use anyhow::anyhow;
use evident_core::Config;
use evident_ledger::checkpoint::{self, Checkpoint};
use evident_ledger::merkle;
use evident_ledger::record::{BlobRef, LogEntry};
use evident_store::Store;
use evident_store::index::Query;

use super::context;
use crate::Failure;
use crate::cli::VkeyArgs;

/// A store opened for trusted reads up to its signed checkpoint.
pub struct VerifiedLog {
    pub store: Store,
    checkpoint: Option<Checkpoint>,
    key: ed25519_dalek::VerifyingKey,
    key_id: String,
}

impl VerifiedLog {
    /// Opens the store (created empty if missing) and checks its checkpoint signature.
    pub fn open(
        store_opt: Option<&Path>,
        vkey: &VkeyArgs,
        config: &Config,
    ) -> Result<Self, Failure> {
        let store = context::open_store(store_opt)?;
        let (verifier, _) = context::trusted_verifier(store.root(), vkey, config)?;
        let checkpoint = match store.checkpoint_note()? {
            None => None,
            Some(note) => {
                let (cp, _) =
                    checkpoint::open_checkpoint(note.as_bytes(), std::slice::from_ref(&verifier))
                        .map_err(|e| {
                            anyhow!(
                                "the ledger's checkpoint does not verify with {verifier}: {e}; run `evident ledger verify`"
                            )
                        })?;
                Some(cp)
            }
        };
        let key = ed25519_dalek::VerifyingKey::from_bytes(&verifier.public_key())
            .map_err(|e| anyhow!("the verifier key is not a valid Ed25519 key: {e}"))?;
        let key_id = evident_ledger::dsse::ed25519_keyid(&key);
        Ok(VerifiedLog {
            store,
            checkpoint,
            key,
            key_id,
        })
    }

    /// The entries matching `q` (within the checkpoint), each verified, oldest first.
    pub fn entries(&self, q: &Query) -> Result<Vec<(u64, LogEntry)>, Failure> {
        Ok(self
            .entries_with_leaf(q)?
            .into_iter()
            .map(|(seq, entry, _)| (seq, entry))
            .collect())
    }

    /// Like [`VerifiedLog::entries`], with each entry's leaf hash (hex).
    pub fn entries_with_leaf(&self, q: &Query) -> Result<Vec<(u64, LogEntry, String)>, Failure> {
        let Some(cp) = &self.checkpoint else {
            return Ok(Vec::new());
        };
        let mut q = q.clone();
        q.below = Some(cp.size);
        let mut rows = self.store.query(&q)?;
        rows.sort_by_key(|r| r.seq);
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let (entry, leaf) = self.entry_with_leaf(row.seq)?;
            out.push((row.seq, entry, leaf));
        }
        Ok(out)
    }

    /// Entry `seq`, verified, with its leaf hash (hex).
    pub fn entry_with_leaf(&self, seq: u64) -> Result<(LogEntry, String), Failure> {
        let Some(cp) = &self.checkpoint else {
            fail!("the ledger is empty: entry {seq} does not exist");
        };
        let (bytes, entry) = self.store.entry(seq, cp.size)?;
        let proof = self.store.inclusion_proof(seq, cp.size)?;
        let leaf = merkle::leaf_hash(&bytes);
        merkle::verify_inclusion(seq, cp.size, &leaf, &proof, &cp.root).map_err(|e| {
            anyhow!("entry {seq} is not in the signed log ({e}); run `evident ledger verify`")
        })?;
        super::export::check_entry(&entry, &self.key_id, &self.key)
            .map_err(|e| anyhow!("entry {seq}: {e}; run `evident ledger verify`"))?;
        Ok((entry, hex::encode(leaf)))
    }

    /// The content of a blob, checked against its digest.
    pub fn blob(&self, seq: u64, blob: &BlobRef) -> Result<Vec<u8>, Failure> {
        self.store.blobs().get(&blob.sha256).map_err(|e| {
            anyhow!(
                "entry {seq}: its content sha256:{} cannot be read: {e}",
                blob.sha256
            )
            .into()
        })
    }
}
