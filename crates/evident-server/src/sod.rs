//! Separation of duties and change management, checked on the trail ([`crate::trail`]).
//!
//! Each rule is a [`Check`] ([`checks`] lists them for `evident checks`); [`findings`] reports
//! what the deliveries show, with the people and times involved in the message and, as the
//! finding's `resource`, the change (`acme/api#42`, `group/project!7`), the deployment
//! (`deployment:acme/api/production/1001`) or the branch (`acme/api@main`).
//!
//! | Check | What |
//! |---|---|
//! | `self-approved-change` | an approval by the change's author, or by someone who pushed to it |
//! | `stale-approval` | a merged change whose approval predates its last push |
//! | `merged-without-required-approvals` | merged with fewer independent approvals than [`Policy::min_approvals`] |
//! | `production-deploy-without-passing-gate` | no `pass` gate decision for the commit and environment before the deployment finished |
//! | `force-push-to-protected-branch` | a force-push to the default (or a protected) branch |
//! | `production-deploy-from-non-default-branch` | a production deployment of another branch |
//! | `self-approved-production-deploy` | the environment approver deployed, or wrote, the change |
//! | `production-deploy-without-reviewed-change` | the deployed commit came from no merged pull / merge request |

use evident_core::{Check, Confidence, Finding, Location, Severity};
use evident_store::timefmt;
use jiff::Timestamp;

use crate::trail::{self, Change, Deployment, Event, Outcome, Push, Review};

/// The scanner name of these checks.
pub const SCANNER: &str = "sod";

/// An approval by the change's own author (or someone who pushed to it).
pub const SELF_APPROVED_CHANGE: &str = "self-approved-change";
/// An approval older than the last push to the change.
pub const STALE_APPROVAL: &str = "stale-approval";
/// Merged with too few independent approvals.
pub const TOO_FEW_APPROVALS: &str = "merged-without-required-approvals";
/// A production deployment without a passing gate decision.
pub const UNGATED_DEPLOY: &str = "production-deploy-without-passing-gate";
/// A force-push to the default or a protected branch.
pub const FORCE_PUSH: &str = "force-push-to-protected-branch";
/// A production deployment of a branch other than the default one.
pub const NON_DEFAULT_BRANCH: &str = "production-deploy-from-non-default-branch";
/// An environment approval by the deployer or the change's author.
pub const SELF_APPROVED_DEPLOY: &str = "self-approved-production-deploy";
/// A production deployment of a commit no merged change brought.
pub const UNREVIEWED_DEPLOY: &str = "production-deploy-without-reviewed-change";

/// What the rules require.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Independent approvals a merged change needs (default 1).
    pub min_approvals: u32,
    /// Environments that are production (compared ignoring case; default `production`,
    /// `prod`).
    pub production_environments: Vec<String>,
    /// Branches besides the default one whose force-pushes are reported.
    pub protected_branches: Vec<String>,
    /// Branches besides the default one that may be deployed to production.
    pub deploy_branches: Vec<String>,
    /// Whether a stale approval still counts towards `min_approvals` (default true: it is
    /// reported on its own, as `stale-approval`).
    pub count_stale_approvals: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_approvals: 1,
            production_environments: vec!["production".into(), "prod".into()],
            protected_branches: Vec::new(),
            deploy_branches: Vec::new(),
            count_stale_approvals: true,
        }
    }
}

impl Policy {
    /// Is `environment` a production one?
    pub fn is_production(&self, environment: &str) -> bool {
        self.production_environments
            .iter()
            .any(|p| p.eq_ignore_ascii_case(environment.trim()))
    }
}

const CHANGE_CONTROLS: &[&str] = &[
    "soc2:CC8.1",
    "iso27001:A.8.32",
    "iso27001:A.5.3",
    "nist-800-53:CM-3",
];

fn check(
    id: &str,
    title: &str,
    severity: Severity,
    confidence: Confidence,
    controls: &[&str],
    why: &str,
    fix: &str,
) -> Check {
    Check {
        id: id.to_owned(),
        scanner: SCANNER.to_owned(),
        title: title.to_owned(),
        severity,
        confidence,
        controls: controls.iter().map(|c| (*c).to_owned()).collect(),
        why: why.to_owned(),
        fix: fix.to_owned(),
    }
}

/// Every rule, sorted by id.
pub fn checks() -> Vec<Check> {
    let mut all = vec![
        check(
            SELF_APPROVED_CHANGE,
            "Change approved by its own author",
            Severity::High,
            Confidence::High,
            CHANGE_CONTROLS,
            "A review by the person who wrote or pushed the change is not an independent check: \
             one person could take a change to production alone.",
            "Require approval from someone who neither opened nor pushed to the change (GitLab: \
             disable approval by authors and committers; GitHub does not allow self-approval), \
             and have an independent reviewer look at this change again.",
        ),
        check(
            STALE_APPROVAL,
            "Approval older than the last push to the change",
            Severity::Medium,
            Confidence::High,
            &["soc2:CC8.1", "iso27001:A.8.32", "nist-800-53:CM-3"],
            "Commits pushed after an approval were never reviewed, yet the change merged on the \
             strength of that approval.",
            "Dismiss stale approvals on new commits (GitHub: dismiss stale pull request approvals \
             and require approval of the most recent push; GitLab: remove all approvals when \
             commits are added), and review the commits pushed after the approval.",
        ),
        check(
            TOO_FEW_APPROVALS,
            "Change merged without the required approvals",
            Severity::High,
            Confidence::High,
            CHANGE_CONTROLS,
            "A change that reaches the default branch without the required independent approvals \
             was not authorised as the change-management policy requires.",
            "Require the approvals in branch protection (GitHub required reviews, GitLab approval \
             rules) and have the merged change reviewed after the fact.",
        ),
        check(
            UNGATED_DEPLOY,
            "Production deployment without a passing gate decision",
            Severity::High,
            Confidence::High,
            &[
                "soc2:CC8.1",
                "iso27001:A.8.32",
                "nist-800-53:CM-3",
                "nist-800-53:CM-4",
            ],
            "Nothing shows the deployed commit met the production requirements (scans, approvals) \
             before it went live.",
            "Run `evident gate --env <environment>` for the commit in the deployment job before \
             deploying, and deploy only when it passes.",
        ),
        check(
            FORCE_PUSH,
            "Force-push to a protected branch",
            Severity::High,
            Confidence::High,
            &[
                "soc2:CC8.1",
                "iso27001:A.8.4",
                "iso27001:A.8.32",
                "nist-800-53:CM-5",
                "nist-800-53:SA-10",
            ],
            "A force-push rewrites the history of the branch production is built from: reviewed \
             commits can disappear and unreviewed ones take their place.",
            "Forbid force-pushes to the default and release branches (branch protection or rules) \
             and compare the rewritten branch with its previous head.",
        ),
        check(
            NON_DEFAULT_BRANCH,
            "Production deployment from a branch other than the default",
            Severity::Medium,
            Confidence::Medium,
            &[
                "soc2:CC8.1",
                "iso27001:A.8.32",
                "nist-800-53:CM-3",
                "nist-800-53:SA-10",
            ],
            "Only the default branch carries the reviewed, merged history; another branch can \
             put unreviewed code in production.",
            "Limit the production environment to the default branch (GitHub deployment branch \
             rules, GitLab protected environments) or list release branches in the policy.",
        ),
        check(
            SELF_APPROVED_DEPLOY,
            "Production deployment approved by its deployer or author",
            Severity::High,
            Confidence::High,
            &[
                "soc2:CC8.1",
                "iso27001:A.5.3",
                "iso27001:A.8.32",
                "nist-800-53:CM-5",
            ],
            "The environment approval is meant to be a second person's decision; approving one's \
             own deployment or change defeats it.",
            "Prevent self-review on the environment (GitHub: prevent self-review for required \
             reviewers) and require a reviewer other than the deployer and the change's author.",
        ),
        check(
            UNREVIEWED_DEPLOY,
            "Production deployment of a commit from no reviewed change",
            Severity::High,
            Confidence::Medium,
            CHANGE_CONTROLS,
            "The deployed commit was not the result of a merged pull or merge request, so \
             nothing shows it was reviewed before production.",
            "Deploy only commits merged through reviewed pull or merge requests; if this was an \
             emergency, record why (a break-glass) and review the commit after the fact.",
        ),
    ];
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

fn rule(id: &str) -> Check {
    checks()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| check(id, id, Severity::Medium, Confidence::Low, &[], id, id))
}

fn when(at: Option<Timestamp>) -> String {
    at.map_or_else(|| "an unknown time".to_owned(), timefmt::format)
}

fn who(name: Option<&str>) -> &str {
    name.unwrap_or("someone unknown")
}

fn short(commit: Option<&str>) -> &str {
    commit.map_or("an unknown commit", |c| c.get(..12).unwrap_or(c))
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Every finding the events and deployments show, sorted by check and resource.
pub fn findings(events: &[Event], deployments: &[Deployment], policy: &Policy) -> Vec<Finding> {
    let checks = checks();
    let rule = |id: &str| {
        checks
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .unwrap_or_else(|| rule(id))
    };
    let mut out = Vec::new();
    let (mut changes, pushes) = trail::changes_and_pushes(events);
    for d in deployments {
        if let Some(c) = &d.change
            && !changes.iter().any(|x| x.reference == c.reference)
        {
            changes.push(c.clone());
        }
    }
    for c in &changes {
        change_findings(c, policy, &rule, &mut out);
    }
    for p in &pushes {
        if let Some(f) = force_push(p, policy, &rule(FORCE_PUSH)) {
            out.push(f);
        }
    }
    for d in deployments {
        deployment_findings(d, policy, &rule, &mut out);
    }
    out.sort_by(|a, b| {
        (&a.check, &a.location.resource, &a.fingerprint).cmp(&(
            &b.check,
            &b.location.resource,
            &b.fingerprint,
        ))
    });
    out.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    out
}

/// Gives each deployment the findings that concern it: its own, its change's, and a
/// force-push that produced its commit.
pub fn attach(deployments: &mut [Deployment], findings: &[Finding]) {
    for d in deployments {
        d.findings = findings
            .iter()
            .filter(|f| concerns(d, f))
            .cloned()
            .collect();
    }
}

fn concerns(d: &Deployment, f: &Finding) -> bool {
    let Some(resource) = f.location.resource.as_deref() else {
        return false;
    };
    if resource == d.id {
        return true;
    }
    if d.change.as_ref().is_some_and(|c| c.reference == resource) {
        return true;
    }
    f.check == FORCE_PUSH
        && d.commit.is_some()
        && f.location.commit == d.commit
        && d.repository
            .as_deref()
            .is_some_and(|r| resource.starts_with(&format!("{r}@")))
}

fn location(
    resource: &str,
    commit: Option<&str>,
    author: Option<&str>,
    at: Option<Timestamp>,
) -> Location {
    Location {
        resource: Some(resource.to_owned()),
        commit: commit.map(str::to_owned),
        author: author.map(str::to_owned),
        date: at.map(timefmt::format),
        ..Location::default()
    }
}

/// Does the policy govern merges into this change's target (the default or a protected
/// branch; any branch when the target or the default is unknown)?
fn targets_protected(c: &Change, policy: &Policy) -> bool {
    match (&c.target_branch, &c.default_branch) {
        (Some(target), Some(default)) => {
            same(target, default) || policy.protected_branches.iter().any(|b| same(b, target))
        }
        _ => true,
    }
}

fn change_findings(
    c: &Change,
    policy: &Policy,
    rule: &dyn Fn(&str) -> Check,
    out: &mut Vec<Finding>,
) {
    let approvals = c.approvals();
    let merged = if c.merged {
        format!(
            "; it was merged at {} by {}",
            when(c.merged_at),
            who(c.merged_by.as_deref())
        )
    } else {
        String::new()
    };
    for r in &approvals {
        if let Some(reason) = &r.self_approval {
            out.push(
                Finding::builder(
                    &rule(SELF_APPROVED_CHANGE),
                    location(
                        &c.reference,
                        c.merge_commit.as_deref().or(c.head.as_deref()),
                        Some(&r.by),
                        r.at,
                    ),
                )
                .message(format!(
                    "{by} approved {reference} at {at}, but {by} {reason}: the approval is not an \
                     independent review{merged}",
                    by = r.by,
                    reference = c.reference,
                    at = when(r.at),
                ))
                .identity(&[r.by.to_ascii_lowercase().as_bytes()])
                .build(),
            );
        }
    }
    if !c.merged {
        return;
    }
    for r in approvals.iter().filter(|r| r.stale) {
        out.push(stale(c, r, &rule(STALE_APPROVAL)));
    }
    if !targets_protected(c, policy) {
        return;
    }
    let counted: Vec<&&Review> = approvals
        .iter()
        .filter(|r| r.self_approval.is_none() && (policy.count_stale_approvals || !r.stale))
        .collect();
    if (counted.len() as u64) < u64::from(policy.min_approvals) {
        let listed: Vec<String> = approvals
            .iter()
            .map(|r| {
                let mut s = format!("{} at {}", r.by, when(r.at));
                if r.self_approval.is_some() {
                    s.push_str(" (own change)");
                } else if r.stale {
                    s.push_str(" (stale)");
                }
                s
            })
            .collect();
        out.push(
            Finding::builder(
                &rule(TOO_FEW_APPROVALS),
                location(
                    &c.reference,
                    c.merge_commit.as_deref().or(c.head.as_deref()),
                    c.merged_by.as_deref(),
                    c.merged_at,
                ),
            )
            .message(format!(
                "{reference} (opened by {author}) was merged into {target} at {at} by {by} with \
                 {n} independent approval{s}; the policy requires {min}. Approvals: {list}",
                reference = c.reference,
                author = who(c.author.as_deref()),
                target = c.target_branch.as_deref().unwrap_or("its target branch"),
                at = when(c.merged_at),
                by = who(c.merged_by.as_deref()),
                n = counted.len(),
                s = if counted.len() == 1 { "" } else { "s" },
                min = policy.min_approvals,
                list = if listed.is_empty() {
                    "none".to_owned()
                } else {
                    listed.join(", ")
                },
            ))
            .build(),
        );
    }
}

fn stale(c: &Change, r: &Review, check: &Check) -> Finding {
    let later = c.pushes_after(r.at);
    let pushed = match later.last() {
        Some(p) => format!(
            "{} then pushed {} at {}",
            who(p.by.as_deref()),
            short(p.after.as_deref()),
            when(p.at)
        ),
        None => format!("its head became {}", short(c.head.as_deref())),
    };
    Finding::builder(
        check,
        location(&c.reference, c.head.as_deref(), Some(&r.by), r.at),
    )
    .message(format!(
        "{by} approved {reference} at {at} on {commit}; {pushed}; it was merged at {merged_at} by \
         {merged_by} with {head} never approved by {by}",
        by = r.by,
        reference = c.reference,
        at = when(r.at),
        commit = short(r.commit.as_deref()),
        merged_at = when(c.merged_at),
        merged_by = who(c.merged_by.as_deref()),
        head = short(c.head.as_deref()),
    ))
    .identity(&[
        r.by.to_ascii_lowercase().as_bytes(),
        r.commit.as_deref().unwrap_or("").as_bytes(),
    ])
    .build()
}

fn force_push(p: &Push, policy: &Policy, check: &Check) -> Option<Finding> {
    if !p.forced || p.deleted {
        return None;
    }
    let branch = p.branch()?;
    let protected = p.default_branch.as_deref().is_some_and(|d| same(d, branch))
        || policy.protected_branches.iter().any(|b| same(b, branch));
    if !protected {
        return None;
    }
    let resource = format!("{}@{branch}", p.repository);
    Some(
        Finding::builder(
            check,
            location(
                &resource,
                p.after.as_deref(),
                p.pusher.as_deref(),
                Some(p.at),
            ),
        )
        .message(format!(
            "{who} force-pushed {branch} of {repo} at {at}: {before} → {after}; commits reachable \
             from {before} may no longer be on {branch}",
            who = who(p.pusher.as_deref()),
            repo = p.repository,
            at = when(Some(p.at)),
            before = short(p.before.as_deref()),
            after = short(p.after.as_deref()),
        ))
        .identity(&[
            p.before.as_deref().unwrap_or("").as_bytes(),
            p.after.as_deref().unwrap_or("").as_bytes(),
        ])
        .build(),
    )
}

fn deployment_findings(
    d: &Deployment,
    policy: &Policy,
    rule: &dyn Fn(&str) -> Check,
    out: &mut Vec<Finding>,
) {
    if !policy.is_production(&d.environment) || d.outcome == Outcome::Cancelled {
        return;
    }
    let what = format!(
        "{} of {} to {} at {} by {} ({})",
        d.id,
        short(d.commit.as_deref()),
        d.environment,
        when(d.created_at),
        who(d.actor.as_deref()),
        d.outcome.as_str()
    );
    let loc = || location(&d.id, d.commit.as_deref(), d.actor.as_deref(), d.created_at);
    if let Some(message) = gate_problem(d, policy) {
        out.push(
            Finding::builder(&rule(UNGATED_DEPLOY), loc())
                .message(format!("{what}: {message}"))
                .build(),
        );
    }
    if let (Some(branch), Some(default)) = (d.branch(), d.default_branch.as_deref())
        && !same(branch, default)
        && !policy.deploy_branches.iter().any(|b| same(b, branch))
    {
        out.push(
            Finding::builder(&rule(NON_DEFAULT_BRANCH), loc())
                .message(format!(
                    "{what}: deployed from branch {branch}, not the default branch {default}"
                ))
                .build(),
        );
    }
    for a in d.approvals.iter().filter(|a| a.state == "approved") {
        let Some(by) = a.by.as_deref() else { continue };
        let mut roles = Vec::new();
        if d.actor.as_deref().is_some_and(|x| same(x, by)) {
            roles.push("started the deployment".to_owned());
        }
        if let Some(c) = &d.change
            && c.author.as_deref().is_some_and(|x| same(x, by))
        {
            roles.push(format!("opened {}", c.reference));
        }
        if d.author
            .as_ref()
            .and_then(|a| a.username.as_deref())
            .is_some_and(|x| same(x, by))
        {
            roles.push(format!("authored {}", short(d.commit.as_deref())));
        }
        if !roles.is_empty() {
            out.push(
                Finding::builder(
                    &rule(SELF_APPROVED_DEPLOY),
                    location(&d.id, d.commit.as_deref(), Some(by), Some(a.at)),
                )
                .message(format!(
                    "{what}: {by} approved the deployment to {env} at {at}, but {by} {roles}",
                    env = a.environment,
                    at = when(Some(a.at)),
                    roles = roles.join(" and "),
                ))
                .identity(&[by.to_ascii_lowercase().as_bytes()])
                .build(),
            );
        }
    }
    if d.commit.is_some() {
        let problem = match &d.change {
            None => Some("no merged pull or merge request brought this commit".to_owned()),
            Some(c) if !c.merged => Some(format!(
                "the commit is the head of {} ({}), which was not merged",
                c.reference, c.state
            )),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            out.push(
                Finding::builder(&rule(UNREVIEWED_DEPLOY), loc())
                    .message(format!("{what}: {problem}"))
                    .build(),
            );
        }
    }
}

/// Why the deployment's gate evidence is not enough, if it is not.
fn gate_problem(d: &Deployment, policy: &Policy) -> Option<String> {
    let Some(commit) = d.commit.as_deref() else {
        return Some("its commit is unknown, so no gate decision can be found for it".into());
    };
    let for_env = |env: Option<&str>| {
        env.is_some_and(|e| {
            same(e, &d.environment)
                || (policy.is_production(e) && policy.is_production(&d.environment))
        })
    };
    let in_time = |at: Option<Timestamp>| match (at, d.finished_at) {
        (Some(at), Some(end)) => at <= end,
        (_, None) => true,
        (None, Some(_)) => false,
    };
    let relevant: Vec<_> = d
        .gate_decisions
        .iter()
        .filter(|g| for_env(g.environment()))
        .collect();
    if relevant
        .iter()
        .any(|g| g.is_gate_pass() && in_time(g.recorded_at))
    {
        return None;
    }
    let seen: Vec<String> = relevant
        .iter()
        .map(|g| {
            let late = if g.is_gate_pass() && !in_time(g.recorded_at) {
                ", after the deployment finished"
            } else {
                ""
            };
            format!(
                "entry {} {} at {}{late}",
                g.seq,
                g.decision().unwrap_or("without a decision"),
                when(g.recorded_at)
            )
        })
        .collect();
    Some(if seen.is_empty() {
        format!(
            "no gate decision for {} is recorded for git:{commit}",
            d.environment
        )
    } else {
        format!(
            "no passing gate decision for {} before it finished; recorded for git:{commit}: {}",
            d.environment,
            seen.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_complete_and_unique() {
        let all = checks();
        assert_eq!(all.len(), 8);
        for c in &all {
            c.validate().unwrap();
            assert_eq!(c.scanner, SCANNER);
        }
        let mut ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for id in [
            SELF_APPROVED_CHANGE,
            STALE_APPROVAL,
            TOO_FEW_APPROVALS,
            UNGATED_DEPLOY,
            FORCE_PUSH,
            NON_DEFAULT_BRANCH,
            SELF_APPROVED_DEPLOY,
            UNREVIEWED_DEPLOY,
        ] {
            assert!(ids.contains(&id), "{id}");
            assert_eq!(rule(id).id, id);
        }
    }

    #[test]
    fn production_names_ignore_case() {
        let p = Policy::default();
        assert!(p.is_production("Production") && p.is_production("prod"));
        assert!(!p.is_production("staging") && !p.is_production("production-eu"));
    }
}
