//! Terraform HCL, evaluated as far as the checks need.
//!
//! Each directory's `*.tf` files form one module. Root modules get their variables from
//! `default`s, `terraform.tfvars`, `terraform.tfvars.json`, `*.auto.tfvars(.json)`, the
//! `-var-file`s and the `-var`s, in that order. Locals, templates, operators, `for`
//! expressions, splats, conditionals and the common built-in functions are evaluated when their
//! inputs are known; anything that depends on a resource, a data source, a variable without a
//! value or a function not implemented stays `Value::Unknown` naming what it depends on.
//! Resources expand by `count` / `for_each`, `dynamic` blocks expand into nested blocks, and
//! local module calls are followed with their arguments (remote ones are noted, not fetched).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use evident_core::ScanError;
use hcl::edit::structure::{Body, Structure};
use rayon::prelude::*;

use crate::model::{Node, Resource};
use crate::{Loaded, Options};

mod eval;
mod functions;
mod module;
mod parse;
pub mod plan;
mod value;

use eval::Cx;
use module::{
    Instance, Run, Shared, convert, is_local_source, lock, normalize, read_text, rel_path, tf_files,
};
use parse::{ModuleDef, ParsedFile, SourceFile, VarType};

/// Loads the root modules in `dirs` (each directory's `*.tf` files form one module). A
/// directory another of them calls as a local module is loaded through that call only.
pub fn load_dirs(root: &Path, dirs: &[PathBuf], options: &Options) -> Loaded {
    let shared = Shared::new(normalize(root));
    let dirs: Vec<PathBuf> = dirs
        .iter()
        .map(|d| normalize(d))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let jobs: Vec<(usize, PathBuf)> = dirs
        .iter()
        .enumerate()
        .flat_map(|(i, d)| tf_files(d).into_iter().map(move |f| (i, f)))
        .collect();
    let mut per_dir: Vec<Vec<ParsedFile>> = (0..dirs.len()).map(|_| Vec::new()).collect();
    for (i, parsed) in parse_all(&shared, &jobs) {
        per_dir[i].push(parsed);
    }
    let defs: Vec<Arc<ModuleDef>> = dirs
        .iter()
        .zip(per_dir)
        .map(|(dir, files)| Arc::new(ModuleDef::new(dir.clone(), files)))
        .collect();
    for def in &defs {
        shared.insert(def.dir.clone(), def.clone());
    }
    let roots = root_modules(&defs);
    let var_files = read_var_files(&shared, options);
    let results: Vec<(Vec<Resource>, Vec<String>)> = roots
        .par_iter()
        .map(|&i| eval_root(&shared, defs[i].clone(), &var_files, options))
        .collect();
    finish(&shared, results)
}

/// Loads `files` as one root module.
pub fn load_files(root: &Path, files: &[PathBuf], options: &Options) -> Loaded {
    let shared = Shared::new(normalize(root));
    let Some(first) = files.first() else {
        return Loaded::default();
    };
    let dir = normalize(first.parent().unwrap_or(Path::new(".")));
    let jobs: Vec<(usize, PathBuf)> = files.iter().map(|f| (0, f.clone())).collect();
    let parsed: Vec<ParsedFile> = parse_all(&shared, &jobs)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let def = Arc::new(ModuleDef::new(dir, parsed));
    let var_files = read_var_files(&shared, options);
    let result = eval_root(&shared, def, &var_files, options);
    finish(&shared, vec![result])
}

fn finish(shared: &Shared, results: Vec<(Vec<Resource>, Vec<String>)>) -> Loaded {
    let mut loaded = Loaded {
        files: shared.files.load(Ordering::Relaxed),
        bytes: shared.bytes.load(Ordering::Relaxed),
        errors: std::mem::take(&mut *lock(&shared.errors)),
        ..Loaded::default()
    };
    let mut seen_notes = HashSet::new();
    for (resources, notes) in results {
        loaded.resources.extend(resources);
        for n in notes {
            if seen_notes.insert(n.clone()) {
                loaded.notes.push(n);
            }
        }
    }
    loaded
}

/// Reads and parses files in parallel, in the order given; failures become errors.
fn parse_all(shared: &Shared, jobs: &[(usize, PathBuf)]) -> Vec<(usize, ParsedFile)> {
    let results: Vec<(usize, Result<ParsedFile, ScanError>)> = jobs
        .par_iter()
        .map(|(i, path)| {
            let rel = rel_path(&shared.root, path);
            let parsed = match read_text(path) {
                Ok(text) => {
                    shared.files.fetch_add(1, Ordering::Relaxed);
                    shared.bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
                    parse::parse_file(&rel, &text)
                }
                Err(message) => Err(ScanError { path: rel, message }),
            };
            (*i, parsed)
        })
        .collect();
    let mut out = Vec::with_capacity(results.len());
    for (i, r) in results {
        match r {
            Ok(p) => out.push((i, p)),
            Err(e) => lock(&shared.errors).push(e),
        }
    }
    out
}

/// The modules that no other scanned module calls as a local module (plus one per cycle of
/// modules calling each other, so nothing is left out).
fn root_modules(defs: &[Arc<ModuleDef>]) -> Vec<usize> {
    let index: HashMap<&Path, usize> = defs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.dir.as_path(), i))
        .collect();
    let callees: Vec<Vec<usize>> = defs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            d.calls
                .iter()
                .filter_map(|c| c.source.as_deref())
                .filter(|s| is_local_source(s))
                .filter_map(|s| index.get(normalize(&d.dir.join(s)).as_path()).copied())
                .filter(|&j| j != i)
                .collect()
        })
        .collect();
    let mut called = vec![false; defs.len()];
    for list in &callees {
        for &j in list {
            called[j] = true;
        }
    }
    let mut roots: Vec<usize> = (0..defs.len()).filter(|&i| !called[i]).collect();
    let mut reached = vec![false; defs.len()];
    let mut stack: Vec<usize> = roots.clone();
    let visit = |stack: &mut Vec<usize>, reached: &mut Vec<bool>| {
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut reached[i], true) {
                continue;
            }
            stack.extend(callees[i].iter().copied());
        }
    };
    visit(&mut stack, &mut reached);
    for i in 0..defs.len() {
        if !reached[i] {
            roots.push(i);
            stack.push(i);
            visit(&mut stack, &mut reached);
        }
    }
    roots.sort_unstable();
    roots
}

/// A variable definitions file, parsed.
enum VarFile {
    Hcl(SourceFile, Body),
    Json(Vec<(String, Node)>),
}

fn read_var_files(shared: &Shared, options: &Options) -> Vec<VarFile> {
    options
        .var_files
        .iter()
        .filter_map(|p| read_var_file(shared, p))
        .collect()
}

/// Reads a `.tfvars` (HCL) or `.tfvars.json` file; errors are recorded.
fn read_var_file(shared: &Shared, path: &Path) -> Option<VarFile> {
    let rel = rel_path(&shared.root, path);
    let text = match read_text(path) {
        Ok(t) => t,
        Err(message) => {
            lock(&shared.errors).push(ScanError { path: rel, message });
            return None;
        }
    };
    shared.files.fetch_add(1, Ordering::Relaxed);
    shared.bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
    if path.to_string_lossy().ends_with(".json") {
        return match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(m)) => Some(VarFile::Json(
                m.into_iter()
                    .map(|(k, v)| (k, value::from_json(v, 0)))
                    .collect(),
            )),
            Ok(_) => {
                lock(&shared.errors).push(ScanError {
                    path: rel,
                    message: "line 1, column 1: a variables file must hold a JSON object".into(),
                });
                None
            }
            Err(e) => {
                lock(&shared.errors).push(ScanError {
                    path: rel,
                    message: plan::json_error(&e),
                });
                None
            }
        };
    }
    match parse::parse_hcl(&rel, &text) {
        Ok(body) => Some(VarFile::Hcl(SourceFile::new(rel, &text), body)),
        Err(e) => {
            lock(&shared.errors).push(e);
            None
        }
    }
}

/// The values a variables file assigns.
fn var_file_values(run: &Run<'_>, file: &VarFile) -> Vec<(String, Node)> {
    match file {
        VarFile::Json(values) => values.clone(),
        VarFile::Hcl(source, body) => {
            let constant = Instance::constant(run);
            let mut cx = Cx::new(&constant, source);
            body.iter()
                .filter_map(Structure::as_attribute)
                .map(|a| (a.key.as_str().to_owned(), cx.eval_attr(a)))
                .collect()
        }
    }
}

/// The automatically loaded variables files of a root module directory, in Terraform's order.
fn auto_var_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for name in ["terraform.tfvars", "terraform.tfvars.json"] {
        let p = dir.join(name);
        if p.is_file() {
            out.push(p);
        }
    }
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                            n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
                        })
                })
                .collect()
        })
        .unwrap_or_default();
    auto.sort();
    out.extend(auto);
    out
}

/// Evaluates one root module and everything it calls.
fn eval_root(
    shared: &Shared,
    def: Arc<ModuleDef>,
    var_files: &[VarFile],
    options: &Options,
) -> (Vec<Resource>, Vec<String>) {
    let run = Run::new(shared);
    let mut vars = Instance::defaults(&run, &def);
    let types: HashMap<&str, VarType> = def
        .variables
        .iter()
        .map(|v| (v.name.as_str(), v.ty))
        .collect();
    let assign = |vars: &mut HashMap<String, Node>, name: String, value: Node| {
        if let Some(&ty) = types.get(name.as_str()) {
            vars.insert(name, convert(value, ty));
        }
    };
    let auto: Vec<VarFile> = auto_var_files(&def.dir)
        .iter()
        .filter_map(|p| read_var_file(shared, p))
        .collect();
    for file in auto.iter().chain(var_files) {
        for (name, value) in var_file_values(&run, file) {
            assign(&mut vars, name, value);
        }
    }
    for (name, text) in &options.vars {
        let Some(&ty) = types.get(name.as_str()) else {
            continue;
        };
        let value = cli_value(&run, text, ty);
        assign(&mut vars, name.clone(), value);
    }
    let root = Instance::root(&run, def, vars);
    let mut out = Vec::new();
    root.emit(&mut out);
    drop(root);
    (out, run.notes.into_inner())
}

/// A `-var` value: literal text for a primitive type, else an HCL expression (falling back to
/// the text as a string).
fn cli_value(run: &Run<'_>, text: &str, ty: VarType) -> Node {
    if ty != VarType::Other {
        return value::string(0, text);
    }
    match hcl::edit::parser::parse_expr(text) {
        Ok(expr) => {
            let constant = Instance::constant(run);
            let source = SourceFile::new(String::new(), text);
            let mut cx = Cx::new(&constant, &source);
            match cx.eval(&expr) {
                Ok(v) if value::has_unknown(&v) => value::string(0, text),
                Ok(mut v) => {
                    value::reline(&mut v, 0);
                    v
                }
                Err(_) => value::string(0, text),
            }
        }
        Err(_) => value::string(0, text),
    }
}
