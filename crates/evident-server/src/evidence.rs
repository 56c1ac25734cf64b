//! Building a piece of evidence (record + in-toto statement + content) for the store.

use std::collections::BTreeMap;

use evident_ledger::record::{BlobRef, EvidenceKind, EvidenceRecord, subject_digest};
use evident_ledger::statement::{ResourceDescriptor, Statement, predicate_type};
use evident_store::{NewEvidence, blob::sha256_hex, timefmt};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

/// What a new record needs, before it is signed.
#[derive(Debug, Clone)]
pub struct Draft {
    /// What the evidence is.
    pub kind: EvidenceKind,
    /// `git:<commit>`, `sha256:<digest>` or `env:<name>`.
    pub subject: String,
    /// Who or what caused it.
    pub actor: String,
    /// When it was recorded.
    pub now: Timestamp,
    /// Until when it must be kept.
    pub retain_until: Timestamp,
    /// Labels of the record (indexed facts for humans and de-duplication).
    pub labels: BTreeMap<String, String>,
    /// The statement's predicate (without `actor`, `time` and `content`, which are added).
    pub predicate: Map<String, Value>,
    /// Content blobs: media type, optional name, bytes.
    pub content: Vec<(String, Option<String>, Vec<u8>)>,
}

/// The predicate type evident uses for a kind the server records.
pub fn predicate_type_for(kind: EvidenceKind) -> String {
    match kind {
        EvidenceKind::Event => predicate_type::EVIDENT_EVENT_V1.to_owned(),
        other => format!("https://evident.dev/attestations/{other}/v1"),
    }
}

impl Draft {
    /// Builds the record and the statement; content blobs are referenced by digest in the
    /// predicate's `content` list.
    pub fn build(self) -> Result<NewEvidence, String> {
        let (alg, value) = subject_digest(&self.subject)?;
        let mut predicate = self.predicate;
        predicate.insert("actor".into(), json!(self.actor));
        predicate.insert("time".into(), json!(timefmt::format(self.now)));
        let mut descriptors = Vec::new();
        let mut content = Vec::new();
        for (media_type, name, bytes) in self.content {
            let sha = sha256_hex(&bytes);
            let mut rd = json!({ "digest": { "sha256": sha }, "mediaType": media_type });
            if let Some(name) = &name {
                rd["name"] = json!(name);
            }
            descriptors.push(rd);
            let blob = BlobRef {
                media_type,
                name,
                sha256: sha,
                size: bytes.len() as u64,
            };
            content.push((blob, bytes));
        }
        if !descriptors.is_empty() {
            predicate.insert("content".into(), Value::Array(descriptors));
        }
        let predicate_type = predicate_type_for(self.kind);
        let statement = Statement::new(
            vec![ResourceDescriptor {
                name: Some(self.subject.clone()),
                digest: BTreeMap::from([(alg, value)]),
                ..ResourceDescriptor::default()
            }],
            predicate_type.clone(),
            Value::Object(predicate),
        );
        statement
            .validate()
            .map_err(|e| format!("the statement: {e}"))?;
        let record = EvidenceRecord {
            kind: self.kind,
            subject: self.subject,
            controls: Vec::new(),
            actor: self.actor,
            recorded_at: timefmt::format(self.now),
            retain_until: timefmt::format(self.retain_until),
            predicate_type,
            blobs: Vec::new(),
            labels: self.labels,
        };
        Ok(NewEvidence {
            record,
            statement,
            content,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_an_event_with_its_body_as_content() {
        let now: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let draft = Draft {
            kind: EvidenceKind::Event,
            subject: "env:github".into(),
            actor: "webhook:github".into(),
            now,
            retain_until: timefmt::add_years(now, 7).unwrap(),
            labels: BTreeMap::from([("platform".into(), "github".into())]),
            predicate: Map::new(),
            content: vec![("application/json".into(), None, b"{}".to_vec())],
        };
        let ev = draft.build().unwrap();
        assert_eq!(ev.record.predicate_type, predicate_type::EVIDENT_EVENT_V1);
        assert_eq!(ev.content[0].0.sha256, sha256_hex(b"{}"));
        assert_eq!(ev.statement.predicate["time"], "2026-03-01T10:00:00Z");
        assert!(ev.statement.predicate["content"].is_array());
    }

    #[test]
    fn refuses_a_bad_subject() {
        let now: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let draft = Draft {
            kind: EvidenceKind::Security,
            subject: "env:not ok".into(),
            actor: "x".into(),
            now,
            retain_until: now,
            labels: BTreeMap::new(),
            predicate: Map::new(),
            content: Vec::new(),
        };
        assert!(draft.build().is_err());
    }
}
