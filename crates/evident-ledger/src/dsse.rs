//! DSSE, the Dead Simple Signing Envelope (protocol v1.0.0, JSON envelope v1.0.0), with Ed25519.
//!
//! A DSSE signature covers the payload *and* its type through the pre-authentication encoding
//! [`pae`], so a signed payload cannot be replayed as another kind of message. The JSON envelope
//! carries the payload base64-encoded next to its type and a list of signatures:
//!
//! ```json
//! {"payload": "<base64>", "payloadType": "application/vnd.in-toto+json",
//!  "signatures": [{"keyid": "<hint>", "sig": "<base64>"}]}
//! ```
//!
//! evident signs with Ed25519 ([`Envelope::sign`]) and writes standard base64 with padding;
//! reading accepts the standard and the URL-safe alphabet, as the protocol requires of
//! verifiers, with or without padding. ECDSA P-256 envelopes (cosign, the spec's own example)
//! parse, but verifying them needs a P-256 verifier this crate does not have yet.
//!
//! # Key ids
//!
//! A `keyid` is an unauthenticated hint: it only narrows which trusted key to try. For evident's
//! own Ed25519 keys it is [`ed25519_keyid`], the lowercase hex SHA-256 of the 32-byte public key.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The DSSE payload type of an in-toto Statement.
pub const PAYLOAD_TYPE_IN_TOTO: &str = "application/vnd.in-toto+json";

/// The length in bytes of an Ed25519 signature.
const ED25519_SIGNATURE_LEN: usize = 64;

/// DSSE's pre-authentication encoding, the exact bytes a signature covers:
///
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, where SP is one space (0x20) and
/// LEN is the byte length (not the character count) in ASCII decimal without leading zeros.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = pae_header(payload_type, payload.len(), payload.len());
    out.extend_from_slice(payload);
    out
}

/// What [`pae`] puts before a body of `body_len` bytes, in a buffer with room for `room` more
/// bytes.
pub(crate) fn pae_header(payload_type: &str, body_len: usize, room: usize) -> Vec<u8> {
    let header = format!("DSSEv1 {} {payload_type} {body_len} ", payload_type.len());
    let mut out = Vec::with_capacity(header.len() + room);
    out.extend_from_slice(header.as_bytes());
    out
}

/// The key id evident gives an Ed25519 public key: the lowercase hex SHA-256 of its 32 bytes.
///
/// 64 characters; stable for the key's lifetime and independent of any key file format.
pub fn ed25519_keyid(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Why an envelope was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DsseError {
    /// The envelope is not valid JSON, misses a required field, or holds invalid base64.
    #[error("malformed DSSE envelope: {0}")]
    Malformed(#[source] serde_json::Error),
    /// The envelope carries no signature at all.
    #[error("the DSSE envelope has no signatures")]
    NoSignatures,
    /// The caller passed no trusted key, or asked for a threshold of zero.
    #[error("no trusted keys to verify with (or a threshold of 0 was asked for)")]
    NoTrustedKeys,
    /// A signature names a trusted key by its keyid but does not verify with it: the payload,
    /// its type or the signature was altered, or the key id is wrong.
    #[error(
        "signature #{index} (keyid {keyid:?}) does not verify with that trusted key: \
         the payload, payloadType or signature was altered, or another key made it"
    )]
    BadSignature {
        /// Position of the signature in the envelope's `signatures`.
        index: usize,
        /// The keyid the signature claims.
        keyid: String,
    },
    /// Fewer distinct trusted keys than required produced a valid signature.
    #[error(
        "the envelope is not signed by enough trusted keys: {verified} of the {required} \
         required verified (signatures from unknown keys are ignored)"
    )]
    ThresholdNotMet {
        /// Distinct trusted keys required.
        required: usize,
        /// Distinct trusted keys whose signature verified.
        verified: usize,
    },
}

/// One signature in an [`Envelope`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Unauthenticated hint naming the key; empty when unset (the JSON field is then omitted on
    /// output, and a missing field reads as empty, as the envelope spec says).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// The raw signature over [`pae`]`(payload_type, payload)`; base64 in JSON.
    #[serde(with = "base64_field")]
    pub sig: Vec<u8>,
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signature")
            .field("keyid", &self.keyid)
            .field("sig", &hex::encode(&self.sig))
            .finish()
    }
}

/// A DSSE JSON envelope: a payload, its type, and signatures over both.
///
/// Serde reads and writes the spec's field names (`payload`, `payloadType`, `signatures`,
/// `keyid`, `sig`) and ignores unknown fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The serialised message (for in-toto, the Statement's JSON); base64 in JSON.
    #[serde(with = "base64_field")]
    pub payload: Vec<u8>,
    /// What the payload is and how to parse it, e.g. [`PAYLOAD_TYPE_IN_TOTO`].
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The signatures; DSSE allows several.
    pub signatures: Vec<Signature>,
}

impl Envelope {
    /// Signs `payload` as `payload_type` with `key` and wraps it in a new envelope carrying one
    /// signature with the given `keyid` (use [`ed25519_keyid`] for evident's keys, or `""` for
    /// none).
    pub fn sign(
        payload_type: impl Into<String>,
        payload: impl AsRef<[u8]>,
        key: &SigningKey,
        keyid: impl Into<String>,
    ) -> Self {
        let mut envelope = Self {
            payload: payload.as_ref().to_vec(),
            payload_type: payload_type.into(),
            signatures: Vec::new(),
        };
        envelope.add_signature(key, keyid);
        envelope
    }

    /// Adds one more Ed25519 signature over this envelope's payload and type.
    pub fn add_signature(&mut self, key: &SigningKey, keyid: impl Into<String>) {
        let sig = key.sign(&pae(&self.payload_type, &self.payload));
        self.signatures.push(Signature {
            keyid: keyid.into(),
            sig: sig.to_bytes().to_vec(),
        });
    }

    /// Verifies that at least one trusted key signed the envelope and returns the payload.
    ///
    /// `keys` pairs a keyid with a trusted Ed25519 key. Same as
    /// [`verify_threshold`](Self::verify_threshold) with a threshold of 1; see there for the rules.
    pub fn verify<K: AsRef<str>>(&self, keys: &[(K, VerifyingKey)]) -> Result<&[u8], DsseError> {
        self.verify_threshold(keys, 1)
    }

    /// Verifies that at least `threshold` distinct trusted keys signed the envelope and returns
    /// the payload.
    ///
    /// For each signature:
    /// - with a `keyid` that names trusted keys, it must verify with one of them, or the whole
    ///   envelope is refused ([`DsseError::BadSignature`]): a trusted key's signature that
    ///   fails means something was altered;
    /// - with a `keyid` that names no trusted key, it is ignored (another party's signature);
    /// - with no `keyid`, every trusted key is tried, and it is ignored if none verifies, since
    ///   it cannot be told apart from an unknown signer's.
    ///
    /// The envelope is accepted when signatures from at least `threshold` *distinct* trusted
    /// keys verified (the same key signing twice counts once). Verification is Ed25519 in its
    /// strict form (`verify_strict`: no small-order keys, no malleable signatures).
    ///
    /// This checks signatures only: the caller decides whether [`payload_type`](Self::payload_type)
    /// is one it accepts before parsing the payload (the DSSE protocol asks for that check).
    pub fn verify_threshold<K: AsRef<str>>(
        &self,
        keys: &[(K, VerifyingKey)],
        threshold: usize,
    ) -> Result<&[u8], DsseError> {
        if keys.is_empty() || threshold == 0 {
            return Err(DsseError::NoTrustedKeys);
        }
        if self.signatures.is_empty() {
            return Err(DsseError::NoSignatures);
        }
        let message = pae(&self.payload_type, &self.payload);
        let mut accepted: Vec<&VerifyingKey> = Vec::new();
        for (index, signature) in self.signatures.iter().enumerate() {
            let anonymous = signature.keyid.is_empty();
            let candidates: Vec<&VerifyingKey> = keys
                .iter()
                .filter(|(id, _)| anonymous || id.as_ref() == signature.keyid)
                .map(|(_, key)| key)
                .collect();
            if candidates.is_empty() {
                continue;
            }
            match candidates
                .into_iter()
                .find(|key| verifies(key, &message, &signature.sig))
            {
                Some(key) => {
                    if !accepted.contains(&key) {
                        accepted.push(key);
                    }
                }
                None if anonymous => {}
                None => {
                    return Err(DsseError::BadSignature {
                        index,
                        keyid: signature.keyid.clone(),
                    });
                }
            }
        }
        if accepted.len() >= threshold {
            Ok(&self.payload)
        } else {
            Err(DsseError::ThresholdNotMet {
                required: threshold,
                verified: accepted.len(),
            })
        }
    }

    /// Parses a JSON envelope (see [`Envelope`] for the accepted forms).
    pub fn from_json(json: &[u8]) -> Result<Self, DsseError> {
        serde_json::from_slice(json).map_err(DsseError::Malformed)
    }

    /// Writes the envelope as compact JSON, base64 in the standard alphabet with padding.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an envelope of strings and byte vectors always serialises")
    }
}

/// Whether `sig` is a valid Ed25519 signature of `message` by `key`; malformed input is `false`.
fn verifies(key: &VerifyingKey, message: &[u8], sig: &[u8]) -> bool {
    if sig.len() != ED25519_SIGNATURE_LEN {
        return false;
    }
    ed25519_dalek::Signature::from_slice(sig)
        .is_ok_and(|sig| key.verify_strict(message, &sig).is_ok())
}

/// Serde for a byte field held as base64 text: written in the standard alphabet with padding,
/// read in the standard or URL-safe alphabet, padded or not, with no trailing bits set.
pub(crate) mod base64_field {
    use base64::Engine as _;
    use base64::alphabet;
    use base64::engine::general_purpose::STANDARD;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use serde::{Deserialize as _, Deserializer, Serializer, de};

    const CONFIG: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
    const LENIENT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        decode(&text).map_err(de::Error::custom)
    }

    pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
        LENIENT_STANDARD
            .decode(text.as_bytes())
            .or_else(|_| LENIENT_URL_SAFE.decode(text.as_bytes()))
            .map_err(|e| format!("invalid base64: {e}"))
    }

    /// The same for an optional field (use with `#[serde(default)]`).
    pub(crate) mod option {
        // serde's `with` hands the field over as `&Option<_>`.
        #![allow(clippy::ref_option)]

        use serde::{Deserialize as _, Deserializer, Serializer, de};

        pub(crate) fn serialize<S: Serializer>(
            bytes: &Option<Vec<u8>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match bytes {
                Some(bytes) => super::serialize(bytes, serializer),
                None => serializer.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Vec<u8>>, D::Error> {
            Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)?
                .map(|text| super::decode(&text).map_err(de::Error::custom))
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn pae_counts_bytes_not_characters() {
        assert_eq!(pae("é", b""), "DSSEv1 2 é 0 ".as_bytes());
    }

    #[test]
    fn keyid_is_hex_sha256_of_the_public_key() {
        let vk = key(1).verifying_key();
        let id = ed25519_keyid(&vk);
        assert_eq!(id.len(), 64);
        assert_eq!(id, hex::encode(Sha256::digest(vk.to_bytes())));
    }

    #[test]
    fn round_trips_through_json() {
        let k = key(2);
        let env = Envelope::sign(PAYLOAD_TYPE_IN_TOTO, b"{}", &k, "");
        let json = env.to_json();
        assert!(!String::from_utf8_lossy(&json).contains("keyid"));
        let back = Envelope::from_json(&json).unwrap();
        assert_eq!(back, env);
        assert_eq!(back.verify(&[("k", k.verifying_key())]).unwrap(), b"{}");
    }

    #[test]
    fn refuses_base64_with_trailing_bits_or_mixed_alphabets() {
        let bad_bits = br#"{"payload":"aGk=","payloadType":"t","signatures":[{"sig":"aGl="}]}"#;
        assert!(matches!(
            Envelope::from_json(bad_bits),
            Err(DsseError::Malformed(_))
        ));
        let mixed = br#"{"payload":"+_8=","payloadType":"t","signatures":[]}"#;
        assert!(Envelope::from_json(mixed).is_err());
        let missing_sig = br#"{"payload":"","payloadType":"t","signatures":[{"keyid":"a"}]}"#;
        assert!(Envelope::from_json(missing_sig).is_err());
    }

    #[test]
    fn empty_key_list_and_zero_threshold_are_errors() {
        let env = Envelope::sign("t", b"x", &key(3), "");
        let none: [(&str, VerifyingKey); 0] = [];
        assert!(matches!(env.verify(&none), Err(DsseError::NoTrustedKeys)));
        assert!(matches!(
            env.verify_threshold(&[("k", key(3).verifying_key())], 0),
            Err(DsseError::NoTrustedKeys)
        ));
    }
}
