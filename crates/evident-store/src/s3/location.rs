//! Where evidence lives: `s3://bucket/prefix`, and the object keys under it.

use std::fmt;
use std::str::FromStr;

#[allow(clippy::wildcard_imports)]
use super::*;

/// Where evidence lives in S3: a bucket and a key prefix (`s3://bucket/optional/prefix`).
///
/// The prefix has no leading or trailing slash and no empty, `.` or `..` segment; its text form
/// ([`fmt::Display`]) parses back to the same location.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Location {
    bucket: String,
    prefix: String,
}

impl S3Location {
    /// Parses `s3://bucket` or `s3://bucket/prefix` (one trailing slash is allowed).
    pub fn parse(text: &str) -> Result<Self, S3Error> {
        let bad = |reason: String| S3Error::Location { reason };
        let Some(rest) = text.strip_prefix("s3://") else {
            return Err(bad("it does not start with `s3://`".to_owned()));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        check_bucket_name(bucket).map_err(bad)?;
        let prefix = normalize_prefix(prefix).map_err(bad)?;
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// A location from its parts, checked as [`S3Location::parse`] checks them.
    pub fn new(bucket: &str, prefix: &str) -> Result<Self, S3Error> {
        let bad = |reason: String| S3Error::Location { reason };
        check_bucket_name(bucket).map_err(bad)?;
        let prefix = normalize_prefix(prefix).map_err(bad)?;
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key prefix, without slashes at either end; empty for the bucket's root.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key of `relative` (a path such as `blobs/sha256/…`) under the prefix.
    pub fn key(&self, relative: &str) -> String {
        join_key(&self.prefix, relative)
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}", self.bucket)?;
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix)?;
        }
        Ok(())
    }
}

impl FromStr for S3Location {
    type Err = S3Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `<prefix>/<relative>`, or `relative` alone under an empty prefix: never a leading slash or a
/// double slash (`relative` has neither at its start).
pub(super) fn join_key(prefix: &str, relative: &str) -> String {
    let relative = relative.trim_start_matches('/');
    if prefix.is_empty() {
        relative.to_owned()
    } else {
        format!("{prefix}/{relative}")
    }
}

/// Checks a bucket name against the rules for S3 general purpose buckets. The name is quoted in
/// a message only once it is known to hold nothing but the allowed characters.
pub(super) fn check_bucket_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the bucket name is empty".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-')))
    {
        return Err(if c.is_ascii_uppercase() {
            "bucket names are lowercase".to_owned()
        } else {
            format!("bucket names hold only lowercase letters, digits, `.` and `-`, not {c:?}")
        });
    }
    if !(3..=63).contains(&name.len()) {
        return Err(format!(
            "the bucket name `{name}` has {} characters; S3 allows 3 to 63",
            name.len()
        ));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return Err(format!(
            "the bucket name `{name}` must begin and end with a letter or a digit"
        ));
    }
    if name.contains("..") {
        return Err(format!("the bucket name `{name}` has two adjacent periods"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() == 4 && labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!(
            "the bucket name `{name}` is formatted as an IP address"
        ));
    }
    for reserved in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(reserved) {
            return Err(format!(
                "the bucket name `{name}` begins with `{reserved}`, which S3 reserves"
            ));
        }
    }
    for reserved in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(reserved) {
            return Err(format!(
                "the bucket name `{name}` ends with `{reserved}`, which S3 reserves"
            ));
        }
    }
    Ok(())
}

/// A prefix without its one trailing slash, checked: no leading slash, no empty, `.` or `..`
/// segment, no control character, at most [`MAX_PREFIX`] bytes.
pub(super) fn normalize_prefix(prefix: &str) -> Result<&str, String> {
    if prefix.starts_with('/') {
        return Err("the prefix has an empty segment (`//`, or a leading `/`)".to_owned());
    }
    let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
    if prefix.is_empty() {
        return Ok(prefix);
    }
    if prefix.len() > MAX_PREFIX {
        return Err(format!(
            "the prefix has {} bytes; at most {MAX_PREFIX} are allowed",
            prefix.len()
        ));
    }
    if let Some(c) = prefix.chars().find(|&c| !is_safe_key_char(c)) {
        return Err(format!(
            "the prefix holds {c:?}; prefixes keep to S3's safe characters ({SAFE_CHARACTERS})"
        ));
    }
    for segment in prefix.split('/') {
        match segment {
            "" => return Err("the prefix has an empty segment (`//`, or a leading `/`)".to_owned()),
            "." | ".." => {
                return Err(format!(
                    "the prefix has a `{segment}` segment; keys are not paths to resolve"
                ));
            }
            _ => {}
        }
    }
    Ok(prefix)
}

/// S3's "safe characters" for keys, besides `/`: the only ones used, so that no key or prefix
/// needs an encoding that servers could read differently (a space in a query is sent as `+`).
const SAFE_CHARACTERS: &str = "letters, digits and !-_.*'()";

fn is_safe_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '!' | '-' | '_' | '.' | '*' | '\'' | '(' | ')')
}

/// Checks a key before it is put in a URL, where `.` and `..` segments or a leading slash would
/// address something else.
pub(super) fn check_key(key: &str) -> Result<(), S3Error> {
    let bad = |reason| {
        Err(S3Error::Key {
            key: key.to_owned(),
            reason,
        })
    };
    if key.is_empty() {
        return bad("it is empty");
    }
    if key.len() > MAX_KEY {
        return bad("it is longer than S3's 1,024 bytes");
    }
    if key.starts_with('/') {
        return bad("it begins with `/`");
    }
    if !key.chars().all(is_safe_key_char) {
        return bad(
            "it holds a character outside S3's safe characters (letters, digits, `/` and \
             `!-_.*'()`), which would need encoding",
        );
    }
    if key
        .split('/')
        .any(|s| matches!(s, "." | "..") || s.is_empty())
    {
        return bad("it has an empty, `.` or `..` segment");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn locations_parse() {
        let loc = S3Location::parse("s3://evidence-bucket").unwrap();
        assert_eq!((loc.bucket(), loc.prefix()), ("evidence-bucket", ""));
        let loc = S3Location::parse("s3://my.bucket-1/a/b/").unwrap();
        assert_eq!((loc.bucket(), loc.prefix()), ("my.bucket-1", "a/b"));
        assert_eq!(loc.to_string(), "s3://my.bucket-1/a/b");
        assert_eq!(
            "s3://abc/x".parse::<S3Location>().unwrap(),
            S3Location::new("abc", "x/").unwrap()
        );
        assert_eq!(S3Location::parse("s3://abc/").unwrap().prefix(), "");
        let cases = [
            ("https://bucket/x", "does not start with `s3://`"),
            ("S3://bucket", "does not start with `s3://`"),
            ("bucket/x", "does not start with `s3://`"),
            ("s3://", "bucket name is empty"),
            ("s3:///x", "bucket name is empty"),
            ("s3://Bucket", "lowercase"),
            ("s3://my_bucket", "not '_'"),
            ("s3://ab", "has 2 characters"),
            (&format!("s3://{}", "a".repeat(64)), "has 64 characters"),
            ("s3://-abc", "begin and end"),
            ("s3://abc.", "begin and end"),
            ("s3://a..b", "two adjacent periods"),
            ("s3://192.168.5.4", "IP address"),
            ("s3://xn--abc", "reserves"),
            ("s3://abc-s3alias", "reserves"),
            ("s3://abc/../x", "`..` segment"),
            ("s3://abc/x/./y", "`.` segment"),
            ("s3://abc/x//y", "empty segment"),
            ("s3://abc//", "empty segment"),
            ("s3://abc/x\ny", "safe characters"),
            ("s3://abc/x y", "holds ' '"),
            (&format!("s3://abc/{}", "p".repeat(600)), "600 bytes"),
        ];
        for (input, want) in cases {
            let err = S3Location::parse(input).unwrap_err().to_string();
            assert!(err.contains(want), "{input}: {err}");
            assert!(err.contains("expected s3://bucket"), "{input}: {err}");
        }
        // A bucket name with characters that do not belong is not repeated: it may be
        // credentials typed in the wrong place.
        let err = S3Location::parse("s3://AKID:hunter2@bucket/x")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    fn bucket_name() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9-]{1,20}[a-z0-9]".prop_filter("reserved", |s| check_bucket_name(s).is_ok())
    }

    fn prefix() -> impl Strategy<Value = String> {
        prop::collection::vec("[a-zA-Z0-9!_.*'()-]{1,8}", 0..4)
            .prop_map(|segments| segments.join("/"))
            .prop_filter("dot segments", |p| {
                p.split('/').all(|s| s != "." && s != "..")
            })
    }

    proptest! {
        #[test]
        fn parsing_never_panics(input in ".{0,80}") {
            let _ = S3Location::parse(&input);
            let _ = S3Location::parse(&format!("s3://{input}"));
        }

        #[test]
        fn parsed_locations_round_trip(input in "s3://[a-z0-9.-]{0,12}(/[a-z./-]{0,12})?") {
            if let Ok(loc) = S3Location::parse(&input) {
                let text = loc.to_string();
                prop_assert_eq!(S3Location::parse(&text).unwrap(), loc.clone());
                prop_assert!(!text.ends_with('/') && !text[5..].contains("//"), "{}", text);
                let key = loc.key("blobs/x");
                prop_assert!(!key.starts_with('/') && !key.contains("//"), "{}", key);
            }
        }

        #[test]
        fn built_locations_round_trip(bucket in bucket_name(), prefix in prefix()) {
            let loc = S3Location::new(&bucket, &prefix).unwrap();
            let text = loc.to_string();
            prop_assert_eq!(S3Location::parse(&text).unwrap(), loc.clone());
            prop_assert_eq!(loc.prefix(), prefix.as_str());
            let with_slash = format!("{text}/");
            prop_assert_eq!(S3Location::parse(&with_slash).unwrap(), loc);
        }
    }

    #[test]
    fn keys_are_joined_without_stray_slashes() {
        assert_eq!(join_key("", "blobs/x"), "blobs/x");
        assert_eq!(join_key("a/b", "blobs/x"), "a/b/blobs/x");
        assert_eq!(join_key("a", "/blobs/x"), "a/blobs/x");
        let loc = S3Location::parse("s3://bucket/team/evidence/").unwrap();
        assert_eq!(loc.key("tiles/0/000"), "team/evidence/tiles/0/000");
        for bad in [
            "", "/a", "a//b", "a/../b", "./a", "a/.", "a\u{0}b", "a b", "a+b", "é",
        ] {
            assert!(
                matches!(check_key(bad), Err(S3Error::Key { .. })),
                "{bad:?}"
            );
        }
        assert!(check_key(&"k".repeat(1025)).is_err());
        check_key("p/blobs/sha256/ab/cd/abcd").unwrap();
    }
}
