//! `evident scan pipeline` through the real binary: GitHub Actions and GitLab CI in one
//! repository, SARIF with job ids in logical locations, and the result recorded as evidence.

mod common;

use std::fs;
use std::path::PathBuf;

use common::{evident, git, new_repo, shared_data, validate_json_schema};
use serde_json::Value;

const WORKFLOW: &str = r"name: ci
on:
  push:
  pull_request:
permissions:
  contents: read
jobs:
  secrets:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1
        with:
          persist-credentials: false
      - uses: gitleaks/gitleaks-action@v2
        continue-on-error: true
";

const GITLAB: &str = r"stages: [test, deploy]

sast:
  stage: test
  image: returntocorp/semgrep:1.50.0
  script:
    - semgrep ci --sarif -o semgrep.sarif || true
";

fn repo() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    let home = tmp.path().join("home");
    fs::create_dir_all(dir.join(".github/workflows")).unwrap();
    fs::create_dir_all(&home).unwrap();
    new_repo(&dir);
    fs::write(dir.join(".github/workflows/ci.yml"), WORKFLOW).unwrap();
    fs::write(dir.join(".gitlab-ci.yml"), GITLAB).unwrap();
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "ci"]);
    (tmp, dir, home)
}

#[test]
fn findings_name_the_job_and_the_line() {
    let (_tmp, dir, home) = repo();
    let out = evident(&home)
        .current_dir(&dir)
        .args(["scan", "pipeline", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let find = |check: &str, path: &str| {
        findings
            .iter()
            .find(|f| f["check"] == check && f["path"] == path)
            .unwrap_or_else(|| panic!("no {check} in {path}: {report:#}"))
    };
    let gha = find("scan-does-not-block", ".github/workflows/ci.yml");
    assert_eq!(gha["resource"], "secrets");
    assert_eq!(gha["line"], 15, "the continue-on-error line");
    let unpinned = find("unpinned-action", ".github/workflows/ci.yml");
    assert_eq!(unpinned["line"], 14);
    let gitlab = find("scan-does-not-block", ".gitlab-ci.yml");
    assert_eq!(gitlab["resource"], "sast");
    assert!(
        !findings
            .iter()
            .any(|f| f["check"] == "unpinned-action" && f["line"] == 11),
        "an action pinned to a SHA with a tag comment is fine"
    );
    for f in findings {
        assert!(f["controls"].as_array().is_some_and(|c| !c.is_empty()));
        assert!(!f["fix"].as_str().unwrap().is_empty());
    }
}

#[test]
fn sarif_carries_job_ids_and_is_valid() {
    let (_tmp, dir, home) = repo();
    let sarif = dir.join("pipeline.sarif");
    let out = evident(&home)
        .current_dir(&dir)
        .args(["scan", "pipeline", "--format", "sarif", "-o"])
        .arg(&sarif)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    validate_json_schema(
        &shared_data().join("schemas/sarif-schema-2.1.0.json"),
        &sarif,
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let r = results
        .iter()
        .find(|r| {
            r["ruleId"] == "scan-does-not-block"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    == ".github/workflows/ci.yml"
        })
        .unwrap();
    assert_eq!(
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "secrets"
    );
}

#[test]
fn the_pipeline_scan_is_recorded_for_the_gate() {
    let (_tmp, dir, home) = repo();
    let run = |args: &[&str]| {
        evident(&home)
            .current_dir(&dir)
            .env("USER", "dev@example.com")
            .args(args)
            .output()
            .unwrap()
    };
    assert!(
        run(&["keys", "generate", "--name", "evident.test/pipeline"])
            .status
            .success()
    );
    let out = run(&["scan", "pipeline", "--record"]);
    assert_eq!(out.status.code(), Some(1));
    let list = run(&["evidence", "list", "--kind", "scan", "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "soc2:CC8.1")
    );
}
