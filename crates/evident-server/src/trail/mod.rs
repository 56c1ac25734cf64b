//! The change trail: for every deployment the webhooks told evident about, what was deployed,
//! where, when, by whom, from which reviewed change, with which gate decisions, scans and SBOMs,
//! and whether it was rolled back. This is what an auditor asks for under SOC 2 CC8.1 and
//! ISO/IEC 27001 A.8.32, read from the `event` records the server stored.
//!
//! The trail is pure: [`load_events`] reads the stored deliveries once (read-only), [`build`]
//! links them in memory, and the evidence of each commit comes from a callback
//! ([`store_evidence`] answers it from a store's index). [`crate::sod`] then checks the trail
//! for separation-of-duties and change-management problems.
//!
//! ```no_run
//! use evident_server::{sod, trail};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = evident_store::Store::open(std::path::Path::new(".evident"))?;
//! let loaded = trail::load_events(&store)?;
//! for s in &loaded.skipped {
//!     eprintln!("entry {}: {}", s.seq, s.reason);
//! }
//! let evidence = trail::store_evidence(&store)?;
//! let mut deployments = trail::build(&loaded.events, &evidence);
//! let findings = sod::findings(&loaded.events, &deployments, &sod::Policy::default());
//! sod::attach(&mut deployments, &findings);
//! let report: Vec<_> = deployments.iter().map(trail::Deployment::to_json).collect();
//! println!("{}", serde_json::to_string_pretty(&report)?);
//! # Ok(())
//! # }
//! ```
//!
//! # What is read
//!
//! | Platform | Events | Used for |
//! |---|---|---|
//! | GitHub | `push` | commit authors, pushes to change branches, force-pushes, default branches |
//! | GitHub | `pull_request`, `pull_request_review` | the change, its author, reviews, merge |
//! | GitHub | `deployment`, `deployment_status` | deployments and their statuses |
//! | GitHub | `deployment_review` | who approved (or rejected) a deployment to an environment |
//! | GitHub | `deployment_protection_rule` | a protection rule's request (kept as `requested`) |
//! | GitHub | `workflow_run`, `check_suite` | commit authors (`head_commit`) |
//! | GitLab | `push`, `tag_push` | commit authors, pushes, tags |
//! | GitLab | `merge_request` | the change; `approved`/`approval` and `unapproved`/`unapproval` |
//! | GitLab | `deployment` | deployments (one delivery per status) |
//! | GitLab | `pipeline` | commit authors |
//! | Argo CD | any notification | a sync operation, in the shape below |
//!
//! # The Argo CD notification shape
//!
//! Argo CD notifications send whatever their template renders; the trail accepts a JSON object
//! of this shape (every field but `app` optional; unknown fields are ignored):
//!
//! ```json
//! {
//!   "event": "on-sync-succeeded",
//!   "app": "api-production",
//!   "repository": "https://github.com/acme/api.git",
//!   "revision": "<full commit id>",
//!   "targetRevision": "main",
//!   "environment": "production",
//!   "destination": {"server": "https://kubernetes.default.svc", "namespace": "prod"},
//!   "phase": "Succeeded",
//!   "startedAt": "2026-03-02T10:00:00Z",
//!   "finishedAt": "2026-03-02T10:01:10Z",
//!   "initiatedBy": "alice",
//!   "rollback": false
//! }
//! ```
//!
//! `repository` (also `repoURL`) links the application to the repository's changes;
//! `environment` falls back to the destination namespace (or name), then the application;
//! `initiatedBy` may also be `{"username": "alice", "automated": false}`; `phase` is the sync
//! operation's phase (`Running`, `Succeeded`, `Failed`, `Error`, `Terminating`); `rollback`
//! marks an `argocd app rollback`. Notifications of one operation are grouped by
//! (`app`, `revision`, `startedAt`): templates should send `startedAt`.
//!
//! A matching template (`argocd-notifications-cm`):
//!
//! ```yaml
//! template.evident-sync: |
//!   webhook:
//!     evident:
//!       method: POST
//!       body: |
//!         {"app": "{{.app.metadata.name}}", "repository": "{{.app.spec.source.repoURL}}",
//!          "revision": "{{.app.status.operationState.syncResult.revision}}",
//!          "targetRevision": "{{.app.spec.source.targetRevision}}",
//!          "destination": {"server": "{{.app.spec.destination.server}}",
//!                          "namespace": "{{.app.spec.destination.namespace}}"},
//!          "phase": "{{.app.status.operationState.phase}}",
//!          "startedAt": "{{.app.status.operationState.startedAt}}",
//!          "finishedAt": "{{.app.status.operationState.finishedAt}}",
//!          "initiatedBy": "{{.app.status.operationState.operation.initiatedBy.username}}"}
//! ```
//!
//! # Limits
//!
//! Commits are linked to changes by exact commit id (the merge, squash or head commit of a
//! merged change); a deployment of a later commit that merely contains a change is not linked
//! (there is no repository to walk). GitLab sends no force-push flag and no deployment
//! approval webhook, so those facts are GitHub-only.

mod json;
mod model;
mod read;

use std::collections::BTreeMap;

use evident_ledger::record::EvidenceKind;
use evident_store::index::Query;
use evident_store::{Store, StoreError};
use jiff::Timestamp;
use serde_json::Value;

use crate::app::form_field;
use crate::platform::Platform;

pub use model::{
    Author, Change, ChangePush, Deployment, DeploymentApproval, Outcome, Push, Review, ReviewState,
    Rollback, RollbackReason, Status, build, changes, pushes,
};

pub(crate) use model::changes_and_pushes;

/// The platform of a `platform` label (`github`, `gitlab`, `argocd`, `falco`).
pub fn platform_named(name: &str) -> Option<Platform> {
    [
        Platform::GitHub,
        Platform::GitLab,
        Platform::ArgoCd,
        Platform::Falco,
    ]
    .into_iter()
    .find(|p| p.as_str() == name)
}

/// One stored webhook delivery, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Where it came from.
    pub platform: Platform,
    /// The event as recorded: the `X-GitHub-Event` header, GitLab's `X-Gitlab-Event` header
    /// (or `object_kind`), Argo CD's `event` field, the Falco rule.
    pub event: String,
    /// The event normalised for matching: GitHub's event name; GitLab's `object_kind`
    /// (`push`, `merge_request`, `deployment` …); `sync` for Argo CD; `falco` for Falco.
    pub kind: String,
    /// The action within the event (`closed`, `approved`, `merge` …), if any.
    pub action: Option<String>,
    /// The delivery id.
    pub delivery: String,
    /// When evident received (recorded) it.
    pub received: Timestamp,
    /// Its entry in the ledger.
    pub seq: u64,
    /// The payload.
    pub payload: Value,
}

/// GitLab's `X-Gitlab-Event` header values and their `object_kind`.
const GITLAB_HOOKS: &[(&str, &str)] = &[
    ("Push Hook", "push"),
    ("Tag Push Hook", "tag_push"),
    ("Merge Request Hook", "merge_request"),
    ("Pipeline Hook", "pipeline"),
    ("Job Hook", "build"),
    ("Deployment Hook", "deployment"),
    ("Release Hook", "release"),
    ("Member Hook", "member"),
    ("Note Hook", "note"),
    ("Issue Hook", "issue"),
];

impl Event {
    /// An event from its recorded facts and payload; the normalised kind and the action are
    /// read from them.
    pub fn new(
        platform: Platform,
        event: &str,
        delivery: &str,
        received: Timestamp,
        seq: u64,
        payload: Value,
    ) -> Self {
        let kind = match platform {
            Platform::GitHub => event.trim().to_ascii_lowercase(),
            Platform::GitLab => read::text(&payload, "/object_kind")
                .or_else(|| read::text(&payload, "/event_name"))
                .or_else(|| {
                    GITLAB_HOOKS
                        .iter()
                        .find(|(h, _)| h.eq_ignore_ascii_case(event.trim()))
                        .map(|(_, k)| (*k).to_owned())
                })
                .unwrap_or_else(|| event.trim().to_ascii_lowercase()),
            Platform::ArgoCd => "sync".to_owned(),
            Platform::Falco => "falco".to_owned(),
        };
        let action = match platform {
            Platform::GitHub => read::text(&payload, "/action"),
            Platform::GitLab => read::text(&payload, "/object_attributes/action")
                .or_else(|| read::text(&payload, "/status")),
            Platform::ArgoCd => read::text(&payload, "/phase"),
            Platform::Falco => read::text(&payload, "/priority"),
        };
        Self {
            platform,
            event: event.to_owned(),
            kind,
            action,
            delivery: delivery.to_owned(),
            received,
            seq,
            payload,
        }
    }

    /// An event from a stored body: JSON, or GitHub's form-encoded `payload=` field.
    pub fn from_body(
        platform: Platform,
        event: &str,
        delivery: &str,
        received: Timestamp,
        seq: u64,
        media_type: &str,
        body: &[u8],
    ) -> Result<Self, String> {
        let json = if media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            let field = form_field(body, "payload")
                .ok_or("the form-encoded body has no `payload` field")?;
            serde_json::from_slice::<Value>(&field)
        } else {
            serde_json::from_slice::<Value>(body)
        }
        .map_err(|e| format!("the body is not JSON: {e}"))?;
        if !json.is_object() {
            return Err("the payload is not a JSON object".into());
        }
        Ok(Self::new(platform, event, delivery, received, seq, json))
    }
}

/// An `event` entry that could not be read as an [`Event`], and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The entry.
    pub seq: u64,
    /// Why it was skipped.
    pub reason: String,
}

/// The stored deliveries, in log order, and the entries that could not be read.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The readable deliveries.
    pub events: Vec<Event>,
    /// The unreadable ones.
    pub skipped: Vec<Skipped>,
}

/// The size of the log as its latest checkpoint says (not verified: the trail reads, it does
/// not attest; `evident ledger verify` checks the log).
fn log_size(store: &Store) -> Result<u64, StoreError> {
    Ok(store.checkpoint_unverified()?.map_or(0, |c| c.size))
}

/// Reads every `event` entry of the store and its body, in log order. Read-only. A failing
/// index query is an error; an entry whose record, labels or body cannot be read is skipped
/// with its reason.
pub fn load_events(store: &Store) -> Result<Loaded, StoreError> {
    let size = log_size(store)?;
    let rows = store.query(&Query {
        kind: Some(EvidenceKind::Event.as_str().to_owned()),
        below: Some(size),
        ..Query::default()
    })?;
    let mut out = Loaded::default();
    for row in rows {
        match read_event(store, row.seq, size) {
            Ok(event) => out.events.push(event),
            Err(reason) => out.skipped.push(Skipped {
                seq: row.seq,
                reason,
            }),
        }
    }
    Ok(out)
}

fn read_event(store: &Store, seq: u64, size: u64) -> Result<Event, String> {
    let (_, entry) = store.entry(seq, size).map_err(|e| e.to_string())?;
    let record = &entry.record;
    let label = |name: &str| {
        record
            .labels
            .get(name)
            .cloned()
            .ok_or_else(|| format!("the record has no `{name}` label"))
    };
    let platform_name = label("platform")?;
    let platform = platform_named(&platform_name)
        .ok_or_else(|| format!("unknown platform `{platform_name}`"))?;
    let event = label("event")?;
    let delivery = label("delivery")?;
    let received = evident_store::timefmt::parse(&record.recorded_at)?;
    let blob = record
        .blobs
        .first()
        .ok_or("the record has no content: the body was not stored or was deleted")?;
    let body = store
        .blobs()
        .get(&blob.sha256)
        .map_err(|e| format!("the body: {e}"))?;
    Event::from_body(
        platform,
        &event,
        &delivery,
        received,
        seq,
        &blob.media_type,
        &body,
    )
}

/// A record the ledger holds about a commit: a gate decision, a scan, an SBOM, an approval …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRef {
    /// Its entry.
    pub seq: u64,
    /// Its kind (`gate-decision`, `scan`, `sbom`, `break-glass` …).
    pub kind: String,
    /// Its subject (`git:<commit>`).
    pub subject: String,
    /// When it was recorded.
    pub recorded_at: Option<Timestamp>,
    /// Who recorded it.
    pub actor: String,
    /// Its labels (`environment` and `decision` for gate decisions; `category`, `tool` for
    /// scans; `format` for SBOMs).
    pub labels: BTreeMap<String, String>,
}

impl EvidenceRef {
    /// The environment a gate decision or break-glass is about.
    pub fn environment(&self) -> Option<&str> {
        self.labels.get("environment").map(String::as_str)
    }

    /// A gate decision's verdict: `pass` or `block`.
    pub fn decision(&self) -> Option<&str> {
        self.labels.get("decision").map(String::as_str)
    }

    /// Is this a gate decision that passed?
    pub fn is_gate_pass(&self) -> bool {
        self.kind == EvidenceKind::GateDecision.as_str() && self.decision() == Some("pass")
    }
}

/// The kinds the trail attaches to a deployment (events are the trail itself; security and
/// deletion records are not about a commit).
fn attached_kind(kind: &str) -> bool {
    !matches!(kind, "event" | "security" | "deletion")
}

/// Answers [`build`]'s evidence callback from a store: every record whose subject is the given
/// one (`git:<commit>`), in log order, up to the log size read now. The index is queried per
/// subject; an entry or query that fails yields no evidence for it, which makes the gate check
/// report the deployment rather than pass it.
pub fn store_evidence(store: &Store) -> Result<impl Fn(&str) -> Vec<EvidenceRef> + '_, StoreError> {
    let size = log_size(store)?;
    Ok(move |subject: &str| {
        let Ok(rows) = store.query(&Query {
            subject: Some(subject.to_owned()),
            below: Some(size),
            ..Query::default()
        }) else {
            return Vec::new();
        };
        rows.into_iter()
            .filter(|row| attached_kind(&row.kind))
            .filter_map(|row| {
                let (_, entry) = store.entry(row.seq, size).ok()?;
                Some(EvidenceRef {
                    seq: row.seq,
                    kind: row.kind,
                    subject: row.subject,
                    recorded_at: Timestamp::from_second(row.recorded_at).ok(),
                    actor: row.actor,
                    labels: entry.record.labels,
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at() -> Timestamp {
        "2026-03-02T09:00:00Z".parse().unwrap()
    }

    #[test]
    fn kinds_are_normalised() {
        let e = Event::new(Platform::GitHub, "Push", "d", at(), 0, json!({}));
        assert_eq!(e.kind, "push");
        let e = Event::new(
            Platform::GitLab,
            "Merge Request Hook",
            "d",
            at(),
            0,
            json!({"object_attributes": {"action": "approved"}}),
        );
        assert_eq!(e.kind, "merge_request");
        assert_eq!(e.action.as_deref(), Some("approved"));
        let e = Event::new(
            Platform::GitLab,
            "Deployment Hook",
            "d",
            at(),
            0,
            json!({"object_kind": "deployment", "status": "success"}),
        );
        assert_eq!(
            (e.kind.as_str(), e.action.as_deref()),
            ("deployment", Some("success"))
        );
        let e = Event::new(
            Platform::ArgoCd,
            "x",
            "d",
            at(),
            0,
            json!({"phase": "Failed"}),
        );
        assert_eq!(
            (e.kind.as_str(), e.action.as_deref()),
            ("sync", Some("Failed"))
        );
    }

    #[test]
    fn bodies_json_and_form() {
        let e = Event::from_body(
            Platform::GitHub,
            "ping",
            "d",
            at(),
            3,
            "application/x-www-form-urlencoded",
            b"payload=%7B%22zen%22%3A+%22hi%22%7D",
        )
        .unwrap();
        assert_eq!(e.payload["zen"], "hi");
        assert_eq!(e.seq, 3);
        for bad in [&b"{"[..], b"[1]", b"null"] {
            assert!(
                Event::from_body(Platform::GitHub, "x", "d", at(), 0, "application/json", bad)
                    .is_err()
            );
        }
        assert!(
            Event::from_body(
                Platform::GitHub,
                "x",
                "d",
                at(),
                0,
                "application/x-www-form-urlencoded",
                b"other=1"
            )
            .is_err()
        );
    }

    #[test]
    fn platforms_by_name() {
        for p in [
            Platform::GitHub,
            Platform::GitLab,
            Platform::ArgoCd,
            Platform::Falco,
        ] {
            assert_eq!(platform_named(p.as_str()), Some(p));
        }
        assert_eq!(platform_named("bitbucket"), None);
    }
}
