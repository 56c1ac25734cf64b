//! The command line as a user runs it: help, exit codes, init, checks, controls, rules.

mod common;

use std::io::Read as _;
use std::process::Stdio;

use common::{evident, git, new_repo};
use predicates::prelude::*;

#[test]
fn help_names_the_commands_and_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    evident(home.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("scan")
                .and(predicate::str::contains("init"))
                .and(predicate::str::contains("Exit codes")),
        );
}

#[test]
fn usage_errors_exit_2() {
    let home = tempfile::tempdir().unwrap();
    evident(home.path())
        .args(["scan", "secrets", "--staged", "--history"])
        .assert()
        .code(2);
    evident(home.path())
        .args(["scan", "secrets", "/definitely/not/here"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such file"));
    evident(home.path())
        .args(["scan", "secrets", "--fail-on", "severe"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("critical"));
    evident(home.path()).args(["frobnicate"]).assert().code(2);
}

#[test]
fn unknown_config_keys_are_errors_that_point_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("evident.toml"),
        "[secrets]\nexclude = []\nexcludes = [\"x\"]\n",
    )
    .unwrap();
    evident(dir.path())
        .current_dir(dir.path())
        .args(["scan", "secrets", "."])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("evident.toml")
                .and(predicate::str::contains("line 3"))
                .and(predicate::str::contains("excludes")),
        );
}

#[test]
fn init_writes_a_valid_config_and_a_hook() {
    let dir = tempfile::tempdir().unwrap();
    new_repo(dir.path());
    evident(dir.path())
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .success()
        .stdout(predicate::str::contains("pre-commit hook"));
    let text = std::fs::read_to_string(dir.path().join("evident.toml")).unwrap();
    evident_core::Config::parse("evident.toml", &text).expect("the template parses");
    let hook = dir.path().join(".git/hooks/pre-commit");
    let body = std::fs::read_to_string(&hook).unwrap();
    assert!(body.contains("evident scan secrets --staged"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111,
            0o111
        );
    }
    // A second run changes nothing and says so.
    std::fs::write(dir.path().join("evident.toml"), "# mine\n").unwrap();
    evident(dir.path())
        .current_dir(dir.path())
        .arg("init")
        .assert()
        .success()
        .stdout(predicate::str::contains("left unchanged"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("evident.toml")).unwrap(),
        "# mine\n"
    );
    // Someone else's hook is never overwritten silently.
    std::fs::write(&hook, "#!/bin/sh\nmake lint\n").unwrap();
    evident(dir.path())
        .current_dir(dir.path())
        .args(["init"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not evident's"));
    assert!(git(dir.path(), &["status", "--porcelain"]).contains("evident.toml"));
}

#[test]
fn checks_json_lists_every_check_with_resolvable_controls() {
    let home = tempfile::tempdir().unwrap();
    let out = evident(home.path())
        .args(["checks", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let checks: Vec<serde_json::Value> = serde_json::from_slice(&out).unwrap();
    assert!(checks.len() >= 150, "{} checks", checks.len());
    for check in &checks {
        let id = check["id"].as_str().unwrap();
        for key in ["title", "severity", "why", "fix", "scanner", "confidence"] {
            assert!(
                check[key].as_str().is_some_and(|s| !s.is_empty()),
                "{id}: {key}"
            );
        }
        let controls = check["controls"].as_array().unwrap();
        assert!(!controls.is_empty(), "{id}");
        for control in controls {
            evident_controls::resolve(control.as_str().unwrap())
                .unwrap_or_else(|e| panic!("{id}: {e}"));
        }
    }
    let filtered = evident(home.path())
        .args(["checks", "--control", "A.8.4", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let filtered: Vec<serde_json::Value> = serde_json::from_slice(&filtered).unwrap();
    assert!(!filtered.is_empty() && filtered.len() <= checks.len());
}

#[test]
fn controls_lists_frameworks_and_their_controls() {
    let home = tempfile::tempdir().unwrap();
    evident(home.path())
        .arg("controls")
        .assert()
        .success()
        .stdout(predicate::str::contains("soc2").and(predicate::str::contains("iso27001")));
    let out = evident(home.path())
        .args(["controls", "iso27001", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let framework: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(framework["controls"].as_array().unwrap().len(), 93);
    evident(home.path())
        .args(["controls", "soc2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("CC6.1").and(predicate::str::contains("checks]")));
    evident(home.path())
        .args(["controls", "pci"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("known frameworks"));
}

#[test]
fn rules_check_runs_every_example() {
    let home = tempfile::tempdir().unwrap();
    evident(home.path())
        .args(["rules", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("behave as declared"));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let home = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("evident");
    let mut child = std::process::Command::new(bin)
        .args(["checks", "--format", "json"])
        .env("HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_checks_reference_is_up_to_date() {
    for scanner in ["secrets", "sca", "pipeline", "iac", "sod"] {
        let home = tempfile::tempdir().unwrap();
        let out = evident(home.path())
            .args(["checks", "--scanner", scanner, "--format", "markdown"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../docs/checks/{scanner}.md"));
        let committed = std::fs::read_to_string(&page).unwrap_or_default();
        assert!(
            committed == String::from_utf8(out).unwrap(),
            "docs/checks/{scanner}.md is stale: regenerate it with\n  cargo run -p evident -- checks --scanner {scanner} --format markdown > docs/checks/{scanner}.md"
        );
    }
}
