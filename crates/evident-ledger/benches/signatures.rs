//! Ed25519 verification per signature: one at a time, `ed25519_dalek::verify_batch`, and the
//! same-key batch of [`evident_ledger::batch`], at a few batch sizes.
//!
//! ```text
//! cargo bench -p evident-ledger --bench signatures
//! ```
//!
//! Single-threaded; prints microseconds per signature.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, Signer, SigningKey};
use evident_ledger::batch::verify_same_key;

/// Runs `f` (which checks `per_call` signatures) for about a second and gives µs per signature.
fn per_signature(per_call: usize, f: &dyn Fn()) -> f64 {
    f();
    let started = Instant::now();
    let mut calls = 0u32;
    while started.elapsed() < Duration::from_secs(1) {
        f();
        calls += 1;
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(calls) / per_call as f64
}

fn main() {
    let key = SigningKey::from_bytes(&[42; 32]);
    let vk = key.verifying_key();
    let messages: Vec<Vec<u8>> = (0..4096)
        .map(|i| format!("DSSEv1 28 application/vnd.in-toto+json 1000 {i:0>1000}").into_bytes())
        .collect();
    let signatures: Vec<Signature> = messages.iter().map(|m| key.sign(m)).collect();
    println!("Ed25519 verification, µs per signature (single thread):");
    let single = per_signature(64, &|| {
        for (m, s) in messages.iter().zip(&signatures).take(64) {
            black_box(vk.verify_strict(m, s).is_ok());
        }
    });
    println!("  verify_strict, one at a time           {single:7.2}");
    for n in [64usize, 256, 1024, 4096] {
        let refs: Vec<&[u8]> = messages[..n].iter().map(Vec::as_slice).collect();
        let keys = vec![vk; n];
        let dalek = per_signature(n, &|| {
            black_box(ed25519_dalek::verify_batch(&refs, &signatures[..n], &keys).is_ok());
        });
        let items: Vec<(&[u8], &Signature)> = refs.iter().copied().zip(&signatures[..n]).collect();
        let same = per_signature(n, &|| {
            black_box(verify_same_key(&vk, &items));
        });
        println!(
            "  batch of {n:>4}: ed25519_dalek::verify_batch {dalek:7.2}   same-key batch {same:7.2}"
        );
    }
}
