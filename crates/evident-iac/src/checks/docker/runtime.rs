//! What the built image does when it runs: its user, its health check, the ports it exposes.
//! Only the final stage counts (and the earlier stages it is built `FROM`).

use evident_core::{Confidence, Severity};

use super::{DOCKERFILE, PRIVILEGE, Stage, parent, stages};
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::Resource;

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "docker-runs-as-root",
            "Image runs as root",
            Severity::Medium,
            PRIVILEGE,
            "Without a `USER`, or with `USER root`, the container's processes run as UID 0: a flaw in the application gives the attacker root inside the container, where any writable host mount, added capability or kernel bug turns into control of the host.",
            "Create an unprivileged user in the final stage and switch to it before `CMD`/`ENTRYPOINT`: `RUN useradd --uid 10001 --no-create-home app` then `USER 10001` (or use a base image that does, e.g. a distroless `:nonroot` tag). A `USER` in a build stage does not carry into the final image.",
            DOCKERFILE,
            runs_as_root,
        ),
        check(
            "docker-missing-healthcheck",
            "Image has no HEALTHCHECK",
            Severity::Info,
            &["soc2:CC7.2", "iso27001:A.8.16", "nist-800-53:SI-4"],
            "Without a `HEALTHCHECK`, Docker and Swarm only know whether the process exists, not whether it still serves: a hung or broken container keeps receiving traffic and nobody is alerted. (Kubernetes ignores `HEALTHCHECK` and uses its own probes.)",
            "Add a health check to the final stage, e.g. `HEALTHCHECK --interval=30s --timeout=3s CMD [\"/app/healthcheck\"]` (or `CMD curl -fsS http://localhost:8080/healthz || exit 1` when the image has curl); do not set `HEALTHCHECK NONE`.",
            DOCKERFILE,
            missing_healthcheck,
        )
        .confidence(Confidence::Medium),
        check(
            "docker-expose-ssh",
            "Image exposes SSH (port 22)",
            Severity::Medium,
            &[
                "soc2:CC6.6",
                "soc2:CC6.8",
                "iso27001:A.8.20",
                "iso27001:A.8.9",
                "nist-800-53:CM-7",
                "nist-800-53:SC-7",
            ],
            "Exposing port 22 means an SSH server runs in the container: one more network service with credentials to guess or keys to leak, and a way into the workload that bypasses the orchestrator's access control and audit (`docker exec` / `kubectl exec` already give operators a shell).",
            "Remove `EXPOSE 22` and the SSH server from the image; use `docker exec` or `kubectl exec`/`kubectl debug` to get a shell.",
            DOCKERFILE,
            expose_ssh,
        ),
    ]
}

/// The final stage, then the earlier stages it is built `FROM`, nearest first.
pub(super) fn final_chain<'a>(stages: &[Stage<'a>]) -> Vec<Stage<'a>> {
    let mut chain = Vec::new();
    let mut current = stages.last().copied();
    while let Some(s) = current {
        if chain.len() > stages.len() || chain.iter().any(|c: &Stage<'_>| c.index == s.index) {
            break;
        }
        chain.push(s);
        current = parent(stages, &s);
    }
    chain
}

/// A base image known to set a non-root user (distroless and similar `nonroot` tags), or a
/// Windows image (whose users are not Linux UIDs).
fn base_sets_user(image: &str) -> bool {
    let lower = image.to_ascii_lowercase();
    let tag = lower.rsplit('/').next().unwrap_or(&lower);
    tag.contains("nonroot")
        || lower.starts_with("mcr.microsoft.com/windows")
        || lower.contains("nanoserver")
        || lower.contains("servercore")
}

fn runs_as_root(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let stages = stages(r);
    let chain = final_chain(&stages);
    let Some(last) = chain.first() else {
        return;
    };
    for stage in &chain {
        if let Some(user) = stage
            .instructions()
            .into_iter()
            .rev()
            .find(|i| i.cmd == "USER")
        {
            let spec = user.value.split_whitespace().next().unwrap_or_default();
            let name = spec.split(':').next().unwrap_or_default();
            if name.contains('$') || name.is_empty() {
                return;
            }
            if name == "root" || name.trim_start_matches('0').is_empty() {
                out.push(user.hit(format!("the final image runs as `USER {spec}` (UID 0)")));
            }
            return;
        }
    }
    let base = chain.last().and_then(|s| s.image).unwrap_or_default();
    if base_sets_user(base) {
        return;
    }
    out.push(Hit::new(
        last.line,
        format!(
            "the final stage (`FROM {}`) never sets `USER`: the container runs as root unless the base image chose another user",
            last.image.unwrap_or("?")
        ),
    ));
}

fn missing_healthcheck(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let stages = stages(r);
    let chain = final_chain(&stages);
    let Some(last) = chain.first() else {
        return;
    };
    for stage in &chain {
        if let Some(hc) = stage
            .instructions()
            .into_iter()
            .rev()
            .find(|i| i.cmd == "HEALTHCHECK")
        {
            if hc
                .value
                .split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("NONE"))
            {
                out.push(hc.hit("`HEALTHCHECK NONE` turns off the base image's health check"));
            }
            return;
        }
    }
    out.push(Hit::new(
        last.line,
        format!(
            "the final stage (`FROM {}`) defines no `HEALTHCHECK`",
            last.image.unwrap_or("?")
        ),
    ));
}

/// Does an `EXPOSE` word (`22`, `22/tcp`, `20-25`) cover port 22?
fn covers_ssh(word: &str) -> bool {
    let port = word.split('/').next().unwrap_or(word);
    match port.split_once('-') {
        Some((a, b)) => match (a.parse::<u32>(), b.parse::<u32>()) {
            (Ok(a), Ok(b)) => (a..=b).contains(&22),
            _ => false,
        },
        None => port.parse::<u32>() == Ok(22),
    }
}

fn expose_ssh(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let stages = stages(r);
    for stage in final_chain(&stages) {
        for instr in stage.instructions() {
            if instr.cmd != "EXPOSE" {
                continue;
            }
            if let Some(w) = instr.words().iter().find(|w| covers_ssh(w)) {
                out.push(instr.hit(format!("`EXPOSE {w}` publishes the SSH port")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{dockerfile, hits};

    #[test]
    fn only_the_final_stage_user_counts() {
        let build_user_only = dockerfile(&[
            (
                "golang:1.22",
                Some("build"),
                &[("USER", "app"), ("RUN", "go build")],
            ),
            ("alpine:3.20", None, &[("COPY", "--from=build /app /app")]),
        ]);
        assert_eq!(hits("docker-runs-as-root", &build_user_only).len(), 1);
        let final_user = dockerfile(&[
            ("golang:1.22", Some("build"), &[("RUN", "go build")]),
            ("alpine:3.20", None, &[("USER", "10001:10001")]),
        ]);
        assert!(hits("docker-runs-as-root", &final_user).is_empty());
        let back_to_root = dockerfile(&[(
            "alpine:3.20",
            None,
            &[("USER", "app"), ("RUN", "x"), ("USER", "0:0")],
        )]);
        let h = hits("docker-runs-as-root", &back_to_root);
        assert_eq!(h.len(), 1);
        assert!(h[0].message.contains("USER 0:0"));
        let inherited = dockerfile(&[
            ("alpine:3.20", Some("base"), &[("USER", "app")]),
            ("base", None, &[("CMD", "run")]),
        ]);
        assert!(hits("docker-runs-as-root", &inherited).is_empty());
        let unknown = dockerfile(&[("alpine:3.20", None, &[("USER", "${APP_USER}")])]);
        assert!(hits("docker-runs-as-root", &unknown).is_empty());
        let distroless = dockerfile(&[("gcr.io/distroless/static-debian12:nonroot", None, &[])]);
        assert!(hits("docker-runs-as-root", &distroless).is_empty());
    }

    #[test]
    fn healthcheck_and_ssh() {
        let none = dockerfile(&[("alpine:3.20", None, &[("HEALTHCHECK", "NONE")])]);
        assert_eq!(hits("docker-missing-healthcheck", &none).len(), 1);
        let ok = dockerfile(&[(
            "alpine:3.20",
            None,
            &[(
                "HEALTHCHECK",
                "--interval=30s CMD wget -qO- http://localhost/ || exit 1",
            )],
        )]);
        assert!(hits("docker-missing-healthcheck", &ok).is_empty());
        let ssh = dockerfile(&[("alpine:3.20", None, &[("EXPOSE", "8080 22/tcp")])]);
        assert_eq!(hits("docker-expose-ssh", &ssh).len(), 1);
        let range = dockerfile(&[("alpine:3.20", None, &[("EXPOSE", "20-30")])]);
        assert_eq!(hits("docker-expose-ssh", &range).len(), 1);
        let web = dockerfile(&[("alpine:3.20", None, &[("EXPOSE", "2222 8022")])]);
        assert!(hits("docker-expose-ssh", &web).is_empty());
    }
}
