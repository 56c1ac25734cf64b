//! The REST API of `evident serve`, end to end: the real binary, real HTTP over 127.0.0.1,
//! tokens made with `evident token`, reports pushed with `evident push`. Readiness is the
//! `listening on` line (no sleeps).

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};

use common::server::{Env, Reply, Server, clean_report, commit, github_signature};
use common::{git, new_repo};
use evident_ledger::merkle;
use evident_ledger::note::Verifier;
use evident_ledger::tlog_proof::TlogProof;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const GITHUB_SECRET: &str = "api-test-github-secret";
const FALCO_TOKEN: &str = "api-test-falco-token";
/// The name of the store's signing key.
const KEY: &str = "evident.test/api";

impl Env {
    /// A new token: (id, secret).
    fn token(&self, role: &str, name: &str) -> (String, String) {
        let doc = self.json(&[
            "token", "create", "--role", role, "--name", name, "--actor", "ada", "--format", "json",
        ]);
        (
            doc["id"].as_str().unwrap().to_owned(),
            doc["token"].as_str().unwrap().to_owned(),
        )
    }

    fn serve(&self, extra: &[&str]) -> Server {
        self.serve_with(
            extra,
            &[
                ("EVIDENT_GITHUB_WEBHOOK_SECRET", GITHUB_SECRET),
                ("EVIDENT_FALCO_TOKEN", FALCO_TOKEN),
            ],
        )
    }
}

impl Server {
    fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request("GET", path, token, &[], None)
    }

    fn post_json(&self, path: &str, token: Option<&str>, body: &[u8]) -> Reply {
        self.request(
            "POST",
            path,
            token,
            &[("Content-Type", "application/json")],
            Some(body),
        )
    }

    /// A request sent byte for byte (no client-side path normalisation).
    fn raw_get(&self, path: &str, token: &str) -> (u16, String) {
        let addr = self.base.strip_prefix("http://").unwrap();
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    fn github(&self, delivery: &str, body: &[u8], secret: &str) -> Reply {
        self.github_event("push", delivery, body, secret)
    }

    fn github_event(&self, event: &str, delivery: &str, body: &[u8], secret: &str) -> Reply {
        let sig = github_signature(secret, body);
        self.request(
            "POST",
            "/webhooks/github",
            None,
            &[
                ("Content-Type", "application/json"),
                ("X-GitHub-Event", event),
                ("X-GitHub-Delivery", delivery),
                ("X-Hub-Signature-256", &sig),
            ],
            Some(body),
        )
    }
}

#[test]
fn tokens_are_shown_once_kept_hashed_recorded_and_revoked_without_a_restart() {
    let env = Env::new(KEY);
    // Human output: the secret alone on standard output.
    let out = env.run(&[
        "token",
        "create",
        "--role",
        "admin",
        "--name",
        "root",
        "--expires",
        "90d",
        "--actor",
        "ada",
    ]);
    assert!(out.status.success(), "{out:?}");
    let admin = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(admin.starts_with("evt_") && admin.len() == 47, "{admin}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not shown again"), "{stderr}");
    assert!(!stderr.contains(&admin));
    let (ci_id, ci) = env.token("recorder", "ci");
    assert_ne!(admin, ci);

    // The file holds hashes only, privately.
    let file = env.store.join("tokens.json");
    let text = std::fs::read_to_string(&file).unwrap();
    for secret in [&admin, &ci] {
        assert!(!text.contains(secret.as_str()), "{text}");
        assert!(text.contains(&hex::encode(Sha256::digest(secret.as_bytes()))));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // No temporary file is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(&env.store)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tokens"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Listing never shows a secret.
    let human = env.ok(&["token", "list"]);
    assert!(human.contains("root") && human.contains("recorder") && human.contains("active"));
    let listed = env.json(&["token", "list", "--format", "json"]);
    let listed_text = listed.to_string();
    assert!(!listed_text.contains(&admin) && !listed_text.contains(&ci));
    assert!(!listed_text.contains(&hex::encode(Sha256::digest(ci.as_bytes()))));
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[1]["id"], ci_id.as_str());
    assert!(listed[0]["expires"].is_string());

    // Each creation is security evidence about the token, without the secret or its hash.
    let security = env.list("security");
    assert_eq!(security.len(), 2);
    assert_eq!(
        security[1]["subject"],
        format!("env:evident-token-{ci_id}").as_str()
    );
    assert_eq!(security[1]["actor"], "ada");
    let shown = env.json(&[
        "evidence",
        "show",
        &security[1]["entry"].to_string(),
        "--format",
        "json",
    ]);
    let predicate = &shown["statement"]["predicate"];
    assert_eq!(predicate["event"], "token-created");
    assert_eq!(predicate["token"], ci_id.as_str());
    assert_eq!(predicate["name"], "ci");
    assert_eq!(predicate["role"], "recorder");
    let shown_text = shown.to_string();
    assert!(!shown_text.contains(&ci));
    assert!(!shown_text.contains(&hex::encode(Sha256::digest(ci.as_bytes()))));
    assert_eq!(listed[1]["created_entry"], security[1]["entry"]);

    // A running server: tokens made or revoked now count from the next request on.
    let server = env.serve(&[]);
    let report = clean_report();
    let push = format!("/api/v1/evidence?subject={}", commit('a'));
    assert_eq!(server.post_json(&push, Some(&ci), &report).status, 201);
    let (_, viewer) = env.token("viewer", "late-viewer");
    assert_eq!(server.get("/api/v1/evidence", Some(&viewer)).status, 200);

    let out = env.run(&["token", "revoke", &ci_id, "--actor", "bob"]);
    assert!(out.status.success(), "{out:?}");
    // The server takes the ledger's lock only while it appends: the CLI records the
    // revocation itself (or, if a batch of the server holds the lock at that moment, leaves it
    // to the server, which records it before it honours the change).
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("recorded") || said.contains("evident serve"),
        "{said}"
    );
    let refused = server.post_json(&push, Some(&ci), &report);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json(), json!({ "error": "invalid token" }));
    // By the time a request has seen the change, it is in the ledger.
    let security = env.list("security");
    let revoked: Vec<&Value> = security
        .iter()
        .filter(|r| r["subject"] == format!("env:evident-token-{ci_id}").as_str())
        .collect();
    assert_eq!(revoked.len(), 2, "{security:?}");
    assert_eq!(revoked[1]["actor"], "bob");
    let shown = env.json(&[
        "evidence",
        "show",
        &revoked[1]["entry"].to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(shown["statement"]["predicate"]["event"], "token-revoked");
    let listed = env.json(&["token", "list", "--format", "json"]);
    let ci_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == ci_id.as_str())
        .unwrap();
    assert_eq!(ci_row["status"], "revoked");
    assert_eq!(ci_row["revoked_entry"], revoked[1]["entry"]);
    // Revoking twice is an error; unknown ids too.
    assert_eq!(env.run(&["token", "revoke", &ci_id]).status.code(), Some(2));
    assert_eq!(
        env.run(&["token", "revoke", "000000000000"]).status.code(),
        Some(2)
    );
    // The admin token still works.
    assert_eq!(server.get("/api/v1/checkpoint", Some(&admin)).status, 200);
    server.terminate();
    env.ok(&["ledger", "verify"]);

    // Bad input is refused before anything is written.
    for args in [
        &["token", "create", "--role", "root", "--name", "x"][..],
        &["token", "create", "--role", "viewer", "--name", "has space"],
        &[
            "token",
            "create",
            "--role",
            "viewer",
            "--name",
            "x",
            "--expires",
            "2001-01-01",
        ],
        &[
            "token",
            "create",
            "--role",
            "viewer",
            "--name",
            "x",
            "--expires",
            "soon",
        ],
    ] {
        assert_eq!(env.run(args).status.code(), Some(2), "{args:?}");
    }
    assert_eq!(
        env.json(&["token", "list", "--format", "json"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn roles_decide_who_reads_and_who_appends() {
    let env = Env::new(KEY);
    let tokens: Vec<(&str, String)> = ["admin", "recorder", "auditor", "viewer"]
        .into_iter()
        .map(|role| (role, env.token(role, &format!("{role}-1")).1))
        .collect();
    let server = env.serve(&[]);
    let report = clean_report();
    let push = format!("/api/v1/evidence?subject={}", commit('b'));
    for (role, secret) in &tokens {
        let read = server.get("/api/v1/evidence", Some(secret));
        let append = server.post_json(&push, Some(secret), &report);
        let (can_read, can_append) = match *role {
            "admin" => (true, true),
            "recorder" => (false, true),
            _ => (true, false),
        };
        assert_eq!(read.status, if can_read { 200 } else { 403 }, "{role} GET");
        assert_eq!(
            append.status,
            if can_append { 201 } else { 403 },
            "{role} POST: {}",
            append.text()
        );
        for path in [
            "/api/v1/checkpoint",
            "/api/v1/controls",
            "/api/v1/evidence/0",
        ] {
            let r = server.get(path, Some(secret));
            assert_eq!(r.status, if can_read { 200 } else { 403 }, "{role} {path}");
        }
        if !can_read {
            assert_eq!(
                read.json(),
                json!({ "error": "this token's role does not allow this request" })
            );
        }
    }
    // No token, a wrong one, a malformed header: 401, with nothing to learn from.
    for (auth, expected) in [
        (None, "authentication required"),
        (
            Some("Bearer evt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "invalid token",
        ),
        (Some("Basic YWRtaW46YWRtaW4="), "invalid token"),
        (Some("Bearer "), "invalid token"),
    ] {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        for (method, path) in [
            ("GET", "/api/v1/evidence"),
            ("GET", "/api/v1/evidence/0/proof"),
            ("GET", "/api/v1/log/checkpoint"),
            ("POST", "/api/v1/evidence"),
        ] {
            let r = server.request(method, path, None, &headers, Some(&report));
            assert_eq!(r.status, 401, "{auth:?} {method} {path}");
            assert_eq!(r.json(), json!({ "error": expected }));
            assert_eq!(
                r.header("www-authenticate"),
                Some("Bearer realm=\"evident\"")
            );
        }
    }
    // A webhook secret is not an API token, nor the other way round.
    assert_eq!(
        server.get("/api/v1/evidence", Some(FALCO_TOKEN)).status,
        401
    );
    // Health, metrics and the API description are open.
    for path in ["/healthz", "/readyz", "/metrics", "/api/openapi.json"] {
        assert_eq!(server.get(path, None).status, 200, "{path}");
    }
    // Unknown paths and methods: JSON errors.
    let r = server.get("/api/v1/nope", Some(&tokens[0].1));
    assert_eq!((r.status, r.json()), (404, json!({ "error": "not found" })));
    let r = server.post_json("/api/v1/checkpoint", Some(&tokens[0].1), b"{}");
    assert_eq!(r.status, 405);
    assert!(r.json()["error"].is_string());
    server.terminate();
    // Two pushes (admin, recorder) and the four token creations.
    assert_eq!(env.list("scan").len(), 2);
    assert_eq!(env.list("security").len(), 4);
}

#[test]
fn evidence_is_queried_by_kind_subject_control_and_time_in_pages() {
    let env = Env::new(KEY);
    let (_, admin) = env.token("admin", "admin");
    for i in 0..5 {
        env.ok(&[
            "record",
            "--kind",
            "approval",
            "--subject",
            &commit('a'),
            "--control",
            "soc2:CC8.1",
            "--actor",
            "ada",
            "--reason",
            &format!("review {i}"),
        ]);
    }
    for _ in 0..3 {
        env.ok(&[
            "record",
            "--kind",
            "deployment",
            "--subject",
            &commit('b'),
            "--control",
            "iso27001:A.8.32",
            "--label",
            "environment=prod",
        ]);
    }
    // An exception (needs an evident.toml with environments).
    env.ok(&["init", "--no-hook"]);
    let expires = evident_core::Clock::now(&evident_core::SystemClock)
        .checked_add(jiff::SignedDuration::from_hours(24 * 20))
        .unwrap()
        .strftime("%Y-%m-%d")
        .to_string();
    env.ok(&[
        "exception",
        "add",
        "--check",
        "aws-access-key-id",
        "--path",
        "tests/**",
        "--reason",
        "false-positive",
        "--owner",
        "owner@example.com",
        "--approver",
        "sec@example.com",
        "--expires",
        &expires,
        "--actor",
        "ada",
    ]);
    let server = env.serve(&[]);
    let get = |path: &str| {
        let r = server.get(path, Some(&admin));
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        r.json()
    };
    let entries = |doc: &Value| -> Vec<u64> {
        doc["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["entry"].as_u64().unwrap())
            .collect()
    };
    let all = get("/api/v1/evidence");
    assert_eq!(all["log_size"], 10);
    assert_eq!(entries(&all), (0..10).collect::<Vec<_>>());
    assert_eq!(all["next"], Value::Null);
    // The same rows as the CLI's list.
    let cli = env.json(&["evidence", "list", "--format", "json"]);
    assert_eq!(all["entries"], cli);

    assert_eq!(
        entries(&get("/api/v1/evidence?kind=approval")),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        entries(&get(&format!("/api/v1/evidence?subject={}", commit('b')))),
        [6, 7, 8]
    );
    // A bare commit is a git subject; `CC8.1` alone names soc2:CC8.1.
    assert_eq!(
        entries(&get(&format!(
            "/api/v1/evidence?subject={}",
            "B".repeat(40)
        ))),
        [6, 7, 8]
    );
    // The approvals and the exception support soc2:CC8.1.
    assert_eq!(
        entries(&get("/api/v1/evidence?control=soc2%3ACC8.1")),
        [1, 2, 3, 4, 5, 9]
    );
    assert_eq!(
        entries(&get("/api/v1/evidence?control=CC8.1")),
        [1, 2, 3, 4, 5, 9]
    );
    assert_eq!(
        entries(&get(&format!(
            "/api/v1/evidence?kind=deployment&control=iso27001:A.8.32&subject={}",
            commit('b')
        ))),
        [6, 7, 8]
    );
    assert!(
        entries(&get(
            "/api/v1/evidence?kind=approval&subject=git:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
        ))
        .is_empty()
    );
    assert!(entries(&get("/api/v1/evidence?from=2999-01-01")).is_empty());
    assert_eq!(entries(&get("/api/v1/evidence?to=2999-01-01")).len(), 10);
    assert!(entries(&get("/api/v1/evidence?to=2001-01-01T00:00:00Z")).is_empty());

    // Pages: `next` is the `after` of the following page.
    let mut seen = Vec::new();
    let mut after: Option<u64> = None;
    let mut pages = 0;
    loop {
        let path = match after {
            Some(a) => format!("/api/v1/evidence?kind=approval&limit=2&after={a}"),
            None => "/api/v1/evidence?kind=approval&limit=2".to_owned(),
        };
        let page = get(&path);
        let got = entries(&page);
        assert!(got.len() <= 2);
        seen.extend(got);
        pages += 1;
        match page["next"].as_u64() {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!((seen, pages), (vec![1, 2, 3, 4, 5], 3));
    assert_eq!(entries(&get("/api/v1/evidence?limit=5000")).len(), 10);

    // Bad queries: 400 with a reason.
    for bad in [
        "/api/v1/evidence?limit=0",
        "/api/v1/evidence?limit=ten",
        "/api/v1/evidence?after=-1",
        "/api/v1/evidence?kind=nope",
        "/api/v1/evidence?subject=git:123",
        "/api/v1/evidence?control=soc2:XX9",
        "/api/v1/evidence?from=yesterday",
        "/api/v1/evidence?colour=red",
        "/api/v1/evidence?kind=scan&kind=event",
        "/api/v1/evidence?subject=%ff",
    ] {
        let r = server.get(bad, Some(&admin));
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(r.json()["error"].as_str().unwrap().len() > 10, "{bad}");
    }

    // One entry: record, statement and envelope, as `evident evidence show` sees it.
    let one = get("/api/v1/evidence/3");
    let shown = env.json(&["evidence", "show", "3", "--format", "json"]);
    assert_eq!(one["record"], shown["record"]);
    assert_eq!(one["statement"], shown["statement"]);
    assert_eq!(one["leaf_hash"], shown["leaf_hash"]);
    assert_eq!(one["statement"]["predicate"]["reason"], "review 2");
    assert_eq!(
        one["envelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
    assert!(one["envelope"]["signatures"][0]["sig"].is_string());
    for missing in [
        "/api/v1/evidence/10",
        "/api/v1/evidence/99/proof",
        "/api/v1/evidence/x",
    ] {
        assert_eq!(server.get(missing, Some(&admin)).status, 404, "{missing}");
    }

    // Exceptions and controls.
    let exceptions = get("/api/v1/exceptions");
    assert_eq!(entries(&exceptions), [9]);
    let grant = &exceptions["entries"][0];
    assert_eq!(grant["actor"], "ada");
    assert!(grant["predicate"].to_string().contains("aws-access-key-id"));
    assert_eq!(grant["status"], "active");
    assert_eq!(grant["revoked_by"], Value::Null);
    let controls = get("/api/v1/controls");
    let find = |doc: &Value, c: &str| -> Value {
        doc["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["control"] == c)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let cc81 = find(&controls, "soc2:CC8.1");
    assert_eq!(cc81["entries"], 6, "{controls}");
    assert_eq!(find(&controls, "iso27001:A.8.32")["entries"], 4);
    assert!(cc81["title"].is_string());
    assert_eq!(cc81["latest"].as_str().unwrap().len(), 20);
    // Appends are counted in from the next look on.
    let push = format!(
        "/api/v1/evidence?subject={}&category=iac&control=soc2:CC8.1",
        commit('c')
    );
    assert_eq!(
        server
            .post_json(&push, Some(&admin), &clean_report())
            .status,
        201
    );
    let after_push = get("/api/v1/controls");
    assert_eq!(
        find(&after_push, "soc2:CC8.1")["entries"].as_u64(),
        cc81["entries"].as_u64().map(|n| n + 1)
    );

    // Revoked beside the running server: the grant says so, and the revocation is listed.
    env.ok(&[
        "exception",
        "revoke",
        "9",
        "--reason",
        "the test key was rotated",
        "--actor",
        "bob",
    ]);
    let exceptions = get("/api/v1/exceptions");
    let listed = entries(&exceptions);
    assert_eq!(listed.len(), 2, "{exceptions}");
    assert_eq!(exceptions["entries"][0]["status"], "revoked");
    assert_eq!(exceptions["entries"][0]["revoked_by"], listed[1]);
    assert_eq!(exceptions["entries"][1]["actor"], "bob");
    assert_eq!(exceptions["entries"][1]["status"], Value::Null);
    server.terminate();
}

/// Splits an entry bundle into its entries (each a 16-bit big-endian length and the bytes).
fn bundle_entries(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while bytes.len() >= 2 {
        let n = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
        out.push(bytes[2..2 + n].to_vec());
        bytes = &bytes[2 + n..];
    }
    assert!(bytes.is_empty());
    out
}

/// The log's resources: every file under the store's log directory, or, with the log in a
/// bucket (which the test does not list), the checkpoint, `vkey` and every tile and bundle the
/// checkpoint of `size` entries covers.
fn log_resources(env: &Env, size: u64) -> Vec<String> {
    use evident_store::tiles::{entries_path, tile_path, tile_width};
    if env.bucket.is_none() {
        let log = env.store.join("log");
        return files_under(&log)
            .iter()
            .map(|f| f.strip_prefix(&log).unwrap().to_string_lossy().into_owned())
            .collect();
    }
    let mut out = vec!["checkpoint".to_owned(), "vkey".to_owned()];
    let mut level = 0u8;
    while size >> (8 * u32::from(level)) > 0 {
        let nodes = size >> (8 * u32::from(level));
        for n in 0..nodes.div_ceil(256) {
            let width = tile_width(level, n, size);
            out.push(tile_path(level, n, width));
            if level == 0 {
                out.push(entries_path(n, width));
            }
        }
        level += 1;
    }
    out
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn proofs_verify_and_the_log_is_served_byte_for_byte() {
    let env = Env::new(KEY);
    let (_, viewer) = env.token("viewer", "auditor-portal");
    let vkey: Verifier = env.ok(&["keys", "show"]).trim().parse().unwrap();
    let server = env.serve(&[]);
    // Enough entries for full tiles: distinct Falco events, concurrently (batched appends).
    std::thread::scope(|s| {
        for t in 0..8 {
            let server = &server;
            s.spawn(move || {
                for i in 0..33 {
                    let body = format!(r#"{{"rule": "shell in container", "n": "{t}-{i}"}}"#);
                    let r = server.request(
                        "POST",
                        "/webhooks/falco",
                        None,
                        &[
                            ("Content-Type", "application/json"),
                            ("Authorization", &format!("Bearer {FALCO_TOKEN}")),
                        ],
                        Some(body.as_bytes()),
                    );
                    assert_eq!(r.status, 202, "{}", r.text());
                }
            });
        }
    });
    let size = 1 + 8 * 33;

    // The checkpoint, as stored and as the CLI prints it.
    let cp = server.get("/api/v1/checkpoint", Some(&viewer));
    assert_eq!(cp.status, 200);
    assert!(cp.header("content-type").unwrap().starts_with("text/plain"));
    let stored = env.log_resource("checkpoint").unwrap();
    assert_eq!(cp.body, stored);
    assert_eq!(cp.text(), env.ok(&["ledger", "checkpoint"]));
    assert!(cp.text().contains(&format!("\n{size}\n")));

    // Every tile and bundle, byte for byte, with its content type and caching.
    let mut served = 0;
    let mut immutable = 0;
    for rel in log_resources(&env, size as u64) {
        // Beside the log, not of it: the verifier key, and the checkpoint's spare (the one
        // before, swapped out).
        if rel == "vkey" || rel == ".checkpoint.spare" {
            assert_eq!(
                server
                    .get(&format!("/api/v1/log/{rel}"), Some(&viewer))
                    .status,
                400
            );
            continue;
        }
        let r = server.get(&format!("/api/v1/log/{rel}"), Some(&viewer));
        assert_eq!(r.status, 200, "{rel}: {}", r.text());
        assert_eq!(Some(&r.body), env.log_resource(&rel).as_ref(), "{rel}");
        let cache = r.header("cache-control").unwrap();
        if rel == "checkpoint" {
            assert!(r.header("content-type").unwrap().starts_with("text/plain"));
            assert_eq!(cache, "no-cache");
        } else {
            assert_eq!(r.header("content-type"), Some("application/octet-stream"));
            if rel.contains(".p/") {
                assert_eq!(cache, "no-cache", "{rel}");
            } else {
                assert_eq!(cache, "public, max-age=31536000, immutable", "{rel}");
                immutable += 1;
            }
        }
        served += 1;
    }
    assert!(served >= 5 && immutable == 2, "{served} {immutable}");

    // A proof from the API verifies with evident's verifier, for an entry read from the tiles.
    let full = server.get("/api/v1/log/tile/entries/000", Some(&viewer));
    let partial = server.get(
        &format!("/api/v1/log/tile/entries/001.p/{}", size - 256),
        Some(&viewer),
    );
    let mut all = bundle_entries(&full.body);
    all.extend(bundle_entries(&partial.body));
    assert_eq!(all.len(), size);
    for seq in [0usize, 1, 255, 256, size - 1] {
        let r = server.get(&format!("/api/v1/evidence/{seq}/proof"), Some(&viewer));
        assert_eq!(r.status, 200);
        assert!(r.header("content-type").unwrap().starts_with("text/plain"));
        let proof = TlogProof::parse(&r.body).unwrap();
        assert_eq!(proof.index, seq as u64);
        let leaf = merkle::leaf_hash(&all[seq]);
        let checkpoint = proof.verify(&leaf, std::slice::from_ref(&vkey)).unwrap();
        assert_eq!(checkpoint.size, size as u64);
        // Not for another entry.
        let other = merkle::leaf_hash(&all[(seq + 1) % size]);
        assert!(proof.verify(&other, std::slice::from_ref(&vkey)).is_err());
        // The same text as `evident ledger proof`.
        assert_eq!(
            r.text(),
            env.ok(&["ledger", "proof", "--entry", &seq.to_string()])
        );
        let shown = server
            .get(&format!("/api/v1/evidence/{seq}"), Some(&viewer))
            .json();
        assert_eq!(shown["leaf_hash"], hex::encode(leaf).as_str());
    }

    // Nothing outside the tiles, however the path is spelt.
    std::fs::write(env.store.join("secret.txt"), "PRIVATE+KEY+not-for-you").unwrap();
    for path in [
        "/api/v1/log/../keys/signing.key",
        "/api/v1/log/%2e%2e/keys/signing.key",
        "/api/v1/log/%2E%2E%2Fkeys%2Fsigning.key",
        "/api/v1/log/tile/../../keys/signing.key",
        "/api/v1/log/tile/entries/../../../secret.txt",
        "/api/v1/log/..%2fsecret.txt",
        "/api/v1/log//etc/passwd",
        "/api/v1/log/%2Fetc%2Fpasswd",
        "/api/v1/log/tile/0/..",
        "/api/v1/log/tile/0/000/../../../../tokens.json",
        "/api/v1/log/tokens.json",
        "/api/v1/log/.checkpoint.tmp",
        "/api/v1/log/vkey",
        "/api/v1/log/tile/0/000.p/0",
        "/api/v1/log/tile/entries/002",
    ] {
        let (status, text) = server.raw_get(path, &viewer);
        assert!(status == 400 || status == 404, "{path}: {text}");
        assert!(
            !text.contains("PRIVATE+KEY") && !text.contains("root:"),
            "{path}"
        );
        assert!(!text.contains("\"sha256\""), "{path}");
    }
    server.terminate();
}

#[test]
fn a_pushed_scan_report_is_recorded_as_scan_record_records_it() {
    let env = Env::new(KEY);
    let repo = env.dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    new_repo(&repo);
    std::fs::write(
        repo.join("settings.py"),
        "AWS_ACCESS_KEY_ID = \"AKIAIOSFODNN7EXAMPLQ\"\n", // evident:allow synthetic key the scan must find
    )
    .unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "settings"]);
    let head = git(&repo, &["rev-parse", "HEAD"]);

    // The CLI's own record of the scan, and the report to push.
    let out = env
        .cmd_in(&repo)
        .args(["scan", "secrets", "--record", "--format", "json", "-o"])
        .arg(env.dir.join("report.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = std::fs::read(env.dir.join("report.json")).unwrap();
    let recorded = env.list("scan");
    assert_eq!(recorded.len(), 1);
    let (_, recorder) = env.token("recorder", "ci");
    let (_, viewer) = env.token("viewer", "dash");

    let server = env.serve(&["--max-body", "100000"]);
    let mut push = env.cmd_in(&repo);
    push.env("EVIDENT_TOKEN", &recorder).args([
        "push",
        "--server",
        &server.base,
        "--category",
        "secrets",
    ]);
    for c in recorded[0]["controls"].as_array().unwrap() {
        push.args(["--control", c.as_str().unwrap()]);
    }
    let out = push.arg(env.dir.join("report.json")).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let seq: u64 = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAILED"));

    // Standard input works too, and a clean report passes.
    let out = env
        .cmd_in(&repo)
        .env("EVIDENT_TOKEN", &recorder)
        .args([
            "push",
            "--server",
            &server.base,
            "--subject",
            &commit('d'),
            "-",
        ])
        .write_stdin(clean_report())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // Refusals: exit 2 with the reason.
    let refused = |token: &str, args: &[&str], file: &Path| {
        let out = env
            .cmd_in(&repo)
            .env("EVIDENT_TOKEN", token)
            .args(["push", "--server", &server.base])
            .args(args)
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let report_file = env.dir.join("report.json");
    assert!(refused("evt_wrong", &[], &report_file).contains("401"));
    assert!(refused(&viewer, &[], &report_file).contains("403"));
    assert!(refused(&recorder, &["--category", "poetry"], &report_file).contains("category"));
    std::fs::write(env.dir.join("notes.txt"), "hello").unwrap();
    assert!(refused(&recorder, &[], &env.dir.join("notes.txt")).contains("not JSON"));
    let mut big = report.clone();
    big.extend(std::iter::repeat_n(b' ', 100_001));
    std::fs::write(env.dir.join("big.json"), &big).unwrap();
    assert!(refused(&recorder, &[], &env.dir.join("big.json")).contains("413"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = env
        .cmd_in(&repo)
        .env("EVIDENT_TOKEN", &recorder)
        .args(["push", "--server", &nowhere])
        .arg(&report_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach"));

    // The API's own checks.
    let path = format!("/api/v1/evidence?subject={}", commit('e'));
    let bad = |r: Reply, status: u16| {
        assert_eq!(r.status, status, "{}", r.text());
        assert!(r.json()["error"].is_string());
    };
    bad(
        server.request(
            "POST",
            &path,
            Some(&recorder),
            &[("Content-Type", "text/plain")],
            Some(&report),
        ),
        415,
    );
    bad(server.post_json(&path, Some(&recorder), b"{not json"), 400);
    bad(server.post_json(&path, Some(&recorder), b"{\"a\": 1}"), 400);
    let mut v2: Value = serde_json::from_slice(&report).unwrap();
    v2["schema_version"] = json!(2);
    bad(
        server.post_json(&path, Some(&recorder), &serde_json::to_vec(&v2).unwrap()),
        400,
    );
    bad(
        server.post_json("/api/v1/evidence", Some(&recorder), &report),
        400,
    );
    bad(
        server.post_json(&format!("{path}&control=nope:1"), Some(&recorder), &report),
        400,
    );
    bad(server.post_json(&path, Some(&recorder), &big), 413);
    server.terminate();

    // The pushed record is the record `scan --record` made, but for who and when.
    let scans = env.list("scan");
    assert_eq!(scans.len(), 3, "{scans:?}");
    let pushed = scans.iter().find(|s| s["entry"] == seq).unwrap();
    assert_eq!(pushed["subject"], format!("git:{head}").as_str());
    assert_eq!(pushed["subject"], recorded[0]["subject"]);
    assert_eq!(pushed["controls"], recorded[0]["controls"]);
    assert_eq!(pushed["predicate_type"], recorded[0]["predicate_type"]);
    assert_eq!(pushed["actor"], "token:ci");
    let a = env.json(&["evidence", "show", &seq.to_string(), "--format", "json"]);
    let b = env.json(&[
        "evidence",
        "show",
        &recorded[0]["entry"].to_string(),
        "--format",
        "json",
    ]);
    for key in ["scanner", "category"] {
        assert_eq!(
            a["record"]["labels"][key], b["record"]["labels"][key],
            "{key}"
        );
    }
    let (pa, pb) = (&a["statement"]["predicate"], &b["statement"]["predicate"]);
    for key in ["result", "failedTests", "warnedTests", "passedTests"] {
        assert_eq!(pa[key], pb[key], "{key}");
    }
    assert_eq!(pa["result"], "FAILED");
    assert_eq!(
        pa["configuration"][0]["annotations"]["failOn"],
        pb["configuration"][0]["annotations"]["failOn"]
    );
    assert_eq!(a["record"]["blobs"][0]["name"], "secrets-report.json");
    // The report is the content, byte for byte as pushed.
    let out = env
        .cmd()
        .args(["evidence", "show", &seq.to_string(), "--content"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, report);
    env.ok(&["ledger", "verify"]);
}

/// The value of one sample of the exposition text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_count_deliveries_appends_and_requests() {
    let env = Env::new(KEY);
    let (_, admin) = env.token("admin", "admin");
    let server = env.serve(&[]);
    let body =
        br#"{"ref": "refs/heads/main", "after": "0123456789abcdef0123456789abcdef01234567"}"#;
    assert_eq!(server.github("m-1", body, GITHUB_SECRET).status, 202);
    assert_eq!(server.github("m-1", body, GITHUB_SECRET).status, 200);
    assert_eq!(server.github("m-2", body, "forged").status, 401);
    assert_eq!(server.get("/api/v1/evidence", Some(&admin)).status, 200);
    assert_eq!(server.get("/api/v1/evidence/1", Some(&admin)).status, 200);
    assert_eq!(server.get("/api/v1/evidence/2", Some(&admin)).status, 200);

    let r = server.get("/metrics", None);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = r.text();
    let delivered = |outcome: &str| {
        sample(
            &text,
            &format!(
                "evident_webhook_deliveries_total{{platform=\"github\",outcome=\"{outcome}\"}}"
            ),
        )
    };
    assert_eq!(delivered("received"), Some(3.0), "{text}");
    assert_eq!(delivered("accepted"), Some(1.0));
    assert_eq!(delivered("duplicate"), Some(1.0));
    assert_eq!(delivered("rejected"), Some(1.0));
    assert_eq!(delivered("failed"), Some(0.0));
    assert_eq!(
        sample(
            &text,
            "evident_webhook_deliveries_total{platform=\"gitlab\",outcome=\"received\"}"
        ),
        Some(0.0)
    );
    // The accepted and the duplicate were acknowledged: two latencies.
    assert_eq!(
        sample(
            &text,
            "evident_ingest_duration_seconds_count{source=\"github\"}"
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            "evident_ingest_duration_seconds_bucket{source=\"github\",le=\"+Inf\"}"
        ),
        Some(2.0)
    );
    assert!(
        sample(
            &text,
            "evident_ingest_duration_seconds_sum{source=\"github\"}"
        )
        .unwrap()
            > 0.0
    );
    // The delivery and the rejection's security record; the token's creation came before.
    assert_eq!(
        sample(&text, "evident_ledger_appended_entries_total"),
        Some(2.0)
    );
    assert_eq!(sample(&text, "evident_ledger_entries"), Some(3.0));
    assert_eq!(sample(&text, "evident_writer_queue_depth"), Some(0.0));
    assert_eq!(sample(&text, "evident_writer_up"), Some(1.0));
    // Requests by route template, not by concrete path.
    assert_eq!(
        sample(
            &text,
            "evident_http_requests_total{route=\"/api/v1/evidence/{seq}\",method=\"GET\",status=\"200\"}"
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            "evident_http_requests_total{route=\"/webhooks/github\",method=\"POST\",status=\"202\"}"
        ),
        Some(1.0)
    );
    assert!(!text.contains("/api/v1/evidence/1\""));
    assert!(!text.contains(&admin) && !text.contains(GITHUB_SECRET));
    // Every sample belongs to a declared metric.
    let declared: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let name = line.split(['{', ' ']).next().unwrap();
        assert!(
            declared.iter().any(|d| name.starts_with(d)),
            "{line} is undeclared"
        );
    }
    assert!(!text.contains("evident_gate_decisions{"), "{text}");

    // Gate decisions recorded beside the running server (by another writer) are counted, and
    // the ledger's size follows the log, not only this server's appends.
    for decision in ["pass", "pass", "block"] {
        env.ok(&[
            "record",
            "--kind",
            "gate-decision",
            "--subject",
            "env:prod",
            "--label",
            "environment=prod",
            "--label",
            &format!("decision={decision}"),
        ]);
    }
    let text = server.get("/metrics", None).text();
    let gate = |decision: &str| {
        sample(
            &text,
            &format!("evident_gate_decisions{{environment=\"prod\",decision=\"{decision}\"}}"),
        )
    };
    assert_eq!(gate("pass"), Some(2.0), "{text}");
    assert_eq!(gate("block"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "evident_ledger_entries"), Some(6.0));
    assert_eq!(
        sample(&text, "evident_ledger_appended_entries_total"),
        Some(2.0)
    );
    server.terminate();
}

#[test]
fn the_openapi_document_describes_every_served_route() {
    let env = Env::new(KEY);
    let (_, admin) = env.token("admin", "admin");
    let server = env.serve(&[]);
    let r = server.get("/api/openapi.json", None);
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerToken"]["scheme"],
        "bearer"
    );
    // Every documented operation is served (not the fallback's 404 nor a 405).
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(op["responses"].is_object(), "{method} {path}");
            let concrete = path.replace("{seq}", "0").replace("{path}", "checkpoint");
            let method = method.to_ascii_uppercase();
            let reply = server.request(
                &method,
                &concrete,
                Some(&admin),
                &[("Content-Type", "application/json")],
                Some(b"{}"),
            );
            assert_ne!(reply.status, 405, "{method} {path}");
            if reply.status == 404 {
                assert_ne!(
                    reply.json(),
                    json!({ "error": "not found" }),
                    "{method} {path} is documented but not served"
                );
            }
            documented.push((path.replace("{path}", "{*path}"), method));
        }
    }
    assert!(documented.len() >= 16, "{documented:?}");
    // And every route the router matched is documented: /metrics names them.
    let metrics = server.get("/metrics", None).text();
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("evident_http_requests_total{"))
    {
        let route = line
            .split("route=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let method = line
            .split("method=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        if route == "unmatched" {
            continue;
        }
        assert!(
            documented.iter().any(|(p, m)| p == route && m == method),
            "{method} {route} is served but not documented"
        );
    }
    server.terminate();
}

/// The GitHub change story of crates/evident-server/tests/fixtures/trail (real payloads made to
/// tell one story: a reviewed pull request, a push after the approval, a merge, production
/// deployments, a force-push), delivered to a running server as GitHub signs them: the trail
/// and the separation-of-duties findings come back from the API.
#[test]
fn deliveries_become_deployment_trails_with_separation_of_duties_findings() {
    let env = Env::new(KEY);
    let (_, viewer) = env.token("viewer", "dashboard");
    let server = env.serve(&[]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../evident-server/tests/fixtures/trail");
    let story: Value =
        serde_json::from_slice(&std::fs::read(root.join("story.json")).unwrap()).unwrap();
    for item in story["github"].as_array().unwrap() {
        let body = std::fs::read(root.join(item["file"].as_str().unwrap())).unwrap();
        let reply = server.github_event(
            item["event"].as_str().unwrap(),
            item["delivery"].as_str().unwrap(),
            &body,
            GITHUB_SECRET,
        );
        assert!(reply.status < 300, "{item}: {}", reply.text());
    }
    let reply = server.get("/api/v1/deployments?environment=production", Some(&viewer));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let doc = reply.json();
    let deployments = doc["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 3, "{doc:#}");
    let first = &deployments[0];
    assert_eq!(first["repository"], "acme/api");
    assert_eq!(first["environment"], "production");
    assert_eq!(first["change"]["reference"], "acme/api#42", "{first:#}");
    // (Who approved the production deployment is matched by the time evident received the
    // approval, which here is now while the payloads are dated 2026-03-02: the library's own
    // tests in crates/evident-server/tests/trail.rs cover it with controlled times.)
    let findings = server.get("/api/v1/findings", Some(&viewer)).json();
    let checks: std::collections::BTreeSet<&str> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    for expected in [
        "stale-approval",
        "force-push-to-protected-branch",
        "production-deploy-without-passing-gate",
    ] {
        assert!(
            checks.contains(expected),
            "{expected} missing: {findings:#}"
        );
    }
    for f in findings["findings"].as_array().unwrap() {
        assert!(!f["controls"].as_array().unwrap().is_empty());
    }
    // Recorder tokens cannot read the trail.
    let (_, recorder) = env.token("recorder", "ci");
    assert_eq!(
        server.get("/api/v1/deployments", Some(&recorder)).status,
        403
    );
    assert!(
        !checks.contains("merged-without-required-approvals"),
        "one approval is enough by default: {findings:#}"
    );
    server.terminate();
    // The policy comes from `[pipeline]` in evident.toml: with two approvals required, the
    // merge of #42 (approved by bob alone) is reported.
    std::fs::write(
        env.dir.join("evident.toml"),
        "[pipeline]\nmin_approvals = 2\n",
    )
    .unwrap();
    let server = env.serve(&[]);
    let findings = server.get("/api/v1/findings", Some(&viewer)).json();
    let merged = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "merged-without-required-approvals")
        .unwrap_or_else(|| panic!("{findings:#}"));
    assert_eq!(merged["resource"], "acme/api#42");
    server.terminate();
}
