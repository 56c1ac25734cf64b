//! evident's secret scanner.
//!
//! Rules are data (`rules/*.toml`), each with examples it must and must not match. A single
//! Aho-Corasick automaton finds rule keywords; a rule's regex only runs in a window around its
//! keyword hits, so most input is never touched by a regex. Candidates pass through format
//! validators (checksums, JWT structure) and false-positive filters (placeholders, variable
//! references, hashes) before they become redacted findings.

pub mod allowlist;
pub mod decode;
pub mod engine;
pub mod filters;
pub mod findings;
pub mod git;
pub mod gitleaks;
pub mod ignorefile;
pub mod redact;
pub mod rules;
pub mod scanner;
pub mod selftest;
pub mod source;
pub mod validate;

pub use engine::{Candidate, Engine, InputKind};
pub use git::HistoryRange;
pub use rules::{Rule, RuleError, builtin_rules};
pub use scanner::{Options, Scanner, ScannerError};
