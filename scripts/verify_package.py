#!/usr/bin/env python3
"""Verify an evident auditor package (format evident-package/v1) without evident.

Usage: python3 verify_package.py PACKAGE.tar.gz [--vkey KEY]

This verifier shares no code with evident: it needs Python 3.11 and the `cryptography`
package (for Ed25519), and re-implements every check from the published formats:

1. the archive: regular files under `evidence-package/` with safe paths only, each listed in
   `manifest.json` with its SHA-256, and nothing unlisted;
2. the verifier key (`<name>+<key id>+<base64(0x01 || public key)>`, c2sp.org/signed-note):
   its key id is the first 4 bytes of SHA-256(name || "\\n" || 0x01 || public key); with
   `--vkey`, the package's key must be that key;
3. the checkpoint: a C2SP signed note (c2sp.org/signed-note) over a C2SP checkpoint
   (c2sp.org/tlog-checkpoint), signed with Ed25519 by the key, which is named after the origin;
4. each entry `entries/N.json`: its RFC 6962 leaf hash SHA-256(0x00 || bytes), and the
   inclusion proof `proofs/N.tlog-proof` (c2sp.org/tlog-proof@v1, verified with the
   algorithm of RFC 9162 section 2.1.3.2) against the package's checkpoint;
5. the entry's DSSE envelope: an Ed25519 signature over the DSSE pre-authentication encoding
   by the same key, equal to `envelopes/N.dsse.json`, carrying an in-toto Statement v1 about
   the record's subject with the record's predicate type;
6. the content blobs `blobs/sha256/<hex>` the records list: each present with its digest and
   size, or deleted after its retention period (below);
7. the selection: the manifest's `entries` (the entries selected by its `filter`) and
   `supporting_entries` (deletion entries that only prove a deletion) together are exactly the
   entries in the package; the filter and `index.json` are checked against the selected
   entries only.

Content deleted after its retention period: a blob of an entry N may be absent from `blobs/`
only if the manifest's `deleted_blobs` maps its digest to an entry D of the package that is a
`deletion`, comes after N (D > N), was recorded at or after N's `retain_until`, and whose signed
statement's predicate names N in `entries` and the digest in `blobs`. The manifest is not signed:
the deletion entry, signed and proven like any other, is what makes the absence acceptable.

Exit status: 0 when everything verifies, 1 when there is any problem (each printed with the
file it concerns), 2 on a usage error (bad arguments, unreadable file, missing `cryptography`).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import sys
import tarfile
import unicodedata
from datetime import datetime
from decimal import Decimal

PACKAGE_FORMAT = "evident-package/v1"
PREFIX = "evidence-package/"
MAX_FILE = 1 << 30
MAX_NOTE = 1 << 20
MAX_PROOF = 2 * MAX_NOTE
MAX_SIGNATURES = 100
MAX_PROOF_HASHES = 64
ED25519 = 0x01
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
SIGNATURE_PREFIX = "\u2014 "
ENTRY_VERSION = 1
HEX64 = re.compile(r"[0-9a-f]{64}")
DECIMAL = re.compile(r"0|[1-9][0-9]*")
# The files every v1 package holds besides the per-entry ones.
FIXED_FILES = {"manifest.json", "checkpoint", "verifier.vkey", "index.json", "README.md"}


class Invalid(Exception):
    """A malformed input; the message says what is wrong."""


class UsageError(Exception):
    """A usage error (exit status 2)."""


# --------------------------------------------------------------------------------------------
# Small strict decoders


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def b64_canonical(text: str, what: str) -> bytes:
    """Canonical standard base64 with padding (no stray characters, no trailing bits)."""
    if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text) or len(text) % 4:
        raise Invalid(f"{what} is not standard base64")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise Invalid(f"{what} is not standard base64") from e
    if base64.b64encode(data).decode("ascii") != text:
        raise Invalid(f"{what} is not canonical base64 (trailing bits set)")
    return data


def b64_dsse(text: object, what: str) -> bytes:
    """DSSE base64: the standard or the URL-safe alphabet (not mixed), padded or not, with
    no trailing bits set."""
    if not isinstance(text, str):
        raise Invalid(f"{what} is not a base64 string")
    bare = text.rstrip("=")
    padding = len(text) - len(bare)
    if len(bare) % 4 == 1 or (padding and (len(bare) + padding) % 4):
        raise Invalid(f"{what} is not valid base64")
    for alphabet, altchars in ((r"[A-Za-z0-9+/]*", None), (r"[A-Za-z0-9_-]*", b"-_")):
        if not re.fullmatch(alphabet, bare):
            continue
        padded = bare + "=" * (-len(bare) % 4)
        try:
            if altchars:
                data = base64.urlsafe_b64decode(padded)
                again = base64.urlsafe_b64encode(data)
            else:
                data = base64.b64decode(padded, validate=True)
                again = base64.b64encode(data)
        except (binascii.Error, ValueError):
            continue
        if again.decode("ascii").rstrip("=") == bare:
            return data
        raise Invalid(f"{what} is not canonical base64 (trailing bits set)")
    raise Invalid(f"{what} is not valid base64")


def decimal(text: str, what: str) -> int:
    if not DECIMAL.fullmatch(text):
        raise Invalid(f"{what} {text!r} is not a decimal number without leading zeroes")
    value = int(text)
    if value >= 1 << 64:
        raise Invalid(f"{what} {text} is too large")
    return value


def hash_b64(text: str, what: str) -> bytes:
    if len(text) != 44:
        raise Invalid(f"{what} is not the base64 of a 32-byte hash")
    data = b64_canonical(text, what)
    if len(data) != 32:
        raise Invalid(f"{what} is not the base64 of a 32-byte hash")
    return data


def _unique_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise Invalid(f"duplicate JSON key {key!r}")
        obj[key] = value
    return obj


def _no_constant(name):
    raise Invalid(f"{name} is not valid JSON")


def load_json(data: bytes):
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Invalid(f"not UTF-8 (at byte {e.start})") from e
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except Invalid:
        raise
    except RecursionError as e:
        raise Invalid("JSON nested too deeply") from e
    except ValueError as e:
        raise Invalid(f"not valid JSON: {e}") from e


# --------------------------------------------------------------------------------------------
# RFC 8785 (JSON Canonicalization Scheme), to check that an entry is in canonical form


def _jcs_number(value: float) -> str:
    """ECMAScript Number::toString, as RFC 8785 requires."""
    if value != value or value in (float("inf"), float("-inf")):
        raise Invalid("a number is not finite")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    parts = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, parts.digits))
    k = len(digits)
    n = parts.exponent + k
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + ("e+" if e >= 0 else "e-") + str(abs(e))
    return sign + text


_JCS_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _jcs_string(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in _JCS_ESCAPES:
            out.append(_JCS_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(value) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) < 1 << 53:
            return str(value)
        try:
            return _jcs_number(float(value))
        except OverflowError as e:
            raise Invalid("a number is too large") from e
    if isinstance(value, float):
        return _jcs_number(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        try:
            items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        except UnicodeEncodeError as e:
            raise Invalid("a key holds a lone surrogate") from e
        return "{" + ",".join(_jcs_string(k) + ":" + jcs(v) for k, v in items) + "}"
    raise Invalid(f"unexpected JSON value {type(value).__name__}")


def jcs_bytes(value) -> bytes:
    try:
        return jcs(value).encode("utf-8")
    except UnicodeEncodeError as e:
        raise Invalid("a string holds a lone surrogate") from e


# --------------------------------------------------------------------------------------------
# Keys and signed notes (c2sp.org/signed-note)


def valid_key_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" or ord(c) < 0x20 for c in name)


class Key:
    """A verifier key: `<name>+<hex key id>+<base64(0x01 || 32-byte Ed25519 public key)>`."""

    def __init__(self, text: str):
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise Invalid("a verifier key is `<name>+<key id>+<base64 key>`")
        name, key_id, encoded = parts
        if not valid_key_name(name):
            raise Invalid(f"invalid key name {name!r}")
        if not re.fullmatch(r"[0-9a-fA-F]{8}", key_id):
            raise Invalid("the key id is not 8 hexadecimal digits")
        raw = b64_canonical(encoded, "the key")
        if len(raw) != 33:
            raise Invalid("the key is not 33 bytes (a type byte and a 32-byte Ed25519 key)")
        if raw[0] != ED25519:
            raise Invalid(f"key type {raw[0]:#04x} is not Ed25519 (0x01)")
        self.name = name
        self.public = raw[1:]
        self.key_id = sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + self.public)[:4]
        if self.key_id != bytes.fromhex(key_id):
            raise Invalid(
                f"key id mismatch: the text says {key_id.lower()}, the name and key give {self.key_id.hex()}"
            )
        try:
            self.ed25519 = Ed25519PublicKey.from_public_bytes(self.public)
        except ValueError as e:
            raise Invalid(f"not a valid Ed25519 public key: {e}") from e
        # The DSSE key id evident uses: lowercase hex SHA-256 of the public key.
        self.dsse_keyid = hashlib.sha256(self.public).hexdigest()

    def verifies(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            self.ed25519.verify(signature, message)
            return True
        except InvalidSignature:
            return False

    def text(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.public).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def __eq__(self, other) -> bool:
        return isinstance(other, Key) and (self.name, self.public) == (other.name, other.public)


def split_note(note: bytes):
    """Splits a signed note into its text and signature lines [(name, key id, signature)]."""
    if len(note) > MAX_NOTE:
        raise Invalid(f"the note is {len(note)} bytes, more than {MAX_NOTE}")
    try:
        text = note.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Invalid(f"the note is not UTF-8 (at byte {e.start})") from e
    for ch in text:
        if ord(ch) < 0x20 and ch != "\n":
            raise Invalid(f"the note holds the control character {ord(ch):#04x}")
    split = text.rfind("\n\n")
    if split < 0:
        raise Invalid("no blank line before the signatures")
    body, block = text[: split + 1], text[split + 2 :]
    if not block:
        raise Invalid("no signature after the blank line")
    if not block.endswith("\n"):
        raise Invalid("the last signature line does not end with a newline")
    signatures = []
    for line in block[:-1].split("\n"):
        if len(signatures) == MAX_SIGNATURES:
            raise Invalid(f"more than {MAX_SIGNATURES} signatures")
        if not line.startswith(SIGNATURE_PREFIX):
            raise Invalid(f"signature line {line!r} does not start with an em dash and a space")
        name, sep, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not sep or not valid_key_name(name):
            raise Invalid(f"signature line {line!r} is not `\u2014 <key name> <base64>`")
        raw = b64_canonical(encoded, "a note signature")
        if len(raw) < 5:
            raise Invalid("a note signature is shorter than a key id and one byte")
        signatures.append((name, raw[:4], raw[4:]))
    return body.encode("utf-8"), signatures


def parse_checkpoint(text: bytes):
    """The checkpoint body: origin, decimal tree size, base64 root hash, extension lines."""
    body = text.decode("utf-8")
    if not body.endswith("\n"):
        raise Invalid("the checkpoint text does not end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise Invalid("a checkpoint has an origin, a tree size and a root hash line")
    if any(not line for line in lines):
        raise Invalid("the checkpoint has an empty line")
    return lines[0], decimal(lines[1], "the tree size"), hash_b64(lines[2], "the root hash")


def open_checkpoint(note: bytes, key: Key):
    """Verifies the note's signature by `key` and returns (origin, size, root, other signers)."""
    text, signatures = split_note(note)
    origin, size, root = parse_checkpoint(text)
    verified = False
    others = []
    for name, key_id, signature in signatures:
        if name == key.name and key_id == key.key_id:
            if not key.verifies(text, signature):
                raise Invalid(f"the signature by {key.name}+{key.key_id.hex()} does not verify")
            verified = True
        else:
            others.append(f"{name}+{key_id.hex()}")
    if not verified:
        raise Invalid(
            f"no signature by the key {key.name}+{key.key_id.hex()} (signed by: {', '.join(others) or 'nobody'})"
        )
    if key.name != origin:
        raise Invalid(f"the key is named {key.name!r}, not after the log's origin {origin!r}")
    return origin, size, root, others


# --------------------------------------------------------------------------------------------
# Merkle trees (RFC 6962 / RFC 9162) and tlog proofs (c2sp.org/tlog-proof@v1)


def leaf_hash(entry: bytes) -> bytes:
    return sha256(b"\x00" + entry)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def inclusion_ok(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2: verifying an inclusion proof."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def parse_tlog_proof(data: bytes):
    """Returns (index, [hashes], checkpoint note bytes)."""
    if len(data) > MAX_PROOF:
        raise Invalid(f"the proof is {len(data)} bytes, more than {MAX_PROOF}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Invalid(f"not UTF-8 (at byte {e.start})") from e
    rest = text
    number = 0

    def next_line() -> str:
        nonlocal rest, number
        number += 1
        line, sep, after = rest.partition("\n")
        if not sep:
            raise Invalid(f"line {number}: " + ("unexpected end" if not rest else "no newline at its end"))
        if "\r" in line:
            raise Invalid(f"line {number}: carriage return")
        rest = after
        return line

    if next_line() != PROOF_HEADER:
        raise Invalid(f"line 1: the first line must be {PROOF_HEADER!r}")
    line = next_line()
    if line.startswith("extra"):
        if not line.startswith("extra ") or line == "extra ":
            raise Invalid(f"line {number}: expected `extra <base64>` with non-empty data")
        b64_canonical(line[len("extra ") :], f"line {number}: the extra data")
        line = next_line()
    if not line.startswith("index "):
        raise Invalid(f"line {number}: expected `index <entry index>`")
    index = decimal(line[len("index ") :], f"line {number}: the index")
    hashes = []
    while True:
        line = next_line()
        if not line:
            break
        if len(hashes) == MAX_PROOF_HASHES:
            raise Invalid(f"line {number}: more than {MAX_PROOF_HASHES} proof hashes")
        hashes.append(hash_b64(line, f"line {number}: proof hash"))
    if not rest:
        raise Invalid("the checkpoint is missing")
    return index, hashes, rest.encode("utf-8")


# --------------------------------------------------------------------------------------------
# DSSE and in-toto


def pae(payload_type: str, payload: bytes) -> bytes:
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def parse_envelope(value) -> tuple[bytes, str, list[tuple[str, bytes]]]:
    """A DSSE JSON envelope as (payload, payloadType, [(keyid, sig)]); unknown fields ignored."""
    if not isinstance(value, dict):
        raise Invalid("the envelope is not a JSON object")
    if "payload" not in value or "payloadType" not in value or "signatures" not in value:
        raise Invalid("the envelope needs payload, payloadType and signatures")
    payload = b64_dsse(value["payload"], "the payload")
    payload_type = value["payloadType"]
    if not isinstance(payload_type, str):
        raise Invalid("payloadType is not a string")
    if not isinstance(value["signatures"], list):
        raise Invalid("signatures is not a list")
    signatures = []
    for i, sig in enumerate(value["signatures"]):
        if not isinstance(sig, dict) or "sig" not in sig:
            raise Invalid(f"signature #{i} has no sig")
        keyid = sig.get("keyid", "")
        if not isinstance(keyid, str):
            raise Invalid(f"signature #{i}: keyid is not a string")
        signatures.append((keyid, b64_dsse(sig["sig"], f"signature #{i}")))
    return payload, payload_type, signatures


def verify_envelope(envelope, key: Key) -> bytes:
    """DSSE verification with one trusted key; returns the payload."""
    payload, payload_type, signatures = envelope
    if not signatures:
        raise Invalid("the envelope has no signatures")
    message = pae(payload_type, payload)
    verified = False
    for i, (keyid, sig) in enumerate(signatures):
        if keyid and keyid != key.dsse_keyid:
            continue  # another signer's signature: not ours to check
        if key.verifies(message, sig):
            verified = True
        elif keyid:
            raise Invalid(f"the DSSE signature #{i} by keyid {keyid} does not verify")
    if not verified:
        raise Invalid(f"the DSSE envelope has no valid signature by the key (keyid {key.dsse_keyid})")
    if payload_type != IN_TOTO_PAYLOAD:
        raise Invalid(f"payloadType is {payload_type!r}, not {IN_TOTO_PAYLOAD!r}")
    return payload


def subject_digest(subject: str) -> tuple[str, str]:
    """The in-toto digest a record subject must appear under."""
    def is_hex(text: str, lengths) -> bool:
        return len(text) in lengths and re.fullmatch(r"[0-9a-f]*", text) is not None

    if subject.startswith("git:"):
        commit = subject[4:]
        if is_hex(commit, (40, 64)):
            return "gitCommit", commit
        raise Invalid(f"subject {subject!r}: a commit is 40 or 64 lowercase hex characters")
    if subject.startswith("sha256:"):
        digest = subject[7:]
        if is_hex(digest, (64,)):
            return "sha256", digest
        raise Invalid(f"subject {subject!r}: a sha256 digest is 64 lowercase hex characters")
    if subject.startswith("env:"):
        name = subject[4:]
        if name and re.fullmatch(r"[A-Za-z0-9._-]+", name):
            return "sha256", hashlib.sha256(subject.encode("utf-8")).hexdigest()
        raise Invalid(f"subject {subject!r}: an environment name is letters, digits, `-`, `_` and `.`")
    raise Invalid(f"subject {subject!r} is not git:<commit>, sha256:<hex> or env:<name>")


def check_statement(payload: bytes, record: dict) -> dict:
    """Checks the signed statement against its record; returns the statement."""
    statement = load_json(payload)
    if not isinstance(statement, dict):
        raise Invalid("the signed statement is not a JSON object")
    if statement.get("_type") != STATEMENT_V1:
        raise Invalid(f"the statement _type is {statement.get('_type')!r}, not {STATEMENT_V1!r}")
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise Invalid("the statement has no subject")
    for i, s in enumerate(subjects):
        if not isinstance(s, dict) or not isinstance(s.get("digest"), dict) or not s["digest"]:
            raise Invalid(f"statement subject #{i} has no digest")
        if not all(isinstance(v, str) for v in s["digest"].values()):
            raise Invalid(f"statement subject #{i} has a digest that is not a string")
    predicate_type = statement.get("predicateType")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise Invalid("the statement has no predicateType")
    if "predicate" in statement and not isinstance(statement["predicate"], dict):
        raise Invalid("the statement's predicate is not an object")
    if predicate_type != record["predicate_type"]:
        raise Invalid(
            f"the record's predicate type {record['predicate_type']!r} differs from the signed statement's {predicate_type!r}"
        )
    algorithm, value = subject_digest(record["subject"])
    if not any(s["digest"].get(algorithm) == value for s in subjects):
        raise Invalid(f"the signed statement is not about {record['subject']} (no {algorithm} digest {value})")
    return statement


# --------------------------------------------------------------------------------------------
# Entries


RECORD_FIELDS = {
    "kind": str,
    "subject": str,
    "controls": list,
    "actor": str,
    "recorded_at": str,
    "retain_until": str,
    "predicate_type": str,
}


def parse_entry(data: bytes) -> dict:
    """Parses entries/N.json: {v, record, envelope} in RFC 8785 canonical form."""
    entry = load_json(data)
    if not isinstance(entry, dict) or set(entry) != {"v", "record", "envelope"}:
        raise Invalid("an entry is a JSON object with exactly the fields v, record and envelope")
    if entry["v"] != ENTRY_VERSION or isinstance(entry["v"], bool):
        raise Invalid(f"entry version {entry['v']!r} is not {ENTRY_VERSION}")
    if jcs_bytes(entry) != data:
        raise Invalid("the entry is not in RFC 8785 canonical form (its leaf hash would differ)")
    record = entry["record"]
    if not isinstance(record, dict):
        raise Invalid("record is not an object")
    for field, kind in RECORD_FIELDS.items():
        if not isinstance(record.get(field), kind):
            raise Invalid(f"record.{field} is missing or not a {kind.__name__}")
    if not all(isinstance(c, str) for c in record["controls"]):
        raise Invalid("record.controls holds a non-string")
    blobs = record.get("blobs", [])
    if not isinstance(blobs, list):
        raise Invalid("record.blobs is not a list")
    for i, blob in enumerate(blobs):
        if not isinstance(blob, dict) or not isinstance(blob.get("sha256"), str):
            raise Invalid(f"record.blobs[{i}] has no sha256")
        if not HEX64.fullmatch(blob["sha256"]):
            raise Invalid(f"record.blobs[{i}].sha256 is not 64 lowercase hex characters")
        size = blob.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise Invalid(f"record.blobs[{i}].size is not a size")
    entry["parsed_envelope"] = parse_envelope(entry["envelope"])
    return entry


RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})")


def is_number(value) -> bool:
    """A JSON integer (not a boolean, not a float such as 1.0)."""
    return isinstance(value, int) and not isinstance(value, bool)


def instant(text) -> tuple[int, Decimal] | None:
    """An RFC 3339 time as (whole seconds since the epoch, fraction of a second): exact, so that
    times differing by less than a second still compare as they should."""
    if not isinstance(text, str) or not RFC3339.fullmatch(text):
        return None
    m = re.search(r"\.([0-9]+)", text)
    whole = timestamp(text[: m.start()] + text[m.end() :] if m else text)
    if whole is None:
        return None
    return whole, Decimal("0." + m.group(1)) if m else Decimal(0)


def timestamp(text) -> int | None:
    """Seconds since the epoch of an RFC 3339 time with a zone; None if it is not one."""
    if not isinstance(text, str) or not RFC3339.fullmatch(text):
        return None
    try:
        return int(datetime.fromisoformat(text).timestamp())
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# --------------------------------------------------------------------------------------------
# The package


class Verifier:
    def __init__(self, package: str, trusted: Key | None):
        self.package = package
        self.trusted = trusted
        self.problems: list[tuple[str, str]] = []
        self.lines: list[str] = []
        self.files: dict[str, bytes] = {}
        # The numbers of the entry files in the package (whether they parse or not).
        self.seqs: set[int] = set()

    def problem(self, file: str, what: str) -> None:
        self.problems.append((file, what))

    def say(self, line: str) -> None:
        self.lines.append(line)

    # 1. The archive and the manifest.
    def read_archive(self) -> bool:
        try:
            with tarfile.open(self.package, "r:gz") as archive:
                for member in archive:
                    name = member.name
                    if member.isdir():
                        continue
                    if not name.startswith(PREFIX):
                        self.problem(name, "is outside evidence-package/")
                        continue
                    rel = name[len(PREFIX) :]
                    if rel.startswith("/") or any(p in ("", ".", "..") for p in rel.split("/")) or "\\" in rel:
                        self.problem(name, "has an unsafe path")
                        continue
                    if not member.isfile():
                        self.problem(rel, "is not a regular file (link or device)")
                        continue
                    if member.size > MAX_FILE:
                        self.problem(rel, "is larger than 1 GiB")
                        continue
                    stream = archive.extractfile(member)
                    data = stream.read() if stream else b""
                    if len(data) != member.size:
                        self.problem(rel, "is truncated")
                        continue
                    if rel in self.files:
                        self.problem(rel, "appears twice in the archive")
                        continue
                    self.files[rel] = data
        except Exception as e:  # tarfile, gzip and zlib raise many kinds of errors
            self.problem(os.path.basename(self.package), f"is not a readable .tar.gz package: {e}")
            return False
        return True

    def check_manifest(self) -> dict:
        data = self.files.get("manifest.json")
        if data is None:
            self.problem("manifest.json", "missing")
            return {}
        try:
            manifest = load_json(data)
        except Invalid as e:
            self.problem("manifest.json", str(e))
            return {}
        if not isinstance(manifest, dict):
            self.problem("manifest.json", "is not a JSON object")
            return {}
        if manifest.get("format") != PACKAGE_FORMAT:
            self.problem("manifest.json", f"format {manifest.get('format')!r} is not {PACKAGE_FORMAT!r}")
        if "created_at" in manifest and timestamp(manifest["created_at"]) is None:
            self.problem("manifest.json", f"created_at {manifest['created_at']!r} is not an RFC 3339 time")
        listed = manifest.get("files")
        if not isinstance(listed, dict):
            self.problem("manifest.json", "has no files map")
            listed = {}
        for path, digest in sorted(listed.items()):
            if not isinstance(digest, str) or not HEX64.fullmatch(digest):
                self.problem("manifest.json", f"the hash listed for {path} is not 64 lowercase hex characters")
            elif path == "manifest.json":
                self.problem("manifest.json", "lists itself")
            elif path not in self.files:
                self.problem(path, "is listed in the manifest but missing")
            elif hashlib.sha256(self.files[path]).hexdigest() != digest:
                actual = hashlib.sha256(self.files[path]).hexdigest()
                self.problem(path, f"content hashes to {actual} but the manifest says {digest}")
        for path in sorted(self.files):
            if path != "manifest.json" and path not in listed:
                self.problem(path, "is not listed in the manifest")
        return manifest

    # 2. The key.
    def check_key(self, manifest: dict) -> Key | None:
        data = self.files.get("verifier.vkey")
        packaged = None
        if data is None:
            self.problem("verifier.vkey", "missing")
        else:
            try:
                packaged = Key(data.decode("utf-8").strip())
            except (Invalid, UnicodeDecodeError) as e:
                self.problem("verifier.vkey", f"not a valid verifier key: {e}")
        if packaged and manifest.get("verifier_key") != packaged.text():
            self.problem("manifest.json", "verifier_key differs from verifier.vkey")
        if self.trusted:
            if packaged and packaged != self.trusted:
                self.problem(
                    "verifier.vkey", f"the package names the key {packaged.text()}, not the trusted key {self.trusted.text()}"
                )
            self.say(f"  key {self.trusted.text()} (the trusted key given with --vkey)")
            return self.trusted
        if packaged:
            self.say(f"  key {packaged.text()}")
            self.say("      (taken from the package: compare it with the key the organisation published, or pass --vkey)")
        return packaged

    # 3. The checkpoint.
    def check_checkpoint(self, key: Key | None, manifest: dict):
        note = self.files.get("checkpoint")
        if note is None:
            self.problem("checkpoint", "missing")
            return None
        try:
            text, _ = split_note(note)
            origin, size, root = parse_checkpoint(text)
        except (Invalid, UnicodeDecodeError) as e:
            self.problem("checkpoint", f"malformed signed checkpoint: {e}")
            return None
        verified = False
        others = []
        if key is None:
            self.problem("checkpoint", "cannot be verified without a valid verifier key")
        else:
            try:
                _, _, _, others = open_checkpoint(note, key)
                verified = True
            except Invalid as e:
                self.problem("checkpoint", f"does not verify: {e}")
        status = "signed checkpoint verified" if verified else "checkpoint NOT verified"
        self.say(f"  ledger {origin}: {size} entries, root {root.hex()} ({status})")
        if others:
            self.say(f"  checkpoint also signed by {', '.join(others)} (not checked)")
        for field, value in (("origin", origin), ("log_size", size), ("root", root.hex())):
            if field not in manifest:
                self.problem("manifest.json", f"has no {field}")
            elif manifest[field] != value:
                self.problem("manifest.json", f"{field} {manifest[field]!r} differs from the checkpoint's {value!r}")
        return note, size, root

    # 4-6. The entries.
    def check_entries(self, key: Key | None, checkpoint) -> dict[int, dict]:
        """Checks every entry file with its proof, envelope and content; returns the entries
        that parse, by number. Missing content is only noted here (entry["missing"]): whether a
        deletion accounts for it is decided once every entry is known (check_deletions)."""
        entries: dict[int, dict] = {}
        referenced: set[str] = set()

        def by_number(path: str):
            m = re.fullmatch(r"entries/([0-9]+)\.json", path)
            return (0, int(m.group(1)), path) if m else (1, 0, path)

        for path in sorted((p for p in self.files if p.startswith("entries/")), key=by_number):
            m = re.fullmatch(r"entries/(0|[1-9][0-9]*)\.json", path)
            if not m:
                self.problem(path, "is not an entry file name (entries/<number>.json)")
                continue
            seq = int(m.group(1))
            proof_path = f"proofs/{seq}.tlog-proof"
            env_path = f"envelopes/{seq}.dsse.json"
            referenced.update((path, proof_path, env_path))
            try:
                entry = self.check_entry(seq, path, key, checkpoint, referenced)
            except Exception as e:  # a verifier bug must not hide as a traceback
                self.problem(path, f"internal error of this verifier while checking it: {type(e).__name__}: {e}")
                entry = None
            if entry is not None:
                entries[seq] = entry
        for path in sorted(self.files):
            top = path.split("/", 1)[0]
            if path in FIXED_FILES or path in referenced:
                continue
            if top in ("entries", "proofs", "envelopes", "blobs"):
                if top != "entries":
                    self.problem(path, "is not referenced by any entry in the package")
            else:
                self.problem(path, "is not part of the evident-package/v1 layout")
        return entries

    def check_entry(self, seq, path, key, checkpoint, referenced) -> dict | None:
        data = self.files[path]
        leaf = leaf_hash(data)
        # The inclusion proof.
        proof_path = f"proofs/{seq}.tlog-proof"
        proof = self.files.get(proof_path)
        if proof is None:
            self.problem(proof_path, f"missing: {path} has no inclusion proof")
        else:
            try:
                index, hashes, note = parse_tlog_proof(proof)
                if index != seq:
                    self.problem(proof_path, f"proves entry {index} instead of {seq}")
                elif checkpoint is None:
                    self.problem(proof_path, "not checked: the package has no usable checkpoint")
                elif note != checkpoint[0]:
                    self.problem(proof_path, "is against another checkpoint than the package's")
                elif seq >= checkpoint[1]:
                    self.problem(proof_path, f"entry {seq} is beyond the checkpoint's {checkpoint[1]} entries")
                elif not inclusion_ok(seq, checkpoint[1], leaf, hashes, checkpoint[2]):
                    self.problem(
                        proof_path,
                        f"{path} is not proven in the log: the inclusion proof of leaf hash {leaf.hex()} does not lead to the checkpoint's root",
                    )
            except (Invalid, UnicodeDecodeError) as e:
                self.problem(proof_path, f"malformed tlog-proof: {e}")
        # The entry itself and its signed statement.
        try:
            entry = parse_entry(data)
        except Invalid as e:
            self.problem(path, str(e))
            return None
        record = entry["record"]
        # The statement, only once its signature verified: a deletion is judged by it.
        entry["statement"] = None
        if key is not None:
            try:
                payload = verify_envelope(entry["parsed_envelope"], key)
                entry["statement"] = check_statement(payload, record)
            except Invalid as e:
                self.problem(path, f"the signed statement: {e}")
        env_path = f"envelopes/{seq}.dsse.json"
        envelope = self.files.get(env_path)
        if envelope is None:
            self.problem(env_path, "missing")
        else:
            try:
                if parse_envelope(load_json(envelope)) != entry["parsed_envelope"]:
                    self.problem(env_path, f"differs from the envelope logged in {path}")
            except Invalid as e:
                self.problem(env_path, f"malformed DSSE envelope: {e}")
        # The content blobs.
        entry["missing"] = []
        entry["deleted"] = {}
        for blob in record.get("blobs", []):
            blob_path = f"blobs/sha256/{blob['sha256']}"
            referenced.add(blob_path)
            content = self.files.get(blob_path)
            if content is None:
                entry["missing"].append(blob["sha256"])
            elif hashlib.sha256(content).hexdigest() != blob["sha256"]:
                self.problem(blob_path, f"content does not match its digest (content of {path})")
            elif len(content) != blob["size"]:
                self.problem(blob_path, f"is {len(content)} bytes, but {path} says {blob['size']}")
        entry["leaf_hash"] = leaf.hex()
        return entry

    # 7. Which entries are the selection and which only prove a deletion.
    def check_selection(self, entries: dict[int, dict], manifest: dict, seqs: set[int]) -> tuple[set[int], set[int]]:
        """Returns (selected, supporting) entry numbers, as the manifest lists them."""

        def numbers(field: str, required: bool) -> list[int] | None:
            value = manifest.get(field)
            if value is None and not required:
                return []  # a package without deleted content may leave it out
            if not isinstance(value, list) or not all(is_number(s) and s >= 0 for s in value):
                self.problem("manifest.json", f"{field} is not a list of entry numbers")
                return None
            if len(set(value)) != len(value):
                self.problem("manifest.json", f"{field} lists an entry more than once")
            return value

        selected = numbers("entries", True)
        supporting = numbers("supporting_entries", False)
        supporting_set = set(supporting or [])
        if selected is None:
            # Still check the index and the filter, against the entries that do not support.
            return seqs - supporting_set, supporting_set
        selected_set = set(selected)
        if supporting is None:
            return selected_set, set()
        both = selected_set & supporting_set
        if both:
            self.problem(
                "manifest.json",
                f"entries {', '.join(map(str, sorted(both)))} are listed both in entries and in supporting_entries",
            )
        listed = selected_set | supporting_set
        if listed != seqs:
            details = []
            if listed - seqs:
                details.append(f"listed but not in the package: {', '.join(map(str, sorted(listed - seqs)))}")
            if seqs - listed:
                details.append(f"in the package but not listed: {', '.join(map(str, sorted(seqs - listed)))}")
            self.problem(
                "manifest.json",
                f"the entries listed differ from the entries in the package ({'; '.join(details)})",
            )
        for seq in sorted(supporting_set & set(entries)):
            kind = entries[seq]["record"]["kind"]
            if kind != "deletion":
                self.problem(
                    f"entries/{seq}.json",
                    f"is listed in supporting_entries, which hold only deletions, but is of kind {kind}",
                )
        return selected_set, supporting_set

    def check_deletions(self, entries: dict[int, dict], manifest: dict, supporting: set[int]) -> None:
        """Content missing from the package must have been deleted after its retention period,
        by a deletion entry in the package that the manifest's deleted_blobs names."""
        deleted = manifest.get("deleted_blobs", {})
        if not isinstance(deleted, dict) or not all(
            HEX64.fullmatch(digest) and is_number(d) for digest, d in deleted.items()
        ):
            self.problem("manifest.json", "deleted_blobs is not a map of SHA-256 digests to deletion entry numbers")
            deleted = {}
        missing = set()
        for seq, entry in sorted(entries.items()):
            for digest in entry["missing"]:
                missing.add(digest)
                blob_path = f"blobs/sha256/{digest}"
                d = deleted.get(digest)
                if d is None:
                    self.problem(
                        blob_path,
                        f"missing: the content of entries/{seq}.json, and the manifest names no deletion of it",
                    )
                    continue
                why = self.deletion_problem(entries, d, seq, digest)
                if why:
                    self.problem(
                        blob_path,
                        f"missing: the content of entries/{seq}.json; deleted_blobs says entry {d} deleted it, but {why}",
                    )
                else:
                    entry["deleted"][digest] = d
        listed = {b["sha256"] for e in entries.values() for b in e["record"].get("blobs", [])}
        for digest, d in sorted(deleted.items()):
            if digest not in listed:
                self.problem("manifest.json", f"deleted_blobs names {digest}, which is not the content of any entry in the package")
            elif digest not in missing:
                self.problem("manifest.json", f"deleted_blobs says {digest} was deleted, but the package holds it")
        for seq in sorted(supporting & set(entries)):
            if seq not in deleted.values():
                self.problem(
                    f"entries/{seq}.json",
                    "is listed in supporting_entries, but deleted_blobs names it for no content",
                )

    @staticmethod
    def deletion_problem(entries: dict[int, dict], d: int, seq: int, digest: str) -> str | None:
        """Why entry d does not prove that `digest`, content of entry seq, was deleted after its
        retention period; None when it does."""
        deletion = entries.get(d)
        if deletion is None:
            return f"entries/{d}.json is not a valid entry of the package"
        record = deletion["record"]
        if record["kind"] != "deletion":
            return f"entries/{d}.json is of kind {record['kind']}, not a deletion"
        if d <= seq:
            return f"entry {d} comes before entry {seq} in the log"
        at = instant(record["recorded_at"])
        until = instant(entries[seq]["record"]["retain_until"])
        if at is None or until is None:
            return f"the times cannot be compared ({record['recorded_at']!r}, {entries[seq]['record']['retain_until']!r})"
        if at < until:
            return (
                f"it was recorded at {record['recorded_at']}, before the end of the retention period"
                f" of entries/{seq}.json ({entries[seq]['record']['retain_until']})"
            )
        statement = deletion["statement"]
        if statement is None:
            return f"the signed statement of entries/{d}.json does not verify"
        predicate = statement.get("predicate")
        if not isinstance(predicate, dict):
            return f"the signed statement of entries/{d}.json has no predicate"
        named = predicate.get("entries")
        if not isinstance(named, list) or not any(is_number(n) and n == seq for n in named):
            return f"the signed statement of entries/{d}.json does not name entry {seq}"
        blobs = predicate.get("blobs")
        if not isinstance(blobs, list) or digest not in [b for b in blobs if isinstance(b, str)]:
            return f"the signed statement of entries/{d}.json does not name the blob"
        return None

    # 8. The index, for the selected entries.
    def check_index(self, entries: dict[int, dict], selected: set[int]) -> None:
        """`entries` are the selected entries that parsed; `selected` all the selected numbers."""
        data = self.files.get("index.json")
        if data is None:
            self.problem("index.json", "missing")
            return
        try:
            index = load_json(data)
        except Invalid as e:
            self.problem("index.json", str(e))
            return
        by_control: dict[str, list[int]] = {}
        for seq, entry in sorted(entries.items()):
            for control in entry["record"]["controls"]:
                by_control.setdefault(control, []).append(seq)
        indexed = index.get("by_control") if isinstance(index, dict) else None
        if not isinstance(indexed, dict) or not all(
            isinstance(v, list) and all(is_number(s) for s in v) for v in indexed.values()
        ):
            self.problem("index.json", "has no by_control map of control to entry numbers")
        else:
            # The order of the numbers is not part of the format: compare them sorted.
            if {c: sorted(v) for c, v in indexed.items()} != by_control:
                self.problem("index.json", "by_control does not match the controls of the entries")
        rows = index.get("entries") if isinstance(index, dict) else None
        if not isinstance(rows, list):
            self.problem("index.json", "has no entries list")
            return
        seen = set()
        for row in rows:
            seq = row.get("entry") if isinstance(row, dict) else None
            entry = entries.get(seq) if is_number(seq) else None
            if entry is None:
                if is_number(seq) and seq not in selected and seq in self.seqs:
                    self.problem("index.json", f"lists entry {seq}, which is not one of the selected entries")
                else:
                    self.problem("index.json", f"lists entry {seq!r}, which is not a valid entry of the package")
                continue
            if seq in seen:
                self.problem("index.json", f"lists entry {seq} more than once")
            seen.add(seq)
            record = entry["record"]
            wrong = [f for f in ("kind", "subject", "actor", "predicate_type") if row.get(f) != record[f]]
            controls = row.get("controls")
            if not isinstance(controls, list) or not all(isinstance(c, str) for c in controls):
                wrong.append("controls")
            elif sorted(controls) != sorted(record["controls"]):
                wrong.append("controls")
            for f in ("recorded_at", "retain_until"):
                if timestamp(row.get(f)) is None or timestamp(row.get(f)) != timestamp(record[f]):
                    wrong.append(f)
            if row.get("leaf_hash") != entry["leaf_hash"]:
                wrong.append("leaf_hash")
            if wrong:
                self.problem("index.json", f"entry {seq}: {', '.join(wrong)} do not match entries/{seq}.json")
        if seen != set(entries):
            self.problem("index.json", "does not list every selected entry of the package")

    def check_filter(self, entries: dict[int, dict], manifest: dict) -> None:
        """Every selected entry must match the selection the manifest says the package was made
        with (the package cannot prove that nothing matching was left out)."""
        selection = manifest.get("filter")
        if selection is None:
            return
        if not isinstance(selection, dict):
            self.problem("manifest.json", "filter is not an object")
            return
        unknown = set(selection) - {"control", "subject", "kind", "predicate_type", "from", "to"}
        if unknown:
            self.problem("manifest.json", f"filter has unknown fields: {', '.join(sorted(unknown))}")
        bounds = {}
        for bound in ("from", "to"):
            if selection.get(bound) is not None:
                bounds[bound] = timestamp(selection[bound])
                if bounds[bound] is None:
                    self.problem("manifest.json", f"filter.{bound} {selection[bound]!r} is not a time")
        for seq, entry in sorted(entries.items()):
            record = entry["record"]
            wrong = []
            if selection.get("control") is not None and selection["control"] not in record["controls"]:
                wrong.append(f"control {selection['control']}")
            for field in ("subject", "kind", "predicate_type"):
                if selection.get(field) is not None and selection[field] != record[field]:
                    wrong.append(f"{field} {selection[field]}")
            at = timestamp(record["recorded_at"])
            if bounds.get("from") is not None and (at is None or at < bounds["from"]):
                wrong.append(f"from {selection['from']}")
            if bounds.get("to") is not None and (at is None or at >= bounds["to"]):
                wrong.append(f"to {selection['to']}")
            if wrong:
                self.problem(
                    f"entries/{seq}.json", f"does not match the manifest's filter ({', '.join(wrong)})"
                )

    def describe(self, entries: dict[int, dict], supporting: set[int]) -> None:
        """One line per entry; PROBLEM when any problem names one of its files."""
        troubled = {file for file, _ in self.problems}
        for seq, entry in sorted(entries.items()):
            record = entry["record"]
            blobs = record.get("blobs", [])
            files = {f"entries/{seq}.json", f"proofs/{seq}.tlog-proof", f"envelopes/{seq}.dsse.json"}
            files.update(f"blobs/sha256/{b['sha256']}" for b in blobs)
            status = "PROBLEM" if files & troubled else "ok"
            controls = ", ".join(record["controls"]) or "no controls"
            deleted = ""
            if entry["deleted"]:
                by = sorted(set(entry["deleted"].values()))
                deleted = f" ({len(entry['deleted'])} deleted after retention by entry {', '.join(map(str, by))})"
            role = " (supporting: proves a deletion)" if seq in supporting else ""
            self.say(
                f"  entries/{seq}.json: {record['kind']} about {record['subject']} [{controls}]"
                f" {len(blobs)} blob(s){deleted}{role}: {status}"
            )

    def run(self) -> int:
        self.say(f"evident package {self.package}")
        if self.read_archive():
            manifest = self.check_manifest()
            key = self.check_key(manifest)
            checkpoint = self.check_checkpoint(key, manifest)
            entries = self.check_entries(key, checkpoint)
            self.seqs = {
                int(p[len("entries/") : -len(".json")])
                for p in self.files
                if re.fullmatch(r"entries/(0|[1-9][0-9]*)\.json", p)
            }
            selected, supporting = self.check_selection(entries, manifest, self.seqs)
            self.check_deletions(entries, manifest, supporting)
            chosen = {seq: entry for seq, entry in entries.items() if seq in selected}
            self.check_index(chosen, selected)
            self.check_filter(chosen, manifest)
            self.describe(entries, supporting)
            blobs = sum(1 for p in self.files if p.startswith("blobs/"))
            summary = f"  {len(self.seqs)} entries"
            if supporting & self.seqs:
                summary += f" ({len(supporting & self.seqs)} of them only to prove deletions)"
            summary += f", {blobs} content blobs"
            deleted = sum(len(e["deleted"]) for e in entries.values())
            if deleted:
                summary += f", {deleted} deleted after their retention period"
            self.say(summary)
        for line in self.lines:
            print(printable(line))
        if not self.problems:
            print("OK: every file, signature and inclusion proof verifies")
            return 0
        print(f"FAILED: {len(self.problems)} problem(s)")
        for file, what in self.problems:
            print(printable(f"  {file}: {what}"))
        return 1


def printable(text: str) -> str:
    """Text from the package made safe for a terminal: control, format (bidi) and line
    separator characters escaped."""
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")
        else c
        for c in text
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Verify an evident auditor package (evident-package/v1) without evident.",
        epilog="Exit status: 0 verified, 1 problems found, 2 usage error.",
    )
    parser.add_argument("package", help="the package (.tar.gz)")
    parser.add_argument(
        "--vkey",
        metavar="KEY",
        help="the verifier key you trust (`name+keyid+base64`, or a file holding it); "
        "without it, the key inside the package is used",
    )
    args = parser.parse_args(argv)
    if not os.path.isfile(args.package):
        raise UsageError(f"{args.package}: no such file")
    trusted = None
    if args.vkey is not None:
        text = args.vkey
        if os.path.isfile(text):
            try:
                with open(text, encoding="utf-8") as f:
                    text = f.read()
            except (OSError, UnicodeDecodeError) as e:
                raise UsageError(f"--vkey {args.vkey}: cannot read: {e}") from e
        try:
            trusted = Key(text.strip())
        except Invalid as e:
            raise UsageError(f"--vkey: not a valid verifier key: {e}") from e
    return Verifier(args.package, trusted).run()


try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:
    InvalidSignature = Ed25519PublicKey = None


if __name__ == "__main__":
    if Ed25519PublicKey is None:
        print("error: this verifier needs the `cryptography` package: pip install cryptography", file=sys.stderr)
        sys.exit(2)
    # Names from the archive may not be valid UTF-8: never fail on printing them.
    sys.stdout.reconfigure(errors="backslashreplace")
    try:
        sys.exit(main(sys.argv[1:]))
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(2)
    except Exception as e:  # never a traceback for bad input
        print(f"error: the verifier failed unexpectedly: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
