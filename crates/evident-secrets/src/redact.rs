//! Secrets never leave in clear: the redacted forms shown in output.

/// The redacted form of a secret: a short prefix when the secret is long enough that the prefix
/// gives away nothing useful (it names the token type), then a fixed mask that hides the length.
pub fn redact(secret: &[u8]) -> String {
    let text = String::from_utf8_lossy(secret);
    let chars: Vec<char> = text.chars().collect();
    let keep = if chars.len() >= 16 && !text.contains('\n') && !text.contains("\\n") {
        4
    } else {
        0
    };
    let prefix: String = chars.iter().take(keep).collect();
    format!("{prefix}********")
}

/// The line around a finding, with every secret range on it replaced by its redacted form and
/// clipped to about `width` characters around the first secret.
pub fn snippet(data: &[u8], line_start: usize, secrets: &[(usize, usize)], width: usize) -> String {
    let line_end =
        memchr::memchr(b'\n', &data[line_start..]).map_or(data.len(), |i| line_start + i);
    let mut out = String::new();
    let mut cursor = line_start;
    let mut ranges: Vec<(usize, usize)> = secrets
        .iter()
        .filter(|(s, _)| *s >= line_start && *s < line_end.max(line_start + 1))
        .copied()
        .collect();
    ranges.sort_unstable();
    // Several rules may report overlapping ranges (a token and the password field holding it):
    // redact their union, or the tail of the longer one would show.
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    let ranges = merged;
    let first = ranges.first().map_or(line_start, |r| r.0);
    // Clip the beginning so the secret is visible on long lines.
    let clip_start = first.saturating_sub(width / 2).max(line_start);
    if clip_start > line_start {
        out.push('…');
        cursor = clip_start;
    }
    for (s, e) in ranges {
        if s < cursor {
            continue;
        }
        out.push_str(&String::from_utf8_lossy(&data[cursor..s]));
        out.push_str(&redact(&data[s..e]));
        cursor = e.max(s);
        if cursor >= line_end {
            break;
        }
    }
    if cursor < line_end {
        out.push_str(&String::from_utf8_lossy(&data[cursor..line_end]));
    }
    let out = out.trim_end_matches('\r').trim().to_owned();
    if out.chars().count() > width {
        let mut clipped: String = out.chars().take(width).collect();
        clipped.push('…');
        clipped
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn redaction_keeps_type_prefix_only() {
        assert_eq!(
            redact(b"ghp_aaaaBBBBccccDDDDeeeeFFFFgggg1234"),
            "ghp_********"
        );
        assert_eq!(redact(b"hunter22"), "********");
        let data = b"key = AKIAZ3MSJV4WWNKWW5FG # prod"; // evident:allow redaction test vector
        let s = snippet(data, 0, &[(6, 26)], 120);
        assert_eq!(s, "key = AKIA******** # prod");
    }

    #[test]
    fn overlapping_secrets_are_redacted_as_one() {
        let line = b"password = pypi-AgEIcHlwaS5vcmcCJGQ3ZmE4ZDk2 # prod";
        // One rule reports the whole token, another only its tail.
        let s = snippet(line, 0, &[(16, 44), (11, 44)], 120);
        assert_eq!(s, "password = pypi******** # prod");
    }

    proptest! {
        #[test]
        fn snippet_never_contains_the_secret(prefix in "[a-z =:\"]{0,30}", secret in "[A-Za-z0-9]{20,60}", suffix in "[a-z ;\"]{0,30}") {
            let line = format!("{prefix}{secret}{suffix}");
            let start = prefix.len();
            let s = snippet(line.as_bytes(), 0, &[(start, start + secret.len())], 80);
            prop_assert!(!s.contains(&secret));
            prop_assert!(!s.contains(&secret[4..]));
        }
    }
}
