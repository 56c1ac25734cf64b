//! Compute and images: EC2 instance metadata service v2, ECR image scanning and tag
//! immutability.

use evident_core::Severity;

use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Resource};

use super::{HARDENING, at, get, is_cfn, require_true, setting};

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "aws-ec2-imdsv2",
            "EC2 instance metadata service accepts IMDSv1",
            Severity::Medium,
            HARDENING,
            "IMDSv1 answers any request from the instance, so a server-side request forgery in the application hands the attacker the instance role's credentials; IMDSv2 requires a session token that such requests cannot get.",
            "Add `metadata_options { http_tokens = \"required\"  http_put_response_hop_limit = 1 }` (CloudFormation launch template: `MetadataOptions.HttpTokens: required`), or set `aws_ec2_instance_metadata_defaults { http_tokens = \"required\" }` for the account.",
            &[
                "aws_instance",
                "aws_launch_template",
                "aws_launch_configuration",
                "AWS::EC2::LaunchTemplate",
            ],
            imdsv2,
        ),
        check(
            "aws-ecr-scan-on-push",
            "ECR repository does not scan images on push",
            Severity::Low,
            &[
                "soc2:CC7.1",
                "iso27001:A.8.8",
                "nist-800-53:RA-5",
                "nist-800-53:SI-4",
            ],
            "Without scanning, images with known vulnerable packages are pushed and deployed without anyone being told, and there is no scan record to show vulnerability management is in place.",
            "Add `image_scanning_configuration { scan_on_push = true }` (CloudFormation: `ImageScanningConfiguration: { ScanOnPush: true }`), or configure registry-wide scanning with `aws_ecr_registry_scanning_configuration`.",
            &["aws_ecr_repository", "AWS::ECR::Repository"],
            ecr_scan,
        ),
        check(
            "aws-ecr-tag-mutable",
            "ECR repository allows image tags to be overwritten",
            Severity::Low,
            &[
                "soc2:CC8.1",
                "iso27001:A.8.32",
                "nist-800-53:CM-6",
                "nist-800-53:SI-7",
            ],
            "With mutable tags a pushed image can silently replace the one that was reviewed and approved under the same tag, so what runs in production is no longer what change management signed off.",
            "Set `image_tag_mutability = \"IMMUTABLE\"` on `aws_ecr_repository` (CloudFormation: `ImageTagMutability: IMMUTABLE`) and deploy by digest.",
            &["aws_ecr_repository", "AWS::ECR::Repository"],
            ecr_tag_mutable,
        ),
    ]
}

fn imdsv2(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (opts, tokens, endpoint) = if is_cfn(r) {
        (
            "LaunchTemplateData.MetadataOptions",
            "HttpTokens",
            "HttpEndpoint",
        )
    } else {
        ("metadata_options", "http_tokens", "http_endpoint")
    };
    let options = match get(r, opts) {
        Attr::Unknown => return,
        Attr::Known(n) => n.items().next(),
        Attr::Missing => None,
    };
    if let Some(o) = options {
        if o.is_unknown() || at(o, endpoint).str() == Some("disabled") {
            return;
        }
        match at(o, tokens) {
            Attr::Known(v) => {
                if v.as_str() == Some("optional") {
                    out.push(Hit::new(
                        v.line_or(r.line),
                        format!("{tokens} = \"optional\""),
                    ));
                }
                return;
            }
            Attr::Unknown => return,
            Attr::Missing => {}
        }
    }
    // Nothing set: the account default decides when one is declared.
    let account_requires = !is_cfn(r)
        && ctx
            .model
            .of_kind("aws_ec2_instance_metadata_defaults")
            .any(|d| d.platform == r.platform && get(d, "http_tokens").str() == Some("required"));
    if !account_requires {
        out.push(Hit::new(
            r.line,
            format!("{opts}.{tokens} is not set: IMDSv1 stays enabled"),
        ));
    }
}

fn ecr_scan(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if !is_cfn(r)
        && ctx
            .model
            .of_kind("aws_ecr_registry_scanning_configuration")
            .any(|d| d.platform == r.platform)
    {
        return;
    }
    let path = setting(
        r,
        "image_scanning_configuration.scan_on_push",
        "ImageScanningConfiguration.ScanOnPush",
    );
    require_true(r, out, path, true);
}

fn ecr_tag_mutable(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let key = setting(r, "image_tag_mutability", "ImageTagMutability");
    match get(r, key) {
        Attr::Missing => out.push(Hit::new(
            r.line,
            format!("{key} is not set (the default is MUTABLE)"),
        )),
        Attr::Known(n) if n.as_str() == Some("MUTABLE") => {
            out.push(Hit::new(n.line_or(r.line), format!("{key} = \"MUTABLE\"")));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{run_on, tf};
    use serde_json::json;

    #[test]
    fn imds() {
        let i = tf("aws_instance", "i", &json!({"ami": "ami-1"}));
        assert_eq!(run_on("aws-ec2-imdsv2", vec![i.clone()], 0).len(), 1);
        let d = tf(
            "aws_ec2_instance_metadata_defaults",
            "d",
            &json!({"http_tokens": "required"}),
        );
        assert!(run_on("aws-ec2-imdsv2", vec![i, d], 0).is_empty());
        let ok = tf(
            "aws_launch_template",
            "t",
            &json!({"metadata_options": [{"http_tokens": "required"}]}),
        );
        assert!(run_on("aws-ec2-imdsv2", vec![ok], 0).is_empty());
        let off = tf(
            "aws_instance",
            "i",
            &json!({"metadata_options": [{"http_endpoint": "disabled"}]}),
        );
        assert!(run_on("aws-ec2-imdsv2", vec![off], 0).is_empty());
    }
}
