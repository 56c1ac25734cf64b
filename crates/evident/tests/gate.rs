//! The gate end to end through the real binary: a commit taken through dev (warn), staging and
//! prod (block) with the `evident init` configuration, exceptions granted, expired and revoked,
//! a break-glass that runs out, and every decision read back from the ledger.

mod common;

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use common::{evident, git, new_repo, shared_data, validate_json_schema};
use serde_json::Value;

struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
}

impl Repo {
    /// A repository whose commit holds an AWS key, with `evident init`'s configuration and a key.
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        let home = tmp.path().join("home");
        fs::create_dir_all(dir.join("config")).unwrap();
        fs::create_dir_all(&home).unwrap();
        new_repo(&dir);
        fs::write(
            dir.join("config/prod.env"),
            "# production settings\nAWS_ACCESS_KEY_ID=AKIAODZDOCIS2JHTLGMX\n", // evident:allow synthetic key the gate must find
        )
        .unwrap();
        let repo = Self {
            _tmp: tmp,
            dir,
            home,
        };
        repo.ok(&["init", "--no-hook"]);
        git(&repo.dir, &["add", "."]);
        git(&repo.dir, &["commit", "-q", "-m", "first"]);
        repo.ok(&["keys", "generate", "--name", "evident.test/gate"]);
        repo
    }

    fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = evident(&self.home);
        cmd.current_dir(&self.dir).env("USER", "dev@example.com");
        cmd
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd().args(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "evident {args:?}: {out}{err}");
        out
    }

    /// Runs the gate with `--format json`; returns the exit code and the decision.
    fn gate(&self, env: &str, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["gate", "--env", env, "--format", "json"];
        args.extend_from_slice(extra);
        let (code, out, err) = self.run(&args);
        assert!(code == 0 || code == 1, "gate {env}: exit {code}: {err}");
        (
            code,
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")),
        )
    }

    fn head(&self) -> String {
        git(&self.dir, &["rev-parse", "HEAD"]).trim().to_owned()
    }

    fn config_line(&self, needle: &str) -> u64 {
        let text = fs::read_to_string(self.dir.join("evident.toml")).unwrap();
        let mut section = "";
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('[') {
                section = line;
            }
            let (sec, key) = needle.split_once(' ').unwrap();
            if section == sec && line.starts_with(key) {
                return i as u64 + 1;
            }
        }
        panic!("{needle} not in evident.toml");
    }
}

fn kinds(d: &Value, list: &str) -> Vec<String> {
    d[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[allow(clippy::disallowed_methods)] // test dates are relative to the real today
fn in_days(days: i64) -> String {
    // Dates for --expires, relative to today, computed outside the binary.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .cast_signed();
    let t = jiff::Timestamp::from_second(now + days * 86_400).unwrap();
    t.strftime("%Y-%m-%d").to_string()
}

#[test]
fn a_commit_goes_from_dev_to_prod() {
    let repo = Repo::new();
    let head = repo.head();

    // dev warns and passes; nothing is required there.
    let (code, dev) = repo.gate("dev", &[]);
    assert_eq!(code, 0);
    assert_eq!(dev["decision"], "pass");
    assert_eq!(dev["environment"], "dev");
    assert_eq!(dev["subject"], format!("git:{head}"));
    assert!(dev["blocking"].as_array().unwrap().is_empty());

    // staging requires a secrets scan for this exact commit.
    let (code, staging) = repo.gate("staging", &[]);
    assert_eq!(code, 1);
    assert_eq!(kinds(&staging, "blocking"), ["missing-evidence"]);
    let reason = &staging["blocking"][0];
    assert_eq!(
        reason["because"]["line"],
        repo.config_line("[environments.staging] require")
    );
    assert!(
        reason["fix"]
            .as_str()
            .unwrap()
            .contains("evident scan secrets --record")
    );

    // The scan finds the key: it blocks staging (high) and shows as a warning in dev.
    let (code, _, _) = repo.run(&["scan", "secrets", "--record"]);
    assert_eq!(code, 1);
    let (code, staging) = repo.gate("staging", &[]);
    assert_eq!(code, 1);
    let blocking = staging["blocking"].as_array().unwrap();
    assert_eq!(blocking.len(), 1, "{staging:#}");
    let f = &blocking[0];
    assert_eq!(f["kind"], "finding");
    assert_eq!(f["check"], "aws-access-key-id");
    assert_eq!(f["path"], "config/prod.env");
    assert_eq!(f["line"], 2);
    assert!(
        f["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "soc2:CC6.1")
    );
    assert_eq!(
        f["because"]["line"],
        repo.config_line("[environments.staging] block_on")
    );
    assert!(!f["fix"].as_str().unwrap().is_empty());
    let table = staging["controls"].as_array().unwrap();
    let cc61 = table.iter().find(|c| c["control"] == "soc2:CC6.1").unwrap();
    assert_eq!(cc61["status"], "failing");
    let (code, dev) = repo.gate("dev", &[]);
    assert_eq!(code, 0);
    assert_eq!(kinds(&dev, "warnings"), ["finding"]);

    // The human form says what, why here and how to fix.
    let (code, human, _) = repo.run(&["gate", "--env", "staging", "--no-record"]);
    assert_eq!(code, 1);
    assert!(human.starts_with("BLOCK  staging"), "{human}");
    assert!(
        human.contains("finding aws-access-key-id (high) at config/prod.env:2"),
        "{human}"
    );
    assert!(human.contains("why here: evident.toml:"), "{human}");
    assert!(human.contains("Decision not recorded"), "{human}");
    assert!(
        !human.contains("AKIAODZDOCIS2JHTLGMX"), // evident:allow the synthetic key above
        "a secret in clear: {human}"
    );

    // A time-boxed exception lets it through; one that matches nothing is reported.
    let expires = in_days(10);
    let grant = |path: &str| {
        repo.run(&[
            "exception",
            "add",
            "--check",
            "aws-access-key-id",
            "--path",
            path,
            "--reason",
            "false-positive",
            "--owner",
            "owner@example.com",
            "--approver",
            "sec@example.com",
            "--expires",
            &expires,
            "--ticket",
            "SEC-1",
            "--format",
            "json",
        ])
    };
    let (code, out, err) = grant("config/**");
    assert_eq!(code, 0, "{err}");
    let id = serde_json::from_str::<Value>(&out).unwrap()["id"]
        .as_u64()
        .unwrap();
    let (code, _, _) = grant("docs/**");
    assert_eq!(code, 0);
    let (code, staging) = repo.gate("staging", &[]);
    assert_eq!(code, 0, "{staging:#}");
    assert_eq!(staging["exceptions_applied"], serde_json::json!([id]));
    assert_eq!(staging["excepted"][0]["exception"], id);
    assert_eq!(staging["unused_exceptions"].as_array().unwrap().len(), 1);
    assert!(
        staging["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == id)
    );

    // prod asks for more: every missing piece and the approval are named.
    let (code, prod) = repo.gate("prod", &[]);
    assert_eq!(code, 1);
    let missing: Vec<_> = prod["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "missing")
        .map(|e| e["requirement"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(missing, ["sast", "sca", "iac", "sbom"]);
    assert!(kinds(&prod, "blocking").contains(&"approval".to_owned()));
    // prod blocks on low: the exception (all environments) still covers the finding.
    assert!(!kinds(&prod, "blocking").contains(&"finding".to_owned()));

    // Revoked, the exception stops applying and the finding blocks staging again.
    repo.ok(&[
        "exception",
        "revoke",
        &id.to_string(),
        "--reason",
        "key rotated instead",
    ]);
    let (code, staging) = repo.gate("staging", &[]);
    assert_eq!(code, 1);
    assert!(
        staging["blocking"][0]["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("exception {id} was revoked")),
        "{staging:#}"
    );
    let list = repo.ok(&["exception", "list", "--all", "--format", "json"]);
    let list: Value = serde_json::from_str(&list).unwrap();
    let revoked = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap();
    assert_eq!(revoked["status"], "revoked");

    // Every decision is in the ledger, with the exact configuration that made it.
    let decisions = repo.ok(&[
        "evidence",
        "list",
        "--kind",
        "gate-decision",
        "--format",
        "json",
    ]);
    let decisions: Vec<Value> = serde_json::from_str(&decisions).unwrap();
    assert_eq!(decisions.len(), 7, "the --no-record run is not recorded");
    let last = decisions.last().unwrap()["entry"].as_u64().unwrap();
    let shown = repo.ok(&["evidence", "show", &last.to_string(), "--format", "json"]);
    let shown: Value = serde_json::from_str(&shown).unwrap();
    let text = shown.to_string();
    assert!(
        text.contains("https://slsa.dev/verification_summary/v1"),
        "{text}"
    );
    assert!(
        text.contains(staging["policy"]["digest"].as_str().unwrap()),
        "{text}"
    );
    assert!(text.contains("\"FAILED\""), "{text}");
    let config_sha = staging["policy"]["config"]["sha256"].as_str().unwrap();
    let toml = fs::read(repo.dir.join("evident.toml")).unwrap();
    assert_eq!(config_sha, evident_core::sha256_hex(&toml));
    let store = evident_store::Store::open(&repo.dir.join(".evident")).unwrap();
    assert_eq!(
        evident_store::blob::BlobStore::get(store.blobs(), config_sha).unwrap(),
        toml,
        "the configuration is kept as evidence"
    );
    repo.ok(&["ledger", "verify"]);
}

#[test]
#[allow(clippy::disallowed_methods)] // waits for the real expiry
fn break_glass_is_bounded_recorded_and_runs_out() {
    let repo = Repo::new();
    repo.run(&["scan", "secrets", "--record"]);
    let (code, _) = repo.gate("prod", &[]);
    assert_eq!(code, 1);

    // Longer than allowed, self-approved, or where it is not allowed: refused.
    for (args, message) in [
        (
            vec!["--duration", "5h", "--approver", "lead@example.com"],
            "longer than",
        ),
        (
            vec!["--approver", "dev@example.com"],
            "cannot be the requester",
        ),
    ] {
        let mut all = vec![
            "gate",
            "--env",
            "prod",
            "--break-glass",
            "--reason",
            "INC-7 outage",
        ];
        all.extend(args);
        let (code, _, err) = repo.run(&all);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(message), "{err}");
    }
    let (code, _, err) = repo.run(&[
        "gate",
        "--env",
        "staging",
        "--break-glass",
        "--reason",
        "x",
        "--approver",
        "lead@example.com",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not allowed in `staging`"), "{err}");

    let (code, d) = repo.gate(
        "prod",
        &[
            "--break-glass",
            "--reason",
            "INC-7 outage",
            "--approver",
            "lead@example.com",
            "--duration",
            "3s",
        ],
    );
    assert_eq!(code, 0, "{d:#}");
    assert_eq!(d["decision"], "pass");
    let bg = d["break_glass"]["entry"].as_u64().unwrap();
    assert!(
        !d["blocking"].as_array().unwrap().is_empty(),
        "the reasons stay visible"
    );
    let (_, human, _) = repo.run(&["gate", "--env", "prod", "--no-record"]);
    assert!(human.contains("BREAK-GLASS"), "{human}");
    let recorded = repo.ok(&[
        "evidence",
        "list",
        "--kind",
        "break-glass",
        "--format",
        "json",
    ]);
    assert!(recorded.contains(&format!("\"entry\": {bg}")), "{recorded}");

    // Once it runs out, prod blocks again.
    let expires: jiff::Timestamp = d["break_glass"]["expires"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        if now.as_secs().cast_signed() > expires.as_second() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let (code, after) = repo.gate("prod", &[]);
    assert_eq!(code, 1);
    assert!(after.get("break_glass").is_none());
}

#[test]
fn exceptions_are_checked_before_they_are_granted() {
    let repo = Repo::new();
    let far = in_days(60);
    let soon = in_days(5);
    let cases: [(&[&str], &str); 4] = [
        (
            &["--approver", "dev@example.com", "--expires", &soon],
            "cannot be the requester",
        ),
        (
            &["--approver", "sec@example.com", "--expires", &far],
            "longer than 30 days",
        ),
        (
            &["--approver", "sec@example.com", "--expires", "2020-01-01"],
            "not in the future",
        ),
        (
            &[
                "--approver",
                "sec@example.com",
                "--expires",
                &soon,
                "--env",
                "qa",
            ],
            "not an environment",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec![
            "exception",
            "add",
            "--check",
            "jwt",
            "--reason",
            "risk-accepted",
            "--owner",
            "owner@example.com",
        ];
        args.extend_from_slice(extra);
        let (code, _, err) = repo.run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    let (code, _, err) = repo.run(&[
        "exception",
        "add",
        "--check",
        "jwt",
        "--reason",
        "because",
        "--owner",
        "o@example.com",
        "--approver",
        "a@example.com",
        "--expires",
        &soon,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("false-positive"), "{err}");
    // Scoped to staging, 60 days fits staging's 90.
    repo.ok(&[
        "exception",
        "add",
        "--check",
        "jwt",
        "--reason",
        "risk-accepted",
        "--owner",
        "owner@example.com",
        "--approver",
        "sec@example.com",
        "--expires",
        &far,
        "--env",
        "staging",
    ]);
    let shown = repo.ok(&["exception", "list"]);
    assert!(shown.contains("jwt · env staging"), "{shown}");
}

#[test]
fn the_decision_speaks_sarif_junit_and_markdown() {
    let repo = Repo::new();
    repo.run(&["scan", "secrets", "--record"]);
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("gate.sarif");
    let (code, _, err) = repo.run(&[
        "gate",
        "--env",
        "prod",
        "--no-record",
        "--format",
        "sarif",
        "-o",
        sarif.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    validate_json_schema(
        &shared_data().join("schemas/sarif-schema-2.1.0.json"),
        &sarif,
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let finding = results
        .iter()
        .find(|r| r["ruleId"] == "aws-access-key-id")
        .unwrap();
    assert_eq!(finding["level"], "error");
    assert_eq!(
        finding["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "config/prod.env"
    );
    assert!(results.iter().any(|r| r["ruleId"] == "missing-evidence"));

    let (code, junit, _) = repo.run(&["gate", "--env", "prod", "--no-record", "--format", "junit"]);
    assert_eq!(code, 1);
    assert!(
        junit.contains("<testcase classname=\"evident.gate.prod.evidence\" name=\"sast\">"),
        "{junit}"
    );
    assert!(
        junit.contains("<failure message=\"sast evidence is missing\">"),
        "{junit}"
    );
    let (code, md, _) = repo.run(&[
        "gate",
        "--env",
        "prod",
        "--no-record",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 1);
    assert!(
        md.starts_with("### ❌ evident gate: **block** for `prod`"),
        "{md}"
    );
    assert!(
        md.contains("| finding aws-access-key-id (high) at config/prod.env:2 |"),
        "{md}"
    );
}

#[test]
fn unknown_environments_and_missing_configuration_are_usage_errors() {
    let repo = Repo::new();
    let (code, _, err) = repo.run(&["gate", "--env", "qa"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("`qa` is not configured") && err.contains("dev, prod, staging"),
        "{err}"
    );
    fs::remove_file(repo.dir.join("evident.toml")).unwrap();
    let (code, _, err) = repo.run(&["gate", "--env", "prod"]);
    assert_eq!(code, 2);
    assert!(err.contains("evident init"), "{err}");
}

fn import_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../evident-import/tests/fixtures")
        .join(name)
}

#[test]
fn imported_sarif_satisfies_requirements_and_its_findings_block() {
    let repo = Repo::new();
    let semgrep = import_fixture("semgrep.sarif");
    let out = repo.ok(&["import", semgrep.to_str().unwrap(), "--format", "json"]);
    let imported: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(imported[0]["category"], "sast");
    let n = imported[0]["findings"].as_u64().unwrap();
    assert!(n > 0);
    let (_, prod) = repo.gate("prod", &["--no-record"]);
    let sast = prod["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["requirement"] == "sast")
        .unwrap();
    assert_eq!(sast["status"], "present");
    assert_eq!(sast["entry"], imported[0]["entry"]);
    let semgrep_blocking = prod["blocking"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["check"]
                .as_str()
                .is_some_and(|c| c.starts_with("semgrep:"))
        })
        .count();
    assert!(semgrep_blocking > 0, "{prod:#}");

    // A tool evident does not know needs a category: given here, it counts as that evidence.
    let sarif =
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"acme-dast"}},"results":[]}]}"#;
    let file = repo.dir.join("acme.sarif");
    fs::write(&file, sarif).unwrap();
    let (code, _, err) = repo.run(&["import", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("--category"), "{err}");
    repo.ok(&["import", file.to_str().unwrap(), "--category", "dast"]);
    let (code, _, err) = repo.run(&["import", repo.dir.join("evident.toml").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("evident.toml"), "{err}");
}

#[test]
fn imported_secrets_never_reach_the_store_in_clear() {
    let repo = Repo::new();
    let gitleaks = import_fixture("gitleaks.sarif");
    let text = fs::read_to_string(&gitleaks).unwrap();
    let secret = text
        .split('"')
        .find(|s| s.starts_with("AKIA") && s.len() == 20)
        .expect("the fixture holds an AWS-style key")
        .to_owned();
    repo.ok(&["import", gitleaks.to_str().unwrap()]);
    let (_, staging) = repo.gate("staging", &[]);
    assert!(!staging.to_string().contains(&secret));
    for entry in walk(&repo.dir.join(".evident")) {
        let bytes = fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&secret),
            "{} holds the secret in clear",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn gate_policies_in_rego_add_reasons_and_are_recorded() {
    let repo = Repo::new();
    fs::create_dir_all(repo.dir.join("policy/gate")).unwrap();
    fs::write(
        repo.dir.join("policy/gate/tickets.rego"),
        r#"package evident.gate.tickets

import rego.v1

controls := ["soc2:CC8.1"]

deny contains msg if {
	input.environment == "staging"
	count([a | some a in input.approvals; a.labels.ticket]) == 0
	msg := {"msg": "no approval names a change ticket", "fix": "record an approval with --label ticket=CHG-…"}
}

warn contains "scans older than a day are stale" if {
	false
}
"#,
    )
    .unwrap();
    let mut toml = fs::read_to_string(repo.dir.join("evident.toml")).unwrap();
    toml = toml.replace("# [gate]\n# Gate policies in Rego (packages under `evident.gate`), files or directories:\n# policies = [\"policy/gate\"]", "[gate]\npolicies = [\"policy/gate\"]");
    assert!(toml.contains("\n[gate]\npolicies"), "the template changed");
    fs::write(repo.dir.join("evident.toml"), toml).unwrap();
    repo.run(&["scan", "secrets", "--record"]);
    let (code, d) = repo.gate("staging", &[]);
    assert_eq!(code, 1);
    let policy = d["blocking"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "policy")
        .unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(policy["check"], "policy:evident.gate.tickets");
    assert_eq!(policy["reason"], "no approval names a change ticket");
    assert_eq!(policy["controls"], serde_json::json!(["soc2:CC8.1"]));
    let rego = &d["policy"]["rego"][0];
    assert_eq!(rego["file"], "policy/gate/tickets.rego");
    let bytes = fs::read(repo.dir.join("policy/gate/tickets.rego")).unwrap();
    assert_eq!(rego["sha256"], evident_core::sha256_hex(&bytes));

    // Monitor mode for the policy: reported, not blocking.
    let mut toml = fs::read_to_string(repo.dir.join("evident.toml")).unwrap();
    toml.push_str("\n[[rollout]]\npolicy = \"evident.gate.tickets\"\nmode = \"monitor\"\n");
    fs::write(repo.dir.join("evident.toml"), toml).unwrap();
    let (_, d) = repo.gate("staging", &[]);
    assert!(
        d["blocking"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["kind"] != "policy"),
        "{d:#}"
    );
    assert_eq!(d["monitored"][0]["check"], "policy:evident.gate.tickets");
}
