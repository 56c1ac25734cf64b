//! Kubernetes manifests: multi-document YAML (and `List` objects) into one resource per object.
//!
//! Every document that is a map with `apiVersion` and `kind` is an object; `kind: List` and
//! typed lists (`DeploymentList`, …) are expanded into their items. The address is
//! `Kind.namespace.name` (`default` namespace when none is set), `Kind.name` for cluster-scoped
//! kinds; an object without a name uses its `generateName` or `<unnamed-N>`. A document that is
//! not an object is skipped silently when the file holds no object at all (a values file that
//! happens to mention `apiVersion`), and reported when it sits among objects. A syntax error is
//! reported with its line; the other documents still load.

use evident_core::ScanError;

use crate::Loaded;
use crate::model::{Node, Platform, Resource, Value};
use crate::yaml::{self, Extent};

/// Kinds that live outside namespaces (their address is `Kind.name`).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "Node",
    "StorageClass",
    "CustomResourceDefinition",
    "PodSecurityPolicy",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
    "CSIDriver",
    "APIService",
];

/// Loads every object of a manifest. `label` is the path shown in findings.
pub fn load(label: &str, text: &str) -> Loaded {
    let (docs, syntax) = yaml::parse_stream_lenient(text);
    let mut out = Loaded::default();
    for e in syntax {
        out.errors.push(error(
            label,
            e.line,
            &format!("not valid YAML: {}", e.message),
        ));
    }
    let manifest = docs.iter().any(|d| is_object(&d.root));
    let mut unnamed = 0usize;
    let mut objects: Vec<(Node, u32, u32)> = Vec::new();
    for doc in docs {
        let (line, end_line) = (doc.line(), doc.end_line());
        if !is_object(&doc.root) {
            if manifest {
                out.errors.push(error(
                    label,
                    line,
                    "document has no `apiVersion` and `kind`: not a Kubernetes object, skipped",
                ));
            }
            continue;
        }
        expand(
            doc.root,
            &doc.extent,
            line,
            end_line,
            label,
            &mut objects,
            &mut out,
        );
    }
    for (body, line, end_line) in objects {
        out.resources
            .push(resource(label, body, line, end_line, &mut unnamed));
    }
    out
}

fn error(label: &str, line: u32, message: &str) -> ScanError {
    ScanError {
        path: label.to_owned(),
        message: format!("line {line}: {message}"),
    }
}

/// A map with string `apiVersion` and `kind`.
fn is_object(node: &Node) -> bool {
    node.get("apiVersion").and_then(Node::as_str).is_some()
        && node
            .get("kind")
            .and_then(Node::as_str)
            .is_some_and(|k| !k.is_empty())
}

/// What a list object holds.
enum Items {
    /// `kind: List`: items of any kind.
    Any,
    /// `kind: DeploymentList`: items that may omit their kind.
    Of(String),
}

/// A `List` (or `FooList`) object with its items.
fn list_items(node: &Node) -> Option<Items> {
    let kind = node.get("kind")?.as_str()?;
    node.get("items")?.as_list()?;
    if kind == "List" {
        Some(Items::Any)
    } else {
        let item = kind.strip_suffix("List")?;
        (!item.is_empty()).then(|| Items::Of(item.to_owned()))
    }
}

/// Collects the objects of a document: the object itself, or the items of a list.
fn expand(
    root: Node,
    extent: &Extent,
    line: u32,
    end_line: u32,
    label: &str,
    objects: &mut Vec<(Node, u32, u32)>,
    out: &mut Loaded,
) {
    let Some(item_kind) = list_items(&root) else {
        objects.push((root, line, end_line));
        return;
    };
    let api_version = root
        .get("apiVersion")
        .and_then(Node::as_str)
        .unwrap_or("v1")
        .to_owned();
    // The extent of `items`, parallel to its list.
    let items_at = root
        .as_map()
        .and_then(|m| m.iter().position(|(k, _)| k == "items"));
    let item_exts: &[Extent] = items_at
        .and_then(|i| extent.children.get(i))
        .map_or(&[], |e| e.children.as_slice());
    let Value::Map(entries) = root.value else {
        return;
    };
    let Some((_, items)) = entries.into_iter().find(|(k, _)| k == "items") else {
        return;
    };
    let Value::List(items) = items.value else {
        return;
    };
    for (i, mut item) in items.into_iter().enumerate() {
        let item_line = item.line;
        let item_end = item_exts
            .get(i)
            .map_or(item_line, |e| e.end_line.max(item_line));
        if let (Items::Of(kind), Value::Map(fields)) = (&item_kind, &mut item.value) {
            // Items of a typed list may omit their kind and apiVersion.
            if !fields.iter().any(|(k, _)| k == "kind") {
                fields.insert(
                    0,
                    (
                        "kind".to_owned(),
                        Node::new(item_line, Value::String(kind.clone())),
                    ),
                );
            }
            if !fields.iter().any(|(k, _)| k == "apiVersion") {
                fields.insert(
                    0,
                    (
                        "apiVersion".to_owned(),
                        Node::new(item_line, Value::String(api_version.clone())),
                    ),
                );
            }
        }
        if !is_object(&item) {
            out.errors.push(error(
                label,
                item_line,
                "list item has no `apiVersion` and `kind`: not a Kubernetes object, skipped",
            ));
            continue;
        }
        // A list inside a list is expanded too (`kubectl get -o yaml` never nests, but be kind).
        let item_extent = item_exts.get(i).cloned().unwrap_or_default();
        expand(item, &item_extent, item_line, item_end, label, objects, out);
    }
}

fn resource(label: &str, body: Node, line: u32, end_line: u32, unnamed: &mut usize) -> Resource {
    let kind = body
        .get("kind")
        .and_then(Node::as_str)
        .unwrap_or_default()
        .to_owned();
    let text = |path: &str| {
        body.lookup(path)
            .str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let name = text("metadata.name")
        .or_else(|| text("metadata.generateName"))
        .unwrap_or_else(|| {
            *unnamed += 1;
            format!("<unnamed-{unnamed}>")
        });
    let address = if CLUSTER_SCOPED.contains(&kind.as_str()) {
        format!("{kind}.{name}")
    } else {
        let namespace = text("metadata.namespace").unwrap_or_else(|| "default".to_owned());
        format!("{kind}.{namespace}.{name}")
    };
    Resource {
        platform: Platform::Kubernetes,
        kind,
        address,
        file: label.to_owned(),
        line,
        end_line: end_line.max(line),
        body,
        module: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_addresses_and_lines() {
        let text = "# Source: chart/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\n---\n# Source: chart/templates/ns.yaml\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\n---\napiVersion: v1\nkind: ConfigMap\n";
        let l = load("m.yaml", text);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let addrs: Vec<&str> = l.resources.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            addrs,
            [
                "Deployment.prod.web",
                "Namespace.prod",
                "Job.default.migrate-",
                "ConfigMap.default.<unnamed-1>"
            ]
        );
        assert_eq!((l.resources[0].line, l.resources[0].end_line), (2, 6));
        assert_eq!((l.resources[1].line, l.resources[1].end_line), (9, 12));
    }

    #[test]
    fn typed_lists_give_their_items_a_kind() {
        let text = "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata:\n    name: a\n  spec: {}\n- metadata:\n    name: b\n";
        let l = load("l.yaml", text);
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert_eq!(l.resources.len(), 2);
        assert_eq!(l.resources[0].address, "Deployment.default.a");
        assert_eq!(l.resources[0].attr("apiVersion").str(), Some("apps/v1"));
        assert_eq!((l.resources[0].line, l.resources[0].end_line), (4, 6));
        assert_eq!((l.resources[1].line, l.resources[1].end_line), (7, 8));
    }

    #[test]
    fn non_objects_are_reported_only_among_objects() {
        let l = load("values.yaml", "image:\n  apiVersion: x\n  kind: y\n");
        assert!(l.errors.is_empty() && l.resources.is_empty());
        let l = load("m.yaml", "apiVersion: v1\nkind: Pod\n---\nfoo: bar\n");
        assert_eq!(l.resources.len(), 1);
        assert_eq!(l.errors.len(), 1);
        assert!(l.errors[0].message.starts_with("line 4:"), "{:?}", l.errors);
    }

    #[test]
    fn syntax_errors_keep_the_other_documents() {
        let l = load(
            "m.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: [Pod\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
        );
        assert_eq!(l.resources.len(), 2);
        assert_eq!(l.resources[1].address, "Service.default.s");
        assert_eq!(l.resources[1].line, 8);
        assert_eq!(l.errors.len(), 1);
        assert!(
            l.errors[0].message.starts_with("line 7:")
                || l.errors[0].message.starts_with("line 6:"),
            "{:?}",
            l.errors
        );
    }
}
