//! The local OSV advisory database: import, status, exact matching.
//!
//! - [`Db::open`] opens (or creates) an SQLite database at an explicit path.
//! - [`Db::import`] reads records from a directory of `*.json`/`*.yaml` files or an osv.dev
//!   `all.zip`; [`update`] downloads those archives (only when called).
//! - [`Db::status`] says what is there and where it came from.
//! - [`Db::match_packages`] finds every known vulnerability of an inventory's packages, by the
//!   rules in [`matching`]; [`match_advisories`] does the same in memory.
//!
//! The library never reads the clock: imports take the time as a parameter.

use jiff::Timestamp;
use serde::Serialize;

pub mod cvss;
mod db;
pub mod matching;
pub mod record;
mod update;

pub use db::Db;
pub use matching::{Match, match_advisories, preferred_rank};
pub use record::{Advisory, Affected, AffectedPackage, Event, Range, Reference, SeverityScore};
pub use update::{UpdateSummary, update};

/// Why the OSV database failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OsvError {
    #[error("OSV database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{archive}: not a readable zip archive: {message}")]
    Zip { archive: String, message: String },
    #[error("downloading {url}: {message}")]
    Http { url: String, message: String },
    #[error("OSV database: cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("{0}: expected a directory, a .zip archive or an OSV .json/.yaml record")]
    Source(String),
}

impl OsvError {
    fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        OsvError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// A file of an import that is not a valid OSV record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportError {
    /// Relative to the imported directory, or the name inside the archive.
    pub file: String,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// The path or URL imported.
    pub source: String,
    /// Valid records read.
    pub records: usize,
    /// Records whose id was not stored yet.
    pub added: usize,
    /// Stored records replaced by a newer `modified`.
    pub replaced: usize,
    /// Records not newer than the stored (or another read) one with the same id.
    pub unchanged: usize,
    /// Files that could not be read as records.
    pub errors: Vec<ImportError>,
}

/// Advisories per ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EcosystemStatus {
    /// evident's name (`crates.io`, `Debian`, `RPM`), or OSV's for ecosystems evident does not
    /// match.
    pub ecosystem: String,
    pub advisories: u64,
    pub newest_modified: Option<Timestamp>,
}

/// The latest import of one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStatus {
    pub source: String,
    pub imported_at: Timestamp,
    pub records: u64,
    pub added: u64,
    pub replaced: u64,
    pub unchanged: u64,
    pub errors: u64,
}

/// What the database holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Records stored (withdrawn ones included).
    pub advisories: u64,
    pub withdrawn: u64,
    pub newest_modified: Option<Timestamp>,
    pub ecosystems: Vec<EcosystemStatus>,
    /// In the order they were last imported.
    pub sources: Vec<SourceStatus>,
}

impl std::fmt::Display for ImportSummary {
    /// `8158 records (8158 added, 0 replaced, 0 unchanged)`, plus the files not read.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} records ({} added, {} replaced, {} unchanged)",
            self.records, self.added, self.replaced, self.unchanged
        )?;
        if !self.errors.is_empty() {
            write!(f, "; {} files are not OSV records:", self.errors.len())?;
            for e in self.errors.iter().take(5) {
                write!(f, " {}: {};", e.file, e.message)?;
            }
            if self.errors.len() > 5 {
                write!(f, " …")?;
            }
        }
        Ok(())
    }
}

fn or_unknown(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.to_string())
}

impl std::fmt::Display for Status {
    /// A few lines: totals, one line per ecosystem, one per source.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} advisories ({} withdrawn), newest modified {}",
            self.advisories,
            self.withdrawn,
            or_unknown(self.newest_modified)
        )?;
        for e in &self.ecosystems {
            writeln!(
                f,
                "  {}: {} advisories, newest modified {}",
                e.ecosystem,
                e.advisories,
                or_unknown(e.newest_modified)
            )?;
        }
        for s in &self.sources {
            writeln!(
                f,
                "  from {} at {}: {} records ({} added, {} replaced, {} unchanged, {} errors)",
                s.source, s.imported_at, s.records, s.added, s.replaced, s.unchanged, s.errors
            )?;
        }
        Ok(())
    }
}
