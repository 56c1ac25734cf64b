//! The checks on a resolved GitLab pipeline.
//!
//! Rules, precisely:
//! - A **scan job** runs a tool [`crate::stages::detect`] recognises in `script`, `image`, an
//!   `extends:` base name, or is (or extends) a Security template's job.
//! - `scan-does-not-block`: a scan job with `allow_failure: true` or `allow_failure:
//!   exit_codes:` (including the Security templates' default), a scanner command line masked
//!   with `|| true`, `|| :`, `|| exit 0`, `; exit 0`, `--exit-code 0`, `--soft-fail`,
//!   `--ignore-on-exit`, or a `*SOFT_FAIL*` variable set to true.
//! - A **deploy job** declares `environment:` (other than `action: prepare|verify|access`) or
//!   runs a deploy command (`kubectl apply`, `helm upgrade`, `terraform apply`, …). It deploys
//!   to **production** when its environment name (or `deployment_tier`) is a production name,
//!   or, without `environment:`, when its job name contains one.
//! - A deploy job is **restricted** to the default branch when `workflow: rules`, its `rules:`
//!   or its `only:` let it run only on the default branch or on tags.
//! - `unprotected-production-deploy`: a production deploy job without `environment:` naming a
//!   production environment (protected environments and approvals only apply to jobs that
//!   declare it), or one that runs automatically (not `when: manual`) and is not restricted.
//! - `deploy-from-other-branches`: a deploy job that is not restricted.
//! - `deploy-without-scans`: a deploy job that does not wait for every scan job: with `needs:`,
//!   the jobs it needs (transitively); without, every job of an earlier stage.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use evident_core::{Check, Confidence, Finding, Location, Severity};
use regex::Regex;

use super::pipeline::{IncludeKind, Job, Pipeline};
use super::yaml::{Node, Value};
use crate::Options;
use crate::compliance::{self, get};
use crate::stages::{self, Stage};

pub const UNPINNED_INCLUDE: &str = "gitlab-unpinned-include";
pub const UNPINNED_IMAGE: &str = "gitlab-unpinned-image";
pub const UNTRUSTED_VARIABLE: &str = "gitlab-untrusted-variable-in-script";

use crate::check;

/// The GitLab-specific checks.
pub fn own_checks() -> Vec<Check> {
    vec![
        check(
            UNPINNED_INCLUDE,
            "GitLab include from another project or URL not pinned",
            Severity::Medium,
            Confidence::High,
            &["soc2:CC8.1", "iso27001:A.5.21", "iso27001:A.8.32"],
            "A `remote:` include, or a `project:`/`component:` include that follows a branch, pulls pipeline code that someone else can change at any time: the next pipeline runs it with this project's variables and tokens, with no review here.",
            "Pin `project:` includes with `ref:` set to a commit SHA or a release tag, components with `@<version or SHA>`, and give `remote:` includes an `integrity:` checksum (or vendor the file and include it with `local:`).",
        ),
        check(
            UNPINNED_IMAGE,
            "GitLab job image not pinned",
            Severity::Low,
            Confidence::High,
            &["soc2:CC8.1", "iso27001:A.8.32"],
            "An `image:` or `services:` entry without a tag, or with `latest`, runs whatever the registry serves that day: builds are not reproducible and a changed image reaches the pipeline unreviewed.",
            "Pin the image to a version tag, or better to a digest (`image: alpine:3.20@sha256:…`).",
        ),
        check(
            UNTRUSTED_VARIABLE,
            "Attacker-controlled variable expanded in a GitLab script",
            Severity::High,
            Confidence::Medium,
            &["soc2:CC8.1", "iso27001:A.8.28"],
            "Commit messages, titles and merge-request titles and descriptions are written by whoever pushes or opens the merge request. Expanded unquoted (word splitting, globbing, option injection) or passed to `eval`/`sh -c`, they become shell input in a job that holds the project's CI variables.",
            "Quote the variable (`\"$CI_COMMIT_MESSAGE\"`), never pass it to `eval` or `sh -c`, or write it to a file and read the file.",
        ),
    ]
}

fn loc(node: &Node, resource: &str) -> Location {
    Location {
        resource: Some(resource.to_owned()),
        ..Location::file(node.file.to_string()).at(node.line, node.column)
    }
}

/// Runs every check on `p`.
pub fn run(p: &Pipeline, options: &Options) -> Vec<Finding> {
    let mut out = Vec::new();
    let scans: Vec<(&Job, Vec<Stage>)> = p
        .jobs
        .iter()
        .map(|j| (j, job_stages(j)))
        .filter(|(_, s)| !s.is_empty())
        .collect();
    for (job, _) in &scans {
        scan_does_not_block(job, &mut out);
    }
    missing_scan_stage(p, &scans, options, &mut out);
    for job in &p.jobs {
        retention(job, options, &mut out);
        untrusted_variables(job, &mut out);
    }
    deploys(p, &scans, options, &mut out);
    unpinned_includes(p, &mut out);
    unpinned_images(p, &mut out);
    out
}

fn job_stages(job: &Job) -> Vec<Stage> {
    let mut text = String::new();
    for key in ["script", "image"] {
        if let Some(n) = job.get(key) {
            let n = n.get("name").unwrap_or(n);
            for s in n.strings() {
                text.push_str(s.as_str().unwrap_or_default());
                text.push('\n');
            }
        }
    }
    for l in job.lineage.iter().chain(&job.templates) {
        text.push_str(l);
        text.push('\n');
    }
    // Template job names (`secret_detection`) spelt with `_`.
    let text = text.replace('_', "-");
    stages::detect(&text)
}

static MASKED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\|\|\s*(true|:|exit\s+0)\b|;\s*(true|exit\s+0)\s*$|--exit-code[ =]0\b|--soft-fail\b|--ignore-on-exit\b").unwrap()
});

fn scan_does_not_block(job: &Job, out: &mut Vec<Finding>) {
    let c = get(compliance::SCAN_DOES_NOT_BLOCK);
    if let Some(af) = job.get("allow_failure") {
        let exit_codes = af.get("exit_codes").is_some();
        if af.as_bool() == Some(true) || exit_codes {
            let message = if af.synthetic {
                format!(
                    "job `{}` comes from GitLab's `{}` template, which sets `allow_failure: true`: its findings never fail the pipeline; override it with `allow_failure: false`",
                    job.name,
                    job.templates.join("`, `")
                )
            } else if exit_codes {
                format!(
                    "scan job `{}` has `allow_failure: exit_codes`: those exit codes pass the pipeline",
                    job.name
                )
            } else {
                format!(
                    "scan job `{}` has `allow_failure: true`: a failing scan does not fail the pipeline",
                    job.name
                )
            };
            out.push(
                Finding::builder(&c, loc(af, &job.name))
                    .message(message)
                    .identity(&[b"allow_failure"])
                    .build(),
            );
        }
    }
    if let Some(script) = job.get("script") {
        for line in script.strings() {
            let text = line.as_str().unwrap_or_default();
            if !stages::detect(text).is_empty() && MASKED.is_match(text) {
                out.push(
                    Finding::builder(&c, loc(line, &job.name))
                        .message(format!(
                            "scan command in job `{}` ignores the scanner's exit status",
                            job.name
                        ))
                        .snippet(text.trim())
                        .identity(&[text.trim().as_bytes()])
                        .build(),
                );
            }
        }
    }
    if let Some(vars) = job.get("variables").and_then(Node::as_map) {
        for (k, v) in vars {
            let name = k.as_str().unwrap_or_default();
            let on = v
                .scalar_text()
                .is_some_and(|t| matches!(t.to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
            if name.to_ascii_uppercase().contains("SOFT_FAIL") && on {
                out.push(
                    Finding::builder(&c, loc(k, &job.name))
                        .message(format!(
                            "scan job `{}` sets `{name}`: the scan reports but does not fail",
                            job.name
                        ))
                        .identity(&[name.as_bytes()])
                        .build(),
                );
            }
        }
    }
}

fn missing_scan_stage(
    p: &Pipeline,
    scans: &[(&Job, Vec<Stage>)],
    options: &Options,
    out: &mut Vec<Finding>,
) {
    let present: BTreeSet<Stage> = scans.iter().flat_map(|(_, s)| s.iter().copied()).collect();
    let c = get(compliance::MISSING_SCAN_STAGE);
    for stage in &options.required_stages {
        if !present.contains(stage) {
            out.push(
                Finding::builder(&c, loc_file(&p.root_file))
                    .message(format!(
                        "no job in the pipeline of `{}` runs a {} scan",
                        p.root_file,
                        stage.as_str()
                    ))
                    .identity(&[stage.as_str().as_bytes()])
                    .build(),
            );
        }
    }
}

fn loc_file(path: &str) -> Location {
    Location {
        resource: Some("workflow".to_owned()),
        ..Location::file(path).at(1, 1)
    }
}

/// Seconds in a GitLab duration (`1 week`, `30 days`, `3 mins 4 sec`, `2h20min`, bare
/// seconds); `None` for `never` and for text that is not a duration.
pub fn parse_duration(text: &str) -> Option<Option<u64>> {
    static TOKEN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(\d+(?:\.\d+)?)\s*([a-z]*)").unwrap());
    let t = text.trim().to_ascii_lowercase();
    if t == "never" {
        return Some(None);
    }
    let cleaned = t.replace(',', " ").replace(" and ", " ");
    let mut total = 0f64;
    let mut matched = 0;
    for cap in TOKEN.captures_iter(&cleaned) {
        let n: f64 = cap[1].parse().ok()?;
        let unit = match &cap[2] {
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            "w" | "wk" | "wks" | "week" | "weeks" => 604_800.0,
            "mo" | "mos" | "month" | "months" => 2_592_000.0,
            "y" | "yr" | "yrs" | "year" | "years" => 31_536_000.0,
            _ => return None,
        };
        total += n * unit;
        matched += cap[0].len();
    }
    let rest = TOKEN.replace_all(&cleaned, "");
    if matched == 0 || !rest.trim().is_empty() {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some(Some(total as u64))
}

fn retention(job: &Job, options: &Options, out: &mut Vec<Finding>) {
    let Some(exp) = job.get("artifacts").and_then(|a| a.get("expire_in")) else {
        return;
    };
    let Some(text) = exp.scalar_text() else {
        return;
    };
    let Some(Some(secs)) = parse_duration(&text) else {
        return;
    };
    if secs < u64::from(options.min_retention_days) * 86_400 {
        let c = get(compliance::SHORT_EVIDENCE_RETENTION);
        out.push(
            Finding::builder(&c, loc(exp, &job.name))
                .message(format!(
                    "job `{}` keeps its artifacts `{text}`, less than the {} days the policy requires",
                    job.name, options.min_retention_days
                ))
                .identity(&[b"expire_in"])
                .build(),
        );
    }
}

const UNTRUSTED: &[&str] = &[
    "CI_MERGE_REQUEST_TITLE",
    "CI_MERGE_REQUEST_DESCRIPTION",
    "CI_COMMIT_MESSAGE",
    "CI_COMMIT_TITLE",
    "CI_COMMIT_DESCRIPTION",
    "CI_COMMIT_TAG_MESSAGE",
];

/// The untrusted variables `line` expands where the shell re-parses or splits them:
/// unquoted, or anywhere on a line that runs `eval` or `sh -c`/`bash -c`.
pub fn unsafe_expansions(line: &str) -> Vec<&'static str> {
    static REPARSE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\beval\b|\b(ba|z|da)?sh\s+-c\b").unwrap());
    let reparse = REPARSE.is_match(line);
    let bytes = line.as_bytes();
    let (mut single, mut double) = (false, false);
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if !single => i += 1,
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'$' if !single => {
                let rest = &line[i + 1..];
                let rest = rest.strip_prefix('{').unwrap_or(rest);
                for v in UNTRUSTED {
                    let hit = rest.strip_prefix(v).is_some_and(|after| {
                        !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                    });
                    if hit && (!double || reparse) && !out.contains(v) {
                        out.push(*v);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn untrusted_variables(job: &Job, out: &mut Vec<Finding>) {
    let c = own_checks()
        .into_iter()
        .find(|c| c.id == UNTRUSTED_VARIABLE)
        .unwrap_or_else(|| unreachable!());
    for key in ["before_script", "script", "after_script"] {
        let Some(script) = job.get(key) else { continue };
        for line in script.strings() {
            let text = line.as_str().unwrap_or_default();
            for var in unsafe_expansions(text) {
                out.push(
                    Finding::builder(&c, loc(line, &job.name))
                        .message(format!(
                            "`${var}` is expanded unquoted or re-parsed by the shell in `{key}` of job `{}`",
                            job.name
                        ))
                        .snippet(text.trim())
                        .identity(&[var.as_bytes(), text.trim().as_bytes()])
                        .build(),
                );
            }
        }
    }
}

static DEPLOY_CMD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(kubectl\s+(apply|create|replace|set\s+image|rollout\s+restart|patch)|helm\s+(upgrade|install)|helmfile\s+(apply|sync)|terraform\s+apply|terragrunt\s+(run-all\s+)?apply|tofu\s+apply|pulumi\s+up|cdk\s+deploy|(serverless|sls)\s+deploy|aws\s+ecs\s+update-service|gcloud\s+(run|app)\s+deploy|az\s+webapp\s+deploy|flyctl\s+deploy|kustomize\s+build.*\|\s*kubectl|argocd\s+app\s+sync|cap\s+\w+\s+deploy)").unwrap()
});

struct Deploy<'a> {
    env: Option<(&'a Node, String)>,
    production: bool,
}

fn environment(job: &Job) -> Option<(&Node, String, Option<String>, Option<String>)> {
    let env = job.get("environment")?;
    if let Some(name) = env.as_str() {
        return Some((env, name.to_owned(), None, None));
    }
    let name = env.get("name")?;
    Some((
        name,
        name.as_str().unwrap_or_default().to_owned(),
        env.get("action").and_then(Node::scalar_text),
        env.get("deployment_tier").and_then(Node::scalar_text),
    ))
}

fn is_production(name: &str, options: &Options) -> bool {
    let lower = name.to_ascii_lowercase();
    options.production_environments.iter().any(|p| {
        let p = p.to_ascii_lowercase();
        lower == p
            || lower
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|part| part == p)
    })
}

fn deploy_of<'a>(job: &'a Job, options: &Options) -> Option<Deploy<'a>> {
    let env = environment(job);
    if let Some((node, name, action, tier)) = env {
        if matches!(action.as_deref(), Some("prepare" | "verify" | "access")) {
            return None;
        }
        let production = is_production(&name, options) || tier.as_deref() == Some("production");
        return Some(Deploy {
            env: Some((node, name)),
            production,
        });
    }
    let script = job.get("script")?;
    let deploys = script
        .strings()
        .iter()
        .any(|l| DEPLOY_CMD.is_match(l.as_str().unwrap_or_default()));
    deploys.then(|| Deploy {
        env: None,
        production: is_production(&job.name, options),
    })
}

/// Whether an `if:` expression holds only on the default branch or on tags.
fn if_restricts(expr: &str, options: &Options) -> bool {
    if expr.contains("||") {
        return false;
    }
    let b = regex::escape(&options.default_branch);
    let re = Regex::new(&format!(
        r#"\$\{{?CI_COMMIT_(BRANCH|REF_NAME)\}}?\s*(==\s*(\$\{{?CI_DEFAULT_BRANCH\}}?|["']?{b}["']?)|=~\s*/\^?{b}\$?/)|\$\{{?CI_COMMIT_TAG\}}?\s*($|&&|!=|=~)|\$\{{?CI_DEFAULT_BRANCH\}}?\s*==\s*\$\{{?CI_COMMIT_(BRANCH|REF_NAME)"#
    ))
    .unwrap_or_else(|_| unreachable!());
    re.is_match(expr)
}

/// Whether an `if:` expression holds off the default branch (`!=` default branch).
fn if_excludes_others(expr: &str) -> bool {
    Regex::new(r"\$\{?CI_COMMIT_(BRANCH|REF_NAME)\}?\s*!=\s*\$\{?CI_DEFAULT_BRANCH")
        .is_ok_and(|re| re.is_match(expr))
        && !expr.contains("&&")
}

/// Whether `rules:` let the job run only on the default branch or tags.
fn rules_restrict(rules: &Node, options: &Options) -> bool {
    let Some(rules) = rules.as_seq() else {
        return false;
    };
    for rule in rules {
        let when = rule.get("when").and_then(Node::scalar_text);
        let expr = rule.get("if").and_then(Node::scalar_text);
        if when.as_deref() == Some("never") {
            if expr.as_deref().is_some_and(if_excludes_others) {
                // Every later rule is reached only on the default branch.
                return true;
            }
            continue;
        }
        match expr {
            Some(e) if if_restricts(&e, options) => {}
            _ => return false,
        }
    }
    true
}

fn only_restricts(only: &Node, options: &Options) -> bool {
    let refs = only.get("refs").unwrap_or(only);
    if only.get("variables").is_some_and(|vars| {
        vars.strings()
            .iter()
            .any(|v| if_restricts(v.as_str().unwrap_or_default(), options))
    }) {
        return true;
    }
    let refs = refs.strings();
    !refs.is_empty()
        && refs.iter().all(|r| {
            let r = r.as_str().unwrap_or_default();
            r == options.default_branch || r == "tags" || r == "$CI_DEFAULT_BRANCH"
        })
}

fn restricted(p: &Pipeline, job: &Job, options: &Options) -> bool {
    if p.top
        .get("workflow")
        .and_then(|w| w.get("rules"))
        .is_some_and(|r| rules_restrict(r, options))
    {
        return true;
    }
    if let Some(rules) = job.get("rules") {
        return rules_restrict(rules, options);
    }
    job.get("only").is_some_and(|o| only_restricts(o, options))
}

fn manual(job: &Job) -> bool {
    if let Some(rules) = job.get("rules").and_then(Node::as_seq) {
        let running: Vec<_> = rules
            .iter()
            .filter(|r| r.get("when").and_then(Node::as_str) != Some("never"))
            .collect();
        return !running.is_empty()
            && running
                .iter()
                .all(|r| r.get("when").and_then(Node::as_str) == Some("manual"));
    }
    job.get("when").and_then(Node::as_str) == Some("manual")
}

fn key_or_job<'a>(job: &'a Job, keys: &[&str]) -> &'a Node {
    keys.iter()
        .find_map(|k| job.def.entry(k).map(|(k, _)| k))
        .unwrap_or(&job.key)
}

fn deploys(p: &Pipeline, scans: &[(&Job, Vec<Stage>)], options: &Options, out: &mut Vec<Finding>) {
    let waits = WaitGraph::new(p);
    for job in &p.jobs {
        let Some(d) = deploy_of(job, options) else {
            continue;
        };
        let is_restricted = restricted(p, job, options);
        if d.production {
            let c = get(compliance::UNPROTECTED_PRODUCTION_DEPLOY);
            match &d.env {
                Some((node, name)) if is_production(name, options) => {
                    if !manual(job) && !is_restricted {
                        out.push(
                            Finding::builder(&c, loc(node, &job.name))
                                .message(format!(
                                    "job `{}` deploys to `{name}` automatically on every branch: make it `when: manual` or restrict its `rules:` to the default branch",
                                    job.name
                                ))
                                .identity(&[b"automatic"])
                                .build(),
                        );
                    }
                }
                _ => {
                    let at = d.env.as_ref().map_or(&job.key, |(n, _)| *n);
                    out.push(
                        Finding::builder(&c, loc(at, &job.name))
                            .message(format!(
                                "job `{}` deploys to production without `environment:` naming a production environment, so GitLab's protected environments and deployment approvals do not apply",
                                job.name
                            ))
                            .identity(&[b"no-environment"])
                            .build(),
                    );
                }
            }
        }
        if !is_restricted {
            let c = get(compliance::DEPLOY_FROM_OTHER_BRANCHES);
            out.push(
                Finding::builder(&c, loc(key_or_job(job, &["rules", "only"]), &job.name))
                    .message(format!(
                        "deploy job `{}` can run on any branch: restrict it to `{}` (`rules: - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH`) or tags",
                        job.name, options.default_branch
                    ))
                    .build(),
            );
        }
        let waited = waits.waits_for(&job.name);
        let missing: Vec<&str> = scans
            .iter()
            .map(|(s, _)| s.name.as_str())
            .filter(|s| *s != job.name && !waited.contains(*s))
            .collect();
        if !missing.is_empty() {
            let c = get(compliance::DEPLOY_WITHOUT_SCANS);
            out.push(
                Finding::builder(&c, loc(key_or_job(job, &["needs", "stage"]), &job.name))
                    .message(format!(
                        "deploy job `{}` does not wait for scan job(s) `{}`",
                        job.name,
                        missing.join("`, `")
                    ))
                    .build(),
            );
        }
    }
}

/// Which jobs a job waits for: its `needs:` (transitively), or every earlier stage.
struct WaitGraph<'a> {
    jobs: HashMap<&'a str, &'a Job>,
    stages: &'a [String],
}

impl<'a> WaitGraph<'a> {
    fn new(p: &'a Pipeline) -> Self {
        WaitGraph {
            jobs: p.jobs.iter().map(|j| (j.name.as_str(), j)).collect(),
            stages: &p.stages,
        }
    }

    fn stage_index(&self, job: &Job) -> usize {
        let s = job.stage();
        self.stages
            .iter()
            .position(|x| *x == s)
            .unwrap_or(usize::MAX)
    }

    fn waits_for(&self, name: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut todo = vec![name.to_owned()];
        while let Some(n) = todo.pop() {
            let Some(job) = self.jobs.get(n.as_str()) else {
                continue;
            };
            let direct: Vec<String> = if let Some(needs) = job.get("needs") {
                needs
                    .as_seq()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|i| {
                        i.as_str()
                            .or_else(|| i.get("job").and_then(Node::as_str))
                            .map(str::to_owned)
                    })
                    .collect()
            } else {
                let idx = self.stage_index(job);
                self.jobs
                    .values()
                    .filter(|o| self.stage_index(o) < idx)
                    .map(|o| o.name.clone())
                    .collect()
            };
            for d in direct {
                if out.insert(d.clone()) {
                    todo.push(d);
                }
            }
        }
        out
    }
}

static SHA: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9a-f]{40}$").unwrap());
static VERSION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^v?\d+(\.\d+)*([-+][0-9A-Za-z.-]+)?$").unwrap());

fn pinned_ref(r: &str) -> bool {
    SHA.is_match(r) || VERSION.is_match(r)
}

fn unpinned_includes(p: &Pipeline, out: &mut Vec<Finding>) {
    let c = own_checks()
        .into_iter()
        .find(|c| c.id == UNPINNED_INCLUDE)
        .unwrap_or_else(|| unreachable!());
    for inc in &p.includes {
        let why = match inc.kind {
            IncludeKind::Remote if !inc.integrity => {
                format!(
                    "remote include `{}` has no `integrity:` checksum",
                    inc.target
                )
            }
            IncludeKind::Project => match &inc.git_ref {
                None => format!(
                    "include of project `{}` has no `ref:`: it follows the default branch",
                    inc.target
                ),
                Some(r) if !pinned_ref(r) => {
                    format!(
                        "include of project `{}` follows `ref: {r}`, not a commit SHA or release tag",
                        inc.target
                    )
                }
                Some(_) => continue,
            },
            IncludeKind::Component => {
                let version = inc.target.rsplit_once('@').map(|(_, v)| v);
                match version {
                    Some(v) if pinned_ref(v) => continue,
                    Some(v) => format!(
                        "component `{}` follows `{v}`, not a version or SHA",
                        inc.target
                    ),
                    None => format!("component `{}` has no version", inc.target),
                }
            }
            _ => continue,
        };
        out.push(
            Finding::builder(&c, loc(&inc.node, "workflow"))
                .message(why)
                .identity(&[inc.target.as_bytes()])
                .build(),
        );
    }
}

fn image_unpinned(image: &str) -> bool {
    if image.contains('$') || image.contains("@sha256:") {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => true,
        Some((_, tag)) => tag == "latest" || tag.is_empty(),
    }
}

fn unpinned_images(p: &Pipeline, out: &mut Vec<Finding>) {
    let c = own_checks()
        .into_iter()
        .find(|c| c.id == UNPINNED_IMAGE)
        .unwrap_or_else(|| unreachable!());
    let mut seen = BTreeSet::new();
    let mut visit = |node: &Node, resource: &str, out: &mut Vec<Finding>| {
        let items: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        for item in items {
            let n = item.get("name").unwrap_or(item);
            let Some(image) = n.as_str() else { continue };
            if n.synthetic || !image_unpinned(image) {
                continue;
            }
            if !seen.insert((n.file.clone(), n.line, n.column)) {
                continue;
            }
            out.push(
                Finding::builder(&c, loc(n, resource))
                    .message(format!(
                        "image `{image}` is not pinned to a version tag or digest"
                    ))
                    .identity(&[image.as_bytes()])
                    .build(),
            );
        }
    };
    for job in &p.jobs {
        for key in ["image", "services"] {
            if let Some(n) = job.get(key) {
                // A default written outside the job is reported once, as `workflow`.
                let from_default = is_default_node(p, key, n);
                visit(n, if from_default { "workflow" } else { &job.name }, out);
            }
        }
    }
    for key in ["image", "services"] {
        if let Some(n) = p.top.get(key) {
            visit(n, "workflow", out);
        }
        if let Some(n) = p.top.get("default").and_then(|d| d.get(key)) {
            visit(n, "workflow", out);
        }
    }
}

fn is_default_node(p: &Pipeline, key: &str, n: &Node) -> bool {
    let same = |d: &Node| d.file == n.file && d.line == n.line && d.column == n.column;
    p.top.get(key).is_some_and(same)
        || p.top
            .get("default")
            .and_then(|d| d.get(key))
            .is_some_and(same)
}
