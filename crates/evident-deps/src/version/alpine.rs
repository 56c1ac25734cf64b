//! Alpine's apk versions: `\d+(\.\d+)*[a-z]?(_suffix\d*)*(-r\d+)?`.
//!
//! Order, as apk-tools walks the tokens: numeric components one by one (the first as an
//! integer; later ones as integers unless one starts with `0`, in which case they compare as
//! decimal fractions, as Gentoo's rules say), a version with more components being newer; then the
//! letter (none < `a` < `b` …); then suffixes pairwise, `_alpha` < `_beta` < `_pre` < `_rc` <
//! (release) < `_cvs` < `_svn` < `_git` < `_hg` < `_p`, each with its number (none < 0 < 1 …) — an
//! extra pre-release suffix makes a version older, an extra post-release one newer; then the
//! package revision `-rN` (none < `-r0` < `-r1` …).

use std::cmp::Ordering;

use super::Digits;

const SUFFIXES: [(&str, i8); 9] = [
    ("alpha", -4),
    ("beta", -3),
    ("pre", -2),
    ("rc", -1),
    ("cvs", 1),
    ("svn", 2),
    ("git", 3),
    ("hg", 4),
    ("p", 5),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Component {
    Int(Digits),
    /// A later component with a leading zero: its digits with trailing zeros removed.
    Fraction(String),
}

impl Ord for Component {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Component::Int(a), Component::Int(b)) => a.cmp(b),
            // A fraction starts with `0`; an integer component here never does.
            (Component::Fraction(_), Component::Int(_)) => Ordering::Less,
            (Component::Int(_), Component::Fraction(_)) => Ordering::Greater,
            (Component::Fraction(a), Component::Fraction(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Component {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed apk version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ApkVersion {
    components: Vec<Component>,
    letter: Option<u8>,
    suffixes: Vec<(i8, Option<Digits>)>,
    revision: Option<Digits>,
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        // Components pairwise; more components is newer.
        for (a, b) in self.components.iter().zip(&other.components) {
            let o = a.cmp(b);
            if o.is_ne() {
                return o;
            }
        }
        let o = self.components.len().cmp(&other.components.len());
        if o.is_ne() {
            return o;
        }
        let o = self.letter.cmp(&other.letter);
        if o.is_ne() {
            return o;
        }
        for (a, b) in self.suffixes.iter().zip(&other.suffixes) {
            let o = a.cmp(b);
            if o.is_ne() {
                return o;
            }
        }
        let n = self.suffixes.len().min(other.suffixes.len());
        match (self.suffixes.get(n), other.suffixes.get(n)) {
            (Some((kind, _)), None) => {
                return if *kind < 0 {
                    Ordering::Less
                } else {
                    Ordering::Greater
                };
            }
            (None, Some((kind, _))) => {
                return if *kind < 0 {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
            }
            _ => {}
        }
        self.revision.cmp(&other.revision)
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn digits(s: &str, i: &mut usize) -> Option<String> {
    let start = *i;
    let bytes = s.as_bytes();
    while *i < bytes.len() && bytes[*i].is_ascii_digit() {
        *i += 1;
    }
    (*i > start).then(|| s[start..*i].to_owned())
}

pub(super) fn parse(v: &str) -> Result<ApkVersion, String> {
    let s = v.trim();
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut components = Vec::new();
    let first = digits(s, &mut i).ok_or("an apk version starts with a number")?;
    components.push(Component::Int(Digits::new(&first)));
    while i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
        i += 1;
        let d = digits(s, &mut i).unwrap_or_default();
        components.push(if d.starts_with('0') {
            Component::Fraction(d.trim_end_matches('0').to_owned())
        } else {
            Component::Int(Digits::new(&d))
        });
    }
    let mut letter = None;
    if i < bytes.len() && bytes[i].is_ascii_lowercase() {
        letter = Some(bytes[i]);
        i += 1;
    }
    let mut suffixes = Vec::new();
    while i < bytes.len() && bytes[i] == b'_' {
        i += 1;
        let rest = &s[i..];
        let (name, kind) = SUFFIXES
            .iter()
            .find(|(name, _)| {
                rest.strip_prefix(name)
                    .is_some_and(|after| !after.starts_with(|c: char| c.is_ascii_alphabetic()))
            })
            .ok_or_else(|| format!("unknown suffix `_{rest}`"))?;
        i += name.len();
        let number = digits(s, &mut i).map(|d| Digits::new(&d));
        suffixes.push((*kind, number));
    }
    let mut revision = None;
    if i < bytes.len() {
        let rest = &s[i..];
        let r = rest
            .strip_prefix("-r")
            .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("unexpected `{rest}`"))?;
        revision = Some(Digits::new(r));
        i = s.len();
    }
    debug_assert_eq!(i, s.len());
    Ok(ApkVersion {
        components,
        letter,
        suffixes,
        revision,
    })
}
