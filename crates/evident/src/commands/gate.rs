//! `evident gate`: read the verified evidence for a subject, decide for an environment, print
//! the decision and record it (with the exact configuration and policies that decided).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use evident_core::Config;
use evident_core::environments::parse_duration;
use evident_gate::decision::{Decision, Gate, PolicyFile, PolicyOutcome, Verdict};
use evident_gate::exception::{self, ExceptionAction, ExceptionRecord};
use evident_gate::input::{BreakGlass, BreakGlassPredicate, EvidenceItem, ReportFile, ScanResult};
use evident_ledger::record::{EvidenceKind, LogEntry};
use evident_ledger::statement::predicate_type;
use evident_store::draft;
use evident_store::index::Query;
use jiff::Timestamp;
use serde_json::json;

use super::context;
use super::verified::VerifiedLog;
use crate::cli::GateArgs;
use crate::{Failure, Outcome};

/// The project configuration and the directory its relative paths are resolved from.
pub fn gate_config(explicit: Option<&Path>) -> Result<(Config, PathBuf), Failure> {
    let here = PathBuf::from(".");
    let (path, base) = if let Some(p) = explicit {
        let base = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| here.clone(), Path::to_path_buf);
        (p.to_path_buf(), base)
    } else {
        let root = context::repo_root(&here).unwrap_or(here);
        (root.join(evident_core::config::FILE_NAME), root)
    };
    if !path.is_file() {
        fail!(
            "no {} at {}: the gate needs environments; run `evident init` for a commented default with dev, staging and prod",
            evident_core::config::FILE_NAME,
            path.display()
        );
    }
    let mut config = Config::load(&path)?;
    // Cite the file as it sits in the project, not as this machine's absolute path.
    config.source.origin = relative(&path, &base);
    Ok((config, base))
}

fn parse_time(text: &str, seq: u64) -> Result<Timestamp, Failure> {
    text.parse()
        .map_err(|e| anyhow!("entry {seq}: recorded_at `{text}` is not a time: {e}").into())
}

/// What the ledger holds about a subject, in the gate's terms.
pub struct Evidence {
    pub records: Vec<EvidenceItem>,
    pub scans: Vec<ScanResult>,
    pub break_glass: Vec<BreakGlass>,
    /// Leaf hashes (hex) of every entry read, by entry.
    pub leaf: BTreeMap<u64, String>,
}

/// Reads every verified record about `subject`.
pub fn read_evidence(log: &VerifiedLog, subject: &str) -> Result<Evidence, Failure> {
    let q = Query {
        subject: Some(subject.to_owned()),
        ..Query::default()
    };
    let mut out = Evidence {
        records: Vec::new(),
        scans: Vec::new(),
        break_glass: Vec::new(),
        leaf: BTreeMap::new(),
    };
    for (seq, entry, leaf) in log.entries_with_leaf(&q)? {
        out.leaf.insert(seq, leaf);
        let r = &entry.record;
        let recorded_at = parse_time(&r.recorded_at, seq)?;
        let item = EvidenceItem {
            entry: seq,
            kind: r.kind.as_str().to_owned(),
            labels: r.labels.clone(),
            actor: r.actor.clone(),
            recorded_at,
            controls: r.controls.clone(),
            predicate_type: r.predicate_type.clone(),
        };
        match r.kind {
            EvidenceKind::Scan => {
                if let Some(scan) = read_scan(log, seq, &entry, recorded_at)? {
                    out.scans.push(scan);
                }
            }
            EvidenceKind::BreakGlass => {
                let p: BreakGlassPredicate = predicate(&entry, seq)?;
                out.break_glass.push(BreakGlass {
                    entry: seq,
                    expires: p
                        .expires
                        .parse()
                        .map_err(|e| anyhow!("entry {seq}: break-glass expiry: {e}"))?,
                    environment: p.environment,
                    requester: p.requester,
                    approver: p.approver,
                    reason: p.reason,
                    granted_at: recorded_at,
                });
            }
            _ => {}
        }
        out.records.push(item);
    }
    Ok(out)
}

/// The signed predicate of an entry, as `T`.
pub fn predicate<T: serde::de::DeserializeOwned>(entry: &LogEntry, seq: u64) -> Result<T, Failure> {
    let statement = evident_ledger::statement::Statement::from_payload(&entry.envelope.payload)
        .map_err(|e| anyhow!("entry {seq}: {e}"))?;
    serde_json::from_value(statement.predicate).map_err(|e| {
        anyhow!(
            "entry {seq}: unexpected {} predicate: {e}",
            entry.record.kind
        )
        .into()
    })
}

/// A scan record's findings, from its JSON report content. Scans without a report (recorded
/// by hand) count as evidence of the scan but carry no findings.
fn read_scan(
    log: &VerifiedLog,
    seq: u64,
    entry: &LogEntry,
    recorded_at: Timestamp,
) -> Result<Option<ScanResult>, Failure> {
    let labels = &entry.record.labels;
    let Some(category) = labels.get("category").or_else(|| labels.get("scanner")) else {
        return Ok(None);
    };
    let tool = labels
        .get("tool")
        .or_else(|| labels.get("scanner"))
        .cloned()
        .unwrap_or_default();
    let report_blob = entry.record.blobs.iter().find(|b| {
        b.media_type == "application/json"
            && b.name
                .as_deref()
                .is_some_and(|n| n.ends_with("report.json"))
    });
    let (findings, errors) = match report_blob {
        Some(blob) => {
            let bytes = log.blob(seq, blob)?;
            let report =
                ReportFile::parse(&bytes, &format!("entry {seq}")).map_err(|e| anyhow!(e))?;
            (report.findings, report.errors.len())
        }
        None => (Vec::new(), 0),
    };
    Ok(Some(ScanResult {
        entry: seq,
        category: category.clone(),
        tool,
        recorded_at,
        findings,
        errors,
    }))
}

/// Every exception in the ledger, resolved (grants and revocations).
pub fn read_exceptions(
    log: &VerifiedLog,
) -> Result<(Vec<exception::Exception>, Vec<String>), Failure> {
    let q = Query {
        kind: Some(EvidenceKind::Exception.as_str().to_owned()),
        ..Query::default()
    };
    let mut records = Vec::new();
    for (seq, entry) in log.entries(&q)? {
        let action: ExceptionAction = predicate(&entry, seq)?;
        records.push(ExceptionRecord {
            entry: seq,
            recorded_at: parse_time(&entry.record.recorded_at, seq)?,
            action,
        });
    }
    Ok(exception::resolve(records))
}

/// Loads the gate policies named in `[gate] policies`.
fn load_policies(
    config: &Config,
    base: &Path,
) -> Result<Option<(evident_gate::rego::GatePolicies, Vec<PolicyFile>)>, Failure> {
    if config.gate.policies.is_empty() {
        return Ok(None);
    }
    let paths: Vec<PathBuf> = config.gate.policies.iter().map(|p| base.join(p)).collect();
    let policies = evident_gate::rego::GatePolicies::load(&paths)
        .map_err(|e| anyhow!("[gate] policies: {e}"))?;
    let files = policies
        .files()
        .iter()
        .map(|(path, sha256)| PolicyFile {
            file: relative(path, base),
            sha256: sha256.clone(),
        })
        .collect();
    Ok(Some((policies, files)))
}

fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

pub fn run(
    store_opt: Option<&Path>,
    config_path: Option<&Path>,
    args: &GateArgs,
) -> Result<Outcome, Failure> {
    let (config, base) = gate_config(config_path)?;
    if !config.environments.contains_key(&args.env) {
        fail!(
            "{}",
            evident_gate::GateError::UnknownEnvironment {
                name: args.env.clone(),
                defined: config.environment_names(),
                file: config.source.origin.clone(),
            }
        );
    }
    let subject = context::subject_or_head(args.subject.as_deref())?;
    let log = VerifiedLog::open(store_opt, &args.vkey, &config)?;
    let now = context::now();
    let policies = load_policies(&config, &base)?;
    let rego_files: Vec<PolicyFile> = policies.as_ref().map(|p| p.1.clone()).unwrap_or_default();

    let mut evidence = read_evidence(&log, &subject)?;
    let (exceptions, exception_notes) = read_exceptions(&log)?;
    let decide = |evidence: &Evidence| -> Result<Decision, Failure> {
        let gate = Gate {
            config: &config,
            environment: &args.env,
            subject: &subject,
            now,
            records: &evidence.records,
            scans: &evidence.scans,
            exceptions: &exceptions,
            break_glass: &evidence.break_glass,
            rego_files: &rego_files,
        };
        let outcomes = match &policies {
            Some((p, _)) => p
                .evaluate(&gate.rego_input()?)
                .map_err(|e| anyhow!("gate policies: {e}"))?
                .into_iter()
                .map(|v| PolicyOutcome {
                    policy: v.policy,
                    rule: v.rule,
                    message: v.message,
                    controls: v.controls,
                    fix: v.fix,
                    file: relative(&v.file, &base),
                })
                .collect(),
            None => Vec::new(),
        };
        let mut d = gate.decide(&outcomes)?;
        d.notes.extend(exception_notes.iter().cloned());
        Ok(d)
    };
    let mut decision = decide(&evidence)?;

    if args.break_glass {
        if decision.decision == Verdict::Pass {
            eprintln!("note: the gate passes without break-glass; none recorded");
        } else {
            break_glass(store_opt, &config, &subject, args, now)?;
            evidence = read_evidence(&log_reopen(store_opt, args, &config)?, &subject)?;
            decision = decide(&evidence)?;
        }
    }

    if !args.no_record {
        let entry = record_decision(store_opt, &config, &base, args, &decision, &evidence, now)?;
        decision.recorded_entry = Some(entry);
    }

    let text = super::gate_render::render(&decision, args.format)?;
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => super::print(&text)?,
    }
    Ok(match decision.decision {
        Verdict::Pass => Outcome::Clean,
        Verdict::Block => Outcome::Findings,
    })
}

fn log_reopen(
    store_opt: Option<&Path>,
    args: &GateArgs,
    config: &Config,
) -> Result<VerifiedLog, Failure> {
    VerifiedLog::open(store_opt, &args.vkey, config)
}

/// Records a break-glass for this subject and environment; returns its entry and leaf hash.
fn break_glass(
    store_opt: Option<&Path>,
    config: &Config,
    subject: &str,
    args: &GateArgs,
    now: Timestamp,
) -> Result<u64, Failure> {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let policy = evident_gate::policy::EnvPolicy::resolve(config, &args.env, today)?;
    let Some(max) = &policy.break_glass_max else {
        fail!(
            "break-glass is not allowed in `{}`: set `break_glass_max` in [environments.{}] (e.g. \"4h\") to allow it",
            args.env,
            args.env
        );
    };
    let duration = match &args.duration {
        Some(text) => parse_duration(text).map_err(|e| anyhow!("--duration: {e}"))?,
        None => max.value,
    };
    if duration > max.value {
        fail!(
            "--duration {}: longer than the {} break-glass allows in `{}` ({})",
            args.duration.as_deref().unwrap_or_default(),
            max.because.setting.rsplit(" = ").next().unwrap_or_default(),
            args.env,
            max.because
        );
    }
    let requester = context::actor(args.actor.as_deref());
    let approver = args.approver.clone().unwrap_or_default();
    let reason = args.reason.clone().unwrap_or_default();
    if reason.trim().is_empty() {
        fail!("--reason: say why the break-glass is needed (an incident or ticket)");
    }
    if approver.trim().eq_ignore_ascii_case(requester.trim()) {
        fail!(
            "--approver {approver}: the approver cannot be the requester; someone else must approve a break-glass"
        );
    }
    if !policy.break_glass_approvers.is_empty()
        && !policy
            .break_glass_approvers
            .iter()
            .any(|a| a.eq_ignore_ascii_case(approver.trim()))
    {
        fail!(
            "--approver {approver} may not approve a break-glass in `{}`; allowed: {} (environments.{}.break_glass_approvers)",
            args.env,
            policy.break_glass_approvers.join(", "),
            args.env
        );
    }
    let expires = now
        .checked_add(duration)
        .map_err(|e| anyhow!("--duration: {e}"))?;
    let p = BreakGlassPredicate {
        environment: args.env.clone(),
        requester: requester.clone(),
        approver,
        reason,
        expires: evident_store::timefmt::format(expires),
        overrides: None,
    };
    let serde_json::Value::Object(predicate) = serde_json::to_value(&p)? else {
        fail!("internal: the break-glass predicate is not an object");
    };
    let draft = super::record::Draft {
        kind: EvidenceKind::BreakGlass,
        subject: subject.to_owned(),
        controls: vec!["iso27001:A.8.32".into(), "soc2:CC8.1".into()],
        actor: requester,
        now,
        retain_until: context::retain_until(None, config, now)?,
        labels: BTreeMap::from([("environment".to_owned(), args.env.clone())]),
        predicate_type: predicate_type::EVIDENT_BREAK_GLASS_V1.to_owned(),
        predicate,
        content: Vec::new(),
    };
    let (seq, _) = super::record::append(store_opt, &args.key, draft.build()?)?;
    eprintln!(
        "BREAK-GLASS recorded as entry {seq}: `{}` passes for {subject} until {} (approved by {})",
        args.env, p.expires, p.approver
    );
    Ok(seq)
}

/// Records the decision: a SLSA verification summary with the policy digest and the inputs'
/// leaf hashes; the decision, the configuration and every gate policy as content.
fn record_decision(
    store_opt: Option<&Path>,
    config: &Config,
    base: &Path,
    args: &GateArgs,
    decision: &Decision,
    evidence: &Evidence,
    now: Timestamp,
) -> Result<u64, Failure> {
    let inputs: Vec<serde_json::Value> = decision
        .inputs
        .iter()
        .map(|seq| {
            let mut v = json!({ "uri": format!("evident:entry/{seq}") });
            if let Some(leaf) = evidence.leaf.get(seq).filter(|l| !l.is_empty()) {
                v["digest"] = json!({ "sha256": leaf });
            }
            v
        })
        .collect();
    let passed = decision.decision == Verdict::Pass;
    let mut predicate = serde_json::Map::new();
    predicate.insert(
        "verifier".into(),
        json!({ "id": "https://evident.dev/gate", "version": { "evident": env!("CARGO_PKG_VERSION") } }),
    );
    predicate.insert(
        "timeVerified".into(),
        json!(evident_store::timefmt::format(now)),
    );
    predicate.insert("resourceUri".into(), json!(decision.subject));
    predicate.insert(
        "policy".into(),
        json!({
            "uri": format!("{}#environments.{}", decision.policy.config.file, decision.environment),
            "digest": { "sha256": decision.policy.digest },
        }),
    );
    predicate.insert("inputAttestations".into(), json!(inputs));
    predicate.insert(
        "verificationResult".into(),
        json!(if passed { "PASSED" } else { "FAILED" }),
    );
    predicate.insert(
        "verifiedLevels".into(),
        json!(if passed {
            vec!["EVIDENT_GATE_PASSED"]
        } else {
            Vec::new()
        }),
    );
    predicate.insert(
        "evident".into(),
        json!({
            "environment": decision.environment,
            "decision": decision.decision,
            "mode": decision.mode,
            "blocking": decision.blocking.len(),
            "exceptions_applied": decision.exceptions_applied,
            "break_glass": decision.break_glass.as_ref().map(|b| b.entry),
            "config": decision.policy.config,
            "rego": decision.policy.rego,
        }),
    );
    let decision_json = serde_json::to_vec_pretty(decision)?;
    let mut content = vec![(
        draft::blob("application/json", Some("gate-decision.json")),
        decision_json,
    )];
    let config_file = if config.source.origin.is_empty() {
        None
    } else {
        Some(base.join(&config.source.origin))
    };
    if let Some(path) = config_file {
        let bytes = std::fs::read(&path)
            .with_context(|| format!("cannot read {} to record it", path.display()))?;
        if evident_core::sha256_hex(&bytes) != decision.policy.config.sha256 {
            fail!(
                "{} changed while the gate ran; run it again",
                path.display()
            );
        }
        content.push((draft::blob("application/toml", Some("evident.toml")), bytes));
    }
    for f in &decision.policy.rego {
        let bytes = std::fs::read(base.join(&f.file))
            .with_context(|| format!("cannot read {} to record it", f.file))?;
        if evident_core::sha256_hex(&bytes) != f.sha256 {
            fail!("{} changed while the gate ran; run it again", f.file);
        }
        content.push((draft::blob("text/plain", Some(&f.file)), bytes));
    }
    let draft = super::record::Draft {
        kind: EvidenceKind::GateDecision,
        subject: decision.subject.clone(),
        controls: vec!["iso27001:A.8.32".into(), "soc2:CC8.1".into()],
        actor: context::actor(args.actor.as_deref()),
        now,
        retain_until: context::retain_until(None, config, now)?,
        labels: BTreeMap::from([
            ("environment".to_owned(), decision.environment.clone()),
            (
                "decision".to_owned(),
                if passed { "pass" } else { "block" }.to_owned(),
            ),
        ]),
        predicate_type: predicate_type::SLSA_VERIFICATION_SUMMARY_V1.to_owned(),
        predicate,
        content,
    };
    let (seq, _) = super::record::append(store_opt, &args.key, draft.build()?)?;
    Ok(seq)
}
