//! IAM: wildcard actions and resources, full administrator policies, AdministratorAccess
//! attachments, policies attached to users and the account password policy.

use evident_core::Severity;

use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Resource};

use super::policy::{self, Statement, is_full_wildcard, is_read_only, is_service_wildcard};
use super::{LEAST_PRIVILEGE, get, is_cfn, present};

/// Resources that carry identity policies (Terraform and CloudFormation).
const POLICY_KINDS: &[&str] = &[
    "aws_iam_policy",
    "aws_iam_role_policy",
    "aws_iam_user_policy",
    "aws_iam_group_policy",
    "aws_iam_role",
    "data.aws_iam_policy_document",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
];

const ADMIN_ARN_SUFFIX: &str = ":iam::aws:policy/AdministratorAccess";

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "aws-iam-full-admin",
            "IAM policy grants every action on every resource",
            Severity::Critical,
            LEAST_PRIVILEGE,
            "`Action: \"*\"` on `Resource: \"*\"` is full administrator access: whoever holds the policy, or steals its credentials, controls the whole account including its logs and other identities.",
            "Replace the statement with the actions and resource ARNs the workload needs; keep administrator access to a few break-glass roles assumed with MFA.",
            POLICY_KINDS,
            full_admin,
        ),
        check(
            "aws-iam-wildcard-action",
            "IAM policy allows wildcard actions",
            Severity::High,
            LEAST_PRIVILEGE,
            "`*` or `service:*` in an Allow statement (or an Allow with NotAction) grants every present and future action of the service, including destructive and privilege-changing ones nobody reviewed.",
            "List the specific actions needed, e.g. `actions = [\"s3:GetObject\", \"s3:PutObject\"]` instead of `\"s3:*\"`; IAM Access Analyzer can generate a policy from actual use.",
            POLICY_KINDS,
            wildcard_action,
        ),
        check(
            "aws-iam-wildcard-resource-write",
            "IAM policy allows write actions on every resource",
            Severity::Medium,
            LEAST_PRIVILEGE,
            "Write or administrative actions on `Resource: \"*\"` reach every bucket, table, key or instance of the account instead of the ones the workload owns.",
            "Scope `Resource` / `resources` to the ARNs the actions apply to (e.g. `aws_s3_bucket.app.arn` and `\"${aws_s3_bucket.app.arn}/*\"`), or add conditions such as `aws:ResourceTag`.",
            POLICY_KINDS,
            wildcard_resource_write,
        ),
        check(
            "aws-iam-admin-policy-attached",
            "AdministratorAccess managed policy is attached",
            Severity::High,
            LEAST_PRIVILEGE,
            "The AWS managed AdministratorAccess policy grants every action on every resource; attaching it to a role, user or group makes that identity an account administrator.",
            "Attach a policy limited to the job instead of `arn:aws:iam::aws:policy/AdministratorAccess`; if an admin role is needed, make it assumable only with MFA and monitor its use.",
            &[
                "aws_iam_role_policy_attachment",
                "aws_iam_user_policy_attachment",
                "aws_iam_group_policy_attachment",
                "aws_iam_policy_attachment",
                "aws_iam_role",
                "aws_iam_role_policy_attachments_exclusive",
                "AWS::IAM::Role",
                "AWS::IAM::User",
                "AWS::IAM::Group",
            ],
            admin_attached,
        ),
        check(
            "aws-iam-user-direct-policy",
            "IAM policy is attached directly to a user",
            Severity::Low,
            LEAST_PRIVILEGE,
            "Permissions attached to individual users drift apart and are hard to review at access recertification; granting them through groups or roles keeps access consistent and auditable.",
            "Attach the policy to an `aws_iam_group` (with `aws_iam_group_policy_attachment`) and add the user to the group, or have the user assume a role.",
            &[
                "aws_iam_user_policy",
                "aws_iam_user_policy_attachment",
                "aws_iam_policy_attachment",
                "AWS::IAM::User",
                "AWS::IAM::Policy",
                "AWS::IAM::ManagedPolicy",
            ],
            user_direct_policy,
        ),
        check(
            "aws-iam-password-policy-weak",
            "IAM account password policy allows short passwords",
            Severity::Medium,
            &[
                "soc2:CC6.1",
                "iso27001:A.8.5",
                "nist-800-53:IA-5",
                "nist-800-53:IA-5(1)",
            ],
            "Console passwords shorter than 14 characters (IAM applies 6 when the policy sets none) fall to guessing and credential stuffing far more easily; 14 is the minimum common benchmarks set.",
            "Set `minimum_password_length = 14` (or more) on `aws_iam_account_password_policy`, with `password_reuse_prevention = 24`.",
            &["aws_iam_account_password_policy"],
            password_policy,
        ),
    ]
}

/// The identity-policy statements of a resource (resource-based statements, which name a
/// principal, are left out). Unreadable documents give nothing.
fn identity_statements(r: &Resource) -> Vec<Statement> {
    let mut all = Vec::new();
    match r.kind.as_str() {
        "data.aws_iam_policy_document" => all.extend(policy::document(r).unwrap_or_default()),
        "aws_iam_role" => {
            if let Attr::Known(list) = get(r, "inline_policy") {
                for p in list.items() {
                    if let Attr::Known(doc) = super::at(p, "policy") {
                        all.extend(policy::parse(doc).unwrap_or_default());
                    }
                }
            }
        }
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
            if let Attr::Known(doc) = get(r, "PolicyDocument") {
                all.extend(policy::parse(doc).unwrap_or_default());
            }
        }
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
            if let Attr::Known(list) = get(r, "Policies") {
                for p in list.items() {
                    if let Attr::Known(doc) = super::at(p, "PolicyDocument") {
                        all.extend(policy::parse(doc).unwrap_or_default());
                    }
                }
            }
        }
        _ => {
            if let Attr::Known(doc) = get(r, "policy") {
                all.extend(policy::parse(doc).unwrap_or_default());
            }
        }
    }
    for st in &mut all {
        if st.line == 0 {
            st.line = r.line;
        }
    }
    all.retain(|s| !s.has_principal);
    all
}

fn full_admin(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for st in identity_statements(r) {
        if st.allow && st.all_actions() && st.all_resources() {
            out.push(
                Hit::new(
                    st.line,
                    "Allow statement with Action \"*\" on Resource \"*\"",
                )
                .key(format!("admin {}", st.line)),
            );
        }
    }
}

fn wildcard_action(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for st in identity_statements(r) {
        if !st.allow || (st.all_actions() && st.all_resources()) {
            continue;
        }
        if st.not_action {
            out.push(
                Hit::new(
                    st.line,
                    format!(
                        "Allow statement with NotAction [{}] grants every other action",
                        st.actions.join(", ")
                    ),
                )
                .key(format!("not {}", st.actions.join(","))),
            );
            continue;
        }
        let wild: Vec<&str> = st
            .actions
            .iter()
            .map(String::as_str)
            .filter(|a| is_full_wildcard(a) || is_service_wildcard(a))
            .collect();
        if !wild.is_empty() {
            out.push(
                Hit::new(
                    st.line,
                    format!("Allow statement with Action {}", wild.join(", ")),
                )
                .key(wild.join(",")),
            );
        }
    }
}

/// Write actions that only accept `Resource: "*"`.
const STAR_ONLY: &[&str] = &[
    "cloudwatch:putmetricdata",
    "xray:puttracesegments",
    "xray:puttelemetryrecords",
    "ssmmessages:createcontrolchannel",
    "ssmmessages:createdatachannel",
    "ssmmessages:opencontrolchannel",
    "ssmmessages:opendatachannel",
];

fn wildcard_resource_write(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for st in identity_statements(r) {
        if !st.allow || st.not_action || !st.all_resources() || st.has_condition() {
            continue;
        }
        let writes: Vec<&str> = st
            .actions
            .iter()
            .map(String::as_str)
            .filter(|a| {
                !is_full_wildcard(a)
                    && !is_service_wildcard(a)
                    && !is_read_only(a)
                    && !STAR_ONLY.contains(&a.to_ascii_lowercase().as_str())
            })
            .collect();
        if writes.is_empty() {
            continue;
        }
        let shown: Vec<&str> = writes.iter().take(5).copied().collect();
        let more = if writes.len() > 5 {
            format!(" and {} more", writes.len() - 5)
        } else {
            String::new()
        };
        out.push(
            Hit::new(
                st.line,
                format!(
                    "Allow statement with {}{more} on Resource \"*\"",
                    shown.join(", ")
                ),
            )
            .key(writes.join(",")),
        );
    }
}

fn admin_attached(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let key = match r.kind.as_str() {
        "aws_iam_role" => "managed_policy_arns",
        "aws_iam_role_policy_attachments_exclusive" => "policy_arns",
        k if k.starts_with("AWS::") => "ManagedPolicyArns",
        _ => "policy_arn",
    };
    if let Attr::Known(n) = get(r, key)
        && n.strings().iter().any(|a| a.ends_with(ADMIN_ARN_SUFFIX))
    {
        out.push(Hit::new(
            n.line_or(r.line),
            format!("{key} includes AdministratorAccess"),
        ));
    }
}

fn user_direct_policy(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.kind.as_str() {
        "aws_iam_user_policy" => out.push(Hit::new(r.line, "inline policy on an IAM user")),
        "aws_iam_user_policy_attachment" => {
            out.push(Hit::new(
                r.line_of("policy_arn"),
                "managed policy attached to an IAM user",
            ));
        }
        "aws_iam_policy_attachment" => {
            if present(r, "users") == Some(true) {
                out.push(Hit::new(
                    r.line_of("users"),
                    "policy attached to IAM users (users)",
                ));
            }
        }
        "AWS::IAM::User" => {
            for key in ["Policies", "ManagedPolicyArns"] {
                if present(r, key) == Some(true) {
                    out.push(
                        Hit::new(r.line_of(key), format!("{key} set on an IAM user")).key(key),
                    );
                }
            }
        }
        _ => {
            if is_cfn(r) && present(r, "Users") == Some(true) {
                out.push(Hit::new(
                    r.line_of("Users"),
                    "policy attached to IAM users (Users)",
                ));
            }
        }
    }
}

fn password_policy(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match get(r, "minimum_password_length") {
        Attr::Known(n) => {
            if let Some(len) = n.as_f64()
                && len < 14.0
            {
                out.push(Hit::new(
                    n.line_or(r.line),
                    format!("minimum_password_length = {len}"),
                ));
            }
        }
        Attr::Missing => out.push(Hit::new(
            r.line,
            "minimum_password_length is not set (IAM applies 6)",
        )),
        Attr::Unknown => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{cfn, run_on, tf};
    use serde_json::json;

    #[test]
    fn statements_by_kind() {
        let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let p = tf("aws_iam_policy", "p", &json!({"policy": admin}));
        assert_eq!(run_on("aws-iam-full-admin", vec![p.clone()], 0).len(), 1);
        assert!(run_on("aws-iam-wildcard-action", vec![p], 0).is_empty());
        let role = cfn(
            "AWS::IAM::Role",
            "R",
            &json!({"AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                    "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::b/*"}]}}]}),
        );
        assert_eq!(run_on("aws-iam-wildcard-action", vec![role], 0).len(), 1);
    }

    #[test]
    fn trust_and_deny_statements_are_ignored() {
        let doc = tf(
            "data.aws_iam_policy_document",
            "trust",
            &json!({"statement": [{"actions": ["sts:*"], "principals": [{"type": "Service", "identifiers": ["ec2.amazonaws.com"]}]},
                                  {"effect": "Deny", "actions": ["*"], "resources": ["*"]}]}),
        );
        assert!(run_on("aws-iam-wildcard-action", vec![doc.clone()], 0).is_empty());
        assert!(run_on("aws-iam-full-admin", vec![doc], 0).is_empty());
    }

    #[test]
    fn write_actions_on_star() {
        let p = tf(
            "aws_iam_role_policy",
            "p",
            &json!({"policy": r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","cloudwatch:PutMetricData"],"Resource":"*"}]}"#}),
        );
        let hits = run_on("aws-iam-wildcard-resource-write", vec![p], 0);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].message.contains("s3:PutObject") && !hits[0].message.contains("GetObject"));
        let read = tf(
            "aws_iam_role_policy",
            "p",
            &json!({"policy": r#"{"Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}"#}),
        );
        assert!(run_on("aws-iam-wildcard-resource-write", vec![read], 0).is_empty());
    }

    #[test]
    fn unknown_policy_is_silent() {
        let p = super::super::tests::unknown(
            tf("aws_iam_policy", "p", &json!({})),
            "policy",
            &["data.aws_iam_policy_document.x.json"],
        );
        assert!(run_on("aws-iam-wildcard-action", vec![p], 0).is_empty());
    }
}
