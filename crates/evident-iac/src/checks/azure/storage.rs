//! Storage accounts and containers: transport security, public access, network rules, CMK.

use evident_core::Severity;

use super::super::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Resource};

const TLS: &[&str] = &["soc2:CC6.7", "iso27001:A.8.24", "nist-800-53:SC-8"];
const ACCESS: &[&str] = &[
    "soc2:CC6.1",
    "soc2:CC6.3",
    "iso27001:A.5.15",
    "nist-800-53:AC-3",
];
const ACCOUNT: &[&str] = &["azurerm_storage_account"];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "azure-storage-https-not-enforced",
            "Storage account accepts plain HTTP",
            Severity::Medium,
            TLS,
            "With secure transfer off, blob, file and queue requests (including SAS tokens in their URLs) can travel unencrypted and be read or changed in transit.",
            "Remove `https_traffic_only_enabled = false` (azurerm 3.x: `enable_https_traffic_only = false`); the default, `true`, rejects HTTP requests.",
            ACCOUNT,
            https_only,
        ),
        check(
            "azure-storage-min-tls-old",
            "Storage account allows TLS older than 1.2",
            Severity::Medium,
            TLS,
            "TLS 1.0 and 1.1 have known weaknesses and are deprecated; allowing them lets clients negotiate a weak protocol.",
            "Set `min_tls_version = \"TLS1_2\"` on the `azurerm_storage_account`.",
            ACCOUNT,
            min_tls,
        ),
        check(
            "azure-storage-public-blob-access",
            "Storage account lets containers be made public",
            Severity::Medium,
            ACCESS,
            "While the account allows public access, any container can be switched to anonymous read with one setting, publishing its blobs to the internet without a credential.",
            "Set `allow_nested_items_to_be_public = false` (azurerm 2.x: `allow_blob_public_access = false`) on the `azurerm_storage_account`; the provider default is `true`.",
            ACCOUNT,
            public_blob_access,
        ),
        check(
            "azure-storage-network-default-allow",
            "Storage account reachable from all networks",
            Severity::Medium,
            &["soc2:CC6.6", "iso27001:A.8.20", "nist-800-53:SC-7"],
            "With the network default action Allow, the account's endpoints accept requests from any network, so a leaked key or SAS token works from anywhere.",
            "Add `network_rules { default_action = \"Deny\"  ip_rules = [...]  virtual_network_subnet_ids = [...] }` (or `azurerm_storage_account_network_rules`), or set `public_network_access_enabled = false` and use private endpoints.",
            &[
                "azurerm_storage_account",
                "azurerm_storage_account_network_rules",
            ],
            network_default_allow,
        ),
        check(
            "azure-storage-container-public",
            "Storage container allows anonymous read access",
            Severity::High,
            ACCESS,
            "A container whose access type is blob or container serves its blobs (and, for container, its listing) to anyone on the internet without authentication.",
            "Set `container_access_type = \"private\"` on the `azurerm_storage_container` and share data with SAS tokens or Entra ID roles.",
            &["azurerm_storage_container"],
            container_public,
        ),
        check(
            "azure-storage-no-cmk",
            "Storage account encrypted with Microsoft-managed keys only",
            Severity::Low,
            &[
                "soc2:CC6.1",
                "iso27001:A.8.24",
                "nist-800-53:SC-28",
                "nist-800-53:SC-12",
            ],
            "With Microsoft-managed keys the organisation cannot revoke access to the data by disabling the key, nor control its rotation and audit its use in its own Key Vault.",
            "Add `customer_managed_key { key_vault_key_id = azurerm_key_vault_key.KEY.id  user_assigned_identity_id = azurerm_user_assigned_identity.ID.id }` or an `azurerm_storage_account_customer_managed_key` resource.",
            ACCOUNT,
            no_cmk,
        ),
    ]
}

fn https_only(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for path in ["https_traffic_only_enabled", "enable_https_traffic_only"] {
        if r.attr(path).bool() == Some(false) {
            out.push(Hit::new(r.line_of(path), format!("{path} = false")).key(path));
        }
    }
}

fn min_tls(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if let Some(v) = r
        .attr("min_tls_version")
        .str()
        .filter(|v| matches!(*v, "TLS1_0" | "TLS1_1"))
    {
        out.push(Hit::new(
            r.line_of("min_tls_version"),
            format!("min_tls_version = \"{v}\""),
        ));
    }
}

fn public_blob_access(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    // azurerm 2.x named it allow_blob_public_access (default false); when written, it decides.
    let old = r.attr("allow_blob_public_access");
    if old.is_unknown() {
        return;
    }
    if !old.is_absent() {
        if old.bool() == Some(true) {
            out.push(Hit::new(
                r.line_of("allow_blob_public_access"),
                "allow_blob_public_access = true",
            ));
        }
        return;
    }
    let path = "allow_nested_items_to_be_public";
    match r.attr(path) {
        a if a.is_absent() => out.push(Hit::new(
            r.line,
            "allow_nested_items_to_be_public is not set (the provider default is true)",
        )),
        a if a.bool() == Some(true) => {
            out.push(Hit::new(
                r.line_of(path),
                "allow_nested_items_to_be_public = true",
            ));
        }
        _ => {}
    }
}

/// Rules kept in an `azurerm_storage_account_network_rules` resource for this account.
fn separate_rules<'a>(ctx: &Ctx<'a>, r: &'a Resource) -> impl Iterator<Item = &'a Resource> + 'a {
    let name: Vec<&str> = r.attr("name").str().into_iter().collect();
    let by_id: Vec<&Resource> = ctx
        .model
        .linked(
            "azurerm_storage_account_network_rules",
            "storage_account_id",
            r,
            &[],
        )
        .collect();
    let by_name: Vec<&Resource> = ctx
        .model
        .of_kind("azurerm_storage_account_network_rules")
        .filter(|n| r.platform == n.platform)
        .filter(|n| n.refers_to("storage_account_name", r, &name))
        .collect();
    by_id.into_iter().chain(by_name)
}

fn network_default_allow(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if r.kind == "azurerm_storage_account_network_rules" {
        if r.attr("default_action").str() == Some("Allow") {
            out.push(Hit::new(
                r.line_of("default_action"),
                "default_action = \"Allow\"",
            ));
        }
        return;
    }
    match r.attr("public_network_access_enabled") {
        Attr::Unknown => return,
        a if a.bool() == Some(false) => return,
        _ => {}
    }
    match r.attr("network_rules.default_action") {
        Attr::Known(n) if n.as_str() == Some("Allow") => out.push(Hit::new(
            r.line_of("network_rules.default_action"),
            "network_rules.default_action = \"Allow\"",
        )),
        _ if r.attr("network_rules").is_absent() && separate_rules(ctx, r).next().is_none() => {
            out.push(Hit::new(
                r.line,
                "no network_rules and public network access enabled (all networks allowed)",
            ));
        }
        _ => {}
    }
}

fn container_public(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if let Some(t) = r
        .attr("container_access_type")
        .str()
        .filter(|t| matches!(*t, "blob" | "container"))
    {
        out.push(Hit::new(
            r.line_of("container_access_type"),
            format!("container_access_type = \"{t}\" (anonymous read)"),
        ));
    }
}

fn no_cmk(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if !r.attr("customer_managed_key").is_absent() {
        return;
    }
    if ctx
        .model
        .linked(
            "azurerm_storage_account_customer_managed_key",
            "storage_account_id",
            r,
            &[],
        )
        .next()
        .is_some()
    {
        return;
    }
    out.push(Hit::new(
        r.line,
        "no customer_managed_key (Microsoft-managed keys)",
    ));
}

#[cfg(test)]
mod tests {
    use crate::Options;
    use crate::checks::common::test_support::{res, run, run_with};
    use crate::model::{Node, Value};
    use serde_json::json;

    #[test]
    fn network_rules_in_a_separate_resource() {
        let account = res("azurerm_storage_account", &json!({"name": "acct"}));
        assert_eq!(
            run("azure-storage-network-default-allow", &account).len(),
            1
        );
        let mut rules = res(
            "azurerm_storage_account_network_rules",
            &json!({"default_action": "Deny"}),
        );
        if let Value::Map(entries) = &mut rules.body.value {
            entries.push((
                "storage_account_id".into(),
                Node::unknown(1, vec!["azurerm_storage_account.x.id".into()]),
            ));
        }
        assert!(
            run_with(
                "azure-storage-network-default-allow",
                &account,
                &[rules.clone()],
                &Options::default()
            )
            .is_empty()
        );
        assert!(run("azure-storage-network-default-allow", &rules).is_empty());
        let private = res(
            "azurerm_storage_account",
            &json!({"public_network_access_enabled": false}),
        );
        assert!(run("azure-storage-network-default-allow", &private).is_empty());
    }

    #[test]
    fn public_access_old_and_new_names() {
        let old = res(
            "azurerm_storage_account",
            &json!({"allow_blob_public_access": false}),
        );
        assert!(run("azure-storage-public-blob-access", &old).is_empty());
        let new = res(
            "azurerm_storage_account",
            &json!({"allow_nested_items_to_be_public": false}),
        );
        assert!(run("azure-storage-public-blob-access", &new).is_empty());
        let default = res("azurerm_storage_account", &json!({"name": "a"}));
        assert_eq!(run("azure-storage-public-blob-access", &default).len(), 1);
    }
}
