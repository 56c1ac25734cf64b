use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::{Check, Confidence, Severity};

/// Where a finding is. Every field is optional because scanners see different worlds
/// (a file line, a commit in history, a cloud resource address).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Path relative to the scanned root, with `/` separators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 1-based line of the start of the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column (in bytes) of the start of the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// 1-based line of the end of the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    /// Full commit id (history findings: the commit that introduced it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// RFC 3339 date of the commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// A resource address (e.g. `aws_s3_bucket.logs`, `Deployment/api`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Self {
        Self {
            path: Some(path.into()),
            ..Self::default()
        }
    }

    #[must_use]
    pub fn at(mut self, line: u32, column: u32) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self.end_line.get_or_insert(line);
        self
    }

    #[must_use]
    pub fn ending_at(mut self, end_line: u32) -> Self {
        self.end_line = Some(end_line);
        self
    }
}

/// Why a finding does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuppressionKind {
    /// An inline `evident:allow <reason>` comment on the line.
    Inline,
    /// A fingerprint listed in an ignore file.
    IgnoreFile,
    /// An allowlist in the scanner configuration.
    Allowlist,
    /// Suppressed in the tool that produced the finding (e.g. a SARIF `suppressions` entry).
    Tool,
}

/// A finding that was seen but suppressed, and why. Suppressions are reported, never hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub kind: SuppressionKind,
    pub reason: String,
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub check: String,
    pub title: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub controls: Vec<String>,
    pub message: String,
    #[serde(flatten)]
    pub location: Location,
    /// The offending text with any secret redacted. Never holds a secret in clear.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// SHA-256 of the secret value, for de-duplication without disclosure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_sha256: Option<String>,
    /// Stable identity: survives the finding moving to another line.
    pub fingerprint: String,
    pub why: String,
    pub fix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
}

/// Builds a [`Finding`]: the check and the location are required up front.
#[derive(Debug)]
pub struct FindingBuilder {
    finding: Finding,
    identity: Option<Vec<u8>>,
}

impl Finding {
    pub fn builder(check: &Check, location: Location) -> FindingBuilder {
        FindingBuilder {
            finding: Finding {
                check: check.id.clone(),
                title: check.title.clone(),
                severity: check.severity,
                confidence: check.confidence,
                controls: check.controls.clone(),
                message: check.title.clone(),
                location,
                snippet: None,
                secret_sha256: None,
                fingerprint: String::new(),
                why: check.why.clone(),
                fix: check.fix.clone(),
                suppressed: None,
            },
            identity: None,
        }
    }
}

impl FindingBuilder {
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.finding.message = message.into();
        self
    }

    #[must_use]
    pub fn severity(mut self, severity: Severity) -> Self {
        self.finding.severity = severity;
        self
    }

    #[must_use]
    pub fn confidence(mut self, confidence: Confidence) -> Self {
        self.finding.confidence = confidence;
        self
    }

    /// The offending text, already redacted by the caller.
    #[must_use]
    pub fn snippet(mut self, redacted: impl Into<String>) -> Self {
        self.finding.snippet = Some(redacted.into());
        self
    }

    #[must_use]
    pub fn secret_sha256(mut self, digest: impl Into<String>) -> Self {
        self.finding.secret_sha256 = Some(digest.into());
        self
    }

    /// What makes this finding the same finding across edits (e.g. the secret's hash), in
    /// addition to the check id and path. Without it the line number is used, which does not
    /// survive line moves.
    #[must_use]
    pub fn identity(mut self, parts: &[&[u8]]) -> Self {
        let mut bytes = Vec::new();
        for part in parts {
            bytes.extend_from_slice(&(part.len() as u64).to_le_bytes());
            bytes.extend_from_slice(part);
        }
        self.identity = Some(bytes);
        self
    }

    #[must_use]
    pub fn suppressed(mut self, suppression: Option<Suppression>) -> Self {
        self.finding.suppressed = suppression;
        self
    }

    pub fn build(mut self) -> Finding {
        let loc = &self.finding.location;
        let mut hasher = sha2::Sha256::new();
        for part in [
            self.finding.check.as_bytes(),
            loc.path.as_deref().unwrap_or("").as_bytes(),
            loc.resource.as_deref().unwrap_or("").as_bytes(),
        ] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        match &self.identity {
            Some(identity) => hasher.update(identity),
            None => hasher.update(loc.line.unwrap_or(0).to_le_bytes()),
        }
        self.finding.fingerprint = hex::encode(&hasher.finalize()[..16]);
        self.finding
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check() -> Check {
        Check {
            id: "demo-check".into(),
            scanner: "test".into(),
            title: "Demo".into(),
            severity: Severity::High,
            confidence: Confidence::Medium,
            controls: vec!["soc2:CC6.1".into()],
            why: "why".into(),
            fix: "fix".into(),
        }
    }

    proptest! {
        #[test]
        fn fingerprint_survives_line_moves(line_a in 1u32..100_000, line_b in 1u32..100_000, secret in ".{1,40}") {
            let a = Finding::builder(&check(), Location::file("a.env").at(line_a, 1)).identity(&[secret.as_bytes()]).build();
            let b = Finding::builder(&check(), Location::file("a.env").at(line_b, 7)).identity(&[secret.as_bytes()]).build();
            prop_assert_eq!(&a.fingerprint, &b.fingerprint);
            let other = Finding::builder(&check(), Location::file("b.env").at(line_a, 1)).identity(&[secret.as_bytes()]).build();
            prop_assert_ne!(&a.fingerprint, &other.fingerprint);
        }
    }

    #[test]
    fn builder_copies_check_metadata() {
        let f = Finding::builder(&check(), Location::file("x").at(3, 4))
            .message("found")
            .build();
        assert_eq!(f.check, "demo-check");
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.controls, vec!["soc2:CC6.1".to_string()]);
        assert_eq!(f.location.end_line, Some(3));
        assert_eq!(f.fingerprint.len(), 32);
    }
}
