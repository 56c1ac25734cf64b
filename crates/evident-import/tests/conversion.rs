//! The conversion rules, one at a time, on small SARIF documents.

use std::collections::BTreeMap;

use evident_core::{Confidence, Finding, Severity, SuppressionKind};
use evident_import::{Category, ImportError, ImportOptions, Imported, import_sarif};
use serde_json::{Value, json};

/// A SARIF log with one run of `tool` holding `rules` and `results`.
fn log(tool: &str, rules: &Value, results: &Value) -> Value {
    json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": tool, "rules": rules}},
            "results": results,
        }]
    })
}

/// A result of rule `r1` in `src/app.py` at line 3, with `extra` merged in.
fn result(extra: &Value) -> Value {
    let mut result = json!({
        "ruleId": "r1",
        "message": {"text": "Something is wrong."},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "src/app.py"},
            "region": {"startLine": 3, "startColumn": 5}
        }}]
    });
    merge(&mut result, extra);
    result
}

fn merge(target: &mut Value, extra: &Value) {
    if let (Some(target), Some(extra)) = (target.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            target.insert(key.clone(), value.clone());
        }
    }
}

fn import_with(document: &Value, options: &ImportOptions) -> Result<Vec<Imported>, ImportError> {
    import_sarif(document.to_string().as_bytes(), "test.sarif", options)
}

fn import(document: &Value) -> Vec<Imported> {
    import_with(document, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn error(document: &Value) -> String {
    import_with(document, &ImportOptions::default())
        .expect_err("import must fail")
        .to_string()
}

/// The findings of the only run.
fn findings(document: &Value) -> Vec<Finding> {
    let mut runs = import(document);
    assert_eq!(runs.len(), 1);
    runs.remove(0).report.findings
}

fn one(document: &Value) -> Finding {
    let mut all = findings(document);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

/// The one finding of a semgrep run with one rule and one result.
fn single(rule: &Value, extra: &Value) -> Finding {
    one(&log("semgrep", &json!([rule]), &json!([result(extra)])))
}

#[test]
fn check_ids_titles_and_controls() {
    let finding = single(
        &json!({"id": "r1", "shortDescription": {"text": "Short title"}}),
        &json!({}),
    );
    assert_eq!(finding.check, "semgrep:r1");
    assert_eq!(finding.title, "Short title");
    assert_eq!(finding.controls, Category::Sast.controls());
    assert_eq!(finding.message, "Something is wrong.");
    assert!(!finding.why.is_empty() && !finding.fix.is_empty());

    // Without a rule descriptor, the rule id is the title; an unknown tool's slug keeps its words.
    let options = ImportOptions {
        category: Some(Category::Dast),
        ..ImportOptions::default()
    };
    let runs = import_with(
        &log(
            "Acme Web Scanner: Pro",
            &json!([]),
            &json!([result(&json!({}))]),
        ),
        &options,
    )
    .unwrap();
    let finding = &runs[0].report.findings[0];
    assert_eq!(finding.check, "acme-web-scanner-pro:r1");
    assert_eq!(finding.title, "r1");
    assert_eq!(finding.controls, Category::Dast.controls());
    assert_eq!(runs[0].report.scanner, "dast");
    assert_eq!(runs[0].report.root, ".");
}

#[test]
fn rule_found_by_index_by_reference_and_in_extensions() {
    // Only a ruleIndex.
    let mut r = result(&json!({"ruleIndex": 1}));
    r.as_object_mut().unwrap().remove("ruleId");
    let document = log(
        "semgrep",
        &json!([{"id": "a"}, {"id": "b", "name": "Bee"}]),
        &json!([r]),
    );
    let finding = one(&document);
    assert_eq!(
        (finding.check.as_str(), finding.title.as_str()),
        ("semgrep:b", "Bee")
    );

    // `rule.id` with a tool component: the rule lives in an extension (CodeQL query packs).
    let mut r = result(&json!({"rule": {"id": "js/x", "index": 0, "toolComponent": {"index": 0}}}));
    r.as_object_mut().unwrap().remove("ruleId");
    let document = json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {"name": "CodeQL", "rules": []},
                "extensions": [{"name": "codeql/javascript-queries", "rules": [
                    {"id": "js/x", "shortDescription": {"text": "Extension rule"}}
                ]}]
            },
            "results": [r]
        }]
    });
    let finding = one(&document);
    assert_eq!(
        (finding.check.as_str(), finding.title.as_str()),
        ("codeql:js/x", "Extension rule")
    );

    // A hierarchical id falls back to its parent rule (SARIF §3.27.5).
    let finding = single(
        &json!({"id": "CA2101", "shortDescription": {"text": "Parent"}}),
        &json!({"ruleId": "CA2101/1"}),
    );
    assert_eq!(
        (finding.check.as_str(), finding.title.as_str()),
        ("semgrep:CA2101/1", "Parent")
    );

    // A ruleIndex that disagrees with ruleId loses to the id.
    let finding = one(&log(
        "semgrep",
        &json!([{"id": "a", "name": "A"}, {"id": "r1", "name": "R one"}]),
        &json!([result(&json!({"ruleIndex": 0}))]),
    ));
    assert_eq!(finding.title, "R one");
}

#[test]
fn a_result_without_any_rule_id_is_an_error() {
    let mut r = result(&json!({}));
    r.as_object_mut().unwrap().remove("ruleId");
    let err = error(&log("semgrep", &json!([]), &json!([result(&json!({})), r])));
    assert!(err.contains("`runs[0].results[1]` names no rule"), "{err}");
    assert!(err.starts_with("test.sarif: "), "{err}");
}

#[test]
fn severity_mapping() {
    let cases = [
        (json!({}), json!({}), Severity::Medium),
        (json!({}), json!({"level": "error"}), Severity::High),
        (json!({}), json!({"level": "warning"}), Severity::Medium),
        (json!({}), json!({"level": "note"}), Severity::Low),
        (json!({}), json!({"level": "none"}), Severity::Info),
        (
            json!({"defaultConfiguration": {"level": "error"}}),
            json!({}),
            Severity::High,
        ),
        (
            json!({"defaultConfiguration": {"level": "error"}}),
            json!({"level": "note"}),
            Severity::Low,
        ),
        (
            json!({"properties": {"security-severity": "9.8"}}),
            json!({"level": "note"}),
            Severity::Critical,
        ),
        (
            json!({"properties": {"security-severity": "7.5"}}),
            json!({}),
            Severity::High,
        ),
        (
            json!({"properties": {"security-severity": 4.0}}),
            json!({}),
            Severity::Medium,
        ),
        (
            json!({"properties": {"security-severity": "2.0"}}),
            json!({"level": "error"}),
            Severity::Low,
        ),
        (
            json!({"properties": {"security-severity": "0.0"}}),
            json!({"level": "error"}),
            Severity::Info,
        ),
        // The result's own score wins over the rule's.
        (
            json!({"properties": {"security-severity": "9.8"}}),
            json!({"properties": {"security-severity": "5.0"}}),
            Severity::Medium,
        ),
        (
            json!({"properties": {"security-severity": "high"}}),
            json!({"level": "note"}),
            Severity::Low,
        ),
        (
            json!({"properties": {"severity": "CRITICAL"}}),
            json!({"level": "note"}),
            Severity::Critical,
        ),
        (
            json!({}),
            json!({"properties": {"severity": "moderate"}}),
            Severity::Medium,
        ),
        (
            json!({"properties": {"tags": ["vulnerability", "security", "HIGH"]}}),
            json!({"level": "note"}),
            Severity::High,
        ),
        // Kinds other than fail default to level none (SARIF §3.27.10).
        (
            json!({"defaultConfiguration": {"level": "error"}}),
            json!({"kind": "review"}),
            Severity::Info,
        ),
        (
            json!({}),
            json!({"kind": "open", "level": "warning"}),
            Severity::Medium,
        ),
    ];
    for (rule_extra, result_extra, expected) in cases {
        let mut rule = json!({"id": "r1"});
        merge(&mut rule, &rule_extra);
        let finding = single(&rule, &result_extra);
        assert_eq!(
            finding.severity, expected,
            "rule {rule_extra} result {result_extra}"
        );
    }
}

#[test]
fn secrets_without_any_grade_are_high() {
    let finding = one(&log(
        "gitleaks",
        &json!([{"id": "r1"}]),
        &json!([result(&json!({}))]),
    ));
    assert_eq!(finding.severity, Severity::High);
    let finding = one(&log(
        "gitleaks",
        &json!([{"id": "r1"}]),
        &json!([result(&json!({"level": "note"}))]),
    ));
    assert_eq!(finding.severity, Severity::Low);
}

#[test]
fn confidence() {
    let cases = [
        (json!({}), json!({}), Confidence::High),
        (
            json!({"properties": {"precision": "medium"}}),
            json!({}),
            Confidence::Medium,
        ),
        (
            json!({"properties": {"precision": "very-high", "tags": ["LOW CONFIDENCE"]}}),
            json!({}),
            Confidence::Low,
        ),
        (
            json!({"properties": {"confidence": "medium"}}),
            json!({}),
            Confidence::Medium,
        ),
        (
            json!({}),
            json!({"properties": {"confidence": "low"}}),
            Confidence::Low,
        ),
        (json!({}), json!({"kind": "review"}), Confidence::Low),
        (
            json!({"properties": {"precision": "very-high"}}),
            json!({"kind": "open"}),
            Confidence::Low,
        ),
    ];
    for (rule_extra, result_extra, expected) in cases {
        let mut rule = json!({"id": "r1"});
        merge(&mut rule, &rule_extra);
        let finding = single(&rule, &result_extra);
        assert_eq!(
            finding.confidence, expected,
            "rule {rule_extra} result {result_extra}"
        );
    }
}

#[test]
fn kinds_other_than_fail_and_absent_baselines_are_skipped_with_notes() {
    let results = json!([
        result(&json!({"kind": "pass"})),
        result(&json!({"kind": "notApplicable"})),
        result(&json!({"kind": "informational"})),
        result(&json!({"kind": "fail", "baselineState": "absent"})),
        result(&json!({"baselineState": "new"})),
        result(&json!({"baselineState": "unchanged", "kind": "open"})),
        result(&json!({"baselineState": "updated", "kind": "review"})),
    ]);
    let runs = import(&log("semgrep", &json!([]), &results));
    let report = &runs[0].report;
    assert_eq!(report.findings.len(), 3);
    let notes = report.notes.join("\n");
    assert!(
        notes.contains("3 results of semgrep with kind pass, notApplicable or informational"),
        "{notes}"
    );
    assert!(
        notes.contains("1 result of semgrep with baselineState `absent`"),
        "{notes}"
    );
    assert!(
        notes.contains("2 results of semgrep with kind open or review"),
        "{notes}"
    );
}

#[test]
fn suppressions() {
    let suppressed = |suppressions: Value| {
        single(&json!({"id": "r1"}), &json!({"suppressions": suppressions})).suppressed
    };

    let s = suppressed(json!([{"kind": "external", "status": "accepted", "justification": "  Not reachable:\n test code only "}])).unwrap();
    assert_eq!(s.kind, SuppressionKind::Tool);
    assert_eq!(s.reason, "Not reachable: test code only");

    let s = suppressed(json!([{"kind": "inSource"}])).unwrap();
    assert_eq!(s.reason, "suppressed in the source code for semgrep");
    let s = suppressed(json!([{"kind": "external"}])).unwrap();
    assert_eq!(s.reason, "suppressed in semgrep");

    // The justification of any accepted suppression is used.
    let s = suppressed(
        json!([{"kind": "inSource"}, {"kind": "external", "justification": "risk accepted"}]),
    )
    .unwrap();
    assert_eq!(s.reason, "risk accepted");

    // Under review or rejected: not suppressed, even beside an accepted one.
    assert_eq!(
        suppressed(json!([{"kind": "external", "status": "underReview"}])),
        None
    );
    assert_eq!(
        suppressed(json!([{"kind": "external", "status": "rejected"}])),
        None
    );
    assert_eq!(
        suppressed(
            json!([{"kind": "inSource", "status": "accepted"}, {"kind": "external", "status": "rejected"}])
        ),
        None
    );
    assert_eq!(suppressed(json!([])), None);

    // ZAP's "false-positive" confidence: dismissed in the tool.
    let finding = single(
        &json!({"id": "r1", "properties": {"confidence": "false-positive"}}),
        &json!({}),
    );
    assert_eq!(
        finding.suppressed.unwrap().reason,
        "marked as a false positive in semgrep"
    );

    let runs = import(&log(
        "semgrep",
        &json!([]),
        &json!([
            result(&json!({"suppressions": [{"kind": "inSource"}]})),
            result(&json!({}))
        ]),
    ));
    assert_eq!(runs[0].report.stats.suppressed, 1);
    assert_eq!(runs[0].report.active().count(), 1);
}

/// The location of a result whose first location is `location`, in a run with `run_extra`.
fn located(location: &Value, run_extra: &Value) -> evident_core::Location {
    let mut document = log(
        "semgrep",
        &json!([]),
        &json!([{"ruleId": "r1", "message": {"text": "m"}, "locations": [location]}]),
    );
    merge(&mut document["runs"][0], run_extra);
    one(&document).location
}

fn at(uri: &Value) -> Value {
    json!({"physicalLocation": {"artifactLocation": uri, "region": {"startLine": 7}}})
}

#[test]
fn paths() {
    let none = json!({});
    let bases = json!({"originalUriBaseIds": {
        "ROOTPATH": {"uri": "file:///home/runner/work/app/app/"},
        "SRC": {"uri": "src/", "uriBaseId": "ROOTPATH"}
    }});
    let path = |uri: Value, run: &Value| located(&at(&uri), run).path;

    assert_eq!(
        path(json!({"uri": "src/a.py"}), &none).as_deref(),
        Some("src/a.py")
    );
    assert_eq!(
        path(json!({"uri": "src/a.py", "uriBaseId": "%SRCROOT%"}), &none).as_deref(),
        Some("src/a.py")
    );
    assert_eq!(
        path(json!({"uri": "a.py", "uriBaseId": "ROOTPATH"}), &bases).as_deref(),
        Some("a.py")
    );
    assert_eq!(
        path(json!({"uri": "a.py", "uriBaseId": "SRC"}), &bases).as_deref(),
        Some("src/a.py")
    );
    assert_eq!(
        path(
            json!({"uri": "file:///home/runner/work/app/app/lib/b%20c.py"}),
            &bases
        )
        .as_deref(),
        Some("lib/b c.py")
    );
    assert_eq!(
        path(json!({"uri": "file:///etc/passwd"}), &bases).as_deref(),
        Some("/etc/passwd")
    );
    assert_eq!(
        path(json!({"uri": "file:///etc/passwd"}), &none).as_deref(),
        Some("/etc/passwd")
    );
    assert_eq!(
        path(json!({"uri": "my%20dir/x.tf"}), &none).as_deref(),
        Some("my dir/x.tf")
    );
    assert_eq!(
        path(json!({"uri": "./x.tf"}), &none).as_deref(),
        Some("x.tf")
    );
    assert_eq!(
        path(
            json!({"uri": "https://app.example.test/login?next=%2F"}),
            &bases
        )
        .as_deref(),
        Some("https://app.example.test/login?next=%2F")
    );
    // No uri: the run's artifacts at the index, with their own base.
    let artifacts = json!({
        "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///repo/"}},
        "artifacts": [
            {"location": {"uri": "first.js"}},
            {"location": {"uri": "file:///repo/web/second.js"}},
            {"location": {"uri": "third.js", "uriBaseId": "ROOTPATH"}}
        ]
    });
    assert_eq!(
        path(json!({"index": 1}), &artifacts).as_deref(),
        Some("web/second.js")
    );
    assert_eq!(
        path(json!({"index": 2}), &artifacts).as_deref(),
        Some("third.js")
    );
    assert_eq!(path(json!({"index": -1}), &artifacts), None);
    let err = error(&{
        let mut document = log(
            "semgrep",
            &json!([]),
            &json!([{"ruleId": "r1", "locations": [at(&json!({"index": 5}))]}]),
        );
        merge(&mut document["runs"][0], &artifacts);
        document
    });
    assert!(
        err.contains("`runs[0].results[0].locations[0].physicalLocation.artifactLocation.index` is 5, but `runs[0].artifacts` has 3 entries"),
        "{err}"
    );
}

#[test]
fn regions_and_logical_locations() {
    let location = located(
        &json!({
            "physicalLocation": {
                "artifactLocation": {"uri": "main.tf"},
                "region": {"startLine": 10, "startColumn": 3, "endLine": 14, "snippet": {"text": "password = \"hunter2hunter2\""}} // evident:allow synthetic SARIF snippet
            },
            "logicalLocations": [{"fullyQualifiedName": "aws_s3_bucket.logs", "name": "logs"}]
        }),
        &json!({}),
    );
    assert_eq!(
        (location.line, location.column, location.end_line),
        (Some(10), Some(3), Some(14))
    );
    assert_eq!(location.resource.as_deref(), Some("aws_s3_bucket.logs"));

    // Only a name; an end line before the start is ignored; a start line of 0 is unknown.
    let location = located(
        &json!({
            "physicalLocation": {"artifactLocation": {"uri": "k.yaml"}, "region": {"startLine": 5, "endLine": 2}},
            "logicalLocations": [{"name": "Deployment/api"}]
        }),
        &json!({}),
    );
    assert_eq!((location.line, location.end_line), (Some(5), Some(5)));
    assert_eq!(location.resource.as_deref(), Some("Deployment/api"));
    let location = located(
        &json!({"physicalLocation": {"artifactLocation": {"uri": "x"}, "region": {"startLine": 0}}}),
        &json!({}),
    );
    assert_eq!(location.line, None);

    // A logical location by index into the run's list.
    let location = located(
        &json!({"logicalLocations": [{"index": 1}]}),
        &json!({"logicalLocations": [{"name": "a"}, {"fullyQualifiedName": "Pkg.Class.method"}]}),
    );
    assert_eq!(location.resource.as_deref(), Some("Pkg.Class.method"));
    assert_eq!(location.path, None);

    // No locations at all.
    let finding = one(&log(
        "semgrep",
        &json!([]),
        &json!([{"ruleId": "r1", "message": {"text": "m"}}]),
    ));
    assert_eq!(finding.location, evident_core::Location::default());
}

#[test]
fn messages() {
    // message.id expanded from the rule's messageStrings, arguments filled, links flattened.
    let rule = json!({"id": "r1", "messageStrings": {"default": {"text": "Variable {0} flows to [a sink]({1})."}}});
    let finding = single(
        &rule,
        &json!({"message": {"id": "default", "arguments": ["userInput", "2"]}}),
    );
    assert_eq!(finding.message, "Variable userInput flows to a sink.");

    let finding = single(
        &json!({"id": "r1"}),
        &json!({"message": {"text": "Use of {0} in {{braces}}", "arguments": ["md5"]}}),
    );
    assert_eq!(finding.message, "Use of md5 in {braces}");
    // Without arguments, braces are literal.
    let finding = single(
        &json!({"id": "r1"}),
        &json!({"message": {"text": "JSON {\"a\": {0}}"}}),
    );
    assert_eq!(finding.message, "JSON {\"a\": {0}}");

    let long = "x".repeat(5000);
    let finding = single(&json!({"id": "r1"}), &json!({"message": {"text": long}}));
    assert_eq!(finding.message.chars().count(), 1000);
    assert!(finding.message.ends_with('…'));

    // An empty message: the title stands in.
    let finding = single(
        &json!({"id": "r1", "name": "Named"}),
        &json!({"message": {"text": "  "}}),
    );
    assert_eq!(finding.message, "Named");
}

#[test]
fn why_and_fix_come_from_the_rule_and_are_never_empty() {
    let finding = single(
        &json!({
            "id": "r1",
            "shortDescription": {"text": "Title"},
            "fullDescription": {"text": "Why it matters.\n\nMore detail."},
            "help": {"text": "# Title\nExplanation.\n\n## Recommendation\nDo the safe thing."},
            "helpUri": "https://docs.example.test/r1"
        }),
        &json!({}),
    );
    assert_eq!(finding.why, "Why it matters.");
    assert_eq!(finding.fix, "Do the safe thing.");

    let finding = single(
        &json!({"id": "r1", "shortDescription": {"text": "Title"}, "helpUri": "https://docs.example.test/r1"}),
        &json!({}),
    );
    assert!(
        finding
            .why
            .contains("semgrep reported a weakness in the source code (rule `r1`)"),
        "{}",
        finding.why
    );
    assert_eq!(
        finding.fix,
        "See the rule's documentation: https://docs.example.test/r1"
    );

    let finding = single(&json!({"id": "r1"}), &json!({}));
    assert!(finding.fix.contains("rule `r1`"), "{}", finding.fix);
    assert!(!finding.title.is_empty());
}

const FAKE_KEY: &str = concat!("AKIA", "Q7ZX5RTWB2LM4KPV");

#[test]
fn secrets_tools_never_lend_their_text() {
    let rule = json!({
        "id": "aws",
        "shortDescription": {"text": "AWS key."},
        "fullDescription": {"text": format!("Match: {FAKE_KEY}")},
        "help": {"text": format!("Found {FAKE_KEY}")}
    });
    let r = json!({
        "ruleId": "aws",
        "message": {"text": format!("secret {FAKE_KEY} found")},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "a.env"},
            "region": {"startLine": 2, "snippet": {"text": FAKE_KEY}},
            "contextRegion": {"startLine": 1, "endLine": 3, "snippet": {"text": FAKE_KEY}}
        }}]
    });
    let document = log("gitleaks", &json!([rule]), &json!([r]));
    // Whatever category the user forces, a secrets tool's text stays out.
    for category in [None, Some(Category::Sast)] {
        let options = ImportOptions {
            category,
            ..ImportOptions::default()
        };
        let runs = import_with(&document, &options).unwrap();
        let output = serde_json::to_string(&runs[0].report).unwrap();
        assert!(!output.contains(FAKE_KEY), "{output}");
        assert_eq!(runs[0].report.findings[0].message, "AWS key at a.env:2");
    }
}

#[test]
fn fingerprints() {
    let rule = json!([{"id": "r1"}]);
    let moved = |line: u32, extra: &Value| {
        let mut r = result(extra);
        r["locations"][0]["physicalLocation"]["region"]["startLine"] = json!(line);
        one(&log("semgrep", &rule, &json!([r]))).fingerprint
    };
    // Without fingerprints the line is part of the identity.
    assert_ne!(moved(3, &json!({})), moved(4, &json!({})));
    // With them, the finding survives a line move, and different values differ.
    let fp = json!({"fingerprints": {"matchBasedId/v1": "abc"}});
    assert_eq!(moved(3, &fp), moved(40, &fp));
    assert_ne!(
        moved(3, &fp),
        moved(3, &json!({"fingerprints": {"matchBasedId/v1": "abd"}}))
    );
    let partial = json!({"partialFingerprints": {"primaryLocationLineHash": "9f1c:1"}});
    assert_eq!(moved(3, &partial), moved(9, &partial));
    // Semgrep's logged-out placeholder identifies nothing.
    let placeholder = json!({"fingerprints": {"matchBasedId/v1": "requires login"}});
    assert_ne!(moved(3, &placeholder), moved(4, &placeholder));

    // A result located by URL (DAST): the line is a line of the HTTP response, not identity.
    let web = |line: u32| {
        let mut r = result(&json!({}));
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
            json!("https://app.example.test/login");
        r["locations"][0]["physicalLocation"]["region"]["startLine"] = json!(line);
        one(&log("OWASP ZAP", &rule, &json!([r]))).fingerprint
    };
    assert_eq!(web(1), web(57));

    // A key whose value repeats among results of one check and path does not identify them.
    let results = json!([
        result(&json!({"partialFingerprints": {"commitSha": "same", "lineHash": "a"}})),
        {
            "ruleId": "r1",
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/app.py"}, "region": {"startLine": 9}}}],
            "partialFingerprints": {"commitSha": "same", "lineHash": "b"}
        }
    ]);
    let all = findings(&log("semgrep", &rule, &results));
    assert_eq!(all.len(), 2);
    assert_ne!(all[0].fingerprint, all[1].fingerprint);
    let results_same_hash = json!([
        result(&json!({"partialFingerprints": {"commitSha": "same"}})),
        {
            "ruleId": "r1",
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/app.py"}, "region": {"startLine": 9}}}],
            "partialFingerprints": {"commitSha": "same"}
        }
    ]);
    let all = findings(&log("semgrep", &rule, &results_same_hash));
    assert_ne!(all[0].fingerprint, all[1].fingerprint);
}

#[test]
fn categories_come_from_options_then_the_table() {
    let document = log("My Scanner", &json!([]), &json!([result(&json!({}))]));
    let err = import_with(&document, &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::UnknownTool { ref tool, .. } if tool == "My Scanner"));
    let text = err.to_string();
    assert!(
        text.contains("tool `My Scanner` has no category: pass --category sast|dast|sca|iac|secrets|container or map it in evident.toml `[import.tools]`"),
        "{text}"
    );
    assert!(text.contains("\"my scanner\" = \"sast\""), "{text}");

    for key in ["my scanner", "My Scanner", "my-scanner"] {
        let options = ImportOptions {
            tools: BTreeMap::from([(key.to_owned(), Category::Sca)]),
            ..ImportOptions::default()
        };
        let runs = import_with(&document, &options).unwrap();
        assert_eq!(runs[0].category, Category::Sca, "{key}");
        assert_eq!(runs[0].report.findings[0].check, "my-scanner:r1");
    }

    // Configuration beats the table, --category beats both.
    let semgrep = log("Semgrep OSS", &json!([]), &json!([result(&json!({}))]));
    let configured = ImportOptions {
        tools: BTreeMap::from([("semgrep oss".to_owned(), Category::Iac)]),
        ..ImportOptions::default()
    };
    assert_eq!(
        import_with(&semgrep, &configured).unwrap()[0].category,
        Category::Iac
    );
    let forced = ImportOptions {
        category: Some(Category::Container),
        ..configured
    };
    let runs = import_with(&semgrep, &forced).unwrap();
    assert_eq!(runs[0].category, Category::Container);
    assert_eq!(
        runs[0].report.findings[0].controls,
        Category::Container.controls()
    );
    assert_eq!(runs[0].report.findings[0].check, "semgrep:r1");
}

#[test]
fn tool_name_override() {
    let nameless =
        json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": " "}}, "results": []}]});
    let err = error(&nameless);
    assert!(
        err.contains("`runs[0].tool.driver.name` is missing or empty: pass --tool-name NAME"),
        "{err}"
    );
    let options = ImportOptions {
        tool_name: Some("gosec".to_owned()),
        ..ImportOptions::default()
    };
    let runs = import_with(&nameless, &options).unwrap();
    assert_eq!(
        (runs[0].tool.as_str(), runs[0].category),
        ("gosec", Category::Sast)
    );
}

#[test]
fn trivy_rules_refine_the_category_only_from_the_table() {
    let rules = json!([
        {"id": "CVE-1", "name": "LanguageSpecificPackageVulnerability"},
        {"id": "DS002", "name": "Misconfiguration"},
        {"id": "aws-access-key-id", "name": "Secret", "fullDescription": {"text": format!("KEY={FAKE_KEY}")}}
    ]);
    let results = json!([
        {"ruleId": "CVE-1", "message": {"text": "vuln"}},
        {"ruleId": "DS002", "message": {"text": "root user"}},
        {"ruleId": "aws-access-key-id", "message": {"text": format!("Match: {FAKE_KEY}")}}
    ]);
    let document = log("Trivy", &rules, &results);
    let runs = import(&document);
    let by_check = |runs: &[Imported], id: &str| {
        runs[0]
            .report
            .findings
            .iter()
            .find(|f| f.check == id)
            .unwrap()
            .clone()
    };
    assert_eq!(runs[0].category, Category::Sca);
    assert_eq!(
        by_check(&runs, "trivy:CVE-1").controls,
        Category::Sca.controls()
    );
    assert_eq!(
        by_check(&runs, "trivy:DS002").controls,
        Category::Iac.controls()
    );
    assert_eq!(
        by_check(&runs, "trivy:aws-access-key-id").controls,
        Category::Secrets.controls()
    );
    let controls = runs[0].controls();
    assert!(
        controls.contains(&"iso27001:A.8.9".to_owned())
            && controls.contains(&"iso27001:A.8.8".to_owned())
    );

    // Forced: one category for all, but the secret's text still stays out.
    let options = ImportOptions {
        category: Some(Category::Container),
        ..ImportOptions::default()
    };
    let runs = import_with(&document, &options).unwrap();
    assert!(
        runs[0]
            .report
            .findings
            .iter()
            .all(|f| f.controls == Category::Container.controls())
    );
    assert!(
        !serde_json::to_string(&runs[0].report)
            .unwrap()
            .contains(FAKE_KEY)
    );
    assert!(
        runs[0].report.notes.is_empty(),
        "{:?}",
        runs[0].report.notes
    );
}

#[test]
fn run_level_information() {
    let document = json!({
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "semgrep", "version": "1.2.3", "semanticVersion": "1.2.3-x"}},
                "invocations": [{
                    "startTimeUtc": "2026-03-01T10:00:00Z",
                    "executionSuccessful": false,
                    "toolExecutionNotifications": [
                        {"level": "error", "message": {"text": "Syntax error"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "bad.py"}}}]},
                        {"level": "warning", "message": {"text": "just a warning"}}
                    ],
                    "toolConfigurationNotifications": [{"level": "error", "message": {"text": "rule failed to load"}}]
                }],
                "results": []
            },
            {"tool": {"driver": {"name": "gitleaks", "semanticVersion": "v8.1.0"}}}
        ]
    });
    let runs = import(&document);
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].tool_version.as_deref(), Some("1.2.3"));
    assert_eq!(runs[0].report.started_at, "2026-03-01T10:00:00Z");
    let errors: Vec<(&str, &str)> = runs[0]
        .report
        .errors
        .iter()
        .map(|e| (e.path.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            ("bad.py", "semgrep: Syntax error"),
            (
                "test.sarif",
                "semgrep: the run did not complete (`runs[0].invocations[0].executionSuccessful` is false)"
            ),
            ("test.sarif", "semgrep: rule failed to load"),
        ]
    );
    // A run without results did not complete: never recorded as clean.
    assert_eq!(runs[1].tool_version.as_deref(), Some("v8.1.0"));
    assert_eq!(runs[1].report.started_at, "");
    assert_eq!(runs[1].report.errors.len(), 1);
    assert!(
        runs[1].report.errors[0]
            .message
            .contains("`runs[1].results` is absent"),
        "{:?}",
        runs[1].report.errors
    );
}

#[test]
fn format_errors_name_the_input_and_the_place() {
    let options = ImportOptions::default();
    let err = import_sarif(
        b"{\n  \"version\": \"2.1.0\",\n  \"runs\": [,]\n}",
        "scan.sarif",
        &options,
    )
    .unwrap_err();
    assert!(
        matches!(err, ImportError::NotJson { line: 3, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("scan.sarif:3:12: not valid JSON"),
        "{text}"
    );
    assert!(text.contains("semgrep scan --sarif"), "{text}");
    assert!(
        import_sarif(b"", "empty.sarif", &options)
            .unwrap_err()
            .to_string()
            .contains("empty.sarif")
    );

    // A UTF-8 byte order mark is accepted.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(br#"{"version": "2.1.0", "runs": []}"#);
    assert!(
        import_sarif(&bom, "bom.sarif", &options)
            .unwrap()
            .is_empty()
    );

    let cases: [(Value, &str); 10] = [
        (
            json!([]),
            "not a SARIF 2.1.0 log: the document is not a JSON object",
        ),
        (
            json!({"runs": []}),
            "not a SARIF 2.1.0 log: it has no `version`",
        ),
        (
            json!({"version": "2.0.0", "runs": []}),
            "`version` is \"2.0.0\", and only 2.1.0 is supported",
        ),
        (
            json!({"version": 2.1, "runs": []}),
            "`version` must be the string \"2.1.0\"",
        ),
        (json!({"version": "2.1.0"}), "it has no `runs`"),
        (
            json!({"version": "2.1.0", "runs": {}}),
            "`runs` must be an array of runs",
        ),
        (
            json!({"version": "2.1.0", "runs": [{"results": []}]}),
            "`runs[0].tool` is missing",
        ),
        (
            json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "semgrep"}}, "results": {}}]}),
            "`runs[0].results` must be an array, found an object",
        ),
        (
            log(
                "semgrep",
                &json!([]),
                &json!([result(&json!({"level": "fatal"}))]),
            ),
            "`runs[0].results[0].level` is \"fatal\", which is not one of none, note, warning, error",
        ),
        (
            log(
                "semgrep",
                &json!([]),
                &json!([{"ruleId": "r1", "locations": [{"physicalLocation": {"region": {"startLine": "3"}}}]}]),
            ),
            "`runs[0].results[0].locations[0].physicalLocation.region.startLine` must be an integer, found a string",
        ),
    ];
    for (document, expected) in cases {
        let text = error(&document);
        assert!(text.contains(expected), "{document}: {text}");
        assert!(text.starts_with("test.sarif: "), "{text}");
    }
    // `runs: null` means no runs.
    assert!(import(&json!({"version": "2.1.0", "runs": null})).is_empty());
    // Odd property keys are quoted in paths.
    let text = error(&json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "semgrep"}},
        "originalUriBaseIds": {"%SRCROOT%": "file:///x/"},
        "results": []
    }]}));
    assert!(
        text.contains("`runs[0].originalUriBaseIds[\"%SRCROOT%\"]` must be an object"),
        "{text}"
    );
}

#[test]
fn property_bags_are_lenient() {
    // Free-form properties of the wrong shape are ignored, not errors.
    let finding = single(
        &json!({"id": "r1", "properties": {"security-severity": [1], "tags": "HIGH", "precision": 3}}),
        &json!({"properties": "x", "fingerprints": {"a": 1}}),
    );
    assert_eq!(finding.severity, Severity::Medium);
    assert_eq!(finding.confidence, Confidence::High);
}
