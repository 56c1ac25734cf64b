//! `Cargo.lock`, versions 1 to 4.
//!
//! - Every `[[package]]` with a `source` (a registry, sparse registry or git repository) is a
//!   package, with its version; packages without a `source` are the workspace's own crates or
//!   path dependencies: local code, not registry packages, left out and named in a note.
//! - `checksum` (v2+) or the v1 `[metadata]` table's `"checksum NAME VERSION (SOURCE)"` keys give
//!   the SHA-256 of the `.crate` archive.
//! - `dependencies` entries are `name`, `name version` or `name version (source)` (v1 always
//!   writes the long form; v2+ only what disambiguates) and become the purls of the packages
//!   they name. Edges to local crates are dropped with them.
//! - Lockfile versions above 4 are read as version 4 with a note; a file without `[[package]]`
//!   nor `version` is not recognised.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::npm::common::{Dedup, hex_digest, list_for_note, read, toml};
use crate::model::{Ecosystem, Package, ParseError, Parsed};

/// The newest `Cargo.lock` version evident knows.
const KNOWN_VERSION: i64 = 4;

/// Sources that are crates.io itself (git index and sparse index).
const CRATES_IO: &[&str] = &[
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

#[derive(Deserialize)]
struct Lock {
    version: Option<toml::Value>,
    #[serde(default)]
    package: Vec<LockPackage>,
    /// v1: `"checksum NAME VERSION (SOURCE)" = "hex"`.
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// A parsed `dependencies` entry.
struct DepSpec<'a> {
    name: &'a str,
    version: Option<&'a str>,
    source: Option<&'a str>,
}

fn dep_spec(s: &str) -> DepSpec<'_> {
    let s = s.trim();
    let (head, source) = match s.split_once(" (") {
        Some((head, rest)) => (head, Some(rest.strip_suffix(')').unwrap_or(rest))),
        None => (s, None),
    };
    let mut parts = head.split_whitespace();
    DepSpec {
        name: parts.next().unwrap_or(""),
        version: parts.next(),
        source,
    }
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = read(root, rel)?;
    parse_str(&text, rel)
}

fn parse_str(text: &str, rel: &str) -> Result<Parsed, ParseError> {
    let lock: Lock = toml(rel, "Cargo.lock", text)?;
    let mut notes = Vec::new();
    let version = match &lock.version {
        None => None,
        Some(toml::Value::Integer(v)) => Some(*v),
        Some(other) => {
            return Err(ParseError::new(
                rel,
                None,
                format!("`version` must be an integer, found {}", other.type_str()),
            ));
        }
    };
    if lock.package.is_empty() && version.is_none() && lock.metadata.is_empty() {
        return Err(ParseError::new(
            rel,
            None,
            "not a Cargo.lock: no `[[package]]` entries and no `version`",
        ));
    }
    if let Some(v) = version.filter(|&v| v > KNOWN_VERSION) {
        notes.push(format!(
            "{rel}: Cargo.lock version {v} is newer than evident knows ({KNOWN_VERSION}); read as version {KNOWN_VERSION}"
        ));
    }

    // v1 checksums, keyed by "name version (source)".
    let mut v1_sums: BTreeMap<&str, &str> = BTreeMap::new();
    for (k, v) in &lock.metadata {
        if let (Some(id), Some(sum)) = (k.strip_prefix("checksum "), v.as_str()) {
            v1_sums.insert(id, sum);
        }
    }

    // Name → indexes into lock.package, to resolve dependency entries.
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in lock.package.iter().enumerate() {
        by_name.entry(p.name.as_str()).or_default().push(i);
    }
    let resolve = |spec: &DepSpec<'_>| -> Option<usize> {
        let candidates = by_name.get(spec.name)?;
        let mut it = candidates.iter().copied().filter(|&i| {
            let p = &lock.package[i];
            spec.version.is_none_or(|v| p.version == v)
                && spec.source.is_none_or(|s| p.source.as_deref() == Some(s))
        });
        let first = it.next()?;
        // Ambiguous without version: Cargo never writes that; refuse to guess.
        if spec.version.is_none() && it.next().is_some() {
            return None;
        }
        Some(first)
    };

    let mut local = Vec::new();
    let mut other_registries: Vec<String> = Vec::new();
    let mut out = Dedup::default();
    for p in &lock.package {
        let Some(source) = p.source.as_deref() else {
            local.push(format!("{} {}", p.name, p.version));
            continue;
        };
        if p.version.trim().is_empty() {
            return Err(ParseError::new(
                rel,
                None,
                format!("package `{}` has an empty version", p.name),
            ));
        }
        if (source.starts_with("registry+") || source.starts_with("sparse+"))
            && !CRATES_IO.contains(&source)
            && !other_registries.iter().any(|s| s == source)
        {
            other_registries.push(source.to_owned());
        }
        let mut pkg = Package::new(Ecosystem::CratesIo, &p.name, &p.version, rel);
        let sum = p.checksum.as_deref().or_else(|| {
            v1_sums
                .get(format!("{} {} ({source})", p.name, p.version).as_str())
                .copied()
        });
        if let Some(h) = sum.and_then(|s| hex_digest("sha256", s)) {
            pkg.hashes.push(h);
        }
        for d in &p.dependencies {
            let spec = dep_spec(d);
            if let Some(target) = resolve(&spec)
                .map(|i| &lock.package[i])
                .filter(|t| t.source.is_some())
            {
                pkg.dependencies.push(crate::model::purl(
                    Ecosystem::CratesIo,
                    &target.name,
                    &target.version,
                ));
            }
        }
        out.insert(pkg);
    }
    if !local.is_empty() {
        notes.push(format!(
            "{rel}: local crates (workspace members or path dependencies) are not registry packages, left out: {}",
            list_for_note(&local)
        ));
    }
    if !other_registries.is_empty() {
        notes.push(format!(
            "{rel}: packages from registries other than crates.io ({}) are matched as if they were crates.io crates",
            other_registries.join(", ")
        ));
    }
    Ok(Parsed {
        packages: out.into_packages(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = r#"
[[package]]
name = "app"
version = "0.1.0"
dependencies = [
 "itoa 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)",
 "local-helper 0.1.0",
]

[[package]]
name = "itoa"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "local-helper"
version = "0.1.0"

[metadata]
"checksum itoa 1.0.0 (registry+https://github.com/rust-lang/crates.io-index)" = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
"#;

    #[test]
    fn v1_metadata_checksums_and_local_crates() {
        let parsed = parse_str(V1, "Cargo.lock").unwrap();
        assert_eq!(parsed.packages.len(), 1);
        let itoa = &parsed.packages[0];
        assert_eq!(itoa.purl, "pkg:cargo/itoa@1.0.0");
        assert_eq!(itoa.hashes[0].alg, "SHA-256");
        assert_eq!(
            itoa.hashes[0].value,
            "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
        );
        assert!(parsed.notes[0].contains("app 0.1.0"));
        assert!(parsed.notes[0].contains("local-helper 0.1.0"));
    }

    #[test]
    fn ambiguous_names_resolve_with_version() {
        let text = r#"
version = 3

[[package]]
name = "a"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["b 0.1.0", "c"]

[[package]]
name = "b"
version = "0.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "b"
version = "0.2.0"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "c"
version = "2.0.0"
source = "git+https://github.com/o/c?branch=main#0123456789abcdef0123456789abcdef01234567"
"#;
        let parsed = parse_str(text, "Cargo.lock").unwrap();
        let a = parsed.packages.iter().find(|p| p.name == "a").unwrap();
        assert_eq!(
            a.dependencies,
            vec![
                "pkg:cargo/b@0.1.0".to_owned(),
                "pkg:cargo/c@2.0.0".to_owned()
            ]
        );
        assert_eq!(parsed.packages.len(), 4);
        assert!(parsed.notes.is_empty());
    }

    #[test]
    fn newer_versions_are_tried_with_a_note() {
        let text = "version = 9\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\nsource = \"sparse+https://index.crates.io/\"\n";
        let parsed = parse_str(text, "Cargo.lock").unwrap();
        assert_eq!(parsed.packages.len(), 1);
        assert!(parsed.notes[0].contains("version 9"));
    }

    #[test]
    fn bad_input_errors_with_a_line() {
        let err = parse_str("[[package]]\nname = \"x\"\nversion = \n", "Cargo.lock").unwrap_err();
        assert_eq!(err.line, Some(3));
        let err = parse_str("[[package]]\nname = \"x\"\n", "Cargo.lock").unwrap_err();
        assert!(err.message.contains("version"), "{err}");
        let err = parse_str("title = \"not a lockfile\"\n", "Cargo.lock").unwrap_err();
        assert!(err.message.contains("not a Cargo.lock"), "{err}");
    }

    #[test]
    fn dependency_specs() {
        let s = dep_spec("serde 1.0.0 (registry+https://x)");
        assert_eq!(
            (s.name, s.version, s.source),
            ("serde", Some("1.0.0"), Some("registry+https://x"))
        );
        let s = dep_spec("serde");
        assert_eq!((s.name, s.version, s.source), ("serde", None, None));
    }
}
