//! Assembling a package from a store: the selected entries with their envelopes, content and
//! inclusion proofs against one checkpoint, and what proves the deletion of content that is gone.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use evident_ledger::checkpoint::{self, CheckpointError};
use evident_ledger::merkle;
use evident_ledger::note::Verifier;
use evident_ledger::record::LogEntry;
use evident_ledger::tlog_proof::{TlogProof, TlogProofError};
use evident_store::blob::{BlobError, sha256_hex};
use evident_store::index::{IndexRow, Query};
use evident_store::verify::{after_retention, deletion_names};
use evident_store::{Store, StoreError, timefmt};
use jiff::Timestamp;
use serde_json::json;

use crate::archive::{WriteError, write_tar_gz};
use crate::readme::readme;
use crate::{Files, PACKAGE_FORMAT, Scope};

/// Why a package could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The log has no checkpoint yet.
    #[error("the ledger is empty: nothing to export")]
    EmptyLedger,
    /// The store's checkpoint is not signed by the trusted key.
    #[error("log/checkpoint does not verify with {verifier}: {reason}")]
    Checkpoint {
        verifier: String,
        reason: CheckpointError,
    },
    /// The query selects no entry the checkpoint covers.
    #[error("no evidence matches the filter; nothing to export")]
    NothingMatches,
    /// The store's inclusion proof of an entry does not lead to the checkpoint.
    #[error("entry {seq}: the proof does not verify: {reason}")]
    Proof { seq: u64, reason: TlogProofError },
    /// The proof of an entry cannot be written as a tlog-proof.
    #[error("{reason}")]
    ProofText { seq: u64, reason: TlogProofError },
    /// Content of an entry cannot be read.
    #[error("entry {seq}: {reason}")]
    Blob { seq: u64, reason: BlobError },
    /// Content of an entry is gone, and no deletion entry accounts for it.
    #[error(
        "the content of entry {seq} (sha256:{digest}) is missing from the store and no deletion entry records its removal after its retention period"
    )]
    ContentGone { seq: u64, digest: String },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A JSON file of the package could not be written.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// A package's files, ready to be written.
#[derive(Debug, Clone)]
pub struct Package {
    files: Files,
    entries: usize,
    log_size: u64,
    created: Timestamp,
}

impl Package {
    /// Every file, by its path under `evidence-package/`.
    pub fn files(&self) -> &Files {
        &self.files
    }

    /// How many entries the selection holds (entries that only prove a deletion not counted).
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// The size of the log at the checkpoint the package is proven against.
    pub fn log_size(&self) -> u64 {
        self.log_size
    }

    /// When the package was made.
    pub fn created(&self) -> Timestamp {
        self.created
    }

    /// Writes the package as a `.tar.gz` into `out` and returns `out`. The same package gives
    /// the same bytes.
    pub fn write_tar_gz<W: Write>(&self, out: W) -> Result<W, WriteError> {
        write_tar_gz(&self.files, self.created.as_second(), out)
    }
}

/// Builds the package of the entries `query` selects among those the store's latest checkpoint
/// covers. `verifier` is the key the checkpoint must be signed with (the one the package names),
/// `scope` the selection as the user gave it (for the README), `created` the time it records.
///
/// Content that is no longer in the store must have been deleted after its retention period by
/// a deletion entry, which then comes along (as a supporting entry when the query does not
/// select it); otherwise the package is refused, as the ledger no longer verifies.
pub fn build(
    store: &Store,
    verifier: &Verifier,
    query: &Query,
    scope: &Scope,
    created: Timestamp,
) -> Result<Package, BuildError> {
    let note = store.checkpoint_note()?.ok_or(BuildError::EmptyLedger)?;
    let (cp, _) = checkpoint::open_checkpoint(note.as_bytes(), std::slice::from_ref(verifier))
        .map_err(|reason| BuildError::Checkpoint {
            verifier: verifier.to_string(),
            reason,
        })?;
    let rows: Vec<IndexRow> = store
        .query(query)?
        .into_iter()
        .filter(|r| r.seq < cp.size)
        .collect();
    if rows.is_empty() {
        return Err(BuildError::NothingMatches);
    }
    let log = Log {
        store,
        size: cp.size,
        note: &note,
        verifier,
    };

    let mut files = Files::new();
    let mut by_control: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut listing = Vec::new();
    let mut missing: Vec<(u64, String)> = Vec::new();
    for row in &rows {
        let entry = log.add_entry(row.seq, &mut files)?;
        for blob in &entry.record.blobs {
            match store.blobs().get(&blob.sha256) {
                Ok(data) => {
                    files.insert(format!("blobs/sha256/{}", blob.sha256), data);
                }
                Err(BlobError::Missing(_)) => missing.push((row.seq, blob.sha256.clone())),
                Err(reason) => {
                    return Err(BuildError::Blob {
                        seq: row.seq,
                        reason,
                    });
                }
            }
        }
        for control in &entry.record.controls {
            by_control.entry(control.clone()).or_default().push(row.seq);
        }
        listing.push(row.to_json());
    }
    let deleted = log.deletions(&rows, &missing, &mut files)?;
    files.insert("checkpoint".into(), note.clone().into_bytes());
    files.insert("verifier.vkey".into(), format!("{verifier}\n").into_bytes());
    files.insert(
        "index.json".into(),
        serde_json::to_vec_pretty(&json!({ "by_control": by_control, "entries": listing }))?,
    );
    files.insert(
        "README.md".into(),
        readme(&cp.origin, cp.size, verifier, rows.len(), scope).into_bytes(),
    );
    let time = |s: Option<i64>| {
        s.and_then(|s| Timestamp::from_second(s).ok())
            .map(timefmt::format)
    };
    let manifest = json!({
        "format": PACKAGE_FORMAT,
        "origin": cp.origin,
        "log_size": cp.size,
        "root": hex::encode(cp.root),
        "verifier_key": verifier.to_string(),
        "created_at": timefmt::format(created),
        "filter": {
            "control": query.control, "subject": query.subject, "kind": query.kind,
            "predicate_type": query.predicate_type,
            "from": time(query.from),
            "to": time(query.to),
        },
        "entries": rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        "supporting_entries": deleted.supporting,
        "deleted_blobs": deleted.blobs,
        "files": files.iter().map(|(p, b)| (p.clone(), sha256_hex(b))).collect::<BTreeMap<_, _>>(),
    });
    files.insert(
        "manifest.json".into(),
        serde_json::to_vec_pretty(&manifest)?,
    );
    Ok(Package {
        files,
        entries: rows.len(),
        log_size: cp.size,
        created,
    })
}

/// The log at the package's checkpoint.
struct Log<'a> {
    store: &'a Store,
    size: u64,
    note: &'a str,
    verifier: &'a Verifier,
}

/// Content gone after its retention period, and the entries that prove it.
struct Deleted {
    /// Digest → the deletion entry.
    blobs: BTreeMap<String, u64>,
    /// Deletion entries in the package only to prove a deletion.
    supporting: BTreeSet<u64>,
}

impl Log<'_> {
    /// Adds an entry's bytes, envelope and inclusion proof (checked) to the package files.
    fn add_entry(&self, seq: u64, files: &mut Files) -> Result<LogEntry, BuildError> {
        let (bytes, entry) = self.store.entry(seq, self.size)?;
        let proof = TlogProof {
            extra: None,
            index: seq,
            proof: self.store.inclusion_proof(seq, self.size)?,
            checkpoint: self.note.to_owned(),
        };
        proof
            .verify(
                &merkle::leaf_hash(&bytes),
                std::slice::from_ref(self.verifier),
            )
            .map_err(|reason| BuildError::Proof { seq, reason })?;
        let text = proof
            .format()
            .map_err(|reason| BuildError::ProofText { seq, reason })?;
        files.insert(format!("entries/{seq}.json"), bytes);
        files.insert(
            format!("envelopes/{seq}.dsse.json"),
            entry.envelope.to_json(),
        );
        files.insert(format!("proofs/{seq}.tlog-proof"), text.into_bytes());
        Ok(entry)
    }

    /// Finds, for each content blob of `missing` (entry, digest), the deletion entry that
    /// removed it after its retention period, and adds the deletion entries `rows` does not
    /// hold as supporting entries.
    fn deletions(
        &self,
        rows: &[IndexRow],
        missing: &[(u64, String)],
        files: &mut Files,
    ) -> Result<Deleted, BuildError> {
        let mut deleted = Deleted {
            blobs: BTreeMap::new(),
            supporting: BTreeSet::new(),
        };
        if missing.is_empty() {
            return Ok(deleted);
        }
        let deletions = self.store.query(&Query {
            kind: Some("deletion".into()),
            below: Some(self.size),
            ..Query::default()
        })?;
        let mut deletion_entries = Vec::new();
        for d in &deletions {
            let (_, deletion) = self.store.entry(d.seq, self.size)?;
            deletion_entries.push((d.seq, deletion));
        }
        for (seq, digest) in missing {
            let (_, entry) = self.store.entry(*seq, self.size)?;
            let found = deletion_entries
                .iter()
                .rev()
                .find(|(d, deletion)| {
                    deletion_names(deletion, *d, *seq, digest) && after_retention(deletion, &entry)
                })
                .map(|(d, _)| *d);
            let Some(d) = found else {
                return Err(BuildError::ContentGone {
                    seq: *seq,
                    digest: digest.clone(),
                });
            };
            deleted.blobs.insert(digest.clone(), d);
            if !rows.iter().any(|r| r.seq == d) && deleted.supporting.insert(d) {
                self.add_entry(d, files)?;
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{self, CONTROL, Fixture};
    use serde_json::Value;

    fn control(c: &str) -> Query {
        Query {
            control: Some(c.to_owned()),
            ..Query::default()
        }
    }

    fn manifest(package: &Package) -> Value {
        serde_json::from_slice(&package.files()["manifest.json"]).unwrap()
    }

    #[test]
    fn a_package_holds_each_selected_entry_with_its_proof_envelope_and_content() {
        let f = Fixture::new();
        let package = f.build(&control(CONTROL)).unwrap();
        // Entries 0 and 2 support the control; entry 1 does not.
        assert_eq!(package.entries(), 2);
        assert_eq!(package.log_size(), 3);
        let names: Vec<&str> = package.files().keys().map(String::as_str).collect();
        let digest = &f.entry(0).record.blobs[0].sha256;
        let mut expected = vec![
            "README.md".to_owned(),
            format!("blobs/sha256/{digest}"),
            "checkpoint".to_owned(),
            "entries/0.json".to_owned(),
            "entries/2.json".to_owned(),
            "envelopes/0.dsse.json".to_owned(),
            "envelopes/2.dsse.json".to_owned(),
            "index.json".to_owned(),
            "manifest.json".to_owned(),
            "proofs/0.tlog-proof".to_owned(),
            "proofs/2.tlog-proof".to_owned(),
            "verifier.vkey".to_owned(),
        ];
        expected.sort();
        assert_eq!(names, expected);
        let m = manifest(&package);
        assert_eq!(m["format"], PACKAGE_FORMAT);
        assert_eq!(m["entries"], json!([0, 2]));
        assert_eq!(m["log_size"], 3);
        assert_eq!(m["created_at"], "2026-03-01T10:00:00Z");
        assert_eq!(m["filter"]["control"], CONTROL);
        assert_eq!(m["filter"]["from"], Value::Null);
        assert_eq!(m["supporting_entries"], json!([]));
        // Every other file, listed with its hash.
        let listed = m["files"].as_object().unwrap();
        assert_eq!(listed.len(), package.files().len() - 1);
        for (path, data) in package.files() {
            if path != "manifest.json" {
                assert_eq!(listed[path], sha256_hex(data), "{path}");
            }
        }
        let index: Value = serde_json::from_slice(&package.files()["index.json"]).unwrap();
        assert_eq!(index["by_control"][CONTROL], json!([0, 2]));
        assert_eq!(index["entries"][1]["entry"], 2);
        assert_eq!(
            package.files()["entries/0.json"],
            f.store.entry(0, 3).unwrap().0
        );
    }

    #[test]
    fn the_same_selection_and_time_give_the_same_bytes() {
        let f = Fixture::new();
        let make = || {
            f.build(&Query::default())
                .unwrap()
                .write_tar_gz(Vec::new())
                .unwrap()
        };
        assert_eq!(make(), make());
    }

    #[test]
    fn the_time_bounds_are_in_the_manifest() {
        let f = Fixture::new();
        let query = Query {
            from: Some(crate::parse_bound("2026-02", false).unwrap().as_second()),
            to: Some(crate::parse_bound("2026-02", true).unwrap().as_second()),
            ..Query::default()
        };
        let package = f.build(&query).unwrap();
        let m = manifest(&package);
        assert_eq!(m["entries"], json!([1]), "{m}");
        assert_eq!(m["filter"]["from"], "2026-02-01T00:00:00Z");
        assert_eq!(m["filter"]["to"], "2026-03-01T00:00:00Z");
    }

    #[test]
    fn nothing_to_export_is_an_error() {
        let f = Fixture::new();
        let e = f.build(&control("soc2:CC6.1")).unwrap_err();
        assert!(matches!(e, BuildError::NothingMatches), "{e:?}");

        let empty = Fixture::empty();
        let e = build(
            &empty.store,
            &empty.verifier(),
            &Query::default(),
            &Scope::default(),
            fixture::created(),
        )
        .unwrap_err();
        assert!(matches!(e, BuildError::EmptyLedger), "{e:?}");
    }

    #[test]
    fn another_key_is_refused() {
        let f = Fixture::new();
        let other = fixture::key().verifier();
        let e = build(
            &f.store,
            &other,
            &Query::default(),
            &Scope::default(),
            fixture::created(),
        )
        .unwrap_err();
        assert!(matches!(e, BuildError::Checkpoint { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("log/checkpoint does not verify with")
        );
    }

    #[test]
    fn content_gone_without_a_deletion_entry_is_refused() {
        let f = Fixture::new();
        let digest = f.entry(0).record.blobs[0].sha256.clone();
        evident_store::blob::BlobStore::remove(f.store.blobs(), &digest).unwrap();
        let e = f.build(&control(CONTROL)).unwrap_err();
        assert!(
            matches!(&e, BuildError::ContentGone { seq: 0, digest: d } if *d == digest),
            "{e:?}"
        );
    }
}
