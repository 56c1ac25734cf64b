//! `evident rules check`: the rules test themselves.

use std::path::Path;

use anyhow::anyhow;
use evident_secrets::{Options, Scanner, selftest};

use crate::{Failure, Outcome};

pub fn check(config: Option<&Path>) -> Result<Outcome, Failure> {
    let scanner = Scanner::new(&Options {
        gitleaks_config: config.map(Path::to_path_buf),
        ..Options::default()
    })?;
    let failures = selftest::check_examples(scanner.engine());
    let rules = scanner.rules();
    let examples: usize = rules
        .iter()
        .map(|r| r.examples.len() + r.counter_examples.len())
        .sum();
    if failures.is_empty() {
        super::print(&format!(
            "{} rules compiled; {examples} examples and counter-examples behave as declared\n",
            rules.len()
        ))?;
        Ok(Outcome::Clean)
    } else {
        let list: Vec<String> = failures.iter().map(ToString::to_string).collect();
        Err(anyhow!(
            "{} rule example(s) failed:\n  {}",
            failures.len(),
            list.join("\n  ")
        )
        .into())
    }
}
