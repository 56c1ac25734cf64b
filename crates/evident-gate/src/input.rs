//! What the gate reads: the evidence recorded for the subject, as plain data.

use std::collections::BTreeMap;

use evident_core::Severity;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One recorded piece of evidence about the subject.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceItem {
    /// Its entry in the ledger.
    pub entry: u64,
    pub kind: String,
    pub labels: BTreeMap<String, String>,
    pub actor: String,
    pub recorded_at: Timestamp,
    pub controls: Vec<String>,
    pub predicate_type: String,
}

/// A recorded scan and the findings in its report.
#[derive(Debug, Clone, Serialize)]
pub struct ScanResult {
    pub entry: u64,
    /// `secrets`, `sast`, `sca`, `iac`, `dast`, `container`, `pipeline`.
    pub category: String,
    /// The tool or scanner that produced it.
    pub tool: String,
    pub recorded_at: Timestamp,
    pub findings: Vec<GateFinding>,
    /// Inputs the scan could not read: a scan with errors is incomplete evidence.
    pub errors: usize,
}

/// A finding as the gate sees it (read back from a recorded JSON report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateFinding {
    pub check: String,
    #[serde(default)]
    pub title: String,
    pub severity: Severity,
    #[serde(default)]
    pub controls: Vec<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default)]
    pub fingerprint: String,
    #[serde(default)]
    pub fix: String,
    /// Suppressed in the scan (inline, ignore file, allowlist, the tool): does not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<serde_json::Value>,
}

/// The parts of a recorded JSON scan report (docs/json-report.md) the gate needs.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportFile {
    pub schema_version: u32,
    #[serde(default)]
    pub scanner: String,
    pub findings: Vec<GateFinding>,
    #[serde(default)]
    pub errors: Vec<serde_json::Value>,
}

impl ReportFile {
    /// Parses a recorded report; `origin` names it in errors.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self, String> {
        let report: ReportFile = serde_json::from_slice(bytes)
            .map_err(|e| format!("{origin}: not an evident JSON report: {e}"))?;
        if report.schema_version != 1 {
            return Err(format!(
                "{origin}: report schema_version {} is not supported (this evident reads version 1)",
                report.schema_version
            ));
        }
        Ok(report)
    }
}

/// A break-glass grant read back from the ledger.
#[derive(Debug, Clone, Serialize)]
pub struct BreakGlass {
    pub entry: u64,
    pub environment: String,
    pub requester: String,
    pub approver: String,
    pub reason: String,
    pub granted_at: Timestamp,
    pub expires: Timestamp,
}

/// The predicate of a break-glass record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlassPredicate {
    pub environment: String,
    pub requester: String,
    pub approver: String,
    pub reason: String,
    /// RFC 3339.
    pub expires: String,
    /// The gate decision entry it overrode (the blocked decision), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<u64>,
}
