//! Checking a package offline: file hashes, the checkpoint's signature, each entry's inclusion
//! proof and signed statement, content and its deletions, and the unsigned index against the
//! signed entries. Every problem is reported; only a package that cannot be read at all is an
//! error.

use std::collections::{BTreeMap, BTreeSet};

use evident_ledger::checkpoint;
use evident_ledger::dsse::{self, Envelope};
use evident_ledger::merkle;
use evident_ledger::note::{KeyError, Verifier};
use evident_ledger::record::{EvidenceKind, LogEntry, subject_digest};
use evident_ledger::statement::Statement;
use evident_ledger::tlog_proof::TlogProof;
use evident_store::blob::sha256_hex;
use evident_store::verify::{after_retention, deletion_names};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{Files, PACKAGE_FORMAT};

/// Why a package cannot be checked at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `manifest.json`.
    #[error("manifest.json is missing")]
    ManifestMissing,
    /// `manifest.json` is not JSON.
    #[error("manifest.json is not JSON: {0}")]
    ManifestNotJson(serde_json::Error),
    /// Another format (or none).
    #[error("format {0} is not {PACKAGE_FORMAT}; use a matching evident version")]
    Format(Value),
    /// The manifest's `files` is not a map of paths to digests.
    #[error("manifest.json: files: {0}")]
    ManifestFiles(serde_json::Error),
    /// No trusted key was given and the package's own `verifier.vkey` is not a key.
    #[error("verifier.vkey: `{text}` is not a verifier key (name+keyid+base64): {reason}")]
    PackagedKey { text: String, reason: KeyError },
    /// The key's public key is not an Ed25519 point.
    #[error("the verifier key is not a valid Ed25519 key: {0}")]
    BadKey(ed25519_dalek::SignatureError),
}

/// A problem found in a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageProblem {
    /// The package file it is about.
    pub file: String,
    /// What is wrong.
    pub what: String,
}

/// What a package holds and whether all of it verifies.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PackageReport {
    /// No problem at all.
    pub ok: bool,
    /// The log's origin, from the signed checkpoint (empty when it does not verify).
    pub origin: String,
    /// The log's size at the checkpoint.
    pub log_size: u64,
    /// The key everything was checked with.
    pub verifier_key: String,
    /// Whether that key was given by the caller (else it is the package's own).
    pub key_trusted: bool,
    /// Entries in the package (supporting entries included).
    pub entries: u64,
    /// Content blobs present and matching.
    pub blobs: u64,
    /// Content blobs deleted after their retention period, with their deletion entries.
    pub blobs_deleted: u64,
    /// The selected entries by control.
    pub controls: BTreeMap<String, Vec<u64>>,
    pub problems: Vec<PackageProblem>,
}

/// What is wrong with one logged entry's signature or statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryProblem {
    /// The DSSE signature does not verify with the key.
    #[error("the signature does not verify: {0}")]
    Signature(String),
    /// The signed payload is not an in-toto statement.
    #[error("the statement: {0}")]
    Statement(String),
    /// The record and the statement name different predicate types.
    #[error("the record's predicate type differs from the signed statement's")]
    PredicateType,
    /// The envelope's payload type is not in-toto's.
    #[error("the envelope carries {0} instead of an in-toto statement")]
    PayloadType(String),
    /// The record's subject is not a subject.
    #[error("{0}")]
    Subject(String),
    /// The signed statement is about something else than the record says.
    #[error("the signed statement is not about {0}")]
    OtherSubject(String),
}

/// Checks that `entry`'s envelope is signed by `key` (whose DSSE key id is `key_id`) and that
/// the signed statement agrees with the record: predicate type, payload type and subject.
pub fn check_entry(
    entry: &LogEntry,
    key_id: &str,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<(), EntryProblem> {
    let payload = entry
        .envelope
        .verify(&[(key_id.to_owned(), *key)])
        .map_err(|e| EntryProblem::Signature(e.to_string()))?;
    let statement =
        Statement::from_payload(payload).map_err(|e| EntryProblem::Statement(e.to_string()))?;
    if statement.predicate_type != entry.record.predicate_type {
        return Err(EntryProblem::PredicateType);
    }
    if entry.envelope.payload_type != dsse::PAYLOAD_TYPE_IN_TOTO {
        return Err(EntryProblem::PayloadType(
            entry.envelope.payload_type.clone(),
        ));
    }
    let (alg, value) = subject_digest(&entry.record.subject).map_err(EntryProblem::Subject)?;
    if !statement
        .subject
        .iter()
        .any(|s| s.digest.get(&alg) == Some(&value))
    {
        return Err(EntryProblem::OtherSubject(entry.record.subject.clone()));
    }
    Ok(())
}

/// The problems found so far.
#[derive(Default)]
struct Problems(Vec<PackageProblem>);

impl Problems {
    fn add(&mut self, file: &str, what: impl Into<String>) {
        self.0.push(PackageProblem {
            file: file.to_owned(),
            what: what.into(),
        });
    }
}

/// Verifies a package's files (as [`crate::read_package`] reads them) against `trusted`, the
/// verifier key the caller trusts for the log; without one, the package's own `verifier.vkey`
/// is used (which proves integrity, not authorship: the report says so).
pub fn verify_package(
    files: &Files,
    trusted: Option<&Verifier>,
) -> Result<PackageReport, VerifyError> {
    let mut problems = Problems::default();
    let manifest: Value = serde_json::from_slice(
        files
            .get("manifest.json")
            .ok_or(VerifyError::ManifestMissing)?,
    )
    .map_err(VerifyError::ManifestNotJson)?;
    if manifest["format"] != PACKAGE_FORMAT {
        return Err(VerifyError::Format(manifest["format"].clone()));
    }
    check_listing(files, &manifest, &mut problems)?;
    // The key and the checkpoint.
    let packaged_key = files
        .get("verifier.vkey")
        .map(|b| String::from_utf8_lossy(b).trim().to_owned())
        .unwrap_or_default();
    let verifier = match trusted {
        Some(v) => v.clone(),
        None => packaged_key
            .parse::<Verifier>()
            .map_err(|reason| VerifyError::PackagedKey {
                text: packaged_key.clone(),
                reason,
            })?,
    };
    if trusted.is_some() && packaged_key != verifier.to_string() {
        problems.add(
            "verifier.vkey",
            format!("the package names key {packaged_key}, not the trusted key {verifier}"),
        );
    }
    let note = files.get("checkpoint").cloned().unwrap_or_default();
    let cp = match checkpoint::open_checkpoint(&note, std::slice::from_ref(&verifier)) {
        Ok((cp, _)) => Some(cp),
        Err(e) => {
            problems.add(
                "checkpoint",
                format!("does not verify with {verifier}: {e}"),
            );
            None
        }
    };
    if let Some(cp) = &cp {
        let claims = [
            ("origin", json!(cp.origin)),
            ("log_size", json!(cp.size)),
            ("root", json!(hex::encode(cp.root))),
            ("verifier_key", json!(packaged_key)),
        ];
        for (field, value) in claims {
            if manifest[field] != value {
                problems.add(
                    "manifest.json",
                    format!(
                        "{field} is {} but the signed checkpoint says {value}",
                        manifest[field]
                    ),
                );
            }
        }
    }
    let key = ed25519_dalek::VerifyingKey::from_bytes(&verifier.public_key())
        .map_err(VerifyError::BadKey)?;
    let mut expected_files: BTreeSet<String> = [
        "manifest.json",
        "checkpoint",
        "verifier.vkey",
        "index.json",
        "README.md",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let parsed = check_entries(
        files,
        &note,
        &verifier,
        &key,
        &mut expected_files,
        &mut problems,
    );
    // Which entries are the selection and which only support it (deletions).
    let listed = |field: &str| -> Option<BTreeSet<u64>> {
        manifest[field]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
    };
    let selected = listed("entries").unwrap_or_default();
    let supporting = listed("supporting_entries").unwrap_or_default();
    let seen: BTreeSet<u64> = parsed.keys().copied().collect();
    if manifest["entries"].as_array().is_none()
        || seen != selected.union(&supporting).copied().collect()
    {
        problems.add(
            "manifest.json",
            "the entries listed differ from the entries in the package",
        );
    }
    if let Some(cp) = &cp
        && let Some(max) = seen.last()
        && *max >= cp.size
    {
        problems.add(
            "checkpoint",
            format!("entry {max} is beyond the checkpoint's {} entries", cp.size),
        );
    }
    // Content, and content deleted after its retention period.
    let deleted: BTreeMap<String, u64> =
        serde_json::from_value(manifest["deleted_blobs"].clone()).unwrap_or_default();
    let content = check_content(
        files,
        &parsed,
        &selected,
        &deleted,
        &mut expected_files,
        &mut problems,
    );
    for path in files.keys() {
        if !expected_files.contains(path) {
            problems.add(path, "is not part of any entry");
        }
    }
    // The index (unsigned) must agree with the signed entries.
    let index: Value = files
        .get("index.json")
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null);
    check_index_selection(&index, &selected, &content.controls, &mut problems);
    for d in &supporting {
        let is_deletion = parsed
            .get(d)
            .is_some_and(|e| e.record.kind == EvidenceKind::Deletion);
        if !is_deletion || !deleted.values().any(|v| v == d) {
            problems.add(
                &format!("entries/{d}.json"),
                "is a supporting entry but proves no deletion of content in the package",
            );
        }
    }
    check_index_rows(&index, &parsed, &mut problems);
    Ok(PackageReport {
        ok: problems.0.is_empty(),
        origin: cp.as_ref().map(|c| c.origin.clone()).unwrap_or_default(),
        log_size: cp.as_ref().map_or(0, |c| c.size),
        verifier_key: verifier.to_string(),
        key_trusted: trusted.is_some(),
        entries: parsed.len() as u64,
        blobs: content.blobs,
        blobs_deleted: content.blobs_deleted,
        controls: content.controls,
        problems: problems.0,
    })
}

/// Every file listed in the manifest with its hash, and nothing unlisted.
fn check_listing(
    files: &Files,
    manifest: &Value,
    problems: &mut Problems,
) -> Result<(), VerifyError> {
    let listed: BTreeMap<String, String> =
        serde_json::from_value(manifest["files"].clone()).map_err(VerifyError::ManifestFiles)?;
    for (path, digest) in &listed {
        match files.get(path) {
            None => problems.add(path, "listed in the manifest but missing"),
            Some(data) if sha256_hex(data) != *digest => {
                problems.add(
                    path,
                    format!(
                        "content hashes to {} but the manifest says {digest}",
                        sha256_hex(data)
                    ),
                );
            }
            Some(_) => {}
        }
    }
    for path in files.keys() {
        if path != "manifest.json" && !listed.contains_key(path) {
            problems.add(path, "not listed in the manifest");
        }
    }
    Ok(())
}

/// Each entry with its proof against the package's checkpoint and its envelope, in entry
/// order; returns the entries that parse.
fn check_entries(
    files: &Files,
    note: &[u8],
    verifier: &Verifier,
    key: &ed25519_dalek::VerifyingKey,
    expected_files: &mut BTreeSet<String>,
    problems: &mut Problems,
) -> BTreeMap<u64, LogEntry> {
    let key_id = dsse::ed25519_keyid(key);
    let mut parsed = BTreeMap::new();
    for (path, bytes) in files {
        let Some(name) = path.strip_prefix("entries/") else {
            continue;
        };
        let Some(seq) = name
            .strip_suffix(".json")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            problems.add(path, "not an entry file name (entries/<number>.json)");
            continue;
        };
        let proof_path = format!("proofs/{seq}.tlog-proof");
        let env_path = format!("envelopes/{seq}.dsse.json");
        for f in [path.clone(), proof_path.clone(), env_path.clone()] {
            expected_files.insert(f);
        }
        let leaf = merkle::leaf_hash(bytes);
        match files.get(&proof_path).map(|p| TlogProof::parse(p)) {
            None => problems.add(
                &proof_path,
                format!("missing: entry {seq} has no inclusion proof"),
            ),
            Some(Err(e)) => problems.add(&proof_path, e.to_string()),
            Some(Ok(proof)) => {
                if proof.index != seq {
                    problems.add(
                        &proof_path,
                        format!("proves entry {} instead of {seq}", proof.index),
                    );
                } else if proof.checkpoint.as_bytes() != note {
                    problems.add(
                        &proof_path,
                        "is against another checkpoint than the package's",
                    );
                } else if let Err(e) = proof.verify(&leaf, std::slice::from_ref(verifier)) {
                    problems.add(
                        &proof_path,
                        format!("entry {seq} is not proven in the log: {e}"),
                    );
                }
            }
        }
        let entry = match LogEntry::from_bytes(bytes) {
            Ok(e) => e,
            Err(e) => {
                problems.add(path, e.to_string());
                continue;
            }
        };
        if let Err(what) = check_entry(&entry, &key_id, key) {
            problems.add(path, what.to_string());
        }
        match files.get(&env_path).map(|b| Envelope::from_json(b)) {
            Some(Ok(env)) if env == entry.envelope => {}
            Some(Ok(_)) => problems.add(&env_path, "differs from the envelope logged in the entry"),
            Some(Err(e)) => problems.add(&env_path, e.to_string()),
            None => problems.add(&env_path, "missing"),
        }
        parsed.insert(seq, entry);
    }
    parsed
}

/// What the content check counted.
struct Content {
    blobs: u64,
    blobs_deleted: u64,
    /// The selected entries by control.
    controls: BTreeMap<String, Vec<u64>>,
}

/// Each entry's content: present and matching, or deleted after its retention period by a
/// deletion entry of the package (`deleted`: digest → deletion entry).
fn check_content(
    files: &Files,
    parsed: &BTreeMap<u64, LogEntry>,
    selected: &BTreeSet<u64>,
    deleted: &BTreeMap<String, u64>,
    expected_files: &mut BTreeSet<String>,
    problems: &mut Problems,
) -> Content {
    let mut content = Content {
        blobs: 0,
        blobs_deleted: 0,
        controls: BTreeMap::new(),
    };
    for (seq, entry) in parsed {
        for blob in &entry.record.blobs {
            let blob_path = format!("blobs/sha256/{}", blob.sha256);
            expected_files.insert(blob_path.clone());
            match files.get(&blob_path) {
                Some(data) if sha256_hex(data) == blob.sha256 && data.len() as u64 == blob.size => {
                    content.blobs += 1;
                }
                Some(_) => problems.add(&blob_path, "content does not match its digest and size"),
                None => match deleted
                    .get(&blob.sha256)
                    .and_then(|d| parsed.get(d).map(|e| (*d, e)))
                {
                    Some((d, deletion))
                        if deletion_names(deletion, d, *seq, &blob.sha256)
                            && after_retention(deletion, entry) =>
                    {
                        content.blobs_deleted += 1;
                    }
                    Some((d, _)) => problems.add(
                        &blob_path,
                        format!(
                            "entry {d} does not delete the content of entry {seq} after its retention period"
                        ),
                    ),
                    None => problems.add(&blob_path, format!("missing: the content of entry {seq}")),
                },
            }
        }
        if selected.contains(seq) {
            for c in &entry.record.controls {
                content.controls.entry(c.clone()).or_default().push(*seq);
            }
        }
    }
    content
}

/// The index by control and its rows name the selected entries.
fn check_index_selection(
    index: &Value,
    selected: &BTreeSet<u64>,
    controls: &BTreeMap<String, Vec<u64>>,
    problems: &mut Problems,
) {
    let indexed: BTreeMap<String, Vec<u64>> =
        serde_json::from_value(index["by_control"].clone()).unwrap_or_default();
    let sorted = |m: &BTreeMap<String, Vec<u64>>| -> BTreeMap<String, BTreeSet<u64>> {
        m.iter()
            .map(|(k, v)| (k.clone(), v.iter().copied().collect()))
            .collect()
    };
    if sorted(&indexed) != sorted(controls) {
        problems.add(
            "index.json",
            "the index by control does not match the entries",
        );
    }
    let rows: BTreeSet<u64> = index["entries"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["entry"].as_u64()).collect())
        .unwrap_or_default();
    if rows != *selected {
        problems.add(
            "index.json",
            "the rows listed differ from the selected entries",
        );
    }
}

/// Each row of the index says what its signed entry says.
fn check_index_rows(index: &Value, parsed: &BTreeMap<u64, LogEntry>, problems: &mut Problems) {
    for row in index["entries"].as_array().map_or(&[][..], Vec::as_slice) {
        let Some(entry) = row["entry"].as_u64().and_then(|s| parsed.get(&s)) else {
            problems.add(
                "index.json",
                format!(
                    "lists entry {} which the package does not hold",
                    row["entry"]
                ),
            );
            continue;
        };
        let r = &entry.record;
        if row["kind"] != r.kind.as_str()
            || row["subject"] != r.subject.as_str()
            || row["actor"] != r.actor.as_str()
            || row["recorded_at"] != r.recorded_at.as_str()
            || row["predicate_type"] != r.predicate_type.as_str()
        {
            problems.add(
                "index.json",
                format!("the row of entry {} does not match the entry", row["entry"]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{self, CONTROL, Fixture};
    use crate::read_package;
    use evident_store::index::Query;

    fn package(f: &Fixture, control: Option<&str>) -> Files {
        let query = Query {
            control: control.map(str::to_owned),
            ..Query::default()
        };
        let package = f.build(&query).unwrap();
        // Through the archive, as an auditor receives it.
        read_package(package.write_tar_gz(Vec::new()).unwrap().as_slice()).unwrap()
    }

    fn problems(report: &PackageReport) -> Vec<(&str, &str)> {
        report
            .problems
            .iter()
            .map(|p| (p.file.as_str(), p.what.as_str()))
            .collect()
    }

    #[test]
    fn a_built_package_verifies_with_the_trusted_key() {
        let f = Fixture::new();
        let files = package(&f, Some(CONTROL));
        let report = verify_package(&files, Some(&f.verifier())).unwrap();
        assert!(report.ok, "{:?}", report.problems);
        assert!(report.key_trusted);
        assert_eq!(report.origin, "evident.test/package");
        assert_eq!(report.log_size, 3);
        assert_eq!(report.entries, 2);
        assert_eq!(report.blobs, 1);
        assert_eq!(report.blobs_deleted, 0);
        assert_eq!(
            report.controls,
            BTreeMap::from([(CONTROL.into(), vec![0, 2])])
        );
        assert_eq!(report.verifier_key, f.verifier().to_string());
    }

    #[test]
    fn without_a_trusted_key_the_packaged_one_is_used_and_said_so() {
        let f = Fixture::new();
        let report = verify_package(&package(&f, None), None).unwrap();
        assert!(report.ok, "{:?}", report.problems);
        assert!(!report.key_trusted);
        assert_eq!(report.entries, 3);
    }

    #[test]
    fn another_trusted_key_fails_the_checkpoint_and_every_signature() {
        let f = Fixture::new();
        let other = fixture::key().verifier();
        let report = verify_package(&package(&f, Some(CONTROL)), Some(&other)).unwrap();
        assert!(!report.ok);
        let found = problems(&report);
        assert!(
            found
                .iter()
                .any(|(f, w)| *f == "verifier.vkey" && w.starts_with("the package names key"))
        );
        assert!(
            found
                .iter()
                .any(|(f, w)| *f == "checkpoint" && w.starts_with("does not verify with"))
        );
        assert!(
            found
                .iter()
                .any(|(f, w)| *f == "entries/0.json"
                    && w.starts_with("the signature does not verify"))
        );
        assert_eq!(report.origin, "");
    }

    #[test]
    fn a_changed_file_is_named() {
        let f = Fixture::new();
        let mut files = package(&f, Some(CONTROL));
        let digest = f.entry(0).record.blobs[0].sha256.clone();
        let blob = format!("blobs/sha256/{digest}");
        files.insert(blob.clone(), b"reviewed by nobody\n".to_vec());
        let report = verify_package(&files, Some(&f.verifier())).unwrap();
        let found = problems(&report);
        assert!(
            found
                .iter()
                .any(|(f, w)| *f == blob && w.starts_with("content hashes to")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(f, w)| *f == blob && *w == "content does not match its digest and size"),
            "{found:?}"
        );
    }

    #[test]
    fn stray_missing_and_unindexed_files_are_named() {
        let f = Fixture::new();
        let clean = package(&f, Some(CONTROL));

        let mut stray = clean.clone();
        stray.insert("notes.txt".into(), b"trust me\n".to_vec());
        let found = verify_package(&stray, Some(&f.verifier())).unwrap();
        assert!(problems(&found).contains(&("notes.txt", "not listed in the manifest")));
        assert!(problems(&found).contains(&("notes.txt", "is not part of any entry")));

        let mut no_proof = clean.clone();
        no_proof.remove("proofs/2.tlog-proof");
        let found = verify_package(&no_proof, Some(&f.verifier())).unwrap();
        assert!(problems(&found).contains(&(
            "proofs/2.tlog-proof",
            "missing: entry 2 has no inclusion proof"
        )));

        // An entry dropped along with everything naming it, the index and manifest listing
        // left as they were: the manifest and the index no longer agree with the entries.
        let mut dropped = clean;
        for f in [
            "entries/2.json",
            "envelopes/2.dsse.json",
            "proofs/2.tlog-proof",
        ] {
            dropped.remove(f);
        }
        let found = verify_package(&dropped, Some(&f.verifier())).unwrap();
        let found = problems(&found);
        assert!(found.contains(&(
            "manifest.json",
            "the entries listed differ from the entries in the package"
        )));
        assert!(found.contains(&(
            "index.json",
            "the index by control does not match the entries"
        )));
        assert!(found.contains(&(
            "index.json",
            "lists entry 2 which the package does not hold"
        )));
    }

    #[test]
    fn content_deleted_after_its_retention_period_is_proven_by_a_supporting_entry() {
        let f = Fixture::with_deletion();
        let files = package(&f, Some(CONTROL));
        let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
        assert_eq!(manifest["entries"], json!([0, 2]));
        assert_eq!(manifest["supporting_entries"], json!([3]));
        let report = verify_package(&files, Some(&f.verifier())).unwrap();
        assert!(report.ok, "{:?}", report.problems);
        assert_eq!(
            (report.blobs, report.blobs_deleted, report.entries),
            (0, 1, 3)
        );
        // Only the selection counts for the controls.
        assert_eq!(
            report.controls,
            BTreeMap::from([(CONTROL.into(), vec![0, 2])])
        );
    }

    #[test]
    fn unreadable_manifests_and_other_formats_are_errors() {
        let f = Fixture::new();
        let clean = package(&f, Some(CONTROL));
        let mut none = clean.clone();
        none.remove("manifest.json");
        assert!(matches!(
            verify_package(&none, None),
            Err(VerifyError::ManifestMissing)
        ));
        let mut garbage = clean.clone();
        garbage.insert("manifest.json".into(), b"{".to_vec());
        assert!(matches!(
            verify_package(&garbage, None),
            Err(VerifyError::ManifestNotJson(_))
        ));
        let mut v2 = clean.clone();
        v2.insert(
            "manifest.json".into(),
            br#"{"format": "evident-package/v2"}"#.to_vec(),
        );
        let e = verify_package(&v2, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "format \"evident-package/v2\" is not evident-package/v1; use a matching evident version"
        );
        let mut bad_key = clean;
        bad_key.insert("verifier.vkey".into(), b"nope\n".to_vec());
        let e = verify_package(&bad_key, None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("verifier.vkey: `nope` is not a verifier key"),
            "{e}"
        );
    }

    #[test]
    fn an_entry_signed_about_another_subject_is_refused() {
        let f = Fixture::new();
        let mut entry = f.entry(2);
        let key = ed25519_dalek::VerifyingKey::from_bytes(&f.verifier().public_key()).unwrap();
        let key_id = dsse::ed25519_keyid(&key);
        assert_eq!(check_entry(&entry, &key_id, &key), Ok(()));
        entry.record.subject = format!("git:{}", "f".repeat(40));
        assert_eq!(
            check_entry(&entry, &key_id, &key),
            Err(EntryProblem::OtherSubject(entry.record.subject.clone()))
        );
        entry.record.predicate_type = "https://example.com/other".into();
        assert_eq!(
            check_entry(&entry, &key_id, &key),
            Err(EntryProblem::PredicateType)
        );
    }
}
