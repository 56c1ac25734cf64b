//! `evident serve` under crashes and hostile input: the real binary on 127.0.0.1, killed with
//! SIGKILL while clients deliver and restarted on the same store, then held to its promise —
//! every acknowledged delivery is in the ledger exactly once, nothing is stored twice, and the
//! ledger verifies. Readiness is the `listening on` line (no sleeps).
//!
//! What crates/evident/tests/serve.rs already covers (a forged or tampered signature, a body of
//! 5 MiB + 1 with its length declared, `{not json`, an unknown event type) is not repeated here.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::server::{Env, agent, github_signature};
use common::shared_data;
use evident_ledger::record::EvidenceKind;
use serde_json::Value;

const SECRET: &str = "crash-test-secret";
/// Client threads delivering at once.
const CLIENTS: usize = 6;
/// Runs ended by SIGKILL (a last run then checks the store and stops gracefully).
const CRASHES: usize = 4;
/// Acknowledgements a run waits for before the server is killed.
const ACKS_PER_RUN: usize = 400;
/// Every how-many-th request of a client is a redelivery of an earlier delivery.
const REDELIVER_EVERY: u64 = 4;
/// Bounds a test that went wrong; never a readiness wait.
const GIVE_UP: Duration = Duration::from_mins(2);

/// Starts the server on `env`'s store; returns once it printed its readiness line. Its
/// standard error (a line per stored delivery) goes to `serve-<name>.log` in the work directory.
fn serve(env: &Env, name: &str) -> Server {
    let log = env.dir.join(format!("serve-{name}.log"));
    let bin = assert_cmd::cargo::cargo_bin("evident");
    let mut child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(&env.dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("NO_COLOR", "1")
        .env("EVIDENT_STORE", &env.store)
        .envs(env.vars.iter().map(|(k, v)| (k, v)))
        .env("EVIDENT_GITHUB_WEBHOOK_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let Some(base) = line.trim().strip_prefix("listening on ") else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("no readiness line: {line:?}\n{}", tail(&log));
    };
    Server {
        child,
        addr: base.trim_start_matches("http://").to_owned(),
        base: base.to_owned(),
        log,
    }
}

/// The entries `evident evidence list --kind KIND` shows (the index).
fn listed(env: &Env, kind: &str) -> Vec<u64> {
    env.list(kind)
        .iter()
        .map(|r| r["entry"].as_u64().unwrap())
        .collect()
}

struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    base: String,
    /// `127.0.0.1:PORT`
    addr: String,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// SIGKILL: no chance to finish anything.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM: a graceful stop, exit code 0.
    fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}\n{}", tail(&self.log));
    }

    fn healthy(&self) -> bool {
        let agent = agent();
        agent
            .get(format!("{}/healthz", self.base))
            .call()
            .is_ok_and(|r| r.status() == 200)
    }
}

/// The last lines of a server's log, for failure messages.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(30);
    format!(
        "--- {} (last lines) ---\n{}",
        log.display(),
        lines[from..].join("\n")
    )
}

/// POSTs `body` to `path` with `headers`: the status and the JSON answer (`Null` if none), or
/// why no answer came.
fn post(
    agent: &ureq::Agent,
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, Value), String> {
    let mut req = agent.post(format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut res = req.send(body).map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string().map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// A GitHub push delivery, signed as GitHub signs it.
fn deliver(
    agent: &ureq::Agent,
    base: &str,
    delivery: &str,
    body: &[u8],
) -> Result<(u16, Value), String> {
    post(
        agent,
        base,
        "/webhooks/github",
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", delivery),
            ("X-Hub-Signature-256", &github_signature(SECRET, body)),
        ],
        body,
    )
}

/// The real GitHub push payloads of the shared data.
fn push_payloads() -> Vec<Vec<u8>> {
    let dir = shared_data().join("webhooks/github/push");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "no push payloads in {}", dir.display());
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// A small deterministic generator (xorshift64), to pick redeliveries.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// An acknowledged delivery.
#[derive(Debug, Clone, Copy)]
struct Ack {
    /// The entry every acknowledgement named.
    entry: u64,
    /// How many `202 stored` answers it got (more than one: stored twice).
    stored: u32,
}

/// The clients' books: what was sent, what was acknowledged, what went wrong.
#[derive(Default)]
struct Book {
    /// Every delivery sent, with the payload it carries (a redelivery sends the same bytes).
    sent: Vec<(String, usize)>,
    acked: HashMap<String, Ack>,
    /// Acknowledgements (first deliveries and redeliveries) in the current run.
    acks_this_run: usize,
    clients_running: usize,
    /// Requests sent, redeliveries included.
    requests: usize,
    /// Requests that got no answer because the server was killed.
    cut_off: usize,
    /// Deliveries that got no answer before a kill but were stored: a redelivery after the
    /// restart was answered as a duplicate.
    stored_unanswered: usize,
    violations: Vec<String>,
}

impl Book {
    fn record(&mut self, delivery: &str, status: u16, answer: &Value) {
        let Some(entry) = answer["entry"].as_u64() else {
            self.violations
                .push(format!("{delivery}: {status} without an entry: {answer}"));
            return;
        };
        if status == 200 && answer["duplicate"] != true {
            self.violations
                .push(format!("{delivery}: 200 that is not a duplicate: {answer}"));
        }
        let ack = self
            .acked
            .entry(delivery.to_owned())
            .or_insert(Ack { entry, stored: 0 });
        if ack.entry != entry {
            self.violations.push(format!(
                "{delivery}: acknowledged as entry {} and as entry {entry}",
                ack.entry
            ));
        }
        if status == 202 {
            ack.stored += 1;
            if ack.stored > 1 {
                self.violations
                    .push(format!("{delivery}: answered `202 stored` twice"));
            }
        }
        self.acks_this_run += 1;
    }
}

struct Shared {
    book: Mutex<Book>,
    changed: Condvar,
    /// Set just before the server is killed: from then on, failed requests are expected.
    killed: AtomicBool,
}

impl Shared {
    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap()
    }
}

/// One client: sends new deliveries (and every few requests a redelivery of any earlier one,
/// possibly still in flight elsewhere) until a request fails after the kill.
fn client(run: usize, t: usize, base: &str, payloads: &[Vec<u8>], shared: &Shared) {
    let agent = agent();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (((run as u64) << 32) | (t as u64 + 1)));
    for n in 0u64.. {
        let (delivery, payload) = {
            let mut book = shared.book();
            book.requests += 1;
            if n % REDELIVER_EVERY == REDELIVER_EVERY - 1 && !book.sent.is_empty() {
                let i = rng.below(book.sent.len());
                book.sent[i].clone()
            } else {
                let id = format!("crash-{run}-{t}-{n}");
                let payload = (t + n as usize) % payloads.len();
                book.sent.push((id.clone(), payload));
                (id, payload)
            }
        };
        let result = deliver(&agent, base, &delivery, &payloads[payload]);
        let killed = shared.killed.load(Ordering::SeqCst);
        let mut book = shared.book();
        match result {
            Ok((status @ (200 | 202), answer)) => {
                book.record(&delivery, status, &answer);
                shared.changed.notify_all();
            }
            Ok((status, answer)) => {
                book.violations
                    .push(format!("{delivery}: unexpected {status} {answer}"));
                break;
            }
            Err(e) => {
                if killed {
                    book.cut_off += 1;
                } else {
                    book.violations
                        .push(format!("{delivery}: {e} while the server was up"));
                }
                break;
            }
        }
    }
    shared.book().clients_running -= 1;
    shared.changed.notify_all();
}

/// Sends again up to `count` acknowledged deliveries (spread over all of them): each must be
/// answered as the duplicate it is, with the entry it was acknowledged as.
fn redeliver_acknowledged(server: &Server, payloads: &[Vec<u8>], shared: &Shared, count: usize) {
    let picks: Vec<(String, usize, u64)> = {
        let book = shared.book();
        let payload_of: HashMap<&str, usize> =
            book.sent.iter().map(|(d, p)| (d.as_str(), *p)).collect();
        let mut acked: Vec<(&String, &Ack)> = book.acked.iter().collect();
        acked.sort_by_key(|(_, a)| a.entry);
        let step = (acked.len() / count.max(1)).max(1);
        acked
            .iter()
            .step_by(step)
            .take(count)
            .map(|(d, a)| ((*d).clone(), payload_of[d.as_str()], a.entry))
            .collect()
    };
    let agent = agent();
    for (delivery, payload, entry) in picks {
        let (status, answer) = deliver(&agent, &server.base, &delivery, &payloads[payload])
            .unwrap_or_else(|e| panic!("{delivery}: {e}\n{}", tail(&server.log)));
        assert_eq!(status, 200, "{delivery} stored again: {answer}");
        assert_eq!(answer["duplicate"], true, "{delivery}: {answer}");
        assert_eq!(
            answer["entry"].as_u64(),
            Some(entry),
            "{delivery}: {answer}"
        );
    }
}

/// Sends again up to `count` deliveries that never got an answer (in flight at a kill): each is
/// stored now, or was stored before the kill and is a duplicate.
fn redeliver_in_doubt(server: &Server, payloads: &[Vec<u8>], shared: &Shared, count: usize) {
    let picks: Vec<(String, usize)> = {
        let book = shared.book();
        let mut seen = HashSet::new();
        book.sent
            .iter()
            .filter(|(d, _)| !book.acked.contains_key(d) && seen.insert(d.clone()))
            .take(count)
            .cloned()
            .collect()
    };
    let agent = agent();
    for (delivery, payload) in picks {
        let (status, answer) = deliver(&agent, &server.base, &delivery, &payloads[payload])
            .unwrap_or_else(|e| panic!("{delivery}: {e}\n{}", tail(&server.log)));
        assert!(matches!(status, 200 | 202), "{delivery}: {status} {answer}");
        let mut book = shared.book();
        book.requests += 1;
        if status == 200 {
            book.stored_unanswered += 1;
        }
        book.record(&delivery, status, &answer);
    }
}

#[test]
fn acknowledged_deliveries_survive_sigkill_exactly_once() {
    let started = Instant::now();
    let env = Env::new("evident.test/crash");
    let payloads = push_payloads();
    let shared = Shared {
        book: Mutex::new(Book::default()),
        changed: Condvar::new(),
        killed: AtomicBool::new(false),
    };

    for run in 0..CRASHES {
        let server = serve(&env, &format!("crash-{run}"));
        // After a crash: what was acknowledged before is known, and answered as a duplicate.
        redeliver_acknowledged(&server, &payloads, &shared, 12);
        redeliver_in_doubt(&server, &payloads, &shared, 4);
        {
            let mut book = shared.book();
            book.acks_this_run = 0;
            book.clients_running = CLIENTS;
        }
        shared.killed.store(false, Ordering::SeqCst);
        let base = server.base.clone();
        std::thread::scope(|s| {
            for t in 0..CLIENTS {
                let (base, payloads, shared) = (&base, &payloads, &shared);
                s.spawn(move || client(run, t, base, payloads, shared));
            }
            // Wait for enough acknowledgements (a count, not a timer), then SIGKILL the server
            // while every client is still sending.
            let deadline = Instant::now() + GIVE_UP;
            let mut book = shared.book();
            while book.acks_this_run < ACKS_PER_RUN {
                assert!(
                    book.clients_running == CLIENTS && book.violations.is_empty(),
                    "a client stopped: {:#?}\n{}",
                    book.violations,
                    tail(&server.log)
                );
                let left = deadline.saturating_duration_since(Instant::now());
                assert!(
                    !left.is_zero(),
                    "only {} acknowledgements in {GIVE_UP:?}",
                    book.acks_this_run
                );
                book = shared.changed.wait_timeout(book, left).unwrap().0;
            }
            drop(book);
            shared.killed.store(true, Ordering::SeqCst);
            server.kill();
        });
        let book = shared.book();
        assert!(book.violations.is_empty(), "{:#?}", book.violations);
        assert_eq!(book.clients_running, 0);
    }

    // The last run: every acknowledged delivery (of every run) is still a duplicate, and the
    // server stops gracefully.
    let server = serve(&env, "last");
    redeliver_acknowledged(&server, &payloads, &shared, 30);
    redeliver_in_doubt(&server, &payloads, &shared, usize::MAX);
    assert!(server.healthy());
    server.terminate();

    let book = shared.book.into_inner().unwrap();
    assert!(book.violations.is_empty(), "{:#?}", book.violations);
    env.ok(&["ledger", "verify"]);

    let events: Vec<(u64, BTreeMap<String, String>)> = env
        .log_entries()
        .into_iter()
        .filter(|(_, e)| e.record.kind == EvidenceKind::Event)
        .map(|(seq, e)| (seq, e.record.labels))
        .collect();
    let mut stored: HashMap<&str, Vec<u64>> = HashMap::new();
    for (seq, labels) in &events {
        assert_eq!(labels.get("platform").map(String::as_str), Some("github"));
        let delivery = labels
            .get("delivery")
            .unwrap_or_else(|| panic!("entry {seq} has no delivery label"));
        stored.entry(delivery).or_default().push(*seq);
    }
    let sent: HashSet<&str> = book.sent.iter().map(|(d, _)| d.as_str()).collect();
    for (delivery, seqs) in &stored {
        assert_eq!(
            seqs.len(),
            1,
            "{delivery} is stored more than once: {seqs:?}"
        );
        assert!(sent.contains(delivery), "{delivery} was never sent");
    }
    for (delivery, ack) in &book.acked {
        assert_eq!(
            stored.get(delivery.as_str()),
            Some(&vec![ack.entry]),
            "{delivery} was acknowledged as entry {} but the log holds {:?}",
            ack.entry,
            stored.get(delivery.as_str())
        );
    }
    // The index agrees with the log after the repairs.
    let listed = listed(&env, "event");
    let in_log: Vec<u64> = events.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(listed, in_log);

    eprintln!(
        "{CRASHES} SIGKILLs: {} deliveries sent in {} requests (redeliveries included), {} \
         acknowledged, {} stored; {} requests cut off by a kill; {} deliveries left unanswered by \
         a kill had been stored (answered as duplicates after the restart); {:.1} s",
        sent.len(),
        book.requests,
        book.acked.len(),
        events.len(),
        book.cut_off,
        book.stored_unanswered + events.len() - book.acked.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(book.acked.len() >= CRASHES * ACKS_PER_RUN * 3 / 4);
}

/// A raw HTTP/1.1 exchange, for what an HTTP client library will not send.
struct Raw {
    stream: BufReader<TcpStream>,
}

impl Raw {
    fn connect(server: &Server) -> Self {
        let stream = TcpStream::connect(&server.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_mins(1)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        Self {
            stream: BufReader::new(stream),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).unwrap();
    }

    /// The head of a signed GitHub delivery, with `framing` (`Content-Length: N` or
    /// `Transfer-Encoding: chunked`).
    fn head(delivery: &str, signature: &str, framing: &str) -> Vec<u8> {
        format!(
            "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             X-GitHub-Event: push\r\nX-GitHub-Delivery: {delivery}\r\n\
             X-Hub-Signature-256: {signature}\r\n{framing}\r\n\r\n"
        )
        .into_bytes()
    }

    /// Reads one answer: its status and JSON body.
    fn answer(&mut self) -> (u16, Value) {
        let mut line = String::new();
        self.stream.read_line(&mut line).unwrap();
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {line:?}"));
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.trim().eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

#[test]
fn hostile_input_is_refused_and_the_server_keeps_serving() {
    let env = Env::new("evident.test/hostile");
    let server = serve(&env, "hostile");
    let agent = agent();
    let push =
        std::fs::read(shared_data().join("webhooks/github/push/with-new-branch.payload.json"))
            .unwrap();
    let signed =
        |delivery: &str, body: &[u8]| deliver(&agent, &server.base, delivery, body).unwrap();
    // Deliveries that must be stored (202), and the subject each must get.
    let mut expected: Vec<(String, String)> = Vec::new();
    let mut expect = |delivery: &str, subject: &str| {
        expected.push((delivery.to_owned(), subject.to_owned()));
    };
    let push_subject = "git:6113728f27ae82c7b1a177c8d03f9e96e0adf246";

    // 1. Bodies over the 5 MiB limit: 413, whichever way they are framed, and the server goes on.
    let big = {
        let mut b = b"{\"pad\": \"".to_vec();
        b.resize(6 * 1024 * 1024 - 2, b'a');
        b.extend_from_slice(b"\"}");
        b
    };
    let sig = github_signature(SECRET, &big);
    let mut raw = Raw::connect(&server);
    raw.send(&Raw::head(
        "big-length",
        &sig,
        &format!("Content-Length: {}", big.len()),
    ));
    raw.send(&big);
    let (status, answer) = raw.answer();
    assert_eq!(status, 413, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");
    // No length declared: the body streams in chunks and is counted as it comes.
    let mut raw = Raw::connect(&server);
    raw.send(&Raw::head(
        "big-chunked",
        &sig,
        "Transfer-Encoding: chunked",
    ));
    for chunk in big.chunks(64 * 1024) {
        raw.send(format!("{:x}\r\n", chunk.len()).as_bytes());
        raw.send(chunk);
        raw.send(b"\r\n");
    }
    raw.send(b"0\r\n\r\n");
    assert_eq!(raw.answer().0, 413);
    // A declared 1 GiB: refused on the head alone, without reading (or waiting for) a byte.
    let mut raw = Raw::connect(&server);
    raw.send(&Raw::head("huge", &sig, "Content-Length: 1073741824"));
    assert_eq!(raw.answer().0, 413);
    assert_eq!(signed("after-big", &push).0, 202);
    expect("after-big", push_subject);

    // 2. Validly signed bodies that are not JSON: 400, nothing stored.
    let not_json: [(&str, Vec<u8>); 4] = [
        ("truncated", push[..push.len() / 2].to_vec()),
        ("not-utf8", b"{\"ref\": \"\xff\xfe\"}".to_vec()),
        ("empty", Vec::new()),
        // Far deeper than the parser's recursion limit: refused, not a stack overflow.
        (
            "deep",
            ["[".repeat(100_000), "]".repeat(100_000)]
                .concat()
                .into_bytes(),
        ),
    ];
    for (delivery, body) in &not_json {
        let (status, answer) = signed(delivery, body);
        assert_eq!(status, 400, "{delivery}: {answer}");
    }
    // JSON of an unexpected shape for a push: stored as it came, about no commit.
    for (delivery, body) in [
        ("shape-array", &b"[]"[..]),
        ("shape-string", b"\"push\""),
        ("shape-null", b"null"),
        (
            "shape-wrong-types",
            br#"{"after": 12, "before": [], "ref": {}, "repository": "x", "commits": "none", "sender": 7}"#,
        ),
    ] {
        let (status, answer) = signed(delivery, body);
        assert_eq!(status, 202, "{delivery}: {answer}");
        assert_eq!(answer["subject"], "env:github", "{delivery}: {answer}");
        expect(delivery, "env:github");
    }
    // No event header: stored, as event `unknown`.
    let (status, answer) = post(
        &agent,
        &server.base,
        "/webhooks/github",
        &[
            ("Content-Type", "application/json"),
            ("X-GitHub-Delivery", "no-event"),
            ("X-Hub-Signature-256", &github_signature(SECRET, &push)),
        ],
        &push,
    )
    .unwrap();
    assert_eq!(status, 202, "{answer}");
    expect("no-event", push_subject);

    // 3. Signatures that are missing or not of GitHub's form: 401, recorded with the reason.
    let good = github_signature(SECRET, &push);
    let sha1 = format!("sha1={}", &good["sha256=".len()..][..40]);
    let not_hex = format!("sha256={}", "zz".repeat(32));
    let odd = good[..good.len() - 1].to_owned();
    let rejected = [
        (None, "missing credential"),
        (Some(sha1.as_str()), "malformed credential"),
        (Some(not_hex.as_str()), "malformed credential"),
        (Some(odd.as_str()), "malformed credential"),
    ];
    for (signature, _) in &rejected {
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "badly-signed"),
        ];
        if let Some(s) = signature {
            headers.push(("X-Hub-Signature-256", s));
        }
        let (status, answer) =
            post(&agent, &server.base, "/webhooks/github", &headers, &push).unwrap();
        assert_eq!(status, 401, "{signature:?}: {answer}");
    }

    // 4. Slow clients hold their own connection, not the server: one stalls in its head, one
    // after its head in the body, one sends nothing; the others are served meanwhile.
    let mut stalled_head = Raw::connect(&server);
    stalled_head.send(b"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: app");
    let mut stalled_body = Raw::connect(&server);
    stalled_body.send(&Raw::head(
        "slow-body",
        &github_signature(SECRET, &push),
        &format!("Content-Length: {}", push.len()),
    ));
    stalled_body.send(&push[..push.len() / 3]);
    let silent = TcpStream::connect(&server.addr).unwrap();
    for i in 0..20 {
        let delivery = format!("while-stalled-{i}");
        let (status, answer) = signed(&delivery, &push);
        assert_eq!(status, 202, "{delivery}: {answer}");
        expect(&delivery, push_subject);
    }
    assert!(server.healthy());
    // The stalled body, completed at last, is stored like any other.
    stalled_body.send(&push[push.len() / 3..]);
    let (status, answer) = stalled_body.answer();
    assert_eq!(status, 202, "{answer}");
    expect("slow-body", push_subject);
    drop((stalled_head, silent));
    assert!(server.healthy());
    server.terminate();

    // Exactly the accepted deliveries were stored, each once; every refusal by credential is
    // security evidence with its reason; the ledger verifies.
    env.ok(&["ledger", "verify"]);
    let entries = env.log_entries();
    let events: Vec<(String, String)> = entries
        .iter()
        .filter(|(_, e)| e.record.kind == EvidenceKind::Event)
        .map(|(_, e)| {
            (
                e.record.labels["delivery"].clone(),
                e.record.subject.clone(),
            )
        })
        .collect();
    let mut got = events.clone();
    let mut want = expected.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let no_event = entries
        .iter()
        .find(|(_, e)| e.record.labels.get("delivery").map(String::as_str) == Some("no-event"))
        .unwrap();
    assert_eq!(no_event.1.record.labels["event"], "unknown");
    let reasons: Vec<&str> = entries
        .iter()
        .filter(|(_, e)| e.record.kind == EvidenceKind::Security)
        .map(|(_, e)| e.record.labels["reason"].as_str())
        .collect();
    let want_reasons: Vec<&str> = rejected.iter().map(|(_, r)| *r).collect();
    assert_eq!(reasons, want_reasons);
    assert_eq!(listed(&env, "event").len(), expected.len());
}
