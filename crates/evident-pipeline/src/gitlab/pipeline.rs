//! Resolves a GitLab CI file into the pipeline GitLab would run, as far as the checks need.
//!
//! Semantics (GitLab's, simplified where noted):
//! - `include:` — a string, a list of strings and/or maps, or one map. `local:` files (and
//!   plain strings that are not URLs) are read from the scanned root (a leading `/` is the
//!   root), recursively; a file included twice is merged once; a file that includes itself
//!   through a chain is an error. `remote:`, `project:` and `component:` are not fetched, only
//!   recorded (for the pinning check). `template:` is not fetched either: for GitLab's Security
//!   templates we model the configuration job each defines (`sast`, `secret_detection`, …) with
//!   the template's `allow_failure: true`, placed at the `include:` entry.
//! - Merging: included files first, in order, then the including file; mappings are merged
//!   deeply, anything else (lists, scalars) is replaced by the later definition.
//! - Anchors, aliases and `<<` merge keys are resolved by the YAML parser.
//! - `extends:` (a name or a list): bases are resolved first (recursively, at most
//!   [`MAX_EXTENDS_DEPTH`] levels; a cycle is an error), merged in order, then the job's own
//!   keys deeply merged on top. Hidden jobs (`.name`) are templates, never jobs.
//! - `default:` keys and the legacy top-level `image`, `services`, `before_script`,
//!   `after_script`, `cache` fill keys a job does not set itself (after `extends:`), unless the
//!   job says `inherit: default: false` (or lists the keys it inherits).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::yaml::{self, Node, Value};

/// GitLab's limit on `extends:` nesting.
pub const MAX_EXTENDS_DEPTH: usize = 11;

/// Top-level keys that are not jobs.
const RESERVED: &[&str] = &[
    "stages",
    "variables",
    "workflow",
    "include",
    "default",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "types",
    "spec",
];

/// Keys `default:` (and the legacy top-level keys) give to jobs.
const DEFAULT_KEYS: &[&str] = &[
    "after_script",
    "artifacts",
    "before_script",
    "cache",
    "hooks",
    "id_tokens",
    "image",
    "interruptible",
    "retry",
    "services",
    "tags",
    "timeout",
];

/// GitLab Security templates: the configuration job each defines and its stage.
const TEMPLATES: &[(&str, &str, &str)] = &[
    ("SAST.gitlab-ci.yml", "sast", "test"),
    ("Secret-Detection.gitlab-ci.yml", "secret_detection", "test"),
    (
        "Dependency-Scanning.gitlab-ci.yml",
        "dependency_scanning",
        "test",
    ),
    (
        "Container-Scanning.gitlab-ci.yml",
        "container_scanning",
        "test",
    ),
    ("SAST-IaC.gitlab-ci.yml", "iac-sast", "test"),
    ("DAST.gitlab-ci.yml", "dast", "dast"),
];

/// What kind of `include:` an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeKind {
    Local,
    Remote,
    Project,
    Template,
    Component,
}

/// One `include:` entry.
#[derive(Debug, Clone)]
pub struct Include {
    pub kind: IncludeKind,
    /// The file, URL, project path or component reference.
    pub target: String,
    /// `ref:` of a project include.
    pub git_ref: Option<String>,
    /// A remote include with `integrity:` (a checksum GitLab verifies).
    pub integrity: bool,
    /// The entry, for its location.
    pub node: Node,
}

/// A job after `extends:` and `default:` are applied.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    /// The key that names the job, where it is (last) written.
    pub key: Node,
    /// The resolved definition (a mapping).
    pub def: Node,
    /// The names the job is built from: its own and every `extends:` base, transitively.
    pub lineage: Vec<String>,
    /// Security templates whose job this one is or extends.
    pub templates: Vec<String>,
}

impl Job {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.def.get(key)
    }

    /// The stage (`test` when unset, as in GitLab).
    pub fn stage(&self) -> String {
        self.get("stage")
            .and_then(Node::as_str)
            .unwrap_or("test")
            .to_owned()
    }
}

/// A resolved pipeline.
#[derive(Debug)]
pub struct Pipeline {
    /// The CI file the pipeline starts from.
    pub root_file: String,
    /// The merged top level (jobs included).
    pub top: Node,
    pub jobs: Vec<Job>,
    /// Every include entry seen, in every file.
    pub includes: Vec<Include>,
    /// Local files merged in (relative paths).
    pub local_files: Vec<String>,
    /// Stage order, `.pre` first and `.post` last.
    pub stages: Vec<String>,
}

/// A problem that stops a file from resolving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError {
    pub path: String,
    pub message: String,
}

struct Loader<'a> {
    root: &'a Path,
    stack: Vec<String>,
    seen: HashSet<String>,
    includes: Vec<Include>,
    locals: Vec<String>,
    template_jobs: HashMap<String, String>,
}

/// Resolves the pipeline that starts at `rel` (relative to `root`, `/`-separated).
pub fn resolve(root: &Path, rel: &str) -> Result<Pipeline, ResolveError> {
    let mut loader = Loader {
        root,
        stack: Vec::new(),
        seen: HashSet::new(),
        includes: Vec::new(),
        locals: Vec::new(),
        template_jobs: HashMap::new(),
    };
    let top = loader.load(rel, None)?;
    let stages = stage_order(&top);
    let jobs = resolve_jobs(&top, rel, &loader.template_jobs)?;
    Ok(Pipeline {
        root_file: rel.to_owned(),
        top,
        jobs,
        includes: loader.includes,
        local_files: loader.locals,
        stages,
    })
}

fn empty_map(file: &Arc<str>) -> Node {
    Node {
        value: Value::Map(Vec::new()),
        file: Arc::clone(file),
        line: 1,
        column: 1,
        synthetic: false,
    }
}

impl Loader<'_> {
    /// Loads `rel` and what it includes, merged. `from` is the include entry that asked for it.
    fn load(&mut self, rel: &str, from: Option<&Node>) -> Result<Node, ResolveError> {
        let err_at = |message: String| match from {
            Some(n) => ResolveError {
                path: n.file.to_string(),
                message: format!("line {}: {message}", n.line),
            },
            None => ResolveError {
                path: rel.to_owned(),
                message,
            },
        };
        if self.stack.iter().any(|f| f == rel) {
            let mut chain = self.stack.clone();
            chain.push(rel.to_owned());
            return Err(err_at(format!("include cycle: {}", chain.join(" -> "))));
        }
        let text = std::fs::read(self.root.join(rel))
            .map_err(|e| err_at(format!("cannot read included file `{rel}`: {e}")))?;
        let text = String::from_utf8_lossy(&text);
        let doc = yaml::parse(&text, rel).map_err(|e| ResolveError {
            path: rel.to_owned(),
            message: format!("invalid YAML: {e}"),
        })?;
        let file: Arc<str> = Arc::from(rel);
        let Value::Map(entries) = doc.value else {
            if matches!(doc.value, Value::Null) {
                return Ok(empty_map(&file));
            }
            return Err(ResolveError {
                path: rel.to_owned(),
                message: format!("line {}: a GitLab CI file must be a mapping", doc.line),
            });
        };
        self.seen.insert(rel.to_owned());
        self.stack.push(rel.to_owned());
        let mut acc = empty_map(&file);
        if let Some((_, inc)) = entries.iter().find(|(k, _)| k.as_str() == Some("include")) {
            for entry in include_entries(inc) {
                self.include(&entry, &mut acc)?;
            }
        }
        self.stack.pop();
        let own = Node {
            value: Value::Map(
                entries
                    .into_iter()
                    .filter(|(k, _)| k.as_str() != Some("include"))
                    .collect(),
            ),
            ..doc
        };
        Ok(deep_merge(acc, own))
    }

    fn include(&mut self, entry: &Include, acc: &mut Node) -> Result<(), ResolveError> {
        self.includes.push(entry.clone());
        match entry.kind {
            IncludeKind::Local => {
                let rel = entry.target.trim_start_matches('/').to_owned();
                if rel.contains('*') {
                    // Wildcard local includes are not expanded.
                    return Ok(());
                }
                if self.seen.contains(&rel) && !self.stack.contains(&rel) {
                    return Ok(());
                }
                let included = self.load(&rel, Some(&entry.node))?;
                if !self.locals.contains(&rel) {
                    self.locals.push(rel);
                }
                let prev = std::mem::replace(acc, empty_map(&entry.node.file));
                *acc = deep_merge(prev, included);
            }
            IncludeKind::Template => {
                if let Some(model) = template_model(entry, &mut self.template_jobs) {
                    let prev = std::mem::replace(acc, empty_map(&entry.node.file));
                    *acc = deep_merge(model, prev);
                }
            }
            IncludeKind::Remote | IncludeKind::Project | IncludeKind::Component => {}
        }
        Ok(())
    }
}

/// The entries of an `include:` value.
fn include_entries(inc: &Node) -> Vec<Include> {
    let items: Vec<&Node> = match &inc.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![inc],
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(s) = item.as_str() {
            let kind = if s.starts_with("https://") || s.starts_with("http://") {
                IncludeKind::Remote
            } else {
                IncludeKind::Local
            };
            out.push(Include {
                kind,
                target: s.to_owned(),
                git_ref: None,
                integrity: false,
                node: item.clone(),
            });
            continue;
        }
        let text = |key: &str| item.get(key).and_then(Node::scalar_text);
        let git_ref = text("ref");
        let integrity = item.get("integrity").is_some();
        let (kind, targets) = if let Some(l) = item.get("local") {
            (IncludeKind::Local, l.strings())
        } else if let Some(r) = item.get("remote") {
            (IncludeKind::Remote, r.strings())
        } else if let Some(t) = item.get("template") {
            (IncludeKind::Template, t.strings())
        } else if let Some(c) = item.get("component") {
            (IncludeKind::Component, c.strings())
        } else if let Some(p) = item.get("project") {
            (IncludeKind::Project, p.strings())
        } else {
            continue;
        };
        for target in targets {
            out.push(Include {
                kind,
                target: target.as_str().unwrap_or_default().to_owned(),
                git_ref: git_ref.clone(),
                integrity,
                node: if kind == IncludeKind::Local || kind == IncludeKind::Template {
                    target.clone()
                } else {
                    item.clone()
                },
            });
        }
    }
    out
}

/// The configuration job a Security template defines, with GitLab's defaults.
fn template_model(entry: &Include, jobs: &mut HashMap<String, String>) -> Option<Node> {
    let name = entry.target.rsplit('/').next().unwrap_or_default();
    let &(_, job, stage) = TEMPLATES.iter().find(|(t, _, _)| *t == name)?;
    jobs.insert(job.to_owned(), entry.target.clone());
    let n = &entry.node;
    let s = |v: Value| Node::synthetic(v, &n.file, n.line, n.column);
    let key = |k: &str| s(Value::String(k.to_owned()));
    let def = s(Value::Map(vec![
        (key("stage"), key(stage)),
        (key("allow_failure"), s(Value::Bool(true))),
    ]));
    Some(s(Value::Map(vec![(key(job), def)])))
}

/// Deeply merges `over` onto `base`: mappings key by key, anything else replaced.
pub fn deep_merge(base: Node, over: Node) -> Node {
    match (base.value, over.value) {
        (Value::Map(mut entries), Value::Map(over_entries)) => {
            for (k, v) in over_entries {
                if let Some(i) = entries.iter().position(|(bk, _)| bk.as_str() == k.as_str()) {
                    let (_, old) = entries.remove(i);
                    entries.insert(i, (k, deep_merge(old, v)));
                } else {
                    entries.push((k, v));
                }
            }
            Node {
                value: Value::Map(entries),
                ..over
            }
        }
        (_, value) => Node { value, ..over },
    }
}

fn stage_order(top: &Node) -> Vec<String> {
    let declared: Vec<String> = top.get("stages").or_else(|| top.get("types")).map_or_else(
        || vec!["build".into(), "test".into(), "deploy".into()],
        |s| {
            s.strings()
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        },
    );
    let mut out = vec![".pre".to_owned()];
    out.extend(declared.into_iter().filter(|s| s != ".pre" && s != ".post"));
    out.push(".post".to_owned());
    out
}

fn is_job_name(name: &str) -> bool {
    !name.starts_with('.') && !RESERVED.contains(&name)
}

fn resolve_jobs(
    top: &Node,
    root_file: &str,
    template_jobs: &HashMap<String, String>,
) -> Result<Vec<Job>, ResolveError> {
    let Some(entries) = top.as_map() else {
        return Ok(Vec::new());
    };
    let defs: HashMap<&str, &Node> = entries
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
        .collect();
    let defaults = defaults(top);
    let mut jobs = Vec::new();
    for (key, def) in entries {
        let Some(name) = key.as_str() else { continue };
        if !is_job_name(name) || def.as_map().is_none() {
            continue;
        }
        let mut lineage = Vec::new();
        let mut resolved =
            extend(name, def, &defs, &mut Vec::new(), &mut lineage).map_err(|message| {
                ResolveError {
                    path: root_file.to_owned(),
                    message,
                }
            })?;
        apply_defaults(&mut resolved, &defaults);
        let mut templates: BTreeSet<String> = BTreeSet::new();
        for l in &lineage {
            if let Some(t) = template_jobs.get(l) {
                templates.insert(t.clone());
            }
        }
        jobs.push(Job {
            name: name.to_owned(),
            key: key.clone(),
            def: resolved,
            lineage,
            templates: templates.into_iter().collect(),
        });
    }
    Ok(jobs)
}

/// Resolves `extends:` of the definition `def` of `name`.
fn extend(
    name: &str,
    def: &Node,
    defs: &HashMap<&str, &Node>,
    chain: &mut Vec<String>,
    lineage: &mut Vec<String>,
) -> Result<Node, String> {
    if chain.iter().any(|c| c == name) {
        chain.push(name.to_owned());
        return Err(format!(
            "line {}: `extends:` cycle: {}",
            def.line,
            chain.join(" -> ")
        ));
    }
    if chain.len() >= MAX_EXTENDS_DEPTH {
        return Err(format!(
            "line {}: `extends:` nested deeper than {MAX_EXTENDS_DEPTH} levels at `{name}`",
            def.line
        ));
    }
    if !lineage.iter().any(|l| l == name) {
        lineage.push(name.to_owned());
    }
    let Some((_, ext)) = def.entry("extends") else {
        return Ok(def.clone());
    };
    chain.push(name.to_owned());
    let mut acc: Option<Node> = None;
    for base in ext.strings() {
        let Some(base_name) = base.as_str() else {
            continue;
        };
        let Some(base_def) = defs.get(base_name) else {
            // A base from a template or remote include we did not fetch.
            if !lineage.iter().any(|l| l == base_name) {
                lineage.push(base_name.to_owned());
            }
            continue;
        };
        let resolved = extend(base_name, base_def, defs, chain, lineage)?;
        acc = Some(match acc {
            Some(a) => deep_merge(a, resolved),
            None => resolved,
        });
    }
    chain.pop();
    Ok(match acc {
        Some(a) => {
            let mut merged = deep_merge(a, def.clone());
            if let Value::Map(entries) = &mut merged.value {
                // The merged job keeps its own `extends:` (for stage detection by name).
                entries.retain(|(k, _)| k.as_str() != Some("extends"));
                entries.push((ext_key(def), ext.clone()));
            }
            merged
        }
        None => def.clone(),
    })
}

fn ext_key(def: &Node) -> Node {
    def.entry("extends").map_or_else(
        || Node::synthetic(Value::String("extends".into()), &def.file, 1, 1),
        |(k, _)| k.clone(),
    )
}

/// `default:` keys and legacy top-level defaults.
fn defaults(top: &Node) -> Vec<(Node, Node)> {
    let mut out: Vec<(Node, Node)> = Vec::new();
    if let Some(entries) = top.as_map() {
        for (k, v) in entries {
            if matches!(k.as_str(), Some(n) if DEFAULT_KEYS.contains(&n) && RESERVED.contains(&n)) {
                out.push((k.clone(), v.clone()));
            }
        }
    }
    if let Some(entries) = top.get("default").and_then(Node::as_map) {
        for (k, v) in entries {
            if let Some(i) = out.iter().position(|(o, _)| o.as_str() == k.as_str()) {
                out.remove(i);
            }
            out.push((k.clone(), v.clone()));
        }
    }
    out
}

fn apply_defaults(job: &mut Node, defaults: &[(Node, Node)]) {
    let inherit = job.get("inherit").and_then(|i| i.get("default")).cloned();
    let allowed = |key: &str| match &inherit {
        None => true,
        Some(n) => match n.as_bool() {
            Some(b) => b,
            None => n.strings().iter().any(|s| s.as_str() == Some(key)),
        },
    };
    let Value::Map(entries) = &mut job.value else {
        return;
    };
    for (k, v) in defaults {
        let Some(key) = k.as_str() else { continue };
        if entries.iter().any(|(jk, _)| jk.as_str() == Some(key)) || !allowed(key) {
            continue;
        }
        entries.push((k.clone(), v.clone()));
    }
}
