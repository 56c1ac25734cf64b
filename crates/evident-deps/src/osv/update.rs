//! Downloading osv.dev's per-ecosystem archives. Network only when called; nothing falls back
//! to it.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::db::Db;
use super::{ImportSummary, OsvError};

/// The largest archive accepted (osv.dev's biggest per-ecosystem `all.zip` is a few hundred MB).
const MAX_ARCHIVE: u64 = 4 << 30;

/// What [`update`] imported: one summary per archive, in the order asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateSummary {
    pub imports: Vec<ImportSummary>,
}

impl std::fmt::Display for UpdateSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, s) in self.imports.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {s}", s.source)?;
        }
        Ok(())
    }
}

/// Downloads `<base_url>/<ecosystem>/all.zip` for each ecosystem (OSV names, e.g. `crates.io`,
/// `PyPI`, `Debian`) and imports it, recording the URL as the source and `now` as the time.
/// Stops at the first failure; ecosystems imported before it stay imported. Plain HTTP only
/// unless ureq is built with a TLS feature.
pub fn update(
    db: &Db,
    base_url: &str,
    ecosystems: &[&str],
    now: Timestamp,
) -> Result<UpdateSummary, OsvError> {
    let agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_global(Some(Duration::from_mins(30)))
        .build()
        .new_agent();
    let mut out = Vec::new();
    for ecosystem in ecosystems {
        let url = format!(
            "{}/{}/all.zip",
            base_url.trim_end_matches('/'),
            path_segment(ecosystem)
        );
        let http = |message: String| OsvError::Http {
            url: url.clone(),
            message,
        };
        let mut response = agent.get(&url).call().map_err(|e| http(e.to_string()))?;
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_ARCHIVE)
            .read_to_vec()
            .map_err(|e| http(e.to_string()))?;
        out.push(db.import_zip_bytes(&bytes, &url, now)?);
    }
    Ok(UpdateSummary { imports: out })
}

/// Percent-encodes what a path segment cannot hold (`Red Hat` → `Red%20Hat`).
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
