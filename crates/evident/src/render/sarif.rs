//! SARIF 2.1.0, as code-scanning dashboards (GitHub, GitLab, Azure DevOps) read it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use evident_core::{Finding, ScanReport, SuppressionKind};
use serde_json::{Value, json};

use super::VERSION;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Percent-encodes a relative path so it is a valid URI reference (`/` kept).
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn root_uri(root: &str) -> Option<String> {
    let path = Path::new(root);
    let abs = if path.is_dir() {
        std::fs::canonicalize(path).ok()?
    } else if path.is_file() {
        std::fs::canonicalize(path).ok()?.parent()?.to_path_buf()
    } else {
        std::env::current_dir().ok()?
    };
    let mut text = uri_path(&abs.to_string_lossy().replace('\\', "/"));
    if !text.ends_with('/') {
        text.push('/');
    }
    if !text.starts_with('/') {
        text.insert(0, '/');
    }
    Some(format!("file://{text}"))
}

/// The artifact path relative to the root: for a single-file scan the root's own file name.
fn artifact(report: &ScanReport, f: &Finding) -> String {
    let path = f.location.path.as_deref().unwrap_or("");
    let root = Path::new(&report.root);
    if root.is_file() {
        return root
            .file_name()
            .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned());
    }
    path.trim_start_matches("./").to_owned()
}

fn rule_name(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

pub fn render(report: &ScanReport) -> serde_json::Result<String> {
    let mut rules: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in &report.findings {
        rules.entry(f.check.as_str()).or_insert(f);
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let rule_objects: Vec<Value> = rules
        .values()
        .map(|f| {
            let tags: Vec<String> = std::iter::once("security".to_owned()).chain(f.controls.iter().cloned()).collect();
            json!({
                "id": f.check,
                "name": rule_name(&f.check),
                "shortDescription": { "text": f.title },
                "fullDescription": { "text": f.why },
                "help": { "text": f.fix, "markdown": format!("**Why:** {}\n\n**Fix:** {}", f.why, f.fix) },
                "defaultConfiguration": { "level": f.severity.sarif_level() },
                "properties": {
                    "tags": tags,
                    "security-severity": f.severity.security_score(),
                    "precision": match f.confidence { evident_core::Confidence::High => "high", evident_core::Confidence::Medium => "medium", evident_core::Confidence::Low => "low" },
                    "controls": f.controls,
                }
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let loc = &f.location;
            let mut region = serde_json::Map::new();
            if let Some(line) = loc.line {
                region.insert("startLine".into(), json!(line));
                region.insert("endLine".into(), json!(loc.end_line.unwrap_or(line)));
            }
            if let Some(col) = loc.column {
                region.insert("startColumn".into(), json!(col));
            }
            if let Some(snippet) = &f.snippet {
                region.insert("snippet".into(), json!({ "text": snippet }));
            }
            let mut physical = json!({
                "artifactLocation": { "uri": uri_path(&artifact(report, f)), "uriBaseId": "SRCROOT" },
            });
            if !region.is_empty() {
                physical["region"] = Value::Object(region);
            }
            let mut location = json!({ "physicalLocation": physical });
            if let Some(resource) = &loc.resource {
                location["logicalLocations"] = json!([{ "fullyQualifiedName": resource }]);
            }
            let mut properties = json!({
                "severity": f.severity.as_str(),
                "confidence": f.confidence.as_str(),
                "controls": f.controls,
                "fingerprint": f.fingerprint,
            });
            if let Some(commit) = &loc.commit {
                properties["commit"] = json!(commit);
            }
            if let Some(author) = &loc.author {
                properties["author"] = json!(author);
            }
            if let Some(date) = &loc.date {
                properties["date"] = json!(date);
            }
            if let Some(digest) = &f.secret_sha256 {
                properties["secretSha256"] = json!(digest);
            }
            let mut result = json!({
                "ruleId": f.check,
                "ruleIndex": index[f.check.as_str()],
                "level": f.severity.sarif_level(),
                "message": { "text": format!("{} — {}", f.message, f.fix) },
                "locations": [location],
                "partialFingerprints": { "evident/v1": f.fingerprint },
                "properties": properties,
            });
            if let Some(s) = &f.suppressed {
                let kind = match s.kind {
                    SuppressionKind::Inline => "inSource",
                    SuppressionKind::IgnoreFile
                    | SuppressionKind::Allowlist
                    | SuppressionKind::Tool => "external",
                };
                result["suppressions"] = json!([{ "kind": kind, "status": "accepted", "justification": s.reason }]);
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": { "text": e.message },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri_path(&e.path), "uriBaseId": "SRCROOT" } } }],
            })
        })
        .collect();
    let notifications: Vec<Value> = notifications
        .into_iter()
        .chain(
            report
                .notes
                .iter()
                .map(|n| json!({ "level": "note", "message": { "text": n } })),
        )
        .collect();
    let mut run = json!({
        "tool": { "driver": {
            "name": "evident",
            "semanticVersion": VERSION,
            "version": VERSION,
            "rules": rule_objects,
        }},
        "automationDetails": { "id": format!("evident/{}/", report.scanner) },
        "invocations": [{
            "executionSuccessful": report.errors.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(uri) = root_uri(&report.root) {
        run["originalUriBaseIds"] = json!({ "SRCROOT": { "uri": uri } });
    }
    let doc = json!({ "$schema": SCHEMA, "version": "2.1.0", "runs": [run] });
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use evident_core::{Check, Confidence, Finding, Location, ScanReport, Severity};

    #[test]
    fn resources_and_commits_land_where_code_scanning_reads_them() {
        let check = Check {
            id: "demo-check".into(),
            scanner: "iac".into(),
            title: "Demo".into(),
            severity: Severity::High,
            confidence: Confidence::High,
            controls: vec!["soc2:CC8.1".into()],
            why: "why".into(),
            fix: "fix".into(),
        };
        let mut location = Location::file("infra/main tf/s3.tf").at(12, 3);
        location.resource = Some("aws_s3_bucket.logs".into());
        location.commit = Some("0123456789abcdef0123456789abcdef01234567".into());
        let report = ScanReport {
            scanner: "iac".into(),
            root: "does-not-exist".into(),
            findings: vec![Finding::builder(&check, location).build()],
            ..ScanReport::default()
        };
        let sarif: serde_json::Value =
            serde_json::from_str(&super::render(&report).unwrap()).unwrap();
        let result = &sarif["runs"][0]["results"][0];
        assert_eq!(result["ruleId"], "demo-check");
        assert_eq!(
            result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "aws_s3_bucket.logs"
        );
        assert_eq!(
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "infra/main%20tf/s3.tf"
        );
        assert_eq!(
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
            12
        );
        assert_eq!(
            result["properties"]["commit"],
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(
            sarif["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"],
            "8.0"
        );
    }
}
