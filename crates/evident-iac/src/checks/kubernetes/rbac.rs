//! RBAC: roles that grant everything, read secrets or allow privilege escalation, and
//! bindings to `cluster-admin` or to anonymous users.

use evident_core::Severity;

use super::{RBAC, name, strings};
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Node, Resource};

const ROLES: &[&str] = &["Role", "ClusterRole"];
const BINDINGS: &[&str] = &["RoleBinding", "ClusterRoleBinding"];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "k8s-rbac-wildcard",
            "RBAC role grants wildcard verbs, resources or API groups",
            Severity::High,
            RBAC,
            "A `*` in `verbs`, `resources` or `apiGroups` grants every present and future action, resource type or API group, including ones added later by CRDs: the role's holders get far more than they were meant to, and reviews cannot tell what was intended.",
            "List the exact `apiGroups`, `resources` and `verbs` the subject needs (e.g. `apiGroups: [\"apps\"]`, `resources: [\"deployments\"]`, `verbs: [\"get\", \"list\", \"watch\"]`).",
            ROLES,
            wildcard,
        ),
        check(
            "k8s-rbac-secrets-read",
            "RBAC role can read Secrets",
            Severity::Medium,
            RBAC,
            "`get`, `list` or `watch` on `secrets` reveals every credential stored in the namespace (or the cluster, for a ClusterRole), including service account tokens that may carry more rights than the role itself.",
            "Remove `secrets` from the rule, or restrict it to the named secrets the workload needs with `resourceNames: [\"<secret>\"]` and `verbs: [\"get\"]`.",
            ROLES,
            secrets_read,
        ),
        check(
            "k8s-rbac-escalation-verbs",
            "RBAC role allows escalate, bind or impersonate",
            Severity::High,
            RBAC,
            "`escalate` and `bind` let a subject create or bind roles with more rights than it has, and `impersonate` lets it act as any user, group or service account: each is a path to cluster-admin.",
            "Remove the `escalate`, `bind` and `impersonate` verbs; keep them only for the controllers that manage RBAC, with `resourceNames` restricting which roles or identities they apply to.",
            ROLES,
            escalation_verbs,
        ),
        check(
            "k8s-rbac-cluster-admin-binding",
            "Subject bound to cluster-admin",
            Severity::High,
            RBAC,
            "`cluster-admin` can do anything to every object of the cluster: a workload or user holding it turns any compromise into a full cluster takeover, and its actions cannot be told apart from an administrator's.",
            "Bind a role with only the permissions the subject needs (`roleRef: {kind: ClusterRole, name: <least-privilege-role>}`), and keep `cluster-admin` for break-glass accounts outside manifests.",
            BINDINGS,
            cluster_admin,
        ),
        check(
            "k8s-rbac-anonymous-binding",
            "Role bound to anonymous or all users",
            Severity::High,
            RBAC,
            "A binding to `system:anonymous`, `system:unauthenticated` or `system:authenticated` gives the role to everyone who can reach the API server (with managed clusters, `system:authenticated` can mean any account of the cloud provider).",
            "Remove those subjects from `subjects` and bind the role to the specific users, groups or service accounts that need it.",
            BINDINGS,
            anonymous,
        ),
    ]
}

/// The rules of a role, with their index.
fn rules(r: &Resource) -> Vec<(usize, &Node)> {
    r.attr("rules")
        .known()
        .and_then(Node::as_list)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .collect()
}

fn line(rule: &Node, field: &str, r: &Resource) -> u32 {
    [
        rule.get(field).map(|n| n.line),
        Some(rule.line),
        Some(r.line),
    ]
    .into_iter()
    .flatten()
    .find(|l| *l > 0)
    .unwrap_or(0)
}

fn rule_hit(i: usize, line: u32, message: String) -> Hit {
    Hit::new(line, message).key(format!("rules[{i}]"))
}

fn wildcard(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for (i, rule) in rules(r) {
        let fields: Vec<&str> = ["verbs", "resources", "apiGroups"]
            .into_iter()
            .filter(|f| strings(rule, f).contains(&"*"))
            .collect();
        if let Some(first) = fields.first() {
            let list: Vec<String> = fields.iter().map(|f| format!("{f}: [\"*\"]")).collect();
            out.push(rule_hit(
                i,
                line(rule, first, r),
                format!(
                    "{} `{}` rule {i} grants `{}`",
                    r.kind,
                    name(r),
                    list.join("`, `")
                ),
            ));
        }
    }
}

fn secrets_read(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for (i, rule) in rules(r) {
        let groups = strings(rule, "apiGroups");
        let core = groups.is_empty() || groups.iter().any(|g| g.is_empty() || *g == "*");
        let on_secrets = strings(rule, "resources").contains(&"secrets");
        let verbs: Vec<&str> = strings(rule, "verbs")
            .into_iter()
            .filter(|v| matches!(*v, "get" | "list" | "watch" | "*"))
            .collect();
        let named = !strings(rule, "resourceNames").is_empty();
        if core && on_secrets && !verbs.is_empty() && !named {
            out.push(rule_hit(
                i,
                line(rule, "resources", r),
                format!(
                    "{} `{}` rule {i} allows `{}` on all `secrets`",
                    r.kind,
                    name(r),
                    verbs.join("`, `")
                ),
            ));
        }
    }
}

fn escalation_verbs(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for (i, rule) in rules(r) {
        let verbs: Vec<&str> = strings(rule, "verbs")
            .into_iter()
            .filter(|v| matches!(*v, "escalate" | "bind" | "impersonate"))
            .collect();
        if !verbs.is_empty() {
            out.push(rule_hit(
                i,
                line(rule, "verbs", r),
                format!(
                    "{} `{}` rule {i} allows `{}`",
                    r.kind,
                    name(r),
                    verbs.join("`, `")
                ),
            ));
        }
    }
}

/// `Kind name` of each subject (`ServiceAccount ns/name`).
fn subjects(r: &Resource) -> Vec<(String, &Node)> {
    r.attr("subjects")
        .known()
        .and_then(Node::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| {
            let kind = s.get("kind").and_then(Node::as_str).unwrap_or("?");
            let name = s.get("name").and_then(Node::as_str)?;
            let label = match s.get("namespace").and_then(Node::as_str) {
                Some(ns) if kind == "ServiceAccount" => format!("{kind} {ns}/{name}"),
                _ => format!("{kind} {name}"),
            };
            Some((label, s))
        })
        .collect()
}

fn cluster_admin(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let role = r.attr("roleRef.name").str();
    let kind = r.attr("roleRef.kind").str().unwrap_or("ClusterRole");
    if role == Some("cluster-admin") && kind == "ClusterRole" {
        let who: Vec<String> = subjects(r).into_iter().map(|(l, _)| l).collect();
        out.push(Hit::new(
            r.line_of("roleRef.name"),
            format!(
                "{} `{}` binds `cluster-admin` to {}",
                r.kind,
                name(r),
                if who.is_empty() {
                    "its subjects".to_owned()
                } else {
                    who.join(", ")
                }
            ),
        ));
    }
}

fn anonymous(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let role = r.attr("roleRef.name").str().unwrap_or_default();
    // The API server's own discovery bindings use `system:` roles.
    if role.starts_with("system:") {
        return;
    }
    for (label, s) in subjects(r) {
        let subject = s.get("name").and_then(Node::as_str).unwrap_or_default();
        if matches!(
            subject,
            "system:anonymous" | "system:unauthenticated" | "system:authenticated"
        ) {
            let line = s.line_or(r.line_of("subjects"));
            out.push(
                Hit::new(
                    line,
                    format!("{} `{}` binds `{role}` to {label}", r.kind, name(r)),
                )
                .key(subject.to_owned()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{hits, object};

    #[test]
    fn role_rules() {
        let role = object(
            &json!({"kind": "ClusterRole", "metadata": {"name": "r"}, "rules": [
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]},
                {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["tls"], "verbs": ["get"]},
                {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind", "escalate"]},
            ]}),
        );
        let keys = |id: &str| {
            hits(id, &role)
                .into_iter()
                .map(|h| h.key)
                .collect::<Vec<_>>()
        };
        assert_eq!(keys("k8s-rbac-wildcard"), ["rules[1]"]);
        assert_eq!(keys("k8s-rbac-secrets-read"), ["rules[2]"]);
        assert_eq!(keys("k8s-rbac-escalation-verbs"), ["rules[4]"]);
        let h = hits("k8s-rbac-wildcard", &role);
        assert_eq!(
            h[0].message,
            "ClusterRole `r` rule 1 grants `verbs: [\"*\"]`, `resources: [\"*\"]`, `apiGroups: [\"*\"]`"
        );
    }

    #[test]
    fn bindings() {
        let b = object(
            &json!({"kind": "ClusterRoleBinding", "metadata": {"name": "b"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "tools"}, {"kind": "Group", "name": "system:unauthenticated"}]}),
        );
        let h = hits("k8s-rbac-cluster-admin-binding", &b);
        assert_eq!(
            h[0].message,
            "ClusterRoleBinding `b` binds `cluster-admin` to ServiceAccount tools/ci, Group system:unauthenticated"
        );
        assert_eq!(hits("k8s-rbac-anonymous-binding", &b).len(), 1);
        let view = object(
            &json!({"kind": "RoleBinding", "metadata": {"name": "v", "namespace": "shop"},
            "roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "User", "name": "alice"}]}),
        );
        assert!(hits("k8s-rbac-cluster-admin-binding", &view).is_empty());
        assert!(hits("k8s-rbac-anonymous-binding", &view).is_empty());
    }
}
