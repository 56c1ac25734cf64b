//! The one model every input is loaded into: resources whose bodies are trees of values that
//! keep their source line, with values that are not known before apply kept as unknown.

use std::fmt;

/// Where a resource came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    /// Terraform HCL (`*.tf`), evaluated as far as the checks need.
    Terraform,
    /// Terraform plan JSON (`terraform show -json plan.out`).
    TerraformPlan,
    Kubernetes,
    Dockerfile,
    CloudFormation,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Terraform => "terraform",
            Platform::TerraformPlan => "terraform-plan",
            Platform::Kubernetes => "kubernetes",
            Platform::Dockerfile => "dockerfile",
            Platform::CloudFormation => "cloudformation",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value and the 1-based line it starts on (0 when the input has no lines).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: u32,
    pub value: Value,
}

/// A value in an infrastructure definition.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    /// A list, a tuple, or the repeated nested blocks of one type (Terraform blocks are always a
    /// list of maps, even when the block appears once, exactly as in plan JSON).
    List(Vec<Node>),
    /// An object or a block body, in source order.
    Map(Vec<(String, Node)>),
    /// Not known before apply: a computed attribute, a variable with no value, a function or an
    /// expression the loader does not evaluate. `refs` names what it depends on
    /// (`aws_s3_bucket.logs`, `var.name`, a CloudFormation logical id), so checks can link
    /// resources. Checks never treat an unknown value as secure or insecure.
    Unknown {
        refs: Vec<String>,
    },
}

/// The result of looking up a path in a body: checks must tell missing (the provider default
/// applies) from unknown (cannot be judged) from a known value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attr<'a> {
    Missing,
    Unknown,
    Known(&'a Node),
}

impl<'a> Attr<'a> {
    /// The node when known.
    pub fn known(self) -> Option<&'a Node> {
        match self {
            Attr::Known(n) => Some(n),
            _ => None,
        }
    }

    pub fn is_missing(self) -> bool {
        matches!(self, Attr::Missing)
    }

    pub fn is_unknown(self) -> bool {
        matches!(self, Attr::Unknown)
    }

    /// A known boolean (see [`Node::as_bool`]); `None` when missing, unknown or not a boolean.
    pub fn bool(self) -> Option<bool> {
        self.known().and_then(Node::as_bool)
    }

    /// A known string; `None` when missing, unknown or not a string.
    pub fn str(self) -> Option<&'a str> {
        self.known().and_then(Node::as_str)
    }

    /// A known number (numbers in strings count); `None` otherwise.
    pub fn number(self) -> Option<f64> {
        self.known().and_then(Node::as_f64)
    }

    /// Known and neither null, `false`, an empty string nor an empty list or map.
    pub fn is_set(self) -> bool {
        self.known().is_some_and(Node::is_set)
    }

    /// Not written: missing, null, or an empty block list or map (plan JSON writes unset
    /// attributes as `null` and unset blocks as `[]`). Unknown values are never absent; unlike
    /// [`Attr::is_set`], a known `false` or empty string is not absent either.
    pub fn is_absent(self) -> bool {
        match self {
            Attr::Missing => true,
            Attr::Unknown => false,
            Attr::Known(n) => match &n.value {
                Value::Null => true,
                Value::List(l) => l.is_empty(),
                Value::Map(m) => m.is_empty(),
                _ => false,
            },
        }
    }

    /// The same lookup with a known `null` counted as [`Attr::Missing`] (a plan's unset
    /// attribute, a YAML `key:` without a value).
    #[must_use]
    pub fn null_as_missing(self) -> Attr<'a> {
        match self {
            Attr::Known(n) if matches!(n.value, Value::Null) => Attr::Missing,
            other => other,
        }
    }
}

impl Node {
    pub fn new(line: u32, value: Value) -> Self {
        Node { line, value }
    }

    pub fn unknown(line: u32, refs: Vec<String>) -> Self {
        Node::new(line, Value::Unknown { refs })
    }

    /// Builds a tree from JSON, every node on `line` (for tests and for inputs without lines).
    pub fn from_json(value: &serde_json::Value, line: u32) -> Self {
        let v = match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(|i| Node::from_json(i, line)).collect())
            }
            serde_json::Value::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Node::from_json(v, line)))
                    .collect(),
            ),
        };
        Node::new(line, v)
    }

    /// The child under `key` of a map; `None` for anything else.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Looks up a dotted path (`versioning.enabled`, `spec.containers.0.image`). A numeric
    /// segment indexes a list; any other segment applied to a list looks in its first item (a
    /// nested block that appears once). Stepping on an unknown value gives [`Attr::Unknown`].
    pub fn lookup(&self, path: &str) -> Attr<'_> {
        let mut node = self;
        for segment in path.split('.').filter(|s| !s.is_empty()) {
            if node.is_unknown() {
                return Attr::Unknown;
            }
            let next = match &node.value {
                Value::List(items) => match segment.parse::<usize>() {
                    Ok(i) => items.get(i),
                    Err(_) => match items.first() {
                        Some(first) if first.is_unknown() => return Attr::Unknown,
                        Some(first) => first.get(segment),
                        None => None,
                    },
                },
                Value::Map(_) => node.get(segment),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => return Attr::Missing,
            }
        }
        if node.is_unknown() {
            Attr::Unknown
        } else {
            Attr::Known(node)
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.value, Value::Unknown { .. })
    }

    /// The node's line, or `fallback` when the input gave it none (line 0).
    pub fn line_or(&self, fallback: u32) -> u32 {
        if self.line > 0 { self.line } else { fallback }
    }

    /// A boolean, also from the strings `true`/`false` (CloudFormation and Kubernetes
    /// annotations write booleans as strings).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A number, also from a numeric string.
    pub fn as_f64(&self) -> Option<f64> {
        match &self.value {
            Value::Number(n) => Some(*n),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Node]> {
        match &self.value {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(String, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items of a list, or the node itself when it is a single value: iterates the nested
    /// blocks of one type whether they were written once or several times.
    pub fn items(&self) -> impl Iterator<Item = &Node> {
        let (list, single) = match &self.value {
            Value::List(items) => (items.as_slice(), None),
            _ => (&[][..], Some(self)),
        };
        list.iter().chain(single)
    }

    /// The strings among [`Node::items`]: the string itself, or the string items of a list
    /// (unknown and other items are skipped).
    pub fn strings(&self) -> Vec<&str> {
        self.items().filter_map(Node::as_str).collect()
    }

    /// Known and neither null, `false`, an empty string nor an empty list or map.
    pub fn is_set(&self) -> bool {
        match &self.value {
            Value::Null | Value::Bool(false) | Value::Unknown { .. } => false,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Bool(true) | Value::Number(_) => true,
        }
    }

    /// The resources an unknown value depends on (empty for known values).
    pub fn refs(&self) -> &[String] {
        match &self.value {
            Value::Unknown { refs } => refs,
            _ => &[],
        }
    }
}

/// A Terraform module call a resource was reached through.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleCall {
    /// `module.network` (nested calls: `module.a.module.b`).
    pub address: String,
    /// The file and line of the `module` block of the outermost call.
    pub file: String,
    pub line: u32,
}

/// One resource: a Terraform resource instance, a Kubernetes object, a CloudFormation resource
/// or a Dockerfile.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub platform: Platform,
    /// The type: `aws_s3_bucket`, `Deployment`, `AWS::S3::Bucket`, `Dockerfile`.
    pub kind: String,
    /// Terraform notation (`module.x.aws_s3_bucket.y["key"]`), `Kind.namespace.name` for
    /// Kubernetes, the logical id for CloudFormation, `Dockerfile` for Dockerfiles.
    pub address: String,
    /// Path relative to the scanned root, with `/` separators.
    pub file: String,
    /// First and last line of the definition (1-based; 0 when the input has no lines).
    pub line: u32,
    pub end_line: u32,
    /// The attributes / object / properties. Always a map.
    pub body: Node,
    /// Set when the resource is inside a local Terraform module.
    pub module: Option<ModuleCall>,
}

impl Resource {
    /// A resource built from JSON, for tests: every node on line 1.
    pub fn from_json(
        platform: Platform,
        kind: &str,
        address: &str,
        body: &serde_json::Value,
    ) -> Self {
        Resource {
            platform,
            kind: kind.to_owned(),
            address: address.to_owned(),
            file: "test".to_owned(),
            line: 1,
            end_line: 1,
            body: Node::from_json(body, 1),
            module: None,
        }
    }

    /// Looks up a dotted path in the body (see [`Node::lookup`]).
    pub fn attr(&self, path: &str) -> Attr<'_> {
        self.body.lookup(path)
    }

    /// Are both resources in the same Terraform module instance (both at the root, or reached
    /// through the same module call)? Always true for inputs without modules.
    pub fn same_module(&self, other: &Resource) -> bool {
        self.module.as_ref().map(|m| &m.address) == other.module.as_ref().map(|m| &m.address)
    }

    /// Can the two resources refer to each other? Same platform, and the same module instance
    /// (Terraform HCL), the same template (CloudFormation), or anywhere (plan JSON, others).
    pub fn same_scope(&self, other: &Resource) -> bool {
        if self.platform != other.platform {
            return false;
        }
        match self.platform {
            Platform::Terraform => self.same_module(other),
            Platform::CloudFormation => self.file == other.file,
            _ => true,
        }
    }

    /// The line of the attribute at `path` when it is there, else the resource's line.
    pub fn line_of(&self, path: &str) -> u32 {
        match self.body.lookup(path) {
            Attr::Known(n) if n.line > 0 => n.line,
            _ => self.line,
        }
    }

    /// Does an attribute of this resource refer to `target`? True when the value at `path` is
    /// unknown and depends on `target.address` (or on an attribute of it), or when it is the
    /// literal name `target` is known by (`names`: e.g. a bucket's `bucket` argument).
    pub fn refers_to(&self, path: &str, target: &Resource, names: &[&str]) -> bool {
        match self.body.lookup(path) {
            Attr::Unknown => {
                // Find the node itself to read its refs.
                let node = unknown_node(&self.body, path);
                node.is_some_and(|n| {
                    n.refs()
                        .iter()
                        .any(|r| ref_matches(r, &target.address, target.module.as_ref()))
                })
            }
            Attr::Known(n) => n.as_str().is_some_and(|s| names.contains(&s)),
            Attr::Missing => false,
        }
    }
}

/// The unknown node reached by `path` (the first unknown on the way).
fn unknown_node<'a>(body: &'a Node, path: &str) -> Option<&'a Node> {
    let mut node = body;
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        if node.is_unknown() {
            return Some(node);
        }
        node = match &node.value {
            Value::List(items) => {
                if let Ok(i) = segment.parse::<usize>() {
                    items.get(i)?
                } else {
                    let first = items.first()?;
                    if first.is_unknown() {
                        return Some(first);
                    }
                    first.get(segment)?
                }
            }
            _ => node.get(segment)?,
        };
    }
    node.is_unknown().then_some(node)
}

/// Does the reference `r` (as written inside a module, e.g. `aws_s3_bucket.b.id`) name the
/// resource at `address`? Inside a module, refs are relative to it.
fn ref_matches(r: &str, address: &str, module: Option<&ModuleCall>) -> bool {
    let local = match module {
        Some(m) => address
            .strip_prefix(m.address.as_str())
            .and_then(|s| s.strip_prefix('.'))
            .unwrap_or(address),
        None => address,
    };
    let candidates = [address, local];
    candidates.iter().any(|a| {
        // `aws_s3_bucket.b["x"]` must match `aws_s3_bucket.b["x"].id`, and `aws_s3_bucket.b`
        // (a reference without index) must match every instance of it.
        let base = a.split('[').next().unwrap_or(a);
        r == *a
            || r.strip_prefix(*a).is_some_and(|rest| rest.starts_with('.'))
            || r == base
            || r.strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// Everything loaded from one scan, indexed by kind.
#[derive(Debug, Default)]
pub struct Model {
    pub resources: Vec<Resource>,
    by_kind: std::collections::HashMap<String, Vec<usize>>,
}

impl Model {
    pub fn new(resources: Vec<Resource>) -> Self {
        let mut by_kind: std::collections::HashMap<String, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, r) in resources.iter().enumerate() {
            by_kind.entry(r.kind.clone()).or_default().push(i);
        }
        Model { resources, by_kind }
    }

    /// The resources of one kind, in load order.
    pub fn of_kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.by_kind
            .get(kind)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|&i| &self.resources[i])
    }

    /// Resources of `kind` in the same file set (module instance or template) whose `path`
    /// attribute refers to `target` (see [`Resource::refers_to`]).
    pub fn linked<'a>(
        &'a self,
        kind: &'a str,
        path: &'a str,
        target: &'a Resource,
        names: &'a [&'a str],
    ) -> impl Iterator<Item = &'a Resource> + 'a {
        self.of_kind(kind)
            .filter(move |r| r.same_scope(target) && r.refers_to(path, target, names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_tells_missing_unknown_and_known_apart() {
        let mut r = Resource::from_json(
            Platform::Terraform,
            "aws_s3_bucket",
            "aws_s3_bucket.b",
            &json!({"versioning": [{"enabled": true}], "acl": "private"}),
        );
        assert_eq!(r.attr("versioning.enabled").bool(), Some(true));
        assert_eq!(r.attr("versioning.0.enabled").bool(), Some(true));
        assert!(r.attr("logging.target_bucket").is_missing());
        assert_eq!(r.attr("acl").str(), Some("private"));
        if let Value::Map(entries) = &mut r.body.value {
            entries.push(("policy".into(), Node::unknown(3, vec!["data.x".into()])));
        }
        assert!(r.attr("policy").is_unknown());
        assert!(r.attr("policy.Statement").is_unknown());
    }

    #[test]
    fn absent_is_missing_null_or_an_empty_block() {
        let r = Resource::from_json(
            Platform::TerraformPlan,
            "google_container_cluster",
            "google_container_cluster.c",
            &json!({"a": null, "b": [], "c": {}, "d": false, "e": "", "f": [{}], "g": 0}),
        );
        for path in ["a", "b", "c", "missing", "a.deeper"] {
            assert!(r.attr(path).is_absent(), "{path}");
        }
        for path in ["d", "e", "f", "g"] {
            assert!(!r.attr(path).is_absent(), "{path}");
        }
        assert!(!Attr::Unknown.is_absent());
    }

    #[test]
    fn null_counts_as_missing_only_when_asked() {
        let n = Node::from_json(&json!({"a": null, "b": 1}), 1);
        assert!(matches!(n.lookup("a"), Attr::Known(_)));
        assert!(n.lookup("a").null_as_missing().is_missing());
        assert_eq!(n.lookup("b").null_as_missing().number(), Some(1.0));
        assert!(n.lookup("c").null_as_missing().is_missing());
        assert!(Attr::Unknown.null_as_missing().is_unknown());
    }

    #[test]
    fn line_or_falls_back_on_line_zero() {
        assert_eq!(Node::new(7, Value::Null).line_or(3), 7);
        assert_eq!(Node::new(0, Value::Null).line_or(3), 3);
    }

    #[test]
    fn strings_of_a_string_or_a_list() {
        let mut list = Node::from_json(&json!(["a", 1, null, "b"]), 1);
        if let Value::List(items) = &mut list.value {
            items.push(Node::unknown(1, vec!["var.x".into()]));
        }
        assert_eq!(list.strings(), ["a", "b"]);
        assert_eq!(Node::from_json(&json!("one"), 1).strings(), ["one"]);
        assert!(Node::from_json(&json!(true), 1).strings().is_empty());
    }

    #[test]
    fn scope_is_module_instance_template_or_anything() {
        let tf = |address: &str, module: Option<&str>| Resource {
            module: module.map(|m| ModuleCall {
                address: m.to_owned(),
                file: "main.tf".to_owned(),
                line: 1,
            }),
            ..Resource::from_json(Platform::Terraform, "aws_s3_bucket", address, &json!({}))
        };
        let root = tf("aws_s3_bucket.a", None);
        let in_a = tf("module.a.aws_s3_bucket.b", Some("module.a"));
        let in_b = tf("module.b.aws_s3_bucket.b", Some("module.b"));
        assert!(root.same_module(&tf("aws_s3_bucket.c", None)));
        assert!(!root.same_module(&in_a));
        assert!(!in_a.same_scope(&in_b));
        assert!(in_a.same_scope(&tf("module.a.aws_s3_bucket.c", Some("module.a"))));
        let cfn = |file: &str| Resource {
            file: file.to_owned(),
            ..Resource::from_json(Platform::CloudFormation, "AWS::S3::Bucket", "B", &json!({}))
        };
        assert!(cfn("a.yaml").same_scope(&cfn("a.yaml")));
        assert!(!cfn("a.yaml").same_scope(&cfn("b.yaml")));
        let plan = Resource::from_json(Platform::TerraformPlan, "aws_s3_bucket", "x", &json!({}));
        assert!(plan.same_scope(&plan.clone()));
        assert!(!plan.same_scope(&root));
        assert!(plan.same_module(&root));
    }

    #[test]
    fn references_link_resources_by_address_or_name() {
        let bucket = Resource::from_json(
            Platform::Terraform,
            "aws_s3_bucket",
            "aws_s3_bucket.logs[\"a\"]",
            &json!({"bucket": "logs-a"}),
        );
        let mut sse = Resource::from_json(
            Platform::Terraform,
            "aws_s3_bucket_server_side_encryption_configuration",
            "aws_s3_bucket_server_side_encryption_configuration.logs",
            &json!({}),
        );
        sse.body = Node::new(
            1,
            Value::Map(vec![(
                "bucket".into(),
                Node::unknown(2, vec!["aws_s3_bucket.logs[\"a\"].id".into()]),
            )]),
        );
        assert!(sse.refers_to("bucket", &bucket, &["logs-a"]));
        let by_name = Resource::from_json(
            Platform::Terraform,
            "aws_s3_bucket_versioning",
            "aws_s3_bucket_versioning.v",
            &json!({"bucket": "logs-a"}),
        );
        assert!(by_name.refers_to("bucket", &bucket, &["logs-a"]));
        assert!(!by_name.refers_to("bucket", &bucket, &["other"]));
        let model = Model::new(vec![bucket.clone(), sse, by_name]);
        assert_eq!(
            model
                .linked(
                    "aws_s3_bucket_server_side_encryption_configuration",
                    "bucket",
                    &bucket,
                    &["logs-a"]
                )
                .count(),
            1
        );
    }
}
