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

const PROTECTION: &str = r#"{
  "url": "https://api.github.com/repos/acme/api/branches/main/protection",
  "required_status_checks": { "strict": true, "contexts": ["secrets", "sast"] },
  "enforce_admins": { "enabled": true },
  "required_pull_request_reviews": {
    "dismiss_stale_reviews": true,
    "require_code_owner_reviews": true,
    "required_approving_review_count": 2,
    "require_last_push_approval": true
  },
  "required_linear_history": { "enabled": true },
  "allow_force_pushes": { "enabled": false },
  "allow_deletions": { "enabled": false },
  "required_conversation_resolution": { "enabled": true }
}
"#;

/// A Slack-style incoming webhook on 127.0.0.1: accepts one POST and returns its body.
fn webhook_receiver() -> (String, std::thread::JoinHandle<String>) {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/services/T000/B000/XXXX",
        listener.local_addr().unwrap()
    );
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .unwrap();
        String::from_utf8(body).unwrap()
    });
    (url, handle)
}

#[test]
fn drift_catches_a_weakened_pipeline_and_branch_protection() {
    let (_tmp, dir, home) = repo();
    let run = |args: &[&str]| {
        let out = evident(&home)
            .current_dir(&dir)
            .env("USER", "dev@example.com")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    assert_eq!(
        run(&["keys", "generate", "--name", "evident.test/drift"]).0,
        0
    );
    let protection = dir.join("protection.json");
    fs::write(&protection, PROTECTION).unwrap();
    let settings = protection.to_str().unwrap();
    let (code, _, err) = run(&["drift", "check"]);
    assert_eq!(code, 2);
    assert!(err.contains("evident drift baseline"), "{err}");
    let (code, _, err) = run(&["drift", "baseline", "--settings", settings]);
    assert_eq!(code, 0, "{err}");

    // Nothing changed: no drift.
    let (code, out, err) = run(&["drift", "check", "--settings", settings, "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");

    // Weaken both: one approval fewer, force pushes on, and a new non-blocking scan job.
    fs::write(
        &protection,
        PROTECTION
            .replace(
                "\"required_approving_review_count\": 2",
                "\"required_approving_review_count\": 1",
            )
            .replace(
                "\"allow_force_pushes\": { \"enabled\": false }",
                "\"allow_force_pushes\": { \"enabled\": true }",
            ),
    )
    .unwrap();
    let mut workflow = WORKFLOW.to_owned();
    workflow.push_str(
        "  sast:\n    runs-on: ubuntu-latest\n    steps:\n      - run: semgrep ci || true\n",
    );
    fs::write(dir.join(".github/workflows/ci.yml"), workflow).unwrap();
    let (hook, receiver) = webhook_receiver();
    let (code, out, err) = run(&[
        "drift",
        "check",
        "--settings",
        settings,
        "--format",
        "json",
        "--record",
        "--notify",
        &hook,
    ]);
    let posted: Value = serde_json::from_str(&receiver.join().unwrap()).unwrap();
    let text = posted["text"].as_str().unwrap();
    assert!(text.contains("weakening(s) since the baseline"), "{text}");
    assert!(text.contains("main: required approvals: 2 → 1"), "{text}");
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "posture-drift")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.contains(&"main: required approvals: 2 → 1"),
        "{messages:#?}"
    );
    assert!(
        messages.contains(&"main: force pushes allowed: false → true"),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("pipeline: scan-does-not-block .github/workflows/ci.yml sast")),
        "{messages:#?}"
    );
    let drift = run(&["evidence", "list", "--kind", "drift", "--format", "json"]).1;
    let rows: Vec<Value> = serde_json::from_str(&drift).unwrap();
    assert_eq!(rows.len(), 2, "the baseline and the recorded check");
}

#[test]
fn settings_exports_are_checked() {
    let (_tmp, dir, home) = repo();
    let weak = dir.join("weak.json");
    fs::write(
        &weak,
        PROTECTION
            .replace(
                "\"required_approving_review_count\": 2",
                "\"required_approving_review_count\": 0",
            )
            .replace(
                "\"allow_force_pushes\": { \"enabled\": false }",
                "\"allow_force_pushes\": { \"enabled\": true }",
            )
            .replace(
                "\"enforce_admins\": { \"enabled\": true }",
                "\"enforce_admins\": { \"enabled\": false }",
            ),
    )
    .unwrap();
    let out = evident(&home)
        .current_dir(&dir)
        .args(["scan", "settings", "weak.json", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    for expected in [
        "too-few-approvals",
        "force-push-allowed",
        "admins-bypass-protection",
    ] {
        assert!(checks.contains(&expected), "{expected} missing: {checks:?}");
    }
    for f in report["findings"].as_array().unwrap() {
        assert_eq!(f["resource"], "main");
    }
    let good = dir.join("good.json");
    fs::write(&good, PROTECTION).unwrap();
    let out = evident(&home)
        .current_dir(&dir)
        .args(["scan", "settings", "good.json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A one-thread HTTP server on 127.0.0.1 answering GitHub's two API calls; it returns the
/// requests it saw when it stops.
fn fake_github(protection: Option<&'static str>) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                request.push_str(&line);
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
            let authorized = request.contains("authorization: Bearer test-token")
                || request.contains("Authorization: Bearer test-token");
            let (status, body) = if !authorized {
                (
                    "401 Unauthorized",
                    r#"{"message":"Bad credentials"}"#.to_owned(),
                )
            } else if path == "/repos/acme/api" {
                (
                    "200 OK",
                    r#"{"full_name":"acme/api","default_branch":"trunk"}"#.to_owned(),
                )
            } else if path == "/repos/acme/api/branches/trunk/protection" {
                match protection {
                    Some(p) => ("200 OK", p.to_owned()),
                    None => (
                        "404 Not Found",
                        r#"{"message":"Branch not protected"}"#.to_owned(),
                    ),
                }
            } else {
                ("404 Not Found", r#"{"message":"Not Found"}"#.to_owned())
            };
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            seen.push(path);
        }
        seen
    });
    (base, handle)
}

#[test]
fn settings_are_read_live_from_the_github_api_over_loopback() {
    let (_tmp, dir, home) = repo();
    for (protection, expect) in [(Some(PROTECTION), None), (None, Some("branch-unprotected"))] {
        let (base, server) = fake_github(protection);
        let out = evident(&home)
            .current_dir(&dir)
            .env("EVIDENT_GITHUB_API_URL", &base)
            .env("GITHUB_TOKEN", "test-token")
            .args([
                "scan", "settings", "--github", "acme/api", "--format", "json",
            ])
            .output()
            .unwrap();
        let seen = server.join().unwrap();
        assert_eq!(
            seen,
            [
                "/repos/acme/api",
                "/repos/acme/api/branches/trunk/protection"
            ]
        );
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let checks: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check"].as_str().unwrap())
            .collect();
        match expect {
            None => assert!(checks.is_empty(), "{checks:?}"),
            Some(check) => {
                assert_eq!(checks, [check]);
                assert_eq!(report["findings"][0]["resource"], "trunk");
            }
        }
    }
    let out = evident(&home)
        .current_dir(&dir)
        .args(["scan", "settings", "--github", "acme/api"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GITHUB_TOKEN"));
}
