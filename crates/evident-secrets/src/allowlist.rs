//! Allowlists: paths, values, stopwords and commits that are known not to be secrets.

use regex::bytes::Regex;

/// What an allowlist's `regexes` are matched against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Target {
    #[default]
    Secret,
    Match,
    Line,
}

/// One allowlist, as in a gitleaks config (`[allowlist]`, `[[allowlists]]`, `[[rules.allowlists]]`).
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    pub description: String,
    pub paths: Vec<Regex>,
    pub regexes: Vec<Regex>,
    pub target: Target,
    /// Lower-case substrings of the secret.
    pub stopwords: Vec<String>,
    pub commits: Vec<String>,
    /// `condition = "AND"`: every kind of criterion given must match.
    pub all: bool,
}

/// The context of one candidate, for allowlist decisions.
pub struct Context<'a> {
    pub path: &'a str,
    pub secret: &'a [u8],
    pub matched: &'a [u8],
    pub line: &'a [u8],
    pub commit: Option<&'a str>,
}

impl Allowlist {
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
            && self.regexes.is_empty()
            && self.stopwords.is_empty()
            && self.commits.is_empty()
    }

    /// Does this allowlist allow the candidate?
    pub fn allows(&self, ctx: &Context<'_>) -> bool {
        let mut checks: Vec<bool> = Vec::with_capacity(4);
        if !self.paths.is_empty() {
            checks.push(self.paths.iter().any(|r| r.is_match(ctx.path.as_bytes())));
        }
        if !self.regexes.is_empty() {
            let target = match self.target {
                Target::Secret => ctx.secret,
                Target::Match => ctx.matched,
                Target::Line => ctx.line,
            };
            checks.push(self.regexes.iter().any(|r| r.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let lower = String::from_utf8_lossy(ctx.secret).to_ascii_lowercase();
            checks.push(self.stopwords.iter().any(|w| lower.contains(w.as_str())));
        }
        if !self.commits.is_empty() {
            checks.push(
                ctx.commit
                    .is_some_and(|c| self.commits.iter().any(|a| c.starts_with(a.as_str()))),
            );
        }
        if checks.is_empty() {
            return false;
        }
        if self.all {
            checks.iter().all(|&c| c)
        } else {
            checks.iter().any(|&c| c)
        }
    }
}
