//! Lockfiles and manifests: found under a root by file name, each read by its own parser.
//!
//! Every parser has the same shape: `pub fn parse(root: &Path, rel: &str) -> Result<Parsed,
//! ParseError>`, reading `root.join(rel)` (and, where the format needs it, files beside it such
//! as `go.sum` or `-r` includes). Paths in packages and errors are `rel`, with `/` separators.

use std::path::Path;

use crate::model::{Ecosystem, Inventory, ParseError, Parsed};

pub mod cargo;
pub mod composer;
pub mod gemfile;
pub mod gomod;
pub mod gradle;
pub mod maven;
pub mod npm;
pub mod nuget;
pub mod pipfile;
pub mod pnpm;
pub mod poetry;
pub mod requirements;
pub mod uv;
pub mod yarn;

type ParseFn = fn(&Path, &str) -> Result<Parsed, ParseError>;

/// The parser and ecosystem for a file name, if it is a lockfile or manifest evident reads.
pub fn parser_for(file_name: &str) -> Option<(Ecosystem, ParseFn)> {
    let p: (Ecosystem, ParseFn) = match file_name {
        "Cargo.lock" => (Ecosystem::CratesIo, cargo::parse),
        "package-lock.json" | "npm-shrinkwrap.json" => (Ecosystem::Npm, npm::parse),
        "yarn.lock" => (Ecosystem::Npm, yarn::parse),
        "pnpm-lock.yaml" => (Ecosystem::Npm, pnpm::parse),
        "go.mod" => (Ecosystem::Go, gomod::parse),
        "composer.lock" => (Ecosystem::Packagist, composer::parse),
        "poetry.lock" => (Ecosystem::PyPI, poetry::parse),
        "uv.lock" => (Ecosystem::PyPI, uv::parse),
        "Pipfile.lock" => (Ecosystem::PyPI, pipfile::parse),
        "Gemfile.lock" | "gems.locked" => (Ecosystem::RubyGems, gemfile::parse),
        "packages.lock.json" => (Ecosystem::NuGet, nuget::parse),
        "gradle.lockfile" => (Ecosystem::Maven, gradle::parse),
        "pom.xml" => (Ecosystem::Maven, maven::parse),
        name if is_requirements(name) => (Ecosystem::PyPI, requirements::parse),
        _ => return None,
    };
    Some(p)
}

/// `requirements.txt`, `requirements-dev.txt`, `requirements/prod.txt` style names.
fn is_requirements(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    Path::new(&lower)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
        && lower.starts_with("requirements")
}

/// Directories never descended into: installed copies, not the project's own lockfiles.
const SKIP_DIRS: &[&str] = &[
    "node_modules",
    ".git",
    "vendor",
    "target",
    ".venv",
    "venv",
    "__pycache__",
];

/// Finds and parses every supported lockfile under `root` (or `root` itself when it is a file).
pub fn scan(root: &Path) -> Inventory {
    let mut inv = Inventory::default();
    let mut files: Vec<String> = Vec::new();
    if root.is_file() {
        if let Some(name) = root.file_name().and_then(|n| n.to_str()) {
            files.push(name.to_owned());
        }
        let dir = root.parent().unwrap_or(Path::new("."));
        read_all(dir, &files, &mut inv);
        return inv;
    }
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && e.file_name()
                    .to_str()
                    .is_some_and(|n| SKIP_DIRS.contains(&n)))
        })
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(name) = entry.file_name().to_str() else {
            continue;
        };
        if parser_for(name).is_none() {
            continue;
        }
        if let Ok(rel) = entry.path().strip_prefix(root) {
            files.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    files.sort();
    read_all(root, &files, &mut inv);
    inv
}

fn read_all(root: &Path, files: &[String], inv: &mut Inventory) {
    for rel in files {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let Some((eco, parse)) = parser_for(name) else {
            continue;
        };
        // A pom.xml beside a gradle.lockfile or a lockfile of the same ecosystem adds nothing.
        match parse(root, rel) {
            Ok(parsed) => {
                inv.files.insert(rel.clone(), eco);
                for note in parsed.notes {
                    // A file included by several discovered files is read once per includer.
                    if !inv.notes.contains(&note) {
                        inv.notes.push(note);
                    }
                }
                for p in parsed.packages {
                    if !inv
                        .packages
                        .iter()
                        .any(|q| q.purl == p.purl && q.source == p.source)
                    {
                        inv.packages.push(p);
                    }
                }
            }
            Err(e) => inv.errors.push(e),
        }
    }
}
