//! S3: encryption configuration, public access (ACLs, Block Public Access, bucket policies),
//! evidence bucket integrity (versioning, Object Lock), access logging and TLS-only policies.

use evident_core::Severity;

use crate::checks::common::evidence_globs;
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Model, Resource};

use super::policy::{self, Statement};
use super::{
    AT_REST, Flag, LOGGING, Link, NETWORK, flag, get, is_cfn, link, present, setting, string,
};

const BUCKET: &str = "aws_s3_bucket";
const CFN_BUCKET: &str = "AWS::S3::Bucket";

/// Controls of evidence integrity: logs protected from change and kept.
const EVIDENCE: &[&str] = &[
    "soc2:CC7.2",
    "iso27001:A.8.15",
    "iso27001:A.8.13",
    "nist-800-53:AU-9",
    "nist-800-53:AU-11",
];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "aws-s3-encryption-not-configured",
            "S3 bucket has no explicit server-side encryption configuration",
            Severity::Low,
            AT_REST,
            "S3 has encrypted new objects with S3-managed keys by default since January 2023, so the data is not stored in clear; but without an encryption configuration in code the key choice is AWS's, nobody can show an auditor which key protects the data, and a KMS key (with its access policy and CloudTrail record of use) cannot be required.",
            "Declare it: an `aws_s3_bucket_server_side_encryption_configuration` for the bucket with `rule { apply_server_side_encryption_by_default { sse_algorithm = \"aws:kms\"  kms_master_key_id = aws_kms_key.s3.arn } }` (CloudFormation: `BucketEncryption.ServerSideEncryptionConfiguration`).",
            &[BUCKET, CFN_BUCKET],
            encryption_not_configured,
        ),
        check(
            "aws-s3-public-acl",
            "S3 bucket ACL grants access to everyone",
            Severity::High,
            NETWORK,
            "A canned ACL such as public-read or a grant to the AllUsers / AuthenticatedUsers groups lets anyone on the internet (or any AWS account) list or read the bucket, the most common way data leaks from S3.",
            "Use `acl = \"private\"` (or drop the ACL and set `object_ownership = \"BucketOwnerEnforced\"` in `aws_s3_bucket_ownership_controls`); remove grants to the AllUsers/AuthenticatedUsers groups. CloudFormation: `AccessControl: Private`.",
            &[BUCKET, "aws_s3_bucket_acl", CFN_BUCKET],
            public_acl,
        ),
        check(
            "aws-s3-public-access-block-missing",
            "S3 bucket has no Block Public Access configuration",
            Severity::Low,
            NETWORK,
            "AWS blocks public access on buckets created since April 2023, but a bucket without its own Block Public Access setting in code relies on that default and on nobody turning it off later; auditors expect the guard to be declared and visible in review.",
            "Add `resource \"aws_s3_bucket_public_access_block\" \"b\" { bucket = aws_s3_bucket.b.id  block_public_acls = true  block_public_policy = true  ignore_public_acls = true  restrict_public_buckets = true }` (CloudFormation: `PublicAccessBlockConfiguration` with the four flags true), or block public access for the whole account with `aws_s3_account_public_access_block`.",
            &[BUCKET, CFN_BUCKET],
            public_access_block_missing,
        ),
        check(
            "aws-s3-public-access-block-disabled",
            "S3 Block Public Access setting is turned off",
            Severity::High,
            NETWORK,
            "Each of the four Block Public Access flags closes one way to make data public (public ACLs, public bucket policies); a flag that is false or left out (they default to false in this resource) leaves that way open.",
            "Set all four to true: `block_public_acls = true`, `block_public_policy = true`, `ignore_public_acls = true`, `restrict_public_buckets = true` (CloudFormation: `BlockPublicAcls`, `BlockPublicPolicy`, `IgnorePublicAcls`, `RestrictPublicBuckets` under `PublicAccessBlockConfiguration`).",
            &[
                "aws_s3_bucket_public_access_block",
                "aws_s3_account_public_access_block",
                CFN_BUCKET,
            ],
            public_access_block_disabled,
        ),
        check(
            "aws-s3-policy-public-principal",
            "S3 bucket policy allows everyone without a condition",
            Severity::High,
            NETWORK,
            "An Allow statement for Principal \"*\" with no condition (source VPC, organization, IP range) opens the bucket's objects to any anonymous caller on the internet.",
            "Name the principals that need access (account or role ARNs), or restrict the statement with a `Condition` such as `aws:SourceVpce`, `aws:PrincipalOrgID` or `aws:SourceIp`; serve public content through CloudFront with origin access control instead.",
            &[BUCKET, "aws_s3_bucket_policy", "AWS::S3::BucketPolicy"],
            policy_public_principal,
        ),
        check(
            "aws-s3-evidence-versioning",
            "Evidence or audit log bucket has no versioning",
            Severity::High,
            EVIDENCE,
            "Without versioning an overwritten or deleted audit log or evidence file is gone for good, so the record an auditor relies on can be changed without trace.",
            "Enable it: `resource \"aws_s3_bucket_versioning\" \"v\" { bucket = aws_s3_bucket.b.id  versioning_configuration { status = \"Enabled\" } }` (CloudFormation: `VersioningConfiguration: { Status: Enabled }`).",
            &[BUCKET, CFN_BUCKET],
            evidence_versioning,
        ),
        check(
            "aws-s3-evidence-object-lock",
            "Evidence or audit log bucket has no Object Lock",
            Severity::Medium,
            EVIDENCE,
            "Versioning alone does not stop someone with delete rights from removing old versions; Object Lock (WORM) keeps audit logs and evidence immutable for the retention period, which is what tamper-proof log storage means to an auditor.",
            "Create the bucket with `object_lock_enabled = true` and add an `aws_s3_bucket_object_lock_configuration` with `rule { default_retention { mode = \"COMPLIANCE\"  days = 365 } }` (CloudFormation: `ObjectLockEnabled: true` and `ObjectLockConfiguration`).",
            &[BUCKET, CFN_BUCKET],
            evidence_object_lock,
        ),
        check(
            "aws-s3-access-logging",
            "S3 bucket has no server access logging",
            Severity::Low,
            LOGGING,
            "Without server access logs there is no record of who read or changed objects in the bucket, which leaves an investigation of a leak without evidence (CloudTrail data events are the alternative).",
            "Add `resource \"aws_s3_bucket_logging\" \"l\" { bucket = aws_s3_bucket.b.id  target_bucket = aws_s3_bucket.logs.id  target_prefix = \"s3/\" }` (CloudFormation: `LoggingConfiguration.DestinationBucketName`), or record S3 data events in CloudTrail.",
            &[BUCKET, CFN_BUCKET],
            access_logging,
        ),
        check(
            "aws-s3-tls-only-policy",
            "S3 bucket policy does not deny requests without TLS",
            Severity::Low,
            super::IN_TRANSIT,
            "S3 accepts plain HTTP requests unless the bucket policy refuses them, so a misconfigured client can move data unencrypted; a deny on aws:SecureTransport = false is the control auditors look for.",
            "Add a statement to the bucket policy: `{ Effect = \"Deny\", Principal = \"*\", Action = \"s3:*\", Resource = [bucket ARN, \"${bucket ARN}/*\"], Condition = { Bool = { \"aws:SecureTransport\" = \"false\" } } }`.",
            &[BUCKET, CFN_BUCKET],
            tls_only_policy,
        ),
    ]
}

/// The literal names a bucket is known by.
fn names(r: &Resource) -> Vec<&str> {
    let key = setting(r, "bucket", "BucketName");
    string(r, key).into_iter().collect()
}

/// The linked resources of `kind` (through `bucket`), for a Terraform bucket.
fn linked<'a>(model: &'a Model, kind: &'a str, r: &'a Resource, names: &'a [&'a str]) -> Link<'a> {
    link(model, kind, "bucket", r, names)
}

fn encryption_not_configured(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if is_cfn(r) {
        if get(r, "BucketEncryption").is_missing() {
            out.push(Hit::new(r.line, "BucketEncryption is not set"));
        }
        return;
    }
    if present(r, "server_side_encryption_configuration") != Some(false) {
        return;
    }
    let names = names(r);
    if let Link::Absent = linked(
        ctx.model,
        "aws_s3_bucket_server_side_encryption_configuration",
        r,
        &names,
    ) {
        out.push(Hit::new(
            r.line,
            "no server_side_encryption_configuration block and no aws_s3_bucket_server_side_encryption_configuration for this bucket",
        ));
    }
}

const PUBLIC_CANNED: &[&str] = &["public-read", "public-read-write", "authenticated-read"];
const PUBLIC_CANNED_CFN: &[&str] = &["PublicRead", "PublicReadWrite", "AuthenticatedRead"];
const PUBLIC_GROUPS: &[&str] = &[
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

fn public_acl(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (key, public) = if is_cfn(r) {
        ("AccessControl", PUBLIC_CANNED_CFN)
    } else {
        ("acl", PUBLIC_CANNED)
    };
    if let Attr::Known(n) = get(r, key)
        && let Some(acl) = n.as_str()
        && public.contains(&acl)
    {
        out.push(Hit::new(n.line_or(r.line), format!("{key} = \"{acl}\"")));
    }
    if r.kind == "aws_s3_bucket_acl"
        && let Attr::Known(grants) = get(r, "access_control_policy.grant")
    {
        for g in grants.items() {
            if let Some(uri) = super::at(g, "grantee.uri").str()
                && PUBLIC_GROUPS.contains(&uri)
            {
                let perm = super::at(g, "permission").str().unwrap_or("access");
                out.push(
                    Hit::new(g.line_or(r.line), format!("grant of {perm} to {uri}"))
                        .key(format!("{uri} {perm}")),
                );
            }
        }
    }
}

const PAB_FLAGS: &[&str] = &[
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];
const PAB_FLAGS_CFN: &[&str] = &[
    "BlockPublicAcls",
    "BlockPublicPolicy",
    "IgnorePublicAcls",
    "RestrictPublicBuckets",
];

fn public_access_block_missing(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if is_cfn(r) {
        if get(r, "PublicAccessBlockConfiguration").is_missing() {
            out.push(Hit::new(
                r.line,
                "PublicAccessBlockConfiguration is not set",
            ));
        }
        return;
    }
    // The account-wide block covers every bucket.
    let account_blocks = ctx
        .model
        .of_kind("aws_s3_account_public_access_block")
        .any(|a| a.platform == r.platform && PAB_FLAGS.iter().all(|f| flag(a, f) == Flag::On));
    if account_blocks {
        return;
    }
    let names = names(r);
    if let Link::Absent = linked(ctx.model, "aws_s3_bucket_public_access_block", r, &names) {
        out.push(Hit::new(
            r.line,
            "no aws_s3_bucket_public_access_block for this bucket",
        ));
    }
}

fn public_access_block_disabled(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (prefix, flags) = if is_cfn(r) {
        match get(r, "PublicAccessBlockConfiguration") {
            Attr::Known(n) if n.as_map().is_some() => {
                ("PublicAccessBlockConfiguration.", PAB_FLAGS_CFN)
            }
            _ => return,
        }
    } else {
        ("", PAB_FLAGS)
    };
    for f in flags {
        let path = format!("{prefix}{f}");
        match flag(r, &path) {
            Flag::Off(l) => {
                out.push(Hit::new(if l > 0 { l } else { r.line }, format!("{f} is false")).key(*f));
            }
            Flag::Missing => {
                out.push(Hit::new(r.line, format!("{f} is not set (defaults to false)")).key(*f));
            }
            Flag::On | Flag::Unknown => {}
        }
    }
}

/// The statements of a policy at `path` of `r`, following a reference to a
/// `data.aws_iam_policy_document` in the same scope. `None` when it cannot be read.
fn policy_at(ctx: &Ctx<'_>, r: &Resource, path: &str) -> Option<Vec<Statement>> {
    match get(r, path) {
        Attr::Known(n) => policy::parse(n),
        Attr::Missing => Some(Vec::new()),
        Attr::Unknown => {
            let docs: Vec<&Resource> = ctx
                .model
                .of_kind("data.aws_iam_policy_document")
                .filter(|d| d.same_scope(r) && r.refers_to(path, d, &[]))
                .collect();
            match docs.as_slice() {
                [doc] => policy::document(doc),
                _ => None,
            }
        }
    }
}

fn policy_public_principal(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let path = setting(r, "policy", "PolicyDocument");
    if get(r, path).is_missing() {
        return;
    }
    let at_line = r.line_of(path);
    for st in policy_at(ctx, r, path).unwrap_or_default() {
        if st.allow && st.principal_any && !st.has_condition() {
            let actions = st.actions.join(", ");
            let l = if st.line > 0 { st.line } else { at_line };
            out.push(
                Hit::new(
                    l,
                    format!("statement allows {actions} to Principal \"*\" without a condition"),
                )
                .key(actions),
            );
        }
    }
}

/// Does the bucket hold evidence or audit logs (by name or by the `evident:evidence` tag)?
fn is_evidence(ctx: &Ctx<'_>, r: &Resource) -> bool {
    if super::tag(r, "evident:evidence").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return true;
    }
    let keys: &[&str] = if is_cfn(r) {
        &["BucketName"]
    } else {
        &["bucket", "bucket_prefix"]
    };
    let globs = evidence_globs(ctx.options);
    keys.iter()
        .filter_map(|k| string(r, k))
        .any(|name| globs.is_match(name))
}

fn display_name(r: &Resource) -> String {
    names(r)
        .first()
        .map_or_else(|| r.address.clone(), |n| (*n).to_owned())
}

/// Object Lock is on for the bucket: `Some(true)`; unknown: `None`.
fn object_lock(ctx: &Ctx<'_>, r: &Resource) -> Option<bool> {
    if is_cfn(r) {
        return match flag(r, "ObjectLockEnabled") {
            Flag::On => Some(true),
            Flag::Unknown => None,
            _ => Some(false),
        };
    }
    match flag(r, "object_lock_enabled") {
        Flag::On => return Some(true),
        Flag::Unknown => return None,
        _ => {}
    }
    match get(r, "object_lock_configuration.object_lock_enabled") {
        Attr::Known(n) if n.as_str() == Some("Enabled") => return Some(true),
        Attr::Unknown => return None,
        _ => {}
    }
    let names = names(r);
    match linked(
        ctx.model,
        "aws_s3_bucket_object_lock_configuration",
        r,
        &names,
    ) {
        Link::Found(_) => Some(true),
        Link::Unsure => None,
        Link::Absent => Some(false),
    }
}

fn evidence_versioning(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if !is_evidence(ctx, r) {
        return;
    }
    let name = display_name(r);
    // Object Lock turns versioning on and keeps it on.
    if object_lock(ctx, r) != Some(false) {
        return;
    }
    if is_cfn(r) {
        match get(r, "VersioningConfiguration.Status") {
            Attr::Known(n) if n.as_str() == Some("Enabled") => {}
            Attr::Unknown => {}
            Attr::Known(n) => out.push(Hit::new(
                n.line_or(r.line),
                format!(
                    "evidence bucket {name}: VersioningConfiguration.Status is {}",
                    n.as_str().unwrap_or("not Enabled")
                ),
            )),
            Attr::Missing => out.push(Hit::new(
                r.line,
                format!("evidence bucket {name}: VersioningConfiguration is not set"),
            )),
        }
        return;
    }
    // The inline block (computed in recent providers) may show the state before a separate
    // `aws_s3_bucket_versioning` in the same change turns versioning on: that one decides.
    let inline = flag(r, "versioning.enabled");
    if matches!(inline, Flag::On | Flag::Unknown) {
        return;
    }
    let names = names(r);
    let problem = match linked(ctx.model, "aws_s3_bucket_versioning", r, &names) {
        Link::Found(list) => {
            let statuses: Vec<Attr> = list
                .iter()
                .map(|v| get(v, "versioning_configuration.status"))
                .collect();
            let ok = statuses.iter().any(|s| match s {
                Attr::Known(n) => n.as_str() == Some("Enabled"),
                Attr::Unknown => true,
                Attr::Missing => false,
            });
            if ok {
                return;
            }
            let status = statuses.iter().find_map(|s| s.str()).unwrap_or("not set");
            format!("aws_s3_bucket_versioning status is {status}")
        }
        Link::Unsure => return,
        Link::Absent => match inline {
            Flag::Off(_) => "versioning.enabled is false".to_owned(),
            _ => "no versioning block and no aws_s3_bucket_versioning".to_owned(),
        },
    };
    let at_line = match inline {
        Flag::Off(l) if l > 0 => l,
        _ => r.line,
    };
    out.push(Hit::new(
        at_line,
        format!("evidence bucket {name}: {problem}"),
    ));
}

fn evidence_object_lock(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if !is_evidence(ctx, r) {
        return;
    }
    if object_lock(ctx, r) == Some(false) {
        let what = if is_cfn(r) {
            "ObjectLockEnabled is not true"
        } else {
            "object_lock_enabled is not true and no aws_s3_bucket_object_lock_configuration"
        };
        out.push(Hit::new(
            r.line_of(setting(r, "object_lock_enabled", "ObjectLockEnabled")),
            format!("evidence bucket {}: {what}", display_name(r)),
        ));
    }
}

fn access_logging(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let names = names(r);
    if is_cfn(r) {
        if !get(r, "LoggingConfiguration").is_missing()
            || string(r, "AccessControl") == Some("LogDeliveryWrite")
        {
            return;
        }
        // A bucket that receives other buckets' logs needs no logs of its own.
        let is_target = ctx.model.of_kind(CFN_BUCKET).any(|o| {
            o.same_scope(r) && o.refers_to("LoggingConfiguration.DestinationBucketName", r, &names)
        });
        if !is_target {
            out.push(Hit::new(r.line, "LoggingConfiguration is not set"));
        }
        return;
    }
    if present(r, "logging") != Some(false) || string(r, "acl") == Some("log-delivery-write") {
        return;
    }
    let is_target = ctx
        .model
        .linked("aws_s3_bucket_logging", "target_bucket", r, &names)
        .next()
        .is_some()
        || ctx
            .model
            .of_kind(BUCKET)
            .any(|o| o.same_scope(r) && o.refers_to("logging.target_bucket", r, &names));
    if is_target {
        return;
    }
    if let Link::Absent = linked(ctx.model, "aws_s3_bucket_logging", r, &names) {
        out.push(Hit::new(
            r.line,
            "no logging block and no aws_s3_bucket_logging for this bucket",
        ));
    }
}

fn tls_only_policy(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let names = names(r);
    let mut policies: Vec<Vec<Statement>> = Vec::new();
    let (kind, path, link_path) = if is_cfn(r) {
        ("AWS::S3::BucketPolicy", "PolicyDocument", "Bucket")
    } else {
        match get(r, "policy") {
            Attr::Missing => {}
            _ => match policy_at(ctx, r, "policy") {
                Some(st) => policies.push(st),
                None => return,
            },
        }
        ("aws_s3_bucket_policy", "policy", "bucket")
    };
    match link(ctx.model, kind, link_path, r, &names) {
        Link::Unsure => return,
        Link::Absent => {}
        Link::Found(list) => {
            for p in list {
                match policy_at(ctx, p, path) {
                    Some(st) => policies.push(st),
                    None => return,
                }
            }
        }
    }
    if policies.is_empty() {
        out.push(Hit::new(
            r.line,
            "no bucket policy, so plain HTTP requests are not denied",
        ));
    } else if !policies
        .iter()
        .flatten()
        .any(Statement::denies_insecure_transport)
    {
        out.push(Hit::new(
            r.line,
            "the bucket policy has no Deny statement on aws:SecureTransport = false",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{cfn, run_on, run_with, tf, unknown};
    use crate::Options;
    use serde_json::json;

    #[test]
    fn encryption_linked_by_reference_or_name() {
        let b = tf("aws_s3_bucket", "b", &json!({"bucket": "data"}));
        assert_eq!(
            run_on("aws-s3-encryption-not-configured", vec![b.clone()], 0).len(),
            1
        );
        let sse = unknown(
            tf(
                "aws_s3_bucket_server_side_encryption_configuration",
                "s",
                &json!({}),
            ),
            "bucket",
            &["aws_s3_bucket.b.id"],
        );
        assert!(run_on("aws-s3-encryption-not-configured", vec![b.clone(), sse], 0).is_empty());
        let by_name = tf(
            "aws_s3_bucket_server_side_encryption_configuration",
            "s",
            &json!({"bucket": "data"}),
        );
        assert!(run_on("aws-s3-encryption-not-configured", vec![b, by_name], 0).is_empty());
    }

    #[test]
    fn public_access_block_flags() {
        let p = tf(
            "aws_s3_bucket_public_access_block",
            "p",
            &json!({"block_public_acls": true, "block_public_policy": false, "ignore_public_acls": true}),
        );
        let hits = run_on("aws-s3-public-access-block-disabled", vec![p], 0);
        assert_eq!(hits.len(), 2);
        let c = cfn(
            "AWS::S3::Bucket",
            "B",
            &json!({"PublicAccessBlockConfiguration": {
            "BlockPublicAcls": "true", "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}}),
        );
        assert!(run_on("aws-s3-public-access-block-disabled", vec![c], 0).is_empty());
        let account = tf(
            "aws_s3_account_public_access_block",
            "a",
            &json!({"block_public_acls": true, "block_public_policy": true, "ignore_public_acls": true, "restrict_public_buckets": true}),
        );
        let b = tf("aws_s3_bucket", "b", &json!({"bucket": "data"}));
        assert!(
            run_on(
                "aws-s3-public-access-block-missing",
                vec![b.clone(), account],
                0
            )
            .is_empty()
        );
        assert_eq!(
            run_on("aws-s3-public-access-block-missing", vec![b], 0).len(),
            1
        );
    }

    #[test]
    fn public_principal_through_policy_document() {
        let doc = tf(
            "data.aws_iam_policy_document",
            "d",
            &json!({"statement": [{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::x/*"],
                "principals": [{"type": "AWS", "identifiers": ["*"]}]}]}),
        );
        let pol = unknown(
            tf("aws_s3_bucket_policy", "p", &json!({})),
            "policy",
            &["data.aws_iam_policy_document.d.json"],
        );
        assert_eq!(
            run_on("aws-s3-policy-public-principal", vec![doc, pol], 1).len(),
            1
        );
        let guarded = tf(
            "aws_s3_bucket_policy",
            "p",
            &json!({"policy": r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}"#}),
        );
        assert!(run_on("aws-s3-policy-public-principal", vec![guarded], 0).is_empty());
    }

    #[test]
    fn evidence_buckets_by_glob_and_tag() {
        let b = tf("aws_s3_bucket", "b", &json!({"bucket": "acme-audit-logs"}));
        assert_eq!(
            run_on("aws-s3-evidence-versioning", vec![b.clone()], 0).len(),
            1
        );
        assert_eq!(
            run_on("aws-s3-evidence-object-lock", vec![b.clone()], 0).len(),
            1
        );
        let custom = Options {
            evidence_buckets: vec!["*-proof".into()],
            ..Options::default()
        };
        assert!(run_with("aws-s3-evidence-versioning", vec![b], 0, &custom).is_empty());
        let tagged = tf(
            "aws_s3_bucket",
            "t",
            &json!({"bucket": "x", "tags": {"evident:evidence": "true"}, "object_lock_enabled": true}),
        );
        assert!(run_on("aws-s3-evidence-versioning", vec![tagged.clone()], 0).is_empty());
        assert!(run_on("aws-s3-evidence-object-lock", vec![tagged], 0).is_empty());
        let v = unknown(
            tf(
                "aws_s3_bucket_versioning",
                "v",
                &json!({"versioning_configuration": [{"status": "Suspended"}]}),
            ),
            "bucket",
            &["aws_s3_bucket.b.id"],
        );
        let b = tf("aws_s3_bucket", "b", &json!({"bucket": "acme-evidence"}));
        let hits = run_on("aws-s3-evidence-versioning", vec![b, v], 0);
        assert!(hits[0].message.contains("Suspended"), "{hits:?}");
    }

    #[test]
    fn log_target_buckets_need_no_logging() {
        let logs = tf("aws_s3_bucket", "logs", &json!({"bucket": "logs"}));
        let l = unknown(
            unknown(
                tf("aws_s3_bucket_logging", "l", &json!({})),
                "bucket",
                &["aws_s3_bucket.data.id"],
            ),
            "target_bucket",
            &["aws_s3_bucket.logs.id"],
        );
        let data = tf("aws_s3_bucket", "data", &json!({"bucket": "data"}));
        assert!(
            run_on(
                "aws-s3-access-logging",
                vec![logs.clone(), l.clone(), data.clone()],
                0
            )
            .is_empty()
        );
        assert!(run_on("aws-s3-access-logging", vec![logs, l, data], 2).is_empty());
    }

    #[test]
    fn tls_only_policy_needs_a_deny() {
        let b = tf("aws_s3_bucket", "b", &json!({"bucket": "data"}));
        assert_eq!(
            run_on("aws-s3-tls-only-policy", vec![b.clone()], 0).len(),
            1
        );
        let p = unknown(
            tf(
                "aws_s3_bucket_policy",
                "p",
                &json!({"policy": r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}"#}),
            ),
            "bucket",
            &["aws_s3_bucket.b.id"],
        );
        assert!(run_on("aws-s3-tls-only-policy", vec![b, p], 0).is_empty());
    }
}
