//! RFC 8785 (JCS) conformance and properties of `evident_ledger::jcs`.
//!
//! The fixed cases are the RFC's own examples: section 3.2.2 (whitespace, number and string
//! serialisation), its UTF-8 hex dump in 3.2.4, the property-sorting example of 3.2.3, and the
//! number table of appendix B.

use evident_ledger::jcs::{self, JcsError};
use proptest::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// RFC 8785 section 3.2.2, the parsed input.
const RFC_3_2_2_INPUT: &str = r#"{
  "numbers": [333333333.33333329, 1E30, 4.50,
              2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#;

/// RFC 8785 section 3.2.2, the expected canonical form.
const RFC_3_2_2_OUTPUT: &str = r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#;

/// RFC 8785 section 3.2.4: the same output as UTF-8 bytes, in hex.
const RFC_3_2_4_HEX: &str = "\
    7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 \
    75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a \
    5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 \
    65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 \
    5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 \
    30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d";

#[test]
fn rfc8785_section_3_2_2_serialisation() {
    let out = jcs::canonicalize_json(RFC_3_2_2_INPUT.as_bytes()).unwrap();
    assert_eq!(String::from_utf8(out.clone()).unwrap(), RFC_3_2_2_OUTPUT);

    let hex: String = RFC_3_2_4_HEX.split_whitespace().collect();
    assert_eq!(hex::encode(&out), hex);
}

#[test]
fn rfc8785_section_3_2_3_sorts_by_utf16_code_units() {
    let input = r#"{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"#;
    let out = jcs::canonicalize_json(input.as_bytes()).unwrap();
    let text = String::from_utf8(out).unwrap();
    // The RFC lists the values in the order the sorted properties come out.
    let expected_order = [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ];
    let positions: Vec<usize> = expected_order
        .iter()
        .map(|v| {
            text.find(v)
                .unwrap_or_else(|| panic!("{v} missing from {text}"))
        })
        .collect();
    assert!(positions.is_sorted(), "wrong order: {text}");
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16, after it in UTF-8 or
    // by code point: this is the case that tells the orders apart.
    assert_eq!(
        text,
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
         \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
         \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
    );
}

#[test]
fn rfc8785_appendix_b_numbers() {
    let table: [(u64, &str); 25] = [
        (0x0000_0000_0000_0000, "0"),
        (0x8000_0000_0000_0000, "0"),
        (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"),
        (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
        (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
        (0x4340_0000_0000_0000, "9007199254740992"),
        (0xc340_0000_0000_0000, "-9007199254740992"),
        (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"),
        (0x44b5_2d02_c7e1_4af6, "1e+23"),
        (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
        (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
        (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
        (0x444b_1ae4_d6e2_ef50, "1e+21"),
        (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"),
        (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
        (0x41b3_de43_5555_5553, "333333333.3333332"),
        (0x41b3_de43_5555_5554, "333333333.33333325"),
        (0x41b3_de43_5555_5555, "333333333.3333333"),
        (0x41b3_de43_5555_5556, "333333333.3333334"),
        (0x41b3_de43_5555_5557, "333333333.33333343"),
        (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
        (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
        (0x3ff0_0000_0000_0000, "1"),
    ];
    for (bits, expected) in table {
        let n = f64::from_bits(bits);
        let out = jcs::to_canonical_vec(&n).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            expected,
            "IEEE 754 {bits:016x}"
        );
    }
    // The appendix's NaN and Infinity rows: JCS has no form for them.
    for bits in [0x7fff_ffff_ffff_ffff_u64, 0x7ff0_0000_0000_0000] {
        assert!(matches!(
            jcs::to_canonical_vec(&f64::from_bits(bits)),
            Err(JcsError::NonFinite { .. })
        ));
    }
}

#[test]
fn strings_escape_only_what_json_requires() {
    let s = "\u{0}\u{8}\t\n\u{c}\r\u{1f}\u{7f}\"\\/<é😀";
    let out = jcs::to_canonical_vec(&s).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\"\\u0000\\b\\t\\n\\f\\r\\u001f\u{7f}\\\"\\\\/<é😀\""
    );
}

#[test]
fn canonical_sha256_is_sha256_of_the_rfc_example() {
    let value: Value = serde_json::from_str(RFC_3_2_2_INPUT).unwrap();
    let expected: [u8; 32] = Sha256::digest(RFC_3_2_2_OUTPUT.as_bytes()).into();
    assert_eq!(jcs::canonical_sha256(&value).unwrap(), expected);
}

/// JSON values whose numbers are all exact in JCS: integers within ±(2^53 − 1) and finite
/// doubles; strings over all of Unicode, including astral characters and control characters.
fn json_value() -> impl Strategy<Value = Value> {
    let safe = i64::try_from(jcs::MAX_SAFE_INTEGER).unwrap();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-safe..=safe).prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Writes `value` as JSON text with its object members in the given order (serde_json's own
/// writer would sort them, which would hide what the property below is about).
fn write_in_order(value: &Value, order: &mut impl FnMut(usize) -> Vec<usize>, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_in_order(item, order, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let entries: Vec<(&String, &Value)> = members.iter().collect();
            out.push_str("{ ");
            for (n, i) in order(entries.len()).into_iter().enumerate() {
                if n > 0 {
                    out.push_str(" ,\n");
                }
                let (k, v) = entries[i];
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push_str(" : ");
                write_in_order(v, order, out);
            }
            out.push_str(" }");
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Canonical JSON is a fixed point: parsing it and canonicalising again gives the same bytes.
    #[test]
    fn canonicalising_is_idempotent(value in json_value()) {
        let once = jcs::to_canonical_vec(&value).unwrap();
        let twice = jcs::canonicalize_json(&once).unwrap();
        prop_assert_eq!(&once, &twice);
        // And it is the same value.
        let parsed: Value = serde_json::from_slice(&once).unwrap();
        prop_assert_eq!(jcs::to_canonical_vec(&parsed).unwrap(), once);
    }

    /// The order in which object members are written does not change the canonical bytes.
    #[test]
    fn member_order_does_not_matter(value in json_value(), seed in any::<u64>()) {
        let canonical = jcs::to_canonical_vec(&value).unwrap();

        // A deterministic shuffle driven by the seed (xorshift).
        let mut state = seed | 1;
        let mut shuffle = |n: usize| {
            let mut idx: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                idx.swap(i, (state % (i as u64 + 1)) as usize);
            }
            idx
        };
        let mut text = String::new();
        write_in_order(&value, &mut shuffle, &mut text);
        prop_assert_eq!(&jcs::canonicalize_json(text.as_bytes()).unwrap(), &canonical);

        let mut reverse = |n: usize| (0..n).rev().collect::<Vec<_>>();
        let mut text = String::new();
        write_in_order(&value, &mut reverse, &mut text);
        prop_assert_eq!(&jcs::canonicalize_json(text.as_bytes()).unwrap(), &canonical);
    }

    /// An integer is either written as its own digits or refused, never changed; within
    /// ±(2^53 − 1) it is always written.
    #[test]
    fn integers_are_exact_or_refused(n in any::<i64>(), u in any::<u64>()) {
        for (digits, result) in [
            (n.to_string(), jcs::to_canonical_vec(&n)),
            (u.to_string(), jcs::to_canonical_vec(&u)),
        ] {
            match result {
                Ok(bytes) => prop_assert_eq!(bytes, digits.into_bytes()),
                Err(JcsError::UnsafeInteger { value, .. }) => {
                    prop_assert_eq!(&value, &digits);
                    let magnitude = digits.trim_start_matches('-').parse::<u64>().unwrap();
                    prop_assert!(magnitude > jcs::MAX_SAFE_INTEGER);
                }
                Err(other) => prop_assert!(false, "unexpected error {}", other),
            }
        }
    }

    /// Equal values hash equally, whatever the whitespace of their text.
    #[test]
    fn whitespace_does_not_matter(value in json_value()) {
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        prop_assert_eq!(
            jcs::canonicalize_json(&pretty).unwrap(),
            jcs::to_canonical_vec(&value).unwrap()
        );
    }
}
