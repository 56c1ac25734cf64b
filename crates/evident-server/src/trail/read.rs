//! Reading untrusted payloads: bounded strings, commit ids, numbers and the platforms' time
//! formats. Every helper answers `None` for anything unexpected; none of them panics.

use jiff::Timestamp;
use serde_json::Value;

/// Longest text kept from a payload (names, titles, refs, comments).
const MAX_TEXT: usize = 300;

/// A payload string, trimmed, without control characters and bounded in size.
pub(crate) fn clean(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let out: String = text[..end].chars().filter(|c| !c.is_control()).collect();
    (!out.is_empty()).then_some(out)
}

/// The string at a JSON pointer.
pub(crate) fn text(json: &Value, pointer: &str) -> Option<String> {
    json.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(clean)
}

/// The first string found at any of the pointers.
pub(crate) fn first_text(json: &Value, pointers: &[&str]) -> Option<String> {
    pointers.iter().find_map(|p| text(json, p))
}

/// An unsigned number at a pointer (also given as a decimal string).
pub(crate) fn number(json: &Value, pointer: &str) -> Option<u64> {
    match json.pointer(pointer)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean at a pointer (`true`, or the strings `"true"`).
pub(crate) fn flag(json: &Value, pointer: &str) -> bool {
    match json.pointer(pointer) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A full commit id (40 or 64 hex, lowercased), not all zeros (the platforms' "no commit").
pub(crate) fn commit_id(text: &str) -> Option<String> {
    let text = text.trim();
    let ok = matches!(text.len(), 40 | 64)
        && text.bytes().all(|b| b.is_ascii_hexdigit())
        && text.bytes().any(|b| b != b'0');
    ok.then(|| text.to_ascii_lowercase())
}

/// The commit id at a pointer.
pub(crate) fn commit_at(json: &Value, pointer: &str) -> Option<String> {
    json.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(commit_id)
}

/// A time at a pointer: RFC 3339, GitLab's `2021-04-28 21:50:00 +0200` and
/// `2016-08-12 15:23:28 UTC`, or Unix seconds (GitHub's `pushed_at`).
pub(crate) fn time(json: &Value, pointer: &str) -> Option<Timestamp> {
    match json.pointer(pointer)? {
        Value::String(s) => parse_time(s),
        Value::Number(n) => n.as_i64().and_then(|s| Timestamp::from_second(s).ok()),
        _ => None,
    }
}

/// Parses the time formats the platforms send.
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    if let Some(rest) = text.strip_suffix(" UTC") {
        return format!("{}Z", rest.trim().replacen(' ', "T", 1))
            .parse()
            .ok();
    }
    jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S %z", text)
        .ok()?
        .to_timestamp()
        .ok()
}

/// A branch name from a ref: `refs/heads/main` → `main`; other full refs are not branches;
/// a short name is returned as is.
pub(crate) fn branch_of(reference: &str) -> Option<&str> {
    if let Some(b) = reference.strip_prefix("refs/heads/") {
        return Some(b);
    }
    if reference.starts_with("refs/") {
        return None;
    }
    Some(reference)
}

/// A repository's `owner/name` from a clone URL (`https://host/owner/name.git`,
/// `git@host:owner/name.git`) or the name itself.
pub(crate) fn repository_name(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('/');
    let text = text.strip_suffix(".git").unwrap_or(text);
    let path = if let Some((_, rest)) = text.split_once("://") {
        rest.split_once('/').map_or("", |(_, p)| p)
    } else if let Some((host, rest)) = text.split_once(':') {
        // scp-like `git@host:owner/name`
        if host.contains('@') || host.contains('.') {
            rest
        } else {
            text
        }
    } else {
        text
    };
    clean(path.trim_matches('/'))
}

/// Equal names, ignoring ASCII case (logins, environments, branches on case-insensitive hosts).
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The first 12 characters of a commit id, for messages.
pub(crate) fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn times_in_every_platform_format() {
        let want: Timestamp = "2021-04-28T19:50:00Z".parse().unwrap();
        for t in [
            "2021-04-28T19:50:00Z",
            "2021-04-28T21:50:00+02:00",
            "2021-04-28 21:50:00 +0200",
            "2021-04-28 19:50:00 UTC",
        ] {
            assert_eq!(parse_time(t), Some(want), "{t}");
        }
        assert_eq!(
            time(&json!({"t": 1_619_639_400}), "/t"),
            Some(want),
            "unix seconds"
        );
        for bad in [
            "",
            "yesterday",
            "2021-13-40 99:99:99 +9999",
            &"9".repeat(100),
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn commit_ids_and_refs() {
        assert_eq!(commit_id(&"A".repeat(40)), Some("a".repeat(40)));
        assert_eq!(commit_id(&"0".repeat(40)), None);
        assert_eq!(commit_id("abc"), None);
        assert_eq!(branch_of("refs/heads/feature/x"), Some("feature/x"));
        assert_eq!(branch_of("refs/tags/v1"), None);
        assert_eq!(branch_of("main"), Some("main"));
    }

    #[test]
    fn repository_names_from_urls() {
        for (url, want) in [
            ("https://github.com/acme/api.git", "acme/api"),
            ("git@github.com:acme/api.git", "acme/api"),
            (
                "ssh://git@gitlab.example.com:2222/group/sub/api",
                "group/sub/api",
            ),
            ("acme/api", "acme/api"),
        ] {
            assert_eq!(repository_name(url).as_deref(), Some(want), "{url}");
        }
    }

    #[test]
    fn text_is_bounded_and_clean() {
        let v = json!({"a": format!("x\u{7}{}", "é".repeat(400)), "b": "  ", "n": "12"});
        let a = text(&v, "/a").unwrap();
        assert!(a.len() <= MAX_TEXT && !a.contains('\u{7}'));
        assert_eq!(text(&v, "/b"), None);
        assert_eq!(number(&v, "/n"), Some(12));
        assert_eq!(short("abc"), "abc");
    }
}
