//! Repository settings: every accepted document (secure and weak variants) read and checked,
//! snapshots of (check, line, branch) per fixture, explicit asserts for the decisions, errors
//! that name the file and line, and a never-panics property.

use std::path::{Path, PathBuf};

use evident_pipeline::Options;
use evident_pipeline::settings::{
    self, BranchProtection, PROJECT, RepositorySettings, check_settings, read_settings,
};
use proptest::prelude::*;

const SCANS: [&str; 3] = ["secrets", "sast", "sca"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/settings")
        .join(name)
}

fn read(name: &str) -> RepositorySettings {
    read_settings(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn scans() -> Vec<String> {
    SCANS.iter().map(|s| (*s).to_owned()).collect()
}

/// `check line [branch] message`, one per finding, in the order found.
fn summary(name: &str) -> String {
    let s = read(name);
    check_settings(&s, name, &Options::default(), 1, &scans())
        .iter()
        .map(|f| {
            assert_eq!(f.location.path.as_deref(), Some(name));
            format!(
                "{} :{} [{}] {}",
                f.check,
                f.location.line.unwrap_or(0),
                f.location.resource.as_deref().unwrap_or(""),
                f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ids(name: &str) -> Vec<String> {
    let s = read(name);
    check_settings(&s, name, &Options::default(), 1, &scans())
        .into_iter()
        .map(|f| f.check)
        .collect()
}

#[test]
fn secure_variants_have_no_findings() {
    for name in [
        "github-protection/secure.json",
        "github-ruleset/secure.json",
        "settings-app/secure.yml",
        "gitlab/combined-secure.json",
    ] {
        assert_eq!(summary(name), "", "{name}");
    }
}

#[test]
fn weak_variants() {
    for name in [
        "github-protection/weak.json",
        "github-protection/no-reviews.json",
        "github-ruleset/weak.json",
        "settings-app/weak.yml",
        "settings-app/unprotected.yml",
        "gitlab/combined-weak.json",
        "gitlab/protected-branches.json",
        "gitlab/approvals.json",
        "gitlab/approval-rules.json",
    ] {
        let snapshot = name.replace(['/', '.'], "_");
        insta::assert_snapshot!(snapshot, summary(name));
    }
}

#[test]
fn github_protection_reads_every_field_and_the_branch_from_the_url() {
    let s = read("github-protection/secure.json");
    assert_eq!(s.platform, "github");
    let main = &s.branches["main"];
    assert_eq!(
        *main,
        BranchProtection {
            protected: true,
            required_approvals: Some(2),
            dismiss_stale_reviews: Some(true),
            code_owner_review: Some(true),
            last_push_approval: Some(true),
            enforce_admins: Some(true),
            required_status_checks: Some(
                ["secrets", "sast", "sca (ubuntu-latest)"]
                    .map(str::to_owned)
                    .into()
            ),
            strict_status_checks: Some(true),
            allow_force_pushes: Some(false),
            allow_deletions: Some(false),
            linear_history: Some(true),
            conversation_resolution: Some(true),
        }
    );
    assert_eq!(s.origins["main"].line, Some(1));
    assert!(s.origins["main"].file.ends_with("secure.json"));
    assert!(!s.lists_every_protected_branch);
}

#[test]
fn wrapper_list_and_percent_encoded_branch() {
    let s = read("github-protection/weak.json");
    assert_eq!(
        s.branches.keys().collect::<Vec<_>>(),
        ["main", "release/1.x"]
    );
    assert_eq!(s.origins["main"].line, Some(2));
    assert_eq!(s.origins["release/1.x"].line, Some(23));
    // A REST response without `required_pull_request_reviews` requires no reviews.
    assert_eq!(s.branches["release/1.x"].required_approvals, Some(0));
}

#[test]
fn no_reviews_reports_the_missing_review_once() {
    // Dismissal, code owners and last push are moot without any review.
    assert_eq!(
        ids("github-protection/no-reviews.json"),
        ["too-few-approvals", "scan-checks-not-required"]
    );
}

#[test]
fn rulesets_only_active_branch_rulesets_count() {
    let s = read("github-ruleset/weak.json");
    // The `evaluate` ruleset on ~ALL and the tag ruleset are ignored.
    assert_eq!(s.branches.keys().collect::<Vec<_>>(), ["main"]);
    let main = &s.branches["main"];
    assert_eq!(
        main.enforce_admins,
        Some(false),
        "repository admin role bypasses"
    );
    assert_eq!(
        main.allow_force_pushes,
        Some(true),
        "no non_fast_forward rule"
    );
    assert_eq!(main.allow_deletions, Some(false));
    let s = read("github-ruleset/secure.json");
    assert_eq!(s.branches.keys().collect::<Vec<_>>(), ["~DEFAULT_BRANCH"]);
    assert_eq!(s.branches["~DEFAULT_BRANCH"].enforce_admins, Some(true));
}

#[test]
fn ruleset_for_the_default_branch_applies_to_any_default_branch_name() {
    let s = read("github-ruleset/secure.json");
    let options = Options {
        default_branch: "trunk".to_owned(),
        ..Options::default()
    };
    assert!(check_settings(&s, "r.json", &options, 2, &scans()).is_empty());
    let findings = check_settings(&s, "r.json", &options, 3, &scans());
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].check, "too-few-approvals");
    assert_eq!(findings[0].location.resource.as_deref(), Some("trunk"));
    assert_eq!(findings[0].location.line, Some(1));
}

#[test]
fn settings_app_lines_point_at_the_branch_entry() {
    let s = read("settings-app/weak.yml");
    assert_eq!(s.origins["main"].line, Some(7));
    assert_eq!(s.origins["develop"].line, Some(5));
    assert!(!s.branches["develop"].protected);
    // Absent in settings.yml is unknown, not off.
    assert_eq!(s.branches["main"].allow_deletions, None);
    assert_eq!(s.branches["main"].code_owner_review, None);
}

#[test]
fn gitlab_rules_apply_to_the_branches_they_name() {
    let s = read("gitlab/combined-weak.json");
    assert_eq!(s.platform, "gitlab");
    assert!(s.lists_every_protected_branch);
    assert_eq!(s.branches["main"].required_approvals, Some(0));
    assert_eq!(s.branches["release/*"].required_approvals, Some(2));
    assert_eq!(s.branches["main"].enforce_admins, Some(false));
    assert_eq!(s.branches["release/*"].enforce_admins, Some(true));
}

#[test]
fn gitlab_approvals_alone_are_project_wide() {
    let s = read("gitlab/approvals.json");
    assert_eq!(s.branches.keys().collect::<Vec<_>>(), [PROJECT]);
    assert!(!s.lists_every_protected_branch);
    assert_eq!(
        ids("gitlab/approvals.json"),
        ["too-few-approvals"],
        "no branch-unprotected: the file says nothing about branches"
    );
}

#[test]
fn unknown_settings_produce_no_findings() {
    let mut s = RepositorySettings {
        platform: "github".to_owned(),
        ..RepositorySettings::default()
    };
    s.branches.insert(
        "main".to_owned(),
        BranchProtection {
            protected: true,
            ..BranchProtection::default()
        },
    );
    assert!(check_settings(&s, "x", &Options::default(), 5, &scans()).is_empty());
    // Nothing known about the default branch at all.
    let empty = RepositorySettings::default();
    assert!(check_settings(&empty, "x", &Options::default(), 1, &scans()).is_empty());
}

#[test]
fn empty_required_checks_skip_the_scan_check() {
    let s = read("github-protection/weak.json");
    let found: Vec<String> = check_settings(&s, "w", &Options::default(), 1, &[])
        .into_iter()
        .map(|f| f.check)
        .collect();
    assert!(!found.contains(&"scan-checks-not-required".to_owned()));
    assert!(found.contains(&"status-checks-not-strict".to_owned()));
}

#[test]
fn invalid_documents_are_errors_naming_file_and_line() {
    let root = fixture("");
    let rows: Vec<String> = [
        "invalid/not-settings.json",
        "invalid/broken.json",
        "invalid/empty-list.json",
        "invalid/no-branch.json",
        "invalid/no-name.yml",
        "invalid/mixed.json",
    ]
    .iter()
    .map(|name| {
        let e = read_settings(&fixture(name)).expect_err(name);
        let text = e
            .to_string()
            .replace(&root.display().to_string(), "<fixtures>/");
        format!("{name} line={:?}: {}", e.line(), text)
    })
    .collect();
    insta::assert_snapshot!(rows.join("\n"));
    let missing = read_settings(&fixture("invalid/missing.json")).unwrap_err();
    assert!(matches!(missing, settings::SettingsError::Read { .. }));
    assert!(missing.to_string().contains("missing.json: cannot read"));
}

#[test]
fn every_check_maps_to_existing_controls() {
    let checks = settings::checks();
    assert_eq!(checks.len(), 12);
    for c in checks {
        c.validate().unwrap();
        assert_eq!(c.scanner, evident_pipeline::SCANNER);
        for control in &c.controls {
            evident_controls::resolve(control).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn read_settings_never_panics(text in "\\PC{0,400}") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, &text).unwrap();
        if let Ok(s) = read_settings(&path) {
            let _ = check_settings(&s, "f", &Options::default(), 1, &scans());
        }
    }

    #[test]
    fn json_like_text_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("{".to_owned()), Just("}".to_owned()), Just("[".to_owned()),
                Just("]".to_owned()), Just(",".to_owned()), Just(":".to_owned()),
                Just("null".to_owned()), Just("true".to_owned()), Just("-1".to_owned()),
                Just("99999999999999999999999".to_owned()),
                Just("\"rules\"".to_owned()), Just("\"enforcement\"".to_owned()),
                Just("\"active\"".to_owned()), Just("\"branches\"".to_owned()),
                Just("\"protection\"".to_owned()), Just("\"branch\"".to_owned()),
                Just("\"protected_branches\"".to_owned()), Just("\"approvals\"".to_owned()),
                Just("\"name\"".to_owned()), Just("\"enforce_admins\"".to_owned()),
                Just("\"approvals_required\"".to_owned()), Just("\"push_access_levels\"".to_owned()),
                Just("\"required_pull_request_reviews\"".to_owned()), Just("\n  - ".to_owned()),
            ],
            0..40,
        )
    ) {
        let text = parts.concat();
        if let Ok(s) = settings::parse_settings(&text, "f.json") {
            let _ = check_settings(&s, "f", &Options::default(), 1, &scans());
        }
    }
}
