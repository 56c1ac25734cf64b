//! Dockerfile checks. The loader gives one resource per file whose body holds the global
//! `args` and the `stages` (`index`, `name`, `image`, `platform`, `instructions` of `cmd`,
//! `value`, `flags`, `exec_form`), every node on its instruction's line.
//!
//! What the checks read, precisely:
//! - The **final stage** is the last `FROM`; what the image runs as (`USER`) and its
//!   `HEALTHCHECK` come from it, or from the earlier stage it is built `FROM`, never from a
//!   build stage the final one only copies from.
//! - A stage's **base image** is checked unless it is `scratch`, an earlier stage's name, or
//!   still holds a variable the loader could not substitute.
//! - `RUN` lines are read with [`shell`]: pipelines of commands whose program is found behind
//!   `sudo`, `env`, assignments and `sh -c '…'`.
//! - Secrets are never put in messages or hit keys: findings name the variable.

use super::{Hit, IacCheck};
use crate::model::{Node, Resource, Value};

mod base;
mod build;
mod files;
pub(crate) mod image;
mod runtime;
pub(crate) mod secret;
pub(crate) mod shell;
mod vars;

/// The kinds every Dockerfile check applies to.
const DOCKERFILE: &[&str] = &["Dockerfile"];

/// Least privilege inside the container.
const PRIVILEGE: &[&str] = &[
    "soc2:CC6.1",
    "soc2:CC6.8",
    "iso27001:A.8.2",
    "iso27001:A.8.9",
    "nist-800-53:AC-6",
    "nist-800-53:CM-6",
];
/// Image hardening: what the image contains and exposes.
const HARDENING: &[&str] = &[
    "soc2:CC6.8",
    "iso27001:A.8.9",
    "nist-800-53:CM-6",
    "nist-800-53:CM-7",
];
/// Credentials kept out of images.
const SECRETS: &[&str] = &[
    "soc2:CC6.1",
    "iso27001:A.5.17",
    "iso27001:A.8.12",
    "nist-800-53:IA-5",
];
/// Reproducible builds: the same Dockerfile builds the same image.
const PINNING: &[&str] = &[
    "soc2:CC8.1",
    "iso27001:A.8.32",
    "nist-800-53:CM-6",
    "nist-800-53:SR-11",
];
/// Where base images come from.
const PROVENANCE: &[&str] = &[
    "soc2:CC8.1",
    "soc2:CC9.2",
    "iso27001:A.5.21",
    "nist-800-53:SR-3",
    "nist-800-53:SR-11",
];
/// Software fetched during the build is verified before it runs.
const DOWNLOADS: &[&str] = &[
    "soc2:CC6.8",
    "soc2:CC8.1",
    "iso27001:A.8.19",
    "iso27001:A.5.21",
    "nist-800-53:SR-3",
    "nist-800-53:SR-11",
];
/// Encrypted and authenticated transport.
const TLS: &[&str] = &[
    "soc2:CC6.7",
    "soc2:CC6.8",
    "iso27001:A.8.24",
    "nist-800-53:SC-8",
    "nist-800-53:SR-11",
];

pub fn checks() -> Vec<IacCheck> {
    let mut out = Vec::new();
    out.extend(runtime::checks());
    out.extend(base::checks());
    out.extend(build::checks());
    out.extend(files::checks());
    out.extend(vars::checks());
    out
}

/// One `FROM` stage.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stage<'a> {
    pub node: &'a Node,
    /// Position among the stages (0-based).
    pub index: usize,
    /// `AS name` (Docker compares stage names without case).
    pub name: Option<&'a str>,
    /// The image as written (ARG defaults substituted when known).
    pub image: Option<&'a str>,
    /// The `FROM` line.
    pub line: u32,
}

/// One instruction of a stage.
#[derive(Debug, Clone)]
pub(crate) struct Instr<'a> {
    pub node: &'a Node,
    /// Upper case (`RUN`, `COPY`).
    pub cmd: String,
    /// The arguments as written (continuation lines joined), or the exec-form array joined
    /// with spaces.
    pub value: String,
    /// The exec-form words (`RUN ["sh", "-c", "…"]`).
    pub exec: Option<Vec<String>>,
    pub line: u32,
}

impl Instr<'_> {
    /// The value of `--name=…` (the first when repeated).
    pub fn flag(&self, name: &str) -> Option<&str> {
        let flags = self.node.get("flags")?;
        let f = flags.get(name)?;
        match &f.value {
            Value::String(s) => Some(s),
            Value::List(items) => items.first().and_then(Node::as_str),
            Value::Bool(true) => Some(""),
            _ => None,
        }
    }

    /// The pipelines a `RUN` (or `HEALTHCHECK CMD`, …) runs.
    pub fn pipelines(&self) -> Vec<shell::Pipeline> {
        match &self.exec {
            Some(words) => shell::parse_exec(words),
            None => shell::parse(&self.value),
        }
    }

    /// The arguments split into words, quotes removed (`ADD`, `COPY`, `EXPOSE`, `USER`).
    pub fn words(&self) -> Vec<String> {
        match &self.exec {
            Some(words) => words.clone(),
            None => shell::parse(&self.value)
                .into_iter()
                .flatten()
                .flatten()
                .collect(),
        }
    }

    /// A stable key for hits on this instruction: the instruction as written (credentials in
    /// URLs removed), shortened.
    pub fn key(&self) -> String {
        let mut k = format!("{} {}", self.cmd, without_userinfo(self.value.trim()));
        if k.len() > 200 {
            let mut cut = 200;
            while !k.is_char_boundary(cut) {
                cut -= 1;
            }
            k.truncate(cut);
        }
        k
    }

    /// A hit on this instruction keyed by it.
    pub fn hit(&self, message: impl Into<String>) -> Hit {
        Hit::new(self.line, message).key(self.key())
    }
}

/// `text` with the `user:password@` part of every URL removed.
fn without_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '?' | '#' | '"' | '\'' | '`'))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        out.push_str(
            authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host),
        );
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The stages of a Dockerfile, in order.
pub(crate) fn stages(r: &Resource) -> Vec<Stage<'_>> {
    let Some(list) = r.attr("stages").known().and_then(Node::as_list) else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .map(|(i, node)| Stage {
            node,
            index: node
                .get("index")
                .and_then(Node::as_f64)
                .map_or(i, |n| n as usize),
            name: node.get("name").and_then(Node::as_str),
            image: node.get("image").and_then(Node::as_str),
            line: node.line_or(r.line),
        })
        .collect()
}

impl<'a> Stage<'a> {
    /// The instructions of the stage, in order.
    pub fn instructions(&self) -> Vec<Instr<'a>> {
        let line = self.line;
        let Some(list) = self.node.get("instructions").and_then(Node::as_list) else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|node| {
                let cmd = node.get("cmd")?.as_str()?.to_ascii_uppercase();
                let exec_form = node.get("exec_form").and_then(Node::as_bool) == Some(true);
                let (value, exec) = match node.get("value").map(|v| &v.value) {
                    Some(Value::String(s)) => {
                        let exec = if exec_form {
                            serde_json::from_str::<Vec<String>>(s.trim())
                                .ok()
                                .or_else(|| shell_c_from_joined(s))
                        } else {
                            None
                        };
                        let value = exec.as_ref().map_or_else(|| s.clone(), |w| w.join(" "));
                        (value, exec)
                    }
                    Some(Value::List(items)) => {
                        let words: Vec<String> = items
                            .iter()
                            .filter_map(|i| i.as_str().map(str::to_owned))
                            .collect();
                        (words.join(" "), Some(words))
                    }
                    _ => (String::new(), None),
                };
                Some(Instr {
                    node,
                    cmd,
                    value,
                    exec,
                    line: node.line_or(line),
                })
            })
            .collect()
    }

    /// Is this stage's image `scratch`?
    pub fn is_scratch(&self) -> bool {
        self.image
            .is_some_and(|i| i.trim().eq_ignore_ascii_case("scratch"))
    }
}

/// The exec form as the loader gives it (the JSON words joined with spaces): when it runs
/// `sh -c <script>`, the words are the shell, the flag and the whole script, so the script is
/// read as a command line; other exec forms are read as plain words.
fn shell_c_from_joined(joined: &str) -> Option<Vec<String>> {
    let t = joined.trim_start();
    let (shell, rest) = t.split_once(char::is_whitespace)?;
    let base = shell.rsplit('/').next().unwrap_or(shell);
    if !shell::SHELLS.contains(&base) {
        return None;
    }
    let rest = rest.trim_start();
    let (flag, script) = rest.split_once(char::is_whitespace)?;
    (flag.starts_with('-') && !flag.starts_with("--") && flag.contains('c'))
        .then(|| vec![shell.to_owned(), flag.to_owned(), script.trim().to_owned()])
}

/// The earlier stage `stage` is built `FROM` (`FROM build AS final`), if any.
pub(crate) fn parent<'a>(stages: &[Stage<'a>], stage: &Stage<'a>) -> Option<Stage<'a>> {
    let image = stage.image?.trim();
    stages[..stage.index.min(stages.len())]
        .iter()
        .rev()
        .find(|s| s.name.is_some_and(|n| n.eq_ignore_ascii_case(image)))
        .copied()
}

/// Is `image` the name of a stage before `index`?
pub(crate) fn is_stage_reference(stages: &[Stage<'_>], stage: &Stage<'_>) -> bool {
    parent(stages, stage).is_some()
}

/// Checks on every stage's base image, for each stage whose image is a real reference.
pub(crate) fn base_images(r: &Resource) -> Vec<(Stage<'_>, image::ImageRef)> {
    let stages = stages(r);
    stages
        .iter()
        .filter(|s| !s.is_scratch() && !is_stage_reference(&stages, s))
        .filter_map(|s| Some((*s, image::ImageRef::parse(s.image?)?)))
        .collect()
}

/// A hit on a stage's `FROM` line, keyed by the stage.
pub(crate) fn stage_hit(stage: &Stage<'_>, message: impl Into<String>) -> Hit {
    Hit::new(stage.line, message).key(format!(
        "stage {} {}",
        stage.index,
        stage.image.unwrap_or_default()
    ))
}

#[cfg(test)]
pub(crate) mod test_support {
    use serde_json::{Value as Json, json};

    use crate::checks::common::test_support::{registry_options, run_with};
    use crate::model::{Platform, Resource};

    /// One stage: image, `AS` name, `(cmd, value)` instructions.
    pub type StageSpec<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, &'a str)]);

    /// A Dockerfile resource from stages, shell form, no flags.
    pub fn dockerfile(stages: &[StageSpec<'_>]) -> Resource {
        let stages: Vec<Json> = stages
            .iter()
            .enumerate()
            .map(|(i, (image, name, instrs))| {
                json!({
                    "index": i,
                    "name": name,
                    "image": image,
                    "platform": null,
                    "instructions": instrs.iter().map(|(cmd, value)| json!({
                        "cmd": cmd, "value": value, "flags": {}, "exec_form": false
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        Resource::from_json(
            Platform::Dockerfile,
            "Dockerfile",
            "Dockerfile",
            &json!({"args": [], "stages": stages}),
        )
    }

    /// The hits of the Dockerfile check `id` on `r` (the approved registries are those of
    /// [`registry_options`]).
    pub fn hits(id: &str, r: &Resource) -> Vec<crate::checks::Hit> {
        run_with(id, r, &[], &registry_options())
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{dockerfile, hits};
    use super::{shell_c_from_joined, without_userinfo};

    #[test]
    fn keys_drop_url_credentials() {
        assert_eq!(
            without_userinfo("curl -k https://u:p@h.io/x && git clone ssh://git@h.io/r"),
            "curl -k https://h.io/x && git clone ssh://h.io/r"
        );
        let r = dockerfile(&[(
            "alpine:3.20",
            None,
            &[("RUN", "curl -k https://u:s3cr3t@h.io/x")], // evident:allow synthetic credential the check must find
        )]);
        let h = hits("docker-tls-verification-disabled", &r);
        assert!(!h[0].key.contains("s3cr3t"), "{h:?}");
    }

    #[test]
    fn exec_form_shell_scripts_are_read() {
        assert_eq!(
            shell_c_from_joined("/bin/sh -c curl -fsSL https://x | sh"),
            Some(vec![
                "/bin/sh".to_owned(),
                "-c".to_owned(),
                "curl -fsSL https://x | sh".to_owned()
            ])
        );
        assert_eq!(shell_c_from_joined("/app --serve"), None);
        let r = crate::model::Resource::from_json(
            crate::model::Platform::Dockerfile,
            "Dockerfile",
            "Dockerfile",
            &serde_json::json!({"args": [], "stages": [{"index": 0, "name": null, "image": "alpine:3.20", "platform": null,
                "instructions": [{"cmd": "RUN", "value": "/bin/sh -c curl -fsSL https://x | sh", "flags": {}, "exec_form": true}]}]}),
        );
        assert_eq!(hits("docker-curl-pipe-shell", &r).len(), 1);
    }
}
