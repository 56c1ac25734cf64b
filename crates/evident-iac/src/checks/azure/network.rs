//! Network security groups: inbound rules open to the internet.

use evident_core::Severity;

use super::super::common::{is_internet, port_span_or_star, strings_at};
use super::super::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Node, Resource};

const KINDS: &[&str] = &[
    "azurerm_network_security_rule",
    "azurerm_network_security_group",
];
const ADMIN_PORTS: &[(u32, &str)] = &[(22, "SSH"), (3389, "RDP")];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "azure-nsg-admin-ports-open",
            "NSG rule allows SSH or RDP from the internet",
            Severity::High,
            &[
                "soc2:CC6.6",
                "iso27001:A.8.20",
                "nist-800-53:SC-7",
                "nist-800-53:AC-17",
            ],
            "SSH and RDP open to any source are found by internet-wide scans and attacked with password guessing and exploits; administration should go through Azure Bastion, a VPN or just-in-time access.",
            "In the inbound rule, replace `source_address_prefix = \"*\"` / `\"Internet\"` with the admin ranges that need access, or set `access = \"Deny\"` and use Azure Bastion or JIT VM access.",
            KINDS,
            admin_ports,
        ),
        check(
            "azure-nsg-all-ports-open",
            "NSG rule allows every port from the internet",
            Severity::High,
            &["soc2:CC6.6", "iso27001:A.8.20", "nist-800-53:SC-7"],
            "An inbound allow rule for every port from any source exposes every service on the subnet or NIC, including management and database ports never meant to be public.",
            "Replace `destination_port_range = \"*\"` with the ports the service needs (e.g. `\"443\"`) and narrow `source_address_prefix` from `*` / `Internet`.",
            KINDS,
            all_ports,
        ),
    ]
}

/// An inbound allow rule from the internet: its name, source, protocol and destination port
/// spans with their nodes.
struct OpenRule<'a> {
    name: String,
    source: String,
    protocol: String,
    spans: Vec<((u32, u32), &'a Node)>,
}

impl OpenRule<'_> {
    fn all_ports(&self) -> bool {
        self.spans
            .iter()
            .any(|((lo, hi), _)| *lo <= 1 && *hi >= 65535)
    }
}

/// The rule bodies of a resource: the standalone rule itself, or a group's `security_rule`
/// blocks.
fn rule_bodies(r: &Resource) -> Vec<&Node> {
    if r.kind == "azurerm_network_security_rule" {
        return vec![&r.body];
    }
    match r.attr("security_rule") {
        Attr::Known(list) => list.items().collect(),
        _ => Vec::new(),
    }
}

fn open_rule(rule: &Node) -> Option<OpenRule<'_>> {
    let is = |key: &str, want: &str| {
        rule.lookup(key)
            .str()
            .is_some_and(|v| v.eq_ignore_ascii_case(want))
    };
    if !is("direction", "Inbound") || !is("access", "Allow") {
        return None;
    }
    let protocol = rule.lookup("protocol").str()?.to_ascii_lowercase();
    if !matches!(protocol.as_str(), "tcp" | "udp" | "*" | "any") {
        return None;
    }
    let source = strings_at(rule, "source_address_prefix")
        .into_iter()
        .chain(strings_at(rule, "source_address_prefixes"))
        .find(|(s, _)| is_internet(s))?
        .0
        .to_owned();
    let spans: Vec<_> = ["destination_port_range", "destination_port_ranges"]
        .iter()
        .filter_map(|k| rule.lookup(k).known())
        .flat_map(Node::items)
        .filter_map(|p| port_span_or_star(p).map(|s| (s, p)))
        .collect();
    if spans.is_empty() {
        return None;
    }
    Some(OpenRule {
        name: rule.lookup("name").str().unwrap_or("rule").to_owned(),
        source,
        protocol,
        spans,
    })
}

fn admin_ports(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for rule in rule_bodies(r).into_iter().filter_map(open_rule) {
        // Every port open is reported by azure-nsg-all-ports-open.
        if rule.all_ports() || rule.protocol == "udp" {
            continue;
        }
        for ((lo, hi), node) in &rule.spans {
            for (port, service) in ADMIN_PORTS {
                if lo <= port && port <= hi {
                    out.push(
                        Hit::new(
                            node.line_or(r.line),
                            format!(
                                "rule {} allows inbound from {} to port {port} ({service})",
                                rule.name, rule.source
                            ),
                        )
                        .key(format!("{} {port}", rule.name)),
                    );
                }
            }
        }
    }
}

fn all_ports(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for rule in rule_bodies(r).into_iter().filter_map(open_rule) {
        if let Some((_, node)) = rule
            .spans
            .iter()
            .find(|((lo, hi), _)| *lo <= 1 && *hi >= 65535)
        {
            out.push(
                Hit::new(
                    node.line_or(r.line),
                    format!(
                        "rule {} allows inbound from {} to every port",
                        rule.name, rule.source
                    ),
                )
                .key(rule.name.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::common::test_support::{res, run};
    use serde_json::json;

    fn rule(extra: &serde_json::Value) -> serde_json::Value {
        let mut base = json!({
            "name": "r", "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
            "source_address_prefix": "Internet", "destination_port_range": "22"
        });
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }

    #[test]
    fn standalone_rules() {
        let ssh = res("azurerm_network_security_rule", &rule(&json!({})));
        assert_eq!(run("azure-nsg-admin-ports-open", &ssh).len(), 1);
        let range = res(
            "azurerm_network_security_rule",
            &rule(
                &json!({"destination_port_range": null, "destination_port_ranges": ["443", "3000-3400"]}),
            ),
        );
        assert_eq!(run("azure-nsg-admin-ports-open", &range).len(), 1);
        let star = res(
            "azurerm_network_security_rule",
            &rule(&json!({"destination_port_range": "*", "protocol": "*"})),
        );
        assert!(run("azure-nsg-admin-ports-open", &star).is_empty());
        assert_eq!(run("azure-nsg-all-ports-open", &star).len(), 1);
        let deny = res(
            "azurerm_network_security_rule",
            &rule(&json!({"access": "Deny"})),
        );
        assert!(run("azure-nsg-admin-ports-open", &deny).is_empty());
        let vnet = res(
            "azurerm_network_security_rule",
            &rule(&json!({"source_address_prefix": "VirtualNetwork"})),
        );
        assert!(run("azure-nsg-admin-ports-open", &vnet).is_empty());
        let outbound = res(
            "azurerm_network_security_rule",
            &rule(&json!({"direction": "Outbound"})),
        );
        assert!(run("azure-nsg-admin-ports-open", &outbound).is_empty());
    }

    #[test]
    fn inline_rules_of_a_group() {
        let nsg = res(
            "azurerm_network_security_group",
            &json!({"security_rule": [
                rule(&json!({"name": "ssh"})),
                rule(&json!({"name": "rdp", "destination_port_range": "3389", "source_address_prefixes": ["10.0.0.0/8"], "source_address_prefix": null})),
                rule(&json!({"name": "rdp-any", "destination_port_range": "3389", "source_address_prefix": "0.0.0.0/0"})),
            ]}),
        );
        let hits = run("azure-nsg-admin-ports-open", &nsg);
        assert_eq!(hits.len(), 2, "{hits:?}");
    }
}
