//! RFC 8785 JSON Canonicalization Scheme (JCS): one byte string per JSON value.
//!
//! Everything evident hashes or signs (ledger records, in-toto statements) goes through
//! [`to_canonical_vec`] so that two producers that agree on the *value* agree on the *bytes*.
//! The serialisation itself is [`serde_json_canonicalizer`]'s; this module adds the checks RFC 8785
//! leaves to the caller (its section 3.1 requires I-JSON, RFC 7493):
//!
//! - **Integers must be exact.** JCS writes every number as an IEEE 754 double, so most
//!   integers beyond ±(2^53 − 1) would change: 2^53 + 1 becomes 9007199254740992, 2^60 becomes
//!   1152921504606847000, and two different records could share one hash. An integer is
//!   refused ([`JcsError::UnsafeInteger`]) unless JCS writes it as its own decimal digits;
//!   carry larger ones as strings, as RFC 8785 appendix D recommends.
//! - **No NaN or infinities** ([`JcsError::NonFinite`]): JSON has no form for them, and the
//!   canonicaliser on its own writes one nested in an array or object as `null`.
//! - **No duplicate keys**: refused when serialising ([`JcsError::Serialize`]), and
//!   [`parse_strict`] refuses them in input text, where `serde_json` alone would keep the last
//!   one without a word.
//!
//! What JCS produces, in short: no whitespace; object members sorted by the UTF-16 code units of
//! their names; numbers in the ECMAScript `Number.prototype.toString` form (`1e+30`, `4.5`,
//! `0.002`, `1e-27`); strings with only `"`, `\`, and control characters escaped (the short forms
//! `\b \t \n \f \r`, otherwise lowercase `\u00xx`), everything else as UTF-8.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser;
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

use crate::Hash;
pub use crate::jcs_simple::value_to_canonical_vec;

/// The largest integer magnitude that an IEEE 754 double holds exactly together with all
/// its neighbours: 2^53 − 1 (I-JSON, RFC 7493 section 2.2).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a value has no canonical form.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JcsError {
    /// The value's `Serialize` failed, or it holds something JSON cannot say: a map key that is
    /// not a string, a duplicate key, a raw JSON fragment.
    #[error("cannot canonicalise as JSON (RFC 8785): {0}")]
    Serialize(#[source] serde_json::Error),
    /// A NaN or an infinity, which JSON has no form for; `path` is a JSON Pointer to it.
    #[error("the number at {path:?} is NaN or infinite, which JSON cannot represent")]
    NonFinite {
        /// RFC 6901 JSON Pointer to the number ("" is the whole document).
        path: String,
    },
    /// An integer past ±(2^53 − 1) that JCS would write as other digits (it becomes the
    /// nearest double); `path` is a JSON Pointer to it.
    #[error(
        "integer {value} at {path:?} is too large for RFC 8785 to keep exactly (past 2^53 it \
         becomes the nearest double); carry it as a string"
    )]
    UnsafeInteger {
        /// The integer as it was given.
        value: String,
        /// RFC 6901 JSON Pointer to the integer ("" is the whole document).
        path: String,
    },
    /// The input is not JSON, or an object in it repeats a key.
    #[error("invalid JSON input: {0}")]
    Parse(#[source] serde_json::Error),
}

/// Serialises `value` as RFC 8785 canonical JSON (UTF-8 bytes).
///
/// Fails on NaN or infinite floats, duplicate or non-string map keys, and integers that JCS
/// would not write as their own digits (see the [module docs](self)).
pub fn to_canonical_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, JcsError> {
    // First a pass that only looks at numbers: the canonical writer would turn a NaN nested in
    // an array or object into `null` and a large integer into the nearest double, silently.
    let mut probe = Probe::default();
    match value.serialize(&mut probe) {
        Err(ProbeError::Refused(e)) => return Err(e),
        // The value's own `Serialize` failed; the canonical writer below reports it.
        Ok(()) | Err(ProbeError::Custom) => {}
    }
    // `&T` is sized even when `T` is not (a `str`, a slice).
    serde_json_canonicalizer::to_vec(&value).map_err(JcsError::Serialize)
}

/// SHA-256 of the canonical form of `value`: `SHA-256(to_canonical_vec(value))`.
pub fn canonical_sha256<T: Serialize + ?Sized>(value: &T) -> Result<Hash, JcsError> {
    let bytes = to_canonical_vec(value)?;
    Ok(Sha256::digest(&bytes).into())
}

/// Parses JSON text, refusing any object that repeats a key (I-JSON, RFC 7493 section 2.3).
///
/// Lone surrogate escapes and trailing garbage are refused as `serde_json` refuses them.
pub fn parse_strict(json: &[u8]) -> Result<Value, JcsError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = StrictValue.deserialize(&mut de).map_err(JcsError::Parse)?;
    de.end().map_err(JcsError::Parse)?;
    Ok(value)
}

/// Re-encodes JSON text in canonical form: [`parse_strict`] then [`to_canonical_vec`].
pub fn canonicalize_json(json: &[u8]) -> Result<Vec<u8>, JcsError> {
    to_canonical_vec(&parse_strict(json)?)
}

/// A serializer that writes nothing and fails on the numbers JCS cannot carry exactly,
/// keeping the JSON Pointer of where it is.
#[derive(Default)]
struct Probe {
    path: Vec<String>,
}

#[derive(Debug)]
enum ProbeError {
    Refused(JcsError),
    Custom,
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(e) => e.fmt(f),
            Self::Custom => f.write_str("the value failed to serialise"),
        }
    }
}

impl std::error::Error for ProbeError {}

impl ser::Error for ProbeError {
    fn custom<M: fmt::Display>(_msg: M) -> Self {
        Self::Custom
    }
}

impl Probe {
    fn pointer(&self) -> String {
        let mut pointer = String::new();
        for segment in &self.path {
            pointer.push('/');
            pointer.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        }
        pointer
    }

    fn integer(&self, value: i128) -> Result<(), ProbeError> {
        if value.unsigned_abs() <= u128::from(MAX_SAFE_INTEGER) {
            Ok(())
        } else {
            self.large_integer(value, value as f64)
        }
    }

    /// Past 2^53 an integer survives only if the double JCS writes reads back as the same
    /// digits (as 10^17 does; 2^53 + 1 and 2^60 do not).
    fn large_integer(&self, value: impl fmt::Display, as_double: f64) -> Result<(), ProbeError> {
        let digits = value.to_string();
        match serde_json_canonicalizer::to_vec(&as_double) {
            Ok(written) if written == digits.as_bytes() => Ok(()),
            _ => Err(self.unsafe_integer(digits)),
        }
    }

    fn unsafe_integer(&self, value: impl fmt::Display) -> ProbeError {
        ProbeError::Refused(JcsError::UnsafeInteger {
            value: value.to_string(),
            path: self.pointer(),
        })
    }

    fn float(&self, finite: bool) -> Result<(), ProbeError> {
        if finite {
            Ok(())
        } else {
            Err(ProbeError::Refused(JcsError::NonFinite {
                path: self.pointer(),
            }))
        }
    }

    /// Runs `f` with `segment` pushed onto the path.
    fn at<R>(&mut self, segment: String, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(segment);
        let out = f(self);
        self.path.pop();
        out
    }
}

/// The text of a map key, for the path only (JSON writes every key as a string).
fn key_text<K: Serialize + ?Sized>(key: &K) -> String {
    match serde_json::to_value(key) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "?".to_owned(),
    }
}

impl<'a> ser::Serializer for &'a mut Probe {
    type Ok = ();
    type Error = ProbeError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, _: bool) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<(), ProbeError> {
        self.integer(i128::from(v))
    }
    fn serialize_i128(self, v: i128) -> Result<(), ProbeError> {
        self.integer(v)
    }
    fn serialize_u8(self, _: u8) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), ProbeError> {
        self.integer(i128::from(v))
    }
    fn serialize_u128(self, v: u128) -> Result<(), ProbeError> {
        match i128::try_from(v) {
            Ok(v) => self.integer(v),
            Err(_) => self.large_integer(v, v as f64),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<(), ProbeError> {
        self.float(v.is_finite())
    }
    fn serialize_f64(self, v: f64) -> Result<(), ProbeError> {
        self.float(v.is_finite())
    }
    fn serialize_char(self, _: char) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), ProbeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), ProbeError> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), ProbeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), ProbeError> {
        self.at(variant.to_owned(), |probe| value.serialize(probe))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, ProbeError> {
        Ok(Compound::new(self, false))
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, ProbeError> {
        Ok(Compound::new(self, false))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, ProbeError> {
        Ok(Compound::new(self, false))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, ProbeError> {
        self.path.push(variant.to_owned());
        Ok(Compound::new(self, true))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, ProbeError> {
        Ok(Compound::new(self, false))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, ProbeError> {
        Ok(Compound::new(self, false))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, ProbeError> {
        self.path.push(variant.to_owned());
        Ok(Compound::new(self, true))
    }
}

/// The [`Probe`] inside an array, object or variant.
struct Compound<'a> {
    probe: &'a mut Probe,
    /// Next array index.
    index: usize,
    /// The key given to `serialize_key`, waiting for its value.
    key: String,
    /// Whether `end` pops a variant name off the path.
    variant: bool,
}

impl<'a> Compound<'a> {
    fn new(probe: &'a mut Probe, variant: bool) -> Self {
        Self {
            probe,
            index: 0,
            key: String::new(),
            variant,
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ProbeError> {
        let segment = self.index.to_string();
        self.index += 1;
        self.probe.at(segment, |probe| value.serialize(probe))
    }

    fn member<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), ProbeError> {
        self.probe
            .at(key.to_owned(), |probe| value.serialize(probe))
    }

    fn finish(self) {
        if self.variant {
            self.probe.path.pop();
        }
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = ProbeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ProbeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), ProbeError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = ProbeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ProbeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), ProbeError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = ProbeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ProbeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), ProbeError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = ProbeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ProbeError> {
        self.element(value)
    }
    fn end(self) -> Result<(), ProbeError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = ProbeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ProbeError> {
        self.key = key_text(key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ProbeError> {
        let key = std::mem::take(&mut self.key);
        self.member(&key, value)
    }
    fn end(self) -> Result<(), ProbeError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = ProbeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ProbeError> {
        self.member(key, value)
    }
    fn end(self) -> Result<(), ProbeError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = ProbeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ProbeError> {
        self.member(key, value)
    }
    fn end(self) -> Result<(), ProbeError> {
        self.finish();
        Ok(())
    }
}

/// A `DeserializeSeed` that builds a [`Value`] and fails on duplicate object keys.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!(
                    "duplicate object key {key:?}"
                )));
            }
            let item = map.next_value_seed(StrictValue)?;
            members.insert(key, item);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[test]
    fn sorts_and_strips_whitespace() {
        let bytes = to_canonical_vec(&json!({"b": [1, {"z": null, "a": true}], "a": "x"})).unwrap();
        assert_eq!(bytes, br#"{"a":"x","b":[1,{"a":true,"z":null}]}"#);
    }

    #[test]
    fn refuses_integers_that_doubles_would_round() {
        assert!(to_canonical_vec(&json!({"n": MAX_SAFE_INTEGER})).is_ok());
        assert!(to_canonical_vec(&json!({"n": -MAX_SAFE_INTEGER.cast_signed()})).is_ok());
        let err = to_canonical_vec(&json!({"a/b": [0, MAX_SAFE_INTEGER + 2]})).unwrap_err();
        match err {
            JcsError::UnsafeInteger { value, path } => {
                assert_eq!(value, "9007199254740993");
                assert_eq!(path, "/a~1b/1");
            }
            other => panic!("unexpected error {other}"),
        }
        assert!(matches!(
            to_canonical_vec(&i64::MIN),
            Err(JcsError::UnsafeInteger { .. })
        ));
        // A float of the same size is a double already and is fine.
        assert_eq!(to_canonical_vec(&1e30_f64).unwrap(), b"1e+30");
        // Large integers that JCS writes as their own digits are fine; others are not.
        assert_eq!(
            to_canonical_vec(&100_000_000_000_000_000_u64).unwrap(),
            b"100000000000000000"
        );
        assert_eq!(
            to_canonical_vec(&-23_820_346_591_003_450_i64).unwrap(),
            b"-23820346591003450"
        );
        assert!(to_canonical_vec(&(1_u64 << 60)).is_err());
        assert!(to_canonical_vec(&u128::MAX).is_err());
    }

    #[test]
    fn refuses_non_finite_floats_at_any_depth() {
        // The canonicaliser alone writes a nested NaN as `null`; the probe must catch it.
        let nested = BTreeMap::from([("xs", vec![1.0, f64::NAN])]);
        match to_canonical_vec(&nested) {
            Err(JcsError::NonFinite { path }) => assert_eq!(path, "/xs/1"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            to_canonical_vec(&f64::INFINITY),
            Err(JcsError::NonFinite { .. })
        ));
        assert!(matches!(
            to_canonical_vec(&[Some(f32::NEG_INFINITY)]),
            Err(JcsError::NonFinite { .. })
        ));
    }

    #[test]
    fn probes_through_enums_and_large_integer_types() {
        #[derive(Serialize)]
        enum E {
            Tuple(u8, u128),
            Struct { n: i128 },
            Newtype(u64),
        }
        let cases: [(E, &str); 3] = [
            (E::Tuple(1, u128::MAX), "/Tuple/1"),
            (E::Struct { n: i128::MIN }, "/Struct/n"),
            (E::Newtype(u64::MAX), "/Newtype"),
        ];
        for (value, expected) in cases {
            match to_canonical_vec(&value) {
                Err(JcsError::UnsafeInteger { path, .. }) => assert_eq!(path, expected),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(
            to_canonical_vec(&E::Tuple(1, 2)).unwrap(),
            br#"{"Tuple":[1,2]}"#
        );
    }

    #[test]
    fn a_failing_serialize_is_reported() {
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(ser::Error::custom("no"))
            }
        }
        assert!(matches!(
            to_canonical_vec(&vec![Fails]),
            Err(JcsError::Serialize(_))
        ));
    }

    #[test]
    fn parse_strict_refuses_duplicate_keys_at_any_depth() {
        assert!(parse_strict(br#"{"a":1,"b":{"c":1,"c":2}}"#).is_err());
        assert!(parse_strict(br#"[{"a":1,"a":1}]"#).is_err());
        assert!(parse_strict(br#"{"a":1} x"#).is_err());
        assert!(parse_strict(br#""\ud800""#).is_err());
        assert_eq!(
            parse_strict(br#"{"a":[1,2.5,"s",null,true]}"#).unwrap(),
            json!({"a": [1, 2.5, "s", null, true]})
        );
    }

    #[test]
    fn canonical_sha256_hashes_the_canonical_bytes() {
        let hash = canonical_sha256(&json!({"b": 1, "a": 2})).unwrap();
        let expected: Hash = Sha256::digest(br#"{"a":2,"b":1}"#).into();
        assert_eq!(hash, expected);
    }
}
