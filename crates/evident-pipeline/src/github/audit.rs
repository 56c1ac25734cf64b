//! When the checks fire on one GitHub Actions file.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use evident_core::{Check, Confidence, Finding, Location};
use regex::Regex;

use super::rules;
use super::{FileKind, Source};
use crate::Options;
use crate::compliance;
use crate::stages::{self, Stage};
use crate::yaml::{Kind, Node};

/// Commands that deploy or release (lower-case substrings of `run:`).
const DEPLOY_COMMANDS: &[&str] = &[
    "kubectl apply",
    "kubectl set image",
    "kubectl rollout",
    "helm upgrade",
    "helm install",
    "terraform apply",
    "tofu apply",
    "pulumi up",
    "aws ecs update-service",
    "aws lambda update-function-code",
    "aws s3 sync",
    "gcloud run deploy",
    "gcloud app deploy",
    "gcloud functions deploy",
    "az webapp deploy",
    "az containerapp update",
    "serverless deploy",
    "flyctl deploy",
    "vercel --prod",
    "npm publish",
    "cargo publish",
    "twine upload",
    "docker push",
];

/// Actions that deploy (lower-case substrings of `uses:`).
const DEPLOY_ACTIONS: &[&str] = &[
    "deploy",
    "azure/k8s-",
    "azure/functions-action",
    "pypa/gh-action-pypi-publish",
    "softprops/action-gh-release",
];

/// Words in a job id or name that mean it deploys.
const DEPLOY_WORDS: &[&str] = &["deploy", "release", "publish"];

static EXPRESSION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{\{(.*?)\}\}").expect("valid regex"));

static UNTRUSTED_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)github\s*\.\s*(head_ref|event\.(issue\.(title|body)|pull_request\.(title|body|head\.ref|head\.label|head\.repo\.default_branch)|comment\.body|review\.body|review_comment\.body|discussion\.(title|body)|pages\.[^.\s]+\.page_name|commits\.[^.\s]+\.(message|author\.(name|email))|head_commit\.(message|author\.(name|email))|workflow_run\.(head_branch|head_commit\.message|display_title)))",
    )
    .expect("valid regex")
});

static SECRET_REF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"secrets\s*\.\s*([A-Za-z0-9_]+)").expect("valid regex"));

static CLOUD_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(.*AWS_ACCESS_KEY.*|.*AWS_SECRET.*|GCP_SA_KEY|GCP_CREDENTIALS|GCP_SERVICE_ACCOUNT_KEY|GCLOUD_SERVICE_KEY|GOOGLE_CREDENTIALS|GOOGLE_APPLICATION_CREDENTIALS|AZURE_CREDENTIALS|AZURE_CLIENT_SECRET)$")
        .expect("valid regex")
});

const CHECKOUT_HEAD: &[&str] = &[
    "github.event.pull_request.head.sha",
    "github.event.pull_request.head.ref",
    "github.head_ref",
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.head_branch",
    "refs/pull/",
];

/// The findings and scan stages of one file.
pub struct Ctx<'a> {
    src: &'a Source,
    options: &'a Options,
    workflows: &'a BTreeMap<&'a str, &'a Source>,
    lines: Vec<&'a str>,
    pub findings: Vec<Finding>,
    pub stages: BTreeSet<Stage>,
}

/// A job of a workflow.
struct Job<'a> {
    id: String,
    key: &'a Node,
    node: &'a Node,
}

impl<'a> Ctx<'a> {
    pub fn new(
        src: &'a Source,
        options: &'a Options,
        workflows: &'a BTreeMap<&'a str, &'a Source>,
    ) -> Self {
        Ctx {
            src,
            options,
            workflows,
            lines: src.text.lines().collect(),
            findings: Vec::new(),
            stages: BTreeSet::new(),
        }
    }

    pub fn run(&mut self) {
        let root = &self.src.root;
        if self.src.kind == FileKind::Action {
            let steps = root.get("runs").and_then(|r| r.get("steps"));
            for step in steps.map(Node::items).unwrap_or_default() {
                self.step(step, "action", false);
            }
            self.cloud_keys(&[]);
            return;
        }
        let jobs = jobs(root);
        let triggers = triggers(root);
        let privileged = triggers
            .iter()
            .any(|(t, _, _)| t == "pull_request_target" || t == "workflow_run");
        let on_pull_request = triggers
            .iter()
            .any(|(t, _, _)| t == "pull_request" || t == "pull_request_target");
        self.permissions(root, &jobs, &triggers);
        for job in &jobs {
            for step in job.node.get("steps").map(Node::items).unwrap_or_default() {
                self.step(step, &job.id, privileged);
            }
            if let Some(uses) = job.node.get("uses") {
                self.unpinned(uses, &job.id);
            }
            let job_stages = job_stages(job.node, self.workflows, 0);
            self.stages.extend(job_stages.iter().copied());
            if !job_stages.is_empty()
                && let Some((key, value)) = job.node.entry("continue-on-error")
            {
                self.failure_ignored(key, value, &job.id, &format!("job `{}`", job.id));
            }
            if on_pull_request {
                self.self_hosted(job);
            }
        }
        self.deploys(&jobs, &triggers);
        self.cloud_keys(&jobs);
    }

    fn emit(
        &mut self,
        check: &Check,
        line: u32,
        column: u32,
        resource: &str,
        message: String,
    ) -> &mut Finding {
        let location = Location {
            resource: Some(resource.to_owned()),
            ..Location::file(self.src.path.clone()).at(line, column.max(1))
        };
        let finding = Finding::builder(check, location).message(message).build();
        self.findings.push(finding);
        self.findings.last_mut().expect("just pushed")
    }

    /// The line and column of the first line at or after `from` (1-based) containing
    /// `needle`; `from` itself when not found.
    fn locate(&self, from: u32, needle: &str) -> (u32, u32) {
        let start = (from as usize).saturating_sub(2);
        for (i, line) in self.lines.iter().enumerate().skip(start) {
            if let Some(col) = line.find(needle) {
                return (to_u32(i + 1), to_u32(col + 1));
            }
        }
        (from, 1)
    }

    fn step(&mut self, step: &Node, resource: &str, privileged: bool) {
        let uses = step.get("uses");
        let uses_str = uses.and_then(Node::as_str).unwrap_or_default();
        let run = step.get("run");
        let run_str = run.and_then(Node::as_str).unwrap_or_default();
        let with = step.get("with");
        let name = step_name(step);
        let mut found = stages::detect(uses_str);
        found.extend(stages::detect(run_str));
        self.stages.extend(found.iter().copied());
        if let Some(uses) = uses {
            self.unpinned(uses, resource);
        }
        let lower_uses = uses_str.to_ascii_lowercase();
        if !found.is_empty() {
            if let Some((key, value)) = step.entry("continue-on-error") {
                self.failure_ignored(key, value, resource, &name);
            }
            if let Some(run) = run {
                self.masked_exit(run, resource, &name);
            }
            if let Some(with) = with {
                self.failing_inputs_off(with, resource, &name);
            }
        }
        if lower_uses.starts_with("actions/upload-artifact") {
            self.retention(with, resource, &name);
        }
        if lower_uses.starts_with("actions/checkout") {
            self.checkout(step, with, resource, &name, privileged);
        }
        if let Some(run) = run {
            self.injection(run, resource, &name);
        }
        if lower_uses.starts_with("actions/github-script")
            && let Some(script) = with.and_then(|w| w.get("script"))
        {
            self.injection(script, resource, &name);
        }
    }

    fn failure_ignored(&mut self, key: &Node, value: &Node, resource: &str, what: &str) {
        let check = compliance::get(compliance::SCAN_DOES_NOT_BLOCK);
        let text = value.scalar().unwrap_or_default();
        let message = if value.kind == Kind::Bool(true) || text.trim() == "true" {
            format!(
                "{what} runs a security scan with `continue-on-error: true`: its failure never fails the workflow"
            )
        } else if text.contains("${{") {
            format!(
                "{what} runs a security scan with `continue-on-error: {text}`: the expression can be true, and then the scan's failure is ignored"
            )
        } else {
            return;
        };
        self.emit(&check, key.line, key.column, resource, message);
    }

    fn masked_exit(&mut self, run: &Node, resource: &str, what: &str) {
        let check = compliance::get(compliance::SCAN_DOES_NOT_BLOCK);
        let text = run.as_str().unwrap_or_default().to_owned();
        let mut errexit_off = false;
        for raw in text.lines() {
            let line = raw.trim();
            if line.starts_with("set +e") {
                errexit_off = true;
            }
            if line.is_empty() || stages::detect(line).is_empty() {
                continue;
            }
            let Some(how) = masking(line, errexit_off) else {
                continue;
            };
            let (at, col) = self.locate(run.line, line);
            let message = format!(
                "{what} runs a security scan whose failure is masked by `{how}`: `{}`",
                truncate(line)
            );
            self.emit(&check, at, col, resource, message);
        }
    }

    fn failing_inputs_off(&mut self, with: &Node, resource: &str, what: &str) {
        let check = compliance::get(compliance::SCAN_DOES_NOT_BLOCK);
        for (key, value) in with.entries() {
            let Some(k) = key.scalar() else { continue };
            let k = k.to_ascii_lowercase().replace('_', "-");
            let v = value.scalar().unwrap_or_default().to_ascii_lowercase();
            let v = v.trim();
            let truthy = matches!(v, "true" | "yes" | "1");
            let off = match k.as_str() {
                "soft-fail" | "softfail" | "no-fail" => truthy,
                "exit-code" => v == "0",
                _ => k.contains("fail") && matches!(v, "false" | "none" | "never" | "off" | "no"),
            };
            if off {
                let message = format!(
                    "{what} runs a security scan with input `{}: {}`, so findings never fail the step",
                    key.scalar().unwrap_or_default(),
                    value.scalar().unwrap_or_default()
                );
                self.emit(&check, key.line, key.column, resource, message);
            }
        }
    }

    fn retention(&mut self, with: Option<&Node>, resource: &str, what: &str) {
        let Some((key, value)) = with.and_then(|w| w.entry("retention-days")) else {
            return;
        };
        let Some(days) = value.scalar().and_then(|s| s.trim().parse::<u64>().ok()) else {
            return;
        };
        let min = self.options.min_retention_days;
        if days < u64::from(min) {
            let check = compliance::get(compliance::SHORT_EVIDENCE_RETENTION);
            let message = format!(
                "{what} keeps its artifact {days} days (`retention-days: {days}`); the policy requires at least {min}"
            );
            self.emit(&check, key.line, key.column, resource, message);
        }
    }

    fn checkout(
        &mut self,
        step: &Node,
        with: Option<&Node>,
        resource: &str,
        what: &str,
        privileged: bool,
    ) {
        let persisted = with
            .and_then(|w| w.get("persist-credentials"))
            .is_none_or(|v| v.scalar().is_none_or(|s| s.trim() != "false"));
        if persisted {
            let check = rule(rules::PERSISTED_CREDENTIALS);
            let at = step.entry("uses").map_or(step, |(k, _)| k);
            let message = format!(
                "{what} checks out without `persist-credentials: false`: the token stays in `.git/config` for later steps"
            );
            self.emit(&check, at.line, at.column, resource, message);
        }
        if !privileged {
            return;
        }
        let Some((key, value)) = with.and_then(|w| w.entry("ref")) else {
            return;
        };
        let text = value.scalar().unwrap_or_default();
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(hit) = CHECKOUT_HEAD.iter().find(|h| compact.contains(*h)) {
            let check = rule(rules::UNTRUSTED_CHECKOUT);
            let message = format!(
                "{what} checks out `{hit}` in a workflow triggered by `pull_request_target` or `workflow_run`: untrusted code runs with the base repository's secrets and token"
            );
            self.emit(&check, key.line, key.column, resource, message);
        }
    }

    fn injection(&mut self, node: &Node, resource: &str, what: &str) {
        let Some(text) = node.as_str() else { return };
        let check = rule(rules::SCRIPT_INJECTION);
        let mut seen = BTreeSet::new();
        for expr in EXPRESSION.captures_iter(text) {
            let inner = &expr[1];
            let Some(ctx) = UNTRUSTED_CONTEXT.find(inner) else {
                continue;
            };
            let whole = expr[0].to_owned();
            if !seen.insert(whole.clone()) {
                continue;
            }
            let (line, col) = self.locate(node.line, &whole);
            let message = format!(
                "{what} interpolates `{}` into a script: its value is chosen by whoever opens the pull request, issue or comment",
                ctx.as_str()
            );
            self.emit(&check, line, col, resource, message);
        }
    }

    fn unpinned(&mut self, uses: &Node, resource: &str) {
        let Some(text) = uses.as_str() else { return };
        let text = text.trim();
        if text.starts_with("./") || text.contains("${{") {
            return;
        }
        let pinned = if let Some(image) = text.strip_prefix("docker://") {
            image.contains("@sha256:")
        } else {
            text.rsplit_once('@')
                .is_some_and(|(_, r)| r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        if !pinned {
            let check = rule(rules::UNPINNED_ACTION);
            let message = format!(
                "`uses: {text}` is not pinned to a full commit SHA{}",
                if text.starts_with("docker://") {
                    " (image digest `@sha256:`)"
                } else {
                    ""
                }
            );
            self.emit(&check, uses.line, uses.column, resource, message);
        }
    }

    fn permissions(
        &mut self,
        root: &Node,
        jobs: &[Job<'_>],
        triggers: &[(String, &Node, Option<&Node>)],
    ) {
        let check = rule(rules::EXCESSIVE_PERMISSIONS);
        if let Some(p) = root.get("permissions")
            && p.as_str().is_some_and(|s| s.trim() == "write-all")
        {
            self.emit(
                &check,
                p.line,
                p.column,
                "workflow",
                "the workflow grants its token `permissions: write-all`".to_owned(),
            );
        }
        for job in jobs {
            if let Some(p) = job.node.get("permissions")
                && p.as_str().is_some_and(|s| s.trim() == "write-all")
            {
                let message = format!("job `{}` grants its token `permissions: write-all`", job.id);
                self.emit(&check, p.line, p.column, &job.id, message);
            }
        }
        let only_called =
            !triggers.is_empty() && triggers.iter().all(|(t, _, _)| t == "workflow_call");
        if root.get("permissions").is_some() || only_called {
            return;
        }
        let missing: Vec<&str> = jobs
            .iter()
            .filter(|j| j.node.get("permissions").is_none())
            .map(|j| j.id.as_str())
            .collect();
        if missing.is_empty() {
            return;
        }
        let Some((key, _)) = root.entry("jobs") else {
            return;
        };
        let check = rule(rules::MISSING_PERMISSIONS);
        let message = format!(
            "no top-level `permissions:` and none on job(s) {}: the token gets the repository default",
            missing
                .iter()
                .map(|j| format!("`{j}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.emit(&check, key.line, key.column, "workflow", message);
    }

    fn self_hosted(&mut self, job: &Job<'_>) {
        let Some(runs_on) = job.node.get("runs-on") else {
            return;
        };
        let labels = match runs_on.get("labels") {
            Some(labels) => labels.scalars(),
            None => runs_on.scalars(),
        };
        if labels
            .iter()
            .any(|l| l.trim().eq_ignore_ascii_case("self-hosted"))
        {
            let check = rule(rules::SELF_HOSTED_RUNNER_ON_PULL_REQUEST);
            let message = format!(
                "job `{}` runs on a self-hosted runner in a workflow triggered by pull requests",
                job.id
            );
            self.emit(&check, runs_on.line, runs_on.column, &job.id, message);
        }
    }

    fn cloud_keys(&mut self, jobs: &[Job<'_>]) {
        let check = rule(rules::LONG_LIVED_CLOUD_KEYS);
        let mut hits = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            if line.trim_start().starts_with('#') {
                continue;
            }
            for cap in SECRET_REF.captures_iter(line) {
                let name = cap[1].to_owned();
                if CLOUD_KEY.is_match(&name) {
                    let col = cap.get(0).map_or(0, |m| m.start());
                    hits.push((to_u32(i + 1), to_u32(col + 1), name));
                }
            }
        }
        for (line, col, name) in hits {
            let resource = if self.src.kind == FileKind::Action {
                "action".to_owned()
            } else {
                jobs.iter()
                    .rev()
                    .find(|j| j.key.line <= line)
                    .map_or_else(|| "workflow".to_owned(), |j| j.id.clone())
            };
            let upper = name.to_ascii_uppercase();
            let oidc = if upper.contains("AWS") {
                "use `aws-actions/configure-aws-credentials` with `role-to-assume` and `id-token: write`"
            } else if upper.contains("AZURE") {
                "use `azure/login` with `client-id`, `tenant-id` and `subscription-id` (OIDC)"
            } else {
                "use `google-github-actions/auth` with `workload_identity_provider`"
            };
            let message = format!("the static cloud key `secrets.{name}` is used; {oidc}");
            self.emit(&check, line, col, &resource, message);
        }
    }

    fn deploys(&mut self, jobs: &[Job<'_>], triggers: &[(String, &Node, Option<&Node>)]) {
        let scan_jobs: BTreeSet<&str> = jobs
            .iter()
            .filter(|j| !job_stages(j.node, self.workflows, 0).is_empty())
            .map(|j| j.id.as_str())
            .collect();
        let other_branch_push = triggers.iter().find(|(t, _, config)| {
            t == "push" && pushes_other_branches(*config, &self.options.default_branch)
        });
        for job in jobs {
            if !deploys(&job.id, job.node, self.workflows) {
                continue;
            }
            self.unprotected(job);
            if let Some((_, key, _)) = other_branch_push
                && !restricted_to_default(job.node, &self.options.default_branch)
            {
                {
                    let check = compliance::get(compliance::DEPLOY_FROM_OTHER_BRANCHES);
                    let message = format!(
                        "deploy job `{}` runs on `push` (line {}) for branches other than `{}` and has no `if:` restricting `github.ref` to it",
                        job.id, key.line, self.options.default_branch
                    );
                    let has_environment = job.node.get("environment").is_some();
                    let f = self.emit(&check, job.key.line, job.key.column, &job.id, message);
                    if has_environment {
                        // The environment's deployment-branch rules may restrict it: not visible here.
                        f.confidence = Confidence::Medium;
                    }
                }
            }
            if !scan_jobs.is_empty() && !scan_jobs.contains(job.id.as_str()) {
                let needed = needs_closure(&job.id, jobs);
                if !needed.iter().any(|n| scan_jobs.contains(n.as_str())) {
                    let check = compliance::get(compliance::DEPLOY_WITHOUT_SCANS);
                    let at = job.node.entry("needs").map_or(job.key, |(k, _)| k);
                    let message = format!(
                        "deploy job `{}` does not need (directly or through other jobs) any scan job ({}): it deploys even when a scan fails",
                        job.id,
                        scan_jobs
                            .iter()
                            .map(|j| format!("`{j}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    self.emit(&check, at.line, at.column, &job.id, message);
                }
            }
        }
    }

    fn unprotected(&mut self, job: &Job<'_>) {
        if job
            .node
            .get("environment")
            .is_some_and(|e| e.kind != Kind::Null)
            || !targets_production(&job.id, job.node, &self.options.production_environments)
        {
            return;
        }
        let check = compliance::get(compliance::UNPROTECTED_PRODUCTION_DEPLOY);
        if let Some(uses) = job
            .node
            .get("uses")
            .and_then(|u| u.as_str().map(|s| (u, s)))
        {
            let (node, target) = uses;
            if let Some(called) = target
                .strip_prefix("./")
                .and_then(|p| self.workflows.get(p))
            {
                if reusable_protected(&called.root) {
                    return;
                }
                let message = format!(
                    "job `{}` deploys to production through `{target}`, whose deploying jobs do not all declare an `environment:`",
                    job.id
                );
                self.emit(&check, node.line, node.column, &job.id, message);
            } else {
                let message = format!(
                    "job `{}` deploys to production through `{target}`, which evident cannot read: make sure its job declares a protected `environment:`",
                    job.id
                );
                let f = self.emit(&check, node.line, node.column, &job.id, message);
                f.confidence = Confidence::Low;
            }
            return;
        }
        let message = format!(
            "job `{}` deploys to production without an `environment:`: add `environment: production` with required reviewers",
            job.id
        );
        self.emit(&check, job.key.line, job.key.column, &job.id, message);
    }
}

/// The findings for required stages no workflow runs, at the first workflow's `jobs:` line.
pub fn missing_stages(first: &Source, options: &Options, ran: &BTreeSet<Stage>) -> Vec<Finding> {
    let check = compliance::get(compliance::MISSING_SCAN_STAGE);
    let line = first.root.entry("jobs").map_or(1, |(k, _)| k.line);
    let mut required = options.required_stages.clone();
    required.sort();
    required.dedup();
    required
        .into_iter()
        .filter(|s| !ran.contains(s))
        .map(|stage| {
            let location = Location {
                resource: Some("workflow".to_owned()),
                ..Location::file(first.path.clone()).at(line, 1)
            };
            Finding::builder(&check, location)
                .message(format!(
                    "no GitHub workflow runs a `{}` scan, which the policy requires",
                    stage.as_str()
                ))
                .identity(&[stage.as_str().as_bytes()])
                .build()
        })
        .collect()
}

fn rule(id: &str) -> Check {
    rules::checks()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no github check `{id}`"))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.to_owned()
    }
}

fn step_name(step: &Node) -> String {
    if let Some(name) = step.get("name").and_then(Node::scalar) {
        format!("step `{name}`")
    } else if let Some(id) = step.get("id").and_then(Node::scalar) {
        format!("step `{id}`")
    } else if let Some(uses) = step.get("uses").and_then(Node::scalar) {
        format!("step `{uses}`")
    } else {
        format!("the step at line {}", step.line)
    }
}

/// How a command line hides its failure, if it does.
fn masking(line: &str, errexit_off: bool) -> Option<&'static str> {
    let lower = line.to_ascii_lowercase();
    for flag in [
        "--exit-code 0",
        "--exit-code=0",
        "--soft-fail",
        "--no-fail",
        "--exit-zero",
    ] {
        if let Some(i) = lower.find(flag) {
            let rest = &lower[i + flag.len()..];
            if rest.is_empty() || rest.starts_with(' ') || !flag.ends_with('0') {
                return Some(flag_name(flag));
            }
        }
    }
    if let Some((_, tail)) = lower.split_once("||") {
        let tail = tail.trim();
        for (prefix, name) in [
            ("true", "|| true"),
            (":", "|| :"),
            ("exit 0", "|| exit 0"),
            ("echo", "|| echo"),
            ("printf", "|| printf"),
        ] {
            if tail.starts_with(prefix) {
                return Some(name);
            }
        }
    }
    if errexit_off && (lower.contains("; exit 0") || lower.contains("; true")) {
        return Some("set +e … ; exit 0");
    }
    None
}

fn flag_name(flag: &str) -> &'static str {
    match flag {
        "--exit-code 0" | "--exit-code=0" => "--exit-code 0",
        "--soft-fail" => "--soft-fail",
        "--no-fail" => "--no-fail",
        _ => "--exit-zero",
    }
}

fn jobs(root: &Node) -> Vec<Job<'_>> {
    root.get("jobs")
        .map(Node::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| {
            Some(Job {
                id: k.scalar()?,
                key: k,
                node: v,
            })
        })
        .collect()
}

/// The events of `on:` with their key node and configuration.
fn triggers(root: &Node) -> Vec<(String, &Node, Option<&Node>)> {
    let Some(on) = root.get("on") else {
        return Vec::new();
    };
    match &on.kind {
        Kind::Str(s) => vec![(s.clone(), on, None)],
        Kind::Seq(items) => items
            .iter()
            .filter_map(|i| Some((i.scalar()?, i, None)))
            .collect(),
        Kind::Map(entries) => entries
            .iter()
            .filter_map(|(k, v)| Some((k.scalar()?, k, Some(v))))
            .collect(),
        _ => Vec::new(),
    }
}

/// The stages a job runs: its steps, or the reusable workflow it calls (local ones read).
fn job_stages(job: &Node, workflows: &BTreeMap<&str, &Source>, depth: u8) -> BTreeSet<Stage> {
    let mut out = BTreeSet::new();
    for step in job.get("steps").map(Node::items).unwrap_or_default() {
        for key in ["uses", "run"] {
            if let Some(text) = step.get(key).and_then(Node::as_str) {
                out.extend(stages::detect(text));
            }
        }
    }
    if let Some(uses) = job.get("uses").and_then(Node::as_str) {
        out.extend(stages::detect(uses));
        if let Some(called) = uses.strip_prefix("./").and_then(|p| workflows.get(p))
            && depth < 4
        {
            {
                for (_, j) in called
                    .root
                    .get("jobs")
                    .map(Node::entries)
                    .unwrap_or_default()
                {
                    out.extend(job_stages(j, workflows, depth + 1));
                }
            }
        }
    }
    out
}

fn deploys(id: &str, job: &Node, workflows: &BTreeMap<&str, &Source>) -> bool {
    let mut names = id.to_ascii_lowercase();
    if let Some(name) = job.get("name").and_then(Node::scalar) {
        names.push(' ');
        names.push_str(&name.to_ascii_lowercase());
    }
    if DEPLOY_WORDS.iter().any(|w| names.contains(w)) {
        return true;
    }
    for step in job.get("steps").map(Node::items).unwrap_or_default() {
        if let Some(run) = step.get("run").and_then(Node::as_str) {
            let run = run.to_ascii_lowercase();
            if DEPLOY_COMMANDS.iter().any(|c| run.contains(c)) {
                return true;
            }
        }
        if let Some(uses) = step.get("uses").and_then(Node::as_str) {
            let uses = uses.to_ascii_lowercase();
            if DEPLOY_ACTIONS.iter().any(|a| uses.contains(a)) {
                return true;
            }
        }
    }
    if let Some(uses) = job.get("uses").and_then(Node::as_str) {
        if uses.to_ascii_lowercase().contains("deploy") {
            return true;
        }
        if let Some(called) = uses.strip_prefix("./").and_then(|p| workflows.get(p)) {
            return called
                .root
                .get("jobs")
                .map(Node::entries)
                .unwrap_or_default()
                .iter()
                .any(|(k, j)| deploys(&k.scalar().unwrap_or_default(), j, &BTreeMap::new()));
        }
    }
    false
}

/// Does the job name a production environment (its id, name, inputs, env or commands)?
fn targets_production(id: &str, job: &Node, production: &[String]) -> bool {
    let mut texts = vec![id.to_owned()];
    for key in ["name", "with", "env", "steps"] {
        if let Some(node) = job.get(key) {
            texts.extend(node.strings().into_iter().filter_map(Node::scalar));
        }
    }
    texts.iter().any(|t| {
        t.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| production.iter().any(|p| word.eq_ignore_ascii_case(p)))
    })
}

/// A called workflow protects its deploys when every deploying job declares an environment
/// and at least one job does.
fn reusable_protected(root: &Node) -> bool {
    let jobs = jobs(root);
    let has_env = |j: &Job<'_>| {
        j.node
            .get("environment")
            .is_some_and(|e| e.kind != Kind::Null)
    };
    jobs.iter().any(has_env)
        && jobs
            .iter()
            .filter(|j| deploys(&j.id, j.node, &BTreeMap::new()))
            .all(has_env)
}

fn pushes_other_branches(config: Option<&Node>, default_branch: &str) -> bool {
    let Some(config) = config.filter(|c| matches!(c.kind, Kind::Map(_))) else {
        return true;
    };
    if config.get("branches-ignore").is_some() {
        return true;
    }
    match config.get("branches") {
        Some(branches) => branches
            .scalars()
            .iter()
            .any(|b| b.trim() != default_branch),
        // Tags only: no branch pushes trigger it.
        None => config.get("tags").is_none() && config.get("tags-ignore").is_none(),
    }
}

fn restricted_to_default(job: &Node, default_branch: &str) -> bool {
    let Some(cond) = job.get("if").and_then(Node::scalar) else {
        return false;
    };
    let compact: String = cond
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if c == '"' { '\'' } else { c })
        .collect();
    let head = format!("'refs/heads/{default_branch}'");
    let name = format!("'{default_branch}'");
    compact.contains(&format!("github.ref=={head}"))
        || compact.contains(&format!("{head}==github.ref"))
        || compact.contains(&format!("github.ref_name=={name}"))
        || compact.contains(&format!("{name}==github.ref_name"))
        || compact.contains("startsWith(github.ref,'refs/tags/")
}

fn needs_closure(id: &str, jobs: &[Job<'_>]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![id.to_owned()];
    while let Some(current) = stack.pop() {
        let Some(job) = jobs.iter().find(|j| j.id == current) else {
            continue;
        };
        for need in job.node.get("needs").map(Node::scalars).unwrap_or_default() {
            if seen.insert(need.clone()) {
                stack.push(need);
            }
        }
    }
    seen
}
