//! Helpers shared by the checks of several platforms: addresses that mean "the internet",
//! port ranges, string lists with their lines and evidence-bucket names. What only reads the
//! model (absent attributes, fallback lines, string lists) is on [`crate::model::Attr`] and
//! [`crate::model::Node`].

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::Options;
use crate::model::Node;

/// Is `cidr` exactly `0.0.0.0/0` or `::/0`, the blocks of every IPv4 or IPv6 address (AWS
/// security groups, Kubernetes source ranges)?
pub(crate) fn is_any_cidr(cidr: &str) -> bool {
    matches!(cidr, "0.0.0.0/0" | "::/0")
}

/// An address range that means "the whole internet" in Google Cloud source ranges and
/// authorized networks: [`is_any_cidr`], or the bare unspecified address `0.0.0.0` / `::`;
/// surrounding spaces are ignored.
pub(crate) fn is_world_cidr(cidr: &str) -> bool {
    let c = cidr.trim();
    is_any_cidr(c) || matches!(c, "0.0.0.0" | "::")
}

/// A source that means "any address on the internet" in Azure NSG rules and network ACLs:
/// [`is_any_cidr`], `0.0.0.0`, `*`, or the service tags `Internet` and `Any` (any case);
/// surrounding spaces are ignored.
pub(crate) fn is_internet(source: &str) -> bool {
    let s = source.trim();
    is_any_cidr(s)
        || matches!(s, "*" | "0.0.0.0")
        || s.eq_ignore_ascii_case("internet")
        || s.eq_ignore_ascii_case("any")
}

/// A port or port range (`22`, `"22"`, `"1000-2000"`) as inclusive bounds; `None` for
/// anything else, a reversed range included.
pub(crate) fn port_span(node: &Node) -> Option<(u32, u32)> {
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

/// [`port_span`], with `*` meaning every port (Azure).
pub(crate) fn port_span_or_star(node: &Node) -> Option<(u32, u32)> {
    if node.as_str().is_some_and(|s| s.trim() == "*") {
        return Some((0, 65535));
    }
    port_span(node)
}

/// The known strings at `path` of `node` (a list or one string), each with its line; empty
/// when missing or unknown, unknown items skipped.
pub(crate) fn strings_at<'a>(node: &'a Node, path: &str) -> Vec<(&'a str, u32)> {
    node.lookup(path)
        .known()
        .map(|n| {
            n.items()
                .filter_map(|i| i.as_str().map(|s| (s, i.line)))
                .collect()
        })
        .unwrap_or_default()
}

/// The bucket names treated as evidence or audit buckets when `evidence_buckets` is not set.
const EVIDENCE_BUCKETS: &[&str] = &["*evidence*", "*audit*", "*cloudtrail*"];

/// The case-insensitive name globs of evidence and audit buckets: `evidence_buckets` from
/// evident.toml, else [`EVIDENCE_BUCKETS`]. Invalid patterns are skipped.
pub(crate) fn evidence_globs(options: &Options) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    let patterns: Vec<&str> = if options.evidence_buckets.is_empty() {
        EVIDENCE_BUCKETS.to_vec()
    } else {
        options
            .evidence_buckets
            .iter()
            .map(String::as_str)
            .collect()
    };
    for p in patterns {
        if let Ok(glob) = GlobBuilder::new(p).case_insensitive(true).build() {
            builder.add(glob);
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

/// Builders and runners for the checks' unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::Options;
    use crate::checks::{Ctx, Hit};
    use crate::model::{Model, Platform, Resource};

    /// A Terraform resource from JSON, at address `<kind>.x`.
    pub fn res(kind: &str, body: &serde_json::Value) -> Resource {
        Resource::from_json(Platform::Terraform, kind, &format!("{kind}.x"), body)
    }

    /// Options that approve `registry.example.com` and `docker.io/library` images.
    pub fn registry_options() -> Options {
        Options {
            approved_registries: vec![
                "registry.example.com".to_owned(),
                "docker.io/library".to_owned(),
            ],
            ..Options::default()
        }
    }

    /// Runs the check `id` on `target` (which must be one of its kinds) within `model`.
    pub fn run_in(model: &Model, id: &str, target: &Resource, options: &Options) -> Vec<Hit> {
        let check = crate::checks::all()
            .iter()
            .find(|c| c.meta.id == id)
            .unwrap_or_else(|| panic!("no check {id}"));
        assert!(
            check.kinds.contains(&target.kind.as_str()),
            "{id} does not apply to {}",
            target.kind
        );
        let ctx = Ctx { model, options };
        let mut hits = Vec::new();
        (check.run)(&ctx, target, &mut hits);
        hits
    }

    /// Runs the check `id` on `target`, with `others` after it in the model.
    pub fn run_with(
        id: &str,
        target: &Resource,
        others: &[Resource],
        options: &Options,
    ) -> Vec<Hit> {
        let mut all = vec![target.clone()];
        all.extend(others.iter().cloned());
        run_in(&Model::new(all), id, target, options)
    }

    /// Runs the check `id` on `target` alone, with the default options.
    pub fn run(id: &str, target: &Resource) -> Vec<Hit> {
        run_with(id, target, &[], &Options::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(v: &serde_json::Value) -> Node {
        Node::from_json(v, 1)
    }

    #[test]
    fn internet_sources() {
        for s in ["0.0.0.0/0", "::/0"] {
            assert!(is_any_cidr(s) && is_world_cidr(s) && is_internet(s), "{s}");
        }
        for s in [" 0.0.0.0/0", "0.0.0.0", "*", "Internet", "10.0.0.0/8"] {
            assert!(!is_any_cidr(s), "{s}");
        }
        for s in [" 0.0.0.0/0 ", "0.0.0.0", "::"] {
            assert!(is_world_cidr(s), "{s}");
        }
        for s in ["*", "Internet", "10.0.0.0/8", "0.0.0.0/8"] {
            assert!(!is_world_cidr(s), "{s}");
        }
        for s in ["*", "0.0.0.0/0", "Internet", "Any", "any"] {
            assert!(is_internet(s), "{s}");
        }
        for s in ["10.0.0.0/8", "VirtualNetwork", "AzureLoadBalancer"] {
            assert!(!is_internet(s), "{s}");
        }
    }

    #[test]
    fn ports_and_ranges_parse() {
        assert_eq!(port_span(&node(&json!("22"))), Some((22, 22)));
        assert_eq!(port_span(&node(&json!(3389))), Some((3389, 3389)));
        assert_eq!(port_span(&node(&json!("1000-2000"))), Some((1000, 2000)));
        assert_eq!(port_span(&node(&json!("20-10"))), None);
        assert_eq!(port_span(&node(&json!("ssh"))), None);
        assert_eq!(port_span(&node(&json!("*"))), None);
    }

    #[test]
    fn ports_ranges_and_star() {
        assert_eq!(port_span_or_star(&node(&json!("*"))), Some((0, 65535)));
        assert_eq!(port_span_or_star(&node(&json!("20-25"))), Some((20, 25)));
        assert_eq!(port_span_or_star(&node(&json!("3389"))), Some((3389, 3389)));
        assert_eq!(port_span_or_star(&node(&json!("x"))), None);
    }

    #[test]
    fn strings_keep_their_lines() {
        let n = node(&json!({"one": "a", "list": ["b", 1, "c"]}));
        assert_eq!(strings_at(&n, "one"), [("a", 1)]);
        assert_eq!(strings_at(&n, "list"), [("b", 1), ("c", 1)]);
        assert!(strings_at(&n, "missing").is_empty());
    }

    #[test]
    fn evidence_globs_default_and_custom() {
        let defaults = evidence_globs(&Options::default());
        assert!(defaults.is_match("acme-Audit-logs"));
        assert!(defaults.is_match("soc2-evidence"));
        assert!(defaults.is_match("org-cloudtrail"));
        assert!(!defaults.is_match("static-assets"));
        let custom = evidence_globs(&Options {
            evidence_buckets: vec!["*-proof".to_owned()],
            ..Options::default()
        });
        assert!(custom.is_match("acme-proof"));
        assert!(!custom.is_match("acme-audit"));
    }
}
