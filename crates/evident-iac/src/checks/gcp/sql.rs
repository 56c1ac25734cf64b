//! Cloud SQL instances: network exposure, TLS, backups, deletion protection.

use evident_core::Severity;

use super::super::common::is_world_cidr;
use super::super::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Resource};

const BACKUP: &[&str] = &[
    "soc2:CC9.1",
    "iso27001:A.8.13",
    "nist-800-53:CP-9",
    "nist-800-53:CP-10",
];
const KINDS: &[&str] = &["google_sql_database_instance"];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "gcp-sql-authorized-network-open",
            "Cloud SQL public IP accepts connections from any address",
            Severity::High,
            &["soc2:CC6.6", "iso27001:A.8.20", "nist-800-53:SC-7"],
            "An authorized network of 0.0.0.0/0 on the public IP lets anyone on the internet reach the database port, leaving only the database password between an attacker and the data.",
            "Remove the `authorized_networks { value = \"0.0.0.0/0\" }` entry from `settings.ip_configuration`; list only the client ranges that need access, or set `ipv4_enabled = false` and connect over private IP or the Cloud SQL Auth Proxy.",
            KINDS,
            authorized_network_open,
        ),
        check(
            "gcp-sql-ssl-not-required",
            "Cloud SQL accepts unencrypted connections",
            Severity::Medium,
            &["soc2:CC6.7", "iso27001:A.8.24", "nist-800-53:SC-8"],
            "Unless the instance requires TLS, clients may connect in cleartext and credentials and query results can be read or altered on the network path.",
            "Set `settings { ip_configuration { ssl_mode = \"ENCRYPTED_ONLY\" } }` (or `TRUSTED_CLIENT_CERTIFICATE_REQUIRED`; with older providers `require_ssl = true`).",
            KINDS,
            ssl_not_required,
        ),
        check(
            "gcp-sql-backups-disabled",
            "Cloud SQL automated backups disabled",
            Severity::Medium,
            BACKUP,
            "Without automated backups a bad migration, a deletion or ransomware leaves no copy of the database to restore, and point-in-time recovery is impossible.",
            "Add `settings { backup_configuration { enabled = true  point_in_time_recovery_enabled = true } }` (`binary_log_enabled = true` for MySQL).",
            KINDS,
            backups_disabled,
        ),
        check(
            "gcp-sql-deletion-protection-disabled",
            "Cloud SQL instance without deletion protection",
            Severity::Low,
            BACKUP,
            "With deletion protection off, a `terraform destroy` or an accidental change that replaces the instance deletes the database and its automated backups with it.",
            "Remove `deletion_protection = false` (the default is true) and set `settings { deletion_protection_enabled = true }` to guard against deletion outside Terraform too.",
            KINDS,
            deletion_protection,
        ),
    ]
}

fn authorized_network_open(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("settings.ip_configuration.ipv4_enabled") {
        Attr::Unknown => return,
        a if a.bool() == Some(false) => return,
        _ => {}
    }
    let Attr::Known(networks) = r.attr("settings.ip_configuration.authorized_networks") else {
        return;
    };
    for net in networks.items() {
        let Attr::Known(value) = net.lookup("value") else {
            continue;
        };
        if let Some(cidr) = value.as_str().filter(|v| is_world_cidr(v)) {
            let name = net
                .lookup("name")
                .str()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            out.push(
                Hit::new(
                    value.line_or(r.line),
                    format!("authorized network {cidr}{name} on the public IP"),
                )
                .key(cidr),
            );
        }
    }
}

fn ssl_not_required(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let mode_path = "settings.ip_configuration.ssl_mode";
    let require_path = "settings.ip_configuration.require_ssl";
    match r.attr(mode_path) {
        Attr::Unknown => {}
        Attr::Known(n) if n.is_set() => {
            if n.as_str() == Some("ALLOW_UNENCRYPTED_AND_ENCRYPTED") {
                out.push(Hit::new(
                    r.line_of(mode_path),
                    "ssl_mode = \"ALLOW_UNENCRYPTED_AND_ENCRYPTED\"",
                ));
            }
        }
        _ => match r.attr(require_path) {
            Attr::Unknown => {}
            a if a.bool() == Some(true) => {}
            a if a.bool() == Some(false) => {
                out.push(Hit::new(r.line_of(require_path), "require_ssl = false"));
            }
            _ => out.push(Hit::new(
                r.line,
                "neither ssl_mode nor require_ssl is set (unencrypted connections are accepted)",
            )),
        },
    }
}

/// A read replica (backups are configured on its primary). `master_instance_name` is also
/// computed, so an unknown value counts only when it refers to something (another instance).
fn is_replica(r: &Resource) -> bool {
    let master = r.body.get("master_instance_name");
    master.is_some_and(|m| m.is_set() || (m.is_unknown() && !m.refs().is_empty()))
        || r.attr("instance_type").str() == Some("READ_REPLICA_INSTANCE")
}

fn backups_disabled(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if is_replica(r) {
        return;
    }
    let path = "settings.backup_configuration.enabled";
    match r.attr(path) {
        a if a.is_absent() && !r.attr("settings").is_unknown() => out.push(Hit::new(
            r.line,
            "settings.backup_configuration.enabled is not set (backups are off)",
        )),
        a if a.bool() == Some(false) => out.push(Hit::new(
            r.line_of(path),
            "settings.backup_configuration.enabled = false",
        )),
        _ => {}
    }
}

fn deletion_protection(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if r.attr("deletion_protection").bool() == Some(false) {
        out.push(Hit::new(
            r.line_of("deletion_protection"),
            "deletion_protection = false",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::common::test_support::{res, run};
    use serde_json::json;

    #[test]
    fn ssl_mode_wins_over_require_ssl() {
        let enc = res(
            "google_sql_database_instance",
            &json!({"settings": [{"ip_configuration": [{"ssl_mode": "ENCRYPTED_ONLY"}]}]}),
        );
        assert!(run("gcp-sql-ssl-not-required", &enc).is_empty());
        let legacy = res(
            "google_sql_database_instance",
            &json!({"settings": [{"ip_configuration": [{"require_ssl": false}]}]}),
        );
        assert_eq!(run("gcp-sql-ssl-not-required", &legacy).len(), 1);
        let open = res(
            "google_sql_database_instance",
            &json!({"settings": [{"ip_configuration": [{"ssl_mode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}]}]}),
        );
        assert_eq!(run("gcp-sql-ssl-not-required", &open).len(), 1);
    }

    #[test]
    fn replicas_need_no_backups_and_private_ip_needs_no_networks() {
        let replica = res(
            "google_sql_database_instance",
            &json!({"master_instance_name": "primary", "settings": [{"tier": "db-f1-micro"}]}),
        );
        assert!(run("gcp-sql-backups-disabled", &replica).is_empty());
        let private = res(
            "google_sql_database_instance",
            &json!({"settings": [{"ip_configuration": [{"ipv4_enabled": false, "authorized_networks": [{"value": "0.0.0.0/0"}]}]}]}),
        );
        assert!(run("gcp-sql-authorized-network-open", &private).is_empty());
    }
}
