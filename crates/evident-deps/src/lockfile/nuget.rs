//! NuGet `packages.lock.json` (lock versions 1 and 2).
//!
//! `dependencies` maps each target framework (`net8.0`, `net8.0/linux-x64`, …) to the packages
//! resolved for it: `{ "type": "Direct" | "Transitive" | "CentralTransitive" | "Project",
//! "resolved": "13.0.3", "contentHash": "<base64 SHA-512>", "dependencies": { name: range } }`.
//!
//! - `Project` entries are other projects of the solution, not packages.
//! - A package resolved to the same version in several frameworks is one package, with the
//!   union of its edges; edges point at the version resolved in the same framework.
//! - `contentHash` (base64 SHA-512 of the `.nupkg`) becomes a hex `SHA-512` hash.
//! - The lockfile does not say which projects are test projects: no package is dev.
//!
//! Packages are listed by name (case-insensitively), then version.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::pipfile::{json_object, line_of_key};
use crate::model::{Ecosystem, Package, PackageHash, ParseError, Parsed};

const ECO: Ecosystem = Ecosystem::NuGet;

/// A package by lower-case name and version.
type Key = (String, String);

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    dependencies: BTreeMap<String, BTreeMap<String, Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default, rename = "contentHash")]
    content_hash: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = std::fs::read_to_string(root.join(rel))
        .map_err(|e| ParseError::new(rel, None, format!("cannot read the file: {e}")))?;
    parse_str(rel, &text)
}

/// Parses the text of a `packages.lock.json`; `rel` labels packages, notes and errors.
pub fn parse_str(rel: &str, text: &str) -> Result<Parsed, ParseError> {
    let lock: Lock = json_object(rel, text)?;
    let mut out = Parsed::default();
    if let Some(v) = lock.version
        && !(1..=2).contains(&v)
    {
        out.notes.push(format!(
            "{rel}: packages.lock.json version {v} is newer than evident knows; it was read as \
             version 2"
        ));
    }
    // (lower-case name, version) → the package and the (lower-case name, version) it uses.
    let mut packages: BTreeMap<Key, (Package, Vec<Key>)> = BTreeMap::new();
    for entries in lock.dependencies.values() {
        // What each name resolves to in this framework (projects resolve to nothing).
        let resolved: BTreeMap<String, &str> = entries
            .iter()
            .filter(|(_, e)| e.kind != "Project")
            .filter_map(|(name, e)| Some((ECO.normalize_name(name), e.resolved.as_deref()?.trim())))
            .collect();
        for (name, entry) in entries {
            if entry.kind == "Project" {
                continue;
            }
            let version = entry.resolved.as_deref().map_or("", str::trim);
            let name = name.trim();
            if version.is_empty() || name.is_empty() {
                return Err(ParseError::new(
                    rel,
                    line_of_key(text, name),
                    format!("`{name}` has no resolved version"),
                ));
            }
            let key = (ECO.normalize_name(name), version.to_owned());
            let (pkg, edges) = packages
                .entry(key)
                .or_insert_with(|| (Package::new(ECO, name, version, rel), Vec::new()));
            if let Some(hash) = entry.content_hash.as_deref() {
                let h = content_hash(hash).ok_or_else(|| {
                    ParseError::new(
                        rel,
                        line_of_key(text, name),
                        format!("`{name}`: contentHash `{hash}` is not base64 of a SHA-512"),
                    )
                })?;
                if !pkg.hashes.contains(&h) {
                    pkg.hashes.push(h);
                }
            }
            for dep in entry.dependencies.keys() {
                let norm = ECO.normalize_name(dep);
                if let Some(v) = resolved.get(&norm) {
                    edges.push((norm, (*v).to_owned()));
                }
            }
        }
    }
    let ids: BTreeMap<Key, String> = packages
        .iter()
        .map(|(k, (p, _))| (k.clone(), p.id()))
        .collect();
    for (key, (mut pkg, edges)) in packages {
        pkg.dependencies = edges
            .iter()
            .filter(|e| **e != key)
            .filter_map(|e| ids.get(e).cloned())
            .collect();
        pkg.dependencies.sort();
        pkg.dependencies.dedup();
        pkg.hashes.sort();
        out.packages.push(pkg);
    }
    Ok(out)
}

/// A base64 (standard alphabet, padded or not) SHA-512 as a hex `PackageHash`.
fn content_hash(b64: &str) -> Option<PackageHash> {
    let bytes = base64_decode(b64.trim())?;
    (bytes.len() == 64).then(|| PackageHash {
        alg: "SHA-512".to_owned(),
        value: hex::encode(bytes),
    })
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A single leftover sextet cannot be valid base64.
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str =
        "HrC5BXdl00IP9zeV+0Z848QWPAoCr9P3bDEZguI+gkLcBKAOxix/tLEAAHC+UvDNPv4a2d18lOReHMOagPa+zQ==";

    fn lock() -> String {
        format!(
            r#"{{
  "version": 1,
  "dependencies": {{
    "net8.0": {{
      "Newtonsoft.Json": {{
        "type": "Direct",
        "requested": "[13.0.3, )",
        "resolved": "13.0.3",
        "contentHash": "{HASH}"
      }},
      "Serilog": {{
        "type": "Transitive",
        "resolved": "3.1.1",
        "dependencies": {{ "newtonsoft.json": "13.0.1" }}
      }},
      "MyApp.Core": {{
        "type": "Project",
        "dependencies": {{ "Serilog": "[3.1.1, )" }}
      }}
    }},
    "net6.0": {{
      "Newtonsoft.Json": {{
        "type": "Direct",
        "requested": "[13.0.3, )",
        "resolved": "13.0.3",
        "contentHash": "{HASH}"
      }}
    }}
  }}
}}"#
        )
    }

    #[test]
    fn frameworks_merge_projects_drop_and_hashes_decode() {
        let parsed = parse_str("packages.lock.json", &lock()).unwrap();
        assert_eq!(parsed.packages.len(), 2);
        let json = &parsed.packages[0];
        assert_eq!(json.purl, "pkg:nuget/Newtonsoft.Json@13.0.3");
        assert_eq!(json.hashes.len(), 1);
        assert_eq!(json.hashes[0].alg, "SHA-512");
        assert!(json.hashes[0].value.starts_with("1eb0b90577"));
        assert_eq!(json.hashes[0].value.len(), 128);
        assert_eq!(
            parsed.packages[1].dependencies,
            ["pkg:nuget/Newtonsoft.Json@13.0.3"]
        );
    }

    #[test]
    fn bad_hash_and_missing_version_are_errors() {
        let bad = lock().replace(HASH, "not base64!");
        let err = parse_str("packages.lock.json", &bad).unwrap_err();
        assert_eq!(err.line, Some(5));
        let err = parse_str(
            "packages.lock.json",
            "{\"dependencies\": {\"net8.0\": {\n\"A\": {\"type\": \"Direct\"}}}}",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(parse_str("packages.lock.json", "{\"dependencies\": [1]}").is_err());
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode("TWFu").unwrap(), b"Man");
        assert_eq!(base64_decode("TWE=").unwrap(), b"Ma");
        assert_eq!(base64_decode("TQ==").unwrap(), b"M");
        assert!(base64_decode("T").is_none());
    }
}
