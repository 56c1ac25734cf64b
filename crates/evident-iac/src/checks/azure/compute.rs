//! AKS clusters, virtual machines and managed disks.

use evident_core::Severity;

use super::super::common::{is_internet, strings_at};
use super::super::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Resource};

const AKS: &[&str] = &["azurerm_kubernetes_cluster"];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "azure-aks-rbac-disabled",
            "AKS cluster with Kubernetes RBAC disabled",
            Severity::High,
            &[
                "soc2:CC6.3",
                "iso27001:A.5.15",
                "iso27001:A.8.2",
                "nist-800-53:AC-6",
                "nist-800-53:AC-3",
            ],
            "Without Kubernetes RBAC every authenticated user and service account has unrestricted access to the cluster API, so least privilege cannot be enforced.",
            "Remove `role_based_access_control_enabled = false` (the default is true; azurerm 2.x: `role_based_access_control { enabled = true }`). RBAC can only be set when the cluster is created.",
            AKS,
            rbac_disabled,
        ),
        check(
            "azure-aks-entra-id-integration-missing",
            "AKS cluster without Microsoft Entra ID integration",
            Severity::Medium,
            &[
                "soc2:CC6.1",
                "soc2:CC6.3",
                "iso27001:A.5.15",
                "iso27001:A.8.5",
                "nist-800-53:IA-5",
            ],
            "Without Entra ID integration, cluster access relies on local certificates in kubeconfig files that cannot be tied to a person, made subject to MFA or revoked when someone leaves.",
            "Add `azure_active_directory_role_based_access_control { azure_rbac_enabled = true  admin_group_object_ids = [...] }` and set `local_account_disabled = true`.",
            AKS,
            entra_integration,
        ),
        check(
            "azure-aks-api-server-unrestricted",
            "AKS API server reachable from any address",
            Severity::Medium,
            &[
                "soc2:CC6.6",
                "iso27001:A.8.20",
                "nist-800-53:SC-7",
                "nist-800-53:AC-17",
            ],
            "A public API server with no authorized IP ranges can be reached by anyone, so leaked credentials or an API server vulnerability are exploitable from any network.",
            "Set `api_server_access_profile { authorized_ip_ranges = [\"203.0.113.0/24\"] }` (azurerm 3.x: `api_server_authorized_ip_ranges`), or `private_cluster_enabled = true`.",
            AKS,
            api_server_unrestricted,
        ),
        check(
            "azure-vm-password-auth-enabled",
            "Linux VM allows SSH password authentication",
            Severity::Medium,
            &["soc2:CC6.1", "iso27001:A.8.5", "nist-800-53:IA-5"],
            "Password logins can be guessed or reused from other breaches, whereas SSH keys cannot be brute-forced in practice.",
            "Set `disable_password_authentication = true` (the default on `azurerm_linux_virtual_machine`) and provide an `admin_ssh_key { username = ...  public_key = ... }` block.",
            &[
                "azurerm_linux_virtual_machine",
                "azurerm_linux_virtual_machine_scale_set",
                "azurerm_virtual_machine",
                "azurerm_orchestrated_virtual_machine_scale_set",
            ],
            password_auth,
        ),
        check(
            "azure-managed-disk-no-cmk",
            "Managed disk encrypted with platform-managed keys only",
            Severity::Low,
            &[
                "soc2:CC6.1",
                "iso27001:A.8.24",
                "nist-800-53:SC-28",
                "nist-800-53:SC-12",
            ],
            "With platform-managed keys the organisation cannot revoke access to the disk's data by disabling its key, nor control rotation and audit the key's use.",
            "Set `disk_encryption_set_id = azurerm_disk_encryption_set.DES.id` (a disk encryption set backed by a Key Vault key) on the `azurerm_managed_disk`.",
            &["azurerm_managed_disk"],
            disk_cmk,
        ),
    ]
}

fn rbac_disabled(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for path in [
        "role_based_access_control_enabled",
        "role_based_access_control.enabled",
    ] {
        if r.attr(path).bool() == Some(false) {
            out.push(Hit::new(r.line_of(path), format!("{path} = false")).key(path));
        }
    }
}

fn entra_integration(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let current = r.attr("azure_active_directory_role_based_access_control");
    // azurerm 2.x: role_based_access_control { azure_active_directory { ... } }.
    let legacy = r.attr("role_based_access_control.azure_active_directory");
    if current.is_absent() && legacy.is_absent() {
        out.push(Hit::new(
            r.line,
            "no azure_active_directory_role_based_access_control block (local accounts only)",
        ));
    }
}

fn api_server_unrestricted(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("private_cluster_enabled") {
        Attr::Unknown => return,
        a if a.bool() == Some(true) => return,
        _ => {}
    }
    let paths = [
        "api_server_access_profile.authorized_ip_ranges",
        "api_server_authorized_ip_ranges",
    ];
    if paths.iter().any(|p| r.attr(p).is_unknown()) {
        return;
    }
    let ranges: Vec<(&str, u32)> = paths.iter().flat_map(|p| strings_at(&r.body, p)).collect();
    if ranges.is_empty() {
        out.push(Hit::new(
            r.line,
            "public API server with no authorized IP ranges",
        ));
        return;
    }
    for (range, line) in ranges {
        if is_internet(range) {
            out.push(
                Hit::new(
                    if line > 0 { line } else { r.line },
                    format!("authorized IP range {range} admits any address"),
                )
                .key(range),
            );
        }
    }
}

fn password_auth(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let paths: &[&str] = match r.kind.as_str() {
        "azurerm_virtual_machine" => &["os_profile_linux_config.disable_password_authentication"],
        "azurerm_orchestrated_virtual_machine_scale_set" => {
            &["os_profile.linux_configuration.disable_password_authentication"]
        }
        _ => &["disable_password_authentication"],
    };
    for path in paths {
        if let Attr::Known(n) = r.attr(path)
            && n.as_bool() == Some(false)
        {
            out.push(Hit::new(
                n.line_or(r.line),
                "disable_password_authentication = false",
            ));
        }
    }
}

fn disk_cmk(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let keys = [
        "disk_encryption_set_id",
        "secure_vm_disk_encryption_set_id",
        "encryption_settings",
    ];
    if keys.iter().any(|k| !r.attr(k).is_absent()) {
        return;
    }
    out.push(Hit::new(
        r.line,
        "no disk_encryption_set_id (platform-managed key)",
    ));
}

#[cfg(test)]
mod tests {
    use crate::checks::common::test_support::{res, run};
    use serde_json::json;

    #[test]
    fn api_server_ranges() {
        let open = res("azurerm_kubernetes_cluster", &json!({"name": "c"}));
        assert_eq!(run("azure-aks-api-server-unrestricted", &open).len(), 1);
        let ranges = res(
            "azurerm_kubernetes_cluster",
            &json!({"api_server_access_profile": [{"authorized_ip_ranges": ["203.0.113.0/24"]}]}),
        );
        assert!(run("azure-aks-api-server-unrestricted", &ranges).is_empty());
        let legacy = res(
            "azurerm_kubernetes_cluster",
            &json!({"api_server_authorized_ip_ranges": ["0.0.0.0/0"]}),
        );
        assert_eq!(run("azure-aks-api-server-unrestricted", &legacy).len(), 1);
        let private = res(
            "azurerm_kubernetes_cluster",
            &json!({"private_cluster_enabled": true}),
        );
        assert!(run("azure-aks-api-server-unrestricted", &private).is_empty());
    }

    #[test]
    fn legacy_vm_password() {
        let vm = res(
            "azurerm_virtual_machine",
            &json!({"os_profile_linux_config": [{"disable_password_authentication": false}]}),
        );
        assert_eq!(run("azure-vm-password-auth-enabled", &vm).len(), 1);
    }
}
