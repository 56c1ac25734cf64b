//! Inline suppressions: `# evident:ignore <check>[,<check>…] reason=<why>` (also after `//`).
//!
//! A directive applies to findings of the named checks on its own line and the line below it,
//! and, outside Dockerfiles, to the whole resource it sits in or directly above. A directive
//! without a reason is not honoured: it is reported, so a suppression always says why.

/// One `evident:ignore` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub line: u32,
    pub checks: Vec<String>,
    pub reason: String,
}

/// The directives of one file, and the malformed ones to report.
#[derive(Debug, Default, Clone)]
pub struct Directives {
    pub valid: Vec<Directive>,
    /// `(line, what is wrong)`.
    pub invalid: Vec<(u32, String)>,
}

const MARKER: &str = "evident:ignore";

/// Finds the directives in a file's text.
pub fn parse(text: &str) -> Directives {
    let mut out = Directives::default();
    if !text.contains(MARKER) {
        return out;
    }
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let before = line[..at].trim_end();
        if !(before.ends_with('#') || before.ends_with("//") || before.ends_with("/*")) {
            // Only comments count: `evident:ignore` inside a string is data.
            continue;
        }
        let rest = line[at + MARKER.len()..].trim();
        let rest = rest.trim_end_matches("*/").trim();
        let (checks_part, reason) = match rest.find("reason=") {
            Some(r) => (&rest[..r], rest[r + "reason=".len()..].trim()),
            None => (rest, ""),
        };
        let reason = reason.trim_matches('"').trim();
        let checks: Vec<String> = checks_part
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if checks.is_empty() {
            out.invalid.push((
                line_no,
                "`evident:ignore` names no check: write `evident:ignore <check-id> reason=<why>`"
                    .to_owned(),
            ));
        } else if reason.is_empty() {
            out.invalid.push((
                line_no,
                format!(
                    "`evident:ignore {}` has no reason and is not honoured: add `reason=<why>`",
                    checks.join(",")
                ),
            ));
        } else {
            out.valid.push(Directive {
                line: line_no,
                checks,
                reason: reason.to_owned(),
            });
        }
    }
    out
}

impl Directives {
    /// The directive suppressing `check` for a hit on `line` of a resource spanning
    /// `start..=end` (`resource_scope` false: the hit line only).
    pub fn find(
        &self,
        check: &str,
        line: u32,
        start: u32,
        end: u32,
        resource_scope: bool,
    ) -> Option<&Directive> {
        self.valid.iter().find(|d| {
            d.checks.iter().any(|c| c == check)
                && (d.line == line
                    || d.line + 1 == line
                    || (resource_scope && d.line + 1 >= start && d.line <= end))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_checks_and_reason() {
        let d = parse(
            "resource \"x\" \"y\" {\n  # evident:ignore aws-s3-versioning,aws-s3-logging reason=scratch bucket\n  acl = \"evident:ignore x\"\n}\n// evident:ignore foo\n",
        );
        assert_eq!(
            d.valid,
            vec![Directive {
                line: 2,
                checks: vec!["aws-s3-versioning".into(), "aws-s3-logging".into()],
                reason: "scratch bucket".into(),
            }]
        );
        assert_eq!(d.invalid.len(), 1);
        assert_eq!(d.invalid[0].0, 5);
        assert!(d.find("aws-s3-logging", 9, 8, 12, true).is_none());
        assert!(d.find("aws-s3-logging", 3, 1, 4, false).is_some());
        assert!(d.find("aws-s3-logging", 4, 1, 4, true).is_some());
        assert!(d.find("aws-s3-logging", 4, 1, 4, false).is_none());
    }

    proptest! {
        #[test]
        fn never_panics(text in "(#|//| |evident:ignore|reason=|[a-z,-]{0,8}|\n|\u{e9}){0,40}") {
            let d = parse(&text);
            for dir in &d.valid {
                prop_assert!(!dir.reason.is_empty());
                prop_assert!(!dir.checks.is_empty());
            }
        }
    }
}
