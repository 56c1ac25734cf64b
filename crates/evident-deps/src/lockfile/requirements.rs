//! pip requirements files (`requirements*.txt`), read the way pip reads them.
//!
//! - Lines are joined at a trailing `\`, then comments (`#` at the start or after whitespace)
//!   are removed; the line number of a joined line is that of its first physical line.
//! - `name==1.2.3` and `name===1.2.3` (with extras `name[a,b]`, markers after `;` and
//!   `--hash=sha256:…` options) are packages. Any other requirement — `name>=1`, `name`,
//!   `name==1.*` — is not pinned: it becomes a note naming its line, since it cannot be matched
//!   against advisories.
//! - `-r`/`--requirement` includes another file (relative to the including file); packages keep
//!   the file they are written in as their source. An include cycle is an error, and so is a
//!   missing include (on the including line).
//! - `-c`/`--constraint` files are read for versions only: a requirement left unpinned in the
//!   requirements files gets the version (and hashes) a constraints file pins for it, as pip
//!   would install; a constraint alone is never a package. (Like pip, a `-r` inside a constraints
//!   file includes requirements.)
//! - `-e`/`--editable`, URLs, VCS references, local paths and `name @ url` are not registry
//!   packages: each becomes a note. Other options (`--index-url`, `--find-links`, …) are ignored.
//! - Dev: a package is dev when the file it is written in is named for development —
//!   `requirements-dev.txt`, `requirements/test.txt`, … (a name part `dev`, `develop`,
//!   `development`, `test`, `tests`, `testing`, `lint`, `typing`, `docs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::poetry::python_hash;
use crate::model::{Ecosystem, Package, PackageHash, ParseError, Parsed};

const ECO: Ecosystem = Ecosystem::PyPI;

/// File-name parts that mark a requirements file as development-only.
const DEV_WORDS: &[&str] = &[
    "dev",
    "develop",
    "development",
    "test",
    "tests",
    "testing",
    "lint",
    "typing",
    "docs",
];

/// How deep `-r`/`-c` includes may nest (a guard beside cycle detection).
const MAX_DEPTH: usize = 32;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Requirements,
    Constraints,
}

/// A requirement as read, before constraints are applied.
struct Req {
    name: String,
    /// The pinned version, if the line pins one.
    version: Option<String>,
    hashes: Vec<PackageHash>,
    source: String,
    line: usize,
    /// The requirement as written (without markers and options), for notes.
    text: String,
}

#[derive(Default)]
struct Reader {
    reqs: Vec<Req>,
    /// Normalised name → (version, hashes) pinned by a constraints file.
    constraints: BTreeMap<String, (String, Vec<PackageHash>)>,
    /// Notes with the read order of their file and their line, to list them in file order.
    notes: Vec<(usize, usize, String)>,
    /// The order in which files were first read.
    order: BTreeMap<String, usize>,
    /// Files already read, per mode (an include reached twice without a cycle is read once).
    done: BTreeSet<(String, Mode)>,
}

/// Where an include was written, for errors about it.
struct IncludedFrom<'a> {
    rel: &'a str,
    line: usize,
    directive: &'a str,
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let mut reader = Reader::default();
    let mut stack = Vec::new();
    reader.read(root, rel, Mode::Requirements, &mut stack, None)?;
    Ok(reader.finish())
}

impl Reader {
    fn read(
        &mut self,
        root: &Path,
        rel: &str,
        mode: Mode,
        stack: &mut Vec<String>,
        from: Option<&IncludedFrom<'_>>,
    ) -> Result<(), ParseError> {
        if let Some(f) = from {
            if stack.iter().any(|s| s == rel) {
                let mut chain: Vec<&str> = stack.iter().map(String::as_str).collect();
                chain.push(rel);
                return Err(ParseError::new(
                    f.rel,
                    Some(f.line),
                    format!(
                        "`{}` makes an include cycle: {}",
                        f.directive,
                        chain.join(" → ")
                    ),
                ));
            }
            if stack.len() >= MAX_DEPTH {
                return Err(ParseError::new(
                    f.rel,
                    Some(f.line),
                    format!(
                        "`{}`: includes nest deeper than {MAX_DEPTH} files",
                        f.directive
                    ),
                ));
            }
        }
        if !self.done.insert((rel.to_owned(), mode)) {
            return Ok(());
        }
        let next = self.order.len();
        self.order.entry(rel.to_owned()).or_insert(next);
        let text = std::fs::read_to_string(root.join(rel)).map_err(|e| match from {
            Some(f) => ParseError::new(
                f.rel,
                Some(f.line),
                format!("`{}`: cannot read {rel}: {e}", f.directive),
            ),
            None => ParseError::new(rel, None, format!("cannot read the file: {e}")),
        })?;
        stack.push(rel.to_owned());
        let result = self.read_text(root, rel, &text, mode, stack);
        stack.pop();
        result
    }

    fn read_text(
        &mut self,
        root: &Path,
        rel: &str,
        text: &str,
        mode: Mode,
        stack: &mut Vec<String>,
    ) -> Result<(), ParseError> {
        for (line, content) in logical_lines(text) {
            if content.starts_with('-') {
                self.option_line(root, rel, line, &content, mode, stack)?;
                continue;
            }
            let Some(req) = requirement_line(rel, line, &content)? else {
                continue;
            };
            match req {
                Line::Direct(what) => {
                    if mode == Mode::Requirements {
                        self.note(
                            rel,
                            line,
                            &format!(
                                "`{what}` is a direct reference (URL, VCS or local path), not a \
                                 registry package; it is not matched against advisories"
                            ),
                        );
                    }
                }
                Line::Req(req) => match mode {
                    Mode::Requirements => self.reqs.push(req),
                    Mode::Constraints => {
                        if let Some(v) = req.version {
                            self.constraints
                                .entry(ECO.normalize_name(&req.name))
                                .or_insert((v, req.hashes));
                        }
                    }
                },
            }
        }
        Ok(())
    }

    fn option_line(
        &mut self,
        root: &Path,
        rel: &str,
        line: usize,
        content: &str,
        mode: Mode,
        stack: &mut Vec<String>,
    ) -> Result<(), ParseError> {
        let mut tokens = content.split_whitespace();
        let first = tokens.next().unwrap_or("");
        let (opt, inline) = match first.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o, Some(v.to_owned())),
            _ => (first, None),
        };
        let (kind, value) = match opt {
            "-r" | "--requirement" | "-c" | "--constraint" | "-e" | "--editable" => {
                (opt, inline.or_else(|| tokens.next().map(str::to_owned)))
            }
            _ if opt.starts_with("-r") && !opt.starts_with("--") => {
                ("-r", Some(opt[2..].to_owned()))
            }
            _ if opt.starts_with("-c") && !opt.starts_with("--") => {
                ("-c", Some(opt[2..].to_owned()))
            }
            _ if opt.starts_with("-e") && !opt.starts_with("--") => {
                ("-e", Some(opt[2..].to_owned()))
            }
            // `--index-url`, `--find-links`, `--require-hashes`, …: nothing to read.
            _ => return Ok(()),
        };
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Err(ParseError::new(
                rel,
                Some(line),
                format!("`{opt}` needs a value"),
            ));
        };
        match kind {
            "-e" | "--editable" => {
                if mode == Mode::Requirements {
                    self.note(
                        rel,
                        line,
                        &format!(
                            "`-e {value}` is an editable install, not a registry package; it \
                             is not matched against advisories"
                        ),
                    );
                }
                Ok(())
            }
            _ => {
                let nested = if matches!(kind, "-c" | "--constraint") {
                    Mode::Constraints
                } else {
                    Mode::Requirements
                };
                if value.contains("://") {
                    self.note(
                        rel,
                        line,
                        &format!("`{content}` is a remote file; it was not read"),
                    );
                    return Ok(());
                }
                let target = join_rel(rel, &value);
                let from = IncludedFrom {
                    rel,
                    line,
                    directive: content,
                };
                self.read(root, &target, nested, stack, Some(&from))
            }
        }
    }

    fn note(&mut self, rel: &str, line: usize, text: &str) {
        let order = self.order.get(rel).copied().unwrap_or(usize::MAX);
        self.notes
            .push((order, line, format!("{rel}:{line}: {text}")));
    }

    fn finish(mut self) -> Parsed {
        let mut out = Parsed::default();
        let reqs = std::mem::take(&mut self.reqs);
        for req in reqs {
            let norm = ECO.normalize_name(&req.name);
            let pinned = req.version.map(|v| (v, Vec::new())).or_else(|| {
                self.constraints
                    .get(&norm)
                    .map(|(v, h)| (v.clone(), h.clone()))
            });
            let Some((version, from_constraint)) = pinned else {
                self.note(
                    &req.source,
                    req.line,
                    &format!(
                        "`{}` is not pinned; it cannot be matched against advisories — pin it \
                         (pip-compile) or use a lockfile",
                        req.text
                    ),
                );
                continue;
            };
            let mut hashes = req.hashes;
            hashes.extend(from_constraint);
            hashes.sort();
            hashes.dedup();
            let mut pkg = Package::new(ECO, &req.name, &version, &req.source);
            pkg.dev = is_dev_file(&req.source);
            if let Some(existing) = out
                .packages
                .iter_mut()
                .find(|p| p.purl == pkg.purl && p.source == pkg.source)
            {
                existing.hashes.extend(hashes);
                existing.hashes.sort();
                existing.hashes.dedup();
                continue;
            }
            pkg.hashes = hashes;
            out.packages.push(pkg);
        }
        self.notes.sort_by_key(|(order, line, _)| (*order, *line));
        out.notes = self.notes.into_iter().map(|(.., text)| text).collect();
        out
    }
}

enum Line {
    Req(Req),
    /// A URL, VCS reference, local path or `name @ url`, as written.
    Direct(String),
}

/// pip's line preprocessing: join `\` continuations, then drop comments and blank lines.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let is_comment = raw.trim_start().starts_with('#');
        if let Some(stripped) = raw.strip_suffix('\\')
            && !is_comment
        {
            let entry = pending.get_or_insert_with(|| (number, String::new()));
            entry.1.push_str(stripped);
            continue;
        }
        let (start, mut joined) = pending.take().unwrap_or((number, String::new()));
        if is_comment && !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(raw);
        let content = strip_comment(&joined).trim().to_owned();
        if !content.is_empty() {
            out.push((start, content));
        }
    }
    if let Some((start, joined)) = pending {
        let content = strip_comment(&joined).trim().to_owned();
        if !content.is_empty() {
            out.push((start, content));
        }
    }
    out
}

/// Removes a `#` comment that starts the line or follows whitespace.
fn strip_comment(s: &str) -> &str {
    let mut prev_space = true;
    for (i, c) in s.char_indices() {
        if c == '#' && prev_space {
            return &s[..i];
        }
        prev_space = c.is_whitespace();
    }
    s
}

/// Reads one requirement line (already without comments). `None` for nothing to read.
fn requirement_line(rel: &str, line: usize, content: &str) -> Result<Option<Line>, ParseError> {
    // pip splits the line into the requirement and its options at the first token starting
    // with `-`.
    let mut args: Vec<&str> = Vec::new();
    let mut options: Vec<&str> = Vec::new();
    for token in content.split_whitespace() {
        if !options.is_empty() || token.starts_with('-') {
            options.push(token);
        } else {
            args.push(token);
        }
    }
    let req_text = args.join(" ");
    let spec = req_text
        .split_once(';')
        .map_or(req_text.as_str(), |(s, _)| s)
        .trim();
    if spec.is_empty() {
        return Ok(None);
    }
    if is_direct(spec) {
        return Ok(Some(Line::Direct(spec.to_owned())));
    }
    let hashes = hashes_of(rel, line, &options)?;
    let (name, rest) = split_name(spec);
    if !is_valid_name(name) {
        return Err(ParseError::new(
            rel,
            Some(line),
            format!("`{spec}` is not a requirement pip can read (no valid package name)"),
        ));
    }
    let mut rest = rest.trim_start();
    if let Some(after) = rest.strip_prefix('[') {
        let Some(end) = after.find(']') else {
            return Err(ParseError::new(
                rel,
                Some(line),
                format!("`{spec}`: the extras `[` are not closed"),
            ));
        };
        rest = after[end + 1..].trim_start();
    }
    if rest.starts_with('@') {
        return Ok(Some(Line::Direct(spec.to_owned())));
    }
    let rest = rest.trim();
    let rest = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(rest)
        .trim();
    let mut version = None;
    if !rest.is_empty() {
        for clause in rest.split(',') {
            let clause = clause.trim();
            let (op, v) = split_operator(clause).ok_or_else(|| {
                ParseError::new(
                    rel,
                    Some(line),
                    format!("`{spec}`: `{clause}` is not a version specifier"),
                )
            })?;
            let v = v.trim();
            if v.is_empty() {
                return Err(ParseError::new(
                    rel,
                    Some(line),
                    format!("`{spec}`: `{clause}` has no version"),
                ));
            }
            match op {
                "===" => version = Some(v.to_owned()),
                "==" if !v.contains('*') => {
                    if v.parse::<pep440_rs::Version>().is_err() {
                        return Err(ParseError::new(
                            rel,
                            Some(line),
                            format!("`{spec}`: `{v}` is not a valid version (PEP 440)"),
                        ));
                    }
                    version = Some(v.to_owned());
                }
                _ => {}
            }
        }
    }
    Ok(Some(Line::Req(Req {
        name: name.to_owned(),
        version,
        hashes,
        source: rel.to_owned(),
        line,
        text: spec.to_owned(),
    })))
}

/// URLs, VCS references, archives and local paths.
fn is_direct(spec: &str) -> bool {
    let lower = spec.to_ascii_lowercase();
    spec.contains("://")
        || spec.starts_with(['.', '/', '~', '\\'])
        || lower.starts_with("file:")
        || [".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        || (spec.contains('/') && !spec.contains(['=', '<', '>', '~', '!']))
}

fn split_name(spec: &str) -> (&str, &str) {
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    spec.split_at(end)
}

/// PEP 508 names: ASCII letters and digits, with `-_.` inside.
fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && b[0].is_ascii_alphanumeric() && b[b.len() - 1].is_ascii_alphanumeric()
}

fn split_operator(clause: &str) -> Option<(&str, &str)> {
    ["===", "==", "!=", "~=", "<=", ">=", "<", ">"]
        .iter()
        .find_map(|op| clause.strip_prefix(op).map(|rest| (*op, rest)))
}

/// `--hash=sha256:…` / `--hash sha256:…` options; other per-requirement options are ignored.
fn hashes_of(rel: &str, line: usize, options: &[&str]) -> Result<Vec<PackageHash>, ParseError> {
    let mut out = Vec::new();
    let mut iter = options.iter();
    while let Some(opt) = iter.next() {
        let value = if let Some(v) = opt.strip_prefix("--hash=") {
            v
        } else if *opt == "--hash" {
            iter.next().copied().unwrap_or("")
        } else {
            continue;
        };
        match python_hash(value) {
            Some(h) => out.push(h),
            None if value.contains(':') => {
                // A hash pip does not know (or a truncated one): not a usable archive hash.
            }
            None => {
                return Err(ParseError::new(
                    rel,
                    Some(line),
                    format!("`--hash={value}` is not of the form algorithm:hex"),
                ));
            }
        }
    }
    Ok(out)
}

/// `include` relative to the directory of `rel`, lexically normalised, with `/` separators.
pub(crate) fn join_rel(rel: &str, include: &str) -> String {
    let include = include.replace('\\', "/");
    let mut parts: Vec<&str> = Vec::new();
    if !include.starts_with('/')
        && let Some((dir, _)) = rel.rsplit_once('/')
    {
        parts.extend(dir.split('/'));
    }
    let absolute = include.starts_with('/');
    for part in include.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn is_dev_file(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    let stem = file.strip_suffix(".txt").unwrap_or(file);
    let in_requirements_dir = lower
        .rsplit('/')
        .nth(1)
        .is_some_and(|d| d.starts_with("requirements"));
    stem.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| DEV_WORDS.contains(&w))
        && (stem.starts_with("requirements")
            || in_requirements_dir
            || stem.ends_with("requirements"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(files: &[(&str, &str)]) -> Result<Parsed, ParseError> {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        parse(dir.path(), files[0].0)
    }

    #[test]
    fn pins_extras_markers_and_hashes() {
        let parsed = parse_text(&[(
            "requirements.txt",
            "Django[argon2]==4.2.1 ; python_version >= \"3.8\" \\\n    --hash=sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \\\n    --hash=sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\nweird===2023.x1  # arbitrary\n",
        )])
        .unwrap();
        assert_eq!(parsed.packages[0].purl, "pkg:pypi/django@4.2.1");
        assert_eq!(parsed.packages[0].hashes.len(), 2);
        assert_eq!(parsed.packages[0].hashes[0].value, "a".repeat(64));
        assert_eq!(parsed.packages[1].version, "2023.x1");
        assert!(parsed.notes.is_empty());
    }

    #[test]
    fn unpinned_lines_are_notes_with_their_line() {
        let parsed = parse_text(&[(
            "requirements.txt",
            "# top\n\nflask>=2\nrequests\nnumpy==1.*\n",
        )])
        .unwrap();
        assert!(parsed.packages.is_empty());
        assert_eq!(
            parsed.notes[0],
            "requirements.txt:3: `flask>=2` is not pinned; it cannot be matched against \
             advisories — pin it (pip-compile) or use a lockfile"
        );
        assert!(parsed.notes[1].starts_with("requirements.txt:4: `requests` is not pinned"));
        assert!(parsed.notes[2].starts_with("requirements.txt:5: `numpy==1.*` is not pinned"));
    }

    #[test]
    fn constraints_pin_unpinned_requirements() {
        let parsed = parse_text(&[
            ("requirements.txt", "-c constraints.txt\nflask\nclick>=8\n"),
            ("constraints.txt", "flask==3.0.0\nitsdangerous==2.1.2\n"),
        ])
        .unwrap();
        assert_eq!(parsed.packages.len(), 1);
        assert_eq!(parsed.packages[0].purl, "pkg:pypi/flask@3.0.0");
        assert_eq!(parsed.packages[0].source, "requirements.txt");
        assert_eq!(parsed.notes.len(), 1, "{:?}", parsed.notes);
    }

    #[test]
    fn include_cycle_and_missing_include_are_errors() {
        let err = parse_text(&[
            ("requirements.txt", "-r base/common.txt\n"),
            (
                "base/common.txt",
                "six==1.16.0\n--requirement ../requirements.txt\n",
            ),
        ])
        .unwrap_err();
        assert_eq!(err.path, "base/common.txt");
        assert_eq!(err.line, Some(2));
        assert!(
            err.message
                .contains("requirements.txt → base/common.txt → requirements.txt"),
            "{err}"
        );

        let err = parse_text(&[("requirements.txt", "a==1\n\n-r missing.txt\n")]).unwrap_err();
        assert_eq!((err.path.as_str(), err.line), ("requirements.txt", Some(3)));
        assert!(err.message.contains("missing.txt"));
    }

    #[test]
    fn direct_references_and_editables_are_notes() {
        let parsed = parse_text(&[(
            "requirements.txt",
            "-e .\n./local/pkg\nhttps://example.com/x-1.0.whl\npkg @ git+https://example.com/pkg.git\ngit+https://example.com/y.git#egg=y\n--index-url https://pypi.example/simple\n",
        )])
        .unwrap();
        assert!(parsed.packages.is_empty());
        assert_eq!(parsed.notes.len(), 5, "{:#?}", parsed.notes);
    }

    #[test]
    fn bad_lines_are_errors() {
        let err = parse_text(&[("requirements.txt", "ok==1\n<<<<<<< HEAD\n")]).unwrap_err();
        assert_eq!(err.line, Some(2));
        let err = parse_text(&[("requirements.txt", "a==not a version\n")]).unwrap_err();
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn paths_and_dev_names() {
        assert_eq!(join_rel("requirements.txt", "base.txt"), "base.txt");
        assert_eq!(join_rel("a/b/r.txt", "../c.txt"), "a/c.txt");
        assert_eq!(join_rel("r.txt", "../up.txt"), "../up.txt");
        assert!(is_dev_file("requirements-dev.txt"));
        assert!(is_dev_file("requirements/test.txt"));
        assert!(is_dev_file("dev-requirements.txt"));
        assert!(!is_dev_file("requirements.txt"));
        assert!(!is_dev_file("requirements/prod.txt"));
    }
}
