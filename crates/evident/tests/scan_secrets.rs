//! `evident scan secrets` end to end: every mode and every output format, on real files and
//! real git repositories. Secrets never appear in clear in any output.

mod common;

use std::path::Path;

use common::{evident, fixtures, git, new_repo, shared_data, validate_json_schema};
use predicates::prelude::*;

/// Reads every secret value planted in the tree fixture, so outputs can be checked for leaks.
fn planted_secrets() -> Vec<String> {
    let tree = fixtures().join("tree");
    let mut secrets = Vec::new();
    for (file, prefix) in [
        ("config/prod.env", "AWS_ACCESS_KEY_ID="),
        ("config/prod.env", "DB_PASSWORD=\""),
        ("src/client.py", "GITHUB_TOKEN = \""),
        ("src/allowed.js", "const key = \""),
    ] {
        let text = std::fs::read_to_string(tree.join(file)).unwrap();
        let line = text.lines().find(|l| l.starts_with(prefix)).unwrap();
        let value: String = line[prefix.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(value.len() >= 14, "{file}: {value}");
        secrets.push(value);
    }
    secrets
}

fn assert_no_leak(output: &str) {
    for secret in planted_secrets() {
        assert!(!output.contains(&secret), "a secret leaked into the output");
        assert!(
            !output.contains(&secret[4..]),
            "the tail of a secret leaked into the output"
        );
    }
}

fn scan_tree(format: &str) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    let out = evident(home.path())
        .current_dir(fixtures().join("tree"))
        .args(["scan", "secrets", ".", "--format", format])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// One line per finding of a JSON report, sorted, as `row` formats it.
fn sorted_rows(
    report: &serde_json::Value,
    row: impl Fn(&serde_json::Value) -> String,
) -> Vec<String> {
    let mut rows: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(row)
        .collect();
    rows.sort();
    rows
}

#[test]
fn tree_scan_json_is_precise_and_redacted() {
    let (code, out) = scan_tree("json");
    assert_eq!(code, 1);
    assert_no_leak(&out);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["schema_version"], 1);
    let rows = sorted_rows(&report, |f| {
        format!(
            "{}:{} {} {}{}",
            f["path"].as_str().unwrap(),
            f["line"],
            f["check"].as_str().unwrap(),
            f["snippet"].as_str().unwrap_or(""),
            if f["suppressed"].is_object() {
                " [suppressed]"
            } else {
                ""
            }
        )
    });
    insta::assert_snapshot!(rows.join("\n"), @r###"
    config/prod.env:2 aws-access-key-id AWS_ACCESS_KEY_ID=AKIA********
    config/prod.env:4 generic-password-assignment DB_PASSWORD="gJTe********"
    deploy/secret.yaml:7 generic-password-assignment DB_PASSWORD: eHRw********
    src/allowed.js:1 aws-access-key-id const key = "AKIA********"; // evident:allow fixture for the docs site [suppressed]
    src/client.py:3 github-pat-classic GITHUB_TOKEN = "ghp_********"
    "###);
    for f in report["findings"].as_array().unwrap() {
        for key in [
            "check",
            "severity",
            "path",
            "line",
            "fingerprint",
            "controls",
            "secret_sha256",
            "why",
            "fix",
        ] {
            assert!(!f[key].is_null(), "{key} missing in {f}");
        }
        assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    }
    assert_eq!(report["summary"]["suppressed"], 1);
    assert_eq!(report["summary"]["findings"], 4);
}

#[test]
fn json_report_matches_its_published_schema() {
    let (_, out) = scan_tree("json");
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("report.json");
    std::fs::write(&doc, out).unwrap();
    let schema =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas/scan-report-v1.json");
    validate_json_schema(&schema, &doc).unwrap();
}

#[test]
fn human_output_says_what_where_why_and_fix() {
    let (code, out) = scan_tree("human");
    assert_eq!(code, 1);
    assert_no_leak(&out);
    for needle in [
        "config/prod.env:2:19",
        "aws-access-key-id",
        "why:",
        "fix:",
        "controls: SOC 2 CC6.1",
        "Suppressed (1)",
        "fixture for the docs site",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert!(!out.contains('\u{1b}'), "NO_COLOR must disable colour");
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let (code, out) = scan_tree("sarif");
    assert_eq!(code, 1);
    assert_no_leak(&out);
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("out.sarif");
    std::fs::write(&doc, &out).unwrap();
    validate_json_schema(&shared_data().join("schemas/sarif-schema-2.1.0.json"), &doc).unwrap();
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    let aws = results
        .iter()
        .find(|r| r["ruleId"] == "aws-access-key-id" && r["suppressions"].is_null())
        .unwrap();
    let loc = &aws["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "config/prod.env");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["endLine"], 2);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let index = aws["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "aws-access-key-id");
    let suppressed = results
        .iter()
        .find(|r| r["suppressions"].is_array())
        .unwrap();
    assert_eq!(suppressed["suppressions"][0]["kind"], "inSource");
}

#[test]
fn junit_is_well_formed_and_counts_failures() {
    let (code, out) = scan_tree("junit");
    assert_eq!(code, 1);
    assert_no_leak(&out);
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("out.xml");
    std::fs::write(&doc, &out).unwrap();
    let script = "import sys,xml.etree.ElementTree as ET\nr=ET.parse(sys.argv[1]).getroot()\ns=r.find('testsuite')\nprint(s.get('failures'), s.get('skipped'), len(s.findall('testcase')))";
    let res = std::process::Command::new(common::python())
        .args(["-c", script])
        .arg(&doc)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&res.stdout).trim(), "4 1 5");
}

#[test]
fn fail_on_threshold_and_ignore_file_change_the_exit_code() {
    let home = tempfile::tempdir().unwrap();
    let tree = fixtures().join("tree");
    // config/ holds only high-severity findings: they fail at `high`, not at `critical`.
    evident(home.path())
        .current_dir(&tree)
        .args(["scan", "secrets", "config", "--fail-on", "critical"])
        .assert()
        .code(0);
    evident(home.path())
        .current_dir(&tree)
        .args(["scan", "secrets", "config", "--fail-on", "high"])
        .assert()
        .code(1);
    // The threshold can come from the project configuration too.
    let config = home.path().join("evident.toml");
    std::fs::write(&config, "[scan]\nfail_on = \"critical\"\n").unwrap();
    evident(home.path())
        .current_dir(&tree)
        .args(["scan", "secrets", "config", "--evident-config"])
        .arg(&config)
        .assert()
        .code(0);
    // Accept every finding by fingerprint: the scan passes and reports them as suppressed.
    let (_, out) = scan_tree("json");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fps: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    let ignore = home.path().join("accepted.txt");
    std::fs::write(
        &ignore,
        format!("# accepted by security\n{}\n", fps.join("\n")),
    )
    .unwrap();
    evident(home.path())
        .current_dir(&tree)
        .args(["scan", "secrets", ".", "--ignore-file"])
        .arg(&ignore)
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("5 suppressed").and(predicate::str::contains("accepted.txt")),
        );
    std::fs::write(&ignore, "not-a-fingerprint\n").unwrap();
    evident(home.path())
        .current_dir(&tree)
        .args(["scan", "secrets", ".", "--ignore-file"])
        .arg(&ignore)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("accepted.txt:1"));
}

#[test]
fn stdin_is_scanned_under_its_name() {
    let home = tempfile::tempdir().unwrap();
    let token = std::fs::read_to_string(fixtures().join("tree/src/client.py")).unwrap();
    evident(home.path())
        .args([
            "scan",
            "secrets",
            "--stdin",
            "--stdin-name",
            "pasted.py",
            "--format",
            "json",
        ])
        .write_stdin(token)
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("\"path\": \"pasted.py\"")
                .and(predicate::str::contains("github-pat-classic")),
        );
    evident(home.path())
        .args(["scan", "secrets", "--stdin"])
        .write_stdin("nothing to see\n")
        .assert()
        .code(0);
}

/// A repository whose history holds a secret that was later deleted.
fn repo_with_deleted_secret(dir: &Path) -> (String, String) {
    new_repo(dir);
    std::fs::write(dir.join("README.md"), "# service\n").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "initial"]);
    let token = std::fs::read_to_string(fixtures().join("tree/src/client.py")).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/client.py"), &token).unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "add client"]);
    let introduced = git(dir, &["rev-parse", "HEAD"]);
    // The same secret again in a later edit of the file must still point at the first commit.
    std::fs::write(dir.join("src/client.py"), format!("# v2\n{token}")).unwrap();
    git(dir, &["commit", "-qam", "edit client"]);
    std::fs::remove_file(dir.join("src/client.py")).unwrap();
    git(dir, &["commit", "-qam", "remove client"]);
    let head = git(dir, &["rev-parse", "HEAD"]);
    (introduced, head)
}

#[test]
fn history_finds_deleted_secrets_and_names_the_introducing_commit() {
    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let (introduced, _) = repo_with_deleted_secret(repo.path());
    // The working tree is clean now.
    evident(home.path())
        .current_dir(repo.path())
        .args(["scan", "secrets"])
        .assert()
        .code(0);
    let out = evident(home.path())
        .current_dir(repo.path())
        .args(["scan", "secrets", "--history", "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["commit"], introduced.as_str());
    assert_eq!(f["author"], "Ada Lovelace <ada@example.org>");
    assert_eq!(f["date"], "2026-03-01T10:00:00Z");
    assert_eq!(f["path"], "src/client.py");
    assert_eq!(f["line"], 3);
    assert_eq!(report["summary"]["commits"], 4);

    let sarif = evident(home.path())
        .current_dir(repo.path())
        .args(["scan", "secrets", "--history", "--format", "sarif"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let sarif: serde_json::Value = serde_json::from_slice(&sarif).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["properties"]["commit"],
        introduced.as_str()
    );

    // Accepting the finding by fingerprint passes the scan; an entry that matches nothing in the
    // whole history is reported as stale.
    std::fs::write(
        repo.path().join(".evidentignore"),
        format!(
            "{}\nffffffffffffffffffffffffffffffff\n",
            f["fingerprint"].as_str().unwrap()
        ),
    )
    .unwrap();
    let out = evident(home.path())
        .current_dir(repo.path())
        .args(["scan", "secrets", "--history", "--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["summary"]["suppressed"], 1);
    let notes = report["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0]
            .as_str()
            .unwrap()
            .starts_with(".evidentignore:2 matches no finding")
    );
    std::fs::remove_file(repo.path().join(".evidentignore")).unwrap();

    // Ranges that exclude the introducing commit find nothing.
    evident(home.path())
        .current_dir(repo.path())
        .args(["scan", "secrets", "--since", &introduced])
        .assert()
        .code(0);
    evident(home.path())
        .current_dir(repo.path())
        .args(["scan", "secrets", "--range", &format!("{introduced}..HEAD")])
        .assert()
        .code(0);
    evident(home.path())
        .current_dir(repo.path())
        .args(["scan", "secrets", "--range", "HEAD~3..HEAD"])
        .assert()
        .code(1);
    evident(home.path())
        .current_dir(repo.path())
        .args(["scan", "secrets", "--since", "no-such-rev"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-rev"));
}

#[test]
fn staged_reports_only_what_the_next_commit_adds() {
    let home = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    new_repo(dir);
    let env = std::fs::read_to_string(fixtures().join("tree/config/prod.env")).unwrap();
    let mut lines = env.lines();
    let header = lines.next().unwrap();
    let aws = lines.next().unwrap();
    let region = lines.next().unwrap();
    let password = lines.next().unwrap();
    std::fs::write(dir.join("app.env"), format!("{header}\n{aws}\n")).unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "existing secret"]);
    // Nothing staged: clean, even though HEAD holds a secret.
    evident(home.path())
        .current_dir(dir)
        .args(["scan", "secrets", "--staged"])
        .assert()
        .code(0);
    // Stage a new secret in the same file: only the new one is reported.
    std::fs::write(
        dir.join("app.env"),
        format!("{header}\n{region}\n{aws}\n{password}\n"),
    )
    .unwrap();
    git(dir, &["add", "app.env"]);
    let out = evident(home.path())
        .current_dir(dir)
        .args(["scan", "secrets", "--staged", "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let checks: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, vec!["generic-password-assignment"]);
    assert_eq!(report["findings"][0]["line"], 4);
    // Unstaged changes are not part of the commit.
    git(dir, &["commit", "-qm", "second"]);
    let token = std::fs::read_to_string(fixtures().join("tree/src/client.py")).unwrap();
    std::fs::write(dir.join("client.py"), token).unwrap();
    evident(home.path())
        .current_dir(dir)
        .args(["scan", "secrets", "--staged"])
        .assert()
        .code(0);
    git(dir, &["add", "client.py"]);
    evident(home.path())
        .current_dir(dir)
        .args(["scan", "secrets", "--staged"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("client.py:3"));
}

#[test]
fn gitleaks_configs_keep_a_teams_rules_and_allowlists() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".gitleaks.toml"),
        r#"title = "team rules"
[extend]
useDefault = true

[[rules]]
id = "acme-internal-token"
description = "ACME internal service token"
regex = '''acme_[a-z0-9]{24}'''
keywords = ["acme_"]

[[rules.allowlists]]
description = "the staging token is public"
regexes = ['''acme_0{4}''']

[allowlist]
description = "vendored code"
paths = ['''^vendor/''']
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.txt"),
        "token=acme_q8w7e6r5t4y3u2i1o9p8a7s6\nstaging=acme_0000q8w7e6r5t4y3u2i1o9p8\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("vendor")).unwrap();
    std::fs::copy(
        fixtures().join("tree/config/prod.env"),
        dir.path().join("vendor/prod.env"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("tree/src/client.py"),
        dir.path().join("client.py"),
    )
    .unwrap();
    let out = evident(home.path())
        .current_dir(dir.path())
        .args([
            "scan",
            "secrets",
            ".",
            "--config",
            ".gitleaks.toml",
            "--format",
            "json",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let rows = sorted_rows(&report, |f| {
        format!(
            "{}:{} {} {}",
            f["path"].as_str().unwrap(),
            f["line"],
            f["check"].as_str().unwrap(),
            f["suppressed"]["reason"].as_str().unwrap_or("active")
        )
    });
    assert_eq!(
        rows,
        vec![
            "a.txt:1 acme-internal-token active",
            "a.txt:2 acme-internal-token allowlist: the staging token is public",
            "client.py:3 github-pat-classic active",
            "vendor/prod.env:2 aws-access-key-id allowlist: vendored code",
            "vendor/prod.env:4 generic-password-assignment allowlist: vendored code",
        ]
    );
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n",
    )
    .unwrap();
    evident(home.path())
        .current_dir(dir.path())
        .args(["scan", "secrets", ".", "--config", "bad.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml").and(predicate::str::contains("rule `x`")));
}

/// The repository scans itself with its own `evident.toml`, as the README's main command does:
/// every synthetic credential in its sources and tests carries an `evident:allow` reason, so a
/// new one without a reason fails here before it reaches anyone's pre-commit hook.
#[test]
fn this_repository_has_no_unexplained_secret() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let home = tempfile::tempdir().unwrap();
    let out = evident(home.path())
        .args(["scan", "secrets", ".", "--format", "json"])
        .current_dir(&root)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unexplained: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .map(|f| format!("{}:{} {}", f["path"], f["line"], f["check"]))
        .collect();
    assert!(
        unexplained.is_empty(),
        "findings without an `evident:allow <reason>`: {unexplained:#?}"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The scan did read the tree: the redaction test vector is seen, and its reason kept.
    assert!(
        report["findings"].as_array().unwrap().iter().any(|f| {
            f["path"] == "crates/evident-secrets/src/redact.rs"
                && f["suppressed"]["reason"] == "redaction test vector"
        }),
        "the known test vectors were not seen"
    );
}
