//! `package-lock.json` and `npm-shrinkwrap.json`, lockfile versions 1, 2 and 3.
//!
//! - v2/v3: the `packages` map, keyed by install location (`node_modules/a`,
//!   `node_modules/a/node_modules/@s/b`, `packages/app/node_modules/c`). The root (`""`), links
//!   (`link: true`) and folders outside any `node_modules` (workspace packages) are not packages.
//!   The name is the entry's `name` (set for aliases) or the key after its last `node_modules/`.
//! - v1: the nested `dependencies` tree; it is flattened into the same location keys, so both
//!   versions share the rest. Versions `npm:real@1.2.3` are aliases; `file:` versions are local
//!   and git/URL versions carry no registry version: both are left out with a note.
//! - Copies at different versions stay separate packages; copies of the same name and version at
//!   several locations are one package (dev only when every copy is dev).
//! - Edges: `dependencies`, `optionalDependencies` and `peerDependencies` (v2/v3) or `requires`
//!   (v1), resolved the way Node does: the nearest `node_modules/<name>` from the dependent's
//!   location up to the root; links are followed, and edges to local packages dropped.
//! - `integrity` (SRI, `sha512-…`/`sha1-…`) becomes hex hashes; `dev: true` marks dev packages.
//! - `resolved: "file:…"` entries (local tarballs and folders) are left out with a note.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

#[path = "common_js_rust_go.rs"]
pub(crate) mod common;

use common::{Dedup, json, list_for_note, read, sri_hashes};

use crate::model::{Ecosystem, Package, ParseError, Parsed, purl};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Lock {
    lockfile_version: Option<serde_json::Value>,
    packages: Option<BTreeMap<String, Entry>>,
    dependencies: Option<BTreeMap<String, V1Entry>>,
}

/// A v2/v3 `packages` entry.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    dev: bool,
    link: bool,
    dependencies: BTreeMap<String, String>,
    optional_dependencies: BTreeMap<String, String>,
    peer_dependencies: BTreeMap<String, String>,
}

/// A v1 `dependencies` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct V1Entry {
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    dev: bool,
    requires: BTreeMap<String, String>,
    dependencies: BTreeMap<String, V1Entry>,
}

/// What a location holds, in either lockfile version.
enum Kind {
    Package {
        name: String,
        version: String,
        integrity: Option<String>,
        dev: bool,
    },
    /// A symlink to another location (`resolved` is the target, relative to the root).
    Link(String),
    /// A workspace folder or the root project.
    Project,
    /// Something that is not a registry package (named in a note).
    Skipped,
}

struct Node {
    kind: Kind,
    deps: Vec<String>,
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = read(root, rel)?;
    parse_str(&text, rel)
}

fn parse_str(text: &str, rel: &str) -> Result<Parsed, ParseError> {
    let lock: Lock = json(rel, "package-lock.json", text)?;
    let mut notes = Vec::new();
    let version = lock
        .lockfile_version
        .as_ref()
        .and_then(serde_json::Value::as_i64);
    if let Some(v) = version.filter(|v| !(1..=3).contains(v)) {
        notes.push(format!(
            "{rel}: lockfileVersion {v} is not one evident knows (1-3); read as the nearest known version"
        ));
    }
    let mut skipped = Vec::new();
    let mut projects = Vec::new();
    let nodes = if let Some(packages) = lock.packages {
        from_packages(packages, &mut skipped, &mut projects)
    } else if let Some(deps) = lock.dependencies {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            String::new(),
            Node {
                kind: Kind::Project,
                deps: Vec::new(),
            },
        );
        flatten_v1("", deps, &mut nodes, &mut skipped);
        nodes
    } else if lock.lockfile_version.is_some() {
        // A project without dependencies (v1 writes no `dependencies` at all then).
        BTreeMap::new()
    } else {
        return Err(ParseError::new(
            rel,
            None,
            "not a package-lock.json: no `lockfileVersion`, `packages` or `dependencies`",
        ));
    };

    let mut out = Dedup::default();
    for (loc, node) in &nodes {
        let Kind::Package {
            name,
            version,
            integrity,
            dev,
        } = &node.kind
        else {
            continue;
        };
        let mut p = Package::new(Ecosystem::Npm, name, version, rel);
        p.dev = *dev;
        if let Some(i) = integrity {
            p.hashes = sri_hashes(i);
        }
        for dep in &node.deps {
            if let Some(target) = resolve(&nodes, loc, dep) {
                p.dependencies.push(target);
            }
        }
        out.insert(p);
    }
    if !projects.is_empty() {
        notes.push(format!(
            "{rel}: workspace packages are local, not registry packages, left out: {}",
            list_for_note(&projects)
        ));
    }
    if !skipped.is_empty() {
        notes.push(format!(
            "{rel}: entries without a registry version are left out: {}",
            list_for_note(&skipped)
        ));
    }
    Ok(Parsed {
        packages: out.into_packages(),
        notes,
    })
}

/// The name installed at a location: what follows its last `node_modules/`.
fn name_from_location(loc: &str) -> Option<&str> {
    let i = loc.rfind("node_modules/")?;
    // Only a whole path segment counts (`my_node_modules/x` is not an install location).
    if i > 0 && !loc[..i].ends_with('/') {
        return None;
    }
    let name = &loc[i + "node_modules/".len()..];
    (!name.is_empty()).then_some(name)
}

fn from_packages(
    packages: BTreeMap<String, Entry>,
    skipped: &mut Vec<String>,
    projects: &mut Vec<String>,
) -> BTreeMap<String, Node> {
    let mut nodes = BTreeMap::new();
    for (loc, e) in packages {
        let deps: Vec<String> = e
            .dependencies
            .keys()
            .chain(e.optional_dependencies.keys())
            .chain(e.peer_dependencies.keys())
            .cloned()
            .collect();
        let kind = if e.link {
            Kind::Link(e.resolved.unwrap_or_default())
        } else if loc.is_empty() {
            Kind::Project
        } else if let Some(loc_name) = name_from_location(&loc) {
            let name = e.name.unwrap_or_else(|| loc_name.to_owned());
            match e.version {
                Some(v) if !v.trim().is_empty() => {
                    if e.resolved
                        .as_deref()
                        .is_some_and(|r| r.starts_with("file:"))
                    {
                        skipped.push(format!("{loc} (local {})", e.resolved.unwrap_or_default()));
                        Kind::Skipped
                    } else {
                        Kind::Package {
                            name,
                            version: v,
                            integrity: e.integrity,
                            dev: e.dev,
                        }
                    }
                }
                _ => {
                    skipped.push(format!("{loc} (no version)"));
                    Kind::Skipped
                }
            }
        } else {
            projects.push(loc.clone());
            Kind::Project
        };
        nodes.insert(loc, Node { kind, deps });
    }
    nodes
}

fn flatten_v1(
    parent: &str,
    deps: BTreeMap<String, V1Entry>,
    nodes: &mut BTreeMap<String, Node>,
    skipped: &mut Vec<String>,
) {
    for (key_name, e) in deps {
        let loc = if parent.is_empty() {
            format!("node_modules/{key_name}")
        } else {
            format!("{parent}/node_modules/{key_name}")
        };
        let version = e.version.unwrap_or_default();
        let kind = if let Some(alias) = version.strip_prefix("npm:") {
            // `npm:real-name@1.2.3`
            if let Some((name, v)) = split_name_version(alias) {
                Kind::Package {
                    name: name.to_owned(),
                    version: v.to_owned(),
                    integrity: e.integrity,
                    dev: e.dev,
                }
            } else {
                skipped.push(format!("{loc} ({version})"));
                Kind::Skipped
            }
        } else if version.is_empty()
            || version.contains(':')
            || version.contains('/')
            || e.resolved
                .as_deref()
                .is_some_and(|r| r.starts_with("file:"))
        {
            skipped.push(format!(
                "{loc} ({})",
                if version.is_empty() {
                    "no version"
                } else {
                    &version
                }
            ));
            Kind::Skipped
        } else {
            Kind::Package {
                name: key_name,
                version,
                integrity: e.integrity,
                dev: e.dev,
            }
        };
        nodes.insert(
            loc.clone(),
            Node {
                kind,
                deps: e.requires.into_keys().collect(),
            },
        );
        flatten_v1(&loc, e.dependencies, nodes, skipped);
    }
}

/// `name@version` → (name, version); the name may be scoped (`@s/n@1.0.0`).
fn split_name_version(s: &str) -> Option<(&str, &str)> {
    let at = s.get(1..)?.find('@')? + 1;
    let (name, version) = (&s[..at], &s[at + 1..]);
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

/// The location a dependency `name` of the package at `from` resolves to, Node's way: the
/// nearest `node_modules/<name>` walking up from `from`, then the target's purl (links followed).
fn resolve(nodes: &BTreeMap<String, Node>, from: &str, name: &str) -> Option<String> {
    let mut here = from.to_owned();
    loop {
        let candidate = if here.is_empty() {
            format!("node_modules/{name}")
        } else {
            format!("{here}/node_modules/{name}")
        };
        if let Some(node) = nodes.get(&candidate) {
            return target_purl(nodes, node, 0);
        }
        if here.is_empty() {
            return None;
        }
        // Up one level: strip the last `node_modules/<name>`; a workspace folder goes to the root.
        here = match here.rfind("node_modules/") {
            Some(i) if i == 0 || here[..i].ends_with('/') => {
                here[..i].trim_end_matches('/').to_owned()
            }
            _ => String::new(),
        };
    }
}

fn target_purl(nodes: &BTreeMap<String, Node>, node: &Node, depth: usize) -> Option<String> {
    match &node.kind {
        Kind::Package { name, version, .. } => Some(purl(Ecosystem::Npm, name, version)),
        Kind::Link(target) if depth < 8 => {
            let target = target.trim_start_matches("./");
            nodes
                .get(target)
                .and_then(|n| target_purl(nodes, n, depth + 1))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg<'a>(p: &'a Parsed, purl: &str) -> &'a Package {
        p.packages
            .iter()
            .find(|x| x.purl == purl)
            .unwrap_or_else(|| panic!("{purl} not in {:#?}", p.packages))
    }

    #[test]
    fn v3_locations_links_and_nested_copies() {
        let text = r#"{
  "name": "root", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": {"name": "root", "workspaces": ["packages/*"], "dependencies": {"a": "^1"}},
    "packages/lib": {"name": "lib", "version": "0.1.0", "dependencies": {"b": "^2"}},
    "node_modules/lib": {"resolved": "packages/lib", "link": true},
    "node_modules/a": {"version": "1.0.0", "dependencies": {"b": "^1", "lib": "*"}},
    "node_modules/a/node_modules/b": {"version": "1.5.0", "dev": true},
    "node_modules/b": {"version": "2.0.0"},
    "node_modules/@s/c": {"version": "3.0.0", "dependencies": {"b": "^2"}},
    "node_modules/cjs": {"name": "string-width", "version": "4.2.3"},
    "node_modules/loc": {"version": "1.0.0", "resolved": "file:loc-1.0.0.tgz"}
  }
}"#;
        let p = parse_str(text, "package-lock.json").unwrap();
        let names: Vec<&str> = p.packages.iter().map(|x| x.purl.as_str()).collect();
        assert_eq!(
            names,
            [
                "pkg:npm/%40s/c@3.0.0",
                "pkg:npm/a@1.0.0",
                "pkg:npm/b@1.5.0",
                "pkg:npm/b@2.0.0",
                "pkg:npm/string-width@4.2.3"
            ]
        );
        // a's b is its own nested copy; the link to the workspace package is no edge.
        assert_eq!(pkg(&p, "pkg:npm/a@1.0.0").dependencies, ["pkg:npm/b@1.5.0"]);
        assert_eq!(
            pkg(&p, "pkg:npm/%40s/c@3.0.0").dependencies,
            ["pkg:npm/b@2.0.0"]
        );
        assert!(pkg(&p, "pkg:npm/b@1.5.0").dev);
        assert!(p.notes.iter().any(|n| n.contains("packages/lib")));
        assert!(p.notes.iter().any(|n| n.contains("node_modules/loc")));
    }

    #[test]
    fn v1_tree_aliases_and_requires() {
        let text = r#"{
  "lockfileVersion": 1,
  "dependencies": {
    "a": {"version": "1.0.0", "integrity": "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
          "requires": {"b": "^1"},
          "dependencies": {"b": {"version": "1.0.0", "dev": true}}},
    "b": {"version": "2.0.0", "requires": {"a": "^1"}},
    "sw": {"version": "npm:string-width@4.2.3"},
    "g": {"version": "github:o/g#0123456789abcdef0123456789abcdef01234567"},
    "f": {"version": "file:../f"}
  }
}"#;
        let p = parse_str(text, "package-lock.json").unwrap();
        assert_eq!(p.packages.len(), 4);
        let a = pkg(&p, "pkg:npm/a@1.0.0");
        assert_eq!(a.dependencies, ["pkg:npm/b@1.0.0"]);
        assert_eq!(
            a.hashes[0].value,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(pkg(&p, "pkg:npm/b@2.0.0").dependencies, ["pkg:npm/a@1.0.0"]);
        pkg(&p, "pkg:npm/string-width@4.2.3");
        assert!(p.notes[0].contains("node_modules/g") && p.notes[0].contains("node_modules/f"));
    }

    #[test]
    fn same_version_copies_merge() {
        let text = r#"{"lockfileVersion": 2, "packages": {
            "node_modules/x": {"version": "1.0.0", "dev": true},
            "node_modules/y/node_modules/x": {"version": "1.0.0"},
            "node_modules/y": {"version": "1.0.0", "dev": true}
        }}"#;
        let p = parse_str(text, "package-lock.json").unwrap();
        assert_eq!(p.packages.len(), 2);
        assert!(!pkg(&p, "pkg:npm/x@1.0.0").dev);
    }

    #[test]
    fn errors() {
        let e = parse_str(
            "{\n\"lockfileVersion\": 3,\n\"packages\": [}\n",
            "package-lock.json",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3));
        let e = parse_str("{\"name\": \"x\"}", "package-lock.json").unwrap_err();
        assert!(e.message.contains("not a package-lock.json"));
        let e = parse_str("[1, 2]", "package-lock.json").unwrap_err();
        assert_eq!(e.path, "package-lock.json");
    }

    #[test]
    fn locations() {
        assert_eq!(name_from_location("node_modules/@s/b"), Some("@s/b"));
        assert_eq!(
            name_from_location("node_modules/a/node_modules/b"),
            Some("b")
        );
        assert_eq!(name_from_location("packages/a"), None);
        assert_eq!(name_from_location("my_node_modules/a"), None);
        assert_eq!(split_name_version("@s/n@1.0.0"), Some(("@s/n", "1.0.0")));
        assert_eq!(split_name_version("n@1.0.0"), Some(("n", "1.0.0")));
        assert_eq!(split_name_version("n"), None);
    }
}
