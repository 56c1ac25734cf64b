//! `import_sarif` never panics, whatever it is given, and what it returns is always well formed.

use std::collections::BTreeMap;
use std::path::Path;

use evident_import::{Category, ImportOptions, Imported, import_sarif};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// A valid document that exercises every part of the importer.
fn base() -> Value {
    json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "Trivy",
                    "version": "0.56.2",
                    "rules": [
                        {
                            "id": "CVE-1",
                            "name": "LanguageSpecificPackageVulnerability",
                            "shortDescription": {"text": "short"},
                            "fullDescription": {"text": "<p>full</p>"},
                            "help": {"text": "# T\nwhy\n\n## Recommendation\nfix", "markdown": "md"},
                            "helpUri": "https://example.test/r",
                            "defaultConfiguration": {"level": "error"},
                            "messageStrings": {"default": {"text": "Use of {0} at [here](1)."}},
                            "properties": {"security-severity": "7.5", "tags": ["HIGH"], "precision": "high"}
                        },
                        {"id": "DS002", "name": "Misconfiguration"},
                        {"id": "aws", "name": "Secret"}
                    ]
                },
                "extensions": [{"name": "pack", "rules": [{"id": "ext/rule", "shortDescription": {"text": "ext"}}]}]
            },
            "originalUriBaseIds": {
                "ROOTPATH": {"uri": "file:///home/runner/work/app/"},
                "SRC": {"uri": "src/", "uriBaseId": "ROOTPATH"}
            },
            "artifacts": [{"location": {"uri": "a%20b.js", "uriBaseId": "SRC"}}],
            "logicalLocations": [{"fullyQualifiedName": "Pkg.Class"}],
            "invocations": [{
                "startTimeUtc": "2026-03-01T10:00:00Z",
                "executionSuccessful": true,
                "toolExecutionNotifications": [{"level": "error", "message": {"text": "oops"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "x.py"}}}]}]
            }],
            "results": [
                {
                    "ruleId": "CVE-1",
                    "ruleIndex": 0,
                    "rule": {"id": "CVE-1", "index": 0, "toolComponent": {"index": 0, "name": "pack"}},
                    "kind": "fail",
                    "level": "warning",
                    "baselineState": "new",
                    "message": {"id": "default", "arguments": ["md5"]},
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": {"uri": "lib/x.js", "uriBaseId": "SRC", "index": 0},
                            "region": {"startLine": 3, "startColumn": 2, "endLine": 4, "snippet": {"text": "secret"}}
                        },
                        "logicalLocations": [{"index": 0}]
                    }],
                    "fingerprints": {"k": "v"},
                    "partialFingerprints": {"commitSha": "7d2c9e41b0a8f5c3e6d1b4a7f0c2e5d8b1a4c7e0"},
                    "suppressions": [{"kind": "external", "status": "accepted", "justification": "ok"}],
                    "properties": {"security-severity": 9.1, "confidence": "low"}
                },
                {
                    "ruleId": "ext/rule",
                    "message": {"text": "plain {0}"},
                    "locations": [{"physicalLocation": {"artifactLocation": {"index": 0}}}]
                },
                {"ruleId": "DS002", "kind": "review", "message": {"text": "m"}},
                {"ruleId": "aws", "message": {"text": "secret value"}},
                {"ruleId": "CVE-1", "kind": "pass"},
                {"ruleId": "CVE-1", "baselineState": "absent"}
            ]
        }]
    })
}

/// JSON pointers of every place in [`base`] (objects' members and arrays' elements).
fn places(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let pointer = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push(pointer.clone());
                places(child, &pointer, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let pointer = format!("{at}/{i}");
                out.push(pointer.clone());
                places(child, &pointer, out);
            }
        }
        _ => {}
    }
}

fn all_places() -> Vec<String> {
    let mut out = vec![String::new()];
    places(&base(), "", &mut out);
    out
}

/// Strings that mean something to the importer, plus arbitrary ones.
fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("2.1.0".to_owned()),
        Just("error".to_owned()),
        Just("none".to_owned()),
        Just("fail".to_owned()),
        Just("open".to_owned()),
        Just("pass".to_owned()),
        Just("absent".to_owned()),
        Just("accepted".to_owned()),
        Just("rejected".to_owned()),
        Just("inSource".to_owned()),
        Just("ROOTPATH".to_owned()),
        Just("SRC".to_owned()),
        Just("file:///".to_owned()),
        Just("file://host/x".to_owned()),
        Just("https://x.test/a?b=%2F".to_owned()),
        Just("%".to_owned()),
        Just("%FF%FE".to_owned()),
        Just("C:\\x\\y".to_owned()),
        Just("../..//./".to_owned()),
        Just("{0}{1}{{}}{".to_owned()),
        Just("[a](1) [b](".to_owned()),
        Just("<p>x</p><h2>Fix</h2>&amp;<".to_owned()),
        Just("9.8".to_owned()),
        Just("NaN".to_owned()),
        Just("-1".to_owned()),
        Just("CRITICAL".to_owned()),
        Just("false-positive".to_owned()),
        Just("requires login".to_owned()),
        ".{0,40}",
        "[a-z/:%{}\\[\\]().#<> -]{0,24}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just(-1i64),
            Just(0),
            Just(1),
            Just(2),
            Just(i64::from(u32::MAX) + 1)
        ]
        .prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        interesting_string().prop_map(Value::String),
    ];
    let keys = prop_oneof![
        Just("text".to_owned()),
        Just("uri".to_owned()),
        Just("uriBaseId".to_owned()),
        Just("index".to_owned()),
        Just("id".to_owned()),
        Just("name".to_owned()),
        Just("level".to_owned()),
        Just("kind".to_owned()),
        Just("status".to_owned()),
        Just("startLine".to_owned()),
        Just("properties".to_owned()),
        Just("tags".to_owned()),
        Just("security-severity".to_owned()),
        Just("rules".to_owned()),
        Just("results".to_owned()),
        Just("driver".to_owned()),
        "[a-zA-Z]{1,8}",
    ];
    leaf.prop_recursive(4, 64, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn options() -> impl Strategy<Value = ImportOptions> {
    (
        proptest::option::of(proptest::sample::select(Category::ALL.to_vec())),
        proptest::option::of(interesting_string()),
        any::<bool>(),
    )
        .prop_map(|(category, tool_name, map_trivy)| ImportOptions {
            tools: if map_trivy {
                BTreeMap::from([("trivy".to_owned(), Category::Iac)])
            } else {
                BTreeMap::new()
            },
            category,
            tool_name,
        })
}

/// What every successful import guarantees.
fn check_well_formed(runs: &[Imported]) {
    for run in runs {
        assert!(!run.tool.trim().is_empty());
        assert_eq!(run.report.scanner, run.category.as_str());
        for finding in &run.report.findings {
            assert!(finding.check.contains(':'), "{}", finding.check);
            for (field, text) in [
                ("title", &finding.title),
                ("why", &finding.why),
                ("fix", &finding.fix),
                ("message", &finding.message),
            ] {
                assert!(!text.trim().is_empty(), "empty {field} in {finding:#?}");
            }
            assert!(finding.message.chars().count() <= 1000);
            assert!(!finding.controls.is_empty());
            assert_eq!(finding.fingerprint.len(), 32);
            assert!(finding.snippet.is_none());
            if let Some(suppression) = &finding.suppressed {
                assert!(!suppression.reason.trim().is_empty());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(runs) = import_sarif(&bytes, "fuzz.sarif", &ImportOptions::default()) {
            check_well_formed(&runs);
        }
    }

    #[test]
    fn damaged_fixtures_never_panic(
        name in proptest::sample::select(vec!["codeql", "trivy-fs", "zap", "gitleaks", "checkov"]),
        cut in any::<proptest::sample::Index>(),
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.sarif"));
        let mut bytes = std::fs::read(path).unwrap();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        if let Ok(runs) = import_sarif(&bytes, "damaged.sarif", &ImportOptions::default()) {
            check_well_formed(&runs);
        }
    }

    #[test]
    fn arbitrary_values_in_a_valid_document_never_panic(
        replacements in proptest::collection::vec(
            (proptest::sample::select(all_places()), json_value()),
            1..4,
        ),
        options in options(),
    ) {
        let mut document = base();
        for (pointer, value) in replacements {
            if pointer.is_empty() {
                document = value;
                continue;
            }
            if let Some(slot) = document.pointer_mut(&pointer) {
                *slot = value;
            }
        }
        let bytes = serde_json::to_vec(&document).unwrap();
        if let Ok(runs) = import_sarif(&bytes, "mutated.sarif", &options) {
            check_well_formed(&runs);
        }
    }
}

#[test]
fn the_base_document_imports() {
    let bytes = serde_json::to_vec(&base()).unwrap();
    let runs = import_sarif(&bytes, "base.sarif", &ImportOptions::default()).unwrap();
    check_well_formed(&runs);
    assert_eq!(runs[0].report.findings.len(), 4);
}

#[test]
fn large_inputs() {
    let result = json!({
        "ruleId": "r",
        "message": {"text": "m"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}, "region": {"startLine": 1}}}]
    });
    let results: Vec<Value> = (0..50_000)
        .map(|i| {
            let mut r = result.clone();
            r["locations"][0]["physicalLocation"]["region"]["startLine"] = json!(i + 1);
            r
        })
        .collect();
    let document = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "semgrep"}}, "results": results}]});
    let bytes = serde_json::to_vec(&document).unwrap();
    let runs = import_sarif(&bytes, "large.sarif", &ImportOptions::default()).unwrap();
    assert_eq!(runs[0].report.findings.len(), 50_000);

    // Deep nesting is refused by the JSON parser, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(import_sarif(deep.as_bytes(), "deep.sarif", &ImportOptions::default()).is_err());
}
