//! Audit logging: CloudTrail coverage and integrity, VPC flow logs, load balancer and
//! CloudFront access logs, EKS control plane audit logs.

use evident_core::Severity;

use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Resource};

use super::{Flag, LOGGING, Link, at, flag, get, is_cfn, link, present, require_true, setting};

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "aws-cloudtrail-multi-region",
            "CloudTrail trail records one region only",
            Severity::Medium,
            LOGGING,
            "A single-region trail misses API activity in every other region, which is exactly where an intruder would start resources to avoid notice; audit logging must cover the whole account.",
            "Set `is_multi_region_trail = true` on `aws_cloudtrail` (CloudFormation: `IsMultiRegionTrail: true`).",
            &["aws_cloudtrail", "AWS::CloudTrail::Trail"],
            |_, r, out| {
                let key = setting(r, "is_multi_region_trail", "IsMultiRegionTrail");
                require_true(r, out, key, true);
            },
        ),
        check(
            "aws-cloudtrail-log-validation",
            "CloudTrail log file validation is off",
            Severity::Medium,
            &[
                "soc2:CC7.2",
                "iso27001:A.8.15",
                "nist-800-53:AU-9",
                "nist-800-53:AU-12",
            ],
            "Without digest files nobody can prove the delivered logs were not altered or removed afterwards, so the trail is weaker evidence in an investigation or an audit.",
            "Set `enable_log_file_validation = true` on `aws_cloudtrail` (CloudFormation: `EnableLogFileValidation: true`).",
            &["aws_cloudtrail", "AWS::CloudTrail::Trail"],
            |_, r, out| {
                let key = setting(r, "enable_log_file_validation", "EnableLogFileValidation");
                require_true(r, out, key, true);
            },
        ),
        check(
            "aws-cloudtrail-kms",
            "CloudTrail logs are not encrypted with a KMS key",
            Severity::Low,
            &[
                "soc2:CC6.1",
                "iso27001:A.8.15",
                "iso27001:A.8.24",
                "nist-800-53:AU-9",
                "nist-800-53:SC-28",
            ],
            "Trail logs are encrypted with S3-managed keys by default; a KMS key adds a second permission (kms:Decrypt) to read them, so access to the audit record can be restricted separately from the bucket.",
            "Set `kms_key_id = aws_kms_key.trail.arn` on `aws_cloudtrail` (CloudFormation: `KMSKeyId`), with a key policy that lets cloudtrail.amazonaws.com encrypt.",
            &["aws_cloudtrail", "AWS::CloudTrail::Trail"],
            |_, r, out| {
                let key = setting(r, "kms_key_id", "KMSKeyId");
                if present(r, key) == Some(false) {
                    out.push(Hit::new(r.line, format!("{key} is not set")));
                }
            },
        ),
        check(
            "aws-vpc-flow-logs",
            "VPC has no flow logs",
            Severity::Medium,
            &[
                "soc2:CC7.2",
                "iso27001:A.8.15",
                "iso27001:A.8.16",
                "nist-800-53:AU-12",
                "nist-800-53:SI-4",
            ],
            "Without flow logs there is no record of which addresses talked to what inside the network, so lateral movement or data exfiltration cannot be traced after the fact.",
            "Add `resource \"aws_flow_log\" \"vpc\" { vpc_id = aws_vpc.main.id  traffic_type = \"ALL\"  log_destination = aws_cloudwatch_log_group.flow.arn  iam_role_arn = aws_iam_role.flow.arn }` (CloudFormation: `AWS::EC2::FlowLog` with `ResourceId: !Ref VPC`, `ResourceType: VPC`).",
            &["aws_vpc", "AWS::EC2::VPC"],
            vpc_flow_logs,
        ),
        check(
            "aws-lb-access-logs",
            "Load balancer access logs are off",
            Severity::Medium,
            LOGGING,
            "The load balancer is where every external request enters; without its access logs there is no record of who called what, from where, when investigating an incident.",
            "Add `access_logs { bucket = aws_s3_bucket.lb_logs.id  enabled = true }` (on `aws_lb` `enabled` defaults to false even with a bucket; CloudFormation: `LoadBalancerAttributes` key `access_logs.s3.enabled` = `true`).",
            &[
                "aws_lb",
                "aws_alb",
                "aws_elb",
                "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "AWS::ElasticLoadBalancing::LoadBalancer",
            ],
            lb_access_logs,
        ),
        check(
            "aws-cloudfront-logging",
            "CloudFront distribution has no access logging",
            Severity::Low,
            LOGGING,
            "Without standard logs the requests served at the edge, including those never reaching the origin, leave no trace to investigate abuse or a leak.",
            "Add `logging_config { bucket = aws_s3_bucket.cf_logs.bucket_domain_name  prefix = \"cloudfront/\" }` (CloudFormation: `DistributionConfig.Logging`), or deliver logs with CloudWatch Logs delivery.",
            &[
                "aws_cloudfront_distribution",
                "AWS::CloudFront::Distribution",
            ],
            cloudfront_logging,
        ),
        check(
            "aws-eks-audit-logging",
            "EKS cluster does not send audit logs",
            Severity::Medium,
            LOGGING,
            "Kubernetes audit logs record who did what through the API server (secrets read, pods exec'd, roles bound); EKS sends none unless the log types are enabled.",
            "Set `enabled_cluster_log_types = [\"api\", \"audit\", \"authenticator\"]` on `aws_eks_cluster` (CloudFormation: `Logging.ClusterLogging.EnabledTypes` with `Type: audit`).",
            &["aws_eks_cluster", "AWS::EKS::Cluster"],
            eks_audit_logging,
        ),
    ]
}

fn vpc_flow_logs(ctx: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (kind, path) = if is_cfn(r) {
        ("AWS::EC2::FlowLog", "ResourceId")
    } else {
        ("aws_flow_log", "vpc_id")
    };
    if let Link::Absent = link(ctx.model, kind, path, r, &[]) {
        out.push(Hit::new(r.line, format!("no {kind} refers to this VPC")));
    }
}

fn lb_access_logs(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    match r.kind.as_str() {
        "aws_lb" | "aws_alb" => {
            if get(r, "load_balancer_type").str() == Some("gateway") {
                return;
            }
            require_true(r, out, "access_logs.enabled", true);
        }
        "aws_elb" => match flag(r, "access_logs.enabled") {
            Flag::Off(l) => out.push(Hit::new(
                if l > 0 { l } else { r.line },
                "access_logs.enabled is false",
            )),
            Flag::Missing if present(r, "access_logs") == Some(false) => {
                out.push(Hit::new(r.line, "no access_logs block"));
            }
            _ => {}
        },
        "AWS::ElasticLoadBalancing::LoadBalancer" => {
            require_true(r, out, "AccessLoggingPolicy.Enabled", true);
        }
        _ => {
            if get(r, "Type").str() == Some("gateway") {
                return;
            }
            let attrs = match get(r, "LoadBalancerAttributes") {
                Attr::Missing => None,
                Attr::Unknown => return,
                Attr::Known(n) => Some(n),
            };
            let setting = attrs.and_then(|list| {
                list.items()
                    .find(|a| at(a, "Key").str() == Some("access_logs.s3.enabled"))
            });
            match setting.map(|s| (s, at(s, "Value"))) {
                None => out.push(Hit::new(
                    r.line,
                    "LoadBalancerAttributes has no access_logs.s3.enabled = true",
                )),
                Some((s, Attr::Known(v))) if v.as_bool() == Some(false) => {
                    out.push(Hit::new(
                        s.line_or(r.line),
                        "access_logs.s3.enabled is false",
                    ));
                }
                Some(_) => {}
            }
        }
    }
}

fn cloudfront_logging(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let key = setting(r, "logging_config", "DistributionConfig.Logging");
    if is_cfn(r) && get(r, "DistributionConfig").is_unknown() {
        return;
    }
    if present(r, key) == Some(false) {
        out.push(Hit::new(r.line, format!("{key} is not set")));
    }
}

fn eks_audit_logging(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    if is_cfn(r) {
        match get(r, "Logging.ClusterLogging.EnabledTypes") {
            Attr::Missing => out.push(Hit::new(
                r.line,
                "Logging.ClusterLogging.EnabledTypes is not set",
            )),
            Attr::Known(list) => {
                let types: Vec<&str> = list.items().filter_map(|t| at(t, "Type").str()).collect();
                let unknown = list.items().any(|t| at(t, "Type").str().is_none());
                if !unknown && !types.contains(&"audit") {
                    out.push(Hit::new(
                        list.line_or(r.line),
                        "EnabledTypes does not include audit",
                    ));
                }
            }
            Attr::Unknown => {}
        }
        return;
    }
    match get(r, "enabled_cluster_log_types") {
        Attr::Missing => out.push(Hit::new(r.line, "enabled_cluster_log_types is not set")),
        Attr::Known(list) => {
            let all_known = list.items().all(|t| t.as_str().is_some());
            if all_known && !list.strings().contains(&"audit") {
                out.push(Hit::new(
                    list.line_or(r.line),
                    "enabled_cluster_log_types does not include \"audit\"",
                ));
            }
        }
        Attr::Unknown => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{cfn, run_on, tf, unknown};
    use serde_json::json;

    #[test]
    fn flow_logs_link_to_vpc() {
        let vpc = tf("aws_vpc", "main", &json!({"cidr_block": "10.0.0.0/16"}));
        assert_eq!(run_on("aws-vpc-flow-logs", vec![vpc.clone()], 0).len(), 1);
        let fl = unknown(
            tf("aws_flow_log", "f", &json!({})),
            "vpc_id",
            &["aws_vpc.main.id"],
        );
        assert!(run_on("aws-vpc-flow-logs", vec![vpc, fl], 0).is_empty());
        let v = cfn("AWS::EC2::VPC", "Vpc", &json!({}));
        let f = unknown(
            cfn("AWS::EC2::FlowLog", "Flow", &json!({"ResourceType": "VPC"})),
            "ResourceId",
            &["Vpc"],
        );
        assert!(run_on("aws-vpc-flow-logs", vec![v, f], 0).is_empty());
    }

    #[test]
    fn lb_logs() {
        let lb = tf("aws_lb", "l", &json!({"access_logs": [{"bucket": "b"}]}));
        assert_eq!(run_on("aws-lb-access-logs", vec![lb], 0).len(), 1);
        let elb = tf("aws_elb", "l", &json!({"access_logs": [{"bucket": "b"}]}));
        assert!(run_on("aws-lb-access-logs", vec![elb], 0).is_empty());
        let c = cfn(
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "L",
            &json!({"LoadBalancerAttributes": [{"Key": "access_logs.s3.enabled", "Value": "true"}]}),
        );
        assert!(run_on("aws-lb-access-logs", vec![c], 0).is_empty());
    }
}
