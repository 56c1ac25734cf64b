//! The built-in rules: compile, unique ids, self-tested examples, enough coverage.

use std::collections::HashSet;

use evident_secrets::{Engine, builtin_rules, selftest};

#[test]
fn builtin_rules_compile_and_pass_their_own_examples() {
    let rules = builtin_rules().expect("built-in rules compile");
    let mut ids = HashSet::new();
    for rule in &rules {
        assert!(
            ids.insert(rule.check.id.clone()),
            "duplicate rule id {}",
            rule.check.id
        );
        assert!(
            !rule.examples.is_empty(),
            "{}: rule needs at least one example",
            rule.check.id
        );
        assert!(
            !rule.counter_examples.is_empty(),
            "{}: rule needs at least one counter-example",
            rule.check.id
        );
    }
    let engine = Engine::new(rules).expect("automaton builds");
    let failures = selftest::check_examples(&engine);
    let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert!(
        report.is_empty(),
        "rule examples failed:\n{}",
        report.join("\n")
    );
}

#[test]
fn at_least_150_credential_types() {
    let rules = builtin_rules().expect("built-in rules compile");
    assert!(rules.len() >= 150, "only {} rules", rules.len());
}
