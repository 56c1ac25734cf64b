//! Azure checks on Terraform resources of the `azurerm` provider (HCL and plan JSON share kinds
//! and body shapes).

use super::IacCheck;
use crate::model::{Attr, Node, Value};

mod app;
mod compute;
mod database;
mod keyvault;
mod network;
mod storage;

pub fn checks() -> Vec<IacCheck> {
    let mut checks = storage::checks();
    checks.extend(network::checks());
    checks.extend(database::checks());
    checks.extend(keyvault::checks());
    checks.extend(compute::checks());
    checks.extend(app::checks());
    checks
}

/// A source that means "any address on the internet" in NSG rules and network ACLs.
pub(super) fn is_internet(source: &str) -> bool {
    let s = source.trim();
    matches!(s, "*" | "0.0.0.0/0" | "0.0.0.0" | "::/0")
        || s.eq_ignore_ascii_case("internet")
        || s.eq_ignore_ascii_case("any")
}

/// The known strings of a list (or of a single string), each with its line; unknown items are
/// skipped.
pub(super) fn strings_at<'a>(node: &'a Node, path: &str) -> Vec<(&'a str, u32)> {
    node.lookup(path)
        .known()
        .map(|n| {
            n.items()
                .filter_map(|i| i.as_str().map(|s| (s, i.line)))
                .collect()
        })
        .unwrap_or_default()
}

/// A port, a port range (`"1000-2000"`) or `*` as inclusive bounds.
pub(super) fn port_span(node: &Node) -> Option<(u32, u32)> {
    if let Some(s) = node.as_str() {
        let s = s.trim();
        if s == "*" {
            return Some((0, 65535));
        }
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

/// A node's line, or `fallback` when it has none.
pub(super) fn line_or(node: &Node, fallback: u32) -> u32 {
    if node.line > 0 { node.line } else { fallback }
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
    pub fn run_with(id: &str, target: &Resource, others: &[Resource]) -> Vec<Hit> {
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
        let options = Options::default();
        let ctx = Ctx {
            model: &model,
            options: &options,
        };
        let mut hits = Vec::new();
        (check.run)(&ctx, target, &mut hits);
        hits
    }

    pub fn run(id: &str, target: &Resource) -> Vec<Hit> {
        run_with(id, target, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ports_ranges_and_star() {
        assert_eq!(
            port_span(&Node::from_json(&json!("*"), 1)),
            Some((0, 65535))
        );
        assert_eq!(
            port_span(&Node::from_json(&json!("20-25"), 1)),
            Some((20, 25))
        );
        assert_eq!(
            port_span(&Node::from_json(&json!("3389"), 1)),
            Some((3389, 3389))
        );
        assert_eq!(port_span(&Node::from_json(&json!("x"), 1)), None);
    }

    #[test]
    fn internet_sources() {
        for s in ["*", "0.0.0.0/0", "Internet", "Any", "any"] {
            assert!(is_internet(s), "{s}");
        }
        for s in ["10.0.0.0/8", "VirtualNetwork", "AzureLoadBalancer"] {
            assert!(!is_internet(s), "{s}");
        }
    }
}
