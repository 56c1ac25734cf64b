//! `evident scan iac` through the real binary on `examples/iac` (Terraform with tfvars, locals,
//! for_each, count and a local module; Kubernetes; a Dockerfile; CloudFormation): findings with
//! addresses and lines, suppressions, SARIF, standard input, errors, and the scan recorded as
//! evidence for the gate.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{evident, git, new_repo, shared_data, validate_json_schema};
use serde_json::Value;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/iac")
}

/// A git repository holding a copy of examples/iac.
fn repo() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    let home = tmp.path().join("home");
    fs::create_dir_all(&home).unwrap();
    copy_dir(&example(), &dir);
    new_repo(&dir);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "infra"]);
    (tmp, dir, home)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn scan_json(home: &Path, dir: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let out = evident(home)
        .current_dir(dir)
        .args(["scan", "iac", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

/// `check path:line resource [suppressed]` for every finding: the snapshot of what a user sees.
fn summary(report: &Value) -> String {
    let mut lines: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}:{} {}{}",
                f["check"].as_str().unwrap(),
                f["path"].as_str().unwrap_or("-"),
                f["line"].as_u64().unwrap_or(0),
                f["resource"].as_str().unwrap_or("-"),
                if f["suppressed"].is_object() {
                    " [suppressed]"
                } else {
                    ""
                }
            )
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

fn find<'a>(report: &'a Value, check: &str, resource: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check && f["resource"] == resource)
        .unwrap_or_else(|| panic!("no {check} on {resource}:\n{}", summary(report)))
}

fn has(report: &Value, check: &str, resource: &str) -> bool {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["check"] == check && f["resource"] == resource)
}

#[test]
fn the_example_repository_gives_precise_findings() {
    let (_tmp, dir, home) = repo();
    let (code, report) = scan_json(&home, &dir, &[]);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        report["errors"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
    insta::assert_snapshot!("iac_example", summary(&report));

    // tfvars override the variable default and flow into a local module: SSH from anywhere.
    let sg = find(
        &report,
        "aws-sg-admin-port-open",
        "module.network.aws_security_group.admin",
    );
    assert_eq!(
        sg["path"], "terraform/modules/network/main.tf",
        "the resource inside the module"
    );
    assert!(
        sg["message"].as_str().unwrap().contains("module.network"),
        "the module call is named: {sg:#}"
    );
    // for_each instances are addressed by key.
    assert!(has(
        &report,
        "aws-s3-public-access-block-disabled",
        "aws_s3_bucket_public_access_block.team_audit[\"data\"]"
    ));
    // The evidence bucket is versioned, locked, encrypted and blocked through separate
    // resources linked by reference: nothing about it is reported.
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["resource"] == "aws_s3_bucket.evidence"),
        "{}",
        summary(&report)
    );
    // `publicly_accessible = var.db_public` (default false) is secure: silent.
    assert!(!has(&report, "aws-rds-public", "aws_db_instance.orders"));
    // Kubernetes: the second container of the Deployment, and the CronJob's pod template.
    let privileged = find(&report, "k8s-privileged-container", "Deployment.shop.web");
    assert_eq!(privileged["path"], "k8s/web.yaml");
    assert!(has(
        &report,
        "k8s-host-network",
        "CronJob.default.nightly-report"
    ));
    // The inline token is reported without its value.
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains("not-a-real-token-but-still-inline"));
    for f in report["findings"].as_array().unwrap() {
        assert!(f["controls"].as_array().is_some_and(|c| !c.is_empty()));
        assert!(!f["fix"].as_str().unwrap().is_empty());
    }
}

#[test]
fn sarif_carries_resource_addresses_and_is_valid() {
    let (_tmp, dir, home) = repo();
    let sarif = dir.join("iac.sarif");
    let out = evident(&home)
        .current_dir(&dir)
        .args(["scan", "iac", "--format", "sarif", "-o"])
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
    assert!(results.iter().any(|r| {
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
            == "module.network.aws_security_group.admin"
    }));
    assert!(
        results.iter().any(|r| r["suppressions"].is_array()),
        "the inline suppression is carried as a SARIF suppression"
    );
}

#[test]
fn variables_from_the_command_line_change_the_result() {
    let (_tmp, dir, home) = repo();
    let (_, before) = scan_json(&home, &dir, &[]);
    assert!(!has(&before, "aws-rds-public", "aws_db_instance.orders"));
    let (_, after) = scan_json(&home, &dir, &["--var", "db_public=true"]);
    let f = find(&after, "aws-rds-public", "aws_db_instance.orders");
    assert_eq!(f["path"], "terraform/main.tf");
    // A var file that does not exist is an error, not a silent skip.
    let out = evident(&home)
        .current_dir(&dir)
        .args(["scan", "iac", "--var-file", "missing.tfvars"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.tfvars"));
}

#[test]
fn helm_output_on_standard_input() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = "# Source: chart/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n  namespace: ops\nspec:\n  hostPID: true\n  containers:\n    - name: shell\n      image: alpine:3.20\n";
    let out = evident(tmp.path())
        .current_dir(tmp.path())
        .args(["scan", "iac", "-", "--format", "json"])
        .write_stdin(manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = find(&report, "k8s-host-pid", "Pod.ops.debug");
    assert_eq!(f["line"], 8);
}

#[test]
fn broken_input_is_an_error_named_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("main.tf"),
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n  acl = \n}\n",
    )
    .unwrap();
    let (code, report) = scan_json(tmp.path(), tmp.path(), &[]);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report:#}");
    assert_eq!(errors[0]["path"], "main.tf");
    assert!(
        errors[0]["message"].as_str().unwrap().contains("line"),
        "{report:#}"
    );
    assert_ne!(code, Some(0), "a scan with errors is never clean");
}

#[test]
fn the_iac_scan_is_recorded_for_the_gate() {
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
        run(&["keys", "generate", "--name", "evident.test/iac"])
            .status
            .success()
    );
    let out = run(&["scan", "iac", "--record"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = run(&["evidence", "list", "--kind", "scan", "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "iso27001:A.8.9")
    );
    assert!(run(&["ledger", "verify"]).status.success());
}
