//! `evident.toml`: the project's configuration. Unknown keys are errors, reported with the
//! line and column they are on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Severity;
use crate::environments::{
    DepsSection, Environment, GateSection, IacSection, ImportSection, PipelineSection,
    REQUIREMENTS, Rollout, Tighten, parse_duration,
};

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
    /// `[environments.NAME]`, in file order of their names.
    #[serde(default)]
    pub environments: BTreeMap<String, Environment>,
    /// `[[tighten]]`
    #[serde(default)]
    pub tighten: Vec<Tighten>,
    /// `[[rollout]]`
    #[serde(default)]
    pub rollout: Vec<Rollout>,
    #[serde(default)]
    pub gate: GateSection,
    #[serde(default)]
    pub import: ImportSection,
    #[serde(default)]
    pub deps: DepsSection,
    #[serde(default)]
    pub pipeline: PipelineSection,
    #[serde(default)]
    pub iac: IacSection,
    /// Where the configuration came from, to cite its lines.
    #[serde(skip)]
    pub source: Source,
}

/// The file a configuration was read from: its name, digest and line starts.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The file name as given (empty for the built-in default).
    pub origin: String,
    /// SHA-256 (hex) of the exact bytes (empty for the built-in default).
    pub sha256: String,
    line_starts: Vec<usize>,
    /// Offsets of array-of-tables headers (`[[rollout]]`), in order, for diagnostics.
    headers: BTreeMap<String, Vec<usize>>,
}

impl Source {
    fn new(origin: &str, text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut headers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for &start in &line_starts {
            let line = text[start..].lines().next().unwrap_or("").trim_start();
            let indent = text[start..].len() - text[start..].trim_start().len();
            let header = if let Some(rest) = line.strip_prefix("[[") {
                rest.split("]]").next().map(|n| format!("[[{}]]", n.trim()))
            } else if let Some(rest) = line.strip_prefix('[') {
                rest.split(']').next().map(|n| format!("[{}]", n.trim()))
            } else {
                None
            };
            if let Some(header) = header {
                headers.entry(header).or_default().push(start + indent);
            }
        }
        Source {
            origin: origin.to_owned(),
            sha256: crate::sha256_hex(text.as_bytes()),
            line_starts,
            headers,
        }
    }

    /// The 1-based line of the `n`th table header `header` (e.g. `[environments.prod]`).
    pub fn header_line(&self, header: &str, n: usize) -> Option<usize> {
        self.headers
            .get(header)
            .and_then(|offsets| offsets.get(n))
            .map(|&offset| self.line_of(offset))
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i.max(1),
        }
    }
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
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
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: origin.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        config.source = Source::new(origin, text);
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
        self.validate_gate()
            .map_err(|(offset, message)| ConfigError::Invalid {
                path: format!("{origin}:{}", self.source.line_of(offset)),
                message,
            })
    }

    /// Checks the gate sections; an error carries the byte offset it is about.
    fn validate_gate(&self) -> Result<(), (usize, String)> {
        let check_requirements = |list: &toml::Spanned<Vec<String>>, at: &str| {
            for name in list.get_ref() {
                if !REQUIREMENTS.contains(&name.as_str()) {
                    return Err((
                        list.span().start,
                        format!(
                            "{at}: `{name}` is not evidence evident knows; use one of: {}",
                            REQUIREMENTS.join(", ")
                        ),
                    ));
                }
            }
            Ok(())
        };
        let check_duration = |d: &toml::Spanned<String>, at: &str| {
            parse_duration(d.get_ref())
                .map(|_| ())
                .map_err(|e| (d.span().start, format!("{at}.break_glass_max: {e}")))
        };
        let check_envs = |list: &Option<Vec<String>>, offset: usize, at: &str| {
            for name in list.iter().flatten() {
                if !self.environments.contains_key(name) {
                    return Err((
                        offset,
                        format!(
                            "{at}: environment `{name}` is not defined; defined: {}",
                            self.environment_names()
                        ),
                    ));
                }
            }
            Ok(())
        };
        for (name, env) in &self.environments {
            let at = format!("[environments.{name}]");
            if let Some(list) = &env.require {
                check_requirements(list, &format!("{at} require"))?;
            }
            if let Some(d) = &env.break_glass_max {
                check_duration(d, &at)?;
            }
        }
        for (i, t) in self.tighten.iter().enumerate() {
            let at = format!("[[tighten]] #{}", i + 1);
            let when = t.when.get_ref();
            if when.tier.is_none() && when.classification.is_none() {
                return Err((
                    t.when.span().start,
                    format!("{at} when: name a `tier` and/or a `classification`"),
                ));
            }
            if let Some(tier) = when.tier
                && !(1..=3).contains(&tier)
            {
                return Err((
                    t.when.span().start,
                    format!("{at} when.tier = {tier}: a risk tier is 1, 2 or 3"),
                ));
            }
            check_envs(&t.environments, t.when.span().start, &at)?;
            if let Some(list) = &t.require {
                check_requirements(list, &format!("{at} require"))?;
            }
            if let Some(d) = &t.break_glass_max {
                check_duration(d, &at)?;
            }
        }
        for (i, r) in self.rollout.iter().enumerate() {
            let at = format!("[[rollout]] #{}", i + 1);
            let offset = self.offset_of_nth("[[rollout]]", i);
            if r.check.is_some() == r.policy.is_some() {
                return Err((
                    offset,
                    format!("{at}: name exactly one of `check` or `policy`"),
                ));
            }
            if let Some(until) = &r.until
                && until.parse::<jiff::civil::Date>().is_err()
            {
                return Err((
                    offset,
                    format!("{at} until = \"{until}\": use a date, e.g. \"2027-01-31\""),
                ));
            }
            check_envs(&r.environments, offset, &at)?;
        }
        Ok(())
    }

    /// The byte offset of the `n`th occurrence of a table header, for tables without a
    /// spanned field of their own.
    fn offset_of_nth(&self, header: &str, n: usize) -> usize {
        self.source
            .headers
            .get(header)
            .and_then(|offsets| offsets.get(n).copied())
            .unwrap_or(0)
    }

    /// The names of the configured environments, for messages.
    pub fn environment_names(&self) -> String {
        if self.environments.is_empty() {
            "none".to_owned()
        } else {
            self.environments
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        }
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

    #[test]
    fn gate_sections_are_validated_with_lines() {
        let cases = [
            (
                "[environments.prod]\nmode = \"block\"\nrequire = [\"secrets\", \"sats\"]\n",
                "evident.toml:3",
                "`sats` is not evidence",
            ),
            (
                "[environments.prod]\nmode = \"block\"\nbreak_glass_max = \"4 hours\"\n",
                "evident.toml:3",
                "not a duration",
            ),
            (
                "[environments.prod]\nmode = \"block\"\n\n[[tighten]]\nwhen = { tier = 1 }\nenvironments = [\"production\"]\n",
                "evident.toml:5",
                "`production` is not defined",
            ),
            (
                "[environments.prod]\nmode = \"block\"\n\n[[rollout]]\ncheck = \"jwt\"\npolicy = \"x\"\nmode = \"monitor\"\n",
                "evident.toml:4",
                "exactly one of",
            ),
            (
                "[environments.prod]\nmode = \"block\"\n\n[[rollout]]\ncheck = \"jwt\"\nmode = \"monitor\"\nuntil = \"soon\"\n",
                "evident.toml:4",
                "use a date",
            ),
            ("[environments.prod]\nmode = \"stop\"\n", "line 2", "stop"),
            (
                "[environments.prod]\nmode = \"block\"\nblock_on = \"hgih\"\n",
                "line 3",
                "hgih",
            ),
        ];
        for (text, at, what) in cases {
            let err = Config::parse("evident.toml", text).unwrap_err().to_string();
            assert!(err.contains(at) && err.contains(what), "{text}\n→ {err}");
        }
    }

    #[test]
    fn the_source_knows_its_lines_and_digest() {
        let text = "[project]\nname = \"x\"\n\n[environments.dev]\nmode = \"warn\"\n";
        let c = Config::parse("evident.toml", text).unwrap();
        assert_eq!(c.source.header_line("[environments.dev]", 0), Some(4));
        assert_eq!(c.source.line_of(0), 1);
        assert_eq!(c.source.line_of(text.len()), 6);
        assert_eq!(c.source.sha256, crate::sha256_hex(text.as_bytes()));
    }
}
