//! GitLab: protected branches, merge request approval rules and project approval settings.

use super::model::BranchProtection;
use super::read::{PROJECT, Reader, SettingsError, describe};
use super::tree::Node;

/// Keys that mark the project approval settings (`GET /projects/:id/approvals`).
pub(crate) const APPROVAL_SETTINGS: [&str; 5] = [
    "reset_approvals_on_push",
    "merge_requests_author_approval",
    "merge_requests_disable_committers_approval",
    "approvals_before_merge",
    "selective_code_owner_removals",
];

/// `{"protected_branches": […], "approval_rules": […], "approvals": {…}}`.
pub(crate) fn read_combined(r: &mut Reader, n: &Node) -> Result<(), SettingsError> {
    let list = |key: &str| -> Result<Option<Vec<&Node>>, SettingsError> {
        match n.get(key) {
            None => Ok(None),
            Some(v) if v.is_null() => Ok(Some(Vec::new())),
            Some(v) => v
                .as_seq()
                .map(|items| Some(items.iter().collect()))
                .ok_or_else(|| r.error(v, format!("`{key}` is {}: expected a list", describe(v)))),
        }
    };
    let branches = list("protected_branches")?;
    let rules = list("approval_rules")?;
    let approvals = match n.get("approvals") {
        Some(a) if a.is_map() => Some(a),
        Some(a) if a.is_null() => None,
        None => None,
        Some(a) => {
            return Err(r.error(
                a,
                format!("`approvals` is {}: expected an object", describe(a)),
            ));
        }
    };
    read(r, n, branches.as_deref(), rules.as_deref(), approvals)
}

/// Reads whichever parts are given; approval rules and settings apply to every protected
/// branch they cover, or are kept under [`PROJECT`] when no protected branches are given.
pub(crate) fn read(
    r: &mut Reader,
    root: &Node,
    branches: Option<&[&Node]>,
    rules: Option<&[&Node]>,
    approvals: Option<&Node>,
) -> Result<(), SettingsError> {
    for rule in rules.unwrap_or_default() {
        if !rule.is_map()
            || rule
                .get("approvals_required")
                .and_then(Node::as_u32)
                .is_none()
        {
            return Err(r.error(
                rule,
                "a GitLab approval rule needs a numeric `approvals_required`",
            ));
        }
    }
    let Some(branches) = branches else {
        let mut p = BranchProtection::default();
        apply_approvals(&mut p, PROJECT, rules, approvals);
        r.insert(PROJECT.to_owned(), p, root.line);
        return Ok(());
    };
    r.out.lists_every_protected_branch = true;
    for b in branches {
        if !b.is_map() {
            return Err(r.error(
                b,
                format!("a protected branch is {}: expected an object", describe(b)),
            ));
        }
        let name = b
            .get("name")
            .and_then(Node::as_text)
            .ok_or_else(|| r.error(b, "a GitLab protected branch without a `name`"))?;
        let mut p = BranchProtection {
            protected: true,
            ..BranchProtection::default()
        };
        p.allow_force_pushes = b.get("allow_force_push").and_then(Node::as_bool);
        p.code_owner_review = b
            .get("code_owner_approval_required")
            .and_then(Node::as_bool);
        // Anyone allowed to push can change the branch without a merge request: the
        // protection binds everyone only when pushes are allowed to no one.
        p.enforce_admins = b
            .get("push_access_levels")
            .and_then(Node::as_seq)
            .map(|levels| {
                levels.iter().all(|l| {
                    l.get("access_level").and_then(Node::as_u32) == Some(0)
                        && ["user_id", "group_id", "deploy_key_id"]
                            .iter()
                            .all(|k| l.get(k).is_none_or(Node::is_null))
                })
            });
        apply_approvals(&mut p, &name, rules, approvals);
        r.insert(name, p, b.line);
    }
    Ok(())
}

fn apply_approvals(
    p: &mut BranchProtection,
    branch: &str,
    rules: Option<&[&Node]>,
    approvals: Option<&Node>,
) {
    if let Some(rules) = rules {
        let required = rules
            .iter()
            .filter(|rule| counts(rule) && applies(rule, branch))
            .filter_map(|rule| rule.get("approvals_required").and_then(Node::as_u32))
            .max()
            .unwrap_or(0);
        p.required_approvals = Some(required);
    }
    let Some(a) = approvals else { return };
    if p.required_approvals.is_none() {
        p.required_approvals = a.get("approvals_before_merge").and_then(Node::as_u32);
    }
    p.dismiss_stale_reviews = a.get("reset_approvals_on_push").and_then(Node::as_bool);
    let author = a
        .get("merge_requests_author_approval")
        .and_then(Node::as_bool);
    let committers_barred = a
        .get("merge_requests_disable_committers_approval")
        .and_then(Node::as_bool);
    // The last push is approved by someone else only when neither the author nor anyone who
    // added commits may approve.
    p.last_push_approval = match (author, committers_barred) {
        (Some(true), _) | (_, Some(false)) => Some(false),
        (Some(false), Some(true)) => Some(true),
        _ => None,
    };
}

/// Regular and any-approver rules count; code owner and security report rules are
/// conditional.
fn counts(rule: &Node) -> bool {
    rule.get("rule_type")
        .and_then(Node::as_str)
        .is_none_or(|t| matches!(t, "regular" | "any_approver"))
}

fn applies(rule: &Node, branch: &str) -> bool {
    if rule
        .get("applies_to_all_protected_branches")
        .and_then(Node::as_bool)
        == Some(true)
    {
        return true;
    }
    let named = rule
        .get("protected_branches")
        .map(Node::items)
        .unwrap_or_default();
    named.is_empty()
        || branch == PROJECT
        || named
            .iter()
            .any(|b| b.get("name").and_then(Node::as_str) == Some(branch))
}
