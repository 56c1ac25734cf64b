//! `evident sbom`, `evident db import|update|status` and `evident scan deps`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, anyhow};
use evident_core::{Config, Finding, Location, ScanReport, Severity};
use evident_deps::model::{Inventory, Package};
use evident_deps::sbom::{self, SbomMeta};
use evident_ledger::record::{BlobRef, EvidenceKind};
use evident_ledger::statement::predicate_type;

use super::context;
use crate::cli::{SbomArgs, SbomFormat};
use crate::{Failure, Outcome};

/// What was scanned: a project's lockfiles or an image's packages.
pub struct Target {
    pub inventory: Inventory,
    /// Packages as advisories name them (an image's source packages; a project's own).
    pub match_packages: Vec<Package>,
    /// The OSV ecosystem of an image's distribution (`Debian:12`), when known.
    pub os: Option<sbom::OperatingSystem>,
    pub name: String,
}

fn is_image_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let ext = |e: &str| Path::new(&name).extension().is_some_and(|x| x == e);
    path.is_file() && (ext("tar") || ext("tgz") || (ext("gz") && name.ends_with(".tar.gz")))
}

/// Reads the inventory of `path`: an image tarball (or `--image` directory), else lockfiles.
pub fn load_target(path: &Path, force_image: bool, config: &Config) -> Result<Target, Failure> {
    if !path.exists() {
        fail!("{}: no such file or directory", path.display());
    }
    let default_name = || {
        config.project.name.clone().unwrap_or_else(|| {
            path.canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "project".to_owned())
        })
    };
    if force_image || is_image_file(path) {
        let image = evident_deps::image::scan_image(path)
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let match_packages = image.osv_packages();
        let os = image.os.as_ref().map(|o| sbom::OperatingSystem {
            name: o.id.clone(),
            version: o.version_id.clone(),
        });
        let name = path
            .file_name()
            .map_or_else(default_name, |n| n.to_string_lossy().into_owned());
        let inventory = Inventory {
            packages: image.packages,
            files: BTreeMap::new(),
            notes: image.notes,
            errors: Vec::new(),
        };
        return Ok(Target {
            inventory,
            match_packages,
            os,
            name,
        });
    }
    let inventory = evident_deps::lockfile::scan(path);
    let match_packages = inventory.packages.clone();
    Ok(Target {
        inventory,
        match_packages,
        os: None,
        name: default_name(),
    })
}

/// SBOM metadata for a target, made now, with a serial derived from what it describes.
pub fn meta(target: &Target) -> Result<SbomMeta, Failure> {
    let now = context::now();
    let mut seed = serde_json::to_vec(&target.inventory.packages)?;
    seed.extend_from_slice(target.name.as_bytes());
    seed.extend_from_slice(now.to_string().as_bytes());
    let mut m = SbomMeta::new(
        target.name.clone(),
        now,
        sbom::serial_from(&seed),
        env!("CARGO_PKG_VERSION"),
    );
    m.os.clone_from(&target.os);
    Ok(m)
}

fn warn_incomplete(inv: &Inventory) -> Result<(), Failure> {
    for note in &inv.notes {
        eprintln!("note: {note}");
    }
    if let Some(first) = inv.errors.first() {
        fail!(
            "{} lockfile(s) could not be read (first: {first}); the inventory is incomplete",
            inv.errors.len()
        );
    }
    Ok(())
}

pub fn sbom_command(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    args: &SbomArgs,
) -> Result<Outcome, Failure> {
    let config = context::project_config(config_path)?;
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut target = load_target(&path, args.image, &config)?;
    if let Some(name) = &args.name {
        target.name.clone_from(name);
    }
    warn_incomplete(&target.inventory)?;
    if target.inventory.packages.is_empty() {
        eprintln!(
            "note: no packages found under {} (lockfiles evident reads: Cargo.lock, package-lock.json, yarn.lock, pnpm-lock.yaml, go.mod, composer.lock, poetry.lock, uv.lock, Pipfile.lock, requirements*.txt, Gemfile.lock, packages.lock.json, gradle.lockfile, pom.xml)",
            path.display()
        );
    }
    let m = meta(&target)?;
    let (doc, media_type, file_name) = match args.format {
        SbomFormat::Cyclonedx => (
            sbom::cyclonedx(&target.inventory, &m, &[]),
            "application/vnd.cyclonedx+json",
            "sbom.cdx.json",
        ),
        SbomFormat::Spdx => (
            sbom::spdx(&target.inventory, &m),
            "application/spdx+json",
            "sbom.spdx.json",
        ),
    };
    let text = format!("{}\n", serde_json::to_string_pretty(&doc)?);
    if args.record {
        record_sbom(
            store_opt,
            &config,
            &args.key,
            &doc,
            &text,
            args.format,
            media_type,
            file_name,
        )?;
    }
    match &args.output {
        Some(out) => {
            std::fs::write(out, &text)
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "wrote {} ({} packages) to {}",
                file_name,
                target.inventory.packages.len(),
                out.display()
            );
        }
        None => super::print(&text)?,
    }
    Ok(Outcome::Clean)
}

/// Records an SBOM for the current commit: an in-toto statement with the CycloneDX or SPDX
/// predicate (the document itself), and the document as content.
#[allow(clippy::too_many_arguments)]
fn record_sbom(
    store_opt: Option<&Path>,
    config: &Config,
    key: &crate::cli::KeyArgs,
    doc: &serde_json::Value,
    text: &str,
    format: SbomFormat,
    media_type: &str,
    file_name: &str,
) -> Result<u64, Failure> {
    let subject = context::subject_or_head(None)?;
    let serde_json::Value::Object(predicate) = doc.clone() else {
        fail!("internal: the SBOM is not a JSON object");
    };
    let now = context::now();
    let draft = super::record::Draft {
        kind: EvidenceKind::Sbom,
        subject: subject.clone(),
        controls: evident_deps::checks::CONTROLS
            .iter()
            .map(|c| (*c).to_owned())
            .collect(),
        actor: context::actor(None),
        now,
        retain_until: context::retain_until(None, config, now)?,
        labels: BTreeMap::from([(
            "format".to_owned(),
            match format {
                SbomFormat::Cyclonedx => "cyclonedx",
                SbomFormat::Spdx => "spdx",
            }
            .to_owned(),
        )]),
        predicate_type: match format {
            SbomFormat::Cyclonedx => predicate_type::CYCLONEDX_BOM,
            SbomFormat::Spdx => predicate_type::SPDX_DOCUMENT,
        }
        .to_owned(),
        predicate,
        content: vec![(
            BlobRef {
                sha256: String::new(),
                size: 0,
                media_type: media_type.to_owned(),
                name: Some(file_name.to_owned()),
            },
            text.as_bytes().to_vec(),
        )],
    };
    let (seq, _) = super::record::append(store_opt, key, draft.build()?)?;
    eprintln!("recorded the SBOM as evidence entry {seq} for {subject}");
    Ok(seq)
}

/// The licence findings of an inventory under the `[deps]` policy.
pub fn licence_findings(inv: &Inventory, config: &Config) -> Vec<Finding> {
    let policy = sbom::LicensePolicy {
        deny: config.deps.deny_licenses.clone(),
        allow: config.deps.allow_licenses.clone(),
    };
    if policy.deny.is_empty() && policy.allow.is_empty() {
        return Vec::new();
    }
    let Some(check) = evident_deps::checks::get(evident_deps::checks::DENIED_LICENSE) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in &inv.packages {
        if p.licenses.is_empty() {
            continue;
        }
        if let sbom::Verdict::Denied { because } = policy.evaluate_all(&p.licenses) {
            let location = Location {
                resource: Some(p.purl.clone()),
                ..Location::file(p.source.clone())
            };
            out.push(
                Finding::builder(&check, location)
                    .message(format!(
                        "{} {} is licensed {}: {}",
                        p.name,
                        p.version,
                        p.licenses.join(" AND "),
                        because.join("; ")
                    ))
                    .identity(&[p.purl.as_bytes()])
                    .build(),
            );
        }
    }
    out
}

/// Elapsed seconds since `t`.
pub fn seconds(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// The default OSV database path: `[deps] db`, else `<store>/osv.sqlite`.
pub fn db_path(explicit: Option<&Path>, store_opt: Option<&Path>, config: &Config) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = &config.deps.db {
        return p.clone();
    }
    context::store_dir(store_opt).join("osv.sqlite")
}

/// A report of a dependency scan with the scanner's name.
pub fn empty_report(root: &Path) -> ScanReport {
    ScanReport {
        scanner: evident_deps::checks::SCANNER.to_owned(),
        root: root.display().to_string(),
        ..ScanReport::default()
    }
}

/// The severity of a CVSS-less advisory.
pub const DEFAULT_SEVERITY: Severity = Severity::Medium;

pub fn db_command(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    command: &crate::cli::DbCommand,
) -> Result<Outcome, Failure> {
    use crate::cli::{DbCommand, ListFormat};
    let config = context::project_config(config_path)?;
    match command {
        DbCommand::Import { source, db } => {
            let path = db_path(db.db.as_deref(), store_opt, &config);
            ensure_parent(&path)?;
            let started = Instant::now();
            let osv = evident_deps::osv::Db::open(&path)
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            let summary = osv
                .import(source, context::now())
                .map_err(|e| anyhow!("{}: {e}", source.display()))?;
            eprintln!(
                "imported {summary} from {} into {} in {:.2} s",
                source.display(),
                path.display(),
                seconds(started)
            );
            Ok(Outcome::Clean)
        }
        DbCommand::Update {
            base_url,
            ecosystems,
            db,
        } => {
            let path = db_path(db.db.as_deref(), store_opt, &config);
            ensure_parent(&path)?;
            let base = base_url
                .clone()
                .or_else(|| config.deps.osv_base_url.clone())
                .unwrap_or_else(|| "https://osv-vulnerabilities.storage.googleapis.com".to_owned());
            let ecosystems: Vec<String> = if ecosystems.is_empty() {
                config.deps.ecosystems.clone()
            } else {
                ecosystems.clone()
            };
            if ecosystems.is_empty() {
                fail!(
                    "name the ecosystems to download: --ecosystem PyPI --ecosystem npm …, or `[deps] ecosystems` in evident.toml"
                );
            }
            let osv = evident_deps::osv::Db::open(&path)
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            let names: Vec<&str> = ecosystems.iter().map(String::as_str).collect();
            let started = Instant::now();
            let summary = evident_deps::osv::update(&osv, &base, &names, context::now())
                .map_err(|e| anyhow!("{e}"))?;
            eprintln!(
                "updated {} from {base} ({}) in {:.2} s: {summary}",
                path.display(),
                ecosystems.join(", "),
                seconds(started)
            );
            Ok(Outcome::Clean)
        }
        DbCommand::Status { db, format } => {
            let path = db_path(db.db.as_deref(), store_opt, &config);
            if !path.is_file() {
                fail!(
                    "no OSV database at {}: load advisories with `evident db import PATH|ZIP` or `evident db update --ecosystem …`",
                    path.display()
                );
            }
            let osv = evident_deps::osv::Db::open(&path)
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            let status = osv.status().map_err(|e| anyhow!("{e}"))?;
            let text = match format {
                ListFormat::Json => format!("{}\n", serde_json::to_string_pretty(&status)?),
                ListFormat::Human => format!("{}: {status}", path.display()),
            };
            super::print(&text)?;
            Ok(Outcome::Clean)
        }
    }
}

fn ensure_parent(path: &Path) -> Result<(), Failure> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(())
}

/// Severity of a match: its CVSS score, else the advisory's own rating, else medium;
/// informational advisories (unmaintained, unsound) are low.
fn match_severity(m: &evident_deps::osv::Match) -> Severity {
    if m.informational.is_some() {
        return Severity::Low;
    }
    m.severity.unwrap_or(DEFAULT_SEVERITY)
}

/// Findings for the advisories that apply to `packages`.
fn vulnerability_findings(
    packages: &[Package],
    matches: &[evident_deps::osv::Match],
) -> Vec<Finding> {
    use evident_deps::checks::{INFORMATIONAL_ADVISORY, VULNERABLE_DEPENDENCY, get};
    let mut out = Vec::new();
    for m in matches {
        let Some(p) = packages.get(m.package) else {
            continue;
        };
        let id = if m.informational.is_some() {
            INFORMATIONAL_ADVISORY
        } else {
            VULNERABLE_DEPENDENCY
        };
        let Some(check) = get(id) else { continue };
        let also = if m.aliases.is_empty() {
            String::new()
        } else {
            format!(" ({})", m.aliases.join(", "))
        };
        let kind = m
            .informational
            .as_ref()
            .map(|k| format!(" [{k}]"))
            .unwrap_or_default();
        let message = format!(
            "{} {} {}: {}{also}{kind}{}",
            p.name,
            p.version,
            if m.informational.is_some() {
                "has an advisory"
            } else {
                "is vulnerable"
            },
            m.id,
            if m.summary.is_empty() {
                String::new()
            } else {
                format!(" — {}", m.summary)
            }
        );
        let fix = match &m.fixed {
            Some(v) => format!(
                "Upgrade {} to {v} or later and regenerate the lockfile.",
                p.name
            ),
            None => format!(
                "No fixed version of {} is published for {}: replace the package, or accept the risk with a time-boxed exception.",
                p.name, m.id
            ),
        };
        let location = Location {
            resource: Some(p.purl.clone()),
            ..Location::file(p.source.clone())
        };
        let mut f = Finding::builder(&check, location)
            .message(message)
            .severity(match_severity(m))
            .identity(&[p.purl.as_bytes(), m.id.as_bytes()])
            .build();
        f.fix = fix;
        out.push(f);
    }
    out
}

pub fn scan_deps(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    args: &crate::cli::DepsArgs,
) -> Result<Outcome, Failure> {
    use crate::cli::Format;
    let started = Instant::now();
    let config = context::project_config(config_path)?;
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let target = load_target(&path, args.image, &config)?;
    let db = db_path(args.db.db.as_deref(), store_opt, &config);
    if !db.is_file() {
        fail!(
            "no OSV database at {}: load advisories first with `evident db import PATH|ZIP` (offline) or `evident db update --ecosystem …`, or point --db at one",
            db.display()
        );
    }
    let osv = evident_deps::osv::Db::open(&db).map_err(|e| anyhow!("{}: {e}", db.display()))?;
    let matches = osv
        .match_packages(&target.match_packages)
        .map_err(|e| anyhow!("{e}"))?;
    let mut report = empty_report(&path);
    report.started_at = evident_store::timefmt::format(context::now());
    report.findings = vulnerability_findings(&target.match_packages, &matches);
    report
        .findings
        .extend(licence_findings(&target.inventory, &config));
    report.notes.clone_from(&target.inventory.notes);
    report.errors = target
        .inventory
        .errors
        .iter()
        .map(|e| evident_core::ScanError {
            path: e.path.clone(),
            message: match e.line {
                Some(line) => format!("line {line}: {}", e.message),
                None => e.message.clone(),
            },
        })
        .collect();
    report.stats.files = target.inventory.files.len() as u64;
    report.sort();
    let threshold = args
        .output
        .fail_on
        .or(config.scan.fail_on)
        .unwrap_or(Severity::Low);
    if args.record {
        let commit = context::current_commit(if path.is_dir() { &path } else { Path::new(".") })?;
        let own = super::scan::OwnScan {
            tool: "evident scan deps",
            name: "deps",
            category: "sca",
            controls: evident_deps::checks::CONTROLS,
            what: "dependency scan",
        };
        super::scan::record_own_scan(
            store_opt, &args.key, &report, threshold, &config, &commit, &own,
        )?;
    }
    if args.output.format == Format::Cyclonedx {
        let m = meta(&target)?;
        let vulns: Vec<sbom::Vulnerability> = matches
            .iter()
            .filter(|m| m.informational.is_none())
            .filter_map(|m| {
                let p = target.match_packages.get(m.package)?;
                Some(sbom::Vulnerability {
                    id: m.id.clone(),
                    aliases: m.aliases.clone(),
                    summary: Some(m.summary.clone()).filter(|s| !s.is_empty()),
                    severity: m.severity.map(|s| s.to_string()),
                    cvss_vector: m.cvss.clone(),
                    fixed: m.fixed.clone(),
                    affects_purl: p.purl.clone(),
                    ..sbom::Vulnerability::default()
                })
            })
            .collect();
        let doc = sbom::cyclonedx(&target.inventory, &m, &vulns);
        let text = format!("{}\n", serde_json::to_string_pretty(&doc)?);
        match &args.output.output {
            Some(out) => std::fs::write(out, text)
                .with_context(|| format!("cannot write {}", out.display()))?,
            None => super::print(&text)?,
        }
        let failing = report.active().any(|f| f.severity >= threshold);
        return Ok(if failing {
            Outcome::Findings
        } else {
            Outcome::Clean
        });
    }
    super::scan::emit(&report, &args.output, threshold, seconds(started))
}
