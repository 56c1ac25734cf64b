//! `Pipfile.lock` (pipenv): JSON with a `default` section (runtime) and a `develop` section (dev),
//! each mapping a name to `{ "version": "==1.2.3", "hashes": ["sha256:…"], … }`.
//!
//! A package in both sections is a runtime one. Entries without a pinned version — `git`,
//! `path`/`file` and editable entries — are not registry packages: each becomes a note. The
//! format records no dependency edges. Packages are listed by section, then by name.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::poetry::python_hash;
use crate::model::{Ecosystem, Package, ParseError, Parsed};

const ECO: Ecosystem = Ecosystem::PyPI;

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    default: BTreeMap<String, Entry>,
    #[serde(default)]
    develop: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(default)]
    git: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    file: Option<String>,
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = std::fs::read_to_string(root.join(rel))
        .map_err(|e| ParseError::new(rel, None, format!("cannot read the file: {e}")))?;
    parse_str(rel, &text)
}

/// Parses the text of a `Pipfile.lock`; `rel` labels packages, notes and errors.
pub fn parse_str(rel: &str, text: &str) -> Result<Parsed, ParseError> {
    let lock: Lock = json_object(rel, text)?;
    let mut out = Parsed::default();
    let mut runtime: Vec<(String, String)> = Vec::new();
    for (section, entries, dev) in [
        ("default", &lock.default, false),
        ("develop", &lock.develop, true),
    ] {
        for (name, entry) in entries {
            let line = line_of_key(text, name);
            let at = line.map(|l| format!(":{l}")).unwrap_or_default();
            let version = entry.version.as_deref().map_or("", str::trim);
            let pinned = version
                .strip_prefix("===")
                .or_else(|| version.strip_prefix("=="))
                .map(str::trim)
                .filter(|v| !v.is_empty() && !v.contains('*'));
            let Some(version) = pinned else {
                let why = if let Some(git) = &entry.git {
                    format!("comes from git ({git}), not a package registry")
                } else if let Some(p) = entry.path.as_ref().or(entry.file.as_ref()) {
                    format!("comes from a local path or URL ({p}), not a package registry")
                } else if version.is_empty() {
                    "has no version".to_owned()
                } else {
                    format!("is not pinned (`{version}`)")
                };
                out.notes.push(format!(
                    "{rel}{at}: `{name}` in `{section}` {why}; it is left out of the inventory \
                     and not matched against advisories"
                ));
                continue;
            };
            let key = (ECO.normalize_name(name), version.to_owned());
            if dev && runtime.contains(&key) {
                continue;
            }
            let mut pkg = Package::new(ECO, name, version, rel);
            pkg.dev = dev;
            pkg.hashes = entry.hashes.iter().filter_map(|h| python_hash(h)).collect();
            pkg.hashes.sort();
            pkg.hashes.dedup();
            if !dev {
                runtime.push(key);
            }
            out.packages.push(pkg);
        }
    }
    Ok(out)
}

/// Deserialises a JSON document that must be an object (serde would also accept an array).
pub(crate) fn json_object<T: serde::de::DeserializeOwned>(
    rel: &str,
    text: &str,
) -> Result<T, ParseError> {
    let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if !trimmed.starts_with('{') {
        let line = text[..text.len() - trimmed.len()].matches('\n').count() + 1;
        return Err(ParseError::new(rel, Some(line), "expected a JSON object"));
    }
    serde_json::from_str(trimmed).map_err(|e| {
        let mut err = json_error(rel, &e);
        let skipped = text[..text.len() - trimmed.len()].matches('\n').count();
        err.line = err.line.map(|l| l + skipped);
        err
    })
}

/// A JSON syntax error with its line (serde_json's message without its own position suffix).
fn json_error(rel: &str, e: &serde_json::Error) -> ParseError {
    let msg = e.to_string();
    let msg = msg
        .rsplit_once(" at line ")
        .map_or(msg.as_str(), |(m, _)| m)
        .to_owned();
    ParseError::new(rel, (e.line() > 0).then_some(e.line()), msg)
}

/// The line of the first `"key":` in a JSON text, for notes about a parsed entry.
pub(crate) fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let needle = serde_json::to_string(key).ok()?;
    let mut from = 0;
    while let Some(pos) = text[from..].find(&needle) {
        let at = from + pos;
        let after = text[at + needle.len()..].trim_start();
        if after.starts_with(':') {
            return Some(text[..at].matches('\n').count() + 1);
        }
        from = at + needle.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"{
    "_meta": {"hash": {"sha256": "x"}, "pipfile-spec": 6},
    "default": {
        "requests": {
            "hashes": ["sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f"],
            "index": "pypi",
            "markers": "python_version >= '3.7'",
            "version": "==2.31.0"
        },
        "mylib": {"editable": true, "path": "."},
        "six": {"version": "==1.16.0"}
    },
    "develop": {
        "pytest": {"version": "==8.0.0"},
        "six": {"version": "==1.16.0"},
        "tool": {"git": "https://github.com/example/tool.git", "ref": "abc123"}
    }
}"#;

    #[test]
    fn sections_pins_and_notes() {
        let parsed = parse_str("Pipfile.lock", LOCK).unwrap();
        let got: Vec<(&str, &str, bool)> = parsed
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.dev))
            .collect();
        assert_eq!(
            got,
            vec![
                ("requests", "2.31.0", false),
                ("six", "1.16.0", false),
                ("pytest", "8.0.0", true)
            ]
        );
        assert_eq!(parsed.packages[0].hashes.len(), 1);
        assert_eq!(parsed.notes.len(), 2);
        assert!(
            parsed.notes[0]
                .starts_with("Pipfile.lock:10: `mylib` in `default` comes from a local path")
        );
        assert!(parsed.notes[1].contains("`tool` in `develop` comes from git"));
    }

    #[test]
    fn syntax_errors_have_lines() {
        let err = parse_str("Pipfile.lock", "{\n\"default\": {,}\n}").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(!err.message.contains("at line"));
        assert!(parse_str("Pipfile.lock", "[]").is_err());
        assert!(parse_str("Pipfile.lock", r#"{"default": {"a": 3}}"#).is_err());
    }
}
