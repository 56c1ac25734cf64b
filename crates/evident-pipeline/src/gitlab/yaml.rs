//! A YAML tree that remembers, for every node, the file and line where it is written.
//!
//! serde-saphyr resolves anchors, aliases and merge keys (`<<: *defaults`) itself; its
//! [`Spanned`] wrapper reports, for values that come from an alias or a merge, the location of
//! the anchored definition (`defined`). We keep that location: a finding points at the line
//! where the offending value is written, not where it is referenced.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// One YAML node and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// Path of the file, relative to the scanned root with `/`.
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
    /// A value GitLab supplies (a Security template default), placed at the `include:` entry
    /// that brings it in.
    pub synthetic: bool,
}

/// The value of a [`Node`]. Mappings keep their order (GitLab job order matters for reports).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// A node with no source (a value GitLab supplies, e.g. a template default).
    pub fn synthetic(value: Value, file: &Arc<str>, line: u32, column: u32) -> Self {
        Node {
            value,
            file: Arc::clone(file),
            line,
            column,
            synthetic: true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) | Value::Number(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar as text (`true`, `42`, `text`); `None` for null and collections.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::String(s) | Value::Number(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" => Some(true),
            Value::String(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node under `key` of a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// A scalar or a sequence of scalars, as a list of strings (GitLab accepts both for
    /// `script`, `extends`, `needs`, `only`, …). Nested sequences are flattened, as GitLab does
    /// for `script`.
    pub fn strings(&self) -> Vec<&Node> {
        match &self.value {
            Value::Seq(items) => items.iter().flat_map(Node::strings).collect(),
            Value::String(_) | Value::Number(_) => vec![self],
            _ => Vec::new(),
        }
    }

    fn set_file(&mut self, file: &Arc<str>) {
        self.file = Arc::clone(file);
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.set_file(file)),
            Value::Map(entries) => {
                for (k, v) in entries {
                    k.set_file(file);
                    v.set_file(file);
                }
            }
            _ => {}
        }
    }
}

/// A parse failure with its 1-based line when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: Option<u64>,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Parses `text` (the file `file`) into a tree. A GitLab `spec:` header document (components,
/// `include: inputs`) is skipped: the pipeline is the document after it.
pub fn parse(text: &str, file: &str) -> Result<Node, ParseError> {
    let file: Arc<str> = Arc::from(file);
    let docs: Vec<Spanned<RawValue>> = serde_saphyr::from_multiple(text).map_err(|e| {
        let line = e.location().map(|l| l.line());
        let message = e.to_string();
        // The error text can quote the input: keep its first line only.
        let message = message.lines().next().unwrap_or_default().to_owned();
        ParseError { line, message }
    })?;
    let mut docs: Vec<Node> = docs.into_iter().map(Node::from).collect();
    if docs.len() > 1 && docs[0].get("spec").is_some() {
        docs.remove(0);
    }
    let mut root = docs.into_iter().next().unwrap_or(Node {
        value: Value::Null,
        file: Arc::clone(&file),
        line: 1,
        column: 1,
        synthetic: false,
    });
    root.set_file(&file);
    Ok(root)
}

/// What serde-saphyr gives us before we attach spans.
#[derive(Debug)]
enum RawValue {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Seq(Vec<Spanned<RawValue>>),
    Map(Vec<(Spanned<RawValue>, Spanned<RawValue>)>),
}

fn to_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<Spanned<RawValue>> for Node {
    fn from(s: Spanned<RawValue>) -> Self {
        let value = match s.value {
            RawValue::Null => Value::Null,
            RawValue::Bool(b) => Value::Bool(b),
            RawValue::Number(n) => Value::Number(n),
            RawValue::String(t) => Value::String(t),
            RawValue::Seq(items) => Value::Seq(items.into_iter().map(Node::from).collect()),
            RawValue::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (Node::from(k), Node::from(v)))
                    .collect(),
            ),
        };
        // `defined` is where an aliased or merged value is written; for plain values it equals
        // `referenced`. A zero line means the parser had no location: fall back.
        let loc = if s.defined.line() > 0 {
            s.defined
        } else {
            s.referenced
        };
        Node {
            value,
            file: Arc::from(""),
            line: to_u32(loc.line()).max(1),
            column: to_u32(loc.column()).max(1),
            synthetic: false,
        }
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Number(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Number(v.to_string()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawValue, E> {
        Ok(RawValue::Number(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawValue, E> {
        Ok(RawValue::Number(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Number(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::String(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawValue, E> {
        Ok(RawValue::String(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawValue>>()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<RawValue>>()? {
            let value = map.next_value::<Spanned<RawValue>>()?;
            entries.push((key, value));
        }
        Ok(RawValue::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_anchors_and_merge_keys() {
        let text = "\
.defaults: &defaults
  allow_failure: true
  image: alpine
job:
  <<: *defaults
  script:
    - echo hi
";
        let root = parse(text, "ci.yml").unwrap();
        let job = root.get("job").unwrap();
        let af = job.get("allow_failure").unwrap();
        assert_eq!(af.as_bool(), Some(true));
        assert_eq!(af.line, 2, "merged value points at its definition");
        assert_eq!(&*af.file, "ci.yml");
        let script = job.get("script").unwrap();
        assert_eq!(script.strings()[0].line, 7);
        let (key, _) = job.entry("script").unwrap();
        assert_eq!(key.line, 6);
    }

    #[test]
    fn errors_carry_a_line() {
        let err = parse("a: [1,\nb: }", "x.yml").unwrap_err();
        assert!(err.line.is_some(), "{err:?}");
    }
}
