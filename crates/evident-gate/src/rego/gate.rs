//! The gate's own Rego policies.
//!
//! A gate policy is any package under `evident.gate` (`package evident.gate.tickets`):
//!
//! - `deny` rules add blocking reasons, `warn` rules add warnings; each is a set of messages,
//!   a message being a string or `{"msg": "…", "controls": ["soc2:CC8.1"], "fix": "…"}`;
//! - a package-level `controls := ["soc2:CC8.1", "iso27001:A.8.32"]` names the controls the
//!   package supports; every violation cites them, plus any the message adds;
//! - every control must exist in the catalogs (`evident controls`); a package that names none
//!   is refused when loading.
//!
//! Other packages in the same files (helpers a gate policy imports) are loaded but not
//! evaluated on their own.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use super::{PolicySet, RegoError, describe, members, to_json};

/// The package prefix that marks gate policies.
const GATE_PACKAGE: &str = "evident.gate";

/// One `deny` or `warn` message of a gate policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyViolation {
    /// The package path without `data.`, e.g. `evident.gate.tickets`.
    pub policy: String,
    /// `deny` or `warn`.
    pub rule: String,
    pub message: String,
    /// Normalised `framework:ID` references, sorted, each once.
    pub controls: Vec<String>,
    pub fix: Option<String>,
    /// The file that defines the rule.
    pub file: PathBuf,
}

#[derive(Debug, Clone)]
struct GatePackage {
    name: String,
    components: Vec<String>,
    controls: Vec<String>,
    /// `deny`/`warn` with the file of their first definition.
    rules: Vec<(&'static str, PathBuf)>,
}

/// The gate's Rego policies, loaded and checked.
pub struct GatePolicies {
    set: Mutex<PolicySet>,
    files: Vec<(PathBuf, String)>,
    packages: Vec<GatePackage>,
}

impl fmt::Debug for GatePolicies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatePolicies")
            .field("files", &self.files)
            .field(
                "packages",
                &self.packages.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl GatePolicies {
    /// Loads every `*.rego` (not `*_test.rego`) under the given files/directories and checks
    /// that each gate package names controls that exist.
    pub fn load(paths: &[PathBuf]) -> Result<Self, RegoError> {
        let mut set = PolicySet::load(paths, false)?;
        let mut files: Vec<(PathBuf, String)> = set
            .files()
            .iter()
            .map(|f| (f.path.clone(), f.sha256.clone()))
            .collect();
        files.sort();

        let mut names: Vec<String> = set
            .namespaces()
            .into_iter()
            .filter(|ns| is_gate_package(ns))
            .collect();
        names.sort();
        let mut packages = Vec::new();
        for name in names {
            let modules: Vec<_> = set
                .modules()
                .iter()
                .filter(|m| m.namespace() == name)
                .cloned()
                .collect();
            let components = modules[0].package.clone();
            let first_file = modules[0].file.clone();
            let rules = ["deny", "warn"]
                .into_iter()
                .filter_map(|rule| {
                    modules
                        .iter()
                        .find(|m| m.declares(rule))
                        .map(|m| (rule, m.file.clone()))
                })
                .collect();
            let Some(controls_file) = modules
                .iter()
                .find(|m| m.declares("controls"))
                .map(|m| m.file.clone())
            else {
                return Err(RegoError::NoControls {
                    file: first_file,
                    package: name,
                });
            };
            let value = set.eval_rule(&components, "controls")?;
            let controls = package_controls(&value, &controls_file, &name)?;
            packages.push(GatePackage {
                name,
                components,
                controls,
                rules,
            });
        }
        Ok(GatePolicies {
            set: Mutex::new(set),
            files,
            packages,
        })
    }

    /// Each loaded file with the SHA-256 (lowercase hex) of its exact bytes, sorted by path.
    pub fn files(&self) -> &[(PathBuf, String)] {
        &self.files
    }

    /// The gate packages found (`evident.gate.…`), sorted.
    pub fn packages(&self) -> Vec<&str> {
        self.packages.iter().map(|p| p.name.as_str()).collect()
    }

    /// Evaluates every gate policy package against the gate input: violations in package
    /// order, `deny` before `warn`, messages sorted within a rule.
    pub fn evaluate(&self, input: &Value) -> Result<Vec<PolicyViolation>, RegoError> {
        let mut set = self
            .set
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.set_input(input);
        let mut violations = Vec::new();
        for package in &self.packages {
            for (rule, file) in &package.rules {
                let value = set.eval_rule(&package.components, rule)?;
                if value == regorus::Value::Undefined {
                    continue;
                }
                let invalid = |found: String| RegoError::InvalidMessage {
                    file: file.clone(),
                    package: package.name.clone(),
                    rule: (*rule).to_owned(),
                    found,
                    expected: format!(
                        "`{rule}` must be a set of messages (`{rule} contains msg if {{ … }}`), each a string or an object {{\"msg\": \"…\", \"controls\": [\"soc2:CC8.1\"], \"fix\": \"…\"}}"
                    ),
                };
                let Some(items) = members(&value) else {
                    return Err(invalid(describe(&value)));
                };
                for item in items {
                    let (message, extra, fix) = match to_json(&item) {
                        Value::String(message) => (message, Vec::new(), None),
                        Value::Object(mut object) => {
                            let Some(Value::String(message)) = object.remove("msg") else {
                                return Err(invalid("an object without a string `msg`".to_owned()));
                            };
                            let extra = match object.remove("controls") {
                                None | Some(Value::Null) => Vec::new(),
                                Some(Value::String(one)) => vec![one],
                                Some(Value::Array(list)) => list
                                    .into_iter()
                                    .map(|v| match v {
                                        Value::String(s) => Ok(s),
                                        _ => Err(invalid(
                                            "a message whose `controls` holds a non-string"
                                                .to_owned(),
                                        )),
                                    })
                                    .collect::<Result<_, _>>()?,
                                Some(_) => {
                                    return Err(invalid(
                                        "a message whose `controls` is not a list of strings"
                                            .to_owned(),
                                    ));
                                }
                            };
                            let fix = match object.remove("fix") {
                                None | Some(Value::Null) => None,
                                Some(Value::String(fix)) => Some(fix),
                                Some(_) => {
                                    return Err(invalid(
                                        "a message whose `fix` is not a string".to_owned(),
                                    ));
                                }
                            };
                            (message, extra, fix)
                        }
                        _ => return Err(invalid(describe(&item))),
                    };
                    let mut controls: BTreeSet<String> = package.controls.iter().cloned().collect();
                    for reference in extra {
                        controls.insert(normalise(&reference, file, &package.name)?);
                    }
                    violations.push(PolicyViolation {
                        policy: package.name.clone(),
                        rule: (*rule).to_owned(),
                        message,
                        controls: controls.into_iter().collect(),
                        fix,
                        file: file.clone(),
                    });
                }
            }
        }
        Ok(violations)
    }
}

fn is_gate_package(namespace: &str) -> bool {
    namespace == GATE_PACKAGE
        || namespace
            .strip_prefix(GATE_PACKAGE)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The package-level `controls`, normalised, sorted, each once.
fn package_controls(
    value: &regorus::Value,
    file: &Path,
    package: &str,
) -> Result<Vec<String>, RegoError> {
    if *value == regorus::Value::Undefined {
        return Err(RegoError::NoControls {
            file: file.to_path_buf(),
            package: package.to_owned(),
        });
    }
    let invalid = |found: String| RegoError::InvalidControls {
        file: file.to_path_buf(),
        package: package.to_owned(),
        found,
    };
    let items = match value {
        regorus::Value::Array(_) | regorus::Value::Set(_) => members(value).unwrap_or_default(),
        other => return Err(invalid(describe(other))),
    };
    let mut controls = BTreeSet::new();
    for item in items {
        let regorus::Value::String(reference) = &item else {
            return Err(invalid(format!("a list holding {}", describe(&item))));
        };
        controls.insert(normalise(reference, file, package)?);
    }
    if controls.is_empty() {
        return Err(RegoError::NoControls {
            file: file.to_path_buf(),
            package: package.to_owned(),
        });
    }
    Ok(controls.into_iter().collect())
}

/// `framework:ID` in its canonical spelling, or an error naming the file.
fn normalise(reference: &str, file: &Path, package: &str) -> Result<String, RegoError> {
    evident_controls::resolve(reference)
        .map(|(framework, control)| framework.reference(control))
        .map_err(|error| RegoError::UnknownControl {
            file: file.to_path_buf(),
            package: package.to_owned(),
            reference: reference.to_owned(),
            error: Box::new(error),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_packages_are_under_evident_gate() {
        assert!(is_gate_package("evident.gate"));
        assert!(is_gate_package("evident.gate.tickets"));
        assert!(!is_gate_package("evident.gateway"));
        assert!(!is_gate_package("evident.lib"));
    }

    #[test]
    fn gate_policies_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<GatePolicies>();
    }
}
