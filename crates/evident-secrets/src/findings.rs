//! Turns engine candidates into redacted findings with line numbers and suppressions.

use evident_core::{Finding, Location, Suppression, SuppressionKind, sha256_hex};

use crate::engine::{Candidate, Engine};
use crate::redact;

/// Where the scanned bytes came from, beyond the path.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    pub commit: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
}

/// Inline suppression markers. `gitleaks:allow` is honoured so teams keep their annotations.
const ALLOW_MARKERS: &[&str] = &["evident:allow", "gitleaks:allow"];

/// Builds findings for `candidates` found in `data` (the content of `path`).
pub fn build(
    engine: &Engine,
    path: &str,
    data: &[u8],
    candidates: &[Candidate],
    provenance: &Provenance,
) -> Vec<Finding> {
    let mut out = Vec::with_capacity(candidates.len());
    // Candidates are sorted by position: count lines incrementally.
    let mut line = 1u32;
    let mut counted_to = 0usize;
    let all_secrets: Vec<(usize, usize)> = candidates
        .iter()
        .map(|c| (c.secret_start, c.secret_end))
        .collect();
    for candidate in candidates {
        let start = candidate.secret_start;
        line += memchr::memchr_iter(b'\n', &data[counted_to..start]).count() as u32;
        counted_to = start;
        let line_start = memchr::memrchr(b'\n', &data[..start]).map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&data[line_start..start])
            .chars()
            .count() as u32
            + 1;
        let secret = &data[candidate.secret_start..candidate.secret_end];
        let end_line = line
            + memchr::memchr_iter(b'\n', &data[start..candidate.secret_end.max(start)]).count()
                as u32;
        let rule = &engine.rules()[candidate.rule];
        let mut location = Location::file(path).at(line, column).ending_at(end_line);
        location.commit.clone_from(&provenance.commit);
        location.author.clone_from(&provenance.author);
        location.date.clone_from(&provenance.date);
        let digest = sha256_hex(secret);
        let where_ = match &provenance.commit {
            Some(commit) => format!("{path}:{line} (commit {})", &commit[..commit.len().min(12)]),
            None => format!("{path}:{line}"),
        };
        let finding = Finding::builder(&rule.check, location)
            .message(format!("Possible {} at {where_}", rule.check.title))
            .snippet(redact::snippet(data, line_start, &all_secrets, 160))
            .identity(&[digest.as_bytes()])
            .secret_sha256(digest)
            .suppressed(inline_allow(data, line_start))
            .build();
        out.push(finding);
    }
    out
}

/// An `evident:allow <reason>` comment on the line that starts at `line_start`.
fn inline_allow(data: &[u8], line_start: usize) -> Option<Suppression> {
    let line_end =
        memchr::memchr(b'\n', &data[line_start..]).map_or(data.len(), |i| line_start + i);
    let line = String::from_utf8_lossy(&data[line_start..line_end]);
    ALLOW_MARKERS.iter().find_map(|marker| {
        let at = line.find(marker)?;
        let reason = line[at + marker.len()..]
            .trim()
            .trim_end_matches("-->")
            .trim_end_matches("*/")
            .trim()
            .trim_start_matches(':')
            .trim();
        Some(Suppression {
            kind: SuppressionKind::Inline,
            reason: if reason.is_empty() {
                format!("{marker} (no reason given)")
            } else {
                reason.to_owned()
            },
        })
    })
}
