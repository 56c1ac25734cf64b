//! What a pod shares with its node: namespaces (network, PID, IPC), host directories, host
//! ports, and the process namespace between its own containers.

use evident_core::Severity;

use super::{ContainerKind, HARDENING, NETWORK, PRIVILEGE, Pod, WORKLOADS, each_container, known};
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Node, Resource};

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "k8s-host-network",
            "Pod uses the node's network namespace",
            Severity::High,
            &[
                "soc2:CC6.1",
                "soc2:CC6.6",
                "iso27001:A.8.20",
                "iso27001:A.8.22",
                "nist-800-53:SC-7",
                "nist-800-53:AC-6",
            ],
            "With `hostNetwork: true` the pod sees every interface of the node, can sniff its traffic, reach services bound to the node's localhost (kubelet, metadata endpoints) and is not isolated by NetworkPolicies.",
            "Remove `hostNetwork: true` from the pod spec (set `hostNetwork: false`); expose the workload through a Service instead.",
            WORKLOADS,
            host_network,
        ),
        check(
            "k8s-host-pid",
            "Pod shares the node's process namespace",
            Severity::High,
            PRIVILEGE,
            "With `hostPID: true` the containers see every process on the node, can read their environment and, with enough privilege, trace or kill them: a direct path to other workloads' secrets.",
            "Remove `hostPID: true` from the pod spec (set `hostPID: false`).",
            WORKLOADS,
            host_pid,
        ),
        check(
            "k8s-host-ipc",
            "Pod shares the node's IPC namespace",
            Severity::Medium,
            PRIVILEGE,
            "With `hostIPC: true` the containers can read and write the shared memory and message queues of every process on the node, including other workloads'.",
            "Remove `hostIPC: true` from the pod spec (set `hostIPC: false`).",
            WORKLOADS,
            host_ipc,
        ),
        check(
            "k8s-hostpath-volume",
            "Pod mounts a directory of the node",
            Severity::Medium,
            PRIVILEGE,
            "A `hostPath` volume breaks the boundary between the pod and the node: files written there persist on the node and are seen by other workloads, and a writable mount can be used to tamper with the node.",
            "Replace the `hostPath` volume with an `emptyDir`, a `configMap`/`secret` or a PersistentVolumeClaim; if node access is unavoidable, mount it with `readOnly: true` and restrict the path as narrowly as possible.",
            WORKLOADS,
            hostpath_volume,
        ),
        check(
            "k8s-hostpath-sensitive",
            "Pod mounts a sensitive node path (container runtime socket, /, /etc, kubelet data)",
            Severity::High,
            PRIVILEGE,
            "Mounting the container runtime socket (`docker.sock`, `containerd.sock`), the node's root, `/etc`, `/proc` or the kubelet's directory gives the pod control of the node: it can start privileged containers, read every secret on the node or rewrite its configuration.",
            "Remove the `hostPath` volume; talk to the runtime or the API through a dedicated, least-privileged service instead of the node's socket or directories.",
            WORKLOADS,
            hostpath_sensitive,
        ),
        check(
            "k8s-host-port",
            "Container binds a port on the node",
            Severity::Medium,
            NETWORK,
            "A `hostPort` opens the port on the node's own addresses, outside the Service and NetworkPolicy model, and ties the pod to nodes where the port is free.",
            "Remove `hostPort` from `ports`; expose the container through a Service (`ClusterIP`, or an Ingress for outside traffic).",
            WORKLOADS,
            host_port,
        ),
        check(
            "k8s-share-process-namespace",
            "Pod containers share one process namespace",
            Severity::Low,
            HARDENING,
            "With `shareProcessNamespace: true` every container of the pod sees the others' processes and can read their environment and files through `/proc`, so a compromised sidecar reaches the main container's secrets.",
            "Remove `shareProcessNamespace: true` (set it to `false`) unless a debugging or sidecar pattern really needs it.",
            WORKLOADS,
            share_process_namespace,
        ),
    ]
}

/// A pod-level boolean flag set to true.
fn pod_flag(r: &Resource, out: &mut Vec<Hit>, field: &str, what: &str) {
    if let Some(pod) = Pod::of(r)
        && pod.attr(field).bool() == Some(true)
    {
        out.push(Hit::new(
            pod.line_of(field),
            format!("the pod sets `{field}: true`: {what}"),
        ));
    }
}

fn host_network(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    pod_flag(
        r,
        out,
        "hostNetwork",
        "it shares the node's network namespace",
    );
}

fn host_pid(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    pod_flag(r, out, "hostPID", "it sees every process of the node");
}

fn host_ipc(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    pod_flag(r, out, "hostIPC", "it shares the node's IPC namespace");
}

fn share_process_namespace(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    pod_flag(
        r,
        out,
        "shareProcessNamespace",
        "its containers see each other's processes",
    );
}

/// The `hostPath` volumes of a pod: (volume name, path, line of the path).
fn host_paths<'a>(pod: &Pod<'a>) -> Vec<(String, &'a str, u32)> {
    let Some(volumes) = pod.spec.get("volumes").and_then(Node::as_list) else {
        return Vec::new();
    };
    volumes
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let path_node = known(v, "hostPath.path")?;
            let path = path_node.as_str()?;
            let name = v
                .get("name")
                .and_then(Node::as_str)
                .map_or_else(|| format!("volumes[{i}]"), str::to_owned);
            Some((name, path, path_node.line_or(pod.line_of("volumes"))))
        })
        .collect()
}

/// Node paths whose mount hands over the node (exact matches).
const SENSITIVE_EXACT: &[&str] = &[
    "/", "/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/var", "/run", "/var/run", "/var/lib",
    "/usr", "/bin", "/sbin", "/lib", "/home",
];

/// Node directories sensitive with everything under them.
const SENSITIVE_TREES: &[&str] = &[
    "/etc/kubernetes",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/etcd",
    "/var/run/containerd",
    "/run/containerd",
    "/var/run/crio",
    "/run/crio",
    "/var/run/docker",
    "/run/docker",
    "/root",
    "/etc/ssh",
    "/etc/sudoers.d",
    "/etc/cron.d",
];

/// Container runtime sockets, wherever they are mounted from.
const RUNTIME_SOCKETS: &[&str] = &[
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
    "podman.sock",
    "dockershim.sock",
];

/// Why mounting `path` from the node hands the node over, if it does.
fn sensitive(path: &str) -> Option<&'static str> {
    let p = path.trim();
    let p = if p.len() > 1 {
        p.trim_end_matches('/')
    } else {
        p
    };
    let p = if p.is_empty() { "/" } else { p };
    if RUNTIME_SOCKETS
        .iter()
        .any(|s| p.rsplit('/').next() == Some(*s))
    {
        return Some("the container runtime socket");
    }
    if p == "/" {
        return Some("the node's root filesystem");
    }
    if SENSITIVE_EXACT.contains(&p)
        || SENSITIVE_TREES
            .iter()
            .any(|t| p == *t || p.strip_prefix(t).is_some_and(|r| r.starts_with('/')))
    {
        return Some("a system directory of the node");
    }
    None
}

fn hostpath_volume(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Some(pod) = Pod::of(r) else {
        return;
    };
    for (name, path, line) in host_paths(&pod) {
        // Sensitive paths are reported by `k8s-hostpath-sensitive`.
        if sensitive(path).is_none() {
            out.push(
                Hit::new(
                    line,
                    format!("volume `{name}` mounts `{path}` from the node"),
                )
                .key(name),
            );
        }
    }
}

fn hostpath_sensitive(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let Some(pod) = Pod::of(r) else {
        return;
    };
    for (name, path, line) in host_paths(&pod) {
        if let Some(why) = sensitive(path) {
            out.push(Hit::new(line, format!("volume `{name}` mounts `{path}`, {why}")).key(name));
        }
    }
}

fn host_port(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |_, c, out| {
        if c.kind == ContainerKind::Ephemeral {
            return;
        }
        let Some(ports) = c.node.get("ports").and_then(Node::as_list) else {
            return;
        };
        let bound: Vec<(u32, u32)> = ports
            .iter()
            .filter_map(|p| {
                let n = known(p, "hostPort")?;
                let port = n.as_f64().filter(|v| *v > 0.0)?;
                Some((port as u32, n.line_or(c.line)))
            })
            .collect();
        if let Some((_, line)) = bound.first() {
            let list: Vec<String> = bound.iter().map(|(p, _)| p.to_string()).collect();
            out.push(c.hit(
                *line,
                format!("{} binds host port {}", c.label(), list.join(", ")),
            ));
        }
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{deployment, hits};
    use super::sensitive;

    #[test]
    fn sensitive_paths() {
        for p in [
            "/",
            "/var/run/docker.sock",
            "/run/containerd/containerd.sock",
            "/etc",
            "/etc/kubernetes/pki",
            "/var/lib/kubelet/",
            "/proc",
            "/root/.ssh",
        ] {
            assert!(sensitive(p).is_some(), "{p}");
        }
        for p in [
            "/var/log",
            "/data",
            "/etc/ssl/certs",
            "/var/lib/kubelet-data",
            "/mnt/disks/ssd0",
        ] {
            assert!(sensitive(p).is_none(), "{p}");
        }
    }

    #[test]
    fn host_paths_split_between_the_two_checks() {
        let d = deployment(
            &json!({"containers": [{"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 443, "hostPort": 443}]}],
            "volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}, {"name": "logs", "hostPath": {"path": "/var/log"}}, {"name": "tmp", "emptyDir": {}}]}),
        );
        let h = hits("k8s-hostpath-sensitive", &d);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].key, "sock");
        let h = hits("k8s-hostpath-volume", &d);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].key, "logs");
        let h = hits("k8s-host-port", &d);
        assert_eq!(h[0].message, "container `a` binds host port 443");
        assert!(hits("k8s-host-network", &d).is_empty());
        let net = deployment(
            &json!({"hostNetwork": true, "hostPID": false, "containers": [{"name": "a"}]}),
        );
        assert_eq!(hits("k8s-host-network", &net).len(), 1);
        assert!(hits("k8s-host-pid", &net).is_empty());
    }
}
