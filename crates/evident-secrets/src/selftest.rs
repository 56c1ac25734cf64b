//! Every rule carries examples that must match and counter-examples that must not.
//! `evident rules check` and the test suite run them.

use crate::engine::{Engine, InputKind};

/// One rule example that did not behave as declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule: String,
    pub origin: String,
    /// `example` (should have matched) or `counter-example` (should not have).
    pub kind: &'static str,
    pub index: usize,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let expectation = match self.kind {
            "example" => "did not match",
            "pattern" => "does not compile",
            _ => "matched",
        };
        write!(
            f,
            "{}: rule `{}`: {} #{} {expectation}",
            self.origin,
            self.rule,
            self.kind,
            self.index + 1
        )
    }
}

/// Runs every rule's examples through the full engine (prefilter, regex, filters).
pub fn check_examples(engine: &Engine) -> Vec<ExampleFailure> {
    let mut failures = Vec::new();
    for (index, rule) in engine.rules().iter().enumerate() {
        let fail = |kind, i| ExampleFailure {
            rule: rule.check.id.clone(),
            origin: rule.origin.clone(),
            kind,
            index: i,
        };
        if rule.pattern.get().is_none() {
            failures.push(fail("pattern", 0));
            continue;
        }
        for (i, example) in rule.examples.iter().enumerate() {
            let found = engine.scan_each_rule(example.as_bytes(), InputKind::default());
            if !found.iter().any(|c| c.rule == index) {
                failures.push(fail("example", i));
            }
        }
        for (i, example) in rule.counter_examples.iter().enumerate() {
            let found = engine.scan_each_rule(example.as_bytes(), InputKind::default());
            if found.iter().any(|c| c.rule == index) {
                failures.push(fail("counter-example", i));
            }
        }
    }
    failures
}
