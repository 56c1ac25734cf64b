//! Import of gitleaks-format TOML configurations, so teams keep the rules they have.
//!
//! Supported: `[[rules]]` (id, description, regex, secretGroup, entropy, keywords, path, tags,
//! `[rules.allowlist]` / `[[rules.allowlists]]`), global `[allowlist]` / `[[allowlists]]`
//! (description, condition, regexTarget, regexes, paths, stopwords, commits, targetRules), and
//! `[extend]` (useDefault, path, disabledRules). `useDefault` means evident's built-in rules.

use std::path::{Path, PathBuf};

use evident_core::{Check, Confidence, Severity};
use regex::bytes::Regex;
use serde::Deserialize;

use crate::allowlist::{Allowlist, Target};
use crate::rules::{DEFAULT_CONTROLS, Rule};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct File {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    min_version: Option<String>,
    #[serde(default)]
    extend: Option<Extend>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Extend {
    #[serde(default)]
    use_default: bool,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    disabled_rules: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRule {
    id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawAllowlist {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(default)]
    target_rules: Vec<String>,
}

/// An imported configuration.
#[derive(Debug, Default)]
pub struct Imported {
    /// Rules defined in the file (and files it extends).
    pub rules: Vec<Rule>,
    /// Rules that only flag a path (no regex).
    pub path_rules: Vec<(Check, Regex)>,
    /// `[extend] useDefault = true`: keep evident's built-in rules.
    pub use_default: bool,
    /// Built-in rule ids to drop.
    pub disabled_rules: Vec<String>,
    /// Global allowlists, each with the rule ids it is limited to (empty = all rules).
    pub allowlists: Vec<(Allowlist, Vec<String>)>,
}

/// A gitleaks configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ImportError {
    pub path: String,
    pub message: String,
}

/// Loads a gitleaks-format configuration file (following `[extend] path`).
pub fn load(path: &Path) -> Result<Imported, ImportError> {
    let mut imported = Imported::default();
    load_into(path, &mut imported, 0)?;
    Ok(imported)
}

fn load_into(path: &Path, imported: &mut Imported, depth: usize) -> Result<(), ImportError> {
    let origin = path.display().to_string();
    let err = |message: String| ImportError {
        path: origin.clone(),
        message,
    };
    if depth > 4 {
        return Err(err(
            "`[extend] path` chain is deeper than 4 files (a cycle?)".into(),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    parse_into(&origin, &text, path.parent(), imported, depth)
}

/// Parses a gitleaks configuration from text (`origin` names it in errors).
pub fn parse(origin: &str, text: &str) -> Result<Imported, ImportError> {
    let mut imported = Imported::default();
    parse_into(origin, text, None, &mut imported, 0)?;
    Ok(imported)
}

fn parse_into(
    origin: &str,
    text: &str,
    base: Option<&Path>,
    imported: &mut Imported,
    depth: usize,
) -> Result<(), ImportError> {
    let err = |message: String| ImportError {
        path: origin.to_owned(),
        message,
    };
    let file: File =
        toml::from_str(text).map_err(|e| err(format!("not a valid gitleaks config: {e}")))?;
    let _ = (&file.title, &file.description, &file.min_version);
    if let Some(extend) = &file.extend {
        imported.use_default |= extend.use_default;
        imported
            .disabled_rules
            .extend(extend.disabled_rules.iter().cloned());
        if extend.url.is_some() {
            return Err(err(
                "`[extend] url` is not supported: evident never fetches configuration over the network; download the file and use `[extend] path`".into(),
            ));
        }
        if let Some(parent) = &extend.path {
            let parent_path = base.map_or_else(|| PathBuf::from(parent), |b| b.join(parent));
            load_into(&parent_path, imported, depth + 1)?;
        }
    }
    for raw in file.allowlist.into_iter().chain(file.allowlists) {
        let targets = raw.target_rules.clone();
        imported
            .allowlists
            .push((allowlist(origin, "allowlist", raw)?, targets));
    }
    for raw in file.rules {
        let id = normalise_id(&raw.id);
        let rule_err = |message: String| ImportError {
            path: origin.to_owned(),
            message: format!("rule `{}`: {message}", raw.id),
        };
        let title = raw.description.clone().unwrap_or_else(|| raw.id.clone());
        let check = Check {
            id: id.clone(),
            scanner: "secrets".into(),
            title,
            severity: Severity::High,
            confidence: Confidence::Medium,
            controls: DEFAULT_CONTROLS.iter().map(|c| (*c).to_owned()).collect(),
            why: format!(
                "Imported from {origin}{}: a secret in source control must be treated as disclosed.",
                if raw.tags.is_empty() { String::new() } else { format!(" (tags: {})", raw.tags.join(", ")) }
            ),
            fix: "Remove the secret from the file, revoke and rotate it at its provider, and load it at run time from a secret manager.".into(),
        };
        let path = raw
            .path
            .as_deref()
            .map(|p| {
                Regex::new(p).map_err(|e| rule_err(format!("`path` is not a valid regex: {e}")))
            })
            .transpose()?;
        let mut allowlists = Vec::new();
        for a in raw.allowlist.into_iter().chain(raw.allowlists) {
            allowlists.push(allowlist(origin, &raw.id, a)?);
        }
        let Some(pattern) = raw.regex.as_deref() else {
            let Some(path) = path else {
                return Err(rule_err(
                    "has neither `regex` nor `path`: give at least one".into(),
                ));
            };
            imported.path_rules.push((check, path));
            continue;
        };
        let mut compiled = crate::rules::compile_pattern(pattern).map_err(|e| {
            rule_err(format!(
                "`regex` is not valid in evident's (RE2-like) syntax: {e}"
            ))
        })?;
        let groups = compiled.regex.captures_len();
        match raw.secret_group {
            Some(g) if g >= groups => {
                return Err(rule_err(format!(
                    "`secretGroup = {g}` but the regex has only {} group(s)",
                    groups - 1
                )));
            }
            Some(g) => compiled.secret_groups = vec![g],
            None => {}
        }
        let pattern = crate::rules::LazyPattern::from_compiled(pattern, compiled);
        imported.rules.push(Rule {
            check,
            keywords: raw
                .keywords
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect(),
            pattern,
            min_entropy: raw.entropy,
            validator: None,
            generic: false,
            multiline: false,
            allow: Vec::new(),
            examples: Vec::new(),
            counter_examples: Vec::new(),
            origin: origin.to_owned(),
            path,
            allowlists,
        });
    }
    Ok(())
}

/// Gitleaks ids are usually kebab-case already; anything else is folded to it.
fn normalise_id(id: &str) -> String {
    let mut out = String::new();
    for c in id.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() || !trimmed.as_bytes()[0].is_ascii_lowercase() {
        format!("custom-{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

fn allowlist(origin: &str, owner: &str, raw: RawAllowlist) -> Result<Allowlist, ImportError> {
    let err = |message: String| ImportError {
        path: origin.to_owned(),
        message: format!("{owner}: {message}"),
    };
    let compile = |list: &[String], what: &str| -> Result<Vec<Regex>, ImportError> {
        list.iter()
            .map(|r| {
                Regex::new(r)
                    .map_err(|e| err(format!("{what} entry `{r}` is not a valid regex: {e}")))
            })
            .collect()
    };
    let target = match raw.regex_target.as_deref() {
        None | Some("secret") => Target::Secret,
        Some("match") => Target::Match,
        Some("line") => Target::Line,
        Some(other) => {
            return Err(err(format!(
                "`regexTarget = \"{other}\"`: expected secret, match or line"
            )));
        }
    };
    let all = match raw
        .condition
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("OR") => false,
        Some("AND") => true,
        Some(other) => {
            return Err(err(format!(
                "`condition = \"{other}\"`: expected OR or AND"
            )));
        }
    };
    Ok(Allowlist {
        description: raw.description.unwrap_or_default(),
        paths: compile(&raw.paths, "`paths`")?,
        regexes: compile(&raw.regexes, "`regexes`")?,
        target,
        stopwords: raw
            .stopwords
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect(),
        commits: raw.commits,
        all,
    })
}
