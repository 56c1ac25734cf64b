//! `evident export` (the auditor package) and `evident verify-package`.
//!
//! The package layout is documented in docs/ledger.md; an independent verifier
//! (scripts/verify_package.py) checks it without any evident code.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use evident_ledger::checkpoint;
use evident_ledger::dsse::{self, Envelope};
use evident_ledger::merkle;
use evident_ledger::note::Verifier;
use evident_ledger::record::{LogEntry, subject_digest};
use evident_ledger::statement::Statement;
use evident_ledger::tlog_proof::TlogProof;
use evident_store::blob::sha256_hex;
use evident_store::timefmt;
use evident_store::verify::{after_retention, deletion_names};
use serde::Serialize;
use serde_json::{Value, json};

use super::context::{self, Trust};
use super::record::{query, row_json};
use crate::cli::{ExportArgs, ListFormat, VerifyPackageArgs};
use crate::{Failure, Outcome};

/// The package format this build writes and reads.
pub const PACKAGE_FORMAT: &str = "evident-package/v1";
const MAX_PACKAGE_FILE: u64 = 1 << 30;

pub fn export(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    args: &ExportArgs,
) -> Result<Outcome, Failure> {
    let started = std::time::Instant::now();
    let store = context::open_existing_store(store_opt)?;
    let config = context::project_config(config_path)?;
    let (verifier, trust) = context::trusted_verifier(store.root(), &args.vkey, &config)?;
    let note = store
        .checkpoint_note()?
        .ok_or_else(|| anyhow!("the ledger is empty: nothing to export"))?;
    let (cp, _) = checkpoint::open_checkpoint(note.as_bytes(), std::slice::from_ref(&verifier))
        .map_err(|e| anyhow!("log/checkpoint does not verify with {verifier}: {e}"))?;
    let q = query(&args.filter)?;
    let rows: Vec<_> = store
        .query(&q)?
        .into_iter()
        .filter(|r| r.seq < cp.size)
        .collect();
    if rows.is_empty() {
        fail!(
            "no evidence matches the filter; nothing to export (try `evident evidence list` with the same filter)"
        );
    }

    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut by_control: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut listing = Vec::new();
    let mut missing: Vec<(u64, String)> = Vec::new();
    for row in &rows {
        let entry = add_entry(&store, row.seq, cp.size, &note, &verifier, &mut files)?;
        for blob in &entry.record.blobs {
            match store.blobs().get(&blob.sha256) {
                Ok(data) => {
                    files.insert(format!("blobs/sha256/{}", blob.sha256), data);
                }
                Err(evident_store::blob::BlobError::Missing(_)) => {
                    missing.push((row.seq, blob.sha256.clone()));
                }
                Err(e) => return Err(anyhow!("entry {}: {e}", row.seq).into()),
            }
        }
        for control in &entry.record.controls {
            by_control.entry(control.clone()).or_default().push(row.seq);
        }
        listing.push(row_json(row));
    }
    // Content deleted after its retention period: the deletion entries come along as proof.
    let mut deleted_blobs: BTreeMap<String, u64> = BTreeMap::new();
    let mut supporting: BTreeSet<u64> = BTreeSet::new();
    if !missing.is_empty() {
        let deletions = store.query(&evident_store::index::Query {
            kind: Some("deletion".into()),
            below: Some(cp.size),
            ..evident_store::index::Query::default()
        })?;
        let mut deletion_entries = Vec::new();
        for d in &deletions {
            let (_, deletion) = store.entry(d.seq, cp.size)?;
            deletion_entries.push((d.seq, deletion));
        }
        for (seq, digest) in &missing {
            let (_, entry) = store.entry(*seq, cp.size)?;
            let found = deletion_entries
                .iter()
                .rev()
                .find(|(d, deletion)| {
                    deletion_names(deletion, *d, *seq, digest) && after_retention(deletion, &entry)
                })
                .map(|(d, _)| *d);
            let Some(d) = found else {
                fail!(
                    "the content of entry {seq} (sha256:{digest}) is missing from the store and no deletion entry records its removal after its retention period; run `evident ledger verify`"
                );
            };
            deleted_blobs.insert(digest.clone(), d);
            if !rows.iter().any(|r| r.seq == d) && supporting.insert(d) {
                add_entry(&store, d, cp.size, &note, &verifier, &mut files)?;
            }
        }
    }
    files.insert("checkpoint".into(), note.clone().into_bytes());
    files.insert("verifier.vkey".into(), format!("{verifier}\n").into_bytes());
    files.insert(
        "index.json".into(),
        serde_json::to_vec_pretty(&json!({ "by_control": by_control, "entries": listing }))?,
    );
    files.insert(
        "README.md".into(),
        readme(&cp.origin, cp.size, &verifier, rows.len(), &args.filter).into_bytes(),
    );
    let created = context::now();
    let manifest = json!({
        "format": PACKAGE_FORMAT,
        "origin": cp.origin,
        "log_size": cp.size,
        "root": hex::encode(cp.root),
        "verifier_key": verifier.to_string(),
        "created_at": timefmt::format(created),
        "filter": {
            "control": q.control, "subject": q.subject, "kind": q.kind,
            "predicate_type": q.predicate_type,
            "from": q.from.and_then(|s| jiff::Timestamp::from_second(s).ok()).map(timefmt::format),
            "to": q.to.and_then(|s| jiff::Timestamp::from_second(s).ok()).map(timefmt::format),
        },
        "entries": rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        "supporting_entries": supporting,
        "deleted_blobs": deleted_blobs,
        "files": files.iter().map(|(p, b)| (p.clone(), sha256_hex(b))).collect::<BTreeMap<_, _>>(),
    });
    files.insert(
        "manifest.json".into(),
        serde_json::to_vec_pretty(&manifest)?,
    );
    write_tar_gz(&args.out, &files, created.as_second())?;
    eprintln!(
        "wrote {} with {} entries ({} files) in {:.2} s; verify it with `evident verify-package {} --vkey '{}'`",
        args.out.display(),
        rows.len(),
        files.len(),
        started.elapsed().as_secs_f64(),
        args.out.display(),
        verifier
    );
    if trust == Trust::Store {
        eprintln!("note: the verifier key was {}", trust.describe());
    }
    Ok(Outcome::Clean)
}

/// Adds an entry's bytes, envelope and inclusion proof to the package files.
fn add_entry(
    store: &evident_store::Store,
    seq: u64,
    size: u64,
    note: &str,
    verifier: &Verifier,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<LogEntry, Failure> {
    let (bytes, entry) = store.entry(seq, size)?;
    let proof = TlogProof {
        extra: None,
        index: seq,
        proof: store.inclusion_proof(seq, size)?,
        checkpoint: note.to_owned(),
    };
    proof
        .verify(&merkle::leaf_hash(&bytes), std::slice::from_ref(verifier))
        .map_err(|e| anyhow!("entry {seq}: the proof does not verify: {e}"))?;
    files.insert(format!("entries/{seq}.json"), bytes);
    files.insert(
        format!("envelopes/{seq}.dsse.json"),
        entry.envelope.to_json(),
    );
    files.insert(
        format!("proofs/{seq}.tlog-proof"),
        proof.format().map_err(|e| anyhow!("{e}"))?.into_bytes(),
    );
    Ok(entry)
}

fn readme(
    origin: &str,
    size: u64,
    verifier: &Verifier,
    count: usize,
    filter: &crate::cli::EvidenceFilter,
) -> String {
    let scope = [
        filter.control.as_deref().map(|c| format!("control {c}")),
        filter.subject.as_deref().map(|s| format!("subject {s}")),
        filter.kind.as_deref().map(|k| format!("kind {k}")),
        filter.from.as_deref().map(|f| format!("from {f}")),
        filter.to.as_deref().map(|t| format!("to {t}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    format!(
        "# Evidence package\n\n\
         This package holds {count} evidence records from the ledger `{origin}` (which had {size} entries when the \
         package was made){}.\n\n\
         Every record is signed, and every record is proven to be in the ledger by a Merkle inclusion proof \
         against the ledger's signed checkpoint. You can check all of it offline.\n\n\
         ## 1. Make sure you trust the key\n\n\
         The ledger is signed with this key:\n\n    {verifier}\n\n\
         Compare it with the key the organisation published or pinned in its `evident.toml` `[ledger] verifier_key` \
         (a key found only inside this package proves integrity, not who signed).\n\n\
         ## 2. Verify\n\n\
         With evident: `evident verify-package <this file> --vkey '<the key>'`.\n\n\
         Without evident, by hand:\n\
         1. `manifest.json` lists every file with its SHA-256; check them.\n\
         2. `checkpoint` is a C2SP signed note (c2sp.org/signed-note) over a C2SP tlog-checkpoint: origin, tree size, \
         root hash. Its Ed25519 signature must verify with the key above.\n\
         3. For each record `entries/N.json`: its leaf hash is SHA-256(0x00 ‖ file bytes). `proofs/N.tlog-proof` \
         (c2sp.org/tlog-proof@v1) holds the RFC 6962 inclusion proof of leaf N against the same checkpoint.\n\
         4. Each record carries a DSSE envelope (also in `envelopes/N.dsse.json`) whose payload is an in-toto \
         Statement v1; its Ed25519 signature over the DSSE pre-authentication encoding must verify with the same key.\n\
         5. Content files are in `blobs/sha256/<digest>`; each record lists the digests of its content.\n\n\
         ## What is where\n\n\
         - `index.json`: the records by control, with kind, subject, time and actor.\n\
         - `entries/`: the records exactly as logged.\n\
         - `envelopes/`: the signed statements, usable with any in-toto / DSSE tool.\n\
         - `proofs/`: one inclusion proof per record.\n\
         - `blobs/`: the evidence content (scan reports, SBOMs, files).\n",
        if scope.is_empty() {
            String::new()
        } else {
            format!(", selected by {scope}")
        }
    )
}

fn write_tar_gz(path: &Path, files: &BTreeMap<String, Vec<u8>>, mtime: i64) -> Result<(), Failure> {
    let tmp = path.with_extension("partial");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(u64::try_from(mtime).unwrap_or(0));
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(
            &mut header,
            format!("evidence-package/{name}"),
            data.as_slice(),
        )
        .with_context(|| format!("cannot write {name} into the package"))?;
    }
    let gz = tar.into_inner().context("cannot finish the package")?;
    let file = gz.finish().context("cannot finish the package")?;
    file.sync_all().context("cannot sync the package")?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Reads every regular file of a package into memory, refusing unsafe or duplicate paths.
fn read_package(path: &Path) -> Result<BTreeMap<String, Vec<u8>>, Failure> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut files = BTreeMap::new();
    for entry in archive
        .entries()
        .with_context(|| format!("{}: not a .tar.gz package", path.display()))?
    {
        let mut entry = entry.with_context(|| format!("{}: damaged archive", path.display()))?;
        let name = entry.path()?.to_string_lossy().into_owned();
        if !entry.header().entry_type().is_file() {
            if entry.header().entry_type().is_dir() {
                continue;
            }
            fail!("{}: {name} is not a regular file", path.display());
        }
        let rel = name
            .strip_prefix("evidence-package/")
            .ok_or_else(|| anyhow!("{}: {name} is outside evidence-package/", path.display()))?
            .to_owned();
        if rel
            .split('/')
            .any(|p| p.is_empty() || p == ".." || p == ".")
        {
            fail!("{}: unsafe path {name}", path.display());
        }
        if entry.size() > MAX_PACKAGE_FILE {
            fail!("{}: {name} is larger than 1 GiB", path.display());
        }
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .with_context(|| format!("{}: cannot read {name}", path.display()))?;
        if files.insert(rel, data).is_some() {
            fail!("{}: {name} appears twice", path.display());
        }
    }
    Ok(files)
}

#[derive(Debug, Serialize)]
struct PackageProblem {
    file: String,
    what: String,
}

#[derive(Debug, Serialize)]
struct PackageReport {
    ok: bool,
    origin: String,
    log_size: u64,
    verifier_key: String,
    key_trusted: bool,
    entries: u64,
    blobs: u64,
    blobs_deleted: u64,
    controls: BTreeMap<String, Vec<u64>>,
    problems: Vec<PackageProblem>,
}

pub fn verify_package(args: &VerifyPackageArgs) -> Result<Outcome, Failure> {
    let files = read_package(&args.package)?;
    let mut problems = Vec::new();
    let mut problem = |file: &str, what: String| {
        problems.push(PackageProblem {
            file: file.to_owned(),
            what,
        });
    };
    let manifest: Value = serde_json::from_slice(
        files
            .get("manifest.json")
            .ok_or_else(|| anyhow!("{}: manifest.json is missing", args.package.display()))?,
    )
    .with_context(|| format!("{}: manifest.json is not JSON", args.package.display()))?;
    if manifest["format"] != PACKAGE_FORMAT {
        fail!(
            "{}: format {} is not {PACKAGE_FORMAT}; use a matching evident version",
            args.package.display(),
            manifest["format"]
        );
    }
    // 1. Every file listed with its hash, nothing unlisted.
    let listed: BTreeMap<String, String> = serde_json::from_value(manifest["files"].clone())
        .map_err(|e| anyhow!("manifest.json: files: {e}"))?;
    for (path, digest) in &listed {
        match files.get(path) {
            None => problem(path, "listed in the manifest but missing".into()),
            Some(data) if sha256_hex(data) != *digest => {
                problem(
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
            problem(path, "not listed in the manifest".into());
        }
    }
    // 2. The key and the checkpoint.
    let packaged_key = files
        .get("verifier.vkey")
        .map(|b| String::from_utf8_lossy(b).trim().to_owned())
        .unwrap_or_default();
    let (verifier, key_trusted) = match &args.vkey {
        Some(text) => (context::parse_vkey(text)?, true),
        None => (
            context::parse_vkey(&packaged_key).context("verifier.vkey")?,
            false,
        ),
    };
    if key_trusted && packaged_key != verifier.to_string() {
        problem(
            "verifier.vkey",
            format!("the package names key {packaged_key}, not the trusted key {verifier}"),
        );
    }
    let note = files.get("checkpoint").cloned().unwrap_or_default();
    let cp = match checkpoint::open_checkpoint(&note, std::slice::from_ref(&verifier)) {
        Ok((cp, _)) => Some(cp),
        Err(e) => {
            problem(
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
                problem(
                    "manifest.json",
                    format!(
                        "{field} is {} but the signed checkpoint says {value}",
                        manifest[field]
                    ),
                );
            }
        }
    }
    // 3. Entries, proofs, envelopes (in entry order).
    let key = ed25519_dalek::VerifyingKey::from_bytes(&verifier.public_key())
        .map_err(|e| anyhow!("the verifier key is not a valid Ed25519 key: {e}"))?;
    let key_id = dsse::ed25519_keyid(&key);
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
    let mut parsed: BTreeMap<u64, LogEntry> = BTreeMap::new();
    for (path, bytes) in &files {
        let Some(name) = path.strip_prefix("entries/") else {
            continue;
        };
        let Some(seq) = name
            .strip_suffix(".json")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            problem(
                path,
                "not an entry file name (entries/<number>.json)".into(),
            );
            continue;
        };
        for f in [
            path.clone(),
            format!("proofs/{seq}.tlog-proof"),
            format!("envelopes/{seq}.dsse.json"),
        ] {
            expected_files.insert(f);
        }
        let proof_path = format!("proofs/{seq}.tlog-proof");
        let leaf = merkle::leaf_hash(bytes);
        match files.get(&proof_path).map(|p| TlogProof::parse(p)) {
            None => problem(
                &proof_path,
                format!("missing: entry {seq} has no inclusion proof"),
            ),
            Some(Err(e)) => problem(&proof_path, e.to_string()),
            Some(Ok(proof)) => {
                if proof.index != seq {
                    problem(
                        &proof_path,
                        format!("proves entry {} instead of {seq}", proof.index),
                    );
                } else if proof.checkpoint.as_bytes() != note.as_slice() {
                    problem(
                        &proof_path,
                        "is against another checkpoint than the package's".into(),
                    );
                } else if let Err(e) = proof.verify(&leaf, std::slice::from_ref(&verifier)) {
                    problem(
                        &proof_path,
                        format!("entry {seq} is not proven in the log: {e}"),
                    );
                }
            }
        }
        let entry = match LogEntry::from_bytes(bytes) {
            Ok(e) => e,
            Err(e) => {
                problem(path, e.to_string());
                continue;
            }
        };
        if let Err(what) = check_entry(&entry, &key_id, &key) {
            problem(path, what);
        }
        let env_path = format!("envelopes/{seq}.dsse.json");
        match files.get(&env_path).map(|b| Envelope::from_json(b)) {
            Some(Ok(env)) if env == entry.envelope => {}
            Some(Ok(_)) => problem(
                &env_path,
                "differs from the envelope logged in the entry".into(),
            ),
            Some(Err(e)) => problem(&env_path, e.to_string()),
            None => problem(&env_path, "missing".into()),
        }
        parsed.insert(seq, entry);
    }
    // 4. Which entries are the selection and which only support it (deletions).
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
        problem(
            "manifest.json",
            "the entries listed differ from the entries in the package".into(),
        );
    }
    if let Some(cp) = &cp
        && let Some(max) = seen.last()
        && *max >= cp.size
    {
        problem(
            "checkpoint",
            format!("entry {max} is beyond the checkpoint's {} entries", cp.size),
        );
    }
    // 5. Content, and content deleted after its retention period.
    let deleted: BTreeMap<String, u64> =
        serde_json::from_value(manifest["deleted_blobs"].clone()).unwrap_or_default();
    let mut controls: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut blobs = 0u64;
    let mut blobs_deleted = 0u64;
    for (seq, entry) in &parsed {
        for blob in &entry.record.blobs {
            let blob_path = format!("blobs/sha256/{}", blob.sha256);
            expected_files.insert(blob_path.clone());
            match files.get(&blob_path) {
                Some(data) if sha256_hex(data) == blob.sha256 && data.len() as u64 == blob.size => {
                    blobs += 1;
                }
                Some(_) => problem(
                    &blob_path,
                    "content does not match its digest and size".into(),
                ),
                None => match deleted
                    .get(&blob.sha256)
                    .and_then(|d| parsed.get(d).map(|e| (*d, e)))
                {
                    Some((d, deletion))
                        if deletion_names(deletion, d, *seq, &blob.sha256)
                            && after_retention(deletion, entry) =>
                    {
                        blobs_deleted += 1;
                    }
                    Some((d, _)) => problem(
                        &blob_path,
                        format!(
                            "entry {d} does not delete the content of entry {seq} after its retention period"
                        ),
                    ),
                    None => problem(&blob_path, format!("missing: the content of entry {seq}")),
                },
            }
        }
        if selected.contains(seq) {
            for c in &entry.record.controls {
                controls.entry(c.clone()).or_default().push(*seq);
            }
        }
    }
    for path in files.keys() {
        if !expected_files.contains(path) {
            problem(path, "is not part of any entry".into());
        }
    }
    // 6. The index (unsigned) must agree with the signed entries.
    let index: Value = files
        .get("index.json")
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null);
    let indexed: BTreeMap<String, Vec<u64>> =
        serde_json::from_value(index["by_control"].clone()).unwrap_or_default();
    let sorted = |m: &BTreeMap<String, Vec<u64>>| -> BTreeMap<String, BTreeSet<u64>> {
        m.iter()
            .map(|(k, v)| (k.clone(), v.iter().copied().collect()))
            .collect()
    };
    if sorted(&indexed) != sorted(&controls) {
        problem(
            "index.json",
            "the index by control does not match the entries".into(),
        );
    }
    let rows: BTreeSet<u64> = index["entries"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["entry"].as_u64()).collect())
        .unwrap_or_default();
    if rows != selected {
        problem(
            "index.json",
            "the rows listed differ from the selected entries".into(),
        );
    }
    for d in &supporting {
        let is_deletion = parsed
            .get(d)
            .is_some_and(|e| e.record.kind == evident_ledger::record::EvidenceKind::Deletion);
        if !is_deletion || !deleted.values().any(|v| v == d) {
            problem(
                &format!("entries/{d}.json"),
                "is a supporting entry but proves no deletion of content in the package".into(),
            );
        }
    }
    for row in index["entries"].as_array().map_or(&[][..], Vec::as_slice) {
        let Some(entry) = row["entry"].as_u64().and_then(|s| parsed.get(&s)) else {
            problem(
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
            problem(
                "index.json",
                format!("the row of entry {} does not match the entry", row["entry"]),
            );
        }
    }
    let entries = parsed.len() as u64;
    let report = PackageReport {
        ok: problems.is_empty(),
        origin: cp.as_ref().map(|c| c.origin.clone()).unwrap_or_default(),
        log_size: cp.as_ref().map_or(0, |c| c.size),
        verifier_key: verifier.to_string(),
        key_trusted,
        entries,
        blobs,
        blobs_deleted,
        controls,
        problems,
    };
    let text = match args.format {
        ListFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        ListFormat::Human => human(&report),
    };
    super::print(&text)?;
    Ok(if report.ok {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

pub(crate) fn check_entry(
    entry: &LogEntry,
    key_id: &str,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<(), String> {
    let payload = entry
        .envelope
        .verify(&[(key_id.to_owned(), *key)])
        .map_err(|e| format!("the signature does not verify: {e}"))?;
    let statement = Statement::from_payload(payload).map_err(|e| format!("the statement: {e}"))?;
    if statement.predicate_type != entry.record.predicate_type {
        return Err("the record's predicate type differs from the signed statement's".into());
    }
    if entry.envelope.payload_type != dsse::PAYLOAD_TYPE_IN_TOTO {
        return Err(format!(
            "the envelope carries {} instead of an in-toto statement",
            entry.envelope.payload_type
        ));
    }
    let (alg, value) = subject_digest(&entry.record.subject)?;
    if !statement
        .subject
        .iter()
        .any(|s| s.digest.get(&alg) == Some(&value))
    {
        return Err(format!(
            "the signed statement is not about {}",
            entry.record.subject
        ));
    }
    Ok(())
}

fn human(report: &PackageReport) -> String {
    let mut out = format!(
        "package from ledger {} ({} entries at export)\n  key {}{}\n  {} entries, {} content blobs{}\n",
        report.origin,
        report.log_size,
        report.verifier_key,
        if report.key_trusted {
            " (the trusted key you gave)"
        } else {
            " (taken from the package: compare it with the published key, or pass --vkey)"
        },
        report.entries,
        report.blobs,
        if report.blobs_deleted > 0 {
            format!(
                ", {} deleted after their retention period",
                report.blobs_deleted
            )
        } else {
            String::new()
        }
    );
    for (control, seqs) in &report.controls {
        out.push_str(&format!(
            "  {:<22} {} entries\n",
            evident_controls::label(control),
            seqs.len()
        ));
    }
    if report.ok {
        out.push_str("OK: every file, proof and signature verifies\n");
    } else {
        out.push_str(&format!("FAILED: {} problem(s)\n", report.problems.len()));
        for p in &report.problems {
            out.push_str(&format!("  {}: {}\n", p.file, p.what));
        }
    }
    out
}
