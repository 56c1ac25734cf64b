//! Azure SQL, PostgreSQL, MySQL and MariaDB servers: network exposure and transport security.

use std::net::Ipv4Addr;

use evident_core::Severity;

use super::super::{Ctx, Hit, IacCheck, check};
use crate::model::Resource;

const NETWORK: &[&str] = &["soc2:CC6.6", "iso27001:A.8.20", "nist-800-53:SC-7"];
const TLS: &[&str] = &["soc2:CC6.7", "iso27001:A.8.24", "nist-800-53:SC-8"];

/// Servers whose `public_network_access_enabled` defaults to true.
const PUBLIC_BY_DEFAULT: &[&str] = &[
    "azurerm_mssql_server",
    "azurerm_postgresql_server",
    "azurerm_mysql_server",
    "azurerm_mariadb_server",
];
const SINGLE_SERVERS: &[&str] = &[
    "azurerm_postgresql_server",
    "azurerm_mysql_server",
    "azurerm_mariadb_server",
];
const FLEX_CONFIG: &[&str] = &[
    "azurerm_postgresql_flexible_server_configuration",
    "azurerm_mysql_flexible_server_configuration",
];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "azure-db-public-network-access",
            "Database server reachable over its public endpoint",
            Severity::Medium,
            NETWORK,
            "With public network access on, the server's endpoint is reachable from the internet and only firewall rules and credentials stand between it and an attacker.",
            "Set `public_network_access_enabled = false` and connect through a private endpoint (or VNet integration for flexible servers).",
            &[
                "azurerm_mssql_server",
                "azurerm_postgresql_server",
                "azurerm_mysql_server",
                "azurerm_mariadb_server",
                "azurerm_postgresql_flexible_server",
                "azurerm_mysql_flexible_server",
            ],
            public_network_access,
        ),
        check(
            "azure-db-firewall-open-to-internet",
            "Database firewall rule admits the whole internet",
            Severity::High,
            NETWORK,
            "A firewall rule from 0.0.0.0 to 255.255.255.255 lets any address reach the database port, leaving only the login between the data and the internet.",
            "Narrow `start_ip_address` / `end_ip_address` to the client addresses that need access (`0.0.0.0`–`0.0.0.0` only allows Azure services), or use a private endpoint.",
            &[
                "azurerm_mssql_firewall_rule",
                "azurerm_sql_firewall_rule",
                "azurerm_postgresql_firewall_rule",
                "azurerm_postgresql_flexible_server_firewall_rule",
                "azurerm_mysql_firewall_rule",
                "azurerm_mysql_flexible_server_firewall_rule",
                "azurerm_mariadb_firewall_rule",
            ],
            firewall_open,
        ),
        check(
            "azure-db-min-tls-old",
            "Database server allows TLS older than 1.2",
            Severity::Medium,
            TLS,
            "TLS 1.0 and 1.1 are deprecated and have known weaknesses; allowing them lets clients connect with a protocol that no longer protects credentials and data reliably.",
            "Set `minimum_tls_version = \"1.2\"` (azurerm_mssql_server) or `ssl_minimal_tls_version_enforced = \"TLS1_2\"` (single servers); on flexible servers set the `tls_version` (MySQL) / `ssl_min_protocol_version` (PostgreSQL) configuration to `TLSv1.2`.",
            &[
                "azurerm_mssql_server",
                "azurerm_postgresql_server",
                "azurerm_mysql_server",
                "azurerm_mariadb_server",
                "azurerm_postgresql_flexible_server_configuration",
                "azurerm_mysql_flexible_server_configuration",
            ],
            min_tls,
        ),
        check(
            "azure-db-ssl-not-enforced",
            "Database server accepts unencrypted connections",
            Severity::High,
            TLS,
            "Without enforced SSL/TLS, clients may connect in cleartext, exposing passwords and query results to anyone on the network path.",
            "Set `ssl_enforcement_enabled = true` (single servers) or keep the `require_secure_transport` server configuration `ON` on flexible servers.",
            &[
                "azurerm_postgresql_server",
                "azurerm_mysql_server",
                "azurerm_mariadb_server",
                "azurerm_postgresql_flexible_server_configuration",
                "azurerm_mysql_flexible_server_configuration",
            ],
            ssl_not_enforced,
        ),
    ]
}

fn public_network_access(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let path = "public_network_access_enabled";
    match r.attr(path) {
        a if a.is_absent() && PUBLIC_BY_DEFAULT.contains(&r.kind.as_str()) => out.push(Hit::new(
            r.line,
            "public_network_access_enabled is not set (the default is true)",
        )),
        a if a.bool() == Some(true) => {
            out.push(Hit::new(
                r.line_of(path),
                "public_network_access_enabled = true",
            ));
        }
        _ => {}
    }
}

fn ip(r: &Resource, path: &str) -> Option<u32> {
    r.attr(path)
        .str()
        .and_then(|s| s.trim().parse::<Ipv4Addr>().ok())
        .map(u32::from)
}

fn firewall_open(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (Some(start), Some(end)) = (ip(r, "start_ip_address"), ip(r, "end_ip_address")) else {
        return;
    };
    // Half of the IPv4 space or more: the internet, not a client range.
    if end >= start && u64::from(end - start) + 1 >= 1 << 31 {
        out.push(Hit::new(
            r.line_of("start_ip_address"),
            format!(
                "firewall rule admits {} to {}",
                Ipv4Addr::from(start),
                Ipv4Addr::from(end)
            ),
        ));
    }
}

/// A flexible-server configuration's name and value when both are known.
fn flex_setting(r: &Resource) -> Option<(&str, &str)> {
    Some((r.attr("name").str()?, r.attr("value").str()?))
}

fn min_tls(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let kind = r.kind.as_str();
    if kind == "azurerm_mssql_server" {
        if let Some(v) = r
            .attr("minimum_tls_version")
            .str()
            .filter(|v| matches!(*v, "1.0" | "1.1" | "Disabled"))
        {
            out.push(Hit::new(
                r.line_of("minimum_tls_version"),
                format!("minimum_tls_version = \"{v}\""),
            ));
        }
    } else if SINGLE_SERVERS.contains(&kind) {
        let path = "ssl_minimal_tls_version_enforced";
        if let Some(v) = r
            .attr(path)
            .str()
            .filter(|v| matches!(*v, "TLS1_0" | "TLS1_1"))
        {
            out.push(Hit::new(r.line_of(path), format!("{path} = \"{v}\"")));
        }
    } else if FLEX_CONFIG.contains(&kind) {
        let Some((name, value)) = flex_setting(r) else {
            return;
        };
        let old = value
            .split(',')
            .map(str::trim)
            .any(|v| v.eq_ignore_ascii_case("TLSv1") || v.eq_ignore_ascii_case("TLSv1.1"));
        if matches!(name, "tls_version" | "ssl_min_protocol_version") && old {
            out.push(Hit::new(
                r.line_of("value"),
                format!("server configuration {name} = \"{value}\""),
            ));
        }
    }
}

fn ssl_not_enforced(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if FLEX_CONFIG.contains(&r.kind.as_str()) {
        if let Some((name, value)) = flex_setting(r)
            && name == "require_secure_transport"
            && matches!(value.to_ascii_lowercase().as_str(), "off" | "0" | "false")
        {
            out.push(Hit::new(
                r.line_of("value"),
                format!("server configuration require_secure_transport = \"{value}\""),
            ));
        }
        return;
    }
    if r.attr("ssl_enforcement_enabled").bool() == Some(false) {
        out.push(
            Hit::new(
                r.line_of("ssl_enforcement_enabled"),
                "ssl_enforcement_enabled = false",
            )
            .key("ssl_enforcement_enabled"),
        );
    } else if r.attr("ssl_minimal_tls_version_enforced").str() == Some("TLSEnforcementDisabled") {
        out.push(
            Hit::new(
                r.line_of("ssl_minimal_tls_version_enforced"),
                "ssl_minimal_tls_version_enforced = \"TLSEnforcementDisabled\"",
            )
            .key("ssl_minimal_tls_version_enforced"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::common::test_support::{res, run};
    use serde_json::json;

    #[test]
    fn firewall_ranges() {
        let open = res(
            "azurerm_mssql_firewall_rule",
            &json!({"start_ip_address": "0.0.0.0", "end_ip_address": "255.255.255.255"}),
        );
        assert_eq!(run("azure-db-firewall-open-to-internet", &open).len(), 1);
        let azure = res(
            "azurerm_mssql_firewall_rule",
            &json!({"start_ip_address": "0.0.0.0", "end_ip_address": "0.0.0.0"}),
        );
        assert!(run("azure-db-firewall-open-to-internet", &azure).is_empty());
        let office = res(
            "azurerm_postgresql_flexible_server_firewall_rule",
            &json!({"start_ip_address": "203.0.113.0", "end_ip_address": "203.0.113.255"}),
        );
        assert!(run("azure-db-firewall-open-to-internet", &office).is_empty());
    }

    #[test]
    fn flexible_server_configurations() {
        let tls = res(
            "azurerm_mysql_flexible_server_configuration",
            &json!({"name": "tls_version", "value": "TLSv1.1,TLSv1.2"}),
        );
        assert_eq!(run("azure-db-min-tls-old", &tls).len(), 1);
        let ok = res(
            "azurerm_mysql_flexible_server_configuration",
            &json!({"name": "tls_version", "value": "TLSv1.2,TLSv1.3"}),
        );
        assert!(run("azure-db-min-tls-old", &ok).is_empty());
        let off = res(
            "azurerm_postgresql_flexible_server_configuration",
            &json!({"name": "require_secure_transport", "value": "off"}),
        );
        assert_eq!(run("azure-db-ssl-not-enforced", &off).len(), 1);
    }
}
