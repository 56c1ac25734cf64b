use std::collections::{BTreeMap, HashSet};

use evident_controls::{ControlError, Framework, framework, frameworks, label, resolve};

fn fw(id: &str) -> &'static Framework {
    framework(id).unwrap_or_else(|| panic!("framework {id} missing"))
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())
}

/// `CC<d>.<n>`
fn is_soc2_id(id: &str) -> bool {
    id.strip_prefix("CC")
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(a, b)| is_number(a) && is_number(b))
}

/// `A.<5..=8>.<n>`
fn is_iso_id(id: &str) -> bool {
    id.strip_prefix("A.")
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(a, b)| matches!(a, "5" | "6" | "7" | "8") && is_number(b))
}

/// `XX-<n>` or `XX-<n>(<m>)`
fn is_nist_id(id: &str) -> bool {
    let Some((family, rest)) = id.split_once('-') else {
        return false;
    };
    let family_ok = family.len() == 2 && family.bytes().all(|b| b.is_ascii_uppercase());
    let rest_ok = match rest.split_once('(') {
        None => is_number(rest),
        Some((base, enhancement)) => {
            is_number(base) && enhancement.strip_suffix(')').is_some_and(is_number)
        }
    };
    family_ok && rest_ok
}

#[test]
fn frameworks_in_order() {
    let ids: Vec<&str> = frameworks().iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["soc2", "iso27001", "nist-800-53"]);
    assert_eq!(
        fw("soc2").name,
        "SOC 2 Trust Services Criteria (2017, revised points of focus 2022)"
    );
    assert_eq!(fw("iso27001").name, "ISO/IEC 27001:2022 Annex A");
    assert_eq!(fw("nist-800-53").name, "NIST SP 800-53 Rev. 5 (subset)");
    // Parsed once: the same static slice every time.
    assert!(std::ptr::eq(frameworks(), frameworks()));
}

#[test]
fn aliases_are_case_insensitive() {
    for (alias, id) in [
        ("soc2", "soc2"),
        ("SOC-2", "soc2"),
        ("Soc2", "soc2"),
        ("iso27001", "iso27001"),
        ("ISO-27001", "iso27001"),
        ("iso", "iso27001"),
        ("nist-800-53", "nist-800-53"),
        ("NIST", "nist-800-53"),
        ("800-53", "nist-800-53"),
    ] {
        assert_eq!(
            framework(alias).map(|f| f.id.as_str()),
            Some(id),
            "alias {alias}"
        );
    }
    assert!(framework("pci").is_none());
    assert!(framework("").is_none());
}

#[test]
fn soc2_has_the_33_common_criteria() {
    let soc2 = fw("soc2");
    assert_eq!(soc2.controls.len(), 33);
    let expected: Vec<String> = [
        (1, 5),
        (2, 3),
        (3, 4),
        (4, 2),
        (5, 3),
        (6, 8),
        (7, 5),
        (8, 1),
        (9, 2),
    ]
    .into_iter()
    .flat_map(|(series, n)| (1..=n).map(move |i| format!("CC{series}.{i}")))
    .collect();
    let actual: Vec<&str> = soc2.controls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(actual, expected);
    for c in &soc2.controls {
        let series = &c.id[..3];
        assert!(
            c.family.starts_with(&format!("{series} ")),
            "{} family {}",
            c.id,
            c.family
        );
    }
    assert_eq!(
        soc2.control("CC6.1").unwrap().family,
        "CC6 Logical and physical access"
    );
}

#[test]
fn iso27001_has_93_controls_by_theme() {
    let iso = fw("iso27001");
    assert_eq!(iso.controls.len(), 93);
    let mut per_family: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &iso.controls {
        *per_family.entry(c.family.as_str()).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("Organizational controls", 37),
        ("People controls", 8),
        ("Physical controls", 14),
        ("Technological controls", 34),
    ]
    .into_iter()
    .collect();
    assert_eq!(per_family, expected);
    // Clause number and theme agree, and numbering is contiguous from 1.
    for (clause, family, count) in [
        (5, "Organizational controls", 37),
        (6, "People controls", 8),
        (7, "Physical controls", 14),
        (8, "Technological controls", 34),
    ] {
        for i in 1..=count {
            let id = format!("A.{clause}.{i}");
            let c = iso.control(&id).unwrap_or_else(|| panic!("{id} missing"));
            assert_eq!(c.family, family, "{id}");
        }
    }
}

#[test]
fn nist_subset_has_required_controls() {
    let nist = fw("nist-800-53");
    let required = [
        "AC-2", "AC-3", "AC-6", "AC-17", "AU-2", "AU-3", "AU-6", "AU-9", "AU-10", "AU-11", "AU-12",
        "CA-7", "CM-2", "CM-3", "CM-4", "CM-5", "CM-6", "CM-7", "CM-8", "CM-14", "CP-9", "CP-10",
        "IA-2", "IA-5", "IA-5(1)", "IA-5(7)", "RA-5", "SA-8", "SA-10", "SA-11", "SA-15", "SC-7",
        "SC-8", "SC-12", "SC-13", "SC-28", "SI-2", "SI-3", "SI-4", "SI-7", "SR-3", "SR-4", "SR-11",
    ];
    for id in required {
        assert!(nist.controls.iter().any(|c| c.id == id), "{id} missing");
    }
    let families: BTreeMap<&str, &str> = [
        ("AC", "Access Control"),
        ("AU", "Audit and Accountability"),
        ("CA", "Assessment, Authorization, and Monitoring"),
        ("CM", "Configuration Management"),
        ("CP", "Contingency Planning"),
        ("IA", "Identification and Authentication"),
        ("RA", "Risk Assessment"),
        ("SA", "System and Services Acquisition"),
        ("SC", "System and Communications Protection"),
        ("SI", "System and Information Integrity"),
        ("SR", "Supply Chain Risk Management"),
    ]
    .into_iter()
    .collect();
    for c in &nist.controls {
        assert_eq!(
            Some(&c.family.as_str()),
            families.get(&c.id[..2]),
            "{}",
            c.id
        );
    }
}

#[test]
fn ids_unique_and_well_formed_titles_short() {
    type IdPattern = fn(&str) -> bool;
    let patterns: [(&str, IdPattern); 3] = [
        ("soc2", is_soc2_id),
        ("iso27001", is_iso_id),
        ("nist-800-53", is_nist_id),
    ];
    for (id, pattern) in patterns {
        let f = fw(id);
        assert!(!f.version.is_empty() && !f.short_name.is_empty());
        let mut seen = HashSet::new();
        for c in &f.controls {
            assert!(seen.insert(c.id.as_str()), "{id}: duplicate id {}", c.id);
            assert!(pattern(&c.id), "{id}: malformed id {:?}", c.id);
            let title = c.title.trim();
            assert!(!title.is_empty(), "{id}:{} has an empty title", c.id);
            assert!(title.len() <= 100, "{id}:{} title too long", c.id);
            assert_eq!(title, c.title, "{id}:{} title has stray whitespace", c.id);
            let words = title.split_whitespace().count();
            assert!(
                (3..=12).contains(&words),
                "{id}:{} title should be a short paraphrase",
                c.id
            );
            assert!(!c.family.trim().is_empty(), "{id}:{} has no family", c.id);
        }
    }
}

#[test]
fn pattern_checks_reject_bad_ids() {
    assert!(
        is_soc2_id("CC6.1") && !is_soc2_id("CC6") && !is_soc2_id("C6.1") && !is_soc2_id("CC6.01")
    );
    assert!(is_iso_id("A.8.34") && !is_iso_id("A.9.1") && !is_iso_id("8.4") && !is_iso_id("A.8."));
    assert!(is_nist_id("IA-5(1)") && is_nist_id("AC-17"));
    assert!(
        !is_nist_id("IA-5(") && !is_nist_id("ia-5") && !is_nist_id("IA5") && !is_nist_id("IAX-5")
    );
}

#[test]
fn resolve_valid_references() {
    for (reference, framework_id, control_id) in [
        ("soc2:CC6.1", "soc2", "CC6.1"),
        ("iso27001:A.8.4", "iso27001", "A.8.4"),
        ("nist-800-53:IA-5(1)", "nist-800-53", "IA-5(1)"),
        ("nist-800-53:IA-5", "nist-800-53", "IA-5"),
        ("SOC-2:cc6.1", "soc2", "CC6.1"),
        ("iso:a.8.4", "iso27001", "A.8.4"),
        ("iso27001:8.4", "iso27001", "A.8.4"),
        (" nist : ia-5(7) ", "nist-800-53", "IA-5(7)"),
        ("800-53:SR-11", "nist-800-53", "SR-11"),
    ] {
        let (f, c) = resolve(reference).unwrap_or_else(|e| panic!("{reference}: {e}"));
        assert_eq!(
            (f.id.as_str(), c.id.as_str()),
            (framework_id, control_id),
            "{reference}"
        );
    }
}

#[test]
fn every_catalog_control_resolves_by_its_reference() {
    for f in frameworks() {
        for c in &f.controls {
            let (rf, rc) = resolve(&f.reference(c)).unwrap();
            assert!(std::ptr::eq(rf, f) && std::ptr::eq(rc, c));
        }
    }
}

#[test]
fn missing_prefix_suggests_framework() {
    let err = resolve("CC6.1").unwrap_err();
    assert!(
        matches!(&err, ControlError::MissingPrefix { candidates, .. } if candidates == &["soc2:CC6.1"])
    );
    let msg = err.to_string();
    assert!(msg.contains("no framework prefix"), "{msg}");
    assert!(msg.contains("write it as soc2:CC6.1"), "{msg}");

    let msg = resolve("A.8.4").unwrap_err().to_string();
    assert!(msg.contains("write it as iso27001:A.8.4"), "{msg}");

    // Unknown bare id: explain the syntax and list the frameworks.
    let msg = resolve("XYZ-1").unwrap_err().to_string();
    assert!(msg.contains("<framework>:<ID>"), "{msg}");
    for id in ["soc2", "iso27001", "nist-800-53"] {
        assert!(msg.contains(id), "{msg}");
    }
    assert!(matches!(
        resolve(":CC6.1"),
        Err(ControlError::MissingPrefix { .. })
    ));
}

#[test]
fn unknown_framework_lists_known_ones() {
    let err = resolve("pci:CC6.1").unwrap_err();
    assert!(matches!(&err, ControlError::UnknownFramework { framework, .. } if framework == "pci"));
    let msg = err.to_string();
    assert!(msg.contains("unknown framework `pci`"), "{msg}");
    for id in ["soc2", "iso27001", "nist-800-53"] {
        assert!(msg.contains(id), "{msg}");
    }
    assert!(msg.contains("did you mean soc2:CC6.1?"), "{msg}");
}

#[test]
fn unknown_control_suggests_closest_ids() {
    let err = resolve("soc2:CC6.9").unwrap_err();
    let ControlError::UnknownControl {
        framework,
        id,
        suggestions,
        ..
    } = &err
    else {
        panic!("unexpected {err:?}");
    };
    assert_eq!((framework.as_str(), id.as_str()), ("soc2", "CC6.9"));
    assert_eq!(suggestions.first().map(String::as_str), Some("soc2:CC6.8"));
    let msg = err.to_string();
    assert!(
        msg.contains("unknown control `CC6.9` in framework soc2"),
        "{msg}"
    );
    assert!(msg.contains("did you mean soc2:CC6.8"), "{msg}");

    let msg = resolve("nist-800-53:IA-5(9)").unwrap_err().to_string();
    assert!(msg.contains("nist-800-53:IA-5("), "{msg}");

    // An id from a different framework points at the right one.
    let msg = resolve("soc2:A.8.4").unwrap_err().to_string();
    assert!(msg.contains("did you mean iso27001:A.8.4"), "{msg}");

    // Nothing close: show what ids look like instead.
    let msg = resolve("iso27001:nonsense-control")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("valid ids run from A.5.1 to A.8.34"), "{msg}");
}

#[test]
fn labels() {
    assert_eq!(label("soc2:CC6.1"), "SOC 2 CC6.1");
    assert_eq!(label("iso27001:A.8.4"), "ISO 27001 A.8.4");
    assert_eq!(label("nist-800-53:IA-5"), "NIST 800-53 IA-5");
    assert_eq!(label("nist:ia-5(1)"), "NIST 800-53 IA-5(1)");
    assert_eq!(label("CC6.1"), "SOC 2 CC6.1");
    assert_eq!(label("soc2:CC99.1"), "SOC 2 CC99.1");
    assert_eq!(label("pci:1.1"), "pci:1.1");
}

#[test]
fn serializes_for_json_listing() {
    let value = serde_json::to_value(fw("soc2")).unwrap();
    assert_eq!(value["id"], "soc2");
    assert_eq!(value["short_name"], "SOC 2");
    let controls = value["controls"].as_array().unwrap();
    assert_eq!(controls.len(), 33);
    assert_eq!(controls[0]["id"], "CC1.1");
    assert!(controls[0]["title"].as_str().is_some_and(|t| !t.is_empty()));
}
