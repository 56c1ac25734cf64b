//! The compliance gate: turns recorded evidence into a decision per environment.
//!
//! - [`policy`]: an environment's effective settings (tightened by tier and classification,
//!   with rollouts), each citing the configuration line it comes from.
//! - [`decision`]: evidence, findings, approvals, exceptions and break-glass → pass or block.
//! - [`exception`]: risk acceptance, scoped and time-boxed.
//! - [`conftest`]: inputs (YAML, JSON, HCL, Dockerfile, TOML) parsed the way Conftest parses them.
//! - [`rego`]: Rego policies (via regorus): Conftest-style checks, `opa test`-style tests, and
//!   the gate's own policies.

pub mod conftest;
pub mod decision;
pub mod exception;
pub mod input;
pub mod policy;
pub mod rego;
pub mod requirement;

/// A gate that cannot decide.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    #[error(
        "environment `{name}` is not configured in {file} (configured: {defined}); add an [environments.{name}] table, or run `evident init` for a commented default"
    )]
    UnknownEnvironment {
        name: String,
        defined: String,
        file: String,
    },
    #[error("{0}")]
    Config(String),
}
