//! `composer.lock`.
//!
//! - `packages` and `packages-dev` (dev) entries: `vendor/package` names, versions verbatim
//!   (`v6.4.1`, `3.5.0`, `dev-main`).
//! - `dist.shasum` (SHA-1 of the archive) when Composer recorded one (it is often empty).
//! - `license`: Composer's array means a choice between licences, so several become one SPDX
//!   expression `A OR B`.
//! - Edges: `require` names resolved by name (one version per name in a lockfile); platform
//!   requirements (`php`, `ext-*`, `lib-*`, `composer-*`) name no package and are dropped.
//! - `dist.type: path` packages (path repositories) are local code: left out with a note.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::npm::common::{Dedup, hex_digest, json, list_for_note, read};
use crate::model::{Ecosystem, Package, ParseError, Parsed, purl};

#[derive(Deserialize)]
struct Lock {
    packages: Option<Vec<Entry>>,
    #[serde(rename = "packages-dev")]
    packages_dev: Option<Vec<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    version: String,
    #[serde(default)]
    dist: Option<Dist>,
    /// An array of SPDX ids, sometimes a single string.
    #[serde(default)]
    license: Option<serde_json::Value>,
    /// An object, or `[]` when PHP encoded an empty one.
    #[serde(default)]
    require: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Dist {
    #[serde(rename = "type")]
    kind: Option<String>,
    shasum: Option<String>,
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = read(root, rel)?;
    parse_str(&text, rel)
}

fn parse_str(text: &str, rel: &str) -> Result<Parsed, ParseError> {
    let lock: Lock = json(rel, "composer.lock", text)?;
    if lock.packages.is_none() && lock.packages_dev.is_none() {
        return Err(ParseError::new(
            rel,
            None,
            "not a composer.lock: no `packages` or `packages-dev`",
        ));
    }
    let entries: Vec<(Entry, bool)> = lock
        .packages
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e, false))
        .chain(
            lock.packages_dev
                .unwrap_or_default()
                .into_iter()
                .map(|e| (e, true)),
        )
        .collect();

    let mut local = Vec::new();
    // Lower-cased name → purl, for `require` edges.
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for (e, _) in &entries {
        if !is_local(e) {
            by_name.insert(
                e.name.to_ascii_lowercase(),
                purl(Ecosystem::Packagist, &e.name, &e.version),
            );
        }
    }
    let mut out = Dedup::default();
    for (e, dev) in &entries {
        if e.name.trim().is_empty() || e.version.trim().is_empty() {
            return Err(ParseError::new(
                rel,
                None,
                "a package has an empty `name` or `version`",
            ));
        }
        if is_local(e) {
            local.push(format!("{} {}", e.name, e.version));
            continue;
        }
        let mut p = Package::new(Ecosystem::Packagist, &e.name, &e.version, rel);
        p.dev = *dev;
        if let Some(h) = e
            .dist
            .as_ref()
            .and_then(|d| d.shasum.as_deref())
            .and_then(|s| hex_digest("sha1", s))
        {
            p.hashes.push(h);
        }
        if let Some(l) = license(e.license.as_ref()) {
            p.licenses.push(l);
        }
        if let Some(serde_json::Value::Object(req)) = &e.require {
            for name in req.keys() {
                if let Some(target) = by_name.get(&name.to_ascii_lowercase()) {
                    p.dependencies.push(target.clone());
                }
            }
        }
        out.insert(p);
    }
    let mut notes = Vec::new();
    if !local.is_empty() {
        notes.push(format!(
            "{rel}: packages from path repositories are local, not registry packages, left out: {}",
            list_for_note(&local)
        ));
    }
    Ok(Parsed {
        packages: out.into_packages(),
        notes,
    })
}

fn is_local(e: &Entry) -> bool {
    e.dist
        .as_ref()
        .and_then(|d| d.kind.as_deref())
        .is_some_and(|k| k == "path")
}

/// Composer's `license` (a disjunction) as one SPDX expression.
fn license(v: Option<&serde_json::Value>) -> Option<String> {
    let ids: Vec<&str> = match v? {
        serde_json::Value::String(s) => vec![s.as_str()],
        serde_json::Value::Array(a) => a.iter().filter_map(serde_json::Value::as_str).collect(),
        _ => Vec::new(),
    };
    let ids: Vec<&str> = ids
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    match ids.as_slice() {
        [] => None,
        [one] => Some((*one).to_owned()),
        many => Some(
            many.iter()
                .map(|s| {
                    if needs_parens(s) {
                        format!("({s})")
                    } else {
                        (*s).to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" OR "),
        ),
    }
}

/// A compound expression inside an `OR` list keeps its own grouping.
fn needs_parens(s: &str) -> bool {
    s.contains(' ') && !(s.starts_with('(') && s.ends_with(')'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_dev_hashes_licences_edges() {
        let text = r#"{
  "content-hash": "x",
  "packages": [
    {"name": "monolog/monolog", "version": "3.5.0",
     "dist": {"type": "zip", "url": "https://x", "reference": "r", "shasum": "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"},
     "require": {"php": ">=8.1", "psr/log": "^2.0 || ^3.0"},
     "license": ["MIT"]},
    {"name": "psr/log", "version": "3.0.0", "dist": {"type": "zip", "shasum": ""},
     "require": [], "license": ["MIT", "Apache-2.0"]},
    {"name": "acme/local", "version": "dev-main", "dist": {"type": "path", "url": "../local"}}
  ],
  "packages-dev": [
    {"name": "phpunit/phpunit", "version": "10.5.0", "license": "BSD-3-Clause"}
  ]
}"#;
        let p = parse_str(text, "composer.lock").unwrap();
        let got: Vec<&str> = p.packages.iter().map(|x| x.purl.as_str()).collect();
        assert_eq!(
            got,
            [
                "pkg:composer/monolog/monolog@3.5.0",
                "pkg:composer/phpunit/phpunit@10.5.0",
                "pkg:composer/psr/log@3.0.0"
            ]
        );
        assert_eq!(p.packages[0].dependencies, ["pkg:composer/psr/log@3.0.0"]);
        assert_eq!(
            p.packages[0].hashes[0].value,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert!(p.packages[2].hashes.is_empty());
        assert_eq!(p.packages[2].licenses, ["MIT OR Apache-2.0"]);
        assert!(p.packages[1].dev);
        assert_eq!(p.packages[1].licenses, ["BSD-3-Clause"]);
        assert!(p.notes[0].contains("acme/local"));
    }

    #[test]
    fn licence_expressions() {
        let v = serde_json::json!(["GPL-2.0-only OR MIT", "BSD-3-Clause"]);
        assert_eq!(
            license(Some(&v)).unwrap(),
            "(GPL-2.0-only OR MIT) OR BSD-3-Clause"
        );
        let v = serde_json::json!([]);
        assert_eq!(license(Some(&v)), None);
    }

    #[test]
    fn errors() {
        let e = parse_str(
            "{\n  \"packages\": [\n    {\"name\": 1}\n  ]\n}",
            "composer.lock",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3));
        let e = parse_str("{}", "composer.lock").unwrap_err();
        assert!(e.message.contains("not a composer.lock"));
    }
}
