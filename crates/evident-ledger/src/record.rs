//! The log entry: what one leaf of the evidence ledger holds.
//!
//! A leaf is `SHA-256(0x00 ‖ JCS(LogEntry))`. A [`LogEntry`] carries the evidence record's
//! metadata (kind, subject, controls, actor, times, the content blobs it refers to) and the DSSE
//! envelope of the signed in-toto statement. The metadata is committed to by the Merkle tree and
//! the signed checkpoint; the statement is additionally signed on its own, so it can be handed to
//! any in-toto verifier.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dsse::Envelope;
use crate::jcs;

/// The version of the [`LogEntry`] layout this code writes and reads.
pub const ENTRY_VERSION: u32 = 1;

/// The largest entry the tile layout can carry (entry bundles prefix each entry with a 16-bit
/// length).
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// What a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// Results of a scanner run.
    Scan,
    /// A software bill of materials.
    Sbom,
    /// A decision of the compliance gate.
    GateDecision,
    /// A human approval (of a change or a deployment).
    Approval,
    /// A deployment to an environment.
    Deployment,
    /// A rollback of a deployment.
    Rollback,
    /// Drift of a configuration from its baseline.
    Drift,
    /// An event received from a platform (webhook delivery).
    Event,
    /// A third-party attestation recorded as is.
    Attestation,
    /// A granted exception (risk acceptance).
    Exception,
    /// A break-glass override.
    BreakGlass,
    /// A security-relevant event of evident itself (e.g. a rejected webhook).
    Security,
    /// The deletion of another entry's content after its retention period.
    Deletion,
}

impl EvidenceKind {
    /// Every kind, in a stable order.
    pub const ALL: [EvidenceKind; 13] = [
        Self::Scan,
        Self::Sbom,
        Self::GateDecision,
        Self::Approval,
        Self::Deployment,
        Self::Rollback,
        Self::Drift,
        Self::Event,
        Self::Attestation,
        Self::Exception,
        Self::BreakGlass,
        Self::Security,
        Self::Deletion,
    ];

    /// The kebab-case name used in JSON, the index and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scan => "scan",
            Self::Sbom => "sbom",
            Self::GateDecision => "gate-decision",
            Self::Approval => "approval",
            Self::Deployment => "deployment",
            Self::Rollback => "rollback",
            Self::Drift => "drift",
            Self::Event => "event",
            Self::Attestation => "attestation",
            Self::Exception => "exception",
            Self::BreakGlass => "break-glass",
            Self::Security => "security",
            Self::Deletion => "deletion",
        }
    }
}

impl fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EvidenceKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown evidence kind `{s}`; expected one of: {}",
                    names.join(", ")
                )
            })
    }
}

/// A content blob an entry refers to, by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    /// Media type, e.g. `application/json`.
    pub media_type: String,
    /// A file name for humans (the name it was recorded from), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The metadata of one evidence record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRecord {
    /// Who or what recorded it (a user, a CI job, a webhook sender).
    pub actor: String,
    /// Content blobs, by digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<BlobRef>,
    /// Framework controls it supports (`soc2:CC8.1`, `iso27001:A.8.32`).
    pub controls: Vec<String>,
    /// What the evidence is.
    pub kind: EvidenceKind,
    /// Free-form labels (repository name, environment, pipeline URL …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The in-toto predicate type of the signed statement.
    pub predicate_type: String,
    /// When it was recorded, RFC 3339 in UTC.
    pub recorded_at: String,
    /// Until when it must be kept, RFC 3339 in UTC; deleting it earlier is refused.
    pub retain_until: String,
    /// What it is about, in its canonical text form (`git:<commit>`, `sha256:<hex>`,
    /// `env:<name>`).
    pub subject: String,
}

/// One leaf of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    /// The signed in-toto statement.
    pub envelope: Envelope,
    /// The record's metadata.
    pub record: EvidenceRecord,
    /// Layout version; [`ENTRY_VERSION`].
    pub v: u32,
}

/// Why an entry could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// Canonical JSON failed.
    #[error("cannot encode the entry as canonical JSON: {0}")]
    Encode(String),
    /// The entry is larger than the tile layout allows.
    #[error(
        "the entry is {0} bytes; an entry may be at most {MAX_ENTRY_BYTES} bytes (store large content as a blob)"
    )]
    TooLarge(usize),
    /// The bytes are not a valid entry.
    #[error("not a valid log entry: {0}")]
    Decode(String),
    /// The bytes are JSON but not in canonical form, so they would hash differently.
    #[error("the entry is not in canonical (RFC 8785) form")]
    NotCanonical,
    /// A version this code does not know.
    #[error("log entry version {0} is not supported (this build reads version {ENTRY_VERSION})")]
    Version(u32),
}

impl LogEntry {
    /// The canonical bytes of the entry: what the leaf hash covers.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EntryError> {
        let bytes = self.canonical()?;
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(EntryError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// RFC 8785 bytes of the entry.
    ///
    /// The fields of every type in an entry are declared in RFC 8785 order, its numbers are
    /// integers and serde_json escapes strings as RFC 8785 does, so serde_json's output is
    /// already canonical — unless a label key is outside ASCII (RFC 8785 sorts keys by UTF-16
    /// code units, a `BTreeMap` by bytes), in which case the general canonicaliser runs. A test
    /// holds the two to the same bytes.
    pub fn canonical(&self) -> Result<Vec<u8>, EntryError> {
        let safe_numbers = self
            .record
            .blobs
            .iter()
            .all(|b| b.size <= jcs::MAX_SAFE_INTEGER);
        if safe_numbers && self.record.labels.keys().all(|k| k.is_ascii()) {
            serde_json::to_vec(self).map_err(|e| EntryError::Encode(e.to_string()))
        } else {
            jcs::to_canonical_vec(self).map_err(|e| EntryError::Encode(e.to_string()))
        }
    }

    /// Parses an entry and checks that the bytes are exactly its canonical form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EntryError> {
        let entry: LogEntry =
            serde_json::from_slice(bytes).map_err(|e| EntryError::Decode(e.to_string()))?;
        if entry.v != ENTRY_VERSION {
            return Err(EntryError::Version(entry.v));
        }
        if entry.canonical()? != bytes {
            return Err(EntryError::NotCanonical);
        }
        Ok(entry)
    }
}

/// The in-toto digest of a subject given in its canonical text form: `git:<commit>` →
/// (`gitCommit`, commit), `sha256:<hex>` → (`sha256`, hex), `env:<name>` → (`sha256`,
/// SHA-256 of the whole text `env:<name>`).
pub fn subject_digest(subject: &str) -> Result<(String, String), String> {
    let is_hex = |s: &str, lens: &[usize]| {
        lens.contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if let Some(commit) = subject.strip_prefix("git:") {
        if is_hex(commit, &[40, 64]) {
            return Ok(("gitCommit".into(), commit.to_owned()));
        }
        return Err(format!(
            "`{subject}`: a commit is 40 (or 64) lowercase hex characters"
        ));
    }
    if let Some(digest) = subject.strip_prefix("sha256:") {
        if is_hex(digest, &[64]) {
            return Ok(("sha256".into(), digest.to_owned()));
        }
        return Err(format!(
            "`{subject}`: a sha256 digest is 64 lowercase hex characters"
        ));
    }
    if let Some(name) = subject.strip_prefix("env:") {
        if !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            use sha2::Digest as _;
            return Ok((
                "sha256".into(),
                hex::encode(sha2::Sha256::digest(subject.as_bytes())),
            ));
        }
        return Err(format!(
            "`{subject}`: an environment name is letters, digits, `-`, `_` and `.`"
        ));
    }
    Err(format!(
        "`{subject}` is not a subject: use git:<commit>, sha256:<digest> or env:<name>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(labels: BTreeMap<String, String>, text: String, size: u64) -> LogEntry {
        LogEntry {
            v: ENTRY_VERSION,
            record: EvidenceRecord {
                kind: EvidenceKind::BreakGlass,
                subject: "env:prod".into(),
                controls: vec![text.clone(), "soc2:CC8.1".into()],
                actor: text.clone(),
                recorded_at: "2026-11-22T10:00:00Z".into(),
                retain_until: "2033-11-22T10:00:00Z".into(),
                predicate_type: "https://evident.dev/attestations/break-glass/v1".into(),
                blobs: vec![BlobRef {
                    sha256: "ab".repeat(32),
                    size,
                    media_type: "application/json".into(),
                    name: Some(text),
                }],
                labels,
            },
            envelope: Envelope {
                payload: b"{}".to_vec(),
                payload_type: crate::dsse::PAYLOAD_TYPE_IN_TOTO.into(),
                signatures: vec![crate::dsse::Signature {
                    keyid: "k".into(),
                    sig: vec![1, 2, 3],
                }],
            },
        }
    }

    proptest! {
        /// The fast encoding is byte for byte the RFC 8785 one.
        #[test]
        fn the_fast_encoding_is_canonical(
            labels in prop::collection::btree_map(any::<String>(), any::<String>(), 0..4),
            text in any::<String>(),
            size in any::<u64>(),
        ) {
            let e = entry(labels, text, size % (1 << 53));
            prop_assert!(entry(BTreeMap::new(), String::new(), (1 << 60) + 1).canonical().is_err());
            let general = jcs::to_canonical_vec(&e).unwrap();
            prop_assert_eq!(e.canonical().unwrap(), general.clone());
            prop_assert_eq!(LogEntry::from_bytes(&general).unwrap(), e);
        }
    }
}
