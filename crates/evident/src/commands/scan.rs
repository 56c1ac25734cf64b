//! `evident scan secrets`

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, anyhow};
use evident_core::{Clock as _, Config, ScanReport, Severity, SystemClock};
use evident_secrets::{HistoryRange, Options, Scanner};

use crate::cli::{Format, OutputArgs, SecretsArgs};
use crate::render::{self, RenderOptions};
use crate::{Failure, Outcome};

/// Loads the project configuration: an explicit file, or `evident.toml` in `dir`.
pub fn load_config(explicit: Option<&Path>, dir: &Path) -> Result<(Config, PathBuf), Failure> {
    if let Some(path) = explicit {
        let config = Config::load(path)?;
        let base = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Ok((config, base))
    } else {
        let (config, _) = Config::discover(dir)?;
        Ok((config, dir.to_path_buf()))
    }
}

pub fn secrets(
    evident_config: Option<&Path>,
    store: Option<&Path>,
    args: &SecretsArgs,
) -> Result<Outcome, Failure> {
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if args.output.format == Format::Cyclonedx {
        return Err(anyhow!(
            "--format cyclonedx is for `evident scan deps`; use human, json, sarif or junit here"
        )
        .into());
    }
    if !args.stdin && !root.exists() {
        return Err(anyhow!("{}: no such file or directory", root.display()).into());
    }
    let project_dir = if root.is_dir() {
        root.clone()
    } else {
        PathBuf::from(".")
    };
    let (config, base) = load_config(evident_config, &project_dir)?;

    let mut ignore_files = vec![
        project_dir.join(".evidentignore"),
        project_dir.join(".gitleaksignore"),
    ];
    if let Some(file) = &config.secrets.ignore_file {
        ignore_files.push(base.join(file));
    }
    if let Some(file) = &args.ignore_file {
        if !file.is_file() {
            return Err(anyhow!("--ignore-file {}: no such file", file.display()).into());
        }
        ignore_files.push(file.clone());
    }
    let gitleaks_config = match (&args.config, &config.secrets.config) {
        (Some(cli), _) => Some(cli.clone()),
        (None, Some(from_config)) => Some(base.join(from_config)),
        (None, None) => None,
    };
    let options = Options {
        gitleaks_config,
        ignore_files,
        exclude_paths: config.secrets.exclude.clone(),
        threads: args.threads,
    };
    let scanner = Scanner::new(&options)?;
    let started_at = SystemClock.now().to_string();
    let clock = Instant::now();

    let mut report = if args.stdin {
        let mut data = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut data)
            .context("cannot read standard input")?;
        scanner.scan_input(&args.stdin_name, &data)
    } else if args.staged {
        scanner.scan_staged(&root)?
    } else if let Some(range) = &args.range {
        let (from, to) = range
            .split_once("..")
            .filter(|(a, b)| !a.is_empty() && !b.is_empty())
            .ok_or_else(|| anyhow!("--range `{range}`: expected A..B, e.g. `main..feature`"))?;
        scanner.scan_history(&root, &HistoryRange::Range(from.to_owned(), to.to_owned()))?
    } else if let Some(rev) = &args.since {
        scanner.scan_history(&root, &HistoryRange::Since(rev.clone()))?
    } else if args.history {
        scanner.scan_history(&root, &HistoryRange::All)?
    } else {
        scanner.scan_tree(&root)
    };
    report.started_at = started_at;
    let threshold = args
        .output
        .fail_on
        .or(config.scan.fail_on)
        .unwrap_or(Severity::Low);
    if args.record {
        let dir = if root.is_dir() {
            root.clone()
        } else {
            PathBuf::from(".")
        };
        record_scan(store, &args.key, &report, threshold, &dir, &config)?;
    }
    emit(
        &report,
        &args.output,
        threshold,
        clock.elapsed().as_secs_f64(),
    )
}

/// Records a scan report in the ledger as evidence for the current commit.
fn record_scan(
    store: Option<&Path>,
    key: &crate::cli::KeyArgs,
    report: &ScanReport,
    threshold: Severity,
    dir: &Path,
    config: &Config,
) -> Result<(), Failure> {
    let commit = super::context::current_commit(dir)?;
    let tool = format!("evident {}", report.scanner);
    let own = OwnScan {
        tool: &tool,
        name: &report.scanner,
        category: &report.scanner,
        controls: evident_secrets::rules::DEFAULT_CONTROLS,
        what: "scan",
    };
    record_own_scan(store, key, report, threshold, config, &commit, &own)
}

/// A scan this binary ran, as it is recorded: the tool (`evident scan iac`), its name in the
/// tool URI, the evidence category, the controls it supports, and what to call it in messages.
pub struct OwnScan<'a> {
    pub tool: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    pub controls: &'a [&'a str],
    pub what: &'a str,
}

/// Records the result of one of this binary's scans as evidence for `commit` (what every
/// `evident scan … --record` does) and says so on standard error.
pub fn record_own_scan(
    store: Option<&Path>,
    key: &crate::cli::KeyArgs,
    report: &ScanReport,
    threshold: Severity,
    config: &Config,
    commit: &str,
    own: &OwnScan<'_>,
) -> Result<(), Failure> {
    let recorded = RecordedScan {
        subject: format!("git:{commit}"),
        category: own.category.to_owned(),
        tool: own.tool.to_owned(),
        tool_uri: format!("https://evident.dev/scanners/{}", own.name),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        controls: own.controls.iter().map(|c| (*c).to_owned()).collect(),
        annotations: serde_json::Map::new(),
    };
    let seq = record_report(store, key, report, threshold, config, &recorded)?;
    eprintln!(
        "recorded the {} as evidence entry {seq} for commit {commit}",
        own.what
    );
    Ok(())
}

pub use evident_store::draft::RecordedScan;

/// Records a scan report as an in-toto test-result statement (passed / warned / failed
/// checks) with the JSON report as content; returns the entry. The record is built by
/// [`evident_store::draft::scan_draft`], as the server builds a pushed report's.
pub fn record_report(
    store: Option<&Path>,
    key: &crate::cli::KeyArgs,
    report: &ScanReport,
    threshold: Severity,
    config: &Config,
    scan: &RecordedScan,
) -> Result<u64, Failure> {
    let json_report = render::render(
        report,
        Format::Json,
        &RenderOptions {
            threshold,
            show_suppressed: true,
            seconds: 0.0,
            color: false,
        },
    )?;
    let now = super::context::now();
    let draft = evident_store::draft::scan_draft(
        report,
        threshold,
        scan,
        json_report.into_bytes(),
        super::context::actor(None),
        now,
        super::context::retain_until(None, config, now)?,
    );
    let (seq, _) = super::record::append(store, key, draft.build()?)?;
    Ok(seq)
}

/// Renders `report` and maps it to the exit-code contract.
pub fn emit(
    report: &ScanReport,
    output: &OutputArgs,
    threshold: Severity,
    seconds: f64,
) -> Result<Outcome, Failure> {
    let options = RenderOptions {
        threshold,
        show_suppressed: output.show_suppressed,
        seconds,
        color: output.output.is_none() && output.format == Format::Human,
    };
    let text = render::render(report, output.format, &options)?;
    match &output.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => super::print(&text)?,
    }
    let failing = report.active().any(|f| f.severity >= threshold);
    if failing {
        Ok(Outcome::Findings)
    } else if !report.errors.is_empty() {
        Err(anyhow!(
            "{} input(s) could not be scanned (first: {}: {}); the scan is incomplete",
            report.errors.len(),
            report.errors[0].path,
            report.errors[0].message
        )
        .into())
    } else {
        Ok(Outcome::Clean)
    }
}
