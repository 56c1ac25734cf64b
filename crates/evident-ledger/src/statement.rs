//! in-toto Statement v1: "this predicate is about these artifacts", signed inside DSSE.
//!
//! A [`Statement`] names its subjects by digest ([`ResourceDescriptor`]), says what kind of
//! claim it makes (`predicateType`, a URI) and carries the claim itself (`predicate`, a JSON
//! object). evident serialises statements with RFC 8785 ([`statement_to_envelope_payload`]) so
//! that the signed bytes, and the ledger's hash of them, are reproducible, and signs them as
//! DSSE payloads of type [`PAYLOAD_TYPE_IN_TOTO`].
//!
//! Reading follows the in-toto parsing rules: unknown fields are ignored; a digest algorithm
//! this module does not know is kept but not checked. What is checked ([`Statement::validate`]):
//! `_type` is [`STATEMENT_TYPE_V1`]; there is at least one subject and every subject has a
//! digest; the digests of the standard algorithms are lowercase hex of their algorithm's length
//! (`gitCommit` and the other git object ids: 40 or 64); `predicateType` is set; `predicate` is
//! an object.
//!
//! The predicate types evident writes or reads are in [`predicate_type`].

use std::collections::BTreeMap;

use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::dsse::{DsseError, Envelope, PAYLOAD_TYPE_IN_TOTO};
use crate::jcs::{self, JcsError};

/// The `_type` of an in-toto Statement, version 1.
pub const STATEMENT_TYPE_V1: &str = "https://in-toto.io/Statement/v1";

/// Predicate type URIs: the vetted in-toto predicates evident uses, and evident's own.
///
/// evident's own types live under `https://evident.dev/attestations/<kind>/v1`. Their
/// predicates share a small vocabulary: `actor` (who: an identity such as `github:alice` or a
/// CI workload), `time` (when: RFC 3339 UTC, e.g. `2026-10-01T12:00:00Z`), `reason` (why, free
/// text) and `ticket` (the change, incident or risk ticket: URL or id); each kind adds its
/// "what". The subject says which artifact or commit the claim is about (by digest). A field
/// marked optional may be left out; unknown fields are ignored, so later minor versions can
/// add fields without a new URI.
pub mod predicate_type {
    /// SLSA Provenance v1: how an artifact was built (`buildDefinition`, `runDetails`).
    pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
    /// SLSA Verification Summary (VSA) v1: a verifier's SLSA decision about an artifact.
    pub const SLSA_VERIFICATION_SUMMARY_V1: &str = "https://slsa.dev/verification_summary/v1";
    /// in-toto Simple Verification Result (SVR) v0.1: which properties a verifier checked and
    /// passed (`verifier.id`, `timeCreated`, `properties`). A natural form for gate decisions.
    pub const SIMPLE_VERIFICATION_RESULT_V0_1: &str = "https://in-toto.io/attestation/svr/v0.1";
    /// in-toto Test Result v0.1: one test-suite run (`result` PASSED|WARNED|FAILED,
    /// `configuration`, optional `url`, `passedTests`, `warnedTests`, `failedTests`).
    pub const TEST_RESULT_V0_1: &str = "https://in-toto.io/attestation/test-result/v0.1";
    /// in-toto Vulnerabilities v0.2: one scanner run (`scanner` with `uri`, `version`, `db`,
    /// `result`; `metadata.scanStartedOn` and `scanFinishedOn`).
    pub const VULNS_V0_2: &str = "https://in-toto.io/attestation/vulns/v0.2";
    /// CycloneDX SBOM; the predicate is the CycloneDX JSON document itself.
    pub const CYCLONEDX_BOM: &str = "https://cyclonedx.org/bom";
    /// SPDX 2.x SBOM; the predicate is the SPDX JSON document itself. (The in-toto SPDX 2
    /// predicate also names the versioned `https://spdx.dev/Document/v2.3`.)
    pub const SPDX_DOCUMENT: &str = "https://spdx.dev/Document";

    /// A human approved a change for an environment.
    ///
    /// Subject: the commit or artifact approved. Predicate: `actor` (the approver), `time`,
    /// `environment`, `change` (pull/merge request URL or id), `reason` (optional), `ticket`
    /// (optional).
    pub const EVIDENT_APPROVAL_V1: &str = "https://evident.dev/attestations/approval/v1";
    /// Something was deployed to an environment.
    ///
    /// Subject: the artifact(s) or commit deployed. Predicate: `actor` (who or which pipeline
    /// deployed), `time`, `environment`, `status` (`succeeded` | `failed`), `run` (optional: CI
    /// or CD run URL), `ticket` (optional).
    pub const EVIDENT_DEPLOYMENT_V1: &str = "https://evident.dev/attestations/deployment/v1";
    /// An environment was rolled back.
    ///
    /// Subject: the artifact or commit restored. Predicate: `actor`, `time`, `environment`,
    /// `from` (the digest or version taken out), `reason`, `drill` (true for a rehearsal),
    /// `ticket` (optional: the incident).
    pub const EVIDENT_ROLLBACK_V1: &str = "https://evident.dev/attestations/rollback/v1";
    /// A risk was accepted: findings may pass the gate until the exception expires.
    ///
    /// Subject: the repository commit or artifact in scope. Predicate: `actor` (the approver),
    /// `owner` (the risk owner), `time` (granted), `expires`, `scope` (check ids, control ids or
    /// paths), `reasonCode`, `reason`, `ticket`.
    pub const EVIDENT_EXCEPTION_V1: &str = "https://evident.dev/attestations/exception/v1";
    /// A gate was bypassed in an emergency.
    ///
    /// Subject: the artifact or commit let through. Predicate: `actor` (who invoked it),
    /// `approver` (the named approver), `time`, `expires` (hours later at most),
    /// `environment`, `reason`, `ticket`.
    pub const EVIDENT_BREAK_GLASS_V1: &str = "https://evident.dev/attestations/break-glass/v1";
    /// A control drifted from its baseline.
    ///
    /// Subject: the baseline or configuration document. Predicate: `actor` (the detector),
    /// `time`, `resource` (what drifted, e.g. a branch-protection setting), `expected`,
    /// `observed`, `controls` (optional: framework control ids).
    pub const EVIDENT_DRIFT_V1: &str = "https://evident.dev/attestations/drift/v1";
    /// An external event was received (GitHub, GitLab or Argo CD webhook, Falco alert).
    ///
    /// Subject: the stored raw event body. Predicate: `source` (e.g. `github`), `type` (the
    /// event name), `id` (the delivery or alert id), `time`, `actor` (optional: who caused it).
    pub const EVIDENT_EVENT_V1: &str = "https://evident.dev/attestations/event/v1";
    /// A scan ran: the counts, not the findings.
    ///
    /// Subject: the commit or artifact scanned. Predicate: `actor` (the scanner and its
    /// version), `time`, `result` (`passed` | `failed` | `errored`), `findings` (counts by
    /// severity), `report` (optional: a resource descriptor of the full report).
    pub const EVIDENT_SCAN_SUMMARY_V1: &str = "https://evident.dev/attestations/scan-summary/v1";
}

/// Why a statement was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The payload is not JSON, repeats a key, or does not have the Statement's shape.
    #[error("not an in-toto statement: {0}")]
    Json(#[source] serde_json::Error),
    /// The statement could not be canonicalised (RFC 8785), or the payload is not valid JSON.
    #[error(transparent)]
    Jcs(#[from] JcsError),
    /// `_type` is not [`STATEMENT_TYPE_V1`].
    #[error("statement _type is {found:?}; only {STATEMENT_TYPE_V1:?} is supported")]
    UnsupportedType {
        /// The `_type` found.
        found: String,
    },
    /// `subject` is empty.
    #[error("the statement has no subject")]
    NoSubject,
    /// A subject has no digest.
    #[error("subject #{index} has no digest; in-toto matches subjects by digest only")]
    SubjectWithoutDigest {
        /// Position in `subject`.
        index: usize,
    },
    /// A digest value is malformed for its algorithm.
    #[error("subject #{index}: digest {algorithm:?} {problem}")]
    BadDigest {
        /// Position in `subject`.
        index: usize,
        /// The algorithm key, e.g. `sha256`.
        algorithm: String,
        /// What is wrong with the value.
        problem: String,
    },
    /// A resource descriptor has none of `uri`, `digest` and `content`.
    #[error("subject #{index} has none of uri, digest and content")]
    EmptyDescriptor {
        /// Position in `subject`.
        index: usize,
    },
    /// `predicateType` is empty.
    #[error("the statement has an empty predicateType")]
    NoPredicateType,
    /// `predicate` is not a JSON object.
    #[error("the statement's predicate is not a JSON object")]
    PredicateNotObject,
    /// The envelope's payload type is not [`PAYLOAD_TYPE_IN_TOTO`].
    #[error("the envelope's payloadType is {found:?}, not {PAYLOAD_TYPE_IN_TOTO:?}")]
    WrongPayloadType {
        /// The `payloadType` found.
        found: String,
    },
    /// The envelope's signatures did not verify.
    #[error(transparent)]
    Dsse(#[from] DsseError),
}

/// A software artifact or resource: in a subject, by its digest (in-toto ResourceDescriptor).
///
/// Fields left `None` or empty are left out of the JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    /// Identifier among the descriptors, e.g. a file name (`"_"` or unset when meaningless).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A URI identifying the resource globally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Digests of the content by algorithm (`sha256`, `sha512`, `gitCommit`, ...), each a
    /// lowercase hex string for the standard algorithms.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    /// The resource's bytes inline (kept small: in-toto suggests under 1 KB); base64 in JSON.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::dsse::base64_field::option"
    )]
    pub content: Option<Vec<u8>>,
    /// Where to download the resource, if not at `uri`.
    #[serde(
        default,
        rename = "downloadLocation",
        skip_serializing_if = "Option::is_none"
    )]
    pub download_location: Option<String>,
    /// The media (MIME) type of the resource.
    #[serde(default, rename = "mediaType", skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Any further facts for policy evaluation.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub annotations: Map<String, Value>,
}

impl ResourceDescriptor {
    /// A descriptor of an artifact by its SHA-256, with an optional name.
    pub fn sha256(name: Option<&str>, digest: &[u8; 32]) -> Self {
        Self {
            name: name.map(str::to_owned),
            digest: BTreeMap::from([("sha256".to_owned(), hex::encode(digest))]),
            ..Self::default()
        }
    }

    /// A descriptor of a git commit by its id (40 hex characters for SHA-1 repositories, 64
    /// for SHA-256 ones), with the repository URI if known.
    pub fn git_commit(uri: Option<&str>, commit: &str) -> Self {
        Self {
            uri: uri.map(str::to_owned),
            digest: BTreeMap::from([("gitCommit".to_owned(), commit.to_owned())]),
            ..Self::default()
        }
    }
}

/// An in-toto Statement v1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE_V1`] (JSON field `_type`).
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The artifacts the claim is about; at least one, each with a digest.
    pub subject: Vec<ResourceDescriptor>,
    /// What kind of claim the predicate is: a URI, see [`predicate_type`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The claim: a JSON object whose schema `predicate_type` names. Missing reads as `{}`.
    #[serde(default = "empty_object")]
    pub predicate: Value,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

impl Statement {
    /// A v1 statement about `subject` with the given predicate.
    pub fn new(
        subject: Vec<ResourceDescriptor>,
        predicate_type: impl Into<String>,
        predicate: Value,
    ) -> Self {
        Self {
            statement_type: STATEMENT_TYPE_V1.to_owned(),
            subject,
            predicate_type: predicate_type.into(),
            predicate,
        }
    }

    /// Checks the rules of the in-toto spec listed in the [module docs](self).
    pub fn validate(&self) -> Result<(), StatementError> {
        if self.statement_type != STATEMENT_TYPE_V1 {
            return Err(StatementError::UnsupportedType {
                found: self.statement_type.clone(),
            });
        }
        if self.subject.is_empty() {
            return Err(StatementError::NoSubject);
        }
        for (index, subject) in self.subject.iter().enumerate() {
            if subject.digest.is_empty() {
                return Err(StatementError::SubjectWithoutDigest { index });
            }
            validate_descriptor(subject, index)?;
        }
        if self.predicate_type.is_empty() {
            return Err(StatementError::NoPredicateType);
        }
        if !self.predicate.is_object() {
            return Err(StatementError::PredicateNotObject);
        }
        Ok(())
    }

    /// Parses and validates a DSSE payload. Refuses duplicate keys anywhere in the JSON, so
    /// that no two readers can see different statements in the same signed bytes.
    pub fn from_payload(payload: &[u8]) -> Result<Self, StatementError> {
        let value = jcs::parse_strict(payload)?;
        let statement: Self = serde_json::from_value(value).map_err(StatementError::Json)?;
        statement.validate()?;
        Ok(statement)
    }

    /// The DSSE payload of this statement; same as [`statement_to_envelope_payload`].
    pub fn to_payload(&self) -> Result<Vec<u8>, StatementError> {
        statement_to_envelope_payload(self)
    }

    /// Validates, canonicalises and signs the statement as a DSSE envelope of type
    /// [`PAYLOAD_TYPE_IN_TOTO`].
    pub fn sign(
        &self,
        key: &SigningKey,
        keyid: impl Into<String>,
    ) -> Result<Envelope, StatementError> {
        let payload = statement_to_envelope_payload(self)?;
        Ok(Envelope::sign(PAYLOAD_TYPE_IN_TOTO, payload, key, keyid))
    }

    /// Verifies `envelope` with the trusted `keys` (see [`Envelope::verify`]), checks that it
    /// carries an in-toto statement, and parses and validates it.
    pub fn from_envelope<K: AsRef<str>>(
        envelope: &Envelope,
        keys: &[(K, VerifyingKey)],
    ) -> Result<Self, StatementError> {
        let payload = envelope.verify(keys)?;
        if envelope.payload_type != PAYLOAD_TYPE_IN_TOTO {
            return Err(StatementError::WrongPayloadType {
                found: envelope.payload_type.clone(),
            });
        }
        Self::from_payload(payload)
    }
}

/// Validates `statement` and serialises it as RFC 8785 canonical JSON, the bytes to sign.
pub fn statement_to_envelope_payload(statement: &Statement) -> Result<Vec<u8>, StatementError> {
    statement.validate()?;
    // A statement's fields are distinct and its maps are keyed by strings, so its JSON value
    // holds all of it; most values need no number formatting and are written directly.
    if let Ok(value) = serde_json::to_value(statement)
        && let Some(bytes) = jcs::value_to_canonical_vec(&value)
    {
        return Ok(bytes);
    }
    Ok(jcs::to_canonical_vec(statement)?)
}

fn validate_descriptor(rd: &ResourceDescriptor, index: usize) -> Result<(), StatementError> {
    if rd.uri.is_none() && rd.digest.is_empty() && rd.content.is_none() {
        return Err(StatementError::EmptyDescriptor { index });
    }
    for (algorithm, value) in &rd.digest {
        if let Err(problem) = check_digest(algorithm, value) {
            return Err(StatementError::BadDigest {
                index,
                algorithm: algorithm.clone(),
                problem,
            });
        }
    }
    Ok(())
}

/// The hex lengths allowed for the standard digest algorithms of the in-toto DigestSet; an
/// empty list means any even length (variable-output algorithms). `None`: not a standard
/// algorithm, whose value is not checked.
fn hex_lengths(algorithm: &str) -> Option<&'static [usize]> {
    Some(match algorithm {
        "md5" => &[32],
        "sha1" | "ripemd160" => &[40],
        "sha224" | "sha512_224" | "sha3_224" => &[56],
        "sha256" | "sha512_256" | "sha3_256" | "sm3" | "dirHash" => &[64],
        "sha384" | "sha3_384" => &[96],
        "sha512" | "sha3_512" => &[128],
        "gitCommit" | "gitTree" | "gitBlob" | "gitTag" => &[40, 64],
        "shake128" | "shake256" | "blake2b" | "blake2s" | "gost" => &[],
        _ => return None,
    })
}

pub(crate) fn check_digest(algorithm: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("is empty".to_owned());
    }
    let Some(lengths) = hex_lengths(algorithm) else {
        return Ok(());
    };
    if !value
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(format!("is not lowercase hex: {value:?}"));
    }
    let len = value.len();
    if lengths.is_empty() {
        if len.is_multiple_of(2) {
            Ok(())
        } else {
            Err(format!("has an odd number of hex digits ({len})"))
        }
    } else if lengths.contains(&len) {
        Ok(())
    } else {
        let expected = lengths
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        Err(format!("has {len} hex digits, expected {expected}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHA256: &str = "fe4fe40ac7250263c5dbe1cf3138912f3f416140aa248637a60d65fe22c47da4";
    const COMMIT: &str = "d20ace7968ba43c0219f62d71334c1095bab1602";

    fn statement() -> Statement {
        Statement::new(
            vec![ResourceDescriptor {
                name: Some("foo.jar".to_owned()),
                digest: BTreeMap::from([("sha256".to_owned(), SHA256.to_owned())]),
                ..ResourceDescriptor::default()
            }],
            predicate_type::EVIDENT_APPROVAL_V1,
            json!({"actor": "github:alice", "time": "2026-10-01T12:00:00Z", "environment": "prod"}),
        )
    }

    fn with_digest(algorithm: &str, value: &str) -> Statement {
        let mut s = statement();
        s.subject[0].digest = BTreeMap::from([(algorithm.to_owned(), value.to_owned())]);
        s
    }

    #[test]
    fn a_well_formed_statement_validates() {
        statement().validate().unwrap();
        with_digest("gitCommit", COMMIT).validate().unwrap();
        with_digest("gitCommit", &"ab".repeat(32))
            .validate()
            .unwrap();
        with_digest("sha512", &"0f".repeat(64)).validate().unwrap();
        // Unknown algorithms are not checked, as the in-toto spec asks of consumers.
        with_digest("somecoolhash", "ABCD").validate().unwrap();
    }

    #[test]
    fn wrong_type_is_refused() {
        let mut s = statement();
        s.statement_type = "https://in-toto.io/Statement/v0.1".to_owned();
        assert!(matches!(
            s.validate(),
            Err(StatementError::UnsupportedType { .. })
        ));
    }

    #[test]
    fn subjects_are_required_and_need_digests() {
        let mut s = statement();
        s.subject.clear();
        assert!(matches!(s.validate(), Err(StatementError::NoSubject)));

        let mut s = statement();
        s.subject.push(ResourceDescriptor {
            uri: Some("https://example.com/x".to_owned()),
            ..ResourceDescriptor::default()
        });
        assert!(matches!(
            s.validate(),
            Err(StatementError::SubjectWithoutDigest { index: 1 })
        ));
    }

    #[test]
    fn malformed_digests_are_refused() {
        let cases = [
            ("sha256", SHA256.to_uppercase()),
            ("sha256", SHA256[..63].to_owned()),
            ("sha256", format!("{SHA256}00")),
            ("sha256", String::new()),
            ("sha512", SHA256.to_owned()),
            ("gitCommit", COMMIT[..39].to_owned()),
            ("gitCommit", "g".repeat(40)),
            ("sha1", "ab".repeat(32)),
            ("blake2b", "abc".to_owned()),
            ("somecoolhash", String::new()),
        ];
        for (algorithm, value) in cases {
            let err = with_digest(algorithm, &value).validate().unwrap_err();
            assert!(
                matches!(err, StatementError::BadDigest { index: 0, .. }),
                "{algorithm} {value:?}: {err}"
            );
        }
    }

    #[test]
    fn predicate_must_be_an_object_and_type_set() {
        let mut s = statement();
        s.predicate = json!([1]);
        assert!(matches!(
            s.validate(),
            Err(StatementError::PredicateNotObject)
        ));
        let mut s = statement();
        s.predicate_type.clear();
        assert!(matches!(s.validate(), Err(StatementError::NoPredicateType)));
    }

    #[test]
    fn payload_is_canonical_and_round_trips() {
        let s = statement();
        let payload = statement_to_envelope_payload(&s).unwrap();
        assert_eq!(
            String::from_utf8(payload.clone()).unwrap(),
            format!(
                r#"{{"_type":"https://in-toto.io/Statement/v1","predicate":{{"actor":"github:alice","environment":"prod","time":"2026-10-01T12:00:00Z"}},"predicateType":"https://evident.dev/attestations/approval/v1","subject":[{{"digest":{{"sha256":"{SHA256}"}},"name":"foo.jar"}}]}}"#
            )
        );
        assert_eq!(Statement::from_payload(&payload).unwrap(), s);
    }

    #[test]
    fn payload_is_the_general_canonical_form_with_or_without_floats() {
        let mut s = statement();
        s.predicate["nested"] = serde_json::json!({"z\u{e000}": [1, "\u{1}"], "\u{1f600}": null});
        let direct = statement_to_envelope_payload(&s).unwrap();
        assert_eq!(direct, jcs::to_canonical_vec(&s).unwrap());
        // A float takes the general canonicaliser, which writes it as ECMAScript does.
        s.predicate["score"] = serde_json::json!(4.0);
        let general = statement_to_envelope_payload(&s).unwrap();
        assert_eq!(general, jcs::to_canonical_vec(&s).unwrap());
        assert!(
            String::from_utf8(general)
                .unwrap()
                .contains(r#""score":4,"#)
        );
    }

    #[test]
    fn payload_refusals() {
        assert!(matches!(
            Statement::from_payload(b"not json"),
            Err(StatementError::Jcs(_))
        ));
        let dup = br#"{"_type":"https://in-toto.io/Statement/v1","_type":"x","subject":[],"predicateType":"p"}"#;
        assert!(matches!(
            Statement::from_payload(dup),
            Err(StatementError::Jcs(_))
        ));
        let no_subject = br#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"p"}"#;
        assert!(matches!(
            Statement::from_payload(no_subject),
            Err(StatementError::Json(_))
        ));
        // predicate unset reads as {}; unknown fields are ignored.
        let minimal = format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"digest":{{"sha256":"{SHA256}"}},"x-ext":1}}],"predicateType":"p","extra":true}}"#
        );
        let s = Statement::from_payload(minimal.as_bytes()).unwrap();
        assert_eq!(s.predicate, json!({}));
    }

    #[test]
    fn descriptor_fields_use_the_spec_names_and_content_is_base64() {
        let rd = ResourceDescriptor {
            name: Some("n".to_owned()),
            content: Some(b"hi".to_vec()),
            download_location: Some("https://example.com/d".to_owned()),
            media_type: Some("application/json".to_owned()),
            annotations: Map::from_iter([("k".to_owned(), json!(false))]),
            ..ResourceDescriptor::default()
        };
        let json = serde_json::to_value(&rd).unwrap();
        assert_eq!(
            json,
            json!({"name": "n", "content": "aGk=", "downloadLocation": "https://example.com/d",
                   "mediaType": "application/json", "annotations": {"k": false}})
        );
        assert_eq!(
            serde_json::from_value::<ResourceDescriptor>(json).unwrap(),
            rd
        );
    }

    #[test]
    fn envelope_round_trip_checks_payload_type() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let keys = [("k", key.verifying_key())];
        let env = statement().sign(&key, "k").unwrap();
        assert_eq!(env.payload_type, PAYLOAD_TYPE_IN_TOTO);
        assert_eq!(Statement::from_envelope(&env, &keys).unwrap(), statement());

        let other = Envelope::sign("application/json", &env.payload, &key, "k");
        assert!(matches!(
            Statement::from_envelope(&other, &keys),
            Err(StatementError::WrongPayloadType { .. })
        ));
        let stranger = [("k", SigningKey::from_bytes(&[8; 32]).verifying_key())];
        assert!(matches!(
            Statement::from_envelope(&env, &stranger),
            Err(StatementError::Dsse(DsseError::BadSignature { .. }))
        ));
    }

    #[test]
    fn helpers_build_valid_subjects() {
        let s = Statement::new(
            vec![
                ResourceDescriptor::sha256(Some("a.tar"), &[0xab; 32]),
                ResourceDescriptor::git_commit(Some("git+https://example.com/r"), COMMIT),
            ],
            predicate_type::EVIDENT_DEPLOYMENT_V1,
            json!({}),
        );
        s.validate().unwrap();
    }
}
