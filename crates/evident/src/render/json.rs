//! The JSON report: a documented, versioned contract (docs/json-report.md).

use std::collections::BTreeMap;

use evident_core::ScanReport;
use serde::Serialize;

use super::{RenderOptions, VERSION};

/// Bump on any incompatible change; additions keep the version.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    tool: Tool,
    scanner: &'a str,
    root: &'a str,
    started_at: &'a str,
    fail_on: &'a str,
    summary: Summary,
    findings: &'a [evident_core::Finding],
    errors: &'a [evident_core::ScanError],
    notes: &'a [String],
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    findings: usize,
    failing: usize,
    suppressed: usize,
    by_severity: BTreeMap<&'static str, usize>,
    files: u64,
    bytes: u64,
    skipped_binary: u64,
    commits: u64,
    blobs: u64,
    seconds: f64,
}

pub fn render(report: &ScanReport, options: &RenderOptions) -> serde_json::Result<String> {
    let mut by_severity = BTreeMap::new();
    for f in report.active() {
        *by_severity.entry(f.severity.as_str()).or_insert(0) += 1;
    }
    let body = Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "evident",
            version: VERSION,
        },
        scanner: &report.scanner,
        root: &report.root,
        started_at: &report.started_at,
        fail_on: options.threshold.as_str(),
        summary: Summary {
            findings: report.active().count(),
            failing: report
                .active()
                .filter(|f| f.severity >= options.threshold)
                .count(),
            suppressed: report.findings.len() - report.active().count(),
            by_severity,
            files: report.stats.files,
            bytes: report.stats.bytes,
            skipped_binary: report.stats.skipped_binary,
            commits: report.stats.commits,
            blobs: report.stats.blobs,
            seconds: (options.seconds * 1000.0).round() / 1000.0,
        },
        findings: &report.findings,
        errors: &report.errors,
        notes: &report.notes,
    };
    let mut text = serde_json::to_string_pretty(&body)?;
    text.push('\n');
    Ok(text)
}
