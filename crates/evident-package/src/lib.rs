//! The auditor package: the evidence of a selection of the ledger (a control, a period, a
//! subject), with everything needed to check it offline, as one `.tar.gz`.
//!
//! - [`build()`]: reads the selected entries from a store and assembles the package's files
//!   (manifest, entries, envelopes, content blobs, inclusion proofs, checkpoint, verifier key,
//!   index by control, README); [`Package::write_tar_gz`] writes them as a deterministic
//!   `.tar.gz` into any writer (a file for `evident export`, a response body for
//!   `GET /api/v1/export`).
//! - [`read_package`] and [`verify_package`]: read a `.tar.gz` back, refusing unsafe archives,
//!   and check every file hash, signature and proof against a trusted key, reporting each
//!   problem rather than stopping at the first.
//! - [`parse_bound`]: the time bounds of a selection as the command line and the API take them.
//!
//! The layout is documented in docs/ledger.md; scripts/verify_package.py checks it without any
//! evident code.

mod archive;
mod build;
mod readme;
mod scope;
mod verify;

use std::collections::BTreeMap;

pub use archive::{MAX_FILE_SIZE, ReadError, WriteError, read_package};
pub use build::{BuildError, Package, build};
pub use scope::{BoundError, Scope, parse_bound};
pub use verify::{
    EntryProblem, PackageProblem, PackageReport, VerifyError, check_entry, verify_package,
};

/// The package format this build writes and reads.
pub const PACKAGE_FORMAT: &str = "evident-package/v1";

/// The files of a package by their path under `evidence-package/`, in path order.
pub type Files = BTreeMap<String, Vec<u8>>;

#[cfg(test)]
mod fixture;
