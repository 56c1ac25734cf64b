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
        let own = super::scan::OwnScan {
            tool: "evident scan pipeline",
            name: "pipeline",
            category: "pipeline",
            controls: &["soc2:CC8.1", "iso27001:A.8.25", "iso27001:A.8.32"],
            what: "pipeline scan",
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

/// Reads a settings export, with the file named in errors.
fn read_settings(file: &Path) -> Result<evident_pipeline::settings::RepositorySettings, Failure> {
    evident_pipeline::settings::read_settings(file).map_err(|e| anyhow!("{e}").into())
}

/// The findings of a settings export under the `[pipeline]` policy.
fn settings_report(
    file: &Path,
    settings: &evident_pipeline::settings::RepositorySettings,
    config: &Config,
    default_branch: Option<&str>,
) -> Result<evident_core::ScanReport, Failure> {
    let mut options = options(config)?;
    if let Some(b) = default_branch
        && config.pipeline.default_branch.is_none()
    {
        b.clone_into(&mut options.default_branch);
    }
    let label = file.display().to_string();
    let mut report = evident_core::ScanReport {
        scanner: evident_pipeline::SCANNER.to_owned(),
        root: label.clone(),
        ..evident_core::ScanReport::default()
    };
    report.findings = evident_pipeline::settings::check_settings(
        settings,
        &label,
        &options,
        config.pipeline.min_approvals.unwrap_or(1),
        &config.pipeline.required_status_checks,
    );
    report.stats.files = 1;
    report.sort();
    Ok(report)
}

pub fn settings(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    args: &crate::cli::SettingsArgs,
) -> Result<Outcome, Failure> {
    let started = Instant::now();
    let config = context::project_config(config_path)?;
    let (label, settings, live_branch) = match (&args.file, &args.github) {
        (Some(file), _) => (file.clone(), read_settings(file)?, None),
        (None, Some(repo)) => {
            let (label, settings) = fetch_github(repo)?;
            let branch = settings.branches.keys().next().cloned();
            (label, settings, branch)
        }
        (None, None) => fail!("name a settings FILE or --github OWNER/REPO"),
    };
    let mut report = settings_report(&label, &settings, &config, live_branch.as_deref())?;
    report.started_at = evident_store::timefmt::format(context::now());
    let threshold = args
        .output
        .fail_on
        .or(config.scan.fail_on)
        .unwrap_or(Severity::Low);
    if args.record {
        let commit = context::current_commit(Path::new("."))?;
        let own = super::scan::OwnScan {
            tool: "evident scan settings",
            name: "settings",
            category: "pipeline",
            controls: &["soc2:CC8.1", "iso27001:A.8.32"],
            what: "settings scan",
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

/// Reads the default branch's protection of `repo` from the GitHub REST API.
fn fetch_github(
    repo: &str,
) -> Result<(PathBuf, evident_pipeline::settings::RepositorySettings), Failure> {
    use evident_pipeline::settings::{BranchProtection, RepositorySettings};

    if repo.split('/').filter(|p| !p.is_empty()).count() != 2 {
        fail!("--github {repo}: expected OWNER/REPO, e.g. acme/payments-api");
    }
    let token = ["GITHUB_TOKEN", "GH_TOKEN"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|t| !t.trim().is_empty()))
        .ok_or_else(|| {
            anyhow!(
                "--github needs a token with read access to the repository's administration settings in GITHUB_TOKEN (or GH_TOKEN)"
            )
        })?;
    let base = std::env::var("EVIDENT_GITHUB_API_URL")
        .unwrap_or_else(|_| "https://api.github.com".to_owned());
    let base = base.trim_end_matches('/');
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_mins(1)))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let get = |url: &str| -> Result<(u16, String), Failure> {
        let mut response = agent
            .get(url)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .header("User-Agent", concat!("evident/", env!("CARGO_PKG_VERSION")))
            .call()
            .map_err(|e| anyhow!("GET {url}: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .map_err(|e| anyhow!("GET {url}: {e}"))?;
        Ok((status, body))
    };
    let repo_url = format!("{base}/repos/{repo}");
    let (status, body) = get(&repo_url)?;
    if status != 200 {
        fail!(
            "GET {repo_url}: HTTP {status}: {}",
            body.chars().take(200).collect::<String>()
        );
    }
    let info: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| anyhow!("GET {repo_url}: {e}"))?;
    let branch = info["default_branch"]
        .as_str()
        .ok_or_else(|| anyhow!("GET {repo_url}: no default_branch in the answer"))?
        .to_owned();
    let url = format!("{base}/repos/{repo}/branches/{branch}/protection");
    let label = PathBuf::from(format!("github:{repo}"));
    let (status, body) = get(&url)?;
    match status {
        200 => {
            let wrapped = serde_json::json!({ "branch": branch, "protection": serde_json::from_str::<serde_json::Value>(&body).map_err(|e| anyhow!("GET {url}: {e}"))? });
            let settings = evident_pipeline::settings::parse_settings(
                &serde_json::to_string_pretty(&wrapped)?,
                &label.display().to_string(),
            )
            .map_err(|e| anyhow!("{e}"))?;
            Ok((label, settings))
        }
        404 if body.contains("not protected") => {
            let mut settings = RepositorySettings {
                platform: "github".to_owned(),
                ..RepositorySettings::default()
            };
            settings
                .branches
                .insert(branch, BranchProtection::default());
            Ok((label, settings))
        }
        _ => fail!(
            "GET {url}: HTTP {status}: {} (the token needs the repository's administration read permission)",
            body.chars().take(200).collect::<String>()
        ),
    }
}

/// The posture of a repository now: its pipeline findings, and its settings when given.
fn posture(
    root: &Path,
    settings_file: Option<&Path>,
    config: &Config,
) -> Result<evident_pipeline::drift::Posture, Failure> {
    let report = evident_pipeline::scan(root, &options(config)?);
    if let Some(e) = report.errors.first() {
        fail!(
            "{}: {} (the posture cannot be taken from a pipeline that does not parse)",
            e.path,
            e.message
        );
    }
    let settings = settings_file.map(read_settings).transpose()?;
    Ok(evident_pipeline::drift::Posture::new(&report, settings))
}

pub fn drift(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    command: &crate::cli::DriftCommand,
) -> Result<Outcome, Failure> {
    use std::collections::BTreeMap;

    use evident_ledger::record::{BlobRef, EvidenceKind};
    use evident_ledger::statement::predicate_type;
    use evident_pipeline::drift;

    let (args, is_baseline) = match command {
        crate::cli::DriftCommand::Baseline(a) => (a, true),
        crate::cli::DriftCommand::Check(a) => (a, false),
    };
    let started = Instant::now();
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let (config, _) = super::scan::load_config(None, &root)?;
    let config = match config_path {
        Some(p) => Config::load(p)?,
        None => config,
    };
    let now_posture = posture(&root, args.settings.as_deref(), &config)?;
    let commit = context::current_commit(&root)?;
    let record =
        |action: &str, extra: serde_json::Value, content: Vec<u8>| -> Result<u64, Failure> {
            let mut predicate = serde_json::Map::new();
            predicate.insert("action".into(), serde_json::json!(action));
            if let serde_json::Value::Object(m) = extra {
                predicate.extend(m);
            }
            let now = context::now();
            let draft = super::record::Draft {
                kind: EvidenceKind::Drift,
                subject: format!("git:{commit}"),
                controls: drift::check().controls,
                actor: context::actor(None),
                now,
                retain_until: context::retain_until(None, &config, now)?,
                labels: BTreeMap::from([("type".to_owned(), action.to_owned())]),
                predicate_type: predicate_type::EVIDENT_DRIFT_V1.to_owned(),
                predicate,
                content: vec![(
                    BlobRef {
                        sha256: String::new(),
                        size: 0,
                        media_type: "application/json".into(),
                        name: Some(format!("posture-{action}.json")),
                    },
                    content,
                )],
            };
            Ok(super::record::append(store_opt, &args.key, draft.build()?)?.0)
        };
    let posture_json = serde_json::to_vec_pretty(&now_posture)?;
    if is_baseline {
        let seq = record("baseline", serde_json::json!({}), posture_json)?;
        eprintln!(
            "recorded the posture ({} pipeline findings{}) as the drift baseline, entry {seq}",
            now_posture.pipeline.len(),
            now_posture
                .settings
                .as_ref()
                .map(|s| format!(", {} protected branch(es)", s.branches.len()))
                .unwrap_or_default()
        );
        return Ok(Outcome::Clean);
    }
    // The latest baseline, verified.
    let log = super::verified::VerifiedLog::open(store_opt, &args.vkey, &config)?;
    let q = evident_store::index::Query {
        kind: Some(EvidenceKind::Drift.as_str().to_owned()),
        ..evident_store::index::Query::default()
    };
    let baseline = log
        .entries(&q)?
        .into_iter()
        .rev()
        .find(|(_, e)| e.record.labels.get("type").map(String::as_str) == Some("baseline"));
    let Some((seq, entry)) = baseline else {
        fail!("no drift baseline in the ledger: record one with `evident drift baseline`");
    };
    let blob = entry
        .record
        .blobs
        .iter()
        .find(|b| b.name.as_deref() == Some("posture-baseline.json"))
        .ok_or_else(|| anyhow!("entry {seq}: the baseline has no posture content"))?;
    let base: drift::Posture = serde_json::from_slice(&log.blob(seq, blob)?)
        .map_err(|e| anyhow!("entry {seq}: the baseline posture does not parse: {e}"))?;
    if base.settings.is_some() && now_posture.settings.is_none() {
        eprintln!(
            "note: the baseline (entry {seq}) has repository settings; pass --settings FILE to compare them"
        );
    }
    let changes = drift::compare(&base, &now_posture);
    let settings_label = args.settings.as_ref().map(|p| p.display().to_string());
    let mut report = evident_core::ScanReport {
        scanner: evident_pipeline::SCANNER.to_owned(),
        root: root.display().to_string(),
        started_at: evident_store::timefmt::format(context::now()),
        findings: drift::findings(&changes, &now_posture, settings_label.as_deref()),
        ..evident_core::ScanReport::default()
    };
    for c in changes.iter().filter(|c| !c.weakening) {
        report
            .notes
            .push(format!("strengthened: {}: {} → {}", c.what, c.from, c.to));
    }
    report
        .notes
        .push(format!("compared with the baseline of entry {seq}"));
    report.sort();
    if args.record {
        let out = record(
            "check",
            serde_json::json!({ "baseline": seq, "changes": changes }),
            posture_json,
        )?;
        eprintln!("recorded the drift check as evidence entry {out}");
    }
    if let Some(url) = &args.notify {
        let weakenings: Vec<&drift::Change> = changes.iter().filter(|c| c.weakening).collect();
        if !weakenings.is_empty() {
            notify(url, &root, seq, &weakenings)?;
        }
    }
    let threshold = args.output.fail_on.unwrap_or(Severity::Low);
    super::scan::emit(
        &report,
        &args.output,
        threshold,
        started.elapsed().as_secs_f64(),
    )
}

/// Posts the weakenings to a Slack-compatible incoming webhook (`{"text": …}`).
fn notify(
    url: &str,
    root: &Path,
    baseline: u64,
    weakenings: &[&evident_pipeline::drift::Change],
) -> Result<(), Failure> {
    let name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| root.display().to_string());
    let mut text = format!(
        ":warning: *evident drift* in `{name}`: {} weakening(s) since the baseline (entry {baseline})",
        weakenings.len()
    );
    for c in weakenings {
        text.push_str(&format!("\n• {}: {} → {}", c.what, c.from, c.to));
    }
    let body = serde_json::json!({ "text": text });
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .new_agent();
    agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(serde_json::to_vec(&body)?.as_slice())
        .map_err(|e| anyhow!("--notify: POST to the webhook failed: {e}"))?;
    eprintln!("notified the webhook of {} weakening(s)", weakenings.len());
    Ok(())
}
