//! Each ecosystem's own version order.

use std::cmp::Ordering;

use crate::model::Ecosystem;

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
    let parse = |v: &str| {
        semver::Version::parse(v.trim_start_matches('v')).map_err(|e| VersionError {
            ecosystem,
            version: v.to_owned(),
            reason: e.to_string(),
        })
    };
    Ok(parse(a)?.cmp(&parse(b)?))
}
