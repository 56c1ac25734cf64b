//! CloudFormation templates (YAML with short-form intrinsics, or JSON).
//!
//! One resource per entry of `Resources`: kind = `Type`, address = the logical id, body = the
//! `Properties` with intrinsic functions resolved where the template alone decides them:
//! - `Ref` to a parameter with a `Default` → the default (a list for `CommaDelimitedList` and
//!   `List<…>` parameters); to a parameter without default, a resource or a pseudo parameter →
//!   unknown naming it; `Ref: AWS::NoValue` removes the key (or list item);
//! - `Fn::Sub` (string and `[string, vars]` forms) and `Fn::Join` → the string when every part
//!   is known; `Fn::Split`, `Fn::Select` and `Fn::FindInMap` on known values; `Fn::Base64` of a
//!   known string → that string;
//! - `Fn::GetAtt` (`A.B` or `[A, B]`) → unknown naming `A.B`; `Fn::If` → the value when both
//!   branches are equal, else unknown (conditions are not evaluated); every other function
//!   (`Fn::ImportValue`, `Fn::GetAZs`, `Fn::Cidr`, …) → unknown naming what its arguments
//!   depend on.
//!
//! The short forms (`!Ref X`, arriving from [`crate::yaml`] as `{"!Ref": "X"}`) and the long
//! forms (`{"Ref": "X"}`) resolve identically.

use std::collections::{HashMap, HashSet};

use evident_core::ScanError;

use crate::Loaded;
use crate::model::{Node, Platform, Resource, Value};
use crate::yaml::{self, Extent};

/// Loads every resource of a template. `label` is the path shown in findings.
pub fn load(label: &str, text: &str) -> Loaded {
    let docs = match yaml::parse_stream(text) {
        Ok(docs) => docs,
        Err(e) => {
            return Loaded::error(
                label,
                format!("line {}: not valid YAML or JSON: {}", e.line, e.message),
            );
        }
    };
    let Some(doc) = docs.into_iter().next() else {
        return Loaded::error(label, "line 1: empty template");
    };
    if doc.root.as_map().is_none() {
        return Loaded::error(
            label,
            format!("line {}: a template is a mapping of sections", doc.line()),
        );
    }
    let Some((template, template_ext)) = template(&doc.root, &doc.extent) else {
        return Loaded::error(
            label,
            format!(
                "line {}: template has no Resources section",
                doc.line().max(1)
            ),
        );
    };
    let entries = template.as_map().unwrap_or_default();
    let Some(at) = entries.iter().position(|(k, _)| k == "Resources") else {
        return Loaded::error(label, "line 1: template has no Resources section");
    };
    let resources_node = &entries[at].1;
    let Some(resources) = resources_node.as_map().filter(|m| !m.is_empty()) else {
        return Loaded::error(
            label,
            format!(
                "line {}: Resources must map logical ids to resources",
                resources_node.line
            ),
        );
    };
    let no_extents: Vec<Extent> = Vec::new();
    let exts = template_ext
        .children
        .get(at)
        .map_or(&no_extents, |e| &e.children);
    let ctx = Ctx::new(template);
    let mut out = Loaded::default();
    for (i, (id, def)) in resources.iter().enumerate() {
        let ext = exts.get(i);
        let line = ext
            .map(|e| e.key_line)
            .filter(|&l| l > 0)
            .unwrap_or(def.line);
        let end_line = ext.map_or(line, |e| e.end_line).max(line);
        let Some(kind) = def.get("Type").and_then(Node::as_str) else {
            out.errors.push(ScanError {
                path: label.to_owned(),
                message: format!("line {line}: resource `{id}` has no Type"),
            });
            continue;
        };
        let body = match def.get("Properties").and_then(|p| ctx.resolve(p)) {
            Some(
                n @ Node {
                    value: Value::Map(_),
                    ..
                },
            ) => n,
            Some(other) => Node::new(other.line, Value::Map(Vec::new())),
            None => Node::new(line, Value::Map(Vec::new())),
        };
        out.resources.push(Resource {
            platform: Platform::CloudFormation,
            kind: kind.to_owned(),
            address: id.clone(),
            file: label.to_owned(),
            line,
            end_line,
            body,
            module: None,
        });
    }
    out
}

/// The map holding `Resources`: the document itself, or the `resources` section of a
/// Serverless Framework file (which embeds CloudFormation there).
fn template<'a>(root: &'a Node, ext: &'a Extent) -> Option<(&'a Node, &'a Extent)> {
    let entries = root.as_map()?;
    if entries.iter().any(|(k, _)| k == "Resources") {
        return Some((root, ext));
    }
    let at = entries.iter().position(|(k, _)| k == "resources")?;
    let inner = &entries[at].1;
    inner.get("Resources")?;
    Some((inner, ext.children.get(at)?))
}

/// A template parameter.
struct Param<'a> {
    default: Option<&'a Node>,
    /// `CommaDelimitedList` or `List<…>`: a reference gives a list.
    list: bool,
    /// `AWS::SSM::Parameter::Value<…>`: the default names a parameter, not the value.
    ssm: bool,
}

/// What the template says about names that intrinsics refer to.
struct Ctx<'a> {
    params: HashMap<&'a str, Param<'a>>,
    resources: HashSet<&'a str>,
    mappings: Option<&'a Node>,
}

impl<'a> Ctx<'a> {
    fn new(root: &'a Node) -> Self {
        let mut params = HashMap::new();
        for (name, p) in root
            .get("Parameters")
            .and_then(Node::as_map)
            .unwrap_or_default()
        {
            let ty = p.get("Type").and_then(Node::as_str).unwrap_or_default();
            params.insert(
                name.as_str(),
                Param {
                    default: p.get("Default"),
                    list: ty == "CommaDelimitedList" || ty.starts_with("List<"),
                    ssm: ty.starts_with("AWS::SSM::"),
                },
            );
        }
        let resources = root
            .get("Resources")
            .and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        Ctx {
            params,
            resources,
            mappings: root.get("Mappings"),
        }
    }

    /// Resolves the intrinsics of a tree; `None` when it is `Ref: AWS::NoValue`.
    fn resolve(&self, node: &Node) -> Option<Node> {
        let line = node.line;
        match &node.value {
            Value::Map(entries) => {
                if let [(key, arg)] = entries.as_slice()
                    && let Some(name) = intrinsic(key)
                {
                    return self.call(&name, arg, line);
                }
                let resolved = entries
                    .iter()
                    .filter_map(|(k, v)| self.resolve(v).map(|v| (k.clone(), v)))
                    .collect();
                Some(Node::new(line, Value::Map(resolved)))
            }
            Value::List(items) => Some(Node::new(
                line,
                Value::List(items.iter().filter_map(|i| self.resolve(i)).collect()),
            )),
            _ => Some(node.clone()),
        }
    }

    /// Resolves a node that must be present (`AWS::NoValue` there is an unknown).
    fn value(&self, node: &Node) -> Node {
        self.resolve(node)
            .unwrap_or_else(|| Node::unknown(node.line, Vec::new()))
    }

    fn call(&self, name: &str, arg: &Node, line: u32) -> Option<Node> {
        Some(match name {
            "Ref" => return self.reference(arg, line),
            "Fn::GetAtt" => get_att(&self.value(arg), line),
            "Fn::Sub" => self.sub(arg, line),
            "Fn::Join" => self.join(arg, line),
            "Fn::If" => return self.condition(arg, line),
            "Fn::FindInMap" => self.find_in_map(arg, line),
            "Fn::Select" => self.select(arg, line),
            "Fn::Split" => self.split(arg, line),
            "Fn::Base64" => {
                let inner = self.value(arg);
                match inner.value {
                    Value::String(s) => Node::new(line, Value::String(s)),
                    _ => Node::unknown(line, refs_of(&inner)),
                }
            }
            _ => Node::unknown(line, refs_of(&self.value(arg))),
        })
    }

    fn reference(&self, arg: &Node, line: u32) -> Option<Node> {
        let target = self.value(arg);
        let Some(name) = target.as_str() else {
            return Some(Node::unknown(line, refs_of(&target)));
        };
        if name == "AWS::NoValue" {
            return None;
        }
        let unknown = || Some(Node::unknown(line, vec![name.to_owned()]));
        if self.resources.contains(name) {
            return unknown();
        }
        let Some(param) = self.params.get(name) else {
            // A pseudo parameter (`AWS::Region`) or a name the template does not define.
            return unknown();
        };
        match param.default {
            Some(d) if !param.ssm => {
                let mut value = d.clone();
                reline(&mut value, line);
                if param.list
                    && let Value::String(s) = &value.value
                {
                    value.value = Value::List(
                        s.split(',')
                            .map(|part| Node::new(line, Value::String(part.trim().to_owned())))
                            .collect(),
                    );
                }
                Some(value)
            }
            _ => unknown(),
        }
    }

    fn sub(&self, arg: &Node, line: u32) -> Node {
        let (template, vars) = match &arg.value {
            Value::List(items) => (
                items.first().map(|t| self.value(t)),
                items.get(1).and_then(Node::as_map).unwrap_or_default(),
            ),
            _ => (Some(self.value(arg)), &[][..]),
        };
        let Some(template) = template else {
            return Node::unknown(line, Vec::new());
        };
        let Some(template) = template.as_str() else {
            return Node::unknown(line, refs_of(&template));
        };
        let mut out = String::new();
        let mut refs = Vec::new();
        let mut known = true;
        let mut rest = template;
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[at..]);
                rest = "";
                break;
            };
            let inner = &after[..close];
            rest = &after[close + 1..];
            if let Some(literal) = inner.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let name = inner.trim();
            let value = match vars.iter().find(|(k, _)| k == name) {
                Some((_, v)) => self.value(v),
                None if name.contains('.') && !name.starts_with("AWS::") => {
                    Node::unknown(line, vec![name.to_owned()])
                }
                None => {
                    let reference = Node::new(line, Value::String(name.to_owned()));
                    self.reference(&reference, line)
                        .unwrap_or_else(|| Node::unknown(line, vec![name.to_owned()]))
                }
            };
            if let Some(text) = scalar_text(&value) {
                out.push_str(&text);
            } else {
                known = false;
                push_refs(&mut refs, &value);
            }
        }
        out.push_str(rest);
        if known {
            Node::new(line, Value::String(out))
        } else {
            Node::unknown(line, refs)
        }
    }

    fn join(&self, arg: &Node, line: u32) -> Node {
        let args = self.value(arg);
        let (Some(delim), Some(parts)) = (
            args.as_list().and_then(|a| a.first()),
            args.as_list().and_then(|a| a.get(1)),
        ) else {
            return Node::unknown(line, refs_of(&args));
        };
        let (Some(delim), Some(items)) = (scalar_text(delim), parts.as_list()) else {
            return Node::unknown(line, refs_of(&args));
        };
        let mut texts = Vec::with_capacity(items.len());
        for item in items {
            match scalar_text(item) {
                Some(t) => texts.push(t),
                None => return Node::unknown(line, refs_of(&args)),
            }
        }
        Node::new(line, Value::String(texts.join(&delim)))
    }

    fn condition(&self, arg: &Node, line: u32) -> Option<Node> {
        let Some([_, a, b]) = arg.as_list().and_then(|l| <&[Node; 3]>::try_from(l).ok()) else {
            return Some(Node::unknown(line, refs_of(&self.value(arg))));
        };
        let (a, b) = (self.resolve(a), self.resolve(b));
        match (a, b) {
            (None, None) => None,
            (Some(mut a), Some(b)) if same(&a, &b) => {
                a.line = line;
                Some(a)
            }
            (a, b) => {
                let mut refs = Vec::new();
                for n in [a, b].iter().flatten() {
                    push_refs(&mut refs, n);
                }
                Some(Node::unknown(line, refs))
            }
        }
    }

    fn find_in_map(&self, arg: &Node, line: u32) -> Node {
        let args = self.value(arg);
        let Some(list) = args.as_list().filter(|l| l.len() >= 3) else {
            return Node::unknown(line, refs_of(&args));
        };
        let keys: Vec<Option<String>> = list[..3].iter().map(scalar_text).collect();
        let default = list
            .get(3)
            .and_then(|opts| opts.get("DefaultValue"))
            .cloned();
        let [Some(map), Some(top), Some(second)] = keys.as_slice() else {
            let mut refs = Vec::new();
            for n in &list[..3] {
                push_refs(&mut refs, n);
            }
            return Node::unknown(line, refs);
        };
        let found = self
            .mappings
            .and_then(|m| m.get(map))
            .and_then(|m| m.get(top))
            .and_then(|m| m.get(second))
            .cloned()
            .or(default);
        match found {
            Some(mut value) => {
                reline(&mut value, line);
                value
            }
            None => Node::unknown(line, Vec::new()),
        }
    }

    fn select(&self, arg: &Node, line: u32) -> Node {
        let args = self.value(arg);
        let (Some(index), Some(list)) = (
            args.as_list()
                .and_then(|a| a.first())
                .and_then(Node::as_f64),
            args.as_list().and_then(|a| a.get(1)),
        ) else {
            return Node::unknown(line, refs_of(&args));
        };
        match list.as_list() {
            Some(items) if index >= 0.0 && index.fract() == 0.0 => {
                match items.get(index as usize) {
                    Some(item) => {
                        let mut item = item.clone();
                        item.line = line;
                        item
                    }
                    None => Node::unknown(line, Vec::new()),
                }
            }
            _ => Node::unknown(line, refs_of(list)),
        }
    }

    fn split(&self, arg: &Node, line: u32) -> Node {
        let args = self.value(arg);
        let parts = args.as_list().map(|a| {
            (
                a.first().and_then(scalar_text),
                a.get(1).and_then(scalar_text),
            )
        });
        match parts {
            Some((Some(delim), Some(text))) if !delim.is_empty() => Node::new(
                line,
                Value::List(
                    text.split(delim.as_str())
                        .map(|p| Node::new(line, Value::String(p.to_owned())))
                        .collect(),
                ),
            ),
            _ => Node::unknown(line, refs_of(&args)),
        }
    }
}

/// The intrinsic function a single-key map calls: `Ref`, `Fn::Sub`, … (short forms `!Ref`,
/// `!Sub` are mapped to their long names).
fn intrinsic(key: &str) -> Option<String> {
    match key {
        "Ref" | "!Ref" => Some("Ref".to_owned()),
        "!Condition" => Some("Condition".to_owned()),
        _ if key.starts_with("Fn::") => Some(key.to_owned()),
        _ => key
            .strip_prefix('!')
            .filter(|rest| !rest.is_empty())
            .map(|rest| format!("Fn::{rest}")),
    }
}

/// `Fn::GetAtt` as an unknown naming `Logical.Attribute`.
fn get_att(arg: &Node, line: u32) -> Node {
    let name = match &arg.value {
        Value::String(s) => s.trim().to_owned(),
        Value::List(items) => {
            let parts: Vec<&str> = items.iter().filter_map(Node::as_str).collect();
            match items.first().and_then(Node::as_str) {
                Some(_) if parts.len() == items.len() => parts.join("."),
                Some(first) => first.to_owned(),
                None => return Node::unknown(line, refs_of(arg)),
            }
        }
        _ => return Node::unknown(line, refs_of(arg)),
    };
    Node::unknown(line, vec![name])
}

/// A known scalar as the text it stands for in a string (`Fn::Sub`, `Fn::Join`).
fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 => {
            Some(format!("{}", *n as i64))
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Every ref of every unknown in a tree, in order, without repeats.
fn refs_of(node: &Node) -> Vec<String> {
    let mut refs = Vec::new();
    push_refs(&mut refs, node);
    refs
}

fn push_refs(refs: &mut Vec<String>, node: &Node) {
    match &node.value {
        Value::Unknown { refs: r } => {
            for x in r {
                if !refs.contains(x) {
                    refs.push(x.clone());
                }
            }
        }
        Value::List(items) => items.iter().for_each(|i| push_refs(refs, i)),
        Value::Map(entries) => entries.iter().for_each(|(_, v)| push_refs(refs, v)),
        _ => {}
    }
}

/// Puts a copied tree (a parameter default, a mapping value) on the line that refers to it.
fn reline(node: &mut Node, line: u32) {
    node.line = line;
    match &mut node.value {
        Value::List(items) => items.iter_mut().for_each(|i| reline(i, line)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, v)| reline(v, line)),
        _ => {}
    }
}

/// Equal values, lines aside.
fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kp, p), (kq, q))| kp == kq && same(p, q))
        }
        (x, y) => x == y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(template: &str, id: &str) -> Node {
        let l = load("t.yaml", template);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        l.resources
            .into_iter()
            .find(|r| r.address == id)
            .unwrap()
            .body
    }

    const HEAD: &str = "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Env:\n    Type: String\n    Default: prod\n  Key:\n    Type: String\n  Subnets:\n    Type: CommaDelimitedList\n    Default: a, b\n  Ami:\n    Type: AWS::SSM::Parameter::Value<String>\n    Default: /aws/ami\nMappings:\n  Sizes:\n    prod: {Instance: m5.large}\n";

    #[test]
    fn references_and_substitutions() {
        let t = format!(
            "{HEAD}Resources:\n  R:\n    Type: X::Y\n    Properties:\n      A: !Ref Env\n      B: !Ref Key\n      C: !Ref AWS::Region\n      D: !Ref AWS::NoValue\n      E: !Sub 'logs-${{Env}}-${{!Literal}}'\n      F: !Sub 'arn:${{AWS::Partition}}:s3:::${{Other.Arn}}'\n      G: !Sub ['${{X}}-${{Env}}', {{X: !Ref Env}}]\n      H: !Join ['-', [a, !Ref Env, 3]]\n      I: !Select [1, !Ref Subnets]\n      J: !FindInMap [Sizes, !Ref Env, Instance]\n      K: !GetAtt [Other, Arn]\n      L: !If [Cond, same, same]\n      M: !If [Cond, a, b]\n      N: !Ref Ami\n      O: !Base64 plain\n      P: !ImportValue {{'Fn::Sub': '${{Env}}-vpc'}}\n      Q: [!Ref AWS::NoValue, x]\n      S: !Select [0, !Split [',', 'p,q']]\n      T: !GetAZs ''\n  Other:\n    Type: X::Z\n"
        );
        let b = body(&t, "R");
        assert_eq!(b.lookup("A").str(), Some("prod"));
        assert_eq!(b.get("B").unwrap().refs(), ["Key"]);
        assert_eq!(b.get("C").unwrap().refs(), ["AWS::Region"]);
        assert!(b.lookup("D").is_missing());
        assert_eq!(b.lookup("E").str(), Some("logs-prod-${Literal}"));
        assert_eq!(b.get("F").unwrap().refs(), ["AWS::Partition", "Other.Arn"]);
        assert_eq!(b.lookup("G").str(), Some("prod-prod"));
        assert_eq!(b.lookup("H").str(), Some("a-prod-3"));
        assert_eq!(b.lookup("I").str(), Some("b"));
        assert_eq!(b.lookup("J").str(), Some("m5.large"));
        assert_eq!(b.get("K").unwrap().refs(), ["Other.Arn"]);
        assert_eq!(b.lookup("L").str(), Some("same"));
        assert!(b.lookup("M").is_unknown());
        assert_eq!(b.get("N").unwrap().refs(), ["Ami"]);
        assert_eq!(b.lookup("O").str(), Some("plain"));
        assert!(b.lookup("P").is_unknown());
        assert_eq!(b.get("Q").unwrap().as_list().unwrap().len(), 1);
        assert_eq!(b.lookup("S").str(), Some("p"));
        assert!(b.lookup("T").is_unknown());
        assert_eq!(b.get("A").unwrap().line, 21);
    }

    #[test]
    fn serverless_framework_resources() {
        let l = load(
            "serverless.yml",
            "service: api\nprovider:\n  name: aws\nresources:\n  Resources:\n    Queue:\n      Type: AWS::SQS::Queue\n      Properties:\n        SqsManagedSseEnabled: true\n",
        );
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.resources.len(), 1);
        let r = &l.resources[0];
        assert_eq!((r.address.as_str(), r.line, r.end_line), ("Queue", 6, 9));
        assert_eq!(r.attr("SqsManagedSseEnabled").bool(), Some(true));
    }

    #[test]
    fn template_errors_name_the_line() {
        let l = load(
            "t.yaml",
            "AWSTemplateFormatVersion: '2010-09-09'\nDescription: x\n",
        );
        assert!(
            l.errors[0].message.contains("no Resources"),
            "{:?}",
            l.errors
        );
        let l = load(
            "t.yaml",
            "Resources:\n  A:\n    Properties: {}\n  B:\n    Type: AWS::S3::Bucket\n",
        );
        assert_eq!(l.resources.len(), 1);
        assert_eq!(l.errors.len(), 1);
        assert!(
            l.errors[0]
                .message
                .starts_with("line 2: resource `A` has no Type")
        );
        let l = load("t.json", "{\"Resources\": {\"A\": [}}");
        assert!(
            l.errors[0].message.starts_with("line 1: not valid"),
            "{:?}",
            l.errors
        );
    }
}
