//! Composer's versions: `VersionParser::normalize`, then the order PHP's `version_compare`
//! gives the normalised forms.
//!
//! `v1.2` = `1.2.0.0`; up to four numeric parts (`x`/`*` in a branch alias is 9999999); a
//! stability flag `alpha`/`a`, `beta`/`b`, `RC`, `patch`/`pl`/`p` with optional numbers; an
//! optional `-dev`. Order: dev < alpha < beta < RC < stable < patch, then the flag's numbers,
//! then `-dev` before the same version without it. Build metadata (`+…`) is dropped; branch
//! names (`dev-main`) have no order and are refused.

use super::Digits;

/// A normalised Composer version, ordered field by field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ComposerVersion {
    parts: [Digits; 4],
    /// 0 dev-only, 1 alpha, 2 beta, 3 RC, 4 stable, 5 patch.
    stability: u8,
    numbers: Vec<Digits>,
    /// `false` for a `-dev` build, which sorts before the release it leads to.
    not_dev: bool,
}

const STABILITIES: [(&str, u8); 9] = [
    ("stable", 4),
    ("beta", 2),
    ("b", 2),
    ("rc", 3),
    ("alpha", 1),
    ("a", 1),
    ("patch", 5),
    ("pl", 5),
    ("p", 5),
];

pub(super) fn parse(v: &str) -> Result<ComposerVersion, String> {
    let mut v = v.trim().to_ascii_lowercase();
    if v.starts_with("dev-") {
        return Err("a branch name has no version order".to_owned());
    }
    if let Some((head, meta)) = v.split_once('+') {
        if head.is_empty() || meta.is_empty() || meta.contains(char::is_whitespace) {
            return Err("invalid build metadata".to_owned());
        }
        v.truncate(head.len());
    }
    let v = v.strip_prefix('v').unwrap_or(&v);
    // The numeric parts: digits (or a branch-alias wildcard) separated by dots.
    let bytes = v.as_bytes();
    let mut parts: [Digits; 4] = std::array::from_fn(|_| Digits::new("0"));
    let mut i = 0;
    let mut n = 0;
    loop {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let part = if i > start {
            Digits::new(&v[start..i])
        } else if n > 0 && i < bytes.len() && matches!(bytes[i], b'x' | b'*') {
            i += 1;
            Digits::new("9999999")
        } else {
            return Err("expected a number".to_owned());
        };
        if n == 4 {
            return Err("more than four numeric parts".to_owned());
        }
        parts[n] = part;
        n += 1;
        if i + 1 < bytes.len()
            && bytes[i] == b'.'
            && (bytes[i + 1].is_ascii_digit() || matches!(bytes[i + 1], b'x' | b'*'))
        {
            i += 1;
        } else {
            break;
        }
    }
    let rest = &v[i..];
    if rest.is_empty() {
        return Ok(ComposerVersion {
            parts,
            stability: 4,
            numbers: Vec::new(),
            not_dev: true,
        });
    }
    let rest = rest.strip_prefix(['.', '_', '-']).unwrap_or(rest);
    for (word, stability) in STABILITIES {
        if let Some(after) = rest.strip_prefix(word)
            && let Some((numbers, dev)) = modifier_tail(after)
        {
            return Ok(if stability == 4 {
                ComposerVersion {
                    parts,
                    stability,
                    numbers: Vec::new(),
                    not_dev: true,
                }
            } else {
                ComposerVersion {
                    parts,
                    stability,
                    numbers,
                    not_dev: !dev,
                }
            });
        }
    }
    if rest == "dev" {
        return Ok(ComposerVersion {
            parts,
            stability: 0,
            numbers: Vec::new(),
            not_dev: false,
        });
    }
    Err(format!("unknown suffix `{rest}`"))
}

/// `((?:[.-]?\d+)*)([.-]?dev)?$` → the numbers and whether it ends in `dev`.
fn modifier_tail(s: &str) -> Option<(Vec<Digits>, bool)> {
    let bytes = s.as_bytes();
    let mut numbers = Vec::new();
    let mut i = 0;
    loop {
        let mut j = i;
        if j < bytes.len() && matches!(bytes[j], b'.' | b'-') {
            j += 1;
        }
        let start = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        if j == start {
            break;
        }
        numbers.push(Digits::new(&s[start..j]));
        i = j;
    }
    let tail = &s[i..];
    let tail = tail.strip_prefix(['.', '-']).unwrap_or(tail);
    match tail {
        "" if i == s.len() => Some((numbers, false)),
        "dev" => Some((numbers, true)),
        _ => None,
    }
}
