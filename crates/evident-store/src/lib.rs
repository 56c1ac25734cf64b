//! Persistence for the evidence ledger.
//!
//! - [`blob`]: the content-addressed, write-once [`blob::BlobStore`] (filesystem now).
//! - [`tiles`]: the log's storage in the C2SP `tlog-tiles` static layout.
//! - [`index`]: the [`index::Index`] of evidence by subject, kind, control, time and predicate
//!   type (SQLite now).

pub mod blob;
pub mod index;
pub mod tiles;
