//! `evident serve` end to end: the real binary, real HTTP over 127.0.0.1, real webhook
//! payloads signed as the platforms sign them. Readiness is the `listening on` line (no sleeps).

mod common;

use common::server::{Env, Server, github_signature};
use common::shared_data;
use serde_json::Value;

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const GITLAB_TOKEN: &str = "gitlab-token-123";
const ARGOCD_TOKEN: &str = "argocd-token-456";
/// The name of the store's signing key.
const KEY: &str = "evident.test/serve";

impl Env {
    fn show(&self, entry: u64) -> Value {
        let text = self.ok(&["evidence", "show", &entry.to_string(), "--format", "json"]);
        serde_json::from_str(&text).unwrap()
    }

    fn serve(&self) -> Server {
        self.serve_with(
            &[],
            &[
                ("EVIDENT_GITHUB_WEBHOOK_SECRET", GITHUB_SECRET),
                ("EVIDENT_GITLAB_WEBHOOK_TOKEN", GITLAB_TOKEN),
                ("EVIDENT_ARGOCD_TOKEN", ARGOCD_TOKEN),
            ],
        )
    }
}

/// A reply with its body read as JSON.
struct Reply {
    status: u16,
    json: Value,
}

impl Server {
    /// A `GET`; a body that is not JSON reads as `null`.
    fn get(&self, path: &str) -> Reply {
        let reply = self.request("GET", path, None, &[], None);
        Reply {
            status: reply.status,
            json: serde_json::from_slice(&reply.body).unwrap_or(Value::Null),
        }
    }

    /// A `POST` whose reply must be JSON.
    fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let reply = self.request("POST", path, None, headers, Some(body));
        Reply {
            status: reply.status,
            json: reply.json(),
        }
    }

    fn github(&self, event: &str, delivery: &str, body: &[u8]) -> Reply {
        let sig = github_signature(GITHUB_SECRET, body);
        self.post(
            "/webhooks/github",
            &[
                ("Content-Type", "application/json"),
                ("X-GitHub-Event", event),
                ("X-GitHub-Delivery", delivery),
                ("X-Hub-Signature-256", &sig),
            ],
            body,
        )
    }

    fn gitlab(&self, event: &str, uuid: &str, body: &[u8]) -> Reply {
        self.post(
            "/webhooks/gitlab",
            &[
                ("Content-Type", "application/json"),
                ("X-Gitlab-Event", event),
                ("X-Gitlab-Event-UUID", uuid),
                ("X-Gitlab-Token", GITLAB_TOKEN),
            ],
            body,
        )
    }
}

fn payload(path: &str) -> Vec<u8> {
    let file = shared_data().join("webhooks").join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn json_at(body: &[u8], pointer: &str) -> String {
    let v: Value = serde_json::from_slice(body).unwrap();
    v.pointer(pointer).unwrap().as_str().unwrap().to_owned()
}

/// A body as the Argo CD notifications template in docs/server.md renders it.
fn argocd_body(revision: &str) -> Vec<u8> {
    format!(
        r#"{{"event": "app-deployed", "app": "guestbook", "project": "default", "revision": "{revision}", "repoURL": "https://github.com/argoproj/argocd-example-apps.git", "destination": {{"server": "https://kubernetes.default.svc", "namespace": "guestbook"}}, "syncStatus": "Synced", "healthStatus": "Healthy", "phase": "Succeeded", "finishedAt": "2026-03-01T10:00:00Z", "initiatedBy": "ada"}}"#
    )
    .into_bytes()
}

fn entry_of(reply: &Reply) -> u64 {
    assert_eq!(reply.status, 202, "{}", reply.json);
    reply.json["entry"].as_u64().unwrap()
}

#[test]
fn deliveries_are_authenticated_stored_once_and_verifiable() {
    let env = Env::new(KEY);
    let server = env.serve();
    assert_eq!(server.get("/healthz").status, 200);
    assert_eq!(server.get("/readyz").status, 200);

    let push = payload("github/push/with-new-branch.payload.json");
    let pr = payload("github/pull_request/opened.payload.json");
    let deployment = payload("github/deployment/payload.json");
    let gl_push = payload("gitlab/push.json");
    let gl_mr = payload("gitlab/merge_request.json");
    let argo = argocd_body("279484c09fbe69ededfced8c1bb6e6d24616b468");
    let ping = payload("github/ping/payload.json");

    let mut expected = Vec::new();
    let e = entry_of(&server.github("push", "d-push-1", &push));
    expected.push((e, format!("git:{}", json_at(&push, "/after"))));
    let e = entry_of(&server.github("pull_request", "d-pr-1", &pr));
    expected.push((e, format!("git:{}", json_at(&pr, "/pull_request/head/sha"))));
    let e = entry_of(&server.github("deployment", "d-dep-1", &deployment));
    expected.push((
        e,
        format!("git:{}", json_at(&deployment, "/deployment/sha")),
    ));
    let e = entry_of(&server.gitlab("Push Hook", "u-push-1", &gl_push));
    expected.push((e, format!("git:{}", json_at(&gl_push, "/checkout_sha"))));
    let e = entry_of(&server.gitlab("Merge Request Hook", "u-mr-1", &gl_mr));
    expected.push((
        e,
        format!(
            "git:{}",
            json_at(&gl_mr, "/object_attributes/last_commit/id")
        ),
    ));
    let reply = server.post(
        "/webhooks/argocd",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &format!("Bearer {ARGOCD_TOKEN}")),
        ],
        &argo,
    );
    let e = entry_of(&reply);
    expected.push((e, "git:279484c09fbe69ededfced8c1bb6e6d24616b468".to_owned()));
    // An event evident does not know is stored and acknowledged.
    let e = entry_of(&server.github("sponsorship_tier_changed", "d-unknown-1", &ping));
    expected.push((e, "env:github".to_owned()));

    // Wrong or missing credentials: 401, recorded as security evidence, nothing stored.
    let forged = server.post(
        "/webhooks/github",
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "d-forged"),
            (
                "X-Hub-Signature-256",
                &github_signature("not the secret", &push),
            ),
        ],
        &push,
    );
    assert_eq!(forged.status, 401, "{}", forged.json);
    assert!(forged.json["error"].is_string());
    let unsigned = server.post(
        "/webhooks/gitlab",
        &[("Content-Type", "application/json")],
        &gl_push,
    );
    assert_eq!(unsigned.status, 401);
    let wrong_bearer = server.post(
        "/webhooks/argocd",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", "Bearer nope"),
        ],
        &argo,
    );
    assert_eq!(wrong_bearer.status, 401);
    // A tampered body with the original signature.
    let mut tampered = push.clone();
    tampered.push(b' ');
    let reply = server.post(
        "/webhooks/github",
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "d-tampered"),
            (
                "X-Hub-Signature-256",
                &github_signature(GITHUB_SECRET, &push),
            ),
        ],
        &tampered,
    );
    assert_eq!(reply.status, 401);

    // A redelivery is acknowledged, not stored again.
    let again = server.github("push", "d-push-1", &push);
    assert_eq!(again.status, 200, "{}", again.json);
    assert_eq!(again.json["duplicate"], true);
    assert_eq!(again.json["entry"].as_u64(), Some(expected[0].0));
    let again = server.post(
        "/webhooks/argocd",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &format!("Bearer {ARGOCD_TOKEN}")),
        ],
        &argo,
    );
    assert_eq!(again.json["duplicate"], true);

    // Limits and shapes.
    let big = vec![b' '; 5 * 1024 * 1024 + 1];
    assert_eq!(server.github("push", "d-big", &big).status, 413);
    assert_eq!(server.github("push", "d-bad", b"{not json").status, 400);
    let text = server.post(
        "/webhooks/github",
        &[
            ("Content-Type", "text/plain"),
            ("X-GitHub-Event", "push"),
            (
                "X-Hub-Signature-256",
                &github_signature(GITHUB_SECRET, b"{}"),
            ),
        ],
        b"{}",
    );
    assert_eq!(text.status, 415);
    // Falco has no token configured: the endpoint is not served.
    let falco = server.post(
        "/webhooks/falco",
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(falco.status, 404);
    assert_eq!(falco.json["error"], "not configured");

    // Readers need no lock: the CLI lists while the server runs.
    assert_eq!(env.list("event").len(), expected.len());
    server.kill();

    // A restarted server still knows the delivery.
    let server = env.serve();
    let again = server.github("push", "d-push-1", &push);
    assert_eq!(again.status, 200, "{}", again.json);
    assert_eq!(again.json["entry"].as_u64(), Some(expected[0].0));
    let again = server.gitlab("Push Hook", "u-push-1", &gl_push);
    assert_eq!(again.json["duplicate"], true);
    server.kill();

    // The log lives where the backend says: the store directory, or the bucket (and then
    // nothing of it is in the directory).
    assert!(env.log_resource("checkpoint").is_some());
    assert_eq!(
        env.store.join("log").join("checkpoint").exists(),
        env.bucket.is_none()
    );
    env.ok(&["ledger", "verify"]);
    let events = env.list("event");
    let got: Vec<(u64, String)> = events
        .iter()
        .map(|r| {
            (
                r["entry"].as_u64().unwrap(),
                r["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let security = env.list("security");
    assert_eq!(security.len(), 4, "{security:?}");
    let first = env.show(security[0]["entry"].as_u64().unwrap());
    let labels = &first["record"]["labels"];
    assert_eq!(labels["endpoint"], "/webhooks/github");
    assert_eq!(labels["reason"], "credential mismatch");
    assert_eq!(labels["remote"], "127.0.0.1");
    assert!(first["record"]["blobs"].is_null() || first["record"]["blobs"] == Value::Array(vec![]));
    let shown = first.to_string();
    assert!(
        !shown.contains(GITHUB_SECRET) && !shown.contains("Codertocat"),
        "{shown}"
    );

    // The raw payload is the content of the event, byte for byte.
    let out = env
        .cmd()
        .args(["evidence", "show", &expected[0].0.to_string(), "--content"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, push);
    let shown = env.show(expected[0].0);
    let labels = &shown["record"]["labels"];
    assert_eq!(labels["platform"], "github");
    assert_eq!(labels["event"], "push");
    assert_eq!(labels["delivery"], "d-push-1");
    assert_eq!(labels["repository"], "Codertocat/Hello-World");
    assert_eq!(
        shown["statement"]["predicateType"],
        "https://evident.dev/attestations/event/v1"
    );
}

#[test]
fn the_log_has_a_line_per_stored_or_rejected_delivery_and_no_secret() {
    let env = Env::new(KEY);
    let log = env.dir.join("serve.log");
    let server = env.serve_logged(
        &[],
        &[("EVIDENT_GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)],
        &log,
    );
    let push = payload("github/push/payload.json");
    let stored = entry_of(&server.github("push", "d-logged-1", &push));
    let forged = github_signature("not the secret", &push);
    let rejected = server.post(
        "/webhooks/github",
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "d-forged"),
            ("X-Hub-Signature-256", &forged),
        ],
        &push,
    );
    assert_eq!(rejected.status, 401);
    let security = env.list("security");
    assert_eq!(security.len(), 1);
    let recorded = security[0]["entry"].as_u64().unwrap();
    server.terminate();

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let expected = [
        format!("evident serve: github push delivery d-logged-1 stored as entry {stored}"),
        format!(
            "evident serve: rejected a delivery to /webhooks/github from 127.0.0.1 \
             (credential mismatch); recorded as entry {recorded}"
        ),
    ];
    for line in &expected {
        let found = lines.iter().filter(|l| *l == line).count();
        assert_eq!(found, 1, "{line:?} in the log {found} times:\n{text}");
    }
    for secret in [GITHUB_SECRET, forged.as_str(), &forged["sha256=".len()..]] {
        assert!(!text.contains(secret), "the log shows {secret:?}:\n{text}");
    }
}

#[test]
fn concurrent_deliveries_are_all_stored_and_copies_once() {
    let env = Env::new(KEY);
    let server = env.serve();
    let push = payload("github/push/with-new-branch.payload.json");
    let replies: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..40)
            .map(|i| {
                let (server, push) = (&server, &push);
                // 30 distinct deliveries and 10 copies of one.
                let id = if i < 30 {
                    format!("d-{i}")
                } else {
                    "d-copy".to_owned()
                };
                s.spawn(move || server.github("push", &id, push))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let stored: Vec<u64> = replies
        .iter()
        .filter(|r| r.status == 202)
        .map(|r| r.json["entry"].as_u64().unwrap())
        .collect();
    assert_eq!(stored.len(), 31);
    let mut unique = stored.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 31);
    let copies: Vec<u64> = replies[30..]
        .iter()
        .map(|r| r.json["entry"].as_u64().unwrap())
        .collect();
    assert!(copies.iter().all(|&e| e == copies[0]), "{copies:?}");
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.json["duplicate"] == true)
            .count(),
        9
    );
    server.terminate();
    env.ok(&["ledger", "verify"]);
    assert_eq!(env.list("event").len(), 31);
}

#[test]
fn serve_refuses_to_start_without_a_signing_key() {
    let env = Env::new(KEY);
    std::fs::remove_file(env.store.join("keys/signing.key")).unwrap();
    let out = env
        .cmd()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("signing key"));
}
