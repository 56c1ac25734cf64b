//! The store's appends against the in-memory Merkle tree: whatever the batch sizes, the tiles
//! on disk give the same roots and proofs, every earlier checkpoint stays consistent, and the
//! store verifies.

use std::collections::BTreeMap;

use evident_ledger::merkle::{self, MemoryTree};
use evident_ledger::record::{EvidenceKind, EvidenceRecord};
use evident_ledger::statement::{ResourceDescriptor, Statement};
use evident_store::keys::LogKey;
use evident_store::tiles::TileSource;
use evident_store::{NewEvidence, Store};
use proptest::prelude::*;
use serde_json::json;

fn evidence(n: u64) -> NewEvidence {
    let subject = format!("git:{n:040x}");
    let statement = Statement::new(
        vec![ResourceDescriptor {
            name: Some(subject.clone()),
            digest: BTreeMap::from([("gitCommit".to_owned(), format!("{n:040x}"))]),
            ..ResourceDescriptor::default()
        }],
        "https://evident.dev/attestations/approval/v1",
        json!({ "actor": "ci", "n": n }),
    );
    NewEvidence {
        record: EvidenceRecord {
            kind: EvidenceKind::Approval,
            subject,
            controls: vec!["soc2:CC8.1".into()],
            actor: "ci".into(),
            recorded_at: "2026-11-22T10:00:00Z".into(),
            retain_until: "2033-11-22T10:00:00Z".into(),
            predicate_type: "https://evident.dev/attestations/approval/v1".into(),
            blobs: Vec::new(),
            labels: BTreeMap::new(),
        },
        statement,
        content: if n.is_multiple_of(7) {
            vec![(
                evident_ledger::record::BlobRef {
                    sha256: String::new(),
                    size: 0,
                    media_type: "text/plain".into(),
                    name: None,
                },
                format!("content {n}").into_bytes(),
            )]
        } else {
            Vec::new()
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn tiles_match_the_memory_tree(batches in prop::collection::vec(1usize..140, 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let key = LogKey::generate("evident.test/append").unwrap();
        let mut memory = MemoryTree::new();
        let mut roots = Vec::new();
        let mut n = 0u64;
        for batch in &batches {
            let store = Store::open(dir.path()).unwrap();
            let mut writer = store.writer(&key).unwrap();
            let items: Vec<NewEvidence> = (0..*batch).map(|_| { n += 1; evidence(n) }).collect();
            let seqs = writer.append(items).unwrap();
            prop_assert_eq!(seqs.len(), *batch);
            let size = writer.size();
            drop(writer);
            let (entry_bytes, _) = store.entry(size - 1, size).unwrap();
            let cp = store.checkpoint(&key.verifier()).unwrap().unwrap();
            prop_assert_eq!(cp.size, size);
            // Rebuild the memory tree from the stored entries of this batch.
            for seq in memory.size()..size {
                let (bytes, _) = store.entry(seq, size).unwrap();
                memory.push(merkle::leaf_hash(&bytes));
            }
            prop_assert_eq!(merkle::leaf_hash(&entry_bytes), memory.leaf(size - 1).unwrap());
            prop_assert_eq!(cp.root, memory.root());
            roots.push((size, cp.root));
            // Proofs from the tiles verify, and equal the memory tree's.
            let source = TileSource::new(store.tiles(), size);
            prop_assert_eq!(merkle::root_at(&source, size).unwrap(), cp.root);
            for seq in [0, size / 2, size - 1] {
                let proof = store.inclusion_proof(seq, size).unwrap();
                prop_assert_eq!(&proof, &memory.inclusion_proof(seq, size).unwrap());
                merkle::verify_inclusion(seq, size, &memory.leaf(seq).unwrap(), &proof, &cp.root).unwrap();
            }
            // Every earlier checkpoint is consistent with this one.
            for (old_size, old_root) in &roots {
                let proof = store.consistency_proof(*old_size, size).unwrap();
                merkle::verify_consistency(*old_size, size, &proof, old_root, &cp.root).unwrap();
            }
        }
        let store = Store::open(dir.path()).unwrap();
        let report = evident_store::verify::verify(&store, &key.verifier()).unwrap();
        prop_assert!(report.ok(), "{:?}", report.problems);
        prop_assert_eq!(report.size, n);
    }
}

#[test]
fn a_second_writer_waits_for_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let key = LogKey::generate("evident.test/lock").unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut writer = store.writer(&key).unwrap();
    writer.append(vec![evidence(1)]).unwrap();
    let path = dir.path().to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    let other = std::thread::spawn(move || {
        let key = LogKey::generate("evident.test/lock").unwrap();
        let store = Store::open(&path).unwrap();
        tx.send("started").unwrap();
        // Blocks until the first writer is dropped; then refuses the foreign key.
        let result = store.writer(&key).map(|_| ());
        tx.send("locked").unwrap();
        result.map_err(|e| e.to_string())
    });
    assert_eq!(rx.recv().unwrap(), "started");
    assert!(
        rx.recv_timeout(std::time::Duration::from_millis(300))
            .is_err(),
        "the second writer must wait"
    );
    drop(writer);
    assert_eq!(rx.recv().unwrap(), "locked");
    let err = other.join().unwrap().unwrap_err();
    assert!(err.contains("did not sign this log"), "{err}");
}

fn deletion(of: u64, digest: &str, at: &str) -> NewEvidence {
    let mut e = evidence(1000 + of);
    e.record.kind = EvidenceKind::Deletion;
    e.record.recorded_at = at.into();
    e.record.retain_until = "2099-01-01T00:00:00Z".into();
    e.record.predicate_type = "https://evident.dev/attestations/deletion/v1".into();
    e.statement.predicate_type = e.record.predicate_type.clone();
    e.statement.predicate = json!({ "entries": [of], "blobs": [digest], "reason": "retention" });
    e.content = Vec::new();
    e
}

/// Content may disappear only through a later deletion entry made after its retention period.
#[test]
fn deleted_content_verifies_only_after_its_retention_period() {
    for (deleted_at, ok) in [
        ("2031-06-01T00:00:00Z", true),
        ("2030-06-01T00:00:00Z", false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let key = LogKey::generate("evident.test/retention").unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut writer = store.writer(&key).unwrap();
        let mut kept = evidence(7); // n = 7 carries a blob
        kept.record.recorded_at = "2024-01-01T00:00:00Z".into();
        kept.record.retain_until = "2031-01-01T00:00:00Z".into();
        writer.append(vec![kept]).unwrap();
        let (_, entry) = store.entry(0, 1).unwrap();
        let digest = entry.record.blobs[0].sha256.clone();
        writer
            .append(vec![deletion(0, &digest, deleted_at)])
            .unwrap();
        drop(writer);
        evident_store::blob::BlobStore::remove(store.blobs(), &digest).unwrap();
        let report = evident_store::verify::verify(&store, &key.verifier()).unwrap();
        assert_eq!(
            report.ok(),
            ok,
            "deleted at {deleted_at}: {:?}",
            report.problems
        );
        if ok {
            assert_eq!(report.blobs_deleted, 1);
        } else {
            assert!(
                report.problems[0]
                    .what
                    .contains("before its retention period")
            );
        }
    }
}

#[test]
fn shared_writers_interleave_into_one_consistent_log() {
    let dir = tempfile::tempdir().unwrap();
    let key = LogKey::generate("evident.test/shared").unwrap();
    // Each thread opens the store for itself, as a separate process (a server replica) would.
    let mut all: Vec<u64> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..3u64)
            .map(|t| {
                let path = dir.path().to_owned();
                let key = &key;
                scope.spawn(move || {
                    let store = Store::open(&path).unwrap();
                    let mut writer = store.shared_writer(key).unwrap();
                    let mut mine = Vec::new();
                    for round in 0..20u64 {
                        let batch: Vec<NewEvidence> = (0..=((round + t) % 5))
                            .map(|i| evidence(1_000 * (t + 1) + round * 10 + i))
                            .collect();
                        mine.extend(writer.append(batch).unwrap());
                    }
                    mine
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    all.sort_unstable();
    let expected: Vec<u64> = (0..all.len() as u64).collect();
    assert_eq!(
        all, expected,
        "every entry number is given out exactly once"
    );
    let store = Store::open(dir.path()).unwrap();
    let report = evident_store::verify::verify(&store, &key.verifier()).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.size, all.len() as u64);
}

#[test]
fn a_shared_writer_reports_what_others_appended() {
    let dir = tempfile::tempdir().unwrap();
    let key = LogKey::generate("evident.test/shared").unwrap();
    let store_a = Store::open(dir.path()).unwrap();
    let store_b = Store::open(dir.path()).unwrap();
    let mut a = store_a.shared_writer(&key).unwrap();
    let mut b = store_b.shared_writer(&key).unwrap();
    assert_eq!(
        a.append(vec![evidence(1), evidence(2)]).unwrap(),
        vec![0, 1]
    );
    // b has not seen a's entries: begin() catches up and names them.
    assert_eq!(b.begin().unwrap(), 0..2);
    assert_eq!(b.append(vec![evidence(3)]).unwrap(), vec![2]);
    assert_eq!(a.begin().unwrap(), 2..3);
    a.end();
    // An exclusive writer (a command) waits for neither while they do not hold the lock.
    let mut c = store_a.writer(&key).unwrap();
    assert_eq!(c.append(vec![evidence(4)]).unwrap(), vec![3]);
    drop(c);
    assert_eq!(b.begin().unwrap(), 3..4);
    b.end();
    let report = evident_store::verify::verify(&store_a, &key.verifier()).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.size, 4);
}
