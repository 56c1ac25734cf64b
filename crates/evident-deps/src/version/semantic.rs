//! SemVer 2 as crates.io, npm and Go read it.
//!
//! Precedence ignores build metadata (SemVer 2 §10), so every parser drops it.

use semver::{BuildMetadata, Version};

fn strict(v: &str) -> Result<Version, String> {
    let mut parsed = Version::parse(v).map_err(|e| e.to_string())?;
    parsed.build = BuildMetadata::EMPTY;
    Ok(parsed)
}

/// crates.io: strict SemVer 2, as Cargo writes it.
pub(super) fn parse_cargo(v: &str) -> Result<Version, String> {
    strict(v)
}

/// npm: node-semver's strict grammar, which skips leading spaces, `=` and `v`.
pub(super) fn parse_npm(v: &str) -> Result<Version, String> {
    let v = v
        .trim()
        .trim_start_matches(|c: char| c == '=' || c == 'v' || c.is_whitespace());
    strict(v)
}

/// Go: `vMAJOR.MINOR.PATCH[-pre][+build]` with the `v` optional (OSV writes Go versions without
/// it), `vMAJOR` and `vMAJOR.MINOR` shorthands (as `golang.org/x/mod/semver` accepts), and Go
/// toolchain names (`go1.21.3`, `go1.21rc2` = `1.21.0-rc.2`). Pseudo-versions are SemVer
/// pre-releases and order as such; `+incompatible` is build metadata and ignored.
pub(super) fn parse_go(v: &str) -> Result<Version, String> {
    let v = v.trim();
    if let Some(toolchain) = v.strip_prefix("go")
        && toolchain.starts_with(|c: char| c.is_ascii_digit())
    {
        return strict(&go_toolchain(toolchain));
    }
    let v = v.strip_prefix('v').unwrap_or(v);
    strict(&pad(v))
}

/// An OSV `SEMVER` range version: an optional `v`, shorthands padded.
pub(super) fn parse_lenient(v: &str) -> Result<Version, String> {
    let v = v.trim();
    let v = v.strip_prefix('v').unwrap_or(v);
    strict(&pad(v))
}

/// `1` → `1.0.0`, `1.2-rc.1` → `1.2.0-rc.1`.
fn pad(v: &str) -> String {
    let core_end = v.find(['-', '+']).unwrap_or(v.len());
    let (core, rest) = v.split_at(core_end);
    match core.matches('.').count() {
        0 if !core.is_empty() => format!("{core}.0.0{rest}"),
        1 => format!("{core}.0{rest}"),
        _ => v.to_owned(),
    }
}

/// `1.21` → `1.21.0`, `1.21rc2` → `1.21.0-rc.2`, `1.9beta1` → `1.9.0-beta.1`.
fn go_toolchain(v: &str) -> String {
    let split = v.find(|c: char| c.is_ascii_alphabetic());
    let (num, pre) = match split {
        Some(i) => v.split_at(i),
        None => (v, ""),
    };
    let num = pad(num);
    if pre.is_empty() {
        return num;
    }
    let digits = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
    let (label, n) = pre.split_at(digits);
    if n.is_empty() {
        format!("{num}-{label}")
    } else {
        format!("{num}-{label}.{n}")
    }
}
