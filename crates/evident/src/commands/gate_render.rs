//! A gate decision as text, JSON, SARIF, JUnit or Markdown.

use std::fmt::Write as _;

use evident_gate::decision::{Decision, Reason, Verdict};
use serde_json::json;

use crate::Failure;
use crate::cli::GateFormat;

pub fn render(d: &Decision, format: GateFormat) -> Result<String, Failure> {
    Ok(match format {
        GateFormat::Human => human(d),
        GateFormat::Json => format!("{}\n", serde_json::to_string_pretty(d)?),
        GateFormat::Sarif => format!("{}\n", serde_json::to_string_pretty(&sarif(d))?),
        GateFormat::Junit => junit(d),
        GateFormat::Markdown => markdown(d),
    })
}

fn short(subject: &str) -> String {
    match subject.strip_prefix("git:") {
        Some(c) if c.len() > 12 => format!("git:{}", &c[..12]),
        _ => subject.to_owned(),
    }
}

fn verdict(d: &Decision) -> &'static str {
    match d.decision {
        Verdict::Pass => "PASS",
        Verdict::Block => "BLOCK",
    }
}

fn headline(r: &Reason) -> String {
    let mut s = r.kind.as_str().to_owned();
    if let Some(check) = &r.check {
        s.push_str(&format!(" {check}"));
    }
    if let Some(sev) = r.severity {
        s.push_str(&format!(" ({sev})"));
    }
    if let Some(path) = &r.path {
        s.push_str(&format!(" at {path}"));
        if let Some(line) = r.line {
            s.push_str(&format!(":{line}"));
        }
    }
    if let Some(res) = &r.resource {
        s.push_str(&format!(" [{res}]"));
    }
    s
}

fn reason_block(out: &mut String, mark: &str, r: &Reason) {
    let _ = writeln!(out, "  {mark} {}", headline(r));
    let _ = writeln!(out, "      {}", r.reason);
    if !r.controls.is_empty() {
        let _ = writeln!(out, "      controls: {}", r.controls.join(", "));
    }
    let _ = writeln!(out, "      why here: {}", r.because);
    if let Some(e) = r.exception {
        let _ = writeln!(
            out,
            "      excepted by exception {e} (`evident exception show {e}`)"
        );
    } else {
        let _ = writeln!(out, "      fix:      {}", r.fix);
    }
}

fn human(d: &Decision) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}  {}  (mode {}, policy sha256:{})",
        verdict(d),
        d.environment,
        short(&d.subject),
        d.mode.as_str(),
        &d.policy.digest[..16]
    );
    if let Some(b) = &d.break_glass {
        let _ = writeln!(
            out,
            "\n!!! BREAK-GLASS (entry {}): passing a blocked gate until {} — approved by {}, requested by {}: {}",
            b.entry, b.expires, b.approver, b.requester, b.reason
        );
    }
    let sections: [(&str, &str, &Vec<Reason>); 4] = [
        ("Blocking", "✗", &d.blocking),
        (
            "Warnings (would block in block mode, or policy warnings)",
            "!",
            &d.warnings,
        ),
        (
            "Monitored (would have blocked; the check is in monitor mode)",
            "~",
            &d.monitored,
        ),
        ("Excepted", "-", &d.excepted),
    ];
    for (title, mark, list) in sections {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title} ({}):", list.len());
        for r in list {
            reason_block(&mut out, mark, r);
        }
    }
    if !d.evidence.is_empty() {
        let _ = writeln!(out, "\nRequired evidence:");
        for e in &d.evidence {
            let at = e.entry.map(|n| format!(" (entry {n})")).unwrap_or_default();
            let _ = writeln!(out, "  {:<11} {}{at}", e.requirement, e.status);
        }
    }
    if d.approvals.required > 0 || !d.approvals.approvers.is_empty() {
        let who: Vec<String> = d
            .approvals
            .approvers
            .iter()
            .map(|a| format!("{} (entry {})", a.actor, a.entry))
            .collect();
        let _ = writeln!(
            out,
            "\nApprovals: {} of {} required{}{}",
            d.approvals.approvers.len(),
            d.approvals.required,
            if who.is_empty() { "" } else { ": " },
            who.join(", ")
        );
    }
    if !d.controls.is_empty() {
        let _ = writeln!(out, "\nControls:");
        for c in &d.controls {
            let _ = writeln!(
                out,
                "  {:<18} {:<12} {}",
                c.control,
                c.status.as_str(),
                c.title
            );
        }
    }
    if d.below_threshold > 0 {
        let _ = writeln!(
            out,
            "\n{} finding(s) below the `{}` threshold do not block here.",
            d.below_threshold, d.policy.environment.block_on.value
        );
    }
    for u in &d.unused_exceptions {
        let _ = writeln!(
            out,
            "note: exception {} ({}) matched nothing; revoke it if it is no longer needed (expires {})",
            u.id, u.check, u.expires
        );
    }
    for n in &d.notes {
        let _ = writeln!(out, "note: {n}");
    }
    match d.recorded_entry {
        Some(e) => {
            let _ = writeln!(out, "\nDecision recorded as entry {e}.");
        }
        None => {
            let _ = writeln!(out, "\nDecision not recorded (--no-record).");
        }
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(d: &Decision) -> String {
    let mut out = String::new();
    let icon = match d.decision {
        Verdict::Pass => "✅",
        Verdict::Block => "❌",
    };
    let _ = writeln!(
        out,
        "### {icon} evident gate: **{}** for `{}`\n\nSubject `{}` · mode `{}` · policy `sha256:{}`{}\n",
        verdict(d).to_lowercase(),
        d.environment,
        d.subject,
        d.mode.as_str(),
        &d.policy.digest[..16],
        d.recorded_entry
            .map(|e| format!(" · recorded as entry {e}"))
            .unwrap_or_default()
    );
    if let Some(b) = &d.break_glass {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> **Break-glass** (entry {}) until {}: approved by {}, requested by {} — {}\n",
            b.entry,
            b.expires,
            md_escape(&b.approver),
            md_escape(&b.requester),
            md_escape(&b.reason)
        );
    }
    let sections: [(&str, &Vec<Reason>); 4] = [
        ("Blocking", &d.blocking),
        ("Warnings", &d.warnings),
        ("Monitored (would have blocked)", &d.monitored),
        ("Excepted", &d.excepted),
    ];
    for (title, list) in sections {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "#### {title} ({})\n", list.len());
        let _ = writeln!(
            out,
            "| what | why | controls | why here | fix |\n|---|---|---|---|---|"
        );
        for r in list {
            let fix = match r.exception {
                Some(e) => format!("exception {e}"),
                None => r.fix.clone(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | `{}` | {} |",
                md_escape(&headline(r)),
                md_escape(&r.reason),
                r.controls.join(", "),
                md_escape(&r.because.to_string()),
                md_escape(&fix)
            );
        }
        out.push('\n');
    }
    if !d.controls.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Controls ({})</summary>\n",
            d.controls.len()
        );
        let _ = writeln!(out, "| control | status | |\n|---|---|---|");
        for c in &d.controls {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                c.control,
                c.status.as_str(),
                md_escape(&c.title)
            );
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}

fn sarif_level(r: &Reason, blocking: bool) -> &'static str {
    if blocking {
        "error"
    } else if r.exception.is_some() {
        "note"
    } else {
        "warning"
    }
}

fn sarif(d: &Decision) -> serde_json::Value {
    let mut rules: Vec<serde_json::Value> = Vec::new();
    let mut rule_ids: Vec<String> = Vec::new();
    let mut results = Vec::new();
    let groups: [(&Vec<Reason>, bool); 4] = [
        (&d.blocking, d.decision == Verdict::Block),
        (&d.warnings, false),
        (&d.monitored, false),
        (&d.excepted, false),
    ];
    for (list, blocking) in groups {
        for r in list {
            let rule_id = r
                .check
                .clone()
                .unwrap_or_else(|| r.kind.as_str().to_owned());
            if !rule_ids.contains(&rule_id) {
                rule_ids.push(rule_id.clone());
                rules.push(json!({
                    "id": rule_id,
                    "shortDescription": { "text": r.kind.as_str() },
                    "help": { "text": r.fix },
                    "properties": { "controls": r.controls },
                }));
            }
            let mut result = json!({
                "ruleId": rule_id,
                "level": sarif_level(r, blocking),
                "message": { "text": format!("{} — why here: {} — fix: {}", r.reason, r.because, r.fix) },
                "properties": {
                    "kind": r.kind.as_str(),
                    "controls": r.controls,
                    "environment": d.environment,
                    "subject": d.subject,
                },
            });
            let mut location = serde_json::Map::new();
            if let Some(path) = &r.path {
                let mut physical = json!({ "artifactLocation": { "uri": path } });
                if let Some(line) = r.line {
                    physical["region"] = json!({ "startLine": line });
                }
                location.insert("physicalLocation".into(), physical);
            }
            if let Some(res) = &r.resource {
                location.insert(
                    "logicalLocations".into(),
                    json!([{ "fullyQualifiedName": res }]),
                );
            }
            if !location.is_empty() {
                result["locations"] = json!([location]);
            }
            if let Some(e) = r.exception {
                result["suppressions"] = json!([{ "kind": "external", "justification": format!("evident exception {e}") }]);
            }
            if let Some(fp) = &r.fingerprint {
                result["partialFingerprints"] = json!({ "evident/v1": fp });
            }
            results.push(result);
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "evident",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://evident.dev",
                "rules": rules,
            }},
            "results": results,
            "properties": {
                "decision": d.decision,
                "environment": d.environment,
                "subject": d.subject,
            },
        }],
    })
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn junit(d: &Decision) -> String {
    let mut cases = String::new();
    let mut failures = 0;
    let mut tests = 0;
    for e in &d.evidence {
        tests += 1;
        let _ = write!(
            cases,
            "    <testcase classname=\"evident.gate.{}.evidence\" name=\"{}\"",
            xml(&d.environment),
            xml(&e.requirement)
        );
        if e.status == "present" {
            cases.push_str("/>\n");
        } else {
            let blocking = d.decision == Verdict::Block || d.break_glass.is_some();
            if blocking {
                failures += 1;
                let _ = writeln!(
                    cases,
                    ">\n      <failure message=\"{} evidence is {}\">{}</failure>\n    </testcase>",
                    xml(&e.requirement),
                    e.status,
                    xml(&e.because.to_string())
                );
            } else {
                let _ = writeln!(
                    cases,
                    ">\n      <system-out>{} evidence is {}</system-out>\n    </testcase>",
                    xml(&e.requirement),
                    e.status
                );
            }
        }
    }
    for r in d.blocking.iter().filter(|r| {
        !matches!(
            r.kind,
            evident_gate::decision::ReasonKind::MissingEvidence
                | evident_gate::decision::ReasonKind::IncompleteEvidence
        )
    }) {
        tests += 1;
        failures += 1;
        let _ = writeln!(
            cases,
            "    <testcase classname=\"evident.gate.{}.{}\" name=\"{}\">\n      <failure message=\"{}\">{}\nwhy here: {}\nfix: {}</failure>\n    </testcase>",
            xml(&d.environment),
            r.kind.as_str(),
            xml(&headline(r)),
            xml(&r.reason),
            xml(&r.controls.join(", ")),
            xml(&r.because.to_string()),
            xml(&r.fix)
        );
    }
    for r in d.warnings.iter().chain(&d.monitored).chain(&d.excepted) {
        tests += 1;
        let _ = writeln!(
            cases,
            "    <testcase classname=\"evident.gate.{}.{}\" name=\"{}\">\n      <system-out>{}</system-out>\n    </testcase>",
            xml(&d.environment),
            r.kind.as_str(),
            xml(&headline(r)),
            xml(&r.reason)
        );
    }
    if tests == 0 {
        tests = 1;
        let _ = writeln!(
            cases,
            "    <testcase classname=\"evident.gate.{}\" name=\"decision\"/>",
            xml(&d.environment)
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"evident gate\" tests=\"{tests}\" failures=\"{failures}\">\n  <testsuite name=\"evident gate {} {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>\n</testsuites>\n",
        xml(&d.environment),
        xml(&d.subject)
    )
}
