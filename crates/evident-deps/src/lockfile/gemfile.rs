//! `Gemfile.lock` / `gems.locked` (Bundler).
//!
//! Source sections (`GEM`, `GIT`, `PATH`) hold `specs:`: a gem at four spaces, `name (version)`,
//! its dependencies at six spaces, `name` or `name (constraints)`. A version may carry a
//! platform — `nokogiri (1.15.4-x86_64-linux)` — which, like Bundler, evident splits off at the
//! first `-`: the version is `1.15.4`, and the platform variants of one gem are one package.
//!
//! - `GEM` specs are packages; `GIT` specs are kept (matched by their declared version) with a
//!   note naming the repository; `PATH` specs are local code: left out with a note.
//! - `CHECKSUMS` (Bundler 2.5+) gives `sha256=` hashes, merged over the platform variants.
//! - `PLATFORMS`, `DEPENDENCIES`, `RUBY VERSION`, `BUNDLED WITH`, `PLUGIN SOURCE` and unknown
//!   sections are skipped. The lockfile does not record Gemfile groups, so no gem is dev.
//!
//! Malformed spec lines and merge-conflict markers are errors with their line.

use std::collections::BTreeMap;
use std::path::Path;

use crate::model::{Ecosystem, Package, PackageHash, ParseError, Parsed};

const ECO: Ecosystem = Ecosystem::RubyGems;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Gem,
    Git,
    Path,
    Checksums,
    Other,
}

struct Spec {
    name: String,
    version: String,
    section: Section,
    line: usize,
    remote: String,
    revision: String,
    deps: Vec<String>,
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = std::fs::read_to_string(root.join(rel))
        .map_err(|e| ParseError::new(rel, None, format!("cannot read the file: {e}")))?;
    parse_str(rel, &text)
}

/// Parses the text of a `Gemfile.lock`; `rel` labels packages, notes and errors.
pub fn parse_str(rel: &str, text: &str) -> Result<Parsed, ParseError> {
    let err = |line: usize, msg: String| ParseError::new(rel, Some(line), msg);
    let mut specs: Vec<Spec> = Vec::new();
    let mut checksums: BTreeMap<(String, String), Vec<PackageHash>> = BTreeMap::new();
    let mut section = Section::Other;
    let mut in_specs = false;
    let mut remote = String::new();
    let mut revision = String::new();

    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
            .iter()
            .any(|m| raw.starts_with(m))
        {
            return Err(err(line, "unresolved merge conflict marker".to_owned()));
        }
        if raw.trim().is_empty() {
            continue;
        }
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        if raw[indent..].starts_with('\t') {
            return Err(err(
                line,
                "tab indentation; Bundler writes spaces".to_owned(),
            ));
        }
        let content = raw.trim_end();
        if indent == 0 {
            section = match content {
                "GEM" => Section::Gem,
                "GIT" => Section::Git,
                "PATH" => Section::Path,
                "CHECKSUMS" => Section::Checksums,
                _ => Section::Other,
            };
            in_specs = false;
            remote.clear();
            revision.clear();
            continue;
        }
        let content = content.trim_start();
        match section {
            Section::Other => {}
            Section::Checksums => {
                if indent != 2 {
                    return Err(err(
                        line,
                        format!("unexpected indentation in CHECKSUMS: `{content}`"),
                    ));
                }
                let (name, version, rest) = name_version(content).ok_or_else(|| {
                    err(
                        line,
                        format!("`{content}` is not `name (version) checksums`"),
                    )
                })?;
                let hashes = checksums
                    .entry((name.to_owned(), version.to_owned()))
                    .or_default();
                for item in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let Some((alg, value)) = item.split_once('=') else {
                        return Err(err(line, format!("`{item}` is not `algorithm=hex`")));
                    };
                    if let Some(h) = hex_hash(alg, value) {
                        hashes.push(h);
                    }
                }
            }
            Section::Gem | Section::Git | Section::Path => match indent {
                2 => {
                    in_specs = content == "specs:";
                    if let Some(v) = content.strip_prefix("remote:") {
                        v.trim().clone_into(&mut remote);
                    } else if let Some(v) = content.strip_prefix("revision:") {
                        v.trim().clone_into(&mut revision);
                    }
                }
                4 if in_specs => {
                    let (name, version, rest) = name_version(content).ok_or_else(|| {
                        err(
                            line,
                            format!("`{content}` is not a gem spec `name (version)`"),
                        )
                    })?;
                    if !rest.is_empty() {
                        return Err(err(
                            line,
                            format!("unexpected text after the spec: `{rest}`"),
                        ));
                    }
                    specs.push(Spec {
                        name: name.to_owned(),
                        version: version.to_owned(),
                        section,
                        line,
                        remote: remote.clone(),
                        revision: revision.clone(),
                        deps: Vec::new(),
                    });
                }
                6 if in_specs => {
                    let Some(spec) = specs.last_mut() else {
                        return Err(err(line, "a dependency before any gem spec".to_owned()));
                    };
                    let name = content
                        .split([' ', '('])
                        .next()
                        .unwrap_or("")
                        .trim_end_matches('!');
                    if !is_gem_name(name) {
                        return Err(err(
                            line,
                            format!("`{content}` is not a dependency `name (constraints)`"),
                        ));
                    }
                    spec.deps.push(name.to_owned());
                }
                _ => {
                    return Err(err(line, format!("unexpected indentation: `{content}`")));
                }
            },
        }
    }

    // One package per gem and version (platform variants merged); PATH gems are left out.
    let mut out = Parsed::default();
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut deps: Vec<Vec<String>> = Vec::new();
    for spec in &specs {
        match spec.section {
            Section::Path => {
                out.notes.push(format!(
                    "{rel}:{}: `{}` comes from a local path ({}), not a gem server; it is left \
                     out of the inventory and not matched against advisories",
                    spec.line, spec.name, spec.remote
                ));
                continue;
            }
            Section::Git => {
                let at = if spec.revision.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", spec.revision)
                };
                out.notes.push(format!(
                    "{rel}:{}: `{}` {} comes from git ({}{at}); it is matched against advisories \
                     by its declared version only",
                    spec.line, spec.name, spec.version, spec.remote
                ));
            }
            _ => {}
        }
        let key = (spec.name.clone(), spec.version.clone());
        let i = *index.entry(key).or_insert_with(|| {
            out.packages
                .push(Package::new(ECO, &spec.name, &spec.version, rel));
            deps.push(Vec::new());
            out.packages.len() - 1
        });
        deps[i].extend(spec.deps.iter().cloned());
    }
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &out.packages {
        by_name.entry(p.name.clone()).or_default().push(p.id());
    }
    for (pkg, names) in out.packages.iter_mut().zip(deps) {
        let own = pkg.id();
        for n in names {
            for id in by_name.get(&n).into_iter().flatten() {
                if *id != own {
                    pkg.dependencies.push(id.clone());
                }
            }
        }
        pkg.dependencies.sort();
        pkg.dependencies.dedup();
        if let Some(h) = checksums.get(&(pkg.name.clone(), pkg.version.clone())) {
            pkg.hashes.extend(h.iter().cloned());
            pkg.hashes.sort();
            pkg.hashes.dedup();
        }
    }
    Ok(out)
}

/// `name (version[-platform])` followed by anything: the name, the version without its
/// platform, and the rest after `)`.
fn name_version(s: &str) -> Option<(&str, &str, &str)> {
    let (name, rest) = s.split_once(" (")?;
    let (inner, after) = rest.split_once(')')?;
    let version = inner
        .split_once('-')
        .map_or(inner, |(v, _platform)| v)
        .trim();
    let valid_version = !version.is_empty()
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.');
    (is_gem_name(name) && valid_version).then_some((name, version, after.trim()))
}

fn is_gem_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn hex_hash(alg: &str, value: &str) -> Option<PackageHash> {
    let (alg, len) = match alg.trim().to_ascii_lowercase().as_str() {
        "sha256" => ("SHA-256", 64),
        "sha384" => ("SHA-384", 96),
        "sha512" => ("SHA-512", 128),
        _ => return None,
    };
    let value = value.trim();
    (value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit())).then(|| PackageHash {
        alg: alg.to_owned(),
        value: value.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "GIT
  remote: https://github.com/example/widget.git
  revision: 0123abc
  branch: main
  specs:
    widget (2.0.0)
      rack (>= 2)

PATH
  remote: engines/billing
  specs:
    billing (0.1.0)
      rack

GEM
  remote: https://rubygems.org/
  specs:
    mini_portile2 (2.8.5)
    nokogiri (1.15.4)
      mini_portile2 (~> 2.8.2)
      racc (~> 1.4)
    nokogiri (1.15.4-x86_64-linux)
      racc (~> 1.4)
    racc (1.7.3)
    rack (2.2.8)

PLATFORMS
  ruby
  x86_64-linux

DEPENDENCIES
  billing!
  nokogiri
  widget!

CHECKSUMS
  nokogiri (1.15.4-x86_64-linux) sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
  racc (1.7.3)

BUNDLED WITH
   2.5.3
";

    #[test]
    fn sections_platforms_edges_and_notes() {
        let parsed = parse_str("Gemfile.lock", LOCK).unwrap();
        let names: Vec<String> = parsed
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(
            names,
            [
                "widget@2.0.0",
                "mini_portile2@2.8.5",
                "nokogiri@1.15.4",
                "racc@1.7.3",
                "rack@2.2.8"
            ]
        );
        let nokogiri = &parsed.packages[2];
        assert_eq!(nokogiri.purl, "pkg:gem/nokogiri@1.15.4");
        assert_eq!(
            nokogiri.dependencies,
            ["pkg:gem/mini_portile2@2.8.5", "pkg:gem/racc@1.7.3"]
        );
        assert_eq!(nokogiri.hashes.len(), 1);
        assert_eq!(parsed.packages[0].dependencies, ["pkg:gem/rack@2.2.8"]);
        assert!(parsed.notes[0].starts_with("Gemfile.lock:6: `widget` 2.0.0 comes from git"));
        assert!(parsed.notes[1].starts_with("Gemfile.lock:12: `billing` comes from a local path"));
    }

    #[test]
    fn malformed_lines_are_errors_with_lines() {
        let err = parse_str("Gemfile.lock", "GEM\n  specs:\n    rack\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        let err = parse_str("Gemfile.lock", "GEM\n  specs:\n   rack (1.0)\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        let err = parse_str("Gemfile.lock", "GEM\n<<<<<<< HEAD\n").unwrap_err();
        assert_eq!(err.line, Some(2));
    }
}
