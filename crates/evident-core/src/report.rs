use serde::{Deserialize, Serialize};

use crate::Finding;

/// What one scanner run produced. Renderers turn it into text, JSON, SARIF or JUnit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScanReport {
    /// The scanner (`secrets`, …).
    pub scanner: String,
    /// The scanned root, as the user gave it.
    pub root: String,
    /// RFC 3339 time the scan started (from the injected clock).
    pub started_at: String,
    /// Findings, sorted by path, line, check.
    pub findings: Vec<Finding>,
    pub stats: ScanStats,
    /// Inputs that could not be scanned. A scan with errors is never reported as clean.
    pub errors: Vec<ScanError>,
    /// Things the user should act on that are not findings (e.g. stale ignore-file entries).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Counters that show how much was looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanStats {
    pub files: u64,
    pub bytes: u64,
    pub skipped_binary: u64,
    pub commits: u64,
    pub blobs: u64,
    pub suppressed: u64,
}

/// An input that could not be scanned, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanError {
    pub path: String,
    pub message: String,
}

impl ScanReport {
    /// Sorts findings into their stable output order.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (
                a.location.path.as_deref(),
                a.location.line,
                a.location.column,
                &a.check,
                a.location.commit.as_deref(),
            )
                .cmp(&(
                    b.location.path.as_deref(),
                    b.location.line,
                    b.location.column,
                    &b.check,
                    b.location.commit.as_deref(),
                ))
        });
        self.errors.sort_by(|a, b| a.path.cmp(&b.path));
    }

    /// Findings that are not suppressed.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }
}
