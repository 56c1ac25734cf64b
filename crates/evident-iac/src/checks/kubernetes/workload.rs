//! Workload hygiene: resource limits and requests, secrets in plain environment variables,
//! the service account token, and the namespace the workload lands in.

use evident_core::{Confidence, Severity};

use super::{CAPACITY, Container, ContainerKind, Pod, SECRETS, WORKLOADS, each_container, known};
use crate::checks::docker::secret::{is_literal_secret_value, is_secret_name};
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Node, Platform, Resource};

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "k8s-missing-memory-limit",
            "Container has no memory limit",
            Severity::Medium,
            CAPACITY,
            "Without `resources.limits.memory` a leaking or attacked container can take all of the node's memory, and the kernel then kills other workloads' processes to recover.",
            "Set `resources.limits.memory` on every container (e.g. `limits: {memory: 512Mi}`), or enforce a default with a `LimitRange` in the namespace.",
            WORKLOADS,
            missing_memory_limit,
        ),
        check(
            "k8s-missing-cpu-limit",
            "Container has no CPU limit",
            Severity::Low,
            CAPACITY,
            "Without `resources.limits.cpu` one container can use every core of its node and slow down the others scheduled there; some teams leave CPU unlimited on purpose and rely on requests, which should then be a documented decision.",
            "Set `resources.limits.cpu` (e.g. `limits: {cpu: 500m}`), or a namespace `LimitRange` default; if CPU is left unlimited by design, suppress with a reason.",
            WORKLOADS,
            missing_cpu_limit,
        ),
        check(
            "k8s-missing-resource-requests",
            "Container has no CPU or memory request",
            Severity::Low,
            CAPACITY,
            "Without requests (or limits, which requests default to), the scheduler places the pod as if it needed nothing, so nodes get overcommitted and the pod is among the first evicted under pressure.",
            "Set `resources.requests.cpu` and `resources.requests.memory` on every container (e.g. `requests: {cpu: 100m, memory: 256Mi}`).",
            WORKLOADS,
            missing_requests,
        ),
        check(
            "k8s-secret-in-env",
            "Secret written as a plain environment variable",
            Severity::High,
            SECRETS,
            "A password, token or key written as `env[].value` sits in the manifest in source control and in the object stored by the API server, readable by anyone who can read the workload, not only by those allowed to read Secrets.",
            "Store the value in a Secret (or an external secrets manager) and reference it: `env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}]`.",
            WORKLOADS,
            secret_in_env,
        )
        .handles_secrets(),
        check(
            "k8s-service-account-token-automount",
            "Pod mounts a service account token it may not need",
            Severity::Low,
            &["soc2:CC6.1", "iso27001:A.8.2", "nist-800-53:AC-6", "nist-800-53:IA-5"],
            "By default every pod gets a token of its service account mounted; an intruder in a pod that never calls the Kubernetes API can use it to query or change the cluster with that account's rights.",
            "Set `automountServiceAccountToken: false` in the pod spec (or on its ServiceAccount) and mount a token only in workloads that call the API.",
            WORKLOADS,
            sa_token,
        ),
        check(
            "k8s-default-namespace",
            "Workload in the default namespace",
            Severity::Low,
            &["soc2:CC6.1", "iso27001:A.8.22", "nist-800-53:AC-3", "nist-800-53:CM-6"],
            "The `default` namespace is shared by everything deployed without thought: RBAC grants, quotas and NetworkPolicies there cannot be scoped to one application, so workloads are not segregated from each other.",
            "Set `metadata.namespace` to the application's own namespace (e.g. `namespace: shop`) and create RBAC, quotas and NetworkPolicies for it.",
            WORKLOADS,
            default_namespace,
        )
        .confidence(Confidence::Medium),
    ]
}

/// The keys of `resources.<section>` among `wanted` that are not set; `None` when the
/// container cannot have resources or they cannot be judged.
fn unset<'a>(c: &Container<'_>, section: &str, wanted: &[&'a str]) -> Option<Vec<&'a str>> {
    if c.kind == ContainerKind::Ephemeral
        || c.attr("resources").is_unknown()
        || c.attr(&format!("resources.{section}")).is_unknown()
    {
        return None;
    }
    let mut missing = Vec::new();
    for k in wanted {
        let path = format!("resources.{section}.{k}");
        match c.attr(&path) {
            Attr::Unknown => return None,
            _ if known(c.node, &path).is_none() => missing.push(*k),
            _ => {}
        }
    }
    Some(missing)
}

/// The line of the deepest of `resources.<section>`, `resources` that exists.
fn resources_line(c: &Container<'_>, section: &str) -> u32 {
    let path = format!("resources.{section}");
    if known(c.node, &path).is_some() {
        c.line_of(&path)
    } else {
        c.line_of("resources")
    }
}

fn missing_limit(r: &Resource, out: &mut Vec<Hit>, key: &'static str, what: &'static str) {
    each_container(r, out, |_, c, out| {
        if unset(c, "limits", &[key]).is_some_and(|m| !m.is_empty()) {
            out.push(c.hit(
                resources_line(c, "limits"),
                format!(
                    "{} sets no {what} limit (`resources.limits.{key}`)",
                    c.label()
                ),
            ));
        }
    });
}

fn missing_memory_limit(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    missing_limit(r, out, "memory", "memory");
}

fn missing_cpu_limit(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    missing_limit(r, out, "cpu", "CPU");
}

fn missing_requests(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |_, c, out| {
        let (Some(requests), Some(limits)) = (
            unset(c, "requests", &["cpu", "memory"]),
            unset(c, "limits", &["cpu", "memory"]),
        ) else {
            return;
        };
        // A request left out defaults to the limit.
        let missing: Vec<&str> = requests
            .into_iter()
            .filter(|k| limits.contains(k))
            .collect();
        if !missing.is_empty() {
            out.push(c.hit(
                resources_line(c, "requests"),
                format!(
                    "{} requests no {} (`resources.requests`)",
                    c.label(),
                    missing.join(" or ")
                ),
            ));
        }
    });
}

fn secret_in_env(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |_, c, out| {
        let Some(env) = c.node.get("env").and_then(Node::as_list) else {
            return;
        };
        for e in env {
            let Some(name) = e.get("name").and_then(Node::as_str) else {
                continue;
            };
            if e.get("valueFrom").is_some_and(Node::is_set) || !is_secret_name(name) {
                continue;
            }
            let Some(value) = e.get("value") else {
                continue;
            };
            let literal = match &value.value {
                crate::model::Value::String(s) => is_literal_secret_value(s),
                crate::model::Value::Number(_) => true,
                _ => false,
            };
            if literal {
                out.push(
                    Hit::new(
                        value.line_or(c.line),
                        format!(
                            "{} sets `{name}` as a literal `value` instead of a `secretKeyRef`",
                            c.label()
                        ),
                    )
                    .key(format!("{}/{name}", c.name)),
                );
            }
        }
    });
}

/// The namespace of an object (`default` when absent, as the loader's address says).
fn namespace(r: &Resource) -> &str {
    r.attr("metadata.namespace").str().unwrap_or("default")
}

fn sa_token(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Some(pod) = Pod::of(r) else {
        return;
    };
    match pod.attr("automountServiceAccountToken") {
        Attr::Unknown => return,
        Attr::Known(n) if n.as_bool() == Some(false) => return,
        Attr::Known(n) if n.as_bool() == Some(true) => {
            out.push(Hit::new(
                pod.line_of("automountServiceAccountToken"),
                "the pod sets `automountServiceAccountToken: true`",
            ));
            return;
        }
        _ => {}
    }
    let account = pod
        .attr("serviceAccountName")
        .str()
        .or_else(|| pod.attr("serviceAccount").str())
        .filter(|s| !s.is_empty())
        .unwrap_or("default");
    let ns = namespace(r);
    let account_opts_out = ctx.model.of_kind("ServiceAccount").any(|sa| {
        sa.platform == Platform::Kubernetes
            && sa.attr("metadata.name").str() == Some(account)
            && namespace(sa) == ns
            && sa.attr("automountServiceAccountToken").bool() == Some(false)
    });
    if !account_opts_out {
        let line = if pod.attr("serviceAccountName").is_missing() {
            pod.line_of("")
        } else {
            pod.line_of("serviceAccountName")
        };
        out.push(Hit::new(
            line,
            format!(
                "the pod mounts a token of service account `{account}`: neither the pod nor the ServiceAccount sets `automountServiceAccountToken: false`"
            ),
        ));
    }
}

fn default_namespace(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("metadata.namespace") {
        Attr::Known(n) if n.as_str() == Some("default") => out.push(Hit::new(
            r.line_of("metadata.namespace"),
            "`metadata.namespace: default`",
        )),
        Attr::Missing => out.push(Hit::new(
            r.line_of("metadata"),
            "no `metadata.namespace`: applied without `-n`, the workload lands in `default`",
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{deployment, hits, hits_with, object};

    #[test]
    fn limits_and_requests() {
        let d = deployment(&json!({"containers": [
            {"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
            {"name": "b", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}}},
            {"name": "c"},
        ], "ephemeralContainers": [{"name": "debug"}]}));
        let keys = |id: &str| hits(id, &d).into_iter().map(|h| h.key).collect::<Vec<_>>();
        assert_eq!(keys("k8s-missing-memory-limit"), ["b", "c"]);
        assert_eq!(keys("k8s-missing-cpu-limit"), ["c"]);
        assert_eq!(keys("k8s-missing-resource-requests"), ["b", "c"]);
        let h = hits("k8s-missing-resource-requests", &d);
        assert!(
            h[0].message
                .ends_with("requests no memory (`resources.requests`)"),
            "{}",
            h[0].message
        );
    }

    #[test]
    fn env_secrets_are_named_not_shown() {
        let d = deployment(&json!({"containers": [{"name": "a", "env": [
            {"name": "DB_PASSWORD", "value": "hunter2"},
            {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            {"name": "GITHUB_TOKEN", "value": ""},
            {"name": "AUTH_TOKEN", "value": "$(TOKEN_FROM_SECRET)"},
            {"name": "LOG_LEVEL", "value": "debug"},
            {"name": "PIN_SECRET", "value": 1234},
        ]}]}));
        let h = hits("k8s-secret-in-env", &d);
        assert_eq!(
            h.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(),
            ["a/DB_PASSWORD", "a/PIN_SECRET"] // evident:allow variable names, not values
        );
        assert!(!h[0].message.contains("hunter2"));
    }

    #[test]
    fn service_account_opt_out_is_followed() {
        let id = "k8s-service-account-token-automount";
        let d = deployment(&json!({"serviceAccountName": "web", "containers": [{"name": "a"}]}));
        assert_eq!(hits(id, &d).len(), 1);
        let sa = object(
            &json!({"kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "shop"}, "automountServiceAccountToken": false}),
        );
        assert!(hits_with(id, &d, &[sa]).is_empty());
        let other_ns = object(
            &json!({"kind": "ServiceAccount", "metadata": {"name": "web"}, "automountServiceAccountToken": false}),
        );
        assert_eq!(hits_with(id, &d, &[other_ns]).len(), 1);
        let off = deployment(
            &json!({"automountServiceAccountToken": false, "containers": [{"name": "a"}]}),
        );
        assert!(hits(id, &off).is_empty());
    }

    #[test]
    fn namespaces() {
        let id = "k8s-default-namespace";
        assert!(hits(id, &deployment(&json!({"containers": []}))).is_empty());
        let pod =
            object(&json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}}));
        assert_eq!(hits(id, &pod).len(), 1);
        let pod = object(
            &json!({"kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": {"containers": []}}),
        );
        assert_eq!(hits(id, &pod)[0].message, "`metadata.namespace: default`");
    }
}
