//! Pipeline posture: CI definitions checked against the controls auditors test for change
//! management (SOC 2 CC8.1, CC6.1; ISO 27001 A.8.25, A.8.4, A.8.31, A.8.32).
//!
//! - [`github`]: GitHub Actions workflows (`.github/workflows/*.yml`) and composite actions.
//! - [`gitlab`]: GitLab CI (`.gitlab-ci.yml`, `*.gitlab-ci.yml`, local `include:`, `extends:`).
//! - [`stages`]: which security scans a job runs, recognised from the tools it calls.
//!
//! Every finding carries the file, the line, and in `Location::resource` the job id (GitHub) or
//! job name (GitLab), or `workflow` for file-level findings.

use std::path::Path;

use evident_core::{Check, Confidence, Finding, ScanError, ScanReport, Severity};

pub mod compliance;
pub mod drift;
pub mod github;
pub mod gitlab;
pub mod settings;
pub mod stages;
mod yaml;

/// The scanner name of these checks.
pub const SCANNER: &str = "pipeline";

/// What the policy expects of a pipeline.
#[derive(Debug, Clone)]
pub struct Options {
    /// Scan stages every pipeline must run (`secrets`, `sast`, `sca`, `iac`, `container`,
    /// `dast`).
    pub required_stages: Vec<stages::Stage>,
    /// Evidence artifacts must be kept at least this many days.
    pub min_retention_days: u32,
    /// The default branch: deployments from other branches are findings.
    pub default_branch: String,
    /// Names of environments that are production (`production`, `prod`, …).
    pub production_environments: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            required_stages: vec![
                stages::Stage::Secrets,
                stages::Stage::Sast,
                stages::Stage::Sca,
            ],
            min_retention_days: 90,
            default_branch: "main".to_owned(),
            production_environments: vec!["production".to_owned(), "prod".to_owned()],
        }
    }
}

/// What one parsed CI file yields.
#[derive(Debug, Default)]
pub struct FileResult {
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
}

/// A check of this scanner: one entry with its metadata.
pub(crate) fn check(
    id: &str,
    title: &str,
    severity: Severity,
    confidence: Confidence,
    controls: &[&str],
    why: &str,
    fix: &str,
) -> Check {
    Check {
        id: id.to_owned(),
        scanner: crate::SCANNER.to_owned(),
        title: title.to_owned(),
        severity,
        confidence,
        controls: controls.iter().map(|c| (*c).to_owned()).collect(),
        why: why.to_owned(),
        fix: fix.to_owned(),
    }
}

/// Every pipeline check.
pub fn all_checks() -> Vec<Check> {
    let mut checks = compliance::checks();
    checks.push(drift::check());
    checks.extend(settings::checks());
    checks.extend(github::checks());
    checks.extend(gitlab::checks());
    checks.sort_by(|a, b| a.id.cmp(&b.id));
    checks.dedup_by(|a, b| a.id == b.id);
    checks
}

/// Finds GitHub and GitLab CI files under `root` and checks them.
pub fn scan(root: &Path, options: &Options) -> ScanReport {
    let mut report = ScanReport {
        scanner: SCANNER.to_owned(),
        root: root.display().to_string(),
        ..ScanReport::default()
    };
    for result in [github::scan(root, options), gitlab::scan(root, options)] {
        report.findings.extend(result.findings);
        report.errors.extend(result.errors);
    }
    report.sort();
    report
}
