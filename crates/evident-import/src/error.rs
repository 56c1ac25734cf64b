//! Why a file could not be imported.

/// How to produce an importable file, appended to format errors.
pub(crate) const EXPORT_HINT: &str = "export SARIF 2.1.0 from the tool, e.g. `semgrep scan --sarif`, \
     `codeql database analyze --format=sarif-latest`, `trivy fs --format sarif`, `checkov -o sarif`, \
     `gitleaks detect --report-format sarif`";

/// A SARIF file that cannot be imported. Every variant names the input (`origin`) and where in
/// it the problem is, and says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The bytes are not JSON.
    #[error("{origin}:{line}:{column}: not valid JSON ({message}); {hint}", hint = EXPORT_HINT)]
    NotJson {
        origin: String,
        /// 1-based line of the syntax error (0 when the input is empty).
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        message: String,
    },
    /// JSON, but not a SARIF 2.1.0 log (no `runs`, another `version`, …).
    #[error("{origin}: not a SARIF 2.1.0 log: {reason}; {hint}", hint = EXPORT_HINT)]
    NotSarif { origin: String, reason: String },
    /// A SARIF property has the wrong type or an unknown value.
    #[error("{origin}: `{path}` {problem}; the file does not follow the SARIF 2.1.0 schema: {hint}", hint = EXPORT_HINT)]
    Invalid {
        origin: String,
        /// JSON path of the property, e.g. `runs[0].results[3].level`.
        path: String,
        /// What is wrong, e.g. "must be a string, found a number".
        problem: String,
    },
    /// A run whose tool has no name (and no `--tool-name` was given).
    #[error(
        "{origin}: `runs[{run}].tool.driver.name` is missing or empty: pass --tool-name NAME to name the tool"
    )]
    NoToolName { origin: String, run: usize },
    /// A tool that is in no category.
    #[error(
        "{origin}: runs[{run}]: tool `{tool}` has no category: pass --category sast|dast|sca|iac|secrets|container or map it in evident.toml `[import.tools]` (e.g. `\"{key}\" = \"sast\"`)"
    )]
    UnknownTool {
        origin: String,
        run: usize,
        /// The tool name as given.
        tool: String,
        /// The `[import.tools]` key that would map it (the lower-cased name).
        key: String,
    },
    /// A result whose rule cannot be found: no `ruleId`, no `rule.id` and no rule at `ruleIndex`.
    #[error(
        "{origin}: `runs[{run}].results[{result}]` names no rule: it has no `ruleId`, no `rule.id` and no rule at its `ruleIndex`; the tool's SARIF is incomplete, re-export it or report the bug to the tool"
    )]
    NoRuleId {
        origin: String,
        run: usize,
        result: usize,
    },
}
