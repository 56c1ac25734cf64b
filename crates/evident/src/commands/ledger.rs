//! `evident ledger verify|checkpoint|proof`

use std::path::Path;

use anyhow::anyhow;
use evident_ledger::checkpoint;
use evident_ledger::tlog_proof::TlogProof;
use evident_store::verify::{self, VerifyReport};

use super::context::{self, Trust};
use crate::cli::{LedgerCommand, ListFormat};
use crate::{Failure, Outcome};

pub fn run(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    command: &LedgerCommand,
) -> Result<Outcome, Failure> {
    let store = context::open_existing_store(store_opt)?;
    let config = context::project_config(config_path)?;
    match command {
        LedgerCommand::Verify { vkey, format } => {
            let (verifier, trust) = context::trusted_verifier(store.root(), vkey, &config)?;
            let report = verify::verify(&store, &verifier)?;
            match format {
                ListFormat::Json => {
                    let mut doc = serde_json::to_value(&report)?;
                    doc["ok"] = serde_json::json!(report.ok());
                    doc["verifier_key"] = serde_json::json!(verifier.to_string());
                    super::print(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
                }
                ListFormat::Human => super::print(&human(&report, &verifier.to_string(), trust))?,
            }
            Ok(if report.ok() {
                Outcome::Clean
            } else {
                Outcome::Findings
            })
        }
        LedgerCommand::Checkpoint { vkey } => {
            let (verifier, _) = context::trusted_verifier(store.root(), vkey, &config)?;
            let note = store
                .checkpoint_note()?
                .ok_or_else(|| anyhow!("the ledger is empty: nothing has been recorded yet"))?;
            checkpoint::open_checkpoint(note.as_bytes(), std::slice::from_ref(&verifier))
                .map_err(|e| anyhow!("log/checkpoint does not verify with {verifier}: {e}"))?;
            super::print(&note)?;
            Ok(Outcome::Clean)
        }
        LedgerCommand::Proof { entry, size, vkey } => {
            let (verifier, _) = context::trusted_verifier(store.root(), vkey, &config)?;
            let note = store
                .checkpoint_note()?
                .ok_or_else(|| anyhow!("the ledger is empty: nothing has been recorded yet"))?;
            let (cp, _) =
                checkpoint::open_checkpoint(note.as_bytes(), std::slice::from_ref(&verifier))
                    .map_err(|e| anyhow!("log/checkpoint does not verify with {verifier}: {e}"))?;
            let at = size.unwrap_or(cp.size);
            if at > cp.size {
                fail!("--size {at}: the log has {} entries", cp.size);
            }
            if *entry >= at {
                fail!(
                    "--entry {entry}: the tree of size {at} has entries 0 to {}",
                    at.saturating_sub(1)
                );
            }
            let proof = store.inclusion_proof(*entry, at)?;
            if at == cp.size {
                let (bytes, _) = store.entry(*entry, cp.size)?;
                let p = TlogProof {
                    extra: None,
                    index: *entry,
                    proof,
                    checkpoint: note,
                };
                p.verify(
                    &evident_ledger::merkle::leaf_hash(&bytes),
                    std::slice::from_ref(&verifier),
                )
                .map_err(|e| anyhow!("the proof does not verify: {e}"))?;
                super::print(&p.format().map_err(|e| anyhow!("{e}"))?)?;
            } else {
                use base64::Engine as _;
                let mut out =
                    format!("# inclusion proof of entry {entry} in the tree of size {at}\n");
                for h in proof {
                    out.push_str(&base64::engine::general_purpose::STANDARD.encode(h));
                    out.push('\n');
                }
                super::print(&out)?;
            }
            Ok(Outcome::Clean)
        }
    }
}

fn human(report: &VerifyReport, vkey: &str, trust: Trust) -> String {
    let mut out = String::new();
    if report.size == 0 && report.problems.is_empty() {
        return "the ledger is empty: nothing to verify\n".into();
    }
    out.push_str(&format!(
        "ledger {}: {} entries, root {}\n  key {vkey}\n  trusted as {}\n",
        report.origin,
        report.size,
        report.root,
        trust.describe()
    ));
    out.push_str(&format!(
        "  {} hash tiles, {} envelope signatures, {} blobs verified{}\n",
        report.tiles_verified,
        report.signatures_verified,
        report.blobs_verified,
        if report.blobs_deleted > 0 {
            format!(", {} blobs deleted after retention", report.blobs_deleted)
        } else {
            String::new()
        }
    ));
    if report.ok() {
        out.push_str("OK: every entry, tile, blob and signature verifies\n");
    } else {
        let first = &report.problems[0];
        out.push_str(&format!(
            "FAILED: {} problem(s); the first bad {}:\n",
            report.problems.len(),
            first
                .entry
                .map_or_else(|| "place".to_owned(), |e| format!("entry is {e}"))
        ));
        for p in report.problems.iter().take(20) {
            out.push_str(&format!(
                "  {}{}: {}\n",
                p.entry
                    .map(|e| format!("entry {e} at "))
                    .unwrap_or_default(),
                p.place,
                p.what
            ));
        }
        if report.problems.len() > 20 {
            out.push_str(&format!("  … and {} more\n", report.problems.len() - 20));
        }
    }
    out
}
