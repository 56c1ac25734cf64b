//! Maven `pom.xml`: the dependencies a POM declares, with the versions it (and its parents in
//! the scanned tree) pins. A POM is a manifest, not a lockfile: transitive dependencies are not
//! known here.
//!
//! - `<project><dependencies><dependency>` entries are packages `groupId:artifactId`; the project
//!   itself is not. `<scope>test</scope>` makes a package dev; `system` scope (a local jar) is
//!   left out with a note. Dependencies inside `<profiles>` and build plugins are not read.
//! - `${…}` is interpolated from `<properties>` and from `project.version`, `project.groupId`,
//!   `project.artifactId`, `project.parent.version` / `.groupId` / `.artifactId` (also spelled
//!   `pom.…`), recursively (a project version of `${revision}` works).
//! - A dependency without a version takes it (and its scope, when it has none) from
//!   `<dependencyManagement>`.
//! - The parent POM is read when it is in the scanned tree (`<relativePath>`, by default
//!   `../pom.xml`, with matching coordinates): its properties and dependency management are
//!   inherited, the child's winning. Its own `<dependencies>` are not copied: the parent's
//!   `pom.xml` is reported as a file of its own. Parents outside the scanned root are not read.
//! - A version that stays unresolved — an undefined property, management in a parent POM or an
//!   imported BOM that is not present, a range like `[1.0,2.0)` — is a note, not a package.
//!   (`[1.5]`, a hard requirement of exactly 1.5, is the version 1.5.)

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::requirements::join_rel;
use crate::model::{Ecosystem, Package, ParseError, Parsed};

const ECO: Ecosystem = Ecosystem::Maven;

/// How many parent POMs are followed.
const MAX_PARENTS: usize = 10;

/// How deep `${…}` may nest before it counts as circular.
const MAX_INTERPOLATION_DEPTH: usize = 16;

#[derive(Default, Clone)]
struct Dep {
    group: String,
    artifact: String,
    version: Option<String>,
    scope: Option<String>,
    /// The line of `<version>`, or of `<dependency>` when it has none.
    line: usize,
}

#[derive(Default, Clone)]
struct Parent {
    group: String,
    artifact: String,
    version: String,
    /// `None`: the default `../pom.xml`; `Some("")`: look it up in repositories only.
    relative_path: Option<String>,
}

#[derive(Default)]
struct Pom {
    group: Option<String>,
    artifact: Option<String>,
    version: Option<String>,
    parent: Option<Parent>,
    properties: BTreeMap<String, String>,
    dependencies: Vec<Dep>,
    managed: Vec<Dep>,
}

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = std::fs::read_to_string(root.join(rel))
        .map_err(|e| ParseError::new(rel, None, format!("cannot read the file: {e}")))?;
    let pom = read_pom(rel, &text)?;
    let mut notes = Vec::new();
    let chain = load_parents(root, rel, &pom, &mut notes);
    let mut parsed = resolve(rel, &pom, &chain)?;
    notes.append(&mut parsed.notes);
    parsed.notes = notes;
    Ok(parsed)
}

/// The parents of `pom` found in the tree, nearest first, and whether the chain ends at a
/// parent that is declared but not present.
struct Parents {
    poms: Vec<Pom>,
    missing: Option<String>,
}

fn load_parents(root: &Path, rel: &str, pom: &Pom, notes: &mut Vec<String>) -> Parents {
    let mut poms: Vec<Pom> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::from([rel.to_owned()]);
    let mut child_rel = rel.to_owned();
    let mut declared = pom.parent.clone();
    while let Some(parent) = declared {
        let coords = format!("{}:{}:{}", parent.group, parent.artifact, parent.version);
        let missing = Parents {
            poms: Vec::new(),
            missing: Some(coords.clone()),
        };
        let Some(parent_rel) = parent_path(&child_rel, parent.relative_path.as_deref()) else {
            return Parents { poms, ..missing };
        };
        if poms.len() >= MAX_PARENTS || !seen.insert(parent_rel.clone()) {
            return Parents { poms, ..missing };
        }
        let Ok(text) = std::fs::read_to_string(root.join(&parent_rel)) else {
            return Parents { poms, ..missing };
        };
        let mut candidate = match read_pom(&parent_rel, &text) {
            Ok(p) => p,
            Err(e) => {
                notes.push(format!(
                    "{rel}: the parent POM `{coords}` at {parent_rel} cannot be read ({e}); \
                     versions it manages are not known"
                ));
                return Parents { poms, ..missing };
            }
        };
        let group = candidate
            .group
            .clone()
            .or_else(|| candidate.parent.as_ref().map(|p| p.group.clone()))
            .unwrap_or_default();
        let version = candidate
            .version
            .clone()
            .or_else(|| candidate.parent.as_ref().map(|p| p.version.clone()))
            .unwrap_or_default();
        let same_version =
            version == parent.version || version.contains("${") || parent.version.contains("${");
        if group != parent.group
            || candidate.artifact.as_deref() != Some(parent.artifact.as_str())
            || !same_version
        {
            return Parents { poms, ..missing };
        }
        declared = candidate.parent.take();
        child_rel = parent_rel;
        poms.push(candidate);
    }
    Parents {
        poms,
        missing: None,
    }
}

/// Where a parent POM is, relative to the root; `None` when it is not looked for in the tree.
fn parent_path(child_rel: &str, relative_path: Option<&str>) -> Option<String> {
    let rp = relative_path.unwrap_or("../pom.xml").trim();
    if rp.is_empty() {
        return None;
    }
    let mut joined = join_rel(child_rel, rp);
    if !joined.to_ascii_lowercase().ends_with(".xml") {
        joined.push_str("/pom.xml");
    }
    let joined = joined.trim_start_matches('/').to_owned();
    (!joined.starts_with("..") && !rp.starts_with('/')).then_some(joined)
}

/// The effective model's values that interpolation needs.
struct Model<'a> {
    pom: &'a Pom,
    parents: &'a Parents,
    properties: BTreeMap<&'a str, &'a str>,
}

enum Unresolved {
    /// A `${property}` that nothing defines.
    Missing(String),
    /// Properties that refer to each other.
    Circular(String),
}

impl<'a> Model<'a> {
    fn new(pom: &'a Pom, parents: &'a Parents) -> Self {
        let mut properties = BTreeMap::new();
        for p in parents.poms.iter().rev().chain(std::iter::once(pom)) {
            for (k, v) in &p.properties {
                properties.insert(k.as_str(), v.as_str());
            }
        }
        Model {
            pom,
            parents,
            properties,
        }
    }

    fn lookup(&self, key: &str) -> Option<String> {
        let parent = self.pom.parent.as_ref();
        let model = key
            .strip_prefix("project.")
            .or_else(|| key.strip_prefix("pom."));
        let special = match model {
            Some("version") => self
                .pom
                .version
                .clone()
                .or_else(|| parent.map(|p| p.version.clone())),
            Some("groupId") => self
                .pom
                .group
                .clone()
                .or_else(|| parent.map(|p| p.group.clone())),
            Some("artifactId") => self.pom.artifact.clone(),
            Some("parent.version") => parent.map(|p| p.version.clone()),
            Some("parent.groupId") => parent.map(|p| p.group.clone()),
            Some("parent.artifactId") => parent.map(|p| p.artifact.clone()),
            _ => None,
        };
        special.or_else(|| self.properties.get(key).map(|v| (*v).to_owned()))
    }

    fn interpolate(&self, s: &str) -> Result<String, Unresolved> {
        self.interpolate_at(s, 0)
    }

    fn interpolate_at(&self, s: &str, depth: usize) -> Result<String, Unresolved> {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let key = after[..end].trim();
            if depth >= MAX_INTERPOLATION_DEPTH {
                return Err(Unresolved::Circular(key.to_owned()));
            }
            let value = self
                .lookup(key)
                .ok_or_else(|| Unresolved::Missing(key.to_owned()))?;
            out.push_str(&self.interpolate_at(&value, depth + 1)?);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The managing entry for `group:artifact`, nearest POM first, and the imported BOMs seen.
    fn managed(&self, group: &str, artifact: &str) -> (Option<&'a Dep>, Vec<String>) {
        let mut boms = Vec::new();
        for p in std::iter::once(self.pom).chain(self.parents.poms.iter()) {
            for m in &p.managed {
                let (Ok(g), Ok(a)) = (self.interpolate(&m.group), self.interpolate(&m.artifact))
                else {
                    continue;
                };
                if m.scope.as_deref() == Some("import") {
                    let v = m
                        .version
                        .as_deref()
                        .and_then(|v| self.interpolate(v).ok())
                        .unwrap_or_default();
                    boms.push(format!("{g}:{a}:{v}"));
                    continue;
                }
                if g == group && a == artifact {
                    return (Some(m), boms);
                }
            }
        }
        (None, boms)
    }

    /// Why a property stays unresolved, for a note.
    fn why(&self, u: &Unresolved, written: &str) -> String {
        let mut s = match u {
            Unresolved::Missing(key) => {
                format!("`{written}` uses the property `{key}`, which is not defined")
            }
            Unresolved::Circular(key) => {
                format!("`{written}` uses the property `{key}`, which refers to itself")
            }
        };
        if let (Unresolved::Missing(_), Some(missing)) = (u, &self.parents.missing) {
            let _ = write!(
                s,
                " here (it may come from the parent POM `{missing}`, which is not in the scanned tree)"
            );
        }
        s
    }
}

fn resolve(rel: &str, pom: &Pom, parents: &Parents) -> Result<Parsed, ParseError> {
    let model = Model::new(pom, parents);
    let mut out = Parsed::default();
    let unresolved = |line: usize, name: &str, why: &str| {
        format!(
            "{rel}:{line}: `{name}` has no resolvable version — {why}; it cannot be matched \
             against advisories"
        )
    };
    for dep in &pom.dependencies {
        let line = dep.line;
        if dep.group.is_empty() || dep.artifact.is_empty() {
            return Err(ParseError::new(
                rel,
                Some(line),
                "a <dependency> without <groupId> or <artifactId>",
            ));
        }
        let written = format!("{}:{}", dep.group, dep.artifact);
        let (group, artifact) = match (
            model.interpolate(&dep.group),
            model.interpolate(&dep.artifact),
        ) {
            (Ok(g), Ok(a)) => (g, a),
            (Err(u), _) | (_, Err(u)) => {
                out.notes
                    .push(unresolved(line, &written, &model.why(&u, &written)));
                continue;
            }
        };
        let name = format!("{group}:{artifact}");
        let (managed, boms) = model.managed(&group, &artifact);
        let scope = dep
            .scope
            .as_deref()
            .or_else(|| managed.and_then(|m| m.scope.as_deref()))
            .unwrap_or("compile");
        if scope == "system" {
            out.notes.push(format!(
                "{rel}:{line}: `{name}` has system scope (a jar on the local disk), not a \
                 repository package; it is not matched against advisories"
            ));
            continue;
        }
        let Some(raw_version) = dep
            .version
            .as_deref()
            .or_else(|| managed.and_then(|m| m.version.as_deref()))
        else {
            let mut elsewhere: Vec<String> = Vec::new();
            if let Some(p) = &parents.missing {
                elsewhere.push(format!("the parent POM `{p}`"));
            }
            elsewhere.extend(boms.iter().map(|b| format!("the imported BOM `{b}`")));
            let why = if elsewhere.is_empty() {
                "no version is declared or managed".to_owned()
            } else {
                format!(
                    "its version is managed by {}, not in the scanned tree",
                    elsewhere.join(" or ")
                )
            };
            out.notes.push(unresolved(line, &name, &why));
            continue;
        };
        let version = match model.interpolate(raw_version) {
            Ok(v) => v.trim().to_owned(),
            Err(u) => {
                out.notes
                    .push(unresolved(line, &name, &model.why(&u, raw_version)));
                continue;
            }
        };
        let version = match exact_version(&version) {
            Ok(v) => v,
            Err(why) => {
                out.notes.push(unresolved(line, &name, &why));
                continue;
            }
        };
        let dev = scope == "test";
        let purl = crate::model::purl(ECO, &name, &version);
        if let Some(existing) = out.packages.iter_mut().find(|p| p.purl == purl) {
            existing.dev &= dev;
            continue;
        }
        let mut pkg = Package::new(ECO, &name, &version, rel);
        pkg.dev = dev;
        out.packages.push(pkg);
    }
    Ok(out)
}

/// A concrete version: a soft requirement `1.2` or a hard one `[1.2]`; ranges are refused.
fn exact_version(v: &str) -> Result<String, String> {
    if v.is_empty() {
        return Err("the version is empty".to_owned());
    }
    if let Some(inner) = v.strip_prefix('[').and_then(|r| r.strip_suffix(']'))
        && !inner.contains(',')
        && !inner.trim().is_empty()
    {
        return Ok(inner.trim().to_owned());
    }
    if v.starts_with(['[', '(']) || v.contains(',') {
        return Err(format!("`{v}` is a version range"));
    }
    if v.contains(char::is_whitespace) || v.contains("${") {
        return Err(format!("`{v}` is not a version"));
    }
    Ok(v.to_owned())
}

/// Byte offsets of line starts, to turn reader positions into line numbers.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(starts)
    }

    fn line(&self, offset: u64) -> usize {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        self.0.partition_point(|&s| s <= offset).max(1)
    }
}

/// Reads the parts of a POM evident uses.
fn read_pom(rel: &str, text: &str) -> Result<Pom, ParseError> {
    let lines = Lines::new(text);
    let mut reader = Reader::from_str(text);
    reader.config_mut().expand_empty_elements = true;
    let mut pom = Pom::default();
    let mut path: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut dep = Dep::default();
    let mut parent = Parent::default();
    let mut saw_root = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            ParseError::new(
                rel,
                Some(lines.line(reader.error_position())),
                format!("malformed XML: {e}"),
            )
        })?;
        let here = || lines.line(reader.buffer_position());
        let decode_err = |e: quick_xml::encoding::EncodingError| {
            ParseError::new(rel, Some(here()), format!("malformed XML text: {e}"))
        };
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if path.is_empty() {
                    if saw_root || name != "project" {
                        return Err(ParseError::new(
                            rel,
                            Some(here()),
                            format!(
                                "not a Maven POM: the document element is <{name}>, not <project>"
                            ),
                        ));
                    }
                    saw_root = true;
                }
                path.push(name);
                buf.clear();
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                match p.as_slice() {
                    ["project", "dependencies", "dependency"]
                    | [
                        "project",
                        "dependencyManagement",
                        "dependencies",
                        "dependency",
                    ] => {
                        dep = Dep {
                            line: here(),
                            ..Dep::default()
                        };
                    }
                    ["project", "dependencies", "dependency", "version"]
                    | [
                        "project",
                        "dependencyManagement",
                        "dependencies",
                        "dependency",
                        "version",
                    ] => {
                        dep.line = here();
                    }
                    ["project", "parent"] => {
                        parent = Parent::default();
                    }
                    _ => {}
                }
            }
            Event::Text(t) => buf.push_str(&t.decode().map_err(decode_err)?),
            Event::CData(t) => buf.push_str(&t.decode().map_err(decode_err)?),
            Event::GeneralRef(r) => {
                let ch = r.resolve_char_ref().map_err(|e| {
                    ParseError::new(rel, Some(here()), format!("malformed XML reference: {e}"))
                })?;
                if let Some(c) = ch {
                    buf.push(c);
                } else {
                    let name = r.decode().map_err(decode_err)?;
                    match name.as_ref() {
                        "amp" => buf.push('&'),
                        "lt" => buf.push('<'),
                        "gt" => buf.push('>'),
                        "quot" => buf.push('"'),
                        "apos" => buf.push('\''),
                        other => {
                            return Err(ParseError::new(
                                rel,
                                Some(here()),
                                format!("unknown XML entity `&{other};`"),
                            ));
                        }
                    }
                }
            }
            Event::End(_) => {
                let value = buf.trim().to_owned();
                buf.clear();
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                match p.as_slice() {
                    ["project", "groupId"] => pom.group = Some(value),
                    ["project", "artifactId"] => pom.artifact = Some(value),
                    ["project", "version"] => pom.version = Some(value),
                    ["project", "parent"] => pom.parent = Some(std::mem::take(&mut parent)),
                    ["project", "parent", field] => match *field {
                        "groupId" => parent.group = value,
                        "artifactId" => parent.artifact = value,
                        "version" => parent.version = value,
                        "relativePath" => parent.relative_path = Some(value),
                        _ => {}
                    },
                    ["project", "properties", key] => {
                        pom.properties.insert((*key).to_owned(), value);
                    }
                    ["project", "dependencies", "dependency"] => {
                        pom.dependencies.push(std::mem::take(&mut dep));
                    }
                    [
                        "project",
                        "dependencyManagement",
                        "dependencies",
                        "dependency",
                    ] => {
                        pom.managed.push(std::mem::take(&mut dep));
                    }
                    ["project", "dependencies", "dependency", field]
                    | [
                        "project",
                        "dependencyManagement",
                        "dependencies",
                        "dependency",
                        field,
                    ] => match *field {
                        "groupId" => dep.group = value,
                        "artifactId" => dep.artifact = value,
                        "version" => dep.version = Some(value),
                        "scope" => dep.scope = Some(value),
                        _ => {}
                    },
                    _ => {}
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = path.last() {
        return Err(ParseError::new(
            rel,
            Some(lines.line(text.len() as u64)),
            format!("the file ends inside <{open}>"),
        ));
    }
    if !saw_root {
        return Err(ParseError::new(
            rel,
            None,
            "not a Maven POM: there is no <project> element",
        ));
    }
    Ok(pom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_files(files: &[(&str, &str)]) -> Result<Parsed, ParseError> {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        parse(dir.path(), files[0].0)
    }

    const POM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>app</artifactId>
  <version>${revision}</version>
  <properties>
    <revision>1.4.0</revision>
    <jackson.version>2.15.2</jackson.version>
    <jackson.core>${jackson.version}</jackson.core>
  </properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>org.slf4j</groupId>
        <artifactId>slf4j-api</artifactId>
        <version>2.0.9</version>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
      <version>${jackson.core}</version>
    </dependency>
    <dependency>
      <groupId>${project.groupId}</groupId>
      <artifactId>app-core</artifactId>
      <version>${project.version}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
    </dependency>
    <dependency>
      <groupId>junit</groupId>
      <artifactId>junit</artifactId>
      <version>[4.13.2]</version>
      <scope>test</scope>
    </dependency>
    <dependency>
      <groupId>com.example</groupId>
      <artifactId>ranged</artifactId>
      <version>[1.0,2.0)</version>
    </dependency>
    <dependency>
      <groupId>com.example</groupId>
      <artifactId>undefined</artifactId>
      <version>${nope.version}</version>
    </dependency>
  </dependencies>
</project>
"#;

    #[test]
    fn interpolation_management_scope_and_notes() {
        let parsed = parse_files(&[("pom.xml", POM)]).unwrap();
        let got: Vec<(&str, bool)> = parsed
            .packages
            .iter()
            .map(|p| (p.purl.as_str(), p.dev))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.2",
                    false
                ),
                ("pkg:maven/com.example/app-core@1.4.0", false),
                ("pkg:maven/org.slf4j/slf4j-api@2.0.9", false),
                ("pkg:maven/junit/junit@4.13.2", true),
            ]
        );
        assert_eq!(parsed.notes.len(), 2, "{:#?}", parsed.notes);
        assert!(parsed.notes[0].starts_with("pom.xml:45: `com.example:ranged` has no resolvable"));
        assert!(parsed.notes[0].contains("`[1.0,2.0)` is a version range"));
        assert!(parsed.notes[1].contains("property `nope.version`, which is not defined"));
    }

    #[test]
    fn parent_in_the_tree_supplies_properties_and_management() {
        let child = r"<project>
  <parent>
    <groupId>com.example</groupId>
    <artifactId>parent</artifactId>
    <version>3</version>
  </parent>
  <artifactId>child</artifactId>
  <dependencies>
    <dependency><groupId>org.yaml</groupId><artifactId>snakeyaml</artifactId></dependency>
    <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId><version>${guava.version}</version></dependency>
    <dependency><groupId>x</groupId><artifactId>y</artifactId><version>${project.parent.version}</version></dependency>
  </dependencies>
</project>";
        let parent = r"<project>
  <groupId>com.example</groupId>
  <artifactId>parent</artifactId>
  <version>3</version>
  <properties><guava.version>32.1.3-jre</guava.version></properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.yaml</groupId><artifactId>snakeyaml</artifactId><version>2.2</version><scope>test</scope></dependency>
  </dependencies></dependencyManagement>
</project>";
        let parsed = parse_files(&[("child/pom.xml", child), ("pom.xml", parent)]).unwrap();
        let got: Vec<(&str, bool)> = parsed
            .packages
            .iter()
            .map(|p| (p.purl.as_str(), p.dev))
            .collect();
        assert_eq!(
            got,
            [
                ("pkg:maven/org.yaml/snakeyaml@2.2", true),
                ("pkg:maven/com.google.guava/guava@32.1.3-jre", false),
                ("pkg:maven/x/y@3", false),
            ]
        );
        assert!(parsed.notes.is_empty(), "{:#?}", parsed.notes);

        // Without the parent, the same POM yields notes naming it.
        let parsed = parse_files(&[("child/pom.xml", child)]).unwrap();
        assert_eq!(parsed.packages.len(), 1);
        assert!(
            parsed.notes[0].contains("the parent POM `com.example:parent:3`"),
            "{:#?}",
            parsed.notes
        );
        assert!(parsed.notes[1].contains("`guava.version`"));
    }

    #[test]
    fn malformed_xml_is_an_error_with_a_line() {
        let err =
            parse_files(&[("pom.xml", "<project>\n<dependencies>\n</project>\n")]).unwrap_err();
        assert_eq!(err.path, "pom.xml");
        assert_eq!(err.line, Some(3));
        let err = parse_files(&[("pom.xml", "<settings/>")]).unwrap_err();
        assert!(err.message.contains("not a Maven POM"));
        let err = parse_files(&[("pom.xml", "<project>\n<dependencies>")]).unwrap_err();
        assert!(err.line.is_some());
    }

    #[test]
    fn hard_requirements_and_ranges() {
        assert_eq!(exact_version("[1.5]").unwrap(), "1.5");
        assert_eq!(exact_version("1.5").unwrap(), "1.5");
        assert!(exact_version("(,1.0]").is_err());
        assert!(exact_version("[1.0,)").is_err());
        assert!(exact_version("[]").is_err());
    }
}
