//! `evident scan iac`: Terraform, Kubernetes, Dockerfile and CloudFormation checked against
//! the controls.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use evident_core::{Config, Severity};
use evident_iac::Options;

use super::context;
use crate::cli::{Format, IacArgs};
use crate::{Failure, Outcome};

/// The IaC policy from `[iac]` in evident.toml and the command line. Relative `var_files` in
/// the config are relative to the config's directory.
fn options(config: &Config, base: &Path, args: &IacArgs) -> Result<Options, Failure> {
    let mut vars = Vec::new();
    for v in &args.vars {
        let Some((name, value)) = v.split_once('=') else {
            fail!("--var {v}: write NAME=VALUE, e.g. --var environment=prod");
        };
        let name = name.trim();
        if name.is_empty() {
            fail!("--var {v}: the variable name is empty; write NAME=VALUE");
        }
        vars.push((name.to_owned(), value.to_owned()));
    }
    let mut var_files: Vec<PathBuf> = config.iac.var_files.iter().map(|f| base.join(f)).collect();
    var_files.extend(args.var_files.iter().cloned());
    for f in &var_files {
        if !f.is_file() {
            fail!(
                "variable file {} does not exist (from --var-file or [iac] var_files)",
                f.display()
            );
        }
    }
    let mut approved_registries = config.iac.approved_registries.clone();
    approved_registries.extend(args.approved_registries.iter().cloned());
    Ok(Options {
        approved_registries,
        evidence_buckets: config.iac.evidence_buckets.clone(),
        var_files,
        vars,
    })
}

pub fn scan(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    args: &IacArgs,
) -> Result<Outcome, Failure> {
    let started = Instant::now();
    if args.output.format == Format::Cyclonedx {
        return Err(anyhow!(
            "--format cyclonedx is for `evident scan deps`; use human, json, sarif or junit here"
        )
        .into());
    }
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let stdin = root.as_os_str() == "-";
    if !stdin && !root.exists() {
        fail!(
            "{}: no such file or directory (point at a repository, a directory of Terraform or manifests, or a file; `-` reads standard input)",
            root.display()
        );
    }
    let dir = if stdin || root.is_dir() {
        if stdin {
            PathBuf::from(".")
        } else {
            root.clone()
        }
    } else {
        root.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let (config, base) = super::scan::load_config(config_path, &dir)?;
    let options = options(&config, &base, args)?;
    let mut report = if stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| anyhow!("cannot read standard input: {e}"))?;
        evident_iac::scan_stdin(&text, &options)
    } else {
        evident_iac::scan(&root, &options)
    };
    report.started_at = evident_store::timefmt::format(context::now());
    let threshold = args
        .output
        .fail_on
        .or(config.scan.fail_on)
        .unwrap_or(Severity::Low);
    if args.record {
        let commit = context::current_commit(&dir)?;
        let own = super::scan::OwnScan {
            tool: "evident scan iac",
            name: "iac",
            category: "iac",
            controls: &[
                "soc2:CC8.1",
                "soc2:CC7.1",
                "soc2:CC6.1",
                "iso27001:A.8.9",
                "iso27001:A.8.25",
            ],
            what: "IaC scan",
        };
        super::scan::record_own_scan(
            store_opt, &args.key, &report, threshold, &config, &commit, &own,
        )?;
    }
    super::scan::emit(
        &report,
        &args.output,
        threshold,
        started.elapsed().as_secs_f64(),
    )
}
