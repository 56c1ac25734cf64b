//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys.
//!
//! A signed note is a UTF-8 text that ends in a newline, then a blank line, then one or more
//! signature lines:
//!
//! ```text
//! <text, ending in a newline>
//!
//! — <key name> <base64(key ID (4 bytes, big-endian) ‖ signature)>
//! ```
//!
//! The only signature type supported here is Ed25519 (type byte `0x01`). Its key ID is the
//! first four bytes of `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)`.
//!
//! Keys travel as text in the form the Go `golang.org/x/mod/sumdb/note` package uses:
//!
//! - verifier (public) key: `<name>+<8 hex digits of key ID>+<base64(0x01 ‖ public key)>`;
//! - signer (private) key: `PRIVATE+KEY+<name>+<8 hex digits of key ID>+<base64(0x01 ‖ seed)>`.
//!
//! [`open`] follows the spec's rules for signatures: signatures from unknown keys are kept but
//! marked unverified, a signature from a known key that fails to verify rejects the whole note,
//! and a note without any verified signature is rejected.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use ed25519_dalek::{Signature as EdSignature, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// The signature type byte of Ed25519 note signatures (and the algorithm byte in key texts).
pub const ED25519_SIGNATURE_TYPE: u8 = 0x01;

/// The largest note [`open`] accepts, in bytes (and the largest note [`sign`] produces).
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// The most signature lines [`open`] accepts in one note. The spec requires at least 16.
pub const MAX_SIGNATURES: usize = 100;

/// The prefix of every signature line: an em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The prefix of the private (signer) key text.
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// The length of an Ed25519 signature in bytes.
const ED25519_SIGNATURE_LEN: usize = 64;

/// What went wrong parsing or building a key.
///
/// Errors about private keys never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key name is empty or contains a space, a `+` or a control character.
    #[error(
        "invalid key name {0:?}: it must be non-empty and contain no Unicode spaces, `+` or control characters"
    )]
    InvalidName(String),
    /// The key text does not have the expected shape.
    #[error("malformed {kind}: {reason}")]
    Malformed {
        /// Which kind of key text: "verifier key" or "private key".
        kind: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The key is not an Ed25519 key (its algorithm byte is not `0x01`).
    #[error("unsupported key algorithm {0:#04x}: only Ed25519 (0x01) is supported")]
    UnsupportedAlgorithm(u8),
    /// The key ID written in the key text is not the one computed from the name and key.
    #[error(
        "key ID mismatch: the key text says {stated:08x}, but the name and key give {computed:08x}"
    )]
    KeyIdMismatch {
        /// The key ID written in the text.
        stated: u32,
        /// The key ID computed from the name and public key.
        computed: u32,
    },
    /// The 32 bytes are not a usable Ed25519 public key (not a curve point, or of small order).
    #[error("invalid Ed25519 public key")]
    InvalidPublicKey,
}

/// What went wrong signing or opening a note.
///
/// Line numbers count from 1, over the whole note.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is larger than [`MAX_NOTE_BYTES`].
    #[error("note is {size} bytes, more than the limit of {max} bytes")]
    TooLarge {
        /// The size of the note.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The note is not valid UTF-8.
    #[error("line {line}: note is not valid UTF-8")]
    InvalidUtf8 {
        /// The line of the first invalid byte.
        line: usize,
    },
    /// The note contains an ASCII control character other than newline.
    #[error(
        "line {line}: note contains the control character {byte:#04x} (only newline is allowed)"
    )]
    ControlCharacter {
        /// The line of the control character.
        line: usize,
        /// The control character.
        byte: u8,
    },
    /// The text to sign is not a valid note text.
    #[error("invalid note text: {0}")]
    InvalidText(&'static str),
    /// There is no blank line separating the text from the signatures, or no signature after it.
    #[error("note has no signature block (a blank line followed by signature lines)")]
    MissingSignatures,
    /// A signature line is malformed.
    #[error("line {line}: malformed signature line: {reason}")]
    MalformedSignature {
        /// The line of the signature.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The note has more than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {max} signatures")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// Two different verifiers share the name and key ID of a signature.
    #[error("line {line}: two different trusted keys are named {name}+{key_id:08x}")]
    AmbiguousKey {
        /// The line of the signature.
        line: usize,
        /// The key name.
        name: String,
        /// The key ID.
        key_id: u32,
    },
    /// A signature by a known key does not verify: the note was altered or forged.
    #[error("line {line}: the signature by {name}+{key_id:08x} does not verify")]
    InvalidSignature {
        /// The line of the signature.
        line: usize,
        /// The key name.
        name: String,
        /// The key ID.
        key_id: u32,
    },
    /// No signature was made by any of the given verifiers.
    #[error("note has no signature by a trusted key (it is signed by: {})", .signed_by.join(", "))]
    NoVerifiedSignature {
        /// The keys that did sign the note, as `<name>+<hex key ID>`.
        signed_by: Vec<String>,
    },
}

impl NoteError {
    /// The same error with its line number moved down by `offset` lines, for a note embedded
    /// in a larger text.
    pub(crate) fn shift_lines(mut self, offset: usize) -> Self {
        match &mut self {
            Self::InvalidUtf8 { line }
            | Self::ControlCharacter { line, .. }
            | Self::MalformedSignature { line, .. }
            | Self::AmbiguousKey { line, .. }
            | Self::InvalidSignature { line, .. } => *line += offset,
            Self::TooLarge { .. }
            | Self::InvalidText(_)
            | Self::MissingSignatures
            | Self::TooManySignatures { .. }
            | Self::NoVerifiedSignature { .. } => {}
        }
        self
    }
}

/// One signature found in a note.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Signature {
    /// The key name from the signature line.
    pub name: String,
    /// The key ID, the first four bytes of the decoded signature, big-endian.
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

impl Signature {
    /// The base64 text of the signature line: `base64(key ID ‖ signature)`.
    pub fn to_base64(&self) -> String {
        let mut bytes = Vec::with_capacity(4 + self.signature.len());
        bytes.extend_from_slice(&self.key_id.to_be_bytes());
        bytes.extend_from_slice(&self.signature);
        STANDARD.encode(bytes)
    }
}

/// A note whose signatures have been checked by [`open`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Note {
    /// The note text, including its final newline but not the blank line after it.
    pub text: String,
    /// The signatures made by one of the given verifiers, each verified; never empty.
    pub verified: Vec<Signature>,
    /// The signatures by keys that were not given (not checked, so not to be trusted).
    pub unverified: Vec<Signature>,
}

/// Reports whether `name` is a valid key name: non-empty, and without Unicode spaces, `+`, or
/// ASCII control characters (which a note cannot contain).
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c < ' ')
}

/// The key ID of an Ed25519 key: the first four bytes, big-endian, of
/// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`.
pub fn ed25519_key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', ED25519_SIGNATURE_TYPE]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A trusted public key: a key name and an Ed25519 public key.
///
/// Its text form (`Display` / `FromStr`) is `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Builds a verifier from a key name and a 32-byte Ed25519 public key.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_owned()));
        }
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| KeyError::InvalidPublicKey)?;
        if key.is_weak() {
            return Err(KeyError::InvalidPublicKey);
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: ed25519_key_id(name, public_key),
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Reports whether `signature` (without the key ID) is a valid signature of `text`.
    fn verifies(&self, text: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; ED25519_SIGNATURE_LEN]>::try_from(signature) else {
            return false;
        };
        self.key
            .verify_strict(text, &EdSignature::from_bytes(&bytes))
            .is_ok()
    }
}

impl fmt::Display for Verifier {
    /// Writes the verifier key text `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = [0u8; 33];
        key[0] = ED25519_SIGNATURE_TYPE;
        key[1..].copy_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(key)
        )
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Verifier").field(&self.to_string()).finish()
    }
}

impl FromStr for Verifier {
    type Err = KeyError;

    /// Parses a verifier key text `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`.
    fn from_str(text: &str) -> Result<Self, KeyError> {
        const KIND: &str = "verifier key";
        let (name, key_id, key) = split_key_text(text, KIND)?;
        let public_key = decode_ed25519_key(key, KIND)?;
        let verifier = Self::new(name, &public_key)?;
        check_key_id(key_id, verifier.key_id)?;
        Ok(verifier)
    }
}

/// A private signing key: a key name and an Ed25519 key made from a 32-byte seed.
///
/// `Debug` shows only the name and key ID. The private key text (from
/// [`to_private_key_text`](Self::to_private_key_text) or `FromStr`) is
/// `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`; it is a secret.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl Signer {
    /// Builds a signer from a key name and a 32-byte Ed25519 seed (the RFC 8032 private key).
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<Self, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::InvalidName(name.to_owned()));
        }
        let key = SigningKey::from_bytes(seed);
        let key_id = ed25519_key_id(name, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 key itself, for signing other things with the same key (DSSE envelopes).
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The matching public key.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The private key text `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`.
    ///
    /// This is the secret key: store it like one.
    pub fn to_private_key_text(&self) -> String {
        let mut key = [0u8; 33];
        key[0] = ED25519_SIGNATURE_TYPE;
        key[1..].copy_from_slice(self.key.as_bytes());
        let text = format!(
            "{PRIVATE_KEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(key)
        );
        wipe(&mut key);
        text
    }

    /// Signs `text` (the note text) and returns `key ID ‖ signature`.
    fn sign_raw(&self, text: &[u8]) -> [u8; 4 + ED25519_SIGNATURE_LEN] {
        let mut out = [0u8; 4 + ED25519_SIGNATURE_LEN];
        out[..4].copy_from_slice(&self.key_id.to_be_bytes());
        out[4..].copy_from_slice(&self.key.sign(text).to_bytes());
        out
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl FromStr for Signer {
    type Err = KeyError;

    /// Parses a private key text `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`.
    fn from_str(text: &str) -> Result<Self, KeyError> {
        const KIND: &str = "private key";
        let rest = text
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or(KeyError::Malformed {
                kind: KIND,
                reason: "it does not start with `PRIVATE+KEY+`",
            })?;
        let (name, key_id, key) = split_key_text(rest, KIND)?;
        let mut seed = decode_ed25519_key(key, KIND)?;
        let signer = Self::new(name, &seed);
        wipe(&mut seed);
        let signer = signer?;
        check_key_id(key_id, signer.key_id)?;
        Ok(signer)
    }
}

/// Overwrites key material that is no longer needed (best effort).
fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    std::hint::black_box(bytes);
}

/// Splits `<name>+<hex key ID>+<base64 key>` into its parts; the key ID is parsed.
fn split_key_text<'a>(
    text: &'a str,
    kind: &'static str,
) -> Result<(&'a str, u32, &'a str), KeyError> {
    let malformed = |reason| KeyError::Malformed { kind, reason };
    let (name, rest) = text
        .split_once('+')
        .ok_or(malformed("expected `<name>+<key ID>+<key>`"))?;
    let (id, key) = rest
        .split_once('+')
        .ok_or(malformed("expected `<name>+<key ID>+<key>`"))?;
    if !is_valid_key_name(name) {
        return Err(KeyError::InvalidName(name.to_owned()));
    }
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed("the key ID is not 8 hexadecimal digits"));
    }
    let id = u32::from_str_radix(id, 16)
        .map_err(|_| malformed("the key ID is not 8 hexadecimal digits"))?;
    Ok((name, id, key))
}

/// Decodes `base64(0x01 ‖ 32 bytes)` and returns the 32 bytes.
fn decode_ed25519_key(key: &str, kind: &'static str) -> Result<[u8; 32], KeyError> {
    let malformed = |reason| KeyError::Malformed { kind, reason };
    // 33 bytes are 44 base64 characters; refuse to decode anything much longer.
    if key.len() > 64 {
        return Err(malformed("the key is too long"));
    }
    let mut bytes = STANDARD
        .decode(key)
        .map_err(|_| malformed("the key is not valid base64"))?;
    let result = match bytes.split_first() {
        None => Err(malformed("the key is empty")),
        Some((&ED25519_SIGNATURE_TYPE, rest)) => {
            <[u8; 32]>::try_from(rest).map_err(|_| malformed("an Ed25519 key must be 32 bytes"))
        }
        Some((&algorithm, _)) => Err(KeyError::UnsupportedAlgorithm(algorithm)),
    };
    wipe(&mut bytes);
    result
}

/// Checks that the key ID written in a key text is the computed one.
fn check_key_id(stated: u32, computed: u32) -> Result<(), KeyError> {
    if stated == computed {
        Ok(())
    } else {
        Err(KeyError::KeyIdMismatch { stated, computed })
    }
}

/// Checks that `text` can be the text of a note: it ends with a newline and contains no control
/// characters other than newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::InvalidText("it must end with a newline"));
    }
    if text.bytes().any(|b| b < b' ' && b != b'\n') {
        return Err(NoteError::InvalidText(
            "it must not contain control characters other than newline",
        ));
    }
    Ok(())
}

/// Signs `text` with `signer` and returns the whole signed note.
///
/// `text` must end with a newline and contain no control characters other than newline; it may
/// contain blank lines.
pub fn sign(text: &str, signer: &Signer) -> Result<String, NoteError> {
    check_text(text)?;
    let signature = STANDARD.encode(signer.sign_raw(text.as_bytes()));
    let note = format!("{text}\n{SIGNATURE_PREFIX}{} {signature}\n", signer.name);
    if note.len() > MAX_NOTE_BYTES {
        return Err(NoteError::TooLarge {
            size: note.len(),
            max: MAX_NOTE_BYTES,
        });
    }
    Ok(note)
}

/// A note split into its text and its parsed (not yet verified) signature lines.
pub(crate) struct ParsedNote<'a> {
    /// The note text, with its final newline.
    pub(crate) text: &'a str,
    /// Each signature with its line number.
    pub(crate) signatures: Vec<(usize, Signature)>,
}

/// Checks the syntax of a signed note and splits it, without verifying any signature.
pub(crate) fn parse(note: &[u8]) -> Result<ParsedNote<'_>, NoteError> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(NoteError::TooLarge {
            size: note.len(),
            max: MAX_NOTE_BYTES,
        });
    }
    // The number of the line holding byte `offset`.
    let line_of = |offset: usize| note[..offset].split(|&b| b == b'\n').count();
    let note = std::str::from_utf8(note).map_err(|e| NoteError::InvalidUtf8 {
        line: line_of(e.valid_up_to()),
    })?;
    if let Some(offset) = note.bytes().position(|b| b < b' ' && b != b'\n') {
        return Err(NoteError::ControlCharacter {
            line: line_of(offset),
            byte: note.as_bytes()[offset],
        });
    }
    let split = note.rfind("\n\n").ok_or(NoteError::MissingSignatures)?;
    let (text, block) = (&note[..=split], &note[split + 2..]);
    if block.is_empty() {
        return Err(NoteError::MissingSignatures);
    }
    // The blank line is the line after the text's last line.
    let first_line = line_of(split + 2);
    let mut signatures = Vec::new();
    let mut rest = block;
    let mut line = first_line;
    while !rest.is_empty() {
        let Some((current, after)) = rest.split_once('\n') else {
            return Err(NoteError::MalformedSignature {
                line,
                reason: "the last line does not end with a newline",
            });
        };
        if signatures.len() == MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        signatures.push((line, parse_signature_line(current, line)?));
        rest = after;
        line += 1;
    }
    Ok(ParsedNote { text, signatures })
}

/// Parses `— <name> <base64(key ID ‖ signature)>` (without its newline).
fn parse_signature_line(line_text: &str, line: usize) -> Result<Signature, NoteError> {
    let malformed = |reason| NoteError::MalformedSignature { line, reason };
    let rest = line_text.strip_prefix(SIGNATURE_PREFIX).ok_or(malformed(
        "it does not start with an em dash (U+2014) and a space",
    ))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or(malformed("expected `— <key name> <signature>`"))?;
    if !is_valid_key_name(name) {
        return Err(malformed(
            "invalid key name (empty, or containing a space, `+` or a control character)",
        ));
    }
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| malformed("the signature is not canonical standard base64"))?;
    if bytes.len() < 5 {
        return Err(malformed(
            "the signature is shorter than a key ID and one byte",
        ));
    }
    Ok(Signature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
        signature: bytes[4..].to_vec(),
    })
}

/// Parses a signed note and verifies its signatures against `verifiers`.
///
/// - A signature whose key name and key ID match a verifier must verify, or the note is
///   rejected ([`NoteError::InvalidSignature`]).
/// - Signatures by other keys are returned in [`Note::unverified`] (without duplicates).
/// - If no signature is by one of `verifiers`, the note is rejected
///   ([`NoteError::NoVerifiedSignature`]).
///
/// The note must be at most [`MAX_NOTE_BYTES`] long with at most [`MAX_SIGNATURES`] signature
/// lines. Never panics.
pub fn open(note: &[u8], verifiers: &[Verifier]) -> Result<Note, NoteError> {
    let parsed = parse(note)?;
    let mut verified: Vec<Signature> = Vec::new();
    let mut unverified: Vec<Signature> = Vec::new();
    for (line, signature) in parsed.signatures {
        let mut matching = verifiers
            .iter()
            .filter(|v| v.key_id == signature.key_id && v.name == signature.name);
        let Some(verifier) = matching.next() else {
            if !unverified.contains(&signature) {
                unverified.push(signature);
            }
            continue;
        };
        if matching.any(|other| other.key != verifier.key) {
            return Err(NoteError::AmbiguousKey {
                line,
                name: signature.name,
                key_id: signature.key_id,
            });
        }
        if !verifier.verifies(parsed.text.as_bytes(), &signature.signature) {
            return Err(NoteError::InvalidSignature {
                line,
                name: signature.name,
                key_id: signature.key_id,
            });
        }
        // Another valid signature by the same key (Ed25519 signatures are deterministic, but
        // other valid encodings may exist) adds nothing.
        if !verified
            .iter()
            .any(|s| s.name == signature.name && s.key_id == signature.key_id)
        {
            verified.push(signature);
        }
    }
    if verified.is_empty() {
        return Err(NoteError::NoVerifiedSignature {
            signed_by: unverified
                .iter()
                .map(|s| format!("{}+{:08x}", s.name, s.key_id))
                .collect(),
        });
    }
    Ok(Note {
        text: parsed.text.to_owned(),
        verified,
        unverified,
    })
}
