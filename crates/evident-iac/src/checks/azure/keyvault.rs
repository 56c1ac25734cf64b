//! Key Vault: recoverability and network exposure.

use evident_core::Severity;

use super::super::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Resource};

const KINDS: &[&str] = &["azurerm_key_vault"];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "azure-keyvault-purge-protection-disabled",
            "Key Vault without purge protection",
            Severity::Medium,
            &[
                "soc2:CC9.1",
                "iso27001:A.8.13",
                "nist-800-53:CP-9",
                "nist-800-53:SC-12",
            ],
            "Without purge protection, a deleted vault or key can be purged before its retention period ends, permanently destroying the keys that decrypt data encrypted with them.",
            "Set `purge_protection_enabled = true` on the `azurerm_key_vault` (keep `soft_delete_retention_days` at 90).",
            KINDS,
            purge_protection,
        ),
        check(
            "azure-keyvault-network-default-allow",
            "Key Vault reachable from all networks",
            Severity::Medium,
            &["soc2:CC6.6", "iso27001:A.8.20", "nist-800-53:SC-7"],
            "A vault whose network default action is Allow accepts requests from any network, so a stolen token for an identity with vault access can be used from anywhere.",
            "Add `network_acls { default_action = \"Deny\"  bypass = \"AzureServices\"  ip_rules = [...] }`, or set `public_network_access_enabled = false` and use a private endpoint.",
            KINDS,
            network_default_allow,
        ),
    ]
}

fn purge_protection(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let path = "purge_protection_enabled";
    match r.attr(path) {
        a if a.is_absent() => out.push(Hit::new(
            r.line,
            "purge_protection_enabled is not set (the default is false)",
        )),
        a if a.bool() == Some(false) => {
            out.push(Hit::new(
                r.line_of(path),
                "purge_protection_enabled = false",
            ));
        }
        _ => {}
    }
}

fn network_default_allow(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("public_network_access_enabled") {
        Attr::Unknown => return,
        a if a.bool() == Some(false) => return,
        _ => {}
    }
    if r.attr("network_acls").is_absent() {
        out.push(Hit::new(
            r.line,
            "no network_acls and public network access enabled (all networks allowed)",
        ));
        return;
    }
    let path = "network_acls.default_action";
    if r.attr(path).str() == Some("Allow") {
        out.push(Hit::new(
            r.line_of(path),
            "network_acls.default_action = \"Allow\"",
        ));
    }
}
