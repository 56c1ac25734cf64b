//! `evident serve` end to end: the real binary, real HTTP over 127.0.0.1, real webhook
//! payloads signed as the platforms sign them. Readiness is the `listening on` line (no sleeps).

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::{evident, shared_data};
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde_json::Value;
use sha2::Sha256;

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const GITLAB_TOKEN: &str = "gitlab-token-123";
const ARGOCD_TOKEN: &str = "argocd-token-456";

/// A store, a key and a private HOME.
struct Env {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
    store: PathBuf,
}

impl Env {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("work");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let env = Self {
            store: tmp.path().join("store"),
            _tmp: tmp,
            dir,
            home,
        };
        env.ok(&["keys", "generate", "--name", "evident.test/serve"]);
        env
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = evident(&self.home);
        cmd.current_dir(&self.dir).env("EVIDENT_STORE", &self.store);
        cmd
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "evident {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn list(&self, kind: &str) -> Vec<Value> {
        let text = self.ok(&["evidence", "list", "--kind", kind, "--format", "json"]);
        serde_json::from_str::<Vec<Value>>(&text).unwrap()
    }

    fn show(&self, entry: u64) -> Value {
        let text = self.ok(&["evidence", "show", &entry.to_string(), "--format", "json"]);
        serde_json::from_str(&text).unwrap()
    }

    fn serve(&self) -> Server {
        let bin = assert_cmd::cargo::cargo_bin("evident");
        let mut child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("NO_COLOR", "1")
            .env("EVIDENT_STORE", &self.store)
            .env("EVIDENT_GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)
            .env("EVIDENT_GITLAB_WEBHOOK_TOKEN", GITLAB_TOKEN)
            .env("EVIDENT_ARGOCD_TOKEN", ARGOCD_TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no readiness line: {line:?}"))
            .to_owned();
        Server {
            child,
            base,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .new_agent(),
        }
    }
}

struct Server {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Reply {
    status: u16,
    json: Value,
}

impl Server {
    fn get(&self, path: &str) -> Reply {
        let mut res = self
            .agent
            .get(format!("{}{path}", self.base))
            .call()
            .unwrap();
        let status = res.status().as_u16();
        let text = res.body_mut().read_to_string().unwrap();
        Reply {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut res = req.send(body).unwrap();
        let status = res.status().as_u16();
        let text = res.body_mut().read_to_string().unwrap();
        Reply {
            status,
            json: serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("not JSON ({status}): {text}")),
        }
    }

    fn github(&self, event: &str, delivery: &str, body: &[u8]) -> Reply {
        let sig = sign(GITHUB_SECRET, body);
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

    /// SIGTERM: a graceful stop, exit code 0.
    fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
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
    let env = Env::new();
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
            ("X-Hub-Signature-256", &sign("not the secret", &push)),
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
            ("X-Hub-Signature-256", &sign(GITHUB_SECRET, &push)),
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
            ("X-Hub-Signature-256", &sign(GITHUB_SECRET, b"{}")),
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
fn concurrent_deliveries_are_all_stored_and_copies_once() {
    let env = Env::new();
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
    let env = Env::new();
    std::fs::remove_file(env.store.join("keys/signing.key")).unwrap();
    let out = env
        .cmd()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("signing key"));
}
