//! Readable terminal output: what, where, why and how to fix, with secrets redacted.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use evident_core::{Finding, ScanReport, Severity};

use super::RenderOptions;

fn severity_style(severity: Severity) -> Style {
    let color = match severity {
        Severity::Critical | Severity::High => AnsiColor::Red,
        Severity::Medium => AnsiColor::Yellow,
        Severity::Low => AnsiColor::Cyan,
        Severity::Info => AnsiColor::White,
    };
    Style::new().bold().fg_color(Some(color.into()))
}

fn paint(text: &str, style: Style, color: bool) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

fn where_(f: &Finding) -> String {
    let loc = &f.location;
    let mut s = loc.path.clone().unwrap_or_else(|| "<unknown>".into());
    if let Some(line) = loc.line {
        let _ = write!(s, ":{line}");
        if let Some(col) = loc.column {
            let _ = write!(s, ":{col}");
        }
    }
    if let Some(resource) = &loc.resource {
        let _ = write!(s, " ({resource})");
    }
    s
}

pub fn render(report: &ScanReport, options: &RenderOptions) -> String {
    let c = options.color;
    let dim = Style::new().dimmed();
    let bold = Style::new().bold();
    let mut out = String::new();
    for f in report.active() {
        let sev = paint(
            &format!("{:<8}", f.severity.as_str().to_uppercase()),
            severity_style(f.severity),
            c,
        );
        let _ = writeln!(
            out,
            "{sev} {}  {}",
            paint(&where_(f), bold, c),
            paint(&f.check, dim, c)
        );
        let _ = writeln!(out, "         {}", f.message);
        if let Some(snippet) = &f.snippet {
            let _ = writeln!(out, "         {} {snippet}", paint("│", dim, c));
        }
        if let Some(commit) = &f.location.commit {
            let who = f.location.author.as_deref().unwrap_or("unknown");
            let when = f.location.date.as_deref().unwrap_or("");
            let _ = writeln!(out, "         introduced in {commit} by {who} {when}");
        }
        let _ = writeln!(out, "         {} {}", paint("why:", bold, c), f.why);
        let _ = writeln!(out, "         {} {}", paint("fix:", bold, c), f.fix);
        let labels: Vec<String> = f
            .controls
            .iter()
            .map(|r| evident_controls::label(r))
            .collect();
        let _ = writeln!(
            out,
            "         {} {}",
            paint("controls:", bold, c),
            labels.join(", ")
        );
        let _ = writeln!(
            out,
            "         {}",
            paint(
                &if report.scanner == "secrets" {
                    format!(
                        "fingerprint {} — if this is not a secret, add an `evident:allow <reason>` comment on the line or list the fingerprint in .evidentignore",
                        f.fingerprint
                    )
                } else {
                    format!(
                        "fingerprint {} — to accept it, grant an exception: `evident exception add --check {} --fingerprint {} …`",
                        f.fingerprint, f.check, f.fingerprint
                    )
                },
                dim,
                c
            )
        );
        out.push('\n');
    }
    let suppressed: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .collect();
    if !suppressed.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(&format!("Suppressed ({}):", suppressed.len()), bold, c)
        );
        for f in &suppressed {
            let reason = f.suppressed.as_ref().map_or("", |s| s.reason.as_str());
            let _ = writeln!(out, "  {}  {}  — {reason}", where_(f), f.check);
            if options.show_suppressed
                && let Some(snippet) = &f.snippet
            {
                let _ = writeln!(out, "    {} {snippet}", paint("│", dim, c));
            }
        }
        out.push('\n');
    }
    for note in &report.notes {
        let _ = writeln!(out, "{} {note}", paint("note:", bold, c));
    }
    for e in &report.errors {
        let _ = writeln!(
            out,
            "{} {}: {}",
            paint("error:", severity_style(Severity::High), c),
            e.path,
            e.message
        );
    }
    let active: Vec<&Finding> = report.active().collect();
    let failing = active
        .iter()
        .filter(|f| f.severity >= options.threshold)
        .count();
    let mut counts = Vec::new();
    for sev in Severity::ALL.iter().rev() {
        let n = active.iter().filter(|f| f.severity == *sev).count();
        if n > 0 {
            counts.push(format!("{n} {sev}"));
        }
    }
    let stats = &report.stats;
    let mut scanned = format!("{} files, {}", stats.files, human_bytes(stats.bytes));
    if stats.commits > 0 {
        let _ = write!(
            scanned,
            " in {} unique blobs from {} commits",
            stats.blobs, stats.commits
        );
    }
    let verdict = if active.is_empty() {
        paint(
            if report.scanner == "secrets" {
                "No secrets found"
            } else {
                "No findings"
            },
            Style::new().bold().fg_color(Some(AnsiColor::Green.into())),
            c,
        )
    } else {
        paint(
            &format!("{} finding(s): {}", active.len(), counts.join(", ")),
            severity_style(
                active
                    .iter()
                    .map(|f| f.severity)
                    .max()
                    .unwrap_or(Severity::Info),
            ),
            c,
        )
    };
    let _ = writeln!(
        out,
        "{verdict} · {} suppressed · {failing} at or above `{}` · scanned {scanned} in {:.2}s",
        suppressed.len(),
        options.threshold,
        options.seconds
    );
    out
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
