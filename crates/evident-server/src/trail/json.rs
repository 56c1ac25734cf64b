//! The trail as JSON. Field names are stable: add fields, never rename or remove one.
//!
//! The shape is documented on [`Deployment::to_json`].

use evident_store::timefmt;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::EvidenceRef;
use super::model::{
    Author, Change, ChangePush, Deployment, DeploymentApproval, Push, Review, Rollback, Status,
};

fn t(at: Option<Timestamp>) -> Value {
    at.map_or(Value::Null, |t| json!(timefmt::format(t)))
}

impl Author {
    /// The author as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "email": self.email,
            "username": self.username,
            "at": t(self.at),
        })
    }
}

impl Review {
    /// The review as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "by": self.by,
            "at": t(self.at),
            "state": self.state.as_str(),
            "commit": self.commit,
            "dismissed": self.dismissed,
            "stale": self.stale,
            "self_approval": self.self_approval,
            "id": self.id,
            "entry": self.seq,
        })
    }
}

impl ChangePush {
    /// The push as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "at": t(self.at),
            "by": self.by,
            "before": self.before,
            "after": self.after,
            "entry": self.seq,
        })
    }
}

impl Change {
    /// The change as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "platform": self.platform.as_str(),
            "repository": self.repository,
            "number": self.number,
            "reference": self.reference,
            "title": self.title,
            "url": self.url,
            "author": self.author,
            "state": self.state,
            "created_at": t(self.created_at),
            "source_branch": self.source_branch,
            "target_branch": self.target_branch,
            "default_branch": self.default_branch,
            "head": self.head,
            "merge_commit": self.merge_commit,
            "merged": self.merged,
            "merged_at": t(self.merged_at),
            "merged_by": self.merged_by,
            "closed_at": t(self.closed_at),
            "requested_reviewers": self.requested_reviewers,
            "approved_by": self.approvals().iter().map(|r| r.by.clone()).collect::<Vec<_>>(),
            "reviews": self.reviews.iter().map(Review::to_json).collect::<Vec<_>>(),
            "pushes": self.pushes.iter().map(ChangePush::to_json).collect::<Vec<_>>(),
            "entries": self.entries,
        })
    }
}

impl Push {
    /// The push as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "platform": self.platform.as_str(),
            "repository": self.repository,
            "ref": self.reference,
            "before": self.before,
            "after": self.after,
            "forced": self.forced,
            "created": self.created,
            "deleted": self.deleted,
            "pusher": self.pusher,
            "at": t(Some(self.at)),
            "commits": self.commits,
            "default_branch": self.default_branch,
            "entry": self.seq,
        })
    }
}

impl Status {
    /// The status as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "state": self.state,
            "at": t(self.at),
            "by": self.by,
            "description": self.description,
            "entry": self.seq,
        })
    }
}

impl DeploymentApproval {
    /// The approval as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "state": self.state,
            "by": self.by,
            "at": t(Some(self.at)),
            "environment": self.environment,
            "comment": self.comment,
            "commit": self.commit,
            "entry": self.seq,
        })
    }
}

impl Rollback {
    /// The rollback as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "reason": self.reason.as_str(),
            "restores": self.restores,
            "replaces": self.replaces,
        })
    }
}

impl EvidenceRef {
    /// The record as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "entry": self.seq,
            "kind": self.kind,
            "subject": self.subject,
            "recorded_at": t(self.recorded_at),
            "actor": self.actor,
            "labels": self.labels,
            "environment": self.environment(),
            "decision": self.decision(),
        })
    }
}

fn list(items: &[EvidenceRef]) -> Value {
    Value::Array(items.iter().map(EvidenceRef::to_json).collect())
}

impl Deployment {
    /// The deployment and its trail as JSON, with stable field names (fields may be added,
    /// never renamed or removed).
    ///
    /// Times are RFC 3339 UTC with whole seconds (`2026-03-02T10:12:00Z`); anything unknown is
    /// `null` (lists are empty). A deployment:
    ///
    /// ```text
    /// {
    ///   "id": "deployment:acme/api/production/1001",   the resource name findings use
    ///   "platform": "github" | "gitlab" | "argocd",
    ///   "repository": "acme/api" | null,
    ///   "application": "api-production" | null,        Argo CD application
    ///   "environment": "production",
    ///   "commit": "<full commit id>" | null,
    ///   "ref": "main" | null,
    ///   "ref_type": "branch" | "tag" | "commit" | null,
    ///   "default_branch": "main" | null,
    ///   "task": "deploy" | null,
    ///   "status": "success" | null,                      the platform's latest state
    ///   "outcome": "succeeded" | "failed" | "cancelled" | "in_progress" | "unknown",
    ///   "created_at": time | null,
    ///   "finished_at": time | null,
    ///   "actor": "alice" | null,                          who deployed
    ///   "statuses": [{"state", "at", "by", "description", "entry"}],
    ///   "author": {"name", "email", "username", "at"} | null,   the commit's author
    ///   "change": Change | null,                          the pull / merge request
    ///   "approvals": [{"state": "approved" | "rejected" | "requested", "by", "at",
    ///                  "environment", "comment", "commit", "entry"}],
    ///   "gate_decisions": [Evidence], "scans": [Evidence], "sboms": [Evidence],
    ///   "other_evidence": [Evidence],
    ///   "rollback": {"reason": "explicit" | "redeployed-earlier-commit" | "older-commit",
    ///                "restores": id | null, "replaces": id | null} | null,
    ///   "rolled_back_by": id | null,
    ///   "findings": [Finding],                            as `evident scan` reports them
    ///   "entries": [ledger entry numbers of the deliveries]
    /// }
    /// Change: {"platform", "repository", "number", "reference": "acme/api#42", "title", "url",
    ///   "author", "state": "open" | "closed" | "merged", "created_at", "source_branch",
    ///   "target_branch", "default_branch", "head", "merge_commit", "merged", "merged_at",
    ///   "merged_by", "closed_at", "requested_reviewers": [login],
    ///   "approved_by": [login],                           the approvals that count
    ///   "reviews": [{"by", "at", "state": "approved" | "changes_requested" | "commented" |
    ///                "dismissed" | "unapproved", "commit", "dismissed", "stale",
    ///                "self_approval": reason | null, "id", "entry"}],
    ///   "pushes": [{"at", "by", "before", "after", "entry"}],
    ///   "entries": [..]}
    /// Evidence: {"entry", "kind", "subject", "recorded_at", "actor", "labels": {..},
    ///   "environment", "decision"}
    /// ```
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "platform": self.platform.as_str(),
            "repository": self.repository,
            "application": self.application,
            "environment": self.environment,
            "commit": self.commit,
            "ref": self.reference,
            "ref_type": self.reference_type,
            "default_branch": self.default_branch,
            "task": self.task,
            "status": self.status,
            "outcome": self.outcome.as_str(),
            "created_at": t(self.created_at),
            "finished_at": t(self.finished_at),
            "actor": self.actor,
            "statuses": self.statuses.iter().map(Status::to_json).collect::<Vec<_>>(),
            "author": self.author.as_ref().map(Author::to_json),
            "change": self.change.as_ref().map(Change::to_json),
            "approvals": self.approvals.iter().map(DeploymentApproval::to_json).collect::<Vec<_>>(),
            "gate_decisions": list(&self.gate_decisions),
            "scans": list(&self.scans),
            "sboms": list(&self.sboms),
            "other_evidence": list(&self.other_evidence),
            "rollback": self.rollback.as_ref().map(Rollback::to_json),
            "rolled_back_by": self.rolled_back_by,
            "findings": self
                .findings
                .iter()
                .map(|f| serde_json::to_value(f).unwrap_or(Value::Null))
                .collect::<Vec<_>>(),
            "entries": self.entries,
        })
    }
}
