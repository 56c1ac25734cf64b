//! `evident serve` as the tests meet it: a store with a signing key, the real binary started on
//! 127.0.0.1 with a cleared environment and ready once it prints its `listening on` line (no
//! sleeps), and real HTTP requests to it.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use hmac::{Hmac, KeyInit as _, Mac as _};
use serde_json::Value;
use sha2::Sha256;

use super::evident;

/// A store with a signing key, a work directory and a private HOME.
///
/// With `EVIDENT_TEST_SERVE_BACKEND=postgres+s3` (set by `scripts/test.sh` for a second run of
/// the server suites), every command and server of the store keeps its index in a fresh schema
/// of `EVIDENT_TEST_DATABASE_URL` (dropped with the `Env`) and its log and blobs under a fresh
/// prefix of a bucket with Object Lock on `EVIDENT_TEST_S3_ENDPOINT`.
pub struct Env {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub home: PathBuf,
    pub store: PathBuf,
    /// The environment of every command and server: the backend's settings.
    pub vars: Vec<(String, String)>,
    /// The log in a bucket: the bucket and the prefix of the log's objects.
    pub bucket: Option<(evident_store::s3::S3Bucket, String)>,
    /// The index in PostgreSQL: the database URL and the schema to drop.
    schema: Option<(String, String)>,
}

/// The bucket every `Env` of this test process shares (each under a prefix of its own).
fn shared_bucket(endpoint: &str) -> evident_store::s3::S3Bucket {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let config =
        evident_store::s3::S3Config::new("us-east-1", "evident-test", "evident-test-secret")
            .unwrap()
            .with_endpoint(endpoint.parse().unwrap())
            .unwrap();
    let name = NAME.get_or_init(|| {
        let name = format!("evident-serve-{}", random_hex());
        evident_store::s3::S3Bucket::new(&config, &name)
            .unwrap()
            .create_bucket_with_object_lock()
            .unwrap();
        name
    });
    evident_store::s3::S3Bucket::new(&config, name).unwrap()
}

fn random_hex() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    format!(
        "{:016x}",
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    )
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some((url, schema)) = self.schema.take() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let _ = runtime.block_on(async {
                let index = evident_store::index_pg::PgIndex::connect(&url, Some(&schema)).await?;
                index.drop_schema().await
            });
        }
    }
}

impl Env {
    /// A new store whose signing key is named `key_name`.
    pub fn new(key_name: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("work");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let mut env = Self {
            store: tmp.path().join("store"),
            _tmp: tmp,
            dir,
            home,
            vars: Vec::new(),
            bucket: None,
            schema: None,
        };
        match std::env::var("EVIDENT_TEST_SERVE_BACKEND").as_deref() {
            Err(_) | Ok("" | "embedded") => {}
            Ok("postgres+s3") => {
                let what = "the server suites on PostgreSQL + S3";
                let url = super::postgres_url(what)
                    .unwrap_or_else(|| panic!("{what} need EVIDENT_TEST_DATABASE_URL"));
                let endpoint = super::s3_endpoint(what)
                    .unwrap_or_else(|| panic!("{what} need EVIDENT_TEST_S3_ENDPOINT"));
                let schema = format!("evident_test_serve_{}", random_hex());
                let database_url = format!(
                    "{url}{}schema={schema}",
                    if url.contains('?') { '&' } else { '?' }
                );
                let bucket = shared_bucket(&endpoint);
                let prefix = format!("store-{}", random_hex());
                env.vars = vec![
                    ("EVIDENT_DATABASE_URL".into(), database_url),
                    (
                        "EVIDENT_BLOB_URL".into(),
                        format!("s3://{}/{prefix}", bucket.name()),
                    ),
                    ("EVIDENT_S3_ENDPOINT".into(), endpoint),
                    ("AWS_ACCESS_KEY_ID".into(), "evident-test".into()),
                    ("AWS_SECRET_ACCESS_KEY".into(), "evident-test-secret".into()),
                ];
                env.bucket = Some((bucket, format!("{prefix}/log")));
                env.schema = Some((url, schema));
            }
            Ok(other) => panic!(
                "EVIDENT_TEST_SERVE_BACKEND={other}: expected `embedded` (the default) or `postgres+s3`"
            ),
        }
        env.ok(&["keys", "generate", "--name", key_name]);
        env
    }

    /// Every entry of the log (what its checkpoint covers), read from the backend's bundles.
    #[allow(dead_code)]
    pub fn log_entries(&self) -> Vec<(u64, evident_ledger::record::LogEntry)> {
        use evident_store::tiles::{TILE_WIDTH, entries_path, parse_bundle, tile_width};
        let Some(checkpoint) = self.log_resource("checkpoint") else {
            return Vec::new();
        };
        let text = String::from_utf8(checkpoint).unwrap();
        let size: u64 = text.lines().nth(1).unwrap().parse().unwrap();
        let mut out = Vec::new();
        for n in 0..size.div_ceil(TILE_WIDTH) {
            let rel = entries_path(n, tile_width(0, n, size));
            let bytes = self.log_resource(&rel).unwrap();
            for (i, entry) in parse_bundle(&rel, &bytes).unwrap().iter().enumerate() {
                out.push((
                    n * TILE_WIDTH + i as u64,
                    evident_ledger::record::LogEntry::from_bytes(entry).unwrap(),
                ));
            }
        }
        out
    }

    /// A resource of the log (`checkpoint`, `tile/…`) as the backend stores it.
    pub fn log_resource(&self, rel: &str) -> Option<Vec<u8>> {
        match &self.bucket {
            Some((bucket, prefix)) => bucket.get(&format!("{prefix}/{rel}")).unwrap(),
            None => std::fs::read(self.store.join("log").join(rel)).ok(),
        }
    }

    /// `evident` in the work directory, on this store.
    pub fn cmd(&self) -> assert_cmd::Command {
        self.cmd_in(&self.dir)
    }

    /// `evident` in `dir`, on this store.
    pub fn cmd_in(&self, dir: &Path) -> assert_cmd::Command {
        let mut cmd = evident(&self.home);
        cmd.current_dir(dir)
            .env("EVIDENT_STORE", &self.store)
            .envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Standard output of a run that must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "evident {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The JSON output of a run that must succeed.
    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// The stored records of `kind`, as `evidence list` shows them.
    pub fn list(&self, kind: &str) -> Vec<Value> {
        let text = self.ok(&["evidence", "list", "--kind", kind, "--format", "json"]);
        serde_json::from_str::<Vec<Value>>(&text).unwrap()
    }

    /// `evident serve --listen 127.0.0.1:0 <args>` on this store, with only PATH, HOME,
    /// NO_COLOR, EVIDENT_STORE and `vars` in its environment, once it is listening.
    pub fn serve_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Server {
        self.serve_to(args, vars, Stdio::inherit())
    }

    /// [`Env::serve_with`], with the server's standard error written to `log`.
    #[allow(dead_code)]
    pub fn serve_logged(&self, args: &[&str], vars: &[(&str, &str)], log: &Path) -> Server {
        self.serve_to(args, vars, std::fs::File::create(log).unwrap().into())
    }

    fn serve_to(&self, args: &[&str], vars: &[(&str, &str)], stderr: Stdio) -> Server {
        let bin = assert_cmd::cargo::cargo_bin("evident");
        let mut child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("NO_COLOR", "1")
            .env("EVIDENT_STORE", &self.store)
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
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
            agent: test_agent(None),
        }
    }
}

/// A running `evident serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    agent: ureq::Agent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP reply, whatever its status.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (the test fails when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            panic!(
                "not JSON ({}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    /// A `GET` or `POST` to `path`, with `token` as the bearer token and `headers` besides.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut res = match method {
            "GET" => with_headers(self.agent.get(&url), token, headers)
                .call()
                .unwrap(),
            "POST" => with_headers(self.agent.post(&url), token, headers)
                .send(body.unwrap_or_default())
                .unwrap(),
            other => panic!("{other}"),
        };
        let status = res.status().as_u16();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = res
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// SIGTERM: a graceful stop, exit code 0.
    pub fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }

    /// SIGKILL.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// `req` with `token` as its bearer token and `headers` besides.
fn with_headers<B>(
    mut req: ureq::RequestBuilder<B>,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> ureq::RequestBuilder<B> {
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req
}

/// The subject of a commit whose id is `c` forty times.
pub fn commit(c: char) -> String {
    format!("git:{}", c.to_string().repeat(40))
}

/// The smallest valid evident JSON scan report, clean.
pub fn clean_report() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schema_version": 1,
        "tool": { "name": "evident", "version": "0.1.0" },
        "scanner": "iac",
        "root": ".",
        "started_at": "2026-03-01T10:00:00Z",
        "fail_on": "low",
        "summary": {},
        "findings": [],
        "errors": [],
        "notes": []
    }))
    .unwrap()
}

/// The `X-Hub-Signature-256` GitHub sends with `body` when the webhook's secret is `secret`.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Every entry of the log at `store` (what the checkpoint covers), read from the tiles
/// themselves.
#[allow(dead_code)]
pub fn entries_in_log(store: &Path) -> Vec<(u64, evident_ledger::record::LogEntry)> {
    use evident_store::tiles::{TILE_WIDTH, tile_width};
    let store = evident_store::Store::open(store).unwrap();
    let size = store.checkpoint_unverified().unwrap().map_or(0, |c| c.size);
    let mut out = Vec::new();
    for n in 0..size.div_ceil(TILE_WIDTH) {
        let bundle = store
            .tiles()
            .read_entries(n, tile_width(0, n, size))
            .unwrap();
        for (i, bytes) in bundle.iter().enumerate() {
            out.push((
                n * TILE_WIDTH + i as u64,
                evident_ledger::record::LogEntry::from_bytes(bytes).unwrap(),
            ));
        }
    }
    out
}

/// An HTTP agent that returns every status as a reply and gives up after 30 s.
#[allow(dead_code)]
pub fn agent() -> ureq::Agent {
    test_agent(Some(std::time::Duration::from_secs(30)))
}

/// An agent that returns every status as a reply and opens a connection per request: a pooled
/// connection the server has closed meanwhile (HTTP lets it close an idle one at any time; it
/// also closes one whose request body a handler did not read) fails a request that was never
/// sent, which ureq does not retry for a POST. The tests are about answers, not connection reuse.
fn test_agent(timeout: Option<std::time::Duration>) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(timeout)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .build()
        .new_agent()
}
