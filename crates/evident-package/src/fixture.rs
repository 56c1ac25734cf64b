//! A store for the tests, written through the store's own writer.

use std::collections::BTreeMap;

use evident_ledger::note::Verifier;
use evident_ledger::record::{BlobRef, EvidenceKind, EvidenceRecord, LogEntry};
use evident_ledger::statement::{ResourceDescriptor, Statement};
use evident_store::index::Query;
use evident_store::keys::LogKey;
use evident_store::{NewEvidence, Store};
use jiff::Timestamp;
use serde_json::{Value, json};

/// The control entries 0 and 2 support.
pub const CONTROL: &str = "soc2:CC8.1";

/// A new signing key.
pub fn key() -> LogKey {
    LogKey::generate("evident.test/package").unwrap()
}

/// When the test packages are made.
pub fn created() -> Timestamp {
    "2026-03-01T10:00:00Z".parse().unwrap()
}

/// A store of three entries:
/// 0. an approval for [`CONTROL`] (January 2026, kept until February) with a file;
/// 1. a scan for `soc2:CC7.1` (February 2026);
/// 2. an attestation for [`CONTROL`] (March 2026).
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub store: Store,
    key: LogKey,
}

impl Fixture {
    /// The package of what `query` selects, made at [`created`].
    pub fn build(&self, query: &Query) -> Result<crate::Package, crate::BuildError> {
        crate::build(
            &self.store,
            &self.verifier(),
            query,
            &crate::Scope::default(),
            created(),
        )
    }

    pub fn new() -> Self {
        let f = Self::empty();
        f.append(vec![
            evidence(
                0,
                EvidenceKind::Approval,
                CONTROL,
                "2026-01-15T09:00:00Z",
                "2026-02-01T00:00:00Z",
                json!({ "approved": true }),
                Some(b"reviewed by alice and bob\n"),
            ),
            evidence(
                1,
                EvidenceKind::Scan,
                "soc2:CC7.1",
                "2026-02-10T09:00:00Z",
                "2033-02-10T09:00:00Z",
                json!({ "result": "PASSED" }),
                None,
            ),
            evidence(
                2,
                EvidenceKind::Attestation,
                CONTROL,
                "2026-03-01T09:00:00Z",
                "2033-03-01T09:00:00Z",
                json!({ "statement": "deployed as reviewed" }),
                None,
            ),
        ]);
        f
    }

    /// A store with a key and no entry.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        Self {
            _dir: dir,
            store,
            key: key(),
        }
    }

    /// [`Fixture::new`], then entry 0's file deleted after its retention period by entry 3 (for
    /// another control, so not selected with [`CONTROL`]).
    pub fn with_deletion() -> Self {
        let f = Self::new();
        let digest = f.entry(0).record.blobs[0].sha256.clone();
        f.append(vec![evidence(
            0,
            EvidenceKind::Deletion,
            "soc2:CC6.5",
            "2026-03-01T09:30:00Z",
            "2033-03-01T09:30:00Z",
            json!({ "entries": [0], "blobs": [digest], "reason": "retention" }),
            None,
        )]);
        evident_store::blob::BlobStore::remove(f.store.blobs(), &digest).unwrap();
        f
    }

    fn append(&self, batch: Vec<NewEvidence>) {
        let mut writer = self.store.writer(&self.key).unwrap();
        writer.append(batch).unwrap();
    }

    pub fn verifier(&self) -> Verifier {
        self.key.verifier()
    }

    /// Entry `seq` as logged.
    pub fn entry(&self, seq: u64) -> LogEntry {
        let size = self.store.checkpoint_unverified().unwrap().unwrap().size;
        self.store.entry(seq, size).unwrap().1
    }
}

/// A record about commit `n`.
fn evidence(
    n: u64,
    kind: EvidenceKind,
    control: &str,
    recorded_at: &str,
    retain_until: &str,
    predicate: Value,
    content: Option<&[u8]>,
) -> NewEvidence {
    let commit = format!("{n:040x}");
    let predicate_type = format!("https://evident.dev/attestations/{}/v1", kind.as_str());
    let statement = Statement::new(
        vec![ResourceDescriptor {
            name: Some(format!("git:{commit}")),
            digest: BTreeMap::from([("gitCommit".to_owned(), commit.clone())]),
            ..ResourceDescriptor::default()
        }],
        &predicate_type,
        predicate,
    );
    NewEvidence {
        record: EvidenceRecord {
            kind,
            subject: format!("git:{commit}"),
            controls: vec![control.into()],
            actor: "ci".into(),
            recorded_at: recorded_at.into(),
            retain_until: retain_until.into(),
            predicate_type,
            blobs: Vec::new(),
            labels: BTreeMap::new(),
        },
        statement,
        content: content
            .map(|bytes| {
                vec![(
                    BlobRef {
                        sha256: String::new(),
                        size: 0,
                        media_type: "text/plain".into(),
                        name: Some("review.txt".into()),
                    },
                    bytes.to_vec(),
                )]
            })
            .unwrap_or_default(),
    }
}
