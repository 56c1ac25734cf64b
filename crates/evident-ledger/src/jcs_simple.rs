//! The canonical form of the common JSON values, written directly.
//!
//! Evidence is mostly strings, objects, arrays and small integers. For a [`Value`] made only of
//! those, RFC 8785 needs no number formatting at all, and this writer produces its canonical
//! bytes in one pass: object members sorted by the UTF-16 code units of their names (compared
//! without allocating), strings escaped as RFC 8785 says (which is how `serde_json` escapes
//! them: `\"`, `\\`, the short forms `\b \t \n \f \r`, other control characters as lowercase
//! `\u00xx`, everything else as UTF-8), integers as their digits.
//!
//! A value holding a float or an integer past ±(2^53 − 1) gets `None`: the general
//! canonicaliser ([`crate::jcs::to_canonical_vec`]) formats the first and refuses the second.
//! A property test holds the two to the same bytes.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::jcs::MAX_SAFE_INTEGER;

/// The RFC 8785 bytes of `value`, or `None` when it holds a number that is not a safe integer.
pub fn value_to_canonical_vec(value: &Value) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    write(value, &mut out).then_some(out)
}

fn write(value: &Value, out: &mut Vec<u8>) -> bool {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64().filter(|u| *u <= MAX_SAFE_INTEGER) {
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER) {
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                return false;
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if !write(item, out) {
                    return false;
                }
            }
            out.push(b']');
        }
        Value::Object(members) => return write_object(members, out),
    }
    true
}

fn write_object(members: &Map<String, Value>, out: &mut Vec<u8>) -> bool {
    let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
    sorted.sort_by(|a, b| utf16_order(a.0, b.0));
    out.push(b'{');
    for (i, (name, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(name, out);
        out.push(b':');
        if !write(value, out) {
            return false;
        }
    }
    out.push(b'}');
    true
}

/// RFC 8785 member order: by UTF-16 code units. For names without characters past U+FFFF the
/// byte order of UTF-8 is the same and cheaper.
fn utf16_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x09 => b't',
            0x0a => b'n',
            0x0c => b'f',
            0x0d => b'r',
            0..=0x1f => 0,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.push(b'\\');
        if short == 0 {
            out.extend_from_slice(b"u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.push(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::jcs::to_canonical_vec;

    fn same(v: &Value) {
        let fast = value_to_canonical_vec(v).expect("a simple value");
        let general = to_canonical_vec(v).expect("canonical");
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&general),
            "{v}"
        );
    }

    #[test]
    fn writes_what_the_general_canonicaliser_writes() {
        same(
            &json!({"b": [1, -2, null, true, false], "a": {"z": "\u{0}\u{1f}\"\\/\u{7f}é", "": 0}}),
        );
        same(&json!({"\u{e000}": 1, "\u{1f600}": 2, "a": 3}));
        same(&json!([
            9_007_199_254_740_991_u64,
            -9_007_199_254_740_991_i64
        ]));
        same(&json!("line\nbreak\ttab\u{8}\u{c}\r"));
    }

    #[test]
    fn floats_and_unsafe_integers_go_to_the_general_canonicaliser() {
        assert!(value_to_canonical_vec(&json!({"a": 1.5})).is_none());
        assert!(value_to_canonical_vec(&json!([1.0])).is_none());
        assert!(value_to_canonical_vec(&json!(9_007_199_254_740_992_u64)).is_none());
        assert!(value_to_canonical_vec(&json!(-9_007_199_254_740_992_i64)).is_none());
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_]{0,6}",
            "\\PC{0,4}",
            proptest::collection::vec(any::<char>(), 0..4).prop_map(|c| c.into_iter().collect()),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            (-1_000_i64..1_000).prop_map(|i| json!(i)),
            any::<u64>().prop_map(|u| json!(u)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            any::<String>().prop_map(Value::String),
            "[\\x00-\\x7f]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((key(), inner), 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whenever the direct writer answers, it answers the general canonicaliser's bytes;
        /// it declines exactly the values holding a float or an unsafe integer.
        #[test]
        fn agrees_with_the_general_canonicaliser(v in value()) {
            match value_to_canonical_vec(&v) {
                Some(fast) => prop_assert_eq!(fast, to_canonical_vec(&v).unwrap()),
                None => prop_assert!(has_hard_number(&v)),
            }
        }
    }

    fn has_hard_number(v: &Value) -> bool {
        match v {
            Value::Number(n) => {
                !(n.as_u64().is_some_and(|u| u <= MAX_SAFE_INTEGER)
                    || n.as_i64()
                        .is_some_and(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER))
            }
            Value::Array(a) => a.iter().any(has_hard_number),
            Value::Object(m) => m.values().any(has_hard_number),
            _ => false,
        }
    }
}
