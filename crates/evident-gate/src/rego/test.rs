//! `opa test`: every rule named `test_*` in every package; a test passes when it evaluates to
//! `true`. Rules named `todo_test_*` are reported as skipped.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{PolicySet, RegoError};

/// Where a test is defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestLocation {
    /// The policy file.
    pub file: String,
    /// 1-based line of the test's first definition.
    pub row: u32,
}

/// The result of one test, shaped like `opa test --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestResult {
    pub location: TestLocation,
    /// The package with `data.`, e.g. `data.main`.
    pub package: String,
    /// The rule name, e.g. `test_denies_root`.
    pub name: String,
    /// The test did not evaluate to `true` (undefined, `false`, or any other value).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fail: bool,
    /// Evaluating the test failed (e.g. a type error in a builtin call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A `todo_test_*` rule: not run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skip: bool,
    /// What `print()` wrote while the test ran.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<String>,
}

impl TestResult {
    /// Neither failed, errored nor skipped.
    pub fn passed(&self) -> bool {
        !self.fail && self.error.is_none() && !self.skip
    }

    /// `data.<package>.<name>`.
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.package, self.name)
    }
}

impl PolicySet {
    /// Runs every `test_*` rule, in file order; each test rule once per package.
    pub fn run_tests(&mut self) -> Result<Vec<TestResult>, RegoError> {
        let mut seen = BTreeSet::new();
        let mut tests = Vec::new();
        for module in self.modules() {
            for head in module.rules.iter().filter(|h| !h.function) {
                let skip = head.name.starts_with("todo_test_");
                if !head.name.starts_with("test_") && !skip {
                    continue;
                }
                if seen.insert((module.package.clone(), head.name.clone())) {
                    tests.push((
                        module.package.clone(),
                        head.name.clone(),
                        module.file.display().to_string(),
                        head.line,
                        skip,
                    ));
                }
            }
        }
        let mut results = Vec::new();
        for (package, name, file, row, skip) in tests {
            let mut result = TestResult {
                location: TestLocation { file, row },
                package: format!("data.{}", package.join(".")),
                name: name.clone(),
                fail: false,
                error: None,
                skip,
                output: Vec::new(),
            };
            if !skip {
                let path = super::rule_path(&package, &name);
                let engine = self.engine_mut();
                let value = engine.eval_rule(path.clone());
                result.output = engine.take_prints().unwrap_or_default();
                match value {
                    Ok(value) => result.fail = value != regorus::Value::Bool(true),
                    Err(e) => result.error = Some(super::eval_error(&e, path).to_string()),
                }
            }
            results.push(result);
        }
        Ok(results)
    }
}
