//! GitHub Actions: workflows (`.github/workflows/*.yml|yaml`) and composite actions
//! (`action.yml|yaml` with `runs.using: composite`).
//!
//! Files are parsed into a [`crate::yaml::Node`] tree that keeps the line of every key and value, so
//! every finding points at the offending line. Findings carry the job id in
//! `Location::resource`, `workflow` for file-level findings, and `action` for steps of a
//! composite action.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use evident_core::{Check, ScanError};

use crate::stages::Stage;
use crate::{FileResult, Options};

mod audit;
mod rules;

use crate::yaml::{self, Node};

/// The GitHub-only checks (the shared compliance checks it also applies live in
/// [`crate::compliance`]).
pub fn checks() -> Vec<Check> {
    rules::checks()
}

/// What kind of GitHub file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FileKind {
    Workflow,
    Action,
}

/// A parsed GitHub Actions file.
#[derive(Debug)]
struct Source {
    /// Relative to the root, with `/`.
    path: String,
    kind: FileKind,
    text: String,
    root: Node,
}

/// Finds and checks the GitHub Actions files under `root`.
pub fn scan(root: &Path, options: &Options) -> FileResult {
    let mut result = FileResult::default();
    let mut sources = Vec::new();
    for (path, kind) in discover(root) {
        let rel = relative(root, &path);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                result.errors.push(ScanError {
                    path: rel,
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let node = match Node::parse(&text) {
            Ok(node) => node,
            Err(e) => {
                let at = e
                    .location()
                    .map(|l| format!("line {}, column {}: ", l.line(), l.column()))
                    .unwrap_or_default();
                let first = e.to_string();
                let first = first.lines().next().unwrap_or_default();
                result.errors.push(ScanError {
                    path: rel,
                    message: format!("{at}not valid YAML: {first}"),
                });
                continue;
            }
        };
        if kind == FileKind::Action && !is_composite(&node) {
            continue;
        }
        if kind == FileKind::Workflow && node.get("jobs").is_none() {
            if !matches!(node.kind, yaml::Kind::Map(_)) {
                result.errors.push(ScanError {
                    path: rel,
                    message: format!(
                        "line {}: a workflow must be a mapping with `on:` and `jobs:`",
                        node.line
                    ),
                });
            }
            continue;
        }
        sources.push(Source {
            path: rel,
            kind,
            text,
            root: node,
        });
    }
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    let workflows: BTreeMap<&str, &Source> = sources
        .iter()
        .filter(|s| s.kind == FileKind::Workflow)
        .map(|s| (s.path.as_str(), s))
        .collect();
    let mut ran: BTreeSet<Stage> = BTreeSet::new();
    for source in &sources {
        let mut ctx = audit::Ctx::new(source, options, &workflows);
        ctx.run();
        ran.extend(ctx.stages.iter().copied());
        result.findings.extend(ctx.findings);
    }
    if let Some(first) = sources.iter().find(|s| s.kind == FileKind::Workflow) {
        result
            .findings
            .extend(audit::missing_stages(first, options, &ran));
    }
    result
}

fn is_composite(node: &Node) -> bool {
    node.get("runs")
        .and_then(|r| r.get("using"))
        .and_then(Node::as_str)
        .is_some_and(|u| u.eq_ignore_ascii_case("composite"))
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Workflow files (`.github/workflows/*.yml|yaml`, directly in that folder) and candidate
/// action files (`action.yml|yaml` anywhere), in path order. `.git` is skipped; `.gitignore`
/// is honoured.
fn discover(root: &Path) -> Vec<(PathBuf, FileKind)> {
    let mut out = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let name = entry.file_name().to_string_lossy();
        let yamlish = name.ends_with(".yml") || name.ends_with(".yaml");
        if !yamlish {
            continue;
        }
        let parent = path.parent();
        let in_workflows = parent.is_some_and(|p| p.ends_with(".github/workflows"));
        if in_workflows {
            out.push((path.to_path_buf(), FileKind::Workflow));
        } else if name == "action.yml" || name == "action.yaml" {
            out.push((path.to_path_buf(), FileKind::Action));
        }
    }
    out.sort();
    out
}
