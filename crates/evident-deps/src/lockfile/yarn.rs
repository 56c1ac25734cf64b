//! `yarn.lock`: the classic v1 format and the berry (Yarn 2+) YAML format.
//!
//! - v1: yarn's own indentation format. Each entry's header lists the descriptors
//!   (`"a@^1", a@^1.1:`) it satisfies; fields are `version "1.2.3"`, `resolved`, `integrity` and
//!   `dependencies:` / `optionalDependencies:` blocks of `name range` lines. Aliases
//!   (`alias@npm:real@^1`) are named after the real package.
//! - berry (a `__metadata` key): YAML; the `resolution` (`name@npm:1.2.3`) names the package,
//!   `version` is its version. `linkType: soft` entries (workspaces, `link:`, `portal:`) are not
//!   packages. `patch:` entries (`resolve@patch:resolve@npm%3A1.22.8#…`) are the same package
//!   as the one they patch: one package per name and version.
//! - `file:` (and, in v1, `link:`) packages are local: left out, named in a note.
//! - Edges: each dependency `name range` is looked up as the descriptor `name@range` (berry also
//!   `name@npm:range`, as older berry lockfiles omit the protocol in dependency ranges), then by
//!   name when only one package has it.
//! - Hashes: v1 `integrity` (SRI) and the SHA-1 in a tarball URL's `#` fragment. Berry's
//!   `checksum` is left out on purpose: it is the SHA-512 of the zip yarn builds for its own
//!   cache (its `cacheKey` prefix says which build settings), not of the published tarball, so a
//!   consumer of the SBOM could not verify it against the registry.
//! - Neither format records dev-only packages: `dev` is always false.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::npm::common::{Dedup, hex_digest, list_for_note, read, sri_hashes, yaml};
use crate::model::{Ecosystem, Package, PackageHash, ParseError, Parsed, purl};

/// One lockfile entry, in either format.
struct Entry {
    descriptors: Vec<String>,
    /// `None`: not a registry package (workspace, link, local file).
    package: Option<(String, String)>,
    hashes: Vec<PackageHash>,
    deps: Vec<(String, String)>,
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = read(root, rel)?;
    parse_str(&text, rel)
}

fn parse_str(text: &str, rel: &str) -> Result<Parsed, ParseError> {
    let is_berry = text
        .lines()
        .any(|l| l.starts_with("__metadata:") || l.starts_with("\"__metadata\":"));
    let mut notes = Vec::new();
    let mut local = Vec::new();
    let entries = if is_berry {
        berry(text, rel, &mut local)?
    } else {
        classic(text, rel, &mut local)?
    };

    // Descriptor → entry, and name → entries (for the by-name fallback).
    let mut by_descriptor: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        for d in &e.descriptors {
            by_descriptor.insert(d, i);
        }
        if let Some((name, _)) = &e.package {
            by_name.entry(name.as_str()).or_default().push(i);
        }
    }
    let package_purl = |i: usize| -> Option<String> {
        let (name, version) = entries[i].package.as_ref()?;
        Some(purl(Ecosystem::Npm, name, version))
    };

    let mut out = Dedup::default();
    for e in &entries {
        let Some((name, version)) = &e.package else {
            continue;
        };
        let mut p = Package::new(Ecosystem::Npm, name, version, rel);
        p.hashes.clone_from(&e.hashes);
        for (dep, range) in &e.deps {
            let found = by_descriptor
                .get(format!("{dep}@{range}").as_str())
                .or_else(|| by_descriptor.get(format!("{dep}@npm:{range}").as_str()))
                .copied()
                .or_else(|| match by_name.get(dep.as_str()) {
                    Some(v) if v.len() == 1 => Some(v[0]),
                    _ => None,
                });
            if let Some(target) = found.and_then(package_purl) {
                p.dependencies.push(target);
            }
        }
        out.insert(p);
    }
    if !local.is_empty() {
        notes.push(format!(
            "{rel}: workspace and local packages are not registry packages, left out: {}",
            list_for_note(&local)
        ));
    }
    Ok(Parsed {
        packages: out.into_packages(),
        notes,
    })
}

/// `name@range` → (name, range); scoped names keep their `@`.
fn split_descriptor(d: &str) -> (&str, &str) {
    match d.get(1..).and_then(|s| s.find('@')) {
        Some(i) => (&d[..=i], &d[i + 2..]),
        None => (d, ""),
    }
}

/// Decodes `%XX` escapes (berry writes `npm%3A` inside `patch:` locators).
fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------------
// berry

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct BerryEntry {
    version: Option<String>,
    resolution: Option<String>,
    link_type: Option<String>,
    dependencies: BTreeMap<String, String>,
    optional_dependencies: BTreeMap<String, String>,
}

fn berry(text: &str, rel: &str, local: &mut Vec<String>) -> Result<Vec<Entry>, ParseError> {
    let map: BTreeMap<String, BerryEntry> = yaml(rel, "yarn.lock (berry)", text)?;
    let mut entries = Vec::new();
    for (key, e) in map {
        if key == "__metadata" {
            continue;
        }
        let descriptors: Vec<String> = key
            .split(',')
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .collect();
        let Some(resolution) = e.resolution.as_deref() else {
            return Err(ParseError::new(
                rel,
                None,
                format!("entry `{key}` has no `resolution`"),
            ));
        };
        let (name, reference) = split_descriptor(resolution);
        let protocol = reference.split_once(':').map_or("", |(p, _)| p);
        let soft = e.link_type.as_deref() == Some("soft");
        let package = if soft || matches!(protocol, "workspace" | "link" | "portal" | "file") {
            local.push(resolution.to_owned());
            None
        } else {
            let version = match (e.version.as_deref(), protocol) {
                (Some(v), _) if !v.trim().is_empty() => v.trim().to_owned(),
                (_, "npm") => reference["npm:".len()..].to_owned(),
                (_, "patch") => {
                    // `patch:name@npm%3A1.2.3#…`: the patched locator's version.
                    let inner =
                        percent_decode(reference["patch:".len()..].split('#').next().unwrap_or(""));
                    let (_, r) = split_descriptor(&inner);
                    r.strip_prefix("npm:").unwrap_or(r).to_owned()
                }
                _ => String::new(),
            };
            if version.is_empty() {
                return Err(ParseError::new(
                    rel,
                    None,
                    format!("entry `{key}` has no `version`"),
                ));
            }
            Some((name.to_owned(), version))
        };
        entries.push(Entry {
            descriptors,
            package,
            hashes: Vec::new(),
            deps: e
                .dependencies
                .into_iter()
                .chain(e.optional_dependencies)
                .collect(),
        });
    }
    Ok(entries)
}

// ---------------------------------------------------------------------------------------------
// v1

/// A node of the v1 format: a scalar, or a block of entries (each with its header keys).
enum Value {
    Str(String),
    Block(Vec<Node>),
}

struct Node {
    keys: Vec<String>,
    line: usize,
    value: Value,
}

/// The deepest nesting the v1 format uses is 3 (entry → dependencies → dependency).
const MAX_DEPTH: usize = 8;

fn classic(text: &str, rel: &str, local: &mut Vec<String>) -> Result<Vec<Entry>, ParseError> {
    let lines: Vec<(usize, usize, &str)> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let content = l.trim_start_matches([' ', '\t']);
            let content = content.trim_end();
            (!content.is_empty() && !content.starts_with('#')).then(|| {
                (
                    i + 1,
                    l.len() - l.trim_start_matches([' ', '\t']).len(),
                    content,
                )
            })
        })
        .collect();
    let mut idx = 0;
    let nodes = block(&lines, &mut idx, 0, 0, rel)?;
    let mut entries = Vec::new();
    for node in nodes {
        let Value::Block(fields) = node.value else {
            return Err(ParseError::new(
                rel,
                Some(node.line),
                "expected an entry header (`name@range:`), not a value",
            ));
        };
        let field = |k: &str| {
            fields.iter().find_map(|f| match &f.value {
                Value::Str(s) if f.keys.first().is_some_and(|x| x == k) => Some(s.as_str()),
                _ => None,
            })
        };
        let Some(version) = field("version").filter(|v| !v.is_empty()) else {
            return Err(ParseError::new(
                rel,
                Some(node.line),
                "entry has no `version`",
            ));
        };
        let first = node.keys.first().map_or("", String::as_str);
        let (key_name, range) = split_descriptor(first);
        let name = match range.strip_prefix("npm:") {
            Some(alias) if alias.contains('@') => split_descriptor(alias).0,
            Some(alias) => alias,
            None => key_name,
        };
        if name.is_empty() {
            return Err(ParseError::new(
                rel,
                Some(node.line),
                "entry header has no package name",
            ));
        }
        let resolved = field("resolved").unwrap_or("");
        let is_local = ["file:", "link:", "portal:"]
            .iter()
            .any(|p| range.starts_with(p))
            || resolved.starts_with("file:");
        let package = if is_local {
            local.push(first.to_owned());
            None
        } else {
            Some((name.to_owned(), version.to_owned()))
        };
        let mut hashes = field("integrity").map(sri_hashes).unwrap_or_default();
        // `…/a-1.0.0.tgz#<sha1>`: the tarball's SHA-1 (a git URL's fragment is a commit, not this).
        if let Some((url, frag)) = resolved.split_once('#')
            && Path::new(url)
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("tgz"))
            && !hashes.iter().any(|h| h.alg == "SHA-1")
        {
            hashes.extend(hex_digest("sha1", frag));
        }
        let mut deps = Vec::new();
        for f in &fields {
            let Value::Block(list) = &f.value else {
                continue;
            };
            if !matches!(
                f.keys.first().map(String::as_str),
                Some("dependencies" | "optionalDependencies")
            ) {
                continue;
            }
            for d in list {
                if let (Some(n), Value::Str(r)) = (d.keys.first(), &d.value) {
                    deps.push((n.clone(), r.clone()));
                }
            }
        }
        entries.push(Entry {
            descriptors: node.keys,
            package,
            hashes,
            deps,
        });
    }
    Ok(entries)
}

fn block(
    lines: &[(usize, usize, &str)],
    idx: &mut usize,
    indent: usize,
    depth: usize,
    rel: &str,
) -> Result<Vec<Node>, ParseError> {
    let mut out = Vec::new();
    while let Some(&(line, ind, content)) = lines.get(*idx) {
        if ind < indent {
            break;
        }
        if ind > indent {
            return Err(ParseError::new(rel, Some(line), "unexpected indentation"));
        }
        *idx += 1;
        if let Some(head) = header(content) {
            let keys = split_keys(head, line, rel)?;
            let child = match lines.get(*idx) {
                Some(&(_, child_ind, _)) if child_ind > ind => {
                    if depth + 1 >= MAX_DEPTH {
                        return Err(ParseError::new(rel, Some(line), "nested too deeply"));
                    }
                    block(lines, idx, child_ind, depth + 1, rel)?
                }
                _ => Vec::new(),
            };
            out.push(Node {
                keys,
                line,
                value: Value::Block(child),
            });
        } else {
            let (key, rest) = token(content, line, rel)?;
            let rest = rest.trim();
            let value = if rest.starts_with('"') {
                let (v, after) = token(rest, line, rel)?;
                if !after.trim().is_empty() {
                    return Err(ParseError::new(
                        rel,
                        Some(line),
                        "unexpected text after a value",
                    ));
                }
                v
            } else {
                rest.to_owned()
            };
            out.push(Node {
                keys: vec![key],
                line,
                value: Value::Str(value),
            });
        }
    }
    Ok(out)
}

/// The text before a header's final `:` (outside quotes), if the line is a header.
fn header(content: &str) -> Option<&str> {
    let head = content.strip_suffix(':')?;
    let mut in_quote = false;
    let mut escaped = false;
    for c in head.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quote => escaped = true,
            '"' => in_quote = !in_quote,
            _ => {}
        }
    }
    (!in_quote).then_some(head)
}

/// One key or value: a JSON-style quoted string or a bare word; and what follows it.
fn token<'a>(s: &'a str, line: usize, rel: &str) -> Result<(String, &'a str), ParseError> {
    if s.starts_with('"') {
        let mut escaped = false;
        for (i, c) in s.char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    let v: String = serde_json::from_str(&s[..=i]).map_err(|e| {
                        ParseError::new(rel, Some(line), format!("bad quoted string: {e}"))
                    })?;
                    return Ok((v, &s[i + 1..]));
                }
                _ => {}
            }
        }
        Err(ParseError::new(
            rel,
            Some(line),
            "unterminated quoted string",
        ))
    } else {
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        Ok((s[..end].to_owned(), &s[end..]))
    }
}

/// Header keys: `"a@^1", a@^1.1` → [`a@^1`, `a@^1.1`].
fn split_keys(head: &str, line: usize, rel: &str) -> Result<Vec<String>, ParseError> {
    let mut keys = Vec::new();
    let mut rest = head.trim();
    while !rest.is_empty() {
        let (key, after) = if rest.starts_with('"') {
            token(rest, line, rel)?
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            (rest[..end].trim().to_owned(), &rest[end..])
        };
        if key.is_empty() {
            return Err(ParseError::new(
                rel,
                Some(line),
                "empty key in an entry header",
            ));
        }
        keys.push(key);
        let after = after.trim_start();
        rest = match after.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if after.is_empty() => after,
            None => {
                return Err(ParseError::new(
                    rel,
                    Some(line),
                    "expected `,` between the keys of an entry header",
                ));
            }
        };
    }
    if keys.is_empty() {
        return Err(ParseError::new(rel, Some(line), "empty entry header"));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purls(p: &Parsed) -> Vec<&str> {
        p.packages.iter().map(|x| x.purl.as_str()).collect()
    }

    #[test]
    fn v1_headers_aliases_and_edges() {
        let text = r#"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
  version "7.12.13"
  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz#dcfc826beef65e75c50e21d3837d7d95798dd658"
  dependencies:
    "@babel/highlight" "^7.12.13"

"@babel/highlight@^7.12.13":
  version "7.13.10"
  integrity sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=

"string-width-cjs@npm:string-width@^4.2.0":
  version "4.2.3"

local@file:../local:
  version "1.0.0"
"#;
        let p = parse_str(text, "yarn.lock").unwrap();
        assert_eq!(
            purls(&p),
            [
                "pkg:npm/%40babel/code-frame@7.12.13",
                "pkg:npm/%40babel/highlight@7.13.10",
                "pkg:npm/string-width@4.2.3"
            ]
        );
        assert_eq!(
            p.packages[0].dependencies,
            ["pkg:npm/%40babel/highlight@7.13.10"]
        );
        assert_eq!(
            p.packages[0].hashes[0].value,
            "dcfc826beef65e75c50e21d3837d7d95798dd658"
        );
        assert_eq!(
            p.packages[1].hashes[0].value,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert!(p.notes[0].contains("local@file:../local"));
    }

    #[test]
    fn berry_patches_merge_and_workspaces_drop() {
        let text = r#"__metadata:
  version: 8
  cacheKey: 10c0

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    resolve: "npm:^1.22.8"
  languageName: unknown
  linkType: soft

"resolve@npm:^1.22.8":
  version: 1.22.8
  resolution: "resolve@npm:1.22.8"
  dependencies:
    is-core-module: "npm:^2.13.0"
  checksum: 10c0/07e179f4375e1fd072cfb72ad66d78547f86e6196c4014b31cb0b8bb1db5f7ca871f922d08da0fbc05b94e9fd42206f819648fa3b5b873ebbc8e1dc68fec433a
  languageName: node
  linkType: hard

"resolve@patch:resolve@npm%3A^1.22.8#optional!builtin<compat/resolve>":
  version: 1.22.8
  resolution: "resolve@patch:resolve@npm%3A1.22.8#optional!builtin<compat/resolve>::version=1.22.8&hash=c3c19d"
  dependencies:
    is-core-module: "npm:^2.13.0"
    path-parse: "npm:^1.0.7"
  languageName: node
  linkType: hard

"is-core-module@npm:^2.13.0":
  version: 2.13.1
  resolution: "is-core-module@npm:2.13.1"
  languageName: node
  linkType: hard
"#;
        let p = parse_str(text, "yarn.lock").unwrap();
        assert_eq!(
            purls(&p),
            ["pkg:npm/is-core-module@2.13.1", "pkg:npm/resolve@1.22.8"]
        );
        assert_eq!(
            p.packages[1].dependencies,
            ["pkg:npm/is-core-module@2.13.1"]
        );
        assert!(p.packages[1].hashes.is_empty());
        assert!(p.notes[0].contains("app@workspace:."));
    }

    #[test]
    fn berry_versions_stay_verbatim() {
        // A plain YAML scalar that looks like a float must not become `1.1`.
        let text = "__metadata:\n  version: 4\n\n\"odd@npm:^1\":\n  version: 1.10\n  resolution: \"odd@npm:1.10\"\n";
        let p = parse_str(text, "yarn.lock").unwrap();
        assert_eq!(p.packages[0].version, "1.10");
    }

    #[test]
    fn v1_errors_carry_lines() {
        let e = parse_str("a@^1:\n  version \"1.0.0\n", "yarn.lock").unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = parse_str("a@^1:\n  resolved \"x\"\n", "yarn.lock").unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = parse_str("a@^1:\n  version \"1\"\n     deep x\n", "yarn.lock").unwrap_err();
        assert_eq!(e.line, Some(3));
        let e = parse_str("just words\n", "yarn.lock").unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = parse_str(
            "__metadata:\n  version: 8\nx@npm:1:\n  version: [\n",
            "yarn.lock",
        )
        .unwrap_err();
        assert!(e.line.is_some(), "{e}");
    }

    #[test]
    fn helpers() {
        assert_eq!(split_descriptor("@s/n@npm:^1"), ("@s/n", "npm:^1"));
        assert_eq!(split_descriptor("n"), ("n", ""));
        assert_eq!(split_descriptor("@"), ("@", ""));
        assert_eq!(percent_decode("npm%3A1.0.0%"), "npm:1.0.0%");
        assert_eq!(header("\"a:\", b:"), Some("\"a:\", b"));
        assert_eq!(header("resolved \"x:"), None);
    }
}
