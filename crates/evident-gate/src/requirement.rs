//! Required evidence: what satisfies each requirement, the controls it supports, how to get it.

use crate::input::{EvidenceItem, ScanResult};

/// SLSA provenance v1.
const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// The controls a piece of required evidence supports.
pub fn controls(requirement: &str) -> &'static [&'static str] {
    match requirement {
        "secrets" => &["soc2:CC6.1", "iso27001:A.8.4"],
        "sast" => &[
            "soc2:CC7.1",
            "soc2:CC8.1",
            "iso27001:A.8.25",
            "iso27001:A.8.28",
        ],
        "sca" | "sbom" => &[
            "soc2:CC7.1",
            "soc2:CC8.1",
            "iso27001:A.8.8",
            "iso27001:A.8.28",
        ],
        "iac" => &[
            "soc2:CC7.1",
            "soc2:CC8.1",
            "iso27001:A.8.9",
            "iso27001:A.8.25",
        ],
        "dast" => &["soc2:CC7.1", "iso27001:A.8.29"],
        "container" => &["soc2:CC7.1", "iso27001:A.8.25", "iso27001:A.8.28"],
        "pipeline" => &["soc2:CC8.1", "iso27001:A.8.25", "iso27001:A.8.32"],
        "provenance" => &["soc2:CC8.1", "iso27001:A.8.25"],
        "approval" => &["soc2:CC8.1", "iso27001:A.8.32"],
        _ => &[],
    }
}

/// How to produce a piece of required evidence for `subject`.
pub fn how_to_fix(requirement: &str, subject: &str) -> String {
    let commit = subject.strip_prefix("git:").unwrap_or(subject);
    match requirement {
        "secrets" => format!(
            "run `evident scan secrets --record` on commit {commit} (in CI, before the gate)"
        ),
        "sast" | "dast" | "sca" | "iac" | "container" | "pipeline" => format!(
            "record a {requirement} scan for {subject}: import the tool's SARIF with `evident import results.sarif --category {requirement}` on that commit"
        ),
        "sbom" => format!(
            "record the SBOM: `evident record --kind sbom --subject {subject} --file sbom.cdx.json`"
        ),
        "provenance" => format!(
            "record the build provenance: `evident record --kind attestation --subject {subject} --file provenance.json`"
        ),
        _ => format!("record {requirement} evidence for {subject}"),
    }
}

/// The scan categories that are requirements in their own right.
pub fn is_scan_category(requirement: &str) -> bool {
    matches!(
        requirement,
        "secrets" | "sast" | "sca" | "iac" | "dast" | "container" | "pipeline"
    )
}

/// What satisfies a requirement: the latest matching scan, or the latest matching record.
pub enum Satisfied<'a> {
    Scan(&'a ScanResult),
    Record(&'a EvidenceItem),
    Missing,
}

/// Finds the evidence for `requirement` among the subject's records.
pub fn find<'a>(
    requirement: &str,
    scans: &'a [ScanResult],
    records: &'a [EvidenceItem],
) -> Satisfied<'a> {
    if is_scan_category(requirement) {
        return scans
            .iter()
            .filter(|s| s.category == requirement)
            .max_by_key(|s| s.entry)
            .map_or(Satisfied::Missing, Satisfied::Scan);
    }
    let wanted = |r: &&EvidenceItem| match requirement {
        "sbom" => r.kind == "sbom",
        "provenance" => r.kind == "attestation" && r.predicate_type == SLSA_PROVENANCE_V1,
        _ => false,
    };
    records
        .iter()
        .filter(wanted)
        .max_by_key(|r| r.entry)
        .map_or(Satisfied::Missing, Satisfied::Record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_requirement_maps_to_existing_controls() {
        for name in evident_core::environments::REQUIREMENTS
            .iter()
            .chain(&["approval"])
        {
            let list = controls(name);
            assert!(!list.is_empty(), "{name}");
            for c in list {
                evident_controls::resolve(c).unwrap_or_else(|e| panic!("{name}: {c}: {e}"));
            }
        }
    }
}
