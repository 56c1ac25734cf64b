//! Verifying many Ed25519 signatures made with one key, at once.
//!
//! A log signs every entry with the same key, so a verifier checks thousands of signatures by
//! one public key `A`. Batch verification checks the random linear combination
//!
//! ```text
//! [-Σ zᵢ·sᵢ] B + Σ zᵢ·Rᵢ + [Σ zᵢ·hᵢ] A = 0        hᵢ = SHA-512(Rᵢ ‖ A ‖ Mᵢ) mod ℓ
//! ```
//!
//! with one multi-scalar multiplication. Generic batch verification (as in `ed25519-dalek`)
//! keeps one `A` term per signature, with a full-size scalar each; with a single key those
//! terms collapse into one, which removes about two thirds of the multiplication's work.
//!
//! What this accepts is what `ed25519_dalek::verify_batch` accepts for the same inputs (the
//! same cofactorless equation and the same 128-bit coefficients, derived from a hash of every
//! input so that no input can be chosen to cancel another), and in addition it rejects a small-
//! order `R` as `verify_strict` does. As with every batch equation, a signature whose `R`
//! carries an added small-order component may pass here where `verify_strict` fails; the bytes
//! of such a signature differ from the signed ones, so in a log they change the entry's leaf
//! hash, which the signed checkpoint covers.
//!
//! A failed batch says only that some signature is bad: check them one at a time to name it.

use std::iter::once;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

/// Domain separation for the coefficients' hash.
const COEFFICIENTS: &[u8] = b"evident ed25519 same-key batch v1";

/// Whether every `(message, signature)` pair verifies with `key`. An empty batch verifies.
pub fn verify_same_key(key: &VerifyingKey, items: &[(&[u8], &Signature)]) -> bool {
    if items.is_empty() {
        return true;
    }
    let a_bytes = key.as_bytes();
    let a = key.to_edwards();
    if a.is_small_order() {
        return false;
    }
    let mut rs = Vec::with_capacity(items.len());
    let mut ss = Vec::with_capacity(items.len());
    let mut hs = Vec::with_capacity(items.len());
    // Every input goes into the hash the coefficients come from.
    let mut transcript = Sha512::new();
    transcript.update(COEFFICIENTS);
    transcript.update(a_bytes);
    transcript.update((items.len() as u64).to_le_bytes());
    for (message, signature) in items {
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(*signature.s_bytes()))
        else {
            return false;
        };
        let r_bytes = signature.r_bytes();
        let Some(r) = CompressedEdwardsY(*r_bytes).decompress() else {
            return false;
        };
        if r.is_small_order() {
            return false;
        }
        let hram: [u8; 64] = Sha512::new()
            .chain_update(r_bytes)
            .chain_update(a_bytes)
            .chain_update(message)
            .finalize()
            .into();
        transcript.update(hram);
        transcript.update(signature.s_bytes());
        rs.push(r);
        ss.push(s);
        hs.push(Scalar::from_bytes_mod_order_wide(&hram));
    }
    let seed: [u8; 64] = transcript.finalize().into();
    // Four 128-bit coefficients from each 64-byte block SHA-512(seed ‖ j).
    let mut zs: Vec<Scalar> = Vec::with_capacity(items.len());
    for j in 0..items.len().div_ceil(4) as u64 {
        let block: [u8; 64] = Sha512::new()
            .chain_update(seed)
            .chain_update(j.to_le_bytes())
            .finalize()
            .into();
        for z in block.chunks_exact(16).take(items.len() - zs.len()) {
            let z: [u8; 16] = z.try_into().expect("16-byte chunks");
            zs.push(Scalar::from(u128::from_le_bytes(z)));
        }
    }
    let b_coefficient: Scalar = zs.iter().zip(&ss).map(|(z, s)| z * s).sum();
    let a_coefficient: Scalar = zs.iter().zip(&hs).map(|(z, h)| z * h).sum();
    let sum = EdwardsPoint::vartime_multiscalar_mul(
        once(-b_coefficient)
            .chain(once(a_coefficient))
            .chain(zs.iter().copied()),
        once(ED25519_BASEPOINT_POINT).chain(once(a)).chain(rs),
    );
    sum.is_identity()
}

#[cfg(test)]
mod tests {
    use curve25519_dalek::traits::Identity;
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;

    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn signed(k: &SigningKey, n: usize) -> Vec<(Vec<u8>, Signature)> {
        (0..n)
            .map(|i| {
                let m = format!("message {i}").into_bytes();
                let s = k.sign(&m);
                (m, s)
            })
            .collect()
    }

    fn check(k: &VerifyingKey, items: &[(Vec<u8>, Signature)]) -> bool {
        let refs: Vec<(&[u8], &Signature)> = items.iter().map(|(m, s)| (m.as_slice(), s)).collect();
        verify_same_key(k, &refs)
    }

    #[test]
    fn good_batches_verify() {
        let k = key(7);
        for n in [0, 1, 2, 3, 64, 257] {
            assert!(check(&k.verifying_key(), &signed(&k, n)), "batch of {n}");
        }
    }

    #[test]
    fn another_key_does_not_verify() {
        let k = key(7);
        assert!(!check(&key(8).verifying_key(), &signed(&k, 5)));
    }

    #[test]
    fn one_signature_of_another_key_fails_the_batch() {
        let k = key(7);
        let mut items = signed(&k, 40);
        items[17].1 = key(9).sign(&items[17].0);
        assert!(!check(&k.verifying_key(), &items));
    }

    #[test]
    fn swapped_signatures_fail() {
        let k = key(7);
        let mut items = signed(&k, 10);
        let s3 = items[3].1;
        items[3].1 = items[4].1;
        items[4].1 = s3;
        assert!(!check(&k.verifying_key(), &items));
    }

    #[test]
    fn non_canonical_s_is_refused() {
        let k = key(7);
        let mut items = signed(&k, 3);
        // s + ℓ is the same scalar mod ℓ but not its canonical encoding.
        let mut bytes = items[1].1.to_bytes();
        let s = Scalar::from_canonical_bytes(bytes[32..].try_into().unwrap()).unwrap();
        let l_plus = BASEPOINT_ORDER_BYTES;
        let mut carry = 0u16;
        let mut out = [0u8; 32];
        for i in 0..32 {
            let v = u16::from(s.as_bytes()[i]) + u16::from(l_plus[i]) + carry;
            out[i] = (v & 0xff) as u8;
            carry = v >> 8;
        }
        // s < ℓ < 2^253, so s + ℓ still fits the 32 bytes with the top three bits clear.
        assert!(carry == 0 && out[31] & 0xe0 == 0);
        bytes[32..].copy_from_slice(&out);
        items[1].1 = Signature::from_bytes(&bytes);
        assert!(!check(&k.verifying_key(), &items));
    }

    #[test]
    fn small_order_r_is_refused() {
        let k = key(7);
        let mut items = signed(&k, 3);
        // The identity point is of small order.
        let mut bytes = items[0].1.to_bytes();
        bytes[..32].copy_from_slice(CompressedEdwardsY::identity().as_bytes());
        items[0].1 = Signature::from_bytes(&bytes);
        assert!(!check(&k.verifying_key(), &items));
    }

    /// ℓ, the order of the base point, little-endian.
    const BASEPOINT_ORDER_BYTES: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The batch agrees with `verify_strict` on every signature: any flipped bit in a
        /// message or a signature fails the batch exactly when it fails alone.
        #[test]
        fn agrees_with_single_verification(
            seed in any::<u8>(),
            n in 1usize..24,
            flips in proptest::collection::vec((any::<usize>(), any::<bool>(), 0usize..512), 0..3),
        ) {
            let k = key(seed);
            let vk = k.verifying_key();
            let mut items = signed(&k, n);
            for (which, in_sig, bit) in flips {
                let i = which % n;
                if in_sig {
                    let mut b = items[i].1.to_bytes();
                    b[bit / 8 % 64] ^= 1 << (bit % 8);
                    items[i].1 = Signature::from_bytes(&b);
                } else {
                    let m = &mut items[i].0;
                    let at = bit / 8 % m.len();
                    m[at] ^= 1 << (bit % 8);
                }
            }
            let alone = items.iter().all(|(m, s)| vk.verify_strict(m, s).is_ok());
            prop_assert_eq!(check(&vk, &items), alone);
        }
    }
}
