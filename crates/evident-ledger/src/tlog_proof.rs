//! C2SP transparency log proofs, `c2sp.org/tlog-proof@v1` (<https://c2sp.org/tlog-proof>).
//!
//! An offline proof that one entry is in a log: the entry's index, an RFC 6962 inclusion
//! proof, and the log's signed checkpoint (with any witness cosignatures), as text:
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 of opaque extra data>      (optional line)
//! index <decimal index, no leading zeroes>
//! <base64 proof hash>                      (zero or more lines, leaf's sibling first)
//!
//! <the signed checkpoint note, verbatim>
//! ```
//!
//! The extra data is not authenticated: nothing in [`TlogProof::verify`] depends on it.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Hash;
use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::merkle::{self, ProofError};
use crate::note::{self, NoteError, Verifier};

/// The first line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The most proof hashes a proof may have: a tree of at most 2^64 leaves has at most 64 levels.
pub const MAX_PROOF_HASHES: usize = 64;

/// The largest proof text [`TlogProof::parse`] accepts, in bytes.
pub const MAX_PROOF_BYTES: usize = 2 * note::MAX_NOTE_BYTES;

/// What went wrong formatting, parsing or verifying a proof.
///
/// Line numbers count from 1 over the whole proof text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlogProofError {
    /// The proof is larger than [`MAX_PROOF_BYTES`].
    #[error("proof is {size} bytes, more than the limit of {max} bytes")]
    TooLarge {
        /// The size of the proof.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The proof is not valid UTF-8.
    #[error("line {line}: proof is not valid UTF-8")]
    InvalidUtf8 {
        /// The line of the first invalid byte.
        line: usize,
    },
    /// A line before the checkpoint is malformed or missing.
    #[error("line {line}: malformed tlog-proof: {reason}")]
    Malformed {
        /// The offending line.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The checkpoint is not a well-formed signed note.
    #[error("the checkpoint note (from line {line}) is malformed: {source}")]
    MalformedCheckpointNote {
        /// The first line of the checkpoint.
        line: usize,
        /// What is wrong with it (its line numbers count over the whole proof).
        source: NoteError,
    },
    /// The checkpoint note's text is not a well-formed checkpoint.
    #[error("the checkpoint (from line {line}) is malformed: {source}")]
    MalformedCheckpoint {
        /// The first line of the checkpoint.
        line: usize,
        /// What is wrong with it (its line numbers count over the whole proof).
        source: CheckpointError,
    },
    /// A [`TlogProof`] value cannot be written as proof text.
    #[error("invalid tlog-proof: {0}")]
    Invalid(&'static str),
    /// The checkpoint does not verify (see [`checkpoint::open_checkpoint`]); line numbers in
    /// it count within the checkpoint note.
    #[error("the checkpoint does not verify: {0}")]
    Checkpoint(#[source] CheckpointError),
    /// The index is not below the checkpoint's tree size.
    #[error("entry index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The entry index.
        index: u64,
        /// The checkpoint's tree size.
        size: u64,
    },
    /// The inclusion proof does not lead from the entry to the checkpoint's root.
    #[error("the inclusion proof does not verify: {0}")]
    Inclusion(#[source] ProofError),
}

/// A parsed `c2sp.org/tlog-proof@v1` proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data; `None` when there is no `extra` line. Never
    /// `Some` of an empty vector in a valid proof.
    pub extra: Option<Vec<u8>>,
    /// The zero-based index of the entry in the log.
    pub index: u64,
    /// The RFC 6962 inclusion proof, from the leaf's sibling up to a child of the root.
    pub proof: Vec<Hash>,
    /// The log's signed checkpoint note, verbatim (ending in a newline).
    pub checkpoint: String,
}

impl TlogProof {
    /// Writes the proof text.
    ///
    /// Fails if `extra` is `Some` but empty (omit it instead), if there are more than
    /// [`MAX_PROOF_HASHES`] hashes, or if `checkpoint` is not a well-formed signed note whose
    /// text is a well-formed checkpoint. Signatures are not verified here.
    pub fn format(&self) -> Result<String, TlogProofError> {
        if self.extra.as_ref().is_some_and(Vec::is_empty) {
            return Err(TlogProofError::Invalid(
                "the extra data is empty (use None for no extra data)",
            ));
        }
        if self.proof.len() > MAX_PROOF_HASHES {
            return Err(TlogProofError::Invalid("more than 64 proof hashes"));
        }
        let mut text = String::with_capacity(64 + 45 * self.proof.len() + self.checkpoint.len());
        text.push_str(HEADER);
        text.push('\n');
        // Writing to a String cannot fail.
        if let Some(extra) = &self.extra {
            let _ = writeln!(text, "extra {}", STANDARD.encode(extra));
        }
        let _ = writeln!(text, "index {}", self.index);
        for hash in &self.proof {
            let _ = writeln!(text, "{}", STANDARD.encode(hash));
        }
        text.push('\n');
        let first_line = text.split('\n').count();
        check_checkpoint(&self.checkpoint, first_line)?;
        text.push_str(&self.checkpoint);
        if text.len() > MAX_PROOF_BYTES {
            return Err(TlogProofError::TooLarge {
                size: text.len(),
                max: MAX_PROOF_BYTES,
            });
        }
        Ok(text)
    }

    /// Parses a proof text strictly.
    ///
    /// Every line ends in a newline (no carriage returns); the header line is exact; numbers
    /// are decimal without leading zeroes; base64 is canonical standard base64; the checkpoint
    /// must be a well-formed signed note whose text is a well-formed checkpoint (its
    /// signatures are checked by [`verify`](Self::verify), not here). Never panics.
    pub fn parse(text: &[u8]) -> Result<Self, TlogProofError> {
        if text.len() > MAX_PROOF_BYTES {
            return Err(TlogProofError::TooLarge {
                size: text.len(),
                max: MAX_PROOF_BYTES,
            });
        }
        let text = std::str::from_utf8(text).map_err(|e| TlogProofError::InvalidUtf8 {
            line: text[..e.valid_up_to()].split(|&b| b == b'\n').count(),
        })?;
        let mut lines = Lines {
            rest: text,
            line: 0,
        };

        let (number, header) = lines.next_line()?;
        if header != HEADER {
            return Err(malformed(
                number,
                "the first line must be `c2sp.org/tlog-proof@v1`",
            ));
        }

        let (mut number, mut line) = lines.next_line()?;
        let mut extra = None;
        if let Some(encoded) = line.strip_prefix("extra ") {
            if encoded.is_empty() {
                return Err(malformed(
                    number,
                    "the extra data is empty (omit the line instead)",
                ));
            }
            let bytes = STANDARD.decode(encoded).map_err(|_| {
                malformed(number, "the extra data is not canonical standard base64")
            })?;
            extra = Some(bytes);
            (number, line) = lines.next_line()?;
        } else if line.starts_with("extra") {
            return Err(malformed(number, "expected `extra <base64>`"));
        }

        let index = line
            .strip_prefix("index ")
            .ok_or_else(|| malformed(number, "expected `index <decimal entry index>`"))?;
        let index = checkpoint::parse_decimal(index).map_err(|reason| malformed(number, reason))?;

        let mut proof = Vec::new();
        loop {
            let (number, line) = lines.next_line()?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(malformed(number, "more than 64 proof hashes"));
            }
            let hash = checkpoint::decode_hash(line).map_err(|reason| malformed(number, reason))?;
            proof.push(hash);
        }

        let checkpoint = lines.rest;
        check_checkpoint(checkpoint, lines.line + 1)?;
        Ok(Self {
            extra,
            index,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }

    /// Verifies the proof for the entry whose RFC 6962 leaf hash is `leaf_hash`.
    ///
    /// Opens the checkpoint with [`checkpoint::open_checkpoint`] (so it needs a verified
    /// signature by a key in `verifiers` named after the log's origin), then checks that the
    /// inclusion proof leads from `leaf_hash` at [`index`](Self::index) to the checkpoint's
    /// root. Returns the verified checkpoint; check its origin if only one log is expected.
    pub fn verify(
        &self,
        leaf_hash: &Hash,
        verifiers: &[Verifier],
    ) -> Result<Checkpoint, TlogProofError> {
        let (checkpoint, _note) =
            checkpoint::open_checkpoint(self.checkpoint.as_bytes(), verifiers)
                .map_err(TlogProofError::Checkpoint)?;
        if self.index >= checkpoint.size {
            return Err(TlogProofError::IndexOutOfRange {
                index: self.index,
                size: checkpoint.size,
            });
        }
        merkle::verify_inclusion(
            self.index,
            checkpoint.size,
            leaf_hash,
            &self.proof,
            &checkpoint.root,
        )
        .map_err(TlogProofError::Inclusion)?;
        Ok(checkpoint)
    }
}

/// A `TlogProofError::Malformed`.
fn malformed(line: usize, reason: &'static str) -> TlogProofError {
    TlogProofError::Malformed { line, reason }
}

/// Checks that `checkpoint`, starting at line `line` of a proof, is a well-formed signed note
/// whose text is a well-formed checkpoint.
fn check_checkpoint(checkpoint: &str, line: usize) -> Result<(), TlogProofError> {
    if checkpoint.is_empty() {
        return Err(malformed(line, "missing the checkpoint"));
    }
    let parsed = note::parse(checkpoint.as_bytes()).map_err(|source| {
        TlogProofError::MalformedCheckpointNote {
            line,
            source: source.shift_lines(line - 1),
        }
    })?;
    Checkpoint::parse(parsed.text).map_err(|source| TlogProofError::MalformedCheckpoint {
        line,
        source: source.shift_lines(line - 1),
    })?;
    Ok(())
}

/// Newline-terminated lines of the part of a proof before its checkpoint.
struct Lines<'a> {
    /// The text not yet read.
    rest: &'a str,
    /// The number of the last line read.
    line: usize,
}

impl<'a> Lines<'a> {
    /// The next line (without its newline) and its number.
    fn next_line(&mut self) -> Result<(usize, &'a str), TlogProofError> {
        self.line += 1;
        let Some((line, rest)) = self.rest.split_once('\n') else {
            return Err(malformed(
                self.line,
                if self.rest.is_empty() {
                    "unexpected end of the proof"
                } else {
                    "the line does not end with a newline"
                },
            ));
        };
        if line.contains('\r') {
            return Err(malformed(
                self.line,
                "carriage return (lines must end with LF only)",
            ));
        }
        self.rest = rest;
        Ok((self.line, line))
    }
}
