//! The transparency-dev/merkle proof test vectors, run against `evident_ledger::merkle`.
//!
//! Every JSON file under `shared/data/tlog-vectors/{inclusion,consistency,subtreeinclusion,
//! subtreeconsistency}/` is one case: a happy path that must verify, or (`"wantErr": true`) a
//! tampered variant that must be rejected. Each folder's test fails, naming the files, if any
//! case goes the wrong way, and also if it ran no case or fewer cases than there are files.
//!
//! Hashes are standard base64. A case that cannot be decoded into the typed API (a value that is
//! not base64, or not a 32-byte hash: truncated garbage, an empty string, the placeholder
//! `"don't care N"`) counts as rejected if it must be rejected, as it would be when a caller
//! parses it, and fails otherwise. The only exceptions are the happy paths listed in
//! [`HAPPY_WITH_PLACEHOLDERS`], where upstream puts a placeholder in a field that the verifier
//! only compares with another field, or does not look at. Those run with a stand-in for the
//! placeholder: the SHA-256 of a fixed tag and its bytes, a 32-byte value that no tree produces
//! and that keeps equal values equal.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use evident_ledger::Hash;
use evident_ledger::merkle::{
    ProofError, verify_consistency, verify_inclusion, verify_subtree_consistency,
    verify_subtree_inclusion,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// The four folders of cases, each with its own JSON shape.
const FOLDERS: [&str; 4] = [
    "inclusion",
    "consistency",
    "subtreeinclusion",
    "subtreeconsistency",
];

/// Happy paths whose fields are not all 32-byte hashes, relative to the vectors folder.
///
/// - equal sizes with an empty proof: the two roots only have to be equal;
/// - an empty subtree: contained in every tree, so the tree's root is not looked at.
const HAPPY_WITH_PLACEHOLDERS: [&str; 4] = [
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
    "subtreeconsistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
    "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-one-subtree-root-valid-tree-root-random-proof-is-empty.json",
    "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-tree-root-random-proof-is-empty.json",
];

fn vectors_dir() -> PathBuf {
    // scripts/test.sh sets EVIDENT_SHARED_DATA; by default the data sits beside the repository.
    std::env::var_os("EVIDENT_SHARED_DATA")
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
            PathBuf::from,
        )
        .join("tlog-vectors")
}

/// Every `.json` file under `dir`, recursively, sorted.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A file's path relative to the vectors folder, with `/` separators.
fn relative(path: &Path) -> String {
    let rel = path.strip_prefix(vectors_dir()).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// A decoded hash field.
struct Field {
    hash: Hash,
    /// Whether `hash` is a stand-in for a value that is not 32 bytes long.
    stand_in: bool,
}

/// Decodes a base64 hash field, or a stand-in for a value of another length.
fn field(name: &str, text: &str) -> Result<Field, String> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| format!("{name} is not base64 ({text:?}): {e}"))?;
    Ok(match Hash::try_from(bytes.as_slice()) {
        Ok(hash) => Field {
            hash,
            stand_in: false,
        },
        Err(_) => Field {
            hash: Sha256::new()
                .chain_update(b"evident test stand-in for a value of the wrong length:")
                .chain_update(&bytes)
                .finalize()
                .into(),
            stand_in: true,
        },
    })
}

/// Decodes the proof hashes; `None` (JSON `null`) is the empty proof.
fn proof(texts: Option<&[String]>) -> Result<(Vec<Hash>, bool), String> {
    let mut stand_in = false;
    let hashes = texts
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let f = field(&format!("proof[{i}]"), text)?;
            stand_in |= f.stand_in;
            Ok(f.hash)
        })
        .collect::<Result<_, String>>()?;
    Ok((hashes, stand_in))
}

/// A case ready to run: whether it used stand-ins, and the verifier's verdict.
struct Run {
    stand_in: bool,
    verdict: Result<(), ProofError>,
}

/// One JSON shape: how to read it and run it.
trait Case: DeserializeOwned {
    fn want_err(&self) -> bool;
    fn desc(&self) -> &str;
    /// Decodes the hashes and runs the verifier; `Err` if a field cannot be decoded.
    fn run(&self) -> Result<Run, String>;
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Inclusion {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

impl Case for Inclusion {
    fn want_err(&self) -> bool {
        self.want_err
    }

    fn desc(&self) -> &str {
        &self.desc
    }

    fn run(&self) -> Result<Run, String> {
        let root = field("root", &self.root)?;
        let leaf = field("leafHash", &self.leaf_hash)?;
        let (proof, proof_stand_in) = proof(self.proof.as_deref())?;
        Ok(Run {
            stand_in: root.stand_in || leaf.stand_in || proof_stand_in,
            verdict: verify_inclusion(
                self.leaf_idx,
                self.tree_size,
                &leaf.hash,
                &proof,
                &root.hash,
            ),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Consistency {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

impl Case for Consistency {
    fn want_err(&self) -> bool {
        self.want_err
    }

    fn desc(&self) -> &str {
        &self.desc
    }

    fn run(&self) -> Result<Run, String> {
        let root1 = field("root1", &self.root1)?;
        let root2 = field("root2", &self.root2)?;
        let (proof, proof_stand_in) = proof(self.proof.as_deref())?;
        Ok(Run {
            stand_in: root1.stand_in || root2.stand_in || proof_stand_in,
            verdict: verify_consistency(self.size1, self.size2, &proof, &root1.hash, &root2.hash),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubtreeInclusion {
    leaf_idx: u64,
    start: u64,
    end: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

impl Case for SubtreeInclusion {
    fn want_err(&self) -> bool {
        self.want_err
    }

    fn desc(&self) -> &str {
        &self.desc
    }

    fn run(&self) -> Result<Run, String> {
        let root = field("root", &self.root)?;
        let leaf = field("leafHash", &self.leaf_hash)?;
        let (proof, proof_stand_in) = proof(self.proof.as_deref())?;
        Ok(Run {
            stand_in: root.stand_in || leaf.stand_in || proof_stand_in,
            verdict: verify_subtree_inclusion(
                self.leaf_idx,
                self.start,
                self.end,
                &leaf.hash,
                &proof,
                &root.hash,
            ),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubtreeConsistency {
    start: u64,
    end: u64,
    size: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

impl Case for SubtreeConsistency {
    fn want_err(&self) -> bool {
        self.want_err
    }

    fn desc(&self) -> &str {
        &self.desc
    }

    fn run(&self) -> Result<Run, String> {
        let root1 = field("root1", &self.root1)?;
        let root2 = field("root2", &self.root2)?;
        let (proof, proof_stand_in) = proof(self.proof.as_deref())?;
        Ok(Run {
            stand_in: root1.stand_in || root2.stand_in || proof_stand_in,
            verdict: verify_subtree_consistency(
                self.start,
                self.end,
                self.size,
                &proof,
                &root1.hash,
                &root2.hash,
            ),
        })
    }
}

/// What one folder gave.
#[derive(Debug, Default)]
struct Tally {
    files: usize,
    ran: usize,
    accepted: usize,
    rejected: usize,
    /// Cases that must be rejected and already fail to decode: a value is not base64, or not a
    /// 32-byte hash.
    rejected_undecodable: usize,
    /// Happy paths run with a stand-in value.
    happy_with_stand_ins: usize,
    /// Entries of [`HAPPY_WITH_PLACEHOLDERS`] this folder used.
    placeholders_used: BTreeSet<String>,
    failures: Vec<String>,
}

impl Tally {
    fn run_file<C: Case>(&mut self, path: &Path) {
        let name = relative(path);
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => return self.failures.push(format!("{name}: cannot read: {e}")),
        };
        let case: C = match serde_json::from_str(&text) {
            Ok(case) => case,
            Err(e) => return self.failures.push(format!("{name}: not a test case: {e}")),
        };
        self.ran += 1;
        let name = format!("{name} ({})", case.desc());
        let run = match case.run() {
            Ok(run) => run,
            Err(_) if case.want_err() => {
                self.rejected += 1;
                self.rejected_undecodable += 1;
                return;
            }
            Err(e) => {
                return self
                    .failures
                    .push(format!("{name}: happy path undecodable: {e}"));
            }
        };
        if run.stand_in {
            if case.want_err() {
                // A value that is not a 32-byte hash cannot reach the typed API at all.
                self.rejected += 1;
                self.rejected_undecodable += 1;
                return;
            }
            let file = relative(path);
            if HAPPY_WITH_PLACEHOLDERS.contains(&file.as_str()) {
                self.happy_with_stand_ins += 1;
                self.placeholders_used.insert(file);
            } else {
                self.failures.push(format!(
                    "{name}: happy path with a value that is not a 32-byte hash"
                ));
            }
        }
        match (run.verdict, case.want_err()) {
            (Ok(()), false) => self.accepted += 1,
            (Err(_), true) => self.rejected += 1,
            (Ok(()), true) => self
                .failures
                .push(format!("{name}: accepted, but must be rejected")),
            (Err(e), false) => self
                .failures
                .push(format!("{name}: rejected, but must be accepted: {e}")),
        }
    }
}

/// Runs every case of a folder and checks the tally.
fn run_folder<C: Case>(folder: &str) -> Tally {
    let files = json_files(&vectors_dir().join(folder));
    let mut tally = Tally {
        files: files.len(),
        ..Tally::default()
    };
    for path in &files {
        tally.run_file::<C>(path);
    }
    println!("{folder}: {tally:?}");

    let mut report = String::new();
    for failure in &tally.failures {
        let _ = writeln!(report, "  {failure}");
    }
    assert!(
        tally.failures.is_empty(),
        "{folder}: {} of {} cases failed:\n{report}",
        tally.failures.len(),
        tally.files
    );
    assert!(tally.ran > 0, "{folder}: no case ran");
    assert_eq!(
        tally.ran, tally.files,
        "{folder}: ran {} cases but found {} files",
        tally.ran, tally.files
    );
    assert_eq!(tally.accepted + tally.rejected, tally.ran);
    for expected in HAPPY_WITH_PLACEHOLDERS {
        if expected.starts_with(&format!("{folder}/")) {
            assert!(
                tally.placeholders_used.contains(expected),
                "{expected} is listed in HAPPY_WITH_PLACEHOLDERS but was not run as such"
            );
        }
    }
    tally
}

#[test]
fn inclusion_vectors() {
    let tally = run_folder::<Inclusion>("inclusion");
    assert!(tally.accepted > 0 && tally.rejected > 0);
}

#[test]
fn consistency_vectors() {
    let tally = run_folder::<Consistency>("consistency");
    assert!(tally.accepted > 0 && tally.rejected > 0);
}

#[test]
fn subtree_inclusion_vectors() {
    let tally = run_folder::<SubtreeInclusion>("subtreeinclusion");
    assert!(tally.accepted > 0 && tally.rejected > 0);
}

#[test]
fn subtree_consistency_vectors() {
    let tally = run_folder::<SubtreeConsistency>("subtreeconsistency");
    assert!(tally.accepted > 0 && tally.rejected > 0);
}

/// A new folder of vectors must get a test of its own, not be skipped silently.
#[test]
fn every_vector_file_is_in_a_known_folder() {
    let all = json_files(&vectors_dir());
    assert!(
        !all.is_empty(),
        "no vectors under {}",
        vectors_dir().display()
    );
    let unknown: Vec<String> = all
        .iter()
        .map(|path| relative(path))
        .filter(|name| !FOLDERS.iter().any(|f| name.starts_with(&format!("{f}/"))))
        .collect();
    assert!(
        unknown.is_empty(),
        "vectors outside the known folders: {unknown:?}"
    );
}
