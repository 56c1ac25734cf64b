//! How workloads are exposed: Services of type LoadBalancer and NodePort, and Ingresses.

use evident_core::Severity;

use super::{NETWORK, TLS, name, strings};
use crate::checks::common::is_any_cidr;
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Node, Resource};

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "k8s-service-loadbalancer-unrestricted",
            "LoadBalancer Service open to any address",
            Severity::Low,
            NETWORK,
            "A Service of type `LoadBalancer` gets a cloud load balancer that, without `loadBalancerSourceRanges`, accepts connections from the whole internet: every bug or weak credential of the workload is reachable by anyone.",
            "Set `spec.loadBalancerSourceRanges` to the client networks (e.g. `[\"203.0.113.0/24\"]`), or make the load balancer internal with the provider's annotation (e.g. `service.beta.kubernetes.io/aws-load-balancer-scheme: internal`), or expose it through an Ingress with authentication.",
            &["Service"],
            loadbalancer,
        ),
        check(
            "k8s-service-nodeport",
            "Service of type NodePort",
            Severity::Low,
            NETWORK,
            "A `NodePort` Service opens the port on every node of the cluster, on whatever addresses the nodes have, which bypasses the controlled entry points (load balancer, Ingress) and their filtering.",
            "Use `type: ClusterIP` and expose the workload through an Ingress or a `LoadBalancer` with `loadBalancerSourceRanges`.",
            &["Service"],
            nodeport,
        ),
        check(
            "k8s-ingress-without-tls",
            "Ingress without TLS",
            Severity::Medium,
            TLS,
            "An Ingress without `tls` serves its hosts over plain HTTP: credentials, session cookies and data cross the network readable and modifiable by anyone on the path.",
            "Add `spec.tls` with every host of the rules and the Secret holding the certificate (`tls: [{hosts: [\"shop.example.com\"], secretName: shop-tls}]`, e.g. issued by cert-manager), or terminate TLS on the load balancer with the controller's certificate annotation.",
            &["Ingress"],
            ingress_tls,
        ),
    ]
}

fn annotation<'a>(r: &'a Resource, key: &str) -> Option<&'a str> {
    r.attr("metadata.annotations").known()?.get(key)?.as_str()
}

/// Annotations that make a cloud load balancer internal, with the value that does.
const INTERNAL: &[(&str, &str)] = &[
    ("service.beta.kubernetes.io/aws-load-balancer-internal", ""),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        "internal",
    ),
    ("networking.gke.io/load-balancer-type", "internal"),
    ("cloud.google.com/load-balancer-type", "internal"),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        "true",
    ),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        "true",
    ),
    (
        "service.beta.kubernetes.io/openstack-internal-load-balancer",
        "true",
    ),
    (
        "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type",
        "private",
    ),
];

fn is_internal(r: &Resource) -> bool {
    INTERNAL.iter().any(|(key, wanted)| {
        annotation(r, key).is_some_and(|v| {
            if wanted.is_empty() {
                !v.eq_ignore_ascii_case("false") && !v.is_empty()
            } else {
                v.eq_ignore_ascii_case(wanted)
            }
        })
    })
}

fn loadbalancer(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if r.attr("spec.type").str() != Some("LoadBalancer") || is_internal(r) {
        return;
    }
    if r.attr("spec.loadBalancerSourceRanges").is_unknown() {
        return;
    }
    let mut ranges: Vec<String> = strings(&r.body, "spec.loadBalancerSourceRanges")
        .into_iter()
        .map(str::to_owned)
        .collect();
    if let Some(a) = annotation(r, "service.beta.kubernetes.io/load-balancer-source-ranges") {
        ranges.extend(
            a.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        );
    }
    let open = ranges.iter().find(|r| is_any_cidr(r));
    let message = match open {
        Some(any) => format!("LoadBalancer Service `{}` allows `{any}`", name(r)),
        None if ranges.is_empty() => format!(
            "LoadBalancer Service `{}` sets no `loadBalancerSourceRanges`: reachable from any address",
            name(r)
        ),
        None => return,
    };
    let line = if open.is_some() && r.attr("spec.loadBalancerSourceRanges").is_set() {
        r.line_of("spec.loadBalancerSourceRanges")
    } else {
        r.line_of("spec.type")
    };
    out.push(Hit::new(line, message));
}

fn nodeport(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if r.attr("spec.type").str() == Some("NodePort") {
        out.push(Hit::new(
            r.line_of("spec.type"),
            format!("Service `{}` is of type `NodePort`", name(r)),
        ));
    }
}

/// Annotations with which the controller terminates TLS without `spec.tls`.
const TLS_ANNOTATIONS: &[&str] = &[
    "alb.ingress.kubernetes.io/certificate-arn",
    "ingress.gcp.kubernetes.io/pre-shared-cert",
    "networking.gke.io/managed-certificates",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
];

/// Does a `tls.hosts` entry (`*.example.com` covers one label) cover `host`?
fn covers(pattern: &str, host: &str) -> bool {
    let (p, h) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    if let Some(suffix) = p.strip_prefix("*.") {
        return h
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix);
    }
    p == h
}

fn ingress_tls(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if TLS_ANNOTATIONS
        .iter()
        .any(|a| annotation(r, a).is_some_and(|v| !v.is_empty()))
        || annotation(r, "kubernetes.io/ingress.allow-http") == Some("false")
    {
        return;
    }
    let tls = r.attr("spec.tls");
    if tls.is_unknown() {
        return;
    }
    let entries: &[Node] = tls.known().and_then(Node::as_list).unwrap_or_default();
    if entries.is_empty() {
        out.push(Hit::new(
            if tls.is_missing() {
                r.line_of("spec")
            } else {
                r.line_of("spec.tls")
            },
            format!(
                "Ingress `{}` has no `spec.tls`: its hosts are served over plain HTTP",
                name(r)
            ),
        ));
        return;
    }
    // A `tls` entry without hosts applies the certificate to every host.
    if entries.iter().any(|e| strings(e, "hosts").is_empty()) {
        return;
    }
    let patterns: Vec<&str> = entries.iter().flat_map(|e| strings(e, "hosts")).collect();
    let rules = r
        .attr("spec.rules")
        .known()
        .and_then(Node::as_list)
        .unwrap_or_default();
    for rule in rules {
        let Some(host) = rule.get("host").and_then(Node::as_str) else {
            continue;
        };
        if !patterns.iter().any(|p| covers(p, host)) {
            let line = rule.get("host").map_or(r.line, |n| n.line);
            out.push(
                Hit::new(
                    line,
                    format!(
                        "Ingress `{}` serves `{host}` without TLS (not in `spec.tls[].hosts`)",
                        name(r)
                    ),
                )
                .key(host.to_owned()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{hits, object};

    #[test]
    fn load_balancers() {
        let id = "k8s-service-loadbalancer-unrestricted";
        let open = object(
            &json!({"kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "LoadBalancer"}}),
        );
        assert_eq!(hits(id, &open).len(), 1);
        let any = object(
            &json!({"kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/8", "0.0.0.0/0"]}}),
        );
        assert!(hits(id, &any)[0].message.contains("0.0.0.0/0"));
        let restricted = object(
            &json!({"kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/8"]}}),
        );
        assert!(hits(id, &restricted).is_empty());
        let internal = object(
            &json!({"kind": "Service", "metadata": {"name": "s", "annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}}, "spec": {"type": "LoadBalancer"}}),
        );
        assert!(hits(id, &internal).is_empty());
        assert!(hits("k8s-service-nodeport", &open).is_empty());
    }

    #[test]
    fn ingress_tls_covers_hosts() {
        let id = "k8s-ingress-without-tls";
        let none = object(
            &json!({"kind": "Ingress", "metadata": {"name": "i"}, "spec": {"rules": [{"host": "a.example.com"}]}}),
        );
        assert_eq!(hits(id, &none).len(), 1);
        let partial = object(
            &json!({"kind": "Ingress", "metadata": {"name": "i"}, "spec": {
            "tls": [{"hosts": ["*.example.com"], "secretName": "t"}],
            "rules": [{"host": "a.example.com"}, {"host": "example.com"}, {"host": "b.a.example.com"}]}}),
        );
        let keys: Vec<String> = hits(id, &partial).into_iter().map(|h| h.key).collect();
        assert_eq!(keys, ["example.com", "b.a.example.com"]);
        let alb = object(
            &json!({"kind": "Ingress", "metadata": {"name": "i", "annotations": {"alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:x"}}, "spec": {"rules": [{"host": "a.example.com"}]}}),
        );
        assert!(hits(id, &alb).is_empty());
    }
}
