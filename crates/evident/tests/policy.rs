//! `evident policy check|test` as a user runs them, on the policies in examples/policy.

mod common;

use std::path::{Path, PathBuf};

use common::evident;
use predicates::prelude::*;
use serde_json::{Value, json};

/// The repository root: paths in the output are relative to it.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `evident` run from the repository root with a cleared environment.
fn at_root(home: &Path) -> assert_cmd::Command {
    let mut cmd = evident(home);
    cmd.current_dir(root());
    cmd
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn kubernetes_example_fails_warns_and_excepts_like_conftest() {
    let home = tempfile::tempdir().unwrap();
    let output = at_root(home.path())
        .args([
            "policy",
            "check",
            "-p",
            "examples/policy/kubernetes/policy",
            "examples/policy/kubernetes/deployment.yaml",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let file = "examples/policy/kubernetes/deployment.yaml";
    assert_eq!(
        stdout(&output),
        format!(
            "WARN - {file} - main - Service api is reachable from outside the cluster (type LoadBalancer)\n\
             FAIL - {file} - main - Deployment api may run as root; set spec.template.spec.securityContext.runAsNonRoot: true\n\
             FAIL - {file} - main - Deployment api: container api uses the moving tag of registry.example.com/api:latest; pin a version or digest\n\
             FAIL - {file} - main - Deployment api has no owner label\n\
             EXCP - {file} - main - data.main.exception[_][_] == \"unpinned_image\"\n\
             \n\
             12 tests, 7 passed, 1 warning, 3 failures, 1 exception\n"
        )
    );
}

#[test]
fn terraform_example_uses_conftest_hcl2_shape() {
    let home = tempfile::tempdir().unwrap();
    let file = "examples/policy/terraform/main.tf";
    // Named directly, or found in its directory (the `.rego` files there are not inputs).
    for input in [file, "examples/policy/terraform"] {
        at_root(home.path())
            .args([
                "policy",
                "check",
                "--policy",
                "examples/policy/terraform/policy",
                input,
            ])
            .assert()
            .code(1)
            .stdout(expected_terraform(file));
    }
}

fn expected_terraform(file: &str) -> String {
    format!(
        "WARN - {file} - main - aws_s3_bucket.reports: enable versioning so that overwritten objects can be recovered\n\
             FAIL - {file} - main - aws_s3_bucket.reports: acl \"public-read\" makes the bucket public\n\
             FAIL - {file} - main - aws_security_group.bastion: SSH (port 22) is open to the whole internet\n\
             \n\
             3 tests, 0 passed, 1 warning, 2 failures, 0 exceptions\n"
    )
}

#[test]
fn dockerfile_example_sees_the_instruction_list() {
    let home = tempfile::tempdir().unwrap();
    let file = "examples/policy/docker/Dockerfile";
    at_root(home.path())
        .args(["policy", "check", "-p", "examples/policy/docker/policy", file])
        .assert()
        .code(1)
        .stdout(format!(
            "WARN - {file} - main - stage 1: prefer COPY to ADD (https://example.com/ca.pem /etc/ssl/certs/ca.pem)\n\
             FAIL - {file} - main - stage 0 starts from golang:latest; pin a version\n\
             FAIL - {file} - main - the final stage runs as root; add a USER instruction with a non-root user\n\
             \n\
             3 tests, 0 passed, 1 warning, 2 failures, 0 exceptions\n"
        ));
}

#[test]
fn json_output_has_conftests_shape() {
    let home = tempfile::tempdir().unwrap();
    let output = at_root(home.path())
        .args([
            "policy",
            "check",
            "--format",
            "json",
            "-p",
            "examples/policy/kubernetes/policy",
            "-p",
            "examples/policy/docker/policy",
            "examples/policy/kubernetes/deployment.yaml",
            "examples/policy/docker/Dockerfile",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let text = stdout(&output);
    assert!(
        text.starts_with("[\n\t{\n\t\t\"filename\""),
        "tab-indented: {text}"
    );
    let value: Value = serde_json::from_str(&text).unwrap();
    // The Docker rules live in `main` too, so they count for the YAML file (and pass).
    assert_eq!(
        value,
        json!([
            {
                "filename": "examples/policy/kubernetes/deployment.yaml",
                "namespace": "main",
                "successes": 16,
                "warnings": [
                    {"msg": "Service api is reachable from outside the cluster (type LoadBalancer)"}
                ],
                "failures": [
                    {"msg": "Deployment api may run as root; set spec.template.spec.securityContext.runAsNonRoot: true"},
                    {"msg": "Deployment api: container api uses the moving tag of registry.example.com/api:latest; pin a version or digest"},
                    {"msg": "Deployment api has no owner label", "metadata": {"owner_label": "owner"}}
                ],
                "exceptions": [
                    {"msg": "data.main.exception[_][_] == \"unpinned_image\""}
                ]
            },
            {
                "filename": "examples/policy/docker/Dockerfile",
                "namespace": "main",
                "successes": 4,
                "warnings": [
                    {"msg": "stage 1: prefer COPY to ADD (https://example.com/ca.pem /etc/ssl/certs/ca.pem)"}
                ],
                "failures": [
                    {"msg": "stage 0 starts from golang:latest; pin a version"},
                    {"msg": "the final stage runs as root; add a USER instruction with a non-root user"}
                ]
            }
        ])
    );
}

const HARDENED: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {owner: web-team}
spec:
  template:
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: web
          image: registry.example.com/web:2.3.1
";

#[test]
fn a_clean_input_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web.yaml");
    std::fs::write(&file, HARDENED).unwrap();
    at_root(dir.path())
        .args(["policy", "check", "-p", "examples/policy/kubernetes/policy"])
        .arg(&file)
        .assert()
        .code(0)
        .stdout("\n4 tests, 4 passed, 0 warnings, 0 failures, 0 exceptions\n");
}

#[test]
fn warnings_fail_only_with_fail_on_warn() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("svc.json");
    std::fs::write(
        &file,
        r#"{"kind": "Service", "metadata": {"name": "edge"}, "spec": {"type": "LoadBalancer"}}"#,
    )
    .unwrap();
    let check = |extra: &[&str]| {
        let mut cmd = at_root(dir.path());
        cmd.args(["policy", "check", "-p", "examples/policy/kubernetes/policy"])
            .args(extra)
            .arg(&file);
        cmd
    };
    check(&[]).assert().code(0).stdout(predicate::str::contains(
        "4 tests, 3 passed, 1 warning, 0 failures, 0 exceptions",
    ));
    check(&["--fail-on-warn"]).assert().code(1);
}

#[test]
fn standard_input_needs_a_parser() {
    let home = tempfile::tempdir().unwrap();
    at_root(home.path())
        .args([
            "policy",
            "check",
            "-p",
            "examples/policy/kubernetes/policy",
            "-",
        ])
        .write_stdin(HARDENED)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--parser"));
    at_root(home.path())
        .args([
            "policy",
            "check",
            "-p",
            "examples/policy/kubernetes/policy",
            "--parser",
            "yaml",
            "-",
        ])
        .write_stdin(HARDENED.replace("runAsNonRoot: true", "runAsNonRoot: false"))
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "FAIL - - main - Deployment web may run as root",
        ));
}

#[test]
fn all_namespaces_and_data() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("policy")).unwrap();
    std::fs::write(
        dir.path().join("policy/registries.rego"),
        "package registries\n\nimport rego.v1\n\ndeny contains msg if {\n\tnot startswith(input.image, data.allowed.registry)\n\tmsg := sprintf(\"%s is not from %s\", [input.image, data.allowed.registry])\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy/size.rego"),
        "package size\n\nwarn[msg] {\n\tinput.size > 100\n\tmsg := \"large image\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("allowed.yaml"),
        "allowed:\n  registry: registry.example.com/\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("image.json"),
        r#"{"image": "docker.io/library/nginx", "size": 120}"#,
    )
    .unwrap();
    evident(dir.path())
        .current_dir(dir.path())
        .args([
            "policy",
            "check",
            "--all-namespaces",
            "--data",
            "allowed.yaml",
            "image.json",
        ])
        .assert()
        .code(1)
        .stdout(
            "FAIL - image.json - registries - docker.io/library/nginx is not from registry.example.com/\n\
             WARN - image.json - size - large image\n\
             \n\
             2 tests, 0 passed, 1 warning, 1 failure, 0 exceptions\n",
        );
    evident(dir.path())
        .current_dir(dir.path())
        .args(["policy", "check", "image.json"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("namespace `main`")
                .and(predicate::str::contains("registries, size")),
        );
}

#[test]
fn broken_policies_and_inputs_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("policy")).unwrap();
    std::fs::write(
        dir.path().join("policy/broken.rego"),
        "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tmsg := \"unterminated\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("ok.yaml"), "a: 1\n").unwrap();
    evident(dir.path())
        .current_dir(dir.path())
        .args(["policy", "check", "ok.yaml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("policy/broken.rego:6:"));

    std::fs::write(
        dir.path().join("policy/broken.rego"),
        "package main\n\ndeny[msg] {\n\tinput.a == 1\n\tmsg := \"a is one\"\n}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "a: 1\nb: c: d\n").unwrap();
    evident(dir.path())
        .current_dir(dir.path())
        .args(["policy", "check", "bad.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.yaml:2:").and(predicate::str::contains("yaml")));
    std::fs::write(dir.path().join("main.tf"), "resource \"a\" \"b\" {\n").unwrap();
    evident(dir.path())
        .current_dir(dir.path())
        .args(["policy", "check", "main.tf"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("main.tf:").and(predicate::str::contains("hcl2")));
}

#[test]
fn a_missing_policy_directory_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "a: 1\n").unwrap();
    evident(dir.path())
        .current_dir(dir.path())
        .args(["policy", "check", "a.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`policy` does not exist"));
    std::fs::create_dir_all(dir.path().join("policy")).unwrap();
    evident(dir.path())
        .current_dir(dir.path())
        .args(["policy", "check", "a.yaml"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no Rego policies").and(predicate::str::contains("`policy`")),
        );
}

#[test]
fn example_policy_tests_pass() {
    let home = tempfile::tempdir().unwrap();
    at_root(home.path())
        .args(["policy", "test", "examples/policy/gate"])
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains(
                "PASS: data.evident.gate.change_management.test_missing_ticket_is_denied\n",
            )
            .and(predicate::str::contains(
                "PASS: data.evident.gate.deploy_window.test_sunday_warns\n",
            ))
            .and(predicate::str::ends_with("PASS: 8/8\n"))
            .and(predicate::str::contains("FAIL").not()),
        );
    for dir in ["kubernetes", "terraform", "docker"] {
        at_root(home.path())
            .args(["policy", "test"])
            .arg(format!("examples/policy/{dir}/policy"))
            .assert()
            .code(0);
    }
}

#[test]
fn a_failing_policy_test_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("policy")).unwrap();
    std::fs::write(
        dir.path().join("policy/tags.rego"),
        "package tags\n\nimport rego.v1\n\ndeny contains \"latest\" if endswith(input.image, \":latest\")\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy/tags_test.rego"),
        "package tags\n\nimport rego.v1\n\ntest_latest_denied if {\n\tdeny[\"latest\"] with input as {\"image\": \"a:latest\"}\n}\n\ntest_wrongly_expects_a_denial if {\n\tprint(\"checking a pinned image\")\n\tdeny[\"latest\"] with input as {\"image\": \"a:1.0\"}\n}\n",
    )
    .unwrap();
    evident(dir.path())
        .current_dir(dir.path())
        .args(["policy", "test"])
        .assert()
        .code(1)
        .stdout(format!(
            "PASS: data.tags.test_latest_denied\n\
             FAIL: data.tags.test_wrongly_expects_a_denial\n\
             \x20 policy/tags_test.rego:10: checking a pinned image\n\
             {}\n\
             PASS: 1/2\n\
             FAIL: 1/2\n",
            "-".repeat(80)
        ));
    let output = evident(dir.path())
        .current_dir(dir.path())
        .args(["policy", "test", "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let value: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        value,
        json!([
            {
                "location": {"file": "policy/tags_test.rego", "row": 5},
                "package": "data.tags",
                "name": "test_latest_denied"
            },
            {
                "location": {"file": "policy/tags_test.rego", "row": 9},
                "package": "data.tags",
                "name": "test_wrongly_expects_a_denial",
                "fail": true,
                "output": ["policy/tags_test.rego:10: checking a pinned image"]
            }
        ])
    );
}

#[test]
fn no_tests_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    at_root(home.path())
        .args([
            "policy",
            "test",
            "examples/policy/kubernetes/policy/deployment.rego",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no tests").and(predicate::str::contains("deployment.rego")),
        );
}
