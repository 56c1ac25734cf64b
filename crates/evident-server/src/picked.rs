//! A JSON document read for a few string values only.
//!
//! A delivery's payload is stored as it came; the server reads only the handful of facts that
//! describe it (the commit, the repository, the sender …). Building a whole `serde_json::Value`
//! for that allocates a node for every key and value of a payload of several kilobytes, and
//! frees them all again: the largest single cost of a delivery. [`Picked::parse`] checks the
//! whole document as strictly as `serde_json::from_slice::<Value>` does and keeps only the
//! string values at the JSON pointers it is given, skipping the rest without building it.
//!
//! Pointers name object members only (no array indexes), and no pointer may be a prefix of
//! another. Where a key repeats, the last one counts, as in a `Value`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A list of JSON pointers (such as `/repository/full_name`), split into their unescaped
/// segments once, where the list is made.
#[derive(Debug)]
pub struct Pointers {
    paths: Vec<&'static str>,
    segments: Vec<Vec<String>>,
}

impl Pointers {
    /// The pointers `paths`.
    pub fn new(paths: &[&'static str]) -> Self {
        Self {
            paths: paths.to_vec(),
            segments: paths.iter().map(|p| segments(p)).collect(),
        }
    }

    /// The pointers, as given.
    pub fn paths(&self) -> &[&'static str] {
        &self.paths
    }
}

/// The string values at some JSON pointers of one document.
#[derive(Debug)]
pub struct Picked<'a> {
    pointers: &'a Pointers,
    values: Vec<Option<String>>,
}

/// Why a document could not be read.
#[derive(Debug)]
pub struct NotJson;

/// Documents nested deeper than this are refused, as `serde_json` refuses them when it builds
/// a `Value`.
const MAX_DEPTH: usize = 127;

impl<'a> Picked<'a> {
    /// Reads `bytes` as one JSON document (UTF-8, nothing after it) and keeps the string values
    /// at `pointers`.
    pub fn parse(bytes: &[u8], pointers: &'a Pointers) -> Result<Self, NotJson> {
        // Skipped strings are not checked for UTF-8 on the way; the whole body is, first.
        std::str::from_utf8(bytes).map_err(|_| NotJson)?;
        if nesting(bytes) > MAX_DEPTH {
            return Err(NotJson);
        }
        let mut values = vec![None; pointers.paths.len()];
        let mut de = serde_json::Deserializer::from_slice(bytes);
        Node {
            segments: &pointers.segments,
            depth: 0,
            candidates: (0..pointers.paths.len()).collect(),
            values: &mut values,
        }
        .deserialize(&mut de)
        .map_err(|_| NotJson)?;
        de.end().map_err(|_| NotJson)?;
        Ok(Self { pointers, values })
    }

    /// The string at `path`, if the document has one there. `path` must be one of those
    /// [`Picked::parse`] was given.
    pub fn str(&self, path: &str) -> Option<&str> {
        let i = self.pointers.paths.iter().position(|p| *p == path);
        debug_assert!(i.is_some(), "{path} was not picked");
        self.values[i?].as_deref()
    }
}

/// The unescaped segments of a JSON pointer (`~1` is `/`, `~0` is `~`).
fn segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// The deepest nesting of objects and arrays in a document (strings skipped).
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// A visitor's methods for the JSON scalars other than strings (booleans, numbers, null), each
/// accepting the value and giving `$none`.
macro_rules! skip_scalars {
    ($none:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($none)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($none)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($none)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($none)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($none)
        }
    };
}

/// A value at `depth` whose path so far matches the first `depth` segments of `candidates`.
struct Node<'a> {
    segments: &'a [Vec<String>],
    depth: usize,
    candidates: Vec<usize>,
    values: &'a mut Vec<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            let matches: Vec<usize> = self
                .candidates
                .iter()
                .copied()
                .filter(|&i| self.segments[i][self.depth] == key)
                .collect();
            if matches.is_empty() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            // The last of repeated keys counts: what an earlier one gave is forgotten.
            for &i in &matches {
                self.values[i] = None;
            }
            if let [i] = matches[..]
                && self.segments[i].len() == self.depth + 1
            {
                self.values[i] = map.next_value::<Leaf>()?.0;
            } else {
                map.next_value_seed(Node {
                    segments: self.segments,
                    depth: self.depth + 1,
                    candidates: matches,
                    values: &mut *self.values,
                })?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    skip_scalars!(());
}

/// An object key, borrowed from the document where it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A value at a picked path: kept if it is a string, skipped otherwise.
struct Leaf(Option<String>);

impl<'de> de::Deserialize<'de> for Leaf {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LeafVisitor;
        impl<'de> Visitor<'de> for LeafVisitor {
            type Value = Leaf;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_str<E>(self, v: &str) -> Result<Leaf, E> {
                Ok(Leaf(Some(v.to_owned())))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Leaf, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Leaf(None))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Leaf, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Leaf(None))
            }

            skip_scalars!(Leaf(None));
        }
        deserializer.deserialize_any(LeafVisitor)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    const LIST: &[&str] = &["/a", "/b/c", "/b/d/e", "/x~1y", "/t~0"];
    static PATHS: LazyLock<Pointers> = LazyLock::new(|| Pointers::new(LIST));

    fn picked(v: &Value) -> Picked<'static> {
        Picked::parse(&serde_json::to_vec(v).unwrap(), &PATHS).unwrap()
    }

    #[test]
    fn strings_at_the_paths_are_kept_and_nothing_else() {
        let p = picked(&json!({
            "a": "one", "b": {"c": "two", "d": {"e": "three", "f": "no"}, "z": [1, {"c": "no"}]},
            "x/y": "slash", "t~": "tilde", "c": "no"
        }));
        assert_eq!(p.str("/a"), Some("one"));
        assert_eq!(p.str("/b/c"), Some("two"));
        assert_eq!(p.str("/b/d/e"), Some("three"));
        assert_eq!(p.str("/x~1y"), Some("slash"));
        assert_eq!(p.str("/t~0"), Some("tilde"));
        let p = picked(&json!({"a": 1, "b": [{"c": "x"}], "x/y": {"s": "t"}, "t~": null}));
        for path in LIST {
            assert_eq!(p.str(path), None, "{path}");
        }
    }

    #[test]
    fn lists_of_paths_do_not_mix() {
        let short = Pointers::new(&["/b/c"]);
        let first = Pointers::new(&LIST[..1]);
        let doc = br#"{"a":"one","b":{"c":"two"}}"#;
        for _ in 0..2 {
            assert_eq!(Picked::parse(doc, &PATHS).unwrap().str("/b/c"), Some("two"));
            assert_eq!(Picked::parse(doc, &short).unwrap().str("/b/c"), Some("two"));
            // The first path of the list only.
            let first = Picked::parse(doc, &first).unwrap();
            assert_eq!(first.str("/a"), Some("one"));
            assert_eq!(first.values.len(), 1);
        }
    }

    #[test]
    fn the_last_of_repeated_keys_counts() {
        let p = Picked::parse(br#"{"a":"1","b":{"c":"2"},"a":"3","b":7}"#, &PATHS).unwrap();
        assert_eq!(p.str("/a"), Some("3"));
        assert_eq!(p.str("/b/c"), None);
        let p = Picked::parse(br#"{"a":"1","a":{"q":1}}"#, &PATHS).unwrap();
        assert_eq!(p.str("/a"), None);
    }

    #[test]
    fn escaped_strings_and_keys_are_decoded() {
        let p = Picked::parse(
            br#"{"\u0061":"caf\u00e9 \"q\"","b":{"c":"\ud83d\ude00"}}"#,
            &PATHS,
        )
        .unwrap();
        assert_eq!(p.str("/a"), Some("café \"q\""));
        assert_eq!(p.str("/b/c"), Some("😀"));
    }

    #[test]
    fn what_a_value_refuses_is_refused() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"a\":}",
            b"{\"a\":\"1\"} x",
            b"{\"z\":[1,]}",
            b"{\"z\":\"\xff\"}",
            b"{\"z\":01}",
            b"{\"z\":\"\x01\"}",
            b"{\"z\":\"\\x\"}",
            b"[1 2]",
        ] {
            assert!(serde_json::from_slice::<Value>(bad).is_err());
            assert!(Picked::parse(bad, &PATHS).is_err(), "{bad:?}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(serde_json::from_slice::<Value>(deep.as_bytes()).is_err());
        assert!(Picked::parse(deep.as_bytes(), &PATHS).is_err());
        // The deepest nesting a `Value` takes is taken, and no deeper.
        for depth in 120..=135 {
            let doc = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            assert_eq!(
                Picked::parse(doc.as_bytes(), &PATHS).is_ok(),
                serde_json::from_slice::<Value>(doc.as_bytes()).is_ok(),
                "{depth}"
            );
        }
        // Brackets inside strings are not nesting.
        let flat = format!("{{\"z\":\"{}\"}}", "[".repeat(200));
        assert!(Picked::parse(flat.as_bytes(), &PATHS).is_ok());
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let key = prop::sample::select(vec!["a", "b", "c", "d", "e", "x/y", "t~", "q"]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z\u{e9}\"\\\\/\n]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 5, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(key.clone().prop_map(str::to_owned), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn picks_what_a_value_has_at_the_same_pointers(v in json_value()) {
            let p = picked(&v);
            for path in LIST {
                prop_assert_eq!(p.str(path), v.pointer(path).and_then(Value::as_str), "{}", path);
            }
        }

        #[test]
        fn a_damaged_document_is_refused_when_a_value_refuses_it(
            v in json_value(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(b"{}[]\":,a0 .-\\\xff".to_vec()),
            delete in any::<bool>(),
        ) {
            let mut bytes = serde_json::to_vec(&v).unwrap();
            let i = at.index(bytes.len());
            if delete {
                bytes.remove(i);
            } else {
                bytes[i] = byte;
            }
            prop_assert_eq!(
                Picked::parse(&bytes, &PATHS).is_ok(),
                serde_json::from_slice::<Value>(&bytes).is_ok(),
                "{:?}", String::from_utf8_lossy(&bytes)
            );
        }

        #[test]
        fn accepts_exactly_what_a_value_accepts(bytes in prop::collection::vec(
            prop::sample::select(b"{}[]\":,ab01 .-e\\tn".to_vec()), 0..24)) {
            prop_assert_eq!(
                Picked::parse(&bytes, &PATHS).is_ok(),
                serde_json::from_slice::<Value>(&bytes).is_ok(),
                "{:?}", String::from_utf8_lossy(&bytes)
            );
        }
    }
}
