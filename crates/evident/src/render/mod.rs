//! Renderers shared by every scanner: human text, JSON, SARIF 2.1.0 and JUnit XML.

mod human;
mod json;
mod junit;
mod sarif;

use evident_core::{ScanReport, Severity};

use crate::cli::Format;

/// What every renderer needs besides the report.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// Findings at or above this severity fail the run.
    pub threshold: Severity,
    pub show_suppressed: bool,
    /// Wall time of the scan.
    pub seconds: f64,
    /// Emit ANSI colour (stripped again by the terminal writer when not a TTY or NO_COLOR).
    pub color: bool,
}

pub fn render(
    report: &ScanReport,
    format: Format,
    options: &RenderOptions,
) -> anyhow::Result<String> {
    Ok(match format {
        Format::Human => human::render(report, options),
        Format::Json => json::render(report, options)?,
        Format::Sarif => sarif::render(report)?,
        Format::Junit => junit::render(report, options),
        Format::Cyclonedx => anyhow::bail!(
            "--format cyclonedx is for `evident scan deps`; use human, json, sarif or junit here"
        ),
    })
}

/// The tool version written into machine-readable reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
