//! GitHub: classic branch protection (REST), rulesets (REST) and the settings app's
//! `.github/settings.yml`.

use std::collections::BTreeSet;

use super::model::BranchProtection;
use super::read::{Reader, SettingsError, describe};
use super::tree::Node;

/// Keys that mark a classic branch protection object.
pub(crate) const PROTECTION_KEYS: [&str; 8] = [
    "required_pull_request_reviews",
    "required_status_checks",
    "enforce_admins",
    "allow_force_pushes",
    "allow_deletions",
    "required_linear_history",
    "required_conversation_resolution",
    "restrictions",
];

/// How absent sections are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A REST response: GitHub omits `required_pull_request_reviews` and
    /// `required_status_checks` when they are off.
    Rest,
    /// `settings.yml`: an absent section is unknown; `null` is off.
    SettingsApp,
}

/// `true`/`false`, or `{ "enabled": bool }`; `null` is `false`.
fn flag(n: &Node) -> Option<bool> {
    if n.is_null() {
        return Some(false);
    }
    n.as_bool()
        .or_else(|| n.get("enabled").and_then(Node::as_bool))
}

fn protection(n: &Node, source: Source) -> BranchProtection {
    let mut p = BranchProtection {
        protected: true,
        ..BranchProtection::default()
    };
    match n.get("required_pull_request_reviews") {
        Some(r) if r.is_map() => {
            p.required_approvals = r
                .get("required_approving_review_count")
                .and_then(Node::as_u32);
            p.dismiss_stale_reviews = r.get("dismiss_stale_reviews").and_then(Node::as_bool);
            p.code_owner_review = r.get("require_code_owner_reviews").and_then(Node::as_bool);
            p.last_push_approval = r.get("require_last_push_approval").and_then(Node::as_bool);
        }
        Some(r) if r.is_null() => no_reviews(&mut p),
        None if source == Source::Rest => no_reviews(&mut p),
        _ => {}
    }
    match n.get("required_status_checks") {
        Some(s) if s.is_map() => {
            let mut checks: Option<BTreeSet<String>> = None;
            if let Some(contexts) = s.get("contexts").and_then(Node::as_seq) {
                checks
                    .get_or_insert_default()
                    .extend(contexts.iter().filter_map(Node::as_text));
            }
            if let Some(list) = s.get("checks").and_then(Node::as_seq) {
                checks.get_or_insert_default().extend(
                    list.iter()
                        .filter_map(|c| c.get("context").and_then(Node::as_text)),
                );
            }
            p.required_status_checks = checks;
            p.strict_status_checks = s.get("strict").and_then(Node::as_bool);
        }
        Some(s) if s.is_null() => p.required_status_checks = Some(BTreeSet::new()),
        None if source == Source::Rest => p.required_status_checks = Some(BTreeSet::new()),
        _ => {}
    }
    p.enforce_admins = n.get("enforce_admins").and_then(flag);
    p.allow_force_pushes = n.get("allow_force_pushes").and_then(flag);
    p.allow_deletions = n.get("allow_deletions").and_then(flag);
    p.linear_history = n.get("required_linear_history").and_then(flag);
    p.conversation_resolution = n.get("required_conversation_resolution").and_then(flag);
    p
}

fn no_reviews(p: &mut BranchProtection) {
    p.required_approvals = Some(0);
    p.dismiss_stale_reviews = Some(false);
    p.code_owner_review = Some(false);
    p.last_push_approval = Some(false);
}

/// The branch of `…/branches/{branch}/protection`.
fn branch_from_url(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("/branches/")?;
    let branch = rest.strip_suffix("/protection").unwrap_or(rest);
    (!branch.is_empty() && !branch.contains("/protection/"))
        .then(|| branch.replace("%2F", "/").replace("%2f", "/"))
}

/// A classic protection object; `branch` when the caller knows it.
pub(crate) fn read_protection(
    r: &mut Reader,
    n: &Node,
    branch: Option<(String, Option<usize>)>,
) -> Result<(), SettingsError> {
    let (branch, line) = if let Some(b) = branch {
        b
    } else {
        let from_url = n
            .get("url")
            .and_then(Node::as_str)
            .and_then(branch_from_url)
            .ok_or_else(|| {
                r.error(
                    n,
                    "a GitHub branch protection without a branch name: keep its `url` (`…/branches/main/protection`) or wrap it as {\"branch\": \"main\", \"protection\": {…}}",
                )
            })?;
        (from_url, n.line)
    };
    r.insert(branch, protection(n, Source::Rest), line);
    Ok(())
}

/// `{ "branch": "main", "protection": {…} }`.
pub(crate) fn read_wrapper(r: &mut Reader, n: &Node) -> Result<(), SettingsError> {
    let branch = n
        .get("branch")
        .and_then(Node::as_text)
        .ok_or_else(|| r.error(n, "`branch` must be the branch name"))?;
    let body = n.get("protection").unwrap_or(n);
    if body.is_null() {
        r.insert(branch, BranchProtection::default(), n.line);
        return Ok(());
    }
    if !body.is_map() {
        return Err(r.error(
            body,
            format!("`protection` is {}: expected an object", describe(body)),
        ));
    }
    read_protection(r, body, Some((branch, n.line)))
}

/// `{ "main": {…}, "release": {…} }`; `null` is an unprotected branch.
pub(crate) fn read_branch_map(r: &mut Reader, n: &Node) -> Result<(), SettingsError> {
    for (branch, body) in n.entries() {
        if body.is_null() {
            r.insert(branch.clone(), BranchProtection::default(), body.line);
        } else {
            read_protection(r, body, Some((branch.clone(), body.line)))?;
        }
    }
    Ok(())
}

/// `.github/settings.yml` of the settings app: `branches: [{name, protection}]`.
pub(crate) fn read_settings_app(r: &mut Reader, n: &Node) -> Result<(), SettingsError> {
    for item in n.get("branches").map(Node::items).unwrap_or_default() {
        if !item.is_map() {
            return Err(r.error(
                item,
                format!(
                    "a `branches` entry is {}: expected {{name, protection}}",
                    describe(item)
                ),
            ));
        }
        let name = item
            .get("name")
            .and_then(Node::as_text)
            .ok_or_else(|| r.error(item, "a `branches` entry without a `name`"))?;
        match item.get("protection") {
            None => {
                return Err(r.error(item, format!("branch `{name}` has no `protection` (use `protection: null` to remove protection)")));
            }
            Some(p) if p.is_null() => r.insert(name, BranchProtection::default(), item.line),
            Some(p) if p.is_map() => r.insert(name, protection(p, Source::SettingsApp), item.line),
            Some(p) => {
                return Err(r.error(
                    p,
                    format!(
                        "`protection` of branch `{name}` is {}: expected a mapping or null",
                        describe(p)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Is this bypass actor an administrator (organisation, enterprise or repository admin)?
fn admin_actor(actor: &Node) -> bool {
    match actor.get("actor_type").and_then(Node::as_str) {
        Some("OrganizationAdmin" | "EnterpriseOwner") => true,
        // Repository role 5 is the built-in admin role.
        Some("RepositoryRole") => actor.get("actor_id").and_then(Node::as_u32) == Some(5),
        _ => false,
    }
}

/// The branch keys a ruleset's `conditions.ref_name.include` selects: `~DEFAULT_BRANCH`,
/// `~ALL`, or a branch name or pattern without `refs/heads/`.
fn ruleset_branches(n: &Node) -> Vec<String> {
    let include = n
        .get("conditions")
        .and_then(|c| c.get("ref_name"))
        .and_then(|r| r.get("include"));
    match include {
        None => vec!["~ALL".to_owned()],
        Some(list) => list
            .items()
            .iter()
            .filter_map(Node::as_text)
            .map(|s| {
                s.strip_prefix("refs/heads/")
                    .map_or(s.clone(), str::to_owned)
            })
            .collect(),
    }
}

/// One ruleset (`GET /repos/{o}/{r}/rulesets/{id}`); only active branch rulesets count.
pub(crate) fn read_ruleset(r: &mut Reader, n: &Node) -> Result<(), SettingsError> {
    if n.get("target")
        .and_then(Node::as_str)
        .is_some_and(|t| t != "branch")
    {
        return Ok(());
    }
    match n.get("enforcement").and_then(Node::as_str) {
        Some("active") => {}
        Some(_) => return Ok(()),
        None => {
            return Err(r.error(
                n,
                "a GitHub ruleset without `enforcement` (`active`, `evaluate` or `disabled`)",
            ));
        }
    }
    let Some(rules) = n.get("rules").and_then(Node::as_seq) else {
        return Err(r.error(n, "the ruleset's `rules` must be a list"));
    };
    let rule = |t: &str| {
        rules
            .iter()
            .find(|rule| rule.get("type").and_then(Node::as_str) == Some(t))
    };
    let param = |rule: &Node, key: &str| rule.get("parameters").and_then(|p| p.get(key)).cloned();
    let mut p = BranchProtection {
        protected: true,
        ..BranchProtection::default()
    };
    if let Some(pr) = rule("pull_request") {
        p.required_approvals =
            param(pr, "required_approving_review_count").and_then(|v| v.as_u32());
        p.dismiss_stale_reviews =
            param(pr, "dismiss_stale_reviews_on_push").and_then(|v| v.as_bool());
        p.code_owner_review = param(pr, "require_code_owner_review").and_then(|v| v.as_bool());
        p.last_push_approval = param(pr, "require_last_push_approval").and_then(|v| v.as_bool());
        p.conversation_resolution =
            param(pr, "required_review_thread_resolution").and_then(|v| v.as_bool());
    } else {
        no_reviews(&mut p);
        p.conversation_resolution = Some(false);
    }
    if let Some(sc) = rule("required_status_checks") {
        p.required_status_checks = param(sc, "required_status_checks").and_then(|v| {
            v.as_seq().map(|list| {
                list.iter()
                    .filter_map(|c| c.get("context").and_then(Node::as_text))
                    .collect()
            })
        });
        p.strict_status_checks =
            param(sc, "strict_required_status_checks_policy").and_then(|v| v.as_bool());
    } else {
        p.required_status_checks = Some(BTreeSet::new());
    }
    p.allow_force_pushes = Some(rule("non_fast_forward").is_none());
    p.allow_deletions = Some(rule("deletion").is_none());
    p.linear_history = Some(rule("required_linear_history").is_some());
    p.enforce_admins = n
        .get("bypass_actors")
        .and_then(Node::as_seq)
        .map(|actors| !actors.iter().any(admin_actor));
    for branch in ruleset_branches(n) {
        r.insert(branch, p.clone(), n.line);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_from_the_protection_url() {
        assert_eq!(
            branch_from_url("https://api.github.com/repos/o/r/branches/main/protection").as_deref(),
            Some("main")
        );
        assert_eq!(
            branch_from_url("https://api.github.com/repos/o/r/branches/release%2F1.x/protection")
                .as_deref(),
            Some("release/1.x")
        );
        assert_eq!(branch_from_url("https://api.github.com/repos/o/r"), None);
    }
}
