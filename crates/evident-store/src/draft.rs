//! A piece of evidence before it is signed: the record and the in-toto statement built from
//! one description, with content blobs referenced by digest. Used by every writer (the CLI,
//! the server).

use std::collections::BTreeMap;

use evident_ledger::record::{BlobRef, EvidenceKind, EvidenceRecord, subject_digest};
use evident_ledger::statement::{ResourceDescriptor, Statement};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::blob::sha256_hex;
use crate::{NewEvidence, timefmt};

/// Evidence that cannot be built (a bad subject, an invalid statement).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DraftError(pub String);

/// What a new record needs, before it is signed.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: EvidenceKind,
    /// `git:<commit>`, `sha256:<digest>` or `env:<name>`.
    pub subject: String,
    /// Framework controls (`soc2:CC8.1`); sorted and de-duplicated when built.
    pub controls: Vec<String>,
    pub actor: String,
    pub now: Timestamp,
    pub retain_until: Timestamp,
    pub labels: BTreeMap<String, String>,
    pub predicate_type: String,
    /// The statement's predicate; `actor`, `time` and `content` are added unless present.
    pub predicate: Map<String, Value>,
    /// Content blobs; their digest and size are filled in when built.
    pub content: Vec<(BlobRef, Vec<u8>)>,
}

/// The in-toto subject of a subject text.
pub fn subject_descriptor(subject: &str) -> Result<ResourceDescriptor, DraftError> {
    let (alg, value) = subject_digest(subject).map_err(DraftError)?;
    Ok(ResourceDescriptor {
        name: Some(subject.to_owned()),
        digest: BTreeMap::from([(alg, value)]),
        ..ResourceDescriptor::default()
    })
}

/// The descriptor of a content blob in a predicate's `content` list.
pub fn blob_descriptor(blob: &BlobRef, sha256: &str) -> Value {
    let mut rd = json!({ "digest": { "sha256": sha256 }, "mediaType": blob.media_type });
    if let Some(name) = &blob.name {
        rd["name"] = json!(name);
    }
    rd
}

/// A content blob of this media type and optional name (digest and size filled in later).
pub fn blob(media_type: &str, name: Option<&str>) -> BlobRef {
    BlobRef {
        sha256: String::new(),
        size: 0,
        media_type: media_type.to_owned(),
        name: name.map(str::to_owned),
    }
}

impl Draft {
    /// Builds the record and the statement.
    pub fn build(self) -> Result<NewEvidence, DraftError> {
        let mut predicate = self.predicate;
        predicate
            .entry("actor")
            .or_insert_with(|| json!(self.actor));
        predicate
            .entry("time")
            .or_insert_with(|| json!(timefmt::format(self.now)));
        let mut blobs = Vec::new();
        let mut content = Vec::new();
        for (mut blob, bytes) in self.content {
            let sha = sha256_hex(&bytes);
            blob.sha256.clone_from(&sha);
            blob.size = bytes.len() as u64;
            content.push(blob_descriptor(&blob, &sha));
            blobs.push((blob, bytes));
        }
        if !content.is_empty() {
            predicate.insert("content".into(), Value::Array(content));
        }
        let statement = Statement::new(
            vec![subject_descriptor(&self.subject)?],
            self.predicate_type.clone(),
            Value::Object(predicate),
        );
        statement
            .validate()
            .map_err(|e| DraftError(format!("the statement: {e}")))?;
        let mut controls = self.controls;
        controls.sort();
        controls.dedup();
        let record = EvidenceRecord {
            kind: self.kind,
            subject: self.subject,
            controls,
            actor: self.actor,
            recorded_at: timefmt::format(self.now),
            retain_until: timefmt::format(self.retain_until),
            predicate_type: self.predicate_type,
            blobs: Vec::new(),
            labels: self.labels,
        };
        Ok(NewEvidence {
            record,
            statement,
            content: blobs,
        })
    }
}
