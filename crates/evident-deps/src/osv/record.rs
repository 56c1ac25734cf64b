//! OSV records (schema 1.x) as serde types, read from JSON or YAML.
//!
//! Only the fields evident uses are typed; `database_specific` and `ecosystem_specific` stay as
//! JSON values. Absent and `null` lists both read as empty.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One OSV advisory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    pub id: String,
    /// RFC 3339.
    pub modified: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Set when the record was withdrawn: it is kept but never matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Other ids of the same vulnerability (CVE, GHSA, PYSEC, …).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aliases: Vec<String>,
    /// Ids of related but different vulnerabilities (never merged).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub related: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub upstream: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<SeverityScore>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub affected: Vec<Affected>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub references: Vec<Reference>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub credits: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// A `severity[]` entry: `CVSS_V2`, `CVSS_V3`, `CVSS_V4` (a vector) or `Ubuntu`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityScore {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub score: String,
}

/// An `affected[]` entry: one package and the versions of it that are affected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<AffectedPackage>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<SeverityScore>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ranges: Vec<Range>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub versions: Vec<String>,
    /// RustSec: `affects` (functions, os, arch); Go: `imports` (packages and symbols).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<Value>,
    /// RustSec: `informational` (`unmaintained`, `unsound`, `notice`), `cvss`, `categories`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedPackage {
    /// As OSV writes it, possibly with a release suffix (`Debian:12`, `Alpine:v3.19`).
    #[serde(default)]
    pub ecosystem: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// A range of affected versions, described by events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// `SEMVER`, `ECOSYSTEM` or `GIT`.
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub events: Vec<Event>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// One event of a range; exactly one field is set in a valid record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub url: String,
}

fn nullable<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl Advisory {
    /// Reads a record from OSV JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Advisory, String> {
        let advisory: Advisory = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        advisory.check()
    }

    /// Reads a record from OSV YAML (as pypa/advisory-database writes them).
    pub fn from_yaml(text: &str) -> Result<Advisory, String> {
        let advisory: Advisory = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        advisory.check()
    }

    fn check(self) -> Result<Advisory, String> {
        if self.id.trim().is_empty() {
            return Err("the record has no `id`".to_owned());
        }
        if self.modified.parse::<jiff::Timestamp>().is_err() {
            return Err(format!(
                "{}: `modified` is not an RFC 3339 time: `{}`",
                self.id, self.modified
            ));
        }
        Ok(self)
    }

    /// `database_specific.<key>` of the record as a string, if it is one.
    pub(crate) fn database_string(&self, key: &str) -> Option<&str> {
        self.database_specific
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(Value::as_str)
    }
}

impl Affected {
    /// RustSec's kind of informational advisory, from `database_specific.informational`.
    pub fn informational(&self) -> Option<&str> {
        self.database_specific
            .as_ref()
            .and_then(|d| d.get("informational"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Go: the import paths of `ecosystem_specific.imports[].path`.
    pub fn go_imports(&self) -> Vec<String> {
        self.ecosystem_specific
            .as_ref()
            .and_then(|e| e.get("imports"))
            .and_then(Value::as_array)
            .map(|imports| {
                imports
                    .iter()
                    .filter_map(|i| i.get("path").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}
