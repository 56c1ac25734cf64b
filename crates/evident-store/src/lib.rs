//! Persistence for the evidence ledger.
//!
//! - [`blob`]: the content-addressed, write-once [`blob::BlobStore`], on the filesystem.
//! - [`s3`]: the same in an S3 bucket, each blob locked by S3 Object Lock (COMPLIANCE mode).
//! - [`tiles`]: the log's storage in the C2SP `tlog-tiles` static layout.
//! - [`index`]: the [`index::Index`] of evidence by subject, kind, control, time and predicate
//!   type, in SQLite (embedded, the default) or PostgreSQL ([`index_pg`]).

pub mod blob;
pub mod draft;
mod fsutil;
pub mod index;
pub mod index_pg;
pub mod keys;
mod pack;
pub mod prepare;
pub mod s3;
pub mod store;
pub mod tiles;
pub mod timefmt;
pub mod verify;

pub use prepare::Prepared;
pub use store::{NewEvidence, Store, StoreError, StoreOptions, Writer, default_key_path};
