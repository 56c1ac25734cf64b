//! The shared model of evident.
//!
//! Every scanner describes what it can detect as [`Check`]s and reports what it found as
//! [`Finding`]s, built through [`FindingBuilder`] so that severity, confidence, location and
//! fingerprint are never forgotten. Time comes from an injected [`Clock`].

mod check;
mod clock;
pub mod config;
pub mod environments;
mod finding;
mod report;
mod severity;
mod subject;

pub use check::{Check, CheckError};
pub use clock::{Clock, FixedClock, SystemClock};
pub use config::{Config, ConfigError};
pub use finding::{Finding, FindingBuilder, Location, Suppression, SuppressionKind};
pub use report::{ScanError, ScanReport, ScanStats};
pub use severity::{Confidence, ParseLevelError, Severity};
pub use subject::Subject;

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}
