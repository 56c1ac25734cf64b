//! IAM policy documents as checks see them, whatever they arrived as: a JSON string
//! (`jsonencode(...)`, a heredoc, a plan value), an object (CloudFormation `PolicyDocument`) or
//! the `statement` blocks of a `data.aws_iam_policy_document`.

use crate::model::{Attr, Node, Resource, Value};

use super::at;

/// A value inside a policy that was not known: it never matches a wildcard.
const UNKNOWN: &str = "\u{0}unknown";

/// One statement, normalised.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Statement {
    pub line: u32,
    pub allow: bool,
    /// `Action`, or `NotAction` when `not_action`.
    pub actions: Vec<String>,
    pub not_action: bool,
    pub resources: Vec<String>,
    pub not_resource: bool,
    /// `Principal: "*"` or `{"AWS": "*"}`.
    pub principal_any: bool,
    /// A `Principal` or `NotPrincipal` (a resource-based or trust policy statement).
    pub has_principal: bool,
    pub conditions: Vec<Condition>,
    /// A condition is there but could not be read.
    pub condition_unknown: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Condition {
    pub test: String,
    pub key: String,
    pub values: Vec<String>,
}

impl Statement {
    pub fn has_condition(&self) -> bool {
        self.condition_unknown || !self.conditions.is_empty()
    }

    /// Allows every action (`*`), possibly through `NotAction`? Only `Action: "*"` counts.
    pub fn all_actions(&self) -> bool {
        !self.not_action && self.actions.iter().any(|a| is_full_wildcard(a))
    }

    /// Applies to every resource (`Resource: "*"`).
    pub fn all_resources(&self) -> bool {
        !self.not_resource && self.resources.iter().any(|r| r == "*")
    }

    /// Denies plain HTTP: `Deny` with `aws:SecureTransport = false` (or a minimum
    /// `s3:TlsVersion`).
    pub fn denies_insecure_transport(&self) -> bool {
        !self.allow
            && self.conditions.iter().any(|c| {
                let key = c.key.to_ascii_lowercase();
                (key == "aws:securetransport"
                    && c.test.eq_ignore_ascii_case("Bool")
                    && c.values.iter().any(|v| v.eq_ignore_ascii_case("false")))
                    || (key == "s3:tlsversion" && c.test.eq_ignore_ascii_case("NumericLessThan"))
            })
    }
}

/// `*` or `*:*`.
pub(super) fn is_full_wildcard(action: &str) -> bool {
    action == "*" || action == "*:*"
}

/// `service:*`.
pub(super) fn is_service_wildcard(action: &str) -> bool {
    action.len() > 2 && action.ends_with(":*") && !is_full_wildcard(action)
}

/// Does the action only read (`Get*`, `List*`, `Describe*`…)? Unknown actions count as
/// read-only: they are never reported.
pub(super) fn is_read_only(action: &str) -> bool {
    if action == UNKNOWN {
        return true;
    }
    let Some((_, name)) = action.split_once(':') else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    [
        "get", "list", "describe", "head", "batchget", "query", "scan", "search", "lookup",
        "select", "view", "read",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// The statements of a policy given as a JSON string or an object. `None` when the document
/// cannot be read (unknown, not JSON, no `Statement`).
pub(super) fn parse(node: &Node) -> Option<Vec<Statement>> {
    match &node.value {
        Value::String(text) => {
            let json: serde_json::Value = serde_json::from_str(text).ok()?;
            let doc = Node::from_json(&json, node.line);
            statements(&doc, node.line)
        }
        Value::Map(_) => statements(node, node.line),
        _ => None,
    }
}

fn statements(doc: &Node, line: u32) -> Option<Vec<Statement>> {
    let list = doc.get("Statement")?;
    if list.is_unknown() {
        return None;
    }
    Some(
        list.items()
            .filter_map(|s| json_statement(s, line))
            .collect(),
    )
}

/// The strings of a value; unknown parts become a placeholder that matches nothing.
fn values(node: &Node) -> Vec<String> {
    node.items()
        .filter_map(|n| match &n.value {
            Value::String(s) => Some(s.clone()),
            Value::Unknown { .. } => Some(UNKNOWN.to_owned()),
            Value::Number(x) => Some(x.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        })
        .collect()
}

fn json_statement(s: &Node, line: u32) -> Option<Statement> {
    let line = s.line_or(line);
    let allow = match at(s, "Effect").str()? {
        e if e.eq_ignore_ascii_case("allow") => true,
        e if e.eq_ignore_ascii_case("deny") => false,
        _ => return None,
    };
    let (actions, not_action) = match (s.get("Action"), s.get("NotAction")) {
        (Some(a), _) if !a.is_unknown() => (values(a), false),
        (None, Some(a)) if !a.is_unknown() => (values(a), true),
        _ => return None,
    };
    let (resources, not_resource) = match (s.get("Resource"), s.get("NotResource")) {
        (Some(r), _) => (values(r), false),
        (None, Some(r)) => (values(r), true),
        (None, None) => (Vec::new(), false),
    };
    let mut st = Statement {
        line,
        allow,
        actions,
        not_action,
        resources,
        not_resource,
        ..Statement::default()
    };
    if let Some(p) = s.get("Principal") {
        st.has_principal = true;
        st.principal_any = match &p.value {
            Value::String(v) => v == "*",
            Value::Map(entries) => entries
                .iter()
                .any(|(k, v)| (k == "AWS" || k == "*") && values(v).iter().any(|x| x == "*")),
            _ => false,
        };
    }
    if s.get("NotPrincipal").is_some() {
        st.has_principal = true;
    }
    match s.get("Condition").map(|c| &c.value) {
        None | Some(Value::Null) => {}
        Some(Value::Map(tests)) => {
            for (test, keys) in tests {
                match &keys.value {
                    Value::Map(keys) => {
                        for (key, vals) in keys {
                            st.conditions.push(Condition {
                                test: test.clone(),
                                key: key.clone(),
                                values: values(vals),
                            });
                        }
                    }
                    _ => st.condition_unknown = true,
                }
            }
        }
        Some(_) => st.condition_unknown = true,
    }
    Some(st)
}

/// The statements of a `data.aws_iam_policy_document`. `None` when they cannot be read.
pub(super) fn document(r: &Resource) -> Option<Vec<Statement>> {
    let list = match at(&r.body, "statement") {
        Attr::Missing => return Some(Vec::new()),
        Attr::Unknown => return None,
        Attr::Known(n) => n,
    };
    Some(
        list.items()
            .filter_map(|s| block_statement(s, r.line))
            .collect(),
    )
}

fn block_statement(s: &Node, fallback: u32) -> Option<Statement> {
    if s.is_unknown() {
        return None;
    }
    let line = s.line_or(fallback);
    let allow = match at(s, "effect") {
        Attr::Missing => true,
        Attr::Known(n) => match n.as_str()? {
            e if e.eq_ignore_ascii_case("allow") => true,
            e if e.eq_ignore_ascii_case("deny") => false,
            _ => return None,
        },
        Attr::Unknown => return None,
    };
    let (actions, not_action) = match (at(s, "actions"), at(s, "not_actions")) {
        (Attr::Known(a), _) => (values(a), false),
        (Attr::Missing, Attr::Known(a)) => (values(a), true),
        _ => return None,
    };
    let (resources, not_resource) = match (at(s, "resources"), at(s, "not_resources")) {
        (Attr::Known(a), _) => (values(a), false),
        (Attr::Missing, Attr::Known(a)) => (values(a), true),
        (Attr::Unknown, _) | (_, Attr::Unknown) => (vec![UNKNOWN.to_owned()], false),
        _ => (Vec::new(), false),
    };
    let mut st = Statement {
        line,
        allow,
        actions,
        not_action,
        resources,
        not_resource,
        ..Statement::default()
    };
    if let Some(p) = s
        .get("principals")
        .filter(|p| !matches!(p.value, Value::Null))
    {
        st.has_principal = true;
        st.principal_any = p.items().any(|b| {
            let kind = at(b, "type").str();
            let ids = at(b, "identifiers")
                .known()
                .map(Node::strings)
                .unwrap_or_default();
            matches!(kind, Some("*" | "AWS")) && ids.contains(&"*")
        });
    }
    if s.get("not_principals").is_some_and(Node::is_set) {
        st.has_principal = true;
    }
    if let Some(c) = s.get("condition") {
        for b in c.items() {
            let (Some(test), Some(key)) = (at(b, "test").str(), at(b, "variable").str()) else {
                if !matches!(b.value, Value::Null) {
                    st.condition_unknown = true;
                }
                continue;
            };
            st.conditions.push(Condition {
                test: test.to_owned(),
                key: key.to_owned(),
                values: at(b, "values").known().map(values).unwrap_or_default(),
            });
        }
    }
    Some(st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_json_strings_with_single_values_and_lists() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":["*"]}}"#;
        let st = parse(&Node::new(4, Value::String(text.into()))).unwrap();
        assert_eq!(st.len(), 1);
        assert!(st[0].allow && st[0].all_resources() && !st[0].all_actions());
        assert!(is_service_wildcard(&st[0].actions[0]));
        assert_eq!(st[0].line, 4);
        assert!(parse(&Node::new(1, Value::String("not json".into()))).is_none());
        assert!(parse(&Node::unknown(1, vec![])).is_none());
    }

    #[test]
    fn reads_principals_and_conditions() {
        let doc = Node::from_json(
            &json!({"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject", "Resource": "arn"},
                {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
            ]}),
            2,
        );
        let st = parse(&doc).unwrap();
        assert!(st[0].principal_any && !st[0].has_condition());
        assert!(st[1].denies_insecure_transport());
    }

    #[test]
    fn reads_policy_document_blocks() {
        let r = Resource::from_json(
            crate::model::Platform::Terraform,
            "data.aws_iam_policy_document",
            "data.aws_iam_policy_document.d",
            &json!({"statement": [
                {"actions": ["*"], "resources": ["*"]},
                {"effect": "Deny", "actions": ["s3:*"], "resources": ["arn"],
                 "principals": [{"type": "*", "identifiers": ["*"]}],
                 "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]}
            ]}),
        );
        let st = document(&r).unwrap();
        assert!(st[0].allow && st[0].all_actions() && st[0].all_resources());
        assert!(st[1].principal_any && st[1].denies_insecure_transport());
    }

    #[test]
    fn read_only_actions() {
        assert!(is_read_only("s3:GetObject"));
        assert!(is_read_only("ec2:Describe*"));
        assert!(!is_read_only("s3:PutObject"));
        assert!(!is_read_only("iam:PassRole"));
        assert!(is_read_only(UNKNOWN));
    }
}
