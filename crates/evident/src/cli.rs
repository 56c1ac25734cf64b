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
