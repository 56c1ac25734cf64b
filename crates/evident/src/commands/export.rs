//! `evident export` (the auditor package) and `evident verify-package`: the options and the
//! output around the package library (evident-package), which builds and verifies packages.
//!
//! The package layout is documented in docs/ledger.md; an independent verifier
//! (scripts/verify_package.py) checks it without any evident code.

use std::path::Path;

use anyhow::{Context as _, anyhow};
use evident_package::{BuildError, Package, PackageReport, Scope, VerifyError};

use super::context::{self, Trust};
use super::record::query;
use crate::cli::{ExportArgs, ListFormat, VerifyPackageArgs};
use crate::{Failure, Outcome};

pub(crate) use evident_package::check_entry;

pub fn export(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    args: &ExportArgs,
) -> Result<Outcome, Failure> {
    let started = std::time::Instant::now();
    let store = context::open_existing_store(store_opt)?;
    let config = context::project_config(config_path)?;
    let (verifier, trust) = context::trusted_verifier(store.root(), &args.vkey, &config)?;
    let q = query(&args.filter)?;
    let scope = Scope {
        control: args.filter.control.clone(),
        subject: args.filter.subject.clone(),
        kind: args.filter.kind.clone(),
        from: args.filter.from.clone(),
        to: args.filter.to.clone(),
    };
    let package = evident_package::build(&store, &verifier, &q, &scope, context::now()).map_err(
        |e| match e {
            BuildError::NothingMatches => {
                anyhow!("{e} (try `evident evidence list` with the same filter)")
            }
            BuildError::ContentGone { .. } => anyhow!("{e}; run `evident ledger verify`"),
            e => anyhow::Error::new(e),
        },
    )?;
    write_package(&args.out, &package)?;
    eprintln!(
        "wrote {} with {} entries ({} files) in {:.2} s; verify it with `evident verify-package {} --vkey '{}'`",
        args.out.display(),
        package.entries(),
        package.files().len(),
        started.elapsed().as_secs_f64(),
        args.out.display(),
        verifier
    );
    if trust == Trust::Store {
        eprintln!("note: the verifier key was {}", trust.describe());
    }
    Ok(Outcome::Clean)
}

/// Writes the package to `path` through a `.partial` file beside it, synced, then renamed.
fn write_package(path: &Path, package: &Package) -> Result<(), Failure> {
    let tmp = path.with_extension("partial");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let file = package.write_tar_gz(file).map_err(anyhow::Error::new)?;
    file.sync_all().context("cannot sync the package")?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub fn verify_package(args: &VerifyPackageArgs) -> Result<Outcome, Failure> {
    let path = &args.package;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let files = evident_package::read_package(file)
        .map_err(|e| anyhow::Error::new(e).context(path.display().to_string()))?;
    let trusted = args.vkey.as_deref().map(context::parse_vkey).transpose()?;
    let report = evident_package::verify_package(&files, trusted.as_ref()).map_err(|e| {
        match e {
            // About a file inside the package, which the message names.
            VerifyError::ManifestFiles(_)
            | VerifyError::PackagedKey { .. }
            | VerifyError::BadKey(_) => anyhow::Error::new(e),
            e => anyhow::Error::new(e).context(path.display().to_string()),
        }
    })?;
    let text = match args.format {
        ListFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        ListFormat::Human => human(&report),
    };
    super::print(&text)?;
    Ok(if report.ok {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

fn human(report: &PackageReport) -> String {
    let mut out = format!(
        "package from ledger {} ({} entries at export)\n  key {}{}\n  {} entries, {} content blobs{}\n",
        report.origin,
        report.log_size,
        report.verifier_key,
        if report.key_trusted {
            " (the trusted key you gave)"
        } else {
            " (taken from the package: compare it with the published key, or pass --vkey)"
        },
        report.entries,
        report.blobs,
        if report.blobs_deleted > 0 {
            format!(
                ", {} deleted after their retention period",
                report.blobs_deleted
            )
        } else {
            String::new()
        }
    );
    for (control, seqs) in &report.controls {
        out.push_str(&format!(
            "  {:<22} {} entries\n",
            evident_controls::label(control),
            seqs.len()
        ));
    }
    if report.ok {
        out.push_str("OK: every file, proof and signature verifies\n");
    } else {
        out.push_str(&format!("FAILED: {} problem(s)\n", report.problems.len()));
        for p in &report.problems {
            out.push_str(&format!("  {}: {}\n", p.file, p.what));
        }
    }
    out
}
