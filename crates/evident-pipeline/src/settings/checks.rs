//! Checks on a repository's protection of its default branch: one entry each (id, severity,
//! controls, why, fix), and the logic that finds them.
//!
//! The default branch's protection is every entry that covers it merged (most restrictive
//! wins): its exact name, `~DEFAULT_BRANCH` and `~ALL` (rulesets), and patterns (`*`, `?`).
//! A setting that is unknown (`None`) never produces a finding.

use evident_core::{Check, Confidence, Finding, Location, Severity};

use super::model::{BranchProtection, RepositorySettings};
use super::read::PROJECT;

/// Change management: SOC 2 CC8.1, ISO 27001 A.8.32.
const CHANGE: &[&str] = &["soc2:CC8.1", "iso27001:A.8.32"];
/// Change management and who can write the code: adds SOC 2 CC6.1, ISO 27001 A.8.4.
const WRITE: &[&str] = &[
    "soc2:CC8.1",
    "soc2:CC6.1",
    "iso27001:A.8.32",
    "iso27001:A.8.4",
];

pub const BRANCH_UNPROTECTED: &str = "branch-unprotected";
pub const TOO_FEW_APPROVALS: &str = "too-few-approvals";
pub const STALE_REVIEWS_NOT_DISMISSED: &str = "stale-reviews-not-dismissed";
pub const CODE_OWNER_REVIEW_NOT_REQUIRED: &str = "code-owner-review-not-required";
pub const LAST_PUSH_APPROVAL_NOT_REQUIRED: &str = "last-push-approval-not-required";
pub const ADMINS_BYPASS_PROTECTION: &str = "admins-bypass-protection";
pub const SCAN_CHECKS_NOT_REQUIRED: &str = "scan-checks-not-required";
pub const STATUS_CHECKS_NOT_STRICT: &str = "status-checks-not-strict";
pub const FORCE_PUSH_ALLOWED: &str = "force-push-allowed";
pub const BRANCH_DELETION_ALLOWED: &str = "branch-deletion-allowed";
pub const LINEAR_HISTORY_NOT_REQUIRED: &str = "linear-history-not-required";
pub const CONVERSATION_RESOLUTION_NOT_REQUIRED: &str = "conversation-resolution-not-required";

use crate::check;

/// The repository settings checks.
#[allow(clippy::too_many_lines)] // one table
pub fn checks() -> Vec<Check> {
    use Confidence::{High, Medium};
    vec![
        check(
            BRANCH_UNPROTECTED,
            "Default branch is not protected",
            Severity::High,
            High,
            WRITE,
            "Anyone with write access can push straight to the default branch: no review, no required checks, nothing that shows a change was approved before it shipped.",
            "GitHub: Settings → Branches → add a branch protection rule for the default branch (or Settings → Rules → Rulesets → a ruleset targeting the default branch), or `branches: - name: main, protection: {…}` in `.github/settings.yml`. GitLab: Settings → Repository → Protected branches → protect the default branch with `Allowed to push and merge: No one` for pushes.",
        ),
        check(
            TOO_FEW_APPROVALS,
            "Fewer approving reviews required than the policy's minimum",
            Severity::High,
            High,
            CHANGE,
            "Changes reach the default branch with fewer independent approvals than the policy promises auditors: with none, an author can merge their own change.",
            "GitHub: in the branch protection rule, tick `Require a pull request before merging` and set `Required number of approvals before merging` (API `required_approving_review_count`; ruleset rule `pull_request` → `required_approving_review_count`) to at least the policy's minimum. GitLab: Settings → Merge requests → Merge request approvals → set `Approvals required` of the `All eligible users` rule (API `approvals_required`).",
        ),
        check(
            STALE_REVIEWS_NOT_DISMISSED,
            "Approvals survive new commits",
            Severity::Medium,
            High,
            CHANGE,
            "An approval given before later pushes still counts: code added after the review is merged as if it had been reviewed.",
            "GitHub: tick `Dismiss stale pull request approvals when new commits are pushed` (API `dismiss_stale_reviews`; ruleset `dismiss_stale_reviews_on_push`). GitLab: Merge request approvals → Approval settings → `Remove all approvals when commits are added to the source branch` (API `reset_approvals_on_push`).",
        ),
        check(
            CODE_OWNER_REVIEW_NOT_REQUIRED,
            "Code owners' review not required",
            Severity::Low,
            Medium,
            CHANGE,
            "Without it the owners listed in CODEOWNERS are only notified: any approver can accept a change to code (or CI and deployment files) they do not own.",
            "GitHub: tick `Require review from Code Owners` (API `require_code_owner_reviews`; ruleset `require_code_owner_review`). GitLab: on the protected branch, turn on `Code owner approval` (API `code_owner_approval_required`).",
        ),
        check(
            LAST_PUSH_APPROVAL_NOT_REQUIRED,
            "The last push can be approved by its own author",
            Severity::Medium,
            High,
            CHANGE,
            "Whoever pushes last (or authored the merge request) can approve their own code: the four-eyes principle the review is evidence of does not hold.",
            "GitHub: tick `Require approval of the most recent reviewable push` (API `require_last_push_approval`; ruleset `require_last_push_approval`). GitLab: Merge request approvals → Approval settings → tick `Prevent approval by merge request creator` and `Prevent approvals by users who add commits` (API `merge_requests_author_approval: false`, `merge_requests_disable_committers_approval: true`).",
        ),
        check(
            ADMINS_BYPASS_PROTECTION,
            "Protection can be bypassed by administrators or direct pushes",
            Severity::Medium,
            High,
            WRITE,
            "Administrators (or, on GitLab, whoever may push) can change the default branch without the review and checks everyone else needs: the control does not cover the most privileged accounts.",
            "GitHub: tick `Do not allow bypassing the above settings` (API `enforce_admins`), and remove admin roles from the ruleset's `bypass_actors`. GitLab: on the protected branch set `Allowed to push and merge` to `No one` so every change goes through a merge request.",
        ),
        check(
            SCAN_CHECKS_NOT_REQUIRED,
            "Security scan jobs are not required status checks",
            Severity::High,
            High,
            CHANGE,
            "A scan that is not a required status check reports but does not gate: a change with failing scans can still be merged.",
            "GitHub: tick `Require status checks to pass before merging` and add the scan jobs' names (API `required_status_checks.contexts` / `checks`; ruleset rule `required_status_checks`). GitLab: Settings → Merge requests → `Pipelines must succeed`, with the scan jobs in the merge request pipeline and not `allow_failure`.",
        ),
        check(
            STATUS_CHECKS_NOT_STRICT,
            "Branch need not be up to date before merging",
            Severity::Low,
            Medium,
            CHANGE,
            "Required checks ran against an older base: the merged result, combined with changes merged since, was never tested or scanned.",
            "GitHub: tick `Require branches to be up to date before merging` (API `required_status_checks.strict`; ruleset `strict_required_status_checks_policy`). GitLab: set the merge method to `Merge commit with semi-linear history` or `Fast-forward merge`.",
        ),
        check(
            FORCE_PUSH_ALLOWED,
            "Force pushes to the default branch allowed",
            Severity::High,
            High,
            WRITE,
            "A force push rewrites the branch's history: reviewed commits can be replaced and the record of what was approved and deployed is lost.",
            "GitHub: untick `Allow force pushes` (API `allow_force_pushes: false`), or add the `non_fast_forward` rule (`Block force pushes`) to the ruleset. GitLab: on the protected branch turn off `Allowed to force push` (API `allow_force_push: false`).",
        ),
        check(
            BRANCH_DELETION_ALLOWED,
            "Default branch may be deleted",
            Severity::Medium,
            High,
            WRITE,
            "Deleting the branch removes its protection and history from the repository's view; it can then be recreated with unreviewed content.",
            "GitHub: untick `Allow deletions` (API `allow_deletions: false`), or add the `deletion` rule (`Restrict deletions`) to the ruleset.",
        ),
        check(
            LINEAR_HISTORY_NOT_REQUIRED,
            "Linear history not required",
            Severity::Low,
            Medium,
            CHANGE,
            "Merge commits make it harder to trace which reviewed change introduced what; a linear history maps each commit to one approved change.",
            "GitHub: tick `Require linear history` (API `required_linear_history: true`; ruleset rule `required_linear_history`). GitLab: Settings → Merge requests → merge method `Fast-forward merge`.",
        ),
        check(
            CONVERSATION_RESOLUTION_NOT_REQUIRED,
            "Review conversations need not be resolved before merging",
            Severity::Low,
            Medium,
            CHANGE,
            "A change can be merged while reviewers' objections are still open: the approval on record may not reflect the review.",
            "GitHub: tick `Require conversation resolution before merging` (API `required_conversation_resolution: true`; ruleset `required_review_thread_resolution`). GitLab: Settings → Merge requests → `All threads must be resolved`.",
        ),
    ]
}

/// The settings check with id `id` (panics on an unknown id: ids are constants of this module).
pub fn get(id: &str) -> Check {
    checks()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no settings check `{id}`"))
}

/// Merges two protections of the same branch: the most restrictive setting wins; a setting
/// unknown in either stays unknown.
pub fn merge(a: &BranchProtection, b: &BranchProtection) -> BranchProtection {
    fn both<T: Copy>(a: Option<T>, b: Option<T>, f: impl Fn(T, T) -> T) -> Option<T> {
        Some(f(a?, b?))
    }
    let secure_true = |a: Option<bool>, b: Option<bool>| both(a, b, |x, y| x || y);
    BranchProtection {
        protected: a.protected || b.protected,
        required_approvals: both(a.required_approvals, b.required_approvals, u32::max),
        dismiss_stale_reviews: secure_true(a.dismiss_stale_reviews, b.dismiss_stale_reviews),
        code_owner_review: secure_true(a.code_owner_review, b.code_owner_review),
        last_push_approval: secure_true(a.last_push_approval, b.last_push_approval),
        // Admins bypass the merged protection if they bypass any part of it.
        enforce_admins: both(a.enforce_admins, b.enforce_admins, |x, y| x && y),
        required_status_checks: match (&a.required_status_checks, &b.required_status_checks) {
            (Some(x), Some(y)) => Some(x.union(y).cloned().collect()),
            _ => None,
        },
        strict_status_checks: secure_true(a.strict_status_checks, b.strict_status_checks),
        allow_force_pushes: both(a.allow_force_pushes, b.allow_force_pushes, |x, y| x && y),
        allow_deletions: both(a.allow_deletions, b.allow_deletions, |x, y| x && y),
        linear_history: secure_true(a.linear_history, b.linear_history),
        conversation_resolution: secure_true(a.conversation_resolution, b.conversation_resolution),
    }
}

/// Does the branch key (name, `~DEFAULT_BRANCH`, `~ALL`, or a `*`/`?` pattern) cover `branch`?
fn covers(key: &str, branch: &str, is_default: bool) -> bool {
    match key {
        "~DEFAULT_BRANCH" => is_default,
        "~ALL" => true,
        _ if key.starts_with('~') => false,
        _ => glob(key.as_bytes(), branch.as_bytes()),
    }
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        Some((b'?', rest)) => !text.is_empty() && glob(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

/// The effective protection of `branch` and the key whose line findings point at, or `None`
/// when nothing in the settings covers it.
fn effective(settings: &RepositorySettings, branch: &str) -> Option<(BranchProtection, String)> {
    let mut keys: Vec<&String> = settings
        .branches
        .keys()
        .filter(|k| covers(k, branch, true))
        .collect();
    // The exact entry first, then the rest in key order.
    keys.sort_by_key(|k| k.as_str() != branch);
    let first = (*keys.first()?).clone();
    let protected: Vec<&BranchProtection> = keys
        .iter()
        .map(|k| &settings.branches[*k])
        .filter(|p| p.protected)
        .collect();
    let Some((head, tail)) = protected.split_first() else {
        return Some((BranchProtection::default(), first));
    };
    let merged = tail.iter().fold((*head).clone(), |acc, p| merge(&acc, p));
    let origin = keys
        .iter()
        .find(|k| settings.branches[**k].protected)
        .map_or(first, |k| (*k).clone());
    Some((merged, origin))
}

/// Is the required job `name` among the status check contexts? GitHub Actions names checks
/// after the job (`sast`), matrix jobs with their values (`sast (ubuntu)`), and some apps
/// prefix the workflow (`ci / sast`).
fn required(contexts: &std::collections::BTreeSet<String>, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    contexts.iter().any(|c| {
        let c = c.to_ascii_lowercase();
        c == name
            || c.starts_with(&format!("{name} ("))
            || c.ends_with(&format!("/ {name}"))
            || c.contains(&format!("/ {name} ("))
    })
}

/// Checks the protection of the default branch (`options.default_branch`).
///
/// `min_approvals` is the policy's minimum of approving reviews; `required_checks` the scan
/// jobs that must be required status checks (the check is skipped when it is empty).
pub fn check_settings(
    settings: &RepositorySettings,
    file: &str,
    options: &crate::Options,
    min_approvals: u32,
    required_checks: &[String],
) -> Vec<Finding> {
    let branch = options.default_branch.as_str();
    let mut out = Vec::new();
    let (p, key) = match effective(settings, branch) {
        Some(found) => found,
        None if settings.lists_every_protected_branch => {
            let c = get(BRANCH_UNPROTECTED);
            out.push(
                Finding::builder(&c, location(file, None, branch))
                    .message(format!(
                        "the default branch `{branch}` is not among the protected branches in this file"
                    ))
                    .identity(&[])
                    .build(),
            );
            return out;
        }
        None => match settings.branches.get(PROJECT) {
            Some(p) => (p.clone(), PROJECT.to_owned()),
            None => return out,
        },
    };
    let line = settings.origins.get(&key).and_then(|o| o.line);
    let emit = |out: &mut Vec<Finding>, id: &str, message: String| {
        let c = get(id);
        out.push(
            Finding::builder(&c, location(file, line, branch))
                .message(message)
                .identity(&[])
                .build(),
        );
    };
    if !p.protected && key != PROJECT {
        emit(
            &mut out,
            BRANCH_UNPROTECTED,
            format!("the default branch `{branch}` is not protected (entry `{key}`)"),
        );
        return out;
    }
    let gitlab = settings.platform == "gitlab";
    if let Some(n) = p.required_approvals.filter(|n| *n < min_approvals) {
        emit(
            &mut out,
            TOO_FEW_APPROVALS,
            format!(
                "`{branch}` requires {n} approving review{}; the policy requires at least {min_approvals}",
                if n == 1 { "" } else { "s" }
            ),
        );
    }
    // Without any review, the review details are moot: `too-few-approvals` says it.
    if p.required_approvals != Some(0) {
        if p.dismiss_stale_reviews == Some(false) {
            emit(
                &mut out,
                STALE_REVIEWS_NOT_DISMISSED,
                format!(
                    "approvals on pull requests into `{branch}` are kept when new commits are pushed"
                ),
            );
        }
        if p.code_owner_review == Some(false) {
            emit(
                &mut out,
                CODE_OWNER_REVIEW_NOT_REQUIRED,
                format!("`{branch}` does not require code owners' approval"),
            );
        }
        if p.last_push_approval == Some(false) {
            let message = if gitlab {
                format!(
                    "merge request authors or committers may approve their own changes into `{branch}`"
                )
            } else {
                format!(
                    "the most recent push to a pull request into `{branch}` need not be approved by someone else"
                )
            };
            emit(&mut out, LAST_PUSH_APPROVAL_NOT_REQUIRED, message);
        }
    }
    if p.enforce_admins == Some(false) {
        let message = if gitlab {
            format!("some roles or users may push to `{branch}` directly, without a merge request")
        } else {
            format!("administrators can bypass the protection of `{branch}`")
        };
        emit(&mut out, ADMINS_BYPASS_PROTECTION, message);
    }
    if let Some(contexts) = &p.required_status_checks {
        let missing: Vec<&str> = required_checks
            .iter()
            .filter(|name| !required(contexts, name))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            emit(
                &mut out,
                SCAN_CHECKS_NOT_REQUIRED,
                if missing.len() == 1 {
                    format!(
                        "scan job `{}` is not a required status check on `{branch}`",
                        missing[0]
                    )
                } else {
                    format!(
                        "scan jobs `{}` are not required status checks on `{branch}`",
                        missing.join("`, `")
                    )
                },
            );
        }
        if !contexts.is_empty() && p.strict_status_checks == Some(false) {
            emit(
                &mut out,
                STATUS_CHECKS_NOT_STRICT,
                format!(
                    "pull requests into `{branch}` need not be up to date with it before merging"
                ),
            );
        }
    }
    if p.allow_force_pushes == Some(true) {
        emit(
            &mut out,
            FORCE_PUSH_ALLOWED,
            format!("force pushes to `{branch}` are allowed"),
        );
    }
    if p.allow_deletions == Some(true) {
        emit(
            &mut out,
            BRANCH_DELETION_ALLOWED,
            format!("`{branch}` may be deleted"),
        );
    }
    if p.linear_history == Some(false) {
        emit(
            &mut out,
            LINEAR_HISTORY_NOT_REQUIRED,
            format!("`{branch}` does not require linear history"),
        );
    }
    if p.conversation_resolution == Some(false) {
        emit(
            &mut out,
            CONVERSATION_RESOLUTION_NOT_REQUIRED,
            format!("pull requests into `{branch}` can merge with unresolved conversations"),
        );
    }
    out
}

fn location(file: &str, line: Option<usize>, branch: &str) -> Location {
    Location {
        path: Some(file.to_owned()),
        line: line.and_then(|l| u32::try_from(l).ok()),
        resource: Some(branch.to_owned()),
        ..Location::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_and_mapped_to_existing_controls() {
        for c in checks() {
            c.validate().unwrap();
            for control in &c.controls {
                evident_controls::resolve(control).unwrap_or_else(|e| panic!("{}: {e}", c.id));
            }
        }
    }

    #[test]
    fn patterns() {
        assert!(glob(b"*", b"main"));
        assert!(glob(b"ma?n", b"main"));
        assert!(glob(b"release/*", b"release/1.0"));
        assert!(!glob(b"release/*", b"main"));
        assert!(covers("~DEFAULT_BRANCH", "main", true));
        assert!(!covers(PROJECT, "main", true));
    }

    #[test]
    fn matrix_and_prefixed_contexts_count() {
        let contexts = ["sast (ubuntu-latest)".to_owned(), "CI / secrets".to_owned()].into();
        assert!(required(&contexts, "sast"));
        assert!(required(&contexts, "secrets"));
        assert!(!required(&contexts, "sca"));
    }
}
