//! Rego policies, evaluated with regorus.
//!
//! - [`PolicySet`]: `*.rego` files and data documents loaded into one engine;
//!   [`PolicySet::check`] evaluates Conftest-style `deny`/`violation`/`warn` rules against an
//!   input, [`PolicySet::run_tests`] runs `test_*` rules like `opa test`.
//! - [`GatePolicies`]: the gate's own policies (packages under `evident.gate`), whose messages
//!   cite the controls they enforce.
//!
//! # Rego v0 and v1
//!
//! Both syntaxes load unchanged, chosen per file. regorus parses a module as v1 unless told
//! otherwise (`Engine::set_rego_v0`); `import rego.v1` switches a module to v1 either way. A
//! file is read:
//!
//! - as v1 when it says `import rego.v1`, or uses `if`/`contains` as keywords without importing
//!   them from `future.keywords` (only v1 has them built in);
//! - as v0 first when it imports `future.keywords` (written for v0; in v0, `deny[msg] if` is a
//!   set, as OPA 0.x reads it), then v1;
//! - otherwise as v1 first, then v0. Any v0 rule with a body (`deny[msg] { … }`) is a syntax
//!   error in v1, so a file that parses as v1 means the same in both.
//!
//! When no reading parses, the error is the one for the syntax the file looks like.

mod check;
mod gate;
mod test;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

pub use check::{CheckMessage, CheckResult};
pub use gate::{GatePolicies, PolicyViolation};
pub use test::{TestLocation, TestResult};

/// Why policies could not be loaded or evaluated. Every message names the file (and line when
/// known) and says what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegoError {
    /// A policy or data file (or a directory) could not be read.
    #[error("cannot read `{}`: {error}", .path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A policy path does not exist.
    #[error("`{}` does not exist; point at the files or directories that hold your policies", .path.display())]
    MissingPath { path: PathBuf },
    /// No `*.rego` file was found.
    #[error(
        "no Rego policies (`*.rego` files{}) found in {}; point at the files or directories that hold your policies",
        if *.tests { "" } else { ", `*_test.rego` excluded" },
        list_paths(.searched)
    )]
    NoPolicies { searched: Vec<PathBuf>, tests: bool },
    /// A policy file is not valid Rego.
    #[error("{}: {message}{}\nfix the Rego syntax there (Rego v0 and v1 are both accepted; see docs/policy.md)", location(.file, *.line, *.column), excerpt(.snippet))]
    Parse {
        file: PathBuf,
        line: Option<u32>,
        column: Option<u32>,
        message: String,
        snippet: String,
    },
    /// Evaluating a rule failed.
    #[error("{}: {message} (while evaluating {query}){}", .file.as_ref().map_or_else(|| "policy".to_owned(), |f| location(f, *.line, *.column)), excerpt(.snippet))]
    Eval {
        file: Option<PathBuf>,
        line: Option<u32>,
        column: Option<u32>,
        message: String,
        snippet: String,
        query: String,
    },
    /// A data file is not a JSON/YAML object, or clashes with another.
    #[error("data file `{}`: {message}", .path.display())]
    Data { path: PathBuf, message: String },
    /// A namespace that was asked for has no policies.
    #[error(
        "no policies in namespace `{namespace}` (namespaces found: {}); pass --namespace with one of them, or --all-namespaces",
        if .available.is_empty() { "none".to_owned() } else { .available.join(", ") }
    )]
    UnknownNamespace {
        namespace: String,
        available: Vec<String>,
    },
    /// A rule produced a message that is neither a string nor an object with a string `msg`.
    #[error("{}: rule `{rule}` in package `{package}` produced {found}; {expected}", .file.display())]
    InvalidMessage {
        file: PathBuf,
        package: String,
        rule: String,
        found: String,
        expected: String,
    },
    /// A gate policy names no control.
    #[error(
        "{}: gate policy `{package}` names no control; add a package-level rule such as `controls := [\"soc2:CC8.1\", \"iso27001:A.8.32\"]`",
        .file.display()
    )]
    NoControls { file: PathBuf, package: String },
    /// A gate policy's `controls` is not a list of strings.
    #[error(
        "{}: `controls` in gate policy `{package}` is {found}; write it as a list of strings such as `controls := [\"soc2:CC8.1\"]`",
        .file.display()
    )]
    InvalidControls {
        file: PathBuf,
        package: String,
        found: String,
    },
    /// A gate policy names a control that does not exist.
    #[error("{}: gate policy `{package}` names control `{reference}`: {error}", .file.display())]
    UnknownControl {
        file: PathBuf,
        package: String,
        reference: String,
        error: Box<evident_controls::ControlError>,
    },
}

fn list_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn location(file: &Path, line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", file.display()),
        (Some(l), None) => format!("{}:{l}", file.display()),
        _ => file.display().to_string(),
    }
}

fn excerpt(snippet: &str) -> String {
    if snippet.is_empty() {
        String::new()
    } else {
        format!("\n{snippet}")
    }
}

/// A regorus error message split into its parts: regorus writes
/// `--> file:line:col`, a source excerpt, then `error: message`.
struct EngineMessage {
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    message: String,
    snippet: String,
}

impl EngineMessage {
    fn parse(text: &str) -> EngineMessage {
        let mut out = EngineMessage {
            file: None,
            line: None,
            column: None,
            message: String::new(),
            snippet: String::new(),
        };
        let mut snippet = Vec::new();
        let mut messages = Vec::new();
        for line in text.lines() {
            if let Some(loc) = line.trim_start().strip_prefix("--> ") {
                if out.file.is_none() {
                    let mut parts = loc.rsplitn(3, ':');
                    let column = parts.next().and_then(|c| c.trim().parse().ok());
                    let row = parts.next().and_then(|l| l.trim().parse().ok());
                    if let (Some(file), Some(_), Some(_)) = (parts.next(), row, column) {
                        out.file = Some(file.to_owned());
                        out.line = row;
                        out.column = column;
                    }
                }
            } else if let Some(message) = line.strip_prefix("error: ") {
                messages.push(message.trim().to_owned());
            } else if line.contains('|') && out.file.is_some() && messages.is_empty() {
                snippet.push(line.to_owned());
            } else if !line.trim().is_empty() {
                messages.push(line.trim().to_owned());
            }
        }
        // Drop the empty gutter lines around the excerpt.
        while snippet.first().is_some_and(|l| l.trim() == "|") {
            snippet.remove(0);
        }
        out.snippet = snippet.join("\n");
        out.message = if messages.is_empty() {
            text.trim().to_owned()
        } else {
            messages.join("; ")
        };
        out
    }
}

/// A rule head in a module: its name, where it is, and whether it is a function.
#[derive(Debug, Clone)]
pub(crate) struct RuleHead {
    pub(crate) name: String,
    pub(crate) line: u32,
    pub(crate) function: bool,
}

/// What the engine needs to know about one loaded file.
#[derive(Debug, Clone)]
pub(crate) struct ModuleInfo {
    pub(crate) file: PathBuf,
    pub(crate) package: Vec<String>,
    pub(crate) rules: Vec<RuleHead>,
}

impl ModuleInfo {
    /// The package path without `data.`, components joined with dots.
    pub(crate) fn namespace(&self) -> String {
        self.package.join(".")
    }

    pub(crate) fn declares(&self, rule: &str) -> bool {
        self.rules.iter().any(|r| r.name == rule && !r.function)
    }
}

/// A loaded policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFile {
    /// The path as found (joined onto the path it was found under).
    pub path: PathBuf,
    /// Lower-case hex SHA-256 of the file's exact bytes.
    pub sha256: String,
    /// Whether the file was read as Rego v1 (otherwise v0).
    pub rego_v1: bool,
}

/// Rego policies and data documents loaded into one regorus engine.
#[derive(Clone)]
pub struct PolicySet {
    engine: regorus::Engine,
    files: Vec<PolicyFile>,
    modules: Vec<ModuleInfo>,
}

impl fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicySet")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl PolicySet {
    /// Loads every `*.rego` under the given files and directories (recursively, sorted);
    /// `*_test.rego` files only when `tests` is true.
    pub fn load(paths: &[PathBuf], tests: bool) -> Result<Self, RegoError> {
        if let Some(missing) = paths.iter().find(|p| !p.exists()) {
            return Err(RegoError::MissingPath {
                path: missing.clone(),
            });
        }
        let files = find_files(paths, &|p| is_rego(p, tests))?;
        if files.is_empty() {
            return Err(RegoError::NoPolicies {
                searched: paths.to_vec(),
                tests,
            });
        }
        let mut set = PolicySet {
            engine: regorus::Engine::new(),
            files: Vec::new(),
            modules: Vec::new(),
        };
        set.engine.set_gather_prints(true);
        for file in files {
            let bytes = std::fs::read(&file).map_err(|error| RegoError::Read {
                path: file.clone(),
                error,
            })?;
            set.add_module(file, &bytes)?;
        }
        Ok(set)
    }

    fn add_module(&mut self, file: PathBuf, bytes: &[u8]) -> Result<(), RegoError> {
        let sha256 = evident_core::sha256_hex(bytes);
        let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
            let (line, column) = crate::conftest::line_column(bytes, e.utf8_error().valid_up_to());
            RegoError::Parse {
                file: file.clone(),
                line: u32::try_from(line).ok(),
                column: u32::try_from(column).ok(),
                message: "the file is not UTF-8 text".to_owned(),
                snippet: String::new(),
            }
        })?;
        let label = file.display().to_string();
        let dialect = Dialect::of(&text);
        let mut errors: Vec<(bool, String)> = Vec::new();
        let mut rego_v1 = None;
        for &v1 in dialect.attempts() {
            self.engine.set_rego_v0(!v1);
            let added = self.engine.add_policy(label.clone(), text.clone());
            self.engine.set_rego_v0(false);
            match added {
                Ok(_) => {
                    rego_v1 = Some(v1);
                    break;
                }
                Err(e) => errors.push((v1, format!("{e:#}"))),
            }
        }
        let Some(rego_v1) = rego_v1 else {
            // Report the error for the syntax the file looks like.
            let preferred = dialect.looks_v1();
            let index = errors
                .iter()
                .position(|(v1, _)| *v1 == preferred)
                .unwrap_or(0);
            let message = errors.get(index).map_or_else(
                || EngineMessage::parse("the policy cannot be parsed"),
                |(_, e)| EngineMessage::parse(e),
            );
            return Err(RegoError::Parse {
                file,
                line: message.line,
                column: message.column,
                message: message.message,
                snippet: message.snippet,
            });
        };
        let package = self
            .engine
            .get_policy_package_components()
            .ok()
            .and_then(|mut p| p.pop())
            .map(|p| p.components)
            .unwrap_or_default();
        let rules = self
            .engine
            .get_modules()
            .last()
            .map(|module| rule_heads(module))
            .unwrap_or_default();
        self.modules.push(ModuleInfo {
            file: file.clone(),
            package,
            rules,
        });
        self.files.push(PolicyFile {
            path: file,
            sha256,
            rego_v1,
        });
        Ok(())
    }

    /// Loads JSON and YAML documents into `data`, as Conftest's `--data` and `opa test` do: a
    /// file named directly is merged at the root of `data`; a file found under a directory is
    /// merged under the path of its sub-directories (`dir/a/b.yaml` → `data.a`).
    pub fn add_data(&mut self, paths: &[PathBuf]) -> Result<(), RegoError> {
        self.add_data_files(paths, &is_data, true)
    }

    /// Loads the `data.json`/`data.yaml`/`data.yml` files under directories (the OPA bundle
    /// layout: `dir/a/data.json` → `data.a`); files named directly are ignored.
    pub fn add_bundle_data(&mut self, paths: &[PathBuf]) -> Result<(), RegoError> {
        let bundle = |path: &Path| {
            is_data(path)
                && path
                    .file_stem()
                    .is_some_and(|stem| stem.eq_ignore_ascii_case("data"))
        };
        self.add_data_files(paths, &bundle, false)
    }

    fn add_data_files(
        &mut self,
        paths: &[PathBuf],
        wanted: &dyn Fn(&Path) -> bool,
        named_files: bool,
    ) -> Result<(), RegoError> {
        for root in paths {
            let meta = std::fs::metadata(root).map_err(|error| RegoError::Read {
                path: root.clone(),
                error,
            })?;
            if !meta.is_dir() {
                if named_files {
                    self.add_data_file(root, &[])?;
                }
                continue;
            }
            for file in find_files(std::slice::from_ref(root), wanted)? {
                let prefix: Vec<String> = file
                    .parent()
                    .and_then(|dir| dir.strip_prefix(root).ok())
                    .map(|rel| {
                        rel.components()
                            .map(|c| c.as_os_str().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                self.add_data_file(&file, &prefix)?;
            }
        }
        Ok(())
    }

    fn add_data_file(&mut self, file: &Path, prefix: &[String]) -> Result<(), RegoError> {
        let bytes = std::fs::read(file).map_err(|error| RegoError::Read {
            path: file.to_path_buf(),
            error,
        })?;
        let data_error = |message: String| RegoError::Data {
            path: file.to_path_buf(),
            message,
        };
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| data_error("the file is not UTF-8 text".to_owned()))?;
        let is_json = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let mut value: Value = if is_json {
            serde_json::from_str(text).map_err(|e| data_error(format!("not valid JSON: {e}")))?
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                data_error(format!(
                    "not valid YAML: {}",
                    e.to_string().replace('\n', " ")
                ))
            })?
        };
        for component in prefix.iter().rev() {
            let mut object = serde_json::Map::new();
            object.insert(component.clone(), value);
            value = Value::Object(object);
        }
        if !value.is_object() {
            return Err(data_error(
                "the document must be an object (its keys become `data.<key>`)".to_owned(),
            ));
        }
        self.engine
            .add_data(regorus::Value::from(value))
            .map_err(|e| data_error(format!("cannot merge it into data: {e:#}")))
    }

    /// The loaded files, in load order (sorted by path).
    pub fn files(&self) -> &[PolicyFile] {
        &self.files
    }

    /// Every package path (without `data.`), sorted, each once.
    pub fn namespaces(&self) -> Vec<String> {
        self.modules
            .iter()
            .map(ModuleInfo::namespace)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    pub(crate) fn modules(&self) -> &[ModuleInfo] {
        &self.modules
    }

    /// Evaluates a rule by package components and name; `Undefined` when it has no value.
    pub(crate) fn eval_rule(
        &mut self,
        package: &[String],
        rule: &str,
    ) -> Result<regorus::Value, RegoError> {
        let path = rule_path(package, rule);
        let result = self.engine.eval_rule(path.clone());
        // Output of print() is gathered; discard it so it does not accumulate.
        let _ = self.engine.take_prints();
        result.map_err(|e| eval_error(&e, path))
    }

    pub(crate) fn set_input(&mut self, input: &Value) {
        self.engine.set_input(regorus::Value::from(input.clone()));
    }

    pub(crate) fn engine_mut(&mut self) -> &mut regorus::Engine {
        &mut self.engine
    }
}

/// An evaluation error from regorus, with the location it names.
pub(crate) fn eval_error(error: &dyn fmt::Display, query: String) -> RegoError {
    let message = EngineMessage::parse(&format!("{error:#}"));
    RegoError::Eval {
        file: message.file.map(PathBuf::from),
        line: message.line,
        column: message.column,
        message: message.message,
        snippet: message.snippet,
        query,
    }
}

/// The syntax a file appears to be written in, and the readings to try in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// `import rego.v1`, or v1 keywords used without a `future.keywords` import.
    V1,
    /// Imports from `future.keywords`: written for v0.
    V0WithFutureKeywords,
    /// Nothing tells; most likely v0 (v1 keywords would show).
    Unmarked,
}

impl Dialect {
    fn of(text: &str) -> Dialect {
        let code = strip_comments_and_strings(text);
        let imports = |what: &str| {
            code.lines().any(|l| {
                l.split_whitespace()
                    .collect::<Vec<_>>()
                    .starts_with(&["import", what])
            })
        };
        if imports("rego.v1") {
            return Dialect::V1;
        }
        if code.lines().any(|l| {
            let mut words = l.split_whitespace();
            words.next() == Some("import")
                && words
                    .next()
                    .is_some_and(|w| w.starts_with("future.keywords"))
        }) {
            return Dialect::V0WithFutureKeywords;
        }
        if uses_v1_keywords(&code) {
            Dialect::V1
        } else {
            Dialect::Unmarked
        }
    }

    /// Readings to try, `true` meaning v1.
    fn attempts(self) -> &'static [bool] {
        match self {
            Dialect::V1 => &[true],
            Dialect::V0WithFutureKeywords => &[false, true],
            Dialect::Unmarked => &[true, false],
        }
    }

    /// Whose error to report when nothing parses.
    fn looks_v1(self) -> bool {
        self == Dialect::V1
    }
}

/// Blanks out `#` comments and string literals so keyword scans do not see them.
fn strip_comments_and_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                out.push(' ');
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' | '\n' => break,
                        _ => {}
                    }
                }
                out.push(' ');
            }
            '`' => {
                out.push(' ');
                for c in chars.by_ref() {
                    if c == '`' {
                        break;
                    }
                    if c == '\n' {
                        out.push('\n');
                    }
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

/// `if` as a word, or `contains` not called as the builtin function.
fn uses_v1_keywords(code: &str) -> bool {
    let chars: Vec<char> = code.chars().collect();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        if is_ident(chars[i]) && (i == 0 || !is_ident(chars[i - 1]) && chars[i - 1] != '.') {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            match word.as_str() {
                "if" => return true,
                "contains" if next != Some(&'(') => return true,
                _ => {}
            }
        } else {
            i += 1;
        }
    }
    false
}

/// Rule heads of a parsed module (regorus exposes its AST under `regorus::unstable`; this is
/// the only place that reads it).
fn rule_heads(module: &regorus::unstable::Module) -> Vec<RuleHead> {
    use regorus::unstable::{Rule, RuleHead as Head};
    module
        .policy
        .iter()
        .filter_map(|rule| {
            let (refr, function) = match rule.as_ref() {
                Rule::Spec { head, .. } => match head {
                    Head::Compr { refr, .. } | Head::Set { refr, .. } => (refr, false),
                    Head::Func { refr, .. } => (refr, true),
                },
                Rule::Default { refr, args, .. } => (refr, !args.is_empty()),
            };
            Some(RuleHead {
                name: head_name(refr)?,
                line: rule.span().line,
                function,
            })
        })
        .collect()
}

fn head_name(expr: &regorus::unstable::Expr) -> Option<String> {
    use regorus::unstable::Expr;
    match expr {
        Expr::Var { span, .. } => Some(span.text().to_owned()),
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => head_name(refr),
        _ => None,
    }
}

/// `data.a.b.rule`, with bracket notation for components that are not identifiers.
pub(crate) fn rule_path(package: &[String], rule: &str) -> String {
    let mut path = String::from("data");
    for component in package.iter().map(String::as_str).chain([rule]) {
        let ident = component
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && component
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ident {
            path.push('.');
            path.push_str(component);
        } else {
            path.push('[');
            path.push_str(&Value::String(component.to_owned()).to_string());
            path.push(']');
        }
    }
    path
}

fn is_rego(path: &Path, tests: bool) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    Path::new(&name).extension().is_some_and(|e| e == "rego")
        && (tests || !name.ends_with("_test.rego"))
}

fn is_data(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["json", "yaml", "yml"].contains(&e.to_ascii_lowercase().as_str()))
}

/// Files matching `wanted` under `paths` (files named directly must match too), each once,
/// sorted within each directory.
fn find_files(
    paths: &[PathBuf],
    wanted: &dyn Fn(&Path) -> bool,
) -> Result<Vec<PathBuf>, RegoError> {
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|error| RegoError::Read {
            path: path.clone(),
            error,
        })?;
        let mut files = Vec::new();
        if meta.is_dir() {
            walk(path, wanted, &mut files)?;
        } else if wanted(path) {
            files.push(path.clone());
        }
        for file in files {
            let key = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
            if seen.insert(key) {
                found.push(file);
            }
        }
    }
    Ok(found)
}

fn walk(
    dir: &Path,
    wanted: &dyn Fn(&Path) -> bool,
    out: &mut Vec<PathBuf>,
) -> Result<(), RegoError> {
    let read = |error| RegoError::Read {
        path: dir.to_path_buf(),
        error,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(read)?
        .collect::<Result<_, _>>()
        .map_err(read)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if entry.file_type().map_err(read)?.is_dir() {
            walk(&path, wanted, out)?;
        } else if wanted(&path) && std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

/// A short description of a value's type for error messages.
pub(crate) fn describe(value: &regorus::Value) -> String {
    match value {
        regorus::Value::Null => "null".to_owned(),
        regorus::Value::Bool(b) => format!("the boolean {b}"),
        regorus::Value::Number(_) => "a number".to_owned(),
        regorus::Value::String(_) => "a string".to_owned(),
        regorus::Value::Array(_) => "an array".to_owned(),
        regorus::Value::Set(_) => "a set".to_owned(),
        regorus::Value::Object(_) => "an object".to_owned(),
        regorus::Value::Undefined => "undefined".to_owned(),
    }
}

/// The members of a multi-value rule's value: set and array items; an object whose values are
/// all `true` counts as a set of its keys (regorus reads `deny[msg] if { … }` as an object even
/// in v0, where OPA reads a set). `None` when the value is not a collection of messages.
pub(crate) fn members(value: &regorus::Value) -> Option<Vec<regorus::Value>> {
    match value {
        regorus::Value::Set(items) => Some(items.iter_sorted().cloned().collect()),
        regorus::Value::Array(items) => Some(items.iter().cloned().collect()),
        regorus::Value::Object(fields)
            if fields.values().all(|v| *v == regorus::Value::Bool(true)) =>
        {
            Some(fields.keys_sorted().cloned().collect())
        }
        _ => None,
    }
}

/// A regorus value as JSON.
pub(crate) fn to_json(value: &regorus::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
