//! Cloud Storage: bucket access model, public grants, evidence buckets, CMEK.

use evident_core::Severity;

use super::super::common::{evidence_globs, strings_at};
use super::super::{Ctx, Hit, IacCheck, check};
use super::{grants, is_public_member};
use crate::model::{Attr, Resource};

const ACCESS: &[&str] = &[
    "soc2:CC6.1",
    "soc2:CC6.3",
    "iso27001:A.5.15",
    "nist-800-53:AC-3",
];
const AT_REST: &[&str] = &[
    "soc2:CC6.1",
    "iso27001:A.8.24",
    "nist-800-53:SC-28",
    "nist-800-53:SC-12",
];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "gcp-storage-uniform-access-disabled",
            "Cloud Storage bucket without uniform bucket-level access",
            Severity::Medium,
            &["soc2:CC6.3", "iso27001:A.5.15", "nist-800-53:AC-3"],
            "Without uniform bucket-level access, per-object ACLs can grant access that the bucket's IAM policy does not show, so a review of IAM alone misses who can read the data.",
            "Set `uniform_bucket_level_access = true` on the `google_storage_bucket` and grant access through bucket IAM only.",
            &["google_storage_bucket"],
            uniform_access,
        ),
        check(
            "gcp-storage-bucket-public",
            "Cloud Storage bucket or object readable by allUsers or allAuthenticatedUsers",
            Severity::High,
            ACCESS,
            "allUsers is anyone on the internet and allAuthenticatedUsers is anyone with any Google account, so a grant to either publishes the data to people outside the organisation.",
            "Remove `allUsers` / `allAuthenticatedUsers` from `member`/`members`/`entity`/`role_entity` (and `predefined_acl = \"publicRead\"`); grant roles to named groups or service accounts, and serve public content through a CDN or signed URLs.",
            &[
                "google_storage_bucket_iam_member",
                "google_storage_bucket_iam_binding",
                "google_storage_bucket_iam_policy",
                "google_storage_bucket_access_control",
                "google_storage_default_object_access_control",
                "google_storage_object_access_control",
                "google_storage_bucket_acl",
                "google_storage_default_object_acl",
                "google_storage_object_acl",
            ],
            public_bucket,
        ),
        check(
            "gcp-storage-evidence-bucket-unversioned",
            "Evidence or audit-log bucket without object versioning",
            Severity::Medium,
            &[
                "soc2:CC7.2",
                "iso27001:A.8.15",
                "nist-800-53:AU-9",
                "nist-800-53:CP-9",
            ],
            "Audit logs and compliance evidence kept in a bucket without versioning or a retention policy can be overwritten or deleted with no earlier copy left to prove what was recorded.",
            "Add `versioning { enabled = true }` to the bucket (or a locked `retention_policy`, which Cloud Storage does not combine with versioning).",
            &["google_storage_bucket"],
            evidence_versioning,
        ),
        check(
            "gcp-storage-evidence-bucket-retention-unlocked",
            "Evidence or audit-log bucket without a locked retention policy",
            Severity::Medium,
            &[
                "soc2:CC7.2",
                "iso27001:A.8.15",
                "nist-800-53:AU-9",
                "nist-800-53:AU-11",
            ],
            "Only a locked retention policy (Bucket Lock) stops an administrator or a stolen credential from deleting or shortening the retention of evidence before it has been kept as long as required.",
            "Add `retention_policy { retention_period = 31536000  is_locked = true }` (the period in seconds your policy requires) to the bucket.",
            &["google_storage_bucket"],
            evidence_retention,
        ),
        check(
            "gcp-storage-bucket-no-cmek",
            "Cloud Storage bucket encrypted with Google-managed keys only",
            Severity::Low,
            AT_REST,
            "With Google-managed keys the organisation cannot revoke, rotate on its own schedule or audit the use of the key that protects the bucket's data.",
            "Add `encryption { default_kms_key_name = google_kms_crypto_key.KEY.id }` to the bucket, with a Cloud KMS key the storage service agent may use.",
            &["google_storage_bucket"],
            bucket_cmek,
        ),
    ]
}

fn uniform_access(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("uniform_bucket_level_access") {
        a if a.is_absent() => out.push(Hit::new(
            r.line,
            "uniform_bucket_level_access is not set (object ACLs stay enabled)",
        )),
        a if a.bool() == Some(false) => out.push(Hit::new(
            r.line_of("uniform_bucket_level_access"),
            "uniform_bucket_level_access = false (object ACLs stay enabled)",
        )),
        _ => {}
    }
}

fn public_bucket(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.kind.as_str() {
        "google_storage_bucket_access_control"
        | "google_storage_default_object_access_control"
        | "google_storage_object_access_control" => {
            if let Some(entity) = r.attr("entity").str().filter(|e| is_public_member(e)) {
                let role = r.attr("role").str().unwrap_or("a role");
                out.push(Hit::new(
                    r.line_of("entity"),
                    format!("grants {role} to entity {entity}"),
                ));
            }
        }
        "google_storage_bucket_acl"
        | "google_storage_default_object_acl"
        | "google_storage_object_acl" => {
            for (entry, line) in strings_at(&r.body, "role_entity") {
                let entity = entry.split_once(':').map_or(entry, |(_, e)| e);
                if is_public_member(entity) {
                    out.push(
                        Hit::new(
                            line,
                            format!("role_entity \"{entry}\" makes the data public"),
                        )
                        .key(entry),
                    );
                }
            }
            if let Some(acl) = r
                .attr("predefined_acl")
                .str()
                .filter(|a| matches!(*a, "publicRead" | "publicReadWrite"))
            {
                out.push(
                    Hit::new(
                        r.line_of("predefined_acl"),
                        format!("predefined_acl = \"{acl}\" makes the data public"),
                    )
                    .key("predefined_acl"),
                );
            }
        }
        _ => {
            for g in grants(ctx, r) {
                if is_public_member(&g.member) {
                    out.push(
                        Hit::new(g.line, format!("grants {} to {}", g.role, g.member))
                            .key(format!("{} {}", g.role, g.member)),
                    );
                }
            }
        }
    }
}

/// The bucket's name when it is known and matches the evidence-bucket globs.
fn evidence_name<'a>(ctx: &Ctx<'_>, r: &'a Resource) -> Option<&'a str> {
    let name = r.attr("name").str()?;
    evidence_globs(ctx.options).is_match(name).then_some(name)
}

fn evidence_versioning(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Some(name) = evidence_name(ctx, r) else {
        return;
    };
    if r.attr("retention_policy").is_set() || r.attr("retention_policy").is_unknown() {
        // Cloud Storage keeps objects under a retention policy instead of versions.
        return;
    }
    match r.attr("versioning.enabled") {
        Attr::Unknown => {}
        a if a.bool() == Some(true) => {}
        Attr::Missing => out.push(Hit::new(
            r.line,
            format!("evidence bucket {name} has no versioning block (versioning is off)"),
        )),
        Attr::Known(_) => out.push(Hit::new(
            r.line_of("versioning.enabled"),
            format!("evidence bucket {name} does not have versioning.enabled = true"),
        )),
    }
}

fn evidence_retention(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Some(name) = evidence_name(ctx, r) else {
        return;
    };
    match r.attr("retention_policy") {
        Attr::Unknown => {}
        Attr::Known(n) if n.is_set() => match r.attr("retention_policy.is_locked") {
            Attr::Unknown => {}
            a if a.bool() == Some(true) => {}
            a => out.push(Hit::new(
                if a.is_missing() {
                    r.line_of("retention_policy")
                } else {
                    r.line_of("retention_policy.is_locked")
                },
                format!("evidence bucket {name} has a retention policy that is not locked (is_locked is not true)"),
            )),
        },
        Attr::Known(_) | Attr::Missing => out.push(Hit::new(
            r.line,
            format!("evidence bucket {name} has no retention_policy"),
        )),
    }
}

fn bucket_cmek(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.attr("encryption.default_kms_key_name") {
        Attr::Missing => out.push(Hit::new(
            r.line,
            "no encryption.default_kms_key_name (Google-managed key)",
        )),
        Attr::Known(n) if !n.is_set() => out.push(Hit::new(
            r.line_of("encryption.default_kms_key_name"),
            "encryption.default_kms_key_name is empty (Google-managed key)",
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::Options;
    use crate::checks::common::test_support::{res, run, run_with};
    use crate::model::{Node, Value};
    use serde_json::json;

    #[test]
    fn evidence_buckets_need_versioning_or_retention() {
        let b = res("google_storage_bucket", &json!({"name": "acme-audit-logs"}));
        assert_eq!(run("gcp-storage-evidence-bucket-unversioned", &b).len(), 1);
        assert_eq!(
            run("gcp-storage-evidence-bucket-retention-unlocked", &b).len(),
            1
        );
        let locked = res(
            "google_storage_bucket",
            &json!({"name": "acme-audit-logs", "retention_policy": [{"retention_period": 100, "is_locked": true}]}),
        );
        assert!(run("gcp-storage-evidence-bucket-unversioned", &locked).is_empty());
        assert!(run("gcp-storage-evidence-bucket-retention-unlocked", &locked).is_empty());
        let other = res("google_storage_bucket", &json!({"name": "static-site"}));
        assert!(run("gcp-storage-evidence-bucket-unversioned", &other).is_empty());
        let custom = Options {
            evidence_buckets: vec!["static-*".to_owned()],
            ..Options::default()
        };
        assert_eq!(
            run_with(
                "gcp-storage-evidence-bucket-unversioned",
                &other,
                &[],
                &custom
            )
            .len(),
            1
        );
    }

    #[test]
    fn unknown_name_is_not_judged() {
        let mut b = res("google_storage_bucket", &json!({}));
        b.body = Node::new(
            1,
            Value::Map(vec![(
                "name".into(),
                Node::unknown(2, vec!["var.name".into()]),
            )]),
        );
        assert!(run("gcp-storage-evidence-bucket-unversioned", &b).is_empty());
    }

    #[test]
    fn iam_policy_through_data_source() {
        let data = crate::model::Resource::from_json(
            crate::model::Platform::Terraform,
            "data.google_iam_policy",
            "data.google_iam_policy.p",
            &json!({"binding": [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]}),
        );
        let mut policy = res("google_storage_bucket_iam_policy", &json!({}));
        policy.body = Node::new(
            1,
            Value::Map(vec![(
                "policy_data".into(),
                Node::unknown(3, vec!["data.google_iam_policy.p.policy_data".into()]),
            )]),
        );
        let hits = run_with(
            "gcp-storage-bucket-public",
            &policy,
            &[data],
            &Options::default(),
        );
        assert_eq!(hits.len(), 1);
        assert!(hits[0].message.contains("allUsers"));
    }

    #[test]
    fn acl_role_entities() {
        let acl = res(
            "google_storage_bucket_acl",
            &json!({"role_entity": ["OWNER:user-a@example.com", "READER:allUsers"]}),
        );
        assert_eq!(run("gcp-storage-bucket-public", &acl).len(), 1);
    }
}
