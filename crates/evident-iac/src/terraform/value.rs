//! Helpers on model values for the evaluator: conversions, equality, unknown references and
//! canonical JSON.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::model::{Node, Value};

/// A definite evaluation error (Terraform would reject the expression). `try` and `can` tell it
/// apart from an unknown value; everywhere else it becomes an unknown value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail;

pub(crate) type Eval = Result<Node, Fail>;

pub(crate) fn unknown(line: u32, refs: Vec<String>) -> Node {
    Node::unknown(line, refs)
}

pub(crate) fn string(line: u32, s: impl Into<String>) -> Node {
    Node::new(line, Value::String(s.into()))
}

pub(crate) fn number(line: u32, n: f64) -> Node {
    Node::new(line, Value::Number(n))
}

pub(crate) fn boolean(line: u32, b: bool) -> Node {
    Node::new(line, Value::Bool(b))
}

pub(crate) fn list(line: u32, items: Vec<Node>) -> Node {
    Node::new(line, Value::List(items))
}

pub(crate) fn map(line: u32, entries: Vec<(String, Node)>) -> Node {
    Node::new(line, Value::Map(entries))
}

/// Builds a map whose later keys replace earlier ones, without quadratic work on big maps.
#[derive(Default)]
pub(crate) struct MapBuilder {
    entries: Vec<(String, Node)>,
    index: Option<std::collections::HashMap<String, usize>>,
}

impl MapBuilder {
    /// Beyond this many entries, keys are looked up through a hash index.
    const LINEAR: usize = 16;

    pub fn with_capacity(n: usize) -> Self {
        MapBuilder {
            entries: Vec::with_capacity(n),
            index: None,
        }
    }

    /// The entry of `key`, if any.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        let pos = match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k == key),
        };
        pos.map(|p| &mut self.entries[p].1)
    }

    /// Sets `key` (in place when it is already there).
    pub fn insert(&mut self, key: String, value: Node) {
        if let Some(slot) = self.get_mut(&key) {
            *slot = value;
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.entries.len());
        } else if self.entries.len() >= Self::LINEAR {
            let mut index: std::collections::HashMap<String, usize> = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
            index.insert(key.clone(), self.entries.len());
            self.index = Some(index);
        }
        self.entries.push((key, value));
    }

    pub fn finish(self) -> Vec<(String, Node)> {
        self.entries
    }
}

/// A copy of `node` with every line set to `line` (a value brought in from elsewhere: a
/// variable, a local, a module output).
pub(crate) fn relined(node: &Node, line: u32) -> Node {
    let value = match &node.value {
        Value::List(items) => Value::List(items.iter().map(|n| relined(n, line)).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), relined(v, line)))
                .collect(),
        ),
        other => other.clone(),
    };
    Node::new(line, value)
}

/// Sets every line of `node` to `line` in place.
pub(crate) fn reline(node: &mut Node, line: u32) {
    node.line = line;
    match &mut node.value {
        Value::List(items) => items.iter_mut().for_each(|n| reline(n, line)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, n)| reline(n, line)),
        _ => {}
    }
}

/// Adds `refs` to `out`, without duplicates.
pub(crate) fn add_refs(out: &mut Vec<String>, refs: &[String]) {
    for r in refs {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
}

/// The union of the references of the unknown nodes among `nodes` (top level only).
pub(crate) fn refs_of<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> Vec<String> {
    let mut out = Vec::new();
    for n in nodes {
        add_refs(&mut out, n.refs());
    }
    out
}

/// The union of the references of every unknown node inside `node`.
pub(crate) fn deep_refs(node: &Node, out: &mut Vec<String>) {
    match &node.value {
        Value::Unknown { refs } => add_refs(out, refs),
        Value::List(items) => items.iter().for_each(|n| deep_refs(n, out)),
        Value::Map(entries) => entries.iter().for_each(|(_, n)| deep_refs(n, out)),
        _ => {}
    }
}

/// Does `node` contain an unknown value anywhere?
pub(crate) fn has_unknown(node: &Node) -> bool {
    match &node.value {
        Value::Unknown { .. } => true,
        Value::List(items) => items.iter().any(has_unknown),
        Value::Map(entries) => entries.iter().any(|(_, n)| has_unknown(n)),
        _ => false,
    }
}

/// Rewrites the references of every unknown node inside `node` with `f`.
pub(crate) fn map_refs(node: &mut Node, f: &impl Fn(&[String]) -> Vec<String>) {
    match &mut node.value {
        Value::Unknown { refs } => *refs = f(refs),
        Value::List(items) => items.iter_mut().for_each(|n| map_refs(n, f)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, n)| map_refs(n, f)),
        _ => {}
    }
}

/// A number as Terraform prints it (`3`, `0.5`).
pub(crate) fn number_text(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e17 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A primitive value as a string (strings, numbers, booleans).
pub(crate) fn as_text(node: &Node) -> Option<Cow<'_, str>> {
    match &node.value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(number_text(*n))),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// A number, also from a numeric string.
pub(crate) fn as_number(node: &Node) -> Option<f64> {
    match &node.value {
        Value::Number(n) => Some(*n),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    }
}

/// A boolean, also from the strings `true`/`false`.
pub(crate) fn as_bool(node: &Node) -> Option<bool> {
    match &node.value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// A whole non-negative number usable as an index.
pub(crate) fn as_index(node: &Node) -> Option<usize> {
    as_number(node)
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n < 1e15)
        .map(|n| n as usize)
}

/// Structural equality ignoring lines; `None` when an unknown value decides it.
pub(crate) fn equal(lhs: &Node, rhs: &Node) -> Option<bool> {
    match (&lhs.value, &rhs.value) {
        (Value::Unknown { .. }, _) | (_, Value::Unknown { .. }) => None,
        (Value::Null, Value::Null) => Some(true),
        (Value::Bool(x), Value::Bool(y)) => Some(x == y),
        #[allow(clippy::float_cmp)]
        (Value::Number(x), Value::Number(y)) => Some(x == y),
        (Value::String(x), Value::String(y)) => Some(x == y),
        (Value::List(xs), Value::List(ys)) => {
            if xs.len() != ys.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (x, y) in xs.iter().zip(ys) {
                match equal(x, y) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown { None } else { Some(true) }
        }
        (Value::Map(xs), Value::Map(ys)) => {
            if xs.len() != ys.len() {
                return Some(false);
            }
            let mut unknown = false;
            for (key, x) in xs {
                let Some((_, y)) = ys.iter().find(|(other, _)| other == key) else {
                    return Some(false);
                };
                match equal(x, y) {
                    Some(false) => return Some(false),
                    None => unknown = true,
                    Some(true) => {}
                }
            }
            if unknown { None } else { Some(true) }
        }
        _ => Some(false),
    }
}

/// The entries of a map sorted by key (Terraform iterates maps and objects in key order).
pub(crate) fn sorted_entries(entries: Vec<(String, Node)>) -> Vec<(String, Node)> {
    let mut entries = entries;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

/// Canonical JSON text of a fully known value, as Terraform's `jsonencode` writes it: object
/// keys sorted, no whitespace, `<`, `>` and `&` escaped. `None` when a part is unknown.
pub(crate) fn to_json(node: &Node) -> Option<String> {
    let mut out = String::new();
    write_json(node, &mut out).then_some(out)
}

fn write_json(node: &Node, out: &mut String) -> bool {
    match &node.value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_finite() {
                out.push_str(&number_text(*n));
            } else {
                out.push_str("null");
            }
        }
        Value::String(s) => json_string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_json(item, out) {
                    return false;
                }
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let mut sorted: Vec<&(String, Node)> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                if !write_json(v, out) {
                    return false;
                }
            }
            out.push('}');
        }
        Value::Unknown { .. } => return false,
    }
    true
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A tree from parsed JSON, every node on `line`, objects keeping their key order.
pub(crate) fn from_json(value: serde_json::Value, line: u32) -> Node {
    let v = match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(items) => {
            Value::List(items.into_iter().map(|i| from_json(i, line)).collect())
        }
        serde_json::Value::Object(m) => Value::Map(
            m.into_iter()
                .map(|(k, v)| (k, from_json(v, line)))
                .collect(),
        ),
    };
    Node::new(line, v)
}

/// A key as it appears in an address: `"name"` with quotes and backslashes escaped.
pub(crate) fn quoted_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 2);
    out.push('"');
    for c in key.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_is_canonical() {
        let n = Node::from_json(
            &json!({"b": [1, 2.5, "x<y"], "a": {"z": true, "c": null}}),
            1,
        );
        assert_eq!(
            to_json(&n).unwrap(),
            r#"{"a":{"c":null,"z":true},"b":[1,2.5,"x\u003cy"]}"#
        );
        let u = list(1, vec![unknown(1, vec!["x".into()])]);
        assert!(to_json(&u).is_none());
    }

    #[test]
    fn equality_and_conversion() {
        let a = Node::from_json(&json!({"a": [1, "x"]}), 1);
        let b = Node::from_json(&json!({"a": [1, "x"]}), 7);
        assert_eq!(equal(&a, &b), Some(true));
        assert_eq!(equal(&a, &unknown(1, vec![])), None);
        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(0.5), "0.5");
        assert_eq!(as_index(&string(1, "2")), Some(2));
        assert_eq!(quoted_key("a\"b"), "\"a\\\"b\"");
    }
}
