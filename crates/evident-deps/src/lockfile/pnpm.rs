//! `pnpm-lock.yaml`, lockfile versions 5.x, 6 and 9 (older shrinkwrap versions are read as 5,
//! newer ones as 9, with a note).
//!
//! - Package keys: `/name/1.2.3`, `/@scope/name/1.2.3_peer@1.0.0` (v5), `/name@1.2.3(peer@1.0.0)`
//!   (v6), `name@1.2.3(peer@1.0.0)` (v9). Peer suffixes (and v9 `(patch_hash=…)`) are stripped:
//!   the variants of one name and version are one package (dev only when every variant is).
//! - An entry's own `name`/`version` (git and tarball dependencies) win over the key.
//! - Local packages (`resolution.directory`, `file:`/`link:` keys or tarballs) and entries
//!   without a registry version are left out with a note; importers (the workspace's own
//!   projects) are not packages.
//! - `resolution.integrity` (SRI) becomes hex hashes.
//! - Edges: the `dependencies`/`optionalDependencies` of each package (v5, v6) or snapshot (v9).
//!   A reference is a version (`1.2.3`, with its peer suffix), an alias key (`/real/1.2.3`,
//!   `/real@1.2.3`, `real@1.2.3`) or a `link:`; it is looked up as a package key.
//! - Dev: v5/v6 write `dev: true|false` per package. v9 does not: a package is dev when it is
//!   reachable from some importer's `devDependencies` and from no importer's `dependencies` or
//!   `optionalDependencies` (the same rule pnpm used to write the flag by).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::npm::common::{Dedup, list_for_note, read, sri_hashes, yaml};
use crate::model::{Ecosystem, Package, ParseError, Parsed};

type Refs = Option<BTreeMap<String, String>>;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Lock {
    lockfile_version: Option<String>,
    importers: Option<BTreeMap<String, Importer>>,
    // v5 single-project lockfiles keep the project's dependencies at the top.
    dependencies: Option<BTreeMap<String, ImporterRef>>,
    dev_dependencies: Option<BTreeMap<String, ImporterRef>>,
    optional_dependencies: Option<BTreeMap<String, ImporterRef>>,
    packages: Option<BTreeMap<String, Option<PkgEntry>>>,
    snapshots: Option<BTreeMap<String, Option<Snapshot>>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Importer {
    dependencies: Option<BTreeMap<String, ImporterRef>>,
    dev_dependencies: Option<BTreeMap<String, ImporterRef>>,
    optional_dependencies: Option<BTreeMap<String, ImporterRef>>,
}

/// An importer's dependency: `1.2.3` (v5) or `{specifier: ^1, version: 1.2.3}` (v6, v9).
struct ImporterRef(Option<String>);

impl<'de> Deserialize<'de> for ImporterRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ImporterRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a version or a {specifier, version} map")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ImporterRef, E> {
                Ok(ImporterRef(Some(v.to_owned())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ImporterRef, E> {
                Ok(ImporterRef(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ImporterRef, E> {
                Ok(ImporterRef(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ImporterRef, E> {
                Ok(ImporterRef(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<ImporterRef, E> {
                Ok(ImporterRef(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ImporterRef, E> {
                Ok(ImporterRef(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ImporterRef, A::Error> {
                let mut version = None;
                while let Some(k) = map.next_key::<String>()? {
                    if k == "version" {
                        version = Some(map.next_value::<String>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(ImporterRef(version))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PkgEntry {
    name: Option<String>,
    version: Option<String>,
    resolution: Option<Resolution>,
    dev: Option<bool>,
    dependencies: Refs,
    optional_dependencies: Refs,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Resolution {
    integrity: Option<String>,
    tarball: Option<String>,
    directory: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Snapshot {
    dependencies: Refs,
    optional_dependencies: Refs,
}

/// How package keys spell the version: `/name/1.2.3_peers` (v5 and older) or `name@1.2.3(peers)`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyStyle {
    Slash,
    At,
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = read(root, rel)?;
    parse_str(&text, rel)
}

fn parse_str(text: &str, rel: &str) -> Result<Parsed, ParseError> {
    let lock: Lock = yaml(rel, "pnpm-lock.yaml", text)?;
    let mut notes = Vec::new();
    let major = match lock.lockfile_version.as_deref() {
        Some(v) => {
            let major: Option<u32> = v
                .trim()
                .trim_matches('\'')
                .split('.')
                .next()
                .and_then(|m| m.parse().ok());
            match major {
                Some(m) => Some(m),
                None => {
                    return Err(ParseError::new(
                        rel,
                        None,
                        format!("`lockfileVersion` {v:?} is not a version"),
                    ));
                }
            }
        }
        None => None,
    };
    if major.is_none() && lock.packages.is_none() && lock.importers.is_none() {
        return Err(ParseError::new(
            rel,
            None,
            "not a pnpm-lock.yaml: no `lockfileVersion`, `importers` or `packages`",
        ));
    }
    let style = match major {
        Some(m) if m < 6 => KeyStyle::Slash,
        Some(_) => KeyStyle::At,
        // No version: guess from the keys.
        None => {
            let registry =
                |k: &str, style| parse_key(k, style).is_some_and(|(_, v)| is_registry_version(&v));
            let slash = lock
                .packages
                .iter()
                .flatten()
                .any(|(k, _)| registry(k, KeyStyle::Slash) && !registry(k, KeyStyle::At));
            if slash { KeyStyle::Slash } else { KeyStyle::At }
        }
    };
    match major {
        Some(m) if m < 5 => notes.push(format!(
            "{rel}: lockfileVersion {m} is older than evident knows (5, 6, 9); read as version 5"
        )),
        Some(m) if m > 9 => notes.push(format!(
            "{rel}: lockfileVersion {m} is newer than evident knows (5, 6, 9); read as version 9"
        )),
        _ => {}
    }

    let packages = lock.packages.unwrap_or_default();
    // Normalised key (no leading `/`, no peer suffix) → purl.
    let mut by_key: BTreeMap<String, String> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut has_dev_flags = false;
    let mut out = Dedup::default();
    for (key, entry) in &packages {
        let entry_default = PkgEntry::default();
        let e = entry.as_ref().unwrap_or(&entry_default);
        has_dev_flags |= e.dev.is_some();
        let norm = normalize(key, style);
        let res = e.resolution.as_ref();
        let local = res.is_some_and(|r| {
            r.directory.is_some() || r.tarball.as_deref().is_some_and(|t| t.starts_with("file:"))
        }) || ["file:", "link:"].iter().any(|p| norm.starts_with(p))
            || norm.contains("@file:")
            || norm.contains("@link:");
        if local {
            skipped.push(format!("{key} (local)"));
            continue;
        }
        let parsed = parse_key(key, style);
        // `/host/path/…` keys (v5 git and tarball entries) do not spell the name: their entry does.
        let name = e.name.clone().or_else(|| {
            parsed
                .as_ref()
                .filter(|(_, v)| style == KeyStyle::At || is_registry_version(v))
                .map(|(n, _)| n.clone())
        });
        let version = e
            .version
            .clone()
            .or_else(|| parsed.as_ref().map(|(_, v)| v.clone()))
            .filter(|v| is_registry_version(v));
        let (Some(name), Some(version)) = (name, version) else {
            skipped.push(format!("{key} (no registry version)"));
            continue;
        };
        let mut p = Package::new(Ecosystem::Npm, &name, &version, rel);
        p.dev = e.dev == Some(true);
        if let Some(i) = res.and_then(|r| r.integrity.as_deref()) {
            p.hashes = sri_hashes(i);
        }
        by_key.insert(norm, p.purl.clone());
        out.insert(p);
    }

    let resolve = |dep: &str, reference: &str| -> Option<String> {
        if reference.starts_with("link:") || reference.starts_with("file:") {
            return None;
        }
        let r = strip_peers(reference, style);
        let r = r.strip_prefix('/').unwrap_or(r);
        let joined = match style {
            KeyStyle::Slash => format!("{dep}/{r}"),
            KeyStyle::At => format!("{dep}@{r}"),
        };
        by_key
            .get(&normalize(r, style))
            .or_else(|| by_key.get(&normalize(&joined, style)))
            .cloned()
    };

    // Edges, from the packages (v5, v6) and the snapshots (v9).
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let sources = packages
        .iter()
        .filter_map(|(k, e)| {
            e.as_ref()
                .map(|e| (k, &e.dependencies, &e.optional_dependencies))
        })
        .chain(lock.snapshots.iter().flatten().filter_map(|(k, s)| {
            s.as_ref()
                .map(|s| (k, &s.dependencies, &s.optional_dependencies))
        }));
    for (key, deps, optional) in sources {
        let Some(from) = by_key.get(&normalize(key, style)) else {
            continue;
        };
        for (dep, reference) in deps.iter().flatten().chain(optional.iter().flatten()) {
            if let Some(to) = resolve(dep, reference) {
                edges.entry(from.clone()).or_default().push(to);
            }
        }
    }
    for (from, to) in &edges {
        if let Some(p) = out.get_mut(from) {
            p.dependencies.extend(to.iter().cloned());
        }
    }

    let mut packages_out = out.into_packages();
    if !has_dev_flags {
        // Roots of every importer (and the v5 single-project top level).
        let mut prod_roots = Vec::new();
        let mut dev_roots = Vec::new();
        let top = Importer {
            dependencies: lock.dependencies,
            dev_dependencies: lock.dev_dependencies,
            optional_dependencies: lock.optional_dependencies,
        };
        for imp in lock
            .importers
            .iter()
            .flat_map(BTreeMap::values)
            .chain([&top])
        {
            let refs = |m: &Option<BTreeMap<String, ImporterRef>>| -> Vec<String> {
                m.iter()
                    .flatten()
                    .filter_map(|(n, r)| r.0.as_deref().and_then(|r| resolve(n, r)))
                    .collect()
            };
            prod_roots.extend(refs(&imp.dependencies));
            prod_roots.extend(refs(&imp.optional_dependencies));
            dev_roots.extend(refs(&imp.dev_dependencies));
        }
        let prod = reachable(&edges, prod_roots);
        let dev = reachable(&edges, dev_roots);
        for p in &mut packages_out {
            p.dev = dev.contains(&p.purl) && !prod.contains(&p.purl);
        }
    }

    if !skipped.is_empty() {
        notes.push(format!(
            "{rel}: local and non-registry packages are left out: {}",
            list_for_note(&skipped)
        ));
    }
    Ok(Parsed {
        packages: packages_out,
        notes,
    })
}

fn reachable(edges: &BTreeMap<String, Vec<String>>, roots: Vec<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = roots;
    while let Some(p) = stack.pop() {
        if seen.insert(p.clone()) {
            stack.extend(edges.get(&p).into_iter().flatten().cloned());
        }
    }
    seen
}

/// A version a registry could have published (not a URL, path or git reference).
fn is_registry_version(v: &str) -> bool {
    !v.is_empty() && !v.contains(':') && !v.contains('/') && !v.contains(char::is_whitespace)
}

/// Cuts a peer suffix: `1.2.3(react@18.2.0)` / `1.2.3_react@18.2.0` → `1.2.3`.
fn strip_peers(s: &str, style: KeyStyle) -> &str {
    match style {
        KeyStyle::At => s.split('(').next().unwrap_or(s),
        KeyStyle::Slash => {
            // v5 escapes scoped peers with `+`, so the suffix has no `/`.
            let after_slash = s.rfind('/').map_or(0, |i| i + 1);
            match s[after_slash..].find('_') {
                Some(i) => &s[..after_slash + i],
                None => s,
            }
        }
    }
}

/// A key without its leading `/` and peer suffix.
fn normalize(key: &str, style: KeyStyle) -> String {
    let k = key.strip_prefix('/').unwrap_or(key);
    strip_peers(k, style).to_owned()
}

/// A package key → (name, version); the version may be a URL or path (see
/// [`is_registry_version`]).
fn parse_key(key: &str, style: KeyStyle) -> Option<(String, String)> {
    let k = normalize(key, style);
    let (name, version) = match style {
        KeyStyle::Slash => {
            let split = if k.starts_with('@') {
                let first = k.find('/')?;
                first + 1 + k[first + 1..].find('/')?
            } else {
                k.find('/')?
            };
            (&k[..split], &k[split + 1..])
        }
        KeyStyle::At => {
            let at = k.get(1..)?.find('@')? + 1;
            (&k[..at], &k[at + 1..])
        }
    };
    (!name.is_empty() && !name.ends_with('/') && !version.is_empty())
        .then(|| (name.to_owned(), version.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purls(p: &Parsed) -> Vec<&str> {
        p.packages.iter().map(|x| x.purl.as_str()).collect()
    }

    #[test]
    fn keys() {
        let s = KeyStyle::Slash;
        let a = KeyStyle::At;
        let kv = |n: &str, v: &str| Some((n.to_owned(), v.to_owned()));
        assert_eq!(parse_key("/lodash/4.17.21", s), kv("lodash", "4.17.21"));
        assert_eq!(
            parse_key("/@babel/core/7.24.0", s),
            kv("@babel/core", "7.24.0")
        );
        assert_eq!(
            parse_key("/react-dom/18.2.0_react@18.2.0", s),
            kv("react-dom", "18.2.0")
        );
        assert_eq!(
            parse_key("/@s/x/1.0.0_@types+node@20.1.0", s),
            kv("@s/x", "1.0.0")
        );
        assert_eq!(parse_key("/lodash@4.17.21", a), kv("lodash", "4.17.21"));
        assert_eq!(
            parse_key("/@s/x@1.0.0(react@18.2.0)(b@1.0.0)", a),
            kv("@s/x", "1.0.0")
        );
        assert_eq!(
            parse_key("@s/x@1.0.0(patch_hash=abc)", a),
            kv("@s/x", "1.0.0")
        );
        assert_eq!(
            parse_key("foo@file:packages/foo", a),
            kv("foo", "file:packages/foo")
        );
        assert_eq!(
            parse_key("github.com/o/r/0123abc", s),
            kv("github.com", "o/r/0123abc")
        );
        assert_eq!(parse_key("/@s", s), None);
        assert_eq!(parse_key("@", a), None);
    }

    #[test]
    fn v9_snapshots_and_dev_by_reachability() {
        let text = r"lockfileVersion: '9.0'

importers:
  .:
    dependencies:
      react-dom:
        specifier: ^18.2.0
        version: 18.2.0(react@18.2.0)
    devDependencies:
      typescript:
        specifier: ^5.4.0
        version: 5.4.5
      local-lib:
        specifier: workspace:*
        version: link:packages/lib

packages:
  react-dom@18.2.0:
    resolution: {integrity: sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=}
    peerDependencies:
      react: ^18.2.0
  react@18.2.0:
    resolution: {integrity: sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=}
  typescript@5.4.5:
    resolution: {integrity: sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=}

snapshots:
  react-dom@18.2.0(react@18.2.0):
    dependencies:
      react: 18.2.0
  react@18.2.0: {}
  typescript@5.4.5: {}
";
        let p = parse_str(text, "pnpm-lock.yaml").unwrap();
        assert_eq!(
            purls(&p),
            [
                "pkg:npm/react-dom@18.2.0",
                "pkg:npm/react@18.2.0",
                "pkg:npm/typescript@5.4.5"
            ]
        );
        assert_eq!(p.packages[0].dependencies, ["pkg:npm/react@18.2.0"]);
        assert!(!p.packages[0].dev && !p.packages[1].dev);
        assert!(p.packages[2].dev);
    }

    #[test]
    fn v5_peer_variants_merge() {
        let text = r"lockfileVersion: 5.4

specifiers:
  a: ^1.0.0

dependencies:
  a: 1.0.0_b@2.0.0

packages:

  /a/1.0.0_b@2.0.0:
    resolution: {integrity: sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=}
    dependencies:
      b: 2.0.0
      c: /real-c/3.0.0
    dev: false

  /a/1.0.0_b@2.1.0:
    resolution: {integrity: sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=}
    dependencies:
      b: 2.1.0
    dev: true

  /b/2.0.0:
    resolution: {integrity: sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=}
    dev: false

  /b/2.1.0:
    resolution: {integrity: sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=}
    dev: true

  /real-c/3.0.0:
    resolution: {integrity: sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=}
    dev: false
";
        let p = parse_str(text, "pnpm-lock.yaml").unwrap();
        assert_eq!(
            purls(&p),
            [
                "pkg:npm/a@1.0.0",
                "pkg:npm/b@2.0.0",
                "pkg:npm/b@2.1.0",
                "pkg:npm/real-c@3.0.0"
            ]
        );
        assert_eq!(
            p.packages[0].dependencies,
            ["pkg:npm/b@2.0.0", "pkg:npm/b@2.1.0", "pkg:npm/real-c@3.0.0"]
        );
        assert!(!p.packages[0].dev);
        assert!(p.packages[2].dev);
    }

    #[test]
    fn errors() {
        let e = parse_str(
            "lockfileVersion: '6.0'\npackages:\n  /a@1.0.0:\n    resolution: [\n",
            "pnpm-lock.yaml",
        )
        .unwrap_err();
        assert!(e.line.is_some(), "{e}");
        let e = parse_str("hello: world\n", "pnpm-lock.yaml").unwrap_err();
        assert!(e.message.contains("not a pnpm-lock.yaml"), "{e}");
        let e = parse_str("lockfileVersion: abc\n", "pnpm-lock.yaml").unwrap_err();
        assert!(e.message.contains("not a version"), "{e}");
        assert!(parse_str("just text", "pnpm-lock.yaml").is_err());
    }
}
