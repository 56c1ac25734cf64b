//! The change trail and its separation-of-duties checks, on real webhook payloads
//! (`shared/data/webhooks`, found through `EVIDENT_SHARED_DATA`) and on two stories adapted from them
//! (`tests/fixtures/trail`, see its README).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use evident_core::Finding;
use evident_ledger::record::EvidenceKind;
use evident_server::evidence::{Draft, predicate_type_for};
use evident_server::picked::Picked;
use evident_server::platform::{self, Platform};
use evident_server::sod::{self, Policy};
use evident_server::trail::{
    self, Deployment, Event, EvidenceRef, Outcome, ReviewState, RollbackReason,
};
use evident_store::Store;
use evident_store::keys::LogKey;
use jiff::Timestamp;
use serde_json::{Value, json};

// -- helpers ------------------------------------------------------------------------------------

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    manifest_dir().join("tests/fixtures/trail")
}

fn webhooks() -> PathBuf {
    // scripts/test.sh sets EVIDENT_SHARED_DATA; by default the data sits beside the repository.
    std::env::var_os("EVIDENT_SHARED_DATA")
        .map_or_else(
            || manifest_dir().join("../../../shared/data"),
            PathBuf::from,
        )
        .join("webhooks")
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn manifest() -> Value {
    serde_json::from_slice(&std::fs::read(fixtures().join("story.json")).unwrap()).unwrap()
}

/// A commit id of the stories by its label (`A1`, `M1`, `GL_M1` …).
fn sha(label: &str) -> String {
    manifest()["commits"][label].as_str().unwrap().to_owned()
}

struct Item {
    platform: Platform,
    event: String,
    delivery: String,
    received: Timestamp,
    body: Vec<u8>,
}

fn story_items(which: &str) -> Vec<Item> {
    manifest()[which]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| Item {
            platform: trail::platform_named(i["platform"].as_str().unwrap()).unwrap(),
            event: i["event"].as_str().unwrap().to_owned(),
            delivery: i["delivery"].as_str().unwrap().to_owned(),
            received: ts(i["received"].as_str().unwrap()),
            body: std::fs::read(fixtures().join(i["file"].as_str().unwrap())).unwrap(),
        })
        .collect()
}

fn events_of(items: &[Item]) -> Vec<Event> {
    items
        .iter()
        .enumerate()
        .map(|(seq, i)| {
            Event::from_body(
                i.platform,
                &i.event,
                &i.delivery,
                i.received,
                seq as u64,
                "application/json",
                &i.body,
            )
            .unwrap()
        })
        .collect()
}

fn story(which: &str) -> Vec<Event> {
    events_of(&story_items(which))
}

/// A real payload as a GitHub delivery of `event` (its folder name).
fn real_github(path: &str, seq: u64) -> Event {
    let event = path.split('/').next().unwrap();
    let body = std::fs::read(webhooks().join("github").join(path)).unwrap();
    Event::from_body(
        Platform::GitHub,
        event,
        &format!("real-{seq}"),
        ts("2026-01-01T00:00:00Z"),
        seq,
        "application/json",
        &body,
    )
    .unwrap()
}

/// A real GitLab payload with the header GitLab sends for it.
fn real_gitlab(file: &str, seq: u64) -> Event {
    let header = match file {
        "push.json" => "Push Hook",
        "tag_push.json" => "Tag Push Hook",
        "merge_request.json" => "Merge Request Hook",
        "pipeline.json" => "Pipeline Hook",
        "job.json" | "build.json" => "Job Hook",
        "deployment.json" => "Deployment Hook",
        "release.json" => "Release Hook",
        "member.json" => "Member Hook",
        other => panic!("unexpected {other}"),
    };
    let body = std::fs::read(webhooks().join("gitlab").join(file)).unwrap();
    Event::from_body(
        Platform::GitLab,
        header,
        &format!("real-{seq}"),
        ts("2026-01-01T00:00:00Z"),
        seq,
        "application/json",
        &body,
    )
    .unwrap()
}

fn gate(seq: u64, commit: &str, env: &str, decision: &str, at: &str) -> EvidenceRef {
    EvidenceRef {
        seq,
        kind: "gate-decision".into(),
        subject: format!("git:{commit}"),
        recorded_at: Some(ts(at)),
        actor: "ci".into(),
        labels: BTreeMap::from([
            ("environment".to_owned(), env.to_owned()),
            ("decision".to_owned(), decision.to_owned()),
        ]),
    }
}

fn record(seq: u64, kind: &str, commit: &str, at: &str, labels: &[(&str, &str)]) -> EvidenceRef {
    EvidenceRef {
        seq,
        kind: kind.into(),
        subject: format!("git:{commit}"),
        recorded_at: Some(ts(at)),
        actor: "ci".into(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn evidence_of(records: Vec<EvidenceRef>) -> impl Fn(&str) -> Vec<EvidenceRef> {
    move |subject: &str| {
        records
            .iter()
            .filter(|r| r.subject == subject)
            .cloned()
            .collect()
    }
}

fn no_evidence(_: &str) -> Vec<EvidenceRef> {
    Vec::new()
}

/// The GitHub story's evidence: for M1 a blocked then a passing production gate (the pass
/// after deployment 1001 finished, before 1003), a scan and an SBOM; nothing for X1.
fn github_evidence() -> Vec<EvidenceRef> {
    let m1 = sha("M1");
    vec![
        gate(100, &m1, "production", "block", "2026-03-02T10:08:00Z"),
        gate(101, &m1, "production", "pass", "2026-03-02T11:20:00Z"),
        record(
            102,
            "scan",
            &m1,
            "2026-03-02T10:07:00Z",
            &[("category", "sast"), ("tool", "semgrep")],
        ),
        record(
            103,
            "sbom",
            &m1,
            "2026-03-02T10:07:00Z",
            &[("format", "cyclonedx")],
        ),
    ]
}

fn by_check(findings: &[Finding]) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .map(|f| {
            (
                f.check.clone(),
                f.location.resource.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn set(checks: &[&str]) -> BTreeSet<String> {
    checks.iter().map(|c| (*c).to_owned()).collect()
}

fn pair(check: &str, resource: &str) -> (String, String) {
    (check.to_owned(), resource.to_owned())
}

fn only<'a>(findings: &'a [Finding], check: &str, resource: &str) -> &'a Finding {
    let found: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.check == check && f.location.resource.as_deref() == Some(resource))
        .collect();
    assert_eq!(found.len(), 1, "{check} {resource}: {findings:#?}");
    found[0]
}

fn assert_mentions(f: &Finding, parts: &[&str]) {
    for p in parts {
        assert!(f.message.contains(p), "`{p}` not in: {}", f.message);
    }
}

const D1001: &str = "deployment:acme/api/production/1001";
const D1002: &str = "deployment:acme/api/production/1002";
const D1003: &str = "deployment:acme/api/production/1003";
const PR42: &str = "acme/api#42";

// -- real payloads ------------------------------------------------------------------------------

fn every_real_payload() -> Vec<Event> {
    let mut events = Vec::new();
    let mut github_dirs: Vec<PathBuf> = std::fs::read_dir(webhooks().join("github"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    github_dirs.sort();
    for dir in github_dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let rel = f.strip_prefix(webhooks().join("github")).unwrap();
            events.push(real_github(rel.to_str().unwrap(), events.len() as u64));
        }
    }
    let mut gitlab: Vec<PathBuf> = std::fs::read_dir(webhooks().join("gitlab"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    gitlab.sort();
    for f in gitlab {
        let name = f.file_name().unwrap().to_str().unwrap().to_owned();
        events.push(real_gitlab(&name, events.len() as u64));
    }
    events
}

#[test]
fn every_real_payload_is_read_without_panicking() {
    let events = every_real_payload();
    assert!(events.len() > 100, "{}", events.len());
    let deployments = trail::build(&events, &no_evidence);
    let findings = sod::findings(&events, &deployments, &Policy::default());
    let mut deployments = deployments;
    sod::attach(&mut deployments, &findings);
    for d in &deployments {
        let j = d.to_json();
        assert_eq!(j["id"], json!(d.id));
    }
    // The GitHub deployment and its status are one deployment.
    let d = deployments
        .iter()
        .find(|d| d.id == "deployment:Codertocat/Hello-World/production/145988746")
        .unwrap();
    assert_eq!(
        d.commit.as_deref(),
        Some("f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
    );
    assert_eq!(d.outcome, Outcome::Succeeded);
}

#[test]
fn a_real_github_deployment() {
    let events = vec![
        real_github("deployment/payload.json", 0),
        real_github("deployment_status/payload.json", 1),
        real_github("deployment/gh-pages.payload.json", 2),
        real_github("deployment_status/gh-pages.payload.json", 3),
    ];
    let deployments = trail::build(&events, &no_evidence);
    assert_eq!(deployments.len(), 2, "{deployments:#?}");
    let d = &deployments[0];
    assert_eq!(
        d.id,
        "deployment:Codertocat/Hello-World/production/145988746"
    );
    assert_eq!(d.platform, Platform::GitHub);
    assert_eq!(d.repository.as_deref(), Some("Codertocat/Hello-World"));
    assert_eq!(d.environment, "production");
    assert_eq!(d.reference.as_deref(), Some("master"));
    assert_eq!(d.reference_type, Some("branch"));
    assert_eq!(d.default_branch.as_deref(), Some("master"));
    assert_eq!(d.task.as_deref(), Some("deploy"));
    assert_eq!(d.status.as_deref(), Some("success"));
    assert_eq!(d.outcome, Outcome::Succeeded);
    assert_eq!(d.created_at, Some(ts("2019-05-15T15:20:53Z")));
    assert_eq!(d.finished_at, Some(ts("2019-05-15T15:20:55Z")));
    assert_eq!(d.actor.as_deref(), Some("Codertocat"));
    assert_eq!(d.statuses.len(), 1);
    assert_eq!(d.entries, [0, 1]);
    // The Pages deployment: still running, not production.
    let pages = &deployments[1];
    assert_eq!(pages.environment, "github-pages");
    assert_eq!(pages.outcome, Outcome::InProgress);
    assert_eq!(pages.finished_at, None);
    assert_eq!(pages.actor.as_deref(), Some("github-pages[bot]"));

    let findings = sod::findings(&events, &deployments, &Policy::default());
    let id = d.id.as_str();
    assert_eq!(
        by_check(&findings),
        BTreeSet::from([
            pair(sod::UNGATED_DEPLOY, id),
            pair(sod::UNREVIEWED_DEPLOY, id)
        ])
    );
    assert_mentions(
        only(&findings, sod::UNGATED_DEPLOY, id),
        &[
            "f95f852bd8fc to production at 2019-05-15T15:20:53Z by Codertocat (succeeded)",
            "no gate decision for production is recorded for git:f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        ],
    );
    // A passing gate decision before it finished clears it.
    let ev = evidence_of(vec![gate(
        9,
        "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        "production",
        "pass",
        "2019-05-15T15:20:54Z",
    )]);
    let deployments = trail::build(&events, &ev);
    let findings = sod::findings(&events, &deployments, &Policy::default());
    assert_eq!(
        by_check(&findings),
        BTreeSet::from([pair(sod::UNREVIEWED_DEPLOY, id)])
    );
}

#[test]
fn a_real_pull_request_that_was_closed_unmerged() {
    let events = vec![
        real_github("pull_request/opened.payload.json", 0),
        real_github("pull_request_review/submitted.payload.json", 1),
        real_github("pull_request/closed.payload.json", 2),
        real_github("push/with-new-branch.payload.json", 3),
    ];
    let changes = trail::changes(&events);
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!(c.reference, "Codertocat/Hello-World#2");
    assert_eq!(c.author.as_deref(), Some("Codertocat"));
    assert_eq!(c.state, "closed");
    assert!(!c.merged);
    assert_eq!(c.merge_commit, None, "a test-merge commit is not a merge");
    assert_eq!(c.source_branch.as_deref(), Some("changes"));
    assert_eq!(c.target_branch.as_deref(), Some("master"));
    assert_eq!(c.created_at, Some(ts("2019-05-15T15:20:33Z")));
    assert_eq!(c.closed_at, Some(ts("2019-05-15T15:21:18Z")));
    assert_eq!(c.reviews.len(), 1);
    assert_eq!(c.reviews[0].state, ReviewState::Commented);
    assert_eq!(c.reviews[0].at, Some(ts("2019-05-15T15:20:38Z")));
    assert!(c.approvals().is_empty());
    assert_eq!(c.entries, [0, 1, 2]);
    let pushes = trail::pushes(&events);
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].branch(), Some("master"));
    assert!(pushes[0].created && !pushes[0].forced);
    assert_eq!(
        pushes[0].at,
        ts("2019-05-15T15:20:57Z"),
        "GitHub's pushed_at"
    );
    assert!(sod::findings(&events, &[], &Policy::default()).is_empty());
}

#[test]
fn real_gitlab_payloads() {
    let events = vec![
        real_gitlab("merge_request.json", 0),
        real_gitlab("push.json", 1),
        real_gitlab("deployment.json", 2),
        real_gitlab("pipeline.json", 3),
    ];
    let changes = trail::changes(&events);
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!(c.reference, "gitlabhq/gitlab-test!1");
    assert_eq!(c.author.as_deref(), Some("user1"), "the user who opened it");
    assert_eq!(c.state, "open");
    assert_eq!(
        c.head.as_deref(),
        Some("da1560886d4f094c3e6c9ef40349f7d38b5d27d7")
    );
    assert_eq!(c.requested_reviewers, ["user1"]);
    let deployments = trail::build(&events, &no_evidence);
    assert_eq!(deployments.len(), 1);
    let d = &deployments[0];
    assert_eq!(d.id, "deployment:root/test-deployment-webhooks/staging/15");
    assert_eq!(
        d.commit.as_deref(),
        Some("279484c09fbe69ededfced8c1bb6e6d24616b468")
    );
    assert_eq!(d.outcome, Outcome::Succeeded);
    assert_eq!(d.created_at, Some(ts("2021-04-28T19:50:00Z")));
    assert_eq!(d.finished_at, Some(ts("2021-04-28T19:50:00Z")));
    assert_eq!(d.actor.as_deref(), Some("user1"));
    assert_eq!(d.reference.as_deref(), Some("1.0.0"));
    assert_eq!(
        d.reference_type, None,
        "1.0.0 is neither a known branch nor tag"
    );
    // Staging is not production.
    assert!(sod::findings(&events, &deployments, &Policy::default()).is_empty());
    let staging = Policy {
        production_environments: vec!["Staging".into()],
        ..Policy::default()
    };
    let found = by_check(&sod::findings(&events, &deployments, &staging));
    assert!(
        found.contains(&pair(sod::UNGATED_DEPLOY, &d.id)),
        "{found:?}"
    );
    // Pipeline payloads name commit authors.
    let with_author = vec![
        real_gitlab("pipeline.json", 0),
        Event::new(
            Platform::GitLab,
            "Deployment Hook",
            "x",
            ts("2026-01-01T00:00:00Z"),
            1,
            json!({
                "object_kind": "deployment", "deployment_id": 1, "status": "success",
                "environment": "prod", "project": {"path_with_namespace": "gitlab-org/gitlab-test"},
                "commit_url": "http://x/-/commit/bcbb5ec396a2c0f828686f14fac9b80b780504f2"
            }),
        ),
    ];
    let d = &trail::build(&with_author, &no_evidence)[0];
    let author = d.author.as_ref().unwrap();
    assert_eq!(author.email.as_deref(), Some("user@gitlab.com"));
    assert_eq!(author.at, Some(ts("2016-08-12T15:23:21Z")));
}

// -- the GitHub story ---------------------------------------------------------------------------

#[test]
fn github_story_trail() {
    let events = story("github");
    assert_eq!(events.len(), 16);
    let ev = evidence_of(github_evidence());
    let deployments = trail::build(&events, &ev);
    let ids: Vec<&str> = deployments.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, [D1001, D1002, D1003]);
    let (m1, x1, a1, a2) = (sha("M1"), sha("X1"), sha("A1"), sha("A2"));

    let d = &deployments[0];
    assert_eq!(d.commit.as_deref(), Some(m1.as_str()));
    assert_eq!(d.reference.as_deref(), Some("main"));
    assert_eq!(d.reference_type, Some("branch"));
    assert_eq!(d.default_branch.as_deref(), Some("main"));
    assert_eq!(
        (d.outcome, d.status.as_deref()),
        (Outcome::Succeeded, Some("success"))
    );
    assert_eq!(d.created_at, Some(ts("2026-03-02T10:10:00Z")));
    assert_eq!(d.finished_at, Some(ts("2026-03-02T10:12:00Z")));
    assert_eq!(d.actor.as_deref(), Some("alice"));
    let author = d.author.as_ref().unwrap();
    assert_eq!(author.username.as_deref(), Some("alice"));
    assert_eq!(author.email.as_deref(), Some("alice@acme.example"));
    // The pull request that brought M1, its review and the push after it.
    let c = d.change.as_ref().unwrap();
    assert_eq!(c.reference, PR42);
    assert_eq!(c.title.as_deref(), Some("Rate-limit the login endpoint"));
    assert_eq!(c.author.as_deref(), Some("alice"));
    assert_eq!(c.state, "merged");
    assert_eq!(c.merged_by.as_deref(), Some("alice"));
    assert_eq!(c.merged_at, Some(ts("2026-03-02T10:00:00Z")));
    assert_eq!(c.merge_commit.as_deref(), Some(m1.as_str()));
    assert_eq!(c.head.as_deref(), Some(a2.as_str()));
    assert_eq!(c.source_branch.as_deref(), Some("rate-limit"));
    assert_eq!(c.target_branch.as_deref(), Some("main"));
    assert_eq!(c.requested_reviewers, ["bob"]);
    assert_eq!(c.reviews.len(), 1);
    let r = &c.reviews[0];
    assert_eq!(
        (r.by.as_str(), r.state, r.at, r.commit.as_deref()),
        (
            "bob",
            ReviewState::Approved,
            Some(ts("2026-03-02T09:30:00Z")),
            Some(a1.as_str())
        )
    );
    assert!(r.stale && r.self_approval.is_none() && !r.dismissed);
    let pushes: Vec<(Option<&str>, Option<&str>)> = c
        .pushes
        .iter()
        .map(|p| (p.by.as_deref(), p.after.as_deref()))
        .collect();
    assert_eq!(
        pushes,
        [
            (Some("alice"), Some(a1.as_str())),
            (Some("alice"), Some(a2.as_str()))
        ],
        "the branch's first push and the synchronize (the push delivery of A2 is the same push)"
    );
    // Who approved the production deployment, and the records about M1.
    assert_eq!(d.approvals.len(), 1);
    let a = &d.approvals[0];
    assert_eq!(
        (
            a.state.as_str(),
            a.by.as_deref(),
            a.at,
            a.environment.as_str()
        ),
        (
            "approved",
            Some("dave"),
            ts("2026-03-02T10:05:00Z"),
            "production"
        )
    );
    assert_eq!(a.comment.as_deref(), Some("Ship it"));
    let seqs = |list: &[EvidenceRef]| list.iter().map(|r| r.seq).collect::<Vec<_>>();
    assert_eq!(seqs(&d.gate_decisions), [100, 101]);
    assert_eq!(seqs(&d.scans), [102]);
    assert_eq!(seqs(&d.sboms), [103]);
    assert!(d.other_evidence.is_empty());
    assert_eq!(d.rollback, None);
    assert_eq!(
        d.rolled_back_by, None,
        "1002 replaced it, but 1002 is no rollback"
    );

    let d = &deployments[1];
    assert_eq!(d.commit.as_deref(), Some(x1.as_str()));
    assert!(d.change.is_none());
    assert_eq!(
        d.author.as_ref().unwrap().username.as_deref(),
        Some("carol")
    );
    assert_eq!(d.approvals[0].by.as_deref(), Some("carol"));
    assert!(d.gate_decisions.is_empty() && d.scans.is_empty());
    assert_eq!(d.rolled_back_by.as_deref(), Some(D1003));

    let d = &deployments[2];
    assert_eq!(d.actor.as_deref(), Some("bob"));
    let rb = d.rollback.as_ref().unwrap();
    assert_eq!(rb.reason, RollbackReason::RedeployedEarlierCommit);
    assert_eq!(rb.restores.as_deref(), Some(D1001));
    assert_eq!(rb.replaces.as_deref(), Some(D1002));
    assert!(d.approvals.is_empty(), "dave's approval was for 1001");
    assert_eq!(d.change.as_ref().unwrap().reference, PR42);
}

#[test]
fn github_story_findings() {
    let events = story("github");
    let ev = evidence_of(github_evidence());
    let mut deployments = trail::build(&events, &ev);
    let findings = sod::findings(&events, &deployments, &Policy::default());
    assert_eq!(
        by_check(&findings),
        BTreeSet::from([
            pair(sod::STALE_APPROVAL, PR42),
            pair(sod::FORCE_PUSH, "acme/api@main"),
            pair(sod::UNGATED_DEPLOY, D1001),
            pair(sod::UNGATED_DEPLOY, D1002),
            pair(sod::UNREVIEWED_DEPLOY, D1002),
            pair(sod::SELF_APPROVED_DEPLOY, D1002),
        ]),
        "{findings:#?}"
    );
    let (m1, x1, a2) = (sha("M1"), sha("X1"), sha("A2"));
    let f = only(&findings, sod::STALE_APPROVAL, PR42);
    assert_mentions(
        f,
        &[
            "bob approved acme/api#42 at 2026-03-02T09:30:00Z on c6f2ade994e4",
            "alice then pushed 69b3909d5bf1 at 2026-03-02T09:45:00Z",
            "merged at 2026-03-02T10:00:00Z by alice",
        ],
    );
    assert_eq!(f.location.author.as_deref(), Some("bob"));
    assert_eq!(f.location.commit.as_deref(), Some(a2.as_str()));
    let f = only(&findings, sod::FORCE_PUSH, "acme/api@main");
    assert_mentions(
        f,
        &[
            "carol force-pushed main of acme/api at 2026-03-02T11:00:00Z: a3034c1b0477 → e7b352563d2f",
        ],
    );
    assert_eq!(f.location.commit.as_deref(), Some(x1.as_str()));
    assert_eq!(f.location.date.as_deref(), Some("2026-03-02T11:00:00Z"));
    let f = only(&findings, sod::UNGATED_DEPLOY, D1001);
    assert_mentions(
        f,
        &[
            "a3034c1b0477 to production at 2026-03-02T10:10:00Z by alice (succeeded)",
            "entry 100 block at 2026-03-02T10:08:00Z",
            "entry 101 pass at 2026-03-02T11:20:00Z, after the deployment finished",
        ],
    );
    assert_eq!(f.location.commit.as_deref(), Some(m1.as_str()));
    assert_mentions(
        only(&findings, sod::UNGATED_DEPLOY, D1002),
        &["no gate decision for production is recorded"],
    );
    assert_mentions(
        only(&findings, sod::UNREVIEWED_DEPLOY, D1002),
        &["no merged pull or merge request brought this commit"],
    );
    assert_mentions(
        only(&findings, sod::SELF_APPROVED_DEPLOY, D1002),
        &[
            "carol approved the deployment to production at 2026-03-02T11:03:00Z",
            "carol started the deployment and authored e7b352563d2f",
        ],
    );
    for f in &findings {
        assert!(!f.controls.is_empty() && f.fingerprint.len() == 32, "{f:?}");
        assert!(f.controls.iter().any(|c| c == "soc2:CC8.1"));
    }

    // Findings go to the deployments they concern.
    sod::attach(&mut deployments, &findings);
    let checks = |d: &Deployment| -> BTreeSet<String> {
        d.findings.iter().map(|f| f.check.clone()).collect()
    };
    assert_eq!(
        checks(&deployments[0]),
        set(&[sod::STALE_APPROVAL, sod::UNGATED_DEPLOY])
    );
    assert_eq!(
        checks(&deployments[1]),
        set(&[
            sod::FORCE_PUSH,
            sod::UNGATED_DEPLOY,
            sod::UNREVIEWED_DEPLOY,
            sod::SELF_APPROVED_DEPLOY
        ])
    );
    assert_eq!(
        checks(&deployments[2]),
        set(&[sod::STALE_APPROVAL]),
        "the rollback passed its gate; its change's stale approval remains"
    );

    // Stale approvals may be made not to count; more approvals may be required.
    for policy in [
        Policy {
            count_stale_approvals: false,
            ..Policy::default()
        },
        Policy {
            min_approvals: 2,
            ..Policy::default()
        },
    ] {
        let findings = sod::findings(&events, &deployments, &policy);
        let f = only(&findings, sod::TOO_FEW_APPROVALS, PR42);
        assert_mentions(
            f,
            &[
                "acme/api#42 (opened by alice) was merged into main at 2026-03-02T10:00:00Z by alice",
                &format!("the policy requires {}", policy.min_approvals),
                "Approvals: bob at 2026-03-02T09:30:00Z (stale)",
            ],
        );
    }
}

#[test]
fn github_story_as_json() {
    let events = story("github");
    let ev = evidence_of(github_evidence());
    let mut deployments = trail::build(&events, &ev);
    let findings = sod::findings(&events, &deployments, &Policy::default());
    sod::attach(&mut deployments, &findings);
    let j = deployments[0].to_json();
    let keys: BTreeSet<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "id",
            "platform",
            "repository",
            "application",
            "environment",
            "commit",
            "ref",
            "ref_type",
            "default_branch",
            "task",
            "status",
            "outcome",
            "created_at",
            "finished_at",
            "actor",
            "statuses",
            "author",
            "change",
            "approvals",
            "gate_decisions",
            "scans",
            "sboms",
            "other_evidence",
            "rollback",
            "rolled_back_by",
            "findings",
            "entries",
        ])
    );
    assert_eq!(j["id"], D1001);
    assert_eq!(j["platform"], "github");
    assert_eq!(j["outcome"], "succeeded");
    assert_eq!(j["created_at"], "2026-03-02T10:10:00Z");
    assert_eq!(j["author"]["username"], "alice");
    assert_eq!(j["change"]["reference"], PR42);
    assert_eq!(j["change"]["approved_by"], json!(["bob"]));
    assert_eq!(j["change"]["reviews"][0]["stale"], true);
    assert_eq!(j["change"]["reviews"][0]["at"], "2026-03-02T09:30:00Z");
    assert_eq!(j["approvals"][0]["by"], "dave");
    assert_eq!(j["gate_decisions"][1]["decision"], "pass");
    assert_eq!(j["sboms"][0]["labels"]["format"], "cyclonedx");
    assert_eq!(j["findings"].as_array().unwrap().len(), 2);
    assert_eq!(
        j["findings"][0]["check"],
        sod::UNGATED_DEPLOY,
        "sorted by check"
    );
    assert_eq!(j["findings"][1]["check"], sod::STALE_APPROVAL);
    assert_eq!(j["findings"][1]["resource"], PR42);
    assert_eq!(j["findings"][1]["severity"], "medium");
    let j = deployments[2].to_json();
    assert_eq!(
        j["rollback"],
        json!({"reason": "redeployed-earlier-commit", "restores": D1001, "replaces": D1002})
    );
    assert_eq!(deployments[1].to_json()["rolled_back_by"], D1003);
    // Building twice gives the same trail.
    let again = trail::build(&events, &ev);
    assert_eq!(
        again.iter().map(Deployment::to_json).collect::<Vec<_>>()[1],
        {
            let mut d = deployments[1].clone();
            d.findings.clear();
            d.to_json()
        }
    );
}

/// The story with the review given after the last push, no force-push, one deployment with a
/// passing gate: no findings.
#[test]
fn a_clean_story_has_no_findings() {
    let mut items = story_items("github");
    items.truncate(10); // up to deployment 1001's success
    let a2 = sha("A2");
    // bob reviews A2 at 09:50, after the push.
    let mut review: Value = serde_json::from_slice(&items[2].body).unwrap();
    review["review"]["commit_id"] = json!(a2);
    review["review"]["submitted_at"] = json!("2026-03-02T09:50:00Z");
    review["pull_request"]["head"]["sha"] = json!(a2);
    review["pull_request"]["updated_at"] = json!("2026-03-02T09:50:00Z");
    let mut moved = items.remove(2);
    moved.body = serde_json::to_vec(&review).unwrap();
    moved.received = ts("2026-03-02T09:50:00Z");
    items.insert(4, moved);
    let events = events_of(&items);
    let m1 = sha("M1");
    let ev = evidence_of(vec![gate(50, &m1, "prod", "pass", "2026-03-02T10:11:00Z")]);
    let deployments = trail::build(&events, &ev);
    assert_eq!(deployments.len(), 1);
    let c = deployments[0].change.as_ref().unwrap();
    assert!(!c.reviews[0].stale);
    assert_eq!(deployments[0].approvals[0].by.as_deref(), Some("dave"));
    let findings = sod::findings(&events, &deployments, &Policy::default());
    assert!(findings.is_empty(), "{findings:#?}");
    // A gate decision recorded for another (non-production) environment does not count.
    let ev = evidence_of(vec![gate(
        50,
        &m1,
        "staging",
        "pass",
        "2026-03-02T10:11:00Z",
    )]);
    let deployments = trail::build(&events, &ev);
    let findings = sod::findings(&events, &deployments, &Policy::default());
    assert_eq!(
        by_check(&findings),
        BTreeSet::from([pair(sod::UNGATED_DEPLOY, D1001)])
    );
}

#[test]
fn a_dismissed_approval_does_not_count() {
    let mut items = story_items("github");
    items.truncate(7);
    let mut dismissed: Value = serde_json::from_slice(&items[2].body).unwrap();
    dismissed["action"] = json!("dismissed");
    dismissed["review"]["state"] = json!("dismissed");
    items.insert(
        3,
        Item {
            platform: Platform::GitHub,
            event: "pull_request_review".into(),
            delivery: "dismissed".into(),
            received: ts("2026-03-02T09:40:00Z"),
            body: serde_json::to_vec(&dismissed).unwrap(),
        },
    );
    let events = events_of(&items);
    let changes = trail::changes(&events);
    assert!(changes[0].reviews[0].dismissed);
    assert!(changes[0].approvals().is_empty());
    let findings = sod::findings(&events, &[], &Policy::default());
    assert_eq!(
        by_check(&findings),
        BTreeSet::from([pair(sod::TOO_FEW_APPROVALS, PR42)])
    );
    assert_mentions(
        &findings[0],
        &["with 0 independent approvals; the policy requires 1. Approvals: none"],
    );
    // The dismissal may be delivered before the review it dismisses.
    let mut reordered = events.clone();
    reordered.swap(2, 3);
    let changes = trail::changes(&reordered);
    assert_eq!(changes[0].reviews.len(), 1);
    assert!(changes[0].reviews[0].dismissed);
    assert_eq!(changes[0].reviews[0].state, ReviewState::Approved);
    assert!(changes[0].approvals().is_empty());
    // A repeated delivery of the review is one review.
    let mut repeated = story("github");
    repeated.truncate(7);
    let again = repeated[2].clone();
    repeated.push(again);
    assert_eq!(trail::changes(&repeated)[0].reviews.len(), 1);
}

#[test]
fn reviewers_once_asked_stay_listed() {
    // GitHub drops a reviewer from `requested_reviewers` once they review.
    let mut items = story_items("github");
    items.truncate(7);
    let mut merged: Value = serde_json::from_slice(&items[5].body).unwrap();
    merged["pull_request"]["requested_reviewers"] = json!([]);
    items[5].body = serde_json::to_vec(&merged).unwrap();
    let events = events_of(&items);
    assert_eq!(trail::changes(&events)[0].requested_reviewers, ["bob"]);
}

/// Many changes, pushes and deployments: linking uses indexes, not a scan per item.
#[test]
fn a_large_trail() {
    let at = |s: i64| Timestamp::from_second(1_772_000_000 + s).unwrap();
    let hex = |n: usize, salt: u8| format!("{salt:02x}{n:038x}");
    let mut events = Vec::new();
    let mut seq = 0u64;
    let mut push = |e: &mut Vec<Event>, kind: &str, t: i64, payload: Value| {
        e.push(Event::new(Platform::GitHub, kind, "d", at(t), seq, payload));
        seq += 1;
    };
    let repo = json!({"full_name": "acme/big", "default_branch": "main"});
    let n = 3000;
    for i in 0..n {
        let t = i64::try_from(i).unwrap() * 60;
        let (head, merge) = (hex(i, 0xaa), hex(i, 0xbb));
        let pr = |merged: bool| {
            json!({
                "number": i, "user": {"login": format!("dev{}", i % 17)},
                "head": {"ref": format!("f{i}"), "sha": head}, "base": {"ref": "main"},
                "merged": merged, "merge_commit_sha": merge, "created_at": at(t).to_string(),
                "updated_at": at(t + if merged { 30 } else { 0 }).to_string(),
                "merged_at": if merged { json!(at(t + 30).to_string()) } else { Value::Null },
            })
        };
        push(
            &mut events,
            "push",
            t,
            json!({
                "ref": format!("refs/heads/f{i}"), "before": "0".repeat(40), "after": head,
                "repository": repo, "sender": {"login": format!("dev{}", i % 17)},
                "commits": [{"id": head, "author": {"username": format!("dev{}", i % 17)}}],
            }),
        );
        push(
            &mut events,
            "pull_request",
            t,
            json!({"action": "opened", "pull_request": pr(false), "repository": repo}),
        );
        push(
            &mut events,
            "pull_request_review",
            t + 10,
            json!({
                "action": "submitted", "pull_request": pr(false), "repository": repo,
                "review": {"id": i, "state": "approved", "user": {"login": "lead"}, "commit_id": head,
                           "submitted_at": at(t + 10).to_string()},
            }),
        );
        push(
            &mut events,
            "pull_request",
            t + 30,
            json!({"action": "closed", "pull_request": pr(true), "repository": repo}),
        );
        push(
            &mut events,
            "deployment_status",
            t + 40,
            json!({
                "action": "created", "repository": repo,
                "deployment": {"id": i, "sha": merge, "ref": "main", "environment": "production",
                               "created_at": at(t + 40).to_string(), "creator": {"login": "ci"}},
                "deployment_status": {"state": "success", "created_at": at(t + 50).to_string()},
            }),
        );
    }
    let ev = |subject: &str| {
        vec![gate(
            0,
            subject.trim_start_matches("git:"),
            "production",
            "pass",
            "2026-02-25T00:00:00Z",
        )]
    };
    let deployments = trail::build(&events, &ev);
    assert_eq!(deployments.len(), n);
    assert!(
        deployments
            .iter()
            .all(|d| d.change.is_some() && d.rollback.is_none())
    );
    let findings = sod::findings(&events, &deployments, &Policy::default());
    assert!(
        findings.is_empty(),
        "{:#?}",
        &findings[..findings.len().min(3)]
    );
}

// -- the GitLab story ---------------------------------------------------------------------------

#[test]
fn gitlab_story() {
    let events = story("gitlab");
    assert_eq!(events[1].kind, "merge_request");
    let deployments = trail::build(&events, &no_evidence);
    assert_eq!(deployments.len(), 1);
    let d = &deployments[0];
    let id = "deployment:shop/api/production/31";
    let gl_m1 = sha("GL_M1");
    assert_eq!(d.id, id);
    assert_eq!(d.platform, Platform::GitLab);
    assert_eq!(d.commit.as_deref(), Some(gl_m1.as_str()));
    assert_eq!(
        (d.reference.as_deref(), d.reference_type),
        (Some("hotfix"), Some("branch"))
    );
    assert_eq!(d.outcome, Outcome::Succeeded);
    assert_eq!(d.created_at, Some(ts("2026-03-03T08:40:00Z")));
    assert_eq!(d.finished_at, Some(ts("2026-03-03T08:43:00Z")));
    let states: Vec<&str> = d.statuses.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, ["running", "success"]);
    assert_eq!(d.actor.as_deref(), Some("erin"));
    assert_eq!(d.author.as_ref().unwrap().name.as_deref(), Some("Erin"));
    let c = d.change.as_ref().unwrap();
    assert_eq!(c.reference, "shop/api!7");
    assert_eq!(c.author.as_deref(), Some("erin"));
    assert_eq!(c.merged_by.as_deref(), Some("erin"));
    assert_eq!(c.merge_commit.as_deref(), Some(gl_m1.as_str()));
    assert_eq!(c.requested_reviewers, ["frank"]);
    assert_eq!(
        c.reviews.len(),
        1,
        "`approval` and `approved` are one approval"
    );
    assert_eq!(c.reviews[0].self_approval.as_deref(), Some("opened it"));
    assert!(!c.reviews[0].stale);

    let findings = sod::findings(&events, &deployments, &Policy::default());
    assert_eq!(
        by_check(&findings),
        BTreeSet::from([
            pair(sod::SELF_APPROVED_CHANGE, "shop/api!7"),
            pair(sod::TOO_FEW_APPROVALS, "shop/api!7"),
            pair(sod::UNGATED_DEPLOY, id),
            pair(sod::NON_DEFAULT_BRANCH, id),
        ]),
        "{findings:#?}"
    );
    assert_mentions(
        only(&findings, sod::SELF_APPROVED_CHANGE, "shop/api!7"),
        &[
            "erin approved shop/api!7 at 2026-03-03T08:20:00Z, but erin opened it",
            "merged at 2026-03-03T08:30:00Z by erin",
        ],
    );
    assert_mentions(
        only(&findings, sod::TOO_FEW_APPROVALS, "shop/api!7"),
        &[
            "with 0 independent approvals",
            "erin at 2026-03-03T08:20:00Z (own change)",
        ],
    );
    assert_mentions(
        only(&findings, sod::NON_DEFAULT_BRANCH, id),
        &["deployed from branch hotfix, not the default branch main"],
    );
    // Release branches may be allowed.
    let policy = Policy {
        deploy_branches: vec!["hotfix".into()],
        ..Policy::default()
    };
    let found = by_check(&sod::findings(&events, &deployments, &policy));
    assert!(!found.contains(&pair(sod::NON_DEFAULT_BRANCH, id)));
}

// -- Argo CD ------------------------------------------------------------------------------------

fn argo(seq: u64, body: &Value) -> Event {
    let bytes = serde_json::to_vec(body).unwrap();
    Event::from_body(
        Platform::ArgoCd,
        &platform::describe(
            Platform::ArgoCd,
            &|_| None,
            &bytes,
            &Picked::parse(&bytes, Platform::ArgoCd.paths()).unwrap(),
        )
        .event,
        &platform::body_delivery(&bytes),
        ts("2026-03-04T12:00:00Z"),
        seq,
        "application/json",
        &bytes,
    )
    .unwrap()
}

fn sync(revision: &str, phase: &str, started: &str, finished: Option<&str>) -> Value {
    let mut v = json!({
        "event": "on-sync-status",
        "app": "api-prod",
        "repository": "https://github.com/acme/api.git",
        "revision": revision,
        "targetRevision": "main",
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "prod"},
        "phase": phase,
        "startedAt": started,
        "initiatedBy": {"username": "alice", "automated": false},
    });
    if let Some(f) = finished {
        v["finishedAt"] = json!(f);
    }
    v
}

#[test]
fn argocd_sync_notifications() {
    let (r1, r2, r0) = ("1".repeat(40), "2".repeat(40), "3".repeat(40));
    let mut events = vec![
        argo(0, &sync(&r1, "Running", "2026-03-04T10:00:00Z", None)),
        argo(
            1,
            &sync(
                &r1,
                "Succeeded",
                "2026-03-04T10:00:00Z",
                Some("2026-03-04T10:01:10Z"),
            ),
        ),
        argo(
            2,
            &sync(
                &r2,
                "Failed",
                "2026-03-04T11:00:00Z",
                Some("2026-03-04T11:00:30Z"),
            ),
        ),
        argo(
            3,
            &sync(
                &r2,
                "Succeeded",
                "2026-03-04T11:10:00Z",
                Some("2026-03-04T11:11:00Z"),
            ),
        ),
        argo(
            4,
            &sync(
                &r1,
                "Succeeded",
                "2026-03-04T11:30:00Z",
                Some("2026-03-04T11:31:00Z"),
            ),
        ),
    ];
    let mut explicit = sync(
        &r0,
        "Succeeded",
        "2026-03-04T12:00:00Z",
        Some("2026-03-04T12:01:00Z"),
    );
    explicit["rollback"] = json!(true);
    explicit["initiatedBy"] = json!("bob");
    events.push(argo(5, &explicit));
    let deployments = trail::build(&events, &no_evidence);
    assert_eq!(deployments.len(), 5, "{deployments:#?}");
    let d = &deployments[0];
    assert_eq!(d.id, "deployment:argocd/api-prod/prod/2026-03-04T10:00:00Z");
    assert_eq!(d.platform, Platform::ArgoCd);
    assert_eq!(d.application.as_deref(), Some("api-prod"));
    assert_eq!(d.repository.as_deref(), Some("acme/api"));
    assert_eq!(d.environment, "prod");
    assert_eq!(d.outcome, Outcome::Succeeded);
    assert_eq!(d.status.as_deref(), Some("Succeeded"));
    assert_eq!(d.created_at, Some(ts("2026-03-04T10:00:00Z")));
    assert_eq!(d.finished_at, Some(ts("2026-03-04T10:01:10Z")));
    assert_eq!(d.actor.as_deref(), Some("alice"));
    assert_eq!(d.entries, [0, 1]);
    assert_eq!(deployments[1].outcome, Outcome::Failed);
    assert_eq!(
        deployments[2].rollback, None,
        "the failed sync never went live"
    );
    let rb = deployments[3].rollback.as_ref().unwrap();
    assert_eq!(rb.reason, RollbackReason::RedeployedEarlierCommit);
    assert_eq!(rb.restores.as_deref(), Some(deployments[0].id.as_str()));
    assert_eq!(rb.replaces.as_deref(), Some(deployments[2].id.as_str()));
    assert_eq!(
        deployments[2].rolled_back_by.as_deref(),
        Some(deployments[3].id.as_str())
    );
    let rb = deployments[4].rollback.as_ref().unwrap();
    assert_eq!(rb.reason, RollbackReason::Explicit);
    assert_eq!(rb.replaces.as_deref(), Some(deployments[3].id.as_str()));
    assert_eq!(deployments[4].actor.as_deref(), Some("bob"));
    // `prod` is production: every sync lacks a gate and a reviewed change.
    let findings = sod::findings(&events, &deployments, &Policy::default());
    assert_eq!(findings.len(), 10, "{findings:#?}");
}

// -- through a real store -----------------------------------------------------------------------

fn event_draft(item: &Item, media_type: &str, body: Vec<u8>) -> Draft {
    let paths = item.platform.paths();
    let json = Picked::parse(&item.body, paths)
        .or_else(|_| Picked::parse(b"null", paths))
        .unwrap();
    let event = item.event.clone();
    let delivery = item.delivery.clone();
    let header = move |name: &str| match name {
        "x-github-event" | "x-gitlab-event" => Some(event.clone()),
        "x-github-delivery" | "x-gitlab-event-uuid" => Some(delivery.clone()),
        _ => None,
    };
    let meta = platform::describe(item.platform, &header, &item.body, &json);
    let mut labels = BTreeMap::from([
        ("platform".to_owned(), item.platform.as_str().to_owned()),
        ("event".to_owned(), meta.event.clone()),
        ("delivery".to_owned(), meta.delivery.clone()),
    ]);
    if let Some(a) = &meta.action {
        labels.insert("action".into(), a.clone());
    }
    Draft {
        kind: EvidenceKind::Event,
        subject: meta.subject(item.platform),
        controls: Vec::new(),
        predicate_type: predicate_type_for(EvidenceKind::Event),
        actor: format!("webhook:{}", item.platform.as_str()),
        now: item.received,
        retain_until: ts("2033-01-01T00:00:00Z"),
        labels,
        predicate: serde_json::Map::new(),
        content: vec![(evident_store::draft::blob(media_type, None), body)],
    }
}

fn evidence_draft(kind: EvidenceKind, subject: &str, at: &str, labels: &[(&str, &str)]) -> Draft {
    Draft {
        kind,
        subject: subject.to_owned(),
        controls: vec!["soc2:CC8.1".into()],
        predicate_type: predicate_type_for(kind),
        actor: "ci".into(),
        now: ts(at),
        retain_until: ts("2033-01-01T00:00:00Z"),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        predicate: serde_json::Map::new(),
        content: Vec::new(),
    }
}

fn percent_encode(bytes: &[u8]) -> Vec<u8> {
    let mut out = b"payload=".to_vec();
    for &b in bytes {
        if b.is_ascii_alphanumeric() {
            out.push(b);
        } else {
            out.extend(format!("%{b:02X}").bytes());
        }
    }
    out
}

#[test]
fn the_trail_of_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let key = LogKey::generate("evident.test/trail").unwrap();
    let items = story_items("github");
    let m1 = format!("git:{}", sha("M1"));
    let mut batch = Vec::new();
    for (i, item) in items.iter().enumerate() {
        // One delivery came form-encoded, as GitHub may send them.
        let (media_type, body) = if i == 2 {
            (
                "application/x-www-form-urlencoded",
                percent_encode(&item.body),
            )
        } else {
            ("application/json", item.body.clone())
        };
        batch.push(event_draft(item, media_type, body).build().unwrap());
        if i == 6 {
            // A delivery whose stored body is not JSON: skipped, with its reason.
            let bad = Item {
                platform: Platform::GitHub,
                event: "push".into(),
                delivery: "broken-1".into(),
                received: item.received,
                body: b"{not json".to_vec(),
            };
            batch.push(
                event_draft(&bad, "application/json", bad.body.clone())
                    .build()
                    .unwrap(),
            );
        }
    }
    for (kind, at, labels) in [
        (
            EvidenceKind::GateDecision,
            "2026-03-02T10:08:00Z",
            &[("environment", "production"), ("decision", "block")][..],
        ),
        (
            EvidenceKind::Scan,
            "2026-03-02T10:07:00Z",
            &[("category", "sast"), ("tool", "semgrep")][..],
        ),
        (
            EvidenceKind::Sbom,
            "2026-03-02T10:07:00Z",
            &[("format", "cyclonedx")][..],
        ),
        (
            EvidenceKind::GateDecision,
            "2026-03-02T11:20:00Z",
            &[("environment", "production"), ("decision", "pass")][..],
        ),
    ] {
        batch.push(evidence_draft(kind, &m1, at, labels).build().unwrap());
    }
    let seqs = {
        let mut writer = store.writer(&key).unwrap();
        writer.append(batch).unwrap()
    };
    assert_eq!(seqs.len(), 21);

    let loaded = trail::load_events(&store).unwrap();
    assert_eq!(loaded.events.len(), 16);
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].seq, 7);
    assert!(
        loaded.skipped[0].reason.contains("not JSON"),
        "{}",
        loaded.skipped[0].reason
    );
    let direct = story("github");
    for (got, (want, item)) in loaded.events.iter().zip(direct.iter().zip(&items)) {
        assert_eq!(got.payload, want.payload);
        assert_eq!(got.kind, want.kind);
        assert_eq!(got.action, want.action);
        assert_eq!(got.received, item.received);
        assert_eq!(got.delivery, item.delivery);
    }
    let log_order: Vec<u64> = loaded.events.iter().map(|e| e.seq).collect();
    assert!(log_order.windows(2).all(|w| w[0] < w[1]));

    let evidence = trail::store_evidence(&store).unwrap();
    let deployments = trail::build(&loaded.events, &evidence);
    assert_eq!(deployments.len(), 3);
    let d = &deployments[0];
    let decisions: Vec<Option<&str>> = d.gate_decisions.iter().map(|g| g.decision()).collect();
    assert_eq!(decisions, [Some("block"), Some("pass")]);
    assert_eq!(d.scans.len(), 1);
    assert_eq!(d.sboms[0].labels["format"], "cyclonedx");
    assert_eq!(
        d.gate_decisions[1].recorded_at,
        Some(ts("2026-03-02T11:20:00Z"))
    );
    // Only the records about the commit, never the events themselves.
    assert!(
        deployments
            .iter()
            .flat_map(|d| &d.other_evidence)
            .all(|r| r.kind != "event")
    );
    let findings = sod::findings(&loaded.events, &deployments, &Policy::default());
    let with_direct = sod::findings(
        &direct,
        &trail::build(&direct, &evidence_of(github_evidence())),
        &Policy::default(),
    );
    assert_eq!(by_check(&findings), by_check(&with_direct));
}

#[test]
fn an_empty_store_has_no_trail() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let loaded = trail::load_events(&store).unwrap();
    assert!(loaded.events.is_empty() && loaded.skipped.is_empty());
    let evidence = trail::store_evidence(&store).unwrap();
    assert!(evidence(&format!("git:{}", "a".repeat(40))).is_empty());
}

// -- checks -------------------------------------------------------------------------------------

#[test]
fn every_control_of_every_check_is_in_a_catalog() {
    let catalogs = manifest_dir().join("../evident-controls/catalogs");
    for check in sod::checks() {
        check.validate().unwrap();
        assert!(!check.controls.is_empty());
        for control in &check.controls {
            let (framework, id) = control.split_once(':').unwrap();
            let text = std::fs::read_to_string(catalogs.join(format!("{framework}.toml")))
                .unwrap_or_else(|e| panic!("{control}: {e}"));
            assert!(
                text.contains(&format!("id = \"{id}\"")),
                "{}: {control} is not in {framework}.toml",
                check.id
            );
        }
    }
}

// -- arbitrary input ----------------------------------------------------------------------------

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KEYS: &[&str] = &[
    "action",
    "pull_request",
    "number",
    "repository",
    "full_name",
    "default_branch",
    "deployment",
    "deployment_status",
    "id",
    "sha",
    "ref",
    "environment",
    "state",
    "merged",
    "merge_commit_sha",
    "head",
    "base",
    "user",
    "login",
    "review",
    "commit_id",
    "submitted_at",
    "created_at",
    "updated_at",
    "merged_at",
    "merged_by",
    "commits",
    "head_commit",
    "author",
    "username",
    "timestamp",
    "before",
    "after",
    "forced",
    "pushed_at",
    "object_kind",
    "object_attributes",
    "iid",
    "last_commit",
    "oldrev",
    "project",
    "path_with_namespace",
    "status",
    "status_changed_at",
    "commit_url",
    "deployment_id",
    "approver",
    "workflow_run",
    "head_sha",
    "workflow_job_runs",
    "app",
    "revision",
    "phase",
    "startedAt",
    "finishedAt",
    "initiatedBy",
    "rollback",
    "destination",
    "namespace",
    "task",
    "creator",
    "requested_reviewers",
    "sender",
    "source_branch",
    "target_branch",
    "author_id",
    "reviewers",
];

fn leaf(rng: &mut Rng) -> Value {
    match rng.below(12) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.below(5)),
        3 => json!(rng.next()),
        4 => json!(-i64::try_from(rng.below(1000)).unwrap()),
        5 => json!(f64::from(rng.below(100) as u32) / 3.0),
        6 => json!(["1", "2", "0", "a"][rng.below(4)].repeat(40)),
        7 => json!(rng.pick(&[
            "2026-03-02T10:00:00Z",
            "2021-04-28 21:50:00 +0200",
            "2016-08-12 15:23:28 UTC",
            "not a time",
            "",
        ])),
        8 => json!(rng.pick(&[
            "approved",
            "approval",
            "unapproved",
            "dismissed",
            "submitted",
            "closed",
            "merge",
            "update",
            "synchronize",
            "success",
            "failure",
            "inactive",
            "Running",
            "Succeeded",
            "production",
            "prod",
            "main",
            "refs/heads/main",
            "refs/tags/v1",
            "alice",
            "bob",
        ])),
        9 => json!("é\u{0}\u{7}".repeat(rng.below(200))),
        10 => json!([]),
        _ => json!({}),
    }
}

fn value(rng: &mut Rng, depth: u32) -> Value {
    if depth == 0 || rng.below(3) == 0 {
        return leaf(rng);
    }
    if rng.below(4) == 0 {
        let n = rng.below(4);
        return Value::Array((0..n).map(|_| value(rng, depth - 1)).collect());
    }
    let n = rng.below(7);
    let mut map = serde_json::Map::new();
    for _ in 0..n {
        map.insert(rng.pick(KEYS).to_owned(), value(rng, depth - 1));
    }
    Value::Object(map)
}

/// Replaces random parts of a real payload.
fn mutate(rng: &mut Rng, v: &mut Value, depth: u32) {
    match v {
        Value::Object(map) if depth > 0 => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                match rng.below(10) {
                    0 => {
                        map.insert(k, value(rng, 2));
                    }
                    1 => {
                        map.remove(&k);
                    }
                    _ => {
                        if let Some(child) = map.get_mut(&k) {
                            mutate(rng, child, depth - 1);
                        }
                    }
                }
            }
        }
        Value::Array(items) if depth > 0 => {
            for item in items {
                mutate(rng, item, depth - 1);
            }
        }
        _ => {
            if rng.below(8) == 0 {
                *v = leaf(rng);
            }
        }
    }
}

const KINDS: &[(Platform, &str)] = &[
    (Platform::GitHub, "push"),
    (Platform::GitHub, "pull_request"),
    (Platform::GitHub, "pull_request_review"),
    (Platform::GitHub, "deployment"),
    (Platform::GitHub, "deployment_status"),
    (Platform::GitHub, "deployment_review"),
    (Platform::GitHub, "deployment_protection_rule"),
    (Platform::GitHub, "workflow_run"),
    (Platform::GitLab, "Push Hook"),
    (Platform::GitLab, "Merge Request Hook"),
    (Platform::GitLab, "Deployment Hook"),
    (Platform::GitLab, "Pipeline Hook"),
    (Platform::ArgoCd, "argocd"),
    (Platform::Falco, "falco"),
];

fn exercise(events: &[Event], policy: &Policy) {
    let ev = |subject: &str| {
        vec![
            gate(
                1,
                subject.trim_start_matches("git:"),
                "production",
                "pass",
                "2026-03-02T10:00:00Z",
            ),
            EvidenceRef {
                seq: 2,
                kind: "gate-decision".into(),
                subject: subject.to_owned(),
                recorded_at: None,
                actor: String::new(),
                labels: BTreeMap::new(),
            },
        ]
    };
    let mut deployments = trail::build(events, &ev);
    let findings = sod::findings(events, &deployments, policy);
    sod::attach(&mut deployments, &findings);
    for d in &deployments {
        let _ = d.to_json();
    }
    for c in trail::changes(events) {
        let _ = c.to_json();
    }
    for p in trail::pushes(events) {
        let _ = p.to_json();
    }
}

#[test]
fn arbitrary_payloads_never_panic() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let real: Vec<Event> = story("github")
        .into_iter()
        .chain(story("gitlab"))
        .chain(every_real_payload())
        .collect();
    let policies = [
        Policy::default(),
        Policy {
            min_approvals: 0,
            count_stale_approvals: false,
            protected_branches: vec!["main".into()],
            ..Policy::default()
        },
    ];
    for round in 0..400 {
        let mut events = Vec::new();
        for seq in 0..rng.below(24) as u64 {
            let event = if rng.below(2) == 0 {
                let (platform, name) = KINDS[rng.below(KINDS.len())];
                Event::new(
                    platform,
                    name,
                    "d",
                    Timestamp::from_second(
                        1_770_000_000 + i64::try_from(rng.below(100_000)).unwrap(),
                    )
                    .unwrap(),
                    seq,
                    value(&mut rng, 5),
                )
            } else {
                let base = &real[rng.below(real.len())];
                let mut payload = base.payload.clone();
                mutate(&mut rng, &mut payload, 6);
                Event::new(base.platform, &base.event, "d", base.received, seq, payload)
            };
            events.push(event);
        }
        exercise(&events, &policies[round % 2]);
    }
    // Bodies that are not JSON objects are refused, not panicked on.
    for body in [&b""[..], b"\xff\xfe", b"[]", b"1", b"\"x\"", b"{\"a\":"] {
        assert!(
            Event::from_body(
                Platform::GitHub,
                "push",
                "d",
                Timestamp::UNIX_EPOCH,
                0,
                "application/json",
                body
            )
            .is_err()
        );
    }
}

#[test]
fn the_story_in_any_order_gives_the_same_findings() {
    let events = story("github");
    let ev = evidence_of(github_evidence());
    let want = by_check(&sod::findings(
        &events,
        &trail::build(&events, &ev),
        &Policy::default(),
    ));
    let mut rng = Rng(42);
    for _ in 0..20 {
        let mut shuffled = events.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i + 1));
        }
        let deployments = trail::build(&shuffled, &ev);
        assert_eq!(deployments.len(), 3);
        let got = by_check(&sod::findings(&shuffled, &deployments, &Policy::default()));
        assert_eq!(got, want);
    }
}
