//! GKE clusters: authorization, node and control-plane exposure, workload credentials.

use evident_core::Severity;

use super::super::common::is_world_cidr;
use super::super::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Resource};

const NETWORK: &[&str] = &["soc2:CC6.6", "iso27001:A.8.20", "nist-800-53:SC-7"];
const IAM: &[&str] = &[
    "soc2:CC6.3",
    "iso27001:A.5.15",
    "iso27001:A.8.2",
    "nist-800-53:AC-6",
];
const KINDS: &[&str] = &["google_container_cluster"];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "gcp-gke-legacy-abac-enabled",
            "GKE legacy ABAC authorization enabled",
            Severity::High,
            &[
                "soc2:CC6.3",
                "iso27001:A.5.15",
                "iso27001:A.8.2",
                "nist-800-53:AC-6",
                "nist-800-53:AC-3",
            ],
            "Legacy ABAC grants broad static permissions that Kubernetes RBAC roles cannot narrow, so workloads and users can end up with far more cluster access than intended.",
            "Remove `enable_legacy_abac = true` (the default is false) and manage access with RBAC Roles and RoleBindings.",
            KINDS,
            legacy_abac,
        ),
        check(
            "gcp-gke-private-nodes-disabled",
            "GKE nodes have public IP addresses",
            Severity::Medium,
            NETWORK,
            "Without private nodes every node gets an external IP, so node ports, the kubelet and anything on host networking sit directly on the internet, guarded only by firewall rules.",
            "Add `private_cluster_config { enable_private_nodes = true  master_ipv4_cidr_block = \"172.16.0.0/28\" }` and give the nodes egress through Cloud NAT.",
            KINDS,
            private_nodes,
        ),
        check(
            "gcp-gke-control-plane-unrestricted",
            "GKE control-plane endpoint reachable from any address",
            Severity::Medium,
            &[
                "soc2:CC6.6",
                "iso27001:A.8.20",
                "nist-800-53:SC-7",
                "nist-800-53:AC-17",
            ],
            "A public Kubernetes API endpoint with no authorized networks can be probed and attacked from anywhere; a stolen kubeconfig or an API server flaw is then usable from any network.",
            "Add `master_authorized_networks_config { cidr_blocks { cidr_block = \"203.0.113.0/24\"  display_name = \"office\" } }` with your admin ranges, or set `private_cluster_config { enable_private_endpoint = true }`.",
            KINDS,
            control_plane,
        ),
        check(
            "gcp-gke-workload-identity-disabled",
            "GKE Workload Identity not enabled",
            Severity::Medium,
            IAM,
            "Without Workload Identity, pods call Google APIs with the node's service account, so every pod on a node shares one identity and can read its credentials from the metadata server.",
            "Add `workload_identity_config { workload_pool = \"${var.project}.svc.id.goog\" }` and bind Kubernetes service accounts to dedicated Google service accounts.",
            KINDS,
            workload_identity,
        ),
        check(
            "gcp-gke-client-certificate-enabled",
            "GKE issues a client certificate for cluster authentication",
            Severity::Medium,
            &["soc2:CC6.1", "iso27001:A.8.5", "nist-800-53:IA-5"],
            "The legacy client certificate is a long-lived credential with cluster-admin rights that cannot be revoked short of rotating the cluster's credentials, and it is stored in Terraform state.",
            "Set `master_auth { client_certificate_config { issue_client_certificate = false } }` and authenticate with Google identities (gcloud / GKE auth plugin).",
            KINDS,
            client_certificate,
        ),
    ]
}

fn legacy_abac(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if r.attr("enable_legacy_abac").bool() == Some(true) {
        out.push(Hit::new(
            r.line_of("enable_legacy_abac"),
            "enable_legacy_abac = true",
        ));
    }
}

fn private_nodes(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let path = "private_cluster_config.enable_private_nodes";
    match r.attr(path) {
        Attr::Missing if r.attr("private_cluster_config").is_absent() => {
            out.push(Hit::new(
                r.line,
                "no private_cluster_config block (nodes get public IPs)",
            ));
        }
        a if a.is_absent() => out.push(Hit::new(
            r.line_of("private_cluster_config"),
            "private_cluster_config.enable_private_nodes is not set",
        )),
        a if a.bool() == Some(false) => out.push(Hit::new(
            r.line_of(path),
            "private_cluster_config.enable_private_nodes = false",
        )),
        _ => {}
    }
}

fn control_plane(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("private_cluster_config.enable_private_endpoint") {
        Attr::Unknown => return,
        a if a.bool() == Some(true) => return,
        _ => {}
    }
    let config = r.attr("master_authorized_networks_config");
    if config.is_absent() {
        out.push(Hit::new(
            r.line,
            "no master_authorized_networks_config: the public endpoint accepts any address",
        ));
        return;
    }
    let Attr::Known(config) = config else {
        return;
    };
    if let Attr::Known(blocks) = config.lookup("cidr_blocks") {
        for b in blocks.items() {
            if let Attr::Known(cidr) = b.lookup("cidr_block")
                && let Some(c) = cidr.as_str().filter(|c| is_world_cidr(c))
            {
                out.push(
                    Hit::new(
                        cidr.line_or(r.line),
                        format!("master authorized network {c}"),
                    )
                    .key(c),
                );
            }
        }
    }
    let public = config.lookup("gcp_public_cidrs_access_enabled");
    if public.bool() == Some(true) {
        out.push(
            Hit::new(
                public.known().map_or(r.line, |n| n.line.max(1)),
                "gcp_public_cidrs_access_enabled = true (any Google Cloud address may connect)",
            )
            .key("gcp_public_cidrs_access_enabled"),
        );
    }
}

fn workload_identity(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("enable_autopilot") {
        // Autopilot clusters always use Workload Identity.
        Attr::Unknown => return,
        a if a.bool() == Some(true) => return,
        _ => {}
    }
    match r.attr("workload_identity_config.workload_pool") {
        Attr::Missing => out.push(Hit::new(
            r.line_of("workload_identity_config"),
            "no workload_identity_config.workload_pool",
        )),
        Attr::Known(n) if !n.is_set() => out.push(Hit::new(
            r.line_of("workload_identity_config.workload_pool"),
            "workload_identity_config.workload_pool is empty",
        )),
        _ => {}
    }
}

fn client_certificate(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let path = "master_auth.client_certificate_config.issue_client_certificate";
    if r.attr(path).bool() == Some(true) {
        out.push(Hit::new(r.line_of(path), "issue_client_certificate = true"));
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::common::test_support::{res, run};
    use serde_json::json;

    #[test]
    fn control_plane_private_endpoint_and_networks() {
        let open = res("google_container_cluster", &json!({"name": "c"}));
        assert_eq!(run("gcp-gke-control-plane-unrestricted", &open).len(), 1);
        let private = res(
            "google_container_cluster",
            &json!({"private_cluster_config": [{"enable_private_nodes": true, "enable_private_endpoint": true}]}),
        );
        assert!(run("gcp-gke-control-plane-unrestricted", &private).is_empty());
        let world = res(
            "google_container_cluster",
            &json!({"master_authorized_networks_config": [{"cidr_blocks": [{"cidr_block": "10.0.0.0/8"}, {"cidr_block": "0.0.0.0/0"}]}]}),
        );
        assert_eq!(run("gcp-gke-control-plane-unrestricted", &world).len(), 1);
    }

    #[test]
    fn autopilot_has_workload_identity() {
        let autopilot = res(
            "google_container_cluster",
            &json!({"enable_autopilot": true}),
        );
        assert!(run("gcp-gke-workload-identity-disabled", &autopilot).is_empty());
        let standard = res("google_container_cluster", &json!({"name": "c"}));
        assert_eq!(
            run("gcp-gke-workload-identity-disabled", &standard).len(),
            1
        );
    }
}
