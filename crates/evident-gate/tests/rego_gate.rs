//! Rego policies: Conftest-style checks (Rego v0 and v1 alike), `opa test`-style tests, and the
//! gate's own policies with their controls.

use std::path::{Path, PathBuf};

use evident_gate::rego::{CheckResult, GatePolicies, PolicySet, PolicyViolation, RegoError};
use serde_json::{Value, json};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

const V0: &str = r#"package main

deny[msg] {
  input.kind == "Deployment"
  not input.spec.template.spec.securityContext.runAsNonRoot
  msg := sprintf("%s must not run as root", [input.metadata.name])
}

deny[msg] {
  input.kind == "Deployment"
  image := input.spec.template.spec.containers[_].image
  endswith(image, ":latest")
  msg := sprintf("%s uses a latest tag", [image])
}

warn[msg] {
  input.kind == "Service"
  input.spec.type == "LoadBalancer"
  msg := "service is exposed through a load balancer"
}

violation[{"msg": msg, "severity": "high"}] {
  input.kind == "Deployment"
  not input.metadata.labels.owner
  msg := "deployment has no owner label"
}

deny_replicas[msg] {
  input.spec.replicas < 2
  msg := "run at least two replicas"
}
"#;

const V1: &str = r#"package main

import rego.v1

deny contains msg if {
  input.kind == "Deployment"
  not input.spec.template.spec.securityContext.runAsNonRoot
  msg := sprintf("%s must not run as root", [input.metadata.name])
}

deny contains msg if {
  input.kind == "Deployment"
  some container in input.spec.template.spec.containers
  endswith(container.image, ":latest")
  msg := sprintf("%s uses a latest tag", [container.image])
}

warn contains msg if {
  input.kind == "Service"
  input.spec.type == "LoadBalancer"
  msg := "service is exposed through a load balancer"
}

violation contains {"msg": msg, "severity": "high"} if {
  input.kind == "Deployment"
  not input.metadata.labels.owner
  msg := "deployment has no owner label"
}

deny_replicas contains msg if {
  input.spec.replicas < 2
  msg := "run at least two replicas"
}
"#;

/// v1 syntax without `import rego.v1` (OPA 1.0 default).
const V1_BARE: &str = r#"package main

deny contains msg if {
  input.kind == "Deployment"
  not input.spec.template.spec.securityContext.runAsNonRoot
  msg := sprintf("%s must not run as root", [input.metadata.name])
}

deny contains msg if {
  input.kind == "Deployment"
  some container in input.spec.template.spec.containers
  endswith(container.image, ":latest")
  msg := sprintf("%s uses a latest tag", [container.image])
}

warn contains msg if {
  input.kind == "Service"
  input.spec.type == "LoadBalancer"
  msg := "service is exposed through a load balancer"
}

violation contains {"msg": msg, "severity": "high"} if {
  input.kind == "Deployment"
  not input.metadata.labels.owner
  msg := "deployment has no owner label"
}

deny_replicas contains msg if {
  input.spec.replicas < 2
  msg := "run at least two replicas"
}
"#;

/// v0 with `future.keywords` (the Conftest-era transitional style): `deny[msg] if` is a set.
const V0_FUTURE: &str = r#"package main

import future.keywords.if
import future.keywords.in

deny[msg] if {
  input.kind == "Deployment"
  not input.spec.template.spec.securityContext.runAsNonRoot
  msg := sprintf("%s must not run as root", [input.metadata.name])
}

deny[msg] if {
  input.kind == "Deployment"
  some container in input.spec.template.spec.containers
  endswith(container.image, ":latest")
  msg := sprintf("%s uses a latest tag", [container.image])
}

warn[msg] if {
  input.kind == "Service"
  input.spec.type == "LoadBalancer"
  msg := "service is exposed through a load balancer"
}

violation[{"msg": msg, "severity": "high"}] if {
  input.kind == "Deployment"
  not input.metadata.labels.owner
  msg := "deployment has no owner label"
}

deny_replicas[msg] if {
  input.spec.replicas < 2
  msg := "run at least two replicas"
}
"#;

fn manifests() -> Vec<Value> {
    vec![
        json!({
            "kind": "Deployment",
            "metadata": {"name": "api"},
            "spec": {"replicas": 1, "template": {"spec": {
                "containers": [{"image": "api:latest"}, {"image": "sidecar:1.2"}]
            }}}
        }),
        json!({
            "kind": "Service",
            "metadata": {"name": "api"},
            "spec": {"type": "LoadBalancer"}
        }),
    ]
}

fn check(policy: &str) -> CheckResult {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "policy/k8s.rego", policy);
    let mut set = PolicySet::load(&[dir.path().join("policy")], false).unwrap();
    set.check("deploy.yaml", &manifests(), "main").unwrap()
}

#[test]
fn rego_v0_and_v1_policies_give_the_same_results() {
    let expected = json!({
        "filename": "deploy.yaml",
        "namespace": "main",
        // 5 rule definitions per document: the deployment fires 4 messages (3 rules), the
        // service 1 warning; every other definition counts as a success.
        "successes": 5,
        "warnings": [{"msg": "service is exposed through a load balancer"}],
        "failures": [
            {"msg": "api must not run as root"},
            {"msg": "api:latest uses a latest tag"},
            {"msg": "run at least two replicas"},
            {"msg": "deployment has no owner label", "metadata": {"severity": "high"}}
        ]
    });
    for (name, policy) in [
        ("v0", V0),
        ("v1", V1),
        ("v1 without import", V1_BARE),
        ("v0 with future keywords", V0_FUTURE),
    ] {
        let result = check(policy);
        assert_eq!(serde_json::to_value(&result).unwrap(), expected, "{name}");
        assert_eq!(result.total(), 10, "{name}");
    }
}

#[test]
fn each_file_is_read_in_its_own_rego_version() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a_v0.rego",
        "package lib.a\n\nyes[x] { x := 1 }\n",
    );
    write(
        dir.path(),
        "b_v1.rego",
        "package lib.b\n\nyes contains x if { x := 2 }\n",
    );
    write(
        dir.path(),
        "c_test.rego",
        "package lib.c\n\ntest_x if { true }\n",
    );
    let set = PolicySet::load(&[dir.path().to_path_buf()], false).unwrap();
    let versions: Vec<(String, bool)> = set
        .files()
        .iter()
        .map(|f| {
            (
                f.path.file_name().unwrap().to_string_lossy().into_owned(),
                f.rego_v1,
            )
        })
        .collect();
    assert_eq!(
        versions,
        vec![
            ("a_v0.rego".to_owned(), false),
            ("b_v1.rego".to_owned(), true)
        ]
    );
    assert_eq!(set.namespaces(), vec!["lib.a", "lib.b"]);
}

#[test]
fn exceptions_exempt_rules_by_name() {
    let policy = r#"package main
import rego.v1

deny_root contains "runs as root" if input.root
deny_latest contains "latest tag" if input.latest

exception contains ["root"] if input.exempt
"#;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.rego", policy);
    let mut set = PolicySet::load(&[dir.path().to_path_buf()], false).unwrap();
    let doc = json!({"root": true, "latest": true, "exempt": true});
    let result = set.check("x.json", &[doc], "main").unwrap();
    assert_eq!(
        serde_json::to_value(&result).unwrap(),
        json!({
            "filename": "x.json",
            "namespace": "main",
            "successes": 0,
            "failures": [{"msg": "latest tag"}],
            "exceptions": [{"msg": "data.main.exception[_][_] == \"root\""}]
        })
    );
    let result = set
        .check("x.json", &[json!({"root": true})], "main")
        .unwrap();
    assert_eq!(result.failures.len(), 1);
    assert_eq!(result.successes, 1);
    assert!(result.exceptions.is_empty());
}

#[test]
fn messages_must_be_strings_or_objects_with_msg() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.rego",
        "package main\nimport rego.v1\ndeny contains {\"message\": \"x\"} if true\n",
    );
    let mut set = PolicySet::load(&[dir.path().to_path_buf()], false).unwrap();
    let error = set.check("f", &[json!({})], "main").unwrap_err();
    assert!(matches!(error, RegoError::InvalidMessage { .. }), "{error}");
    let text = error.to_string();
    assert!(text.contains("p.rego") && text.contains("`msg`"), "{text}");
}

#[test]
fn unknown_namespaces_are_errors_listing_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.rego",
        "package k8s\nimport rego.v1\ndeny contains \"x\" if false\n",
    );
    let mut set = PolicySet::load(&[dir.path().to_path_buf()], false).unwrap();
    let error = set
        .check("f", &[json!({})], "main")
        .unwrap_err()
        .to_string();
    assert!(error.contains("`main`") && error.contains("k8s"), "{error}");
    let result = set.check("f", &[json!({})], "k8s").unwrap();
    assert_eq!(result.successes, 1);
}

#[test]
fn data_files_are_merged_into_data() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "policy/p.rego",
        "package main\nimport rego.v1\ndeny contains msg if {\n  some image in input.images\n  not image in data.registries.allowed\n  msg := sprintf(\"%s is not from an allowed registry\", [image])\n}\n",
    );
    write(
        dir.path(),
        "data/registries.yaml",
        "registries:\n  allowed: [registry.example.com/api]\n",
    );
    let mut set = PolicySet::load(&[dir.path().join("policy")], false).unwrap();
    set.add_data(&[dir.path().join("data")]).unwrap();
    let result = set
        .check(
            "f",
            &[json!({"images": ["registry.example.com/api", "docker.io/evil"]})],
            "main",
        )
        .unwrap();
    assert_eq!(
        result.failures[0].msg,
        "docker.io/evil is not from an allowed registry"
    );
    // A file in a sub-directory lands under that directory's name.
    write(
        dir.path(),
        "more/teams/owners.json",
        r#"{"platform": ["ana"]}"#,
    );
    set.add_data(&[dir.path().join("more")]).unwrap();
    write(dir.path(), "bad.json", "[1, 2]");
    let error = set.add_data(&[dir.path().join("bad.json")]).unwrap_err();
    assert!(error.to_string().contains("bad.json"), "{error}");
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "broken.rego",
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  msg := \"unclosed\n}\n",
    );
    let error = PolicySet::load(&[dir.path().to_path_buf()], false).unwrap_err();
    let RegoError::Parse { file, line, .. } = &error else {
        panic!("expected a parse error, got {error}");
    };
    assert_eq!(file, &path);
    assert_eq!(*line, Some(5));
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:5:", path.display())),
        "{error}"
    );
    // A v0 file with a mistake reports the v0 error, not v1's complaint about `if`.
    write(
        dir.path(),
        "broken.rego",
        "package main\n\ndeny[msg] {\n  msg := \n}\n",
    );
    let error = PolicySet::load(&[dir.path().to_path_buf()], false)
        .unwrap_err()
        .to_string();
    assert!(!error.contains("`if` keyword is required"), "{error}");
    assert!(error.contains("broken.rego:"), "{error}");
}

#[test]
fn evaluation_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.rego",
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  n := input.count + 1\n  msg := sprintf(\"%d\", [n])\n}\n",
    );
    let mut set = PolicySet::load(&[dir.path().to_path_buf()], false).unwrap();
    let error = set
        .check("f", &[json!({"count": "three"})], "main")
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("p.rego:5:"), "{text}");
    assert!(text.contains("data.main.deny"), "{text}");
}

#[test]
fn no_policies_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "only_test.rego", "package x\n");
    let error = PolicySet::load(&[dir.path().to_path_buf()], false)
        .unwrap_err()
        .to_string();
    assert!(error.contains(&dir.path().display().to_string()), "{error}");
    assert!(error.contains("_test.rego"), "{error}");
    let error = PolicySet::load(&[dir.path().join("nope")], false)
        .unwrap_err()
        .to_string();
    assert!(error.contains("nope"), "{error}");
}

#[test]
fn tests_pass_fail_error_and_skip() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.rego",
        "package main\nimport rego.v1\ndeny contains \"root\" if input.user == \"root\"\n",
    );
    write(
        dir.path(),
        "p_test.rego",
        r#"package main
import rego.v1

test_denies_root if {
  deny["root"] with input as {"user": "root"}
}

test_allows_others if {
  count(deny) == 0 with input as {"user": "app"}
}

test_wrong_expectation if {
  count(deny) == 0 with input as {"user": "root"}
}

test_type_error if {
  1 + "a" == 2
}

todo_test_later if {
  false
}
"#,
    );
    write(
        dir.path(),
        "legacy_test.rego",
        "package legacy\n\ntest_v0_style {\n  1 == 1\n}\n",
    );
    let mut set = PolicySet::load(&[dir.path().to_path_buf()], true).unwrap();
    let results = set.run_tests().unwrap();
    let summary: Vec<(String, bool, bool, bool, bool)> = results
        .iter()
        .map(|r| (r.full_name(), r.passed(), r.fail, r.error.is_some(), r.skip))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "data.legacy.test_v0_style".to_owned(),
                true,
                false,
                false,
                false
            ),
            (
                "data.main.test_denies_root".to_owned(),
                true,
                false,
                false,
                false
            ),
            (
                "data.main.test_allows_others".to_owned(),
                true,
                false,
                false,
                false
            ),
            (
                "data.main.test_wrong_expectation".to_owned(),
                false,
                true,
                false,
                false
            ),
            (
                "data.main.test_type_error".to_owned(),
                false,
                false,
                true,
                false
            ),
            (
                "data.main.todo_test_later".to_owned(),
                false,
                false,
                false,
                true
            ),
        ]
    );
    assert_eq!(results[1].location.row, 4);
    assert!(results[1].location.file.ends_with("p_test.rego"));
}

const TICKETS: &str = r#"package evident.gate.tickets

import rego.v1

controls := ["soc2:cc8.1", "iso:8.32"]

deny contains msg if {
  input.environment == "prod"
  not has_ticket
  msg := {
    "msg": "production deployments need an approval that names a change ticket",
    "fix": "record an approval with --label ticket=CHG-123",
    "controls": ["nist:CM-3"],
  }
}

warn contains "deploying on a weekend" if {
  time.weekday(time.parse_rfc3339_ns(input.now)) in {"Saturday", "Sunday"}
}

has_ticket if {
  some approval in input.approvals
  startswith(approval.labels.ticket, "CHG-")
}
"#;

fn gate_input() -> Value {
    json!({
        "environment": "prod",
        "mode": "block",
        "subject": "git:0123456789abcdef0123456789abcdef01234567",
        "project": {"name": "api", "tier": 1, "classification": "restricted", "frameworks": ["soc2"]},
        "findings": [{"check": "aws-access-key-id", "severity": "high", "controls": ["soc2:CC6.1"],
                      "path": "a.env", "line": 2, "fingerprint": "ab12", "scanner": "secrets", "entry": 3}],
        "evidence": [{"entry": 3, "kind": "scan", "labels": {"scanner": "secrets"}, "actor": "ci",
                      "recorded_at": "2026-11-23T00:00:00Z", "controls": ["soc2:CC6.1"]}],
        "approvals": [{"entry": 4, "actor": "alice", "recorded_at": "2026-11-23T00:00:00Z",
                       "labels": {"ticket": "CHG-1"}}],
        "now": "2026-11-23T01:00:00Z"
    })
}

#[test]
fn gate_policies_cite_normalised_controls() {
    let dir = tempfile::tempdir().unwrap();
    let tickets = write(dir.path(), "gate/tickets.rego", TICKETS);
    write(
        dir.path(),
        "gate/lib/helpers.rego",
        "package evident.lib\nimport rego.v1\ndeny contains \"never evaluated\" if true\n",
    );
    write(
        dir.path(),
        "gate/tickets_test.rego",
        "package evident.gate.tickets\n",
    );
    let gate = GatePolicies::load(&[dir.path().join("gate")]).unwrap();
    assert_eq!(gate.packages(), vec!["evident.gate.tickets"]);

    // 2026-11-23 is a Monday and the approval names a ticket: nothing to report.
    assert_eq!(gate.evaluate(&gate_input()).unwrap(), vec![]);

    let mut input = gate_input();
    input["approvals"] = json!([]);
    input["now"] = json!("2026-11-22T10:00:00Z"); // a Sunday
    let violations = gate.evaluate(&input).unwrap();
    assert_eq!(
        violations,
        vec![
            PolicyViolation {
                policy: "evident.gate.tickets".to_owned(),
                rule: "deny".to_owned(),
                message: "production deployments need an approval that names a change ticket"
                    .to_owned(),
                controls: vec![
                    "iso27001:A.8.32".to_owned(),
                    "nist-800-53:CM-3".to_owned(),
                    "soc2:CC8.1".to_owned()
                ],
                fix: Some("record an approval with --label ticket=CHG-123".to_owned()),
                file: tickets.clone(),
            },
            PolicyViolation {
                policy: "evident.gate.tickets".to_owned(),
                rule: "warn".to_owned(),
                message: "deploying on a weekend".to_owned(),
                controls: vec!["iso27001:A.8.32".to_owned(), "soc2:CC8.1".to_owned()],
                fix: None,
                file: tickets.clone(),
            },
        ]
    );
}

#[test]
fn gate_files_are_hashed_and_sorted() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "b.rego", TICKETS);
    write(
        dir.path(),
        "a.rego",
        "package evident.gate.other\nimport rego.v1\ncontrols := [\"soc2:CC7.1\"]\n",
    );
    write(dir.path(), "a_test.rego", "package evident.gate.other\n");
    let gate = GatePolicies::load(&[dir.path().to_path_buf()]).unwrap();
    let files: Vec<(String, String)> = gate
        .files()
        .iter()
        .map(|(p, h)| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                h.clone(),
            )
        })
        .collect();
    assert_eq!(
        files,
        vec![
            (
                "a.rego".to_owned(),
                evident_core::sha256_hex(
                    b"package evident.gate.other\nimport rego.v1\ncontrols := [\"soc2:CC7.1\"]\n"
                )
            ),
            (
                "b.rego".to_owned(),
                evident_core::sha256_hex(TICKETS.as_bytes())
            ),
        ]
    );
}

fn gate_error(policy: &str) -> (RegoError, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "p.rego", policy);
    let error = GatePolicies::load(&[dir.path().to_path_buf()]).unwrap_err();
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "the error names the file: {error}"
    );
    (error, path)
}

#[test]
fn gate_policies_must_name_controls_that_exist() {
    let (error, _) = gate_error(
        "package evident.gate.x\nimport rego.v1\ndeny contains \"no\" if input.environment == \"prod\"\n",
    );
    assert!(matches!(error, RegoError::NoControls { .. }), "{error}");
    assert!(error.to_string().contains("controls :="), "{error}");

    let (error, _) = gate_error("package evident.gate.x\nimport rego.v1\ncontrols := []\n");
    assert!(matches!(error, RegoError::NoControls { .. }), "{error}");

    let (error, _) =
        gate_error("package evident.gate.x\nimport rego.v1\ncontrols := [\"soc2:CC99.9\"]\n");
    let RegoError::UnknownControl { reference, .. } = &error else {
        panic!("expected an unknown control, got {error}");
    };
    assert_eq!(reference, "soc2:CC99.9");
    assert!(error.to_string().contains("soc2:CC99.9"), "{error}");

    let (error, _) =
        gate_error("package evident.gate.x\nimport rego.v1\ncontrols := \"soc2:CC8.1\"\n");
    assert!(
        matches!(error, RegoError::InvalidControls { .. }),
        "{error}"
    );
}

#[test]
fn gate_messages_with_unknown_controls_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "p.rego",
        "package evident.gate.x\nimport rego.v1\ncontrols := [\"soc2:CC8.1\"]\ndeny contains {\"msg\": \"m\", \"controls\": [\"pci:1.1\"]} if true\n",
    );
    let gate = GatePolicies::load(&[dir.path().to_path_buf()]).unwrap();
    let error = gate.evaluate(&gate_input()).unwrap_err();
    assert!(matches!(error, RegoError::UnknownControl { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains("pci"),
        "{text}"
    );

    write(
        dir.path(),
        "p.rego",
        "package evident.gate.x\nimport rego.v1\ncontrols := [\"soc2:CC8.1\"]\ndeny := true\n",
    );
    let gate = GatePolicies::load(&[dir.path().to_path_buf()]).unwrap();
    let error = gate.evaluate(&gate_input()).unwrap_err().to_string();
    assert!(error.contains("deny contains msg if"), "{error}");
}

#[test]
fn example_gate_policies_load_and_pass_their_tests() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policy/gate");
    let gate = GatePolicies::load(std::slice::from_ref(&examples)).unwrap();
    assert!(!gate.files().is_empty());
    let mut input = gate_input();
    input["approvals"] = json!([]);
    let violations = gate.evaluate(&input).unwrap();
    assert!(
        violations.iter().any(|v| v.rule == "deny"),
        "a prod deploy without a ticket is blocked: {violations:?}"
    );
    let mut set = PolicySet::load(&[examples], true).unwrap();
    let results = set.run_tests().unwrap();
    assert!(!results.is_empty());
    for result in results {
        assert!(
            result.passed(),
            "{} failed: {:?}",
            result.full_name(),
            result
        );
    }
}
