//! RPM's `[epoch:]version[-release]`, compared with `rpmvercmp`.
//!
//! The epoch (missing = 0) compares as a number, then the version, then the release (missing =
//! empty, which is older than any release), each with `rpmvercmp`: alternating runs of digits and
//! of letters, separators ignored, numbers newer than letters, a longer string newer when all
//! else is equal — except `~`, which sorts before everything (even the end), and `^`, which
//! sorts after the end but before anything else.

use std::cmp::Ordering;

use super::Digits;

/// A parsed RPM EVR.
#[derive(Debug, Clone)]
pub(super) struct Evr {
    epoch: Digits,
    version: String,
    release: String,
}

impl Ord for Evr {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| rpmvercmp(&self.release, &other.release))
    }
}

impl PartialOrd for Evr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Evr {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Evr {}

pub(super) fn parse(v: &str) -> Result<Evr, String> {
    let v = v.trim();
    if v.is_empty() {
        return Err("empty version".to_owned());
    }
    if !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("only printable ASCII without spaces".to_owned());
    }
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) => {
            if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                return Err("the epoch must be a number".to_owned());
            }
            (Digits::new(e), rest)
        }
        None => (Digits::new("0"), v),
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((version, release)) => (version, release),
        None => (rest, ""),
    };
    if version.is_empty() || version.contains(':') || release.contains(':') {
        return Err("expected [epoch:]version[-release]".to_owned());
    }
    Ok(Evr {
        epoch,
        version: version.to_owned(),
        release: release.to_owned(),
    })
}

/// `rpmvercmp` from rpm's `rpmio/rpmvercmp.c`.
pub(super) fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let separator = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    while i < a.len() || j < b.len() {
        while i < a.len() && separator(a[i]) {
            i += 1;
        }
        while j < b.len() && separator(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        // `~` sorts before everything, even the end of the string.
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        // `^` sorts after the end of the string but before anything else.
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else {
            break;
        };
        let numeric = ca.is_ascii_digit();
        let run = |s: &[u8], mut k: usize| {
            let start = k;
            while k < s.len()
                && if numeric {
                    s[k].is_ascii_digit()
                } else {
                    s[k].is_ascii_alphabetic()
                }
            {
                k += 1;
            }
            (start, k)
        };
        let (sa, ea) = run(a, i);
        let (sb, eb) = run(b, j);
        if sb == eb {
            // Different kinds of run: numbers are newer than letters.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (ra, rb) = (&a[sa..ea], &b[sb..eb]);
        let ord = if numeric {
            let text = |r: &[u8]| Digits::new(std::str::from_utf8(r).unwrap_or("0"));
            text(ra).cmp(&text(rb))
        } else {
            ra.cmp(rb)
        };
        if ord.is_ne() {
            return ord;
        }
        i = ea;
        j = eb;
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (false, _) => Ordering::Greater,
        (true, false) => Ordering::Less,
    }
}
