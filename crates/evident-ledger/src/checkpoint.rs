//! C2SP transparency log checkpoints (<https://c2sp.org/tlog-checkpoint>).
//!
//! A checkpoint is the text of a [signed note](crate::note):
//!
//! ```text
//! <origin>
//! <tree size, decimal, no leading zeroes>
//! <root hash, base64>
//! [extension lines …]
//! ```
//!
//! The spec says the log's key name SHOULD match the origin line; evident makes that a rule:
//! [`sign_checkpoint`] only signs with a key named after the origin, and [`open_checkpoint`]
//! requires a verified signature by such a key.

use std::fmt::Write as _;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Hash;
use crate::note::{self, Note, NoteError, Signer, Verifier};

/// What went wrong parsing, formatting, signing or opening a checkpoint.
///
/// Line numbers count from 1 over the checkpoint text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The checkpoint text is malformed.
    #[error("line {line}: malformed checkpoint: {reason}")]
    Malformed {
        /// The offending line.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A [`Checkpoint`] value cannot be written as checkpoint text.
    #[error("invalid checkpoint {field}: {reason}")]
    Invalid {
        /// The field: "origin" or "extension line".
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signer's key name is not the checkpoint's origin.
    #[error("the signing key is named {key_name:?}, but the checkpoint origin is {origin:?}")]
    OriginMismatch {
        /// The checkpoint's origin.
        origin: String,
        /// The signing key's name.
        key_name: String,
    },
    /// The note verified, but not with a key named after the origin (the log's key).
    #[error(
        "the checkpoint has no verified signature by the log: no trusted key is named {origin:?}"
    )]
    NoLogSignature {
        /// The checkpoint's origin.
        origin: String,
    },
    /// The signed note is invalid.
    #[error(transparent)]
    Note(#[from] NoteError),
}

impl CheckpointError {
    /// The same error with its line number moved down by `offset` lines, for a checkpoint
    /// embedded in a larger text.
    pub(crate) fn shift_lines(self, offset: usize) -> Self {
        match self {
            Self::Malformed { line, reason } => Self::Malformed {
                line: line + offset,
                reason,
            },
            Self::Note(error) => Self::Note(error.shift_lines(offset)),
            other => other,
        }
    }
}

/// A checkpoint: a log's signed statement of its tree size and root hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The log's identity, e.g. `example.com/log42`; also the name of the log's key.
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The RFC 6962 Merkle tree hash of the first `size` leaves.
    pub root: Hash,
    /// Optional opaque extension lines (each non-empty, without newline). Not recommended.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Parses a checkpoint text (the text of the signed note, with its final newline).
    ///
    /// Strict: at least three lines, each non-empty; no control characters but newline; the
    /// size in decimal without leading zeroes; the root as canonical base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let malformed = |line, reason| CheckpointError::Malformed { line, reason };
        let lines = text.split('\n').count();
        let Some(body) = text.strip_suffix('\n') else {
            return Err(malformed(lines, "the text does not end with a newline"));
        };
        let mut origin = None;
        let mut size = None;
        let mut root = None;
        let mut extensions = Vec::new();
        for (index, line) in body.split('\n').enumerate() {
            let number = index + 1;
            if line.is_empty() {
                return Err(malformed(number, "empty line"));
            }
            if line.bytes().any(|b| b < b' ') {
                return Err(malformed(number, "control character"));
            }
            match index {
                0 => origin = Some(line.to_owned()),
                1 => size = Some(parse_decimal(line).map_err(|reason| malformed(number, reason))?),
                2 => root = Some(decode_hash(line).map_err(|reason| malformed(number, reason))?),
                _ => extensions.push(line.to_owned()),
            }
        }
        match (origin, size, root) {
            (Some(origin), Some(size), Some(root)) => Ok(Self {
                origin,
                size,
                root,
                extensions,
            }),
            (_, None, _) => Err(malformed(2, "missing the tree size line")),
            _ => Err(malformed(3, "missing the root hash line")),
        }
    }

    /// Writes the checkpoint text (with its final newline).
    ///
    /// Fails if the origin or an extension line is empty or contains a control character
    /// (newline included).
    pub fn to_text(&self) -> Result<String, CheckpointError> {
        check_line(&self.origin, "origin")?;
        for extension in &self.extensions {
            check_line(extension, "extension line")?;
        }
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for extension in &self.extensions {
            // Writing to a String cannot fail.
            let _ = writeln!(text, "{extension}");
        }
        Ok(text)
    }
}

impl FromStr for Checkpoint {
    type Err = CheckpointError;

    /// Same as [`Checkpoint::parse`].
    fn from_str(text: &str) -> Result<Self, CheckpointError> {
        Self::parse(text)
    }
}

/// Checks one line of a checkpoint to be written.
fn check_line(line: &str, field: &'static str) -> Result<(), CheckpointError> {
    if line.is_empty() {
        return Err(CheckpointError::Invalid {
            field,
            reason: "it is empty",
        });
    }
    if line.bytes().any(|b| b < b' ') {
        return Err(CheckpointError::Invalid {
            field,
            reason: "it contains a newline or another control character",
        });
    }
    Ok(())
}

/// Parses an ASCII decimal `u64` with no sign and no leading zeroes (except `0` itself).
pub(crate) fn parse_decimal(text: &str) -> Result<u64, &'static str> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a decimal number");
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err("a number must not have leading zeroes");
    }
    text.parse().map_err(|_| "the number is too large")
}

/// Decodes a canonical standard-base64 SHA-256 hash.
pub(crate) fn decode_hash(text: &str) -> Result<Hash, &'static str> {
    const REASON: &str = "not the standard base64 encoding of a 32-byte hash";
    // 32 bytes are exactly 44 base64 characters.
    if text.len() != 44 {
        return Err(REASON);
    }
    let mut hash = [0u8; 33];
    match STANDARD.decode_slice(text, &mut hash) {
        Ok(32) => Ok(hash[..32].try_into().map_err(|_| REASON)?),
        _ => Err(REASON),
    }
}

/// Signs a checkpoint with the log's key and returns the signed note.
///
/// The key must be named after the origin ([`CheckpointError::OriginMismatch`] otherwise).
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    signer: &Signer,
) -> Result<String, CheckpointError> {
    if signer.name() != checkpoint.origin {
        return Err(CheckpointError::OriginMismatch {
            origin: checkpoint.origin.clone(),
            key_name: signer.name().to_owned(),
        });
    }
    Ok(note::sign(&checkpoint.to_text()?, signer)?)
}

/// Opens a signed checkpoint: verifies the note with [`note::open`], parses its text, and
/// requires a verified signature by a key named after the origin (the log's key).
///
/// Returns the checkpoint and the opened note (whose other signatures may be, for example,
/// witness cosignatures). `verifiers` may hold keys of several logs and of witnesses; check
/// the returned origin if only one log is expected.
pub fn open_checkpoint(
    note: &[u8],
    verifiers: &[Verifier],
) -> Result<(Checkpoint, Note), CheckpointError> {
    let opened = note::open(note, verifiers)?;
    let checkpoint = Checkpoint::parse(&opened.text)?;
    if !opened.verified.iter().any(|s| s.name == checkpoint.origin) {
        return Err(CheckpointError::NoLogSignature {
            origin: checkpoint.origin,
        });
    }
    Ok((checkpoint, opened))
}
