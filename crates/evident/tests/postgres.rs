//! The ledger end to end with its index in PostgreSQL: `--database-url` (and
//! EVIDENT_DATABASE_URL) put the index in the database of `EVIDENT_TEST_DATABASE_URL`, in a
//! fresh schema dropped afterwards; recording, listing and verifying work as with SQLite, and
//! verification reads the index from PostgreSQL.
//!
//! Without `EVIDENT_TEST_DATABASE_URL` this fails and says how to set it (`bash scripts/test.sh`
//! does); `EVIDENT_TEST_SKIP_POSTGRES=1` skips it, saying so.

mod common;

use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::{BuildHasher as _, Hasher as _};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use common::{evident, git, new_repo, postgres_url};
use evident_store::index::{Index as _, Query};
use evident_store::index_pg::PgIndex;
use serde_json::Value;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn ledger_with_the_index_in_postgres() {
    let Some(url) = postgres_url("the ledger end to end") else {
        return;
    };
    // A schema no other run uses (`RandomState` is seeded from the OS's randomness).
    let schema = format!(
        "evident_test_cli_{:016x}",
        RandomState::new().build_hasher().finish()
    );
    let outcome = catch_unwind(AssertUnwindSafe(|| scenario(&url, &schema)));
    runtime().block_on(async {
        for schema in [schema.clone(), format!("{schema}_b")] {
            let index = PgIndex::connect(&url, Some(&schema)).await.unwrap();
            index.drop_schema().await.unwrap();
        }
    });
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
}

fn scenario(url: &str, schema: &str) {
    let database_url = format!(
        "{url}{}schema={schema}",
        if url.contains('?') { '&' } else { '?' }
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    let home = tmp.path().join("home");
    fs::create_dir_all(&dir).unwrap();
    fs::create_dir_all(&home).unwrap();
    new_repo(&dir);
    fs::write(dir.join("README.md"), "hello\n").unwrap();
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "first"]);
    let database_url_b = format!("{database_url}_b");
    let run_with = |database_url: &str, args: &[&str], env_url: bool| {
        let mut cmd = evident(&home);
        cmd.current_dir(&dir).env("USER", "ada");
        if env_url {
            cmd.env("EVIDENT_DATABASE_URL", database_url);
        } else {
            cmd.arg("--database-url").arg(database_url);
        }
        let out = cmd.args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let run = |args: &[&str], env_url: bool| run_with(&database_url, args, env_url);
    let ok_with = |database_url: &str, args: &[&str], env_url: bool| {
        let (code, stdout, stderr) = run_with(database_url, args, env_url);
        assert_eq!(code, Some(0), "evident {args:?} failed: {stdout}{stderr}");
        stdout
    };
    let ok = |args: &[&str], env_url: bool| ok_with(&database_url, args, env_url);

    ok(
        &["keys", "generate", "--name", "evident.test/postgres"],
        false,
    );
    ok(
        &[
            "record",
            "--kind",
            "approval",
            "--control",
            "CC8.1",
            "--reason",
            "PR 42 reviewed",
        ],
        false,
    );
    // The environment variable works as the option does.
    ok(
        &[
            "record",
            "--kind",
            "deployment",
            "--label",
            "environment=prod",
        ],
        true,
    );

    let list: Value =
        serde_json::from_str(&ok(&["evidence", "list", "-f", "json"], false)).unwrap();
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["approval", "deployment"], "{list}");
    let approvals: Value = serde_json::from_str(&ok(
        &["evidence", "list", "--kind", "approval", "-f", "json"],
        true,
    ))
    .unwrap();
    assert_eq!(approvals.as_array().unwrap().len(), 1, "{approvals}");

    let (code, stdout, stderr) = run(&["ledger", "verify", "--format", "json"], false);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["size"], 2, "{report}");

    // The index is in PostgreSQL, not beside the log.
    let store = dir.join(".evident");
    assert!(store.join("log").is_dir());
    assert!(!store.join("index.sqlite").exists());
    let rows = runtime().block_on(async {
        let index = PgIndex::connect(url, Some(schema)).await.unwrap();
        let rows = index.query(&Query::default()).await.unwrap();
        // Verification reads the index from there: a row that disagrees with its entry is
        // found.
        let mut wrong = rows[0].clone();
        wrong.subject = "git:0000000000000000000000000000000000000000".into();
        index.insert(&[wrong]).await.unwrap();
        index.close().await;
        rows
    });
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].controls, ["soc2:CC8.1"]);
    let (code, stdout, stderr) = run(&["ledger", "verify", "--format", "json"], false);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("the index row does not match the entry"),
        "{stdout}"
    );

    // A new schema for the same store starts empty; the next writer indexes the whole log into
    // it, and then everything verifies again.
    ok_with(
        &database_url_b,
        &["record", "--kind", "approval", "--reason", "third"],
        false,
    );
    let list: Value = serde_json::from_str(&ok_with(
        &database_url_b,
        &["evidence", "list", "-f", "json"],
        true,
    ))
    .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    let (code, stdout, stderr) = run_with(&database_url_b, &["ledger", "verify"], false);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}
