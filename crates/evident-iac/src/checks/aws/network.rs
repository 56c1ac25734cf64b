//! Network exposure: security groups open to the internet, public databases, public IPs and
//! public Kubernetes API endpoints.

use evident_core::Severity;

use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Attr, Node, Resource, Value};

use super::{Flag, NETWORK, at, forbid_true, get, is_cfn, setting};
use crate::checks::common::is_any_cidr;

const SG_KINDS: &[&str] = &[
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
];

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "aws-sg-admin-port-open",
            "Security group allows SSH or RDP from the internet",
            Severity::High,
            NETWORK,
            "SSH and RDP open to 0.0.0.0/0 or ::/0 are scanned and brute-forced within minutes of going live; remote administration should come through a VPN, a bastion or Session Manager.",
            "Restrict the rule's `cidr_blocks` / `cidr_ipv4` (CloudFormation: `CidrIp`) to the admin network, or remove it and use AWS Systems Manager Session Manager.",
            SG_KINDS,
            admin_ports,
        ),
        check(
            "aws-sg-database-port-open",
            "Security group allows a database port from the internet",
            Severity::High,
            NETWORK,
            "Database and cache ports (MySQL, PostgreSQL, SQL Server, Oracle, MongoDB, Redis, Elasticsearch) reachable from anywhere expose the data store to credential guessing and to exploits of the engine itself.",
            "Allow the database port only from the application's security group (`source_security_group_id` / `referenced_security_group_id`) or private CIDRs, never 0.0.0.0/0 or ::/0.",
            SG_KINDS,
            database_ports,
        ),
        check(
            "aws-sg-all-ports-open",
            "Security group allows all ports or all protocols from the internet",
            Severity::Critical,
            NETWORK,
            "An ingress rule for every port (or protocol -1) from 0.0.0.0/0 or ::/0 removes the network boundary entirely: every service on the attached instances is reachable from the internet.",
            "Replace the rule with rules for the specific ports the service needs (e.g. `from_port = 443  to_port = 443  protocol = \"tcp\"`), from the narrowest source possible.",
            SG_KINDS,
            all_ports,
        ),
        check(
            "aws-rds-public",
            "RDS database is publicly accessible",
            Severity::High,
            NETWORK,
            "A publicly accessible DB instance gets a public DNS name and IP, so the only thing between the internet and the database is its security group and password.",
            "Set `publicly_accessible = false` and reach the database from inside the VPC (CloudFormation: `PubliclyAccessible: false`).",
            &[
                "aws_db_instance",
                "aws_rds_cluster_instance",
                "AWS::RDS::DBInstance",
            ],
            publicly_accessible,
        ),
        check(
            "aws-redshift-public",
            "Redshift cluster is publicly accessible",
            Severity::High,
            NETWORK,
            "A publicly accessible Redshift cluster can be reached from the internet, exposing the warehouse to anyone who obtains or guesses a credential.",
            "Set `publicly_accessible = false` on `aws_redshift_cluster` (CloudFormation: `PubliclyAccessible: false`).",
            &["aws_redshift_cluster", "AWS::Redshift::Cluster"],
            publicly_accessible,
        ),
        check(
            "aws-ec2-public-ip",
            "EC2 instance gets a public IP address",
            Severity::Medium,
            NETWORK,
            "An instance with a public IP is directly addressable from the internet, so a single permissive security group rule exposes it; workloads belong in private subnets behind a load balancer.",
            "Set `associate_public_ip_address = false` (on `aws_instance`, or in `network_interfaces` of `aws_launch_template`; CloudFormation: `AssociatePublicIpAddress: false`) and place the instance in a private subnet.",
            &[
                "aws_instance",
                "aws_launch_template",
                "AWS::EC2::Instance",
                "AWS::EC2::LaunchTemplate",
            ],
            ec2_public_ip,
        ),
        check(
            "aws-subnet-public-ip-on-launch",
            "Subnet assigns public IP addresses to instances automatically",
            Severity::Low,
            NETWORK,
            "With map_public_ip_on_launch every instance started in the subnet gets a public address, whether or not it should be reachable from the internet.",
            "Set `map_public_ip_on_launch = false` on `aws_subnet` (CloudFormation: `MapPublicIpOnLaunch: false`) and assign public addresses only where needed (Elastic IPs, load balancers).",
            &["aws_subnet", "AWS::EC2::Subnet"],
            map_public_ip_on_launch,
        ),
        check(
            "aws-eks-public-endpoint",
            "EKS API endpoint is open to the whole internet",
            Severity::Medium,
            NETWORK,
            "The Kubernetes API endpoint is public by default and reachable from any address, so the cluster's control plane is exposed to credential attacks and to any future API server vulnerability.",
            "Set `endpoint_public_access = false` and `endpoint_private_access = true` in `vpc_config`, or keep it public but restrict `public_access_cidrs` to your networks (CloudFormation: `ResourcesVpcConfig.EndpointPublicAccess` / `PublicAccessCidrs`).",
            &["aws_eks_cluster", "AWS::EKS::Cluster"],
            eks_public_endpoint,
        ),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    All,
    Tcp,
    Udp,
    Other,
}

/// An ingress rule from the internet, with known protocol and ports.
#[derive(Debug, Clone, PartialEq)]
struct OpenRule {
    line: u32,
    proto: Proto,
    from: i64,
    to: i64,
    source: String,
}

impl OpenRule {
    fn all_ports(&self) -> bool {
        self.proto == Proto::All
            || (matches!(self.proto, Proto::Tcp | Proto::Udp) && self.from <= 1 && self.to >= 65535)
    }

    fn tcp_includes(&self, port: i64) -> bool {
        self.proto == Proto::Tcp && self.from <= port && port <= self.to
    }

    fn describe(&self) -> String {
        match self.proto {
            Proto::All => format!("ingress from {} on all protocols", self.source),
            _ if self.from == self.to => {
                format!("ingress from {} to port {}", self.source, self.from)
            }
            _ => format!(
                "ingress from {} to ports {}-{}",
                self.source, self.from, self.to
            ),
        }
    }

    fn key(&self) -> String {
        format!("{:?} {}-{} {}", self.proto, self.from, self.to, self.source)
    }
}

fn proto(n: &Node) -> Option<Proto> {
    let p = match &n.value {
        Value::String(s) => s.to_ascii_lowercase(),
        Value::Number(x) => format!("{x}"),
        _ => return None,
    };
    Some(match p.as_str() {
        "-1" | "all" => Proto::All,
        "tcp" | "6" => Proto::Tcp,
        "udp" | "17" => Proto::Udp,
        _ => Proto::Other,
    })
}

/// Reads one rule (a TF `ingress` block, a rule resource body, a CFN ingress entry).
fn read_rule(
    rule: &Node,
    fallback_line: u32,
    (p_key, from_key, to_key): (&str, &str, &str),
    cidr_keys: &[&str],
    out: &mut Vec<OpenRule>,
) {
    let Some(proto) = at(rule, p_key).known().and_then(proto) else {
        return;
    };
    let port = |k: &str| at(rule, k).number().map(|x| x as i64);
    let (from, to) = if proto == Proto::All {
        (0, 65535)
    } else {
        match (port(from_key), port(to_key)) {
            (Some(f), Some(t)) => (if f < 0 { 0 } else { f }, if t < 0 { 65535 } else { t }),
            _ => return,
        }
    };
    for key in cidr_keys {
        if let Attr::Known(n) = at(rule, key) {
            for source in n.strings() {
                if is_any_cidr(source) {
                    out.push(OpenRule {
                        line: n.line_or(rule.line_or(fallback_line)),
                        proto,
                        from,
                        to,
                        source: source.to_owned(),
                    });
                }
            }
        }
    }
}

/// The rules of a security group resource that let the internet in.
fn open_rules(r: &Resource) -> Vec<OpenRule> {
    let mut out = Vec::new();
    match r.kind.as_str() {
        "aws_security_group" => {
            if let Attr::Known(list) = get(r, "ingress") {
                for rule in list.items() {
                    read_rule(
                        rule,
                        r.line,
                        ("protocol", "from_port", "to_port"),
                        &["cidr_blocks", "ipv6_cidr_blocks"],
                        &mut out,
                    );
                }
            }
        }
        "aws_security_group_rule" if get(r, "type").str() == Some("ingress") => {
            read_rule(
                &r.body,
                r.line,
                ("protocol", "from_port", "to_port"),
                &["cidr_blocks", "ipv6_cidr_blocks"],
                &mut out,
            );
        }
        "aws_vpc_security_group_ingress_rule" => read_rule(
            &r.body,
            r.line,
            ("ip_protocol", "from_port", "to_port"),
            &["cidr_ipv4", "cidr_ipv6"],
            &mut out,
        ),
        "AWS::EC2::SecurityGroup" => {
            if let Attr::Known(list) = get(r, "SecurityGroupIngress") {
                for rule in list.items() {
                    read_rule(
                        rule,
                        r.line,
                        ("IpProtocol", "FromPort", "ToPort"),
                        &["CidrIp", "CidrIpv6"],
                        &mut out,
                    );
                }
            }
        }
        "AWS::EC2::SecurityGroupIngress" => read_rule(
            &r.body,
            r.line,
            ("IpProtocol", "FromPort", "ToPort"),
            &["CidrIp", "CidrIpv6"],
            &mut out,
        ),
        _ => {}
    }
    out
}

const ADMIN_PORTS: &[(i64, &str)] = &[(22, "SSH"), (3389, "RDP")];
const DATABASE_PORTS: &[(i64, &str)] = &[
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (27017, "MongoDB"),
    (6379, "Redis"),
    (9200, "Elasticsearch/OpenSearch"),
    (5439, "Redshift"),
];

/// Reports rules (other than all-ports ones, reported on their own) reaching `ports`.
fn ports_open(r: &Resource, out: &mut Vec<Hit>, ports: &[(i64, &str)]) {
    for rule in open_rules(r) {
        if rule.all_ports() {
            continue;
        }
        let hit: Vec<&(i64, &str)> = ports
            .iter()
            .filter(|(p, _)| rule.tcp_includes(*p))
            .collect();
        if hit.is_empty() {
            continue;
        }
        let names: Vec<String> = hit.iter().map(|(p, n)| format!("{n} {p}")).collect();
        out.push(
            Hit::new(
                rule.line,
                format!("{} ({})", rule.describe(), names.join(", ")),
            )
            .key(rule.key()),
        );
    }
}

fn admin_ports(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    ports_open(r, out, ADMIN_PORTS);
}

fn database_ports(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    ports_open(r, out, DATABASE_PORTS);
}

fn all_ports(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for rule in open_rules(r) {
        if rule.all_ports() {
            out.push(Hit::new(rule.line, rule.describe()).key(rule.key()));
        }
    }
}

/// `publicly_accessible` (CloudFormation: `PubliclyAccessible`) is true.
fn publicly_accessible(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    forbid_true(
        r,
        out,
        setting(r, "publicly_accessible", "PubliclyAccessible"),
    );
}

/// `map_public_ip_on_launch` (CloudFormation: `MapPublicIpOnLaunch`) is true.
fn map_public_ip_on_launch(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    forbid_true(
        r,
        out,
        setting(r, "map_public_ip_on_launch", "MapPublicIpOnLaunch"),
    );
}

fn ec2_public_ip(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (list, key) = match r.kind.as_str() {
        "aws_instance" => return forbid_true(r, out, "associate_public_ip_address"),
        "aws_launch_template" => ("network_interfaces", "associate_public_ip_address"),
        "AWS::EC2::Instance" => ("NetworkInterfaces", "AssociatePublicIpAddress"),
        _ => (
            "LaunchTemplateData.NetworkInterfaces",
            "AssociatePublicIpAddress",
        ),
    };
    if let Attr::Known(list) = get(r, list) {
        for (i, ni) in list.items().enumerate() {
            if let Attr::Known(n) = at(ni, key)
                && n.as_bool() == Some(true)
            {
                out.push(
                    Hit::new(
                        n.line_or(r.line),
                        format!("network interface {i}: {key} is true"),
                    )
                    .key(i.to_string()),
                );
            }
        }
    }
}

fn eks_public_endpoint(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let (cfg, public, cidrs) = if is_cfn(r) {
        (
            "ResourcesVpcConfig",
            "EndpointPublicAccess",
            "PublicAccessCidrs",
        )
    } else {
        (
            "vpc_config",
            "endpoint_public_access",
            "public_access_cidrs",
        )
    };
    let Attr::Known(vpc) = get(r, cfg) else {
        return;
    };
    let Some(vpc) = vpc.items().next() else {
        return;
    };
    if vpc.is_unknown() {
        return;
    }
    match super::flag_at(vpc, public) {
        Flag::Off(_) | Flag::Unknown => return,
        Flag::On | Flag::Missing => {}
    }
    match at(vpc, cidrs) {
        Attr::Missing => out.push(Hit::new(
            r.line_of(&format!("{cfg}.{public}")),
            format!("the API endpoint is public and {cidrs} is not set (the default is 0.0.0.0/0)"),
        )),
        Attr::Known(n) if n.strings().contains(&"0.0.0.0/0") => out.push(Hit::new(
            n.line_or(r.line),
            format!("the API endpoint is public and {cidrs} includes 0.0.0.0/0"),
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{cfn, run_on, tf};
    use serde_json::json;

    #[test]
    fn port_ranges_and_protocols() {
        let sg = tf(
            "aws_security_group",
            "s",
            &json!({"ingress": [
                {"from_port": 0, "to_port": 1024, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]},
                {"from_port": 3306, "to_port": 3306, "protocol": "6", "ipv6_cidr_blocks": ["::/0"]},
                {"from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"]},
                {"from_port": 0, "to_port": 0, "protocol": "-1", "cidr_blocks": ["0.0.0.0/0"]},
                {"from_port": 22, "to_port": 22, "protocol": "udp", "cidr_blocks": ["0.0.0.0/0"]}
            ]}),
        );
        let admin = run_on("aws-sg-admin-port-open", vec![sg.clone()], 0);
        assert_eq!(admin.len(), 1, "{admin:?}");
        assert!(admin[0].message.contains("0-1024"));
        assert_eq!(
            run_on("aws-sg-database-port-open", vec![sg.clone()], 0).len(),
            1
        );
        assert_eq!(run_on("aws-sg-all-ports-open", vec![sg], 0).len(), 1);
    }

    #[test]
    fn rule_resources_and_cfn() {
        let egress = tf(
            "aws_security_group_rule",
            "e",
            &json!({"type": "egress", "from_port": 0, "to_port": 65535, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}),
        );
        assert!(run_on("aws-sg-all-ports-open", vec![egress], 0).is_empty());
        let v = tf(
            "aws_vpc_security_group_ingress_rule",
            "v",
            &json!({"ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"}),
        );
        assert_eq!(run_on("aws-sg-all-ports-open", vec![v], 0).len(), 1);
        let c = cfn(
            "AWS::EC2::SecurityGroup",
            "S",
            &json!({"SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": "3389", "ToPort": 3389, "CidrIp": "0.0.0.0/0"}]}),
        );
        assert_eq!(run_on("aws-sg-admin-port-open", vec![c], 0).len(), 1);
    }

    #[test]
    fn eks_endpoint() {
        let open = tf(
            "aws_eks_cluster",
            "c",
            &json!({"vpc_config": [{"subnet_ids": ["a"]}]}),
        );
        assert_eq!(run_on("aws-eks-public-endpoint", vec![open], 0).len(), 1);
        let restricted = tf(
            "aws_eks_cluster",
            "c",
            &json!({"vpc_config": [{"public_access_cidrs": ["203.0.113.0/24"]}]}),
        );
        assert!(run_on("aws-eks-public-endpoint", vec![restricted], 0).is_empty());
        let private = tf(
            "aws_eks_cluster",
            "c",
            &json!({"vpc_config": [{"endpoint_public_access": false}]}),
        );
        assert!(run_on("aws-eks-public-endpoint", vec![private], 0).is_empty());
    }
}
