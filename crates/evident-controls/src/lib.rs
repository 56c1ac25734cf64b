//! Compliance framework control catalogs and reference lookup.
//!
//! The catalogs are small TOML data files embedded in the binary
//! (`catalogs/*.toml`). They carry only control identifiers plus a short
//! paraphrase of each control's topic written for this project; they are not
//! a copy of the AICPA, ISO or NIST text.
//!
//! A control is referred to as `framework:ID`, e.g. `soc2:CC6.1`,
//! `iso27001:A.8.4` or `nist-800-53:IA-5(1)`:
//!
//! ```
//! let (framework, control) = evident_controls::resolve("soc2:CC6.1").unwrap();
//! assert_eq!(framework.id, "soc2");
//! assert_eq!(control.id, "CC6.1");
//! assert_eq!(evident_controls::label("iso:a.8.4"), "ISO 27001 A.8.4");
//! ```

use std::fmt::Write as _;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// Embedded catalog sources, in the order [`frameworks`] returns them.
const CATALOGS: [(&str, &str); 3] = [
    ("soc2.toml", include_str!("../catalogs/soc2.toml")),
    ("iso27001.toml", include_str!("../catalogs/iso27001.toml")),
    (
        "nist-800-53.toml",
        include_str!("../catalogs/nist-800-53.toml"),
    ),
];

/// Maximum number of "did you mean" suggestions in an error.
const MAX_SUGGESTIONS: usize = 3;

/// One control (or criterion) of a framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Identifier as written by the framework, e.g. `CC6.1`, `A.8.4`, `IA-5(1)`.
    pub id: String,
    /// Grouping within the framework, e.g. `CC6 Logical and physical access`.
    pub family: String,
    /// Short paraphrase of the control's topic (our own words).
    pub title: String,
}

/// A framework catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// Canonical framework id used in references: `soc2`, `iso27001`, `nist-800-53`.
    pub id: String,
    /// Full display name.
    pub name: String,
    /// Short display name used by [`label`], e.g. `SOC 2`.
    pub short_name: String,
    /// Edition / revision of the framework the catalog follows.
    pub version: String,
    /// Controls in catalog order.
    #[serde(rename(deserialize = "control"))]
    pub controls: Vec<Control>,
}

impl Framework {
    /// Look up a control by id.
    ///
    /// Matching ignores ASCII case and whitespace; for ISO 27001 the `A.`
    /// prefix may be omitted (`8.4` finds `A.8.4`).
    pub fn control(&self, id: &str) -> Option<&Control> {
        let wanted = self.normalize_id(id);
        if wanted.is_empty() {
            return None;
        }
        self.controls.iter().find(|c| normalize(&c.id) == wanted)
    }

    /// The canonical `framework:ID` reference for one of this framework's controls.
    pub fn reference(&self, control: &Control) -> String {
        format!("{}:{}", self.id, control.id)
    }

    fn normalize_id(&self, id: &str) -> String {
        let id = normalize(id);
        if self.id == "iso27001" && id.starts_with(|c: char| c.is_ascii_digit()) {
            format!("A.{id}")
        } else if self.id == "iso27001" && id.starts_with('A') && !id.starts_with("A.") {
            format!("A.{}", &id[1..])
        } else {
            id
        }
    }

    /// Ids of this framework closest to `id`, best first, as `framework:ID`.
    fn closest(&self, id: &str) -> Vec<String> {
        let wanted = self.normalize_id(id);
        if wanted.is_empty() {
            return Vec::new();
        }
        let limit = 2.max(wanted.chars().count() / 3);
        let wanted_num = trailing_number(&wanted);
        let mut scored: Vec<(usize, usize, u64, usize)> = self
            .controls
            .iter()
            .enumerate()
            .filter_map(|(index, control)| {
                let candidate = normalize(&control.id);
                let distance = levenshtein(&wanted, &candidate);
                (distance <= limit).then(|| {
                    let prefix = common_prefix_len(&wanted, &candidate);
                    let number_gap = match (wanted_num, trailing_number(&candidate)) {
                        (Some(a), Some(b)) => a.abs_diff(b),
                        _ => u64::MAX,
                    };
                    (distance, usize::MAX - prefix, number_gap, index)
                })
            })
            .collect();
        scored.sort_unstable();
        scored
            .into_iter()
            .take(MAX_SUGGESTIONS)
            .map(|(.., index)| self.reference(&self.controls[index]))
            .collect()
    }
}

/// Why a control reference could not be resolved. Every message says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// The reference has no `framework:` prefix, e.g. `CC6.1`.
    #[error("control reference `{reference}` has no framework prefix; {}", prefix_hint(.candidates))]
    MissingPrefix {
        reference: String,
        /// Full references (`framework:ID`) of frameworks that contain this id.
        candidates: Vec<String>,
    },
    /// The prefix names no known framework, e.g. `pci:1.1`.
    #[error(
        "unknown framework `{framework}` in control reference `{reference}`; known frameworks: {}{}",
        known_frameworks(),
        did_you_mean(.candidates)
    )]
    UnknownFramework {
        reference: String,
        framework: String,
        /// Full references in known frameworks that contain the same id.
        candidates: Vec<String>,
    },
    /// The framework is known but has no control with that id.
    #[error(
        "unknown control `{id}` in framework {framework}{}",
        unknown_control_hint(.framework, .suggestions)
    )]
    UnknownControl {
        reference: String,
        /// Canonical id of the framework.
        framework: String,
        /// Display name of the framework.
        name: String,
        id: String,
        /// Closest valid references (`framework:ID`), best first.
        suggestions: Vec<String>,
    },
}

/// All catalogs, parsed once, in the order `soc2`, `iso27001`, `nist-800-53`.
pub fn frameworks() -> &'static [Framework] {
    static FRAMEWORKS: OnceLock<Vec<Framework>> = OnceLock::new();
    FRAMEWORKS.get_or_init(|| {
        CATALOGS
            .iter()
            .map(|(file, source)| {
                toml::from_str(source).unwrap_or_else(|err| {
                    panic!("embedded control catalog catalogs/{file} is invalid: {err}")
                })
            })
            .collect()
    })
}

/// Find a framework by id or alias, ignoring case.
///
/// Accepted: `soc2`/`soc-2`, `iso27001`/`iso-27001`/`iso`,
/// `nist-800-53`/`nist`/`800-53` (spaces, `-`, `_` and `/` are ignored).
pub fn framework(id: &str) -> Option<&'static Framework> {
    let key: String = id
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '/' | '.'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let canonical = match key.as_str() {
        "soc2" | "soc" => "soc2",
        "iso27001" | "iso" | "isoiec27001" | "27001" | "iso270012022" => "iso27001",
        "nist80053" | "nist" | "80053" | "nistsp80053" | "sp80053" => "nist-800-53",
        _ => return None,
    };
    frameworks().iter().find(|f| f.id == canonical)
}

/// Resolve a control reference written as "framework:ID" (e.g. "soc2:CC6.1",
/// "iso27001:A.8.4", "nist-800-53:IA-5(1)").
///
/// Framework aliases and id case are accepted (`iso:a.8.4`).
pub fn resolve(reference: &str) -> Result<(&'static Framework, &'static Control), ControlError> {
    let trimmed = reference.trim();
    let Some((prefix, id)) = trimmed
        .split_once(':')
        .filter(|(prefix, _)| !prefix.trim().is_empty())
    else {
        let bare = trimmed.strip_prefix(':').unwrap_or(trimmed);
        return Err(ControlError::MissingPrefix {
            reference: trimmed.to_owned(),
            candidates: containing(bare),
        });
    };
    let (prefix, id) = (prefix.trim(), id.trim());
    let Some(fw) = framework(prefix) else {
        return Err(ControlError::UnknownFramework {
            reference: trimmed.to_owned(),
            framework: prefix.to_owned(),
            candidates: containing(id),
        });
    };
    if let Some(control) = fw.control(id) {
        return Ok((fw, control));
    }
    // An id that lives in another framework is the most likely mix-up; then near misses.
    let mut suggestions: Vec<String> = containing(id);
    suggestions.extend(fw.closest(id));
    suggestions.truncate(MAX_SUGGESTIONS);
    Err(ControlError::UnknownControl {
        reference: trimmed.to_owned(),
        framework: fw.id.clone(),
        name: fw.name.clone(),
        id: id.to_owned(),
        suggestions,
    })
}

/// Short human label, e.g. "SOC 2 CC6.1", "ISO 27001 A.8.4", "NIST 800-53 IA-5".
///
/// Lenient: an unknown control in a known framework is labelled as written,
/// a bare id found in exactly one framework is labelled with that framework,
/// and anything else is returned trimmed but otherwise unchanged.
pub fn label(reference: &str) -> String {
    match resolve(reference) {
        Ok((fw, control)) => format!("{} {}", fw.short_name, control.id),
        Err(ControlError::UnknownControl {
            framework: id,
            id: control,
            ..
        }) => {
            let short = framework(&id).map_or(id.as_str(), |fw| fw.short_name.as_str());
            format!("{short} {control}")
        }
        Err(ControlError::MissingPrefix { candidates, .. }) if candidates.len() == 1 => {
            resolve(&candidates[0]).map_or_else(
                |_| reference.trim().to_owned(),
                |(fw, control)| format!("{} {}", fw.short_name, control.id),
            )
        }
        Err(_) => reference.trim().to_owned(),
    }
}

/// Full references of every framework that has a control with this id.
fn containing(id: &str) -> Vec<String> {
    frameworks()
        .iter()
        .filter_map(|fw| fw.control(id).map(|control| fw.reference(control)))
        .collect()
}

fn normalize(id: &str) -> String {
    id.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn known_frameworks() -> String {
    let mut out = String::new();
    for (i, fw) in frameworks().iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{} ({})", fw.id, fw.short_name);
    }
    out
}

fn example_reference() -> String {
    frameworks()
        .iter()
        .find(|fw| fw.id == "soc2")
        .and_then(|fw| fw.control("CC6.1").map(|c| fw.reference(c)))
        .unwrap_or_else(|| "soc2:CC6.1".to_owned())
}

fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn prefix_hint(candidates: &[String]) -> String {
    if candidates.is_empty() {
        format!(
            "write it as `<framework>:<ID>` (e.g. {}) where framework is one of: {}",
            example_reference(),
            known_frameworks()
        )
    } else {
        format!("write it as {}", one_of(candidates))
    }
}

fn did_you_mean(candidates: &[String]) -> String {
    if candidates.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", one_of(candidates))
    }
}

fn unknown_control_hint(framework_id: &str, suggestions: &[String]) -> String {
    if !suggestions.is_empty() {
        return did_you_mean(suggestions);
    }
    match framework(framework_id) {
        Some(fw) if !fw.controls.is_empty() => {
            let first = &fw.controls[0];
            let last = &fw.controls[fw.controls.len() - 1];
            format!(
                "; valid ids run from {} to {} (e.g. {})",
                first.id,
                last.id,
                fw.reference(first)
            )
        }
        _ => String::new(),
    }
}

/// Trailing run of ASCII digits parsed as a number (`CC6.12` -> 12).
fn trailing_number(id: &str) -> Option<u64> {
    let trimmed = id.trim_end_matches(')');
    let digits_start = trimmed
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    trimmed[digits_start..].parse().ok()
}

fn common_prefix_len(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_basics() {
        assert_eq!(levenshtein("", ""), 0);
        assert_eq!(levenshtein("CC6.1", "CC6.1"), 0);
        assert_eq!(levenshtein("CC6.9", "CC6.1"), 1);
        assert_eq!(levenshtein("CC61", "CC6.1"), 1);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }

    #[test]
    fn trailing_numbers() {
        assert_eq!(trailing_number("CC6.12"), Some(12));
        assert_eq!(trailing_number("IA-5(7)"), Some(7));
        assert_eq!(trailing_number("A.8."), None);
    }

    #[test]
    fn iso_id_normalization() {
        let iso = framework("iso").unwrap();
        assert_eq!(iso.control("8.4").unwrap().id, "A.8.4");
        assert_eq!(iso.control("a8.4").unwrap().id, "A.8.4");
        assert_eq!(iso.control(" a.8.4 ").unwrap().id, "A.8.4");
        assert!(iso.control("").is_none());
    }

    #[test]
    fn closest_prefers_near_numbers() {
        let soc2 = framework("soc2").unwrap();
        assert_eq!(
            soc2.closest("CC6.9"),
            ["soc2:CC6.8", "soc2:CC6.7", "soc2:CC6.6"]
        );
        assert!(soc2.closest("totally-unrelated-id").is_empty());
    }
}
