//! The decision: evidence, findings, approvals, exceptions, monitors, policies and break-glass
//! for one subject in one environment, turned into pass or block with every reason explained.

use std::collections::{BTreeMap, BTreeSet};

use evident_core::environments::GateMode;
use evident_core::{Config, Severity};
use jiff::Timestamp;
use serde::Serialize;

use crate::GateError;
use crate::exception::{Exception, Status, Target};
use crate::input::{BreakGlass, EvidenceItem, ScanResult};
use crate::policy::{Because, EnvPolicy};
use crate::requirement::{self, Satisfied};

/// The JSON contract's version (docs/gate.md).
pub const SCHEMA_VERSION: u32 = 1;

/// Pass or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Block,
}

/// What kind of reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonKind {
    /// Required evidence is not recorded for the subject.
    MissingEvidence,
    /// Required evidence is recorded but the scan could not read everything.
    IncompleteEvidence,
    /// Fewer approvals than required.
    Approval,
    /// A finding at or above the environment's threshold.
    Finding,
    /// A gate policy (Rego) said no.
    Policy,
}

impl ReasonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonKind::MissingEvidence => "missing-evidence",
            ReasonKind::IncompleteEvidence => "incomplete-evidence",
            ReasonKind::Approval => "approval",
            ReasonKind::Finding => "finding",
            ReasonKind::Policy => "policy",
        }
    }
}

/// One reason: what it is, why it counts here, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub kind: ReasonKind,
    /// The check id (findings) or `policy:<package>` (gate policies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub controls: Vec<String>,
    pub reason: String,
    pub fix: String,
    /// The configuration line that makes it count here.
    pub because: Because,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The ledger entry the reason comes from (the scan that found it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
    /// The exception that covers it (in `excepted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<u64>,
}

impl Reason {
    /// A reason without a location, check or entry; set those fields as needed.
    pub fn new(
        kind: ReasonKind,
        controls: Vec<String>,
        reason: String,
        fix: String,
        because: Because,
    ) -> Self {
        Reason {
            kind,
            check: None,
            severity: None,
            controls,
            reason,
            fix,
            because,
            path: None,
            line: None,
            resource: None,
            fingerprint: None,
            entry: None,
            exception: None,
        }
    }
}

/// A control's standing for this decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlState {
    Failing,
    NoEvidence,
    Satisfied,
}

impl ControlState {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlState::Failing => "failing",
            ControlState::NoEvidence => "no evidence",
            ControlState::Satisfied => "satisfied",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlStatus {
    pub control: String,
    pub title: String,
    pub status: ControlState,
}

/// A required piece of evidence and what was found for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementStatus {
    pub requirement: String,
    /// `present`, `missing` or `incomplete`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<u64>,
    pub because: Because,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approver {
    pub actor: String,
    pub entry: u64,
    pub recorded_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approvals {
    pub required: u32,
    pub approvers: Vec<Approver>,
}

/// An exception that covered nothing in this decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnusedException {
    pub id: u64,
    pub check: String,
    pub expires: String,
}

/// The break-glass that let a blocked gate pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakGlassUse {
    pub entry: u64,
    pub requester: String,
    pub approver: String,
    pub reason: String,
    pub expires: String,
}

/// A file that decided, with its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyFile {
    pub file: String,
    pub sha256: String,
}

/// Exactly which policy decided.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyUsed {
    /// The configuration file and its SHA-256.
    pub config: PolicyFile,
    /// Gate policies (Rego) and their SHA-256.
    pub rego: Vec<PolicyFile>,
    /// SHA-256 over the configuration digest and every policy digest, in order.
    pub digest: String,
    /// The effective settings of the environment.
    pub environment: EnvPolicy,
}

/// The result of a gate policy rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOutcome {
    /// The package, e.g. `evident.gate.tickets`.
    pub policy: String,
    /// `deny` or `warn`.
    pub rule: String,
    pub message: String,
    pub controls: Vec<String>,
    pub fix: Option<String>,
    pub file: String,
}

/// The decision, as printed and as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub schema_version: u32,
    pub decision: Verdict,
    pub environment: String,
    pub subject: String,
    pub mode: GateMode,
    pub evaluated_at: String,
    /// What blocks (in `warn` mode: empty; see `warnings`).
    pub blocking: Vec<Reason>,
    /// What would block in `block` mode, and gate policies' warnings.
    pub warnings: Vec<Reason>,
    /// What would have blocked but is in monitor mode.
    pub monitored: Vec<Reason>,
    /// What an exception covers.
    pub excepted: Vec<Reason>,
    pub controls: Vec<ControlStatus>,
    pub evidence: Vec<RequirementStatus>,
    pub approvals: Approvals,
    /// Findings below the environment's threshold (not blocking).
    pub below_threshold: usize,
    /// The ledger entries the decision read.
    pub inputs: Vec<u64>,
    pub exceptions_applied: Vec<u64>,
    pub unused_exceptions: Vec<UnusedException>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlassUse>,
    pub policy: PolicyUsed,
    pub notes: Vec<String>,
    /// The entry this decision was recorded as (set once recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_entry: Option<u64>,
}

/// Everything a decision is made from.
pub struct Gate<'a> {
    pub config: &'a Config,
    pub environment: &'a str,
    pub subject: &'a str,
    pub now: Timestamp,
    /// Every record about the subject.
    pub records: &'a [EvidenceItem],
    /// The scans among them, with their findings.
    pub scans: &'a [ScanResult],
    /// Every exception in the ledger.
    pub exceptions: &'a [Exception],
    /// Break-glass grants for the subject.
    pub break_glass: &'a [BreakGlass],
    /// Gate policy files and their digests.
    pub rego_files: &'a [PolicyFile],
}

fn fmt_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Gate<'_> {
    /// The environment's effective policy at this gate's time.
    pub fn env_policy(&self) -> Result<EnvPolicy, GateError> {
        let today = self.now.to_zoned(jiff::tz::TimeZone::UTC).date();
        EnvPolicy::resolve(self.config, self.environment, today)
    }

    /// The latest scan per category: earlier scans of the same kind are superseded.
    fn current_scans(&self) -> Vec<&ScanResult> {
        let mut latest: BTreeMap<&str, &ScanResult> = BTreeMap::new();
        for s in self.scans {
            let slot = latest.entry(&s.category).or_insert(s);
            if s.entry > slot.entry {
                *slot = s;
            }
        }
        latest.into_values().collect()
    }

    /// The approvals that count here: kind `approval`, for this environment or none named.
    fn approvals(&self) -> Vec<Approver> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for r in self.records.iter().filter(|r| r.kind == "approval") {
            if r.labels
                .get("environment")
                .is_some_and(|e| e != self.environment)
            {
                continue;
            }
            if seen.insert(r.actor.to_ascii_lowercase()) {
                out.push(Approver {
                    actor: r.actor.clone(),
                    entry: r.entry,
                    recorded_at: fmt_time(r.recorded_at),
                });
            }
        }
        out
    }

    /// The document gate policies (Rego) receive as `input`.
    pub fn rego_input(&self) -> Result<serde_json::Value, GateError> {
        let policy = self.env_policy()?;
        let findings: Vec<serde_json::Value> = self
            .current_scans()
            .iter()
            .flat_map(|s| {
                s.findings
                    .iter()
                    .filter(|f| f.suppressed.is_none())
                    .map(move |f| {
                        let mut v = serde_json::to_value(f).unwrap_or_default();
                        v["scanner"] = serde_json::json!(s.category);
                        v["tool"] = serde_json::json!(s.tool);
                        v["entry"] = serde_json::json!(s.entry);
                        v
                    })
            })
            .collect();
        let evidence: Vec<serde_json::Value> = self
            .records
            .iter()
            .map(|r| {
                serde_json::json!({
                    "entry": r.entry, "kind": r.kind, "labels": r.labels, "actor": r.actor,
                    "recorded_at": fmt_time(r.recorded_at), "controls": r.controls,
                    "predicate_type": r.predicate_type,
                })
            })
            .collect();
        let approvals: Vec<serde_json::Value> = self
            .records
            .iter()
            .filter(|r| r.kind == "approval")
            .map(|r| {
                serde_json::json!({
                    "entry": r.entry, "actor": r.actor,
                    "recorded_at": fmt_time(r.recorded_at), "labels": r.labels,
                })
            })
            .collect();
        let p = &self.config.project;
        Ok(serde_json::json!({
            "environment": self.environment,
            "mode": policy.mode.value.as_str(),
            "block_on": policy.block_on.value.to_string(),
            "subject": self.subject,
            "project": {
                "name": p.name,
                "tier": p.tier,
                "classification": p.classification.map(|c| match c {
                    evident_core::config::Classification::Public => "public",
                    evident_core::config::Classification::Internal => "internal",
                    evident_core::config::Classification::Restricted => "restricted",
                }),
                "frameworks": p.frameworks,
            },
            "findings": findings,
            "evidence": evidence,
            "approvals": approvals,
            "now": fmt_time(self.now),
        }))
    }

    /// Decides. `policy_outcomes` are the gate policies' results on [`Gate::rego_input`].
    pub fn decide(&self, policy_outcomes: &[PolicyOutcome]) -> Result<Decision, GateError> {
        let policy = self.env_policy()?;
        let mut would_block: Vec<Reason> = Vec::new();
        let mut warnings: Vec<Reason> = Vec::new();
        let mut monitored: Vec<Reason> = Vec::new();
        let mut excepted: Vec<Reason> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        let mut inputs: BTreeSet<u64> = BTreeSet::new();
        let max_days = Some(policy.exception_max_days.value);
        let exceptions: Vec<&Exception> = self
            .exceptions
            .iter()
            .filter(|e| e.covers_environment(self.environment))
            .collect();
        let mut used: BTreeSet<u64> = BTreeSet::new();

        // Required evidence.
        let scans = self.current_scans();
        let mut evidence = Vec::new();
        for req in &policy.require {
            let name = req.value.as_str();
            let controls: Vec<String> = requirement::controls(name)
                .iter()
                .map(|c| (*c).to_owned())
                .collect();
            let (status, entry) = match requirement::find(name, self.scans, self.records) {
                Satisfied::Scan(s) if s.errors > 0 => {
                    let reason = format!(
                        "the {name} scan (entry {}) could not read {} input(s): incomplete evidence does not count",
                        s.entry, s.errors
                    );
                    let fix = format!(
                        "fix what the scan could not read and record it again; {}",
                        requirement::how_to_fix(name, self.subject)
                    );
                    would_block.push(Reason {
                        entry: Some(s.entry),
                        ..Reason::new(
                            ReasonKind::IncompleteEvidence,
                            controls.clone(),
                            reason,
                            fix,
                            req.because.clone(),
                        )
                    });
                    ("incomplete", Some(s.entry))
                }
                Satisfied::Scan(s) => ("present", Some(s.entry)),
                Satisfied::Record(r) => ("present", Some(r.entry)),
                Satisfied::Missing => {
                    would_block.push(Reason::new(
                        ReasonKind::MissingEvidence,
                        controls.clone(),
                        format!("no {name} evidence is recorded for {}", self.subject),
                        requirement::how_to_fix(name, self.subject),
                        req.because.clone(),
                    ));
                    ("missing", None)
                }
            };
            inputs.extend(entry);
            evidence.push(RequirementStatus {
                requirement: name.to_owned(),
                status,
                entry,
                because: req.because.clone(),
            });
        }

        // Approvals.
        let approvers = self.approvals();
        inputs.extend(approvers.iter().map(|a| a.entry));
        let required = policy.approvals.value;
        if (approvers.len() as u64) < u64::from(required) {
            would_block.push(Reason::new(
                ReasonKind::Approval,
                requirement::controls("approval")
                    .iter()
                    .map(|c| (*c).to_owned())
                    .collect(),
                format!(
                    "{} approval(s) recorded for {} in `{}`, {required} required",
                    approvers.len(),
                    self.subject,
                    self.environment
                ),
                format!(
                    "a reviewer records an approval: `evident record --kind approval --subject {} --label environment={} --actor <reviewer> --reason \"…\"`",
                    self.subject, self.environment
                ),
                policy.approvals.because.clone(),
            ));
        }

        // Findings.
        let mut below_threshold = 0;
        for scan in &scans {
            inputs.insert(scan.entry);
            for f in scan.findings.iter().filter(|f| f.suppressed.is_none()) {
                if f.severity < policy.block_on.value {
                    below_threshold += 1;
                    continue;
                }
                let mut reason = Reason {
                    kind: ReasonKind::Finding,
                    check: Some(f.check.clone()),
                    severity: Some(f.severity),
                    controls: f.controls.clone(),
                    reason: if f.message.is_empty() {
                        f.title.clone()
                    } else {
                        f.message.clone()
                    },
                    fix: f.fix.clone(),
                    because: policy.block_on.because.clone(),
                    path: f.path.clone(),
                    line: f.line,
                    resource: f.resource.clone(),
                    fingerprint: Some(f.fingerprint.clone()).filter(|s| !s.is_empty()),
                    entry: Some(scan.entry),
                    exception: None,
                };
                let target = Target {
                    check: &f.check,
                    path: f.path.as_deref(),
                    fingerprint: Some(f.fingerprint.as_str()),
                    resource: f.resource.as_deref(),
                };
                if let Some(e) = exceptions
                    .iter()
                    .find(|e| e.status(self.now, max_days) == Status::Active && e.matches(&target))
                {
                    used.insert(e.id);
                    reason.exception = Some(e.id);
                    excepted.push(reason);
                    continue;
                }
                if let Some(e) = exceptions
                    .iter()
                    .find(|e| e.status(self.now, max_days) != Status::Active && e.matches(&target))
                {
                    let status = e.status(self.now, max_days);
                    let when = match status {
                        Status::Revoked => "was revoked".to_owned(),
                        _ => format!("expired at {}", fmt_time(e.effective_expiry(max_days))),
                    };
                    reason.reason = format!("{} (exception {} {when})", reason.reason, e.id);
                }
                if let Some(m) = policy.monitor_for(&format!("check:{}", f.check)) {
                    reason.because = m.because.clone();
                    monitored.push(reason);
                    continue;
                }
                would_block.push(reason);
            }
        }

        // Gate policies.
        for p in policy_outcomes {
            let target = format!("policy:{}", p.policy);
            let mut reason = Reason {
                kind: ReasonKind::Policy,
                check: Some(target.clone()),
                severity: None,
                controls: p.controls.clone(),
                reason: p.message.clone(),
                fix: p.fix.clone().unwrap_or_else(|| {
                    format!("satisfy the gate policy {} ({})", p.policy, p.file)
                }),
                because: Because {
                    file: p.file.clone(),
                    line: 0,
                    setting: format!("{} rule `{}` in package {}", p.file, p.rule, p.policy),
                },
                path: None,
                line: None,
                resource: None,
                fingerprint: None,
                entry: None,
                exception: None,
            };
            if p.rule != "deny" {
                warnings.push(reason);
                continue;
            }
            let t = Target {
                check: &target,
                path: None,
                fingerprint: None,
                resource: None,
            };
            if let Some(e) = exceptions
                .iter()
                .find(|e| e.status(self.now, max_days) == Status::Active && e.matches(&t))
            {
                used.insert(e.id);
                reason.exception = Some(e.id);
                excepted.push(reason);
            } else if let Some(m) = policy.monitor_for(&target) {
                reason.because = m.because.clone();
                monitored.push(reason);
            } else {
                would_block.push(reason);
            }
        }

        would_block.sort_by_key(|r| r.kind);
        let mut unused = Vec::new();
        for e in &exceptions {
            if e.status(self.now, max_days) == Status::Active && !used.contains(&e.id) {
                unused.push(UnusedException {
                    id: e.id,
                    check: e.grant.scope.check.clone(),
                    expires: fmt_time(e.effective_expiry(max_days)),
                });
            }
        }
        inputs.extend(used.iter().copied());

        let controls = self.control_table(&scans, &would_block);
        let (verdict, blocking, break_glass) = match policy.mode.value {
            GateMode::Warn => {
                let mut w = would_block;
                w.append(&mut warnings);
                warnings = w;
                (Verdict::Pass, Vec::new(), None)
            }
            GateMode::Block if would_block.is_empty() => (Verdict::Pass, Vec::new(), None),
            GateMode::Block => {
                let active = self
                    .break_glass
                    .iter()
                    .filter(|b| {
                        b.environment == self.environment
                            && b.granted_at <= self.now
                            && self.now < b.expires
                    })
                    .max_by_key(|b| b.expires);
                match active {
                    Some(b) => {
                        inputs.insert(b.entry);
                        notes.push(format!(
                            "BREAK-GLASS: entry {} lets this blocked gate pass until {} (approved by {}, requested by {}: {})",
                            b.entry,
                            fmt_time(b.expires),
                            b.approver,
                            b.requester,
                            b.reason
                        ));
                        (
                            Verdict::Pass,
                            would_block,
                            Some(BreakGlassUse {
                                entry: b.entry,
                                requester: b.requester.clone(),
                                approver: b.approver.clone(),
                                reason: b.reason.clone(),
                                expires: fmt_time(b.expires),
                            }),
                        )
                    }
                    None => (Verdict::Block, would_block, None),
                }
            }
        };

        let mut hasher_input = self.config.source.sha256.clone();
        for f in self.rego_files {
            hasher_input.push('\n');
            hasher_input.push_str(&f.sha256);
        }
        Ok(Decision {
            schema_version: SCHEMA_VERSION,
            decision: verdict,
            environment: self.environment.to_owned(),
            subject: self.subject.to_owned(),
            mode: policy.mode.value,
            evaluated_at: fmt_time(self.now),
            blocking,
            warnings,
            monitored,
            excepted,
            controls,
            evidence,
            approvals: Approvals {
                required,
                approvers,
            },
            below_threshold,
            inputs: inputs.into_iter().collect(),
            exceptions_applied: used.into_iter().collect(),
            unused_exceptions: unused,
            break_glass,
            policy: PolicyUsed {
                config: PolicyFile {
                    file: self.config.source.origin.clone(),
                    sha256: self.config.source.sha256.clone(),
                },
                rego: self.rego_files.to_vec(),
                digest: evident_core::sha256_hex(hasher_input.as_bytes()),
                environment: policy,
            },
            notes,
            recorded_entry: None,
        })
    }

    /// Per control in scope: failing (a reason that would block names it), no evidence
    /// (required evidence for it is missing) or satisfied (evidence for it is recorded).
    fn control_table(&self, scans: &[&ScanResult], would_block: &[Reason]) -> Vec<ControlStatus> {
        let frameworks = &self.config.project.frameworks;
        let in_scope = |c: &str| {
            frameworks.is_empty()
                || c.split_once(':')
                    .is_some_and(|(fw, _)| frameworks.iter().any(|f| f == fw))
        };
        let mut table: BTreeMap<String, ControlState> = BTreeMap::new();
        let mut mark = |c: &str, state: ControlState| {
            if !in_scope(c) {
                return;
            }
            let slot = table.entry(c.to_owned()).or_insert(state);
            if state < *slot {
                *slot = state;
            }
        };
        for r in self.records {
            for c in &r.controls {
                mark(c, ControlState::Satisfied);
            }
        }
        for s in scans {
            for f in &s.findings {
                for c in &f.controls {
                    mark(c, ControlState::Satisfied);
                }
            }
        }
        for r in would_block {
            let state = match r.kind {
                ReasonKind::MissingEvidence
                | ReasonKind::IncompleteEvidence
                | ReasonKind::Approval => ControlState::NoEvidence,
                ReasonKind::Finding | ReasonKind::Policy => ControlState::Failing,
            };
            for c in &r.controls {
                mark(c, state);
            }
        }
        table
            .into_iter()
            .map(|(control, status)| ControlStatus {
                title: evident_controls::resolve(&control)
                    .map(|(_, c)| c.title.clone())
                    .unwrap_or_default(),
                control,
                status,
            })
            .collect()
    }
}
