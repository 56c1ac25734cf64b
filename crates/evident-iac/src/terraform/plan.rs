//! Terraform plan JSON (`terraform show -json plan.out`).
//!
//! Resources come from `planned_values.root_module` and its `child_modules`; attributes that
//! are only known after apply (`resource_changes[].change.after_unknown`) become unknown values
//! whose references come from the `configuration` expressions of that attribute.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::value::from_json;
use crate::Loaded;
use crate::model::{ModuleCall, Node, Platform, Resource, Value};

/// Loads the planned resources of a plan. `label` is the path shown in findings.
pub fn load(label: &str, text: &str) -> Loaded {
    let plan: Json = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Loaded::error(label, json_error(&e)),
    };
    let Some(root) = plan.pointer("/planned_values/root_module") else {
        if plan.is_object() {
            return Loaded::default();
        }
        return Loaded::error(label, "line 1, column 1: a plan must be a JSON object");
    };
    let lines = address_lines(text);
    let unknowns: HashMap<&str, &Json> = plan
        .get("resource_changes")
        .and_then(Json::as_array)
        .map(|changes| {
            changes
                .iter()
                .filter_map(|c| {
                    let address = c.get("address")?.as_str()?;
                    let after_unknown = c.pointer("/change/after_unknown")?;
                    Some((address, after_unknown))
                })
                .collect()
        })
        .unwrap_or_default();
    let walker = Walker {
        label,
        lines: &lines,
        unknowns: &unknowns,
        config: plan.pointer("/configuration/root_module"),
    };
    let mut loaded = Loaded::default();
    walker.module(root, None, &mut loaded.resources, 0);
    // Data sources read during planning are in the prior state.
    if let Some(prior) = plan.pointer("/prior_state/values/root_module") {
        let mut data = Vec::new();
        walker.module(prior, None, &mut data, 0);
        let seen: std::collections::HashSet<String> =
            loaded.resources.iter().map(|r| r.address.clone()).collect();
        loaded.resources.extend(
            data.into_iter()
                .filter(|r| r.kind.starts_with("data.") && !seen.contains(&r.address)),
        );
    }
    loaded
}

/// Does this JSON text look like a Terraform plan?
pub fn looks_like_plan(text: &str) -> bool {
    text.contains("\"planned_values\"") || text.contains("\"resource_changes\"")
}

/// A JSON syntax error as `line L, column C: what`.
pub(crate) fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let what = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    format!("line {}, column {}: {what}", e.line(), e.column())
}

/// The line of the first `"address": "…"` of every address in the text.
fn address_lines(text: &str) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    let bytes = text.as_bytes();
    let mut line = 1u32;
    let mut counted = 0usize;
    for (pos, _) in text.match_indices("\"address\"") {
        line += text[counted..pos].matches('\n').count() as u32;
        counted = pos;
        let mut i = pos + "\"address\"".len();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i) != Some(&b':') {
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i) != Some(&b'"') {
            continue;
        }
        let start = i;
        i += 1;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        let Some(literal) = text.get(start..=i.min(bytes.len().saturating_sub(1))) else {
            continue;
        };
        if let Ok(address) = serde_json::from_str::<String>(literal) {
            out.entry(address).or_insert(line);
        }
    }
    out
}

struct Walker<'a> {
    label: &'a str,
    lines: &'a HashMap<String, u32>,
    unknowns: &'a HashMap<&'a str, &'a Json>,
    config: Option<&'a Json>,
}

impl Walker<'_> {
    fn module(&self, module: &Json, address: Option<&str>, out: &mut Vec<Resource>, depth: u32) {
        if depth > 64 {
            return;
        }
        let call = address.map(|a| ModuleCall {
            address: a.to_owned(),
            file: self.label.to_owned(),
            line: self.lines.get(a).copied().unwrap_or(0),
        });
        let config = address.map_or(self.config, |a| self.config_module(a));
        for r in module
            .get("resources")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(resource) = self.resource(r, call.as_ref(), config) {
                out.push(resource);
            }
        }
        for child in module
            .get("child_modules")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let child_address = child.get("address").and_then(Json::as_str);
            self.module(child, child_address, out, depth + 1);
        }
    }

    /// The configuration of the module at a (possibly indexed) module address.
    fn config_module(&self, address: &str) -> Option<&Json> {
        let mut config = self.config?;
        for name in module_names(address) {
            config = config.get("module_calls")?.get(&name)?.get("module")?;
        }
        Some(config)
    }

    fn resource(
        &self,
        r: &Json,
        call: Option<&ModuleCall>,
        config: Option<&Json>,
    ) -> Option<Resource> {
        let address = r.get("address")?.as_str()?;
        let kind = r.get("type")?.as_str()?;
        let name = r.get("name").and_then(Json::as_str).unwrap_or_default();
        let data = r.get("mode").and_then(Json::as_str) == Some("data");
        let line = self.lines.get(address).copied().unwrap_or(0);
        let mut body = match r.get("values") {
            Some(v @ Json::Object(_)) => from_json(v.clone(), line),
            _ => Node::new(line, Value::Map(Vec::new())),
        };
        let config_address = if data {
            format!("data.{kind}.{name}")
        } else {
            format!("{kind}.{name}")
        };
        let expressions = config
            .and_then(|c| c.get("resources"))
            .and_then(Json::as_array)
            .and_then(|rs| {
                rs.iter()
                    .find(|c| c.get("address").and_then(Json::as_str) == Some(&config_address))
            })
            .and_then(|c| c.get("expressions"));
        if let Some(after_unknown) = self.unknowns.get(address) {
            let prefix = call.map(|c| format!("{}.", c.address)).unwrap_or_default();
            let mut path = Vec::new();
            mark_unknown(
                &mut body,
                after_unknown,
                &mut path,
                expressions,
                &prefix,
                line,
            );
        }
        Some(Resource {
            platform: Platform::TerraformPlan,
            kind: if data {
                format!("data.{kind}")
            } else {
                kind.to_owned()
            },
            address: address.to_owned(),
            file: self.label.to_owned(),
            line,
            end_line: line,
            body,
            module: call.cloned(),
        })
    }
}

/// The call names in a module address: `module.a["x"].module.b[0]` → `a`, `b`.
fn module_names(address: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = address;
    while let Some(after) = rest.strip_prefix("module.") {
        let end = after.find(['.', '[']).unwrap_or(after.len());
        out.push(after[..end].to_owned());
        rest = &after[end..];
        if rest.starts_with('[') {
            // Skip the index, which may hold quoted dots.
            let mut in_string = false;
            let mut escaped = false;
            let mut close = rest.len();
            for (i, c) in rest.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' if in_string => escaped = true,
                    '"' => in_string = !in_string,
                    ']' if !in_string => {
                        close = i + 1;
                        break;
                    }
                    _ => {}
                }
            }
            rest = &rest[close..];
        }
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    out
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Marks the attributes `after_unknown` says are unknown.
fn mark_unknown(
    body: &mut Node,
    after_unknown: &Json,
    path: &mut Vec<Step>,
    expressions: Option<&Json>,
    prefix: &str,
    line: u32,
) {
    match after_unknown {
        Json::Bool(true) => {
            let refs = config_refs(expressions, path)
                .into_iter()
                .map(|r| format!("{prefix}{r}"))
                .collect();
            set_path(body, path, Node::unknown(line, refs));
        }
        Json::Object(m) => {
            for (k, v) in m {
                path.push(Step::Key(k.clone()));
                mark_unknown(body, v, path, expressions, prefix, line);
                path.pop();
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Step::Index(i));
                mark_unknown(body, v, path, expressions, prefix, line);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Puts `value` at `path`, creating missing object keys.
fn set_path(node: &mut Node, path: &[Step], value: Node) {
    let Some((step, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    if matches!(node.value, Value::Null) && matches!(step, Step::Key(_)) {
        node.value = Value::Map(Vec::new());
    }
    match (&mut node.value, step) {
        (Value::Map(entries), Step::Key(k)) => {
            let pos = entries
                .iter()
                .position(|(name, _)| name == k)
                .unwrap_or_else(|| {
                    entries.push((k.clone(), Node::new(node.line, Value::Null)));
                    entries.len() - 1
                });
            set_path(&mut entries[pos].1, rest, value);
        }
        (Value::List(items), Step::Index(i)) => {
            if let Some(item) = items.get_mut(*i) {
                set_path(item, rest, value);
            }
        }
        _ => {}
    }
}

/// The references of the configuration expression of the attribute at `path` (the deepest
/// expression on the way that has them).
fn config_refs(expressions: Option<&Json>, path: &[Step]) -> Vec<String> {
    let mut found = Vec::new();
    let mut node = expressions;
    let take = |n: &Json, found: &mut Vec<String>| {
        if let Some(refs) = n.get("references").and_then(Json::as_array) {
            *found = refs
                .iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect();
        }
    };
    for step in path {
        let Some(n) = node else {
            break;
        };
        node = match (n, step) {
            (Json::Object(m), Step::Key(k)) => m.get(k),
            (Json::Array(items), Step::Index(i)) => items.get(*i),
            // A block written once is an array of one object in the configuration.
            (Json::Array(items), Step::Key(k)) => items.first().and_then(|f| f.get(k)),
            _ => None,
        };
        if let Some(n) = node {
            take(n, &mut found);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_skip_indexes() {
        assert_eq!(module_names("module.a"), vec!["a"]);
        assert_eq!(
            module_names("module.a[\"x.y\"].module.b[0]"),
            vec!["a", "b"]
        );
    }

    #[test]
    fn address_lines_find_first_occurrence() {
        let text = "{\n \"a\": {\"address\": \"x.y\"},\n \"b\": {\"address\" : \"x.y\"},\n \"c\": {\"address\":\"m[\\\"k\\\"]\"}\n}";
        let lines = address_lines(text);
        assert_eq!(lines.get("x.y"), Some(&2));
        assert_eq!(lines.get("m[\"k\"]"), Some(&4));
    }

    #[test]
    fn bad_json_names_the_line() {
        let l = load("plan.json", "{\n  \"planned_values\": [,\n}");
        assert_eq!(l.errors.len(), 1);
        assert!(
            l.errors[0].message.starts_with("line 2, column"),
            "{}",
            l.errors[0].message
        );
    }
}
