//! A piece of evidence before it is signed: the record and the in-toto statement built from
//! one description, with content blobs referenced by digest. Used by every writer (the CLI,
//! the server). [`scan_draft`] is the one description of a scan report as evidence, shared by
//! `evident scan … --record`, `evident import` and the server's `POST /api/v1/evidence`.

use std::collections::{BTreeMap, BTreeSet};

use evident_core::{ScanReport, Severity};
use evident_ledger::record::{BlobRef, EvidenceKind, EvidenceRecord, subject_digest};
use evident_ledger::statement::{ResourceDescriptor, Statement, predicate_type};
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

/// What a recorded scan is about and who produced it.
#[derive(Debug, Clone)]
pub struct RecordedScan {
    pub subject: String,
    /// `secrets`, `sast`, `sca`, `iac`, `dast`, `container`, `pipeline`.
    pub category: String,
    pub tool: String,
    pub tool_uri: String,
    pub tool_version: String,
    pub controls: Vec<String>,
    /// Extra annotations of the test-result configuration (e.g. the imported file's digest).
    pub annotations: Map<String, Value>,
}

/// The verdict of a scan at `threshold`: `PASSED`, `WARNED` or `FAILED`, with the checks that
/// failed (at or above the threshold) and warned (below it). Suppressed findings do not count;
/// inputs that could not be scanned make the scan fail.
pub fn scan_result(
    report: &ScanReport,
    threshold: Severity,
) -> (&'static str, BTreeSet<String>, BTreeSet<String>) {
    let mut failed = BTreeSet::new();
    let mut warned = BTreeSet::new();
    for f in report.active() {
        if f.severity >= threshold {
            failed.insert(f.check.clone());
        } else {
            warned.insert(f.check.clone());
        }
    }
    let result = if !failed.is_empty() || !report.errors.is_empty() {
        "FAILED"
    } else if !warned.is_empty() {
        "WARNED"
    } else {
        "PASSED"
    };
    (result, failed, warned)
}

/// A scan report as `scan` evidence: an in-toto test-result statement (passed / warned /
/// failed checks at `threshold`) with `json_report` (the report in the JSON report format,
/// docs/json-report.md) as its content.
pub fn scan_draft(
    report: &ScanReport,
    threshold: Severity,
    scan: &RecordedScan,
    json_report: Vec<u8>,
    actor: String,
    now: Timestamp,
    retain_until: Timestamp,
) -> Draft {
    let (result, failed, warned) = scan_result(report, threshold);
    let mut annotations = Map::new();
    annotations.insert("version".into(), json!(scan.tool_version));
    annotations.insert("failOn".into(), json!(threshold.to_string()));
    annotations.extend(scan.annotations.clone());
    let mut predicate = Map::new();
    predicate.insert("result".into(), json!(result));
    predicate.insert(
        "configuration".into(),
        json!([{ "name": scan.tool, "uri": scan.tool_uri, "annotations": annotations }]),
    );
    predicate.insert("passedTests".into(), json!([]));
    predicate.insert("warnedTests".into(), json!(warned));
    predicate.insert("failedTests".into(), json!(failed));
    Draft {
        kind: EvidenceKind::Scan,
        subject: scan.subject.clone(),
        controls: scan.controls.clone(),
        actor,
        now,
        retain_until,
        labels: BTreeMap::from([
            ("scanner".to_owned(), report.scanner.clone()),
            ("category".to_owned(), scan.category.clone()),
            ("tool".to_owned(), scan.tool.clone()),
        ]),
        predicate_type: predicate_type::TEST_RESULT_V0_1.to_owned(),
        predicate,
        content: vec![(
            blob(
                "application/json",
                Some(&format!("{}-report.json", scan.category)),
            ),
            json_report,
        )],
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
