//! SARIF 2.1.0 runs → evident scan reports.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use evident_core::{
    Check, Confidence, Finding, Location, ScanError, ScanReport, ScanStats, Severity, Suppression,
    SuppressionKind,
};
use serde_json::Value;

use crate::category::{Category, known_tool, normalize_tool_name, tool_slug};
use crate::error::ImportError;
use crate::json::{Obj, Reader, bag, index_path, key_path};
use crate::levels::{self, LEVELS, Stated};
use crate::text::{
    MAX_MESSAGE, MAX_PROSE, MAX_TITLE, fill_placeholders, first_sentence, flatten_embedded_links,
    one_line, prose, remedy, strip_html, truncate,
};
use crate::uri::{BaseEntry, Bases};

/// How to import: which category each tool is in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Tool name (lower-case, as in SARIF `tool.driver.name` lower-cased) → category; consulted
    /// before the built-in table. Keys are compared ignoring case, and also match the tool's
    /// check-id prefix (`my-scanner` for `My Scanner`).
    pub tools: BTreeMap<String, Category>,
    /// Forces the category of every run (`--category`).
    pub category: Option<Category>,
    /// Replaces `tool.driver.name` of every run (`--tool-name`), for tools that leave it empty
    /// or write a generic name. It then names the tool everywhere: category look-up, check ids,
    /// [`Imported::tool`].
    pub tool_name: Option<String>,
}

/// One SARIF run, converted.
#[derive(Debug, Clone)]
pub struct Imported {
    /// `tool.driver.name` as given (or `--tool-name`).
    pub tool: String,
    /// `tool.driver.version`, else `tool.driver.semanticVersion`.
    pub tool_version: Option<String>,
    /// The run's category (forced, configured, or from the built-in table).
    pub category: Category,
    /// The findings. `scanner` is the category name, `root` is `.`, `started_at` is the first
    /// invocation's `startTimeUtc` (empty when the SARIF has none).
    pub report: ScanReport,
}

impl Imported {
    /// The controls this run evidences: its category's, plus those of findings that a rule
    /// placed in another category (e.g. Trivy misconfigurations are `iac`). Sorted, unique.
    pub fn controls(&self) -> Vec<String> {
        let mut controls: BTreeSet<String> = self
            .category
            .controls()
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        for finding in &self.report.findings {
            controls.extend(finding.controls.iter().cloned());
        }
        controls.into_iter().collect()
    }
}

/// Imports a SARIF 2.1.0 log: one [`Imported`] per run, in order. `origin` names the input in
/// error messages (e.g. the file path).
pub fn import_sarif(
    bytes: &[u8],
    origin: &str,
    options: &ImportOptions,
) -> Result<Vec<Imported>, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let document: Value = serde_json::from_slice(bytes).map_err(|err| ImportError::NotJson {
        origin: origin.to_owned(),
        line: err.line(),
        column: err.column(),
        message: strip_position(&err.to_string()),
    })?;
    let not_sarif = |reason: String| ImportError::NotSarif {
        origin: origin.to_owned(),
        reason,
    };
    let reader = Reader { origin };
    let Some(root) = document.as_object() else {
        return Err(not_sarif(
            "the document is not a JSON object with `version` and `runs`".to_owned(),
        ));
    };
    match root.get("version") {
        Some(Value::String(version)) if version.trim() == "2.1.0" => {}
        Some(Value::String(version)) => {
            return Err(not_sarif(format!(
                "`version` is {}, and only 2.1.0 is supported",
                Value::String(version.chars().take(40).collect())
            )));
        }
        Some(other) if !other.is_null() => {
            return Err(reader.invalid("version", "must be the string \"2.1.0\""));
        }
        _ => return Err(not_sarif("it has no `version`".to_owned())),
    }
    let runs = match root.get("runs") {
        None => return Err(not_sarif("it has no `runs`".to_owned())),
        Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(runs)) => runs,
        Some(_) => return Err(reader.invalid("runs", "must be an array of runs")),
    };
    runs.iter()
        .enumerate()
        .map(|(index, run)| RunImporter::new(reader, run, index, options)?.import())
        .collect()
}

/// serde_json's message without its trailing " at line L column C" (reported separately).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// Where the run's category came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Forced,
    Configured,
    BuiltIn,
}

/// A rule (`reportingDescriptor`) with what the conversion reads from it.
#[derive(Debug, Clone, Copy)]
struct Rule<'a> {
    id: Option<&'a str>,
    name: Option<&'a str>,
    short_description: Option<&'a str>,
    full_description: Option<&'a str>,
    help_text: Option<&'a str>,
    help_markdown: Option<&'a str>,
    help_uri: Option<&'a str>,
    default_level: Option<&'static str>,
    properties: Option<&'a Obj>,
    message_strings: Option<&'a Obj>,
}

/// A tool component (the driver or an extension) and its rules.
#[derive(Debug)]
struct Component<'a> {
    name: Option<&'a str>,
    rules: Vec<Rule<'a>>,
    by_id: HashMap<&'a str, usize>,
}

/// A result on its way to becoming a finding.
#[derive(Debug)]
struct Pending {
    check: Check,
    location: Location,
    message: String,
    severity: Severity,
    confidence: Confidence,
    suppressed: Option<Suppression>,
    /// `fingerprints`, else `partialFingerprints`, as `(key, value)`.
    fingerprints: Vec<(String, String)>,
}

/// What the run's results added up to, for notes.
#[derive(Debug, Default)]
struct Tally {
    not_failures: usize,
    absent: usize,
    needs_review: usize,
    /// Results a rule placed in another category than the run's: (category, what) → count.
    refined: BTreeMap<(Category, &'static str), usize>,
}

struct RunImporter<'a> {
    reader: Reader<'a>,
    run: &'a Obj,
    path: String,
    index: usize,
    tool: String,
    tool_version: Option<String>,
    /// The built-in key (`trivy`, `checkov`) when the tool has a built-in row.
    known_slug: Option<&'static str>,
    slug: String,
    category: Category,
    source: Source,
    /// The tool itself is a secrets tool: nothing it writes beyond rule titles is copied.
    secrets_tool: bool,
    components: Vec<Component<'a>>,
    bases: Bases,
    checks: HashMap<(String, Category, bool), Check>,
}

impl<'a> RunImporter<'a> {
    fn new(
        reader: Reader<'a>,
        run: &'a Value,
        index: usize,
        options: &ImportOptions,
    ) -> Result<Self, ImportError> {
        let path = index_path("runs", index);
        let run = reader.object(run, &path)?;
        let tool_path = key_path(&path, "tool");
        let tool = reader
            .opt_object(run, "tool", &path)?
            .ok_or_else(|| reader.invalid(&tool_path, "is missing: every run names its tool"))?;
        let driver_path = key_path(&tool_path, "driver");
        let driver = reader
            .opt_object(tool, "driver", &tool_path)?
            .ok_or_else(|| reader.invalid(&driver_path, "is missing: every run names its tool"))?;
        let driver_name = reader.opt_str(driver, "name", &driver_path)?;
        let name = options
            .tool_name
            .as_deref()
            .or(driver_name)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ImportError::NoToolName {
                origin: reader.origin.to_owned(),
                run: index,
            })?;
        let tool_version = reader
            .opt_str(driver, "version", &driver_path)?
            .or(reader.opt_str(driver, "semanticVersion", &driver_path)?)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);

        let normalized = normalize_tool_name(name);
        let known = known_tool(&normalized);
        let own_slug = tool_slug(&normalized);
        let configured = options.tools.iter().find_map(|(key, category)| {
            let key = normalize_tool_name(key);
            (key == normalized || key == own_slug).then_some(*category)
        });
        let (category, source) = match (options.category, configured, known) {
            (Some(forced), _, _) => (forced, Source::Forced),
            (None, Some(configured), _) => (configured, Source::Configured),
            (None, None, Some(known)) => (known.category, Source::BuiltIn),
            (None, None, None) => {
                return Err(ImportError::UnknownTool {
                    origin: reader.origin.to_owned(),
                    run: index,
                    tool: name.to_owned(),
                    key: normalized,
                });
            }
        };
        let secrets_tool = category == Category::Secrets
            || configured.or(known.map(|k| k.category)) == Some(Category::Secrets);
        let slug = match known {
            Some(known) => known.slug.to_owned(),
            None if own_slug.is_empty() => "tool".to_owned(),
            None => own_slug,
        };

        let mut components = vec![component(reader, driver, &driver_path)?];
        let extensions_path = key_path(&tool_path, "extensions");
        for (i, extension) in reader
            .opt_array(tool, "extensions", &tool_path)?
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let extension_path = index_path(&extensions_path, i);
            let extension = reader.object(extension, &extension_path)?;
            components.push(component(reader, extension, &extension_path)?);
        }

        let bases = base_ids(reader, run, &path)?;
        Ok(Self {
            reader,
            run,
            path,
            index,
            tool: name.to_owned(),
            tool_version,
            known_slug: known.map(|k| k.slug),
            slug,
            category,
            source,
            secrets_tool,
            components,
            bases,
            checks: HashMap::new(),
        })
    }

    fn import(mut self) -> Result<Imported, ImportError> {
        let mut report = ScanReport {
            scanner: self.category.as_str().to_owned(),
            root: ".".to_owned(),
            started_at: String::new(),
            findings: Vec::new(),
            stats: ScanStats::default(),
            errors: Vec::new(),
            notes: Vec::new(),
        };
        self.read_invocations(&mut report)?;

        let results_path = key_path(&self.path, "results");
        let mut tally = Tally::default();
        let mut pending = Vec::new();
        match self.reader.opt_array(self.run, "results", &self.path)? {
            None => report.errors.push(ScanError {
                path: self.reader.origin.to_owned(),
                message: format!(
                    "{}: `{results_path}` is absent: the tool reported no results at all, which SARIF uses for a run that did not complete",
                    self.tool
                ),
            }),
            Some(results) => {
                for (i, result) in results.iter().enumerate() {
                    let path = index_path(&results_path, i);
                    if let Some(p) = self.result(result, i, &path, &mut tally)? {
                        pending.push(p);
                    }
                }
            }
        }

        let identifying = identifying_fingerprints(&pending);
        for p in pending {
            let is_web_url = p.location.path.as_deref().is_some_and(|path| {
                let lower = path.get(..8).unwrap_or(path).to_ascii_lowercase();
                lower.starts_with("http://") || lower.starts_with("https://")
            });
            let mut builder = Finding::builder(&p.check, p.location)
                .message(p.message)
                .severity(p.severity)
                .confidence(p.confidence)
                .suppressed(p.suppressed);
            let identity: Vec<String> = p
                .fingerprints
                .iter()
                .filter(|(key, _)| identifying.contains(key.as_str()))
                .map(|(key, value)| format!("{key}={value}"))
                .collect();
            if !identity.is_empty() {
                let parts: Vec<&[u8]> = identity.iter().map(String::as_bytes).collect();
                builder = builder.identity(&parts);
            } else if is_web_url {
                // A DAST result's line is a line of the HTTP response, which changes with the
                // page: the rule and the URL are its identity.
                builder = builder.identity(&[]);
            }
            let finding = builder.build();
            if finding.suppressed.is_some() {
                report.stats.suppressed += 1;
            }
            report.findings.push(finding);
        }
        self.notes(&tally, &mut report.notes);
        report.sort();
        Ok(Imported {
            tool: self.tool,
            tool_version: self.tool_version,
            category: self.category,
            report,
        })
    }

    /// `started_at`, and errors the tool reported about its own run.
    fn read_invocations(&self, report: &mut ScanReport) -> Result<(), ImportError> {
        let reader = self.reader;
        let invocations_path = key_path(&self.path, "invocations");
        let invocations = reader
            .opt_array(self.run, "invocations", &self.path)?
            .unwrap_or_default();
        for (i, invocation) in invocations.iter().enumerate() {
            let path = index_path(&invocations_path, i);
            let invocation = reader.object(invocation, &path)?;
            if i == 0
                && let Some(start) = reader.opt_str(invocation, "startTimeUtc", &path)?
            {
                start.trim().clone_into(&mut report.started_at);
            }
            match invocation.get("executionSuccessful") {
                Some(Value::Bool(false)) => report.errors.push(ScanError {
                    path: reader.origin.to_owned(),
                    message: format!(
                        "{}: the run did not complete (`{path}.executionSuccessful` is false)",
                        self.tool
                    ),
                }),
                None | Some(Value::Bool(true) | Value::Null) => {}
                Some(_) => {
                    return Err(reader.invalid(
                        key_path(&path, "executionSuccessful"),
                        "must be true or false",
                    ));
                }
            }
            for key in [
                "toolExecutionNotifications",
                "toolConfigurationNotifications",
            ] {
                let list_path = key_path(&path, key);
                let notifications = reader
                    .opt_array(invocation, key, &path)?
                    .unwrap_or_default();
                for (n, notification) in notifications.iter().enumerate() {
                    let path = index_path(&list_path, n);
                    let notification = reader.object(notification, &path)?;
                    let level = reader.opt_enum(notification, "level", &path, LEVELS)?;
                    if level != Some("error") {
                        continue;
                    }
                    let text = reader.opt_text(notification, "message", &path)?;
                    let artifact = self.notification_artifact(notification, &path)?;
                    let message = match text {
                        Some(text) if !self.secrets_tool => {
                            format!("{}: {}", self.tool, truncate(&one_line(text), 300))
                        }
                        _ => format!("{}: the tool reported an error (`{path}`)", self.tool),
                    };
                    report.errors.push(ScanError {
                        path: artifact.unwrap_or_else(|| reader.origin.to_owned()),
                        message,
                    });
                }
            }
        }
        Ok(())
    }

    /// The file a notification is about, if it says.
    fn notification_artifact(
        &self,
        notification: &Obj,
        path: &str,
    ) -> Result<Option<String>, ImportError> {
        let locations_path = key_path(path, "locations");
        let Some(first) = self
            .reader
            .opt_array(notification, "locations", path)?
            .and_then(<[Value]>::first)
        else {
            return Ok(None);
        };
        let location_path = index_path(&locations_path, 0);
        let location = self.reader.object(first, &location_path)?;
        Ok(self.physical(location, &location_path)?.path)
    }

    /// Converts one result; `None` for results that are not findings.
    fn result(
        &mut self,
        result: &'a Value,
        index: usize,
        path: &str,
        tally: &mut Tally,
    ) -> Result<Option<Pending>, ImportError> {
        let reader = self.reader;
        let result = reader.object(result, path)?;
        let kind = reader
            .opt_enum(
                result,
                "kind",
                path,
                &[
                    "notApplicable",
                    "pass",
                    "fail",
                    "review",
                    "open",
                    "informational",
                ],
            )?
            .unwrap_or("fail");
        let level = reader.opt_enum(result, "level", path, LEVELS)?;
        let baseline = reader.opt_enum(
            result,
            "baselineState",
            path,
            &["new", "unchanged", "updated", "absent"],
        )?;
        if matches!(kind, "pass" | "notApplicable" | "informational") {
            tally.not_failures += 1;
            return Ok(None);
        }
        if baseline == Some("absent") {
            tally.absent += 1;
            return Ok(None);
        }

        let (rule_id, rule) = self.rule(result, index, path)?;
        let refined = self.refine(&rule_id, rule.as_ref());
        // Only a category from the built-in table is refined; the user's choice is applied as is.
        let category = match refined {
            Some((category, what)) if self.source == Source::BuiltIn => {
                if category != self.category {
                    *tally.refined.entry((category, what)).or_default() += 1;
                }
                category
            }
            _ => self.category,
        };
        // What a secret rule writes stays out whatever the category.
        let secret = self.secrets_tool
            || category == Category::Secrets
            || matches!(refined, Some((Category::Secrets, _)));

        let location = self.location(result, path)?;
        let check = self.check(&rule_id, rule.as_ref(), category, secret);

        let message = if secret {
            // Secrets tools put the secret in messages and snippets: say where, not what.
            let what = check.title.trim_end_matches('.');
            match (&location.path, location.line) {
                (Some(file), Some(line)) => format!("{what} at {file}:{line}"),
                (Some(file), None) => format!("{what} in {file}"),
                _ => check.title.clone(),
            }
        } else {
            let text = self.message(result, rule.as_ref(), path)?;
            let text = truncate(&text, MAX_MESSAGE);
            if text.is_empty() {
                check.title.clone()
            } else {
                text
            }
        };

        let result_properties = bag::properties(result);
        let rule_properties = rule.as_ref().and_then(|r| r.properties);
        // SARIF §3.27.10: a result that is not a failure has level `none` unless it says.
        // Secrets tools rarely grade their results (gitleaks never does): an exposed secret
        // that nothing grades is high, like most of evident's own secret rules.
        let default_level = if kind == "fail" {
            rule.as_ref()
                .and_then(|r| r.default_level)
                .or(secret.then_some("error"))
        } else {
            Some("none")
        };
        let severity = levels::severity(result_properties, rule_properties, level, default_level);
        let stated = levels::stated_confidence(result_properties, rule_properties);
        let confidence = if matches!(kind, "open" | "review") {
            tally.needs_review += 1;
            Confidence::Low
        } else {
            match stated {
                Some(Stated::Level(confidence)) => confidence,
                _ => Confidence::High,
            }
        };
        let mut suppressed = self.suppression(result, path)?;
        if suppressed.is_none() && stated == Some(Stated::FalsePositive) {
            suppressed = Some(Suppression {
                kind: SuppressionKind::Tool,
                reason: format!("marked as a false positive in {}", self.tool),
            });
        }
        let fingerprints = fingerprints(result);
        let mut location = location;
        if location.commit.is_none() {
            location.commit = commit_of(result);
        }
        Ok(Some(Pending {
            check,
            location,
            message,
            severity,
            confidence,
            suppressed,
            fingerprints,
        }))
    }

    /// The result's rule id and rule descriptor (if the run describes it).
    fn rule(
        &self,
        result: &'a Obj,
        index: usize,
        path: &str,
    ) -> Result<(String, Option<Rule<'a>>), ImportError> {
        let reader = self.reader;
        let reference_path = key_path(path, "rule");
        let reference = reader.opt_object(result, "rule", path)?;
        let mut wanted_id = reader.opt_str(result, "ruleId", path)?;
        let mut rule_index = reader.opt_index(result, "ruleIndex", path)?;
        let mut component_index = None;
        if let Some(reference) = reference {
            wanted_id = wanted_id.or(reader.opt_str(reference, "id", &reference_path)?);
            rule_index = rule_index.or(reader.opt_index(reference, "index", &reference_path)?);
            let component_path = key_path(&reference_path, "toolComponent");
            if let Some(component) =
                reader.opt_object(reference, "toolComponent", &reference_path)?
            {
                let by_index = reader
                    .opt_index(component, "index", &component_path)?
                    .map(|i| i + 1)
                    .filter(|i| *i < self.components.len());
                let by_name = reader
                    .opt_str(component, "name", &component_path)?
                    .and_then(|name| {
                        self.components
                            .iter()
                            .position(|c| c.name.is_some_and(|n| n.eq_ignore_ascii_case(name)))
                    });
                component_index = by_index.or(by_name);
            }
        }
        let wanted_id = wanted_id.map(str::trim).filter(|id| !id.is_empty());

        // The rule at the index, when it agrees with the id.
        let at_index = rule_index.and_then(|i| {
            let component = &self.components[component_index.unwrap_or(0)];
            component
                .rules
                .get(i)
                .filter(|rule| wanted_id.is_none() || rule.id.map(str::trim) == wanted_id)
        });
        let rule = at_index.copied().or_else(|| {
            let id = wanted_id?;
            let order: Vec<usize> = match component_index {
                Some(c) => std::iter::once(c)
                    .chain((0..self.components.len()).filter(|i| *i != c))
                    .collect(),
                None => (0..self.components.len()).collect(),
            };
            // Exact id, then the hierarchical parents of `a/b/c` (SARIF §3.27.5).
            let mut candidate = Some(id);
            while let Some(current) = candidate {
                for &c in &order {
                    let component = &self.components[c];
                    if let Some(&i) = component.by_id.get(current) {
                        return Some(component.rules[i]);
                    }
                }
                candidate = current.rsplit_once('/').map(|(parent, _)| parent);
            }
            None
        });
        let id = wanted_id
            .or_else(|| {
                rule.and_then(|r| r.id)
                    .map(str::trim)
                    .filter(|id| !id.is_empty())
            })
            .ok_or_else(|| ImportError::NoRuleId {
                origin: reader.origin.to_owned(),
                run: self.index,
                result: index,
            })?;
        Ok((id.to_owned(), rule))
    }

    /// A rule that places its results in another category than the tool's (built-in tools only):
    /// Trivy writes vulnerabilities, misconfigurations and secrets into one run, Checkov its
    /// secrets and dependency checks beside IaC ones.
    fn refine(&self, rule_id: &str, rule: Option<&Rule<'_>>) -> Option<(Category, &'static str)> {
        match self.known_slug? {
            "trivy" => {
                let name = rule.and_then(|r| r.name).unwrap_or_default();
                let tagged = |tag: &str| {
                    bag::tags(rule.and_then(|r| r.properties)).any(|t| t.eq_ignore_ascii_case(tag))
                };
                if name == "Misconfiguration" || tagged("misconfiguration") {
                    Some((Category::Iac, "Trivy misconfigurations"))
                } else if name == "Secret" || tagged("secret") {
                    Some((Category::Secrets, "Trivy secrets"))
                } else {
                    None
                }
            }
            "checkov" => {
                if rule_id.starts_with("CKV_SECRET_") {
                    Some((Category::Secrets, "Checkov secrets checks"))
                } else if rule_id.contains('@') {
                    // `CVE-2022-1234_package@1.0.0`, `MIT_package@1.0.0`
                    Some((Category::Sca, "Checkov package checks"))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// The check for a rule in a category, built once per rule.
    fn check(
        &mut self,
        rule_id: &str,
        rule: Option<&Rule<'_>>,
        category: Category,
        secret: bool,
    ) -> Check {
        let key = (rule_id.to_owned(), category, secret);
        if let Some(check) = self.checks.get(&key) {
            return check.clone();
        }
        // A title that only restates the rule id (Semgrep's "Semgrep Finding: <id>", CodeQL's
        // `name`) says nothing: the first sentence of the description says more.
        let restates_id = |text: &str| {
            let (text, id) = (text.to_ascii_lowercase(), rule_id.to_ascii_lowercase());
            text == id || text.ends_with(&format!(" {id}")) || text.ends_with(&format!(":{id}"))
        };
        let title = [
            rule.and_then(|r| r.short_description),
            rule.and_then(|r| r.name),
        ]
        .into_iter()
        .flatten()
        .map(|text| truncate(&one_line(&strip_html(text)), MAX_TITLE))
        .find(|text| !text.is_empty() && !restates_id(text))
        .or_else(|| {
            // Not for secrets: their descriptions may quote the match.
            rule.filter(|_| !secret)
                .and_then(|r| r.full_description)
                .map(|text| truncate(&first_sentence(text), MAX_TITLE))
                .filter(|text| !text.is_empty())
        })
        .unwrap_or_else(|| truncate(&one_line(rule_id), MAX_TITLE));
        // Text whose first line is the title restates it (Checkov's help adds the resource of
        // whichever result came first, which would mislead on every other result).
        let restates = |text: &str, other: &str| {
            let first_line = text.lines().next().unwrap_or_default();
            one_line(first_line).eq_ignore_ascii_case(&one_line(other))
                || one_line(text).eq_ignore_ascii_case(&one_line(other))
        };
        let help_uri = rule
            .and_then(|r| r.help_uri)
            .map(str::trim)
            .filter(|uri| !uri.is_empty());
        let see_docs = help_uri.map(|uri| format!("See the rule's documentation: {uri}"));

        let (why, fix) = if secret {
            // Rule descriptions of secrets tools may quote the match (Trivy does): not copied.
            let why = "A secret in source code or its history must be treated as disclosed: \
                       anyone who can read the repository can use it."
                .to_owned();
            let mut fix = "Revoke and rotate the secret, remove it from the code and its history, \
                           and load it at run time from a secret manager."
                .to_owned();
            if let Some(see) = &see_docs {
                fix = format!("{fix} {see}");
            }
            (why, fix)
        } else {
            let why = [
                rule.and_then(|r| r.full_description),
                rule.and_then(|r| r.help_text),
                rule.and_then(|r| r.help_markdown),
            ]
            .into_iter()
            .flatten()
            .filter_map(prose)
            .find(|text| !restates(text, &title))
            .unwrap_or_else(|| {
                format!(
                    "{} reported {} (rule `{rule_id}`); while it is open it counts against the controls this evidence supports.",
                    self.tool,
                    category.finding_noun()
                )
            });
            let solution = rule.and_then(|r| r.properties).and_then(|p| {
                bag::string(Some(p), "solution").or_else(|| {
                    p.get("solution")
                        .and_then(Value::as_object)
                        .and_then(|s| bag::string(Some(s), "text"))
                })
            });
            let help = [
                rule.and_then(|r| r.help_text),
                rule.and_then(|r| r.help_markdown),
            ];
            let fix = solution
                .and_then(prose)
                .into_iter()
                .chain(help.into_iter().flatten().filter_map(remedy))
                .chain(help.into_iter().flatten().filter_map(prose))
                .find(|text| !restates(text, &title) && !restates(text, &why))
            .or(see_docs)
            .unwrap_or_else(|| {
                format!(
                    "Fix what {} reports for rule `{rule_id}` and scan again, or suppress the result in {} with a justification.",
                    self.tool, self.tool
                )
            });
            (why, fix)
        };
        let check = Check {
            id: format!("{}:{rule_id}", self.slug),
            scanner: category.as_str().to_owned(),
            title,
            severity: Severity::Medium,
            confidence: Confidence::High,
            controls: category
                .controls()
                .iter()
                .map(|c| (*c).to_owned())
                .collect(),
            why: truncate(&why, MAX_PROSE),
            fix: truncate(&fix, MAX_PROSE),
        };
        self.checks.insert(key, check.clone());
        check
    }

    /// The result's message text: `text`, else the rule's `messageStrings[id]`, with `{n}`
    /// placeholders filled and embedded location links flattened.
    fn message(
        &self,
        result: &Obj,
        rule: Option<&Rule<'_>>,
        path: &str,
    ) -> Result<String, ImportError> {
        let reader = self.reader;
        let message_path = key_path(path, "message");
        let Some(message) = reader.opt_object(result, "message", path)? else {
            return Ok(String::new());
        };
        let text = reader.opt_str(message, "text", &message_path)?;
        let text = match text {
            Some(text) => Some(text),
            None => match reader.opt_str(message, "id", &message_path)? {
                Some(id) => rule
                    .and_then(|r| r.message_strings)
                    .and_then(|strings| strings.get(id))
                    .and_then(Value::as_object)
                    .and_then(|s| s.get("text"))
                    .and_then(Value::as_str),
                None => None,
            },
        };
        let Some(text) = text else {
            return Ok(String::new());
        };
        let arguments_path = key_path(&message_path, "arguments");
        let mut arguments = Vec::new();
        for (i, argument) in reader
            .opt_array(message, "arguments", &message_path)?
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            match argument {
                Value::String(s) => arguments.push(s.as_str()),
                _ => {
                    return Err(reader.invalid(index_path(&arguments_path, i), "must be a string"));
                }
            }
        }
        let text = if arguments.is_empty() {
            text.to_owned()
        } else {
            fill_placeholders(text, &arguments)
        };
        Ok(flatten_embedded_links(&text).trim().to_owned())
    }

    /// Where the result is: the first location's file, region and logical location.
    fn location(&self, result: &Obj, path: &str) -> Result<Location, ImportError> {
        let reader = self.reader;
        let locations_path = key_path(path, "locations");
        let Some(first) = reader
            .opt_array(result, "locations", path)?
            .and_then(<[Value]>::first)
        else {
            return Ok(Location::default());
        };
        let location_path = index_path(&locations_path, 0);
        let location = reader.object(first, &location_path)?;
        let mut out = self.physical(location, &location_path)?;
        out.resource = self.logical(location, &location_path)?;
        Ok(out)
    }

    /// The file and region of a `location`.
    fn physical(&self, location: &Obj, path: &str) -> Result<Location, ImportError> {
        let reader = self.reader;
        let physical_path = key_path(path, "physicalLocation");
        let Some(physical) = reader.opt_object(location, "physicalLocation", path)? else {
            return Ok(Location::default());
        };
        let mut out = Location::default();
        if let Some(artifact) = reader.opt_object(physical, "artifactLocation", &physical_path)? {
            out.path =
                self.artifact_path(artifact, &key_path(&physical_path, "artifactLocation"))?;
        }
        let region_path = key_path(&physical_path, "region");
        if let Some(region) = reader.opt_object(physical, "region", &physical_path)? {
            out.line = reader.opt_position(region, "startLine", &region_path)?;
            out.column = reader.opt_position(region, "startColumn", &region_path)?;
            out.end_line = reader
                .opt_position(region, "endLine", &region_path)?
                .filter(|end| out.line.is_some_and(|start| *end >= start))
                .or(out.line);
            // `snippet` is never read: it may hold a secret.
        }
        Ok(out)
    }

    /// An `artifactLocation` as a path; a missing `uri` is looked up in `run.artifacts[index]`.
    fn artifact_path(&self, artifact: &Obj, path: &str) -> Result<Option<String>, ImportError> {
        let reader = self.reader;
        let mut uri = reader.opt_str(artifact, "uri", path)?;
        let mut base = reader.opt_str(artifact, "uriBaseId", path)?;
        if uri.is_none()
            && let Some(i) = reader.opt_index(artifact, "index", path)?
        {
            let artifacts_path = key_path(&self.path, "artifacts");
            let artifacts = reader
                .opt_array(self.run, "artifacts", &self.path)?
                .unwrap_or_default();
            let Some(entry) = artifacts.get(i) else {
                return Err(reader.invalid(
                    key_path(path, "index"),
                    format!(
                        "is {i}, but `{artifacts_path}` has {} entries",
                        artifacts.len()
                    ),
                ));
            };
            let entry_path = index_path(&artifacts_path, i);
            let entry = reader.object(entry, &entry_path)?;
            let location_path = key_path(&entry_path, "location");
            if let Some(location) = reader.opt_object(entry, "location", &entry_path)? {
                uri = reader.opt_str(location, "uri", &location_path)?;
                base = reader
                    .opt_str(location, "uriBaseId", &location_path)?
                    .or(base);
            }
        }
        Ok(uri
            .map(|uri| self.bases.resolve(uri, base))
            .filter(|p| !p.is_empty()))
    }

    /// `logicalLocations[0]`: its `fullyQualifiedName`, else `name`, else the run's logical
    /// location at its `index`.
    fn logical(&self, location: &Obj, path: &str) -> Result<Option<String>, ImportError> {
        let reader = self.reader;
        let list_path = key_path(path, "logicalLocations");
        let Some(first) = reader
            .opt_array(location, "logicalLocations", path)?
            .and_then(<[Value]>::first)
        else {
            return Ok(None);
        };
        let item_path = index_path(&list_path, 0);
        let mut logical = reader.object(first, &item_path)?;
        let mut logical_path = item_path;
        for _ in 0..2 {
            let name = reader
                .opt_str(logical, "fullyQualifiedName", &logical_path)?
                .or(reader.opt_str(logical, "name", &logical_path)?)
                .map(str::trim)
                .filter(|n| !n.is_empty());
            if let Some(name) = name {
                return Ok(Some(truncate(name, MAX_TITLE)));
            }
            let Some(i) = reader.opt_index(logical, "index", &logical_path)? else {
                break;
            };
            let run_list = key_path(&self.path, "logicalLocations");
            let Some(entry) = reader
                .opt_array(self.run, "logicalLocations", &self.path)?
                .and_then(|list| list.get(i))
            else {
                break;
            };
            logical_path = index_path(&run_list, i);
            logical = reader.object(entry, &logical_path)?;
        }
        Ok(None)
    }

    /// A tool-side suppression, following the SARIF SDK: suppressed when some suppression is
    /// accepted (or has no status) and none is under review or rejected.
    fn suppression(&self, result: &Obj, path: &str) -> Result<Option<Suppression>, ImportError> {
        let reader = self.reader;
        let list_path = key_path(path, "suppressions");
        let suppressions = reader
            .opt_array(result, "suppressions", path)?
            .unwrap_or_default();
        let mut accepted = None;
        for (i, suppression) in suppressions.iter().enumerate() {
            let path = index_path(&list_path, i);
            let suppression = reader.object(suppression, &path)?;
            let kind = reader.opt_enum(suppression, "kind", &path, &["inSource", "external"])?;
            let status = reader.opt_enum(
                suppression,
                "status",
                &path,
                &["accepted", "underReview", "rejected"],
            )?;
            let justification = reader
                .opt_str(suppression, "justification", &path)?
                .map(|j| truncate(&one_line(j), MAX_PROSE))
                .filter(|j| !j.is_empty());
            match status {
                Some("underReview" | "rejected") => return Ok(None),
                _ => {
                    if accepted
                        .as_ref()
                        .is_none_or(|(j, _): &(Option<String>, _)| j.is_none())
                    {
                        accepted = Some((justification, kind));
                    }
                }
            }
        }
        Ok(accepted.map(|(justification, kind)| Suppression {
            kind: SuppressionKind::Tool,
            reason: justification.unwrap_or_else(|| match kind {
                Some("inSource") => format!("suppressed in the source code for {}", self.tool),
                _ => format!("suppressed in {}", self.tool),
            }),
        }))
    }

    fn notes(&self, tally: &Tally, notes: &mut Vec<String>) {
        let results = |n: usize| {
            if n == 1 {
                "1 result".to_owned()
            } else {
                format!("{n} results")
            }
        };
        if tally.not_failures > 0 {
            notes.push(format!(
                "{} of {} with kind pass, notApplicable or informational: not findings, skipped",
                results(tally.not_failures),
                self.tool
            ));
        }
        if tally.absent > 0 {
            notes.push(format!(
                "{} of {} with baselineState `absent` (fixed since the baseline): skipped",
                results(tally.absent),
                self.tool
            ));
        }
        if tally.needs_review > 0 {
            notes.push(format!(
                "{} of {} with kind open or review (the tool could not decide): recorded with low confidence",
                results(tally.needs_review),
                self.tool
            ));
        }
        for ((category, what), n) in &tally.refined {
            notes.push(format!(
                "{} recorded in category `{category}` ({what}), with that category's controls",
                results(*n)
            ));
        }
    }
}

/// A tool component's rules.
fn component<'a>(
    reader: Reader<'_>,
    component: &'a Obj,
    path: &str,
) -> Result<Component<'a>, ImportError> {
    let name = reader.opt_str(component, "name", path)?;
    let rules_path = key_path(path, "rules");
    let mut rules = Vec::new();
    let mut by_id = HashMap::new();
    for (i, rule) in reader
        .opt_array(component, "rules", path)?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let path = index_path(&rules_path, i);
        let rule = reader.object(rule, &path)?;
        let id = reader.opt_str(rule, "id", &path)?;
        let help_path = key_path(&path, "help");
        let help = reader.opt_object(rule, "help", &path)?;
        let default_level = match reader.opt_object(rule, "defaultConfiguration", &path)? {
            Some(configuration) => reader.opt_enum(
                configuration,
                "level",
                &key_path(&path, "defaultConfiguration"),
                LEVELS,
            )?,
            None => None,
        };
        let message_strings = reader.opt_object(rule, "messageStrings", &path)?;
        let parsed = Rule {
            id,
            name: reader.opt_str(rule, "name", &path)?,
            short_description: reader.opt_text(rule, "shortDescription", &path)?,
            full_description: reader.opt_text(rule, "fullDescription", &path)?,
            help_text: match help {
                Some(help) => reader.opt_str(help, "text", &help_path)?,
                None => None,
            },
            help_markdown: match help {
                Some(help) => reader.opt_str(help, "markdown", &help_path)?,
                None => None,
            },
            help_uri: reader.opt_str(rule, "helpUri", &path)?,
            default_level,
            properties: bag::properties(rule),
            message_strings,
        };
        if let Some(id) = id.map(str::trim) {
            by_id.entry(id).or_insert(rules.len());
        }
        rules.push(parsed);
    }
    Ok(Component { name, rules, by_id })
}

/// The run's `originalUriBaseIds`.
fn base_ids(reader: Reader<'_>, run: &Obj, path: &str) -> Result<Bases, ImportError> {
    let ids_path = key_path(path, "originalUriBaseIds");
    let mut entries = BTreeMap::new();
    if let Some(ids) = reader.opt_object(run, "originalUriBaseIds", path)? {
        for (id, location) in ids {
            let entry_path = key_path(&ids_path, id);
            if location.is_null() {
                continue;
            }
            let location = reader.object(location, &entry_path)?;
            entries.insert(
                id.clone(),
                BaseEntry {
                    uri: reader
                        .opt_str(location, "uri", &entry_path)?
                        .map(str::to_owned),
                    base_id: reader
                        .opt_str(location, "uriBaseId", &entry_path)?
                        .map(str::to_owned),
                },
            );
        }
    }
    Ok(Bases::new(entries))
}

/// Non-empty string entries of `fingerprints`, else of `partialFingerprints`, sorted by key.
fn fingerprints(result: &Obj) -> Vec<(String, String)> {
    let read = |key: &str| -> Vec<(String, String)> {
        result
            .get(key)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let value = v.as_str()?.trim();
                // Semgrep writes this placeholder instead of its fingerprint when logged out.
                (!value.is_empty() && value != "requires login")
                    .then(|| (k.clone(), value.to_owned()))
            })
            .collect()
    };
    let full = read("fingerprints");
    let mut pairs = if full.is_empty() {
        read("partialFingerprints")
    } else {
        full
    };
    pairs.sort();
    pairs
}

/// Fingerprint keys that tell results apart: a key is used only if no two results of the same
/// check and path share a value for it (Semgrep's logged-out placeholder and gitleaks' commit
/// metadata do not identify a result; CodeQL's `primaryLocationLineHash` does).
fn identifying_fingerprints(pending: &[Pending]) -> BTreeSet<String> {
    let mut seen: HashMap<(&str, Option<&str>, &str, &str), usize> = HashMap::new();
    let mut keys = BTreeSet::new();
    for p in pending {
        for (key, value) in &p.fingerprints {
            keys.insert(key.clone());
            *seen
                .entry((p.check.id.as_str(), p.location.path.as_deref(), key, value))
                .or_default() += 1;
        }
    }
    for ((_, _, key, _), count) in seen {
        if count > 1 {
            keys.remove(key);
        }
    }
    keys
}

/// The commit a result was found in, when the producer says (gitleaks: `commitSha`).
fn commit_of(result: &Obj) -> Option<String> {
    let sha = result
        .get("partialFingerprints")
        .and_then(Value::as_object)
        .and_then(|p| p.get("commitSha"))
        .and_then(Value::as_str)?
        .trim();
    (matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| sha.to_ascii_lowercase())
}
