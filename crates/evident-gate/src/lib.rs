//! The compliance gate: turns recorded evidence into a decision per environment.
//!
//! - [`conftest`]: inputs (YAML, JSON, HCL, Dockerfile, TOML) parsed the way Conftest parses them.
//! - [`rego`]: Rego policies (via regorus): Conftest-style checks, `opa test`-style tests, and
//!   the gate's own policies.

pub mod conftest;
pub mod rego;
