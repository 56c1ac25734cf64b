//! Which security scans a CI job runs, recognised from the tools it calls (`uses:` actions,
//! `run:`/`script:` commands, `image:` names, GitLab templates).

use serde::{Deserialize, Serialize};

/// A kind of security scan a pipeline should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Secrets,
    Sast,
    Sca,
    Iac,
    Container,
    Dast,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Secrets,
        Stage::Sast,
        Stage::Sca,
        Stage::Iac,
        Stage::Container,
        Stage::Dast,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Secrets => "secrets",
            Stage::Sast => "sast",
            Stage::Sca => "sca",
            Stage::Iac => "iac",
            Stage::Container => "container",
            Stage::Dast => "dast",
        }
    }
}

impl std::str::FromStr for Stage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!("`{s}` is not a scan stage; use one of: secrets, sast, sca, iac, container, dast")
            })
    }
}

/// Tool markers, lower-case, matched as substrings of `uses:`, `run:`/`script:`, `image:` and
/// `include: template:` values.
const MARKERS: &[(&str, Stage)] = &[
    ("evident scan secrets", Stage::Secrets),
    ("gitleaks", Stage::Secrets),
    ("trufflehog", Stage::Secrets),
    ("detect-secrets", Stage::Secrets),
    ("ggshield", Stage::Secrets),
    ("secret-detection", Stage::Secrets),
    ("noseyparker", Stage::Secrets),
    ("github/codeql-action", Stage::Sast),
    ("semgrep", Stage::Sast),
    ("sonarqube", Stage::Sast),
    ("sonarcloud", Stage::Sast),
    ("sonar-scanner", Stage::Sast),
    ("bandit", Stage::Sast),
    ("gosec", Stage::Sast),
    ("brakeman", Stage::Sast),
    ("sast.gitlab-ci.yml", Stage::Sast),
    ("snyk code", Stage::Sast),
    ("evident scan deps", Stage::Sca),
    ("osv-scanner", Stage::Sca),
    ("dependency-review-action", Stage::Sca),
    ("dependency-scanning", Stage::Sca),
    ("npm audit", Stage::Sca),
    ("pip-audit", Stage::Sca),
    ("cargo audit", Stage::Sca),
    ("cargo deny", Stage::Sca),
    ("govulncheck", Stage::Sca),
    ("snyk test", Stage::Sca),
    ("grype", Stage::Sca),
    ("dependency-check", Stage::Sca),
    ("trivy fs", Stage::Sca),
    ("checkov", Stage::Iac),
    ("tfsec", Stage::Iac),
    ("kics", Stage::Iac),
    ("terrascan", Stage::Iac),
    ("trivy config", Stage::Iac),
    ("sast-iac", Stage::Iac),
    ("evident scan iac", Stage::Iac),
    ("trivy image", Stage::Container),
    ("aquasecurity/trivy-action", Stage::Container),
    ("anchore/scan-action", Stage::Container),
    ("container-scanning", Stage::Container),
    ("docker scout", Stage::Container),
    ("zaproxy", Stage::Dast),
    ("zap-baseline", Stage::Dast),
    ("zap-full-scan", Stage::Dast),
    ("owasp/zap", Stage::Dast),
    ("dast.gitlab-ci.yml", Stage::Dast),
    ("nuclei", Stage::Dast),
];

/// The stages a piece of CI text (an action reference, a command, an image) runs.
pub fn detect(text: &str) -> Vec<Stage> {
    let lower = text.to_ascii_lowercase();
    let mut out: Vec<Stage> = MARKERS
        .iter()
        .filter(|(m, _)| lower.contains(m))
        .map(|(_, s)| *s)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_recognised() {
        assert_eq!(
            detect("uses: gitleaks/gitleaks-action@v2"),
            [Stage::Secrets]
        );
        assert_eq!(detect("semgrep ci --sarif > out.sarif"), [Stage::Sast]);
        assert_eq!(
            detect("trivy image --exit-code 1 app:latest"),
            [Stage::Container]
        );
        assert!(detect("cargo build --release").is_empty());
        assert_eq!("iac".parse::<Stage>(), Ok(Stage::Iac));
        assert!("lint".parse::<Stage>().is_err());
    }
}
