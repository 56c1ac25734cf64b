//! Severity and confidence from what SARIF producers write.
//!
//! Severity, first match wins:
//! 1. `properties["security-severity"]` of the result, then of the rule: a CVSS-like score
//!    (number or numeric string; GitHub code scanning's convention): ≥ 9.0 critical, ≥ 7.0 high,
//!    ≥ 4.0 medium, > 0 low, 0 info.
//! 2. `properties.severity` of the result, then of the rule, when it is a severity name
//!    (`CRITICAL`, `HIGH`, `MEDIUM`/`MODERATE`, `LOW`, `INFO`/`INFORMATIONAL`/`NEGLIGIBLE`).
//! 3. Exactly one upper-case severity tag in `properties.tags` of the rule, then of the result
//!    (Trivy tags its rules `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`).
//! 4. `level` of the result, then the rule's `defaultConfiguration.level`, then `warning` (the
//!    SARIF default): error → high, warning → medium, note → low, none → info.
//!
//! Confidence, first match wins: `properties.confidence` of the result then of the rule
//! (ZAP: `confirmed`/`high`/`medium`/`low`), a Semgrep `HIGH CONFIDENCE` tag, the rule's
//! `properties.precision` (GitHub's convention: `very-high`/`high`/`medium`/`low`), else high —
//! the tool reported a failure and said nothing to doubt it.

use evident_core::{Confidence, Severity};

use crate::json::{Obj, bag};

/// SARIF `level` values.
pub(crate) const LEVELS: &[&str] = &["none", "note", "warning", "error"];

/// A CVSS-like score (0.0–10.0) as a severity.
pub(crate) fn from_score(score: f64) -> Option<Severity> {
    if !score.is_finite() || score < 0.0 {
        return None;
    }
    Some(if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    })
}

/// A severity name as tools write it, ignoring case.
pub(crate) fn from_name(name: &str) -> Option<Severity> {
    match name.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(Severity::Critical),
        "high" => Some(Severity::High),
        "medium" | "moderate" => Some(Severity::Medium),
        "low" => Some(Severity::Low),
        "info" | "informational" | "negligible" => Some(Severity::Info),
        _ => None,
    }
}

/// A SARIF `level` as a severity.
pub(crate) fn from_level(level: &str) -> Severity {
    match level {
        "error" => Severity::High,
        "note" => Severity::Low,
        "none" => Severity::Info,
        _ => Severity::Medium,
    }
}

/// The one upper-case severity tag among `tags`, if there is exactly one.
fn from_tags<'a>(tags: impl Iterator<Item = &'a str>) -> Option<Severity> {
    let mut found = None;
    for tag in tags {
        let severity = match tag {
            "CRITICAL" => Severity::Critical,
            "HIGH" => Severity::High,
            "MEDIUM" => Severity::Medium,
            "LOW" => Severity::Low,
            _ => continue,
        };
        if found.is_some_and(|f| f != severity) {
            return None;
        }
        found = Some(severity);
    }
    found
}

/// The severity of a result (see the module documentation for the order).
pub(crate) fn severity(
    result_properties: Option<&Obj>,
    rule_properties: Option<&Obj>,
    level: Option<&str>,
    default_level: Option<&str>,
) -> Severity {
    [result_properties, rule_properties]
        .into_iter()
        .find_map(|p| bag::number(p, "security-severity").and_then(from_score))
        .or_else(|| {
            [result_properties, rule_properties]
                .into_iter()
                .find_map(|p| bag::string(p, "severity").and_then(from_name))
        })
        .or_else(|| from_tags(bag::tags(rule_properties)))
        .or_else(|| from_tags(bag::tags(result_properties)))
        .unwrap_or_else(|| from_level(level.or(default_level).unwrap_or("warning")))
}

/// What a producer's confidence property says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stated {
    Level(Confidence),
    /// ZAP's `false-positive`: the alert was dismissed in the tool.
    FalsePositive,
}

fn confidence_name(name: &str) -> Option<Stated> {
    match name.trim().to_ascii_lowercase().as_str() {
        "confirmed" | "very-high" | "high" | "certain" => Some(Stated::Level(Confidence::High)),
        "medium" | "firm" => Some(Stated::Level(Confidence::Medium)),
        "low" | "tentative" => Some(Stated::Level(Confidence::Low)),
        "false-positive" | "false positive" | "falsepositive" => Some(Stated::FalsePositive),
        _ => None,
    }
}

/// The confidence a result states, if any (see the module documentation for the order).
pub(crate) fn stated_confidence(
    result_properties: Option<&Obj>,
    rule_properties: Option<&Obj>,
) -> Option<Stated> {
    [result_properties, rule_properties]
        .into_iter()
        .find_map(|p| bag::string(p, "confidence").and_then(confidence_name))
        .or_else(|| {
            bag::tags(rule_properties).find_map(|tag| {
                tag.strip_suffix(" CONFIDENCE")
                    .and_then(confidence_name)
                    .filter(|c| *c != Stated::FalsePositive)
            })
        })
        .or_else(|| {
            bag::string(rule_properties, "precision")
                .and_then(confidence_name)
                .filter(|c| *c != Stated::FalsePositive)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn props(value: &Value) -> Option<&Obj> {
        value.as_object()
    }

    #[test]
    fn scores() {
        for (score, expected) in [
            (10.0, Severity::Critical),
            (9.0, Severity::Critical),
            (8.9, Severity::High),
            (7.0, Severity::High),
            (6.9, Severity::Medium),
            (4.0, Severity::Medium),
            (3.9, Severity::Low),
            (0.1, Severity::Low),
            (0.0, Severity::Info),
        ] {
            assert_eq!(from_score(score), Some(expected), "{score}");
        }
        assert_eq!(from_score(-1.0), None);
        assert_eq!(from_score(f64::NAN), None);
    }

    #[test]
    fn order_of_sources() {
        let score_string = json!({"security-severity": "9.8"});
        let score_number = json!({"security-severity": 5.3});
        let named = json!({"severity": "CRITICAL"});
        let tagged = json!({"tags": ["vulnerability", "security", "HIGH"]});
        let ambiguous = json!({"tags": ["HIGH", "LOW"]});
        let junk = json!({"security-severity": "n/a", "severity": "urgent"});

        // Result score beats rule score.
        assert_eq!(
            severity(
                props(&score_number),
                props(&score_string),
                Some("error"),
                None
            ),
            Severity::Medium
        );
        assert_eq!(
            severity(None, props(&score_string), Some("note"), None),
            Severity::Critical
        );
        assert_eq!(
            severity(None, props(&named), Some("note"), None),
            Severity::Critical
        );
        assert_eq!(
            severity(None, props(&tagged), Some("note"), None),
            Severity::High
        );
        assert_eq!(
            severity(None, props(&ambiguous), Some("note"), None),
            Severity::Low
        );
        assert_eq!(
            severity(props(&junk), None, None, Some("error")),
            Severity::High
        );
        assert_eq!(severity(None, None, None, None), Severity::Medium);
        assert_eq!(severity(None, None, Some("none"), None), Severity::Info);
        assert_eq!(severity(None, None, None, Some("note")), Severity::Low);
    }

    #[test]
    fn confidence_sources() {
        let zap = json!({"confidence": "medium"});
        let zap_fp = json!({"confidence": "false-positive"});
        let semgrep = json!({"precision": "very-high", "tags": ["CWE-95", "LOW CONFIDENCE"]});
        let codeql = json!({"precision": "high"});
        assert_eq!(
            stated_confidence(None, props(&zap)),
            Some(Stated::Level(Confidence::Medium))
        );
        assert_eq!(
            stated_confidence(None, props(&zap_fp)),
            Some(Stated::FalsePositive)
        );
        assert_eq!(
            stated_confidence(None, props(&semgrep)),
            Some(Stated::Level(Confidence::Low))
        );
        assert_eq!(
            stated_confidence(None, props(&codeql)),
            Some(Stated::Level(Confidence::High))
        );
        assert_eq!(stated_confidence(None, None), None);
    }
}
