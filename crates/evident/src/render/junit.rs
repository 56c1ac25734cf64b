//! JUnit XML, for CI systems that show test reports.

use std::fmt::Write as _;

use evident_core::ScanReport;

use super::RenderOptions;

/// Escapes text for XML attributes and character data.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

pub fn render(report: &ScanReport, options: &RenderOptions) -> String {
    let active: Vec<_> = report.active().collect();
    let failing = active
        .iter()
        .filter(|f| f.severity >= options.threshold)
        .count();
    let skipped = report.findings.len() - active.len();
    let tests = report.findings.len().max(1) + report.errors.len();
    let suite = format!("evident {}", report.scanner);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"evident\" tests=\"{tests}\" failures=\"{failing}\" errors=\"{}\" skipped=\"{skipped}\" time=\"{:.3}\">",
        report.errors.len(),
        options.seconds
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failing}\" errors=\"{}\" skipped=\"{skipped}\" time=\"{:.3}\" timestamp=\"{}\">",
        escape(&suite),
        report.errors.len(),
        options.seconds,
        escape(&report.started_at)
    );
    if report.findings.is_empty() && report.errors.is_empty() {
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}\" name=\"no findings in {}\"/>",
            escape(&report.scanner),
            escape(&report.root)
        );
    }
    for f in &report.findings {
        let loc = &f.location;
        let mut name = loc.path.clone().unwrap_or_default();
        if let Some(line) = loc.line {
            let _ = write!(name, ":{line}");
        }
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}.{}\" name=\"{}\" file=\"{}\"{}>",
            escape(&report.scanner),
            escape(&f.check),
            escape(&name),
            escape(loc.path.as_deref().unwrap_or("")),
            loc.line
                .map(|l| format!(" line=\"{l}\""))
                .unwrap_or_default()
        );
        let mut details = format!(
            "{}\nwhy: {}\nfix: {}\ncontrols: {}\nfingerprint: {}",
            f.message,
            f.why,
            f.fix,
            f.controls.join(", "),
            f.fingerprint
        );
        if let Some(snippet) = &f.snippet {
            let _ = write!(details, "\nsnippet: {snippet}");
        }
        if let Some(commit) = &loc.commit {
            let _ = write!(details, "\ncommit: {commit}");
        }
        if let Some(s) = &f.suppressed {
            let _ = writeln!(
                out,
                "      <skipped message=\"suppressed: {}\"/>",
                escape(&s.reason)
            );
        } else if f.severity >= options.threshold {
            let _ = writeln!(
                out,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                f.severity,
                escape(&f.message),
                escape(&details)
            );
        } else {
            let _ = writeln!(out, "      <system-out>{}</system-out>", escape(&details));
        }
        out.push_str("    </testcase>\n");
    }
    for e in &report.errors {
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\">\n      <error message=\"{}\"/>\n    </testcase>",
            escape(&report.scanner),
            escape(&e.path),
            escape(&e.message)
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
