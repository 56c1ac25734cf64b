//! `evident.toml`: the project's configuration. Unknown keys are errors, reported with the
//! line and column they are on.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Severity;

/// The file name looked for at the project root.
pub const FILE_NAME: &str = "evident.toml";

/// The whole configuration. Every section is optional; defaults are documented per field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub project: Project,
    #[serde(default)]
    pub scan: Scan,
    #[serde(default)]
    pub secrets: Secrets,
    #[serde(default)]
    pub ledger: Ledger,
}

/// `[ledger]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ledger {
    /// The verifier key the ledger must be signed with (`name+keyid+base64`). Pinning it here,
    /// in a reviewed file, is what makes a replaced key detectable.
    pub verifier_key: Option<String>,
    /// How many years records are kept at least (default 7).
    pub retention_years: Option<u16>,
}

/// `[project]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub name: Option<String>,
    /// Risk tier 1 (most critical) to 3.
    pub tier: Option<u8>,
    /// `public`, `internal` or `restricted`.
    pub classification: Option<Classification>,
    /// Frameworks in scope (`soc2`, `iso27001`, `nist-800-53`).
    #[serde(default)]
    pub frameworks: Vec<String>,
}

/// Data classification of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Classification {
    Public,
    Internal,
    Restricted,
}

/// `[scan]`: defaults for every scanner.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scan {
    /// Findings at or above this severity make `evident scan` exit 1 (default: `low`).
    pub fail_on: Option<Severity>,
}

/// `[secrets]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// A gitleaks-format TOML file with rules and allowlists (relative to the project root).
    pub config: Option<PathBuf>,
    /// Extra ignore file of fingerprints (default: `.evidentignore` and `.gitleaksignore`).
    pub ignore_file: Option<PathBuf>,
    /// Glob patterns (relative to the scanned root) that are never scanned.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    /// Parses configuration text; `origin` names the file in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: origin.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        config.validate(origin)?;
        Ok(config)
    }

    fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        if let Some(tier) = self.project.tier
            && !(1..=3).contains(&tier)
        {
            return Err(ConfigError::Invalid {
                path: origin.to_owned(),
                message: format!(
                    "[project] tier = {tier}: a risk tier is 1 (most critical), 2 or 3"
                ),
            });
        }
        if self.ledger.retention_years == Some(0) {
            return Err(ConfigError::Invalid {
                path: origin.to_owned(),
                message: "[ledger] retention_years = 0: records must be kept at least one year (the default is 7)".into(),
            });
        }
        Ok(())
    }

    /// Loads `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Loads `evident.toml` from `dir` if there is one; the default configuration otherwise.
    pub fn discover(dir: &Path) -> Result<(Self, Option<PathBuf>), ConfigError> {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            Ok((Self::load(&candidate)?, Some(candidate)))
        } else {
            Ok((Self::default(), None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors_with_a_line() {
        let err =
            Config::parse("evident.toml", "[secrets]\nexclude = []\nexclud = []\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("evident.toml") && text.contains("line 3") && text.contains("exclud"),
            "{text}"
        );
    }

    #[test]
    fn parses_a_full_file() {
        let c = Config::parse(
            "x",
            "[project]\nname = \"api\"\ntier = 1\nclassification = \"restricted\"\nframeworks = [\"soc2\"]\n[scan]\nfail_on = \"high\"\n[secrets]\nexclude = [\"fixtures/**\"]\n",
        )
        .unwrap();
        assert_eq!(c.project.tier, Some(1));
        assert_eq!(c.scan.fail_on, Some(Severity::High));
        assert_eq!(c.secrets.exclude, vec!["fixtures/**".to_string()]);
        assert!(
            Config::parse("x", "[project]\ntier = 7\n")
                .unwrap_err()
                .to_string()
                .contains("tier = 7")
        );
    }
}
