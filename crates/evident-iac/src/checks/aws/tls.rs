//! Encryption in transit: load balancer listeners, CloudFront, OpenSearch and ElastiCache.

use evident_core::Severity;

use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Node, Resource};

use super::{IN_TRANSIT, at, get, is_cfn, require_true, setting};

const OPENSEARCH: &[&str] = &[
    "aws_opensearch_domain",
    "aws_elasticsearch_domain",
    "AWS::OpenSearchService::Domain",
    "AWS::Elasticsearch::Domain",
];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "aws-lb-listener-http",
            "Load balancer listener serves plain HTTP",
            Severity::High,
            IN_TRANSIT,
            "An HTTP listener that forwards to the application carries sessions, credentials and data in clear over the internet; the only acceptable use of port 80 is a redirect to HTTPS.",
            "Make the listener `protocol = \"HTTPS\"` with a `certificate_arn` and a TLS 1.2+ `ssl_policy`, or change the HTTP listener's `default_action` to `{ type = \"redirect\"  redirect { protocol = \"HTTPS\"  port = \"443\"  status_code = \"HTTP_301\" } }` (CloudFormation: `DefaultActions` with `Type: redirect`, `RedirectConfig.Protocol: HTTPS`).",
            &[
                "aws_lb_listener",
                "aws_alb_listener",
                "AWS::ElasticLoadBalancingV2::Listener",
            ],
            listener_http,
        ),
        check(
            "aws-lb-listener-tls-policy",
            "Load balancer listener allows TLS versions older than 1.2",
            Severity::Medium,
            IN_TRANSIT,
            "Security policies such as ELBSecurityPolicy-2016-08 still accept TLS 1.0 and 1.1, which have known weaknesses and are no longer accepted by PCI DSS or most cryptography policies.",
            "Set `ssl_policy = \"ELBSecurityPolicy-TLS13-1-2-2021-06\"` (or another policy with a TLS 1.2 minimum; CloudFormation: `SslPolicy`).",
            &[
                "aws_lb_listener",
                "aws_alb_listener",
                "AWS::ElasticLoadBalancingV2::Listener",
            ],
            listener_tls_policy,
        ),
        check(
            "aws-cloudfront-allow-http",
            "CloudFront serves content over plain HTTP",
            Severity::Medium,
            IN_TRANSIT,
            "With viewer_protocol_policy = allow-all viewers can fetch content and send cookies or form data over unencrypted HTTP.",
            "Set `viewer_protocol_policy = \"redirect-to-https\"` (or `\"https-only\"`) in `default_cache_behavior` and every `ordered_cache_behavior` (CloudFormation: `ViewerProtocolPolicy`).",
            &[
                "aws_cloudfront_distribution",
                "AWS::CloudFront::Distribution",
            ],
            cloudfront_allow_http,
        ),
        check(
            "aws-cloudfront-tls-version",
            "CloudFront accepts TLS versions older than 1.2",
            Severity::Medium,
            IN_TRANSIT,
            "A minimum protocol version of SSLv3, TLSv1 or TLSv1.1 lets viewers negotiate protocols with known weaknesses; the Terraform provider's default for a custom certificate is TLSv1.",
            "Set `minimum_protocol_version = \"TLSv1.2_2021\"` in `viewer_certificate` (CloudFormation: `ViewerCertificate.MinimumProtocolVersion`).",
            &[
                "aws_cloudfront_distribution",
                "AWS::CloudFront::Distribution",
            ],
            cloudfront_tls_version,
        ),
        check(
            "aws-opensearch-https",
            "OpenSearch domain does not enforce HTTPS with TLS 1.2",
            Severity::Medium,
            IN_TRANSIT,
            "A domain that accepts plain HTTP, or TLS 1.0 through the old security policy, exposes queries, indexed data and credentials on the network.",
            "Set `domain_endpoint_options { enforce_https = true  tls_security_policy = \"Policy-Min-TLS-1-2-2019-07\" }` (CloudFormation: `DomainEndpointOptions.EnforceHTTPS: true`, `TLSSecurityPolicy`).",
            OPENSEARCH,
            opensearch_https,
        ),
        check(
            "aws-opensearch-node-to-node",
            "OpenSearch node-to-node encryption is off",
            Severity::Medium,
            IN_TRANSIT,
            "Without node-to-node encryption, data replicated and queried between the domain's nodes travels unencrypted inside the VPC, and it cannot be turned on for older domains without a migration.",
            "Add `node_to_node_encryption { enabled = true }` (CloudFormation: `NodeToNodeEncryptionOptions: { Enabled: true }`).",
            OPENSEARCH,
            |_, r, out| {
                let path = setting(
                    r,
                    "node_to_node_encryption.enabled",
                    "NodeToNodeEncryptionOptions.Enabled",
                );
                require_true(r, out, path, true);
            },
        ),
        check(
            "aws-elasticache-transit-unencrypted",
            "ElastiCache replication group does not encrypt traffic",
            Severity::Medium,
            IN_TRANSIT,
            "Without in-transit encryption cached data and the AUTH token cross the network in clear, readable by anything that can capture traffic in the VPC.",
            "Set `transit_encryption_enabled = true` (and an `auth_token` or RBAC user group) on `aws_elasticache_replication_group` (CloudFormation: `TransitEncryptionEnabled: true`).",
            &[
                "aws_elasticache_replication_group",
                "AWS::ElastiCache::ReplicationGroup",
            ],
            |_, r, out| {
                let key = setting(r, "transit_encryption_enabled", "TransitEncryptionEnabled");
                require_true(r, out, key, true);
            },
        ),
    ]
}

/// Does the action redirect to HTTPS?
fn redirects_to_https(action: &Node, cfn: bool) -> bool {
    let (ty, proto) = if cfn {
        ("Type", "RedirectConfig.Protocol")
    } else {
        ("type", "redirect.protocol")
    };
    at(action, ty).str() == Some("redirect") && at(action, proto).str() == Some("HTTPS")
}

fn listener_http(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let cfn = is_cfn(r);
    let (proto, actions) = if cfn {
        ("Protocol", "DefaultActions")
    } else {
        ("protocol", "default_action")
    };
    let Attr::Known(p) = get(r, proto) else {
        return;
    };
    if p.as_str() != Some("HTTP") {
        return;
    }
    match get(r, actions) {
        Attr::Unknown => {}
        Attr::Known(list)
            if list
                .items()
                .any(|a| a.is_unknown() || redirects_to_https(a, cfn)) => {}
        _ => out.push(Hit::new(
            p.line_or(r.line),
            format!("{proto} = \"HTTP\" and the default action does not redirect to HTTPS"),
        )),
    }
}

/// Does an ELB security policy name allow TLS below 1.2?
fn outdated_elb_policy(name: &str) -> bool {
    !(name.contains("-1-2-") || name.contains("-1-3-"))
}

fn listener_tls_policy(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let key = setting(r, "ssl_policy", "SslPolicy");
    if let Attr::Known(n) = get(r, key)
        && let Some(name) = n.as_str()
        && !name.is_empty()
        && outdated_elb_policy(name)
    {
        out.push(Hit::new(
            n.line_or(r.line),
            format!("{key} = \"{name}\" allows TLS below 1.2"),
        ));
    }
}

fn cloudfront_allow_http(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (default, ordered, key) = if is_cfn(r) {
        (
            "DistributionConfig.DefaultCacheBehavior",
            "DistributionConfig.CacheBehaviors",
            "ViewerProtocolPolicy",
        )
    } else {
        (
            "default_cache_behavior",
            "ordered_cache_behavior",
            "viewer_protocol_policy",
        )
    };
    let mut behaviors: Vec<(String, &Node)> = Vec::new();
    if let Attr::Known(d) = get(r, default) {
        behaviors.extend(d.items().map(|b| (default.to_owned(), b)));
    }
    if let Attr::Known(list) = get(r, ordered) {
        for b in list.items() {
            let path = ["path_pattern", "PathPattern"]
                .iter()
                .find_map(|k| at(b, k).str())
                .unwrap_or("?");
            behaviors.push((format!("behavior {path}"), b));
        }
    }
    for (name, b) in behaviors {
        if let Attr::Known(v) = at(b, key)
            && v.as_str() == Some("allow-all")
        {
            out.push(
                Hit::new(v.line_or(r.line), format!("{name}: {key} = \"allow-all\"")).key(name),
            );
        }
    }
}

const OLD_CLOUDFRONT: &[&str] = &["SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016"];

fn cloudfront_tls_version(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let cfn = is_cfn(r);
    let (cert, default_cert, version) = if cfn {
        (
            "DistributionConfig.ViewerCertificate",
            "CloudFrontDefaultCertificate",
            "MinimumProtocolVersion",
        )
    } else {
        (
            "viewer_certificate",
            "cloudfront_default_certificate",
            "minimum_protocol_version",
        )
    };
    let Attr::Known(vc) = get(r, cert) else {
        return;
    };
    let Some(vc) = vc.items().next() else {
        return;
    };
    // The default *.cloudfront.net certificate fixes the policy: nothing to choose.
    if at(vc, default_cert).bool() != Some(false) && !at(vc, default_cert).is_missing() {
        return;
    }
    match at(vc, version) {
        Attr::Known(v) => {
            if let Some(s) = v.as_str()
                && OLD_CLOUDFRONT.contains(&s)
            {
                out.push(Hit::new(v.line_or(r.line), format!("{version} = \"{s}\"")));
            }
        }
        Attr::Missing if !cfn => {
            let custom = ["acm_certificate_arn", "iam_certificate_id"]
                .iter()
                .any(|k| !at(vc, k).is_missing());
            if custom {
                out.push(Hit::new(
                    vc.line_or(r.line),
                    format!("{version} is not set (the default is TLSv1)"),
                ));
            }
        }
        _ => {}
    }
}

fn opensearch_https(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (enforce, policy) = if is_cfn(r) {
        (
            "DomainEndpointOptions.EnforceHTTPS",
            "DomainEndpointOptions.TLSSecurityPolicy",
        )
    } else {
        (
            "domain_endpoint_options.enforce_https",
            "domain_endpoint_options.tls_security_policy",
        )
    };
    require_true(r, out, enforce, false);
    if let Attr::Known(n) = get(r, policy)
        && n.as_str() == Some("Policy-Min-TLS-1-0-2019-07")
    {
        out.push(
            Hit::new(
                n.line_or(r.line),
                format!("{policy} = \"Policy-Min-TLS-1-0-2019-07\" allows TLS 1.0"),
            )
            .key("policy"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{cfn, run_on, tf};
    use super::outdated_elb_policy;
    use serde_json::json;

    #[test]
    fn elb_policies() {
        for old in [
            "ELBSecurityPolicy-2016-08",
            "ELBSecurityPolicy-TLS-1-0-2015-04",
            "ELBSecurityPolicy-TLS-1-1-2017-01",
            "ELBSecurityPolicy-FS-2018-06",
            "ELBSecurityPolicy-TLS13-1-0-2021-06",
        ] {
            assert!(outdated_elb_policy(old), "{old}");
        }
        for ok in [
            "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
            "ELBSecurityPolicy-FS-1-2-Res-2020-10",
            "ELBSecurityPolicy-TLS13-1-3-2021-06",
        ] {
            assert!(!outdated_elb_policy(ok), "{ok}");
        }
    }

    #[test]
    fn http_listener_redirect() {
        let redirect = tf(
            "aws_lb_listener",
            "l",
            &json!({"protocol": "HTTP", "default_action": [{"type": "redirect", "redirect": [{"protocol": "HTTPS", "port": "443"}]}]}),
        );
        assert!(run_on("aws-lb-listener-http", vec![redirect], 0).is_empty());
        let forward = cfn(
            "AWS::ElasticLoadBalancingV2::Listener",
            "L",
            &json!({"Protocol": "HTTP", "DefaultActions": [{"Type": "forward"}]}),
        );
        assert_eq!(run_on("aws-lb-listener-http", vec![forward], 0).len(), 1);
    }

    #[test]
    fn cloudfront_versions() {
        let custom = tf(
            "aws_cloudfront_distribution",
            "d",
            &json!({"viewer_certificate": [{"acm_certificate_arn": "arn", "ssl_support_method": "sni-only"}]}),
        );
        assert_eq!(
            run_on("aws-cloudfront-tls-version", vec![custom], 0).len(),
            1
        );
        let default = tf(
            "aws_cloudfront_distribution",
            "d",
            &json!({"viewer_certificate": [{"cloudfront_default_certificate": true}]}),
        );
        assert!(run_on("aws-cloudfront-tls-version", vec![default], 0).is_empty());
    }
}
