//! RubyGems' `Gem::Version`.
//!
//! A version is `\d+(\.[0-9A-Za-z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?` (surrounding spaces
//! allowed, empty = `0`); `-` reads as `.pre.`. Segments are runs of digits (numbers) or of
//! letters (strings); any letter makes a pre-release. Trailing zeros of the release part and of
//! the pre-release part are dropped, missing segments count as 0, and a string sorts before a
//! number at the same position, so `1.0.a` < `1.0` and `1.0.a10` > `1.0.a9`.

use std::cmp::Ordering;

use super::Digits;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Num(Digits),
    Str(String),
}

/// A parsed gem version (its canonical segments).
#[derive(Debug, Clone)]
pub(super) struct GemVersion(Vec<Segment>);

fn valid(v: &str) -> bool {
    let (release, pre) = match v.split_once('-') {
        Some((r, p)) => (r, Some(p)),
        None => (v, None),
    };
    let mut parts = release.split('.');
    let first_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let rest_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    let pre_ok = pre.is_none_or(|p| {
        p.split('.')
            .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    first_ok && rest_ok && pre_ok
}

pub(super) fn parse(v: &str) -> Result<GemVersion, String> {
    let v = v.trim_matches(|c: char| c.is_ascii_whitespace());
    let v = if v.is_empty() { "0" } else { v };
    if !valid(v) {
        return Err(
            "not a Gem::Version (digits, then `.`-separated letters and digits)".to_owned(),
        );
    }
    let v = v.replace('-', ".pre.");
    let mut segments = Vec::new();
    let bytes = v.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if bytes[i].is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            segments.push(Segment::Num(Digits::new(&v[start..i])));
        } else if bytes[i].is_ascii_alphabetic() {
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            segments.push(Segment::Str(v[start..i].to_owned()));
        } else {
            i += 1;
        }
    }
    // Canonical segments: trailing zeros dropped from the numeric part and from the part that
    // starts at the first string.
    let split = segments
        .iter()
        .position(|s| matches!(s, Segment::Str(_)))
        .unwrap_or(segments.len());
    let string_part = segments.split_off(split);
    let mut canonical = trim_zeros(segments);
    canonical.extend(trim_zeros(string_part));
    Ok(GemVersion(canonical))
}

fn trim_zeros(mut segments: Vec<Segment>) -> Vec<Segment> {
    while matches!(segments.last(), Some(Segment::Num(d)) if d.is_zero()) {
        segments.pop();
    }
    segments
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Num(Digits::new("0"));
        for i in 0..self.0.len().max(other.0.len()) {
            let left = self.0.get(i).unwrap_or(&zero);
            let right = other.0.get(i).unwrap_or(&zero);
            let ord = match (left, right) {
                (Segment::Num(x), Segment::Num(y)) => x.cmp(y),
                (Segment::Str(x), Segment::Str(y)) => x.cmp(y),
                (Segment::Str(_), Segment::Num(_)) => Ordering::Less,
                (Segment::Num(_), Segment::Str(_)) => Ordering::Greater,
            };
            if ord.is_ne() {
                return ord;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for GemVersion {}
