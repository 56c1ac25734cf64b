//! GitHub Actions checks against the fixtures in `tests/fixtures/github/*`: each folder is a
//! repository root; `*-fail` folders hold failing variants, `*-pass` folders passing ones.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use evident_core::{Confidence, Finding};
use evident_pipeline::stages::Stage;
use evident_pipeline::{FileResult, Options, github};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github")
        .join(name)
}

fn options() -> Options {
    Options {
        required_stages: vec![Stage::Secrets, Stage::Sast, Stage::Sca],
        ..Options::default()
    }
}

fn scan(name: &str) -> FileResult {
    github::scan(&fixture(name), &options())
}

/// One line per finding: check, path:line, resource, message; then errors.
fn render(result: &FileResult) -> String {
    let mut findings: Vec<&Finding> = result.findings.iter().collect();
    findings.sort_by_key(|f| {
        (
            f.location.path.clone(),
            f.location.line,
            f.location.column,
            f.check.clone(),
        )
    });
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "{} {}:{} [{}] {}",
            f.check,
            f.location.path.as_deref().unwrap_or("?"),
            f.location.line.unwrap_or(0),
            f.location.resource.as_deref().unwrap_or("-"),
            f.message
        );
    }
    for e in &result.errors {
        let _ = writeln!(out, "error {}: {}", e.path, e.message);
    }
    out
}

fn has(result: &FileResult, check: &str, path: &str, line: u32) -> bool {
    result.findings.iter().any(|f| {
        f.check == check
            && f.location.path.as_deref() == Some(path)
            && f.location.line == Some(line)
    })
}

#[test]
fn scans_fail_snapshot() {
    let result = scan("scans-fail");
    insta::assert_snapshot!("scans_fail", render(&result));
}

#[test]
fn scans_pass_has_no_findings() {
    let result = scan("scans-pass");
    assert_eq!(render(&result), "");
}

#[test]
fn deploy_fail_snapshot() {
    insta::assert_snapshot!("deploy_fail", render(&scan("deploy-fail")));
}

#[test]
fn deploy_pass_has_no_findings() {
    // Includes a production deploy gated through a local reusable workflow's environment.
    assert_eq!(render(&scan("deploy-pass")), "");
}

#[test]
fn supply_fail_snapshot() {
    insta::assert_snapshot!("supply_fail", render(&scan("supply-fail")));
}

#[test]
fn supply_pass_has_no_findings() {
    // Includes actions pinned to a SHA with a tag comment and a digest-pinned docker action.
    // No scans in this fixture: the policy here requires none.
    let options = Options {
        required_stages: Vec::new(),
        ..Options::default()
    };
    let result = github::scan(&fixture("supply-pass"), &options);
    assert_eq!(render(&result), "");
}

#[test]
fn composite_snapshot() {
    insta::assert_snapshot!("composite", render(&scan("composite")));
}

#[test]
fn matrix_continue_on_error_is_reported_as_possibly_true() {
    let result = scan("scans-fail");
    let path = ".github/workflows/ci.yml";
    assert!(has(&result, "scan-does-not-block", path, 18));
    let f = result
        .findings
        .iter()
        .find(|f| f.check == "scan-does-not-block" && f.location.line == Some(18))
        .unwrap();
    assert!(f.message.contains("can be true"), "{}", f.message);
    assert_eq!(f.location.resource.as_deref(), Some("sast"));
    // `|| true` inside a block scalar points at the scanner's own line.
    assert!(has(&result, "scan-does-not-block", path, 31));
    assert!(has(&result, "short-evidence-retention", path, 24));
}

#[test]
fn missing_stage_is_file_level() {
    let result = scan("scans-fail");
    let missing: Vec<_> = result
        .findings
        .iter()
        .filter(|f| f.check == "missing-scan-stage")
        .collect();
    assert_eq!(missing.len(), 1, "{}", render(&result));
    assert_eq!(missing[0].location.resource.as_deref(), Some("workflow"));
    assert!(missing[0].message.contains("`sca`"));
}

#[test]
fn broken_yaml_is_an_error_with_a_line() {
    let result = scan("broken");
    assert!(result.findings.is_empty(), "{}", render(&result));
    assert_eq!(result.errors.len(), 2, "{}", render(&result));
    for e in &result.errors {
        assert!(e.message.contains("line "), "{}", e.message);
    }
}

#[test]
fn environment_without_branch_rule_is_medium_confidence() {
    let result = scan("deploy-fail");
    let f = result
        .findings
        .iter()
        .find(|f| {
            f.check == "deploy-from-other-branches"
                && f.location.path.as_deref() == Some(".github/workflows/anybranch.yml")
        })
        .expect("finding");
    assert_eq!(f.confidence, Confidence::Medium);
}

#[test]
fn every_check_is_complete_and_mapped() {
    for c in github::checks() {
        c.validate().unwrap();
        for control in &c.controls {
            evident_controls::resolve(control).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        }
    }
}

#[test]
fn the_repository_root_itself_can_be_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::write(
        wf.join("a.yaml"),
        "on: pull_request\njobs:\n  t:\n    runs-on: self-hosted\n    steps:\n      - run: make\n",
    )
    .unwrap();
    let result = github::scan(dir.path(), &Options::default());
    assert!(has(
        &result,
        "self-hosted-runner-on-pull-request",
        ".github/workflows/a.yaml",
        4
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn arbitrary_workflow_text_never_panics(text in "(?s).{0,400}", prefix in prop::sample::select(vec![
        "", "on: push\njobs:\n  a:\n    steps:\n      - run: ", "on: [pull_request_target]\njobs:\n  ",
    ])) {
        let dir = tempfile::tempdir().unwrap();
        let wf = dir.path().join(".github/workflows");
        std::fs::create_dir_all(&wf).unwrap();
        std::fs::write(wf.join("x.yml"), format!("{prefix}{text}")).unwrap();
        let _ = github::scan(dir.path(), &Options::default());
    }
}
