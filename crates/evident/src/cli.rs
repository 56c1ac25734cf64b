//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use evident_core::Severity;

/// Compliance evidence that generates itself: security scanners, a policy gate and a signed
/// evidence ledger for CI/CD.
///
/// Exit codes: 0 clean, 1 findings at or above the failing threshold, 2 usage or input error.
#[derive(Debug, Parser)]
#[command(
    name = "evident",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Project configuration file (default: `evident.toml` at the scanned root).
    #[arg(long, global = true, value_name = "FILE", env = "EVIDENT_CONFIG")]
    pub evident_config: Option<PathBuf>,

    /// Evidence store directory (default: `.evident/` at the repository root, or in the current
    /// directory outside a repository).
    #[arg(long, global = true, value_name = "DIR", env = "EVIDENT_STORE")]
    pub store: Option<PathBuf>,

    /// Database of the evidence index: `postgres://user@host:port/database` (add
    /// `?schema=NAME` for another schema than `evident`; one per store). Default: the SQLite
    /// file in the store directory.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "EVIDENT_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Where the log (tiles, checkpoint) and the content blobs live: `s3://bucket/prefix` in an
    /// S3 bucket with Object Lock (endpoint and credentials from EVIDENT_S3_ENDPOINT,
    /// EVIDENT_S3_REGION or AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). Default: the
    /// store directory.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "EVIDENT_BLOB_URL",
        hide_env_values = true
    )]
    pub blob_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run security scanners and report findings.
    #[command(subcommand)]
    Scan(ScanCommand),
    /// Write a commented `evident.toml` and install the git pre-commit hook.
    Init(InitArgs),
    /// List every check with its severity and the controls it supports.
    Checks(ChecksArgs),
    /// List the controls of a compliance framework.
    Controls(ControlsArgs),
    /// Work with secret-detection rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Create or show the ledger's signing key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Record a piece of evidence (an approval, a deployment, a file …) in the ledger.
    ///
    /// Examples:
    ///   evident record --kind approval --control soc2:CC8.1 --actor alice --reason "reviewed PR 42"
    ///   evident record --kind deployment --subject git:$SHA --label environment=prod
    ///   evident record --kind attestation --file provenance.json --control soc2:CC8.1
    #[command(verbatim_doc_comment)]
    Record(RecordArgs),
    /// List and show recorded evidence.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Verify the ledger, print its checkpoint, prove an entry.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Build an auditor package: the evidence for a control and a period, with proofs.
    Export(ExportArgs),
    /// Verify an auditor package offline.
    VerifyPackage(VerifyPackageArgs),
    /// Decide whether a commit may go to an environment, explain why, and record the decision.
    ///
    /// Examples:
    ///   evident gate --env dev                       # the current commit, warn-only
    ///   evident gate --env prod --format markdown    # for a pull-request comment
    ///   evident gate --env prod --break-glass --reason "INC-42 outage" --approver lead@example.com
    ///
    /// Exit codes: 0 pass, 1 block, 2 error.
    #[command(verbatim_doc_comment)]
    Gate(GateArgs),
    /// Grant, list, show and revoke exceptions: time-boxed, approved risk acceptance.
    #[command(subcommand)]
    Exception(ExceptionCommand),
    /// Import another tool's SARIF 2.1.0 as findings for the current commit, as evidence.
    ///
    /// Semgrep, CodeQL, SonarQube, Trivy, Checkov, gitleaks, OWASP ZAP and any other SARIF tool.
    ///
    /// Examples:
    ///   semgrep --sarif -o semgrep.sarif && evident import semgrep.sarif
    ///   evident import zap.sarif --category dast
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),
    /// Write the SBOM of a project or an image: CycloneDX 1.6 or SPDX 2.3 JSON.
    ///
    /// Examples:
    ///   evident sbom -o sbom.cdx.json
    ///   evident sbom --format spdx app.tar -o app.spdx.json
    ///   evident sbom --record                  # also evidence for the current commit
    #[command(verbatim_doc_comment)]
    Sbom(SbomArgs),
    /// Record the pipeline and repository posture as a baseline, and catch weakenings.
    #[command(subcommand)]
    Drift(DriftCommand),
    /// The local OSV advisory database that `scan deps` matches against (offline).
    #[command(subcommand)]
    Db(DbCommand),
    /// Check files against Rego policies (Conftest-compatible) and run policy tests.
    #[command(subcommand)]
    Policy(crate::commands::policy::PolicyCommand),
    /// Receive webhooks and serve the evidence API (docs/server.md).
    ///
    /// Webhooks from GitHub, GitLab, Argo CD and Falco are recorded as evidence. Their secrets
    /// come from the environment: EVIDENT_GITHUB_WEBHOOK_SECRET, EVIDENT_GITLAB_WEBHOOK_TOKEN,
    /// EVIDENT_ARGOCD_TOKEN, EVIDENT_FALCO_TOKEN; an endpoint without its secret answers 404.
    /// The REST API under /api/v1 takes tokens from `evident token create`; /metrics and
    /// /api/openapi.json are open. Prints `listening on http://ADDR` once ready.
    ///
    /// Examples:
    ///   evident serve --listen 0.0.0.0:8080
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
    /// Create, list and revoke the API tokens of `evident serve` (each change is recorded).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Send a JSON scan report to `evident serve`, which records it as scan evidence.
    ///
    /// Examples:
    ///   evident scan secrets --format json -o secrets.json
    ///   EVIDENT_TOKEN=evt_… evident push --server https://evident.example.com --category secrets secrets.json
    ///   evident scan iac --format json | evident push --server $URL --subject git:$SHA --category iac -
    ///
    /// Prints the entry's number. Exit codes: 0 recorded, 2 refused or unreachable.
    #[command(verbatim_doc_comment)]
    Push(PushArgs),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret once, on standard output.
    ///
    /// Examples:
    ///   evident token create --role recorder --name ci-payments --expires 90d
    ///   evident token create --role auditor --name audit-2026 --expires 2026-12-31
    #[command(verbatim_doc_comment)]
    Create {
        /// What it may do: admin (everything), recorder (append only), auditor (read and
        /// export auditor packages) or viewer (read only).
        #[arg(long, value_enum)]
        role: TokenRole,
        /// A name for people: letters, digits, `.`, `_`, `-`, `@`, `:` (at most 64).
        #[arg(long, value_name = "NAME")]
        name: String,
        /// When it stops working: a duration (`90d`, `12h`, `8w`) or a date (YYYY-MM-DD, the
        /// end of that day UTC, or RFC 3339) [default: never].
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
        /// Who creates it [default: $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER].
        #[arg(long, value_name = "WHO")]
        actor: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// List the tokens (never their secrets).
    List {
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Revoke a token; a running server refuses it from its next request on.
    Revoke {
        /// The token's id (`evident token list`).
        #[arg(value_name = "ID")]
        id: String,
        /// Who revokes it [default: $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER].
        #[arg(long, value_name = "WHO")]
        actor: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenRole {
    /// Everything.
    Admin,
    /// Append evidence (CI); read nothing.
    Recorder,
    /// Read everything.
    Auditor,
    /// Read everything.
    Viewer,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The JSON scan report (`evident scan … --format json`); `-` for standard input
    /// [default: -].
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The server's base URL, e.g. https://evident.example.com.
    #[arg(long, value_name = "URL", env = "EVIDENT_SERVER")]
    pub server: String,
    /// A recorder (or admin) token; prefer EVIDENT_TOKEN, which keeps it out of process lists.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "EVIDENT_TOKEN",
        hide_env_values = true
    )]
    pub token: String,
    /// What the scan is about: git:<commit>, sha256:<digest> or env:<name> [default: the
    /// current commit].
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,
    /// secrets, sast, sca, iac, dast, container or pipeline [default: the report's scanner].
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// A control the scan supports (repeatable) [default: the controls of the report's
    /// findings].
    #[arg(long = "control", value_name = "CONTROL")]
    pub controls: Vec<String>,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0 picks a free port).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8080",
        env = "EVIDENT_LISTEN"
    )]
    pub listen: std::net::SocketAddr,

    /// The largest accepted request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 5 * 1024 * 1024)]
    pub max_body: usize,

    /// How long a client has to send a request's head (line and headers), and how long an idle
    /// keep-alive connection stays open; then the connection is closed. A duration: `500ms`,
    /// `10s`, `2m`, `1m30s`.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = evident_server::parse_duration)]
    pub header_timeout: std::time::Duration,

    /// How long a client has to send a request's body once its head arrived; then the request
    /// is answered `408 Request Timeout` and nothing of it is stored.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = evident_server::parse_duration)]
    pub body_timeout: std::time::Duration,

    /// How long a client may accept not one byte of an answer (it does not read it); then the
    /// connection is closed. A client that keeps reading, however slowly, is not cut off.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = evident_server::parse_duration)]
    pub write_timeout: std::time::Duration,

    /// On SIGTERM or Ctrl-C: how long requests in flight may still finish before their
    /// connections are closed (what was acknowledged is written either way).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = evident_server::parse_duration)]
    pub shutdown_grace: std::time::Duration,

    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// The environment (an `[environments.NAME]` table in evident.toml).
    #[arg(long, value_name = "ENV")]
    pub env: String,

    /// What goes there: git:<commit>, sha256:<digest> [default: the current commit].
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,

    #[arg(long, short = 'f', value_enum, default_value_t = GateFormat::Human)]
    pub format: GateFormat,

    /// Write the decision to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Decide without recording the decision (a preview; CI should record).
    #[arg(long)]
    pub no_record: bool,

    /// Let a blocked gate pass for a bounded time (at most the environment's
    /// `break_glass_max`); recorded loudly.
    #[arg(long, requires_all = ["reason", "approver"])]
    pub break_glass: bool,

    /// Why the break-glass is needed (an incident, a ticket).
    #[arg(long, value_name = "TEXT", requires = "break_glass")]
    pub reason: Option<String>,

    /// Who approved the break-glass (not the requester).
    #[arg(long, value_name = "WHO", requires = "break_glass")]
    pub approver: Option<String>,

    /// How long the break-glass lasts (`2h`, `30m`) [default: the environment's maximum].
    #[arg(long, value_name = "DURATION", requires = "break_glass")]
    pub duration: Option<String>,

    /// Who runs the gate [default: $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER].
    #[arg(long, value_name = "WHO")]
    pub actor: Option<String>,

    #[command(flatten)]
    pub key: KeyArgs,

    #[command(flatten)]
    pub vkey: VkeyArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GateFormat {
    /// Readable text, coloured on a terminal.
    Human,
    /// The decision contract for CI scripts (docs/gate.md).
    Json,
    /// SARIF 2.1.0: one result per reason.
    Sarif,
    /// JUnit XML: one test case per requirement and reason.
    Junit,
    /// Markdown for a pull-request comment.
    Markdown,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once
pub enum ExceptionCommand {
    /// Grant an exception (recorded in the ledger).
    ///
    /// Example:
    ///   evident exception add --check aws-access-key-id --path 'tests/fixtures/**' \
    ///     --reason false-positive --owner alice@example.com --approver sec@example.com \
    ///     --expires 2027-01-31 --ticket SEC-123
    #[command(verbatim_doc_comment)]
    Add(ExceptionAddArgs),
    /// List exceptions (active ones unless --all).
    List {
        /// Include expired and revoked exceptions.
        #[arg(long)]
        all: bool,
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        #[command(flatten)]
        vkey: VkeyArgs,
    },
    /// Show one exception.
    Show {
        /// The exception id (the entry of its grant).
        #[arg(value_name = "ID")]
        id: u64,
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        #[command(flatten)]
        vkey: VkeyArgs,
    },
    /// Revoke an exception before it expires (recorded in the ledger).
    Revoke {
        /// The exception id.
        #[arg(value_name = "ID")]
        id: u64,
        /// Why.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Who revokes it [default: the CI user or $USER].
        #[arg(long, value_name = "WHO")]
        actor: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
        #[command(flatten)]
        vkey: VkeyArgs,
    },
}

#[derive(Debug, Args)]
pub struct ExceptionAddArgs {
    /// The check id (`evident checks`), or `policy:<package>` for a gate policy.
    #[arg(long, value_name = "ID")]
    pub check: String,
    /// Only findings whose path matches this glob.
    #[arg(long, value_name = "GLOB")]
    pub path: Option<String>,
    /// Only the finding with this fingerprint.
    #[arg(long, value_name = "FINGERPRINT")]
    pub fingerprint: Option<String>,
    /// Only findings about this resource address.
    #[arg(long, value_name = "RESOURCE")]
    pub resource: Option<String>,
    /// Only in this environment (repeatable) [default: every environment].
    #[arg(long = "env", value_name = "ENV")]
    pub environments: Vec<String>,
    /// Reason code: false-positive, risk-accepted, compensating-control, not-applicable,
    /// remediation-planned.
    #[arg(long, value_name = "CODE")]
    pub reason: String,
    /// Free text explaining the decision.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// The risk owner (e-mail).
    #[arg(long, value_name = "EMAIL")]
    pub owner: String,
    /// Who approved it (e-mail; not the requester).
    #[arg(long, value_name = "EMAIL")]
    pub approver: String,
    /// When it stops applying (YYYY-MM-DD means the end of that day, UTC; or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub expires: String,
    /// A ticket or risk-register link.
    #[arg(long, value_name = "REF")]
    pub ticket: Option<String>,
    /// Who requests it [default: the CI user or $USER].
    #[arg(long, value_name = "WHO")]
    pub actor: Option<String>,
    #[command(flatten)]
    pub key: KeyArgs,
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The SARIF 2.1.0 file (`-` for standard input).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The category of every run: sast, dast, sca, iac, secrets, container [default: by tool,
    /// or `[import.tools]` in evident.toml].
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// The tool's name, for SARIF whose `tool.driver.name` is empty or generic; it then picks
    /// the category and prefixes the check ids.
    #[arg(long, value_name = "NAME")]
    pub tool_name: Option<String>,
    /// What the findings are about [default: the current commit].
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,
    #[command(flatten)]
    pub key: KeyArgs,
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct KeyArgs {
    /// The signing key file [default: `<store>/keys/signing.key`]. In CI, put the key text in
    /// EVIDENT_SIGNING_KEY instead.
    #[arg(long, value_name = "FILE", env = "EVIDENT_SIGNING_KEY_FILE")]
    pub key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VkeyArgs {
    /// The trusted verifier key (`name+keyid+base64`, or a file holding it) [default: `[ledger]
    /// verifier_key` in evident.toml, else the signing key's, else the one stored beside the log].
    #[arg(long, value_name = "KEY", env = "EVIDENT_VERIFIER_KEY")]
    pub vkey: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new Ed25519 signing key (written with owner-only permissions).
    Generate {
        /// The key's name: the origin of the log it signs [default: `evident.local/<directory name>`].
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Where to write the private key [default: `<store>/keys/signing.key`].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace an existing key file.
        #[arg(long)]
        force: bool,
    },
    /// Print the verifier key of the signing key (safe to publish).
    Show {
        #[command(flatten)]
        key: KeyArgs,
    },
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// What the evidence is: scan, sbom, approval, deployment, rollback, drift, event,
    /// attestation, exception, break-glass, gate-decision, security.
    #[arg(long, value_name = "KIND")]
    pub kind: String,

    /// What it is about: git:<commit>, sha256:<digest> or env:<name> [default: the current
    /// commit].
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,

    /// A control it supports (repeatable), e.g. soc2:CC8.1 or iso27001:A.8.32.
    #[arg(long = "control", value_name = "CONTROL")]
    pub controls: Vec<String>,

    /// Who recorded it [default: $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER].
    #[arg(long, value_name = "WHO")]
    pub actor: Option<String>,

    /// Why (goes into the signed statement).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// A ticket, change or incident reference.
    #[arg(long, value_name = "REF")]
    pub ticket: Option<String>,

    /// A label KEY=VALUE (repeatable), e.g. environment=prod.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,

    /// Attach a file as the evidence content.
    #[arg(long, value_name = "FILE", conflicts_with = "stdin")]
    pub file: Option<PathBuf>,

    /// Attach standard input as the evidence content.
    #[arg(long)]
    pub stdin: bool,

    /// Media type of the attached content [default: guessed from the file name].
    #[arg(long, value_name = "TYPE")]
    pub media_type: Option<String>,

    /// Keep the record at least until this date (RFC 3339 or YYYY-MM-DD) [default: 7 years].
    #[arg(long, value_name = "DATE")]
    pub retain_until: Option<String>,

    #[command(flatten)]
    pub key: KeyArgs,

    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct EvidenceFilter {
    /// Only evidence supporting this control (e.g. soc2:CC8.1 or CC8.1).
    #[arg(long, value_name = "CONTROL")]
    pub control: Option<String>,
    /// Only evidence about this subject (git:<commit>, sha256:<digest>, env:<name>).
    #[arg(long, value_name = "SUBJECT")]
    pub subject: Option<String>,
    /// Only evidence of this kind.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Only evidence with this in-toto predicate type.
    #[arg(long, value_name = "URI")]
    pub predicate_type: Option<String>,
    /// Recorded at or after (RFC 3339, YYYY-MM-DD or YYYY-MM).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Recorded before (RFC 3339, YYYY-MM-DD or YYYY-MM; a date means the end of that day or month).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// List evidence, oldest first.
    List {
        #[command(flatten)]
        filter: EvidenceFilter,
        /// At most N entries (the newest N).
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Show one entry: its record, signed statement and content.
    Show {
        /// The entry number.
        #[arg(value_name = "ENTRY")]
        entry: u64,
        /// Print the attached content (the first blob) instead.
        #[arg(long)]
        content: bool,
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Delete an entry's content after its retention period (the deletion is itself recorded).
    Delete {
        /// The entry number.
        #[arg(value_name = "ENTRY")]
        entry: u64,
        /// Why.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[command(flatten)]
        key: KeyArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Recompute everything from the blobs upward and check every signature; name the first
    /// bad entry. Exit 0 when intact, 1 when anything is wrong.
    Verify {
        #[command(flatten)]
        vkey: VkeyArgs,
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Print the latest signed checkpoint (C2SP tlog-checkpoint).
    Checkpoint {
        #[command(flatten)]
        vkey: VkeyArgs,
    },
    /// Print the proof of one entry (C2SP tlog-proof@v1).
    Proof {
        /// The entry number.
        #[arg(long, value_name = "N")]
        entry: u64,
        /// Prove against the tree of this size [default: the latest checkpoint]; older sizes
        /// print the inclusion proof hashes only.
        #[arg(long, value_name = "M")]
        size: Option<u64>,
        #[command(flatten)]
        vkey: VkeyArgs,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub filter: EvidenceFilter,
    /// The package to write (.tar.gz).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub vkey: VkeyArgs,
}

#[derive(Debug, Args)]
pub struct VerifyPackageArgs {
    /// The package (.tar.gz) to verify.
    #[arg(value_name = "PACKAGE")]
    pub package: PathBuf,
    /// The verifier key you trust for this log (`name+keyid+base64`, or a file holding it);
    /// without it, the key inside the package is used and its id printed for you to compare.
    #[arg(long, value_name = "KEY", env = "EVIDENT_VERIFIER_KEY")]
    pub vkey: Option<String>,
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// Find credentials in the working tree, the staged changes, git history or standard input.
    ///
    /// Examples:
    ///   evident scan secrets                    # the working tree (gitignore-aware)
    ///   evident scan secrets --staged           # pre-commit: what the next commit adds
    ///   evident scan secrets --history          # every blob reachable from any ref
    ///   evident scan secrets --since v1.2.0     # history not reachable from v1.2.0
    ///   cat file | evident scan secrets --stdin
    #[command(verbatim_doc_comment)]
    Secrets(SecretsArgs),
    /// Find known-vulnerable and licence-denied dependencies in lockfiles or an image, offline.
    ///
    /// Examples:
    ///   evident db import ./osv/PyPI.zip        # once: load advisories (or `evident db update`)
    ///   evident scan deps                       # every lockfile under the current directory
    ///   evident scan deps app.tar               # OS and language packages of an image tarball
    ///   evident scan deps --format cyclonedx    # the SBOM with its vulnerabilities section
    #[command(verbatim_doc_comment)]
    Deps(DepsArgs),
    /// Check CI definitions (GitHub Actions, GitLab CI) against the change-management controls.
    ///
    /// Examples:
    ///   evident scan pipeline                   # .github/workflows and .gitlab-ci.yml here
    ///   evident scan pipeline --format sarif    # job ids in logicalLocations
    #[command(verbatim_doc_comment)]
    Pipeline(PipelineArgs),
    /// Check repository settings (GitHub branch protection, rulesets or settings.yml; GitLab
    /// protected branches and approval rules) exported as files.
    ///
    /// Examples:
    ///   gh api repos/OWNER/REPO/branches/main/protection > protection.json
    ///   evident scan settings protection.json
    ///   GITHUB_TOKEN=… evident scan settings --github OWNER/REPO
    #[command(verbatim_doc_comment)]
    Settings(SettingsArgs),
    /// Check infrastructure as code: Terraform (HCL and plan JSON), Kubernetes, Dockerfile and
    /// CloudFormation, against the controls.
    ///
    /// Every supported file under PATH is found by itself: `*.tf` (each directory is a module;
    /// variables, tfvars, locals, count/for_each and local modules are followed), plan JSON
    /// from `terraform show -json`, Kubernetes manifests, CloudFormation templates and
    /// Dockerfiles. Suppress one finding in place with a comment on or above the line:
    /// `# evident:ignore <check-id> reason=<why>`.
    ///
    /// Examples:
    ///   evident scan iac                            # everything under the current directory
    ///   evident scan iac infra/ --var-file prod.tfvars --var env=prod
    ///   terraform show -json plan.out > plan.json && evident scan iac plan.json
    ///   helm template ./chart | evident scan iac -
    ///   evident scan iac --format sarif > iac.sarif # resource addresses in logicalLocations
    #[command(verbatim_doc_comment)]
    Iac(IacArgs),
}

#[derive(Debug, Args)]
pub struct IacArgs {
    /// A directory, a file, or `-` for standard input [default: the current directory].
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// A Terraform variable file applied to every root module (repeatable; after
    /// terraform.tfvars, *.auto.tfvars and `[iac] var_files`).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// A Terraform variable, `NAME=VALUE` (repeatable; applied last).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A registry images may come from (repeatable; adds to `[iac] approved_registries`).
    #[arg(long = "approved-registry", value_name = "REGISTRY")]
    pub approved_registries: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Record the results in the evidence ledger, for the current commit.
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// The exported settings (JSON or YAML).
    #[arg(
        value_name = "FILE",
        required_unless_present = "github",
        conflicts_with = "github"
    )]
    pub file: Option<PathBuf>,
    /// Read the default branch's protection live from the GitHub API (token from GITHUB_TOKEN
    /// or GH_TOKEN; API base from EVIDENT_GITHUB_API_URL, default https://api.github.com).
    #[arg(long, value_name = "OWNER/REPO")]
    pub github: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Record the results in the evidence ledger, for the current commit.
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Subcommand)]
pub enum DriftCommand {
    /// Record the current posture (pipeline findings and, with --settings, branch protection)
    /// as the baseline.
    Baseline(DriftArgs),
    /// Compare the posture now with the latest baseline; each weakening is a finding
    /// (exit 1). Strengthening is reported, not alarmed.
    Check(DriftArgs),
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The repository [default: the current directory].
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Repository settings exported as a file (see `evident scan settings`).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Record the comparison in the ledger too (`drift check`).
    #[arg(long)]
    pub record: bool,
    /// Post each weakening to a Slack-compatible incoming webhook (`drift check`).
    #[arg(long, value_name = "URL", env = "EVIDENT_DRIFT_WEBHOOK_URL")]
    pub notify: Option<String>,
    #[command(flatten)]
    pub key: KeyArgs,
    #[command(flatten)]
    pub vkey: VkeyArgs,
}

#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// The repository to check [default: the current directory].
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Record the results in the evidence ledger, for the current commit.
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// The OSV database file [default: `[deps] db` in evident.toml, else `<store>/osv.sqlite`].
    #[arg(long, value_name = "FILE", env = "EVIDENT_OSV_DB")]
    pub db: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Load OSV advisories from a directory of records or a zip (as osv.dev publishes them).
    Import {
        /// A directory (JSON/YAML records, recursively) or a `.zip`.
        #[arg(value_name = "PATH|ZIP")]
        source: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Download `<base-url>/<ecosystem>/all.zip` for each ecosystem and import it.
    Update {
        /// Where to download from [default: `[deps] osv_base_url`, else
        /// https://osv-vulnerabilities.storage.googleapis.com].
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// An OSV ecosystem (repeatable) [default: `[deps] ecosystems`].
        #[arg(long = "ecosystem", value_name = "NAME")]
        ecosystems: Vec<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// What the database holds: advisories per ecosystem, sources and their dates.
    Status {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    /// A directory (every lockfile under it), a lockfile, or an image (docker-archive or OCI
    /// layout tarball) [default: the current directory].
    #[arg(value_name = "PATH|IMAGE.tar")]
    pub path: Option<PathBuf>,
    #[arg(long, short = 'f', value_enum, default_value_t = SbomFormat::Cyclonedx)]
    pub format: SbomFormat,
    /// Write the SBOM to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Treat PATH as an image root filesystem (a directory) instead of a project.
    #[arg(long)]
    pub image: bool,
    /// The name of what the SBOM describes [default: `[project] name`, else the directory].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Record the SBOM in the evidence ledger for the current commit.
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Args)]
pub struct DepsArgs {
    /// A directory (every lockfile under it), a lockfile, or an image tarball
    /// [default: the current directory].
    #[arg(value_name = "PATH|IMAGE.tar")]
    pub path: Option<PathBuf>,
    /// Treat PATH as an image root filesystem (a directory) instead of a project.
    #[arg(long)]
    pub image: bool,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Record the results in the evidence ledger, for the current commit.
    #[arg(long)]
    pub record: bool,
    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)]
pub struct SecretsArgs {
    /// Directory or file to scan (default: the current directory).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,

    /// Scan only what is staged for the next commit (content that differs from HEAD).
    #[arg(long, conflicts_with_all = ["history", "stdin", "since", "range"])]
    pub staged: bool,

    /// Scan every blob reachable from all refs; findings name the commit that introduced them.
    #[arg(long, conflicts_with = "stdin")]
    pub history: bool,

    /// Scan history not reachable from REV (implies --history).
    #[arg(long, value_name = "REV", conflicts_with_all = ["range", "stdin"])]
    pub since: Option<String>,

    /// Scan the commits of a range `A..B` (implies --history).
    #[arg(long, value_name = "A..B", conflicts_with = "stdin")]
    pub range: Option<String>,

    /// Scan standard input.
    #[arg(long)]
    pub stdin: bool,

    /// The name standard input is reported under.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "<stdin>",
        requires = "stdin"
    )]
    pub stdin_name: String,

    /// A gitleaks-format TOML configuration (rules, allowlists, `[extend] useDefault`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// An ignore file of fingerprints (in addition to .evidentignore and .gitleaksignore).
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Record the results in the evidence ledger, for the current commit.
    #[arg(long)]
    pub record: bool,

    #[command(flatten)]
    pub key: KeyArgs,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity [default: low, or `[scan] fail_on`].
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Also list suppressed findings in full (human format).
    #[arg(long)]
    pub show_suppressed: bool,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse::<Severity>().map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text, coloured on a terminal (NO_COLOR respected).
    Human,
    /// The versioned JSON report (docs/json-report.md).
    Json,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// JUnit XML for CI test reports.
    Junit,
    /// CycloneDX 1.6 JSON with a `vulnerabilities` section (`scan deps` only).
    Cyclonedx,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to initialise (default: the current directory).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Overwrite an existing evident.toml.
    #[arg(long)]
    pub force: bool,

    /// Do not install the git pre-commit hook (installed by default inside a repository; it runs
    /// `evident scan secrets --staged`).
    #[arg(long)]
    pub no_hook: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChecksFormat {
    Human,
    Json,
    /// The reference page (docs/checks/*.md is generated with it).
    Markdown,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// Only the checks of this scanner (e.g. `secrets`).
    #[arg(long, value_name = "SCANNER")]
    pub scanner: Option<String>,

    /// Only checks that support this control (e.g. `soc2:CC6.1` or `CC6.1`).
    #[arg(long, value_name = "CONTROL")]
    pub control: Option<String>,

    #[arg(long, short = 'f', value_enum, default_value_t = ChecksFormat::Human)]
    pub format: ChecksFormat,
}

#[derive(Debug, Args)]
pub struct ControlsArgs {
    /// Framework: soc2, iso27001 or nist-800-53 (default: list the frameworks).
    #[arg(value_name = "FRAMEWORK")]
    pub framework: Option<String>,

    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Run every rule's examples and counter-examples through the engine.
    Check {
        /// Check the rules of a gitleaks-format configuration too.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}
