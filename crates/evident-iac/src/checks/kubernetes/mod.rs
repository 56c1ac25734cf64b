//! Kubernetes checks. The loader gives one resource per object, `body` = the whole object.
//!
//! Workloads are read through their **pod template**: `spec` of a `Pod`, `spec.template.spec`
//! of a `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `ReplicationController` and
//! `Job`, `spec.jobTemplate.spec.template.spec` of a `CronJob`. Container checks look at
//! `containers`, `initContainers` and `ephemeralContainers` (except where Kubernetes forbids
//! the field on ephemeral containers: resources, ports), one hit per container keyed by its
//! name, on the line of the offending field (the container's line when the field is missing).
//!
//! Security context fields that exist at both levels (`runAsNonRoot`, `runAsUser`,
//! `seccompProfile`, `appArmorProfile`, `windowsOptions`) are read from the container first,
//! then from the pod, as the kubelet does.

use super::{Hit, IacCheck};
use crate::model::{Attr, Node, Resource};

mod host;
mod images;
mod rbac;
mod security;
mod services;
mod workload;

/// The kinds that run pods.
pub(crate) const WORKLOADS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

/// Least privilege for what a container may do on its node.
const PRIVILEGE: &[&str] = &[
    "soc2:CC6.1",
    "soc2:CC6.8",
    "iso27001:A.8.2",
    "iso27001:A.8.9",
    "nist-800-53:AC-6",
    "nist-800-53:CM-6",
    "nist-800-53:CM-7",
];
/// Container hardening beyond privileges.
const HARDENING: &[&str] = &[
    "soc2:CC6.8",
    "iso27001:A.8.9",
    "nist-800-53:CM-6",
    "nist-800-53:CM-7",
];
/// Network exposure and segregation.
const NETWORK: &[&str] = &[
    "soc2:CC6.6",
    "iso27001:A.8.20",
    "iso27001:A.8.22",
    "nist-800-53:SC-7",
];
/// Credentials handled as secrets.
const SECRETS: &[&str] = &[
    "soc2:CC6.1",
    "iso27001:A.5.17",
    "iso27001:A.8.12",
    "nist-800-53:IA-5",
];
/// Access control through RBAC.
const RBAC: &[&str] = &[
    "soc2:CC6.1",
    "soc2:CC6.3",
    "iso27001:A.5.15",
    "iso27001:A.8.2",
    "nist-800-53:AC-3",
    "nist-800-53:AC-6",
];
/// Encrypted transport.
const TLS: &[&str] = &["soc2:CC6.7", "iso27001:A.8.24", "nist-800-53:SC-8"];
/// Capacity: one workload cannot starve the others.
const CAPACITY: &[&str] = &["iso27001:A.8.6", "iso27001:A.8.9", "nist-800-53:CM-6"];

pub fn checks() -> Vec<IacCheck> {
    let mut out = security::checks();
    out.extend(host::checks());
    out.extend(workload::checks());
    out.extend(images::checks());
    out.extend(rbac::checks());
    out.extend(services::checks());
    out
}

/// A known, non-null node at `path` of `node`; `None` when missing, unknown or null.
pub(crate) fn known<'a>(node: &'a Node, path: &str) -> Option<&'a Node> {
    node.lookup(path).null_as_missing().known()
}

/// The object's `metadata.name` (`?` when absent or unknown).
fn name(r: &Resource) -> &str {
    r.attr("metadata.name").str().unwrap_or("?")
}

/// The pod a workload runs: its spec and the template's metadata.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pod<'a> {
    pub resource: &'a Resource,
    pub spec: &'a Node,
    /// `metadata` of the pod (of the template for controllers).
    pub meta: Option<&'a Node>,
}

impl<'a> Pod<'a> {
    /// The pod template of a workload object; `None` for other kinds or without a spec.
    pub fn of(r: &'a Resource) -> Option<Pod<'a>> {
        let (spec, meta) = match r.kind.as_str() {
            "Pod" => ("spec", "metadata"),
            "CronJob" => (
                "spec.jobTemplate.spec.template.spec",
                "spec.jobTemplate.spec.template.metadata",
            ),
            k if WORKLOADS.contains(&k) => ("spec.template.spec", "spec.template.metadata"),
            _ => return None,
        };
        let spec = r.attr(spec).known().filter(|n| n.as_map().is_some())?;
        Some(Pod {
            resource: r,
            spec,
            meta: r.attr(meta).known(),
        })
    }

    pub fn attr(&self, path: &str) -> Attr<'a> {
        self.spec.lookup(path)
    }

    /// The line of `path` in the pod spec, else of the spec, else of the resource.
    pub fn line_of(&self, path: &str) -> u32 {
        let fallback = self.spec.line_or(self.resource.line);
        match self.spec.lookup(path) {
            Attr::Known(n) => n.line_or(fallback),
            _ => fallback,
        }
    }

    /// A pod annotation (keys hold dots and slashes, so they are not looked up as paths).
    pub fn annotation(&self, key: &str) -> Option<&'a Node> {
        self.meta?.get("annotations")?.get(key)
    }

    /// Every container of the pod: regular, init and ephemeral.
    pub fn containers(&self) -> Vec<Container<'a>> {
        let mut out = Vec::new();
        for (list, kind) in [
            ("containers", ContainerKind::Regular),
            ("initContainers", ContainerKind::Init),
            ("ephemeralContainers", ContainerKind::Ephemeral),
        ] {
            let Some(items) = self.spec.get(list).and_then(Node::as_list) else {
                continue;
            };
            for (i, node) in items.iter().enumerate() {
                if node.as_map().is_none() {
                    continue;
                }
                let name = node
                    .get("name")
                    .and_then(Node::as_str)
                    .map_or_else(|| format!("{list}[{i}]"), str::to_owned);
                out.push(Container {
                    node,
                    name,
                    kind,
                    line: node.line_or(self.line_of(list)),
                });
            }
        }
        out
    }

    /// A security context field of `c`, from the container, else from the pod (for fields
    /// that exist at both levels), with its line.
    pub fn security(&self, c: &Container<'a>, field: &str) -> Option<(&'a Node, u32)> {
        if let Some(n) = known(c.node, &format!("securityContext.{field}")) {
            return Some((n, n.line_or(c.line)));
        }
        known(self.spec, &format!("securityContext.{field}")).map(|n| (n, n.line_or(c.line)))
    }

    /// Is the effective value unknown (neither level can be judged)?
    pub fn security_unknown(&self, c: &Container<'a>, field: &str) -> bool {
        let path = format!("securityContext.{field}");
        c.node.lookup(&path).is_unknown()
            || (c.node.lookup(&path).is_missing() && self.spec.lookup(&path).is_unknown())
    }

    /// Is this a Windows pod (`spec.os.name: windows`)? Linux-only settings do not apply.
    pub fn is_windows(&self) -> bool {
        self.attr("os.name").str() == Some("windows")
    }
}

/// Which list a container comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContainerKind {
    Regular,
    Init,
    Ephemeral,
}

/// One container of a pod.
#[derive(Debug, Clone)]
pub(crate) struct Container<'a> {
    pub node: &'a Node,
    /// Its `name` (`containers[2]` when unnamed): the hit key.
    pub name: String,
    pub kind: ContainerKind,
    /// The container's own line.
    pub line: u32,
}

impl<'a> Container<'a> {
    pub fn attr(&self, path: &str) -> Attr<'a> {
        self.node.lookup(path)
    }

    /// The line of `path` in the container, else the container's line.
    pub fn line_of(&self, path: &str) -> u32 {
        match self.node.lookup(path) {
            Attr::Known(n) => n.line_or(self.line),
            _ => self.line,
        }
    }

    /// `container \`app\``, `init container \`setup\``, `ephemeral container \`debug\``.
    pub fn label(&self) -> String {
        let kind = match self.kind {
            ContainerKind::Regular => "container",
            ContainerKind::Init => "init container",
            ContainerKind::Ephemeral => "ephemeral container",
        };
        format!("{kind} `{}`", self.name)
    }

    /// A hit keyed by this container.
    pub fn hit(&self, line: u32, message: impl Into<String>) -> Hit {
        Hit::new(line, message).key(self.name.clone())
    }
}

/// Runs `f` on every container of a workload.
pub(crate) fn each_container(
    r: &Resource,
    out: &mut Vec<Hit>,
    f: impl Fn(&Pod<'_>, &Container<'_>, &mut Vec<Hit>),
) {
    if let Some(pod) = Pod::of(r) {
        for c in pod.containers() {
            f(&pod, &c, out);
        }
    }
}

/// The strings of a list (or a single string) at `path` of `node`.
pub(crate) fn strings<'a>(node: &'a Node, path: &str) -> Vec<&'a str> {
    known(node, path).map(Node::strings).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::checks::common::test_support::{registry_options, run_with};
    use crate::model::{Platform, Resource};

    /// A Kubernetes object from JSON; the address follows the loader's `Kind.namespace.name`.
    pub fn object(body: &serde_json::Value) -> Resource {
        let kind = body["kind"].as_str().unwrap_or("Pod");
        let ns = body["metadata"]["namespace"].as_str().unwrap_or("default");
        let name = body["metadata"]["name"].as_str().unwrap_or("x");
        Resource::from_json(
            Platform::Kubernetes,
            kind,
            &format!("{kind}.{ns}.{name}"),
            body,
        )
    }

    /// The hits of the Kubernetes check `id` on `r`, with `others` in the model (the approved
    /// registries are those of [`registry_options`]).
    pub fn hits_with(id: &str, r: &Resource, others: &[Resource]) -> Vec<crate::checks::Hit> {
        run_with(id, r, others, &registry_options())
    }

    pub fn hits(id: &str, r: &Resource) -> Vec<crate::checks::Hit> {
        hits_with(id, r, &[])
    }

    /// A Deployment whose pod spec is `spec`.
    pub fn deployment(spec: &serde_json::Value) -> Resource {
        object(&serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": spec}}
        }))
    }
}
