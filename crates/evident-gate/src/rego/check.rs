//! Conftest's `test`: `deny`/`violation` (failures) and `warn` (warnings) rules of a namespace
//! evaluated against each document of an input.
//!
//! Reproduces Conftest's engine (`policy/engine.go`):
//!
//! - the rules are those named `deny`, `violation` or `warn`, or those names followed by
//!   `_suffix` parts (`deny_privileged`, `warn_latest_tag`);
//! - a rule's value is a set (or array) of messages: a string, or an object with a string `msg`
//!   whose other keys are metadata; an empty or non-collection value counts as one success;
//! - `exception` rules exempt rules by name (`exception contains ["privileged"]` exempts
//!   `deny_privileged`): the exempted rule's messages are dropped and an exception is counted;
//! - successes are padded so that every rule definition counts as one test (`deny` written in
//!   three places is three tests, even when one of them fired).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{PolicySet, RegoError, describe, members, to_json};

/// One input file's result in one namespace, shaped like Conftest's JSON output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// The file as named on the command line (empty for standard input).
    pub filename: String,
    /// The package the rules came from, e.g. `main`.
    pub namespace: String,
    /// How many rules passed.
    pub successes: usize,
    /// Messages of `warn` rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<CheckMessage>,
    /// Messages of `deny`/`violation` rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<CheckMessage>,
    /// Rules exempted by an `exception` rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<CheckMessage>,
}

impl CheckResult {
    /// Rules evaluated: successes, warnings, failures and exceptions.
    pub fn total(&self) -> usize {
        self.successes + self.warnings.len() + self.failures.len() + self.exceptions.len()
    }
}

/// One message of a rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckMessage {
    /// The message.
    pub msg: String,
    /// Where in the input the problem is, from the message's `_loc` (`{file, line}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loc: Option<Value>,
    /// The message object's other keys.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
}

/// Conftest's rule-name patterns: `^(deny|violation)(_[a-zA-Z0-9]+)*$` and
/// `^warn(_[a-zA-Z0-9]+)*$`.
fn kind(rule: &str) -> Option<Kind> {
    let (kind, rest) = if let Some(rest) = rule.strip_prefix("deny") {
        (Kind::Failure, rest)
    } else if let Some(rest) = rule.strip_prefix("violation") {
        (Kind::Failure, rest)
    } else if let Some(rest) = rule.strip_prefix("warn") {
        (Kind::Warning, rest)
    } else {
        return None;
    };
    let suffix_ok = rest.is_empty()
        || rest.strip_prefix('_').is_some_and(|parts| {
            parts
                .split('_')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
        });
    suffix_ok.then_some(kind)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Failure,
    Warning,
}

/// The rule name an `exception` names: without its `deny_`/`violation_`/`warn_` prefix.
fn exception_name(rule: &str) -> &str {
    let rule = rule.strip_prefix("violation_").unwrap_or(rule);
    let rule = rule.strip_prefix("deny_").unwrap_or(rule);
    rule.strip_prefix("warn_").unwrap_or(rule)
}

impl PolicySet {
    /// Evaluates the rules of `namespace` against each document and adds the results up, as
    /// Conftest does for one file.
    pub fn check(
        &mut self,
        filename: &str,
        documents: &[Value],
        namespace: &str,
    ) -> Result<CheckResult, RegoError> {
        // Rule name → (number of definitions, the file of the first definition).
        let mut rules: BTreeMap<String, (usize, std::path::PathBuf)> = BTreeMap::new();
        let mut package = None;
        let mut has_exceptions = false;
        for module in self.modules().iter().filter(|m| m.namespace() == namespace) {
            package.get_or_insert_with(|| module.package.clone());
            has_exceptions |= module.declares("exception");
            for head in module.rules.iter().filter(|h| !h.function) {
                if kind(&head.name).is_some() {
                    rules
                        .entry(head.name.clone())
                        .or_insert_with(|| (0, module.file.clone()))
                        .0 += 1;
                }
            }
        }
        let Some(package) = package else {
            return Err(RegoError::UnknownNamespace {
                namespace: namespace.to_owned(),
                available: self.namespaces(),
            });
        };
        let definitions: usize = rules.values().map(|(n, _)| n).sum();
        let mut result = CheckResult {
            filename: filename.to_owned(),
            namespace: namespace.to_owned(),
            successes: 0,
            warnings: Vec::new(),
            failures: Vec::new(),
            exceptions: Vec::new(),
        };
        for document in documents {
            self.set_input(document);
            let mut successes = 0;
            let (mut failures, mut warnings, mut exceptions) = (0, 0, 0);
            for (rule, (_, file)) in &rules {
                let kind = kind(rule).unwrap_or(Kind::Failure);
                let exempt = if has_exceptions {
                    self.exceptions(&package, namespace, rule)?
                } else {
                    Vec::new()
                };
                let value = self.eval_rule(&package, rule)?;
                if !exempt.is_empty() {
                    exceptions += exempt.len();
                    result.exceptions.extend(exempt);
                    continue;
                }
                for outcome in outcomes(&value, file, namespace, rule)? {
                    match (outcome, kind) {
                        (None, _) => successes += 1,
                        (Some(message), Kind::Failure) => {
                            failures += 1;
                            result.failures.push(message);
                        }
                        (Some(message), Kind::Warning) => {
                            warnings += 1;
                            result.warnings.push(message);
                        }
                    }
                }
            }
            // Every definition of a rule counts as one test.
            let counted = successes + failures + warnings + exceptions;
            if counted < definitions {
                successes += definitions - counted;
            }
            result.successes += successes;
        }
        Ok(result)
    }

    /// Conftest's query `data.<ns>.exception[_][_] == "<rule>"`: one exception per match.
    fn exceptions(
        &mut self,
        package: &[String],
        namespace: &str,
        rule: &str,
    ) -> Result<Vec<CheckMessage>, RegoError> {
        let name = exception_name(rule);
        let query = format!(
            "{}[_][_] == {}",
            super::rule_path(package, "exception"),
            Value::String(name.to_owned())
        );
        let results = self
            .engine_mut()
            .eval_query(query.clone(), false)
            .map_err(|e| super::eval_error(&e, query.clone()))?;
        let _ = self.engine_mut().take_prints();
        let shown = format!("data.{namespace}.exception[_][_] == {name:?}");
        Ok(results
            .result
            .iter()
            .filter(|r| {
                r.expressions
                    .iter()
                    .all(|e| e.value == regorus::Value::Bool(true))
            })
            .map(|_| CheckMessage {
                msg: shown.clone(),
                loc: None,
                metadata: Map::new(),
            })
            .collect())
    }
}

/// A rule's results: `None` for a success, `Some` for each message.
fn outcomes(
    value: &regorus::Value,
    file: &std::path::Path,
    namespace: &str,
    rule: &str,
) -> Result<Vec<Option<CheckMessage>>, RegoError> {
    if *value == regorus::Value::Undefined {
        return Ok(Vec::new());
    }
    let Some(items) = members(value).filter(|items| !items.is_empty()) else {
        return Ok(vec![None]);
    };
    let mut out = Vec::new();
    for item in items {
        match to_json(&item) {
            Value::String(msg) => out.push(Some(CheckMessage {
                msg,
                loc: None,
                metadata: Map::new(),
            })),
            Value::Object(mut object) => {
                let Some(Value::String(msg)) = object.remove("msg") else {
                    return Err(RegoError::InvalidMessage {
                        file: file.to_path_buf(),
                        package: namespace.to_owned(),
                        rule: rule.to_owned(),
                        found: format!("{} without a string `msg`", describe(&item)),
                        expected: "a message is a string, or an object whose `msg` is a string (other keys are metadata)".to_owned(),
                    });
                };
                let loc = object.remove("_loc").and_then(location);
                out.push(Some(CheckMessage {
                    msg,
                    loc,
                    metadata: object,
                }));
            }
            // Conftest ignores other kinds of values.
            _ => {}
        }
    }
    Ok(out)
}

/// `_loc: {file, line}` as Conftest reads it.
fn location(value: Value) -> Option<Value> {
    let Value::Object(object) = value else {
        return None;
    };
    let mut loc = Map::new();
    if let Some(file @ Value::String(_)) = object.get("file") {
        loc.insert("file".to_owned(), file.clone());
    }
    if let Some(line @ Value::Number(_)) = object.get("line") {
        loc.insert("line".to_owned(), line.clone());
    }
    (!loc.is_empty()).then_some(Value::Object(loc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_follow_conftest_patterns() {
        for rule in [
            "deny",
            "violation",
            "deny_x",
            "warn_latest_tag",
            "deny_a_b1",
        ] {
            assert!(kind(rule).is_some(), "{rule}");
        }
        for rule in ["denyx", "deny_", "deny__x", "warning", "allow", "deny-x"] {
            assert!(kind(rule).is_none(), "{rule}");
        }
        assert_eq!(kind("warn"), Some(Kind::Warning));
        assert_eq!(exception_name("deny_privileged"), "privileged");
        assert_eq!(exception_name("deny"), "deny");
    }
}
