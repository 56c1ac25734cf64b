//! GitLab CI: `.gitlab-ci.yml` and `*.gitlab-ci.yml` under the root, resolved with local
//! `include:`, anchors and merge keys, `extends:` and `default:` (see [`pipeline`]), then
//! checked (see [`checks`]).
//!
//! A CI file that another CI file includes is checked as part of that pipeline, not on its own.

mod checks;
mod pipeline;
mod yaml;

use std::collections::BTreeSet;
use std::path::Path;

use evident_core::{Check, ScanError};

use crate::{FileResult, Options};

pub use checks::{UNPINNED_IMAGE, UNPINNED_INCLUDE, UNTRUSTED_VARIABLE, parse_duration};

/// The checks of this module: the shared compliance checks GitLab pipelines can fail and the
/// GitLab-specific ones.
pub fn checks() -> Vec<Check> {
    let mut out: Vec<Check> = [
        crate::compliance::SCAN_DOES_NOT_BLOCK,
        crate::compliance::MISSING_SCAN_STAGE,
        crate::compliance::SHORT_EVIDENCE_RETENTION,
        crate::compliance::UNPROTECTED_PRODUCTION_DEPLOY,
        crate::compliance::DEPLOY_FROM_OTHER_BRANCHES,
        crate::compliance::DEPLOY_WITHOUT_SCANS,
    ]
    .into_iter()
    .map(crate::compliance::get)
    .collect();
    out.extend(checks::own_checks());
    out
}

/// Whether `name` is a GitLab CI file name.
fn is_ci_file(name: &str) -> bool {
    name == ".gitlab-ci.yml" || name.ends_with(".gitlab-ci.yml")
}

/// The GitLab CI files under `root`, relative with `/`, sorted.
fn find(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in ignore::WalkBuilder::new(root)
        .hidden(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build()
        .flatten()
    {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        if !is_ci_file(&entry.file_name().to_string_lossy()) {
            continue;
        }
        if let Ok(rel) = entry.path().strip_prefix(root) {
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(rel.join("/"));
        }
    }
    out.sort();
    out
}

/// Finds and checks the CI files of this kind under `root`.
pub fn scan(root: &Path, options: &Options) -> FileResult {
    let mut result = FileResult::default();
    let mut pipelines = Vec::new();
    for rel in find(root) {
        match pipeline::resolve(root, &rel) {
            Ok(p) => pipelines.push(p),
            Err(e) => result.errors.push(ScanError {
                path: e.path,
                message: e.message,
            }),
        }
    }
    let included: BTreeSet<String> = pipelines
        .iter()
        .flat_map(|p| p.local_files.iter().cloned())
        .collect();
    for p in &pipelines {
        if included.contains(&p.root_file) {
            continue;
        }
        result.findings.extend(checks::run(p, options));
    }
    result
        .errors
        .sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    result.errors.dedup();
    result
}
