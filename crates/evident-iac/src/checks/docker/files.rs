//! `ADD`: remote downloads without a checksum, and local copies that `COPY` does more simply.

use evident_core::Severity;

use super::{DOCKERFILE, DOWNLOADS, Instr, stages};
use crate::checks::{Ctx, Hit, IacCheck, check};
use crate::model::Resource;

pub(super) fn checks() -> Vec<IacCheck> {
    vec![
        check(
            "docker-add-remote-url",
            "ADD downloads a URL without a checksum",
            Severity::Medium,
            DOWNLOADS,
            "`ADD https://…` fetches the file at build time and trusts whatever the server returns: the content can change between builds or be replaced by an attacker, and nothing in the Dockerfile records what was expected.",
            "Pin the content: `ADD --checksum=sha256:<digest> https://…/tool-1.2.3.tar.gz /tmp/` (BuildKit), or `RUN curl -fsSLo /tmp/f https://… && echo \"<sha256>  /tmp/f\" | sha256sum -c -`; for Git sources, reference a commit (`ADD https://github.com/org/repo.git#<commit-sha> /src`).",
            DOCKERFILE,
            add_remote,
        ),
        check(
            "docker-add-local-file",
            "ADD used to copy local files",
            Severity::Low,
            &["soc2:CC8.1", "iso27001:A.8.25", "nist-800-53:CM-6"],
            "`ADD` silently unpacks archives and can fetch URLs, so a file that changes type (a `.tar` dropped into the context) changes what lands in the image; `COPY` does only what it says, which keeps the build predictable and reviewable.",
            "Use `COPY` for local files and directories: `COPY --chown=10001:10001 app/ /app/`; keep `ADD` only to unpack a local archive on purpose.",
            DOCKERFILE,
            add_local,
        ),
    ]
}

/// The sources of an `ADD`/`COPY` (every word but the destination; flags and heredocs left out).
fn sources(instr: &Instr<'_>) -> Vec<String> {
    let mut words: Vec<String> = instr
        .words()
        .into_iter()
        .filter(|w| !w.starts_with("--"))
        .collect();
    if words.len() < 2 || words.iter().any(|w| w.starts_with("<<")) {
        return Vec::new();
    }
    words.pop();
    words
}

fn is_remote(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    lower.contains("://") || lower.starts_with("git@")
}

fn is_git(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    let base = lower.split('#').next().unwrap_or(&lower);
    lower.starts_with("git@")
        || lower.starts_with("git://")
        || std::path::Path::new(base)
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("git"))
}

/// A Git source pinned to a full commit id (`…repo.git#<40 hex>`).
fn git_pinned(source: &str) -> bool {
    source.rsplit_once('#').is_some_and(|(_, r)| {
        let r = r.split(':').next().unwrap_or(r);
        r.len() >= 40 && r.chars().all(|c| c.is_ascii_hexdigit())
    })
}

/// A URL fit for a message: no credentials, no query string.
fn redact(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or(url);
    match no_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => no_query
            .rsplit_once('@')
            .map_or(no_query, |(_, h)| h)
            .to_owned(),
    }
}

fn add_remote(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for stage in stages(r) {
        for instr in stage.instructions().iter().filter(|i| i.cmd == "ADD") {
            if instr.flag("checksum").is_some_and(|c| !c.is_empty()) {
                continue;
            }
            let remote: Vec<String> = sources(instr)
                .into_iter()
                .filter(|s| is_remote(s) && !(is_git(s) && git_pinned(s)))
                .map(|s| redact(&s))
                .collect();
            if let Some(first) = remote.first() {
                out.push(
                    Hit::new(
                        instr.line,
                        format!("`ADD {first}` downloads at build time without a checksum"),
                    )
                    .key(format!("ADD {}", remote.join(" "))),
                );
            }
        }
    }
}

const ARCHIVES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst",
];

fn add_local(_: &Ctx<'_>, r: &Resource, out: &mut Vec<Hit>) {
    for stage in stages(r) {
        for instr in stage.instructions().iter().filter(|i| i.cmd == "ADD") {
            let local: Vec<String> = sources(instr)
                .into_iter()
                .filter(|s| {
                    let lower = s.to_ascii_lowercase();
                    !is_remote(s) && !ARCHIVES.iter().any(|a| lower.ends_with(a))
                })
                .collect();
            if !local.is_empty() {
                out.push(instr.hit(format!(
                    "`ADD {}` copies local files; `COPY` does that without unpacking or fetching",
                    local.join(" ")
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{dockerfile, hits};
    use super::redact;

    #[test]
    fn remote_and_local_add() {
        let r = dockerfile(&[(
            "alpine:3.20",
            None,
            &[
                (
                    "ADD",
                    "https://user:pw@example.com/tool.tar.gz?token=abc /tmp/",
                ),
                (
                    "ADD",
                    "https://github.com/acme/repo.git#0123456789abcdef0123456789abcdef01234567 /src",
                ),
                ("ADD", "app.tar.gz /opt/"),
                ("ADD", "config.yaml run.sh /app/"),
                ("ADD", "git@github.com:acme/repo.git /src"),
            ],
        )]);
        let remote = hits("docker-add-remote-url", &r);
        assert_eq!(remote.len(), 2, "{remote:?}");
        assert!(!remote[0].message.contains("pw") && !remote[0].message.contains("token"));
        let local = hits("docker-add-local-file", &r);
        assert_eq!(local.len(), 1, "{local:?}");
        assert!(local[0].message.contains("config.yaml run.sh"));
        assert_eq!(redact("https://u:p@h.io/a/b?x=1"), "https://h.io/a/b");
    }
}
