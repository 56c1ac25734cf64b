//! Each ecosystem's own version order.
//!
//! [`compare`] orders two versions exactly as the ecosystem's own tooling does, so that OSV
//! ranges (`introduced` ≤ v < `fixed`) are evaluated the way the ecosystem means them:
//!
//! | ecosystem | rules |
//! |---|---|
//! | PyPI | PEP 440 (`pep440_rs`): epochs, pre/post/dev releases, local versions |
//! | crates.io | SemVer 2 (strict); build metadata is ignored for order |
//! | npm | SemVer 2; a leading `v` or `=` (and surrounding spaces) is tolerated as node-semver does |
//! | Go | SemVer with an optional leading `v` (OSV omits it), `vMAJOR[.MINOR]` shorthands, pseudo-versions; `+incompatible` ignored; `go1.21rc2` toolchain names |
//! | Maven | `ComparableVersion`: `-`/`.` and letter↔digit transitions separate items, qualifiers alpha < beta < milestone < rc = cr < snapshot < release (`""`, `ga`, `final`, `release`) < sp < unknown (lexical), trailing zeros/empty qualifiers ignored |
//! | RubyGems | `Gem::Version`: numeric and letter segments, a letter makes a pre-release, trailing zeros ignored, `-` is `.pre.` |
//! | NuGet | SemVer 2 with up to four numeric parts, case-insensitive pre-release labels, metadata ignored |
//! | Packagist | Composer's normalisation (`v` prefix, four parts, `-dev`, stability flags dev < alpha < beta < RC < stable < patch) |
//! | Debian | dpkg (`debversion`): epoch, upstream, revision; `~` sorts before everything |
//! | Alpine | apk: digits, one letter, `_alpha` < `_beta` < `_pre` < `_rc` < release < `_cvs` < `_svn` < `_git` < `_hg` < `_p`, then `-rN` |
//! | RPM | `rpmvercmp` on `epoch:version-release`, with `~` (before everything) and `^` (after the base) |
//!
//! Every comparator is a total order on the versions it accepts; a version it cannot read is a
//! [`VersionError`], never a guess.

use std::cmp::Ordering;

use crate::model::Ecosystem;

mod alpine;
mod maven;
mod nuget;
mod packagist;
mod rpm;
mod rubygems;
mod semantic;

/// A version an ecosystem's comparator cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{version}` is not a valid {ecosystem} version: {reason}")]
pub struct VersionError {
    pub ecosystem: Ecosystem,
    pub version: String,
    pub reason: String,
}

/// Compares two versions the way `ecosystem` orders them.
pub fn compare(ecosystem: Ecosystem, a: &str, b: &str) -> Result<Ordering, VersionError> {
    match ecosystem {
        Ecosystem::CratesIo => by(ecosystem, a, b, semantic::parse_cargo),
        Ecosystem::Npm => by(ecosystem, a, b, semantic::parse_npm),
        Ecosystem::Go => by(ecosystem, a, b, semantic::parse_go),
        Ecosystem::PyPI => by(ecosystem, a, b, parse_pep440),
        Ecosystem::Maven => by(ecosystem, a, b, maven::parse),
        Ecosystem::RubyGems => by(ecosystem, a, b, rubygems::parse),
        Ecosystem::NuGet => by(ecosystem, a, b, nuget::parse),
        Ecosystem::Packagist => by(ecosystem, a, b, packagist::parse),
        Ecosystem::Debian => by(ecosystem, a, b, parse_debian),
        Ecosystem::Alpine => by(ecosystem, a, b, alpine::parse),
        Ecosystem::Rpm => by(ecosystem, a, b, rpm::parse),
    }
}

/// Checks that `version` is a version `ecosystem` can order.
pub fn validate(ecosystem: Ecosystem, version: &str) -> Result<(), VersionError> {
    compare(ecosystem, version, version).map(|_| ())
}

/// Compares two versions of an OSV range of type `SEMVER`: SemVer 2 read leniently (an
/// optional leading `v`, `MAJOR[.MINOR]` shorthands, build metadata ignored). `ecosystem` only
/// names the package's ecosystem in errors.
pub fn compare_semver(ecosystem: Ecosystem, a: &str, b: &str) -> Result<Ordering, VersionError> {
    by(ecosystem, a, b, semantic::parse_lenient)
}

fn by<T: Ord>(
    ecosystem: Ecosystem,
    a: &str,
    b: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Ordering, VersionError> {
    let read = |v: &str| {
        parse(v).map_err(|reason| VersionError {
            ecosystem,
            version: v.to_owned(),
            reason,
        })
    };
    Ok(read(a)?.cmp(&read(b)?))
}

fn parse_pep440(v: &str) -> Result<pep440_rs::Version, String> {
    v.trim()
        .parse::<pep440_rs::Version>()
        .map_err(|e| e.to_string())
}

fn parse_debian(v: &str) -> Result<debversion::Version, String> {
    let v = v.trim();
    // dpkg refuses an upstream version that does not start with a digit.
    let upstream = v.split_once(':').map_or(v, |(epoch, rest)| {
        if epoch.bytes().all(|b| b.is_ascii_digit()) {
            rest
        } else {
            v
        }
    });
    if !upstream.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("the upstream version must start with a digit".to_owned());
    }
    v.parse::<debversion::Version>().map_err(|e| e.to_string())
}

/// A run of ASCII digits compared as an unbounded non-negative integer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Digits(String);

impl Digits {
    /// `s` must be ASCII digits; leading zeros are dropped.
    fn new(s: &str) -> Self {
        Digits(s.trim_start_matches('0').to_owned())
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }
}

impl Ord for Digits {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Digits {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
