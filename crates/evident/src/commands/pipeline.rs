//! `evident scan pipeline`: CI definitions checked against the change-management controls.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use evident_core::{Config, Severity};
use evident_pipeline::Options;
use evident_pipeline::stages::Stage;

use super::context;
use crate::cli::PipelineArgs;
use crate::{Failure, Outcome};

/// The pipeline policy from `[pipeline]` in evident.toml.
pub fn options(config: &Config) -> Result<Options, Failure> {
    let mut o = Options::default();
    let p = &config.pipeline;
    if let Some(stages) = &p.required_stages {
        o.required_stages = stages
            .iter()
            .map(|s| {
                s.parse::<Stage>()
                    .map_err(|e| anyhow!("[pipeline] required_stages: {e}"))
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(days) = p.min_retention_days {
        o.min_retention_days = days;
    }
    if let Some(branch) = &p.default_branch {
        o.default_branch.clone_from(branch);
    }
    if let Some(envs) = &p.production_environments {
        o.production_environments.clone_from(envs);
    }
    Ok(o)
}

pub fn scan(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    args: &PipelineArgs,
) -> Result<Outcome, Failure> {
    let started = Instant::now();
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !root.is_dir() {
        fail!(
            "{}: not a directory (point at a repository)",
            root.display()
        );
    }
    let (config, _) = super::scan::load_config(config_path, &root)?;
    let options = options(&config)?;
    let mut report = evident_pipeline::scan(&root, &options);
    report.started_at = evident_store::timefmt::format(context::now());
    let threshold = args
        .output
        .fail_on
        .or(config.scan.fail_on)
        .unwrap_or(Severity::Low);
    if args.record {
        let commit = context::current_commit(&root)?;
        let recorded = super::scan::RecordedScan {
            subject: format!("git:{commit}"),
            category: "pipeline".to_owned(),
            tool: "evident scan pipeline".to_owned(),
            tool_uri: "https://evident.dev/scanners/pipeline".to_owned(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            controls: vec![
                "soc2:CC8.1".into(),
                "iso27001:A.8.25".into(),
                "iso27001:A.8.32".into(),
            ],
            annotations: serde_json::Map::new(),
        };
        let seq = super::scan::record_report(
            store_opt, &args.key, &report, threshold, &config, &recorded,
        )?;
        eprintln!("recorded the pipeline scan as evidence entry {seq} for commit {commit}");
    }
    super::scan::emit(
        &report,
        &args.output,
        threshold,
        started.elapsed().as_secs_f64(),
    )
}
