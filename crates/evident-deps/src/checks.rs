//! The dependency scanner's checks: one entry each, with the controls they support.

use evident_core::{Check, Confidence, Severity};

/// The controls every dependency check supports: vulnerability management and secure
/// development (SOC 2 CC7.1, ISO 27001 A.8.8 and A.8.28, NIST RA-5 and SI-2).
pub const CONTROLS: &[&str] = &[
    "soc2:CC7.1",
    "iso27001:A.8.8",
    "iso27001:A.8.28",
    "nist-800-53:RA-5",
    "nist-800-53:SI-2",
];

/// The scanner name of these checks.
pub const SCANNER: &str = "sca";

pub const VULNERABLE_DEPENDENCY: &str = "vulnerable-dependency";
pub const INFORMATIONAL_ADVISORY: &str = "informational-advisory";
pub const DENIED_LICENSE: &str = "denied-license";

fn check(
    id: &str,
    title: &str,
    severity: Severity,
    controls: &[&str],
    why: &str,
    fix: &str,
) -> Check {
    Check {
        id: id.to_owned(),
        scanner: SCANNER.to_owned(),
        title: title.to_owned(),
        severity,
        confidence: Confidence::High,
        controls: controls.iter().map(|c| (*c).to_owned()).collect(),
        why: why.to_owned(),
        fix: fix.to_owned(),
    }
}

/// Every dependency check.
pub fn all() -> Vec<Check> {
    vec![
        check(
            VULNERABLE_DEPENDENCY,
            "Dependency with a known vulnerability",
            Severity::High,
            CONTROLS,
            "A package this project ships is affected by a published advisory (OSV); attackers scan for known-vulnerable versions first, and auditors expect them fixed within your remediation window.",
            "Upgrade the package to the fixed version the finding names (or later) and regenerate the lockfile; if no fix exists or the vulnerable code is unreachable, record a time-boxed exception with the reason.",
        ),
        check(
            INFORMATIONAL_ADVISORY,
            "Dependency with an informational advisory",
            Severity::Low,
            CONTROLS,
            "The package is reported as unmaintained, unsound or otherwise risky (e.g. a RustSec informational advisory) without a vulnerability; such packages stop receiving security fixes.",
            "Plan a replacement for the package (the advisory usually names alternatives), or accept the risk with an exception that names an owner and a review date.",
        ),
        check(
            DENIED_LICENSE,
            "Dependency under a licence the policy denies",
            Severity::High,
            &["soc2:CC8.1", "iso27001:A.5.32", "iso27001:A.8.28"],
            "A package's licence is on the deny list of `[deps]` in evident.toml (e.g. strong copyleft in a proprietary product); shipping it can breach the licence or company policy.",
            "Replace the package with one under an allowed licence, or have legal approve it and record an exception for this package.",
        ),
    ]
}

/// The check with id `id`.
pub fn get(id: &str) -> Option<Check> {
    all().into_iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn checks_are_complete_and_map_to_existing_controls() {
        for c in super::all() {
            c.validate().unwrap();
            for control in &c.controls {
                evident_controls::resolve(control).unwrap_or_else(|e| panic!("{}: {e}", c.id));
            }
        }
    }
}
