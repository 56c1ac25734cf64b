//! NuGet's `NuGetVersion`: SemVer 2 with one to four numeric parts (missing parts are 0),
//! pre-release labels compared per SemVer 2 but case-insensitively, build metadata ignored.

use std::cmp::Ordering;

use super::Digits;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Label {
    Num(Digits),
    /// Lower-cased: NuGet compares labels with `OrdinalIgnoreCase`.
    Text(String),
}

impl Ord for Label {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Label::Num(a), Label::Num(b)) => a.cmp(b),
            (Label::Num(_), Label::Text(_)) => Ordering::Less,
            (Label::Text(_), Label::Num(_)) => Ordering::Greater,
            (Label::Text(a), Label::Text(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Label {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed NuGet version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NuGetVersion {
    parts: [Digits; 4],
    pre: Vec<Label>,
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts).then_with(|| {
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

pub(super) fn parse(v: &str) -> Result<NuGetVersion, String> {
    let v = v.trim();
    let v = match v.split_once('+') {
        Some((v, meta)) => {
            if !meta
                .split('.')
                .all(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            {
                return Err("invalid build metadata".to_owned());
            }
            v
        }
        None => v,
    };
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    if numbers.len() > 4
        || numbers
            .iter()
            .any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("expected one to four numeric parts".to_owned());
    }
    let mut parts: [Digits; 4] = std::array::from_fn(|_| Digits::new("0"));
    for (slot, n) in parts.iter_mut().zip(&numbers) {
        *slot = Digits::new(n);
    }
    let mut labels = Vec::new();
    if let Some(pre) = pre {
        for label in pre.split('.') {
            if label.is_empty()
                || !label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err("invalid pre-release label".to_owned());
            }
            labels.push(if label.bytes().all(|b| b.is_ascii_digit()) {
                Label::Num(Digits::new(label))
            } else {
                Label::Text(label.to_ascii_lowercase())
            });
        }
    }
    Ok(NuGetVersion { parts, pre: labels })
}
