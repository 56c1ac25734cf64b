//! A log entry read for verification, borrowing its text instead of copying it.
//!
//! Verifying a log reads every entry. [`LogEntry::from_bytes`] builds an owned entry and encodes
//! it again to check that the bytes are canonical, and [`Statement::from_payload`] builds a JSON
//! tree of the signed statement: apart from the signature, that is most of the work per entry.
//! [`EntryView::read`] makes the same checks on borrowed text: it reads the entry's canonical
//! form directly (there is one way to write an entry canonically, so reading it that way is the
//! canonical check) and walks the statement once, building nothing. It gives up on anything out
//! of the ordinary (an escaped string, a label key outside ASCII, any error at all): the caller
//! then takes the owned path, which names the problem. So a view exists only for an entry that
//! the owned path accepts as well, with the same content; property tests hold the two paths
//! together.
//!
//! [`Statement::from_payload`]: crate::statement::Statement::from_payload

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::dsse::PAYLOAD_TYPE_IN_TOTO;
use crate::jcs::MAX_SAFE_INTEGER;
use crate::record::{ENTRY_VERSION, EvidenceKind, subject_digest};
use crate::statement::{STATEMENT_TYPE_V1, check_digest};

/// What verification needs of one entry that passed every check short of its signature: it is
/// canonical, its envelope carries an in-toto statement that is valid, of the record's
/// predicate type and about the record's subject.
#[derive(Debug)]
pub struct EntryView<'a> {
    /// The record's kind.
    pub kind: EvidenceKind,
    /// The record's subject.
    pub subject: &'a str,
    /// The record's controls, as written.
    pub controls: Vec<&'a str>,
    /// The record's `recorded_at`.
    pub recorded_at: &'a str,
    /// The record's `retain_until`.
    pub retain_until: &'a str,
    /// Whether the record names content blobs.
    pub has_blobs: bool,
    /// The envelope's signatures: key id and the 64 signature bytes.
    pub signatures: Vec<(&'a str, [u8; 64])>,
    /// The DSSE pre-authentication encoding of the payload: the bytes the signatures cover.
    pub pae: Vec<u8>,
}

impl<'a> EntryView<'a> {
    /// Reads and checks `bytes` as described in the module documentation; `None` when the
    /// owned path must decide.
    pub fn read(bytes: &'a [u8]) -> Option<Self> {
        let raw = scan(bytes)?;
        let envelope = &raw.envelope;
        if envelope.payload_type != PAYLOAD_TYPE_IN_TOTO {
            return None;
        }
        let mut signatures = Vec::with_capacity(envelope.signatures.len());
        for s in &envelope.signatures {
            let mut sig = [0u8; 64];
            match STANDARD.decode_slice(s.sig, &mut sig) {
                Ok(64) => signatures.push((s.keyid, sig)),
                _ => return None,
            }
        }
        let (pae, header) = pae_of_base64(envelope.payload_type, envelope.payload)?;
        if !statement_agrees(&pae[header..], &raw.record)? {
            return None;
        }
        Some(Self {
            kind: raw.record.kind,
            subject: raw.record.subject,
            controls: raw.record.controls,
            recorded_at: raw.record.recorded_at,
            retain_until: raw.record.retain_until,
            has_blobs: raw.record.blobs > 0,
            signatures,
            pae,
        })
    }
}

/// The length of what the canonical base64 text `text` decodes to.
fn decoded_len(text: &[u8]) -> Option<usize> {
    let padding = text.iter().rev().take_while(|&&b| b == b'=').count();
    (text.len() / 4 * 3).checked_sub(padding)
}

/// [`crate::dsse::pae`] of a payload given as canonical base64 text, decoded in place, and
/// where the payload starts in it; `None` when the text is not the canonical (standard
/// alphabet, padded) encoding of some bytes.
fn pae_of_base64(payload_type: &str, text: &[u8]) -> Option<(Vec<u8>, usize)> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let len = decoded_len(text)?;
    // Decoding needs room for the padding's bytes too.
    let mut out = crate::dsse::pae_header(payload_type, len, len + 3);
    let header = out.len();
    out.resize(header + len + 3, 0);
    let written = STANDARD.decode_slice(text, &mut out[header..]).ok()?;
    if written != len {
        return None;
    }
    out.truncate(header + len);
    Some((out, header))
}

/// Whether the statement `payload` is valid as [`Statement::from_payload`] would have it, of
/// the record's predicate type and about its subject. `None` (or `false`) leaves it to the
/// owned path.
///
/// [`Statement::from_payload`]: crate::statement::Statement::from_payload
fn statement_agrees(payload: &[u8], record: &RawRecord<'_>) -> Option<bool> {
    // One pass: no key twice in any object, numbers in range, nothing after the value.
    let mut de = serde_json::Deserializer::from_slice(payload);
    let statement = de.deserialize_map(StatementVisitor).ok()?;
    de.end().ok()?;
    if statement.statement_type != STATEMENT_TYPE_V1
        || statement.subject.is_empty()
        || statement.predicate_type.is_empty()
        || statement.predicate_type != record.predicate_type
    {
        return Some(false);
    }
    for subject in &statement.subject {
        if subject.digest.is_empty()
            || subject
                .digest
                .iter()
                .any(|(algorithm, value)| check_digest(algorithm, value).is_err())
        {
            return Some(false);
        }
        if let Some(content) = subject.content
            && crate::dsse::base64_field::decode(content).is_err()
        {
            return Some(false);
        }
    }
    let (algorithm, wanted) = subject_digest(record.subject).ok()?;
    Some(
        statement
            .subject
            .iter()
            .any(|s| s.digest.iter().any(|&(a, v)| a == algorithm && v == wanted)),
    )
}

/// Reads an entry that is in canonical form, with every string free of JSON escapes; `None`
/// for anything else. Canonical form leaves one way to write an entry: the fields of every type
/// in their order, no space, what is empty or unset left out (`blobs`, `labels`, a blob's
/// `name`, a signature's empty `keyid`), integers without a sign or leading zero. A string
/// without escapes holds no character that needs one (`"`, `\\` and control characters cannot
/// appear unescaped in JSON text), so its canonical form is its own bytes.
fn scan(bytes: &[u8]) -> Option<RawEntry<'_>> {
    let mut c = Cursor { bytes, at: 0 };
    c.lit(b"{\"envelope\":{\"payload\":")?;
    let payload = c.base64()?;
    c.lit(b",\"payloadType\":")?;
    let payload_type = c.string()?;
    c.lit(b",\"signatures\":[")?;
    let mut signatures = Vec::with_capacity(1);
    if !c.has(b"]") {
        loop {
            c.lit(b"{")?;
            let keyid = if c.has(b"\"keyid\":") {
                let keyid = c.string()?;
                c.lit(b",")?;
                (!keyid.is_empty()).then_some(keyid)?
            } else {
                ""
            };
            c.lit(b"\"sig\":")?;
            let sig = c.base64()?;
            c.lit(b"}")?;
            signatures.push(RawSignature { keyid, sig });
            if !c.has(b",") {
                break;
            }
        }
        c.lit(b"]")?;
    }
    c.lit(b"},\"record\":{\"actor\":")?;
    c.string()?; // the actor
    let mut blobs = 0;
    if c.has(b",\"blobs\":[") {
        loop {
            c.lit(b"{\"media_type\":")?;
            c.string()?;
            if c.has(b",\"name\":") {
                c.string()?;
            }
            c.lit(b",\"sha256\":")?;
            c.string()?;
            c.lit(b",\"size\":")?;
            c.integer().filter(|&n| n <= MAX_SAFE_INTEGER)?;
            c.lit(b"}")?;
            blobs += 1;
            if !c.has(b",") {
                break;
            }
        }
        c.lit(b"]")?;
    }
    c.lit(b",\"controls\":[")?;
    let mut controls = Vec::with_capacity(4);
    if !c.has(b"]") {
        loop {
            controls.push(c.string()?);
            if !c.has(b",") {
                break;
            }
        }
        c.lit(b"]")?;
    }
    c.lit(b",\"kind\":")?;
    let kind: EvidenceKind = c.string()?.parse().ok()?;
    let mut labels = Vec::new();
    if c.has(b",\"labels\":{") {
        loop {
            let key = c.string().filter(|k| k.is_ascii())?;
            // Sorted, each key once (byte order is RFC 8785's order for ASCII keys).
            if labels.last().is_some_and(|(last, _)| *last >= key) {
                return None;
            }
            c.lit(b":")?;
            labels.push((key, c.string()?));
            if !c.has(b",") {
                break;
            }
        }
        c.lit(b"}")?;
    }
    c.lit(b",\"predicate_type\":")?;
    let predicate_type = c.string()?;
    c.lit(b",\"recorded_at\":")?;
    let recorded_at = c.string()?;
    c.lit(b",\"retain_until\":")?;
    let retain_until = c.string()?;
    c.lit(b",\"subject\":")?;
    let subject = c.string()?;
    c.lit(b"},\"v\":")?;
    let v = c.integer()?;
    c.lit(b"}")?;
    (c.at == bytes.len() && v == u64::from(ENTRY_VERSION)).then_some(RawEntry {
        envelope: RawEnvelope {
            payload,
            payload_type,
            signatures,
        },
        record: RawRecord {
            blobs,
            controls,
            kind,
            predicate_type,
            recorded_at,
            retain_until,
            subject,
        },
    })
}

/// A position in an entry's bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Steps over `text` if it comes next.
    fn has(&mut self, text: &[u8]) -> bool {
        let next = self.bytes[self.at..].starts_with(text);
        if next {
            self.at += text.len();
        }
        next
    }

    /// Steps over `text`, which must come next.
    fn lit(&mut self, text: &[u8]) -> Option<()> {
        self.has(text).then_some(())
    }

    /// A string's bytes, up to its closing quote; nothing of it checked.
    fn raw(&mut self) -> Option<&'a [u8]> {
        self.lit(b"\"")?;
        let rest = &self.bytes[self.at..];
        let len = rest.iter().position(|&b| b == b'"')?;
        self.at += len + 1;
        Some(&rest[..len])
    }

    /// A string without escapes or control characters, in UTF-8.
    fn string(&mut self) -> Option<&'a str> {
        let raw = self.raw()?;
        if raw.iter().any(|&b| b < 0x20 || b == b'\\') {
            return None;
        }
        std::str::from_utf8(raw).ok()
    }

    /// A string of base64 text: its bytes, checked when they are decoded (a character outside
    /// the alphabet fails there).
    fn base64(&mut self) -> Option<&'a [u8]> {
        self.raw()
    }

    /// A non-negative integer in canonical form.
    fn integer(&mut self) -> Option<u64> {
        let rest = &self.bytes[self.at..];
        let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 || (len > 1 && rest[0] == b'0') {
            return None;
        }
        let n = std::str::from_utf8(&rest[..len]).ok()?.parse().ok()?;
        self.at += len;
        Some(n)
    }
}

// The entry, borrowed: what verification uses of it.

struct RawEntry<'a> {
    envelope: RawEnvelope<'a>,
    record: RawRecord<'a>,
}

struct RawEnvelope<'a> {
    /// Base64 text, checked by decoding it.
    payload: &'a [u8],
    payload_type: &'a str,
    signatures: Vec<RawSignature<'a>>,
}

struct RawSignature<'a> {
    keyid: &'a str,
    sig: &'a [u8],
}

struct RawRecord<'a> {
    /// How many content blobs the record names.
    blobs: usize,
    controls: Vec<&'a str>,
    kind: EvidenceKind,
    predicate_type: &'a str,
    recorded_at: &'a str,
    retain_until: &'a str,
    subject: &'a str,
}

// The statement, borrowed: the fields `Statement` and `ResourceDescriptor` read, with the types
// they read them as; unknown fields are ignored, as there, but walked by `Strict`.

struct RawStatement<'a> {
    statement_type: &'a str,
    subject: Vec<RawDescriptor<'a>>,
    predicate_type: &'a str,
}

struct RawDescriptor<'a> {
    digest: Vec<(&'a str, &'a str)>,
    content: Option<&'a str>,
}

/// Reads an object's keys, refusing one seen before.
fn next_key<'de, A: MapAccess<'de>>(
    map: &mut A,
    seen: &mut Vec<Key<'de>>,
) -> Result<Option<Key<'de>>, A::Error> {
    let Some(key) = map.next_key::<Key<'de>>()? else {
        return Ok(None);
    };
    if seen.contains(&key) {
        return Err(de::Error::custom("duplicate key"));
    }
    seen.push(Key(key.0.clone()));
    Ok(Some(key))
}

struct StatementVisitor;

impl<'de> Visitor<'de> for StatementVisitor {
    type Value = RawStatement<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an in-toto statement")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = Vec::new();
        let (mut statement_type, mut subject, mut predicate_type) = (None, None, None);
        while let Some(key) = next_key(&mut map, &mut seen)? {
            match key.0.as_ref() {
                "_type" => statement_type = Some(map.next_value::<&str>()?),
                "predicateType" => predicate_type = Some(map.next_value::<&str>()?),
                "subject" => subject = Some(map.next_value_seed(Descriptors)?),
                "predicate" => map.next_value_seed(Strict { object: true })?,
                _ => map.next_value_seed(Strict { object: false })?,
            }
        }
        match (statement_type, subject, predicate_type) {
            (Some(statement_type), Some(subject), Some(predicate_type)) => Ok(RawStatement {
                statement_type,
                subject,
                predicate_type,
            }),
            _ => Err(de::Error::custom("a field is missing")),
        }
    }
}

struct Descriptors;

impl<'de> DeserializeSeed<'de> for Descriptors {
    type Value = Vec<RawDescriptor<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Descriptors {
    type Value = Vec<RawDescriptor<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of resource descriptors")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(d) = seq.next_element_seed(DescriptorVisitor)? {
            out.push(d);
        }
        Ok(out)
    }
}

struct DescriptorVisitor;

impl<'de> DeserializeSeed<'de> for DescriptorVisitor {
    type Value = RawDescriptor<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DescriptorVisitor {
    type Value = RawDescriptor<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a resource descriptor")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = Vec::new();
        let mut d = RawDescriptor {
            digest: Vec::new(),
            content: None,
        };
        while let Some(key) = next_key(&mut map, &mut seen)? {
            match key.0.as_ref() {
                "content" => d.content = map.next_value::<Option<&str>>()?,
                "uri" | "name" | "downloadLocation" | "mediaType" => {
                    map.next_value::<Option<&str>>()?;
                }
                "digest" => d.digest = map.next_value_seed(Digests)?,
                "annotations" => map.next_value_seed(Strict { object: true })?,
                _ => map.next_value_seed(Strict { object: false })?,
            }
        }
        Ok(d)
    }
}

struct Digests;

impl<'de> DeserializeSeed<'de> for Digests {
    type Value = Vec<(&'de str, &'de str)>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Digests {
    type Value = Vec<(&'de str, &'de str)>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a digest set")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Vec<(&'de str, &'de str)> = Vec::new();
        while let Some((algorithm, value)) = map.next_entry::<&str, &str>()? {
            if out.iter().any(|(a, _)| *a == algorithm) {
                return Err(de::Error::custom("duplicate key"));
            }
            out.push((algorithm, value));
        }
        Ok(out)
    }
}

/// Walks any JSON value (or, with `object`, only an object) and fails where an object repeats a
/// key or a number is out of range, as [`crate::jcs::parse_strict`] does, without building
/// anything.
#[derive(Clone, Copy)]
struct Strict {
    object: bool,
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.object {
            deserializer.deserialize_map(self)
        } else {
            deserializer.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Strict { object: false })?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = Vec::new();
        while next_key(&mut map, &mut seen)?.is_some() {
            map.next_value_seed(Strict { object: false })?;
        }
        Ok(())
    }
}

/// An object key, borrowed where the text has no escapes.
#[derive(PartialEq)]
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ed25519_dalek::SigningKey;
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::dsse::{self, Envelope};
    use crate::record::{BlobRef, EvidenceRecord, LogEntry};
    use crate::statement::{ResourceDescriptor, Statement};

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    fn entry(
        text: &str,
        labels: BTreeMap<String, String>,
        blob: bool,
        predicate: serde_json::Value,
    ) -> Vec<u8> {
        entry_signed(text, labels, blob, predicate, 1, false)
    }

    /// An entry with `signatures` signatures (by different keys), the first one without a key
    /// id if `anonymous`.
    fn entry_signed(
        text: &str,
        labels: BTreeMap<String, String>,
        blob: bool,
        predicate: serde_json::Value,
        signatures: u8,
        anonymous: bool,
    ) -> Vec<u8> {
        let key = SigningKey::from_bytes(&[9; 32]);
        let statement = Statement {
            statement_type: STATEMENT_TYPE_V1.into(),
            subject: vec![ResourceDescriptor::git_commit(Some(text), COMMIT)],
            predicate_type: "https://evident.dev/attestations/approval/v1".into(),
            predicate,
        };
        let envelope = Envelope::sign(
            PAYLOAD_TYPE_IN_TOTO,
            statement.to_payload().unwrap(),
            &key,
            dsse::ed25519_keyid(&key.verifying_key()),
        );
        let mut envelope = envelope;
        envelope.signatures.truncate(usize::from(signatures));
        for i in 1..signatures {
            envelope.add_signature(&SigningKey::from_bytes(&[i; 32]), format!("key-{i}"));
        }
        if anonymous && let Some(first) = envelope.signatures.first_mut() {
            first.keyid.clear();
        }
        LogEntry {
            v: ENTRY_VERSION,
            record: EvidenceRecord {
                actor: text.into(),
                blobs: if blob {
                    vec![BlobRef {
                        media_type: "application/json".into(),
                        name: Some(text.into()),
                        sha256: "ab".repeat(32),
                        size: 12,
                    }]
                } else {
                    Vec::new()
                },
                controls: vec!["soc2:CC8.1".into(), text.into()],
                kind: EvidenceKind::Approval,
                labels,
                predicate_type: statement.predicate_type.clone(),
                recorded_at: "2026-11-22T10:00:00Z".into(),
                retain_until: "2033-11-22T10:00:00Z".into(),
                subject: format!("git:{COMMIT}"),
            },
            envelope,
        }
        .to_bytes()
        .unwrap()
    }

    /// What the owned path makes of the bytes: the entry when it is accepted and its statement
    /// agrees with its record.
    fn owned(bytes: &[u8]) -> Option<LogEntry> {
        let entry = LogEntry::from_bytes(bytes).ok()?;
        if entry.envelope.payload_type != PAYLOAD_TYPE_IN_TOTO {
            return None;
        }
        let statement = Statement::from_payload(&entry.envelope.payload).ok()?;
        let (algorithm, wanted) = subject_digest(&entry.record.subject).ok()?;
        (statement.predicate_type == entry.record.predicate_type
            && statement
                .subject
                .iter()
                .any(|s| s.digest.get(&algorithm) == Some(&wanted)))
        .then_some(entry)
    }

    /// A view is only ever made of what the owned path accepts, and says the same.
    fn agrees(bytes: &[u8]) -> Result<(), TestCaseError> {
        if let Some(view) = EntryView::read(bytes) {
            let entry = owned(bytes);
            prop_assert!(
                entry.is_some(),
                "the view accepts what the owned path refuses"
            );
            let entry = entry.unwrap();
            prop_assert_eq!(view.kind, entry.record.kind);
            prop_assert_eq!(view.subject, entry.record.subject.as_str());
            prop_assert_eq!(&view.controls, &entry.record.controls);
            prop_assert_eq!(view.recorded_at, entry.record.recorded_at.as_str());
            prop_assert_eq!(view.retain_until, entry.record.retain_until.as_str());
            prop_assert_eq!(view.has_blobs, !entry.record.blobs.is_empty());
            prop_assert_eq!(
                &view.pae,
                &dsse::pae(&entry.envelope.payload_type, &entry.envelope.payload)
            );
            let sigs: Vec<(&str, Vec<u8>)> = view
                .signatures
                .iter()
                .map(|(k, s)| (*k, s.to_vec()))
                .collect();
            let owned_sigs: Vec<(&str, Vec<u8>)> = entry
                .envelope
                .signatures
                .iter()
                .map(|s| (s.keyid.as_str(), s.sig.clone()))
                .collect();
            prop_assert_eq!(sigs, owned_sigs);
        }
        Ok(())
    }

    #[test]
    fn plain_entries_take_the_borrowed_path() {
        let labels = BTreeMap::from([("repo".to_owned(), "acme/web".to_owned())]);
        for blob in [false, true] {
            let bytes = entry("github:alice", labels.clone(), blob, json!({"a": [1, 2.5]}));
            let view = EntryView::read(&bytes).expect("a plain entry is read borrowed");
            assert_eq!(view.controls, ["soc2:CC8.1", "github:alice"]);
            assert_eq!(view.has_blobs, blob);
            agrees(&bytes).unwrap();
        }
    }

    #[test]
    fn what_the_owned_path_must_judge_is_left_to_it() {
        let plain = entry("x", BTreeMap::new(), false, json!({}));
        let text = String::from_utf8(plain.clone()).unwrap();
        // Not canonical: a space, a field out of order, a second key.
        let spaced = text.replacen("{\"envelope\"", "{ \"envelope\"", 1);
        let extra = text.replacen("\"v\":1}", "\"v\":1,\"w\":2}", 1);
        for bad in [spaced, extra, text.replacen("\"v\":1", "\"v\":2", 1)] {
            assert!(EntryView::read(bad.as_bytes()).is_none(), "{bad}");
        }
        // Not canonical either, and refused both ways: labels out of order or repeated, an
        // empty list or key id written out, a number with a leading zero.
        let labelled = entry(
            "x",
            BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]),
            true,
            json!({}),
        );
        let labelled = String::from_utf8(labelled).unwrap();
        assert!(EntryView::read(labelled.as_bytes()).is_some());
        for bad in [
            labelled.replacen("\"a\":\"1\",\"b\":\"2\"", "\"b\":\"2\",\"a\":\"1\"", 1),
            labelled.replacen("\"a\":\"1\",\"b\":\"2\"", "\"a\":\"1\",\"a\":\"2\"", 1),
            labelled.replacen("\"size\":12", "\"size\":012", 1),
            labelled.replacen("\"v\":1}", "\"v\":1.0}", 1),
            text.replacen(",\"controls\"", ",\"blobs\":[],\"controls\"", 1),
            text.replacen("\"signatures\":[{", "\"signatures\":[{\"keyid\":\"\",", 1),
            text.replacen("\"kind\":\"approval\"", "\"kind\":\"Approval\"", 1),
        ] {
            assert!(EntryView::read(bad.as_bytes()).is_none(), "{bad}");
            assert!(owned(bad.as_bytes()).is_none(), "{bad}");
        }
        // An escaped string: canonical, but the borrowed path does not read it.
        let quoted = entry("say \"hi\"", BTreeMap::new(), false, json!({}));
        assert!(EntryView::read(&quoted).is_none());
        assert!(owned(&quoted).is_some());
        // A statement repeating a key deep inside its predicate is refused by both.
        let key = SigningKey::from_bytes(&[9; 32]);
        let entry: LogEntry = LogEntry::from_bytes(&plain).unwrap();
        let payload = format!(
            "{{\"_type\":\"{STATEMENT_TYPE_V1}\",\"predicate\":{{\"a\":{{\"b\":1,\"b\":2}}}},\"predicateType\":\"{}\",\"subject\":[{{\"digest\":{{\"gitCommit\":\"{COMMIT}\"}}}}]}}",
            entry.record.predicate_type
        );
        let mut dup = entry.clone();
        dup.envelope = Envelope::sign(PAYLOAD_TYPE_IN_TOTO, payload.as_bytes(), &key, "k");
        let bytes = dup.to_bytes().unwrap();
        assert!(owned(&bytes).is_none());
        assert!(EntryView::read(&bytes).is_none());
        // Without the repeated key both accept it.
        let fine = payload.replace(",\"b\":2", "");
        dup.envelope = Envelope::sign(PAYLOAD_TYPE_IN_TOTO, fine.as_bytes(), &key, "k");
        let bytes = dup.to_bytes().unwrap();
        assert!(owned(&bytes).is_some());
        assert!(EntryView::read(&bytes).is_some());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the text, the labels and the predicate, and whatever one byte is changed
        /// into: a view is made only where the owned path accepts, and it agrees with it.
        #[test]
        fn the_view_agrees_with_the_owned_path(
            text in "[ -~é\"\\\\]{0,12}",
            labels in prop::collection::btree_map("[a-zé]{1,4}", "[ -~]{0,6}", 0..3),
            blob in any::<bool>(),
            number in any::<i32>(),
            signatures in 0u8..3,
            anonymous in any::<bool>(),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            how in 0u8..4,
        ) {
            let plain_labels = labels.iter().all(|(k, v)| k.is_ascii() && !v.contains(['"', '\\']));
            let predicate = json!({"n": number, "f": f64::from(number) / 7.0, "t": text});
            let bytes = entry_signed(&text, labels, blob, predicate, signatures, anonymous);
            agrees(&bytes)?;
            // Escaped strings and label keys outside ASCII are left to the owned path.
            let simple = !text.contains(['"', '\\']) && plain_labels;
            prop_assert_eq!(EntryView::read(&bytes).is_some(), simple && owned(&bytes).is_some());
            // One byte replaced, inserted or removed, or two swapped.
            let mut changed = bytes.clone();
            let i = at.index(changed.len() - 1);
            match how {
                0 => changed[i] = byte,
                1 => changed.insert(i, byte),
                2 => {
                    changed.remove(i);
                }
                _ => changed.swap(i, i + 1),
            }
            agrees(&changed)?;
        }

        /// Statements put together from good and bad pieces (repeated keys at every depth,
        /// nulls, wrong types, unknown fields, numbers out of range): the borrowed check
        /// accepts only what `Statement::from_payload` and the record checks accept.
        #[test]
        fn the_statement_check_agrees_with_the_owned_one(
            picks in prop::collection::vec((0usize..5, 0usize..9), 0..7),
        ) {
            let pt = "https://evident.dev/attestations/approval/v1";
            let good_subject = format!("[{{\"digest\":{{\"gitCommit\":\"{COMMIT}\"}}}}]");
            let pieces: [Vec<String>; 5] = [
                vec![
                    format!("\"_type\":\"{STATEMENT_TYPE_V1}\""),
                    "\"_type\":\"https:\\/\\/in-toto.io\\/Statement\\/v1\"".into(),
                    "\"_type\":null".into(),
                    "\"_type\":\"https://in-toto.io/Statement/v0.1\"".into(),
                ],
                vec![
                    format!("\"subject\":{good_subject}"),
                    "\"subject\":[]".into(),
                    format!("\"subject\":[{{\"digest\":{{\"gitCommit\":\"{COMMIT}\",\"gitCommit\":\"{COMMIT}\"}}}}]"),
                    format!("\"subject\":[{{\"name\":5,\"digest\":{{\"gitCommit\":\"{COMMIT}\"}}}}]"),
                    format!("\"subject\":[{{\"digest\":{{\"gitCommit\":\"{COMMIT}\"}},\"annotations\":null}}]"),
                    format!("\"subject\":[{{\"digest\":{{\"gitCommit\":\"{COMMIT}\"}},\"content\":\"*\"}}]"),
                    format!("\"subject\":[{{\"uri\":\"u\",\"digest\":{{}}}},{{\"digest\":{{\"gitCommit\":\"{COMMIT}\"}},\"x\":{{\"y\":1,\"y\":2}}}}]"),
                    "\"subject\":[{\"digest\":{\"sha256\":\"AB\"}}]".into(),
                    format!("\"subject\":[{{\"name\":null,\"mediaType\":\"t\",\"annotations\":{{\"k\":[1,{{}}]}},\"digest\":{{\"gitCommit\":\"{COMMIT}\",\"other\":\"v\"}}}}]"),
                ],
                vec![
                    format!("\"predicateType\":\"{pt}\""),
                    "\"predicateType\":\"\"".into(),
                    "\"predicateType\":\"https://slsa.dev/provenance/v1\"".into(),
                ],
                vec![
                    "\"predicate\":{}".into(),
                    "\"predicate\":{\"a\":1,\"a\":2}".into(),
                    "\"predicate\":null".into(),
                    "\"predicate\":[1]".into(),
                    "\"predicate\":{\"n\":1e400}".into(),
                    "\"predicate\":{\"a\":{\"b\":[{\"c\":1,\"\\u0063\":2}]}}".into(),
                    "\"predicate\":{\"a\":{\"b\":[{\"c\":1,\"d\":-0.5e3}]}}".into(),
                ],
                vec![
                    "\"x\":1".into(),
                    "\"x\":{\"y\":1,\"y\":1}".into(),
                    "\"x\\u0078\":[true,false,null]".into(),
                ],
            ];
            let fields: Vec<&str> = picks
                .iter()
                .map(|&(f, v)| pieces[f][v % pieces[f].len()].as_str())
                .collect();
            let payload = format!("{{{}}}", fields.join(","));
            let subject = format!("git:{COMMIT}");
            let record = RawRecord {
                blobs: 0,
                controls: Vec::new(),
                kind: EvidenceKind::Approval,
                predicate_type: pt,
                recorded_at: "",
                retain_until: "",
                subject: &subject,
            };
            let owned = Statement::from_payload(payload.as_bytes()).is_ok_and(|s| {
                s.predicate_type == pt
                    && s.subject
                        .iter()
                        .any(|d| d.digest.get("gitCommit").map(String::as_str) == Some(COMMIT))
            });
            let view = statement_agrees(payload.as_bytes(), &record) == Some(true);
            prop_assert!(!view || owned, "the borrowed check accepts {payload}");
            // And it is not idle: the plain statement goes the borrowed way.
            let plain = format!(
                "{{\"_type\":\"{STATEMENT_TYPE_V1}\",\"predicate\":{{}},\"predicateType\":\"{pt}\",\"subject\":{good_subject}}}"
            );
            prop_assert_eq!(statement_agrees(plain.as_bytes(), &record), Some(true));
        }

        /// Canonical base64 is the only form the strict decoder takes.
        #[test]
        fn strict_base64_is_canonical(text in "[A-Za-z0-9+/=_-]{0,12}") {
            if let Ok(bytes) = STANDARD.decode(&text) {
                prop_assert_eq!(STANDARD.encode(bytes), text);
            }
        }
    }
}
