//! DSSE against its specification: the protocol's worked example, the Ed25519 test vectors of
//! the DSSE repository (`testvectors/vectors.json`, keys from RFC 8032 section 7.1), and
//! tampering with every byte of a signed envelope.

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use evident_ledger::dsse::{self, DsseError, Envelope, PAYLOAD_TYPE_IN_TOTO};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The example in DSSE protocol.md ("Test Vectors"), signed with ECDSA P-256.

const HELLO_TYPE: &str = "http://example.com/HelloWorld";
const HELLO_BODY: &[u8] = b"hello world";
const HELLO_ENVELOPE: &str = r#"{"payload": "aGVsbG8gd29ybGQ=",
 "payloadType": "http://example.com/HelloWorld",
 "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}"#;

#[test]
fn protocol_example_pae() {
    assert_eq!(
        dsse::pae(HELLO_TYPE, HELLO_BODY),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
}

/// The envelope parses to the example's payload and type. Its signature is ECDSA P-256 (raw
/// r || s, 64 bytes), which this crate cannot verify yet; an Ed25519 key must not accept it.
#[test]
fn protocol_example_envelope_parses() {
    let env = Envelope::from_json(HELLO_ENVELOPE.as_bytes()).unwrap();
    assert_eq!(env.payload, HELLO_BODY);
    assert_eq!(env.payload_type, HELLO_TYPE);
    assert_eq!(env.signatures.len(), 1);
    assert_eq!(env.signatures[0].keyid, "");
    assert_eq!(env.signatures[0].sig.len(), 64);

    let ed25519 = [("any", key_a().verifying_key())];
    assert!(matches!(
        env.verify(&ed25519),
        Err(DsseError::ThresholdNotMet {
            required: 1,
            verified: 0
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// The DSSE test vectors. Keys A and B are RFC 8032 section 7.1 TEST 1 and TEST 2.

const SEED_A: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const PUBLIC_A: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const SEED_B: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
const PUBLIC_B: &str = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

/// `{"_type":"https://in-toto.io/Statement/v1"}` in base64, the payload of most vectors.
const STATEMENT_B64: &str = "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==";
const SIG_A: &str =
    "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA==";
const SIG_B: &str =
    "c1+67/aT0yqEpwx8PsVY3MLHsj9D0CZ014/Fv/QlG59P+9CobUZ7xECJ/V3USG0Ob9CiE5LjReEZUzNF2l7eBw==";
/// Hex of the PAE of the statement payload as `application/vnd.in-toto+json`.
const PAE_STATEMENT: &str = "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e203433207b225f74797065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f7631227d";

fn key(seed_hex: &str) -> SigningKey {
    SigningKey::from_bytes(&hex::decode(seed_hex).unwrap().try_into().unwrap())
}

fn key_a() -> SigningKey {
    key(SEED_A)
}

fn key_b() -> SigningKey {
    key(SEED_B)
}

/// One vector: the envelope, the keys the verifier trusts, its threshold and payload types,
/// the PAE the signatures cover (hex), and whether it must be accepted.
struct Vector {
    id: &'static str,
    envelope: String,
    trusted: &'static [&'static str],
    threshold: usize,
    supported: &'static [&'static str],
    pae: &'static str,
    accept: bool,
}

fn envelope(payload: &str, payload_type: &str, sigs: &[(Option<&str>, &str)]) -> String {
    let sigs: Vec<String> = sigs
        .iter()
        .map(|(keyid, sig)| match keyid {
            Some(keyid) => format!(r#"{{"sig":"{sig}","keyid":"{keyid}"}}"#),
            None => format!(r#"{{"sig":"{sig}"}}"#),
        })
        .collect();
    format!(
        r#"{{"payload":"{payload}","payloadType":"{payload_type}","signatures":[{}]}}"#,
        sigs.join(",")
    )
}

fn vectors() -> Vec<Vector> {
    const T: &str = PAYLOAD_TYPE_IN_TOTO;
    const OTHER: &str = "application/vnd.example.other+json";
    const UTF8_TYPE: &str = "application/vnd.exämple+json";
    vec![
        Vector {
            id: "single-signature",
            envelope: envelope(STATEMENT_B64, T, &[(Some("A"), SIG_A)]),
            trusted: &["A"],
            threshold: 1,
            supported: &[T],
            pae: PAE_STATEMENT,
            accept: true,
        },
        Vector {
            id: "url-safe-base64",
            envelope: envelope(
                "-_-_Pj8=",
                T,
                &[(
                    Some("A"),
                    "P-_KHICeR7tI6S_YyejJTRtrXhcQyQ2LYPaL8h90KjC9qN8HU_svOQ6TuDOT1HIrsGW886DbWNWcCmX5twLrAw==",
                )],
            ),
            trusted: &["A"],
            threshold: 1,
            supported: &[T],
            pae: "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e203520fbffbf3e3f",
            accept: true,
        },
        Vector {
            id: "payload-type-swapped",
            envelope: envelope(STATEMENT_B64, OTHER, &[(Some("A"), SIG_A)]),
            trusted: &["A"],
            threshold: 1,
            supported: &[T, OTHER],
            pae: PAE_STATEMENT,
            accept: false,
        },
        Vector {
            id: "non-ascii-payload-type",
            envelope: envelope(
                STATEMENT_B64,
                UTF8_TYPE,
                &[(
                    Some("A"),
                    "xmSk/ug66ysT7ayhkCIjhAq42zgZXSsEWuzUaNL7w2eGAdF/NU6/fRXPtmfN+5DNSAs5/i2lUnHjbbjPsu0tAw==",
                )],
            ),
            trusted: &["A"],
            threshold: 1,
            supported: &[UTF8_TYPE],
            pae: "445353457631203239206170706c69636174696f6e2f766e642e6578c3a46d706c652b6a736f6e203433207b225f74797065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f7631227d",
            accept: true,
        },
        Vector {
            id: "empty-payload",
            envelope: envelope(
                "",
                T,
                &[(
                    Some("A"),
                    "gSggCAaTLTYyRH6FIDBem6meyIynsYy8RTHVzwx9tnTb7Bg/1jMWnuVgI/gffqmbsC2VX5/jHfkkDqsj7CDbDg==",
                )],
            ),
            trusted: &["A"],
            threshold: 1,
            supported: &[T],
            pae: "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e203020",
            accept: true,
        },
        Vector {
            id: "empty-payload-type",
            envelope: envelope(
                STATEMENT_B64,
                "",
                &[(
                    Some("A"),
                    "iC3q/+3Rm0+lpAJRueDmDh15PnwCfxKmS0NAfKsbv+zgulXQC/WM9trc+j1XEqlwDIg/vf/uNfebeD6sxInrDg==",
                )],
            ),
            trusted: &["A"],
            threshold: 1,
            supported: &[T],
            pae: "445353457631203020203433207b225f74797065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f7631227d",
            accept: false,
        },
        Vector {
            id: "threshold-two-distinct-keys",
            envelope: envelope(STATEMENT_B64, T, &[(Some("A"), SIG_A), (Some("B"), SIG_B)]),
            trusted: &["A", "B"],
            threshold: 2,
            supported: &[T],
            pae: PAE_STATEMENT,
            accept: true,
        },
        Vector {
            id: "threshold-two-one-key-twice",
            envelope: envelope(STATEMENT_B64, T, &[(Some("A"), SIG_A), (Some("A"), SIG_A)]),
            trusted: &["A", "B"],
            threshold: 2,
            supported: &[T],
            pae: PAE_STATEMENT,
            accept: false,
        },
        Vector {
            id: "threshold-two-without-keyids",
            envelope: envelope(STATEMENT_B64, T, &[(None, SIG_A), (None, SIG_B)]),
            trusted: &["A", "B"],
            threshold: 2,
            supported: &[T],
            pae: PAE_STATEMENT,
            accept: true,
        },
    ]
}

/// The verifier the vectors describe: signatures first, then the payload type.
fn run(vector: &Vector) -> Result<Vec<u8>, String> {
    let env = Envelope::from_json(vector.envelope.as_bytes()).map_err(|e| e.to_string())?;
    let keys: Vec<(&str, VerifyingKey)> = vector
        .trusted
        .iter()
        .map(|name| match *name {
            "A" => ("A", key_a().verifying_key()),
            "B" => ("B", key_b().verifying_key()),
            other => panic!("unknown key {other}"),
        })
        .collect();
    let payload = env
        .verify_threshold(&keys, vector.threshold)
        .map_err(|e| e.to_string())?;
    if !vector.supported.contains(&env.payload_type.as_str()) {
        return Err(format!("unsupported payload type {:?}", env.payload_type));
    }
    Ok(payload.to_vec())
}

#[test]
fn vector_keys_are_the_rfc_8032_keys() {
    assert_eq!(hex::encode(key_a().verifying_key().as_bytes()), PUBLIC_A);
    assert_eq!(hex::encode(key_b().verifying_key().as_bytes()), PUBLIC_B);
    // RFC 8032 section 7.1 TEST 1: the signature of the empty message.
    assert_eq!(
        hex::encode(key_a().sign(b"").to_bytes()),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
}

#[test]
fn spec_test_vectors() {
    for vector in vectors() {
        let env = Envelope::from_json(vector.envelope.as_bytes()).unwrap();
        // Every vector but the swapped one signs exactly what its envelope says.
        if vector.id != "payload-type-swapped" {
            assert_eq!(
                hex::encode(dsse::pae(&env.payload_type, &env.payload)),
                vector.pae,
                "{}: PAE",
                vector.id
            );
        }
        let result = run(&vector);
        assert_eq!(
            result.is_ok(),
            vector.accept,
            "{}: expected {}, got {result:?}",
            vector.id,
            if vector.accept { "accept" } else { "reject" }
        );
        if let Ok(payload) = result {
            assert_eq!(payload, env.payload, "{}", vector.id);
        }
    }
}

/// Ed25519 is deterministic: signing the vectors' payloads reproduces their signatures, so our
/// PAE and our signer agree with the generator byte for byte.
#[test]
fn signing_reproduces_the_vector_signatures() {
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
    for (key, expected) in [(key_a(), SIG_A), (key_b(), SIG_B)] {
        let env = Envelope::sign(PAYLOAD_TYPE_IN_TOTO, payload, &key, "A");
        let json = String::from_utf8(env.to_json()).unwrap();
        assert!(json.contains(expected), "{json}");
        assert!(json.contains(STATEMENT_B64), "{json}");
    }
}

#[test]
fn keyid_is_hex_sha256_of_the_raw_public_key() {
    // sha256 of the 32 bytes d75a9801...511a (RFC 8032 TEST 1's public key).
    assert_eq!(
        dsse::ed25519_keyid(&key_a().verifying_key()),
        "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"
    );
}

// ---------------------------------------------------------------------------------------------
// Tampering.

fn signed() -> (Envelope, Vec<(String, VerifyingKey)>) {
    let key = key_a();
    let keyid = dsse::ed25519_keyid(&key.verifying_key());
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1","predicate":{},"predicateType":"https://evident.dev/attestations/approval/v1","subject":[{"digest":{"sha256":"fe4fe40ac7250263c5dbe1cf3138912f3f416140aa248637a60d65fe22c47da4"}}]}"#;
    let env = Envelope::sign(PAYLOAD_TYPE_IN_TOTO, payload, &key, keyid.clone());
    (env, vec![(keyid, key.verifying_key())])
}

#[test]
fn untouched_envelope_verifies() {
    let (env, keys) = signed();
    assert_eq!(env.verify(&keys).unwrap(), env.payload.as_slice());
    let back = Envelope::from_json(&env.to_json()).unwrap();
    assert_eq!(back.verify(&keys).unwrap(), env.payload.as_slice());
}

#[test]
fn flipping_any_payload_byte_is_rejected() {
    let (env, keys) = signed();
    for i in 0..env.payload.len() {
        for bit in [0x01, 0x80] {
            let mut t = env.clone();
            t.payload[i] ^= bit;
            assert!(
                matches!(
                    t.verify(&keys),
                    Err(DsseError::BadSignature { index: 0, .. })
                ),
                "payload byte {i} ^ {bit:#x} accepted"
            );
        }
    }
    let mut t = env.clone();
    t.payload.push(b' ');
    assert!(t.verify(&keys).is_err());
    let mut t = env;
    t.payload.pop();
    assert!(t.verify(&keys).is_err());
}

#[test]
fn flipping_any_payload_type_byte_is_rejected() {
    let (env, keys) = signed();
    for i in 0..env.payload_type.len() {
        let mut bytes = env.payload_type.clone().into_bytes();
        bytes[i] ^= 0x01; // ASCII stays ASCII, so the type is still a string
        let mut t = env.clone();
        t.payload_type = String::from_utf8(bytes).unwrap();
        assert!(
            matches!(t.verify(&keys), Err(DsseError::BadSignature { .. })),
            "payloadType byte {i} accepted"
        );
    }
    let mut t = env;
    t.payload_type.push('x');
    assert!(t.verify(&keys).is_err());
}

#[test]
fn flipping_any_signature_byte_is_rejected() {
    let (env, keys) = signed();
    for i in 0..env.signatures[0].sig.len() {
        for bit in [0x01, 0x80] {
            let mut t = env.clone();
            t.signatures[0].sig[i] ^= bit;
            assert!(
                matches!(t.verify(&keys), Err(DsseError::BadSignature { .. })),
                "sig byte {i} ^ {bit:#x} accepted"
            );
        }
    }
    for len in [0, 63, 65] {
        let mut t = env.clone();
        t.signatures[0].sig.resize(len, 0);
        assert!(t.verify(&keys).is_err(), "sig of {len} bytes accepted");
    }
}

/// Any change to the JSON text either fails to parse, fails to verify, or (when only an
/// unauthenticated part such as the keyid hint changed) yields the very same payload and type.
#[test]
fn flipping_any_byte_of_the_json_never_changes_what_verifies() {
    let (env, keys) = signed();
    let json = env.to_json();
    for i in 0..json.len() {
        let mut t = json.clone();
        t[i] ^= 0x01;
        let Ok(parsed) = Envelope::from_json(&t) else {
            continue;
        };
        if let Ok(payload) = parsed.verify(&keys) {
            assert_eq!(payload, env.payload.as_slice(), "json byte {i}");
            assert_eq!(parsed.payload_type, env.payload_type, "json byte {i}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Policy around several signatures and keys.

#[test]
fn an_unknown_signer_is_ignored_but_does_not_count() {
    let (mut env, keys) = signed();
    let stranger = SigningKey::from_bytes(&[42; 32]);
    env.add_signature(&stranger, dsse::ed25519_keyid(&stranger.verifying_key()));
    assert!(env.verify(&keys).is_ok());
    assert!(matches!(
        env.verify_threshold(&keys, 2),
        Err(DsseError::ThresholdNotMet {
            required: 2,
            verified: 1
        })
    ));

    let only_stranger = Envelope {
        signatures: env.signatures[1..].to_vec(),
        ..env.clone()
    };
    assert!(matches!(
        only_stranger.verify(&keys),
        Err(DsseError::ThresholdNotMet { .. })
    ));
}

#[test]
fn a_failing_signature_from_a_trusted_key_is_an_error_even_beside_a_good_one() {
    let (mut env, keys) = signed();
    let b = key_b();
    let b_id = dsse::ed25519_keyid(&b.verifying_key());
    env.add_signature(&b, b_id.clone());
    env.signatures[1].sig[0] ^= 1;
    let mut both = keys.clone();
    both.push((b_id.clone(), b.verifying_key()));
    match env.verify(&both) {
        Err(DsseError::BadSignature { index, keyid }) => {
            assert_eq!(index, 1);
            assert_eq!(keyid, b_id);
        }
        other => panic!("expected BadSignature, got {other:?}"),
    }
    // Not trusting B, its broken signature is just another party's.
    assert!(env.verify(&keys).is_ok());
}

#[test]
fn no_signatures_is_an_error() {
    let (mut env, keys) = signed();
    env.signatures.clear();
    assert!(matches!(env.verify(&keys), Err(DsseError::NoSignatures)));
}

#[test]
fn error_messages_say_what_to_look_at() {
    let (mut env, keys) = signed();
    env.payload[0] ^= 1;
    let msg = env.verify(&keys).unwrap_err().to_string();
    assert!(msg.contains("signature #0"), "{msg}");
    assert!(msg.contains("altered"), "{msg}");
}

proptest! {
    /// Whatever the bytes, parsing and verifying returns; it never panics.
    #[test]
    fn arbitrary_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(env) = Envelope::from_json(&bytes) {
            let keys = [("A", key_a().verifying_key())];
            let _ = env.verify(&keys);
        }
    }

    /// Arbitrary fields in a well-formed envelope never verify against key A.
    #[test]
    fn arbitrary_envelopes_do_not_verify(
        payload in prop::collection::vec(any::<u8>(), 0..64),
        payload_type in ".{0,16}",
        sig in prop::collection::vec(any::<u8>(), 0..80),
        keyid in prop_oneof![Just(String::new()), Just("A".to_owned()), ".{0,4}"],
    ) {
        let env = Envelope {
            payload,
            payload_type,
            signatures: vec![dsse::Signature { keyid, sig }],
        };
        let keys = [("A", key_a().verifying_key())];
        prop_assert!(env.verify(&keys).is_err());
        let back = Envelope::from_json(&env.to_json()).unwrap();
        prop_assert_eq!(back, env);
    }

    /// Signed envelopes of any payload and type verify, through JSON too.
    #[test]
    fn signed_envelopes_verify(
        payload in prop::collection::vec(any::<u8>(), 0..128),
        payload_type in ".{0,24}",
    ) {
        let key = key_b();
        let env = Envelope::sign(payload_type, payload, &key, "");
        let keys = [("B", key.verifying_key())];
        let back = Envelope::from_json(&env.to_json()).unwrap();
        prop_assert_eq!(back.verify(&keys).unwrap(), env.payload.as_slice());
    }
}
