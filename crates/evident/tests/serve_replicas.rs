//! Two `evident serve` replicas append concurrently and keep one consistent log: on one store
//! with the index in PostgreSQL (`EVIDENT_TEST_DATABASE_URL`, a fresh schema dropped
//! afterwards) or in the embedded SQLite file; and on two store directories (two hosts) that
//! share only PostgreSQL and an S3 bucket holding the log and the blobs
//! (`EVIDENT_TEST_S3_ENDPOINT`, a fresh bucket with Object Lock). Every delivery is sent to both replicas at
//! the same moment: exactly one stores it, the other answers that it is a duplicate of the
//! same entry. Afterwards `evident ledger verify` passes and each delivery is in the log once.

mod common;

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher as _, Hasher as _};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use common::server::{Env, Server, agent, entries_in_log, github_signature};
use common::{postgres_url, s3_endpoint};
use evident_store::index_pg::PgIndex;
use evident_store::s3::{S3Bucket, S3Config};
use serde_json::Value;

const SECRET: &str = "replica-webhook-secret";
const CLIENTS: usize = 4;
const PER_CLIENT: usize = 25;

/// A signed GitHub push delivery: the status and the JSON answer.
fn deliver(agent: &ureq::Agent, base: &str, delivery: &str, body: &[u8]) -> (u16, Value) {
    let mut res = agent
        .post(format!("{base}/webhooks/github"))
        .header("Content-Type", "application/json")
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", delivery)
        .header("X-Hub-Signature-256", &github_signature(SECRET, body))
        .send(body)
        .unwrap_or_else(|e| panic!("delivery {delivery} to {base}: {e}"));
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn push_body(n: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "ref": "refs/heads/main",
        "after": format!("{n:040x}"),
        "repository": { "full_name": "acme/replicated" },
        "pusher": { "name": "ada" },
        "commits": [],
    }))
    .unwrap()
}

/// Sends every delivery to both replicas at once, from `CLIENTS` threads; returns the entry
/// each delivery was stored as.
fn load(a: &Server, b: &Server) -> BTreeMap<String, u64> {
    let stored = std::sync::Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            let stored = &stored;
            scope.spawn(move || {
                let (agent_a, agent_b) = (agent(), agent());
                for i in 0..PER_CLIENT {
                    let delivery = format!("replica-{client}-{i}");
                    let body = push_body(client * 1_000 + i);
                    // Alternate which replica is asked first; both requests are in flight
                    // together.
                    let (first, second) = if i % 2 == 0 { (a, b) } else { (b, a) };
                    let (one, two) = std::thread::scope(|inner| {
                        let one =
                            inner.spawn(|| deliver(&agent_a, &first.base, &delivery, &body));
                        let two = deliver(&agent_b, &second.base, &delivery, &body);
                        (one.join().unwrap(), two)
                    });
                    let mut answers = [one, two];
                    answers.sort_by_key(|(status, _)| *status);
                    let [(dup_status, dup), (new_status, new)] = answers;
                    assert_eq!(
                        (dup_status, new_status),
                        (200, 202),
                        "{delivery}: one replica stores it, the other finds the duplicate: {dup} / {new}"
                    );
                    assert_eq!(dup["duplicate"], true, "{dup}");
                    assert_eq!(dup["entry"], new["entry"], "{delivery}: the same entry");
                    let entry = new["entry"].as_u64().unwrap();
                    stored.lock().unwrap().insert(delivery, entry);
                }
            });
        }
    });
    stored.into_inner().unwrap()
}

fn scenario(database_url: Option<&str>) {
    let env = Env::new("evident.test/replicas");
    let mut args = Vec::new();
    if let Some(url) = database_url {
        args.extend(["--database-url", url]);
    }
    let vars = [("EVIDENT_GITHUB_WEBHOOK_SECRET", SECRET)];
    let a = env.serve_with(&args, &vars);
    let b = env.serve_with(&args, &vars);
    let stored = load(&a, &b);
    assert_eq!(stored.len(), CLIENTS * PER_CLIENT);
    let entries: BTreeSet<u64> = stored.values().copied().collect();
    assert_eq!(
        entries.len(),
        stored.len(),
        "no two deliveries share an entry"
    );

    // Both replicas read the same log.
    for server in [&a, &b] {
        let reply = server.request("GET", "/readyz", None, &[], None);
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    a.terminate();
    b.terminate();

    let mut list_args = Vec::new();
    if let Some(url) = database_url {
        list_args.extend(["--database-url", url]);
    }
    let mut verify = list_args.clone();
    verify.extend(["ledger", "verify"]);
    env.ok(&verify);
    let mut by_delivery: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (seq, entry) in entries_in_log(&env.store) {
        if let Some(delivery) = entry.record.labels.get("delivery") {
            by_delivery.entry(delivery.clone()).or_default().push(seq);
        }
    }
    assert_eq!(
        by_delivery.len(),
        stored.len(),
        "every delivery is in the log"
    );
    for (delivery, seqs) in &by_delivery {
        assert_eq!(
            seqs,
            &[stored[delivery]],
            "{delivery} is stored exactly once"
        );
    }
    // The index (in the database of the replicas) lists the same entries.
    let mut list = list_args.clone();
    list.extend(["evidence", "list", "--kind", "event", "--format", "json"]);
    let listed: BTreeSet<u64> = serde_json::from_str::<Vec<Value>>(&env.ok(&list))
        .unwrap()
        .iter()
        .map(|e| e["entry"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, entries);
}

#[test]
fn two_replicas_on_postgresql_keep_one_log() {
    let Some(url) = postgres_url("two server replicas") else {
        return;
    };
    let (database_url, schema) = fresh_schema(&url, "replicas");
    let outcome = catch_unwind(AssertUnwindSafe(|| scenario(Some(&database_url))));
    drop_schema(&url, &schema);
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
}

#[test]
fn two_replicas_on_the_embedded_store_keep_one_log() {
    scenario(None);
}

/// A schema no other run uses, in the URL of the test database, and the schema's name.
fn fresh_schema(url: &str, label: &str) -> (String, String) {
    let schema = format!(
        "evident_test_{label}_{:016x}",
        RandomState::new().build_hasher().finish()
    );
    let database_url = format!(
        "{url}{}schema={schema}",
        if url.contains('?') { '&' } else { '?' }
    );
    (database_url, schema)
}

fn drop_schema(url: &str, schema: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let index = PgIndex::connect(url, Some(schema)).await.unwrap();
            index.drop_schema().await.unwrap();
        });
}

#[test]
fn two_replicas_on_separate_hosts_share_postgresql_and_a_bucket() {
    let Some(url) = postgres_url("two server replicas with the log in S3") else {
        return;
    };
    let Some(endpoint) = s3_endpoint("two server replicas with the log in S3") else {
        return;
    };
    let config = S3Config::new("us-east-1", "evident-test", "evident-test-secret")
        .unwrap()
        .with_endpoint(endpoint.parse().unwrap())
        .unwrap();
    let bucket_name = format!(
        "evident-replicas-{:012x}",
        RandomState::new().build_hasher().finish() >> 16
    );
    S3Bucket::new(&config, &bucket_name)
        .unwrap()
        .create_bucket_with_object_lock()
        .unwrap();
    let (database_url, schema) = fresh_schema(&url, "replicas_s3");
    let blob_url = format!("s3://{bucket_name}/replicas");
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        separate_hosts(&database_url, &endpoint, &blob_url);
    }));
    drop_schema(&url, &schema);
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
}

fn separate_hosts(database_url: &str, endpoint: &str, blob_url: &str) {
    // Two store directories ("hosts") with the same signing key and nothing else in common.
    let host_a = Env::new("evident.test/replicas");
    let host_b = Env::new("evident.test/replicas");
    let key = |env: &Env| env.store.join("keys").join("signing.key");
    std::fs::copy(key(&host_a), key(&host_b)).unwrap();
    let vars = [
        ("EVIDENT_GITHUB_WEBHOOK_SECRET", SECRET),
        ("EVIDENT_S3_ENDPOINT", endpoint),
        ("AWS_ACCESS_KEY_ID", "evident-test"),
        ("AWS_SECRET_ACCESS_KEY", "evident-test-secret"),
    ];
    let args = ["--database-url", database_url, "--blob-url", blob_url];
    let a = host_a.serve_with(&args, &vars);
    let b = host_b.serve_with(&args, &vars);
    let stored = load(&a, &b);
    a.terminate();
    b.terminate();
    let entries: BTreeSet<u64> = stored.values().copied().collect();
    assert_eq!(
        entries.len(),
        CLIENTS * PER_CLIENT,
        "no two deliveries share an entry"
    );

    let run = |args: &[&str]| {
        let out = host_b
            .cmd()
            .envs(vars.iter().copied())
            .args(["--database-url", database_url, "--blob-url", blob_url])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "evident {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["ledger", "verify"]);
    let listed: BTreeSet<u64> = serde_json::from_str::<Vec<Value>>(&run(&[
        "evidence", "list", "--kind", "event", "-f", "json",
    ]))
    .unwrap()
    .iter()
    .map(|e| e["entry"].as_u64().unwrap())
    .collect();
    assert_eq!(
        listed, entries,
        "the index lists exactly the stored deliveries"
    );
    // Each delivery is the entry it was acknowledged as.
    for (delivery, seq) in &stored {
        let shown: Value =
            serde_json::from_str(&run(&["evidence", "show", &seq.to_string(), "-f", "json"]))
                .unwrap();
        assert_eq!(shown["record"]["labels"]["delivery"], delivery.as_str());
    }
    // Neither host keeps the log: it is in the bucket.
    for host in [&host_a, &host_b] {
        assert!(!host.store.join("log").join("checkpoint").exists());
        assert!(!host.store.join("blobs").exists());
    }
}
