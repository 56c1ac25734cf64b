//! What a delivery is about: the facts read from each platform's headers and payload.

use std::sync::LazyLock;

use crate::picked::{Picked, Pointers};

/// A webhook source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// GitHub (`X-Hub-Signature-256`).
    GitHub,
    /// GitLab (`X-Gitlab-Token`).
    GitLab,
    /// Argo CD notifications (bearer token).
    ArgoCd,
    /// Falco / falcosidekick (bearer token).
    Falco,
}

impl Platform {
    /// The name used in paths, labels and subjects.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GitHub => "github",
            Self::GitLab => "gitlab",
            Self::ArgoCd => "argocd",
            Self::Falco => "falco",
        }
    }

    /// The JSON pointers [`describe`] reads in this platform's payloads.
    pub fn paths(self) -> &'static Pointers {
        static GITHUB: LazyLock<Pointers> = LazyLock::new(|| {
            Pointers::new(
                &[
                    GITHUB_COMMITS,
                    &["/action", "/repository/full_name", "/sender/login"],
                ]
                .concat(),
            )
        });
        static GITLAB: LazyLock<Pointers> = LazyLock::new(|| {
            Pointers::new(
                &[
                    GITLAB_COMMITS,
                    &[
                        "/commit_url",
                        "/object_kind",
                        "/object_attributes/action",
                        "/event_name",
                        "/status",
                        "/project/path_with_namespace",
                        "/project_name",
                        "/user_username",
                        "/user/username",
                    ],
                ]
                .concat(),
            )
        });
        static ARGOCD: LazyLock<Pointers> = LazyLock::new(|| {
            Pointers::new(&[
                "/event",
                "/phase",
                "/syncStatus",
                "/app",
                "/revision",
                "/initiatedBy",
            ])
        });
        static FALCO: LazyLock<Pointers> =
            LazyLock::new(|| Pointers::new(&["/rule", "/priority", "/hostname"]));
        match self {
            Self::GitHub => &GITHUB,
            Self::GitLab => &GITLAB,
            Self::ArgoCd => &ARGOCD,
            Self::Falco => &FALCO,
        }
    }
}

/// The facts of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The event name (`push`, `Merge Request Hook`, `app-deployed`, a Falco rule …).
    pub event: String,
    /// The action within the event, when the payload names one.
    pub action: Option<String>,
    /// The delivery id: the platform's, or `sha256:<hex>` of the body.
    pub delivery: String,
    /// The repository or application.
    pub repository: Option<String>,
    /// The commit the payload is about (lowercase hex), if any.
    pub commit: Option<String>,
    /// Who caused it, as the payload says.
    pub sender: Option<String>,
}

impl Meta {
    /// The record's subject: the commit when known, else the platform.
    pub fn subject(&self, platform: Platform) -> String {
        self.commit.as_ref().map_or_else(
            || format!("env:{}", platform.as_str()),
            |c| format!("git:{c}"),
        )
    }
}

/// Where a GitHub payload names its commit, the first found counting.
const GITHUB_COMMITS: &[&str] = &[
    "/after",
    // A deleted branch or tag: the commit it pointed to.
    "/before",
    "/pull_request/head/sha",
    "/deployment/sha",
    "/check_run/head_sha",
    "/check_suite/head_sha",
    "/workflow_run/head_sha",
    "/workflow_job/head_sha",
    "/sha",
];

/// Where a GitLab payload names its commit, the first found counting (deployment hooks name
/// it only in `commit_url`).
const GITLAB_COMMITS: &[&str] = &[
    "/checkout_sha",
    "/after",
    "/object_attributes/last_commit/id",
    "/object_attributes/sha",
    "/sha",
    "/commit/id",
];

/// Longest label value kept from a payload or a header.
const MAX_LABEL: usize = 200;

/// A string from the payload or a header, trimmed to a label's size.
fn clean(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut end = text.len().min(MAX_LABEL);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].chars().filter(|c| !c.is_control()).collect())
}

fn string_at(json: &Picked, path: &str) -> Option<String> {
    json.str(path).and_then(clean)
}

/// A full commit id (40 or 64 hex), not all zeros (GitHub's and GitLab's "no commit").
fn commit_id(text: &str) -> Option<String> {
    let text = text.trim().to_ascii_lowercase();
    let ok = matches!(text.len(), 40 | 64)
        && text.bytes().all(|b| b.is_ascii_hexdigit())
        && text.bytes().any(|b| b != b'0');
    ok.then_some(text)
}

fn first_commit(json: &Picked, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| json.str(p).and_then(commit_id))
}

/// A delivery id from a header: printable, bounded; else none.
fn delivery_header(value: Option<&str>) -> Option<String> {
    let value = value?.trim();
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| value.to_owned())
}

/// The body's digest, the delivery id of platforms that send none.
pub fn body_delivery(body: &[u8]) -> String {
    format!("sha256:{}", evident_store::blob::sha256_hex(body))
}

/// Reads the facts of a delivery. `header` looks a request header up by name; `json` is the
/// payload, read for [`Platform::paths`].
pub fn describe(
    platform: Platform,
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    json: &Picked,
) -> Meta {
    match platform {
        Platform::GitHub => Meta {
            event: header("x-github-event")
                .and_then(|e| clean(&e))
                .unwrap_or_else(|| "unknown".into()),
            action: string_at(json, "/action"),
            delivery: delivery_header(header("x-github-delivery").as_deref())
                .unwrap_or_else(|| body_delivery(body)),
            repository: string_at(json, "/repository/full_name"),
            commit: first_commit(json, GITHUB_COMMITS),
            sender: string_at(json, "/sender/login"),
        },
        Platform::GitLab => {
            let commit = first_commit(json, GITLAB_COMMITS).or_else(|| {
                // Deployment hooks name the commit only in its URL.
                json.str("/commit_url")
                    .and_then(|u| u.rsplit('/').next())
                    .and_then(commit_id)
            });
            Meta {
                event: header("x-gitlab-event")
                    .and_then(|e| clean(&e))
                    .or_else(|| string_at(json, "/object_kind"))
                    .unwrap_or_else(|| "unknown".into()),
                action: string_at(json, "/object_attributes/action")
                    .or_else(|| string_at(json, "/event_name"))
                    .or_else(|| string_at(json, "/status")),
                delivery: delivery_header(header("idempotency-key").as_deref())
                    .or_else(|| delivery_header(header("x-gitlab-event-uuid").as_deref()))
                    .unwrap_or_else(|| body_delivery(body)),
                repository: string_at(json, "/project/path_with_namespace")
                    .or_else(|| string_at(json, "/project_name")),
                commit,
                sender: string_at(json, "/user_username")
                    .or_else(|| string_at(json, "/user/username")),
            }
        }
        Platform::ArgoCd => Meta {
            event: string_at(json, "/event").unwrap_or_else(|| "argocd".into()),
            action: string_at(json, "/phase").or_else(|| string_at(json, "/syncStatus")),
            delivery: body_delivery(body),
            repository: string_at(json, "/app"),
            commit: first_commit(json, &["/revision"]),
            sender: string_at(json, "/initiatedBy"),
        },
        Platform::Falco => Meta {
            event: string_at(json, "/rule").unwrap_or_else(|| "falco".into()),
            action: string_at(json, "/priority"),
            delivery: body_delivery(body),
            repository: None,
            commit: None,
            sender: string_at(json, "/hostname"),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn no_headers(_: &str) -> Option<String> {
        None
    }

    fn describe(
        platform: Platform,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        json: &Value,
    ) -> Meta {
        let picked = Picked::parse(&serde_json::to_vec(json).unwrap(), platform.paths()).unwrap();
        super::describe(platform, header, body, &picked)
    }

    #[test]
    fn every_pointer_describe_reads_is_picked() {
        // On an empty payload every fallback is tried, so every pointer is looked up; one
        // missing from `Platform::paths` would read as absent in a release build.
        for platform in [
            Platform::GitHub,
            Platform::GitLab,
            Platform::ArgoCd,
            Platform::Falco,
        ] {
            let picked = Picked::parse(b"{}", platform.paths()).unwrap();
            // `Picked::str` asserts (in test builds) that the pointer was picked.
            let meta = super::describe(platform, &no_headers, b"{}", &picked);
            assert_eq!(meta.commit, None, "{platform:?}");
        }
    }

    #[test]
    fn no_path_is_a_prefix_of_another() {
        for platform in [
            Platform::GitHub,
            Platform::GitLab,
            Platform::ArgoCd,
            Platform::Falco,
        ] {
            let paths = platform.paths().paths();
            for a in paths {
                assert!(a.starts_with('/') && !a.contains('~'), "{a}");
                for b in paths {
                    assert!(a == b || !b.starts_with(&format!("{a}/")), "{a} {b}");
                }
                assert_eq!(paths.iter().filter(|p| *p == a).count(), 1, "{a}");
            }
        }
    }

    #[test]
    fn github_push_names_after_and_deleted_refs_name_before() {
        let push = json!({"after": "A".repeat(40), "before": "0".repeat(40)});
        let meta = describe(Platform::GitHub, &no_headers, b"x", &push);
        assert_eq!(meta.commit.as_deref(), Some("a".repeat(40).as_str()));
        let deleted = json!({"after": "0".repeat(40), "before": "b".repeat(40)});
        let meta = describe(Platform::GitHub, &no_headers, b"x", &deleted);
        assert_eq!(
            meta.subject(Platform::GitHub),
            format!("git:{}", "b".repeat(40))
        );
        let ping = json!({"zen": "Keep it logically awesome."});
        let meta = describe(Platform::GitHub, &no_headers, b"x", &ping);
        assert_eq!(meta.subject(Platform::GitHub), "env:github");
        assert!(meta.delivery.starts_with("sha256:"));
    }

    #[test]
    fn delivery_headers_are_bounded() {
        let evil = |_: &str| Some("a b\n".to_owned());
        let meta = describe(Platform::GitHub, &evil, b"x", &json!({}));
        assert!(meta.delivery.starts_with("sha256:"));
        let uuid = |n: &str| (n == "x-gitlab-event-uuid").then(|| "1-2-3".to_owned());
        let meta = describe(Platform::GitLab, &uuid, b"x", &json!({}));
        assert_eq!(meta.delivery, "1-2-3");
    }

    #[test]
    fn gitlab_deployment_commit_comes_from_its_url() {
        let body = json!({"commit_url": format!("http://x/-/commit/{}", "c".repeat(40))});
        let meta = describe(Platform::GitLab, &no_headers, b"x", &body);
        assert_eq!(meta.commit, Some("c".repeat(40)));
    }

    #[test]
    fn labels_are_trimmed() {
        let long = "é".repeat(300);
        let v = clean(&long).unwrap();
        assert!(v.len() <= MAX_LABEL);
    }
}
