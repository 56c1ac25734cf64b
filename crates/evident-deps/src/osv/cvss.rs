//! CVSS base scores from vectors (v2 and v3.x), and the severity they map to.
//!
//! Only base metrics count; temporal and environmental ones in a vector are ignored. CVSS v4
//! scores need the specification's macro-vector tables and are not computed here.

use evident_core::Severity;

/// The base score of a CVSS v3.0 or v3.1 vector (`CVSS:3.1/AV:N/AC:L/…`), per the
/// specification's formula and rounding. `None` if the vector is not a complete v3 vector.
pub fn v3_base_score(vector: &str) -> Option<f64> {
    const KEYS: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];
    let mut parts = vector.trim().split('/');
    let version = parts.next()?;
    let round_up: fn(f64) -> f64 = match version {
        "CVSS:3.1" => round_up_31,
        "CVSS:3.0" => round_up_30,
        _ => return None,
    };
    let mut metrics: [Option<&str>; 8] = [None; 8];
    for part in parts {
        let (key, value) = part.split_once(':')?;
        if let Some(slot) = KEYS.iter().position(|k| *k == key) {
            if metrics[slot].is_some() {
                return None;
            }
            metrics[slot] = Some(value);
        }
    }
    let [av, ac, pr, ui, scope, conf, integ, avail] = metrics;
    let changed = match scope? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av: f64 = match av? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match ac? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (pr?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match ui? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |x: Option<&str>| -> Option<f64> {
        match x? {
            "H" => Some(0.56),
            "L" => Some(0.22),
            "N" => Some(0.0),
            _ => None,
        }
    };
    let (conf, integ, avail) = (cia(conf)?, cia(integ)?, cia(avail)?);
    let iss = 1.0 - (1.0 - conf) * (1.0 - integ) * (1.0 - avail);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let raw = if changed {
        (1.08 * (impact + exploitability)).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    Some(round_up(raw))
}

/// CVSS 3.1 Appendix A `Roundup`: the smallest one-decimal number ≥ the input, computed on
/// integers to avoid floating-point surprises.
fn round_up_31(x: f64) -> f64 {
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

/// CVSS 3.0 `Roundup`: the smallest one-decimal number ≥ the input.
fn round_up_30(x: f64) -> f64 {
    (x * 10.0).ceil() / 10.0
}

/// The base score of a CVSS v2 vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`, optionally in
/// parentheses or after `CVSS:2.0/`).
pub fn v2_base_score(vector: &str) -> Option<f64> {
    const KEYS: [&str; 6] = ["AV", "AC", "Au", "C", "I", "A"];
    let text = vector.trim().trim_start_matches('(').trim_end_matches(')');
    let text = text.strip_prefix("CVSS:2.0/").unwrap_or(text);
    let mut metrics: [Option<&str>; 6] = [None; 6];
    for part in text.split('/') {
        let (key, value) = part.split_once(':')?;
        if let Some(slot) = KEYS.iter().position(|k| *k == key) {
            if metrics[slot].is_some() {
                return None;
            }
            metrics[slot] = Some(value);
        }
    }
    let [av, ac, au, conf, integ, avail] = metrics;
    let av: f64 = match av? {
        "L" => 0.395,
        "A" => 0.646,
        "N" => 1.0,
        _ => return None,
    };
    let ac = match ac? {
        "H" => 0.35,
        "M" => 0.61,
        "L" => 0.71,
        _ => return None,
    };
    let au = match au? {
        "M" => 0.45,
        "S" => 0.56,
        "N" => 0.704,
        _ => return None,
    };
    let cia = |x: Option<&str>| -> Option<f64> {
        match x? {
            "N" => Some(0.0),
            "P" => Some(0.275),
            "C" => Some(0.660),
            _ => None,
        }
    };
    let (conf, integ, avail) = (cia(conf)?, cia(integ)?, cia(avail)?);
    let impact = 10.41 * (1.0 - (1.0 - conf) * (1.0 - integ) * (1.0 - avail));
    let exploitability = 20.0 * av * ac * au;
    let factor = if impact == 0.0 { 0.0 } else { 1.176 };
    let score = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * factor;
    Some(((score * 10.0).round() / 10.0).max(0.0))
}

/// The severity of a base score: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, > 0 low, 0 info.
pub fn severity_of_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

/// A database's own severity word (GitHub's `database_specific.severity`: `CRITICAL`, `HIGH`,
/// `MODERATE`, `LOW`).
pub fn severity_of_word(word: &str) -> Option<Severity> {
    match word.trim().to_ascii_uppercase().as_str() {
        "CRITICAL" => Some(Severity::Critical),
        "HIGH" | "IMPORTANT" => Some(Severity::High),
        "MODERATE" | "MEDIUM" => Some(Severity::Medium),
        "LOW" => Some(Severity::Low),
        "NONE" | "NEGLIGIBLE" => Some(Severity::Info),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_scores_match_the_specification_calculator() {
        let cases = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:N/A:N", 5.0),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H/E:P/RL:O", 7.5),
        ];
        for (v, want) in cases {
            assert_eq!(v3_base_score(v), Some(want), "{v}");
        }
        assert_eq!(v3_base_score("CVSS:3.1/AV:N/AC:L"), None);
        assert_eq!(v3_base_score("CVSS:4.0/AV:N/AC:L/AT:N"), None);
    }

    #[test]
    fn v2_scores() {
        assert_eq!(v2_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), Some(7.5));
        assert_eq!(v2_base_score("AV:N/AC:L/Au:N/C:C/I:C/A:C"), Some(10.0));
        assert_eq!(v2_base_score("(AV:N/AC:M/Au:N/C:N/I:P/A:N)"), Some(4.3));
        assert_eq!(v2_base_score("AV:N/AC:L/Au:N/C:N/I:N/A:N"), Some(0.0));
    }

    #[test]
    fn severities() {
        assert_eq!(severity_of_score(9.8), Severity::Critical);
        assert_eq!(severity_of_score(7.0), Severity::High);
        assert_eq!(severity_of_score(6.9), Severity::Medium);
        assert_eq!(severity_of_score(0.1), Severity::Low);
        assert_eq!(severity_of_score(0.0), Severity::Info);
        assert_eq!(severity_of_word("MODERATE"), Some(Severity::Medium));
    }
}
