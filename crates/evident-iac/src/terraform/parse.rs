//! Parsing `*.tf` files into the definitions of one module: variables, locals, outputs,
//! resources, data sources and module calls, each keeping its file and line.

use std::collections::HashMap;
use std::path::PathBuf;

use evident_core::ScanError;
use hcl::edit::Span;
use hcl::edit::expr::Expression;
use hcl::edit::structure::{Attribute, Body, Structure};

/// One source file: its path relative to the scanned root and where its lines start.
#[derive(Debug, Default)]
pub(crate) struct SourceFile {
    /// Relative to the scanned root, `/` separators.
    pub rel: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(rel: String, text: &str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        line_starts.extend(memchr_newlines(text.as_bytes()).map(|i| i + 1));
        SourceFile { rel, line_starts }
    }

    /// The 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> u32 {
        self.line_starts.partition_point(|&s| s <= offset).max(1) as u32
    }

    /// The line something with a span starts on, or `fallback`.
    pub fn line_of(&self, item: &impl Span, fallback: u32) -> u32 {
        item.span().map_or(fallback, |s| self.line(s.start))
    }

    /// The line something with a span ends on, or `fallback`.
    pub fn end_line_of(&self, item: &impl Span, fallback: u32) -> u32 {
        item.span().map_or(fallback, |s| {
            self.line(s.end.saturating_sub(1).max(s.start))
        })
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter_map(|(i, &b)| (b == b'\n').then_some(i))
}

/// A declared type, as far as value conversion needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VarType {
    String,
    Number,
    Bool,
    Other,
}

#[derive(Debug)]
pub(crate) struct VariableDef {
    pub name: String,
    pub default: Option<Expression>,
    pub ty: VarType,
    pub file: usize,
    pub line: u32,
}

#[derive(Debug)]
pub(crate) struct LocalDef {
    pub expr: Expression,
    pub file: usize,
    pub line: u32,
}

#[derive(Debug)]
pub(crate) struct OutputDef {
    pub expr: Option<Expression>,
    pub file: usize,
    pub line: u32,
}

#[derive(Debug)]
pub(crate) struct ResourceDef {
    /// A data source (`data "T" "N"`).
    pub data: bool,
    pub kind: String,
    pub name: String,
    pub body: Body,
    pub file: usize,
    pub line: u32,
    pub end_line: u32,
}

#[derive(Debug)]
pub(crate) struct CallDef {
    pub name: String,
    /// The `source` argument when it is a literal string.
    pub source: Option<String>,
    pub body: Body,
    pub file: usize,
    pub line: u32,
}

/// What one file defines.
#[derive(Debug, Default)]
pub(crate) struct ParsedFile {
    pub source: SourceFile,
    pub variables: Vec<VariableDef>,
    pub locals: Vec<(String, LocalDef)>,
    pub outputs: Vec<(String, OutputDef)>,
    pub resources: Vec<ResourceDef>,
    pub calls: Vec<CallDef>,
}

/// A module: the definitions of every `*.tf` file of one directory.
#[derive(Debug, Default)]
pub(crate) struct ModuleDef {
    /// The directory (lexically normalised).
    pub dir: PathBuf,
    pub files: Vec<SourceFile>,
    pub variables: Vec<VariableDef>,
    pub locals: HashMap<String, LocalDef>,
    pub outputs: HashMap<String, OutputDef>,
    pub resources: Vec<ResourceDef>,
    pub calls: Vec<CallDef>,
    pub calls_by_name: HashMap<String, usize>,
}

impl ModuleDef {
    /// Joins parsed files (in the order given) into one module.
    pub fn new(dir: PathBuf, parsed: Vec<ParsedFile>) -> Self {
        let mut m = ModuleDef {
            dir,
            ..ModuleDef::default()
        };
        for (i, f) in parsed.into_iter().enumerate() {
            m.files.push(f.source);
            m.variables.extend(
                f.variables
                    .into_iter()
                    .map(|v| VariableDef { file: i, ..v }),
            );
            for (name, l) in f.locals {
                m.locals.entry(name).or_insert(LocalDef { file: i, ..l });
            }
            for (name, o) in f.outputs {
                m.outputs.entry(name).or_insert(OutputDef { file: i, ..o });
            }
            m.resources.extend(
                f.resources
                    .into_iter()
                    .map(|r| ResourceDef { file: i, ..r }),
            );
            for c in f.calls {
                let index = m.calls.len();
                m.calls_by_name.entry(c.name.clone()).or_insert(index);
                m.calls.push(CallDef { file: i, ..c });
            }
        }
        m
    }
}

/// Parses one `.tf` file. `rel` is its path relative to the scanned root.
pub(crate) fn parse_file(rel: &str, text: &str) -> Result<ParsedFile, ScanError> {
    let body = parse_hcl(rel, text)?;
    let source = SourceFile::new(rel.to_owned(), text);
    let mut out = ParsedFile::default();
    for structure in body {
        let Structure::Block(block) = structure else {
            continue;
        };
        let line = source.line_of(&block, 1);
        let end_line = source.end_line_of(&block, line);
        let labels: Vec<String> = block.labels.iter().map(|l| l.as_str().to_owned()).collect();
        match (block.ident.as_str(), labels.as_slice()) {
            ("resource" | "data", [kind, name]) => {
                out.resources.push(ResourceDef {
                    data: block.ident.as_str() == "data",
                    kind: kind.clone(),
                    name: name.clone(),
                    body: block.body,
                    file: 0,
                    line,
                    end_line,
                });
            }
            ("variable", [name]) => {
                out.variables
                    .push(variable(name, block.body, &source, line));
            }
            ("locals", []) => {
                for s in block.body {
                    if let Structure::Attribute(a) = s {
                        let line = source.line_of(&a, line);
                        out.locals.push((
                            a.key.as_str().to_owned(),
                            LocalDef {
                                expr: a.value,
                                file: 0,
                                line,
                            },
                        ));
                    }
                }
            }
            ("output", [name]) => {
                let expr = block
                    .body
                    .into_iter()
                    .filter_map(|s| s.into_attribute().ok())
                    .find(|a| a.key.as_str() == "value")
                    .map(|a| a.value);
                out.outputs.push((
                    name.clone(),
                    OutputDef {
                        expr,
                        file: 0,
                        line,
                    },
                ));
            }
            ("module", [name]) => {
                let source_arg = block
                    .body
                    .get_attribute("source")
                    .and_then(|a| literal_string(&a.value));
                out.calls.push(CallDef {
                    name: name.clone(),
                    source: source_arg,
                    body: block.body,
                    file: 0,
                    line,
                });
            }
            _ => {}
        }
    }
    out.source = source;
    Ok(out)
}

/// Parses HCL text into a body, naming the file and line of a syntax error.
pub(crate) fn parse_hcl(rel: &str, text: &str) -> Result<Body, ScanError> {
    hcl::edit::parser::parse_body(text).map_err(|e| ScanError {
        path: rel.to_owned(),
        message: format!(
            "line {}, column {}: {}",
            e.location().line(),
            e.location().column(),
            e.message()
        ),
    })
}

fn variable(name: &str, body: Body, source: &SourceFile, line: u32) -> VariableDef {
    let mut default = None;
    let mut ty = VarType::Other;
    for s in body {
        if let Structure::Attribute(Attribute { key, value, .. }) = s {
            match key.as_str() {
                "default" => default = Some(value),
                "type" => ty = var_type(&value),
                _ => {}
            }
        }
    }
    let _ = source;
    VariableDef {
        name: name.to_owned(),
        default,
        ty,
        file: 0,
        line,
    }
}

fn var_type(expr: &Expression) -> VarType {
    match expr.as_variable().map(hcl::edit::Ident::as_str) {
        Some("string") => VarType::String,
        Some("number") => VarType::Number,
        Some("bool") => VarType::Bool,
        _ => VarType::Other,
    }
}

/// A string literal (a template without interpolation counts).
pub(crate) fn literal_string(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.value().clone()),
        Expression::StringTemplate(t) => {
            let mut out = String::new();
            for e in t {
                out.push_str(e.as_literal()?.as_str());
            }
            Some(out)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based() {
        let f = SourceFile::new("a.tf".into(), "a\nbb\n\nc");
        assert_eq!(f.line(0), 1);
        assert_eq!(f.line(1), 1);
        assert_eq!(f.line(2), 2);
        assert_eq!(f.line(5), 3);
        assert_eq!(f.line(6), 4);
    }

    #[test]
    fn collects_definitions() {
        let text = "variable \"env\" {\n  type = string\n  default = \"dev\"\n}\n\nlocals {\n  a = 1\n}\n\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n\ndata \"aws_caller_identity\" \"me\" {}\n\nmodule \"m\" {\n  source = \"./m\"\n}\n";
        let p = parse_file("main.tf", text).unwrap();
        assert_eq!(p.variables.len(), 1);
        assert_eq!(p.variables[0].ty, VarType::String);
        assert_eq!(p.locals[0].1.line, 7);
        assert_eq!(p.resources.len(), 2);
        assert_eq!(p.resources[0].line, 10);
        assert_eq!(p.resources[0].end_line, 12);
        assert!(p.resources[1].data);
        assert_eq!(p.calls[0].source.as_deref(), Some("./m"));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let e = parse_file("x/main.tf", "resource \"a\" \"b\" {\n  x = \n}\n").unwrap_err();
        assert_eq!(e.path, "x/main.tf");
        assert!(e.message.starts_with("line 2, column"), "{}", e.message);
        let deep = format!("a = {}{}", "[".repeat(600), "]".repeat(600));
        assert!(parse_file("d.tf", &deep).is_err());
    }
}
