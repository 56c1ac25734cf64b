//! The gate's decisions on hand-made evidence: every rule of the policy model.

use std::collections::BTreeMap;

use evident_core::{Config, Severity};
use evident_gate::decision::{ControlState, Gate, PolicyFile, PolicyOutcome, ReasonKind, Verdict};
use evident_gate::exception::{self, ExceptionAction, ExceptionRecord, Grant, ReasonCode, Scope};
use evident_gate::input::{BreakGlass, EvidenceItem, GateFinding, ScanResult};
use jiff::Timestamp;
use proptest::prelude::*;

const CONFIG: &str = r#"[project]
name = "api"
tier = 2
classification = "internal"
frameworks = ["soc2", "iso27001"]

[environments.dev]
mode = "warn"
block_on = "high"

[environments.staging]
mode = "block"
block_on = "high"
require = ["secrets"]

[environments.prod]
mode = "block"
block_on = "low"
require = ["secrets", "sast", "sbom"]
approvals = 2
exception_max_days = 30
break_glass_max = "4h"

[[rollout]]
check = "generic-api-key"
mode = "monitor"
until = "2027-01-31"
"#;

const SUBJECT: &str = "git:1111111111111111111111111111111111111111";

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn now() -> Timestamp {
    t("2026-11-23T12:00:00Z")
}

fn finding(check: &str, severity: Severity, path: &str) -> GateFinding {
    GateFinding {
        check: check.into(),
        title: format!("{check} title"),
        severity,
        controls: vec!["soc2:CC6.1".into(), "iso27001:A.8.4".into()],
        message: format!("Possible {check} at {path}:3"),
        path: Some(path.into()),
        line: Some(3),
        resource: None,
        commit: None,
        fingerprint: format!("fp-{check}-{path}"),
        fix: "rotate it".into(),
        suppressed: None,
    }
}

fn scan(entry: u64, category: &str, findings: Vec<GateFinding>) -> ScanResult {
    ScanResult {
        entry,
        category: category.into(),
        tool: category.into(),
        recorded_at: t("2026-11-23T10:00:00Z"),
        findings,
        errors: 0,
    }
}

fn record(entry: u64, kind: &str, actor: &str, labels: &[(&str, &str)]) -> EvidenceItem {
    EvidenceItem {
        entry,
        kind: kind.into(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        actor: actor.into(),
        recorded_at: t("2026-11-23T10:00:00Z"),
        controls: vec!["soc2:CC8.1".into()],
        predicate_type: String::new(),
    }
}

struct World {
    config: Config,
    records: Vec<EvidenceItem>,
    scans: Vec<ScanResult>,
    exceptions: Vec<exception::Exception>,
    break_glass: Vec<BreakGlass>,
}

impl World {
    fn new() -> Self {
        World {
            config: Config::parse("evident.toml", CONFIG).unwrap(),
            records: Vec::new(),
            scans: Vec::new(),
            exceptions: Vec::new(),
            break_glass: Vec::new(),
        }
    }

    fn decide_at(
        &self,
        env: &str,
        at: Timestamp,
        outcomes: &[PolicyOutcome],
    ) -> evident_gate::decision::Decision {
        let files: Vec<PolicyFile> = Vec::new();
        Gate {
            config: &self.config,
            environment: env,
            subject: SUBJECT,
            now: at,
            records: &self.records,
            scans: &self.scans,
            exceptions: &self.exceptions,
            break_glass: &self.break_glass,
            rego_files: &files,
        }
        .decide(outcomes)
        .unwrap()
    }

    fn decide(&self, env: &str) -> evident_gate::decision::Decision {
        self.decide_at(env, now(), &[])
    }

    fn grant(&mut self, entry: u64, check: &str, path: Option<&str>, expires: &str) {
        let records = vec![ExceptionRecord {
            entry,
            recorded_at: t("2026-11-20T00:00:00Z"),
            action: ExceptionAction::Grant(Grant {
                scope: Scope {
                    check: check.into(),
                    path: path.map(str::to_owned),
                    ..Scope::default()
                },
                reason_code: ReasonCode::FalsePositive,
                reason: Some("test fixture".into()),
                owner: "owner@example.com".into(),
                approver: "sec@example.com".into(),
                requester: "dev@example.com".into(),
                ticket: Some("SEC-1".into()),
                expires: expires.into(),
            }),
        }];
        let (mut list, notes) = exception::resolve(records);
        assert!(notes.is_empty());
        self.exceptions.append(&mut list);
    }
}

#[test]
fn missing_evidence_blocks_prod_and_cites_the_config_line() {
    let w = World::new();
    let d = w.decide("prod");
    assert_eq!(d.decision, Verdict::Block);
    let kinds: Vec<_> = d.blocking.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            ReasonKind::MissingEvidence,
            ReasonKind::MissingEvidence,
            ReasonKind::MissingEvidence,
            ReasonKind::Approval
        ]
    );
    let secrets = &d.blocking[0];
    assert!(
        secrets.reason.contains("no secrets evidence"),
        "{}",
        secrets.reason
    );
    assert!(secrets.fix.contains("evident scan secrets --record"));
    assert_eq!(secrets.because.line, 19);
    assert_eq!(secrets.because.file, "evident.toml");
    assert_eq!(d.blocking[3].because.line, 20);
    let cc61 = d
        .controls
        .iter()
        .find(|c| c.control == "soc2:CC6.1")
        .unwrap();
    assert_eq!(cc61.status, ControlState::NoEvidence);
}

#[test]
fn a_clean_commit_with_all_evidence_passes_prod() {
    let mut w = World::new();
    w.scans.push(scan(1, "secrets", vec![]));
    w.scans.push(scan(2, "sast", vec![]));
    w.records.push(record(3, "sbom", "ci", &[]));
    w.records
        .push(record(4, "approval", "alice", &[("environment", "prod")]));
    w.records.push(record(5, "approval", "ALICE", &[]));
    let d = w.decide("prod");
    assert_eq!(
        d.decision,
        Verdict::Block,
        "the same approver twice counts once"
    );
    w.records
        .push(record(6, "approval", "bob", &[("environment", "staging")]));
    assert_eq!(
        w.decide("prod").decision,
        Verdict::Block,
        "a staging approval does not count in prod"
    );
    w.records.push(record(7, "approval", "carol", &[]));
    let d = w.decide("prod");
    assert_eq!(d.decision, Verdict::Pass, "{:#?}", d.blocking);
    assert_eq!(d.inputs, [1, 2, 3, 4, 7]);
    assert!(
        d.controls
            .iter()
            .all(|c| c.status == ControlState::Satisfied)
    );
}

#[test]
fn thresholds_differ_per_environment_and_warn_mode_never_blocks() {
    let mut w = World::new();
    w.scans.push(scan(
        1,
        "secrets",
        vec![finding("jwt", Severity::Medium, "src/a.rs")],
    ));
    let staging = w.decide("staging");
    assert_eq!(staging.decision, Verdict::Pass);
    assert_eq!(staging.below_threshold, 1);

    w.scans.push(scan(
        2,
        "secrets",
        vec![finding("aws-access-key-id", Severity::High, "src/b.rs")],
    ));
    let staging = w.decide("staging");
    assert_eq!(staging.decision, Verdict::Block);
    assert_eq!(
        staging.blocking.len(),
        1,
        "only the latest secrets scan counts"
    );
    let r = &staging.blocking[0];
    assert_eq!(r.kind, ReasonKind::Finding);
    assert_eq!(r.check.as_deref(), Some("aws-access-key-id"));
    assert_eq!(r.entry, Some(2));
    assert_eq!(
        r.because.setting,
        "environments.staging.block_on = \"high\""
    );
    assert_eq!(r.because.line, 13);
    let cc61 = staging
        .controls
        .iter()
        .find(|c| c.control == "soc2:CC6.1")
        .unwrap();
    assert_eq!(cc61.status, ControlState::Failing);

    let dev = w.decide("dev");
    assert_eq!(dev.decision, Verdict::Pass);
    assert!(dev.blocking.is_empty());
    assert_eq!(dev.warnings.len(), 1);
}

#[test]
fn suppressed_findings_do_not_count() {
    let mut w = World::new();
    let mut f = finding("aws-access-key-id", Severity::Critical, "a.env");
    f.suppressed = Some(serde_json::json!({"kind": "inline", "reason": "fixture"}));
    w.scans.push(scan(1, "secrets", vec![f]));
    assert_eq!(w.decide("staging").decision, Verdict::Pass);
}

#[test]
fn an_exception_covers_a_finding_until_it_expires() {
    let mut w = World::new();
    w.scans.push(scan(
        1,
        "secrets",
        vec![finding(
            "aws-access-key-id",
            Severity::High,
            "tests/fixtures/a.env",
        )],
    ));
    w.grant(
        9,
        "aws-access-key-id",
        Some("tests/**"),
        "2026-12-01T00:00:00Z",
    );
    w.grant(10, "jwt", None, "2026-12-01T00:00:00Z");
    let d = w.decide("staging");
    assert_eq!(d.decision, Verdict::Pass);
    assert_eq!(d.excepted.len(), 1);
    assert_eq!(d.excepted[0].exception, Some(9));
    assert_eq!(d.exceptions_applied, [9]);
    assert!(d.inputs.contains(&9));
    assert_eq!(d.unused_exceptions.len(), 1);
    assert_eq!(d.unused_exceptions[0].id, 10);

    let later = w.decide_at("staging", t("2026-12-01T00:00:00Z"), &[]);
    assert_eq!(later.decision, Verdict::Block);
    assert!(
        later.blocking[0]
            .reason
            .contains("exception 9 expired at 2026-12-01T00:00:00Z"),
        "{}",
        later.blocking[0].reason
    );
}

#[test]
fn prod_caps_an_exception_at_its_maximum_length() {
    let mut w = World::new();
    w.scans.push(scan(
        1,
        "secrets",
        vec![finding("jwt", Severity::High, "a.rs")],
    ));
    // Granted 2026-11-20 for a year: prod allows 30 days, so it ends 2026-12-20 there.
    w.grant(9, "jwt", None, "2027-11-20T00:00:00Z");
    let at = t("2026-12-21T00:00:00Z");
    let prod = w.decide_at("prod", at, &[]);
    assert!(
        prod.blocking
            .iter()
            .any(|r| r.check.as_deref() == Some("jwt"))
    );
    let staging = w.decide_at("staging", at, &[]);
    assert_eq!(
        staging.decision,
        Verdict::Pass,
        "staging keeps the default 90 days"
    );
}

#[test]
fn monitored_checks_report_would_have_blocked_until_the_rollout_date() {
    let mut w = World::new();
    w.scans.push(scan(
        1,
        "secrets",
        vec![finding("generic-api-key", Severity::High, "a.rs")],
    ));
    let d = w.decide("staging");
    assert_eq!(d.decision, Verdict::Pass);
    assert_eq!(d.monitored.len(), 1);
    assert_eq!(d.monitored[0].because.line, 24);
    let enforced = w.decide_at("staging", t("2027-01-31T00:00:00Z"), &[]);
    assert_eq!(enforced.decision, Verdict::Block);
}

#[test]
fn break_glass_passes_a_blocked_gate_for_its_window_only() {
    let mut w = World::new();
    w.break_glass.push(BreakGlass {
        entry: 12,
        environment: "prod".into(),
        requester: "dev@example.com".into(),
        approver: "lead@example.com".into(),
        reason: "outage INC-7".into(),
        granted_at: t("2026-11-23T11:00:00Z"),
        expires: t("2026-11-23T13:00:00Z"),
    });
    let d = w.decide("prod");
    assert_eq!(d.decision, Verdict::Pass);
    assert!(!d.blocking.is_empty(), "the reasons stay visible");
    assert_eq!(d.break_glass.as_ref().unwrap().entry, 12);
    assert!(d.notes.iter().any(|n| n.starts_with("BREAK-GLASS")));
    assert!(d.inputs.contains(&12));
    assert_eq!(w.decide("staging").decision, Verdict::Block, "prod only");
    let after = w.decide_at("prod", t("2026-11-23T13:00:00Z"), &[]);
    assert_eq!(after.decision, Verdict::Block);
    assert!(after.break_glass.is_none());
}

#[test]
fn gate_policies_block_warn_and_can_be_excepted() {
    let mut w = World::new();
    w.scans.push(scan(1, "secrets", vec![]));
    let deny = PolicyOutcome {
        policy: "evident.gate.tickets".into(),
        rule: "deny".into(),
        message: "no change ticket on the approval".into(),
        controls: vec!["soc2:CC8.1".into()],
        fix: Some("label the approval with ticket=CHG-…".into()),
        file: "policy/gate/tickets.rego".into(),
    };
    let warn = PolicyOutcome {
        rule: "warn".into(),
        message: "weekend deployment".into(),
        ..deny.clone()
    };
    let d = w.decide_at("staging", now(), &[deny.clone(), warn]);
    assert_eq!(d.decision, Verdict::Block);
    assert_eq!(d.blocking.len(), 1);
    assert_eq!(
        d.blocking[0].check.as_deref(),
        Some("policy:evident.gate.tickets")
    );
    assert_eq!(d.warnings.len(), 1);
    w.grant(
        20,
        "policy:evident.gate.tickets",
        None,
        "2026-12-01T00:00:00Z",
    );
    let d = w.decide_at("staging", now(), &[deny]);
    assert_eq!(d.decision, Verdict::Pass);
    assert_eq!(d.exceptions_applied, [20]);
}

#[test]
fn incomplete_scans_do_not_satisfy_a_requirement() {
    let mut w = World::new();
    let mut s = scan(1, "secrets", vec![]);
    s.errors = 2;
    w.scans.push(s);
    let d = w.decide("staging");
    assert_eq!(d.decision, Verdict::Block);
    assert_eq!(d.blocking[0].kind, ReasonKind::IncompleteEvidence);
    assert_eq!(d.evidence[0].status, "incomplete");
}

#[test]
fn tier_one_restricted_tightens_prod() {
    let text = CONFIG.replace("tier = 2", "tier = 1").replace(
        "classification = \"internal\"",
        "classification = \"restricted\"",
    ) + "\n[[tighten]]\nwhen = { tier = 1, classification = \"restricted\" }\nrequire = [\"dast\"]\napprovals = 3\n";
    let mut w = World::new();
    w.config = Config::parse("evident.toml", &text).unwrap();
    let d = w.decide("staging");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.requirement == "dast" && e.status == "missing")
    );
    let r = d
        .blocking
        .iter()
        .find(|r| r.kind == ReasonKind::Approval)
        .unwrap();
    assert!(r.reason.contains("3 required"), "{}", r.reason);
    assert_eq!(r.because.line, 32);
}

#[test]
fn the_policy_digest_changes_with_the_config() {
    let w = World::new();
    let a = w.decide("prod").policy.digest;
    let mut w2 = World::new();
    w2.config = Config::parse(
        "evident.toml",
        &CONFIG.replace("approvals = 2", "approvals = 1"),
    )
    .unwrap();
    assert_ne!(a, w2.decide("prod").policy.digest);
}

proptest! {
    /// Without exceptions, monitors or break-glass, a blocking environment blocks exactly
    /// when some unsuppressed finding is at or above its threshold.
    #[test]
    fn block_iff_a_finding_reaches_the_threshold(severities in proptest::collection::vec(0u8..5, 0..8)) {
        let mut w = World::new();
        let all = [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];
        let findings: Vec<_> = severities
            .iter()
            .enumerate()
            .map(|(i, s)| finding("jwt", all[*s as usize], &format!("f{i}.rs")))
            .collect();
        let expect_block = findings.iter().any(|f| f.severity >= Severity::High);
        w.scans.push(scan(1, "secrets", findings));
        let d = w.decide("staging");
        prop_assert_eq!(d.decision == Verdict::Block, expect_block);
        prop_assert_eq!(d.blocking.len() + d.below_threshold, severities.len());
    }
}
