//! AWS checks for Terraform (HCL and plan JSON) and, where noted, CloudFormation: one submodule
//! per area. Shared helpers here read settings the way every check must: a plan's `null` is a
//! missing value, an unknown value is never judged, and a related resource that cannot be told
//! apart (linked through a variable or an unknown) keeps a "missing" check silent.

use crate::model::{Attr, Model, Node, Platform, Resource, Value};

use super::IacCheck;

mod compute;
mod data;
mod iam;
mod logging;
mod network;
mod policy;
mod s3;
mod tls;

pub fn checks() -> Vec<IacCheck> {
    let mut all = s3::checks();
    all.extend(data::checks());
    all.extend(network::checks());
    all.extend(iam::checks());
    all.extend(logging::checks());
    all.extend(tls::checks());
    all.extend(compute::checks());
    all
}

/// Controls of encryption at rest.
const AT_REST: &[&str] = &[
    "soc2:CC6.1",
    "iso27001:A.8.24",
    "nist-800-53:SC-28",
    "nist-800-53:SC-13",
];
/// Controls of network exposure.
const NETWORK: &[&str] = &[
    "soc2:CC6.6",
    "iso27001:A.8.20",
    "iso27001:A.8.22",
    "nist-800-53:SC-7",
];
/// Controls of least privilege.
const LEAST_PRIVILEGE: &[&str] = &[
    "soc2:CC6.3",
    "iso27001:A.5.15",
    "iso27001:A.8.2",
    "nist-800-53:AC-6",
];
/// Controls of audit logging.
const LOGGING: &[&str] = &[
    "soc2:CC7.2",
    "iso27001:A.8.15",
    "nist-800-53:AU-2",
    "nist-800-53:AU-12",
];
/// Controls of encryption in transit.
const IN_TRANSIT: &[&str] = &[
    "soc2:CC6.7",
    "iso27001:A.8.24",
    "nist-800-53:SC-8",
    "nist-800-53:SC-13",
];
/// Controls of backup and recovery.
const BACKUP: &[&str] = &[
    "soc2:CC9.1",
    "soc2:CC7.5",
    "iso27001:A.8.13",
    "nist-800-53:CP-9",
    "nist-800-53:CP-10",
];
/// Controls of secure configuration.
const HARDENING: &[&str] = &[
    "soc2:CC6.1",
    "soc2:CC7.1",
    "iso27001:A.8.9",
    "nist-800-53:CM-6",
];

/// Is the resource from CloudFormation (else Terraform HCL or plan)?
fn is_cfn(r: &Resource) -> bool {
    r.platform == Platform::CloudFormation
}

/// The name of a setting in the resource's language: `terraform` in Terraform (HCL and plan),
/// `cloudformation` in CloudFormation.
fn setting<'a>(r: &Resource, terraform: &'a str, cloudformation: &'a str) -> &'a str {
    if is_cfn(r) { cloudformation } else { terraform }
}

/// Looks up `path` under `node`, a plan's `null` counting as missing.
fn at<'a>(node: &'a Node, path: &str) -> Attr<'a> {
    node.lookup(path).null_as_missing()
}

/// Looks up `path` in a resource's body, a plan's `null` counting as missing.
fn get<'a>(r: &'a Resource, path: &str) -> Attr<'a> {
    at(&r.body, path)
}

/// A boolean setting as a check sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flag {
    On,
    /// Explicitly off, on this line.
    Off(u32),
    Missing,
    /// Unknown, or a value that is not a boolean: never judged.
    Unknown,
}

fn flag_at(node: &Node, path: &str) -> Flag {
    match at(node, path) {
        Attr::Missing => Flag::Missing,
        Attr::Unknown => Flag::Unknown,
        Attr::Known(n) => match n.as_bool() {
            Some(true) => Flag::On,
            Some(false) => Flag::Off(n.line),
            None => Flag::Unknown,
        },
    }
}

fn flag(r: &Resource, path: &str) -> Flag {
    flag_at(&r.body, path)
}

/// Reports when the boolean at `path` is false, or missing while its default is false.
fn require_true(r: &Resource, out: &mut Vec<super::Hit>, path: &str, default_off: bool) {
    match flag(r, path) {
        Flag::Off(line) => out.push(super::Hit::new(
            if line > 0 { line } else { r.line },
            format!("{path} is false"),
        )),
        Flag::Missing if default_off => out.push(super::Hit::new(
            r.line,
            format!("{path} is not set (the default is off)"),
        )),
        _ => {}
    }
}

/// Reports when the boolean at `path` is explicitly true (an opt-in to something insecure).
fn forbid_true(r: &Resource, out: &mut Vec<super::Hit>, path: &str) {
    if let Attr::Known(n) = get(r, path)
        && n.as_bool() == Some(true)
    {
        out.push(super::Hit::new(
            n.line_or(r.line),
            format!("{path} is true"),
        ));
    }
}

/// A known string at `path`.
fn string<'a>(r: &'a Resource, path: &str) -> Option<&'a str> {
    get(r, path).str()
}

/// Is `path` known to hold something (a non-empty string, a list, a block…), or unknown?
/// `None` when unknown.
fn present(r: &Resource, path: &str) -> Option<bool> {
    match get(r, path) {
        Attr::Missing => Some(false),
        Attr::Unknown => None,
        Attr::Known(n) => Some(n.is_set() || n.is_unknown()),
    }
}

/// The resources of `kind` that point at `target` through `path`.
#[derive(Debug)]
enum Link<'a> {
    Found(Vec<&'a Resource>),
    /// None found, but one of that kind points somewhere that cannot be told (a variable, an
    /// unknown without references): it may be `target`'s.
    Unsure,
    Absent,
}

fn link<'a>(
    model: &'a Model,
    kind: &'a str,
    path: &'a str,
    target: &'a Resource,
    names: &'a [&'a str],
) -> Link<'a> {
    let found: Vec<&Resource> = model.linked(kind, path, target, names).collect();
    if !found.is_empty() {
        return Link::Found(found);
    }
    let unsure = model.of_kind(kind).any(|r| {
        r.same_scope(target)
            && match r.body.get(path) {
                Some(n) if n.is_unknown() => !n.refs().iter().any(|x| names_resource(model, r, x)),
                Some(n) => n.as_str().is_none() && !matches!(n.value, Value::Null),
                None => false,
            }
    });
    if unsure { Link::Unsure } else { Link::Absent }
}

/// Does the reference `reference` (as written in `from`) name a resource of the model in the
/// same scope (so it can be told which one it is)?
fn names_resource(model: &Model, from: &Resource, reference: &str) -> bool {
    model.resources.iter().any(|r| {
        if !r.same_scope(from) {
            return false;
        }
        let address = match &r.module {
            Some(m) => r
                .address
                .strip_prefix(m.address.as_str())
                .and_then(|s| s.strip_prefix('.'))
                .unwrap_or(&r.address),
            None => r.address.as_str(),
        };
        let base = address.split('[').next().unwrap_or(address);
        [address, base].iter().any(|a| {
            reference == *a
                || reference
                    .strip_prefix(*a)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
    })
}

/// The value of tag `key`: Terraform `tags`/`tags_all` maps, CloudFormation `Tags` lists.
fn tag<'a>(r: &'a Resource, key: &str) -> Option<&'a str> {
    if is_cfn(r) {
        let tags = get(r, "Tags").known()?;
        return tags.items().find_map(|t| {
            (at(t, "Key").str() == Some(key))
                .then(|| at(t, "Value").str())
                .flatten()
        });
    }
    ["tags", "tags_all"].iter().find_map(|m| {
        r.body
            .get(m)
            .and_then(|t| t.get(key))
            .and_then(Node::as_str)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;
    use crate::checks::Hit;
    use crate::checks::common::test_support::run_in;

    /// Runs check `id` on `target` within a model of `resources` (target included).
    pub(super) fn run_on(id: &str, resources: Vec<Resource>, target: usize) -> Vec<Hit> {
        run_with(id, resources, target, &Options::default())
    }

    pub(super) fn run_with(
        id: &str,
        resources: Vec<Resource>,
        target: usize,
        options: &Options,
    ) -> Vec<Hit> {
        let model = Model::new(resources);
        run_in(&model, id, &model.resources[target], options)
    }

    pub(super) fn tf(kind: &str, name: &str, body: &serde_json::Value) -> Resource {
        Resource::from_json(Platform::Terraform, kind, &format!("{kind}.{name}"), body)
    }

    pub(super) fn cfn(kind: &str, id: &str, body: &serde_json::Value) -> Resource {
        Resource::from_json(Platform::CloudFormation, kind, id, body)
    }

    /// Replaces the value at top-level `key` with an unknown depending on `refs`.
    pub(super) fn unknown(mut r: Resource, key: &str, refs: &[&str]) -> Resource {
        if let Value::Map(entries) = &mut r.body.value {
            let node = Node::unknown(1, refs.iter().map(|s| (*s).to_owned()).collect());
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = node,
                None => entries.push((key.to_owned(), node)),
            }
        }
        r
    }

    #[test]
    fn ids_are_unique_and_prefixed() {
        let all = checks();
        let mut ids = std::collections::BTreeSet::new();
        for c in &all {
            assert!(c.meta.id.starts_with("aws-"), "{}", c.meta.id);
            assert!(ids.insert(c.meta.id.clone()), "duplicate {}", c.meta.id);
        }
        assert!(all.len() >= 45, "{} checks", all.len());
        let cfn = all
            .iter()
            .filter(|c| c.kinds.iter().any(|k| k.starts_with("AWS::")))
            .count();
        assert!(cfn >= 15, "{cfn} CloudFormation-aware checks");
    }

    #[test]
    fn plan_null_is_missing() {
        let r = tf(
            "aws_kms_key",
            "k",
            &serde_json::json!({"enable_key_rotation": null}),
        );
        assert_eq!(flag(&r, "enable_key_rotation"), Flag::Missing);
        let r = tf(
            "aws_kms_key",
            "k",
            &serde_json::json!({"enable_key_rotation": "false"}),
        );
        assert_eq!(flag(&r, "enable_key_rotation"), Flag::Off(1));
    }

    #[test]
    fn links_through_a_variable_are_unsure() {
        use serde_json::json;
        let bucket = tf("aws_s3_bucket", "b", &json!({"bucket": "data"}));
        let pab = unknown(
            tf("aws_s3_bucket_public_access_block", "p", &json!({})),
            "bucket",
            &["var.bucket"],
        );
        let model = Model::new(vec![bucket.clone(), pab]);
        assert!(matches!(
            link(
                &model,
                "aws_s3_bucket_public_access_block",
                "bucket",
                &bucket,
                &["data"]
            ),
            Link::Unsure
        ));
        let other = tf("aws_s3_bucket", "o", &json!({"bucket": "other"}));
        let pab = unknown(
            tf("aws_s3_bucket_public_access_block", "p", &json!({})),
            "bucket",
            &["aws_s3_bucket.o.id"],
        );
        let model = Model::new(vec![bucket.clone(), other, pab]);
        assert!(matches!(
            link(
                &model,
                "aws_s3_bucket_public_access_block",
                "bucket",
                &bucket,
                &["data"]
            ),
            Link::Absent
        ));
    }
}
