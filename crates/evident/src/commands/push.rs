//! `evident push`: sends a JSON scan report to `evident serve` (`POST /api/v1/evidence`),
//! which records it as `scan` evidence exactly as `evident scan … --record` would.

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use serde_json::Value;

use super::context;
use crate::cli::{ListFormat, PushArgs};
use crate::{Failure, Outcome};

/// The largest report read (the server's own limit is usually lower: `--max-body`).
const MAX_REPORT: u64 = 64 << 20;

/// Percent-encodes a query value (everything but the unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn read_report(file: Option<&Path>) -> Result<(String, Vec<u8>), Failure> {
    match file {
        None => read_stdin(),
        Some(p) if p == Path::new("-") => read_stdin(),
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            Ok((p.display().to_string(), bytes))
        }
    }
}

fn read_stdin() -> Result<(String, Vec<u8>), Failure> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_REPORT)
        .read_to_end(&mut bytes)
        .context("cannot read standard input")?;
    Ok(("standard input".to_owned(), bytes))
}

/// The `error` of a JSON error answer, or the start of the body.
fn server_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

pub fn run(args: &PushArgs) -> Result<Outcome, Failure> {
    let (origin, bytes) = read_report(args.file.as_deref())?;
    // Catch the obvious locally, with the file's name in the message.
    let report: Value = serde_json::from_slice(&bytes).map_err(|e| {
        anyhow!("{origin} is not JSON ({e}): push the output of `evident scan … --format json`")
    })?;
    if report.get("schema_version").is_none() || report.get("findings").is_none() {
        fail!(
            "{origin} is not an evident JSON scan report (no schema_version or findings): push the output of `evident scan … --format json`"
        );
    }
    let subject = context::subject_or_head(args.subject.as_deref())?;
    let mut query = vec![format!("subject={}", encode(&subject))];
    if let Some(c) = &args.category {
        query.push(format!("category={}", encode(c.trim())));
    }
    for c in &args.controls {
        query.push(format!("control={}", encode(&context::parse_control(c)?)));
    }
    let server = args.server.trim().trim_end_matches('/');
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        fail!("--server {server}: expected an http:// or https:// URL");
    }
    let url = format!("{server}/api/v1/evidence?{}", query.join("&"));
    let token = args.token.trim();
    if token.is_empty() {
        fail!(
            "no token: pass --token or set EVIDENT_TOKEN to a recorder token (`evident token create --role recorder`)"
        );
    }
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(args.timeout.max(1))))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut response = agent
        .post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .header("User-Agent", concat!("evident/", env!("CARGO_PKG_VERSION")))
        .send(&bytes[..])
        .map_err(|e| anyhow!("cannot reach {server}: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(|e| anyhow!("{server}: cannot read the answer: {e}"))?;
    match status {
        201 => {
            let answer: Value = serde_json::from_str(&body)
                .map_err(|e| anyhow!("{server}: the answer is not JSON: {e}"))?;
            let entry = answer["entry"]
                .as_u64()
                .ok_or_else(|| anyhow!("{server}: the answer names no entry"))?;
            match args.format {
                ListFormat::Json => super::print(&format!("{answer}\n"))?,
                ListFormat::Human => {
                    super::print(&format!("{entry}\n"))?;
                    eprintln!(
                        "{server} recorded the {} scan of {subject} as entry {entry} ({})",
                        answer["category"].as_str().unwrap_or("?"),
                        answer["result"].as_str().unwrap_or("?"),
                    );
                }
            }
            Ok(Outcome::Clean)
        }
        401 => fail!(
            "{server} refused the token (401: {}): check --token / EVIDENT_TOKEN; it may be wrong, revoked or expired",
            server_message(&body)
        ),
        403 => fail!(
            "{server} refused the request (403: {}): pushing needs a recorder or admin token",
            server_message(&body)
        ),
        413 => {
            fail!("{server} refused the report as too large (413): raise the server's --max-body",)
        }
        400..=499 => fail!(
            "{server} refused the report ({status}: {})",
            server_message(&body)
        ),
        500..=599 => fail!(
            "{server} failed ({status}: {}); push again later",
            server_message(&body)
        ),
        _ => fail!("{server} answered {status}: {}", server_message(&body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("git:ab12"), "git%3Aab12");
        assert_eq!(encode("soc2:CC8.1"), "soc2%3ACC8.1");
        assert_eq!(encode("a b&c=d"), "a%20b%26c%3Dd");
    }
}
