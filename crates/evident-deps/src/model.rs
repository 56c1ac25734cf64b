//! The inventory model every part of the dependency scanner shares: ecosystems, packages with
//! their purls, and the dependency graph, as read from lockfiles and image package databases.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A package ecosystem, named as OSV names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Ecosystem {
    #[serde(rename = "crates.io")]
    CratesIo,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "PyPI")]
    PyPI,
    #[serde(rename = "Go")]
    Go,
    #[serde(rename = "RubyGems")]
    RubyGems,
    #[serde(rename = "Packagist")]
    Packagist,
    #[serde(rename = "NuGet")]
    NuGet,
    #[serde(rename = "Maven")]
    Maven,
    #[serde(rename = "Debian")]
    Debian,
    #[serde(rename = "Alpine")]
    Alpine,
    /// RPM-based distributions (OSV names them per distribution, e.g. `Red Hat`, `Rocky Linux`).
    #[serde(rename = "RPM")]
    Rpm,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 11] = [
        Ecosystem::CratesIo,
        Ecosystem::Npm,
        Ecosystem::PyPI,
        Ecosystem::Go,
        Ecosystem::RubyGems,
        Ecosystem::Packagist,
        Ecosystem::NuGet,
        Ecosystem::Maven,
        Ecosystem::Debian,
        Ecosystem::Alpine,
        Ecosystem::Rpm,
    ];

    /// The OSV ecosystem name (`crates.io`, `PyPI`, …). OSV's distribution ecosystems carry a
    /// release suffix (`Debian:12`, `Alpine:v3.19`); [`Ecosystem::from_osv`] strips it.
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Maven => "Maven",
            Ecosystem::Debian => "Debian",
            Ecosystem::Alpine => "Alpine",
            Ecosystem::Rpm => "RPM",
        }
    }

    /// The ecosystem of an OSV `affected[].package.ecosystem` value, if evident knows it.
    pub fn from_osv(name: &str) -> Option<Self> {
        let base = name.split(':').next().unwrap_or(name);
        match base {
            "crates.io" => Some(Ecosystem::CratesIo),
            "npm" => Some(Ecosystem::Npm),
            "PyPI" => Some(Ecosystem::PyPI),
            "Go" => Some(Ecosystem::Go),
            "RubyGems" => Some(Ecosystem::RubyGems),
            "Packagist" => Some(Ecosystem::Packagist),
            "NuGet" => Some(Ecosystem::NuGet),
            "Maven" => Some(Ecosystem::Maven),
            "Debian" => Some(Ecosystem::Debian),
            "Alpine" => Some(Ecosystem::Alpine),
            "Red Hat" | "Rocky Linux" | "AlmaLinux" | "openSUSE" | "SUSE" | "RPM" => {
                Some(Ecosystem::Rpm)
            }
            _ => None,
        }
    }

    /// The purl type.
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Go => "golang",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Packagist => "composer",
            Ecosystem::NuGet => "nuget",
            Ecosystem::Maven => "maven",
            Ecosystem::Debian => "deb",
            Ecosystem::Alpine => "apk",
            Ecosystem::Rpm => "rpm",
        }
    }

    /// The name as the ecosystem compares it: PyPI per PEP 503 (lower-case, runs of `-_.` → `-`),
    /// NuGet case-insensitively (lower-case), everything else as written.
    pub fn normalize_name(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => {
                let mut out = String::with_capacity(name.len());
                let mut sep = false;
                for c in name.trim().chars() {
                    if matches!(c, '-' | '_' | '.') {
                        sep = true;
                    } else {
                        if sep && !out.is_empty() {
                            out.push('-');
                        }
                        sep = false;
                        out.push(c.to_ascii_lowercase());
                    }
                }
                out
            }
            Ecosystem::NuGet | Ecosystem::Packagist => name.trim().to_ascii_lowercase(),
            _ => name.trim().to_owned(),
        }
    }
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.osv_name())
    }
}

/// Percent-encodes a purl component (RFC 3986 unreserved characters stay as they are).
fn purl_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The package URL of a package: `pkg:type/namespace/name@version` (purl spec), with the
/// namespace split per type (npm scope, Maven group, Go module path, Composer vendor).
pub fn purl(ecosystem: Ecosystem, name: &str, version: &str) -> String {
    let ty = ecosystem.purl_type();
    let (namespace, short): (Option<String>, String) = match ecosystem {
        Ecosystem::Npm => match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, rest)) => (Some(format!("@{scope}")), rest.to_owned()),
            None => (None, name.to_owned()),
        },
        Ecosystem::Maven => match name.split_once(':') {
            Some((group, artifact)) => (Some(group.to_owned()), artifact.to_owned()),
            None => (None, name.to_owned()),
        },
        Ecosystem::Go | Ecosystem::Packagist => match name.rsplit_once('/') {
            Some((ns, last)) => (Some(ns.to_owned()), last.to_owned()),
            None => (None, name.to_owned()),
        },
        Ecosystem::PyPI => (None, ecosystem.normalize_name(name)),
        _ => (None, name.to_owned()),
    };
    let mut out = format!("pkg:{ty}/");
    if let Some(ns) = namespace {
        let parts: Vec<String> = ns.split('/').map(purl_encode).collect();
        out.push_str(&parts.join("/"));
        out.push('/');
    }
    out.push_str(&purl_encode(&short));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&purl_encode(version));
    }
    out
}

/// A hash of a package archive as a lockfile records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PackageHash {
    /// `SHA-1`, `SHA-256`, `SHA-384`, `SHA-512` (CycloneDX names).
    pub alg: String,
    /// Lower-case hex.
    pub value: String,
}

/// One package found in a lockfile or an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    /// The name as the lockfile writes it (Maven: `group:artifact`; npm: `@scope/name`).
    pub name: String,
    /// The concrete version. Packages without one (unpinned requirements) are not in the
    /// inventory; they are reported as notes.
    pub version: String,
    /// `pkg:…` (see [`purl`]).
    pub purl: String,
    /// The lockfile or database it was read from, relative to the scanned root.
    pub source: String,
    /// Archive hashes the lockfile records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<PackageHash>,
    /// SPDX licence expressions where known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// A dependency only of development / tests, when the lockfile says so.
    #[serde(default)]
    pub dev: bool,
    /// The ids ([`Package::id`]) of the packages this one depends on, where recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
}

impl Package {
    /// Makes a package, computing its purl.
    pub fn new(ecosystem: Ecosystem, name: &str, version: &str, source: &str) -> Self {
        Package {
            ecosystem,
            name: name.to_owned(),
            version: version.to_owned(),
            purl: purl(ecosystem, name, version),
            source: source.to_owned(),
            hashes: Vec::new(),
            licenses: Vec::new(),
            dev: false,
            dependencies: Vec::new(),
        }
    }

    /// A stable identity within one inventory (the purl, plus the source when the same purl
    /// comes from several lockfiles).
    pub fn id(&self) -> String {
        self.purl.clone()
    }
}

/// What a lockfile parser returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub packages: Vec<Package>,
    /// Things the user should know (e.g. unpinned requirements that cannot be matched).
    pub notes: Vec<String>,
}

/// A lockfile or manifest that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ParseError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

impl ParseError {
    pub fn new(path: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        ParseError {
            path: path.to_owned(),
            line,
            message: message.into(),
        }
    }
}

/// Everything found under a root: packages (de-duplicated by purl and source) and notes.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub packages: Vec<Package>,
    /// The files read, relative to the root, with their ecosystem.
    pub files: BTreeMap<String, Ecosystem>,
    pub notes: Vec<String>,
    /// Inputs that could not be read: an inventory with errors is incomplete.
    pub errors: Vec<ParseError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_per_ecosystem() {
        assert_eq!(
            purl(Ecosystem::Npm, "@babel/core", "7.24.0"),
            "pkg:npm/%40babel/core@7.24.0"
        );
        assert_eq!(
            purl(Ecosystem::Npm, "left-pad", "1.3.0"),
            "pkg:npm/left-pad@1.3.0"
        );
        assert_eq!(
            purl(
                Ecosystem::Maven,
                "org.apache.logging.log4j:log4j-core",
                "2.14.1"
            ),
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        );
        assert_eq!(
            purl(Ecosystem::Go, "github.com/gin-gonic/gin", "v1.9.1"),
            "pkg:golang/github.com/gin-gonic/gin@v1.9.1"
        );
        assert_eq!(
            purl(Ecosystem::PyPI, "Django_REST.framework", "3.0"),
            "pkg:pypi/django-rest-framework@3.0"
        );
        assert_eq!(
            purl(Ecosystem::CratesIo, "serde", "1.0.0"),
            "pkg:cargo/serde@1.0.0"
        );
        assert_eq!(
            purl(Ecosystem::Debian, "libssl3", "3.0.11-1~deb12u2"),
            "pkg:deb/libssl3@3.0.11-1~deb12u2"
        );
        assert_eq!(
            purl(Ecosystem::NuGet, "Newtonsoft.Json", "13.0.1"),
            "pkg:nuget/Newtonsoft.Json@13.0.1"
        );
    }

    #[test]
    fn names_normalise_per_ecosystem() {
        assert_eq!(
            Ecosystem::PyPI.normalize_name("Foo__Bar.baz"),
            "foo-bar-baz"
        );
        assert_eq!(
            Ecosystem::NuGet.normalize_name("Newtonsoft.Json"),
            "newtonsoft.json"
        );
        assert_eq!(Ecosystem::Npm.normalize_name("@Types/Node"), "@Types/Node");
        assert_eq!(Ecosystem::from_osv("Debian:12"), Some(Ecosystem::Debian));
        assert_eq!(Ecosystem::from_osv("Alpine:v3.19"), Some(Ecosystem::Alpine));
        assert_eq!(Ecosystem::from_osv("Hackage"), None);
    }
}
