//! Helpers shared by the integration tests: the real binary with a cleared environment, real
//! git repositories, the test tools installed by scripts/test.sh, and `evident serve` over real
//! HTTP ([`server`]).
#![allow(dead_code)]

pub mod server;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `evident` binary with an environment cleared of everything but PATH and a private HOME.
pub fn evident(home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("evident").expect("binary builds");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("NO_COLOR", "1");
    cmd
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The shared test data folder beside the repository.
pub fn shared_data() -> PathBuf {
    // scripts/test.sh sets EVIDENT_SHARED_DATA; by default the data sits beside the repository.
    std::env::var_os("EVIDENT_SHARED_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    )
}

/// git in `dir`, isolated from the user's configuration, with a fixed identity.
pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.org")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.org");
    cmd
}

/// Runs git in `dir` with a fixed identity and dates, failing the test on error.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir)
        .args(args)
        .env("GIT_AUTHOR_DATE", "2026-03-01T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-03-01T10:00:00Z")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A new repository with a `main` branch.
pub fn new_repo(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
}

/// The Python with the validators (jsonschema) that scripts/test.sh installs.
pub fn python() -> String {
    let python = std::env::var("EVIDENT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import jsonschema"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`{python}` cannot import jsonschema: run the suite with `bash scripts/test.sh`, which installs it"
    );
    python
}

/// Validates the JSON document at `doc` against the JSON Schema at `schema` with the real
/// `jsonschema` validator, returning its error text on failure.
pub fn validate_json_schema(schema: &Path, doc: &Path) -> Result<(), String> {
    let script = "import json,sys,jsonschema\n\
        schema=json.load(open(sys.argv[1]))\n\
        doc=json.load(open(sys.argv[2]))\n\
        cls=jsonschema.validators.validator_for(schema)\n\
        errs=sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.path))\n\
        [print(list(e.path), e.message) for e in errs[:20]]\n\
        sys.exit(1 if errs else 0)\n";
    let out = Command::new(python())
        .args(["-c", script])
        .arg(schema)
        .arg(doc)
        .output()
        .expect("python runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The PostgreSQL database to test against (`EVIDENT_TEST_DATABASE_URL`), or `None` when
/// skipping was asked for explicitly (`EVIDENT_TEST_SKIP_POSTGRES=1`, announced on stderr).
/// Neither set: the test fails and says how to set it.
#[allow(dead_code)]
pub fn postgres_url(what: &str) -> Option<String> {
    if let Ok(url) = std::env::var("EVIDENT_TEST_DATABASE_URL")
        && !url.trim().is_empty()
    {
        return Some(url);
    }
    if std::env::var("EVIDENT_TEST_SKIP_POSTGRES").as_deref() == Ok("1") {
        // Straight to stderr, past the test harness's capture: a skip must be visible.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("SKIPPED: {what} on PostgreSQL (EVIDENT_TEST_SKIP_POSTGRES=1)\n").as_bytes(),
        );
        return None;
    }
    panic!(
        "EVIDENT_TEST_DATABASE_URL is not set, so {what} cannot be tested on PostgreSQL: run \
         `bash scripts/test.sh` (it starts PostgreSQL and sets it), or set it yourself, e.g. \
         EVIDENT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test; \
         EVIDENT_TEST_SKIP_POSTGRES=1 skips this test explicitly"
    );
}

/// The S3 endpoint to test against (`EVIDENT_TEST_S3_ENDPOINT`), or `None` when skipping was
/// asked for explicitly (`EVIDENT_TEST_SKIP_S3=1`, announced on stderr). Neither set: the test
/// fails and says how to set it.
#[allow(dead_code)]
pub fn s3_endpoint(what: &str) -> Option<String> {
    if let Ok(url) = std::env::var("EVIDENT_TEST_S3_ENDPOINT")
        && !url.trim().is_empty()
    {
        return Some(url.trim().to_owned());
    }
    if std::env::var("EVIDENT_TEST_SKIP_S3").as_deref() == Ok("1") {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("SKIPPED: {what} on S3 (EVIDENT_TEST_SKIP_S3=1)\n").as_bytes(),
        );
        return None;
    }
    panic!(
        "EVIDENT_TEST_S3_ENDPOINT is not set, so {what} cannot be tested on S3: run \
         `bash scripts/test.sh` (it starts an S3 server with scripts/s3.sh and sets it), or set \
         it yourself, e.g. EVIDENT_TEST_S3_ENDPOINT=$(bash scripts/s3.sh); \
         EVIDENT_TEST_SKIP_S3=1 skips this test explicitly"
    );
}
