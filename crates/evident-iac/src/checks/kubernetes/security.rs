//! The security context of every container: privileges, user, filesystem, capabilities and
//! the kernel confinement (seccomp, AppArmor) it runs under.

use evident_core::{Confidence, Severity};

use super::{Container, HARDENING, PRIVILEGE, Pod, WORKLOADS, each_container, known, strings};
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Node, Resource};

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "k8s-privileged-container",
            "Privileged container",
            Severity::High,
            PRIVILEGE,
            "A privileged container gets every capability and every device of the node with confinement turned off: a compromise of the application is a compromise of the node and of every pod and secret on it.",
            "Remove `securityContext.privileged: true` (set `privileged: false`); grant only the specific capability the workload needs under `securityContext.capabilities.add`.",
            WORKLOADS,
            privileged,
        ),
        check(
            "k8s-allow-privilege-escalation",
            "Container allows privilege escalation",
            Severity::Medium,
            PRIVILEGE,
            "Unless `allowPrivilegeEscalation` is `false`, a process in the container can gain more privileges than its parent through setuid binaries or file capabilities, turning a foothold into root in the container.",
            "Set `securityContext.allowPrivilegeEscalation: false` on every container.",
            WORKLOADS,
            privilege_escalation,
        ),
        check(
            "k8s-run-as-root",
            "Container may run as root",
            Severity::Medium,
            PRIVILEGE,
            "A container whose user is UID 0, or whose user is left to the image (which is root unless the image says otherwise), gives an attacker root inside the container; any host mount, capability or kernel flaw then acts with root's rights.",
            "Set `securityContext.runAsNonRoot: true` and a non-zero `runAsUser` (e.g. `runAsUser: 10001`) on the pod or the container, and never `runAsUser: 0`.",
            WORKLOADS,
            run_as_root,
        ),
        check(
            "k8s-readonly-root-filesystem",
            "Container root filesystem is writable",
            Severity::Low,
            HARDENING,
            "A writable root filesystem lets an intruder drop tools, alter binaries or plant persistence inside the running container; making it read-only confines writes to the volumes you chose.",
            "Set `securityContext.readOnlyRootFilesystem: true` and mount an `emptyDir` volume where the application must write (e.g. `/tmp`).",
            WORKLOADS,
            readonly_root,
        ),
        check(
            "k8s-dangerous-capabilities",
            "Container adds dangerous Linux capabilities",
            Severity::High,
            PRIVILEGE,
            "Capabilities such as `SYS_ADMIN`, `NET_ADMIN`, `SYS_PTRACE`, `SYS_MODULE`, `NET_RAW` or `ALL` hand the container pieces of root on the node: mounting filesystems, rewriting network configuration, tracing other processes, loading kernel modules or spoofing packets.",
            "Remove the capability from `securityContext.capabilities.add`; if one is really needed, add only that one, next to `capabilities.drop: [\"ALL\"]`.",
            WORKLOADS,
            dangerous_capabilities,
        ),
        check(
            "k8s-capabilities-not-dropped",
            "Container keeps the default Linux capabilities",
            Severity::Low,
            HARDENING,
            "The runtime's default capability set (e.g. `NET_RAW`, `CHOWN`, `SETUID`, `DAC_OVERRIDE`) is more than most applications use; each one left in place widens what an intruder can do.",
            "Set `securityContext.capabilities.drop: [\"ALL\"]` and add back only what the workload needs (e.g. `add: [\"NET_BIND_SERVICE\"]`).",
            WORKLOADS,
            capabilities_not_dropped,
        ),
        check(
            "k8s-proc-mount-unmasked",
            "Container mounts /proc unmasked",
            Severity::Medium,
            HARDENING,
            "`procMount: Unmasked` removes the masking of sensitive `/proc` paths that keeps a container from reading or changing kernel and host settings.",
            "Remove `securityContext.procMount` or set it to `Default`.",
            WORKLOADS,
            proc_mount,
        ),
        check(
            "k8s-seccomp-unconfined",
            "Container runs with seccomp unconfined",
            Severity::Medium,
            HARDENING,
            "An `Unconfined` seccomp profile lets the container call every kernel system call, including the rarely used ones most container escapes go through.",
            "Set `securityContext.seccompProfile.type: RuntimeDefault` (or `Localhost` with a profile) on the pod or container, and remove `Unconfined` and `unconfined` annotations.",
            WORKLOADS,
            seccomp_unconfined,
        ),
        check(
            "k8s-seccomp-profile-missing",
            "Container sets no seccomp profile",
            Severity::Low,
            HARDENING,
            "Without a seccomp profile, the container runs unconfined unless the kubelet was started with `--seccomp-default`: every system call, including those used in kernel exploits, stays reachable.",
            "Set `securityContext.seccompProfile.type: RuntimeDefault` in the pod's `securityContext` (it applies to every container) or per container.",
            WORKLOADS,
            seccomp_missing,
        )
        .confidence(Confidence::Medium),
        check(
            "k8s-apparmor-unconfined",
            "Container runs with AppArmor unconfined",
            Severity::Medium,
            HARDENING,
            "Turning AppArmor off removes the mandatory access control profile that limits which files, mounts and capabilities a container process can use, even as root.",
            "Remove the `container.apparmor.security.beta.kubernetes.io/<container>: unconfined` annotation and any `appArmorProfile.type: Unconfined`; set `securityContext.appArmorProfile.type: RuntimeDefault`.",
            WORKLOADS,
            apparmor_unconfined,
        ),
        check(
            "k8s-windows-host-process",
            "Windows HostProcess container",
            Severity::High,
            PRIVILEGE,
            "A Windows HostProcess container runs directly on the node with the node's network and file system, as a node account: it is the Windows equivalent of a privileged container.",
            "Remove `securityContext.windowsOptions.hostProcess: true`; run node administration through the node's own configuration management instead.",
            WORKLOADS,
            windows_host_process,
        ),
    ]
}

/// A boolean of the container's own `securityContext`; `Err(())` when it cannot be judged.
fn own_bool(c: &Container<'_>, field: &str) -> Result<Option<(bool, u32)>, ()> {
    let path = format!("securityContext.{field}");
    match c.attr(&path) {
        crate::model::Attr::Unknown => Err(()),
        crate::model::Attr::Missing => Ok(None),
        crate::model::Attr::Known(n) => match &n.value {
            crate::model::Value::Null => Ok(None),
            _ => n.as_bool().map(|b| Some((b, c.line_of(&path)))).ok_or(()),
        },
    }
}

fn privileged(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |_, c, out| {
        if let Ok(Some((true, line))) = own_bool(c, "privileged") {
            out.push(c.hit(line, format!("{} sets `privileged: true`", c.label())));
        }
    });
}

fn privilege_escalation(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |pod, c, out| {
        if pod.is_windows() {
            return;
        }
        match own_bool(c, "allowPrivilegeEscalation") {
            Ok(Some((true, line))) => out.push(c.hit(
                line,
                format!("{} sets `allowPrivilegeEscalation: true`", c.label()),
            )),
            Ok(None) => out.push(c.hit(
                c.line_of("securityContext"),
                format!(
                    "{} does not set `allowPrivilegeEscalation: false` (the default allows it)",
                    c.label()
                ),
            )),
            _ => {}
        }
    });
}

fn run_as_root(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |pod, c, out| {
        if pod.is_windows()
            || pod.security_unknown(c, "runAsUser")
            || pod.security_unknown(c, "runAsNonRoot")
        {
            return;
        }
        if let Some((n, line)) = pod.security(c, "runAsUser") {
            match n.as_f64().map(|uid| uid as i64) {
                Some(0) => {
                    out.push(c.hit(
                        line,
                        format!("{} runs as UID 0 (`runAsUser: 0`)", c.label()),
                    ));
                    return;
                }
                Some(_) => return,
                None => {}
            }
        }
        match pod.security(c, "runAsNonRoot") {
            Some((n, _)) if n.as_bool() == Some(true) => {}
            Some((n, line)) if n.as_bool() == Some(false) => out.push(c.hit(
                line,
                format!("{} sets `runAsNonRoot: false` and no non-zero `runAsUser`", c.label()),
            )),
            Some(_) => {}
            None => out.push(c.hit(
                c.line,
                format!(
                    "{} sets neither `runAsNonRoot: true` nor a non-zero `runAsUser` (here or on the pod): it runs as the image's user, root unless the image says otherwise",
                    c.label()
                ),
            )),
        }
    });
}

fn readonly_root(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |pod, c, out| {
        if pod.is_windows() {
            return;
        }
        match own_bool(c, "readOnlyRootFilesystem") {
            Ok(Some((false, line))) => out.push(c.hit(
                line,
                format!("{} sets `readOnlyRootFilesystem: false`", c.label()),
            )),
            Ok(None) => out.push(c.hit(
                c.line_of("securityContext"),
                format!("{} does not set `readOnlyRootFilesystem: true`", c.label()),
            )),
            _ => {}
        }
    });
}

/// Capabilities that give a container parts of root on the node.
const DANGEROUS_CAPABILITIES: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "NET_ADMIN",
    "NET_RAW",
    "SYS_PTRACE",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "SYS_TIME",
    "DAC_READ_SEARCH",
    "BPF",
    "PERFMON",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "SYSLOG",
];

fn capability_name(cap: &str) -> String {
    let upper = cap.trim().to_ascii_uppercase();
    upper
        .strip_prefix("CAP_")
        .map_or(upper.clone(), str::to_owned)
}

fn dangerous_capabilities(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |_, c, out| {
        let added: Vec<String> = strings(c.node, "securityContext.capabilities.add")
            .into_iter()
            .map(capability_name)
            .filter(|cap| DANGEROUS_CAPABILITIES.contains(&cap.as_str()))
            .collect();
        if !added.is_empty() {
            out.push(c.hit(
                c.line_of("securityContext.capabilities.add"),
                format!("{} adds {}", c.label(), added.join(", ")),
            ));
        }
    });
}

fn capabilities_not_dropped(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |pod, c, out| {
        if pod.is_windows() || c.attr("securityContext.capabilities.drop").is_unknown() {
            return;
        }
        let drops_all = strings(c.node, "securityContext.capabilities.drop")
            .iter()
            .any(|d| capability_name(d) == "ALL");
        if !drops_all {
            let line = if known(c.node, "securityContext.capabilities.drop").is_some() {
                c.line_of("securityContext.capabilities.drop")
            } else {
                c.line_of("securityContext")
            };
            out.push(c.hit(
                line,
                format!("{} does not drop `ALL` capabilities", c.label()),
            ));
        }
    });
}

fn proc_mount(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |_, c, out| {
        if c.attr("securityContext.procMount").str() == Some("Unmasked") {
            out.push(c.hit(
                c.line_of("securityContext.procMount"),
                format!("{} sets `procMount: Unmasked`", c.label()),
            ));
        }
    });
}

/// A confinement profile as `Unconfined`, `RuntimeDefault` or `Localhost`, and where it is set.
struct Profile {
    kind: String,
    line: u32,
    source: String,
}

/// From an annotation value (`unconfined`, `runtime/default`, `docker/default`, `localhost/x`).
fn annotation_profile(value: &str) -> &'static str {
    match value {
        "unconfined" => "Unconfined",
        v if v.starts_with("localhost/") => "Localhost",
        _ => "RuntimeDefault",
    }
}

/// The profile a container runs under: container field, container annotation, pod field, pod
/// annotation (the kubelet's precedence).
fn effective_profile(
    pod: &Pod<'_>,
    c: &Container<'_>,
    field: &str,
    container_annotation: &str,
    pod_annotation: Option<&str>,
) -> Option<Profile> {
    let from_field = |n: &Node, line: u32, level: &str| {
        n.as_str().map(|t| Profile {
            kind: t.to_owned(),
            line,
            source: format!("{level} `securityContext.{field}.type: {t}`"),
        })
    };
    let from_annotation = |key: &str| {
        let n = pod.annotation(key)?;
        let v = n.as_str()?;
        Some(Profile {
            kind: annotation_profile(v).to_owned(),
            line: n.line_or(c.line),
            source: format!("annotation `{key}: {v}`"),
        })
    };
    let type_path = format!("securityContext.{field}.type");
    if let Some(n) = known(c.node, &type_path) {
        return from_field(n, c.line_of(&type_path), "container");
    }
    if let Some(p) = from_annotation(&format!("{container_annotation}/{}", c.name)) {
        return Some(p);
    }
    if let Some(n) = known(pod.spec, &type_path) {
        return from_field(n, pod.line_of(&type_path), "pod");
    }
    pod_annotation.and_then(from_annotation)
}

fn seccomp(pod: &Pod<'_>, c: &Container<'_>) -> Option<Profile> {
    effective_profile(
        pod,
        c,
        "seccompProfile",
        "container.seccomp.security.alpha.kubernetes.io",
        Some("seccomp.security.alpha.kubernetes.io/pod"),
    )
}

fn seccomp_unconfined(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |pod, c, out| {
        if pod.is_windows() {
            return;
        }
        if let Some(p) = seccomp(pod, c).filter(|p| p.kind == "Unconfined") {
            out.push(c.hit(
                p.line,
                format!("{} runs without seccomp ({})", c.label(), p.source),
            ));
        }
    });
}

fn seccomp_missing(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |pod, c, out| {
        if pod.is_windows()
            || c.attr("securityContext.seccompProfile").is_unknown()
            || pod.attr("securityContext.seccompProfile").is_unknown()
        {
            return;
        }
        if seccomp(pod, c).is_none() {
            out.push(c.hit(
                c.line,
                format!(
                    "{} has no `seccompProfile`, on itself or on the pod",
                    c.label()
                ),
            ));
        }
    });
}

fn apparmor_unconfined(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |pod, c, out| {
        if pod.is_windows() {
            return;
        }
        let p = effective_profile(
            pod,
            c,
            "appArmorProfile",
            "container.apparmor.security.beta.kubernetes.io",
            None,
        );
        if let Some(p) = p.filter(|p| p.kind == "Unconfined") {
            out.push(c.hit(
                p.line,
                format!("{} runs without AppArmor ({})", c.label(), p.source),
            ));
        }
    });
}

fn windows_host_process(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    each_container(r, out, |pod, c, out| {
        if let Some((n, line)) = pod.security(c, "windowsOptions.hostProcess")
            && n.as_bool() == Some(true)
        {
            out.push(c.hit(
                line,
                format!("{} runs as a Windows HostProcess container", c.label()),
            ));
        }
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{deployment, hits, object};

    #[test]
    fn every_workload_kind_and_container_list_is_reached() {
        let container =
            json!({"name": "app", "image": "nginx:1.27", "securityContext": {"privileged": true}});
        let spec = json!({"containers": [container], "initContainers": [{"name": "init", "image": "busybox:1.36", "securityContext": {"privileged": true}}], "ephemeralContainers": [{"name": "debug", "image": "busybox:1.36", "securityContext": {"privileged": "true"}}]});
        let template = json!({"metadata": {}, "spec": spec});
        let objects = [
            json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": spec}),
            json!({"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": template}}),
            json!({"kind": "StatefulSet", "metadata": {"name": "s"}, "spec": {"template": template}}),
            json!({"kind": "DaemonSet", "metadata": {"name": "ds"}, "spec": {"template": template}}),
            json!({"kind": "ReplicaSet", "metadata": {"name": "rs"}, "spec": {"template": template}}),
            json!({"kind": "ReplicationController", "metadata": {"name": "rc"}, "spec": {"template": template}}),
            json!({"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": template}}),
            json!({"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": template}}}}),
        ];
        for o in objects {
            let h = hits("k8s-privileged-container", &object(&o));
            let keys: Vec<&str> = h.iter().map(|h| h.key.as_str()).collect();
            assert_eq!(keys, ["app", "init", "debug"], "{}", o["kind"]);
        }
        let svc = object(
            &json!({"kind": "Service", "metadata": {"name": "s"}, "spec": {"containers": [container]}}),
        );
        assert!(super::super::Pod::of(&svc).is_none());
    }

    #[test]
    fn run_as_root_reads_container_then_pod() {
        let id = "k8s-run-as-root";
        let pod_nonroot = deployment(
            &json!({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsUser": 0}}]}),
        );
        let h = hits(id, &pod_nonroot);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].key, "b");
        assert!(h[0].message.contains("UID 0"));
        let uid = deployment(
            &json!({"securityContext": {"runAsUser": 1000}, "containers": [{"name": "a"}]}),
        );
        assert!(hits(id, &uid).is_empty());
        let none = deployment(
            &json!({"containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsNonRoot": false}}]}),
        );
        assert_eq!(hits(id, &none).len(), 2);
        let container_overrides = deployment(
            &json!({"securityContext": {"runAsUser": 0}, "containers": [{"name": "a", "securityContext": {"runAsUser": 1001}}]}),
        );
        assert!(hits(id, &container_overrides).is_empty());
        let windows =
            deployment(&json!({"os": {"name": "windows"}, "containers": [{"name": "a"}]}));
        assert!(hits(id, &windows).is_empty());
    }

    #[test]
    fn capabilities_and_escalation() {
        let d = deployment(&json!({"containers": [
            {"name": "a", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}},
            {"name": "b", "securityContext": {"capabilities": {"add": ["CAP_SYS_ADMIN", "chown", "NET_RAW"], "drop": ["NET_RAW"]}}},
        ]}));
        let h = hits("k8s-dangerous-capabilities", &d);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].message, "container `b` adds SYS_ADMIN, NET_RAW");
        let h = hits("k8s-capabilities-not-dropped", &d);
        assert_eq!(h.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), ["b"]);
        let h = hits("k8s-allow-privilege-escalation", &d);
        assert_eq!(h.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), ["b"]);
    }

    #[test]
    fn seccomp_and_apparmor_precedence() {
        let annotated = object(
            &json!({"kind": "Pod", "metadata": {"name": "p", "annotations": {
                "container.apparmor.security.beta.kubernetes.io/a": "unconfined",
                "seccomp.security.alpha.kubernetes.io/pod": "unconfined"
            }}, "spec": {"containers": [
                {"name": "a"},
                {"name": "b", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
            ]}}),
        );
        let h = hits("k8s-seccomp-unconfined", &annotated);
        assert_eq!(h.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), ["a"]);
        assert!(hits("k8s-seccomp-profile-missing", &annotated).is_empty());
        let h = hits("k8s-apparmor-unconfined", &annotated);
        assert_eq!(h.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), ["a"]);
        let field = deployment(
            &json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}, "appArmorProfile": {"type": "Unconfined"}}, "containers": [{"name": "a"}, {"name": "b", "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}]}),
        );
        assert_eq!(hits("k8s-seccomp-unconfined", &field).len(), 2);
        assert_eq!(hits("k8s-apparmor-unconfined", &field).len(), 1);
        let missing = deployment(&json!({"containers": [{"name": "a"}]}));
        assert_eq!(hits("k8s-seccomp-profile-missing", &missing).len(), 1);
        let pod_level = deployment(
            &json!({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "a"}]}),
        );
        assert!(hits("k8s-seccomp-profile-missing", &pod_level).is_empty());
    }
}
