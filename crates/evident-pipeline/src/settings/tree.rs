//! A JSON/YAML tree that keeps the 1-based line of every node.
//!
//! JSON is read through the YAML parser (YAML 1.2 is a superset of JSON) so exported API
//! responses get line numbers too; JSON that the YAML parser refuses (tabs as indentation, for
//! example) is read by `serde_json` instead, without lines.

use crate::yaml;

/// One node and the line it starts on (`None` when the input was read without positions).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub line: Option<usize>,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// Why the text is neither JSON nor YAML.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub line: Option<usize>,
    pub message: String,
}

impl Node {
    /// Parses JSON or YAML text.
    pub fn parse(text: &str) -> Result<Node, SyntaxError> {
        let yaml = yaml::Node::parse(text).map_err(|e| SyntaxError {
            line: yaml_line(&e),
            message: format!("invalid YAML: {}", first_line(&e.to_string())),
        });
        match yaml.and_then(Node::from_yaml) {
            Ok(node) => Ok(node),
            Err(yaml) => {
                let looks_json = matches!(text.trim_start().chars().next(), Some('{' | '['));
                match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(value) => Ok(Node::from_json(value)),
                    Err(json) if looks_json => Err(SyntaxError {
                        line: Some(json.line()).filter(|l| *l > 0),
                        message: format!("invalid JSON: {json}"),
                    }),
                    Err(_) => Err(yaml),
                }
            }
        }
    }

    /// The tree of a parsed YAML document, with its keys as text (a scalar key as written,
    /// `null` as the empty key).
    fn from_yaml(node: yaml::Node) -> Result<Node, SyntaxError> {
        let line = line_of(&node);
        let kind = match node.kind {
            yaml::Kind::Null => Kind::Null,
            yaml::Kind::Bool(b) => Kind::Bool(b),
            yaml::Kind::Int(i) => Kind::Int(i),
            yaml::Kind::Float(f) => Kind::Float(f),
            yaml::Kind::Str(s) => Kind::Str(s),
            yaml::Kind::Seq(items) => Kind::Seq(
                items
                    .into_iter()
                    .map(Node::from_yaml)
                    .collect::<Result<_, _>>()?,
            ),
            yaml::Kind::Map(entries) => {
                let mut map = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let name = match key.kind {
                        yaml::Kind::Null => String::new(),
                        _ => key.scalar().ok_or_else(|| SyntaxError {
                            line: line_of(&key),
                            message: "invalid YAML: a list or mapping as a key".to_owned(),
                        })?,
                    };
                    map.push((name, Node::from_yaml(value)?));
                }
                Kind::Map(map)
            }
        };
        Ok(Node { line, kind })
    }

    fn from_json(value: serde_json::Value) -> Node {
        use serde_json::Value;
        let kind = match value {
            Value::Null => Kind::Null,
            Value::Bool(b) => Kind::Bool(b),
            Value::Number(n) => n
                .as_i64()
                .map(|i| Kind::Int(i128::from(i)))
                .or_else(|| n.as_u64().map(|u| Kind::Int(i128::from(u))))
                .unwrap_or_else(|| Kind::Float(n.as_f64().unwrap_or(f64::NAN))),
            Value::String(s) => Kind::Str(s),
            Value::Array(items) => Kind::Seq(items.into_iter().map(Node::from_json).collect()),
            Value::Object(map) => Kind::Map(
                map.into_iter()
                    .map(|(k, v)| (k, Node::from_json(v)))
                    .collect(),
            ),
        };
        Node { line: None, kind }
    }

    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Does this mapping have `key` (with any value, `null` included)?
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The entries of a mapping (empty otherwise).
    pub fn entries(&self) -> &[(String, Node)] {
        match &self.kind {
            Kind::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.kind, Kind::Map(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// The items of a sequence (empty otherwise).
    pub fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            Kind::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A non-negative integer that fits in `u32`.
    pub fn as_u32(&self) -> Option<u32> {
        match &self.kind {
            Kind::Int(i) => u32::try_from(*i).ok(),
            _ => None,
        }
    }

    /// A string scalar, or the text of a number.
    pub fn as_text(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }

    /// A short description of the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) | Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "an object",
        }
    }
}

/// The line a parsed YAML node starts on; `None` where the parser had no position.
fn line_of(node: &yaml::Node) -> Option<usize> {
    usize::try_from(node.line).ok().filter(|l| *l > 0)
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().to_owned()
}

/// The line serde-saphyr reports in its message (`… at line 3 column 5`), if any.
fn yaml_line(error: &serde_saphyr::Error) -> Option<usize> {
    let text = error.to_string();
    let at = text.find("line ")?;
    let digits: String = text[at + 5..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|l| *l > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_gets_lines_through_the_yaml_parser() {
        let root =
            Node::parse("{\n  \"a\": {\n    \"b\": true\n  },\n  \"c\": [1, 2]\n}\n").unwrap();
        assert_eq!(root.get("a").unwrap().line, Some(2));
        assert_eq!(
            root.get("a").unwrap().get("b").unwrap().as_bool(),
            Some(true)
        );
        assert_eq!(root.get("c").unwrap().items().len(), 2);
    }

    #[test]
    fn keys_are_text_and_a_list_as_a_key_is_refused_at_its_line() {
        let root = Node::parse("a: 1\n2: two\ntrue: yes\n~: nothing\n").unwrap();
        let keys: Vec<&str> = root.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "2", "true", ""]);
        assert_eq!(root.get("2").unwrap().line, Some(2));
        let err = Node::parse("a: 1\n? [x, y]\n: 2\n").unwrap_err();
        assert_eq!(err.message, "invalid YAML: a list or mapping as a key");
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn tab_indented_json_still_reads() {
        let root = Node::parse("{\n\t\"a\": 1\n}").unwrap();
        assert_eq!(root.get("a").unwrap().as_u32(), Some(1));
    }

    #[test]
    fn bad_json_names_its_line() {
        let err = Node::parse("{\n  \"a\": 1,\n  \"b\": [1,\n}").unwrap_err();
        assert!(err.message.contains("JSON"), "{}", err.message);
        assert_eq!(err.line, Some(4));
    }
}
