//! Ignore files: findings listed by fingerprint are reported as suppressed.
//!
//! `.evidentignore` lists evident fingerprints (32 hex characters), one per line, `#` comments.
//! `.gitleaksignore` entries (`path:rule:line` or `commit:path:rule:line`) are honoured too.

use std::path::Path;

use evident_core::{Finding, Suppression, SuppressionKind};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Fingerprint(String),
    Gitleaks {
        commit: Option<String>,
        path: String,
        rule: String,
        line: u32,
    },
}

/// The parsed entries of one or more ignore files.
#[derive(Debug, Default)]
pub struct IgnoreSet {
    entries: Vec<(Entry, String)>,
    /// Which entries matched a finding in this run (scans run in parallel).
    used: Vec<std::sync::atomic::AtomicBool>,
}

/// An ignore-file line that is neither form.
#[derive(Debug, thiserror::Error)]
#[error(
    "{file}:{line}: `{text}` is neither an evident fingerprint (32 hex characters) nor a gitleaks entry (path:rule:line); fix or remove the line"
)]
pub struct IgnoreError {
    pub file: String,
    pub line: usize,
    pub text: String,
}

impl IgnoreSet {
    /// Parses ignore-file text; `origin` names the file in suppression reasons and errors.
    pub fn parse(&mut self, origin: &str, text: &str) -> Result<(), IgnoreError> {
        for (index, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let entry = parse_line(line).ok_or_else(|| IgnoreError {
                file: origin.to_owned(),
                line: index + 1,
                text: line.to_owned(),
            })?;
            self.entries
                .push((entry, format!("listed in {origin}:{}", index + 1)));
            self.used.push(std::sync::atomic::AtomicBool::new(false));
        }
        Ok(())
    }

    /// Loads an ignore file if it exists.
    pub fn load_if_exists(&mut self, path: &Path) -> Result<(), IgnoreError> {
        if let Ok(text) = std::fs::read_to_string(path) {
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            self.parse(&name, &text)?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries that suppressed nothing so far, as `file:line` — stale entries to remove before
    /// they hide a future finding.
    pub fn unused(&self) -> Vec<String> {
        self.entries
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !used.load(std::sync::atomic::Ordering::Relaxed))
            .map(|((_, reason), _)| reason.trim_start_matches("listed in ").to_owned())
            .collect()
    }

    /// Marks `finding` suppressed if an entry lists it.
    pub fn apply(&self, finding: &mut Finding) {
        if finding.suppressed.is_some() {
            return;
        }
        for ((entry, reason), used) in self.entries.iter().zip(&self.used) {
            let hit = match entry {
                Entry::Fingerprint(fp) => *fp == finding.fingerprint,
                Entry::Gitleaks {
                    commit,
                    path,
                    rule,
                    line,
                } => {
                    finding.location.path.as_deref() == Some(path.as_str())
                        && finding.check == *rule
                        && finding.location.line == Some(*line)
                        && match (commit, &finding.location.commit) {
                            (Some(c), Some(fc)) => fc.starts_with(c.as_str()),
                            (None, _) => true,
                            (Some(_), None) => false,
                        }
                }
            };
            if hit {
                used.store(true, std::sync::atomic::Ordering::Relaxed);
                finding.suppressed = Some(Suppression {
                    kind: SuppressionKind::IgnoreFile,
                    reason: reason.clone(),
                });
                return;
            }
        }
    }
}

fn parse_line(line: &str) -> Option<Entry> {
    if line.len() == 32 && line.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(Entry::Fingerprint(line.to_ascii_lowercase()));
    }
    let (rest, line_no) = line.rsplit_once(':')?;
    let line_no: u32 = line_no.trim().parse().ok()?;
    let (rest, rule) = rest.rsplit_once(':')?;
    let (commit, path) = match rest.split_once(':') {
        Some((c, p)) if c.len() >= 7 && c.bytes().all(|b| b.is_ascii_hexdigit()) => {
            (Some(c.to_owned()), p)
        }
        _ => (None, rest),
    };
    if path.is_empty() || rule.is_empty() {
        return None;
    }
    Some(Entry::Gitleaks {
        commit,
        path: path.to_owned(),
        rule: rule.to_owned(),
        line: line_no,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_both_forms_and_rejects_garbage() {
        assert_eq!(
            parse_line("0123456789abcdef0123456789ABCDEF"),
            Some(Entry::Fingerprint(
                "0123456789abcdef0123456789abcdef".into()
            ))
        );
        assert_eq!(
            parse_line("a1b2c3d4e5f6:config/app.env:aws-access-key-id:12"),
            Some(Entry::Gitleaks {
                commit: Some("a1b2c3d4e5f6".into()),
                path: "config/app.env".into(),
                rule: "aws-access-key-id".into(),
                line: 12
            })
        );
        assert_eq!(
            parse_line("config/app.env:generic-api-key:3"),
            Some(Entry::Gitleaks {
                commit: None,
                path: "config/app.env".into(),
                rule: "generic-api-key".into(),
                line: 3
            })
        );
        let mut set = IgnoreSet::default();
        let err = set
            .parse(".evidentignore", "# ok\nnot an entry\n")
            .unwrap_err();
        assert_eq!(err.line, 2);
        let mut set = IgnoreSet::default();
        set.parse(
            ".evidentignore",
            "# accepted\n0123456789abcdef0123456789abcdef\napp.env:aws-access-key-id:3\n",
        )
        .unwrap();
        assert_eq!(
            set.unused(),
            vec![".evidentignore:2".to_owned(), ".evidentignore:3".to_owned()]
        );
    }

    proptest! {
        #[test]
        fn parser_never_panics(text in "\\PC{0,200}") {
            let mut set = IgnoreSet::default();
            let _ = set.parse("x", &text);
        }
    }
}
