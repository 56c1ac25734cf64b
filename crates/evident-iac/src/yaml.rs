//! YAML (and JSON) into [`crate::model::Node`] trees that keep lines and local tags.
//!
//! Built on the event parser of `saphyr-parser`, with an explicit stack (no recursion on the
//! input's depth):
//! - every document of a stream (`---`); empty documents (nothing, or only comments) are
//!   skipped;
//! - anchors and aliases are resolved; the nodes copied through aliases are counted and a
//!   stream that expands past [`MAX_ALIAS_NODES`] is an error (alias bombs);
//! - plain scalars follow the YAML 1.2 core schema (`null`/`~`/empty, `true`/`false`,
//!   integers incl. `0x`/`0o`, floats, `.inf`/`.nan`); quoted and block scalars are strings;
//!   core tags (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`) coerce the scalar;
//! - merge keys (`<<: *base`, `<<: [*a, *b]`) are applied, explicit keys win; with duplicate
//!   keys the last one wins; every key becomes a string;
//! - local tags are kept as a one-entry map whose key is the tag (`!Ref X` →
//!   `{"!Ref": "X"}`), so CloudFormation can resolve its short-form intrinsics.
//!
//! Lines are 1-based. A node's line is where it starts, except that the value of a map entry
//! carries the line of its key (`spec:` for the block under it), the line findings should
//! point at. [`Extent`]s, parallel to the tree, give where each node ends.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span, Tag};

use crate::model::{Node, Value};

/// Nodes the aliases of one stream may copy in total before the input is refused.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// Deepest nesting of collections accepted.
pub const MAX_DEPTH: usize = 256;

/// YAML that cannot be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line of the problem.
    pub line: u32,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Where a node ends, parallel to a [`Node`] tree: one child per list item or map entry, in
/// the node's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extent {
    /// Last line of the node.
    pub end_line: u32,
    /// For the value of a map entry: the line of its key (0 otherwise).
    pub key_line: u32,
    pub children: Vec<Extent>,
}

/// One non-empty document of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The content; its line is the document's first line of content.
    pub root: Node,
    /// Where the root and its children end.
    pub extent: Extent,
}

impl Document {
    /// First line of content.
    pub fn line(&self) -> u32 {
        self.root.line
    }

    /// Last line of content.
    pub fn end_line(&self) -> u32 {
        self.extent.end_line.max(self.root.line)
    }
}

/// Parses every non-empty document of a YAML (or JSON) stream.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    parse_stream(text).map(|docs| docs.into_iter().map(|d| d.root).collect())
}

/// Parses every non-empty document of a stream, with extents; the first syntax error fails
/// the whole stream.
pub fn parse_stream(text: &str) -> Result<Vec<Document>, SyntaxError> {
    let mut docs = Vec::new();
    parse_into(text, 0, &mut docs)?;
    Ok(docs)
}

/// Parses as many documents as possible: when the stream has a syntax error, the documents
/// (split at `---` lines) are parsed one by one, so only the broken ones are lost. Each broken
/// document gives one error.
pub fn parse_stream_lenient(text: &str) -> (Vec<Document>, Vec<SyntaxError>) {
    let mut docs = Vec::new();
    let Err(first) = parse_into(text, 0, &mut docs) else {
        return (docs, Vec::new());
    };
    let chunks = split_documents(text);
    if chunks.len() < 2 {
        return (docs, vec![first]);
    }
    docs.clear();
    let mut errors = Vec::new();
    for (offset, chunk) in chunks {
        let mut chunk_docs = Vec::new();
        match parse_into(chunk, offset, &mut chunk_docs) {
            Ok(()) => docs.append(&mut chunk_docs),
            Err(e) => {
                docs.append(&mut chunk_docs);
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        // Splitting changed the meaning (e.g. directives): keep the original error.
        errors.push(first);
    }
    (docs, errors)
}

/// Splits a stream at its document start markers (`---` at column 0): `(lines before the
/// chunk, chunk)`.
fn split_documents(text: &str) -> Vec<(u32, &str)> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0u32;
    let mut line_no = 0u32;
    let mut pos = 0usize;
    for line in text.split_inclusive('\n') {
        let is_marker = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']));
        if is_marker && pos > start {
            chunks.push((start_line, &text[start..pos]));
            start = pos;
            start_line = line_no;
        }
        pos += line.len();
        line_no = line_no.saturating_add(1);
    }
    if start < text.len() || chunks.is_empty() {
        chunks.push((start_line, &text[start..]));
    }
    chunks
}

fn parse_into(text: &str, offset: u32, docs: &mut Vec<Document>) -> Result<(), SyntaxError> {
    let mut b = Builder {
        text,
        lines: None,
        offset,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        alias_nodes: 0,
    };
    let mut parser = Parser::new_from_str(text);
    loop {
        let Some(next) = parser.next_event() else {
            return Ok(());
        };
        let (event, span) = next.map_err(|e| SyntaxError {
            line: b.line_of(*e.marker()).max(1),
            message: e.info().to_owned(),
        })?;
        match event {
            Event::StreamEnd => return Ok(()),
            Event::StreamStart | Event::Nothing => {}
            Event::DocumentStart(_) => {
                b.anchors.clear();
                b.stack.clear();
                b.root = None;
            }
            Event::DocumentEnd => {
                if let Some(built) = b.root.take()
                    && !matches!(built.node.value, Value::Null)
                {
                    docs.push(Document {
                        root: built.node,
                        extent: built.ext,
                    });
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let built = b.scalar(&value, style, tag.as_deref(), span);
                b.complete(built, anchor);
            }
            Event::Alias(id) => {
                let built = b.alias(id, span)?;
                b.complete(built, 0);
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if b.stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        line: b.line_of(span.start),
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
                let line = b.line_of(span.start);
                let map = matches!(event, Event::MappingStart(..));
                b.stack.push(Frame {
                    map,
                    line,
                    anchor,
                    tag: tag.as_deref().map(tag_name),
                    items: Vec::new(),
                    key: None,
                    size: 1,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = b.stack.pop() else {
                    return Err(SyntaxError {
                        line: b.line_of(span.start).max(1),
                        message: "unbalanced collection end".to_owned(),
                    });
                };
                // A flow collection ends on its bracket; a block one has an empty end.
                let end = if span.is_empty() {
                    0
                } else {
                    b.line_of(span.start)
                };
                let anchor = frame.anchor;
                let built = Builder::collection(frame, end);
                b.complete(built, anchor);
            }
        }
    }
}

/// A finished node with its extent, the raw text of a scalar (for keys) and the number of
/// nodes it holds (to bound alias expansion).
#[derive(Debug, Clone)]
struct Built {
    node: Node,
    ext: Extent,
    /// The text of a scalar as written, for map keys.
    key: Option<String>,
    /// A plain, untagged `<<` (or `!!merge`) key.
    merge: bool,
    size: usize,
}

/// A collection being built.
struct Frame {
    map: bool,
    line: u32,
    anchor: usize,
    tag: Option<String>,
    /// List items, or map keys and values alternating.
    items: Vec<Built>,
    /// A map key waiting for its value.
    key: Option<Built>,
    size: usize,
}

struct Builder<'t> {
    text: &'t str,
    lines: Option<Vec<&'t str>>,
    offset: u32,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Built>,
    root: Option<Built>,
    alias_nodes: usize,
}

const CORE: &str = "tag:yaml.org,2002:";

/// A tag as written: `!Ref`, `tag:yaml.org,2002:int`, `!` (non-specific).
fn tag_name(tag: &Tag) -> String {
    if tag.handle == "!" {
        format!("!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

impl<'t> Builder<'t> {
    fn line_of(&self, m: Marker) -> u32 {
        u32::try_from(m.line())
            .unwrap_or(u32::MAX)
            .saturating_add(self.offset)
    }

    fn line_text(&mut self, line: usize) -> Option<&'t str> {
        let text = self.text;
        let lines = self.lines.get_or_insert_with(|| text.lines().collect());
        line.checked_sub(1).and_then(|i| lines.get(i)).copied()
    }

    /// Last line of a block scalar: its content lines are blank or indented at least as deep
    /// as its first line, up to where the parser stopped.
    fn block_end(&mut self, span: Span) -> u32 {
        let (start, stop) = (span.start.line(), span.end.line());
        let indent = span.start.col();
        let mut last = start;
        let mut l = start;
        while l <= stop {
            if let Some(text) = self.line_text(l) {
                let seg: &str = if l == stop {
                    let cut = text
                        .char_indices()
                        .nth(span.end.col())
                        .map_or(text.len(), |(i, _)| i);
                    &text[..cut]
                } else {
                    text
                };
                let depth = seg.len() - seg.trim_start_matches(' ').len();
                if !seg.trim().is_empty() && (l == start || depth >= indent) {
                    last = l;
                }
            }
            l += 1;
        }
        u32::try_from(last)
            .unwrap_or(u32::MAX)
            .saturating_add(self.offset)
    }

    fn scalar(&mut self, text: &str, style: ScalarStyle, tag: Option<&Tag>, span: Span) -> Built {
        let line = self.line_of(span.start);
        let end = match style {
            ScalarStyle::Literal | ScalarStyle::Folded => self.block_end(span),
            _ if span.end.line() > span.start.line() && span.end.col() == 0 => {
                self.line_of(span.end).saturating_sub(1)
            }
            _ => self.line_of(span.end),
        };
        let plain = matches!(style, ScalarStyle::Plain);
        let tag = tag.map(tag_name);
        let value = match tag.as_deref() {
            None if plain => plain_value(text),
            None => Value::String(text.to_owned()),
            Some(t) => match t.strip_prefix(CORE) {
                Some(core) => core_value(core, text, plain),
                // The non-specific tag `!` makes a plain scalar a string.
                None if t == "!" => Value::String(text.to_owned()),
                None if t.starts_with('!') => {
                    let inner = if plain {
                        plain_value(text)
                    } else {
                        Value::String(text.to_owned())
                    };
                    Value::Map(vec![(t.to_owned(), Node::new(line, inner))])
                }
                // A global tag of another schema: the value as if untagged.
                None if plain => plain_value(text),
                None => Value::String(text.to_owned()),
            },
        };
        let tagged_inner = matches!(&tag, Some(t) if t.starts_with('!') && t != "!");
        let merge = (plain && tag.is_none() && text == "<<")
            || tag.as_deref() == Some("tag:yaml.org,2002:merge");
        let ext = Extent {
            end_line: end.max(line),
            key_line: 0,
            children: if tagged_inner {
                vec![Extent {
                    end_line: end.max(line),
                    key_line: line,
                    children: Vec::new(),
                }]
            } else {
                Vec::new()
            },
        };
        Built {
            node: Node::new(line, value),
            ext,
            key: Some(text.to_owned()),
            merge,
            size: 1,
        }
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<Built, SyntaxError> {
        let line = self.line_of(span.start);
        let Some(original) = self.anchors.get(&id) else {
            return Err(SyntaxError {
                line,
                message: "alias to an unknown anchor".to_owned(),
            });
        };
        self.alias_nodes = self.alias_nodes.saturating_add(original.size);
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(SyntaxError {
                line,
                message: format!(
                    "aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?): refused"
                ),
            });
        }
        let mut built = original.clone();
        built.node.line = line;
        built.ext.end_line = line;
        built.merge = false;
        Ok(built)
    }

    /// A node is finished: remember its anchor and hand it to its parent.
    fn complete(&mut self, mut built: Built, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, built.clone());
        }
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(built);
            return;
        };
        top.size = top.size.saturating_add(built.size);
        if !top.map {
            built.key = None;
            top.items.push(built);
        } else if let Some(key) = top.key.take() {
            built.key = None;
            // The value of an entry carries its key's line.
            built.node.line = key.node.line;
            built.ext.key_line = key.node.line;
            built.ext.end_line = built.ext.end_line.max(key.node.line);
            top.items.push(key);
            top.items.push(built);
        } else {
            top.key = Some(built);
        }
    }

    fn collection(frame: Frame, end: u32) -> Built {
        let Frame {
            map,
            line,
            tag,
            mut items,
            key,
            size,
            ..
        } = frame;
        if let Some(k) = key {
            // A key without value (cannot happen with a well-formed stream).
            let line = k.node.line;
            items.push(k);
            items.push(Built {
                node: Node::new(line, Value::Null),
                ext: Extent {
                    end_line: line,
                    key_line: line,
                    children: Vec::new(),
                },
                key: None,
                merge: false,
                size: 1,
            });
        }
        let mut end_line = end.max(line);
        for b in &items {
            end_line = end_line.max(b.ext.end_line);
        }
        let (value, children) = if map {
            build_map(items)
        } else {
            let mut nodes = Vec::with_capacity(items.len());
            let mut exts = Vec::with_capacity(items.len());
            for b in items {
                nodes.push(b.node);
                exts.push(b.ext);
            }
            (Value::List(nodes), exts)
        };
        let ext = Extent {
            end_line,
            key_line: 0,
            children,
        };
        match tag {
            Some(t) if t.starts_with('!') && t != "!" => Built {
                node: Node::new(line, Value::Map(vec![(t, Node::new(line, value))])),
                ext: Extent {
                    end_line,
                    key_line: 0,
                    children: vec![Extent {
                        key_line: line,
                        ..ext
                    }],
                },
                key: None,
                merge: false,
                size,
            },
            _ => Built {
                node: Node::new(line, value),
                ext,
                key: None,
                merge: false,
                size,
            },
        }
    }
}

/// The entries of a map from alternating keys and values: merge keys applied (explicit keys
/// win, earlier merged maps win over later ones), duplicate keys resolved to the last one.
fn build_map(items: Vec<Built>) -> (Value, Vec<Extent>) {
    let mut entries: Vec<(String, Node)> = Vec::with_capacity(items.len() / 2);
    let mut exts: Vec<Extent> = Vec::with_capacity(items.len() / 2);
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        let sources = if k.merge { merge_sources(v) } else { Err(v) };
        let sources = match sources {
            Ok(sources) => sources,
            Err(v) => {
                let name = key_string(&k);
                if let Some(&i) = index.get(&name) {
                    entries[i].1 = v.node;
                    exts[i] = v.ext;
                } else {
                    index.insert(name.clone(), entries.len());
                    entries.push((name, v.node));
                    exts.push(v.ext);
                }
                continue;
            }
        };
        for (source, source_ext) in sources {
            let Value::Map(source_entries) = source.value else {
                continue;
            };
            let mut ext_children = source_ext.children.into_iter();
            for (name, node) in source_entries {
                let ext = ext_children.next().unwrap_or_default();
                if index.contains_key(&name) {
                    continue;
                }
                index.insert(name.clone(), entries.len());
                entries.push((name, node));
                exts.push(ext);
            }
        }
    }
    (Value::Map(entries), exts)
}

/// The maps a merge key's value brings: a map, or a list of maps; anything else is an
/// ordinary value (`Err`).
fn merge_sources(v: Built) -> Result<Vec<(Node, Extent)>, Built> {
    let mergeable = match &v.node.value {
        Value::Map(_) => true,
        Value::List(list) => list.iter().all(|n| n.as_map().is_some()),
        _ => false,
    };
    if !mergeable {
        return Err(v);
    }
    let Built { node, ext, .. } = v;
    let line = node.line;
    Ok(match node.value {
        Value::List(list) => {
            let mut children = ext.children.into_iter();
            list.into_iter()
                .map(|n| (n, children.next().unwrap_or_default()))
                .collect()
        }
        value => vec![(Node::new(line, value), ext)],
    })
}

/// A map key as a string: a scalar as written, anything else rendered compactly.
fn key_string(k: &Built) -> String {
    k.key.clone().unwrap_or_else(|| {
        let mut out = String::new();
        render(&k.node.value, &mut out);
        out
    })
}

fn render(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(s),
        Value::Unknown { .. } => out.push('?'),
        Value::List(items) => {
            out.push('[');
            for (i, n) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(&n.value, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, n)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(": ");
                render(&n.value, out);
            }
            out.push('}');
        }
    }
}

/// A plain scalar under the YAML 1.2 core schema.
pub fn plain_value(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    match number(text) {
        Some(n) => Value::Number(n),
        None => Value::String(text.to_owned()),
    }
}

/// A core-schema integer or float (`12`, `-3`, `0x1F`, `0o17`, `1.5e3`, `.inf`, `.nan`).
fn number(text: &str) -> Option<f64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return radix(hex, 16);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return radix(oct, 8);
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let negative = text.starts_with('-');
    match unsigned {
        ".inf" | ".Inf" | ".INF" => {
            return Some(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == text.len() => return Some(f64::NAN),
        _ => {}
    }
    is_float_syntax(unsigned)
        .then(|| text.parse::<f64>().ok())
        .flatten()
}

fn radix(digits: &str, base: u32) -> Option<f64> {
    if digits.is_empty() {
        return None;
    }
    let mut n = 0f64;
    for c in digits.chars() {
        n = n * f64::from(base) + f64::from(c.to_digit(base)?);
    }
    Some(n)
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// A scalar with a core tag (`!!str`, `!!int`, …); what cannot be coerced stays a string.
fn core_value(tag: &str, text: &str, plain: bool) -> Value {
    let s = || Value::String(text.to_owned());
    match tag {
        "null" => Value::Null,
        "bool" => match text {
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            _ => s(),
        },
        "int" | "float" => number(text.trim()).map_or_else(s, Value::Number),
        "str" | "binary" | "timestamp" => s(),
        _ if plain => plain_value(text),
        _ => s(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(text: &str) -> Node {
        let mut docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0)
    }

    fn num(n: &Node) -> f64 {
        match n.value {
            Value::Number(v) => v,
            _ => panic!("not a number: {n:?}"),
        }
    }

    #[test]
    fn core_schema_scalars() {
        let d = one(
            "a: ~\nb:\nc: null\nd: true\ne: False\nf: 12\ng: -0x1F\nh: 0x1F\ni: 0o17\nj: 1.5e3\nk: .inf\nl: -.Inf\nm: .nan\nn: '12'\no: \"true\"\np: yes\nq: 1.2.3\nr: 0x\ns: !!str 12\nt: !!int \"42\"\nu: !!float '1'\nv: !!bool \"true\"\nw: ! 7\nx: .5\ny: +3\nz: 1e\n",
        );
        assert_eq!(d.get("a").unwrap().value, Value::Null);
        assert_eq!(d.get("b").unwrap().value, Value::Null);
        assert_eq!(d.get("c").unwrap().value, Value::Null);
        assert_eq!(d.get("d").unwrap().value, Value::Bool(true));
        assert_eq!(d.get("e").unwrap().value, Value::Bool(false));
        assert!((num(d.get("f").unwrap()) - 12.0).abs() < f64::EPSILON);
        assert_eq!(d.get("g").unwrap().as_str(), Some("-0x1F"));
        assert!((num(d.get("h").unwrap()) - 31.0).abs() < f64::EPSILON);
        assert!((num(d.get("i").unwrap()) - 15.0).abs() < f64::EPSILON);
        assert!((num(d.get("j").unwrap()) - 1500.0).abs() < f64::EPSILON);
        assert!(num(d.get("k").unwrap()).is_infinite() && num(d.get("k").unwrap()) > 0.0);
        assert!(num(d.get("l").unwrap()).is_infinite() && num(d.get("l").unwrap()) < 0.0);
        assert!(num(d.get("m").unwrap()).is_nan());
        assert_eq!(d.get("n").unwrap().as_str(), Some("12"));
        assert_eq!(d.get("o").unwrap().as_str(), Some("true"));
        assert_eq!(d.get("p").unwrap().as_str(), Some("yes"));
        assert_eq!(d.get("q").unwrap().as_str(), Some("1.2.3"));
        assert_eq!(d.get("r").unwrap().as_str(), Some("0x"));
        assert_eq!(d.get("s").unwrap().as_str(), Some("12"));
        assert!((num(d.get("t").unwrap()) - 42.0).abs() < f64::EPSILON);
        assert!((num(d.get("u").unwrap()) - 1.0).abs() < f64::EPSILON);
        assert_eq!(d.get("v").unwrap().value, Value::Bool(true));
        assert_eq!(d.get("w").unwrap().as_str(), Some("7"));
        assert!((num(d.get("x").unwrap()) - 0.5).abs() < f64::EPSILON);
        assert!((num(d.get("y").unwrap()) - 3.0).abs() < f64::EPSILON);
        assert_eq!(d.get("z").unwrap().as_str(), Some("1e"));
    }

    #[test]
    fn lines_keys_and_documents() {
        let docs = parse_stream(
            "# head\n---\napiVersion: v1\nmetadata:\n  name: x\n  script: |\n    a\n    b\n\n# trailing\n---\n# only a comment\n---\n- 1\n- [2,\n   3]\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        let d = &docs[0];
        assert_eq!(d.line(), 3);
        assert_eq!(d.end_line(), 8);
        assert_eq!(d.root.get("metadata").unwrap().line, 4);
        assert_eq!(d.root.lookup("metadata.name").known().unwrap().line, 5);
        assert_eq!(d.extent.children[1].key_line, 4);
        assert_eq!(d.extent.children[1].end_line, 8);
        assert_eq!(docs[1].line(), 14);
        assert_eq!(docs[1].end_line(), 16);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let d = one(
            "base: &b\n  a: 1\n  b: 2\nother: &o {c: 3, a: 9}\nx:\n  <<: [*b, *o]\n  b: 5\ny: *b\n80: port\n",
        );
        let x = d.get("x").unwrap();
        let keys: Vec<&str> = x
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert!((num(x.get("a").unwrap()) - 1.0).abs() < f64::EPSILON);
        assert!((num(x.get("b").unwrap()) - 5.0).abs() < f64::EPSILON);
        assert_eq!(d.get("y").unwrap().line, 8);
        assert_eq!(d.lookup("y.a").known().unwrap().line, 2);
        assert_eq!(d.get("80").unwrap().as_str(), Some("port"));
    }

    #[test]
    fn local_tags_become_one_entry_maps() {
        let d = one("a: !Ref Bucket\nb: !If [C, 1, 2]\nc: !Sub\n  - x${A}\n  - A: 1\n");
        assert_eq!(d.lookup("a.!Ref").str(), Some("Bucket"));
        assert_eq!(
            d.get("b")
                .unwrap()
                .get("!If")
                .unwrap()
                .as_list()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(d.lookup("c.!Sub.0").str(), Some("x${A}"));
    }

    #[test]
    fn json_reads_as_yaml() {
        let d = one("{\n\t\"a\": [1, 2.5, null, true],\n\t\"b\": {\"Ref\": \"X\"}\n}\n");
        assert_eq!(d.lookup("b.Ref").str(), Some("X"));
        assert_eq!(d.get("b").unwrap().line, 3);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let e = parse_documents(&text).unwrap_err();
        assert!(e.message.contains("alias"), "{e}");
        assert!(e.line > 1);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(10_000);
        assert!(parse_documents(&text).is_err());
        let text = "- ".repeat(5_000);
        assert!(parse_documents(&text).is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_documents("a: b\nc: [d\n").unwrap_err();
        assert!(e.line >= 2, "{e}");
        let e = parse_documents("a: 1\n b: 2\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("line 2: "));
    }

    #[test]
    fn lenient_keeps_the_good_documents() {
        let (docs, errors) = parse_stream_lenient("a: 1\n---\nb: [\n---\nc: 3\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].line(), 5);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].line >= 3);
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
            let _ = parse_stream_lenient(&text);
        }

        #[test]
        fn never_panics_on_yamlish_text(
            text in "([-:?&*!|>'\"#{}\\[\\],.~<@%` \t\n]|[a-z]{1,4}|---|\\.\\.\\.|<<|!Ref |!!int |0x1|\n  |\r\n){0,80}"
        ) {
            let _ = parse_stream_lenient(&text);
        }

        #[test]
        fn never_panics_on_mutated_documents(
            cut in 0usize..400,
            insert in "[-:?&*!|>'\"#{}\\[\\],\n ]{0,4}",
        ) {
            let base = "a: &x\n  b: [1, 2, {c: d}]\n  e: |\n    text\n<<: *x\nf: !Ref G\n---\n- \"q\"\n- ? k\n  : v\n";
            let mut cut = cut.min(base.len());
            while !base.is_char_boundary(cut) {
                cut -= 1;
            }
            let text = format!("{}{}{}", &base[..cut], insert, &base[cut..]);
            let _ = parse_stream_lenient(&text);
            let _ = parse_documents(&text);
        }
    }
}
