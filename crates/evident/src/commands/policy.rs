//! `evident policy check|test`: Rego policies, Conftest-compatible.
//!
//! `check` is Conftest's `test` (same policies, same `input`, same output), `test` is
//! `opa test`. docs/policy.md has the details.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::PathBuf;

use anstyle::{AnsiColor, Style};
use clap::{Args, Subcommand, ValueEnum};
use evident_gate::conftest::{self, Parser};
use evident_gate::rego::{CheckResult, PolicySet, TestResult};
use serde::Serialize;

use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check configuration files against Rego policies, as `conftest test` does.
    ///
    /// Rules named `deny`, `violation` (failures) and `warn` (warnings), or those names with a
    /// `_suffix`, in the namespace `main` (or --namespace) are evaluated against each document
    /// of each file. Rego v0 and v1 policies both work unchanged.
    ///
    /// Examples:
    ///   evident policy check deployment.yaml                     # policies in ./policy
    ///   evident policy check -p policies/k8s --all-namespaces manifests/
    ///   terraform show -json plan.out | evident policy check --parser json -
    ///
    /// Exit codes: 0 no failures, 1 failures (or warnings with --fail-on-warn), 2 error.
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
    /// Run Rego unit tests: every rule named `test_*`, like `opa test`.
    ///
    /// Loads every `*.rego` (tests included) under the paths, plus `data.json`/`data.yaml`
    /// files there (`dir/a/data.json` becomes `data.a`). A test passes when it is true.
    ///
    /// Exit codes: 0 all pass, 1 a test failed or errored, 2 error (a policy does not parse,
    /// no tests found).
    #[command(verbatim_doc_comment)]
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or directories to check (directories: every file a parser recognises); `-` reads
    /// standard input (needs --parser).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Policy file or directory (`*.rego`, `*_test.rego` excluded); repeatable.
    #[arg(
        short = 'p',
        long = "policy",
        value_name = "PATH",
        default_value = "policy"
    )]
    pub policy: Vec<PathBuf>,

    /// Package whose rules are evaluated; repeatable.
    #[arg(
        short = 'n',
        long = "namespace",
        value_name = "NS",
        default_value = "main"
    )]
    pub namespace: Vec<String>,

    /// Evaluate the rules of every package found.
    #[arg(long)]
    pub all_namespaces: bool,

    /// JSON or YAML file, or directory of them, loaded into `data`; repeatable.
    #[arg(short = 'd', long = "data", value_name = "PATH")]
    pub data: Vec<PathBuf>,

    /// Parse every input as this format instead of choosing by file name.
    #[arg(long, value_enum, value_name = "PARSER")]
    pub parser: Option<ParserArg>,

    /// Exit 1 when there are warnings, not only failures.
    #[arg(long)]
    pub fail_on_warn: bool,

    /// Output format.
    #[arg(long, short = 'o', alias = "output", value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy files or directories.
    #[arg(value_name = "PATH", default_value = "policy")]
    pub paths: Vec<PathBuf>,

    /// JSON or YAML file, or directory of them, loaded into `data`; repeatable.
    #[arg(short = 'd', long = "data", value_name = "PATH")]
    pub data: Vec<PathBuf>,

    /// Show where each test is and what it printed.
    #[arg(short, long)]
    pub verbose: bool,

    /// Output format.
    #[arg(long, short = 'o', alias = "output", value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable text, coloured on a terminal (NO_COLOR respected).
    Human,
    /// JSON (for `check`, Conftest's `--output json` shape).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParserArg {
    Yaml,
    Json,
    Hcl2,
    Dockerfile,
    Toml,
}

impl From<ParserArg> for Parser {
    fn from(arg: ParserArg) -> Self {
        match arg {
            ParserArg::Yaml => Parser::Yaml,
            ParserArg::Json => Parser::Json,
            ParserArg::Hcl2 => Parser::Hcl2,
            ParserArg::Dockerfile => Parser::Dockerfile,
            ParserArg::Toml => Parser::Toml,
        }
    }
}

/// Any error as a [`Failure`] (exit code 2).
fn failure(error: impl Into<anyhow::Error>) -> Failure {
    Failure(error.into())
}

pub fn run(command: &PolicyCommand) -> Result<Outcome, Failure> {
    match command {
        PolicyCommand::Check(args) => check(args),
        PolicyCommand::Test(args) => test(args),
    }
}

/// An input: its name in the output, and the documents to evaluate.
struct Input {
    name: String,
    documents: Vec<serde_json::Value>,
}

fn read_inputs(args: &CheckArgs) -> Result<Vec<Input>, Failure> {
    let parser = args.parser.map(Parser::from);
    let files = conftest::collect_files(&args.files).map_err(failure)?;
    if files.is_empty() {
        fail!(
            "no files to check in {}; name the files directly (with --parser when their names do not say their format)",
            args.files
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut inputs = Vec::new();
    for file in files {
        if file.as_os_str() == "-" {
            let Some(parser) = parser else {
                fail!(
                    "reading standard input (`-`) needs --parser, one of: {}",
                    conftest::parser_names()
                );
            };
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).map_err(failure)?;
            let value = parser.parse(&bytes).map_err(|e| {
                Failure(anyhow::anyhow!(
                    "standard input: cannot parse as {parser}: {e}"
                ))
            })?;
            inputs.push(Input {
                name: "-".to_owned(),
                documents: conftest::documents(value),
            });
            continue;
        }
        let value = conftest::parse_file(&file, parser).map_err(failure)?;
        inputs.push(Input {
            name: file.display().to_string(),
            documents: conftest::documents(value),
        });
    }
    Ok(inputs)
}

fn check(args: &CheckArgs) -> Result<Outcome, Failure> {
    let inputs = read_inputs(args)?;
    let mut policies = PolicySet::load(&args.policy, false).map_err(failure)?;
    policies.add_data(&args.data).map_err(failure)?;
    let namespaces = if args.all_namespaces {
        policies.namespaces()
    } else {
        args.namespace.clone()
    };
    let mut results = Vec::new();
    for namespace in &namespaces {
        for input in &inputs {
            results.push(
                policies
                    .check(&input.name, &input.documents, namespace)
                    .map_err(failure)?,
            );
        }
    }
    let text = match args.format {
        OutputFormat::Human => human_check(&results),
        OutputFormat::Json => {
            let shown: Vec<CheckResult> = results
                .iter()
                .cloned()
                .map(|mut r| {
                    // Conftest names standard input "" in JSON.
                    if r.filename == "-" {
                        r.filename.clear();
                    }
                    r
                })
                .collect();
            tab_indented_json(&shown)?
        }
    };
    super::print(&text)?;
    let failures = results.iter().any(|r| !r.failures.is_empty());
    let warnings = results.iter().any(|r| !r.warnings.is_empty());
    Ok(if failures || (args.fail_on_warn && warnings) {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// JSON indented with tabs, as Conftest writes it, with a final newline.
fn tab_indented_json<T: Serialize>(value: &T) -> Result<String, Failure> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut serializer).map_err(failure)?;
    out.push(b'\n');
    String::from_utf8(out).map_err(failure)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn styled(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// Conftest's standard output: `FAIL - file - namespace - message` lines, then the counts.
fn human_check(results: &[CheckResult]) -> String {
    let red = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let yellow = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
    let cyan = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
    let green = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let mut out = String::new();
    let (mut tests, mut passed, mut warnings, mut failures, mut exceptions) = (0, 0, 0, 0, 0);
    for result in results {
        let file = if result.filename == "-" {
            "-".to_owned()
        } else {
            format!("- {}", result.filename)
        };
        let prefix = format!("{file} - {} -", result.namespace);
        if result.total() == 0 {
            let _ = writeln!(out, "? {prefix} no policies found");
            continue;
        }
        for warning in &result.warnings {
            let _ = writeln!(out, "{} {prefix} {}", styled(yellow, "WARN"), warning.msg);
        }
        for failure in &result.failures {
            let _ = writeln!(out, "{} {prefix} {}", styled(red, "FAIL"), failure.msg);
        }
        for exception in &result.exceptions {
            let _ = writeln!(out, "{} {prefix} {}", styled(cyan, "EXCP"), exception.msg);
        }
        tests += result.total();
        passed += result.successes;
        warnings += result.warnings.len();
        failures += result.failures.len();
        exceptions += result.exceptions.len();
    }
    let summary = format!(
        "{}, {passed} passed, {}, {}, {}",
        plural(tests, "test"),
        plural(warnings, "warning"),
        plural(failures, "failure"),
        plural(exceptions, "exception"),
    );
    let colour = if failures > 0 {
        red
    } else if warnings > 0 {
        yellow
    } else if exceptions > 0 {
        cyan
    } else {
        green
    };
    let _ = writeln!(out, "\n{}", styled(colour, &summary));
    out
}

fn test(args: &TestArgs) -> Result<Outcome, Failure> {
    let mut policies = PolicySet::load(&args.paths, true).map_err(failure)?;
    policies.add_bundle_data(&args.paths).map_err(failure)?;
    policies.add_data(&args.data).map_err(failure)?;
    let results = policies.run_tests().map_err(failure)?;
    if results.is_empty() {
        fail!(
            "no tests (rules named `test_*`) found in {}; write them in `*_test.rego` files",
            list(&args.paths)
        );
    }
    let text = match args.format {
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(&results).map_err(failure)?;
            text.push('\n');
            text
        }
        OutputFormat::Human => human_test(&results, args.verbose),
    };
    super::print(&text)?;
    Ok(if results.iter().any(|r| r.fail || r.error.is_some()) {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn human_test(results: &[TestResult], verbose: bool) -> String {
    let red = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let green = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let yellow = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
    let mut out = String::new();
    for result in results {
        let (label, style) = if result.skip {
            ("SKIP", yellow)
        } else if result.error.is_some() {
            ("ERROR", red)
        } else if result.fail {
            ("FAIL", red)
        } else {
            ("PASS", green)
        };
        let _ = write!(out, "{}: {}", styled(style, label), result.full_name());
        if verbose {
            let _ = write!(out, " ({}:{})", result.location.file, result.location.row);
        }
        if let Some(error) = &result.error {
            let _ = write!(out, "\n  {}", error.replace('\n', "\n  "));
        }
        out.push('\n');
        if verbose || !result.passed() {
            for line in &result.output {
                let _ = writeln!(out, "  {line}");
            }
        }
    }
    let total = results.len();
    let count = |f: &dyn Fn(&TestResult) -> bool| results.iter().filter(|r| f(r)).count();
    let passed = count(&TestResult::passed);
    let failed = count(&|r| r.fail && r.error.is_none());
    let errors = count(&|r| r.error.is_some());
    let skipped = count(&|r| r.skip);
    let _ = writeln!(out, "{}", "-".repeat(80));
    let _ = writeln!(out, "{}", styled(green, &format!("PASS: {passed}/{total}")));
    if failed > 0 {
        let _ = writeln!(out, "{}", styled(red, &format!("FAIL: {failed}/{total}")));
    }
    if errors > 0 {
        let _ = writeln!(out, "{}", styled(red, &format!("ERROR: {errors}/{total}")));
    }
    if skipped > 0 {
        let _ = writeln!(
            out,
            "{}",
            styled(yellow, &format!("SKIP: {skipped}/{total}"))
        );
    }
    out
}
