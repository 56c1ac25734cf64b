//! The compliance checks both CI platforms share: one entry each. The platform modules decide
//! when they apply; the metadata (id, severity, controls, why, fix) lives here once.

use evident_core::{Check, Confidence, Severity};

/// Change management and secure development: SOC 2 CC8.1, ISO 27001 A.8.25, A.8.32.
const CHANGE: &[&str] = &["soc2:CC8.1", "iso27001:A.8.25", "iso27001:A.8.32"];

pub const SCAN_DOES_NOT_BLOCK: &str = "scan-does-not-block";
pub const MISSING_SCAN_STAGE: &str = "missing-scan-stage";
pub const SHORT_EVIDENCE_RETENTION: &str = "short-evidence-retention";
pub const UNPROTECTED_PRODUCTION_DEPLOY: &str = "unprotected-production-deploy";
pub const DEPLOY_FROM_OTHER_BRANCHES: &str = "deploy-from-other-branches";
pub const DEPLOY_WITHOUT_SCANS: &str = "deploy-without-scans";

fn check(
    id: &str,
    title: &str,
    severity: Severity,
    controls: &[&str],
    why: &str,
    fix: &str,
) -> Check {
    crate::check(id, title, severity, Confidence::High, controls, why, fix)
}

/// The shared compliance checks.
pub fn checks() -> Vec<Check> {
    vec![
        check(
            SCAN_DOES_NOT_BLOCK,
            "Security scan that cannot fail the pipeline",
            Severity::High,
            &[
                "soc2:CC7.1",
                "soc2:CC8.1",
                "iso27001:A.8.25",
                "iso27001:A.8.29",
            ],
            "A scan step or job whose failure is ignored (`continue-on-error`, `allow_failure`, `soft_fail`, `|| true`, `--exit-code 0`) produces a green pipeline whatever it finds: auditors treat it as a control that does not operate.",
            "Let the scan fail the pipeline: remove the failure override, and handle accepted findings with suppressions or time-boxed exceptions instead.",
        ),
        check(
            MISSING_SCAN_STAGE,
            "Pipeline lacks a security scan the policy requires",
            Severity::Medium,
            &[
                "soc2:CC7.1",
                "soc2:CC8.1",
                "iso27001:A.8.25",
                "iso27001:A.8.28",
            ],
            "The policy requires this kind of scan for every change; without it no evidence of the control is produced.",
            "Add a job that runs the scan on every change (for example `evident scan secrets` for secrets, Semgrep or CodeQL for SAST, `evident scan deps` for SCA) and make it required.",
        ),
        check(
            SHORT_EVIDENCE_RETENTION,
            "Evidence artifacts kept shorter than the policy requires",
            Severity::Low,
            &["soc2:CC7.2", "iso27001:A.8.15"],
            "Scan reports and test results uploaded as artifacts are audit evidence; kept for fewer days than the policy's period, they are gone before the audit window closes.",
            "Raise `retention-days` (GitHub) or `expire_in` (GitLab) to at least the policy's period, or record the reports in the evident ledger (`--record`).",
        ),
        check(
            UNPROTECTED_PRODUCTION_DEPLOY,
            "Production deployment without a protected environment",
            Severity::High,
            CHANGE,
            "A job that deploys to production without a protected environment (required reviewers, deployment branches) lets any pipeline run ship to production without an approval on record.",
            "Deploy through a protected environment: `environment: production` with required reviewers (GitHub) or a protected environment with deployment approvals (GitLab).",
        ),
        check(
            DEPLOY_FROM_OTHER_BRANCHES,
            "Deployment reachable from branches other than the default",
            Severity::Medium,
            CHANGE,
            "A deploy job that runs for any branch lets unreviewed code reach an environment, bypassing the review the default branch enforces.",
            "Restrict the deploy job to the default branch (`if: github.ref == 'refs/heads/main'`, `rules: - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH`) or to protected tags.",
        ),
        check(
            DEPLOY_WITHOUT_SCANS,
            "Deploy job does not depend on the scan jobs",
            Severity::Medium,
            CHANGE,
            "When a deploy job does not wait for the scans (`needs:`), a failing scan does not stop the deployment: the scan becomes a report, not a gate.",
            "Make the deploy job depend on every scan job (`needs: [secrets, sast, sca]`), or put the scans in an earlier stage that must pass.",
        ),
    ]
}

/// The shared check with id `id` (panics on an unknown id: ids are constants of this module).
pub fn get(id: &str) -> Check {
    checks()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no compliance check `{id}`"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn complete_and_mapped_to_existing_controls() {
        for c in super::checks() {
            c.validate().unwrap();
            for control in &c.controls {
                evident_controls::resolve(control).unwrap_or_else(|e| panic!("{}: {e}", c.id));
            }
        }
    }
}
