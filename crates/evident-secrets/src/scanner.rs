//! The secret scanner: rules + allowlists + ignore files, over every kind of source.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use evident_core::{
    Check, Finding, Location, ScanReport, ScanStats, Suppression, SuppressionKind, sha256_hex,
};
use regex::bytes::Regex;

use crate::allowlist::{Allowlist, Context};
use crate::engine::{Candidate, Engine, InputKind};
use crate::findings::{self, Provenance};
use crate::git::{self, HistoryRange};
use crate::ignorefile::IgnoreSet;
use crate::rules::{self, Rule};
use crate::{decode, filters, gitleaks, redact, source};

/// How to build a scanner.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A gitleaks-format TOML configuration (`--config`).
    pub gitleaks_config: Option<PathBuf>,
    /// Ignore files to honour (missing files are fine).
    pub ignore_files: Vec<PathBuf>,
    /// Glob patterns of paths never scanned (relative to the scanned root).
    pub exclude_paths: Vec<String>,
    /// Worker threads (0 = one per core).
    pub threads: usize,
}

/// A scanner that cannot be built, with what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScannerError {
    #[error(transparent)]
    Rules(#[from] rules::RuleError),
    #[error(transparent)]
    Gitleaks(#[from] gitleaks::ImportError),
    #[error(transparent)]
    Ignore(#[from] crate::ignorefile::IgnoreError),
    #[error("exclude pattern `{pattern}` is not a valid glob: {message}")]
    Glob { pattern: String, message: String },
    #[error(
        "`disabledRules` names `{0}`, which is not a built-in rule; run `evident checks` to list rule ids"
    )]
    UnknownDisabledRule(String),
    #[error("{0}")]
    Automaton(String),
    #[error(transparent)]
    Git(#[from] git::GitError),
}

/// The secret scanner.
#[derive(Debug)]
pub struct Scanner {
    engine: Engine,
    path_rules: Vec<(Check, Regex)>,
    allowlists: Vec<(Allowlist, Vec<String>)>,
    ignore: IgnoreSet,
    exclude: globset::GlobSet,
    threads: usize,
}

impl Scanner {
    pub fn new(options: &Options) -> Result<Self, ScannerError> {
        let mut rules: Vec<Rule> = Vec::new();
        let mut path_rules = Vec::new();
        let mut allowlists = Vec::new();
        match &options.gitleaks_config {
            Some(path) => {
                let imported = gitleaks::load(path)?;
                if imported.use_default {
                    let builtin = rules::builtin_rules()?;
                    for id in &imported.disabled_rules {
                        if !builtin.iter().any(|r| r.check.id == *id) {
                            return Err(ScannerError::UnknownDisabledRule(id.clone()));
                        }
                    }
                    rules.extend(
                        builtin
                            .into_iter()
                            .filter(|r| !imported.disabled_rules.contains(&r.check.id)),
                    );
                }
                // Imported rules replace built-ins of the same id.
                rules.retain(|r| !imported.rules.iter().any(|i| i.check.id == r.check.id));
                rules.extend(imported.rules);
                path_rules = imported.path_rules;
                allowlists = imported.allowlists;
            }
            None => rules = rules::builtin_rules()?,
        }
        let engine = Engine::new(rules).map_err(|e| ScannerError::Automaton(e.to_string()))?;
        let mut ignore = IgnoreSet::default();
        for file in &options.ignore_files {
            ignore.load_if_exists(file)?;
        }
        let mut exclude = globset::GlobSetBuilder::new();
        for pattern in &options.exclude_paths {
            let glob = globset::GlobBuilder::new(pattern)
                .literal_separator(false)
                .build()
                .map_err(|e| ScannerError::Glob {
                    pattern: pattern.clone(),
                    message: e.kind().to_string(),
                })?;
            exclude.add(glob);
        }
        let exclude = exclude.build().map_err(|e| ScannerError::Glob {
            pattern: options.exclude_paths.join(", "),
            message: e.to_string(),
        })?;
        Ok(Self {
            engine,
            path_rules,
            allowlists,
            ignore,
            exclude,
            threads: options.threads,
        })
    }

    pub fn rules(&self) -> &[Rule] {
        self.engine.rules()
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn excluded(&self, path: &str) -> bool {
        !self.exclude.is_empty() && self.exclude.is_match(path)
    }

    /// Scans one buffer that is the content (or a chunk, starting at `first_line`) of `path`.
    pub fn scan_bytes(
        &self,
        path: &str,
        data: &[u8],
        first_line: u32,
        skip_before: usize,
        provenance: &Provenance,
    ) -> Vec<Finding> {
        if self.excluded(path) {
            return Vec::new();
        }
        let kind = InputKind {
            lockfile: filters::is_lockfile(path),
            code: filters::is_code(path),
        };
        let mut candidates = self.engine.scan(data, kind);
        candidates.retain(|c| c.secret_end > skip_before);
        // Kubernetes Secret values are reported decoded (below), never as their base64 text.
        let decoded = if decode::has_kubernetes_secret(path, data) {
            decode::kubernetes_secret_entries(data)
        } else {
            Vec::new()
        };
        candidates.retain(|c| {
            !decoded
                .iter()
                .any(|d| c.secret_start >= d.value_start && c.secret_start < d.value_end)
        });
        let mut suppressed: Vec<Option<Suppression>> = Vec::with_capacity(candidates.len());
        candidates.retain(|c| self.rule_applies(path, c));
        for c in &candidates {
            suppressed.push(self.allowlisted(path, data, c, provenance));
        }
        let mut out = findings::build(&self.engine, path, data, &candidates, provenance);
        for (finding, allow) in out.iter_mut().zip(suppressed) {
            if finding.suppressed.is_none() {
                finding.suppressed = allow;
            }
        }
        if !decoded.is_empty() {
            out.extend(self.scan_kubernetes_secret(path, data, &decoded, provenance));
        }
        for (check, regex) in &self.path_rules {
            if first_line == 1 && regex.is_match(path.as_bytes()) {
                let mut location = Location::file(path);
                location.commit.clone_from(&provenance.commit);
                out.push(
                    Finding::builder(check, location)
                        .message(format!("{} at {path}", check.title))
                        .build(),
                );
            }
        }
        if first_line > 1 {
            for f in &mut out {
                f.location.line = f.location.line.map(|l| l + first_line - 1);
                f.location.end_line = f.location.end_line.map(|l| l + first_line - 1);
            }
        }
        for f in &mut out {
            self.ignore.apply(f);
        }
        out
    }

    fn rule_applies(&self, path: &str, c: &Candidate) -> bool {
        let rule = &self.engine.rules()[c.rule];
        rule.path
            .as_ref()
            .is_none_or(|p| p.is_match(path.as_bytes()))
    }

    fn allowlisted(
        &self,
        path: &str,
        data: &[u8],
        c: &Candidate,
        provenance: &Provenance,
    ) -> Option<Suppression> {
        let rule = &self.engine.rules()[c.rule];
        if rule.allowlists.is_empty() && self.allowlists.is_empty() {
            return None;
        }
        let line_start = memchr::memrchr(b'\n', &data[..c.start]).map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', &data[c.end..]).map_or(data.len(), |i| c.end + i);
        let ctx = Context {
            path,
            secret: &data[c.secret_start..c.secret_end],
            matched: &data[c.start..c.end],
            line: &data[line_start..line_end],
            commit: provenance.commit.as_deref(),
        };
        let global = self
            .allowlists
            .iter()
            .filter(|(_, targets)| targets.is_empty() || targets.contains(&rule.check.id))
            .map(|(a, _)| a);
        rule.allowlists
            .iter()
            .chain(global)
            .find(|a| a.allows(&ctx))
            .map(|a| Suppression {
                kind: SuppressionKind::Allowlist,
                reason: if a.description.is_empty() {
                    "matched a configured allowlist".to_owned()
                } else {
                    format!("allowlist: {}", a.description)
                },
            })
    }

    fn scan_kubernetes_secret(
        &self,
        path: &str,
        data: &[u8],
        entries: &[decode::DecodedEntry],
        provenance: &Provenance,
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        for entry in entries {
            let inner = self.engine.scan(&entry.text, InputKind::default());
            let line = memchr::memchr_iter(b'\n', &data[..entry.value_start]).count() as u32 + 1;
            let column = (entry.value_start - entry.line_start) as u32 + 1;
            for c in inner {
                let rule = &self.engine.rules()[c.rule];
                let secret = &entry.text[c.secret_start..c.secret_end];
                let digest = sha256_hex(secret);
                let mut location = Location::file(path).at(line, column);
                location.commit.clone_from(&provenance.commit);
                location.author.clone_from(&provenance.author);
                location.date.clone_from(&provenance.date);
                out.push(
                    Finding::builder(&rule.check, location)
                        .message(format!(
                            "Possible {} (base64-encoded in a Kubernetes Secret) at {path}:{line}",
                            rule.check.title
                        ))
                        .snippet(redact::snippet(
                            data,
                            entry.line_start,
                            &[(entry.value_start, entry.value_end)],
                            160,
                        ))
                        .identity(&[digest.as_bytes()])
                        .secret_sha256(digest)
                        .build(),
                );
            }
        }
        out
    }

    /// Notes for ignore-file entries that matched nothing in a full scan.
    fn note_unused_ignores(&self, report: &mut ScanReport) {
        for entry in self.ignore.unused() {
            report.notes.push(format!(
                "{entry} matches no finding in the whole history: remove it, or it will silently accept a future finding that matches it"
            ));
        }
    }

    fn report(root: &Path) -> ScanReport {
        ScanReport {
            scanner: "secrets".into(),
            root: root.display().to_string(),
            ..ScanReport::default()
        }
    }

    /// Scans a working tree (or one file).
    pub fn scan_tree(&self, root: &Path) -> ScanReport {
        let found = Mutex::new(Vec::new());
        let visit = |path: &str, chunk: &source::Chunk<'_>| {
            let findings = self.scan_bytes(
                path,
                chunk.data,
                chunk.first_line,
                chunk.skip_before,
                &Provenance::default(),
            );
            if !findings.is_empty()
                && let Ok(mut found) = found.lock()
            {
                found.extend(findings);
            }
        };
        let (stats, errors) = source::walk(root, self.threads, &visit);
        let mut report = Self::report(root);
        report.findings = found.into_inner().unwrap_or_default();
        report.errors = errors;
        report.stats = ScanStats {
            files: stats.files.load(Ordering::Relaxed),
            bytes: stats.bytes.load(Ordering::Relaxed),
            skipped_binary: stats.skipped_binary.load(Ordering::Relaxed),
            ..ScanStats::default()
        };
        finish(report)
    }

    /// Scans one in-memory input (e.g. standard input) under the name `name`.
    pub fn scan_input(&self, name: &str, data: &[u8]) -> ScanReport {
        let mut report = Self::report(Path::new(name));
        if source::is_binary(data) {
            report.stats.skipped_binary = 1;
            return report;
        }
        report.stats.files = 1;
        report.stats.bytes = data.len() as u64;
        report.findings = self.scan_bytes(name, data, 1, 0, &Provenance::default());
        finish(report)
    }

    /// Scans what is staged in the index and differs from HEAD, reporting only secrets that the
    /// staged change introduces (a secret already at HEAD in the same file is not new).
    pub fn scan_staged(&self, root: &Path) -> Result<ScanReport, ScannerError> {
        let mut report = Self::report(root);
        for file in git::staged_files(root)? {
            if source::is_binary(&file.staged) {
                report.stats.skipped_binary += 1;
                continue;
            }
            report.stats.files += 1;
            report.stats.bytes += file.staged.len() as u64;
            let mut findings =
                self.scan_bytes(&file.path, &file.staged, 1, 0, &Provenance::default());
            if let Some(head) = &file.head {
                let existing: HashSet<Option<String>> = self
                    .scan_bytes(&file.path, head, 1, 0, &Provenance::default())
                    .into_iter()
                    .map(|f| f.secret_sha256)
                    .collect();
                findings
                    .retain(|f| f.secret_sha256.is_none() || !existing.contains(&f.secret_sha256));
            }
            report.findings.extend(findings);
        }
        Ok(finish(report))
    }

    /// Scans every unique blob of the selected history; each finding names the commit that
    /// introduced the secret (the earliest commit whose blob at that path holds it).
    pub fn scan_history(
        &self,
        root: &Path,
        range: &HistoryRange,
    ) -> Result<ScanReport, ScannerError> {
        let (results, stats) =
            git::scan_history(root, range, self.threads, |path, data, provenance| {
                self.scan_bytes(path, data, 1, 0, provenance)
            })?;
        let mut by_commit: Vec<(usize, Finding)> = results
            .into_iter()
            .flat_map(|(c, fs)| fs.into_iter().map(move |f| (c, f)))
            .collect();
        by_commit.sort_by_key(|(c, _)| *c);
        // Secrets already present at the excluded boundary of a range were not introduced by it.
        let mut seen: HashSet<String> = by_commit
            .iter()
            .filter(|(c, _)| *c == git::BASELINE)
            .map(|(_, f)| f.fingerprint.clone())
            .collect();
        by_commit.retain(|(c, _)| *c != git::BASELINE);
        let mut report = Self::report(root);
        for (_, finding) in by_commit {
            if seen.insert(finding.fingerprint.clone()) {
                report.findings.push(finding);
            }
        }
        report.stats = ScanStats {
            files: stats.blobs - stats.skipped_binary,
            bytes: stats.bytes,
            skipped_binary: stats.skipped_binary,
            commits: stats.commits,
            blobs: stats.blobs,
            suppressed: 0,
        };
        // Only a scan of all history sees every committed finding an entry could match.
        if matches!(range, HistoryRange::All) {
            self.note_unused_ignores(&mut report);
        }
        Ok(finish(report))
    }
}

fn finish(mut report: ScanReport) -> ScanReport {
    report.stats.suppressed = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .count() as u64;
    report.sort();
    report
}
