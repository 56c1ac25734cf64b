//! `poetry.lock`, lock-version 1.x and 2.x.
//!
//! - **1.x** marks development packages with `category = "dev"` and keeps archive hashes in
//!   `[metadata.files]`, keyed by package name.
//! - **2.0** (Poetry 1.3–1.8) has per-package `files = [{ file, hash }]` and no dev information:
//!   every package is reported as a runtime one.
//! - **2.1** (Poetry 2) adds `groups = [...]`: a package is dev when `main` is not among them.
//!
//! Sources: `directory` and `file` packages are local code, not registry packages; they are left
//! out with a note. `git` and `url` packages are kept (their declared version is what advisories
//! can be matched against) with a note saying where they come from. `legacy` (a private index)
//! is an ordinary registry package.
//!
//! Edges come from `[package.dependencies]`, by PEP 503 name; when the lock holds several versions
//! of one name (per-marker forks), the edge points at each of them.
//!
//! The helpers at the bottom are shared with the other Python parsers.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::model::{Ecosystem, Package, PackageHash, ParseError, Parsed};

const ECO: Ecosystem = Ecosystem::PyPI;

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Spanned<RawPackage>>,
    #[serde(default)]
    metadata: RawMetadata,
}

#[derive(Deserialize, Default)]
struct RawMetadata {
    #[serde(default, rename = "lock-version")]
    lock_version: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, Vec<RawFile>>,
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    file: String,
    #[serde(default)]
    hash: String,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    files: Vec<RawFile>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    source: Option<RawSource>,
}

#[derive(Deserialize)]
struct RawSource {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    resolved_reference: Option<String>,
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = std::fs::read_to_string(root.join(rel))
        .map_err(|e| ParseError::new(rel, None, format!("cannot read the file: {e}")))?;
    parse_str(rel, &text)
}

/// Parses the text of a `poetry.lock`; `rel` labels packages, notes and errors.
pub fn parse_str(rel: &str, text: &str) -> Result<Parsed, ParseError> {
    let lock: Lock = toml::from_str(text).map_err(|e| toml_error(rel, text, &e))?;
    let mut out = Parsed::default();
    if let Some(v) = &lock.metadata.lock_version
        && !(v.starts_with("1.") || v.starts_with("2.") || v == "1" || v == "2")
    {
        out.notes.push(format!(
            "{rel}: poetry lock-version {v} is newer than evident knows; it was read as 2.x"
        ));
    }
    let metadata_files: BTreeMap<String, &Vec<RawFile>> = lock
        .metadata
        .files
        .iter()
        .map(|(k, v)| (ECO.normalize_name(k), v))
        .collect();
    let mut per_name: BTreeMap<String, usize> = BTreeMap::new();
    for p in &lock.package {
        *per_name
            .entry(ECO.normalize_name(&p.get_ref().name))
            .or_default() += 1;
    }

    // Kept packages with their raw dependency names.
    let mut kept: Vec<(Package, Vec<String>)> = Vec::new();
    for spanned in &lock.package {
        let line = line_at(text, spanned.span().start);
        let raw = spanned.get_ref();
        let name = raw.name.trim();
        let version = raw.version.trim();
        if name.is_empty() || version.is_empty() {
            return Err(ParseError::new(
                rel,
                Some(line),
                "a [[package]] has an empty name or version",
            ));
        }
        if let Some(src) = &raw.source {
            match src.kind.as_str() {
                "directory" | "file" => {
                    out.notes
                        .push(local_note(rel, line, name, &src.kind, &src.url));
                    continue;
                }
                "git" => {
                    let at = src
                        .resolved_reference
                        .as_deref()
                        .map(|r| format!(" at {r}"))
                        .unwrap_or_default();
                    out.notes.push(format!(
                        "{rel}:{line}: `{name}` {version} comes from git ({}{at}); it is matched \
                         against advisories by its declared version only",
                        src.url
                    ));
                }
                "url" => out.notes.push(format!(
                    "{rel}:{line}: `{name}` {version} comes from a direct URL ({}); it is matched \
                     against advisories by its declared version only",
                    src.url
                )),
                _ => {}
            }
        }
        let mut pkg = Package::new(ECO, name, version, rel);
        pkg.dev = match (&raw.groups, &raw.category) {
            (Some(groups), _) => !groups.is_empty() && !groups.iter().any(|g| g == "main"),
            (None, Some(category)) => category == "dev",
            (None, None) => false,
        };
        let norm = ECO.normalize_name(name);
        let several = per_name.get(&norm).copied().unwrap_or(0) > 1;
        let files = raw
            .files
            .iter()
            .chain(metadata_files.get(&norm).into_iter().flat_map(|v| v.iter()));
        for f in files {
            if several && !file_is_version(&f.file, version) {
                continue;
            }
            if let Some(h) = python_hash(&f.hash) {
                pkg.hashes.push(h);
            }
        }
        pkg.hashes.sort();
        pkg.hashes.dedup();
        let deps = raw
            .dependencies
            .keys()
            .map(|d| ECO.normalize_name(d))
            .collect();
        kept.push((pkg, deps));
    }

    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (p, _) in &kept {
        ids.entry(ECO.normalize_name(&p.name))
            .or_default()
            .push(p.id());
    }
    for (mut pkg, deps) in kept {
        let own = pkg.id();
        for d in deps {
            for id in ids.get(&d).into_iter().flatten() {
                if *id != own {
                    pkg.dependencies.push(id.clone());
                }
            }
        }
        pkg.dependencies.sort();
        pkg.dependencies.dedup();
        out.packages.push(pkg);
    }
    Ok(out)
}

/// Whether an archive file name (`name-1.2.3.tar.gz`, `name-1.2.3-py3-none-any.whl`) is of
/// `version`; used only when a 1.x `[metadata.files]` entry serves several versions of a name.
fn file_is_version(file: &str, version: &str) -> bool {
    [".tar.gz", ".tar.bz2", ".zip", ".tgz", "-"]
        .iter()
        .any(|tail| file.contains(&format!("-{version}{tail}")))
}

fn local_note(rel: &str, line: usize, name: &str, kind: &str, path: &str) -> String {
    format!(
        "{rel}:{line}: `{name}` comes from a local {kind} ({path}), not a package registry; it \
         is left out of the inventory and not matched against advisories"
    )
}

/// A `sha256:<hex>` (also `sha384`, `sha512`) archive hash as Python lockfiles write it; other
/// algorithms (`md5`) and malformed values give `None`.
pub(crate) fn python_hash(s: &str) -> Option<PackageHash> {
    let (alg, value) = s.trim().split_once(':')?;
    let (alg, len) = match alg.to_ascii_lowercase().as_str() {
        "sha256" => ("SHA-256", 64),
        "sha384" => ("SHA-384", 96),
        "sha512" => ("SHA-512", 128),
        _ => return None,
    };
    (value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit())).then(|| PackageHash {
        alg: alg.to_owned(),
        value: value.to_ascii_lowercase(),
    })
}

/// The 1-based line of a byte offset.
pub(crate) fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].split(|&b| b == b'\n').count()
}

/// A TOML syntax or shape error, with the line it points at.
pub(crate) fn toml_error(rel: &str, text: &str, e: &toml::de::Error) -> ParseError {
    let line = e.span().map(|s| line_at(text, s.start));
    ParseError::new(rel, line, e.message().trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = r#"
[[package]]
name = "Flask"
version = "2.0.1"
category = "main"
optional = false
python-versions = ">=3.6"

[package.dependencies]
Jinja2 = ">=3.0"
click = {version = ">=7.1.2", markers = "python_version >= \"3.6\""}

[[package]]
name = "jinja2"
version = "3.0.1"
category = "main"

[[package]]
name = "pytest"
version = "7.0.0"
category = "dev"

[package.dependencies]
flask = "*"

[metadata]
lock-version = "1.1"

[metadata.files]
flask = [
    {file = "Flask-2.0.1-py3-none-any.whl", hash = "sha256:A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90"},
    {file = "Flask-2.0.1.tar.gz", hash = "md5:0123456789abcdef0123456789abcdef"},
]
"#;

    #[test]
    fn v1_categories_hashes_and_edges() {
        let parsed = parse_str("poetry.lock", V1).unwrap();
        let flask = &parsed.packages[0];
        assert_eq!(flask.purl, "pkg:pypi/flask@2.0.1");
        assert!(!flask.dev);
        assert_eq!(flask.dependencies, vec!["pkg:pypi/jinja2@3.0.1"]);
        assert_eq!(flask.hashes.len(), 1, "md5 is not kept");
        assert_eq!(flask.hashes[0].alg, "SHA-256");
        assert!(flask.hashes[0].value.starts_with("a1b2c3"));
        assert!(parsed.packages[2].dev);
        assert_eq!(
            parsed.packages[2].dependencies,
            vec!["pkg:pypi/flask@2.0.1"]
        );
    }

    #[test]
    fn v2_groups_decide_dev() {
        let text = r#"
[[package]]
name = "black"
version = "24.1.0"
groups = ["dev", "lint"]
files = [{file = "black-24.1.0.tar.gz", hash = "sha256:1111111111111111111111111111111111111111111111111111111111111111"}]

[[package]]
name = "rich"
version = "13.0.0"
groups = ["main", "dev"]

[metadata]
lock-version = "2.1"
"#;
        let parsed = parse_str("poetry.lock", text).unwrap();
        assert!(parsed.packages[0].dev);
        assert_eq!(parsed.packages[0].hashes.len(), 1);
        assert!(!parsed.packages[1].dev);
    }

    #[test]
    fn local_directory_is_left_out_with_a_note() {
        let text = r#"
[[package]]
name = "mylib"
version = "0.1.0"

[package.source]
type = "directory"
url = "../mylib"
"#;
        let parsed = parse_str("poetry.lock", text).unwrap();
        assert!(parsed.packages.is_empty());
        assert!(parsed.notes[0].starts_with("poetry.lock:2: `mylib` comes from a local directory"));
    }

    #[test]
    fn missing_version_is_an_error_with_a_line() {
        let err = parse_str("poetry.lock", "\n[[package]]\nname = \"x\"\n").unwrap_err();
        assert_eq!(err.path, "poetry.lock");
        assert!(err.line.is_some());
        assert!(err.message.contains("version"), "{err}");
    }

    #[test]
    fn python_hashes() {
        assert!(python_hash("sha256:abc").is_none());
        assert!(python_hash("md5:0123456789abcdef0123456789abcdef").is_none());
        let h = python_hash(&format!("sha512:{}", "AB".repeat(64))).unwrap();
        assert_eq!(h.alg, "SHA-512");
        assert_eq!(h.value, "ab".repeat(64));
    }
}
