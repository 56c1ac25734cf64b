//! `GET /api/v1/export` of `evident serve`, end to end: the real binary, real HTTP over
//! 127.0.0.1, evidence recorded with `evident record` and pushed through the API, the package
//! checked with `evident verify-package` and held to what `evident export` writes for the same
//! selection. Readiness is the `listening on` line (no sleeps).

mod common;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use common::server::{Env, Reply, Server, clean_report, commit};
use serde_json::{Value, json};

/// The name of the store's signing key.
const KEY: &str = "evident.test/export";
const CONTROL: &str = "soc2:CC8.1";

impl Env {
    /// A new token's secret.
    fn token(&self, role: &str) -> String {
        let doc = self.json(&[
            "token",
            "create",
            "--role",
            role,
            "--name",
            &format!("{role}-1"),
            "--actor",
            "ada",
            "--format",
            "json",
        ]);
        doc["token"].as_str().unwrap().to_owned()
    }

    /// The verifier key of the store's signing key.
    fn vkey(&self) -> String {
        self.ok(&["keys", "show"]).trim().to_owned()
    }

    /// `evident export <args> --out <file>` on this store: the exit code and standard error.
    fn export(&self, args: &[&str], out: &Path) -> (Option<i32>, String) {
        let run = self
            .cmd()
            .arg("export")
            .args(args)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        (
            run.status.code(),
            String::from_utf8_lossy(&run.stderr).into_owned(),
        )
    }
}

fn get(server: &Server, path: &str, token: Option<&str>) -> Reply {
    server.request("GET", path, token, &[], None)
}

/// The files of a package, by their path under `evidence-package/`.
fn files_of(package: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(package));
    let mut files = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        let rel = name.strip_prefix("evidence-package/").unwrap().to_owned();
        assert!(files.insert(rel, data).is_none(), "{name} twice");
    }
    files
}

fn manifest_of(files: &BTreeMap<String, Vec<u8>>) -> Value {
    serde_json::from_slice(&files["manifest.json"]).unwrap()
}

/// Asserts that two packages hold the same files with the same bytes. A package records when it
/// was made (the manifest's `created_at`, and the same instant as every member's mtime), so two
/// exports are not byte-identical unless made in the same second: the manifests are compared
/// without `created_at`, every other file byte for byte.
fn assert_same_package(api: &[u8], cli: &[u8]) {
    let (api, cli) = (files_of(api), files_of(cli));
    assert_eq!(
        api.keys().collect::<Vec<_>>(),
        cli.keys().collect::<Vec<_>>()
    );
    for (name, data) in &api {
        if name != "manifest.json" {
            assert!(data == &cli[name], "{name} differs");
        }
    }
    let without_time = |files: &BTreeMap<String, Vec<u8>>| {
        let mut m = manifest_of(files);
        assert!(m["created_at"].is_string(), "{m}");
        m.as_object_mut().unwrap().remove("created_at");
        m
    };
    assert_eq!(without_time(&api), without_time(&cli));
}

/// `evident verify-package <file> --vkey <vkey> --format json`: the exit code and the report.
fn verify(env: &Env, package: &Path, vkey: &str) -> (Option<i32>, Value) {
    let run = env
        .cmd()
        .args(["verify-package", "--format", "json", "--vkey", vkey])
        .arg(package)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&run.stdout).unwrap_or_else(|_| {
        panic!(
            "verify-package: {}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    });
    (run.status.code(), report)
}

#[test]
fn auditors_export_the_package_evident_export_writes() {
    let env = Env::new(KEY);
    let tokens: BTreeMap<&str, String> = ["admin", "recorder", "auditor", "viewer"]
        .into_iter()
        .map(|role| (role, env.token(role)))
        .collect();
    // Two approvals of the control (one with a file) and a deployment of another control.
    let review = env.dir.join("review.txt");
    std::fs::write(&review, "reviewed by alice and bob\n").unwrap();
    let review_path = review.to_str().unwrap();
    for args in [
        &["--subject", &commit('a'), "--reason", "review 1"][..],
        &["--subject", &commit('b'), "--file", review_path][..],
    ] {
        env.ok(&[
            &["record", "--kind", "approval", "--control", CONTROL][..],
            &["--actor", "ada"][..],
            args,
        ]
        .concat());
    }
    env.ok(&[
        "record",
        "--kind",
        "deployment",
        "--subject",
        &commit('a'),
        "--control",
        "iso27001:A.8.32",
        "--label",
        "environment=prod",
    ]);
    let server = env.serve_with(&[], &[]);
    // A scan of the control pushed through the API: its report is the entry's content.
    let push = server.request(
        "POST",
        &format!("/api/v1/evidence?subject={}&control={CONTROL}", commit('a')),
        Some(&tokens["recorder"]),
        &[("Content-Type", "application/json")],
        Some(&clean_report()),
    );
    assert_eq!(push.status, 201, "{}", push.text());
    // Entries 0-3: the token creations; 4, 5: the approvals; 6: the deployment; 7: the scan.
    let selected = json!([4, 5, 7]);

    // The auditor's package, written to a file, verifies with the published key.
    let r = get(
        &server,
        &format!("/api/v1/export?control={CONTROL}"),
        Some(&tokens["auditor"]),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/gzip"));
    let files = files_of(&r.body);
    let manifest = manifest_of(&files);
    assert_eq!(manifest["entries"], selected, "{manifest}");
    assert_eq!(manifest["filter"]["control"], CONTROL);
    assert_eq!(manifest["log_size"], 8);
    let day = &manifest["created_at"].as_str().unwrap()[..10];
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"evident-soc2-CC8.1-{day}.tar.gz\"").as_str())
    );
    let package = env.dir.join("api.tar.gz");
    std::fs::write(&package, &r.body).unwrap();
    let vkey = env.vkey();
    let (code, report) = verify(&env, &package, &vkey);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["key_trusted"], true);
    assert_eq!(report["entries"], 3);
    assert_eq!(report["blobs"], 2, "the review and the pushed report");
    assert_eq!(report["controls"], json!({ CONTROL: [4, 5, 7] }));
    let human = env.ok(&["verify-package", package.to_str().unwrap(), "--vkey", &vkey]);
    assert!(
        human.contains("3 entries, 2 content blobs")
            && human.contains("OK: every file, proof and signature verifies"),
        "{human}"
    );

    // The same package as `evident export` writes for the same selection: the control alone,
    // then with a subject and a period (a month and a date, `CC8.1` without its framework).
    let (code, stderr) = env.export(&["--control", CONTROL], &env.dir.join("cli.tar.gz"));
    assert_eq!(code, Some(0), "{stderr}");
    assert_same_package(&r.body, &std::fs::read(env.dir.join("cli.tar.gz")).unwrap());
    let (subject, from, to) = (commit('a'), "2000-01", "2999-12-31");
    let r = get(
        &server,
        &format!("/api/v1/export?control=CC8.1&subject={subject}&from={from}&to={to}"),
        Some(&tokens["admin"]),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let manifest = manifest_of(&files_of(&r.body));
    assert_eq!(manifest["entries"], json!([4, 7]), "{manifest}");
    assert_eq!(manifest["filter"]["from"], "2000-01-01T00:00:00Z");
    assert_eq!(manifest["filter"]["to"], "3000-01-01T00:00:00Z");
    let cli = env.dir.join("cli-narrow.tar.gz");
    let (code, stderr) = env.export(
        &[
            "--control",
            "CC8.1",
            "--subject",
            &subject,
            "--from",
            from,
            "--to",
            to,
        ],
        &cli,
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_same_package(&r.body, &std::fs::read(&cli).unwrap());
    let readme = String::from_utf8(files_of(&r.body)["README.md"].clone()).unwrap();
    assert!(
        readme.contains(&format!(
            "selected by control CC8.1, subject {subject}, from {from}, to {to}."
        )),
        "{readme}"
    );

    // Auditors and admins only.
    let path = format!("/api/v1/export?control={CONTROL}");
    for role in ["viewer", "recorder"] {
        let r = get(&server, &path, Some(&tokens[role]));
        assert_eq!(r.status, 403, "{role}");
        assert_eq!(
            r.json(),
            json!({ "error": "this token's role does not allow this request" })
        );
    }
    let r = get(&server, &path, None);
    assert_eq!(r.status, 401);
    assert_eq!(r.json(), json!({ "error": "authentication required" }));
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"evident\"")
    );

    // Bad parameters: a 400 naming the parameter.
    let auditor = Some(tokens["auditor"].as_str());
    for (query, names) in [
        (format!("control={CONTROL}&from=last-week"), "`from`"),
        (format!("control={CONTROL}&to=2026-13"), "`to`"),
        (format!("control={CONTROL}&subject=git:abc"), "`subject`"),
        ("control=soc2:nope".to_owned(), "`control`"),
        ("from=2026-01".to_owned(), "`control`"),
        (format!("control={CONTROL}&kind=scan"), "`kind`"),
        (format!("control={CONTROL}&control=CC6.1"), "`control`"),
    ] {
        let r = get(&server, &format!("/api/v1/export?{query}"), auditor);
        assert_eq!(r.status, 400, "{query}");
        let error = r.json()["error"].as_str().unwrap().to_owned();
        assert!(error.contains(names), "{query}: {error}");
    }
    // Nothing to export: refused, as `evident export` refuses it.
    let r = get(&server, "/api/v1/export?control=soc2:CC7.2", auditor);
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json(),
        json!({ "error": "no evidence matches the filter; nothing to export" })
    );
    let (code, stderr) = env.export(&["--control", "soc2:CC7.2"], &env.dir.join("none.tar.gz"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("no evidence matches the filter"),
        "{stderr}"
    );

    // Counted in /metrics like every route; an export is a read, not written to the ledger.
    let metrics = get(&server, "/metrics", None).text();
    assert!(
        metrics.contains(
            "evident_http_requests_total{route=\"/api/v1/export\",method=\"GET\",status=\"200\"} 2"
        ),
        "{metrics}"
    );
    let checkpoint = get(&server, "/api/v1/checkpoint", auditor).text();
    assert_eq!(checkpoint.lines().nth(1), Some("8"), "{checkpoint}");
    server.terminate();
}
