//! The pure part of the evidence ledger: no I/O, only bytes in and bytes out.
//!
//! - [`merkle`]: the RFC 6962 / RFC 9162 Merkle tree, inclusion and consistency proofs (and the
//!   subtree variants), generation and verification.
//! - [`batch`]: many Ed25519 signatures by one key, verified at once.
//! - [`note`]: C2SP signed notes with Ed25519 keys.
//! - [`checkpoint`]: C2SP `tlog-checkpoint` bodies.
//! - [`tlog_proof`]: C2SP `tlog-proof@v1`, the offline proof of one entry.
//! - [`dsse`] and [`statement`]: in-toto Statement v1 inside DSSE envelopes.
//! - [`record`]: the log entry; [`entry_view`]: the same read for verification without
//!   copying it.
//! - [`jcs`]: RFC 8785 canonical JSON, used wherever bytes are hashed or signed.

pub mod batch;
pub mod checkpoint;
pub mod dsse;
pub mod entry_view;
pub mod jcs;
mod jcs_simple;
pub mod merkle;
pub mod note;
pub mod record;
pub mod statement;
pub mod tlog_proof;

/// A SHA-256 digest: a leaf hash, a node hash or a tree root.
pub type Hash = [u8; 32];
