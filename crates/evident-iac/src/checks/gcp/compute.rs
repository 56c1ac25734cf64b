//! Compute Engine and VPC: firewall rules, instance exposure and hardening, subnet flow logs.

use evident_core::{Confidence, Severity};

use super::super::common::{is_world_cidr, port_span, strings_at};
use super::super::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Node, Resource};

const NETWORK: &[&str] = &["soc2:CC6.6", "iso27001:A.8.20", "nist-800-53:SC-7"];
const INSTANCES: &[&str] = &[
    "google_compute_instance",
    "google_compute_instance_template",
];

/// Ports of remote administration: SSH and RDP.
const ADMIN_PORTS: &[(u32, &str)] = &[(22, "SSH"), (3389, "RDP")];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "gcp-firewall-admin-ports-open",
            "VPC firewall rule allows SSH or RDP from the internet",
            Severity::High,
            &[
                "soc2:CC6.6",
                "iso27001:A.8.20",
                "nist-800-53:SC-7",
                "nist-800-53:AC-17",
            ],
            "SSH and RDP reachable from any address are scanned and brute-forced within minutes of exposure; remote administration should come through IAP, a bastion or a VPN.",
            "Replace `0.0.0.0/0` in `source_ranges` with the ranges that need access (for IAP TCP forwarding: `source_ranges = [\"35.235.240.0/20\"]`), or remove ports 22/3389 from the `allow` block.",
            &["google_compute_firewall"],
            firewall_admin_ports,
        ),
        check(
            "gcp-firewall-all-ports-open",
            "VPC firewall rule allows every port from the internet",
            Severity::High,
            NETWORK,
            "A rule that opens every port (or every protocol) to any address exposes each service the targeted instances run, including ones never meant to be public.",
            "Restrict the `allow` block to the ports the service needs (`allow { protocol = \"tcp\"  ports = [\"443\"] }`) and narrow `source_ranges` from `0.0.0.0/0`.",
            &["google_compute_firewall"],
            firewall_all_ports,
        ),
        check(
            "gcp-compute-instance-public-ip",
            "Compute instance with an external IP address",
            Severity::Medium,
            NETWORK,
            "An external IP makes the VM directly reachable from the internet, so its exposure then rests entirely on firewall rules instead of on network design.",
            "Remove the `access_config` (and `ipv6_access_config`) block from `network_interface`; reach the VM through IAP or a load balancer and use Cloud NAT for egress.",
            INSTANCES,
            instance_public_ip,
        ),
        check(
            "gcp-compute-serial-port-enabled",
            "Interactive serial console enabled",
            Severity::Medium,
            &[
                "soc2:CC6.6",
                "iso27001:A.8.20",
                "nist-800-53:AC-17",
                "nist-800-53:CM-7",
            ],
            "The interactive serial console accepts connections from any IP address and bypasses the VPC firewall, so it is a remote-access path that network controls do not cover.",
            "Remove `serial-port-enable` from `metadata` or set `metadata = { \"serial-port-enable\" = \"FALSE\" }`; enable it only temporarily for troubleshooting.",
            &[
                "google_compute_instance",
                "google_compute_instance_template",
                "google_compute_project_metadata",
                "google_compute_project_metadata_item",
            ],
            serial_port,
        ),
        check(
            "gcp-compute-default-service-account-full-scope",
            "Instance uses the default compute service account with the cloud-platform scope",
            Severity::Medium,
            &[
                "soc2:CC6.3",
                "iso27001:A.5.15",
                "iso27001:A.8.2",
                "nist-800-53:AC-6",
            ],
            "The default compute service account usually holds the Editor role; with the cloud-platform scope any code on the VM can use that role against every API in the project.",
            "Set `service_account { email = google_service_account.APP.email  scopes = [\"cloud-platform\"] }` with a dedicated, least-privileged service account (or keep the default account with narrow scopes).",
            INSTANCES,
            default_service_account,
        ),
        check(
            "gcp-compute-project-ssh-keys-allowed",
            "Instance accepts project-wide SSH keys",
            Severity::Low,
            &[
                "soc2:CC6.3",
                "iso27001:A.5.15",
                "iso27001:A.8.5",
                "nist-800-53:AC-6",
            ],
            "A key added to project metadata opens every instance that does not block it, so one leaked key reaches all of them and access is not managed per VM or per user.",
            "Enable OS Login (`metadata = { enable-oslogin = \"TRUE\" }` on the instance, or project-wide with `google_compute_project_metadata_item`) or set `metadata = { block-project-ssh-keys = \"true\" }`.",
            INSTANCES,
            project_ssh_keys,
        )
        // OS Login is often enabled for the whole project or organisation outside this code.
        .confidence(Confidence::Medium),
        check(
            "gcp-compute-secure-boot-disabled",
            "Shielded VM secure boot not enabled",
            Severity::Low,
            &["soc2:CC6.8", "iso27001:A.8.9", "nist-800-53:CM-6"],
            "Without secure boot the VM starts boot components whose signatures were not verified, so a bootkit or rootkit can persist below the operating system.",
            "Add `shielded_instance_config { enable_secure_boot = true  enable_vtpm = true  enable_integrity_monitoring = true }` (with a Shielded VM image).",
            INSTANCES,
            secure_boot,
        ),
        check(
            "gcp-subnet-flow-logs-disabled",
            "VPC subnet without flow logs",
            Severity::Low,
            &[
                "soc2:CC7.2",
                "iso27001:A.8.15",
                "iso27001:A.8.16",
                "nist-800-53:AU-12",
                "nist-800-53:SI-4",
            ],
            "Without VPC flow logs there is no record of which addresses talked to the workloads in the subnet, which an investigation of a network intrusion or data exfiltration needs.",
            "Add `log_config { aggregation_interval = \"INTERVAL_5_SEC\"  flow_sampling = 0.5  metadata = \"INCLUDE_ALL_METADATA\" }` to the `google_compute_subnetwork`.",
            &["google_compute_subnetwork"],
            subnet_flow_logs,
        ),
    ]
}

/// One `allow` block of an ingress firewall rule open to the internet: the protocol and the
/// port spans (`None` = every port).
struct OpenAllow<'a> {
    protocol: String,
    ports: Option<Vec<((u32, u32), &'a Node)>>,
    node: &'a Node,
}

impl OpenAllow<'_> {
    fn all_ports(&self) -> bool {
        self.protocol == "all"
            || self
                .ports
                .as_ref()
                .is_none_or(|spans| spans.iter().any(|((lo, hi), _)| *lo <= 1 && *hi >= 65535))
    }
}

/// The world source range of an enabled ingress rule and its open `allow` blocks; `None` when
/// the rule is not open to the internet or cannot be judged.
fn open_allows(r: &Resource) -> Option<(&str, Vec<OpenAllow<'_>>)> {
    if r.attr("disabled").bool() == Some(true) || r.attr("disabled").is_unknown() {
        return None;
    }
    match r.attr("direction") {
        Attr::Missing => {}
        a if a.str().is_some_and(|d| d.eq_ignore_ascii_case("INGRESS")) => {}
        _ => return None,
    }
    let world = strings_at(&r.body, "source_ranges")
        .into_iter()
        .find(|(s, _)| is_world_cidr(s))?
        .0;
    let mut allows = Vec::new();
    let Attr::Known(list) = r.attr("allow") else {
        return None;
    };
    for item in list.items() {
        let Some(protocol) = item.lookup("protocol").str() else {
            continue;
        };
        let protocol = match protocol.to_ascii_lowercase().as_str() {
            "6" => "tcp".to_owned(),
            "17" => "udp".to_owned(),
            "132" => "sctp".to_owned(),
            p => p.to_owned(),
        };
        if !matches!(protocol.as_str(), "all" | "tcp" | "udp" | "sctp") {
            continue;
        }
        let ports = match item.lookup("ports") {
            Attr::Unknown => continue,
            Attr::Missing => None,
            Attr::Known(n) => {
                // Unknown items cannot make the rule less open: judge the known ones.
                let spans: Vec<_> = n
                    .items()
                    .filter_map(|p| port_span(p).map(|s| (s, p)))
                    .collect();
                if Attr::Known(n).is_absent() {
                    // No ports (null or an empty list) means every port.
                    None
                } else if spans.is_empty() {
                    continue;
                } else {
                    Some(spans)
                }
            }
        };
        allows.push(OpenAllow {
            protocol,
            ports,
            node: item,
        });
    }
    Some((world, allows))
}

/// The line of the `ports` of an `allow` block, else of its `protocol`, else `fallback`.
fn allow_line(allow: &OpenAllow<'_>, fallback: u32) -> u32 {
    allow
        .node
        .lookup("ports")
        .known()
        .or_else(|| allow.node.lookup("protocol").known())
        .map_or(fallback, |n| n.line_or(fallback))
}

fn firewall_admin_ports(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Some((world, allows)) = open_allows(r) else {
        return;
    };
    for allow in allows {
        // Every port open is reported by gcp-firewall-all-ports-open.
        if allow.all_ports() || allow.protocol != "tcp" {
            continue;
        }
        for ((lo, hi), node) in allow.ports.iter().flatten() {
            for (port, service) in ADMIN_PORTS {
                if lo <= port && port <= hi {
                    let line = node.line_or(allow_line(&allow, r.line));
                    out.push(
                        Hit::new(
                            line,
                            format!("ingress from {world} to tcp port {port} ({service})"),
                        )
                        .key(port.to_string()),
                    );
                }
            }
        }
    }
}

fn firewall_all_ports(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Some((world, allows)) = open_allows(r) else {
        return;
    };
    for allow in allows {
        if allow.all_ports() {
            let what = if allow.protocol == "all" {
                "every protocol and port".to_owned()
            } else {
                format!("every {} port", allow.protocol)
            };
            out.push(
                Hit::new(
                    allow_line(&allow, r.line),
                    format!("ingress from {world} to {what}"),
                )
                .key(allow.protocol.clone()),
            );
        }
    }
}

fn instance_public_ip(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Attr::Known(nics) = r.attr("network_interface") else {
        return;
    };
    for (i, nic) in nics.items().enumerate() {
        for block in ["access_config", "ipv6_access_config"] {
            if let Attr::Known(n) = nic.lookup(block)
                && n.is_set()
            {
                out.push(
                    Hit::new(
                        n.line_or(r.line),
                        format!("network_interface {i} has an {block} block (external IP)"),
                    )
                    .key(format!("{i} {block}")),
                );
            }
        }
    }
}

/// A metadata flag's value: booleans, `"TRUE"`/`"false"`, `"1"`/`"0"`.
fn flag(node: &Node) -> Option<bool> {
    node.as_bool().or_else(|| match node.as_str() {
        Some("1") => Some(true),
        Some("0") => Some(false),
        Some(_) => None,
        None => node.as_f64().map(|n| n > 0.5),
    })
}

/// The value of metadata `key` on an instance or in project metadata.
fn metadata<'a>(r: &'a Resource, key: &str) -> Attr<'a> {
    if r.kind == "google_compute_project_metadata_item" {
        return match r.attr("key") {
            Attr::Known(k) if k.as_str() == Some(key) => r.attr("value"),
            Attr::Known(_) | Attr::Missing => Attr::Missing,
            Attr::Unknown => Attr::Unknown,
        };
    }
    match r.attr("metadata") {
        Attr::Known(m) => m.lookup(key),
        other => other,
    }
}

fn serial_port(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if let Attr::Known(n) = metadata(r, "serial-port-enable")
        && flag(n) == Some(true)
    {
        out.push(Hit::new(
            n.line_or(r.line),
            "metadata serial-port-enable is true",
        ));
    }
}

fn is_cloud_platform(scope: &str) -> bool {
    scope == "cloud-platform" || scope == "https://www.googleapis.com/auth/cloud-platform"
}

fn default_service_account(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Attr::Known(accounts) = r.attr("service_account") else {
        return;
    };
    for sa in accounts.items() {
        let email = match sa.lookup("email") {
            Attr::Unknown => continue,
            Attr::Missing => "the default compute service account".to_owned(),
            Attr::Known(n) if !n.is_set() => "the default compute service account".to_owned(),
            Attr::Known(n) => match n.as_str() {
                Some(e)
                    if e.ends_with("-compute@developer.gserviceaccount.com") || e == "default" =>
                {
                    e.to_owned()
                }
                _ => continue,
            },
        };
        if let Some((_, line)) = strings_at(sa, "scopes")
            .into_iter()
            .find(|(s, _)| is_cloud_platform(s))
        {
            let line = if line > 0 { line } else { r.line };
            out.push(Hit::new(
                line,
                format!("runs as {email} with the cloud-platform scope"),
            ));
        }
    }
}

/// Does the model enable OS Login project-wide (or might it: an unknown value)?
fn project_os_login(ctx: &Ctx<'_>) -> bool {
    [
        "google_compute_project_metadata",
        "google_compute_project_metadata_item",
    ]
    .iter()
    .flat_map(|k| ctx.model.of_kind(k))
    .any(|p| match metadata(p, "enable-oslogin") {
        Attr::Known(n) => flag(n) != Some(false),
        Attr::Unknown => true,
        Attr::Missing => false,
    })
}

fn project_ssh_keys(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let os_login = metadata(r, "enable-oslogin");
    let block = metadata(r, "block-project-ssh-keys");
    if os_login.is_unknown() || block.is_unknown() {
        return;
    }
    let on = |a: Attr<'_>| a.known().and_then(flag) == Some(true);
    if on(os_login) || on(block) {
        return;
    }
    let explicit_off = os_login.known().and_then(flag) == Some(false);
    if !explicit_off && project_os_login(ctx) {
        return;
    }
    let (line, message) = if explicit_off {
        (
            r.line_of("metadata.enable-oslogin"),
            "enable-oslogin is FALSE and block-project-ssh-keys is not set",
        )
    } else {
        (
            r.line,
            "neither OS Login nor block-project-ssh-keys is enabled",
        )
    };
    out.push(Hit::new(line, message));
}

fn secure_boot(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("shielded_instance_config.enable_secure_boot") {
        a if a.is_absent() => out.push(Hit::new(
            r.line,
            "shielded_instance_config.enable_secure_boot is not set (off by default)",
        )),
        a if a.bool() == Some(false) => out.push(Hit::new(
            r.line_of("shielded_instance_config.enable_secure_boot"),
            "shielded_instance_config.enable_secure_boot = false",
        )),
        _ => {}
    }
}

fn subnet_flow_logs(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("purpose") {
        Attr::Unknown => return,
        Attr::Known(p) => {
            // Proxy-only, Private Service Connect and NAT subnets do not support flow logs.
            if !matches!(p.as_str(), Some("PRIVATE" | "PRIVATE_RFC_1918") | None) {
                return;
            }
        }
        Attr::Missing => {}
    }
    match r.attr("log_config") {
        Attr::Missing => out.push(Hit::new(r.line, "no log_config block (flow logs off)")),
        Attr::Known(n) if !n.is_set() => {
            out.push(Hit::new(
                r.line_of("log_config"),
                "log_config is empty (flow logs off)",
            ));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::Options;
    use crate::checks::common::test_support::{res, run, run_with};
    use serde_json::json;

    fn firewall(allow: &serde_json::Value) -> crate::model::Resource {
        res(
            "google_compute_firewall",
            &json!({"source_ranges": ["10.0.0.0/8", "0.0.0.0/0"], "allow": allow}),
        )
    }

    #[test]
    fn admin_ports_in_lists_and_ranges() {
        let r = firewall(&json!([{"protocol": "tcp", "ports": ["80", "20-25", 3389]}]));
        let hits = run("gcp-firewall-admin-ports-open", &r);
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert!(hits[0].message.contains("port 22"));
        assert!(run("gcp-firewall-all-ports-open", &r).is_empty());
        let web = firewall(&json!([{"protocol": "tcp", "ports": ["80", "443"]}]));
        assert!(run("gcp-firewall-admin-ports-open", &web).is_empty());
    }

    #[test]
    fn all_ports_is_reported_once() {
        for allow in [
            json!([{"protocol": "all"}]),
            json!([{"protocol": "tcp"}]),
            json!([{"protocol": "tcp", "ports": []}]),
            json!([{"protocol": "tcp", "ports": ["0-65535"]}]),
        ] {
            let r = firewall(&allow);
            assert_eq!(run("gcp-firewall-all-ports-open", &r).len(), 1, "{allow}");
            assert!(
                run("gcp-firewall-admin-ports-open", &r).is_empty(),
                "{allow}"
            );
        }
        let icmp = firewall(&json!([{"protocol": "icmp"}]));
        assert!(run("gcp-firewall-all-ports-open", &icmp).is_empty());
    }

    #[test]
    fn egress_disabled_and_private_rules_pass() {
        let egress = res(
            "google_compute_firewall",
            &json!({"direction": "EGRESS", "source_ranges": ["0.0.0.0/0"], "allow": [{"protocol": "all"}]}),
        );
        assert!(run("gcp-firewall-all-ports-open", &egress).is_empty());
        let disabled = res(
            "google_compute_firewall",
            &json!({"disabled": true, "source_ranges": ["0.0.0.0/0"], "allow": [{"protocol": "all"}]}),
        );
        assert!(run("gcp-firewall-all-ports-open", &disabled).is_empty());
        let private = res(
            "google_compute_firewall",
            &json!({"source_ranges": ["10.0.0.0/8"], "allow": [{"protocol": "tcp", "ports": ["22"]}]}),
        );
        assert!(run("gcp-firewall-admin-ports-open", &private).is_empty());
    }

    #[test]
    fn project_wide_os_login_covers_instances() {
        let vm = res(
            "google_compute_instance",
            &json!({"metadata": {"foo": "bar"}}),
        );
        assert_eq!(run("gcp-compute-project-ssh-keys-allowed", &vm).len(), 1);
        let project = res(
            "google_compute_project_metadata_item",
            &json!({"key": "enable-oslogin", "value": "TRUE"}),
        );
        assert!(
            run_with(
                "gcp-compute-project-ssh-keys-allowed",
                &vm,
                &[project],
                &Options::default()
            )
            .is_empty()
        );
        let blocked = res(
            "google_compute_instance",
            &json!({"metadata": {"block-project-ssh-keys": true}}),
        );
        assert!(run("gcp-compute-project-ssh-keys-allowed", &blocked).is_empty());
    }

    #[test]
    fn default_service_account_scopes() {
        let vm = res(
            "google_compute_instance",
            &json!({"service_account": [{"scopes": ["cloud-platform"]}]}),
        );
        assert_eq!(
            run("gcp-compute-default-service-account-full-scope", &vm).len(),
            1
        );
        let named = res(
            "google_compute_instance",
            &json!({"service_account": [{"email": "app@p.iam.gserviceaccount.com", "scopes": ["cloud-platform"]}]}),
        );
        assert!(run("gcp-compute-default-service-account-full-scope", &named).is_empty());
        let narrow = res(
            "google_compute_instance",
            &json!({"service_account": [{"email": "123-compute@developer.gserviceaccount.com", "scopes": ["logging-write"]}]}),
        );
        assert!(run("gcp-compute-default-service-account-full-scope", &narrow).is_empty());
    }
}
