//! The trail's types and how deliveries are linked into them.

use std::collections::{BTreeMap, HashMap, HashSet};

use evident_core::Finding;
use jiff::Timestamp;
use serde_json::Value;

use super::read::{self, commit_at, first_text, number, same, text, time};
use super::{Event, EvidenceRef};
use crate::platform::Platform;

/// Who wrote a commit, as the push (or CI) payload says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Author {
    /// The author's name.
    pub name: Option<String>,
    /// The author's email.
    pub email: Option<String>,
    /// The author's platform login, when the platform knows it (GitHub push payloads).
    pub username: Option<String>,
    /// The commit's timestamp (set by whoever made the commit: not proof of anything).
    pub at: Option<Timestamp>,
}

/// A review's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReviewState {
    /// Approved (GitHub review `approved`; GitLab `approved`/`approval`).
    Approved,
    /// Changes requested (GitHub).
    ChangesRequested,
    /// A comment only: neither approves nor blocks.
    Commented,
    /// A dismissal without a known earlier review.
    Dismissed,
    /// An approval withdrawn (GitLab `unapproved`/`unapproval`).
    Unapproved,
}

impl ReviewState {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::ChangesRequested => "changes_requested",
            Self::Commented => "commented",
            Self::Dismissed => "dismissed",
            Self::Unapproved => "unapproved",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "approved" | "approval" => Some(Self::Approved),
            "changes_requested" => Some(Self::ChangesRequested),
            "commented" => Some(Self::Commented),
            "dismissed" => Some(Self::Dismissed),
            "unapproved" | "unapproval" => Some(Self::Unapproved),
            _ => None,
        }
    }

    /// Whether the review decides (approves or blocks) rather than comments.
    fn decides(self) -> bool {
        matches!(
            self,
            Self::Approved | Self::ChangesRequested | Self::Unapproved
        )
    }
}

/// One review of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The reviewer's login.
    pub by: String,
    /// When it was submitted (GitHub `submitted_at`; GitLab: when the delivery arrived).
    pub at: Option<Timestamp>,
    /// What the review says.
    pub state: ReviewState,
    /// The change's head commit the review was given on.
    pub commit: Option<String>,
    /// The review was dismissed afterwards (it no longer counts).
    pub dismissed: bool,
    /// An approval given on a commit that is not the change's final head, or before a later
    /// push to the change.
    pub stale: bool,
    /// Why the approval is the reviewer's own work (`opened it`, `pushed … to it`, `authored
    /// commit …`), when it is.
    pub self_approval: Option<String>,
    /// The platform's review id (GitHub).
    pub id: Option<u64>,
    /// The ledger entry of the delivery.
    pub seq: u64,
}

/// New commits pushed to a change's source branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePush {
    /// When.
    pub at: Option<Timestamp>,
    /// Who pushed.
    pub by: Option<String>,
    /// The head before the push.
    pub before: Option<String>,
    /// The head after it.
    pub after: Option<String>,
    /// The ledger entry of the delivery.
    pub seq: u64,
}

/// A pull request (GitHub) or merge request (GitLab).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where it lives.
    pub platform: Platform,
    /// The target repository (`owner/name`, GitLab's `group/project`).
    pub repository: String,
    /// The pull request number or merge request `iid`.
    pub number: u64,
    /// `acme/api#42` (GitHub) or `group/project!7` (GitLab).
    pub reference: String,
    /// Its title.
    pub title: Option<String>,
    /// Its web page.
    pub url: Option<String>,
    /// Who opened it.
    pub author: Option<String>,
    /// `open`, `closed` or `merged`.
    pub state: String,
    /// When it was opened.
    pub created_at: Option<Timestamp>,
    /// The branch it merges from.
    pub source_branch: Option<String>,
    /// The branch it merges into.
    pub target_branch: Option<String>,
    /// The repository's default branch, as the payloads say.
    pub default_branch: Option<String>,
    /// Its head commit (at the merge, once merged).
    pub head: Option<String>,
    /// The commit the merge made on the target branch (merge, squash or rebased head).
    pub merge_commit: Option<String>,
    /// Whether it was merged.
    pub merged: bool,
    /// When.
    pub merged_at: Option<Timestamp>,
    /// By whom.
    pub merged_by: Option<String>,
    /// When it was closed (merged or not).
    pub closed_at: Option<Timestamp>,
    /// Reviewers (and `team:<slug>` teams) asked to review.
    pub requested_reviewers: Vec<String>,
    /// Every review and approval, in time order.
    pub reviews: Vec<Review>,
    /// Pushes of new commits to its source branch, in time order.
    pub pushes: Vec<ChangePush>,
    /// The ledger entries of its deliveries.
    pub entries: Vec<u64>,
}

impl Change {
    /// The approvals that count: for each reviewer, their latest deciding review, when it is
    /// an approval that was not dismissed.
    pub fn approvals(&self) -> Vec<&Review> {
        let mut latest: Vec<&Review> = Vec::new();
        for r in &self.reviews {
            if r.dismissed || !r.state.decides() {
                continue;
            }
            match latest.iter_mut().find(|l| same(&l.by, &r.by)) {
                Some(slot) => *slot = r,
                None => latest.push(r),
            }
        }
        latest.retain(|r| r.state == ReviewState::Approved);
        latest
    }

    /// Pushes to the change after `at`.
    pub fn pushes_after(&self, at: Option<Timestamp>) -> Vec<&ChangePush> {
        self.pushes
            .iter()
            .filter(|p| match (at, p.at) {
                (Some(a), Some(p)) => p > a,
                _ => false,
            })
            .collect()
    }
}

/// A push to a branch or tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// Where.
    pub platform: Platform,
    /// The repository.
    pub repository: String,
    /// The full ref (`refs/heads/main`).
    pub reference: String,
    /// The ref's commit before.
    pub before: Option<String>,
    /// The ref's commit after.
    pub after: Option<String>,
    /// A force-push (history rewritten; GitHub only).
    pub forced: bool,
    /// The ref was created.
    pub created: bool,
    /// The ref was deleted.
    pub deleted: bool,
    /// Who pushed.
    pub pusher: Option<String>,
    /// When (GitHub's `pushed_at`, else when the delivery arrived).
    pub at: Timestamp,
    /// The commits pushed (as many as the payload lists).
    pub commits: Vec<String>,
    /// The repository's default branch, as the payload says.
    pub default_branch: Option<String>,
    /// The ledger entry of the delivery.
    pub seq: u64,
}

impl Push {
    /// The branch pushed to, if it is a branch.
    pub fn branch(&self) -> Option<&str> {
        self.reference.strip_prefix("refs/heads/")
    }
}

/// How a deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded.
    Succeeded,
    /// It failed (or errored).
    Failed,
    /// It was cancelled.
    Cancelled,
    /// Queued, waiting, pending or running.
    InProgress,
    /// No status was received.
    Unknown,
}

impl Outcome {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::InProgress => "in_progress",
            Self::Unknown => "unknown",
        }
    }

    fn of(state: &str) -> Option<Self> {
        Some(match state.to_ascii_lowercase().as_str() {
            "success" | "succeeded" | "synced" | "deployed" => Self::Succeeded,
            "failure" | "failed" | "error" | "errored" => Self::Failed,
            "canceled" | "cancelled" | "terminating" | "skipped" => Self::Cancelled,
            "queued" | "pending" | "in_progress" | "waiting" | "running" | "created"
            | "blocked" => Self::InProgress,
            _ => return None,
        })
    }

    fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// One status report of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The platform's state (`success`, `failure`, `in_progress`, `running`, `Succeeded` …).
    pub state: String,
    /// When.
    pub at: Option<Timestamp>,
    /// Who reported or caused it.
    pub by: Option<String>,
    /// The status description.
    pub description: Option<String>,
    /// The ledger entry of the delivery.
    pub seq: u64,
}

/// A decision on a deployment to an environment (GitHub environment reviewers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentApproval {
    /// `approved`, `rejected`, or `requested` (a review or protection rule was asked for).
    pub state: String,
    /// The approver (for `requested`: the requester).
    pub by: Option<String>,
    /// When the delivery arrived.
    pub at: Timestamp,
    /// The environment.
    pub environment: String,
    /// The reviewer's comment.
    pub comment: Option<String>,
    /// The commit the workflow run deploys.
    pub commit: Option<String>,
    /// The ledger entry of the delivery.
    pub seq: u64,
}

/// Why a deployment is a rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackReason {
    /// The platform says so (a `rollback` task, `argocd app rollback`).
    Explicit,
    /// It deploys a commit deployed earlier to the environment, replacing a different one.
    RedeployedEarlierCommit,
    /// Its commit is older than the one it replaces (by commit timestamps).
    OlderCommit,
}

impl RollbackReason {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Explicit => "explicit",
            Self::RedeployedEarlierCommit => "redeployed-earlier-commit",
            Self::OlderCommit => "older-commit",
        }
    }
}

/// A deployment that rolls back another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    /// Why it counts as one.
    pub reason: RollbackReason,
    /// The earlier deployment of the same commit it restores.
    pub restores: Option<String>,
    /// The deployment it replaces (the one rolled back).
    pub replaces: Option<String>,
}

/// One deployment and its trail: what an auditor asks about a production change. Its JSON
/// shape (stable field names) is documented on [`Deployment::to_json`].
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// The resource name: `deployment:<repository>/<environment>/<id>` (GitHub, GitLab) or
    /// `deployment:argocd/<app>/<environment>/<started>` (Argo CD).
    pub id: String,
    /// Where it was reported.
    pub platform: Platform,
    /// The repository.
    pub repository: Option<String>,
    /// The Argo CD application.
    pub application: Option<String>,
    /// The environment.
    pub environment: String,
    /// The deployed commit.
    pub commit: Option<String>,
    /// The ref deployed (a branch, tag or commit).
    pub reference: Option<String>,
    /// Whether `reference` is a `branch`, a `tag` or a `commit`, when known.
    pub reference_type: Option<&'static str>,
    /// The repository's default branch, as the payloads say.
    pub default_branch: Option<String>,
    /// The deployment task (GitHub).
    pub task: Option<String>,
    /// The latest state reported (GitHub's `inactive` aside).
    pub status: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// When it was created (or first reported).
    pub created_at: Option<Timestamp>,
    /// When it reached a final state.
    pub finished_at: Option<Timestamp>,
    /// Who deployed.
    pub actor: Option<String>,
    /// Every status, in time order.
    pub statuses: Vec<Status>,
    /// The deployed commit's author.
    pub author: Option<Author>,
    /// The pull or merge request that brought the commit.
    pub change: Option<Change>,
    /// Environment approvals (and rejections, requests) for this deployment.
    pub approvals: Vec<DeploymentApproval>,
    /// Gate decisions recorded for the commit.
    pub gate_decisions: Vec<EvidenceRef>,
    /// Scans recorded for the commit.
    pub scans: Vec<EvidenceRef>,
    /// SBOMs recorded for the commit.
    pub sboms: Vec<EvidenceRef>,
    /// Other records about the commit (approvals, break-glass, exceptions, attestations …).
    pub other_evidence: Vec<EvidenceRef>,
    /// This deployment rolls another back.
    pub rollback: Option<Rollback>,
    /// A later deployment rolled this one back.
    pub rolled_back_by: Option<String>,
    /// The findings that concern it ([`crate::sod::attach`] fills them in).
    pub findings: Vec<Finding>,
    /// The ledger entries of its deliveries.
    pub entries: Vec<u64>,
}

impl Deployment {
    /// The branch deployed, when the ref is known to be one.
    pub fn branch(&self) -> Option<&str> {
        if self.reference_type != Some("branch") {
            return None;
        }
        self.reference.as_deref().and_then(read::branch_of)
    }
}

/// Every deployment in the events, oldest first, with its trail; `evidence(subject)` answers
/// the records about `git:<commit>` (see [`super::store_evidence`]).
pub fn build(events: &[Event], evidence: &dyn Fn(&str) -> Vec<EvidenceRef>) -> Vec<Deployment> {
    Model::read(events).deployments(evidence)
}

/// Every pull and merge request in the events, with their reviews and pushes.
pub fn changes(events: &[Event]) -> Vec<Change> {
    Model::read(events).changes
}

/// Every push in the events, in log order.
pub fn pushes(events: &[Event]) -> Vec<Push> {
    Model::read(events).pushes
}

/// [`changes`] and [`pushes`], from one reading of the events.
pub(crate) fn changes_and_pushes(events: &[Event]) -> (Vec<Change>, Vec<Push>) {
    let m = Model::read(events);
    (m.changes, m.pushes)
}

// ---------------------------------------------------------------------------------------------

fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

fn key(text: &str) -> String {
    text.to_ascii_lowercase()
}

/// The strings at `field` of the objects in the array (or the one object) at `pointer`.
fn list_at(json: &Value, pointer: &str, field: &str) -> Vec<String> {
    match json.pointer(pointer) {
        Some(Value::Array(items)) => items.iter().filter_map(|i| text(i, field)).collect(),
        Some(item @ Value::Object(_)) => text(item, field).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn add_reviewers(list: &mut Vec<String>, names: impl IntoIterator<Item = String>) {
    for name in names {
        if !list.iter().any(|n| same(n, &name)) {
            list.push(name);
        }
    }
}

struct ChangeBuild {
    change: Change,
    closed: bool,
    /// (time, entry) of the pull-request snapshot the fields come from.
    snapshot: Option<(Option<Timestamp>, u64)>,
    author_id: Option<u64>,
    /// Every head commit seen.
    heads: Vec<String>,
}

impl ChangeBuild {
    fn newer(&mut self, at: Option<Timestamp>, seq: u64) -> bool {
        let newer = self.snapshot.is_none_or(|s| (at, seq) >= s);
        if newer {
            self.snapshot = Some((at, seq));
        }
        newer
    }

    fn note_head(&mut self, head: Option<String>) {
        if let Some(h) = head {
            if !self.heads.contains(&h) {
                self.heads.push(h.clone());
            }
            if !self.change.merged {
                self.change.head = Some(h);
            }
        }
    }
}

struct DeployBuild {
    platform: Platform,
    external: String,
    repository: Option<String>,
    application: Option<String>,
    environment: Option<String>,
    commit: Option<String>,
    reference: Option<String>,
    task: Option<String>,
    actor: Option<String>,
    created_at: Option<Timestamp>,
    finished_hint: Option<Timestamp>,
    run_id: Option<u64>,
    explicit_rollback: bool,
    statuses: Vec<Status>,
    entries: Vec<u64>,
    first: (Timestamp, u64),
}

/// A deployment before approvals and rollbacks are linked.
struct Pending {
    deployment: Deployment,
    order: (Timestamp, u64),
    run_id: Option<u64>,
    explicit_rollback: bool,
}

struct ApprovalBuild {
    repository: String,
    run_id: Option<u64>,
    approval: DeploymentApproval,
}

#[derive(Default)]
struct Model {
    changes: Vec<Change>,
    building: BTreeMap<(&'static str, String, u64), ChangeBuild>,
    pushes: Vec<Push>,
    deploys: BTreeMap<String, DeployBuild>,
    approvals: Vec<ApprovalBuild>,
    commits: HashMap<String, Author>,
    default_branches: HashMap<String, String>,
    branches: HashSet<(String, String)>,
    tags: HashSet<(String, String)>,
    gitlab_users: HashMap<u64, String>,
}

impl Model {
    fn read(events: &[Event]) -> Self {
        let mut m = Self::default();
        for e in events {
            match (e.platform, e.kind.as_str()) {
                (Platform::GitHub, "push") => m.github_push(e),
                (Platform::GitHub, "pull_request" | "pull_request_review") => m.github_change(e),
                (Platform::GitHub, "deployment" | "deployment_status") => m.github_deployment(e),
                (Platform::GitHub, "deployment_review") => m.github_deployment_review(e),
                (Platform::GitHub, "deployment_protection_rule") => m.github_protection_rule(e),
                (Platform::GitHub, "workflow_run" | "check_suite") => {
                    for p in ["/workflow_run/head_commit", "/check_suite/head_commit"] {
                        if let Some(c) = e.payload.pointer(p) {
                            m.note_commit(c);
                        }
                    }
                }
                (Platform::GitLab, "push" | "tag_push") => m.gitlab_push(e),
                (Platform::GitLab, "merge_request") => m.gitlab_change(e),
                (Platform::GitLab, "deployment") => m.gitlab_deployment(e),
                (Platform::GitLab, "pipeline" | "build") => {
                    if let Some(c) = e.payload.get("commit") {
                        m.note_commit(c);
                    }
                    m.note_gitlab_user(&e.payload);
                }
                (Platform::ArgoCd, _) => m.argocd(e),
                _ => {}
            }
        }
        m.finish_changes();
        m
    }

    // -- shared facts ---------------------------------------------------------------------

    fn note_default(&mut self, repo: &str, branch: Option<String>) {
        if let Some(b) = branch {
            self.branches.insert((key(repo), b.clone()));
            self.default_branches.entry(key(repo)).or_insert(b);
        }
    }

    fn note_branch(&mut self, repo: &str, branch: Option<&str>) {
        if let Some(b) = branch {
            self.branches.insert((key(repo), b.to_owned()));
        }
    }

    /// Records a commit object's author (`{id, author: {name, email, username}, timestamp}`).
    fn note_commit(&mut self, commit: &Value) -> Option<String> {
        let id = commit_at(commit, "/id")?;
        let author = Author {
            name: text(commit, "/author/name"),
            email: text(commit, "/author/email"),
            username: text(commit, "/author/username"),
            at: time(commit, "/timestamp"),
        };
        let slot = self.commits.entry(id.clone()).or_default();
        fill(&mut slot.name, author.name);
        fill(&mut slot.email, author.email);
        fill(&mut slot.username, author.username);
        fill(&mut slot.at, author.at);
        Some(id)
    }

    fn note_commits(&mut self, list: Option<&Value>) -> Vec<String> {
        let Some(Value::Array(items)) = list else {
            return Vec::new();
        };
        items.iter().filter_map(|c| self.note_commit(c)).collect()
    }

    fn note_gitlab_user(&mut self, payload: &Value) {
        if let (Some(id), Some(name)) =
            (number(payload, "/user/id"), text(payload, "/user/username"))
        {
            self.gitlab_users.insert(id, name);
        }
    }

    fn change_entry(&mut self, platform: Platform, repo: &str, number: u64) -> &mut ChangeBuild {
        let sep = if platform == Platform::GitLab {
            '!'
        } else {
            '#'
        };
        self.building
            .entry((platform.as_str(), key(repo), number))
            .or_insert_with(|| ChangeBuild {
                change: Change {
                    platform,
                    repository: repo.to_owned(),
                    number,
                    reference: format!("{repo}{sep}{number}"),
                    title: None,
                    url: None,
                    author: None,
                    state: "open".into(),
                    created_at: None,
                    source_branch: None,
                    target_branch: None,
                    default_branch: None,
                    head: None,
                    merge_commit: None,
                    merged: false,
                    merged_at: None,
                    merged_by: None,
                    closed_at: None,
                    requested_reviewers: Vec::new(),
                    reviews: Vec::new(),
                    pushes: Vec::new(),
                    entries: Vec::new(),
                },
                closed: false,
                snapshot: None,
                author_id: None,
                heads: Vec::new(),
            })
    }

    // -- GitHub ---------------------------------------------------------------------------

    fn github_push(&mut self, e: &Event) {
        let p = &e.payload;
        let Some(repo) = text(p, "/repository/full_name") else {
            return;
        };
        let default = first_text(
            p,
            &["/repository/default_branch", "/repository/master_branch"],
        );
        self.note_default(&repo, default.clone());
        let Some(reference) = text(p, "/ref") else {
            return;
        };
        let mut commits = self.note_commits(p.get("commits"));
        if let Some(head) = p.get("head_commit").and_then(|c| self.note_commit(c))
            && !commits.contains(&head)
        {
            commits.push(head);
        }
        if let Some(tag) = reference.strip_prefix("refs/tags/") {
            self.tags.insert((key(&repo), tag.to_owned()));
        }
        self.note_branch(&repo, reference.strip_prefix("refs/heads/"));
        self.pushes.push(Push {
            platform: Platform::GitHub,
            repository: repo,
            reference,
            before: commit_at(p, "/before"),
            after: commit_at(p, "/after"),
            forced: read::flag(p, "/forced"),
            created: read::flag(p, "/created"),
            deleted: read::flag(p, "/deleted"),
            pusher: first_text(p, &["/sender/login", "/pusher/name"]),
            at: time(p, "/repository/pushed_at").unwrap_or(e.received),
            commits,
            default_branch: default,
            seq: e.seq,
        });
    }

    fn github_change(&mut self, e: &Event) {
        let p = &e.payload;
        let Some(pr) = p.get("pull_request").filter(|v| v.is_object()) else {
            return;
        };
        let Some(num) = number(pr, "/number").or_else(|| number(p, "/number")) else {
            return;
        };
        let Some(repo) =
            text(p, "/repository/full_name").or_else(|| text(pr, "/base/repo/full_name"))
        else {
            return;
        };
        let default = text(p, "/repository/default_branch");
        self.note_default(&repo, default.clone());
        self.note_branch(&repo, text(pr, "/head/ref").as_deref());
        self.note_branch(&repo, text(pr, "/base/ref").as_deref());
        let sender = text(p, "/sender/login");
        let cb = self.change_entry(Platform::GitHub, &repo, num);
        let c = &mut cb.change;
        c.entries.push(e.seq);
        fill(&mut c.default_branch, default);
        // Review payloads carry a shorter pull request, with `merged_at` but no `merged`.
        let merged_now = read::flag(pr, "/merged") || time(pr, "/merged_at").is_some();
        let snap_at = time(pr, "/updated_at");
        if (merged_now || !c.merged) && cb.newer(snap_at, e.seq) {
            let c = &mut cb.change;
            c.title = text(pr, "/title").or(c.title.take());
            c.url = text(pr, "/html_url").or(c.url.take());
            c.author = text(pr, "/user/login").or(c.author.take());
            c.created_at = time(pr, "/created_at").or(c.created_at);
            c.source_branch = text(pr, "/head/ref").or(c.source_branch.take());
            c.target_branch = text(pr, "/base/ref").or(c.target_branch.take());
            if text(pr, "/state").as_deref() == Some("closed") {
                cb.closed = true;
                cb.change.closed_at = time(pr, "/closed_at").or(cb.change.closed_at);
            } else if !merged_now {
                cb.closed = false;
            }
        }
        // GitHub drops reviewers from the list once they review: keep everyone ever asked.
        let asked = list_at(pr, "/requested_reviewers", "/login")
            .into_iter()
            .chain(list_at(p, "/requested_reviewer", "/login"))
            .chain(
                list_at(pr, "/requested_teams", "/slug")
                    .into_iter()
                    .chain(list_at(p, "/requested_team", "/slug"))
                    .map(|t| format!("team:{t}")),
            );
        add_reviewers(&mut cb.change.requested_reviewers, asked);
        cb.note_head(commit_at(pr, "/head/sha"));
        if merged_now && !cb.change.merged {
            let c = &mut cb.change;
            c.merged = true;
            c.head = commit_at(pr, "/head/sha").or(c.head.take());
            c.merge_commit = commit_at(pr, "/merge_commit_sha");
            c.merged_at = time(pr, "/merged_at").or(Some(e.received));
            c.merged_by = text(pr, "/merged_by/login").or_else(|| {
                (e.action.as_deref() == Some("closed"))
                    .then(|| sender.clone())
                    .flatten()
            });
            cb.closed = true;
            fill(&mut c.closed_at, time(pr, "/closed_at"));
        }
        let c = &mut cb.change;
        match (e.kind.as_str(), e.action.as_deref()) {
            ("pull_request", Some("synchronize")) => c.pushes.push(ChangePush {
                at: snap_at.or(Some(e.received)),
                by: sender,
                before: commit_at(p, "/before"),
                after: commit_at(p, "/after"),
                seq: e.seq,
            }),
            ("pull_request_review", Some("submitted")) => {
                let Some(review) = p.get("review") else {
                    return;
                };
                let (Some(by), Some(state)) = (
                    text(review, "/user/login"),
                    text(review, "/state").and_then(|s| ReviewState::parse(&s)),
                ) else {
                    return;
                };
                let id = number(review, "/id");
                // A dismissal delivered first left a placeholder; a repeated delivery is one
                // review.
                let mut dismissed = state == ReviewState::Dismissed;
                if let Some(i) = c.reviews.iter().position(|r| id.is_some() && r.id == id) {
                    if c.reviews[i].state != ReviewState::Dismissed {
                        return;
                    }
                    dismissed = true;
                    c.reviews.remove(i);
                }
                c.reviews.push(Review {
                    by,
                    at: time(review, "/submitted_at").or(Some(e.received)),
                    state,
                    commit: commit_at(review, "/commit_id"),
                    dismissed,
                    stale: false,
                    self_approval: None,
                    id,
                    seq: e.seq,
                });
            }
            ("pull_request_review", Some("dismissed")) => {
                let Some(review) = p.get("review") else {
                    return;
                };
                let id = number(review, "/id");
                if let Some(r) = c.reviews.iter_mut().find(|r| id.is_some() && r.id == id) {
                    r.dismissed = true;
                } else if let Some(by) = text(review, "/user/login") {
                    c.reviews.push(Review {
                        by,
                        at: time(review, "/submitted_at").or(Some(e.received)),
                        state: ReviewState::Dismissed,
                        commit: commit_at(review, "/commit_id"),
                        dismissed: true,
                        stale: false,
                        self_approval: None,
                        id,
                        seq: e.seq,
                    });
                }
            }
            _ => {}
        }
    }

    fn deploy_entry(&mut self, id: String, platform: Platform, e: &Event) -> &mut DeployBuild {
        let slot = self.deploys.entry(id).or_insert_with_key(|k| DeployBuild {
            platform,
            external: k.rsplit('|').next().unwrap_or_default().to_owned(),
            repository: None,
            application: None,
            environment: None,
            commit: None,
            reference: None,
            task: None,
            actor: None,
            created_at: None,
            finished_hint: None,
            run_id: None,
            explicit_rollback: false,
            statuses: Vec::new(),
            entries: Vec::new(),
            first: (e.received, e.seq),
        });
        slot.entries.push(e.seq);
        slot.first = slot.first.min((e.received, e.seq));
        slot
    }

    fn github_deployment(&mut self, e: &Event) {
        let p = &e.payload;
        let Some(d) = p.get("deployment").filter(|v| v.is_object()) else {
            return;
        };
        let (Some(id), Some(repo)) = (number(d, "/id"), text(p, "/repository/full_name")) else {
            return;
        };
        self.note_default(&repo, text(p, "/repository/default_branch"));
        let run_id = number(p, "/workflow_run/id");
        let environment =
            text(d, "/environment").or_else(|| text(p, "/deployment_status/environment"));
        let slot = format!(
            "github|{}|{}|{id}",
            key(&repo),
            key(environment.as_deref().unwrap_or(""))
        );
        let db = self.deploy_entry(slot, Platform::GitHub, e);
        fill(&mut db.repository, Some(repo));
        fill(&mut db.environment, environment);
        fill(&mut db.commit, commit_at(d, "/sha"));
        fill(&mut db.reference, text(d, "/ref"));
        fill(&mut db.task, text(d, "/task"));
        fill(&mut db.actor, text(d, "/creator/login"));
        fill(&mut db.created_at, time(d, "/created_at"));
        fill(&mut db.run_id, run_id);
        db.explicit_rollback |= db
            .task
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().contains("rollback"))
            || read::flag(d, "/payload/rollback");
        if e.kind == "deployment_status"
            && let Some(s) = p.get("deployment_status")
            && let Some(state) = text(s, "/state")
        {
            db.statuses.push(Status {
                state,
                at: time(s, "/created_at").or(Some(e.received)),
                by: text(s, "/creator/login"),
                description: text(s, "/description"),
                seq: e.seq,
            });
        }
    }

    fn github_deployment_review(&mut self, e: &Event) {
        let p = &e.payload;
        let Some(repo) = text(p, "/repository/full_name") else {
            return;
        };
        let Some(state) = e.action.clone() else {
            return;
        };
        if let Some(c) = p.pointer("/workflow_run/head_commit") {
            self.note_commit(c);
        }
        self.note_branch(&repo, text(p, "/workflow_run/head_branch").as_deref());
        let by = if state == "requested" {
            text(p, "/requestor/login")
        } else {
            text(p, "/approver/login")
        }
        .or_else(|| text(p, "/sender/login"));
        let mut envs: Vec<String> = Vec::new();
        let mut add = |env: Option<String>| {
            if let Some(env) = env
                && !envs.iter().any(|x| same(x, &env))
            {
                envs.push(env);
            }
        };
        if let Some(Value::Array(runs)) = p.get("workflow_job_runs") {
            for r in runs {
                add(text(r, "/environment"));
            }
        }
        add(text(p, "/workflow_job_run/environment"));
        add(text(p, "/environment"));
        let commit = commit_at(p, "/workflow_run/head_sha");
        let run_id = number(p, "/workflow_run/id");
        for environment in envs {
            self.approvals.push(ApprovalBuild {
                repository: repo.clone(),
                run_id,
                approval: DeploymentApproval {
                    state: state.clone(),
                    by: by.clone(),
                    at: e.received,
                    environment,
                    comment: text(p, "/comment"),
                    commit: commit.clone(),
                    seq: e.seq,
                },
            });
        }
    }

    fn github_protection_rule(&mut self, e: &Event) {
        let p = &e.payload;
        let Some(repo) = text(p, "/repository/full_name") else {
            return;
        };
        let environment = text(p, "/environment").or_else(|| text(p, "/deployment/environment"));
        if p.get("deployment").is_some_and(Value::is_object) {
            self.github_deployment(e);
        }
        if let Some(environment) = environment {
            self.approvals.push(ApprovalBuild {
                repository: repo,
                run_id: None,
                approval: DeploymentApproval {
                    state: "requested".into(),
                    by: text(p, "/sender/login"),
                    at: e.received,
                    environment,
                    comment: text(p, "/event").map(|ev| format!("protection rule for {ev}")),
                    commit: commit_at(p, "/deployment/sha"),
                    seq: e.seq,
                },
            });
        }
    }

    // -- GitLab ---------------------------------------------------------------------------

    fn gitlab_push(&mut self, e: &Event) {
        let p = &e.payload;
        let Some(repo) = text(p, "/project/path_with_namespace") else {
            return;
        };
        let default = text(p, "/project/default_branch");
        self.note_default(&repo, default.clone());
        let Some(reference) = text(p, "/ref") else {
            return;
        };
        let commits = self.note_commits(p.get("commits"));
        if let Some(tag) = reference.strip_prefix("refs/tags/") {
            self.tags.insert((key(&repo), tag.to_owned()));
        }
        self.note_branch(&repo, reference.strip_prefix("refs/heads/"));
        self.pushes.push(Push {
            platform: Platform::GitLab,
            repository: repo,
            reference,
            before: commit_at(p, "/before"),
            after: commit_at(p, "/after").or_else(|| commit_at(p, "/checkout_sha")),
            forced: false,
            created: p
                .get("before")
                .and_then(Value::as_str)
                .is_some_and(|b| read::commit_id(b).is_none()),
            deleted: p
                .get("after")
                .and_then(Value::as_str)
                .is_some_and(|a| read::commit_id(a).is_none()),
            pusher: text(p, "/user_username"),
            at: e.received,
            commits,
            default_branch: default,
            seq: e.seq,
        });
    }

    fn gitlab_change(&mut self, e: &Event) {
        let p = &e.payload;
        self.note_gitlab_user(p);
        let Some(oa) = p.get("object_attributes").filter(|v| v.is_object()) else {
            return;
        };
        let Some(num) = number(oa, "/iid") else {
            return;
        };
        let Some(repo) = text(p, "/project/path_with_namespace")
            .or_else(|| text(oa, "/target/path_with_namespace"))
        else {
            return;
        };
        let default = text(p, "/project/default_branch");
        self.note_default(&repo, default.clone());
        self.note_branch(&repo, text(oa, "/source_branch").as_deref());
        self.note_branch(&repo, text(oa, "/target_branch").as_deref());
        if let Some(c) = oa.get("last_commit") {
            self.note_commit(c);
        }
        let user = text(p, "/user/username");
        let action = e.action.clone().unwrap_or_default();
        let head = commit_at(oa, "/last_commit/id");
        let cb = self.change_entry(Platform::GitLab, &repo, num);
        cb.change.entries.push(e.seq);
        fill(&mut cb.change.default_branch, default);
        fill(&mut cb.author_id, number(oa, "/author_id"));
        let state = text(oa, "/state").unwrap_or_default();
        let merged_now = state == "merged" || action == "merge";
        let snap_at = time(oa, "/updated_at");
        if (merged_now || !cb.change.merged) && cb.newer(snap_at, e.seq) {
            let c = &mut cb.change;
            c.title = text(oa, "/title").or(c.title.take());
            c.url = text(oa, "/url").or(c.url.take());
            c.created_at = time(oa, "/created_at").or(c.created_at);
            c.source_branch = text(oa, "/source_branch").or(c.source_branch.take());
            c.target_branch = text(oa, "/target_branch").or(c.target_branch.take());
            cb.closed = matches!(state.as_str(), "closed" | "merged");
            if cb.closed {
                fill(&mut cb.change.closed_at, time(oa, "/closed_at"));
            }
        }
        add_reviewers(
            &mut cb.change.requested_reviewers,
            list_at(p, "/reviewers", "/username"),
        );
        if action == "open" {
            fill(&mut cb.change.author, user.clone());
        }
        cb.note_head(head.clone());
        if merged_now && !cb.change.merged {
            let c = &mut cb.change;
            c.merged = true;
            c.head = head.clone().or(c.head.take());
            c.merge_commit =
                commit_at(oa, "/merge_commit_sha").or_else(|| commit_at(oa, "/squash_commit_sha"));
            c.merged_at = time(oa, "/merged_at").or(Some(e.received));
            if action == "merge" {
                c.merged_by.clone_from(&user);
            }
            cb.closed = true;
            fill(&mut c.closed_at, c.merged_at);
        }
        let c = &mut cb.change;
        match action.as_str() {
            "approved" | "approval" | "unapproved" | "unapproval" => {
                let Some(by) = user else { return };
                let state = ReviewState::parse(&action).unwrap_or(ReviewState::Commented);
                // GitLab sends `approval` and `approved` for the approval that completes the
                // rules: one review.
                let repeat = c
                    .reviews
                    .iter()
                    .rev()
                    .find(|r| same(&r.by, &by))
                    .is_some_and(|r| r.state == state && r.commit == head);
                if !repeat {
                    c.reviews.push(Review {
                        by,
                        at: Some(e.received),
                        state,
                        commit: head,
                        dismissed: false,
                        stale: false,
                        self_approval: None,
                        id: None,
                        seq: e.seq,
                    });
                }
            }
            "update" if oa.get("oldrev").is_some_and(|v| !v.is_null()) => {
                c.pushes.push(ChangePush {
                    at: snap_at.or(Some(e.received)),
                    by: user,
                    before: commit_at(oa, "/oldrev"),
                    after: head,
                    seq: e.seq,
                });
            }
            _ => {}
        }
    }

    fn gitlab_deployment(&mut self, e: &Event) {
        let p = &e.payload;
        self.note_gitlab_user(p);
        let (Some(id), Some(repo)) = (
            number(p, "/deployment_id"),
            text(p, "/project/path_with_namespace"),
        ) else {
            return;
        };
        self.note_default(&repo, text(p, "/project/default_branch"));
        let commit = p
            .get("commit_url")
            .and_then(Value::as_str)
            .and_then(|u| u.rsplit('/').next())
            .and_then(read::commit_id);
        let actor = text(p, "/user/username");
        let db = self.deploy_entry(format!("gitlab|{}|{id}", key(&repo)), Platform::GitLab, e);
        fill(&mut db.repository, Some(repo));
        fill(&mut db.environment, text(p, "/environment"));
        fill(&mut db.commit, commit);
        fill(&mut db.reference, text(p, "/ref"));
        fill(&mut db.actor, actor.clone());
        if let Some(state) = text(p, "/status") {
            db.statuses.push(Status {
                state,
                at: time(p, "/status_changed_at").or(Some(e.received)),
                by: actor,
                description: None,
                seq: e.seq,
            });
        }
    }

    // -- Argo CD --------------------------------------------------------------------------

    fn argocd(&mut self, e: &Event) {
        let p = &e.payload;
        let Some(app) = text(p, "/app") else {
            return;
        };
        let repository = first_text(p, &["/repository", "/repoURL", "/source/repoURL"])
            .and_then(|r| read::repository_name(&r));
        let revision = commit_at(p, "/revision");
        let environment = first_text(
            p,
            &[
                "/environment",
                "/destination/namespace",
                "/destination/name",
                "/destination",
            ],
        )
        .unwrap_or_else(|| app.clone());
        let started = text(p, "/startedAt");
        let finished = text(p, "/finishedAt");
        let event = text(p, "/event");
        let phase = text(p, "/phase").or_else(|| {
            let ev = event.as_deref()?.to_ascii_lowercase();
            ["succeeded", "failed", "running", "error"]
                .into_iter()
                .find(|w| ev.contains(w))
                .map(str::to_owned)
        });
        let actor = text(p, "/initiatedBy")
            .or_else(|| text(p, "/initiatedBy/username"))
            .or_else(|| read::flag(p, "/initiatedBy/automated").then(|| "automated".to_owned()));
        let group = started
            .clone()
            .or_else(|| finished.clone())
            .unwrap_or_else(|| format!("entry-{}", e.seq));
        let id = format!(
            "argocd|{}|{}|{group}",
            key(&app),
            revision.as_deref().unwrap_or("-")
        );
        let db = self.deploy_entry(id, Platform::ArgoCd, e);
        db.external = group;
        fill(&mut db.application, Some(app));
        fill(&mut db.repository, repository);
        fill(&mut db.environment, Some(environment));
        fill(&mut db.commit, revision);
        fill(
            &mut db.reference,
            first_text(p, &["/targetRevision", "/branch"]),
        );
        fill(&mut db.actor, actor.clone());
        fill(
            &mut db.created_at,
            started.as_deref().and_then(read::parse_time),
        );
        let finished_at = finished.as_deref().and_then(read::parse_time);
        fill(&mut db.finished_hint, finished_at);
        db.explicit_rollback |= read::flag(p, "/rollback")
            || event
                .as_deref()
                .is_some_and(|ev| ev.to_ascii_lowercase().contains("rollback"));
        if let Some(state) = phase {
            db.statuses.push(Status {
                state,
                at: finished_at
                    .or_else(|| started.as_deref().and_then(read::parse_time))
                    .or(Some(e.received)),
                by: actor,
                description: text(p, "/message"),
                seq: e.seq,
            });
        }
    }

    // -- assembling -----------------------------------------------------------------------

    fn finish_changes(&mut self) {
        let building = std::mem::take(&mut self.building);
        let mut index: HashMap<(&'static str, String, String), Vec<usize>> = HashMap::new();
        for (i, p) in self.pushes.iter().enumerate() {
            if let Some(branch) = p.branch() {
                index
                    .entry((p.platform.as_str(), key(&p.repository), branch.to_owned()))
                    .or_default()
                    .push(i);
            }
        }
        let mut out = Vec::with_capacity(building.len());
        for (_, mut cb) in building {
            if cb.change.author.is_none()
                && let Some(id) = cb.author_id
            {
                cb.change.author = self.gitlab_users.get(&id).cloned();
            }
            let c = &mut cb.change;
            let state = if c.merged {
                "merged"
            } else if cb.closed {
                "closed"
            } else {
                "open"
            };
            state.clone_into(&mut c.state);
            let commits = self.add_branch_pushes(c, &cb.heads, &index);
            c.pushes.sort_by_key(|p| (p.at, p.seq));
            c.reviews.sort_by_key(|r| (r.at, r.seq));
            self.judge_reviews(c, &commits);
            out.push(cb.change);
        }
        out.sort_by(|a, b| (a.created_at, &a.reference).cmp(&(b.created_at, &b.reference)));
        self.changes = out;
    }

    /// Pushes to the change's source branch (from `push` deliveries) that its own events do not
    /// already show: those of a commit the change had as its head, or made while it was open.
    /// Returns the commits those pushes carried.
    fn add_branch_pushes(
        &self,
        c: &mut Change,
        heads: &[String],
        index: &HashMap<(&'static str, String, String), Vec<usize>>,
    ) -> Vec<String> {
        let mut commits = Vec::new();
        let Some(source) = c.source_branch.clone() else {
            return commits;
        };
        let end = c.merged_at.or(c.closed_at);
        let slot = (c.platform.as_str(), key(&c.repository), source);
        for &i in index.get(&slot).map_or(&[][..], Vec::as_slice) {
            let push = &self.pushes[i];
            let Some(after) = &push.after else { continue };
            let while_open =
                c.created_at.is_some_and(|s| push.at >= s) && end.is_none_or(|e| push.at <= e);
            if !heads.contains(after) && !while_open {
                continue;
            }
            commits.extend(push.commits.iter().cloned());
            if !c.pushes.iter().any(|p| p.after.as_ref() == Some(after)) {
                c.pushes.push(ChangePush {
                    at: Some(push.at),
                    by: push.pusher.clone(),
                    before: push.before.clone(),
                    after: Some(after.clone()),
                    seq: push.seq,
                });
            }
        }
        commits
    }

    /// Why `who` cannot independently review `c` (whose pushes carried `commits`), if they
    /// cannot.
    fn own_work(&self, c: &Change, commits: &[String], who: &str) -> Option<String> {
        if c.author.as_deref().is_some_and(|a| same(a, who)) {
            return Some("opened it".into());
        }
        if let Some(p) = c
            .pushes
            .iter()
            .find(|p| p.by.as_deref().is_some_and(|b| same(b, who)))
        {
            return Some(match &p.after {
                Some(after) => format!("pushed {} to it", read::short(after)),
                None => "pushed to it".into(),
            });
        }
        commits.iter().chain(c.head.iter()).find_map(|id| {
            self.commits
                .get(id)
                .and_then(|a| a.username.as_deref())
                .filter(|u| same(u, who))
                .map(|_| format!("authored commit {}", read::short(id)))
        })
    }

    fn judge_reviews(&self, c: &mut Change, commits: &[String]) {
        let mut judged = Vec::with_capacity(c.reviews.len());
        for r in &c.reviews {
            let mut r = r.clone();
            if r.state == ReviewState::Approved {
                r.stale = match (&r.commit, &c.head) {
                    (Some(commit), Some(head)) => commit != head,
                    _ => !c.pushes_after(r.at).is_empty(),
                };
                r.self_approval = self.own_work(c, commits, &r.by);
            }
            judged.push(r);
        }
        c.reviews = judged;
    }

    fn reference_type(&self, repo: Option<&str>, reference: &str) -> Option<&'static str> {
        if reference.starts_with("refs/heads/") {
            return Some("branch");
        }
        if reference.starts_with("refs/tags/") {
            return Some("tag");
        }
        if read::commit_id(reference).is_some() {
            return Some("commit");
        }
        let repo = key(repo?);
        if self.tags.contains(&(repo.clone(), reference.to_owned())) {
            return Some("tag");
        }
        if self.branches.contains(&(repo, reference.to_owned())) {
            return Some("branch");
        }
        None
    }

    /// The change that brought `commit`: a merged change whose merge commit it is, else a
    /// merged change whose head it is, else an open one whose head it is; the same repository
    /// first, then the latest merged.
    fn change_of(
        &self,
        by_commit: &HashMap<&str, Vec<usize>>,
        repo: Option<&str>,
        commit: &str,
    ) -> Option<&Change> {
        let rank = |c: &Change| -> Option<u8> {
            if c.merged && c.merge_commit.as_deref() == Some(commit) {
                Some(0)
            } else if c.merged && c.head.as_deref() == Some(commit) {
                Some(1)
            } else if c.head.as_deref() == Some(commit) {
                Some(2)
            } else {
                None
            }
        };
        by_commit
            .get(commit)?
            .iter()
            .filter_map(|&i| {
                let c = &self.changes[i];
                let r = rank(c)?;
                let other_repo = !repo.is_some_and(|repo| same(repo, &c.repository));
                Some(((other_repo, r, std::cmp::Reverse(c.merged_at)), c))
            })
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, c)| c)
    }

    fn deployments(self, evidence: &dyn Fn(&str) -> Vec<EvidenceRef>) -> Vec<Deployment> {
        let mut cache: HashMap<String, Vec<EvidenceRef>> = HashMap::new();
        let mut by_commit: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, c) in self.changes.iter().enumerate() {
            for commit in c.merge_commit.iter().chain(c.head.iter()) {
                let list = by_commit.entry(commit.as_str()).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        let mut out: Vec<Pending> = Vec::new();
        for db in self.deploys.values() {
            let mut statuses = db.statuses.clone();
            statuses.sort_by_key(|s| (s.at, s.seq));
            let last = statuses
                .iter()
                .rev()
                .find(|s| !s.state.eq_ignore_ascii_case("inactive"));
            let outcome = last
                .and_then(|s| Outcome::of(&s.state))
                .unwrap_or(if last.is_some() {
                    Outcome::InProgress
                } else {
                    Outcome::Unknown
                });
            let finished_at = if outcome.is_final() {
                db.finished_hint.or_else(|| {
                    statuses
                        .iter()
                        .find(|s| Outcome::of(&s.state).is_some_and(Outcome::is_final))
                        .and_then(|s| s.at)
                })
            } else {
                None
            };
            let environment = db
                .environment
                .clone()
                .unwrap_or_else(|| "unknown".to_owned());
            let id = match db.platform {
                Platform::ArgoCd => format!(
                    "deployment:argocd/{}/{environment}/{}",
                    db.application.as_deref().unwrap_or("unknown"),
                    db.external
                ),
                _ => format!(
                    "deployment:{}/{environment}/{}",
                    db.repository.as_deref().unwrap_or("unknown"),
                    db.external
                ),
            };
            let repo = db.repository.as_deref();
            let default_branch = repo.and_then(|r| self.default_branches.get(&key(r)).cloned());
            let mut d = Deployment {
                id,
                platform: db.platform,
                repository: db.repository.clone(),
                application: db.application.clone(),
                environment,
                commit: db.commit.clone(),
                reference: db.reference.clone(),
                reference_type: db
                    .reference
                    .as_deref()
                    .and_then(|r| self.reference_type(repo, r)),
                default_branch,
                task: db.task.clone(),
                status: last.map(|s| s.state.clone()),
                outcome,
                created_at: db.created_at.or_else(|| statuses.iter().find_map(|s| s.at)),
                finished_at,
                actor: db.actor.clone(),
                statuses,
                author: db
                    .commit
                    .as_ref()
                    .and_then(|c| self.commits.get(c).cloned()),
                change: db
                    .commit
                    .as_deref()
                    .and_then(|c| self.change_of(&by_commit, repo, c))
                    .cloned(),
                approvals: Vec::new(),
                gate_decisions: Vec::new(),
                scans: Vec::new(),
                sboms: Vec::new(),
                other_evidence: Vec::new(),
                rollback: None,
                rolled_back_by: None,
                findings: Vec::new(),
                entries: db.entries.clone(),
            };
            if let Some(commit) = &d.commit {
                let subject = format!("git:{commit}");
                let records = cache
                    .entry(subject.clone())
                    .or_insert_with(|| evidence(&subject));
                for r in records.iter() {
                    let list = match r.kind.as_str() {
                        "gate-decision" => &mut d.gate_decisions,
                        "scan" => &mut d.scans,
                        "sbom" => &mut d.sboms,
                        _ => &mut d.other_evidence,
                    };
                    list.push(r.clone());
                }
            }
            out.push(Pending {
                order: (d.created_at.unwrap_or(db.first.0), db.first.1),
                deployment: d,
                run_id: db.run_id,
                explicit_rollback: db.explicit_rollback,
            });
        }
        out.sort_by_key(|p| p.order);
        self.attach_approvals(&mut out);
        let explicit: Vec<bool> = out.iter().map(|p| p.explicit_rollback).collect();
        let mut deployments: Vec<Deployment> = out.into_iter().map(|p| p.deployment).collect();
        self.find_rollbacks(&mut deployments, &explicit);
        deployments
    }

    /// Each environment approval goes to the first deployment (oldest first) of its workflow
    /// run, or else of its repository, environment and commit, that had not finished before it.
    fn attach_approvals(&self, out: &mut [Pending]) {
        let mut index: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, p) in out.iter().enumerate() {
            if let (Platform::GitHub, Some(repo)) =
                (p.deployment.platform, &p.deployment.repository)
            {
                index
                    .entry((key(repo), key(&p.deployment.environment)))
                    .or_default()
                    .push(i);
            }
        }
        for a in &self.approvals {
            let slot = (key(&a.repository), key(&a.approval.environment));
            let found = index.get(&slot).and_then(|list| {
                list.iter().copied().find(|&i| {
                    let (d, run) = (&out[i].deployment, out[i].run_id);
                    let same_run = match (a.run_id, run) {
                        (Some(x), Some(y)) => x == y,
                        _ => a.approval.commit.is_some() && d.commit == a.approval.commit,
                    };
                    same_run && d.finished_at.is_none_or(|f| a.approval.at <= f)
                })
            });
            if let Some(i) = found {
                out[i].deployment.approvals.push(a.approval.clone());
            }
        }
        for p in out.iter_mut() {
            p.deployment.approvals.sort_by_key(|a| (a.at, a.seq));
        }
    }

    /// Marks rollbacks: per repository (or application) and environment, in time order.
    fn find_rollbacks(&self, deployments: &mut [Deployment], explicit: &[bool]) {
        let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (i, d) in deployments.iter().enumerate() {
            let owner = d
                .repository
                .as_deref()
                .or(d.application.as_deref())
                .unwrap_or("");
            groups
                .entry((key(owner), key(&d.environment)))
                .or_default()
                .push(i);
        }
        for indexes in groups.values() {
            let mut live: Option<usize> = None;
            let mut history: Vec<usize> = Vec::new();
            for &i in indexes {
                let commit = deployments[i].commit.clone();
                let mut rollback = None;
                if let (Some(prev), Some(commit)) = (live, &commit)
                    && deployments[prev].commit.as_ref() != Some(commit)
                {
                    let restores = history
                        .iter()
                        .rev()
                        .find(|&&j| deployments[j].commit.as_ref() == Some(commit))
                        .copied();
                    if let Some(j) = restores {
                        rollback = Some(Rollback {
                            reason: RollbackReason::RedeployedEarlierCommit,
                            restores: Some(deployments[j].id.clone()),
                            replaces: Some(deployments[prev].id.clone()),
                        });
                    } else {
                        let when = |c: Option<&String>| {
                            c.and_then(|c| self.commits.get(c)).and_then(|a| a.at)
                        };
                        if let (Some(mine), Some(theirs)) =
                            (when(Some(commit)), when(deployments[prev].commit.as_ref()))
                            && mine < theirs
                        {
                            rollback = Some(Rollback {
                                reason: RollbackReason::OlderCommit,
                                restores: None,
                                replaces: Some(deployments[prev].id.clone()),
                            });
                        }
                    }
                }
                if rollback.is_none() && explicit.get(i).copied().unwrap_or(false) {
                    rollback = Some(Rollback {
                        reason: RollbackReason::Explicit,
                        restores: history
                            .iter()
                            .rev()
                            .find(|&&j| commit.is_some() && deployments[j].commit == commit)
                            .map(|&j| deployments[j].id.clone()),
                        replaces: live.map(|j| deployments[j].id.clone()),
                    });
                }
                if let Some(rb) = &rollback
                    && let Some(prev) = live
                    && rb.replaces.as_ref() == Some(&deployments[prev].id)
                {
                    deployments[prev].rolled_back_by = Some(deployments[i].id.clone());
                }
                deployments[i].rollback = rollback;
                if matches!(
                    deployments[i].outcome,
                    Outcome::Succeeded | Outcome::InProgress | Outcome::Unknown
                ) {
                    live = Some(i);
                    history.push(i);
                }
            }
        }
    }
}
