//! Every check: valid metadata, controls that exist in the catalogs, and a fixture folder whose
//! failing inputs trigger it and whose passing inputs stay silent.

use std::path::{Path, PathBuf};

use evident_iac::{Options, checks};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/checks")
}

#[test]
fn metadata_is_complete_and_controls_resolve() {
    let mut ids = std::collections::BTreeSet::new();
    for c in checks::all() {
        c.meta.validate().unwrap();
        assert!(ids.insert(c.meta.id.clone()), "duplicate id {}", c.meta.id);
        assert!(
            !c.kinds.is_empty(),
            "{} applies to no resource kind",
            c.meta.id
        );
        for control in &c.meta.controls {
            evident_controls::resolve(control)
                .unwrap_or_else(|e| panic!("{}: control {control}: {e}", c.meta.id));
        }
    }
}

/// The options fixtures run with: an approved registry list so the registry check has
/// something to enforce.
fn options() -> Options {
    Options {
        approved_registries: vec![
            "registry.example.com".to_owned(),
            "docker.io/library".to_owned(),
        ],
        ..Options::default()
    }
}

#[test]
fn every_check_has_failing_and_passing_fixtures() {
    let mut problems = Vec::new();
    let ids: std::collections::BTreeSet<String> =
        checks::all().iter().map(|c| c.meta.id.clone()).collect();
    for dir in std::fs::read_dir(fixtures()).unwrap() {
        let dir = dir.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !ids.contains(&name) {
            problems.push(format!("fixture folder {name} belongs to no check"));
        }
    }
    for id in &ids {
        let dir = fixtures().join(id);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            problems.push(format!(
                "{id}: no fixture folder tests/fixtures/checks/{id}/"
            ));
            continue;
        };
        let mut files: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
        files.sort();
        let (mut fails, mut passes) = (0, 0);
        for file in &files {
            let fname = file.file_name().unwrap().to_string_lossy().into_owned();
            let failing = fname.starts_with("fail");
            if !failing && !fname.starts_with("pass") {
                continue;
            }
            let report = evident_iac::scan_files(&dir, std::slice::from_ref(file), &options());
            if !report.errors.is_empty() {
                problems.push(format!("{id}/{fname}: load errors {:?}", report.errors));
                continue;
            }
            let hits = report.active().filter(|f| &f.check == id).count();
            if failing {
                fails += 1;
                if hits == 0 {
                    problems.push(format!("{id}/{fname}: expected a finding, got none"));
                }
            } else {
                passes += 1;
                if hits > 0 {
                    let lines: Vec<String> = report
                        .active()
                        .filter(|f| &f.check == id)
                        .map(|f| format!("{:?}: {}", f.location.line, f.message))
                        .collect();
                    problems.push(format!("{id}/{fname}: expected silence, got {lines:?}"));
                }
            }
        }
        if fails == 0 || passes == 0 {
            problems.push(format!(
                "{id}: needs at least one fail* and one pass* fixture (has {fails} and {passes})"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
