//! Realistic SARIF of each supported tool family, converted and snapshotted; nothing secret
//! survives; every fixture follows the official SARIF 2.1.0 schema.

use std::path::{Path, PathBuf};
use std::process::Command;

use evident_import::{Category, ImportOptions, Imported, import_sarif};
use serde_json::{Value, json};

const FIXTURES: [&str; 8] = [
    "checkov",
    "codeql",
    "gitleaks",
    "semgrep",
    "sonarqube",
    "trivy-fs",
    "trivy-image",
    "zap",
];

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.sarif"))
}

fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn import(name: &str) -> Vec<Imported> {
    import_sarif(
        &fixture(name),
        &format!("{name}.sarif"),
        &ImportOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The shared test data folder beside the repository.
fn shared_data() -> PathBuf {
    // scripts/test.sh sets EVIDENT_SHARED_DATA; by default the data sits beside the repository.
    std::env::var_os("EVIDENT_SHARED_DATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    )
}

/// What a reviewer needs to see of a conversion.
fn view(imported: &[Imported]) -> Value {
    imported
        .iter()
        .map(|run| {
            json!({
                "tool": run.tool,
                "tool_version": run.tool_version,
                "category": run.category,
                "scanner": run.report.scanner,
                "root": run.report.root,
                "started_at": run.report.started_at,
                "controls": run.controls(),
                "notes": run.report.notes,
                "errors": run.report.errors,
                "suppressed": run.report.stats.suppressed,
                "findings": run.report.findings.iter().map(|f| json!({
                    "check": f.check,
                    "title": f.title,
                    "severity": f.severity,
                    "confidence": f.confidence,
                    "controls": f.controls,
                    "path": f.location.path,
                    "line": f.location.line,
                    "column": f.location.column,
                    "end_line": f.location.end_line,
                    "resource": f.location.resource,
                    "commit": f.location.commit,
                    "message": f.message,
                    "why": f.why,
                    "fix": f.fix,
                    "fingerprint": f.fingerprint,
                    "suppressed": f.suppressed,
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

#[test]
fn snapshots() {
    // Sorted keys: serde_json's map order depends on features other crates of the workspace
    // turn on (`preserve_order`), and the snapshot must not.
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    settings.bind(|| {
        for name in FIXTURES {
            insta::assert_json_snapshot!(name, view(&import(name)));
        }
    });
}

/// insta leaves a snapshot behind when a fixture is renamed or dropped: none may remain.
#[test]
fn no_unreferenced_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut expected: Vec<String> = FIXTURES
        .iter()
        .map(|name| format!("fixtures__{name}.snap"))
        .collect();
    expected.sort();
    assert_eq!(found, expected, "remove snapshots no test refers to");
}

/// Every `region.snippet` / `contextRegion.snippet` text in a SARIF document.
fn snippets(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if (key == "region" || key == "contextRegion")
                    && let Some(text) = child.pointer("/snippet/text").and_then(Value::as_str)
                {
                    out.push(text.trim().to_owned());
                }
                snippets(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| snippets(item, out)),
        _ => {}
    }
}

fn serialized(imported: &[Imported]) -> String {
    let mut out = String::new();
    for run in imported {
        out.push_str(&run.tool);
        out.push_str(run.tool_version.as_deref().unwrap_or_default());
        out.push_str(&serde_json::to_string(&run.report).unwrap());
    }
    out
}

#[test]
fn snippets_are_never_copied() {
    for name in FIXTURES {
        let document: Value = serde_json::from_slice(&fixture(name)).unwrap();
        let mut found = Vec::new();
        snippets(&document, &mut found);
        let output = serialized(&import(name));
        for snippet in found.iter().filter(|s| s.len() >= 12) {
            assert!(
                !output.contains(snippet.as_str()),
                "{name}: the snippet {snippet:?} was copied"
            );
        }
    }
}

#[test]
fn gitleaks_secrets_appear_nowhere() {
    let document: Value = serde_json::from_slice(&fixture("gitleaks")).unwrap();
    let mut secrets = Vec::new();
    snippets(&document, &mut secrets);
    // The fake AWS key id is the whole first snippet; the generic key sits in quotes.
    let aws_key = secrets[0].clone();
    assert!(
        aws_key.starts_with("AKIA") && aws_key.len() == 20,
        "{aws_key}"
    );
    let generic = secrets[1].split('"').nth(1).expect("quoted key").to_owned();
    let imported = import("gitleaks");
    let output = serialized(&imported);
    for secret in [&aws_key, &generic] {
        assert!(!output.contains(secret.as_str()), "{secret} leaked");
    }
    // Also nothing recognisable of it: the messages say what and where only.
    assert!(!output.contains(&aws_key[4..]), "part of the key leaked");
    let messages: Vec<&str> = imported[0]
        .report
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        messages.iter().all(
            |m| m.contains(" at config/settings.py:") || m.contains(" at deploy/ci/upload.sh:")
        ),
        "{messages:?}"
    );
}

#[test]
fn masked_matches_of_other_tools_are_not_copied_either() {
    // Trivy quotes the (masked) match in its secret rule's description, help and message.
    let output = serialized(&import("trivy-fs"));
    assert!(!output.contains("AWS_SECRET_ACCESS_KEY="), "{output}");
    // Checkov's secrets checks quote the masked line in the snippet.
    let output = serialized(&import("checkov"));
    assert!(!output.contains("AKIAQX3T"), "{output}");
    // ZAP's recorded HTTP exchange (cookies, bodies) is never read.
    let output = serialized(&import("zap"));
    assert!(!output.contains("eyJ1c2VyIjoiZGVtbyJ9"), "{output}");
    assert!(!output.contains("password=ZAP"), "{output}");
}

#[test]
fn every_category_control_resolves() {
    for category in Category::ALL {
        assert!(category.controls().len() >= 2, "{category}");
        for reference in category.controls() {
            let resolved = evident_controls::resolve(reference);
            assert!(
                resolved.is_ok(),
                "{category}: {reference} does not resolve: {resolved:?}"
            );
        }
    }
    for name in FIXTURES {
        for run in import(name) {
            for control in run.controls() {
                assert!(
                    evident_controls::resolve(&control).is_ok(),
                    "{name}: {control}"
                );
            }
        }
    }
}

/// The Python with `jsonschema` (scripts/test.sh installs it and sets EVIDENT_TEST_PYTHON).
fn python() -> String {
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

#[test]
fn fixtures_follow_the_official_schema() {
    let schema = shared_data().join("schemas/sarif-schema-2.1.0.json");
    assert!(
        schema.is_file(),
        "{} is missing: set EVIDENT_SHARED_DATA to the shared test data folder",
        schema.display()
    );
    let script = "import json,sys,jsonschema\n\
        schema=json.load(open(sys.argv[1]))\n\
        cls=jsonschema.validators.validator_for(schema)\n\
        bad=0\n\
        for path in sys.argv[2:]:\n\
        \x20   errs=list(cls(schema).iter_errors(json.load(open(path))))\n\
        \x20   for e in errs[:5]: print(path, list(e.path), e.message[:200])\n\
        \x20   bad+=len(errs)\n\
        sys.exit(1 if bad else 0)\n";
    let out = Command::new(python())
        .args(["-c", script])
        .arg(&schema)
        .args(FIXTURES.map(fixture_path))
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "fixtures do not follow the SARIF schema:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every value the official schema allows for the enumerations the importer reads is accepted.
#[test]
fn every_schema_enum_value_is_accepted() {
    let schema: Value = serde_json::from_slice(
        &std::fs::read(shared_data().join("schemas/sarif-schema-2.1.0.json"))
            .expect("the official SARIF schema in the shared test data"),
    )
    .unwrap();
    let values = |pointer: &str| -> Vec<String> {
        schema
            .pointer(pointer)
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("schema has no {pointer}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let cases = [
        (
            "/definitions/result/properties/kind/enum",
            "/runs/0/results/0/kind",
        ),
        (
            "/definitions/result/properties/level/enum",
            "/runs/0/results/0/level",
        ),
        (
            "/definitions/result/properties/baselineState/enum",
            "/runs/0/results/0/baselineState",
        ),
        (
            "/definitions/suppression/properties/status/enum",
            "/runs/0/results/0/suppressions/0/status",
        ),
        (
            "/definitions/suppression/properties/kind/enum",
            "/runs/0/results/0/suppressions/0/kind",
        ),
        (
            "/definitions/reportingConfiguration/properties/level/enum",
            "/runs/0/tool/driver/rules/0/defaultConfiguration/level",
        ),
        (
            "/definitions/notification/properties/level/enum",
            "/runs/0/invocations/0/toolExecutionNotifications/0/level",
        ),
    ];
    let base = json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "semgrep", "rules": [{"id": "r", "defaultConfiguration": {}}]}},
            "invocations": [{"executionSuccessful": true, "toolExecutionNotifications": [{"message": {"text": "m"}}]}],
            "results": [{"ruleId": "r", "message": {"text": "m"}, "suppressions": [{"kind": "inSource"}]}]
        }]
    });
    for (schema_pointer, document_pointer) in cases {
        let allowed = values(schema_pointer);
        assert!(!allowed.is_empty(), "{schema_pointer}");
        for value in allowed {
            let mut document = base.clone();
            let (parent, key) = document_pointer.rsplit_once('/').unwrap();
            document
                .pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .unwrap_or_else(|| panic!("{parent}"))
                .insert(key.to_owned(), Value::String(value.clone()));
            let result = import_sarif(
                document.to_string().as_bytes(),
                "enum.sarif",
                &ImportOptions::default(),
            );
            assert!(
                result.is_ok(),
                "{document_pointer} = {value}: {}",
                result.unwrap_err()
            );
        }
    }
}
