//! `evident import`: another tool's SARIF as findings for a subject, recorded as scan
//! evidence so that SAST, DAST, SCA and IaC results of any tool can satisfy the gate.
//!
//! The SARIF itself is not stored (tools put code snippets and secrets in it): the normalised
//! findings are, with the SARIF's SHA-256 so the import can be matched to its source file.

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, anyhow};
use evident_core::Severity;
use evident_import::{Category, ImportOptions, import_sarif};
use serde_json::json;

use super::context;
use super::scan::{RecordedScan, record_report};
use crate::cli::{ImportArgs, ListFormat};
use crate::{Failure, Outcome};

pub fn run(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    args: &ImportArgs,
) -> Result<Outcome, Failure> {
    let config = context::project_config(config_path)?;
    let origin = args.file.display().to_string();
    let bytes = if origin == "-" {
        let mut data = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut data)
            .context("cannot read standard input")?;
        data
    } else {
        std::fs::read(&args.file).with_context(|| format!("cannot read {origin}"))?
    };
    let mut options = ImportOptions::default();
    for (tool, category) in &config.import.tools {
        let c: Category = category
            .parse()
            .map_err(|e| anyhow!("evident.toml [import.tools] \"{tool}\" = \"{category}\": {e}"))?;
        options.tools.insert(tool.to_ascii_lowercase(), c);
    }
    if let Some(c) = &args.category {
        options.category = Some(c.parse().map_err(|e| anyhow!("--category: {e}"))?);
    }
    options.tool_name.clone_from(&args.tool_name);
    let runs = import_sarif(&bytes, &origin, &options)?;
    if runs.is_empty() {
        fail!("{origin}: the SARIF log has no runs; nothing to import");
    }
    let subject = context::subject_or_head(args.subject.as_deref())?;
    let sarif_sha256 = evident_core::sha256_hex(&bytes);
    let threshold = config.scan.fail_on.unwrap_or(Severity::Low);
    let mut summary = Vec::new();
    for run in &runs {
        let mut annotations = serde_json::Map::new();
        annotations.insert("importedFrom".into(), json!(origin));
        annotations.insert("sarifSha256".into(), json!(sarif_sha256));
        let scan = RecordedScan {
            subject: subject.clone(),
            category: run.category.as_str().to_owned(),
            tool: run.tool.clone(),
            tool_uri: format!("https://evident.dev/import/sarif/{}", run.category.as_str()),
            tool_version: run.tool_version.clone().unwrap_or_default(),
            controls: run.controls(),
            annotations,
        };
        let seq = record_report(store_opt, &args.key, &run.report, threshold, &config, &scan)?;
        let active = run.report.active().count();
        summary.push(json!({
            "entry": seq,
            "tool": run.tool,
            "category": run.category.as_str(),
            "findings": active,
            "suppressed": run.report.findings.len() - active,
            "subject": subject,
        }));
        if args.format == ListFormat::Human {
            eprintln!(
                "imported {active} finding(s) from {} ({}) as evidence entry {seq} for {subject}",
                run.tool,
                run.category.as_str()
            );
            for note in &run.report.notes {
                eprintln!("note: {note}");
            }
        }
    }
    if args.format == ListFormat::Json {
        super::print(&format!("{}\n", serde_json::to_string_pretty(&summary)?))?;
    }
    Ok(Outcome::Clean)
}
