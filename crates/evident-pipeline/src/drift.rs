//! Drift: the posture now against a recorded baseline. A weakening (fewer approvals, force
//! pushes allowed, a scan that can no longer fail, …) is a finding; a strengthening is recorded,
//! not alarmed.

use std::collections::{BTreeMap, BTreeSet};

use evident_core::{Check, Confidence, Finding, Location, ScanReport, Severity};
use serde::{Deserialize, Serialize};

use crate::settings::{BranchProtection, RepositorySettings};

/// The check every weakening is reported under.
pub const POSTURE_DRIFT: &str = "posture-drift";

/// The drift check.
pub fn check() -> Check {
    Check {
        id: POSTURE_DRIFT.to_owned(),
        scanner: crate::SCANNER.to_owned(),
        title: "Pipeline or repository protection weakened since the baseline".to_owned(),
        severity: Severity::High,
        confidence: Confidence::High,
        controls: vec![
            "soc2:CC8.1".to_owned(),
            "soc2:CC7.1".to_owned(),
            "iso27001:A.8.9".to_owned(),
            "iso27001:A.8.32".to_owned(),
        ],
        why: "A control that worked at the last baseline no longer does: protection settings and pipeline gates drift silently (an admin toggles a rule, a scan is made optional), and auditors test that controls operated for the whole period.".to_owned(),
        fix: "Restore the setting shown as `from` (or record a new baseline with `evident drift baseline` once the change is approved, so the approval is on record).".to_owned(),
    }
}

/// What is compared: repository protection, and the pipeline's own findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posture {
    /// Branch protection, when a settings export was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<RepositorySettings>,
    /// The pipeline findings (`check path resource`), i.e. the gaps that existed.
    #[serde(default)]
    pub pipeline: BTreeSet<String>,
}

impl Posture {
    /// The posture of a pipeline scan and, optionally, repository settings.
    pub fn new(report: &ScanReport, settings: Option<RepositorySettings>) -> Self {
        let pipeline = report
            .active()
            .map(|f| {
                format!(
                    "{} {} {}",
                    f.check,
                    f.location.path.as_deref().unwrap_or("-"),
                    f.location.resource.as_deref().unwrap_or("-")
                )
            })
            .collect();
        Posture { settings, pipeline }
    }
}

/// One difference between the baseline and now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// What changed, e.g. `main: required approvals`.
    pub what: String,
    pub from: String,
    pub to: String,
    /// A weakening (a finding) rather than a strengthening.
    pub weakening: bool,
}

fn show<T: std::fmt::Debug>(v: Option<&T>) -> String {
    v.map_or_else(|| "unknown".to_owned(), |v| format!("{v:?}"))
}

/// Compares one protective flag: true is the protected state unless `insecure_when_true`.
fn flag(
    out: &mut Vec<Change>,
    branch: &str,
    name: &str,
    from: Option<bool>,
    to: Option<bool>,
    insecure_when_true: bool,
) {
    let (Some(a), Some(b)) = (from, to) else {
        return;
    };
    if a == b {
        return;
    }
    let secure = |v: bool| v != insecure_when_true;
    out.push(Change {
        what: format!("{branch}: {name}"),
        from: a.to_string(),
        to: b.to_string(),
        weakening: secure(a) && !secure(b),
    });
}

fn branch_changes(out: &mut Vec<Change>, branch: &str, a: &BranchProtection, b: &BranchProtection) {
    if a.protected != b.protected {
        out.push(Change {
            what: format!("{branch}: protected"),
            from: a.protected.to_string(),
            to: b.protected.to_string(),
            weakening: a.protected,
        });
    }
    if let (Some(x), Some(y)) = (a.required_approvals, b.required_approvals)
        && x != y
    {
        out.push(Change {
            what: format!("{branch}: required approvals"),
            from: x.to_string(),
            to: y.to_string(),
            weakening: y < x,
        });
    }
    flag(
        out,
        branch,
        "dismiss stale reviews",
        a.dismiss_stale_reviews,
        b.dismiss_stale_reviews,
        false,
    );
    flag(
        out,
        branch,
        "code owner review",
        a.code_owner_review,
        b.code_owner_review,
        false,
    );
    flag(
        out,
        branch,
        "last push approval",
        a.last_push_approval,
        b.last_push_approval,
        false,
    );
    flag(
        out,
        branch,
        "enforce for admins",
        a.enforce_admins,
        b.enforce_admins,
        false,
    );
    flag(
        out,
        branch,
        "strict status checks",
        a.strict_status_checks,
        b.strict_status_checks,
        false,
    );
    flag(
        out,
        branch,
        "force pushes allowed",
        a.allow_force_pushes,
        b.allow_force_pushes,
        true,
    );
    flag(
        out,
        branch,
        "deletion allowed",
        a.allow_deletions,
        b.allow_deletions,
        true,
    );
    flag(
        out,
        branch,
        "linear history",
        a.linear_history,
        b.linear_history,
        false,
    );
    flag(
        out,
        branch,
        "conversation resolution",
        a.conversation_resolution,
        b.conversation_resolution,
        false,
    );
    if let (Some(x), Some(y)) = (&a.required_status_checks, &b.required_status_checks) {
        for gone in x.difference(y) {
            out.push(Change {
                what: format!("{branch}: required status check `{gone}`"),
                from: "required".into(),
                to: "not required".into(),
                weakening: true,
            });
        }
        for added in y.difference(x) {
            out.push(Change {
                what: format!("{branch}: required status check `{added}`"),
                from: "not required".into(),
                to: "required".into(),
                weakening: false,
            });
        }
    } else if a.required_status_checks.is_some() != b.required_status_checks.is_some() {
        out.push(Change {
            what: format!("{branch}: required status checks"),
            from: show(a.required_status_checks.as_ref()),
            to: show(b.required_status_checks.as_ref()),
            weakening: false,
        });
    }
}

/// Every difference between `baseline` and `now`, weakenings first.
pub fn compare(baseline: &Posture, now: &Posture) -> Vec<Change> {
    let mut out = Vec::new();
    if let (Some(a), Some(b)) = (&baseline.settings, &now.settings) {
        let empty = BranchProtection::default();
        let names: BTreeSet<&String> = a.branches.keys().chain(b.branches.keys()).collect();
        for name in names {
            let x = a.branches.get(name).unwrap_or(&empty);
            let y = b.branches.get(name).unwrap_or(&empty);
            branch_changes(&mut out, name, x, y);
        }
    }
    for added in now.pipeline.difference(&baseline.pipeline) {
        out.push(Change {
            what: format!("pipeline: {added}"),
            from: "absent".into(),
            to: "present".into(),
            weakening: true,
        });
    }
    for fixed in baseline.pipeline.difference(&now.pipeline) {
        out.push(Change {
            what: format!("pipeline: {fixed}"),
            from: "present".into(),
            to: "absent".into(),
            weakening: false,
        });
    }
    out.sort_by_key(|c| !c.weakening);
    out
}

/// The findings of the weakenings. `settings_file` is where branch settings were read from.
pub fn findings(changes: &[Change], now: &Posture, settings_file: Option<&str>) -> Vec<Finding> {
    let check = check();
    let lines: BTreeMap<&str, usize> = now
        .settings
        .as_ref()
        .map(|s| {
            s.origins
                .iter()
                .filter_map(|(b, o)| o.line.map(|l| (b.as_str(), l)))
                .collect()
        })
        .unwrap_or_default();
    changes
        .iter()
        .filter(|c| c.weakening)
        .map(|c| {
            let (path, resource, line) = match c.what.split_once(": ") {
                Some(("pipeline", rest)) => {
                    let mut parts = rest.split(' ');
                    let _check = parts.next();
                    let path = parts.next().unwrap_or("-").to_owned();
                    let job = parts.next().unwrap_or("workflow").to_owned();
                    (path, job, None)
                }
                Some((branch, _)) => (
                    settings_file.unwrap_or("-").to_owned(),
                    branch.to_owned(),
                    lines.get(branch).copied(),
                ),
                None => ("-".to_owned(), "workflow".to_owned(), None),
            };
            let mut location = Location::file(path);
            location.resource = Some(resource);
            if let Some(l) = line {
                location = location.at(l as u32, 1);
            }
            Finding::builder(&check, location)
                .message(format!("{}: {} → {}", c.what, c.from, c.to))
                .identity(&[c.what.as_bytes(), c.to.as_bytes()])
                .build()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posture(approvals: u32, force: bool, pipeline: &[&str]) -> Posture {
        let mut s = RepositorySettings {
            platform: "github".into(),
            ..RepositorySettings::default()
        };
        s.branches.insert(
            "main".into(),
            BranchProtection {
                protected: true,
                required_approvals: Some(approvals),
                allow_force_pushes: Some(force),
                required_status_checks: Some(["secrets".to_owned(), "sast".to_owned()].into()),
                ..BranchProtection::default()
            },
        );
        Posture {
            settings: Some(s),
            pipeline: pipeline.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    #[test]
    fn weakenings_are_findings_and_strengthenings_are_not() {
        let base = posture(
            2,
            false,
            &["unpinned-action .github/workflows/ci.yml build"],
        );
        let mut now = posture(
            1,
            true,
            &["scan-does-not-block .github/workflows/ci.yml secrets"],
        );
        if let Some(s) = &mut now.settings {
            s.branches.get_mut("main").unwrap().required_status_checks =
                Some(["secrets".to_owned()].into());
        }
        let changes = compare(&base, &now);
        let weak: Vec<String> = changes
            .iter()
            .filter(|c| c.weakening)
            .map(|c| format!("{}: {} → {}", c.what, c.from, c.to))
            .collect();
        assert_eq!(
            weak,
            [
                "main: required approvals: 2 → 1",
                "main: force pushes allowed: false → true",
                "main: required status check `sast`: required → not required",
                "pipeline: scan-does-not-block .github/workflows/ci.yml secrets: absent → present",
            ]
        );
        assert!(
            changes
                .iter()
                .any(|c| !c.weakening && c.what.contains("unpinned-action"))
        );
        let f = findings(&changes, &now, Some("protection.json"));
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].location.resource.as_deref(), Some("main"));
        assert_eq!(f[3].location.resource.as_deref(), Some("secrets"));
        assert_eq!(
            f[3].location.path.as_deref(),
            Some(".github/workflows/ci.yml")
        );
        // The reverse direction strengthens everything: no findings.
        assert!(compare(&now, &base).iter().filter(|c| c.weakening).count() == 1);
    }

    #[test]
    fn unknown_values_are_not_drift() {
        let base = posture(2, false, &[]);
        let mut now = base.clone();
        if let Some(s) = &mut now.settings {
            s.branches.get_mut("main").unwrap().required_approvals = None;
        }
        assert!(compare(&base, &now).is_empty());
    }

    #[test]
    fn the_check_maps_to_existing_controls() {
        let c = check();
        c.validate().unwrap();
        for control in &c.controls {
            evident_controls::resolve(control).unwrap();
        }
    }
}
