//! The ledger with its log and blobs in an S3 bucket with Object Lock (`--blob-url
//! s3://bucket/prefix`), against the S3 server of `EVIDENT_TEST_S3_ENDPOINT` (`bash
//! scripts/test.sh` starts moto with `scripts/s3.sh`): records land in the bucket (nothing of
//! the log or the blobs in the store directory), tiles, bundles and blobs are locked, `ledger
//! verify` and an auditor package work from the bucket, and an overwritten bundle is caught.
//!
//! Without `EVIDENT_TEST_S3_ENDPOINT` this fails and says how to set it; `EVIDENT_TEST_SKIP_S3=1`
//! skips it, saying so.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{evident, s3_endpoint};
use evident_store::s3::{S3Bucket, S3Config};
use serde_json::Value;

const PREFIX: &str = "acme/ledger";

struct S3Env {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
    store: PathBuf,
    endpoint: String,
    blob_url: String,
}

impl S3Env {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        evident(&self.home)
            .current_dir(&self.dir)
            .env("EVIDENT_STORE", &self.store)
            .env("EVIDENT_BLOB_URL", &self.blob_url)
            .env("EVIDENT_S3_ENDPOINT", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "evident-test")
            .env("AWS_SECRET_ACCESS_KEY", "evident-test-secret")
            .env("USER", "ada")
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args);
        assert!(
            out.status.success(),
            "evident {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out
}

#[test]
fn the_log_and_the_blobs_live_in_a_locked_bucket() {
    let Some(endpoint) = s3_endpoint("the ledger with --blob-url") else {
        return;
    };
    let config = S3Config::new("us-east-1", "evident-test", "evident-test-secret")
        .unwrap()
        .with_endpoint(endpoint.parse().unwrap())
        .unwrap();
    let mut random = [0u8; 6];
    getrandom::fill(&mut random).unwrap();
    let name = format!("evident-ledger-{}", hex::encode(random));
    let bucket = S3Bucket::new(&config, &name).unwrap();
    bucket.create_bucket_with_object_lock().unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let env = S3Env {
        dir: tmp.path().join("work"),
        home: tmp.path().join("home"),
        store: tmp.path().join("store"),
        endpoint,
        blob_url: format!("s3://{name}/{PREFIX}"),
        _tmp: tmp,
    };
    fs::create_dir_all(&env.dir).unwrap();
    fs::create_dir_all(&env.home).unwrap();
    env.ok(&["keys", "generate", "--name", "evident.test/s3"]);
    let report = env.dir.join("review.txt");
    fs::write(&report, "PR 42: reviewed by bob, approved\n").unwrap();
    let report_arg = report.to_str().unwrap();
    for (i, reason) in ["first", "second", "third"].iter().enumerate() {
        let mut args = vec![
            "record",
            "--kind",
            "approval",
            "--subject",
            "env:prod",
            "--control",
            "CC8.1",
            "--reason",
            reason,
        ];
        if i == 1 {
            args.extend(["--file", report_arg]);
        }
        env.ok(&args);
    }

    // Nothing of the log or of the blobs is in the store directory.
    let local = files_under(&env.store);
    assert!(
        local.iter().all(|f| !f.contains("/log/tile")
            && !f.contains("/blobs/")
            && !f.ends_with("/log/checkpoint")),
        "{local:#?}"
    );
    // The bucket holds them; bundles and blobs are locked in COMPLIANCE mode.
    let checkpoint = bucket
        .get(&format!("{PREFIX}/log/checkpoint"))
        .unwrap()
        .expect("the checkpoint is in the bucket");
    assert!(String::from_utf8_lossy(&checkpoint).contains("\n3\n"));
    let bundle_key = format!("{PREFIX}/log/tile/entries/000.p/3");
    let bundle = bucket.head(&bundle_key, None).unwrap().expect("the bundle");
    assert_eq!(bundle.lock_mode.as_deref(), Some("COMPLIANCE"));
    let shown: Value =
        serde_json::from_str(&env.ok(&["evidence", "show", "1", "--format", "json"])).unwrap();
    let digest = shown["record"]["blobs"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let blob_key = format!(
        "{PREFIX}/blobs/sha256/{}/{}/{digest}",
        &digest[..2],
        &digest[2..4]
    );
    let blob = bucket.head(&blob_key, None).unwrap().expect("the blob");
    assert_eq!(blob.lock_mode.as_deref(), Some("COMPLIANCE"));
    // Locked: the bundle's version cannot be deleted.
    let version = bundle.version_id.clone().expect("a versioned bucket");
    let refused = bucket.delete(&bundle_key, Some(&version)).unwrap_err();
    assert!(refused.is_locked(), "{refused}");

    // Verification and an auditor package read from the bucket.
    let verified = env.ok(&["ledger", "verify"]);
    assert!(verified.contains('3'), "{verified}");
    let package = env.dir.join("pkg.tar.gz");
    env.ok(&[
        "export",
        "--control",
        "CC8.1",
        "--out",
        package.to_str().unwrap(),
    ]);
    env.ok(&["verify-package", package.to_str().unwrap()]);

    // Another host, with no store of its own: the checkpoint and the verifier key come from
    // the bucket.
    let elsewhere = S3Env {
        dir: env.dir.clone(),
        home: env.home.clone(),
        store: env.dir.join("other-host-store"),
        endpoint: env.endpoint.clone(),
        blob_url: env.blob_url.clone(),
        _tmp: tempfile::tempdir().unwrap(),
    };
    let checkpoint_text = elsewhere.ok(&["ledger", "checkpoint"]);
    assert!(checkpoint_text.contains("\n3\n"), "{checkpoint_text}");
    assert!(!elsewhere.store.join("log").join("checkpoint").exists());

    // Someone with write access overwrites the bundle: the new version is what a reader gets,
    // and verification names it (the locked original stays in the bucket).
    let mut tampered = bucket.get(&bundle_key).unwrap().unwrap();
    let at = tampered
        .windows(13)
        .position(|w| w == b"\"actor\":\"ada\"")
        .expect("the first entry's actor");
    tampered[at + 9..at + 12].copy_from_slice(b"eve");
    bucket.put(&bundle_key, &tampered, None).unwrap();
    let out = env.cmd(&["ledger", "verify"]);
    assert!(!out.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("entry 0"), "{said}");
    assert!(
        bucket.get_version(&bundle_key, &version).unwrap().is_some(),
        "the locked original is intact"
    );
}
