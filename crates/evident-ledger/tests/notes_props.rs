//! Properties of signed notes, checkpoints and tlog-proofs: round trips, tamper evidence (a
//! changed byte is never accepted as the original), and parsers that never panic.

use evident_ledger::Hash;
use evident_ledger::checkpoint::{self, Checkpoint};
use evident_ledger::merkle::{MemoryTree, leaf_hash};
use evident_ledger::note::{self, Signer, Verifier};
use evident_ledger::tlog_proof::TlogProof;
use proptest::prelude::*;
use proptest::sample::Index;

/// Valid key names: non-empty, no Unicode spaces, no `+`, no control characters.
fn key_name() -> impl Strategy<Value = String> {
    "[^\\s+\\x00-\\x1f]{1,24}"
}

/// Valid note texts: lines (possibly empty) without control characters, each ending in newline.
fn note_text() -> impl Strategy<Value = String> {
    prop::collection::vec("[^\\x00-\\x1f]{0,40}", 1..6)
        .prop_map(|lines| lines.iter().flat_map(|l| [l.as_str(), "\n"]).collect())
}

/// Valid checkpoints.
fn checkpoint_value() -> impl Strategy<Value = Checkpoint> {
    (
        key_name(),
        any::<u64>(),
        any::<Hash>(),
        prop::collection::vec("[^\\x00-\\x1f]{1,20}", 0..3),
    )
        .prop_map(|(origin, size, root, extensions)| {
            let mut checkpoint = Checkpoint::new(origin, size, root);
            checkpoint.extensions = extensions;
            checkpoint
        })
}

/// `bytes` with the byte at `at` XORed with `mask` (non-zero), so it differs from `bytes`.
fn flipped(bytes: &[u8], at: Index, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = at.index(out.len());
    out[i] ^= mask;
    out
}

/// A signed proof of leaf `index` in a tree of `size` leaves, and that leaf's hash.
fn make_proof(log: &Signer, size: u64, index: u64, extra: Option<Vec<u8>>) -> (TlogProof, Hash) {
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.push(leaf_hash(&i.to_be_bytes()));
    }
    let checkpoint = Checkpoint::new(log.name(), size, tree.root());
    let proof = TlogProof {
        extra,
        index,
        proof: tree.inclusion_proof(index, size).expect("index < size"),
        checkpoint: checkpoint::sign_checkpoint(&checkpoint, log).expect("valid checkpoint"),
    };
    (proof, leaf_hash(&index.to_be_bytes()))
}

proptest! {
    #[test]
    fn sign_open_round_trip(text in note_text(), name in key_name(), seed in any::<[u8; 32]>()) {
        let signer = Signer::new(&name, &seed).unwrap();
        let verifier = signer.verifier();
        let signed = note::sign(&text, &signer).unwrap();
        let opened = note::open(signed.as_bytes(), std::slice::from_ref(&verifier)).unwrap();
        prop_assert_eq!(&opened.text, &text);
        prop_assert_eq!(opened.verified.len(), 1);
        prop_assert_eq!(&opened.verified[0].name, &name);
        prop_assert_eq!(opened.verified[0].key_id, signer.key_id());
        prop_assert!(opened.unverified.is_empty());

        // Another key of the same name does not verify it.
        let mut other_seed = seed;
        other_seed[0] ^= 1;
        let other = Signer::new(&name, &other_seed).unwrap().verifier();
        prop_assert!(note::open(signed.as_bytes(), &[other]).is_err());

        // Key texts round-trip.
        let reparsed: Signer = signer.to_private_key_text().parse().unwrap();
        prop_assert_eq!(reparsed.verifier(), verifier.clone());
        prop_assert_eq!(verifier.to_string().parse::<Verifier>().unwrap(), verifier);
    }

    #[test]
    fn flipped_note_is_never_accepted_as_the_original(
        text in note_text(),
        name in key_name(),
        seed in any::<[u8; 32]>(),
        at in any::<Index>(),
        mask in 1..=255_u8,
    ) {
        let signer = Signer::new(&name, &seed).unwrap();
        let signed = note::sign(&text, &signer).unwrap();
        let tampered = flipped(signed.as_bytes(), at, mask);
        match note::open(&tampered, &[signer.verifier()]) {
            Err(_) => {}
            Ok(opened) => prop_assert_ne!(opened.text, text, "tampered note accepted as the original"),
        }
    }

    #[test]
    fn checkpoint_text_round_trip(checkpoint in checkpoint_value()) {
        let text = checkpoint.to_text().unwrap();
        prop_assert_eq!(Checkpoint::parse(&text).unwrap(), checkpoint);
    }

    #[test]
    fn flipped_checkpoint_is_never_accepted_as_the_original(
        checkpoint in checkpoint_value(),
        seed in any::<[u8; 32]>(),
        at in any::<Index>(),
        mask in 1..=255_u8,
    ) {
        let log = Signer::new(&checkpoint.origin, &seed).unwrap();
        let signed = checkpoint::sign_checkpoint(&checkpoint, &log).unwrap();
        let (opened, _) = checkpoint::open_checkpoint(signed.as_bytes(), &[log.verifier()]).unwrap();
        prop_assert_eq!(&opened, &checkpoint);
        let tampered = flipped(signed.as_bytes(), at, mask);
        match checkpoint::open_checkpoint(&tampered, &[log.verifier()]) {
            Err(_) => {}
            Ok((opened, _)) => prop_assert_ne!(opened, checkpoint, "tampered checkpoint accepted"),
        }
    }

    #[test]
    fn tlog_proof_round_trip_and_verify(
        size in 1..40_u64,
        index in any::<Index>(),
        extra in prop::option::of(prop::collection::vec(any::<u8>(), 1..40)),
        seed in any::<[u8; 32]>(),
    ) {
        let log = Signer::new("example.com/log", &seed).unwrap();
        let index = index.index(size as usize) as u64;
        let (proof, leaf) = make_proof(&log, size, index, extra);
        let text = proof.format().unwrap();
        let parsed = TlogProof::parse(text.as_bytes()).unwrap();
        prop_assert_eq!(&parsed, &proof);
        let checkpoint = parsed.verify(&leaf, &[log.verifier()]).unwrap();
        prop_assert_eq!(checkpoint.size, size);

        // Not a proof for another entry, nor for another index.
        prop_assert!(parsed.verify(&leaf_hash(b"another entry"), &[log.verifier()]).is_err());
        let mut moved = parsed.clone();
        moved.index = (index + 1) % size;
        if moved.index != index {
            prop_assert!(moved.verify(&leaf, &[log.verifier()]).is_err());
        }
    }

    #[test]
    fn flipped_tlog_proof_is_never_accepted_as_the_original(
        size in 1..20_u64,
        index in any::<Index>(),
        extra in prop::option::of(prop::collection::vec(any::<u8>(), 1..10)),
        seed in any::<[u8; 32]>(),
        at in any::<Index>(),
        mask in 1..=255_u8,
    ) {
        let log = Signer::new("example.com/log", &seed).unwrap();
        let index = index.index(size as usize) as u64;
        let (proof, leaf) = make_proof(&log, size, index, extra);
        let text = proof.format().unwrap();
        let tampered = flipped(text.as_bytes(), at, mask);
        if let Ok(parsed) = TlogProof::parse(&tampered) {
            prop_assert_ne!(&parsed, &proof);
            if parsed.verify(&leaf, &[log.verifier()]).is_ok() {
                // Only the extra data is unauthenticated; anything else changed must fail.
                prop_assert_eq!(parsed.index, proof.index);
                prop_assert_eq!(&parsed.proof, &proof.proof);
                prop_assert_eq!(&parsed.checkpoint, &proof.checkpoint);
                prop_assert_ne!(&parsed.extra, &proof.extra);
            }
        }
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let verifier = Signer::new("example.com/log", &[1; 32]).unwrap().verifier();
        let _ = note::open(&bytes, std::slice::from_ref(&verifier));
        let _ = checkpoint::open_checkpoint(&bytes, std::slice::from_ref(&verifier));
        let _ = TlogProof::parse(&bytes).map(|p| p.verify(&[0; 32], std::slice::from_ref(&verifier)));
        let text = String::from_utf8_lossy(&bytes);
        let _ = Checkpoint::parse(&text);
        let _ = text.parse::<Verifier>();
        let _ = text.parse::<Signer>();
    }

    #[test]
    fn parsers_never_panic_on_spliced_valid_input(
        at in any::<Index>(),
        cut in 0..8_usize,
        insert in prop::collection::vec(any::<u8>(), 0..8),
        which in 0..4_u8,
    ) {
        let log = Signer::new("example.com/log", &[2; 32]).unwrap();
        let verifier = log.verifier();
        let (proof, _) = make_proof(&log, 5, 3, Some(b"extra".to_vec()));
        let original = match which {
            0 => proof.format().unwrap(),
            1 => proof.checkpoint.clone(),
            2 => verifier.to_string(),
            _ => log.to_private_key_text(),
        };
        let mut bytes = original.into_bytes();
        let i = at.index(bytes.len() + 1);
        let end = (i + cut).min(bytes.len());
        bytes.splice(i..end, insert);
        let _ = TlogProof::parse(&bytes).map(|p| p.verify(&[0; 32], std::slice::from_ref(&verifier)));
        let _ = checkpoint::open_checkpoint(&bytes, std::slice::from_ref(&verifier));
        let text = String::from_utf8_lossy(&bytes);
        let _ = Checkpoint::parse(&text);
        let _ = text.parse::<Verifier>();
        let _ = text.parse::<Signer>();
    }
}

/// Every single-bit change of the note published with golang.org/x/mod/sumdb/note (see
/// `tests/note_spec.rs`) is rejected.
#[test]
fn every_bit_flip_of_the_published_note_is_rejected() {
    let verifier: Verifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        .parse()
        .unwrap();
    let published = "If you think cryptography is the answer to your problem,\n\
                     then you don't know what your problem is.\n\
                     \n\
                     — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    assert!(note::open(published.as_bytes(), std::slice::from_ref(&verifier)).is_ok());
    for i in 0..published.len() {
        for bit in 0..8 {
            let mut bytes = published.as_bytes().to_vec();
            bytes[i] ^= 1 << bit;
            assert!(
                note::open(&bytes, std::slice::from_ref(&verifier)).is_err(),
                "byte {i} bit {bit}"
            );
        }
    }
}

/// Every single-bit change of a tlog-proof outside its extra data is rejected, and changes to
/// the extra data are visible in the parsed proof.
#[test]
fn every_bit_flip_of_a_tlog_proof_is_caught() {
    let log = Signer::new("example.com/log", &[3; 32]).unwrap();
    let (proof, leaf) = make_proof(&log, 11, 6, Some(b"extra data".to_vec()));
    let text = proof.format().unwrap();
    let verifiers = [log.verifier()];
    assert_eq!(
        TlogProof::parse(text.as_bytes())
            .unwrap()
            .verify(&leaf, &verifiers)
            .unwrap()
            .size,
        11
    );
    for i in 0..text.len() {
        for bit in 0..8 {
            let mut bytes = text.as_bytes().to_vec();
            bytes[i] ^= 1 << bit;
            let Ok(parsed) = TlogProof::parse(&bytes) else {
                continue;
            };
            assert_ne!(parsed, proof, "byte {i} bit {bit}");
            if parsed.verify(&leaf, &verifiers).is_ok() {
                assert_ne!(parsed.extra, proof.extra, "byte {i} bit {bit}");
                assert_eq!((parsed.index, &parsed.proof), (proof.index, &proof.proof));
            }
        }
    }
}
