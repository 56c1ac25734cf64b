//! Google Cloud checks on Terraform resources of the `google` provider (HCL and plan JSON share
//! kinds and body shapes).

use super::common::strings_at;
use super::{Ctx, IacCheck};
use crate::model::{Attr, Node, Resource};

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
                    if data.same_module(r) && r.refers_to("policy_data", data, &[]) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
