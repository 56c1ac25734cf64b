//! The evidence ledger end to end through the real binary: keys, recording, listing, proofs,
//! verification, tampering of every kind of file, crash leftovers and retention.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{evident, git, new_repo};
use serde_json::Value;

struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
}

impl Repo {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        let home = tmp.path().join("home");
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(&home).unwrap();
        new_repo(&dir);
        fs::write(dir.join("README.md"), "hello\n").unwrap();
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "-q", "-m", "first"]);
        Self {
            _tmp: tmp,
            dir,
            home,
        }
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = evident(&self.home);
        cmd.current_dir(&self.dir).env("USER", "ada");
        cmd
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.cmd().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "evident {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn store(&self) -> PathBuf {
        self.dir.join(".evident")
    }

    fn head(&self) -> String {
        git(&self.dir, &["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// A key, two hand-made records and a recorded scan.
    fn with_evidence(self) -> Self {
        self.ok(&["keys", "generate", "--name", "evident.test/ledger"]);
        self.ok(&[
            "record",
            "--kind",
            "approval",
            "--control",
            "CC8.1",
            "--reason",
            "PR 42 reviewed",
        ]);
        fs::write(self.dir.join("provenance.json"), "{\"builder\":\"ci\"}\n").unwrap();
        self.ok(&[
            "record",
            "--kind",
            "attestation",
            "--file",
            "provenance.json",
            "--control",
            "iso27001:A.8.32",
        ]);
        self.ok(&["scan", "secrets", "--record", "."]);
        self
    }

    fn verify(&self) -> (i32, Value, String) {
        let out = self.run(&["ledger", "verify", "--format", "json"]);
        let human = self.run(&["ledger", "verify"]);
        (
            out.status.code().unwrap(),
            serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
            String::from_utf8_lossy(&human.stdout).into_owned(),
        )
    }
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = fs::read(path).unwrap();
    let i = at.min(bytes.len() - 1);
    bytes[i] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

#[test]
fn records_list_show_and_verify() {
    let repo = Repo::new().with_evidence();
    let head = repo.head();
    let list: Value = serde_json::from_str(&repo.ok(&["evidence", "list", "-f", "json"])).unwrap();
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["approval", "attestation", "scan"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|r| r["subject"] == format!("git:{head}"))
    );
    assert_eq!(list[0]["controls"][0], "soc2:CC8.1");
    assert_eq!(list[0]["actor"], "ada");

    let by_control: Value = serde_json::from_str(&repo.ok(&[
        "evidence",
        "list",
        "--control",
        "soc2:CC8.1",
        "-f",
        "json",
    ]))
    .unwrap();
    assert_eq!(by_control.as_array().unwrap().len(), 1);
    let scans: Value =
        serde_json::from_str(&repo.ok(&["evidence", "list", "--kind", "scan", "-f", "json"]))
            .unwrap();
    assert_eq!(scans[0]["entry"], 2);
    assert_eq!(
        scans[0]["predicate_type"],
        "https://in-toto.io/attestation/test-result/v0.1"
    );
    let none: Value = serde_json::from_str(&repo.ok(&[
        "evidence", "list", "--from", "2000-01", "--to", "2000-02", "-f", "json",
    ]))
    .unwrap();
    assert_eq!(none.as_array().unwrap().len(), 0);

    let shown: Value =
        serde_json::from_str(&repo.ok(&["evidence", "show", "0", "-f", "json"])).unwrap();
    assert_eq!(shown["statement"]["predicate"]["reason"], "PR 42 reviewed");
    assert_eq!(
        shown["statement"]["subject"][0]["digest"]["gitCommit"],
        head
    );
    assert_eq!(
        repo.ok(&["evidence", "show", "1", "--content"]),
        "{\"builder\":\"ci\"}\n"
    );

    let (code, report, human) = repo.verify();
    assert_eq!(code, 0, "{human}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["size"], 3);
    assert_eq!(report["signatures_verified"], 3);
    assert_eq!(report["blobs_verified"], 2);
    assert!(human.contains("OK"), "{human}");

    // The tiles are the C2SP layout: a checkpoint, a partial entry bundle and a partial tile.
    let log = repo.store().join("log");
    assert!(log.join("tile/entries/000.p/3").is_file());
    assert!(log.join("tile/0/000.p/3").is_file());
    let checkpoint = fs::read_to_string(log.join("checkpoint")).unwrap();
    assert!(
        checkpoint.starts_with("evident.test/ledger\n3\n"),
        "{checkpoint}"
    );
    assert!(checkpoint.contains("\n\n\u{2014} evident.test/ledger "));

    let proof = repo.ok(&["ledger", "proof", "--entry", "1"]);
    assert!(
        proof.starts_with("c2sp.org/tlog-proof@v1\nindex 1\n"),
        "{proof}"
    );
    assert!(
        proof.ends_with(&checkpoint),
        "the proof embeds the checkpoint"
    );
    assert_eq!(repo.ok(&["ledger", "checkpoint"]), checkpoint);
}

#[test]
fn a_missing_key_and_bad_arguments_are_clear_errors() {
    let repo = Repo::new();
    let out = repo.run(&["record", "--kind", "approval"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("evident keys generate"), "{err}");

    repo.ok(&["keys", "generate"]);
    for (args, wanted) in [
        (vec!["record", "--kind", "aproval"], "unknown evidence kind"),
        (
            vec!["record", "--kind", "approval", "--control", "CC99.9"],
            "CC99.9",
        ),
        (
            vec!["record", "--kind", "approval", "--subject", "git:xyz"],
            "40",
        ),
        (
            vec!["record", "--kind", "approval", "--label", "novalue"],
            "KEY=VALUE",
        ),
        (
            vec![
                "record",
                "--kind",
                "approval",
                "--retain-until",
                "2001-01-01",
            ],
            "in the past",
        ),
        (
            vec!["evidence", "list", "--from", "yesterday"],
            "not a time",
        ),
        (vec!["evidence", "show", "7"], "the ledger is empty"),
    ] {
        let out = repo.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(wanted), "{args:?}: {err}");
    }
    // The key file is owner-only, and a key readable by others is refused.
    let key = repo.store().join("keys/signing.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let out = repo.run(&["record", "--kind", "approval"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    }
    // The key can come from the environment, as in CI.
    let text = fs::read_to_string(&key).unwrap();
    fs::remove_file(&key).unwrap();
    let out = repo
        .cmd()
        .args(["record", "--kind", "approval", "--subject", "env:prod"])
        .env("EVIDENT_SIGNING_KEY", text.trim())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = repo.run(&["keys", "show", "--key", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signing key at /nonexistent"));
}

/// Every kind of tampering is caught and named; never a panic.
#[test]
fn tampering_is_caught_and_named() {
    type Tamper = fn(&Repo);
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "a blob byte",
            |r| flip_byte(&r.store().join("blobs/packs/00000001.pack"), 3),
            "blobs/packs/00000001.pack, bytes ",
        ),
        (
            "an entry byte",
            |r| flip_byte(&r.store().join("log/tile/entries/000.p/3"), 40),
            "tile/entries/000.p/3",
        ),
        (
            "a hash tile byte",
            |r| flip_byte(&r.store().join("log/tile/0/000.p/3"), 33),
            "tile/0/000.p/3",
        ),
        (
            "the checkpoint",
            |r| {
                let p = r.store().join("log/checkpoint");
                let text = fs::read_to_string(&p)
                    .unwrap()
                    .replacen("\n3\n", "\n2\n", 1);
                fs::write(p, text).unwrap();
            },
            "checkpoint",
        ),
        (
            "a deleted entry",
            |r| {
                let log = r.store().join("log/tile/entries");
                let bundle = fs::read(log.join("000.p/3")).unwrap();
                let first = usize::from(u16::from_be_bytes([bundle[0], bundle[1]])) + 2;
                fs::write(log.join("000.p/3"), &bundle[first..]).unwrap();
            },
            "tile/entries/000.p/3",
        ),
        (
            "reordered entries",
            |r| {
                let p = r.store().join("log/tile/entries/000.p/3");
                let bundle = fs::read(&p).unwrap();
                let a = usize::from(u16::from_be_bytes([bundle[0], bundle[1]])) + 2;
                let b = a + usize::from(u16::from_be_bytes([bundle[a], bundle[a + 1]])) + 2;
                let mut swapped = bundle[a..b].to_vec();
                swapped.extend_from_slice(&bundle[..a]);
                swapped.extend_from_slice(&bundle[b..]);
                fs::write(p, swapped).unwrap();
            },
            "entry 0",
        ),
        (
            "a deleted blob",
            |r| fs::remove_dir_all(r.store().join("blobs/packs")).unwrap(),
            "missing",
        ),
        (
            "an index row",
            |r| {
                fs::remove_file(r.store().join("index.sqlite")).unwrap();
                let _ = fs::remove_file(r.store().join("index.sqlite-wal"));
                let _ = fs::remove_file(r.store().join("index.sqlite-shm"));
            },
            "not indexed",
        ),
    ];
    for (what, tamper, named) in cases {
        let repo = Repo::new().with_evidence();
        assert_eq!(repo.verify().0, 0, "{what}: clean before tampering");
        tamper(&repo);
        let (code, report, human) = repo.verify();
        assert_eq!(code, 1, "{what}: verify must fail\n{human}");
        assert_eq!(report["ok"], false, "{what}");
        assert!(human.contains("FAILED"), "{what}: {human}");
        assert!(
            human.contains(named),
            "{what}: the report must name {named}:\n{human}"
        );
    }
}

/// A key swapped for another is caught when the verifier key is pinned, whether or not the
/// log was re-signed with the new key.
#[test]
fn a_replaced_key_is_caught_against_the_pinned_key() {
    let repo = Repo::new().with_evidence();
    let pinned = repo.ok(&["keys", "show"]).trim().to_owned();
    fs::write(
        repo.dir.join("evident.toml"),
        format!("[ledger]\nverifier_key = \"{pinned}\"\n"),
    )
    .unwrap();
    assert_eq!(repo.verify().0, 0);
    // An attacker replaces the signing key and appends with it.
    repo.ok(&[
        "keys",
        "generate",
        "--name",
        "evident.test/ledger",
        "--force",
    ]);
    let out = repo.run(&["record", "--kind", "approval"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did not sign this log"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Or rebuilds the whole log with the new key: it verifies with its own key, not the pinned one.
    let other = repo.ok(&["keys", "show"]).trim().to_owned();
    fs::remove_dir_all(repo.store().join("log")).unwrap();
    for f in ["index.sqlite", "index.sqlite-wal", "index.sqlite-shm"] {
        let _ = fs::remove_file(repo.store().join(f));
    }
    repo.ok(&["record", "--kind", "approval", "--reason", "forged"]);
    let (code, _, human) = repo.verify();
    assert_eq!(code, 1, "{human}");
    assert!(human.contains("log/checkpoint"), "{human}");
    assert!(human.contains("pinned"), "{human}");
    let out = repo.run(&["ledger", "verify", "--vkey", &other]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the forged log is consistent in itself"
    );
    let out = repo.run(&["ledger", "verify", "--vkey", &pinned]);
    assert_eq!(out.status.code(), Some(1), "but not with the pinned key");
}

/// An append that stopped before its checkpoint leaves a log that verifies, and the next
/// append repairs it.
#[test]
fn an_unfinished_append_is_invisible_and_repaired() {
    let repo = Repo::new().with_evidence();
    let log = repo.store().join("log");
    let checkpoint = fs::read(log.join("checkpoint")).unwrap();
    repo.ok(&["record", "--kind", "approval", "--reason", "lost"]);
    // The crash: everything written but the checkpoint.
    fs::write(log.join("checkpoint"), &checkpoint).unwrap();
    let (code, report, human) = repo.verify();
    assert_eq!(code, 0, "{human}");
    assert_eq!(report["size"], 3);
    assert_eq!(report["pending_index_rows"], 1);
    let list: Value = serde_json::from_str(&repo.ok(&["evidence", "list", "-f", "json"])).unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        3,
        "the lost entry is not listed"
    );
    // The next append takes the place of the lost one.
    repo.ok(&["record", "--kind", "rollback", "--reason", "drill"]);
    let (code, report, human) = repo.verify();
    assert_eq!(code, 0, "{human}");
    assert_eq!(report["size"], 4);
    assert_eq!(report["pending_index_rows"], 0);
    let list: Value = serde_json::from_str(&repo.ok(&["evidence", "list", "-f", "json"])).unwrap();
    assert_eq!(list[3]["kind"], "rollback");
}

#[test]
fn deleting_before_the_retention_period_is_refused() {
    let repo = Repo::new().with_evidence();
    let out = repo.run(&["evidence", "delete", "1", "--reason", "cleanup"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("must be kept until"), "{err}");
    assert_eq!(repo.verify().0, 0, "nothing was deleted");
    let shown: Value =
        serde_json::from_str(&repo.ok(&["evidence", "show", "1", "-f", "json"])).unwrap();
    let recorded = shown["record"]["recorded_at"].as_str().unwrap();
    let retain = shown["record"]["retain_until"].as_str().unwrap();
    assert_eq!(
        retain[..4].parse::<i32>().unwrap() - recorded[..4].parse::<i32>().unwrap(),
        7,
        "seven years by default"
    );
}

#[test]
fn many_appends_cross_tile_boundaries_and_still_verify() {
    let repo = Repo::new();
    repo.ok(&["keys", "generate"]);
    // 300 entries: one full entry bundle and hash tile, and partial ones after it.
    for i in 0..300 {
        repo.ok(&[
            "record",
            "--kind",
            "event",
            "--subject",
            "env:prod",
            "--label",
            &format!("n={i}"),
        ]);
    }
    let log = repo.store().join("log");
    assert!(log.join("tile/entries/000").is_file());
    assert!(log.join("tile/entries/001.p/44").is_file());
    assert!(log.join("tile/0/000").is_file());
    assert!(log.join("tile/1/000.p/1").is_file());
    let (code, report, human) = repo.verify();
    assert_eq!(code, 0, "{human}");
    assert_eq!(report["size"], 300);
    for entry in ["0", "255", "256", "299"] {
        let proof = repo.ok(&["ledger", "proof", "--entry", entry]);
        assert!(proof.contains(&format!("index {entry}\n")));
    }
    let old = repo.ok(&["ledger", "proof", "--entry", "3", "--size", "10"]);
    assert_eq!(
        old.lines().count(),
        1 + 4,
        "a tree of 10 needs 4 hashes: {old}"
    );
}
