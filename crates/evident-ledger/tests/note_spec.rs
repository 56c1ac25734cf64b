//! Signed notes, checkpoints and tlog-proofs against the examples published with their specs,
//! plus the edge cases the specs spell out.

use evident_ledger::checkpoint::{self, Checkpoint, CheckpointError};
use evident_ledger::note::{self, KeyError, NoteError, Signer, Verifier};
use evident_ledger::tlog_proof::{TlogProof, TlogProofError};

// ---------------------------------------------------------------------------------------------
// Published example data.
// ---------------------------------------------------------------------------------------------

// Source: the package documentation of golang.org/x/mod/sumdb/note (the "Example" section of
// sumdb/note/note.go), which publishes a private key, its verifier key, a text, and the note
// that signing the text with the key produces.
const PETER_PRIVATE_KEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VERIFIER_KEY: &str =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                          then you don't know what your problem is.\n";
const PETER_SIGNATURE_LINE: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

// Source: the same documentation shows the note cosigned by a second key, "EnochRoot"; that
// key's verifier key is published in golang.org/x/mod's sumdb/note/note_test.go.
const ENOCH_VERIFIER_KEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const ENOCH_SIGNATURE_LINE: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

// Source: C2SP signed-note.md (c2sp.org/signed-note), the example at the top of the spec. The
// key is not published, so only the syntax can be checked.
const QUASIMODO_NOTE: &str = "Ognuno sta solo sul cuor della terra\n\
                              trafitto da un raggio di sole:\n\
                              \n\
                              ed è subito sera.\n\
                              \n\
                              — quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

// Source: C2SP tlog-checkpoint.md (c2sp.org/tlog-checkpoint), the example at the top of the
// spec. The key is not published.
const SOFA_CHECKPOINT: &str = "example.com/behind-the-sofa\n\
                               20852163\n\
                               CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
                               \n\
                               — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

// Source: C2SP tlog-proof.md (c2sp.org/tlog-proof), the example at the top of the spec. Its
// signatures are elided ("[...]") in the spec, so they are not valid base64.
const FANCYLOG_PROOF_HEAD: &str = "c2sp.org/tlog-proof@v1\n\
                                   extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n\
                                   index 73894\n\
                                   gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n\
                                   B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n\
                                   EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n\
                                   RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n\
                                   AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n\
                                   \n";
const FANCYLOG_PROOF_CHECKPOINT: &str = "example.com/fancylog\n\
                                         109482\n\
                                         sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\
                                         \n\
                                         — example.com/fancylog hI2DJw[...]1roloI=\n\
                                         — witness1.example mJirIklj[...]qY9v2B/5bg==\n\
                                         — witness2.example TnKKVHLX[...]xwYwrSjgow==\n\
                                         — witness3.example S4X82uH5[...]3oEcROGLFQ==\n";

fn peter_note() -> String {
    format!("{PETER_TEXT}\n{PETER_SIGNATURE_LINE}")
}

fn peter() -> Verifier {
    PETER_VERIFIER_KEY.parse().expect("published verifier key")
}

fn enoch() -> Verifier {
    ENOCH_VERIFIER_KEY.parse().expect("published verifier key")
}

fn test_signer(name: &str, byte: u8) -> Signer {
    Signer::new(name, &[byte; 32]).expect("valid name")
}

// ---------------------------------------------------------------------------------------------
// Keys.
// ---------------------------------------------------------------------------------------------

#[test]
fn published_keys_parse_and_match() {
    let signer: Signer = PETER_PRIVATE_KEY.parse().expect("published private key");
    assert_eq!(signer.name(), "PeterNeumann");
    assert_eq!(signer.key_id(), 0xc74f_20a3);
    assert_eq!(signer.verifier(), peter());
    assert_eq!(signer.verifier().to_string(), PETER_VERIFIER_KEY);
    assert_eq!(signer.to_private_key_text(), PETER_PRIVATE_KEY);

    let verifier = peter();
    assert_eq!(verifier.name(), "PeterNeumann");
    assert_eq!(verifier.key_id(), 0xc74f_20a3);
    assert_eq!(verifier.to_string(), PETER_VERIFIER_KEY);
    assert_eq!(
        note::ed25519_key_id("PeterNeumann", &verifier.public_key()),
        0xc74f_20a3
    );
    assert_eq!(enoch().key_id(), 0xaf0c_fe78);
    assert_eq!(enoch().to_string(), ENOCH_VERIFIER_KEY);
}

#[test]
fn signer_debug_does_not_show_the_seed() {
    let signer: Signer = PETER_PRIVATE_KEY.parse().expect("published private key");
    let debug = format!("{signer:?} {signer:#?}");
    assert!(
        debug.contains("PeterNeumann") && debug.contains("c74f20a3"),
        "{debug}"
    );
    let seed_base64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    assert!(
        !debug.contains(seed_base64) && !debug.contains("PRIVATE"),
        "{debug}"
    );
    // Nor the seed in hex or as a byte list.
    let seed = [0x5a_u8; 32];
    let signer = Signer::new("x", &seed).expect("valid name");
    let debug = format!("{signer:?} {signer:#?}");
    assert!(
        !debug.contains("5a5a") && !debug.contains("90, 90") && !debug.contains("90,"),
        "{debug}"
    );
}

#[test]
fn every_mangled_published_key_is_rejected() {
    // Any proper substring, and any single byte changed, must not parse.
    for (text, is_private) in [(PETER_VERIFIER_KEY, false), (PETER_PRIVATE_KEY, true)] {
        let parses = |candidate: &str| {
            if is_private {
                candidate.parse::<Signer>().is_ok()
            } else {
                candidate.parse::<Verifier>().is_ok()
            }
        };
        for start in 0..text.len() {
            for end in start + 1..=text.len() {
                if (start, end) != (0, text.len()) {
                    assert!(!parses(&text[start..end]), "{:?}", &text[start..end]);
                }
            }
        }
        let mut bytes = text.as_bytes().to_vec();
        for i in 0..bytes.len() {
            for delta in [1_u8, 255] {
                bytes[i] = bytes[i].wrapping_add(delta);
                if let Ok(candidate) = std::str::from_utf8(&bytes) {
                    assert!(!parses(candidate), "{candidate:?}");
                }
                bytes[i] = bytes[i].wrapping_sub(delta);
            }
        }
    }
}

#[test]
fn key_errors_are_specific() {
    // Source: golang.org/x/mod sumdb/note/note_test.go, two verifier keys whose key ID was
    // adjusted to match: a key of the wrong length, and an unknown algorithm byte.
    let wrong_length = "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==";
    assert!(matches!(
        wrong_length.parse::<Verifier>(),
        Err(KeyError::Malformed { .. })
    ));
    let unknown_algorithm = "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    assert_eq!(
        unknown_algorithm.parse::<Verifier>(),
        Err(KeyError::UnsupportedAlgorithm(0x65))
    );
    assert_eq!(
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW".parse::<Verifier>(),
        Err(KeyError::KeyIdMismatch {
            stated: 0xc74f_20a4,
            computed: 0xc74f_20a3
        })
    );
    // Upper-case hex is read (the Go parser accepts it too); output is lower case.
    let upper: Verifier = "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        .parse()
        .expect("upper-case key ID");
    assert_eq!(upper.to_string(), PETER_VERIFIER_KEY);

    for name in [
        "",
        "a b",
        "a+b",
        "a\tb",
        "a\u{a0}b",
        "a\u{2003}b",
        "a\u{1}b",
        "a\nb",
    ] {
        assert_eq!(
            Signer::new(name, &[1; 32]).map(|_| ()),
            Err(KeyError::InvalidName(name.to_owned()))
        );
        assert!(Verifier::new(name, &peter().public_key()).is_err());
    }
    // A point not on the curve, and a small-order point.
    // y = 22 has no x on the curve.
    let mut not_a_point = [0_u8; 32];
    not_a_point[0] = 22;
    assert!(matches!(
        Verifier::new("x", &not_a_point).map(|_| ()),
        Err(KeyError::InvalidPublicKey)
    ));
    let mut identity = [0_u8; 32];
    identity[0] = 1;
    assert_eq!(
        Verifier::new("x", &identity).map(|_| ()),
        Err(KeyError::InvalidPublicKey)
    );
    assert!(matches!(
        "PRIVATE+KEY+x".parse::<Signer>(),
        Err(KeyError::Malformed {
            kind: "private key",
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// Notes.
// ---------------------------------------------------------------------------------------------

#[test]
fn published_note_verifies() {
    let opened = note::open(peter_note().as_bytes(), &[peter()]).expect("published note");
    assert_eq!(opened.text, PETER_TEXT);
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.verified[0].name, "PeterNeumann");
    assert_eq!(opened.verified[0].key_id, 0xc74f_20a3);
    assert_eq!(opened.verified[0].signature.len(), 64);
    assert_eq!(
        format!("— PeterNeumann {}\n", opened.verified[0].to_base64()),
        PETER_SIGNATURE_LINE
    );
    assert!(opened.unverified.is_empty());
}

#[test]
fn signing_reproduces_the_published_note() {
    // Ed25519 is deterministic, so the published key signs the text into the published note.
    let signer: Signer = PETER_PRIVATE_KEY.parse().expect("published private key");
    assert_eq!(
        note::sign(PETER_TEXT, &signer).expect("valid text"),
        peter_note()
    );
}

#[test]
fn published_cosigned_note() {
    let cosigned = format!("{PETER_TEXT}\n{PETER_SIGNATURE_LINE}{ENOCH_SIGNATURE_LINE}");

    let both = note::open(cosigned.as_bytes(), &[peter(), enoch()]).expect("both keys");
    let names: Vec<_> = both.verified.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["PeterNeumann", "EnochRoot"]);
    assert!(both.unverified.is_empty());

    let one = note::open(cosigned.as_bytes(), &[peter()]).expect("one key");
    assert_eq!(one.verified.len(), 1);
    assert_eq!(one.unverified.len(), 1);
    assert_eq!(one.unverified[0].name, "EnochRoot");
    assert_eq!(one.unverified[0].key_id, 0xaf0c_fe78);

    let other = note::open(cosigned.as_bytes(), &[enoch()]).expect("the other key");
    assert_eq!(other.verified[0].name, "EnochRoot");
    assert_eq!(other.unverified[0].name, "PeterNeumann");

    assert_eq!(
        note::open(cosigned.as_bytes(), &[]),
        Err(NoteError::NoVerifiedSignature {
            signed_by: vec!["PeterNeumann+c74f20a3".into(), "EnochRoot+af0cfe78".into()]
        })
    );
}

#[test]
fn c2sp_signed_note_example_parses_but_is_not_trusted() {
    let err = note::open(QUASIMODO_NOTE.as_bytes(), &[peter()]).unwrap_err();
    assert_eq!(
        err,
        NoteError::NoVerifiedSignature {
            signed_by: vec!["quasimodo.example/salvatore+367ba04b".into()]
        }
    );
    // The text (which contains a blank line) is everything before the last blank line; check it
    // by re-signing that text and opening the result.
    let text = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n";
    let signer = test_signer("quasimodo.example/salvatore", 7);
    let resigned = note::sign(text, &signer).expect("valid text");
    let (head, _) = QUASIMODO_NOTE.rsplit_once("— ").expect("signature line");
    assert!(resigned.starts_with(head));
    assert_eq!(
        note::open(resigned.as_bytes(), &[signer.verifier()])
            .expect("re-signed")
            .text,
        text
    );
}

#[test]
fn known_key_with_bad_signature_rejects_the_note() {
    // A signature line by the known key that does not verify (bytes changed inside it).
    let bad = format!(
        "{PETER_TEXT}\n{}ABCD{}",
        &PETER_SIGNATURE_LINE[..60],
        &PETER_SIGNATURE_LINE[60..]
    );
    assert_eq!(
        note::open(bad.as_bytes(), &[peter()]),
        Err(NoteError::InvalidSignature {
            line: 4,
            name: "PeterNeumann".into(),
            key_id: 0xc74f_20a3
        })
    );
    // ... even when a valid signature by the same key comes first.
    let both = format!(
        "{}{}ABCD{}",
        peter_note(),
        &PETER_SIGNATURE_LINE[..60],
        &PETER_SIGNATURE_LINE[60..]
    );
    assert!(matches!(
        note::open(both.as_bytes(), &[peter()]),
        Err(NoteError::InvalidSignature { line: 5, .. })
    ));
    // A bad signature by an unknown key is kept, unverified.
    let enoch_bad = format!(
        "{}{}ABCD{}",
        peter_note(),
        &ENOCH_SIGNATURE_LINE[..60],
        &ENOCH_SIGNATURE_LINE[60..]
    );
    let opened = note::open(enoch_bad.as_bytes(), &[peter()]).expect("unknown key ignored");
    assert_eq!(opened.unverified.len(), 1);
    assert!(note::open(enoch_bad.as_bytes(), &[peter(), enoch()]).is_err());
}

#[test]
fn same_name_or_same_id_is_a_different_key() {
    // The spec: ignore signatures from unknown keys even if they share a name or an ID (but not
    // both) with a known key.
    let impostor = test_signer("PeterNeumann", 9);
    assert_ne!(impostor.key_id(), peter().key_id());
    let note = note::sign(PETER_TEXT, &impostor).expect("valid text");
    let impostor_line = note.lines().last().expect("signature line");
    let both = format!("{}{impostor_line}\n", peter_note());
    let opened = note::open(both.as_bytes(), &[peter()]).expect("the impostor is unknown");
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.unverified.len(), 1);
    assert_eq!(opened.unverified[0].key_id, impostor.key_id());

    // Same key ID, other name: unknown.
    let renamed = peter_note().replace("— PeterNeumann", "— PeterNeumann2");
    assert!(matches!(
        note::open(renamed.as_bytes(), &[peter()]),
        Err(NoteError::NoVerifiedSignature { .. })
    ));
}

#[test]
fn duplicate_signatures() {
    let doubled = format!(
        "{}{PETER_SIGNATURE_LINE}{ENOCH_SIGNATURE_LINE}{ENOCH_SIGNATURE_LINE}",
        peter_note()
    );
    let opened = note::open(doubled.as_bytes(), &[peter()]).expect("duplicates");
    assert_eq!(opened.verified.len(), 1);
    assert_eq!(opened.unverified.len(), 1);

    // The same verifier given twice is fine.
    assert!(note::open(peter_note().as_bytes(), &[peter(), peter()]).is_ok());
}

#[test]
fn signature_count_limits() {
    // The spec requires accepting at least 16 signatures; 100 is the limit here.
    let unknown: Vec<String> = (0..99_u8)
        .map(|i| {
            let signer = test_signer(&format!("witness{i}.example"), i);
            let note = note::sign(PETER_TEXT, &signer).expect("valid text");
            note[PETER_TEXT.len() + 1..].to_owned()
        })
        .collect();
    let note_100 = format!("{}{}", peter_note(), unknown.concat());
    let opened = note::open(note_100.as_bytes(), &[peter()]).expect("100 signatures");
    assert_eq!(opened.unverified.len(), 99);

    let note_101 = format!("{note_100}{ENOCH_SIGNATURE_LINE}");
    assert_eq!(
        note::open(note_101.as_bytes(), &[peter()]),
        Err(NoteError::TooManySignatures { max: 100 })
    );

    let huge = format!("{}{}", "a".repeat(note::MAX_NOTE_BYTES), peter_note());
    assert!(matches!(
        note::open(huge.as_bytes(), &[peter()]),
        Err(NoteError::TooLarge { .. })
    ));
}

#[test]
fn malformed_notes() {
    let sig = PETER_SIGNATURE_LINE;
    let cases: Vec<(String, NoteError)> = vec![
        (PETER_TEXT.to_owned(), NoteError::MissingSignatures),
        (format!("{PETER_TEXT}\n"), NoteError::MissingSignatures),
        (
            format!("{PETER_TEXT}\n{}", &sig[..sig.len() - 1]),
            NoteError::MalformedSignature {
                line: 4,
                reason: "the last line does not end with a newline",
            },
        ),
        (
            format!("\u{1}{PETER_TEXT}\n{sig}"),
            NoteError::ControlCharacter { line: 1, byte: 1 },
        ),
        (
            format!("{PETER_TEXT}\r\n{sig}"),
            NoteError::ControlCharacter {
                line: 3,
                byte: b'\r',
            },
        ),
        (
            format!("{PETER_TEXT}\n{sig}Unexpected line.\n"),
            NoteError::MalformedSignature {
                line: 5,
                reason: "it does not start with an em dash (U+2014) and a space",
            },
        ),
        (
            format!(
                "{PETER_TEXT}\n— Bad+Name {}",
                &sig["— PeterNeumann ".len()..]
            ),
            NoteError::MalformedSignature {
                line: 4,
                reason: "invalid key name (empty, or containing a space, `+` or a control character)",
            },
        ),
        (
            // The name ends at the first space, so the rest is not base64.
            format!(
                "{PETER_TEXT}\n— Bad Name {}",
                &sig["— PeterNeumann ".len()..]
            ),
            NoteError::MalformedSignature {
                line: 4,
                reason: "the signature is not canonical standard base64",
            },
        ),
        (
            format!("{PETER_TEXT}\n—  {}", &sig["— PeterNeumann ".len()..]),
            NoteError::MalformedSignature {
                line: 4,
                reason: "invalid key name (empty, or containing a space, `+` or a control character)",
            },
        ),
        (
            format!("{PETER_TEXT}\n— PeterNeumann\n"),
            NoteError::MalformedSignature {
                line: 4,
                reason: "expected `— <key name> <signature>`",
            },
        ),
        (
            format!("{PETER_TEXT}\n— PeterNeumann x08gow==\n"),
            NoteError::MalformedSignature {
                line: 4,
                reason: "the signature is shorter than a key ID and one byte",
            },
        ),
        (
            // Unpadded base64.
            format!("{PETER_TEXT}\n{}", sig.replace("AM=\n", "AM\n")),
            NoteError::MalformedSignature {
                line: 4,
                reason: "the signature is not canonical standard base64",
            },
        ),
        (
            // Non-zero trailing bits: "AM=" and "AN=" would decode to the same bytes.
            format!("{PETER_TEXT}\n{}", sig.replace("AM=\n", "AN=\n")),
            NoteError::MalformedSignature {
                line: 4,
                reason: "the signature is not canonical standard base64",
            },
        ),
        (
            format!(
                "{PETER_TEXT}\n- PeterNeumann {}",
                &sig["— PeterNeumann ".len()..]
            ),
            NoteError::MalformedSignature {
                line: 4,
                reason: "it does not start with an em dash (U+2014) and a space",
            },
        ),
    ];
    for (note, expected) in cases {
        assert_eq!(
            note::open(note.as_bytes(), &[peter()]),
            Err(expected),
            "{note:?}"
        );
    }
    let mut invalid_utf8 = peter_note().into_bytes();
    invalid_utf8.insert(60, 0xff);
    assert_eq!(
        note::open(&invalid_utf8, &[peter()]),
        Err(NoteError::InvalidUtf8 { line: 2 })
    );
}

#[test]
fn texts_with_blank_lines_and_signature_like_lines() {
    let signer = test_signer("example.com/log", 3);
    for text in [
        "\n",
        "a\n\n",
        "a\n\n\nb\n",
        "— example.com/log AAAA\n",
        "a\n\n— example.com/log AAAAAAA=\n",
        "\u{2014}\n",
        "tab\u{7f}del and NBSP\u{a0}\n",
    ] {
        let signed = note::sign(text, &signer).expect("valid text");
        let opened = note::open(signed.as_bytes(), &[signer.verifier()]).expect("round trip");
        assert_eq!(opened.text, text);
    }
    for text in ["", "no newline", "a\tb\n", "a\r\n"] {
        assert!(
            matches!(note::sign(text, &signer), Err(NoteError::InvalidText(_))),
            "{text:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints.
// ---------------------------------------------------------------------------------------------

#[test]
fn c2sp_checkpoint_example() {
    let (text, _) = SOFA_CHECKPOINT.split_once("\n\n").expect("blank line");
    let parsed = Checkpoint::parse(&format!("{text}\n")).expect("published checkpoint");
    assert_eq!(parsed.origin, "example.com/behind-the-sofa");
    assert_eq!(parsed.size, 20_852_163);
    assert_eq!(
        hex::encode(parsed.root),
        "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62"
    );
    assert!(parsed.extensions.is_empty());
    assert_eq!(parsed.to_text().expect("valid"), format!("{text}\n"));

    // Its key is not published: the signature (by a key named after the origin) is unknown.
    assert_eq!(
        checkpoint::open_checkpoint(SOFA_CHECKPOINT.as_bytes(), &[peter()]),
        Err(CheckpointError::Note(NoteError::NoVerifiedSignature {
            signed_by: vec!["example.com/behind-the-sofa+033de0ae".into()]
        }))
    );
}

#[test]
fn checkpoint_sign_and_open() {
    let log = test_signer("example.com/log42", 1);
    let witness = test_signer("witness.example", 2);
    let mut checkpoint = Checkpoint::new("example.com/log42", 12, [7; 32]);
    checkpoint.extensions = vec!["ext one".into(), "ext two".into()];
    let signed = checkpoint::sign_checkpoint(&checkpoint, &log).expect("valid");
    assert!(signed.starts_with("example.com/log42\n12\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\next one\next two\n\n— example.com/log42 "));

    let (opened, note) =
        checkpoint::open_checkpoint(signed.as_bytes(), &[log.verifier()]).expect("opens");
    assert_eq!(opened, checkpoint);
    assert_eq!(note.verified[0].name, "example.com/log42");

    // A note signed only by another trusted key is not a checkpoint from this log.
    let by_witness = note::sign(&checkpoint.to_text().unwrap(), &witness).unwrap();
    assert_eq!(
        checkpoint::open_checkpoint(by_witness.as_bytes(), &[log.verifier(), witness.verifier()]),
        Err(CheckpointError::NoLogSignature {
            origin: "example.com/log42".into()
        })
    );
    assert_eq!(
        checkpoint::sign_checkpoint(&checkpoint, &witness),
        Err(CheckpointError::OriginMismatch {
            origin: "example.com/log42".into(),
            key_name: "witness.example".into()
        })
    );
}

#[test]
fn strict_checkpoint_parsing() {
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let ok = |text: &str| Checkpoint::parse(text).is_ok();
    assert!(ok(&format!("o\n0\n{root}\n")));
    assert!(ok(&format!("o\n18446744073709551615\n{root}\n")));
    assert!(ok(&format!("o r+igin\n1\n{root}\next\n")));
    let line = |text: &str| match Checkpoint::parse(text) {
        Err(CheckpointError::Malformed { line, .. }) => line,
        other => panic!("{text:?}: {other:?}"),
    };
    assert_eq!(line(&format!("o\n00\n{root}\n")), 2);
    assert_eq!(line(&format!("o\n01\n{root}\n")), 2);
    assert_eq!(line(&format!("o\n+1\n{root}\n")), 2);
    assert_eq!(line(&format!("o\n-1\n{root}\n")), 2);
    assert_eq!(line(&format!("o\n 1\n{root}\n")), 2);
    assert_eq!(line(&format!("o\n18446744073709551616\n{root}\n")), 2);
    assert_eq!(line(&format!("o\n1\n{}\n", &root[..43])), 3);
    assert_eq!(line(&format!("o\n1\n{}\n", root.replace("2I=", "2J="))), 3);
    assert_eq!(line(&format!("o\n1\nAAAA{root}\n")), 3);
    assert_eq!(line(&format!("o\n1\n{}\n", "A".repeat(44))), 3);
    assert_eq!(line(&format!("\n1\n{root}\n")), 1);
    assert_eq!(line(&format!("o\n1\n{root}\n\next\n")), 4);
    assert_eq!(line(&format!("o\n1\n{root}")), 3);
    assert_eq!(line("o\n1\n"), 3);
    assert_eq!(line("o\n"), 2);
    assert_eq!(line(""), 1);
    assert_eq!(line(&format!("o\r\n1\n{root}\n")), 1);

    let mut bad = Checkpoint::new("", 1, [0; 32]);
    assert!(matches!(
        bad.to_text(),
        Err(CheckpointError::Invalid {
            field: "origin",
            ..
        })
    ));
    bad.origin = "a\nb".into();
    assert!(bad.to_text().is_err());
    bad.origin = "o".into();
    bad.extensions = vec![String::new()];
    assert!(matches!(
        bad.to_text(),
        Err(CheckpointError::Invalid {
            field: "extension line",
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// tlog-proof.
// ---------------------------------------------------------------------------------------------

#[test]
fn c2sp_tlog_proof_example_layout() {
    // As published, the signatures are elided, so the checkpoint note (line 10 on) is invalid.
    let published = format!("{FANCYLOG_PROOF_HEAD}{FANCYLOG_PROOF_CHECKPOINT}");
    match TlogProof::parse(published.as_bytes()) {
        Err(TlogProofError::MalformedCheckpointNote {
            line: 10,
            source: NoteError::MalformedSignature { line: 14, .. },
        }) => {}
        other => panic!("{other:?}"),
    }
    let message = TlogProof::parse(published.as_bytes())
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        "the checkpoint note (from line 10) is malformed: \
         line 14: malformed signature line: the signature is not canonical standard base64"
    );

    // With a checkpoint signed by a test key for the same origin, the published layout parses.
    let log = test_signer("example.com/fancylog", 5);
    let (text, _) = FANCYLOG_PROOF_CHECKPOINT.split_once("\n\n").unwrap();
    let checkpoint = note::sign(&format!("{text}\n"), &log).unwrap();
    let proof_text = format!("{FANCYLOG_PROOF_HEAD}{checkpoint}");
    let proof = TlogProof::parse(proof_text.as_bytes()).expect("published layout");
    assert_eq!(proof.index, 73_894);
    assert_eq!(
        proof.extra.as_deref().map(|e| &e[..30]),
        Some(&b"age-v1.2.1-darwin-arm64.tar.gz"[..])
    );
    assert_eq!(proof.proof.len(), 5);
    assert_eq!(
        hex::encode(proof.proof[0]),
        "8122b25e861952067a8ddb9662b9033804629ce30626f7978e032405371d3e54"
    );
    assert_eq!(proof.checkpoint, checkpoint);
    assert_eq!(proof.format().expect("valid"), proof_text);
}

#[test]
fn malformed_tlog_proofs() {
    let log = test_signer("example.com/log", 5);
    let checkpoint =
        checkpoint::sign_checkpoint(&Checkpoint::new("example.com/log", 1, [1; 32]), &log).unwrap();
    let hash = "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=";
    let line_of = |text: String| match TlogProof::parse(text.as_bytes()) {
        Err(TlogProofError::Malformed { line, .. }) => line,
        other => panic!("{text:?}: {other:?}"),
    };
    assert!(
        TlogProof::parse(format!("c2sp.org/tlog-proof@v1\nindex 0\n\n{checkpoint}").as_bytes())
            .is_ok()
    );
    assert_eq!(
        line_of(format!("c2sp.org/tlog-proof@v2\nindex 0\n\n{checkpoint}")),
        1
    );
    assert_eq!(
        line_of(format!("c2sp.org/tlog-proof@v1\r\nindex 0\n\n{checkpoint}")),
        1
    );
    assert_eq!(
        line_of(format!("c2sp.org/tlog-proof@v1\nindex 00\n\n{checkpoint}")),
        2
    );
    assert_eq!(
        line_of(format!("c2sp.org/tlog-proof@v1\nindex  0\n\n{checkpoint}")),
        2
    );
    assert_eq!(
        line_of(format!("c2sp.org/tlog-proof@v1\nindex 0 \n\n{checkpoint}")),
        2
    );
    assert_eq!(
        line_of(format!(
            "c2sp.org/tlog-proof@v1\nextra \nindex 0\n\n{checkpoint}"
        )),
        2
    );
    assert_eq!(
        line_of(format!(
            "c2sp.org/tlog-proof@v1\nextra AB\nindex 0\n\n{checkpoint}"
        )),
        2
    );
    assert_eq!(
        line_of(format!(
            "c2sp.org/tlog-proof@v1\nindex 0\nextra AAAA\n\n{checkpoint}"
        )),
        3
    );
    assert_eq!(
        line_of(format!(
            "c2sp.org/tlog-proof@v1\nextra AAAA\nextra AAAA\nindex 0\n\n{checkpoint}"
        )),
        3
    );
    assert_eq!(
        line_of(format!(
            "c2sp.org/tlog-proof@v1\nindex 0\n{hash}\n{}\n\n{checkpoint}",
            &hash[1..]
        )),
        4
    );
    assert_eq!(
        line_of(format!("c2sp.org/tlog-proof@v1\nindex 0\n{hash}\n")),
        4
    );
    assert_eq!(
        line_of(format!("c2sp.org/tlog-proof@v1\nindex 0\n{hash}")),
        3
    );
    assert_eq!(line_of("c2sp.org/tlog-proof@v1\nindex 0\n\n".to_owned()), 4);
    let too_many = format!("{hash}\n").repeat(65);
    assert_eq!(
        line_of(format!(
            "c2sp.org/tlog-proof@v1\nindex 0\n{too_many}\n{checkpoint}"
        )),
        67
    );
    assert!(matches!(
        TlogProof::parse(format!("c2sp.org/tlog-proof@v1\nindex 0\n\n\n{checkpoint}").as_bytes()),
        Err(TlogProofError::MalformedCheckpoint {
            line: 4,
            source: CheckpointError::Malformed { line: 4, .. }
        })
    ));
    assert!(matches!(
        TlogProof::parse(
            format!("c2sp.org/tlog-proof@v1\nindex 0\n\n{PETER_TEXT}\n{PETER_SIGNATURE_LINE}")
                .as_bytes()
        ),
        Err(TlogProofError::MalformedCheckpoint {
            line: 4,
            source: CheckpointError::Malformed { line: 5, .. }
        })
    ));
    assert!(matches!(
        TlogProof::parse(format!("c2sp.org/tlog-proof@v1\nindex 0\n\n{checkpoint}\r\n").as_bytes()),
        Err(TlogProofError::MalformedCheckpointNote {
            line: 4,
            source: NoteError::ControlCharacter {
                line: 9,
                byte: b'\r'
            }
        })
    ));
    assert!(matches!(
        TlogProof::parse(b"c2sp.org/tlog-proof@v1\nindex 0\xff\n"),
        Err(TlogProofError::InvalidUtf8 { line: 2 })
    ));

    let mut proof =
        TlogProof::parse(format!("c2sp.org/tlog-proof@v1\nindex 0\n\n{checkpoint}").as_bytes())
            .unwrap();
    proof.extra = Some(Vec::new());
    assert!(matches!(proof.format(), Err(TlogProofError::Invalid(_))));
    proof.extra = None;
    proof.checkpoint = String::new();
    assert!(matches!(
        proof.format(),
        Err(TlogProofError::Malformed { line: 4, .. })
    ));
}

#[test]
fn tlog_proof_verifies_every_entry() {
    use evident_ledger::merkle::{MemoryTree, leaf_hash};

    let log = test_signer("example.com/log", 6);
    let witness = test_signer("witness.example", 8);
    let mut tree = MemoryTree::new();
    for i in 0..7_u8 {
        tree.push(leaf_hash(&[i]));
    }
    let signed =
        checkpoint::sign_checkpoint(&Checkpoint::new("example.com/log", 7, tree.root()), &log)
            .unwrap();
    for index in 0..7_u8 {
        let proof = TlogProof {
            extra: (index % 2 == 0).then(|| vec![index; 3]),
            index: u64::from(index),
            proof: tree.inclusion_proof(u64::from(index), 7).unwrap(),
            checkpoint: signed.clone(),
        };
        let text = proof.format().unwrap();
        let parsed = TlogProof::parse(text.as_bytes()).unwrap();
        assert_eq!(parsed, proof);
        let checkpoint = parsed
            .verify(&leaf_hash(&[index]), &[log.verifier()])
            .expect("valid proof");
        assert_eq!(
            (checkpoint.origin.as_str(), checkpoint.size),
            ("example.com/log", 7)
        );

        // The wrong entry, or the right entry at the wrong index.
        assert!(matches!(
            parsed.verify(&leaf_hash(&[index + 1]), &[log.verifier()]),
            Err(TlogProofError::Inclusion(_))
        ));
        let mut moved = parsed.clone();
        moved.index = u64::from((index + 1) % 7);
        assert!(matches!(
            moved.verify(&leaf_hash(&[index]), &[log.verifier()]),
            Err(TlogProofError::Inclusion(_))
        ));
        moved.index = 7;
        assert_eq!(
            moved.verify(&leaf_hash(&[index]), &[log.verifier()]),
            Err(TlogProofError::IndexOutOfRange { index: 7, size: 7 })
        );
        // Untrusted or wrong keys.
        assert!(matches!(
            parsed.verify(&leaf_hash(&[index]), &[witness.verifier()]),
            Err(TlogProofError::Checkpoint(CheckpointError::Note(
                NoteError::NoVerifiedSignature { .. }
            )))
        ));
    }

    // A checkpoint signed only by a witness key is not the log's.
    let witness_signed = note::sign(
        &Checkpoint::new("example.com/log", 7, tree.root())
            .to_text()
            .unwrap(),
        &witness,
    )
    .unwrap();
    let proof = TlogProof {
        extra: None,
        index: 0,
        proof: tree.inclusion_proof(0, 7).unwrap(),
        checkpoint: witness_signed,
    };
    assert_eq!(
        proof.verify(&leaf_hash(&[0]), &[log.verifier(), witness.verifier()]),
        Err(TlogProofError::Checkpoint(
            CheckpointError::NoLogSignature {
                origin: "example.com/log".into()
            }
        ))
    );
}
