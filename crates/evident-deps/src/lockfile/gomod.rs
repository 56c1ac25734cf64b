//! `go.mod`, with the `go.sum` beside it when there is one.
//!
//! - `require` (single lines and blocks; `// indirect` ones too: they are in the build list)
//!   gives module path and version, kept verbatim: `v1.2.3`, pseudo-versions
//!   (`v0.0.0-20210101000000-abcdef123456`), `+incompatible`.
//! - `replace old [v] => new v` swaps a requirement for another module version (a versioned
//!   left side only matches that version); `replace old => ./dir` makes it local code, left out
//!   with a note. `exclude`d versions are dropped with a note. `retract`, `godebug`, `tool`
//!   and `ignore` say nothing about the build list and are skipped; an unknown directive is an
//!   error, as it is for the go command reading a main module.
//! - The module itself is not a package.
//! - `go.sum` `h1:` lines (for the module tree, not the `/go.mod` lines) become SHA-256 hashes:
//!   the `h1:` digest is base64 SHA-256 of the module's dirhash summary, the value the Go
//!   checksum database publishes for that version (not the hash of a downloadable archive).
//! - `stdlib`: the toolchain is a dependency OSV's Go advisories cover (package `stdlib`). It is
//!   added only from an exact toolchain version: the `toolchain go1.22.3` line, else a
//!   three-part `go 1.22.3` line (since Go 1.21 both are minimums the go command enforces).
//!   `go 1.22` names a language version, not a release, and adds nothing. The real build
//!   toolchain may be newer than this minimum, which a note says.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::npm::common::{Dedup, base64_decode, list_for_note, read};
use crate::model::{Ecosystem, Package, PackageHash, ParseError, Parsed};

/// Directives the go command knows and that do not change the build list.
const IGNORED_DIRECTIVES: &[&str] = &["retract", "godebug", "tool", "ignore"];

struct Line {
    number: usize,
    tokens: Vec<String>,
    comment: String,
}

#[derive(Default)]
struct GoMod {
    go: Option<String>,
    toolchain: Option<String>,
    /// (path, version, indirect)
    require: Vec<(String, String, bool)>,
    exclude: BTreeSet<(String, String)>,
    /// (old path, old version or none) → target.
    replace: BTreeMap<(String, Option<String>), Target>,
}

enum Target {
    Module(String, String),
    Local(String),
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = read(root, rel)?;
    let sum_rel = match rel.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/go.sum"),
        None => "go.sum".to_owned(),
    };
    let sums = if root.join(&sum_rel).is_file() {
        parse_sum(&read(root, &sum_rel)?, &sum_rel)?
    } else {
        BTreeMap::new()
    };
    parse_str(&text, rel, &sums)
}

fn parse_str(
    text: &str,
    rel: &str,
    sums: &BTreeMap<(String, String), PackageHash>,
) -> Result<Parsed, ParseError> {
    let m = parse_mod(text, rel)?;
    let mut notes = Vec::new();
    let mut out = Dedup::default();
    let mut local = Vec::new();
    let mut excluded = Vec::new();
    for (path, version, _indirect) in &m.require {
        if m.exclude.contains(&(path.clone(), version.clone())) {
            excluded.push(format!("{path} {version}"));
            continue;
        }
        let target = m
            .replace
            .get(&(path.clone(), Some(version.clone())))
            .or_else(|| m.replace.get(&(path.clone(), None)));
        let (path, version) = match target {
            Some(Target::Module(p, v)) => (p, v),
            Some(Target::Local(dir)) => {
                local.push(format!("{path} => {dir}"));
                continue;
            }
            None => (path, version),
        };
        let mut p = Package::new(Ecosystem::Go, path, version, rel);
        if let Some(h) = sums.get(&(path.clone(), version.clone())) {
            p.hashes.push(h.clone());
        }
        out.insert(p);
    }
    let toolchain = m
        .toolchain
        .as_deref()
        .and_then(|t| t.strip_prefix("go"))
        .filter(|v| is_release(v))
        .or(m.go.as_deref().filter(|v| is_release(v)));
    if let Some(v) = toolchain {
        out.insert(Package::new(Ecosystem::Go, "stdlib", v, rel));
        notes.push(format!(
            "{rel}: stdlib {v} is the minimum toolchain the module declares; the toolchain that builds it may be newer"
        ));
    }
    if !local.is_empty() {
        notes.push(format!(
            "{rel}: modules replaced by local directories are not registry packages, left out: {}",
            list_for_note(&local)
        ));
    }
    if !excluded.is_empty() {
        notes.push(format!(
            "{rel}: excluded module versions are left out: {}",
            list_for_note(&excluded)
        ));
    }
    Ok(Parsed {
        packages: out.into_packages(),
        notes,
    })
}

/// `1.22.3`: a Go release (three numeric parts), not a language version or a pre-release.
fn is_release(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Splits the file into lines of tokens (quoted strings unquoted) and their `//` comments.
fn lex(text: &str, rel: &str) -> Result<Vec<Line>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let mut tokens = Vec::new();
        let mut comment = String::new();
        let mut rest = raw.trim();
        while !rest.is_empty() {
            if let Some(c) = rest.strip_prefix("//") {
                c.trim().clone_into(&mut comment);
                break;
            }
            let (tok, after) = if rest.starts_with('"') {
                let mut escaped = false;
                let end = rest
                    .char_indices()
                    .skip(1)
                    .find(|&(_, c)| {
                        let close = c == '"' && !escaped;
                        escaped = c == '\\' && !escaped;
                        close
                    })
                    .map(|(j, _)| j)
                    .ok_or_else(|| {
                        ParseError::new(rel, Some(number), "unterminated quoted string")
                    })?;
                let s: String = serde_json::from_str(&rest[..=end]).map_err(|e| {
                    ParseError::new(rel, Some(number), format!("bad quoted string: {e}"))
                })?;
                (s, &rest[end + 1..])
            } else if let Some(r) = rest.strip_prefix('`') {
                let end = r
                    .find('`')
                    .ok_or_else(|| ParseError::new(rel, Some(number), "unterminated raw string"))?;
                (r[..end].to_owned(), &r[end + 1..])
            } else if rest.starts_with(['(', ')']) {
                (rest[..1].to_owned(), &rest[1..])
            } else {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '"')
                    .unwrap_or(rest.len());
                let end = match rest[..end].find("//") {
                    Some(j) => j,
                    None => end,
                };
                (rest[..end].to_owned(), &rest[end..])
            };
            tokens.push(tok);
            rest = after.trim_start();
        }
        out.push(Line {
            number,
            tokens,
            comment,
        });
    }
    Ok(out)
}

fn parse_mod(text: &str, rel: &str) -> Result<GoMod, ParseError> {
    let lines = lex(text, rel)?;
    let mut m = GoMod::default();
    let mut seen_module = false;
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        i += 1;
        let Some(verb) = line.tokens.first() else {
            continue;
        };
        let args = &line.tokens[1..];
        if args.first().is_some_and(|a| a == "(") {
            // A block: `verb (` … `)`, or `verb ()` on one line.
            if args.len() == 2 && args[1] == ")" {
                continue;
            }
            if args.len() != 1 {
                return Err(ParseError::new(
                    rel,
                    Some(line.number),
                    "unexpected text after `(`",
                ));
            }
            loop {
                let Some(inner) = lines.get(i) else {
                    return Err(ParseError::new(
                        rel,
                        Some(line.number),
                        format!("`{verb} (` block is never closed"),
                    ));
                };
                i += 1;
                match inner.tokens.first().map(String::as_str) {
                    None => {}
                    Some(")") if inner.tokens.len() == 1 => break,
                    Some(_) => directive(&mut m, verb, &inner.tokens, inner, rel)?,
                }
            }
            continue;
        }
        if verb == "module" {
            if seen_module {
                return Err(ParseError::new(
                    rel,
                    Some(line.number),
                    "repeated `module` directive",
                ));
            }
            seen_module = true;
        }
        directive(&mut m, verb, args, line, rel)?;
    }
    if !seen_module {
        return Err(ParseError::new(
            rel,
            None,
            "not a go.mod: no `module` directive",
        ));
    }
    Ok(m)
}

fn directive(
    m: &mut GoMod,
    verb: &str,
    args: &[String],
    line: &Line,
    rel: &str,
) -> Result<(), ParseError> {
    let err = |msg: String| ParseError::new(rel, Some(line.number), msg);
    match verb {
        "module" => {
            if args.len() != 1 {
                return Err(err("usage: module module/path".into()));
            }
        }
        "go" | "toolchain" => {
            let [v] = args else {
                return Err(err(format!("usage: {verb} version")));
            };
            if verb == "go" {
                m.go = Some(v.clone());
            } else {
                m.toolchain = Some(v.clone());
            }
        }
        "require" | "exclude" => {
            let [path, version] = args else {
                return Err(err(format!("usage: {verb} module/path v1.2.3")));
            };
            check_version(version).map_err(&err)?;
            if verb == "require" {
                let indirect = line.comment.split(';').any(|c| c.trim() == "indirect");
                m.require.push((path.clone(), version.clone(), indirect));
            } else {
                m.exclude.insert((path.clone(), version.clone()));
            }
        }
        "replace" => {
            let arrow = args.iter().position(|a| a == "=>").ok_or_else(|| {
                err("usage: replace module/path [v1.2.3] => other/module v1.4.5 | ./dir".into())
            })?;
            let (old, new) = (&args[..arrow], &args[arrow + 1..]);
            let key = match old {
                [p] => (p.clone(), None),
                [p, v] => {
                    check_version(v).map_err(&err)?;
                    (p.clone(), Some(v.clone()))
                }
                _ => {
                    return Err(err(
                        "replace: expected `module/path [version]` before `=>`".into()
                    ));
                }
            };
            let target = match new {
                [dir] => Target::Local(dir.clone()),
                [p, v] => {
                    check_version(v).map_err(&err)?;
                    Target::Module(p.clone(), v.clone())
                }
                _ => {
                    return Err(err(
                        "replace: expected `module/path version` or a directory after `=>`".into(),
                    ));
                }
            };
            m.replace.insert(key, target);
        }
        v if IGNORED_DIRECTIVES.contains(&v) => {}
        other => return Err(err(format!("unknown directive `{other}`"))),
    }
    Ok(())
}

/// A module version: `v` then something; Go validates the rest when it downloads.
fn check_version(v: &str) -> Result<(), String> {
    if v.len() > 1 && v.starts_with('v') && !v.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(format!("`{v}` is not a module version (expected v1.2.3)"))
    }
}

/// `go.sum`: `path version h1:base64` lines → SHA-256 per (path, version).
fn parse_sum(text: &str, rel: &str) -> Result<BTreeMap<(String, String), PackageHash>, ParseError> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [] => {}
            [path, version, hash] => {
                if version.ends_with("/go.mod") {
                    continue;
                }
                let Some(b64) = hash.strip_prefix("h1:") else {
                    // Other hash versions: unknown to evident, not an error.
                    continue;
                };
                let bytes = base64_decode(b64)
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| {
                        ParseError::new(
                            rel,
                            Some(i + 1),
                            "malformed h1: hash (expected base64 SHA-256)",
                        )
                    })?;
                out.insert(
                    ((*path).to_owned(), (*version).to_owned()),
                    PackageHash {
                        alg: "SHA-256".to_owned(),
                        value: hex::encode(bytes),
                    },
                );
            }
            _ => {
                return Err(ParseError::new(
                    rel,
                    Some(i + 1),
                    "malformed go.sum line (expected `module version hash`)",
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOD: &str = r#"module example.com/app // the app

go 1.22

toolchain go1.22.3

require github.com/single/line v1.0.0

require (
	github.com/a/b v1.2.3
	golang.org/x/text v0.14.0 // indirect
	github.com/pseudo/p v0.0.0-20210101000000-abcdef123456
	github.com/old/inc v2.0.0+incompatible
	"github.com/quoted/q" v1.1.0
	github.com/local/l v1.0.0
	github.com/ex/cluded v1.0.0
)

replace github.com/a/b => github.com/fork/b v1.2.4

replace github.com/local/l v1.0.0 => ../l

exclude github.com/ex/cluded v1.0.0

retract [v1.0.0, v1.0.1]
"#;

    #[test]
    fn requires_replaces_and_stdlib() {
        let sum = "github.com/fork/b v1.2.4 h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\ngithub.com/fork/b v1.2.4/go.mod h1:AAAAQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
        let sums = parse_sum(sum, "go.sum").unwrap();
        let p = parse_str(MOD, "go.mod", &sums).unwrap();
        let got: Vec<&str> = p.packages.iter().map(|x| x.purl.as_str()).collect();
        assert_eq!(
            got,
            [
                "pkg:golang/github.com/fork/b@v1.2.4",
                "pkg:golang/github.com/old/inc@v2.0.0%2Bincompatible",
                "pkg:golang/github.com/pseudo/p@v0.0.0-20210101000000-abcdef123456",
                "pkg:golang/github.com/quoted/q@v1.1.0",
                "pkg:golang/github.com/single/line@v1.0.0",
                "pkg:golang/golang.org/x/text@v0.14.0",
                "pkg:golang/stdlib@1.22.3"
            ]
        );
        assert_eq!(
            p.packages[0].hashes[0].value,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("github.com/local/l => ../l"))
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("github.com/ex/cluded v1.0.0"))
        );
    }

    #[test]
    fn stdlib_only_from_full_versions() {
        let none = BTreeMap::new();
        let p = parse_str("module m\ngo 1.22\n", "go.mod", &none).unwrap();
        assert!(p.packages.is_empty());
        let p = parse_str(
            "module m\ngo 1.21.0\ntoolchain go1.23rc1\n",
            "go.mod",
            &none,
        )
        .unwrap();
        assert_eq!(p.packages[0].purl, "pkg:golang/stdlib@1.21.0");
    }

    #[test]
    fn errors() {
        let none = BTreeMap::new();
        let e = parse_str("module m\nrequire (\n  a v1.0.0\n", "go.mod", &none).unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = parse_str("module m\nrequire a\n", "go.mod", &none).unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = parse_str("module m\nfrobnicate x\n", "go.mod", &none).unwrap_err();
        assert!(e.message.contains("unknown directive"));
        let e = parse_str("require a v1.0.0\n", "go.mod", &none).unwrap_err();
        assert!(e.message.contains("no `module`"));
        let e = parse_str("module m\nrequire a 1.0.0\n", "go.mod", &none).unwrap_err();
        assert!(e.message.contains("not a module version"));
        let e = parse_sum("a v1 h1:abc\n", "go.sum").unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = parse_str("module \"m\n", "go.mod", &none).unwrap_err();
        assert_eq!(e.line, Some(1));
    }
}
