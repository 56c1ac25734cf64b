//! `evident checks`: every check with its metadata and controls.

use std::fmt::Write as _;

use evident_core::Check;

use crate::cli::{ChecksArgs, ListFormat};
use crate::{Failure, Outcome};

/// Every check evident knows, from every scanner.
pub fn all_checks() -> Result<Vec<Check>, Failure> {
    let mut checks: Vec<Check> = evident_secrets::builtin_rules()?
        .into_iter()
        .map(|r| r.check)
        .collect();
    checks.sort_by(|a, b| (&a.scanner, &a.id).cmp(&(&b.scanner, &b.id)));
    Ok(checks)
}

/// Does `reference` (`soc2:CC6.1` or bare `CC6.1`) name one of `controls`?
fn supports(controls: &[String], reference: &str) -> bool {
    controls.iter().any(|c| {
        c.eq_ignore_ascii_case(reference)
            || c.rsplit_once(':')
                .is_some_and(|(_, id)| id.eq_ignore_ascii_case(reference))
    })
}

pub fn run(args: &ChecksArgs) -> Result<Outcome, Failure> {
    let mut checks = all_checks()?;
    if let Some(scanner) = &args.scanner {
        checks.retain(|c| c.scanner == *scanner);
        if checks.is_empty() {
            return Err(anyhow::anyhow!(
                "no checks for scanner `{scanner}`; scanners with checks: secrets"
            )
            .into());
        }
    }
    if let Some(control) = &args.control {
        checks.retain(|c| supports(&c.controls, control));
    }
    let text = match args.format {
        ListFormat::Json => {
            let mut t = serde_json::to_string_pretty(&checks)?;
            t.push('\n');
            t
        }
        ListFormat::Human => {
            let mut t = String::new();
            for c in &checks {
                let _ = writeln!(
                    t,
                    "{:<48} {:<8} {:<8} {}",
                    c.id, c.severity, c.scanner, c.title
                );
                let labels: Vec<String> = c
                    .controls
                    .iter()
                    .map(|r| evident_controls::label(r))
                    .collect();
                let _ = writeln!(t, "{:<48} controls: {}", "", labels.join(", "));
            }
            let _ = writeln!(t, "{} checks", checks.len());
            t
        }
    };
    super::print(&text)?;
    Ok(Outcome::Clean)
}
