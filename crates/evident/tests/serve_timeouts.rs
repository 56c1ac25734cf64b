//! `evident serve` and slow clients: the real binary on 127.0.0.1 with short time limits. A
//! client that stalls in its request head is disconnected, one that stalls in its body gets
//! `408` and nothing of it is stored, one that never reads its answers is disconnected, and a
//! graceful stop (SIGTERM) with stalled clients still
//! ends within its grace period, with every acknowledged delivery in the log. Readiness is the
//! `listening on` line; the only waits are for the server's own time limits, bounded by
//! generous margins for a loaded machine.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::server::{Env, Server, agent, github_signature};
use evident_ledger::record::EvidenceKind;
use serde_json::Value;

const SECRET: &str = "timeout-test-secret";
/// A push delivery body (its content does not matter here).
const PUSH: &[u8] =
    br#"{"ref": "refs/heads/main", "after": "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}"#;
/// Bounds every wait for the server: far above its time limits, far below "forever".
const MARGIN: Duration = Duration::from_secs(20);

/// The server with `limits` and the GitHub webhook configured.
fn serve(env: &Env, limits: &[&str]) -> Server {
    env.serve_with(limits, &[("EVIDENT_GITHUB_WEBHOOK_SECRET", SECRET)])
}

/// `127.0.0.1:PORT` of `server`.
fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// A raw HTTP/1.1 connection, for what an HTTP client library will not do: stall.
struct Raw {
    stream: BufReader<TcpStream>,
}

impl Raw {
    fn connect(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(MARGIN)).unwrap();
        stream.set_nodelay(true).unwrap();
        Self {
            stream: BufReader::new(stream),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).unwrap();
    }

    /// The head of a signed GitHub push delivery of `body`, its length declared.
    fn delivery_head(delivery: &str, body: &[u8]) -> Vec<u8> {
        format!(
            "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             X-GitHub-Event: push\r\nX-GitHub-Delivery: {delivery}\r\n\
             X-Hub-Signature-256: {}\r\nContent-Length: {}\r\n\r\n",
            github_signature(SECRET, body),
            body.len()
        )
        .into_bytes()
    }

    /// Reads one answer: its status, headers (names lowercase) and JSON body.
    fn answer(&mut self) -> (u16, BTreeMap<String, String>, Value) {
        let mut line = String::new();
        self.stream.read_line(&mut line).unwrap();
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {line:?}"));
        let mut headers = BTreeMap::new();
        loop {
            line.clear();
            self.stream.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let length: usize = headers
            .get("content-length")
            .map_or(0, |v| v.parse().unwrap());
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).unwrap();
        (
            status,
            headers,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    /// Waits for the server to close the connection (end of stream or reset) and returns
    /// whatever it sent before; fails the test after [`MARGIN`].
    fn closed_by_server(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        match self.stream.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {}
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
        rest
    }
}

/// A signed GitHub push delivery: the status and JSON answer, or why none came.
fn deliver(agent: &ureq::Agent, base: &str, delivery: &str) -> Result<(u16, Value), String> {
    let mut res = agent
        .post(format!("{base}/webhooks/github"))
        .header("Content-Type", "application/json")
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", delivery)
        .header("X-Hub-Signature-256", github_signature(SECRET, PUSH))
        .send(PUSH)
        .map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let text = res.body_mut().read_to_string().map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// The `delivery` labels of the `event` entries in the log, with their entry numbers.
fn stored_deliveries(env: &Env) -> BTreeMap<String, u64> {
    env.log_entries()
        .into_iter()
        .filter(|(_, e)| e.record.kind == EvidenceKind::Event)
        .map(|(seq, e)| (e.record.labels["delivery"].clone(), seq))
        .collect()
}

#[test]
fn a_client_that_stalls_in_its_head_is_disconnected() {
    let env = Env::new("evident.test/timeouts-head");
    let server = serve(
        &env,
        &[
            "--header-timeout",
            "300ms",
            "--body-timeout",
            "300ms",
            "--shutdown-grace",
            "500ms",
        ],
    );
    let addr = addr(&server);
    let started = Instant::now();
    // Half a request line and headers, then nothing.
    let mut stalled = Raw::connect(&addr);
    stalled.send(b"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: app");
    // Connected, and not a byte sent.
    let mut silent = Raw::connect(&addr);
    // An idle keep-alive connection after a request it was answered.
    let mut idle = Raw::connect(&addr);
    idle.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let (status, _, answer) = idle.answer();
    assert_eq!((status, answer["status"].as_str()), (200, Some("ok")));

    // No answer, just the end of the connection (hyper answers a head that timed out with
    // nothing).
    assert_eq!(stalled.closed_by_server(), b"");
    assert_eq!(silent.closed_by_server(), b"");
    assert_eq!(idle.closed_by_server(), b"");
    assert!(started.elapsed() < MARGIN, "{:?}", started.elapsed());

    // The server goes on serving.
    let (status, answer) = deliver(&agent(), &server.base, "after-stalled-head").unwrap();
    assert_eq!(status, 202, "{answer}");
    server.terminate();
    assert_eq!(
        stored_deliveries(&env).into_keys().collect::<Vec<_>>(),
        ["after-stalled-head"]
    );
}

#[test]
fn a_client_that_stalls_in_its_body_gets_408_and_nothing_is_stored() {
    let env = Env::new("evident.test/timeouts-body");
    let server = serve(
        &env,
        &[
            "--header-timeout",
            "300ms",
            "--body-timeout",
            "300ms",
            "--shutdown-grace",
            "500ms",
        ],
    );
    let addr = addr(&server);
    // A new connection for each delivery: with a header timeout of 300 ms, a pooled one may be
    // closed by the server just as it is reused.
    let (status, answer) = deliver(&agent(), &server.base, "before").unwrap();
    assert_eq!(status, 202, "{answer}");
    assert_eq!(env.list("event").len(), 1);

    // Declared length, a third of the body sent.
    let mut stalled = Raw::connect(&addr);
    stalled.send(&Raw::delivery_head("stalled-length", PUSH));
    stalled.send(&PUSH[..PUSH.len() / 3]);
    let (status, headers, answer) = stalled.answer();
    assert_eq!(status, 408, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");
    assert_eq!(headers.get("connection").map(String::as_str), Some("close"));
    assert_eq!(stalled.closed_by_server(), b"");

    // Chunked, a chunk sent and then nothing.
    let mut chunked = Raw::connect(&addr);
    let head = String::from_utf8(Raw::delivery_head("stalled-chunked", PUSH)).unwrap();
    let head = head.replace(
        &format!("Content-Length: {}", PUSH.len()),
        "Transfer-Encoding: chunked",
    );
    chunked.send(head.as_bytes());
    chunked.send(format!("{:x}\r\n", PUSH.len() / 2).as_bytes());
    chunked.send(&PUSH[..PUSH.len() / 2]);
    chunked.send(b"\r\n");
    let (status, _, answer) = chunked.answer();
    assert_eq!(status, 408, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");
    // The rest of the body, too late: not read, not stored (the server may already have
    // closed the connection, so a failed write is fine).
    let _ = chunked
        .stream
        .get_mut()
        .write_all(format!("{:x}\r\n", PUSH.len() - PUSH.len() / 2).as_bytes());
    let _ = chunked.stream.get_mut().write_all(&PUSH[PUSH.len() / 2..]);
    let _ = chunked.stream.get_mut().write_all(b"\r\n0\r\n\r\n");
    assert_eq!(chunked.closed_by_server(), b"");

    // The server goes on serving; the stalled deliveries can be delivered again, whole.
    let (status, answer) = deliver(&agent(), &server.base, "after").unwrap();
    assert_eq!(status, 202, "{answer}");
    let (status, answer) = deliver(&agent(), &server.base, "stalled-length").unwrap();
    assert_eq!(status, 202, "stored before? {answer}");
    let metrics = server.request("GET", "/metrics", None, &[], None).text();
    assert!(
        metrics
            .lines()
            .any(|l| l.contains("status=\"408\"") && !l.ends_with(" 0")),
        "{metrics}"
    );
    server.terminate();

    env.ok(&["ledger", "verify"]);
    let stored = stored_deliveries(&env);
    assert_eq!(
        stored.keys().map(String::as_str).collect::<Vec<_>>(),
        ["after", "before", "stalled-length"]
    );
    assert_eq!(env.list("event").len(), 3);
}

#[test]
fn sigterm_with_stalled_clients_stops_within_the_grace_period() {
    let env = Env::new("evident.test/timeouts-stop");
    // Read timeouts far longer than the test: only the grace period can end the stalled
    // requests.
    let grace = Duration::from_millis(500);
    let server = serve(
        &env,
        &[
            "--header-timeout",
            "10m",
            "--body-timeout",
            "10m",
            "--shutdown-grace",
            "500ms",
        ],
    );
    let addr = addr(&server);
    let base = server.base.clone();

    // A client delivers without pause until the server is gone, reporting each answer.
    let (acks_tx, acks_rx) = mpsc::channel::<(String, u16, Value)>();
    let client = std::thread::spawn(move || {
        let agent = agent();
        let mut failures = Vec::new();
        for n in 0u64.. {
            let delivery = format!("stop-{n}");
            match deliver(&agent, &base, &delivery) {
                Ok((status, answer)) => {
                    if acks_tx.send((delivery, status, answer)).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    failures.push(e);
                    break;
                }
            }
        }
        failures
    });
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    let mut answer = |(delivery, status, answer): (String, u16, Value)| {
        assert_eq!(status, 202, "{delivery}: {answer}");
        acked.insert(delivery, answer["entry"].as_u64().unwrap());
    };
    // Deliveries are flowing (a count, not a timer).
    for _ in 0..10 {
        answer(acks_rx.recv_timeout(MARGIN).unwrap());
    }

    // Stalled clients the server has taken on: each had a request answered on its connection
    // first, then stalls in the next one (in the body, in the head).
    let mut stalled_body = Raw::connect(&addr);
    let mut stalled_head = Raw::connect(&addr);
    for raw in [&mut stalled_body, &mut stalled_head] {
        raw.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assert_eq!(raw.answer().0, 200);
    }
    stalled_body.send(&Raw::delivery_head("stalled-at-stop", PUSH));
    stalled_body.send(&PUSH[..PUSH.len() / 2]);
    stalled_head.send(b"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Git");

    let stopping = Instant::now();
    server.terminate();
    let took = stopping.elapsed();
    assert!(
        took < grace + MARGIN / 2,
        "SIGTERM took {took:?} with a grace of {grace:?}"
    );
    // The stalled clients got no answer, only the end of their connection.
    assert_eq!(stalled_body.closed_by_server(), b"");
    assert_eq!(stalled_head.closed_by_server(), b"");
    let failures = client.join().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    while let Ok(a) = acks_rx.try_recv() {
        answer(a);
    }

    // Every acknowledged delivery is in the log at the entry it was acknowledged as; the stalled
    // one is not; the ledger and the index agree.
    env.ok(&["ledger", "verify"]);
    let stored = stored_deliveries(&env);
    for (delivery, entry) in &acked {
        assert_eq!(stored.get(delivery), Some(entry), "{delivery}");
    }
    assert!(!stored.contains_key("stalled-at-stop"));
    assert_eq!(env.list("event").len(), stored.len());
    eprintln!(
        "stopped in {took:?}: {} deliveries acknowledged, {} stored",
        acked.len(),
        stored.len()
    );
}

#[test]
fn a_client_that_never_reads_its_answers_is_disconnected() {
    let env = Env::new("evident.test/timeouts-write");
    // Read timeouts far longer than the test: only the write timeout can end the connection.
    let write_timeout = Duration::from_secs(1);
    let server = serve(
        &env,
        &[
            "--header-timeout",
            "10m",
            "--body-timeout",
            "10m",
            "--write-timeout",
            "1s",
        ],
    );
    let addr = addr(&server);
    let openapi_len = server
        .request("GET", "/api/openapi.json", None, &[], None)
        .body
        .len();
    assert!(openapi_len > 10_000, "{openapi_len}");

    // Pipelined requests for the OpenAPI document (about 50 kB each) without reading a byte of
    // the answers: they fill the socket buffers on both sides, the server's writes stall. The
    // client goes on sending requests until a write fails: refused once the server has closed
    // the connection (reset), or timed out when it never does.
    let started = Instant::now();
    let mut stalled = Raw::connect(&addr);
    stalled
        .stream
        .get_mut()
        .set_write_timeout(Some(MARGIN))
        .unwrap();
    let request = b"GET /api/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let mut sent = 0usize;
    let refused = loop {
        match stalled.stream.get_mut().write_all(request) {
            Ok(()) => sent += 1,
            Err(e) => break e,
        }
        // Meanwhile, other clients are served.
        if sent == 500 {
            let health = server.request("GET", "/healthz", None, &[], None);
            assert_eq!(health.status, 200);
        }
    };
    let took = started.elapsed();
    assert!(
        matches!(
            refused.kind(),
            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted
        ),
        "the server did not close the connection of a client that reads nothing: {refused} \
         after {took:?} and {sent} requests"
    );
    assert!(sent > 500, "{sent} requests sent");
    assert!(took >= write_timeout && took < MARGIN, "{took:?}");
    // Whatever the client reads now ends (end of stream or reset) before all the answers it
    // asked for.
    let rest = stalled.closed_by_server();
    assert!(
        rest.len() < sent * openapi_len,
        "{} bytes of {sent} answers",
        rest.len()
    );

    // The server goes on serving.
    let health = server.request("GET", "/healthz", None, &[], None);
    assert_eq!(
        (health.status, health.json()["status"].as_str()),
        (200, Some("ok"))
    );
    server.terminate();
}
