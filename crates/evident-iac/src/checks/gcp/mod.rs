//! Google Cloud checks on Terraform resources of the `google` provider (HCL and plan JSON share
//! kinds and body shapes).

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::{Ctx, IacCheck};
use crate::Options;
use crate::model::{Attr, Node, Resource, Value};

mod compute;
mod gke;
mod iam;
mod sql;
mod storage;

pub fn checks() -> Vec<IacCheck> {
    let mut checks = storage::checks();
    checks.extend(compute::checks());
    checks.extend(sql::checks());
    checks.extend(gke::checks());
    checks.extend(iam::checks());
    checks
}

/// The members that make a grant public: anyone, or anyone with a Google account.
pub(super) fn is_public_member(member: &str) -> bool {
    let m = member.trim();
    m == "allUsers" || m == "allAuthenticatedUsers"
}

/// An address range that means "the whole internet".
pub(super) fn is_world_cidr(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0" | "0.0.0.0" | "::")
}

/// The known strings of a list (or of a single string), each with its line; unknown items are
/// skipped.
pub(super) fn known_strings(node: &Node) -> Vec<(&str, u32)> {
    node.items()
        .filter_map(|n| n.as_str().map(|s| (s, n.line)))
        .collect()
}

/// The known strings at `path` (a list or one string); empty when missing or unknown.
pub(super) fn strings_at<'a>(node: &'a Node, path: &str) -> Vec<(&'a str, u32)> {
    node.lookup(path)
        .known()
        .map(known_strings)
        .unwrap_or_default()
}

/// A port or port range (`22`, `"22"`, `"1000-2000"`) as inclusive bounds.
pub(super) fn port_span(node: &Node) -> Option<(u32, u32)> {
    if let Some(s) = node.as_str() {
        let s = s.trim();
        if let Some((lo, hi)) = s.split_once('-') {
            let lo = lo.trim().parse().ok()?;
            let hi = hi.trim().parse().ok()?;
            return (lo <= hi).then_some((lo, hi));
        }
        let p = s.parse().ok()?;
        return Some((p, p));
    }
    let n = node.as_f64()?;
    (n >= 0.0 && n.fract() == 0.0 && n <= 65535.0).then_some((n as u32, n as u32))
}

/// The bucket-name globs of evidence and audit buckets.
pub(super) fn evidence_globs(options: &Options) -> GlobSet {
    const DEFAULTS: &[&str] = &["*evidence*", "*audit*", "*cloudtrail*"];
    let mut builder = GlobSetBuilder::new();
    let mut add = |pattern: &str| {
        if let Ok(glob) = GlobBuilder::new(pattern).case_insensitive(true).build() {
            builder.add(glob);
        }
    };
    if options.evidence_buckets.is_empty() {
        for p in DEFAULTS {
            add(p);
        }
    } else {
        for p in &options.evidence_buckets {
            add(p);
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

/// One grant found in an IAM policy: role, member and the line to report.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Grant {
    pub role: String,
    pub member: String,
    pub line: u32,
}

/// The grants of an IAM resource: `*_iam_member` (`role` + `member`), `*_iam_binding` (`role` +
/// `members`) and `*_iam_policy` (`policy_data`, as a known JSON string or a reference to a
/// `data.google_iam_policy` whose `binding` blocks are read). Unknown roles or members are
/// skipped.
pub(super) fn grants(ctx: &Ctx<'_>, r: &Resource) -> Vec<Grant> {
    let mut out = Vec::new();
    if r.kind.ends_with("_iam_policy") {
        match r.attr("policy_data") {
            Attr::Known(n) => {
                if let Some(text) = n.as_str() {
                    out.extend(policy_json_grants(text, n.line));
                }
            }
            Attr::Unknown => {
                for data in ctx.model.of_kind("data.google_iam_policy") {
                    if same_module(data, r) && r.refers_to("policy_data", data, &[]) {
                        out.extend(block_grants(&data.body, "binding", None));
                    }
                }
            }
            Attr::Missing => {}
        }
        return out;
    }
    out.extend(block_grants(&r.body, "", Some(r.line)));
    out
}

/// Grants written as `role` + `member`/`members` in `body` itself (`block` empty) or in each
/// of its `block` blocks.
fn block_grants(body: &Node, block: &str, line: Option<u32>) -> Vec<Grant> {
    let blocks: Vec<&Node> = if block.is_empty() {
        vec![body]
    } else {
        match body.lookup(block) {
            Attr::Known(n) => n.items().collect(),
            _ => Vec::new(),
        }
    };
    let mut out = Vec::new();
    for b in blocks {
        let Some(role) = b.lookup("role").str() else {
            continue;
        };
        for key in ["member", "members"] {
            for (member, member_line) in strings_at(b, key) {
                out.push(Grant {
                    role: role.to_owned(),
                    member: member.to_owned(),
                    line: if member_line > 0 {
                        member_line
                    } else {
                        line.unwrap_or(0)
                    },
                });
            }
        }
    }
    out
}

/// Grants of an IAM policy document as JSON (`{"bindings": [{"role", "members"}]}`).
fn policy_json_grants(text: &str, line: u32) -> Vec<Grant> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for binding in doc
        .get("bindings")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(role) = binding.get("role").and_then(serde_json::Value::as_str) else {
            continue;
        };
        for member in binding
            .get("members")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
        {
            out.push(Grant {
                role: role.to_owned(),
                member: member.to_owned(),
                line,
            });
        }
    }
    out
}

/// Two Terraform resources of the same module instance (plan JSON has no modules to tell apart).
fn same_module(a: &Resource, b: &Resource) -> bool {
    a.module.as_ref().map(|m| &m.address) == b.module.as_ref().map(|m| &m.address)
}

/// Not written: missing, null, or an empty block list (plan JSON writes unset blocks as `[]`).
pub(super) fn absent(a: Attr<'_>) -> bool {
    match a {
        Attr::Missing => true,
        Attr::Unknown => false,
        Attr::Known(n) => match &n.value {
            Value::Null => true,
            Value::List(l) => l.is_empty(),
            Value::Map(m) => m.is_empty(),
            _ => false,
        },
    }
}

#[cfg(test)]
pub(super) mod test_support {
    use super::super::{Ctx, Hit};
    use crate::Options;
    use crate::model::{Model, Platform, Resource};

    /// A Terraform resource from JSON.
    pub fn res(kind: &str, body: &serde_json::Value) -> Resource {
        Resource::from_json(Platform::Terraform, kind, &format!("{kind}.x"), body)
    }

    /// Runs the check `id` on `target` with `others` in the model.
    pub fn run_with(
        id: &str,
        target: &Resource,
        others: &[Resource],
        options: &Options,
    ) -> Vec<Hit> {
        let check = super::checks()
            .into_iter()
            .find(|c| c.meta.id == id)
            .unwrap_or_else(|| panic!("no check {id}"));
        assert!(
            check.kinds.contains(&target.kind.as_str()),
            "{id} does not apply to {}",
            target.kind
        );
        let mut all = vec![target.clone()];
        all.extend(others.iter().cloned());
        let model = Model::new(all);
        let ctx = Ctx {
            model: &model,
            options,
        };
        let mut hits = Vec::new();
        (check.run)(&ctx, target, &mut hits);
        hits
    }

    pub fn run(id: &str, target: &Resource) -> Vec<Hit> {
        run_with(id, target, &[], &Options::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ports_and_ranges_parse() {
        assert_eq!(port_span(&Node::from_json(&json!("22"), 1)), Some((22, 22)));
        assert_eq!(
            port_span(&Node::from_json(&json!(3389), 1)),
            Some((3389, 3389))
        );
        assert_eq!(
            port_span(&Node::from_json(&json!("1000-2000"), 1)),
            Some((1000, 2000))
        );
        assert_eq!(port_span(&Node::from_json(&json!("20-10"), 1)), None);
        assert_eq!(port_span(&Node::from_json(&json!("ssh"), 1)), None);
    }

    #[test]
    fn evidence_globs_default_and_custom() {
        let defaults = evidence_globs(&Options::default());
        assert!(defaults.is_match("acme-Audit-logs"));
        assert!(defaults.is_match("soc2-evidence"));
        assert!(!defaults.is_match("static-assets"));
        let custom = evidence_globs(&Options {
            evidence_buckets: vec!["*-proof".to_owned()],
            ..Options::default()
        });
        assert!(custom.is_match("acme-proof"));
        assert!(!custom.is_match("acme-audit"));
    }

    #[test]
    fn policy_json_is_read() {
        let g = policy_json_grants(
            r#"{"bindings":[{"role":"roles/viewer","members":["allUsers","user:a@b.c"]}]}"#,
            4,
        );
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].member, "allUsers");
        assert_eq!(g[0].line, 4);
    }
}
