//! Secrets in `ENV` and `ARG`: both end up in the image (its config, or `docker history`), and
//! the literal value sits in the Dockerfile, in source control.

use evident_core::Severity;

use super::runtime::final_chain;
use super::secret::{is_literal_secret_value, is_secret_name, is_variable_reference};
use super::{DOCKERFILE, Instr, SECRETS, stages};
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::{Node, Resource};

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "docker-secret-in-env",
            "Secret set with ENV",
            Severity::High,
            SECRETS,
            "An `ENV` value is stored in the image configuration: anyone who can pull the image reads it with `docker inspect`, every container and child image inherits it, and the literal also sits in the Dockerfile in source control.",
            "Do not bake credentials into the image: inject them at run time (Kubernetes `env.valueFrom.secretKeyRef`, Docker secrets, a secrets manager), and for build steps use `RUN --mount=type=secret,id=token,env=TOKEN …` with `docker build --secret id=token,env=TOKEN`.",
            DOCKERFILE,
            secret_in_env,
        )
        .handles_secrets(),
        check(
            "docker-secret-in-arg",
            "Secret given a default with ARG",
            Severity::Medium,
            SECRETS,
            "A build argument's value is recorded in the image history (`docker history`) of every layer built with it, and a default written in the Dockerfile is a credential committed to source control.",
            "Remove the default and stop passing secrets as build arguments: mount them only for the step that needs them, `RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci`, built with `docker build --secret id=npm_token,env=NPM_TOKEN`.",
            DOCKERFILE,
            secret_in_arg,
        )
        .handles_secrets(),
    ]
}

/// The variables of an `ENV` (`A=1 B="two words"`, or the legacy `KEY value with spaces`).
pub(super) fn env_pairs(instr: &Instr<'_>) -> Vec<(String, String)> {
    let words = instr.words();
    match words.first() {
        Some(first) if first.contains('=') => words
            .iter()
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        Some(key) => vec![(key.clone(), words[1..].join(" "))],
        None => Vec::new(),
    }
}

/// The arguments of an `ARG` (`NAME`, `NAME=default`, several on one line).
fn arg_pairs(instr: &Instr<'_>) -> Vec<(String, Option<String>)> {
    instr
        .words()
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (w, None),
        })
        .collect()
}

fn secret_in_env(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let stages = stages(r);
    let final_stages: Vec<usize> = final_chain(&stages).iter().map(|s| s.index).collect();
    let global_args: Vec<&str> = global_args(r).map(|(name, _, _)| name).collect();
    for stage in &stages {
        let mut args: Vec<String> = Vec::new();
        for instr in stage.instructions() {
            if instr.cmd == "ARG" {
                args.extend(arg_pairs(&instr).into_iter().map(|(n, _)| n));
                continue;
            }
            if instr.cmd != "ENV" {
                continue;
            }
            for (name, value) in env_pairs(&instr) {
                if !is_secret_name(&name) {
                    continue;
                }
                let message = if is_literal_secret_value(&value) {
                    format!("`ENV {name}` sets a literal secret value")
                } else if is_variable_reference(value.trim())
                    && final_stages.contains(&stage.index)
                    && referenced_arg(&value)
                        .is_some_and(|a| args.iter().any(|x| x == a) || global_args.contains(&a))
                {
                    format!(
                        "`ENV {name}={}` copies the build argument into the image's environment",
                        value.trim()
                    )
                } else {
                    continue;
                };
                out.push(Hit::new(instr.line, message).key(format!("ENV {name}")));
            }
        }
    }
}

/// The variable a reference names (`$A`, `${A}`, `${A:-x}` → `A`).
fn referenced_arg(value: &str) -> Option<&str> {
    let v = value.trim().strip_prefix('$')?;
    let v = v.strip_prefix('{').unwrap_or(v);
    let end = v
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(v.len());
    (end > 0).then(|| &v[..end])
}

/// The global `ARG`s (before the first `FROM`): name, default, line.
fn global_args(r: &Resource) -> impl Iterator<Item = (&str, Option<&str>, u32)> {
    r.attr("args")
        .known()
        .and_then(Node::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(move |a| {
            let name = a.get("name")?.as_str()?;
            let default = a.get("default").and_then(Node::as_str);
            Some((name, default, a.line_or(r.line)))
        })
}

fn secret_in_arg(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    let mut report = |name: &str, default: Option<&str>, line: u32| {
        if is_secret_name(name) && default.is_some_and(is_literal_secret_value) {
            out.push(
                Hit::new(line, format!("`ARG {name}` has a literal default value"))
                    .key(format!("ARG {name}")),
            );
        }
    };
    for (name, default, line) in global_args(r) {
        report(name, default, line);
    }
    for stage in stages(r) {
        for instr in stage.instructions().iter().filter(|i| i.cmd == "ARG") {
            for (name, default) in arg_pairs(instr) {
                report(&name, default.as_deref(), instr.line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{dockerfile, hits};
    use crate::model::{Platform, Resource};

    #[test]
    fn env_literals_and_copied_build_args() {
        let r = dockerfile(&[(
            "alpine:3.20",
            None,
            &[
                ("ENV", "DB_PASSWORD=hunter2 LOG_LEVEL=info"),
                ("ENV", "API_KEY some legacy value"),
                ("ARG", "NPM_TOKEN"),
                ("ENV", "NPM_TOKEN=${NPM_TOKEN}"),
                ("ENV", "DB_PASSWORD_FILE=/run/secrets/db"),
                ("ENV", "GITHUB_TOKEN=\"\""),
                ("ENV", "SESSION_SECRET=$UNRELATED"),
            ],
        )]);
        let h = hits("docker-secret-in-env", &r);
        assert_eq!(h.len(), 3, "{h:?}");
        assert!(
            h.iter()
                .all(|h| !h.message.contains("hunter2") && !h.message.contains("legacy"))
        );
        assert!(h[2].message.contains("copies the build argument"));
    }

    #[test]
    fn arg_defaults() {
        let mut r = dockerfile(&[(
            "alpine:3.20",
            None,
            &[
                ("ARG", "GITHUB_TOKEN"),
                ("ARG", "API_KEY=abc123 VERSION=1"),
                ("ARG", "TOKEN_URL=https://x"),
            ],
        )]);
        assert_eq!(hits("docker-secret-in-arg", &r).len(), 1);
        let body = json!({"args": [{"name": "NPM_TOKEN", "default": "npm_abc"}, {"name": "VERSION", "default": "1"}], "stages": []});
        r = Resource::from_json(Platform::Dockerfile, "Dockerfile", "Dockerfile", &body);
        let h = hits("docker-secret-in-arg", &r);
        assert_eq!(h.len(), 1);
        assert!(!h[0].message.contains("npm_abc"));
    }
}
