//! The matching engine: one keyword automaton over the input, then each candidate rule's
//! regex only in a window around its keyword hits.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::filters;
use crate::rules::Rule;

/// How far around a keyword a single-line rule looks (bytes, clipped to the line).
const LINE_WINDOW: usize = 4096;
/// How far after a keyword a multi-line rule looks.
const MULTILINE_WINDOW: usize = 64 * 1024;

/// A compiled rule set.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<Rule>,
    automaton: AhoCorasick,
    /// For each automaton pattern, the rules that use it as a keyword.
    pattern_rules: Vec<Vec<u32>>,
    /// Rules without keywords (imported configurations): they look at the whole input.
    always: Vec<u32>,
}

/// One match of one rule, before it becomes a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub rule: usize,
    /// The whole regex match.
    pub start: usize,
    pub end: usize,
    /// The secret inside it.
    pub secret_start: usize,
    pub secret_end: usize,
}

/// What the caller knows about the input, which changes how strict the filters are.
#[derive(Debug, Clone, Copy, Default)]
pub struct InputKind {
    /// A lockfile or checksum file: generic rules are skipped.
    pub lockfile: bool,
    /// Source code: an unquoted value is an expression, so generic rules need a quoted literal.
    pub code: bool,
}

impl Engine {
    pub fn new(rules: Vec<Rule>) -> Result<Self, aho_corasick::BuildError> {
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if rule.keywords.is_empty() {
                always.push(index as u32);
            }
            for keyword in &rule.keywords {
                let slot = if let Some(slot) = patterns.iter().position(|p| p == keyword) {
                    slot
                } else {
                    patterns.push(keyword.clone());
                    pattern_rules.push(Vec::new());
                    patterns.len() - 1
                };
                if !pattern_rules[slot].contains(&(index as u32)) {
                    pattern_rules[slot].push(index as u32);
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)?;
        Ok(Self {
            rules,
            automaton,
            pattern_rules,
            always,
        })
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Finds every rule match in `data`, filtered, sorted by position. A value that a
    /// format-specific rule recognised is not reported again by a context-based rule.
    pub fn scan(&self, data: &[u8], kind: InputKind) -> Vec<Candidate> {
        let mut out = self.scan_each_rule(data, kind);
        // `GITHUB_TOKEN = "ghp_…"` is a GitHub token, not also a generic token.
        let specific: Vec<(usize, usize)> = out
            .iter()
            .filter(|c| !self.rules[c.rule].generic)
            .map(|c| (c.secret_start, c.secret_end))
            .collect();
        if !specific.is_empty() {
            out.retain(|c| {
                !self.rules[c.rule].generic
                    || !specific
                        .iter()
                        .any(|&(s, e)| c.secret_start < e && s < c.secret_end)
            });
        }
        out
    }

    /// Every rule's own matches, without the cross-rule de-duplication of [`Engine::scan`]
    /// (what a rule's examples are checked against).
    pub fn scan_each_rule(&self, data: &[u8], kind: InputKind) -> Vec<Candidate> {
        // Per rule: the window currently being collected (start, end).
        // Every (rule, window) pair, then merged per rule: hits are sparse, so this costs far
        // less than per-rule state sized to the whole rule set for every input.
        let mut raw: Vec<(u32, usize, usize)> = Vec::new();
        for hit in self.automaton.find_overlapping_iter(data) {
            let pos = hit.start();
            for &rule_index in &self.pattern_rules[hit.pattern().as_usize()] {
                let rule = &self.rules[rule_index as usize];
                if rule.generic && kind.lockfile {
                    continue;
                }
                let (ws, we) = window(data, pos, hit.end(), rule.multiline);
                raw.push((rule_index, ws, we));
            }
        }
        raw.sort_unstable();
        let mut windows: Vec<(u32, usize, usize)> = Vec::with_capacity(raw.len());
        for (rule_index, ws, we) in raw {
            match windows.last_mut() {
                Some((r, _, end)) if *r == rule_index && ws <= *end => *end = (*end).max(we),
                _ => windows.push((rule_index, ws, we)),
            }
        }
        if !data.is_empty() {
            windows.extend(self.always.iter().map(|&r| (r, 0, data.len())));
        }

        let mut out = Vec::new();
        for (rule_index, ws, we) in windows {
            let rule = &self.rules[rule_index as usize];
            let Some(compiled) = rule.pattern.get() else {
                continue;
            };
            let hay = &data[ws..we];
            for caps in compiled.regex.captures_iter(hay) {
                let whole = caps.get(0).expect("group 0 always matches");
                let (group, secret) = compiled
                    .secret_groups
                    .iter()
                    .find_map(|&g| caps.get(g).map(|m| (g, m)))
                    .unwrap_or((0, whole));
                if kind.code && compiled.bare_groups.contains(&group) {
                    continue;
                }
                let key = compiled
                    .key_groups
                    .iter()
                    .find_map(|&g| caps.get(g))
                    .map(|m| m.as_bytes());
                let value = secret.as_bytes();
                if !accept(rule, value, key) {
                    continue;
                }
                out.push(Candidate {
                    rule: rule_index as usize,
                    start: ws + whole.start(),
                    end: ws + whole.end(),
                    secret_start: ws + secret.start(),
                    secret_end: ws + secret.end(),
                });
            }
        }
        out.sort_by_key(|c| (c.secret_start, c.rule, c.secret_end));
        out.dedup_by_key(|c| (c.secret_start, c.rule));
        out
    }
}

/// The byte range a rule's regex looks at for a keyword hit at `pos..end`.
fn window(data: &[u8], pos: usize, end: usize, multiline: bool) -> (usize, usize) {
    let line_start = memchr::memrchr(b'\n', &data[..pos]).map_or(0, |i| i + 1);
    if multiline {
        return (line_start, data.len().min(end + MULTILINE_WINDOW));
    }
    let line_end = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i);
    (
        line_start.max(pos.saturating_sub(LINE_WINDOW)),
        line_end.min(end + LINE_WINDOW),
    )
}

/// Applies the rule's own checks and the false-positive filters to one extracted secret.
fn accept(rule: &Rule, value: &[u8], key: Option<&[u8]>) -> bool {
    if value.is_empty() {
        return false;
    }
    if rule.allow.iter().any(|a| a.is_match(value)) {
        return false;
    }
    if let Some(min) = rule.min_entropy
        && filters::entropy(value) < min
    {
        return false;
    }
    if let Some(validator) = rule.validator
        && !validator.check(value)
    {
        return false;
    }
    if filters::is_placeholder(value) {
        return false;
    }
    if rule.generic && filters::is_generic_false_positive(value, key) {
        return false;
    }
    true
}
