//! `uv.lock` (lock `version = 1`, any `revision`).
//!
//! Each `[[package]]` has a `source`:
//! - `registry` — a package; `git` and `url` — kept, with a note on where they come from;
//! - `editable` / `virtual` — the project itself or a workspace member: not a package, no note;
//! - `directory` / `path` — a local dependency: not a package, left out with a note.
//!
//! Edges come from `dependencies` and `[package.optional-dependencies]` (`{ name, version? }`;
//! `version` picks among several locked versions of one name). uv does not mark packages as dev:
//! a package is dev when it is reachable from a workspace member's `[package.dev-dependencies]`
//! but not from its runtime dependencies or extras.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::poetry::{line_at, python_hash, toml_error};
use crate::model::{Ecosystem, Package, ParseError, Parsed};

const ECO: Ecosystem = Ecosystem::PyPI;

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    package: Vec<Spanned<RawPackage>>,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: Option<RawSource>,
    #[serde(default)]
    dependencies: Vec<RawDep>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<RawDep>>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<String, Vec<RawDep>>,
    #[serde(default)]
    sdist: Option<RawDist>,
    #[serde(default)]
    wheels: Vec<RawDist>,
}

#[derive(Deserialize, Default)]
struct RawSource {
    #[serde(default)]
    git: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    directory: Option<String>,
    #[serde(default)]
    editable: Option<String>,
    #[serde(default, rename = "virtual")]
    virtual_: Option<String>,
}

#[derive(Deserialize)]
struct RawDep {
    name: String,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct RawDist {
    #[serde(default)]
    hash: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A registry, git or URL package: in the inventory.
    Package,
    /// The project or a workspace member (`editable`, `virtual`).
    Member,
    /// A local directory or archive.
    Local,
}

struct Entry {
    kind: Kind,
    pkg: Package,
    runtime: Vec<usize>,
    dev: Vec<usize>,
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = std::fs::read_to_string(root.join(rel))
        .map_err(|e| ParseError::new(rel, None, format!("cannot read the file: {e}")))?;
    parse_str(rel, &text)
}

/// Parses the text of a `uv.lock`; `rel` labels packages, notes and errors.
pub fn parse_str(rel: &str, text: &str) -> Result<Parsed, ParseError> {
    let lock: Lock = toml::from_str(text).map_err(|e| toml_error(rel, text, &e))?;
    let mut out = Parsed::default();
    if let Some(v) = lock.version
        && v != 1
    {
        out.notes.push(format!(
            "{rel}: uv.lock version {v} is not the one evident knows (1); it was read as version 1"
        ));
    }

    let mut entries: Vec<Entry> = Vec::with_capacity(lock.package.len());
    for spanned in &lock.package {
        let line = line_at(text, spanned.span().start);
        let raw = spanned.get_ref();
        let name = raw.name.trim();
        if name.is_empty() {
            return Err(ParseError::new(
                rel,
                Some(line),
                "a [[package]] has an empty name",
            ));
        }
        let version = raw.version.as_deref().unwrap_or("").trim();
        let src = raw.source.as_ref();
        let kind = match src {
            Some(s) if s.editable.is_some() || s.virtual_.is_some() => Kind::Member,
            Some(s) if s.directory.is_some() || s.path.is_some() => {
                let (what, path) = match (&s.directory, &s.path) {
                    (Some(d), _) => ("directory", d.as_str()),
                    (None, p) => ("archive or path", p.as_deref().unwrap_or("")),
                };
                out.notes.push(format!(
                    "{rel}:{line}: `{name}` comes from a local {what} ({path}), not a package \
                     registry; it is left out of the inventory and not matched against advisories"
                ));
                Kind::Local
            }
            _ => Kind::Package,
        };
        if kind == Kind::Package {
            if version.is_empty() {
                return Err(ParseError::new(
                    rel,
                    Some(line),
                    format!("package `{name}` has no version"),
                ));
            }
            if let Some(s) = src {
                if let Some(git) = &s.git {
                    out.notes.push(format!(
                        "{rel}:{line}: `{name}` {version} comes from git ({git}); it is matched \
                         against advisories by its declared version only"
                    ));
                } else if let Some(url) = &s.url {
                    out.notes.push(format!(
                        "{rel}:{line}: `{name}` {version} comes from a direct URL ({url}); it is \
                         matched against advisories by its declared version only"
                    ));
                }
            }
        }
        let mut pkg = Package::new(ECO, name, version, rel);
        for dist in raw.sdist.iter().chain(&raw.wheels) {
            if let Some(h) = dist.hash.as_deref().and_then(python_hash) {
                pkg.hashes.push(h);
            }
        }
        pkg.hashes.sort();
        pkg.hashes.dedup();
        entries.push(Entry {
            kind,
            pkg,
            runtime: Vec::new(),
            dev: Vec::new(),
        });
    }

    // Resolve edges by normalised name (and version when given).
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        by_name
            .entry(ECO.normalize_name(&e.pkg.name))
            .or_default()
            .push(i);
    }
    let resolve = |d: &RawDep| -> Vec<usize> {
        let candidates = by_name
            .get(&ECO.normalize_name(&d.name))
            .cloned()
            .unwrap_or_default();
        match d.version.as_deref() {
            Some(v) => candidates
                .into_iter()
                .filter(|&i| entries[i].pkg.version == v.trim())
                .collect(),
            None => candidates,
        }
    };
    let mut runtime_edges: Vec<Vec<usize>> = Vec::with_capacity(entries.len());
    let mut dev_edges: Vec<Vec<usize>> = Vec::with_capacity(entries.len());
    for spanned in &lock.package {
        let raw = spanned.get_ref();
        let runtime = raw
            .dependencies
            .iter()
            .chain(raw.optional_dependencies.values().flatten())
            .flat_map(&resolve)
            .collect();
        let dev = raw
            .dev_dependencies
            .values()
            .flatten()
            .flat_map(&resolve)
            .collect();
        runtime_edges.push(runtime);
        dev_edges.push(dev);
    }
    for (e, (runtime, dev)) in entries
        .iter_mut()
        .zip(runtime_edges.into_iter().zip(dev_edges))
    {
        e.runtime = runtime;
        e.dev = dev;
    }

    // Dev: reachable from members' dev-dependencies and not from their runtime graph.
    let members: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].kind == Kind::Member)
        .collect();
    let prod = reach(&entries, members.iter().copied());
    let dev_roots: Vec<usize> = members
        .iter()
        .flat_map(|&m| entries[m].dev.iter().copied())
        .collect();
    let dev = reach(&entries, dev_roots.into_iter());

    let ids: Vec<String> = entries.iter().map(|e| e.pkg.id()).collect();
    for (i, e) in entries.iter().enumerate() {
        if e.kind != Kind::Package {
            continue;
        }
        let mut pkg = e.pkg.clone();
        pkg.dev = dev.contains(&i) && !prod.contains(&i);
        pkg.dependencies = e
            .runtime
            .iter()
            .filter(|&&j| j != i && entries[j].kind == Kind::Package)
            .map(|&j| ids[j].clone())
            .collect();
        pkg.dependencies.sort();
        pkg.dependencies.dedup();
        out.packages.push(pkg);
    }
    Ok(out)
}

/// Everything reachable from `roots` over runtime edges, the roots included.
fn reach(entries: &[Entry], roots: impl Iterator<Item = usize>) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<usize> = roots.collect();
    while let Some(i) = stack.pop() {
        if seen.insert(i) {
            stack.extend(entries[i].runtime.iter().copied());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 1
revision = 2
requires-python = ">=3.12"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "httpx" }]

[package.optional-dependencies]
cli = [{ name = "click" }]

[package.dev-dependencies]
dev = [{ name = "pytest" }, { name = "httpx" }]

[[package]]
name = "httpx"
version = "0.27.0"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.example/httpx-0.27.0.tar.gz", hash = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", size = 1 }
wheels = [{ url = "https://files.example/httpx-0.27.0-py3-none-any.whl", hash = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", size = 1 }]

[[package]]
name = "click"
version = "8.1.7"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.0.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "pluggy" }]

[[package]]
name = "pluggy"
version = "1.4.0"
source = { registry = "https://pypi.org/simple" }
"#;

    #[test]
    fn members_are_not_packages_and_dev_is_derived() {
        let parsed = parse_str("uv.lock", LOCK).unwrap();
        let names: Vec<(&str, bool)> = parsed
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.dev))
            .collect();
        assert_eq!(
            names,
            vec![
                ("httpx", false),
                ("click", false),
                ("pytest", true),
                ("pluggy", true)
            ]
        );
        assert_eq!(parsed.packages[0].hashes.len(), 2);
        assert_eq!(
            parsed.packages[2].dependencies,
            vec!["pkg:pypi/pluggy@1.4.0"]
        );
        assert!(parsed.notes.is_empty());
    }

    #[test]
    fn versioned_edges_pick_the_right_fork() {
        let text = r#"
[[package]]
name = "a"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "numpy", version = "1.26.4", source = { registry = "https://pypi.org/simple" } }]

[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "numpy"
version = "2.0.0"
source = { registry = "https://pypi.org/simple" }
"#;
        let parsed = parse_str("uv.lock", text).unwrap();
        assert_eq!(
            parsed.packages[0].dependencies,
            vec!["pkg:pypi/numpy@1.26.4"]
        );
    }

    #[test]
    fn local_directory_note_and_missing_version_error() {
        let text = "[[package]]\nname = \"lib\"\nsource = { directory = \"../lib\" }\n";
        let parsed = parse_str("uv.lock", text).unwrap();
        assert!(parsed.packages.is_empty());
        assert!(parsed.notes[0].starts_with("uv.lock:1: `lib` comes from a local directory"));

        let text = "\n\n[[package]]\nname = \"x\"\nsource = { registry = \"r\" }\n";
        let err = parse_str("uv.lock", text).unwrap_err();
        assert_eq!(err.line, Some(3));
    }
}
