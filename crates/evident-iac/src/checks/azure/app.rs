//! App Service and Function Apps: HTTPS, TLS version, FTP.

use evident_core::Severity;

use super::super::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Resource};

const TLS: &[&str] = &["soc2:CC6.7", "iso27001:A.8.24", "nist-800-53:SC-8"];
const APPS: &[&str] = &[
    "azurerm_linux_web_app",
    "azurerm_windows_web_app",
    "azurerm_linux_web_app_slot",
    "azurerm_windows_web_app_slot",
    "azurerm_linux_function_app",
    "azurerm_windows_function_app",
    "azurerm_linux_function_app_slot",
    "azurerm_windows_function_app_slot",
    "azurerm_app_service",
    "azurerm_app_service_slot",
    "azurerm_function_app",
    "azurerm_function_app_slot",
];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "azure-app-service-https-only-disabled",
            "App Service accepts plain HTTP",
            Severity::Medium,
            TLS,
            "Unless HTTPS is enforced, the app answers plain HTTP, so session cookies, tokens and form data can be read or altered by anyone on the network path.",
            "Set `https_only = true` on the app (the provider default is false).",
            APPS,
            https_only,
        ),
        check(
            "azure-app-service-min-tls-old",
            "App Service allows TLS older than 1.2",
            Severity::Medium,
            TLS,
            "TLS 1.0 and 1.1 are deprecated and have known weaknesses; allowing them lets clients negotiate a protocol that no longer protects traffic reliably.",
            "Set `site_config { minimum_tls_version = \"1.2\"  scm_minimum_tls_version = \"1.2\" }` (legacy `azurerm_app_service`: `min_tls_version`).",
            APPS,
            min_tls,
        ),
        check(
            "azure-app-service-ftp-allowed",
            "App Service allows unencrypted FTP deployment",
            Severity::Medium,
            &[
                "soc2:CC6.7",
                "iso27001:A.8.24",
                "nist-800-53:SC-8",
                "nist-800-53:CM-7",
            ],
            "With ftps_state AllAllowed, deployment credentials and application files can be sent over plain FTP, where they can be captured and reused.",
            "Set `site_config { ftps_state = \"Disabled\" }` (or `\"FtpsOnly\"` when FTP deployment is still needed).",
            APPS,
            ftp_allowed,
        ),
    ]
}

fn https_only(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("https_only") {
        a if a.is_absent() => out.push(Hit::new(
            r.line,
            "https_only is not set (the default is false)",
        )),
        a if a.bool() == Some(false) => {
            out.push(Hit::new(r.line_of("https_only"), "https_only = false"));
        }
        _ => {}
    }
}

fn min_tls(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Attr::Known(configs) = r.attr("site_config") else {
        return;
    };
    for config in configs.items() {
        for key in [
            "minimum_tls_version",
            "min_tls_version",
            "scm_minimum_tls_version",
            "scm_min_tls_version",
        ] {
            if let Attr::Known(n) = config.lookup(key)
                && let Some(v) = n.as_str().filter(|v| matches!(*v, "1.0" | "1.1"))
            {
                out.push(
                    Hit::new(n.line_or(r.line), format!("site_config.{key} = \"{v}\"")).key(key),
                );
            }
        }
    }
}

fn ftp_allowed(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Attr::Known(configs) = r.attr("site_config") else {
        return;
    };
    for config in configs.items() {
        if let Attr::Known(n) = config.lookup("ftps_state")
            && n.as_str() == Some("AllAllowed")
        {
            out.push(Hit::new(
                n.line_or(r.line),
                "site_config.ftps_state = \"AllAllowed\"",
            ));
        }
    }
}
