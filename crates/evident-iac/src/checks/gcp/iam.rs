//! IAM, Cloud KMS, BigQuery access and Cloud Audit Logs configuration.

use evident_core::Severity;

use super::super::common::strings_at;
use super::super::{Ctx, Hit, IacCheck, check};
use super::{grants, is_public_member};
use crate::model::{Attr, Resource};

/// 90 days, the longest rotation period accepted here.
const MAX_ROTATION_SECONDS: f64 = 7_776_000.0;
const PRIMITIVE_ROLES: &[&str] = &["roles/owner", "roles/editor"];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "gcp-kms-key-rotation",
            "Cloud KMS key not rotated at least every 90 days",
            Severity::Medium,
            &["soc2:CC6.1", "iso27001:A.8.24", "nist-800-53:SC-12"],
            "A symmetric key that is never rotated (or rarely) protects ever more data with the same key material, which widens the damage if that version is ever exposed.",
            "Set `rotation_period = \"7776000s\"` (90 days) or shorter on the `google_kms_crypto_key`.",
            &["google_kms_crypto_key"],
            kms_rotation,
        ),
        check(
            "gcp-iam-primitive-role",
            "Owner or Editor basic role granted",
            Severity::Medium,
            &[
                "soc2:CC6.3",
                "iso27001:A.5.15",
                "iso27001:A.8.2",
                "nist-800-53:AC-6",
            ],
            "roles/owner and roles/editor grant write access to nearly every service in the project (owner also to IAM), far beyond what any one person or workload needs.",
            "Replace `role = \"roles/owner\"` / `\"roles/editor\"` with predefined or custom roles scoped to the task (e.g. `roles/storage.objectAdmin`, `roles/cloudsql.client`).",
            &[
                "google_project_iam_member",
                "google_project_iam_binding",
                "google_project_iam_policy",
                "google_folder_iam_member",
                "google_folder_iam_binding",
                "google_folder_iam_policy",
                "google_organization_iam_member",
                "google_organization_iam_binding",
                "google_organization_iam_policy",
            ],
            primitive_role,
        ),
        check(
            "gcp-bigquery-dataset-public",
            "BigQuery dataset or table readable by allUsers or allAuthenticatedUsers",
            Severity::High,
            &[
                "soc2:CC6.1",
                "soc2:CC6.3",
                "iso27001:A.5.15",
                "nist-800-53:AC-3",
            ],
            "Granting a dataset or table to allUsers or allAuthenticatedUsers lets anyone (or anyone with a Google account) query the data it holds.",
            "Remove `special_group = \"allAuthenticatedUsers\"` and `iam_member = \"allUsers\"` access entries (and such `member`/`members`); grant `roles/bigquery.dataViewer` to named groups instead.",
            &[
                "google_bigquery_dataset",
                "google_bigquery_dataset_access",
                "google_bigquery_dataset_iam_member",
                "google_bigquery_dataset_iam_binding",
                "google_bigquery_dataset_iam_policy",
                "google_bigquery_table_iam_member",
                "google_bigquery_table_iam_binding",
                "google_bigquery_table_iam_policy",
            ],
            bigquery_public,
        ),
        check(
            "gcp-audit-log-exempted-members",
            "Cloud Audit Logs exempt some principals",
            Severity::Low,
            &[
                "soc2:CC7.2",
                "iso27001:A.8.15",
                "nist-800-53:AU-2",
                "nist-800-53:AU-12",
            ],
            "Principals listed in exempted_members are left out of the audit log for that log type, so what they read or change cannot be reconstructed afterwards.",
            "Remove `exempted_members` from the `audit_log_config` blocks (reduce volume with log exclusions on low-risk services instead of exempting principals).",
            &[
                "google_project_iam_audit_config",
                "google_folder_iam_audit_config",
                "google_organization_iam_audit_config",
            ],
            audit_exemptions,
        ),
    ]
}

/// A duration such as `"7776000s"` in seconds.
fn seconds(text: &str) -> Option<f64> {
    text.trim().strip_suffix('s')?.parse().ok()
}

fn kms_rotation(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("purpose") {
        Attr::Missing => {}
        a if a.str() == Some("ENCRYPT_DECRYPT") => {}
        // Asymmetric and MAC keys cannot rotate automatically.
        _ => return,
    }
    match r.attr("rotation_period") {
        a if a.is_absent() => out.push(Hit::new(r.line, "no rotation_period (never rotated)")),
        Attr::Known(n) => {
            if let Some(text) = n.as_str()
                && let Some(period) = seconds(text)
                && period > MAX_ROTATION_SECONDS
            {
                out.push(Hit::new(
                    r.line_of("rotation_period"),
                    format!(
                        "rotation_period = \"{text}\" ({:.0} days, more than 90)",
                        period / 86400.0
                    ),
                ));
            }
        }
        Attr::Missing | Attr::Unknown => {}
    }
}

fn primitive_role(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for g in grants(ctx, r) {
        if PRIMITIVE_ROLES.contains(&g.role.as_str()) {
            out.push(
                Hit::new(g.line, format!("grants {} to {}", g.role, g.member))
                    .key(format!("{} {}", g.role, g.member)),
            );
        }
    }
}

fn bigquery_public(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let entries: Vec<&crate::model::Node> = match r.kind.as_str() {
        "google_bigquery_dataset" => match r.attr("access") {
            Attr::Known(list) => list.items().collect(),
            _ => Vec::new(),
        },
        "google_bigquery_dataset_access" => vec![&r.body],
        _ => {
            for g in grants(ctx, r) {
                if is_public_member(&g.member) {
                    out.push(
                        Hit::new(g.line, format!("grants {} to {}", g.role, g.member))
                            .key(format!("{} {}", g.role, g.member)),
                    );
                }
            }
            return;
        }
    };
    for entry in entries {
        for key in ["special_group", "iam_member"] {
            if let Attr::Known(n) = entry.lookup(key)
                && let Some(who) = n.as_str().filter(|w| is_public_member(w))
            {
                let role = entry.lookup("role").str().unwrap_or("access");
                out.push(
                    Hit::new(
                        n.line_or(r.line),
                        format!("access entry {key} = \"{who}\" ({role})"),
                    )
                    .key(format!("{role} {who}")),
                );
            }
        }
    }
}

fn audit_exemptions(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Attr::Known(configs) = r.attr("audit_log_config") else {
        return;
    };
    for config in configs.items() {
        let log_type = config.lookup("log_type").str().unwrap_or("a log type");
        for (member, line) in strings_at(config, "exempted_members") {
            let line = if line > 0 { line } else { r.line };
            out.push(
                Hit::new(
                    line,
                    format!("{member} is exempted from {log_type} audit logs"),
                )
                .key(format!("{log_type} {member}")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::common::test_support::{res, run};
    use serde_json::json;

    #[test]
    fn rotation_periods() {
        let long = res(
            "google_kms_crypto_key",
            &json!({"rotation_period": "31536000s"}),
        );
        assert_eq!(run("gcp-kms-key-rotation", &long).len(), 1);
        let ok = res(
            "google_kms_crypto_key",
            &json!({"rotation_period": "7776000s"}),
        );
        assert!(run("gcp-kms-key-rotation", &ok).is_empty());
        let signing = res(
            "google_kms_crypto_key",
            &json!({"purpose": "ASYMMETRIC_SIGN"}),
        );
        assert!(run("gcp-kms-key-rotation", &signing).is_empty());
        let none = res("google_kms_crypto_key", &json!({"name": "k"}));
        assert_eq!(run("gcp-kms-key-rotation", &none).len(), 1);
    }

    #[test]
    fn primitive_roles_in_bindings() {
        let b = res(
            "google_project_iam_binding",
            &json!({"role": "roles/editor", "members": ["user:a@example.com", "serviceAccount:x@p.iam.gserviceaccount.com"]}),
        );
        assert_eq!(run("gcp-iam-primitive-role", &b).len(), 2);
        let viewer = res(
            "google_project_iam_member",
            &json!({"role": "roles/viewer", "member": "user:a@example.com"}),
        );
        assert!(run("gcp-iam-primitive-role", &viewer).is_empty());
    }

    #[test]
    fn bigquery_access_entries() {
        let ds = res(
            "google_bigquery_dataset",
            &json!({"access": [{"role": "OWNER", "special_group": "projectOwners"}, {"role": "READER", "special_group": "allAuthenticatedUsers"}]}),
        );
        assert_eq!(run("gcp-bigquery-dataset-public", &ds).len(), 1);
    }
}
