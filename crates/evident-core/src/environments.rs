//! The gate's part of `evident.toml`: environments, tightening by risk tier and data
//! classification, per-check rollout, gate policies and import mappings.
//!
//! Settings the gate cites as the reason something blocks are kept with their position in the
//! file ([`toml::Spanned`]), so a decision can point at the line that made it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::Severity;
use crate::config::Classification;

/// Evidence an environment can require for a subject before it may pass.
pub const REQUIREMENTS: &[&str] = &[
    "secrets",
    "sast",
    "sca",
    "iac",
    "dast",
    "container",
    "pipeline",
    "sbom",
    "provenance",
];

/// How an environment treats what would block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateMode {
    /// Soft-fail: reasons are reported, the gate passes.
    Warn,
    /// Hard-fail: any blocking reason blocks.
    Block,
}

impl GateMode {
    pub fn as_str(self) -> &'static str {
        match self {
            GateMode::Warn => "warn",
            GateMode::Block => "block",
        }
    }
}

/// `[environments.NAME]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// `warn` (soft-fail) or `block`.
    pub mode: Spanned<GateMode>,
    /// Findings at or above this severity block (default: `high`).
    pub block_on: Option<Spanned<Severity>>,
    /// Evidence that must be recorded for the subject (see [`REQUIREMENTS`]).
    pub require: Option<Spanned<Vec<String>>>,
    /// Distinct approvers needed (default 0).
    pub approvals: Option<Spanned<u32>>,
    /// Longest exception allowed, in days (default 90).
    pub exception_max_days: Option<Spanned<u32>>,
    /// Longest break-glass allowed (`4h`, `90m`); without it break-glass is refused here.
    pub break_glass_max: Option<Spanned<String>>,
    /// Who may approve a break-glass (empty: anyone but the requester).
    pub break_glass_approvers: Option<Spanned<Vec<String>>>,
}

/// `[[tighten]]`: stricter settings for critical services or sensitive data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tighten {
    /// Which projects this applies to.
    pub when: Spanned<TightenWhen>,
    /// Environments it applies to (default: all).
    pub environments: Option<Vec<String>>,
    /// `block` turns a `warn` environment into a blocking one (it never loosens).
    pub mode: Option<Spanned<GateMode>>,
    /// Lower threshold (the stricter of the two wins).
    pub block_on: Option<Spanned<Severity>>,
    /// More required evidence (added to the environment's).
    pub require: Option<Spanned<Vec<String>>>,
    /// More approvals (the larger wins).
    pub approvals: Option<Spanned<u32>>,
    /// Shorter exceptions (the smaller wins).
    pub exception_max_days: Option<Spanned<u32>>,
    /// Shorter break-glass (the shorter wins).
    pub break_glass_max: Option<Spanned<String>>,
}

/// The condition of a `[[tighten]]` entry. Both parts must hold when both are given.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TightenWhen {
    /// Matches projects of this tier or a more critical one (1 is the most critical).
    pub tier: Option<u8>,
    /// Matches projects whose data is this sensitive or more.
    pub classification: Option<Classification>,
}

impl TightenWhen {
    /// Does a project with this tier and classification match?
    pub fn matches(&self, tier: Option<u8>, classification: Option<Classification>) -> bool {
        let tier_ok = match (self.tier, tier) {
            (None, _) => true,
            (Some(want), Some(have)) => have <= want,
            (Some(_), None) => false,
        };
        let class_ok = match (self.classification, classification) {
            (None, _) => true,
            (Some(want), Some(have)) => have >= want,
            (Some(_), None) => false,
        };
        tier_ok && class_ok
    }
}

/// `[[rollout]]`: a check or a gate policy in monitor mode.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// A check id (e.g. `generic-api-key`, `semgrep:some.rule`).
    pub check: Option<String>,
    /// A gate policy package (e.g. `evident.gate.tickets`).
    pub policy: Option<String>,
    /// `monitor` (report "would have blocked") or `enforce`.
    pub mode: RolloutMode,
    /// Monitor until this date (YYYY-MM-DD, UTC); enforced from then on.
    pub until: Option<String>,
    /// Environments it applies to (default: all).
    pub environments: Option<Vec<String>>,
}

/// A rollout stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RolloutMode {
    Monitor,
    Enforce,
}

/// `[gate]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateSection {
    /// Rego gate policies: files or directories (relative to the project root).
    #[serde(default)]
    pub policies: Vec<PathBuf>,
}

/// `[import]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSection {
    /// Tool name (as in SARIF `tool.driver.name`, lower-case) → category
    /// (`sast`, `dast`, `sca`, `iac`, `secrets`, `container`).
    #[serde(default)]
    pub tools: BTreeMap<String, String>,
}

/// `[deps]`: the dependency scanner.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepsSection {
    /// The local OSV database (default: `<store>/osv.sqlite`).
    pub db: Option<PathBuf>,
    /// Where `evident db update` downloads `<ecosystem>/all.zip` from.
    pub osv_base_url: Option<String>,
    /// Ecosystems `evident db update` downloads (OSV names: `PyPI`, `npm`, `crates.io`, …).
    #[serde(default)]
    pub ecosystems: Vec<String>,
    /// SPDX licence ids that must not ship (e.g. `AGPL-3.0-only`).
    #[serde(default)]
    pub deny_licenses: Vec<String>,
    /// When set, only these SPDX licence ids may ship.
    #[serde(default)]
    pub allow_licenses: Vec<String>,
}

/// `[pipeline]`: what the policy expects of CI definitions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSection {
    /// Scan stages every pipeline must run (`secrets`, `sast`, `sca`, `iac`, `container`,
    /// `dast`; default: secrets, sast, sca).
    pub required_stages: Option<Vec<String>>,
    /// Evidence artifacts must be kept at least this many days (default 90).
    pub min_retention_days: Option<u32>,
    /// The default branch (default `main`).
    pub default_branch: Option<String>,
    /// Environment names that are production (default `production`, `prod`).
    pub production_environments: Option<Vec<String>>,
    /// Approving reviews the default branch must require (default 1).
    pub min_approvals: Option<u32>,
    /// Status checks (scan job names) branch protection must require.
    #[serde(default)]
    pub required_status_checks: Vec<String>,
}

/// `[iac]`: what the policy expects of infrastructure definitions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IacSection {
    /// Registries images may come from (`registry.example.com`, `ghcr.io/acme`); empty: any.
    #[serde(default)]
    pub approved_registries: Vec<String>,
    /// Name globs of buckets that hold evidence or audit logs (default `*evidence*`,
    /// `*audit*`, `*cloudtrail*`).
    #[serde(default)]
    pub evidence_buckets: Vec<String>,
    /// Terraform variable files applied to every root module, relative to the scanned path.
    #[serde(default)]
    pub var_files: Vec<String>,
}

/// Parses a duration such as `4h`, `90m`, `1h30m`, `45s` or `2d`.
pub fn parse_duration(text: &str) -> Result<jiff::SignedDuration, String> {
    let bad = || {
        format!("`{text}` is not a duration: use a number with a unit, e.g. `4h`, `90m`, `1h30m`")
    };
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut seen_unit = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: i64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
        seen_unit = true;
    }
    if !number.is_empty() || !seen_unit || total <= 0 {
        return Err(bad());
    }
    Ok(jiff::SignedDuration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("4h").unwrap().as_secs(), 14_400);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5_400);
        assert_eq!(parse_duration("2d").unwrap().as_secs(), 172_800);
        for bad in ["", "4", "h", "4x", "0h", "-1h", "1h 2"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tighten_matches_more_critical_and_more_sensitive() {
        let when = TightenWhen {
            tier: Some(1),
            classification: Some(Classification::Restricted),
        };
        assert!(when.matches(Some(1), Some(Classification::Restricted)));
        assert!(!when.matches(Some(2), Some(Classification::Restricted)));
        assert!(!when.matches(Some(1), Some(Classification::Internal)));
        assert!(!when.matches(None, Some(Classification::Restricted)));
        let tier2 = TightenWhen {
            tier: Some(2),
            classification: None,
        };
        assert!(tier2.matches(Some(1), None) && tier2.matches(Some(2), None));
        assert!(!tier2.matches(Some(3), None));
    }

    proptest::proptest! {
        #[test]
        fn duration_parser_never_panics(s in "\\PC{0,12}") {
            let _ = parse_duration(&s);
        }
    }
}
