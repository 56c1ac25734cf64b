//! Module instances: variables, locals and outputs evaluated on demand, local module calls
//! followed (with `count`/`for_each`), and resources expanded into their instances.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use evident_core::ScanError;
use hcl::edit::structure::Body;

use super::eval::{Cx, META_ARGS};
use super::parse::{self, ModuleDef, SourceFile, VarType};
use super::value::{
    as_bool, as_index, as_number, as_text, map, map_refs, number, quoted_key, reline, relined,
    sorted_entries, string, unknown,
};
use crate::model::{ModuleCall, Node, Platform, Resource, Value};

/// How deep local module calls may nest.
const MAX_MODULE_DEPTH: usize = 24;

/// The most instances `count` may create before it is treated as unknown.
const MAX_COUNT: usize = 10_000;

/// What every root module of one load shares: the scanned root and the parsed modules.
pub(crate) struct Shared {
    pub root: PathBuf,
    modules: Mutex<HashMap<PathBuf, Option<Arc<ModuleDef>>>>,
    pub errors: Mutex<Vec<ScanError>>,
    pub files: AtomicU64,
    pub bytes: AtomicU64,
}

impl Shared {
    pub fn new(root: PathBuf) -> Self {
        Shared {
            root,
            modules: Mutex::new(HashMap::new()),
            errors: Mutex::new(Vec::new()),
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Registers a module parsed up front.
    pub fn insert(&self, dir: PathBuf, def: Arc<ModuleDef>) {
        lock(&self.modules).insert(dir, Some(def));
    }

    /// The module in `dir`, parsed on first use (`None` when it holds no `.tf` file).
    pub fn module(&self, dir: &Path) -> Option<Arc<ModuleDef>> {
        let mut modules = lock(&self.modules);
        if let Some(m) = modules.get(dir) {
            return m.clone();
        }
        let loaded = self.read_module(dir).map(Arc::new);
        modules.insert(dir.to_path_buf(), loaded.clone());
        loaded
    }

    fn read_module(&self, dir: &Path) -> Option<ModuleDef> {
        let files = tf_files(dir);
        if files.is_empty() {
            return None;
        }
        let mut parsed = Vec::with_capacity(files.len());
        for path in &files {
            let rel = rel_path(&self.root, path);
            match read_text(path) {
                Ok(text) => {
                    self.files.fetch_add(1, Ordering::Relaxed);
                    self.bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
                    match parse::parse_file(&rel, &text) {
                        Ok(p) => parsed.push(p),
                        Err(e) => lock(&self.errors).push(e),
                    }
                }
                Err(message) => lock(&self.errors).push(ScanError { path: rel, message }),
            }
        }
        Some(ModuleDef::new(dir.to_path_buf(), parsed))
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads a file as UTF-8 text.
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned()),
        Err(e) => Err(format!("cannot read: {e}")),
    }
}

/// The `*.tf` files of a directory, sorted by name.
pub(crate) fn tf_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    files.sort();
    files
}

/// Lexically normalised path (`.` and `..` resolved without touching the file system).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// `path` relative to `root` with `/` separators (`..` when it is outside).
pub(crate) fn rel_path(root: &Path, path: &Path) -> String {
    let root = normalize(root);
    let path = normalize(path);
    if let Ok(rest) = path.strip_prefix(&root)
        && root != Path::new(".")
    {
        return slashes(rest);
    }
    if root == Path::new(".") && path.is_relative() {
        return slashes(&path);
    }
    let rc: Vec<_> = root.components().collect();
    let pc: Vec<_> = path.components().collect();
    let common = rc.iter().zip(&pc).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return slashes(&path);
    }
    let mut out = PathBuf::new();
    for _ in common..rc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c);
    }
    slashes(&out)
}

fn slashes(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    if s.is_empty() { ".".to_owned() } else { s }
}

/// Is a module source a local path?
pub(crate) fn is_local_source(source: &str) -> bool {
    source.starts_with("./")
        || source.starts_with("../")
        || source.starts_with(".\\")
        || source.starts_with("..\\")
}

/// The state of one root module's evaluation.
pub(crate) struct Run<'s> {
    pub shared: &'s Shared,
    pub depth: Cell<u32>,
    pub notes: RefCell<Vec<String>>,
}

impl<'s> Run<'s> {
    pub fn new(shared: &'s Shared) -> Self {
        Run {
            shared,
            depth: Cell::new(0),
            notes: RefCell::new(Vec::new()),
        }
    }

    fn note(&self, note: String) {
        self.notes.borrow_mut().push(note);
    }
}

enum Slot {
    Busy,
    Done(Node),
}

/// How a call's or resource's instances are keyed.
#[derive(Debug, Clone)]
pub(crate) enum Key {
    Index(usize),
    Name(String),
}

impl Key {
    /// The key as text (for matching an index value).
    pub fn text(&self) -> String {
        match self {
            Key::Index(i) => i.to_string(),
            Key::Name(n) => n.clone(),
        }
    }

    fn suffix(&self) -> String {
        match self {
            Key::Index(i) => format!("[{i}]"),
            Key::Name(n) => format!("[{}]", quoted_key(n)),
        }
    }
}

/// The instances of a local module call.
pub(crate) enum Children<'s> {
    /// Not followed (remote, missing, recursive) or still being built.
    None,
    /// `count`/`for_each` not known: one instance whose `count.index` / `each` are unknown.
    Unknown(Box<Instance<'s>>),
    Single(Box<Instance<'s>>),
    Keyed(Vec<(Key, Instance<'s>)>),
}

/// One instance of a module.
pub(crate) struct Instance<'s> {
    pub run: &'s Run<'s>,
    pub def: Arc<ModuleDef>,
    pub vars: HashMap<String, Node>,
    /// `module.a.module.b["k"]`; empty for the root module.
    pub address: String,
    /// The call's own part of the address (`module.b["k"]`).
    segment: String,
    pub call: Option<ModuleCall>,
    pub path_module: String,
    pub path_root: String,
    ancestors: Vec<PathBuf>,
    locals: RefCell<HashMap<String, Slot>>,
    outputs: RefCell<HashMap<String, Slot>>,
    children: RefCell<HashMap<String, Option<Rc<Children<'s>>>>>,
}

/// How many instances a resource or module call has.
enum Expansion {
    Single,
    Keys(Vec<(Key, Option<Node>)>),
    Unknown(&'static str, Vec<String>),
}

impl<'s> Instance<'s> {
    /// The root module instance.
    pub fn root(run: &'s Run<'s>, def: Arc<ModuleDef>, vars: HashMap<String, Node>) -> Self {
        let dir = def.dir.clone();
        Instance {
            run,
            def,
            vars,
            address: String::new(),
            segment: String::new(),
            call: None,
            path_module: ".".to_owned(),
            path_root: ".".to_owned(),
            ancestors: vec![dir],
            locals: RefCell::new(HashMap::new()),
            outputs: RefCell::new(HashMap::new()),
            children: RefCell::new(HashMap::new()),
        }
    }

    /// An instance with nothing in scope, for constant expressions (variable defaults,
    /// tfvars).
    pub fn constant(run: &'s Run<'s>) -> Self {
        Instance::root(run, Arc::new(ModuleDef::default()), HashMap::new())
    }

    /// The declared variables' default values (unknown when there is none).
    pub fn defaults(run: &'s Run<'s>, def: &ModuleDef) -> HashMap<String, Node> {
        let constant = Instance::constant(run);
        let mut out = HashMap::with_capacity(def.variables.len());
        for v in &def.variables {
            let value = match &v.default {
                Some(expr) => {
                    let file = &def.files[v.file];
                    let mut cx = Cx::new(&constant, file);
                    cx.eval(expr)
                        .unwrap_or_else(|_| unknown(v.line, vec![format!("var.{}", v.name)]))
                }
                None => unknown(v.line, vec![format!("var.{}", v.name)]),
            };
            out.insert(v.name.clone(), convert(value, v.ty));
        }
        out
    }

    /// A local value, evaluated once; a cycle gives an unknown value.
    pub fn local(&self, name: &str, line: u32) -> Node {
        let cycle = || unknown(line, vec![format!("local.{name}")]);
        match self.locals.borrow().get(name) {
            Some(Slot::Done(n)) => return relined(n, line),
            Some(Slot::Busy) => return cycle(),
            None => {}
        }
        let Some(def) = self.def.locals.get(name) else {
            return cycle();
        };
        self.locals.borrow_mut().insert(name.to_owned(), Slot::Busy);
        let file = &self.def.files[def.file];
        let mut cx = Cx::new(self, file);
        let value = cx
            .eval(&def.expr)
            .unwrap_or_else(|_| unknown(def.line, Vec::new()));
        let out = relined(&value, line);
        self.locals
            .borrow_mut()
            .insert(name.to_owned(), Slot::Done(value));
        out
    }

    /// An output's value as the caller sees it: references inside the module are prefixed
    /// with the module's address part.
    pub fn output(&self, name: &str, line: u32) -> Node {
        let fallback = || unknown(line, vec![format!("{}.{name}", self.segment)]);
        match self.outputs.borrow().get(name) {
            Some(Slot::Done(n)) => return relined(n, line),
            Some(Slot::Busy) => return fallback(),
            None => {}
        }
        let Some(def) = self.def.outputs.get(name) else {
            return fallback();
        };
        let Some(expr) = &def.expr else {
            return fallback();
        };
        self.outputs
            .borrow_mut()
            .insert(name.to_owned(), Slot::Busy);
        let file = &self.def.files[def.file];
        let mut cx = Cx::new(self, file);
        let mut value = cx
            .eval(expr)
            .unwrap_or_else(|_| unknown(def.line, Vec::new()));
        let segment = self.segment.clone();
        let output_ref = format!("{segment}.{name}");
        map_refs(&mut value, &|refs: &[String]| {
            let mut out = vec![output_ref.clone()];
            out.extend(refs.iter().map(|r| format!("{segment}.{r}")));
            out
        });
        let out = relined(&value, line);
        self.outputs
            .borrow_mut()
            .insert(name.to_owned(), Slot::Done(value));
        out
    }

    /// Every output, as an object (a reference to `module.NAME` itself).
    pub fn outputs_map(&self, line: u32) -> Node {
        let mut names: Vec<&String> = self.def.outputs.keys().collect();
        names.sort();
        let entries = names
            .into_iter()
            .map(|n| (n.clone(), self.output(n, line)))
            .collect();
        map(line, entries)
    }

    /// The instances of the module call `name` (built on first use).
    pub fn children(&self, name: &str) -> Rc<Children<'s>> {
        if let Some(slot) = self.children.borrow().get(name) {
            return slot.clone().unwrap_or_else(|| Rc::new(Children::None));
        }
        self.children.borrow_mut().insert(name.to_owned(), None);
        let built = Rc::new(self.build_children(name));
        self.children
            .borrow_mut()
            .insert(name.to_owned(), Some(built.clone()));
        built
    }

    fn build_children(&self, name: &str) -> Children<'s> {
        let Some(&index) = self.def.calls_by_name.get(name) else {
            return Children::None;
        };
        let call = &self.def.calls[index];
        let file = &self.def.files[call.file];
        let address = format!("{}module.{name}", self.prefix());
        let at = format!("{}:{}: {address}", file.rel, call.line);
        let Some(source) = &call.source else {
            self.run.note(format!(
                "{at}: the module `source` is not a literal string; the module is not followed"
            ));
            return Children::None;
        };
        if !is_local_source(source) {
            self.run.note(format!(
                "{at}: remote source `{source}` is not followed; scan a plan (`terraform show -json`) to check it"
            ));
            return Children::None;
        }
        let dir = normalize(&self.def.dir.join(source));
        if self.ancestors.contains(&dir) || self.ancestors.len() > MAX_MODULE_DEPTH {
            self.run.note(format!(
                "{at}: module source `{source}` calls itself; the recursion is not followed"
            ));
            return Children::None;
        }
        let Some(def) = self.run.shared.module(&dir) else {
            self.run.note(format!(
                "{at}: local module source `{source}` has no .tf files; the module is not followed"
            ));
            return Children::None;
        };
        match self.expansion(&call.body, file, &at) {
            Expansion::Unknown(what, refs) => {
                let bind = unknown_binding(what, &refs, call.line);
                Children::Unknown(Box::new(self.child(
                    &def,
                    name,
                    "",
                    Some(bind),
                    &call.body,
                    file,
                    call.line,
                )))
            }
            Expansion::Single => Children::Single(Box::new(
                self.child(&def, name, "", None, &call.body, file, call.line),
            )),
            Expansion::Keys(keys) => Children::Keyed(
                keys.into_iter()
                    .map(|(key, each)| {
                        let bind = binding(&key, each, call.line);
                        let child = self.child(
                            &def,
                            name,
                            &key.suffix(),
                            Some(bind),
                            &call.body,
                            file,
                            call.line,
                        );
                        (key, child)
                    })
                    .collect(),
            ),
        }
    }

    fn prefix(&self) -> String {
        if self.address.is_empty() {
            String::new()
        } else {
            format!("{}.", self.address)
        }
    }

    /// A child module instance with its arguments evaluated here (with `bind`, the
    /// instance's `count` / `each`, in scope).
    #[allow(clippy::too_many_arguments)]
    fn child(
        &self,
        def: &Arc<ModuleDef>,
        name: &str,
        suffix: &str,
        bind: Option<(String, Node)>,
        body: &Body,
        file: &SourceFile,
        line: u32,
    ) -> Instance<'s> {
        let mut cx = Cx::new(self, file);
        cx.bindings.extend(bind);
        let mut vars = Instance::defaults(self.run, def);
        for structure in body {
            let Some(attr) = structure.as_attribute() else {
                continue;
            };
            let arg = attr.key.as_str();
            if META_ARGS.contains(&arg) || matches!(arg, "source" | "version" | "providers") {
                continue;
            }
            let Some(var) = def.variables.iter().find(|v| v.name == arg) else {
                continue;
            };
            let mut value = convert(cx.eval_attr(attr), var.ty);
            // References of the caller mean nothing inside the module.
            let var_ref = format!("var.{arg}");
            map_refs(&mut value, &|_: &[String]| vec![var_ref.clone()]);
            vars.insert(arg.to_owned(), value);
        }
        let segment = format!("module.{name}{suffix}");
        let address = format!("{}{segment}", self.prefix());
        let call = match &self.call {
            Some(outer) => ModuleCall {
                address: address.clone(),
                ..outer.clone()
            },
            None => ModuleCall {
                address: address.clone(),
                file: file.rel.clone(),
                line,
            },
        };
        let mut ancestors = self.ancestors.clone();
        ancestors.push(def.dir.clone());
        let root_dir = self.ancestors.first().cloned().unwrap_or_default();
        Instance {
            run: self.run,
            def: def.clone(),
            vars,
            address,
            segment,
            call: Some(call),
            path_module: rel_path(&root_dir, &def.dir),
            path_root: self.path_root.clone(),
            ancestors,
            locals: RefCell::new(HashMap::new()),
            outputs: RefCell::new(HashMap::new()),
            children: RefCell::new(HashMap::new()),
        }
    }

    /// `count` / `for_each` of a resource or module block.
    fn expansion(&self, body: &Body, file: &SourceFile, at: &str) -> Expansion {
        let mut cx = Cx::new(self, file);
        if let Some(count) = body.get_attribute("count") {
            let v = cx.eval_attr(count);
            if let Value::Unknown { refs } = &v.value {
                self.run.note(format!(
                    "{at}: `count` is not known before apply; checked as one instance"
                ));
                return Expansion::Unknown("count", refs.clone());
            }
            return match as_index(&v) {
                Some(n) if n <= MAX_COUNT => {
                    Expansion::Keys((0..n).map(|i| (Key::Index(i), None)).collect())
                }
                _ => {
                    self.run.note(format!(
                        "{at}: `count` is not a usable number; checked as one instance"
                    ));
                    Expansion::Unknown("count", Vec::new())
                }
            };
        }
        if let Some(for_each) = body.get_attribute("for_each") {
            let v = cx.eval_attr(for_each);
            let keys = match v.value {
                Value::Map(entries) => Some(
                    sorted_entries(entries)
                        .into_iter()
                        .map(|(k, v)| (Key::Name(k), Some(v)))
                        .collect::<Vec<_>>(),
                ),
                Value::List(items) if !items.iter().any(Node::is_unknown) => {
                    let mut names: Vec<String> = items
                        .iter()
                        .filter_map(|i| as_text(i).map(std::borrow::Cow::into_owned))
                        .collect();
                    if names.len() == items.len() {
                        names.sort();
                        names.dedup();
                        Some(
                            names
                                .into_iter()
                                .map(|n| (Key::Name(n.clone()), Some(string(0, n))))
                                .collect(),
                        )
                    } else {
                        None
                    }
                }
                Value::Null => Some(Vec::new()),
                Value::Unknown { refs } => {
                    self.run.note(format!(
                        "{at}: `for_each` is not known before apply; checked as one instance"
                    ));
                    return Expansion::Unknown("each", refs);
                }
                Value::List(items) => {
                    self.run.note(format!(
                        "{at}: `for_each` is not known before apply; checked as one instance"
                    ));
                    return Expansion::Unknown("each", super::value::refs_of(&items));
                }
                _ => None,
            };
            if let Some(keys) = keys {
                return Expansion::Keys(keys);
            }
            self.run.note(format!(
                "{at}: `for_each` is neither a map nor a set of strings; checked as one instance"
            ));
            return Expansion::Unknown("each", Vec::new());
        }
        Expansion::Single
    }

    /// Appends every resource instance of this module instance and of its local module calls.
    pub fn emit(&self, out: &mut Vec<Resource>) {
        let prefix = self.prefix();
        for r in &self.def.resources {
            let file = &self.def.files[r.file];
            let kind = if r.data {
                format!("data.{}", r.kind)
            } else {
                r.kind.clone()
            };
            let base = format!("{prefix}{kind}.{}", r.name);
            let at = format!("{}:{}: {base}", file.rel, r.line);
            let make = |address: String, body: Node| Resource {
                platform: Platform::Terraform,
                kind: kind.clone(),
                address,
                file: file.rel.clone(),
                line: r.line,
                end_line: r.end_line,
                body,
                module: self.call.clone(),
            };
            match self.expansion(&r.body, file, &at) {
                Expansion::Single => {
                    let mut cx = Cx::new(self, file);
                    out.push(make(base, cx.body_map(&r.body, r.line, META_ARGS)));
                }
                Expansion::Unknown(what, refs) => {
                    let mut cx = Cx::new(self, file);
                    cx.bindings.push(unknown_binding(what, &refs, r.line));
                    out.push(make(base, cx.body_map(&r.body, r.line, META_ARGS)));
                }
                Expansion::Keys(keys) => {
                    for (key, each) in keys {
                        let mut cx = Cx::new(self, file);
                        let address = format!("{base}{}", key.suffix());
                        cx.bindings.push(binding(&key, each, r.line));
                        out.push(make(address, cx.body_map(&r.body, r.line, META_ARGS)));
                    }
                }
            }
        }
        for call in &self.def.calls {
            let children = self.children(&call.name);
            match &*children {
                Children::Single(child) | Children::Unknown(child) => child.emit(out),
                Children::Keyed(list) => list.iter().for_each(|(_, child)| child.emit(out)),
                Children::None => {}
            }
        }
    }
}

/// The `count` / `each` binding of one instance.
fn binding(key: &Key, each: Option<Node>, line: u32) -> (String, Node) {
    match key {
        Key::Index(i) => (
            "count".to_owned(),
            map(line, vec![("index".to_owned(), number(line, *i as f64))]),
        ),
        Key::Name(k) => {
            let mut value = each.unwrap_or_else(|| string(line, k.clone()));
            reline(&mut value, line);
            (
                "each".to_owned(),
                map(
                    line,
                    vec![
                        ("key".to_owned(), string(line, k.clone())),
                        ("value".to_owned(), value),
                    ],
                ),
            )
        }
    }
}

/// The binding of an instance whose `count` / `for_each` is unknown.
fn unknown_binding(what: &str, refs: &[String], line: u32) -> (String, Node) {
    if what == "count" {
        (
            "count".to_owned(),
            map(
                line,
                vec![(
                    "index".to_owned(),
                    unknown(line, vec!["count.index".to_owned()]),
                )],
            ),
        )
    } else {
        let refs = if refs.is_empty() {
            vec!["each.value".to_owned()]
        } else {
            refs.to_vec()
        };
        (
            "each".to_owned(),
            map(
                line,
                vec![
                    ("key".to_owned(), unknown(line, refs.clone())),
                    ("value".to_owned(), unknown(line, refs)),
                ],
            ),
        )
    }
}

/// Converts a value to a declared primitive type where Terraform would.
pub(crate) fn convert(value: Node, ty: VarType) -> Node {
    let line = value.line;
    match (ty, &value.value) {
        (VarType::String, Value::Number(_) | Value::Bool(_)) => {
            let text = as_text(&value)
                .map(std::borrow::Cow::into_owned)
                .unwrap_or_default();
            string(line, text)
        }
        (VarType::Number, Value::String(_)) => match as_number(&value) {
            Some(n) => number(line, n),
            None => value,
        },
        (VarType::Bool, Value::String(_)) => match as_bool(&value) {
            Some(b) => super::value::boolean(line, b),
            None => value,
        },
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_relative() {
        assert_eq!(normalize(Path::new("a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
        assert_eq!(
            rel_path(Path::new("/r"), Path::new("/r/m/main.tf")),
            "m/main.tf"
        );
        assert_eq!(
            rel_path(Path::new("/r/a"), Path::new("/r/b/main.tf")),
            "../b/main.tf"
        );
        assert_eq!(rel_path(Path::new("."), Path::new("./m/x.tf")), "m/x.tf");
        assert!(is_local_source("./m"));
        assert!(!is_local_source("terraform-aws-modules/s3-bucket/aws"));
    }
}
