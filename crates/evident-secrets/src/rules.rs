//! Secret rules as data: the TOML schema, the built-in rule files, and their compilation.

use evident_core::{Check, Confidence, Severity};
use std::sync::OnceLock;

use regex::bytes::Regex;
use serde::Deserialize;

use crate::validate::Validator;

/// Controls every secret rule supports unless it names its own.
pub const DEFAULT_CONTROLS: &[&str] = &[
    "soc2:CC6.1",
    "soc2:CC6.7",
    "iso27001:A.5.17",
    "iso27001:A.8.4",
    "iso27001:A.8.11",
    "nist-800-53:IA-5(7)",
    "nist-800-53:SC-12",
];

const DEFAULT_WHY: &str = "Anyone who can read this repository, a clone, a fork or a CI log can use this credential: \
     a secret in source control must be treated as disclosed.";

/// The built-in rule files, embedded in the binary. Each holds `[[rule]]` tables.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] = &[
    ("cloud.toml", include_str!("../rules/cloud.toml")),
    ("vcs-ci.toml", include_str!("../rules/vcs-ci.toml")),
    ("saas.toml", include_str!("../rules/saas.toml")),
    (
        "payments-comms.toml",
        include_str!("../rules/payments-comms.toml"),
    ),
    (
        "ai-registries.toml",
        include_str!("../rules/ai-registries.toml"),
    ),
    (
        "keys-databases.toml",
        include_str!("../rules/keys-databases.toml"),
    ),
    ("generic.toml", include_str!("../rules/generic.toml")),
];

/// One rule file as written on disk.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// One rule as written in a rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Permanent kebab-case id, e.g. `github-pat-classic`.
    pub id: String,
    pub title: String,
    pub severity: Severity,
    #[serde(default = "default_confidence")]
    pub confidence: Confidence,
    /// Lower-case literals; a rule's pattern only runs near an occurrence of one of them
    /// (matched ASCII case-insensitively).
    pub keywords: Vec<String>,
    /// A regular expression (Rust `regex` syntax). The secret is the capture group named
    /// `secret`, else group 1, else the whole match.
    pub pattern: String,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// A format checksum to verify (`github-crc32`, `npm-crc32`, `jwt`, `pem-body`).
    #[serde(default)]
    pub validator: Option<Validator>,
    /// Context-based rule (no distinctive token format): placeholder, variable-reference,
    /// hash and UUID filters apply to the secret.
    #[serde(default)]
    pub generic: bool,
    /// The match may span lines (PEM blocks): search a large window after the keyword.
    #[serde(default)]
    pub multiline: bool,
    #[serde(default)]
    pub controls: Option<Vec<String>>,
    #[serde(default)]
    pub why: Option<String>,
    /// How to fix it: where to revoke and rotate, what to use instead.
    pub fix: String,
    /// Inputs that must produce a finding of this rule.
    pub examples: Vec<String>,
    /// Inputs that must not produce a finding of this rule.
    #[serde(default)]
    pub counter_examples: Vec<String>,
    /// Secrets (the extracted value) this rule must never report, as regexes.
    #[serde(default)]
    pub allow: Vec<String>,
}

fn default_confidence() -> Confidence {
    Confidence::High
}

/// A compiled rule ready to scan.
#[derive(Debug)]
pub struct Rule {
    pub check: Check,
    pub keywords: Vec<String>,
    pub pattern: LazyPattern,
    pub min_entropy: Option<f64>,
    pub validator: Option<Validator>,
    pub generic: bool,
    pub multiline: bool,
    pub allow: Vec<Regex>,
    pub examples: Vec<String>,
    pub counter_examples: Vec<String>,
    /// Where the rule was defined, for diagnostics (`cloud.toml`, `my-gitleaks.toml`).
    pub origin: String,
    /// Only files whose path matches (imported gitleaks rules may restrict paths).
    pub path: Option<Regex>,
    /// Rule-specific allowlists (imported gitleaks rules).
    pub allowlists: Vec<crate::allowlist::Allowlist>,
}

/// A rule's regular expression, compiled on first use: most rules never see a keyword hit in a
/// given run, and compiling every pattern up front would dominate a pre-commit scan.
#[derive(Debug)]
pub struct LazyPattern {
    source: String,
    compiled: OnceLock<Option<Compiled>>,
}

/// A compiled pattern and where its secret and key groups are.
#[derive(Debug)]
pub struct Compiled {
    pub regex: Regex,
    /// Groups that may hold the secret, in order of preference (`secret`, `secret2`, …, else 1,
    /// else 0 = the whole match).
    pub secret_groups: Vec<usize>,
    /// Groups that hold the key name (`key`, `key2`, …), for the generic filters.
    pub key_groups: Vec<usize>,
    /// Secret groups for an unquoted value (`secretbare`): in source code an unquoted value is an
    /// expression, not a literal, so these only count outside code files.
    pub bare_groups: Vec<usize>,
}

/// Compiles a pattern the way every rule is compiled: ASCII semantics for `\w`, `\s`, `\b` and
/// `(?i)` (secrets are ASCII; Unicode classes would only make the automata larger).
pub fn compile_pattern(source: &str) -> Result<Compiled, regex::Error> {
    let regex = regex::bytes::RegexBuilder::new(source)
        .unicode(false)
        .size_limit(32 << 20)
        .build()?;
    let named = |prefix: &str| -> Vec<usize> {
        let mut groups: Vec<(String, usize)> = regex
            .capture_names()
            .enumerate()
            .filter_map(|(i, n)| {
                n.filter(|n| n.starts_with(prefix))
                    .map(|n| (n.to_owned(), i))
            })
            .collect();
        groups.sort();
        groups.into_iter().map(|(_, i)| i).collect()
    };
    let mut secret_groups = named("secret");
    if secret_groups.is_empty() {
        secret_groups.push(usize::from(regex.captures_len() > 1));
    }
    let key_groups = named("key");
    let bare_groups = regex
        .capture_names()
        .enumerate()
        .filter_map(|(i, n)| {
            n.filter(|n| n.starts_with("secret") && n.ends_with("bare"))
                .map(|_| i)
        })
        .collect();
    Ok(Compiled {
        regex,
        secret_groups,
        key_groups,
        bare_groups,
    })
}

impl LazyPattern {
    /// A pattern checked for syntax now and compiled on first use.
    pub fn new(source: &str) -> Result<Self, String> {
        regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(source)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            source: source.to_owned(),
            compiled: OnceLock::new(),
        })
    }

    /// A pattern already compiled (user-supplied rules: errors are reported at load time).
    pub fn from_compiled(source: &str, compiled: Compiled) -> Self {
        Self {
            source: source.to_owned(),
            compiled: OnceLock::from(Some(compiled)),
        }
    }

    /// The compiled pattern; `None` only if a built-in pattern failed to compile (the rule
    /// self-test makes that a build failure).
    pub fn get(&self) -> Option<&Compiled> {
        self.compiled
            .get_or_init(|| compile_pattern(&self.source).ok())
            .as_ref()
    }

    pub fn source(&self) -> &str {
        &self.source
    }
}

/// A rule file or rule that cannot be used, with what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: rule `{id}`: {message}")]
    Invalid {
        origin: String,
        id: String,
        message: String,
    },
}

impl RuleSpec {
    /// Validates and compiles the rule.
    pub fn compile(self, origin: &str) -> Result<Rule, RuleError> {
        let invalid = |message: String| RuleError::Invalid {
            origin: origin.to_owned(),
            id: self.id.clone(),
            message,
        };
        let pattern = LazyPattern::new(&self.pattern)
            .map_err(|e| invalid(format!("`pattern` is not a valid regular expression: {e}")))?;
        if self.keywords.is_empty() {
            return Err(invalid(
                "`keywords` is empty: give at least one literal that every match contains, so the rule can be prefiltered".into(),
            ));
        }
        let mut keywords = Vec::with_capacity(self.keywords.len());
        for keyword in &self.keywords {
            if keyword.len() < 2 {
                return Err(invalid(format!(
                    "keyword `{keyword}` is too short to prefilter with: use at least 2 characters"
                )));
            }
            keywords.push(keyword.to_ascii_lowercase());
        }
        let allow = self
            .allow
            .iter()
            .map(|a| {
                compile_pattern(a)
                    .map(|c| c.regex)
                    .map_err(|e| invalid(format!("`allow` entry `{a}` is not a valid regex: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let controls = self
            .controls
            .clone()
            .unwrap_or_else(|| DEFAULT_CONTROLS.iter().map(|c| (*c).to_owned()).collect());
        for control in &controls {
            if let Err(e) = evident_controls::resolve(control) {
                return Err(invalid(format!("control `{control}`: {e}")));
            }
        }
        let check = Check {
            id: self.id.clone(),
            scanner: "secrets".into(),
            title: self.title.clone(),
            severity: self.severity,
            confidence: self.confidence,
            controls,
            why: self.why.clone().unwrap_or_else(|| DEFAULT_WHY.to_owned()),
            fix: self.fix.clone(),
        };
        check.validate().map_err(|e| invalid(e.to_string()))?;
        Ok(Rule {
            check,
            keywords,
            pattern,
            min_entropy: self.min_entropy,
            validator: self.validator,
            generic: self.generic,
            multiline: self.multiline,
            allow,
            examples: self.examples,
            counter_examples: self.counter_examples,
            origin: origin.to_owned(),
            path: None,
            allowlists: Vec::new(),
        })
    }
}

/// Parses one rule file.
pub fn parse_rule_file(origin: &str, text: &str) -> Result<Vec<Rule>, RuleError> {
    let file: RuleFile = toml::from_str(text).map_err(|e| RuleError::Parse {
        origin: origin.to_owned(),
        message: e.to_string(),
    })?;
    file.rules.into_iter().map(|r| r.compile(origin)).collect()
}

/// The built-in rules, compiled. Fails only if a built-in rule file is broken (a test guards it).
pub fn builtin_rules() -> Result<Vec<Rule>, RuleError> {
    let mut rules = Vec::new();
    for (origin, text) in BUILTIN_RULE_FILES {
        rules.extend(parse_rule_file(origin, text)?);
    }
    Ok(rules)
}
