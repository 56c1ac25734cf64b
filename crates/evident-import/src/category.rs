//! Tool categories, the controls each supports, and the built-in tool → category table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What kind of security testing a tool does. Decides which controls its findings evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Static application security testing (source code).
    Sast,
    /// Dynamic application security testing (the running application).
    Dast,
    /// Software composition analysis (dependencies and their known vulnerabilities).
    Sca,
    /// Infrastructure as code (Terraform, Kubernetes, Dockerfile, … misconfigurations).
    Iac,
    /// Secrets in source code or history.
    Secrets,
    /// Container images.
    Container,
}

/// A category name that is not one of [`Category::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category `{0}`: expected one of sast, dast, sca, iac, secrets, container")]
pub struct ParseCategoryError(pub String);

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Sast,
        Category::Dast,
        Category::Sca,
        Category::Iac,
        Category::Secrets,
        Category::Container,
    ];

    /// The kebab-case name (`sast`, `dast`, …), also the `scanner` of imported reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Sast => "sast",
            Category::Dast => "dast",
            Category::Sca => "sca",
            Category::Iac => "iac",
            Category::Secrets => "secrets",
            Category::Container => "container",
        }
    }

    /// The framework controls that findings (and clean runs) of this category evidence, as
    /// `framework:ID` references resolvable with `evident_controls::resolve`.
    pub fn controls(self) -> &'static [&'static str] {
        match self {
            Category::Sast => &[
                "soc2:CC7.1",
                "soc2:CC8.1",
                "iso27001:A.8.25",
                "iso27001:A.8.28",
            ],
            Category::Dast => &["soc2:CC7.1", "iso27001:A.8.29"],
            Category::Sca => &[
                "soc2:CC7.1",
                "soc2:CC8.1",
                "iso27001:A.8.8",
                "iso27001:A.8.28",
            ],
            Category::Iac => &[
                "soc2:CC7.1",
                "soc2:CC8.1",
                "iso27001:A.8.9",
                "iso27001:A.8.25",
            ],
            // The same set as evident's own secret scanner, so imported and native secret
            // findings evidence the same controls.
            Category::Secrets => &[
                "soc2:CC6.1",
                "soc2:CC6.7",
                "iso27001:A.5.17",
                "iso27001:A.8.4",
                "iso27001:A.8.11",
            ],
            Category::Container => &["soc2:CC7.1", "iso27001:A.8.25", "iso27001:A.8.28"],
        }
    }

    /// What one finding of this category is, for generated sentences ("a vulnerable dependency").
    pub(crate) fn finding_noun(self) -> &'static str {
        match self {
            Category::Sast => "a weakness in the source code",
            Category::Dast => "a weakness in the running application",
            Category::Sca => "a vulnerable or non-compliant dependency",
            Category::Iac => "an insecure infrastructure configuration",
            Category::Secrets => "a secret in the source code",
            Category::Container => "a weakness in a container image",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = ParseCategoryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Category::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| ParseCategoryError(s.to_owned()))
    }
}

/// How a built-in table entry matches a lower-cased tool name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameMatch {
    /// The whole name.
    Exact(&'static str),
    /// The name starts with this (e.g. `semgrep` matches `semgrep oss` and `semgrep pro`).
    Prefix(&'static str),
}

/// One row of the built-in tool table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KnownTool {
    pub name: NameMatch,
    pub category: Category,
    /// The check-id prefix for every name the row matches, so that editions and renames of one
    /// tool (`Semgrep OSS`, `Semgrep PRO`) give the same check ids.
    pub slug: &'static str,
}

const fn exact(name: &'static str, category: Category, slug: &'static str) -> KnownTool {
    KnownTool {
        name: NameMatch::Exact(name),
        category,
        slug,
    }
}

const fn prefix(name: &'static str, category: Category, slug: &'static str) -> KnownTool {
    KnownTool {
        name: NameMatch::Prefix(name),
        category,
        slug,
    }
}

/// The built-in table, matched in order against the lower-cased `tool.driver.name` with runs of
/// whitespace collapsed to one space. The first matching row wins.
pub(crate) const KNOWN_TOOLS: &[KnownTool] = &[
    // SAST
    prefix("semgrep", Category::Sast, "semgrep"),
    prefix("codeql", Category::Sast, "codeql"),
    prefix("sonar", Category::Sast, "sonarqube"),
    exact("bandit", Category::Sast, "bandit"),
    exact("gosec", Category::Sast, "gosec"),
    exact("brakeman", Category::Sast, "brakeman"),
    exact("eslint", Category::Sast, "eslint"),
    exact("spotbugs", Category::Sast, "spotbugs"),
    exact("pmd", Category::Sast, "pmd"),
    exact("snyk code", Category::Sast, "snyk-code"),
    // DAST
    exact("owasp zap", Category::Dast, "owasp-zap"),
    exact("zap", Category::Dast, "owasp-zap"),
    prefix("zap ", Category::Dast, "owasp-zap"),
    exact("nuclei", Category::Dast, "nuclei"),
    // Containers (before `snyk`, which is SCA)
    exact("snyk container", Category::Container, "snyk-container"),
    exact("dockle", Category::Container, "dockle"),
    exact("docker scout", Category::Container, "docker-scout"),
    exact("clair", Category::Container, "clair"),
    // IaC (before `snyk`)
    exact("snyk iac", Category::Iac, "snyk-iac"),
    exact("snyk infrastructure as code", Category::Iac, "snyk-iac"),
    exact("checkov", Category::Iac, "checkov"),
    exact("bridgecrew", Category::Iac, "checkov"),
    exact("prisma cloud", Category::Iac, "checkov"),
    exact("tfsec", Category::Iac, "tfsec"),
    exact("kics", Category::Iac, "kics"),
    exact("terrascan", Category::Iac, "terrascan"),
    exact("kube-linter", Category::Iac, "kube-linter"),
    exact("kubescape", Category::Iac, "kubescape"),
    exact("hadolint", Category::Iac, "hadolint"),
    // SCA
    prefix("trivy", Category::Sca, "trivy"),
    exact("grype", Category::Sca, "grype"),
    exact("osv-scanner", Category::Sca, "osv-scanner"),
    exact("snyk open source", Category::Sca, "snyk"),
    exact("snyk", Category::Sca, "snyk"),
    exact("dependency-check", Category::Sca, "dependency-check"),
    exact("owasp dependency-check", Category::Sca, "dependency-check"),
    exact("govulncheck", Category::Sca, "govulncheck"),
    // Secrets
    exact("gitleaks", Category::Secrets, "gitleaks"),
    prefix("trufflehog", Category::Secrets, "trufflehog"),
    exact("detect-secrets", Category::Secrets, "detect-secrets"),
    exact("ggshield", Category::Secrets, "ggshield"),
    exact("nosey parker", Category::Secrets, "noseyparker"),
    exact("noseyparker", Category::Secrets, "noseyparker"),
];

/// Lower-cases `name` and collapses runs of whitespace to one space.
pub(crate) fn normalize_tool_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The built-in row for a normalized tool name.
pub(crate) fn known_tool(normalized: &str) -> Option<&'static KnownTool> {
    KNOWN_TOOLS.iter().find(|tool| match tool.name {
        NameMatch::Exact(name) => normalized == name,
        NameMatch::Prefix(prefix) => normalized.starts_with(prefix),
    })
}

/// The check-id prefix of a tool that has no built-in row: the lower-cased name with whitespace
/// runs and `:` replaced by `-`.
pub(crate) fn tool_slug(normalized: &str) -> String {
    let mut slug = String::with_capacity(normalized.len());
    for c in normalized.chars() {
        if c.is_whitespace() || c == ':' {
            if !slug.ends_with('-') {
                slug.push('-');
            }
        } else {
            slug.push(c);
        }
    }
    slug.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for category in Category::ALL {
            assert_eq!(category.to_string().parse::<Category>(), Ok(category));
            assert_eq!(
                category.as_str().to_uppercase().parse::<Category>(),
                Ok(category)
            );
            let json = serde_json::to_string(&category).unwrap();
            assert_eq!(json, format!("\"{category}\""));
        }
        let err = "dynamic".parse::<Category>().unwrap_err().to_string();
        assert!(
            err.contains("`dynamic`") && err.contains("sast, dast, sca, iac, secrets, container"),
            "{err}"
        );
    }

    #[test]
    fn every_category_has_at_least_two_controls() {
        for category in Category::ALL {
            assert!(category.controls().len() >= 2, "{category}");
        }
    }

    #[test]
    fn built_in_table() {
        let cases = [
            ("Semgrep OSS", Category::Sast, "semgrep"),
            ("semgrep", Category::Sast, "semgrep"),
            ("Semgrep PRO", Category::Sast, "semgrep"),
            ("CodeQL", Category::Sast, "codeql"),
            ("CodeQL command-line toolchain", Category::Sast, "codeql"),
            ("SonarQube", Category::Sast, "sonarqube"),
            ("SonarCloud", Category::Sast, "sonarqube"),
            ("Bandit", Category::Sast, "bandit"),
            ("Snyk Code", Category::Sast, "snyk-code"),
            ("OWASP ZAP", Category::Dast, "owasp-zap"),
            ("ZAP", Category::Dast, "owasp-zap"),
            ("ZAP by Checkmarx", Category::Dast, "owasp-zap"),
            ("Trivy", Category::Sca, "trivy"),
            (
                "Trivy: Vulnerability Scanner for Containers",
                Category::Sca,
                "trivy",
            ),
            ("Snyk Open Source", Category::Sca, "snyk"),
            ("Snyk Container", Category::Container, "snyk-container"),
            ("Snyk IaC", Category::Iac, "snyk-iac"),
            ("dependency-check", Category::Sca, "dependency-check"),
            ("Checkov", Category::Iac, "checkov"),
            ("Prisma Cloud", Category::Iac, "checkov"),
            ("hadolint", Category::Iac, "hadolint"),
            ("kube-linter", Category::Iac, "kube-linter"),
            ("gitleaks", Category::Secrets, "gitleaks"),
            ("TruffleHog", Category::Secrets, "trufflehog"),
            ("dockle", Category::Container, "dockle"),
        ];
        for (name, category, slug) in cases {
            let tool = known_tool(&normalize_tool_name(name)).unwrap_or_else(|| panic!("{name}"));
            assert_eq!((tool.category, tool.slug), (category, slug), "{name}");
        }
        for unknown in ["my scanner", "zaproxy-like", "sonnet", "trivial"] {
            let found = known_tool(&normalize_tool_name(unknown)).map(|t| t.slug);
            // `sonnet` starts with `son` but not `sonar`; `trivial` starts with `trivi` only.
            assert_eq!(found, None, "{unknown}");
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(
            tool_slug(&normalize_tool_name("  My  Scanner ")),
            "my-scanner"
        );
        assert_eq!(tool_slug("acme: deep scan"), "acme-deep-scan");
        assert_eq!(tool_slug("acme"), "acme");
    }
}
