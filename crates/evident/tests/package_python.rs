//! The auditor package checked without evident's code: scripts/verify_package.py (Python,
//! stdlib + `cryptography`) verifies packages made by the real binary, and rejects tampered
//! copies of them, and `evident verify-package` agrees with it, except on the few checks of the
//! unsigned metadata that only the Python verifier makes (asserted as such below).
//!
//! The Python comes from EVIDENT_TEST_PYTHON, which scripts/test.sh sets to its virtual
//! environment; without it these tests fail (they are never skipped).

mod common;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{evident, git, new_repo};
use evident_ledger::record::{BlobRef, EvidenceKind, EvidenceRecord};
use evident_ledger::statement::{ResourceDescriptor, Statement};
use evident_store::keys::LogKey;
use evident_store::{NewEvidence, Store};
use serde_json::Value;

const CONTROL: &str = "soc2:CC8.1";

/// The Python of scripts/test.sh's virtual environment, with `cryptography` importable.
fn python() -> String {
    let python = std::env::var("EVIDENT_TEST_PYTHON").unwrap_or_default();
    assert!(
        !python.is_empty(),
        "EVIDENT_TEST_PYTHON is not set: run the suite with `bash scripts/test.sh`, which creates \
         a Python environment with `cryptography` and points EVIDENT_TEST_PYTHON at it"
    );
    let ok = Command::new(&python)
        .args([
            "-c",
            "from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{python}` (EVIDENT_TEST_PYTHON) cannot import cryptography: run `bash scripts/test.sh`, which installs it"
    );
    python
}

fn verifier_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/verify_package.py")
}

/// What a verifier run printed and how it ended.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(out: &Output) -> Self {
        Self {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn describe(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit code, and that the Python verifier never ends in a traceback.
    fn expect(&self, code: i32, what: &str) -> &Self {
        assert_eq!(self.code, Some(code), "{what}: {}", self.describe());
        assert!(
            !self.stderr.contains("Traceback") && !self.stdout.contains("Traceback"),
            "{what}: the verifier crashed: {}",
            self.describe()
        );
        self
    }

    fn names(&self, needle: &str, what: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "{what}: the output does not name `{needle}`: {}",
            self.describe()
        );
        self
    }
}

/// Runs scripts/verify_package.py with a cleared environment.
fn python_verify(package: &Path, extra: &[&str]) -> Run {
    let out = Command::new(python())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg(verifier_script())
        .arg(package)
        .args(extra)
        .output()
        .expect("python runs");
    Run::from(&out)
}

/// A repository with a ledger of three entries (an approval, an attestation with a file and a
/// secrets scan) and a spare key that did not sign anything.
struct Ledger {
    _dir: tempfile::TempDir,
    home: PathBuf,
    repo: PathBuf,
    /// The log's verifier key text.
    vkey: String,
    /// Another key's verifier text, with the same name as the log's key.
    other_vkey: String,
}

impl Ledger {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&repo).unwrap();
        new_repo(&repo);
        std::fs::write(repo.join("app.py"), "print('hello')\n").unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "first"]);
        let mut ledger = Self {
            _dir: dir,
            home,
            repo,
            vkey: String::new(),
            other_vkey: String::new(),
        };
        ledger.vkey = ledger.generate_key(&[]);
        ledger.other_vkey = ledger.generate_key(&["--out", "other.key"]);
        assert_ne!(ledger.vkey, ledger.other_vkey);
        ledger.record(&["--kind", "approval", "--reason", "reviewed PR 42"]);
        std::fs::write(
            ledger.repo.join("review.json"),
            "{\"reviewers\": [\"alice\", \"bob\"], \"approved\": true}\n",
        )
        .unwrap();
        ledger.record(&["--kind", "attestation", "--file", "review.json"]);
        let store = ledger.repo.join(".evident");
        ledger
            .evident()
            .arg("--store")
            .arg(&store)
            .args(["scan", "secrets", "--record", "."])
            .assert()
            .success();
        ledger
    }

    fn evident(&self) -> assert_cmd::Command {
        let mut cmd = evident(&self.home);
        cmd.current_dir(&self.repo);
        cmd
    }

    /// `evident keys generate [args]`, returning the verifier key text it prints.
    fn generate_key(&self, args: &[&str]) -> String {
        let out = self
            .evident()
            .args(["keys", "generate"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "keys generate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn record(&self, args: &[&str]) {
        self.evident()
            .args(["record", "--control", CONTROL, "--actor", "alice"])
            .args(args)
            .assert()
            .success();
    }

    /// `evident export [args] --out <name>`, returning the package path.
    fn export(&self, name: &str, args: &[&str]) -> PathBuf {
        let out = self.repo.join(name);
        self.evident()
            .arg("export")
            .args(args)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        out
    }

    /// `evident verify-package <package>` with the package's own key.
    fn evident_verify(&self, package: &Path) -> Run {
        let out = self
            .evident()
            .arg("verify-package")
            .arg(package)
            .output()
            .unwrap();
        Run::from(&out)
    }

    /// Both verifiers must end with `code` (the Python one naming `needle`).
    fn both_reject(&self, package: &Path, needle: &str, what: &str) {
        python_verify(package, &[])
            .expect(1, what)
            .names("FAILED", what)
            .names(needle, what);
        self.evident_verify(package)
            .expect(1, &format!("{what} (evident verify-package)"));
    }
}

/// A package's files, in archive order, by their path under `evidence-package/`.
type Files = Vec<(String, Vec<u8>)>;

fn read_package(path: &Path) -> Files {
    let file = std::fs::File::open(path).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut files = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let rel = name
            .strip_prefix("evidence-package/")
            .unwrap_or_else(|| panic!("{name} is outside evidence-package/"))
            .to_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        files.push((rel, data));
    }
    files
}

fn ustar_header(size: usize) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_size(size as u64);
    header.set_mode(0o644);
    header.set_mtime(1_700_000_000);
    header.set_entry_type(tar::EntryType::Regular);
    header
}

fn write_package(path: &Path, files: &Files) {
    let file = std::fs::File::create(path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::default(),
    ));
    for (name, data) in files {
        let mut header = ustar_header(data.len());
        builder
            .append_data(
                &mut header,
                format!("evidence-package/{name}"),
                data.as_slice(),
            )
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}

fn file_mut<'a>(files: &'a mut Files, name: &str) -> &'a mut Vec<u8> {
    let Some((_, data)) = files.iter_mut().find(|(n, _)| n == name) else {
        panic!("the package has no {name}");
    };
    data
}

/// Rewrites manifest.json so that its hashes match the (tampered) files again, as an attacker
/// would: the manifest is not signed.
fn fix_manifest(files: &mut Files) {
    let digests: Vec<(String, String)> = files
        .iter()
        .filter(|(n, _)| n != "manifest.json")
        .map(|(n, d)| (n.clone(), evident_store::blob::sha256_hex(d)))
        .collect();
    let manifest = file_mut(files, "manifest.json");
    let mut value: Value = serde_json::from_slice(manifest).unwrap();
    let listed = value["files"].as_object_mut().unwrap();
    listed.clear();
    for (name, digest) in digests {
        listed.insert(name, Value::String(digest));
    }
    *manifest = serde_json::to_vec_pretty(&value).unwrap();
}

/// Writes a modified copy of `package` as `name` beside it, with the manifest fixed up.
fn tampered(package: &Path, name: &str, change: impl FnOnce(&mut Files)) -> PathBuf {
    let mut files = read_package(package);
    change(&mut files);
    fix_manifest(&mut files);
    let out = package.with_file_name(name);
    write_package(&out, &files);
    out
}

fn position(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| panic!("{} not found", String::from_utf8_lossy(needle)))
}

#[test]
fn python_verifier_accepts_what_evident_exports() {
    let ledger = Ledger::new();
    let package = ledger.export("pkg.tar.gz", &["--control", CONTROL]);

    let run = python_verify(&package, &[]);
    run.expect(0, "the exported package")
        .names("entries/0.json: approval", "the approval")
        .names("entries/1.json: attestation", "the attestation")
        .names("1 blob(s): ok", "the attestation's content")
        .names(&ledger.vkey, "the key")
        .names(
            "OK: every file, signature and inclusion proof verifies",
            "the verdict",
        );
    // The scan is about other controls, so it is not in this package.
    assert!(!run.stdout.contains("entries/2.json"), "{}", run.describe());
    ledger
        .evident_verify(&package)
        .expect(0, "evident verify-package");

    // With the trusted key given, as an auditor would.
    python_verify(&package, &["--vkey", &ledger.vkey])
        .expect(0, "--vkey with the log's key")
        .names("the trusted key given with --vkey", "--vkey");
    let key_file = ledger.repo.join("trusted.vkey");
    std::fs::write(&key_file, format!("{}\n", ledger.vkey)).unwrap();
    python_verify(&package, &["--vkey", key_file.to_str().unwrap()])
        .expect(0, "--vkey from a file");
    // Another key is not the package's.
    python_verify(&package, &["--vkey", &ledger.other_vkey])
        .expect(1, "--vkey with another key")
        .names(
            "verifier.vkey: the package names the key",
            "--vkey mismatch",
        )
        .names("checkpoint: does not verify", "--vkey mismatch");

    // The whole ledger, with the scan and its report, and an entry whose canonical JSON
    // needs escapes and non-ASCII text (both sides must agree on RFC 8785).
    ledger
        .evident()
        .args([
            "record",
            "--kind",
            "deployment",
            "--control",
            "iso27001:A.8.32",
        ])
        .args(["--actor", "Zoë \"q\" \\ \t\u{2028} 😀 \u{7f}"])
        .args(["--label", "env=prød\u{1}", "--label", "zone=€"])
        .assert()
        .success();
    let all = ledger.export("all.tar.gz", &[]);
    python_verify(&all, &[])
        .expect(0, "the whole ledger")
        .names("entries/2.json: scan", "the scan")
        .names("entries/3.json: deployment", "the deployment")
        .names("4 entries", "the count");
    ledger
        .evident_verify(&all)
        .expect(0, "evident verify-package of the whole ledger");
}

#[test]
fn a_changed_blob_fails_both_verifiers() {
    let ledger = Ledger::new();
    let package = ledger.export("pkg.tar.gz", &["--control", CONTROL]);
    let mut blob = String::new();
    let bad = tampered(&package, "blob.tar.gz", |files| {
        let (name, data) = files
            .iter_mut()
            .find(|(n, _)| n.starts_with("blobs/sha256/"))
            .expect("the attestation's content is in the package");
        data[0] ^= 0x01;
        blob.clone_from(name);
    });
    ledger.both_reject(
        &bad,
        &format!("{blob}: content does not match"),
        "a changed blob",
    );
}

#[test]
fn a_changed_entry_fails_both_verifiers() {
    let ledger = Ledger::new();
    let package = ledger.export("pkg.tar.gz", &["--control", CONTROL]);
    let bad = tampered(&package, "entry.tar.gz", |files| {
        let entry = file_mut(files, "entries/0.json");
        // "alice" becomes "`lice": still valid, canonical JSON, but another leaf.
        let at = position(entry, br#""actor":"alice""#) + br#""actor":""#.len();
        entry[at] ^= 0x01;
    });
    ledger.both_reject(
        &bad,
        "proofs/0.tlog-proof: entries/0.json is not proven in the log",
        "a changed entry",
    );

    // A changed signed statement: the signature and the proof both fail.
    let bad = tampered(&package, "statement.tar.gz", |files| {
        let entry = file_mut(files, "entries/1.json");
        let at = position(entry, br#""payload":""#) + br#""payload":""#.len() + 8;
        entry[at] = if entry[at] == b'A' { b'B' } else { b'A' };
    });
    ledger.both_reject(
        &bad,
        "entries/1.json: the signed statement",
        "a changed statement",
    );
}

#[test]
fn another_verifier_key_fails_both_verifiers() {
    let ledger = Ledger::new();
    let package = ledger.export("pkg.tar.gz", &["--control", CONTROL]);
    let other = ledger.other_vkey.clone();
    let bad = tampered(&package, "key.tar.gz", |files| {
        *file_mut(files, "verifier.vkey") = format!("{other}\n").into_bytes();
    });
    ledger.both_reject(&bad, "checkpoint: does not verify", "another key");
    // An auditor who pins the real key is told the package names another one.
    python_verify(&bad, &["--vkey", &ledger.vkey])
        .expect(1, "another key, with --vkey")
        .names("verifier.vkey: the package names the key", "another key");
}

#[test]
fn a_changed_checkpoint_fails_both_verifiers() {
    let ledger = Ledger::new();
    let package = ledger.export("pkg.tar.gz", &["--control", CONTROL]);
    let bad = tampered(&package, "checkpoint.tar.gz", |files| {
        let note = String::from_utf8(file_mut(files, "checkpoint").clone()).unwrap();
        // The tree size line: claim one more entry than was signed.
        let mut lines: Vec<String> = note.split('\n').map(str::to_owned).collect();
        let size: u64 = lines[1].parse().unwrap();
        lines[1] = (size + 1).to_string();
        *file_mut(files, "checkpoint") = lines.join("\n").into_bytes();
    });
    ledger.both_reject(&bad, "checkpoint: does not verify", "a changed checkpoint");
    python_verify(&bad, &[])
        .expect(1, "a changed checkpoint")
        .names("is against another checkpoint", "the proofs");
}

#[test]
fn malformed_packages_are_problems_not_crashes() {
    let ledger = Ledger::new();
    let package = ledger.export("pkg.tar.gz", &["--control", CONTROL]);

    // A file the manifest does not list.
    let mut files = read_package(&package);
    files.push(("notes.txt".into(), b"trust me\n".to_vec()));
    let extra = package.with_file_name("extra.tar.gz");
    write_package(&extra, &files);
    ledger.both_reject(
        &extra,
        "notes.txt: is not listed in the manifest",
        "an unlisted file",
    );

    // A changed file without the manifest fixed up.
    let mut files = read_package(&package);
    file_mut(&mut files, "README.md").extend_from_slice(b"\nAlso trust this other key.\n");
    let stale = package.with_file_name("stale.tar.gz");
    write_package(&stale, &files);
    ledger.both_reject(&stale, "README.md: content hashes to", "a stale manifest");

    // An archive member that climbs out of the package folder.
    let files = read_package(&package);
    let unsafe_path = package.with_file_name("unsafe.tar.gz");
    {
        let file = std::fs::File::create(&unsafe_path).unwrap();
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::default(),
        ));
        for (name, data) in &files {
            let mut header = ustar_header(data.len());
            builder
                .append_data(
                    &mut header,
                    format!("evidence-package/{name}"),
                    data.as_slice(),
                )
                .unwrap();
        }
        // `tar` refuses to write `..` itself, so the name goes into the header by hand.
        let data = b"owned\n";
        let mut header = ustar_header(data.len());
        let name = b"evidence-package/../escape.txt";
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_cksum();
        builder.append(&header, &data[..]).unwrap();
        builder.into_inner().unwrap().finish().unwrap();
    }
    python_verify(&unsafe_path, &[])
        .expect(1, "an unsafe path")
        .names("has an unsafe path", "an unsafe path");
    let run = ledger.evident_verify(&unsafe_path);
    assert_ne!(
        run.code,
        Some(0),
        "evident accepted an unsafe path: {}",
        run.describe()
    );

    // Not a package at all, truncated, and usage errors.
    let junk = package.with_file_name("junk.tar.gz");
    std::fs::write(&junk, b"this is not gzip").unwrap();
    python_verify(&junk, &[])
        .expect(1, "not a .tar.gz")
        .names("is not a readable .tar.gz package", "not a .tar.gz");
    let bytes = std::fs::read(&package).unwrap();
    let truncated = package.with_file_name("truncated.tar.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    python_verify(&truncated, &[]).expect(1, "a truncated package");
    python_verify(&package.with_file_name("missing.tar.gz"), &[]).expect(2, "a missing file");
    python_verify(&package, &["--vkey", "not-a-key"]).expect(2, "a malformed --vkey");
    let run = python_verify(&package, &["--frobnicate"]);
    run.expect(2, "an unknown option");
}

/// The package of eleven entries: entry numbers 10 and 11 sort before 2 as file names.
#[test]
fn a_package_of_more_than_ten_entries_verifies() {
    let ledger = Ledger::new();
    for i in 0..9 {
        ledger.record(&["--kind", "approval", "--reason", &format!("change {i}")]);
    }
    let package = ledger.export("pkg.tar.gz", &["--control", CONTROL]);
    python_verify(&package, &["--vkey", &ledger.vkey])
        .expect(0, "eleven entries")
        .names("entries/11.json: approval", "the last entry")
        .names("11 entries", "the count");
    ledger
        .evident_verify(&package)
        .expect(0, "evident verify-package of eleven entries");
}

/// The unsigned files (manifest.json, index.json) and files no entry refers to, changed with
/// the manifest hashes fixed up. Both verifiers check them against the signed entries and
/// checkpoint, except the manifest's filter, which only the Python verifier checks.
#[test]
fn python_verifier_checks_the_unsigned_metadata() {
    let ledger = Ledger::new();
    let package = ledger.export("pkg.tar.gz", &["--control", CONTROL]);
    let change_json = |files: &mut Files, name: &str, change: &dyn Fn(&mut Value)| {
        let file = file_mut(files, name);
        let mut value: Value = serde_json::from_slice(file).unwrap();
        change(&mut value);
        *file = serde_json::to_vec_pretty(&value).unwrap();
    };

    let bad = tampered(&package, "index.tar.gz", |files| {
        change_json(files, "index.json", &|v| {
            v["entries"][0]["actor"] = Value::from("mallory");
        });
    });
    python_verify(&bad, &[])
        .expect(1, "a changed index row")
        .names(
            "index.json: entry 0: actor do not match",
            "a changed index row",
        );
    ledger
        .evident_verify(&bad)
        .expect(1, "a changed index row (evident)")
        .names("index.json: the row of entry 0 does not match", "evident");

    let bad = tampered(&package, "by-control.tar.gz", |files| {
        change_json(files, "index.json", &|v| {
            v["by_control"][CONTROL] = serde_json::json!([1]);
        });
    });
    python_verify(&bad, &[])
        .expect(1, "a changed by_control")
        .names(
            "index.json: by_control does not match",
            "a changed by_control",
        );
    ledger
        .evident_verify(&bad)
        .expect(1, "a changed by_control (evident)")
        .names("index.json: the index by control does not match", "evident");

    // An entry left out of the index (by_control untouched): `evident verify-package` checks
    // the rows it finds, but not that every entry has one, and accepts this package.
    let bad = tampered(&package, "index-row.tar.gz", |files| {
        change_json(files, "index.json", &|v| {
            v["entries"].as_array_mut().unwrap().remove(1);
        });
    });
    python_verify(&bad, &[])
        .expect(1, "an index row removed")
        .names(
            "index.json: does not list every selected entry",
            "an index row removed",
        );
    ledger
        .evident_verify(&bad)
        .expect(1, "an index row removed (evident)")
        .names("index.json: the rows listed differ", "evident");

    let bad = tampered(&package, "log-size.tar.gz", |files| {
        change_json(files, "manifest.json", &|v| v["log_size"] = Value::from(99));
    });
    python_verify(&bad, &[])
        .expect(1, "a changed log size")
        .names("manifest.json: log_size 99 differs", "the size");
    ledger
        .evident_verify(&bad)
        .expect(1, "a changed log size (evident)")
        .names("manifest.json: log_size is 99", "evident");

    // Only the Python verifier holds the selected entries to the manifest's filter:
    // `evident verify-package` does not check the filter (yet), and accepts this package.
    let bad = tampered(&package, "filter.tar.gz", |files| {
        change_json(files, "manifest.json", &|v| {
            v["filter"]["control"] = Value::from("soc2:CC6.1");
        });
    });
    python_verify(&bad, &[])
        .expect(1, "a changed filter")
        .names(
            "entries/0.json: does not match the manifest's filter",
            "the filter",
        );
    ledger
        .evident_verify(&bad)
        .expect(0, "a changed filter: evident does not check the filter");

    let bad = tampered(&package, "orphan-blob.tar.gz", |files| {
        files.push((
            format!("blobs/sha256/{}", "0".repeat(64)),
            b"spare\n".to_vec(),
        ));
    });
    python_verify(&bad, &[])
        .expect(1, "a blob no entry refers to")
        .names("is not referenced by any entry", "an orphan blob");
    ledger
        .evident_verify(&bad)
        .expect(1, "a blob no entry refers to (evident)")
        .names("is not part of any entry", "evident");

    let bad = tampered(&package, "stray.tar.gz", |files| {
        files.push(("notes.txt".into(), b"trust me\n".to_vec()));
    });
    python_verify(&bad, &[]).expect(1, "a stray file").names(
        "notes.txt: is not part of the evident-package/v1 layout",
        "a stray file",
    );
    ledger
        .evident_verify(&bad)
        .expect(1, "a stray file (evident)")
        .names("notes.txt: is not part of any entry", "evident");
}

/// An evidence record about commit `n`, built through the library.
fn library_evidence(
    n: u64,
    kind: EvidenceKind,
    recorded_at: &str,
    retain_until: &str,
    predicate: Value,
    content: Option<&[u8]>,
) -> NewEvidence {
    let commit = format!("{n:040x}");
    let predicate_type = format!("https://evident.dev/attestations/{}/v1", kind.as_str());
    let statement = Statement::new(
        vec![ResourceDescriptor {
            name: Some(format!("git:{commit}")),
            digest: BTreeMap::from([("gitCommit".to_owned(), commit.clone())]),
            ..ResourceDescriptor::default()
        }],
        &predicate_type,
        predicate,
    );
    NewEvidence {
        record: EvidenceRecord {
            kind,
            subject: format!("git:{commit}"),
            controls: vec![CONTROL.into()],
            actor: "ci".into(),
            recorded_at: recorded_at.into(),
            retain_until: retain_until.into(),
            predicate_type,
            blobs: Vec::new(),
            labels: BTreeMap::new(),
        },
        statement,
        content: content
            .map(|bytes| {
                vec![(
                    BlobRef {
                        sha256: String::new(),
                        size: 0,
                        media_type: "text/plain".into(),
                        name: Some("review.txt".into()),
                    },
                    bytes.to_vec(),
                )]
            })
            .unwrap_or_default(),
    }
}

/// A store made through the library, whose entry 0 (an approval recorded in 2024 and kept until
/// 2031) lost its content: deleted by entry 1 at `deleted_at` when given, else without a trace.
struct RetentionStore {
    dir: tempfile::TempDir,
    home: PathBuf,
    store: PathBuf,
    /// The digest of entry 0's content, no longer in the store.
    digest: String,
}

impl RetentionStore {
    fn new(deleted_at: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let store_dir = dir.path().join("store");
        std::fs::create_dir_all(&home).unwrap();
        let key = LogKey::generate("evident.test/retention").unwrap();
        key.write(&store_dir.join("keys/signing.key"), false)
            .unwrap();
        let store = Store::open(&store_dir).unwrap();
        let mut writer = store.writer(&key).unwrap();
        writer
            .append(vec![library_evidence(
                1,
                EvidenceKind::Approval,
                "2024-01-01T00:00:00Z",
                "2031-01-01T00:00:00Z",
                serde_json::json!({ "approved": true }),
                Some(b"reviewed by alice and bob\n"),
            )])
            .unwrap();
        let (_, kept) = store.entry(0, 1).unwrap();
        let digest = kept.record.blobs[0].sha256.clone();
        if let Some(at) = deleted_at {
            // As `evident evidence delete` records it: same subject and controls, naming the
            // entry and its blobs.
            writer
                .append(vec![library_evidence(
                    1,
                    EvidenceKind::Deletion,
                    at,
                    "2099-01-01T00:00:00Z",
                    serde_json::json!({ "entries": [0], "blobs": [digest], "reason": "retention" }),
                    None,
                )])
                .unwrap();
        }
        drop(writer);
        evident_store::blob::BlobStore::remove(store.blobs(), &digest).unwrap();
        drop(store);
        Self {
            dir,
            home,
            store: store_dir,
            digest,
        }
    }

    fn evident(&self) -> assert_cmd::Command {
        let mut cmd = evident(&self.home);
        cmd.current_dir(self.dir.path())
            .arg("--store")
            .arg(&self.store);
        cmd
    }

    /// `evident --store DIR export [args] --out <name>`.
    fn export(&self, name: &str, args: &[&str]) -> (PathBuf, Run) {
        let out = self.dir.path().join(name);
        let run = Run::from(
            &self
                .evident()
                .arg("export")
                .args(args)
                .arg("--out")
                .arg(&out)
                .output()
                .unwrap(),
        );
        (out, run)
    }

    fn evident_verify(&self, package: &Path) -> Run {
        Run::from(
            &evident(&self.home)
                .current_dir(self.dir.path())
                .arg("verify-package")
                .arg(package)
                .output()
                .unwrap(),
        )
    }
}

fn manifest_of(package: &Path) -> Value {
    let files = read_package(package);
    let (_, data) = files
        .iter()
        .find(|(n, _)| n == "manifest.json")
        .expect("a manifest");
    serde_json::from_slice(data).unwrap()
}

/// Content deleted after its retention period: the package carries the deletion entry instead
/// of the content, and both verifiers accept it; a deletion before the end of the retention
/// period, or content gone without a deletion entry, is refused.
#[test]
fn content_deleted_after_its_retention_period() {
    let ledger = RetentionStore::new(Some("2031-06-01T00:00:00Z"));
    let blob = format!("blobs/sha256/{}", ledger.digest);

    // The deletion has the same control, so it is part of the selection.
    let (package, run) = ledger.export("pkg.tar.gz", &["--control", CONTROL]);
    run.expect(0, "export");
    let manifest = manifest_of(&package);
    assert_eq!(manifest["entries"], serde_json::json!([0, 1]), "{manifest}");
    assert_eq!(manifest["supporting_entries"], serde_json::json!([]));
    assert_eq!(
        manifest["deleted_blobs"],
        serde_json::json!({ ledger.digest.as_str(): 1 })
    );
    assert!(read_package(&package).iter().all(|(n, _)| *n != blob));
    python_verify(&package, &[])
        .expect(0, "deleted after retention")
        .names(
            "entries/0.json: approval about git:",
            "the entry that lost its content",
        )
        .names("(1 deleted after retention by entry 1): ok", "the deletion")
        .names("entries/1.json: deletion", "the deletion entry");
    ledger
        .evident_verify(&package)
        .expect(0, "deleted after retention (evident)");

    // Approvals only: the deletion comes along as a supporting entry, outside the selection.
    let (package, run) = ledger.export(
        "approvals.tar.gz",
        &["--control", CONTROL, "--kind", "approval"],
    );
    run.expect(0, "export of the approvals");
    let manifest = manifest_of(&package);
    assert_eq!(manifest["entries"], serde_json::json!([0]), "{manifest}");
    assert_eq!(manifest["supporting_entries"], serde_json::json!([1]));
    assert_eq!(
        manifest["deleted_blobs"],
        serde_json::json!({ ledger.digest.as_str(): 1 })
    );
    let files = read_package(&package);
    let (_, index) = files.iter().find(|(n, _)| n == "index.json").unwrap();
    let index: Value = serde_json::from_slice(index).unwrap();
    assert_eq!(index["entries"].as_array().unwrap().len(), 1, "{index}");
    assert_eq!(index["by_control"][CONTROL], serde_json::json!([0]));
    python_verify(&package, &[])
        .expect(0, "a supporting deletion")
        .names(
            "entries/1.json: deletion about git:",
            "the supporting entry",
        )
        .names("(supporting: proves a deletion): ok", "its role")
        .names("2 entries (1 of them only to prove deletions)", "the count");
    ledger
        .evident_verify(&package)
        .expect(0, "a supporting deletion (evident)");

    // Without the deletion entry, nothing accounts for the missing content.
    let bad = tampered(&package, "no-deletion.tar.gz", |files| {
        files.retain(|(n, _)| !n.contains("/1."));
        let manifest = file_mut(files, "manifest.json");
        let mut value: Value = serde_json::from_slice(manifest).unwrap();
        value["supporting_entries"] = serde_json::json!([]);
        *manifest = serde_json::to_vec_pretty(&value).unwrap();
    });
    assert_eq!(read_package(&bad).len(), read_package(&package).len() - 3);
    python_verify(&bad, &[])
        .expect(1, "the deletion entry left out")
        .names(&format!("{blob}: missing"), "the blob")
        .names("entries/1.json is not a valid entry", "the deletion");
    ledger
        .evident_verify(&bad)
        .expect(1, "the deletion entry left out (evident)")
        .names(&format!("{blob}: missing"), "the blob");

    // Deleted half a year before the end of its retention period: export refuses, as the ledger
    // itself no longer verifies.
    let early = RetentionStore::new(Some("2030-06-01T00:00:00Z"));
    for (name, args) in [
        ("early.tar.gz", &["--control", CONTROL][..]),
        (
            "early-approvals.tar.gz",
            &["--control", CONTROL, "--kind", "approval"][..],
        ),
    ] {
        let (package, run) = early.export(name, args);
        run.expect(2, "export of an early deletion");
        assert!(
            run.stderr.contains("after its retention period") && run.stderr.contains(&early.digest),
            "{}",
            run.describe()
        );
        assert!(!package.exists(), "no package is written");
    }

    // Content gone without a deletion entry: export refuses.
    let lost = RetentionStore::new(None);
    let (package, run) = lost.export("lost.tar.gz", &["--control", CONTROL]);
    run.expect(2, "export of content lost without a deletion");
    assert!(
        run.stderr.contains("no deletion entry") && run.stderr.contains(&lost.digest),
        "{}",
        run.describe()
    );
    assert!(!package.exists(), "no package is written");
}
