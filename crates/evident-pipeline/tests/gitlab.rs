//! GitLab CI checks on fixtures: snapshots of (check, path, line, resource) per fixture dir,
//! explicit asserts for the tricky cases, and a never-panics property.

use std::path::{Path, PathBuf};

use evident_pipeline::{Options, gitlab};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gitlab")
        .join(name)
}

fn summary(name: &str) -> String {
    let result = gitlab::scan(&fixture(name), &Options::default());
    let mut rows: Vec<String> = result
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {}:{} [{}] {}",
                f.check,
                f.location.path.as_deref().unwrap_or(""),
                f.location.line.unwrap_or(0),
                f.location.resource.as_deref().unwrap_or(""),
                f.message
            )
        })
        .collect();
    rows.sort();
    for e in &result.errors {
        rows.push(format!("error {}: {}", e.path, e.message));
    }
    rows.join("\n")
}

#[test]
fn failing_fixture() {
    insta::assert_snapshot!(summary("failing"));
}

#[test]
fn passing_fixture() {
    insta::assert_snapshot!(summary("passing"));
}

#[test]
fn errors_are_reported_not_panicked() {
    insta::assert_snapshot!(summary("cycle"));
    insta::assert_snapshot!(summary("invalid"));
}

#[test]
fn missing_stages_and_script_only_production_deploy() {
    insta::assert_snapshot!(summary("missing"));
}

#[test]
fn template_default_allow_failure_is_explained() {
    let result = gitlab::scan(&fixture("failing"), &Options::default());
    let sast = result
        .findings
        .iter()
        .find(|f| f.location.resource.as_deref() == Some("sast"))
        .expect("sast finding");
    assert_eq!(sast.check, "scan-does-not-block");
    assert_eq!(sast.location.line, Some(3), "points at the include entry");
    assert!(sast.message.contains("template"), "{}", sast.message);
}

#[test]
fn merge_key_and_include_lines_point_where_written() {
    let result = gitlab::scan(&fixture("failing"), &Options::default());
    let by = |resource: &str, check: &str| {
        result
            .findings
            .iter()
            .find(|f| f.location.resource.as_deref() == Some(resource) && f.check == check)
            .map(|f| (f.location.path.clone().unwrap(), f.location.line.unwrap()))
    };
    // `allow_failure: true` comes from the `&scan-defaults` anchor via `<<:`.
    assert_eq!(
        by("gitleaks", "scan-does-not-block"),
        Some((".gitlab-ci.yml".into(), 15))
    );
    // `|| true` is written in the included file.
    assert_eq!(
        by("npm-audit", "scan-does-not-block"),
        Some(("ci/scans.yml".into(), 4))
    );
    // The image comes from the hidden `.deploy-base` job via `extends:`.
    assert_eq!(
        by("deploy-production", "gitlab-unpinned-image"),
        Some((".gitlab-ci.yml".into(), 18))
    );
    // The included file is part of the root pipeline, never a pipeline of its own.
    assert!(result.errors.is_empty(), "{:?}", result.errors);
}

#[test]
fn durations() {
    let day = 86_400;
    assert_eq!(gitlab::parse_duration("1 week"), Some(Some(7 * day)));
    assert_eq!(gitlab::parse_duration("30 days"), Some(Some(30 * day)));
    assert_eq!(gitlab::parse_duration("3 mins 4 sec"), Some(Some(184)));
    assert_eq!(gitlab::parse_duration("2h20min"), Some(Some(8400)));
    assert_eq!(
        gitlab::parse_duration("1 year and 2 days"),
        Some(Some(367 * day))
    );
    assert_eq!(gitlab::parse_duration("42"), Some(Some(42)));
    assert_eq!(gitlab::parse_duration("never"), Some(None));
    assert_eq!(gitlab::parse_duration("soon"), None);
}

#[test]
fn checks_are_complete_and_mapped() {
    let checks = gitlab::checks();
    let mut ids: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), checks.len(), "unique ids");
    for c in &checks {
        c.validate().unwrap();
        for control in &c.controls {
            evident_controls::resolve(control).unwrap_or_else(|e| panic!("{}: {e}", c.id));
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn arbitrary_text_never_panics(text in "(?s).{0,400}", yamlish in "([a-z.<*&:\\[\\]{}\\- \n'\"$|]{0,40}\n){0,12}") {
        for body in [text, yamlish] {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(".gitlab-ci.yml"), body).unwrap();
            let _ = gitlab::scan(dir.path(), &Options::default());
        }
    }
}
