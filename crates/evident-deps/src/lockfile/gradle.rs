//! `gradle.lockfile` (Gradle dependency locking, one file per project since Gradle 6).
//!
//! Each line is `group:artifact:version=configuration,configuration,…`; `#` lines are comments
//! and `empty=…` lists the configurations that resolved to nothing. A package is dev when every
//! configuration it is locked in is a test one (`testCompileClasspath`, `testRuntimeClasspath`,
//! `integrationTestRuntimeClasspath`, `testFixturesCompileClasspath`, … — a name starting with
//! `test` or containing `Test`). Lines without `=` (the older per-configuration lockfiles) are
//! runtime packages. The format records no hashes and no edges.

use std::collections::BTreeMap;
use std::path::Path;

use crate::model::{Ecosystem, Package, ParseError, Parsed};

const ECO: Ecosystem = Ecosystem::Maven;

pub fn parse(root: &Path, rel: &str) -> Result<Parsed, ParseError> {
    let text = std::fs::read_to_string(root.join(rel))
        .map_err(|e| ParseError::new(rel, None, format!("cannot read the file: {e}")))?;
    parse_str(rel, &text)
}

/// Parses the text of a `gradle.lockfile`; `rel` labels packages and errors.
pub fn parse_str(rel: &str, text: &str) -> Result<Parsed, ParseError> {
    let mut out = Parsed::default();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let (coords, configs) = match content.split_once('=') {
            Some((c, cfg)) => (c.trim(), Some(cfg.trim())),
            None => (content, None),
        };
        if coords == "empty" {
            continue;
        }
        let parts: Vec<&str> = coords.split(':').map(str::trim).collect();
        let [group, artifact, version] = parts.as_slice() else {
            return Err(ParseError::new(
                rel,
                Some(line),
                format!("`{content}` is not `group:artifact:version=configurations`"),
            ));
        };
        if [group, artifact, version]
            .iter()
            .any(|p| p.is_empty() || p.contains(char::is_whitespace))
        {
            return Err(ParseError::new(
                rel,
                Some(line),
                format!("`{coords}` has an empty or malformed group, artifact or version"),
            ));
        }
        let dev = configs.is_some_and(|cfg| {
            let names: Vec<&str> = cfg
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            !names.is_empty() && names.iter().all(|c| is_test_configuration(c))
        });
        let name = format!("{group}:{artifact}");
        let key = format!("{name}:{version}");
        if let Some(&idx) = seen.get(&key) {
            // Listed twice (hand edits): runtime wins.
            out.packages[idx].dev &= dev;
            continue;
        }
        let mut pkg = Package::new(ECO, &name, version, rel);
        pkg.dev = dev;
        seen.insert(key, out.packages.len());
        out.packages.push(pkg);
    }
    Ok(out)
}

fn is_test_configuration(name: &str) -> bool {
    name.starts_with("test") || name.contains("Test")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classpaths_decide_dev() {
        let text = "# This is a Gradle generated file for dependency locking.
com.google.guava:guava:32.1.2-jre=compileClasspath,runtimeClasspath,testCompileClasspath,testRuntimeClasspath
junit:junit:4.13.2=testCompileClasspath,testRuntimeClasspath
org.projectlombok:lombok:1.18.30=annotationProcessor
empty=testAnnotationProcessor
";
        let parsed = parse_str("gradle.lockfile", text).unwrap();
        let got: Vec<(&str, bool)> = parsed
            .packages
            .iter()
            .map(|p| (p.purl.as_str(), p.dev))
            .collect();
        assert_eq!(
            got,
            [
                ("pkg:maven/com.google.guava/guava@32.1.2-jre", false),
                ("pkg:maven/junit/junit@4.13.2", true),
                ("pkg:maven/org.projectlombok/lombok@1.18.30", false)
            ]
        );
    }

    #[test]
    fn malformed_lines_are_errors() {
        let err = parse_str("gradle.lockfile", "# c\na:b=compileClasspath\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        let err = parse_str("gradle.lockfile", "a::1=x\n").unwrap_err();
        assert_eq!(err.line, Some(1));
    }
}
