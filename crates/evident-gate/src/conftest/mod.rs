//! Inputs for Rego policies, parsed the way Conftest parses them.
//!
//! A policy written for Conftest sees the same `input` here. Each [`Parser`] reproduces the
//! JSON value Conftest's parser of the same name produces, and [`documents`] splits that value
//! into the documents Conftest evaluates one at a time:
//!
//! | parser | files | value |
//! |---|---|---|
//! | `yaml` | `*.yaml`, `*.yml`, files without an extension | the document; several `---` documents become a list |
//! | `json` | `*.json` | the document |
//! | `hcl2` | `*.tf`, `*.tfvars`, `*.hcl` | blocks nest by type and labels, each block body in a list; expressions that are not literals become `"${…}"` strings |
//! | `dockerfile` | `Dockerfile`, `Dockerfile.*`, `*.Dockerfile` | a list holding one list of instructions `{Cmd, SubCmd, JSON, Flags, Value, Stage}` |
//! | `toml` | `*.toml` | the table; date-times become strings |
//!
//! Like Conftest, a top-level list is evaluated element by element: each YAML document on its
//! own, the Dockerfile's instruction list as one input, a JSON array item by item.
//!
//! Parsers never panic on bad input; they return a [`ParseError`] with the line and column when
//! the underlying parser knows them.

mod dockerfile;
mod hcl2;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::Value;

/// A Conftest input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Parser {
    /// YAML, one or more `---`-separated documents (Conftest `yaml`).
    Yaml,
    /// JSON (Conftest `json`).
    Json,
    /// HCL 2, e.g. Terraform (Conftest `hcl2`).
    Hcl2,
    /// A Dockerfile (Conftest `dockerfile`).
    Dockerfile,
    /// TOML (Conftest `toml`).
    Toml,
}

impl Parser {
    /// Every parser, in the order they are listed in help and errors.
    pub const ALL: [Parser; 5] = [
        Parser::Yaml,
        Parser::Json,
        Parser::Hcl2,
        Parser::Dockerfile,
        Parser::Toml,
    ];

    /// The name Conftest gives this parser (`--parser` value).
    pub const fn name(self) -> &'static str {
        match self {
            Parser::Yaml => "yaml",
            Parser::Json => "json",
            Parser::Hcl2 => "hcl2",
            Parser::Dockerfile => "dockerfile",
            Parser::Toml => "toml",
        }
    }

    /// The parser for a file found while walking a directory, chosen by its name the way
    /// Conftest chooses; `None` for files Conftest-style checks do not read.
    pub fn for_path(path: &Path) -> Option<Parser> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let extension = Path::new(&name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        if name == "dockerfile" || name.starts_with("dockerfile.") || extension == "dockerfile" {
            return Some(Parser::Dockerfile);
        }
        match extension {
            "yaml" | "yml" => Some(Parser::Yaml),
            "json" => Some(Parser::Json),
            "tf" | "tfvars" | "hcl" => Some(Parser::Hcl2),
            "toml" => Some(Parser::Toml),
            _ => None,
        }
    }

    /// The parser for a file named on the command line: [`Parser::for_path`], and, as in
    /// Conftest, YAML for a file without an extension.
    pub fn for_named_file(path: &Path) -> Option<Parser> {
        Parser::for_path(path).or_else(|| path.extension().is_none().then_some(Parser::Yaml))
    }

    /// Parses `bytes` into the value Conftest's parser of the same name produces.
    pub fn parse(self, bytes: &[u8]) -> Result<Value, ParseError> {
        let text = utf8(self, bytes)?;
        match self {
            Parser::Yaml => parse_yaml(text),
            Parser::Json => parse_json(text),
            Parser::Hcl2 => hcl2::parse(text),
            Parser::Dockerfile => dockerfile::parse(text),
            Parser::Toml => parse_toml(text),
        }
    }
}

impl fmt::Display for Parser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Parser {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Parser::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown parser `{s}`; known parsers: {}", parser_names()))
    }
}

/// The known parser names, comma-separated.
pub fn parser_names() -> String {
    Parser::ALL.map(Parser::name).join(", ")
}

/// Why an input could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(*.line, *.column))]
pub struct ParseError {
    /// The parser that failed.
    pub parser: Parser,
    /// What is wrong, in the parser's words.
    pub message: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
}

impl ParseError {
    pub(crate) fn new(parser: Parser, message: impl Into<String>) -> Self {
        ParseError {
            parser,
            message: message.into(),
            line: None,
            column: None,
        }
    }

    pub(crate) fn at(mut self, line: usize, column: Option<usize>) -> Self {
        self.line = Some(line);
        self.column = column;
        self
    }
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
        (Some(l), None) => format!("line {l}: "),
        _ => String::new(),
    }
}

/// Splits a parsed value into the documents Conftest evaluates separately: the items of a
/// top-level list, otherwise the value itself.
pub fn documents(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => vec![other],
    }
}

/// Why an input file could not be read or parsed. Every message names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file or directory could not be read.
    #[error("cannot read `{}`: {error}", .path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The file's name says nothing about its format.
    #[error(
        "cannot tell how to parse `{}` from its name; pass --parser with one of: {}",
        .path.display(),
        parser_names()
    )]
    UnknownFormat { path: PathBuf },
    /// The file is not valid in its format.
    #[error("{}:{} cannot parse as {}: {}", .path.display(), line_col(.error), .error.parser, .error.message)]
    Parse { path: PathBuf, error: ParseError },
}

fn line_col(e: &ParseError) -> String {
    match (e.line, e.column) {
        (Some(l), Some(c)) => format!("{l}:{c}:"),
        (Some(l), None) => format!("{l}:"),
        _ => String::new(),
    }
}

/// Expands directories into the files in them that a parser recognises (sorted, recursively);
/// files named directly are kept whatever their name.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(path.clone());
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|error| InputError::Read {
            path: path.clone(),
            error,
        })?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let read = |error| InputError::Read {
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
        let kind = entry.file_type().map_err(read)?;
        if kind.is_dir() {
            walk(&path, files)?;
        } else if Parser::for_path(&path).is_some()
            && std::fs::metadata(&path).is_ok_and(|m| m.is_file())
        {
            files.push(path);
        }
    }
    Ok(())
}

/// Reads and parses one file with `parser`, or with the parser its name calls for.
pub fn parse_file(path: &Path, parser: Option<Parser>) -> Result<Value, InputError> {
    let parser = parser
        .or_else(|| Parser::for_named_file(path))
        .ok_or_else(|| InputError::UnknownFormat {
            path: path.to_path_buf(),
        })?;
    let bytes = std::fs::read(path).map_err(|error| InputError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    parser.parse(&bytes).map_err(|error| InputError::Parse {
        path: path.to_path_buf(),
        error,
    })
}

fn utf8(parser: Parser, bytes: &[u8]) -> Result<&str, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_column(bytes, e.valid_up_to());
        ParseError::new(parser, "the file is not UTF-8 text").at(line, Some(column))
    })
}

/// 1-based line and column of byte `offset` in `bytes`.
pub(crate) fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.split(|&b| b == b'\n').count();
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, column)
}

/// YAML: each `---` document parsed on its own; several documents (empty ones dropped) become a
/// list, as in Conftest.
fn parse_yaml(text: &str) -> Result<Value, ParseError> {
    let options = serde_saphyr::Options {
        with_snippet: false,
        ..serde_saphyr::Options::default()
    };
    let docs: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|e| {
            let error = ParseError::new(Parser::Yaml, yaml_message(&e));
            match e.location() {
                Some(loc) => error.at(
                    usize::try_from(loc.line()).unwrap_or(usize::MAX),
                    usize::try_from(loc.column()).ok(),
                ),
                None => error,
            }
        })?;
    let several = docs.len() > 1;
    let mut docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    Ok(match (several, docs.len()) {
        (_, 0) => Value::Null,
        (false, 1) => docs.pop().unwrap_or(Value::Null),
        _ => Value::Array(docs),
    })
}

/// The YAML error message without serde-saphyr's own `line N column M:` prefix (the location is
/// reported separately).
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    let text = match text.split_once(": ") {
        Some((prefix, rest)) if prefix.starts_with("line ") => rest,
        _ => text,
    };
    let text = text.lines().next().unwrap_or_default().trim();
    let text = text.rsplit_once(" at line ").map_or(text, |(m, _)| m);
    text.to_owned()
}

fn parse_json(text: &str) -> Result<Value, ParseError> {
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_owned();
        ParseError::new(Parser::Json, message).at(e.line(), Some(e.column()))
    })
}

fn parse_toml(text: &str) -> Result<Value, ParseError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let error = ParseError::new(Parser::Toml, e.message().trim().to_owned());
        match e.span() {
            Some(span) => {
                let (line, column) = line_column(text.as_bytes(), span.start);
                error.at(line, Some(column))
            }
            None => error,
        }
    })?;
    Ok(toml_value(toml::Value::Table(table)))
}

fn toml_value(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_value).collect()),
        toml::Value::Table(table) => {
            Value::Object(table.into_iter().map(|(k, v)| (k, toml_value(v))).collect())
        }
    }
}
