//! Finds the infrastructure files under a root, loads them into the model, runs every check
//! that applies to each resource (in parallel) and turns hits into findings, honouring inline
//! suppressions.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use evident_core::{Finding, Location, ScanError, ScanReport, Suppression, SuppressionKind};
use rayon::prelude::*;

use crate::checks::{self, Ctx, Hit};
use crate::model::{Model, Platform, Resource};
use crate::suppress::{self, Directives};
use crate::{Loaded, Options, SCANNER};

/// Directories never worth walking into.
const SKIP_DIRS: &[&str] = &[
    ".git",
    ".terraform",
    "node_modules",
    ".evident",
    "target",
    ".venv",
    "vendor",
];

/// What kind of input a file is, from its name and (for YAML and JSON) its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InputKind {
    Terraform,
    TerraformPlan,
    Kubernetes,
    CloudFormation,
    Dockerfile,
}

/// Is `name` a Dockerfile's name (`Dockerfile`, `Containerfile`, `Dockerfile.prod`,
/// `api.Dockerfile`, `build.dockerfile`)?
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "dockerfile"
        || lower == "containerfile"
        || (lower.starts_with("dockerfile.") && !lower.ends_with(".dockerignore"))
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
}

/// Classifies a file. `text` is read only for YAML and JSON, whose content decides.
pub fn classify(name: &str, text: impl FnOnce() -> Option<String>) -> Option<InputKind> {
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if ext == "tf" {
        return Some(InputKind::Terraform);
    }
    if is_dockerfile_name(name) {
        return Some(InputKind::Dockerfile);
    }
    if !matches!(ext.as_str(), "yaml" | "yml" | "json" | "template") {
        return None;
    }
    let text = text()?;
    classify_text(&text)
}

/// Classifies YAML or JSON text by its content.
pub fn classify_text(text: &str) -> Option<InputKind> {
    if crate::terraform::plan::looks_like_plan(text) {
        return Some(InputKind::TerraformPlan);
    }
    if text.contains("AWSTemplateFormatVersion")
        || (text.contains("Resources") && text.contains("AWS::"))
    {
        return Some(InputKind::CloudFormation);
    }
    if text.contains("apiVersion") && text.contains("kind") {
        return Some(InputKind::Kubernetes);
    }
    None
}

/// Finds every supported file under `root` (or `root` itself when it is a file) and checks it.
pub fn scan(root: &Path, options: &Options) -> ScanReport {
    if root.is_file() {
        let dir = root.parent().unwrap_or(Path::new("."));
        return scan_files(dir, &[root.to_path_buf()], options);
    }
    let mut tf_dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let mut others: Vec<(PathBuf, InputKind)> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
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
        let path = entry.path();
        let kind = classify(name, || std::fs::read_to_string(path).ok());
        match kind {
            Some(InputKind::Terraform) => {
                tf_dirs.insert(path.parent().unwrap_or(root).to_path_buf());
            }
            Some(InputKind::Kubernetes) if is_helm_template(path) => {
                notes.push(format!(
                    "{}: a Helm template is not valid YAML until rendered; scan the chart's output: `helm template CHART | evident scan iac -`",
                    relative(root, path)
                ));
            }
            Some(kind) => others.push((path.to_path_buf(), kind)),
            None => {}
        }
    }
    let dirs: Vec<PathBuf> = tf_dirs.into_iter().collect();
    let mut loaded = if dirs.is_empty() {
        Loaded::default()
    } else {
        crate::terraform::load_dirs(root, &dirs, options)
    };
    loaded.notes.extend(notes);
    let rest: Vec<Loaded> = others
        .par_iter()
        .map(|(path, kind)| load_one(root, path, *kind))
        .collect();
    for l in rest {
        loaded.merge(l);
    }
    report(root, loaded, options)
}

/// Checks exactly `files` (Terraform files given together form one module).
pub fn scan_files(root: &Path, files: &[PathBuf], options: &Options) -> ScanReport {
    let mut tf: Vec<PathBuf> = Vec::new();
    let mut loaded = Loaded::default();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        match classify(name, || std::fs::read_to_string(path).ok()) {
            Some(InputKind::Terraform) => tf.push(path.clone()),
            Some(kind) => loaded.merge(load_one(root, path, kind)),
            None => loaded.errors.push(ScanError {
                path: relative(root, path),
                message: "not a Terraform, Terraform plan, Kubernetes, CloudFormation or Dockerfile input (name it *.tf, *.yaml, *.json or Dockerfile)".to_owned(),
            }),
        }
    }
    if !tf.is_empty() {
        loaded.merge(crate::terraform::load_files(root, &tf, options));
    }
    report(root, loaded, options)
}

/// Checks text read from standard input (e.g. `helm template … | evident scan iac -`).
pub fn scan_stdin(text: &str, options: &Options) -> ScanReport {
    let label = "<stdin>";
    let loaded = match classify_text(text) {
        Some(kind) => load_text(label, text, kind),
        None if text.trim_start().starts_with("FROM ")
            || text
                .lines()
                .any(|l| l.trim_start().to_ascii_uppercase().starts_with("FROM ")) =>
        {
            crate::dockerfile::load(label, text)
        }
        None => Loaded::error(
            label,
            "standard input is neither Kubernetes YAML, a Terraform plan, CloudFormation nor a Dockerfile",
        ),
    };
    let mut report = report(Path::new("."), loaded, options);
    "-".clone_into(&mut report.root);
    report
}

fn is_helm_template(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "templates")
        && std::fs::read_to_string(path).is_ok_and(|t| t.contains("{{"))
}

/// `path` relative to `root`, with `/` separators.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn load_one(root: &Path, path: &Path, kind: InputKind) -> Loaded {
    let label = relative(root, path);
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => {
                let mut l = load_text(&label, &text, kind);
                l.files += 1;
                l.bytes += text.len() as u64;
                l
            }
            Err(_) => Loaded::error(&label, "not UTF-8 text"),
        },
        Err(e) => Loaded::error(&label, format!("cannot read: {e}")),
    }
}

fn load_text(label: &str, text: &str, kind: InputKind) -> Loaded {
    match kind {
        InputKind::TerraformPlan => crate::terraform::plan::load(label, text),
        InputKind::Kubernetes => crate::kubernetes::load(label, text),
        InputKind::CloudFormation => crate::cloudformation::load(label, text),
        InputKind::Dockerfile => crate::dockerfile::load(label, text),
        InputKind::Terraform => Loaded::error(label, "Terraform is loaded by directory"),
    }
}

/// Runs the checks on everything loaded and builds the report.
fn report(root: &Path, loaded: Loaded, options: &Options) -> ScanReport {
    let Loaded {
        resources,
        errors,
        files,
        bytes,
        notes,
    } = loaded;
    let model = Model::new(resources);
    let mut report = ScanReport {
        scanner: SCANNER.to_owned(),
        root: root.display().to_string(),
        errors,
        notes,
        ..ScanReport::default()
    };
    report.stats.files = files;
    report.stats.bytes = bytes;
    let (findings, suppress_notes) = evaluate(root, &model, options);
    report.stats.suppressed = findings.iter().filter(|f| f.suppressed.is_some()).count() as u64;
    report.findings = findings;
    report.notes.extend(suppress_notes);
    report.sort();
    report
}

/// Runs every check that applies to every resource of `model`.
pub fn evaluate(root: &Path, model: &Model, options: &Options) -> (Vec<Finding>, Vec<String>) {
    let ctx = Ctx { model, options };
    let index = checks::by_kind();
    let raw: Vec<(usize, &'static checks::IacCheck, Hit)> = model
        .resources
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, r)| {
            let mut out = Vec::new();
            if let Some(list) = index.get(r.kind.as_str()) {
                let mut hits = Vec::new();
                for c in list {
                    hits.clear();
                    (c.run)(&ctx, r, &mut hits);
                    out.extend(hits.drain(..).map(|h| (i, *c, h)));
                }
            }
            out
        })
        .collect();
    // Directives and lines of the files that have hits (read once each).
    let mut directives: HashMap<&str, Directives> = HashMap::new();
    let mut sources: HashMap<&str, Source> = HashMap::new();
    let mut notes = Vec::new();
    let files: BTreeSet<&str> = raw
        .iter()
        .map(|(i, _, _)| model.resources[*i].file.as_str())
        .collect();
    for file in files {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        let d = suppress::parse(&text);
        for (line, message) in &d.invalid {
            notes.push(format!("{file}:{line}: {message}"));
        }
        for directive in &d.valid {
            for id in &directive.checks {
                if !checks::all().iter().any(|c| &c.meta.id == id) {
                    notes.push(format!(
                        "{file}:{}: `evident:ignore {id}` names no IaC check, so it suppresses nothing (`evident checks --scanner iac` lists the ids)",
                        directive.line
                    ));
                }
            }
        }
        directives.insert(file, d);
        sources.insert(file, Source::new(text));
    }
    let mut seen: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    let mut findings = Vec::with_capacity(raw.len());
    for (i, c, hit) in raw {
        let r = &model.resources[i];
        // The same hit twice (e.g. two checks' kinds overlap) is reported once.
        let key = (
            c.meta.id.clone(),
            r.address.clone(),
            hit.key.clone(),
            r.file.clone(),
        );
        if !seen.insert(key) {
            continue;
        }
        findings.push(finding(
            c,
            r,
            &hit,
            directives.get(r.file.as_str()),
            sources.get(r.file.as_str()),
        ));
    }
    (findings, notes)
}

/// A file's text with its line starts, to quote the offending line.
struct Source {
    text: String,
    starts: Vec<usize>,
}

impl Source {
    fn new(text: String) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source { text, starts }
    }

    /// Line `n` (1-based), trimmed and cut to 160 characters; `None` when blank or absent.
    fn line(&self, n: u32) -> Option<String> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        let start = *self.starts.get(i)?;
        let end = self.starts.get(i + 1).map_or(self.text.len(), |e| e - 1);
        let line = self.text.get(start..end)?.trim();
        if line.is_empty() {
            return None;
        }
        let mut out: String = line.chars().take(160).collect();
        if out.len() < line.len() {
            out.push('…');
        }
        Some(out)
    }
}

fn finding(
    c: &checks::IacCheck,
    r: &Resource,
    hit: &Hit,
    directives: Option<&Directives>,
    source: Option<&Source>,
) -> Finding {
    let line = if hit.line > 0 { hit.line } else { r.line };
    let mut location = Location::file(r.file.clone());
    if line > 0 {
        location = location.at(line, 1);
    }
    location.resource = Some(r.address.clone());
    let mut message = hit.message.clone();
    if let Some(m) = &r.module {
        use std::fmt::Write as _;
        let _ = write!(message, " (through {} at {}:{})", m.address, m.file, m.line);
    }
    let resource_scope = r.platform != Platform::Dockerfile;
    let suppression = directives
        .and_then(|d| d.find(&c.meta.id, line, r.line, r.end_line, resource_scope))
        .map(|d| Suppression {
            kind: SuppressionKind::Inline,
            reason: d.reason.clone(),
        });
    let mut builder = Finding::builder(&c.meta, location)
        .message(message)
        .identity(&[r.address.as_bytes(), hit.key.as_bytes()])
        .suppressed(suppression);
    // The offending line, unless it may hold a secret's value.
    if !c.secret_bearing
        && let Some(text) = source.and_then(|s| s.line(line))
    {
        builder = builder.snippet(text);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_lines_are_quoted_trimmed_and_cut() {
        let s = Source::new("a = 1\n\n  b = \"x\"  \r\n".to_owned() + &"c".repeat(300));
        assert_eq!(s.line(1).as_deref(), Some("a = 1"));
        assert_eq!(s.line(2), None);
        assert_eq!(s.line(3).as_deref(), Some("b = \"x\""));
        assert_eq!(s.line(4).unwrap().chars().count(), 161);
        assert_eq!(s.line(5), None);
        assert_eq!(s.line(0), None);
    }

    #[test]
    fn classifies_by_name_and_content() {
        assert_eq!(classify("main.tf", || None), Some(InputKind::Terraform));
        assert_eq!(classify("Dockerfile", || None), Some(InputKind::Dockerfile));
        assert_eq!(
            classify("api.Dockerfile", || None),
            Some(InputKind::Dockerfile)
        );
        assert_eq!(classify("Dockerfile.dockerignore", || None), None);
        assert_eq!(
            classify("deploy.yaml", || Some(
                "apiVersion: v1\nkind: Pod\n".to_owned()
            )),
            Some(InputKind::Kubernetes)
        );
        assert_eq!(
            classify("stack.yml", || Some(
                "AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n".to_owned()
            )),
            Some(InputKind::CloudFormation)
        );
        assert_eq!(
            classify("plan.json", || Some(
                "{\"format_version\":\"1.2\",\"planned_values\":{}}".to_owned()
            )),
            Some(InputKind::TerraformPlan)
        );
        assert_eq!(
            classify("ci.yml", || Some("on: push\njobs: {}\n".to_owned())),
            None
        );
        assert_eq!(classify("README.md", || None), None);
    }
}
