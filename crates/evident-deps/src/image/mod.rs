//! OS packages inside an image filesystem: dpkg, apk and rpm databases, from a directory, a
//! docker-archive tarball or an OCI image layout (tarball or directory) — no Docker daemon.
//!
//! [`scan_image`] stacks the layers in memory (whiteouts and opaque directories applied),
//! keeping only the few files it reads, then reads:
//! - `etc/os-release`, else `usr/lib/os-release` ([`osrelease`]);
//! - `var/lib/dpkg/status` and distroless `var/lib/dpkg/status.d/*` ([`dpkg`]);
//! - `lib/apk/db/installed` ([`apk`]);
//! - `rpmdb.sqlite` under `var/lib/rpm`, `usr/lib/sysimage/rpm` or `usr/share/rpm` ([`rpm`]);
//!   BerkeleyDB `Packages` and NDB `Packages.db` are reported in a note, not read.
//!
//! # Names and versions for advisory matching
//! [`ImageInventory::packages`] are the installed *binary* packages (`libssl3`, `libcrypto3`,
//! `openssl-libs`), as an SBOM lists them. OSV's Debian and Alpine advisories name *source*
//! packages instead (`openssl`), so [`ImageInventory::sources`] records each package's source
//! name and version, and [`ImageInventory::osv_packages`] gives the packages as OSV names them:
//! Debian by source name and source version (epoch kept: `1:1.2.13.dfsg-1`), Alpine by origin
//! with the package's version, RPM by binary name with `epoch:version-release` (epoch omitted
//! when 0 or absent), as the RHEL-family OSV records (Red Hat, AlmaLinux, Rocky Linux) do.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::model::{Ecosystem, Package, purl};

pub mod apk;
mod archive;
pub mod dpkg;
mod layers;
pub mod osrelease;
pub mod rpm;

pub use osrelease::OsRelease;

use layers::{DiskView, GZIP_MAGIC, LayeredView, Node, Unresolved, View, ZSTD_MAGIC, resolve};

/// Limits that keep a hostile image from exhausting memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions {
    /// Largest package database or os-release file kept in memory (default 256 MiB).
    pub max_file_bytes: u64,
    /// All kept files together (default 1 GiB).
    pub max_total_bytes: u64,
    /// Largest `manifest.json`, `index.json` or manifest blob (default 16 MiB).
    pub max_json_bytes: u64,
    /// Tar entries over all layers (default 4 million).
    pub max_entries: u64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_file_bytes: 256 << 20,
            max_total_bytes: 1 << 30,
            max_json_bytes: 16 << 20,
            max_entries: 4_000_000,
        }
    }
}

/// The source package a package was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourcePackage {
    /// Index into [`ImageInventory::packages`].
    pub package: usize,
    /// `openssl` (dpkg `Source`, apk origin `o:`, rpm `SOURCERPM` name).
    pub name: String,
    /// The source version (dpkg: from `Source: name (version)` or the package's own version;
    /// apk: the package's version; rpm: from `SOURCERPM`, with the package's epoch).
    pub version: String,
}

/// What an image is made of.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImageInventory {
    /// Installed binary packages, in database order (dpkg, then apk, then rpm).
    pub packages: Vec<Package>,
    /// The distribution, from os-release.
    pub os: Option<OsRelease>,
    /// Source packages, for packages whose database records them.
    pub sources: Vec<SourcePackage>,
    /// Things the user should know: unreadable databases, skipped entries, unsupported formats.
    pub notes: Vec<String>,
    /// Layers applied (0 for a directory).
    pub layers: usize,
}

impl ImageInventory {
    /// The OSV ecosystem of the image's distribution release, e.g. `Debian:12`, `Alpine:v3.19`,
    /// `Ubuntu:22.04`, `Rocky Linux:9`, `AlmaLinux:9`, `Red Hat`; `None` when unknown.
    pub fn osv_ecosystem(&self) -> Option<String> {
        let os = self.os.as_ref()?;
        let version = os.version_id.as_deref();
        let major = version.map(|v| v.split('.').next().unwrap_or(v));
        Some(match (os.id.as_str(), version) {
            ("debian", Some(_)) => format!("Debian:{}", major?),
            ("debian", None) => "Debian".to_owned(),
            ("ubuntu", Some(v)) => format!("Ubuntu:{v}"),
            ("alpine", Some(v)) => {
                let mut parts = v.split('.');
                format!("Alpine:v{}.{}", parts.next()?, parts.next()?)
            }
            ("rocky", Some(_)) => format!("Rocky Linux:{}", major?),
            ("almalinux", Some(_)) => format!("AlmaLinux:{}", major?),
            ("rhel", _) => "Red Hat".to_owned(),
            _ => return None,
        })
    }

    /// The packages as OSV's distribution advisories name them (see the module docs):
    /// Debian and Alpine by source package, de-duplicated; RPM unchanged.
    pub fn osv_packages(&self) -> Vec<Package> {
        let sources: std::collections::HashMap<usize, &SourcePackage> =
            self.sources.iter().map(|s| (s.package, s)).collect();
        let mut out: Vec<Package> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, p) in self.packages.iter().enumerate() {
            let by_source = matches!(p.ecosystem, Ecosystem::Debian | Ecosystem::Alpine);
            let source = sources.get(&i);
            let (name, version) = match source {
                Some(s) if by_source => (s.name.as_str(), s.version.as_str()),
                _ => (p.name.as_str(), p.version.as_str()),
            };
            if !seen.insert((p.ecosystem, name.to_owned(), version.to_owned())) {
                continue;
            }
            let mut q = Package::new(p.ecosystem, name, version, &p.source);
            q.licenses.clone_from(&p.licenses);
            // Keep the release, so advisories of other releases of the distribution do not
            // match (OSV `Debian:12`, `Alpine:v3.19`).
            if let Some(distro) = p
                .purl
                .split_once('?')
                .and_then(|(_, qs)| qs.split('&').find(|kv| kv.starts_with("distro=")))
            {
                q.purl = format!("{}?{distro}", q.purl);
            }
            out.push(q);
        }
        out
    }
}

/// One package as a distribution database records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbPackage {
    pub name: String,
    /// The version as the distribution compares it (rpm: `epoch:version-release`).
    pub version: String,
    pub arch: Option<String>,
    pub source_name: Option<String>,
    pub source_version: Option<String>,
    pub licenses: Vec<String>,
    /// rpm's epoch when above 0 (the purl carries it as a qualifier).
    pub epoch: Option<u32>,
}

/// What a database reader returns: its packages, and notes (with the file's path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbRecords {
    pub packages: Vec<DbPackage>,
    pub notes: Vec<String>,
}

/// Notes about one file, capped so a garbage file cannot produce millions.
pub(crate) struct Notes {
    path: String,
    list: Vec<String>,
    dropped: usize,
}

impl Notes {
    const MAX: usize = 20;

    pub(crate) fn new(path: &str) -> Self {
        Notes {
            path: path.to_owned(),
            list: Vec::new(),
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, mut note: String) {
        if self.list.len() < Self::MAX {
            note.insert_str(0, ": ");
            note.insert_str(0, &self.path);
            self.list.push(note);
        } else {
            self.dropped += 1;
        }
    }

    pub(crate) fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.list
                .push(format!("{}: {} more problems", self.path, self.dropped));
        }
        self.list
    }
}

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    #[error("{path}: {context}: {source}")]
    Io {
        path: String,
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not an image: {reason}")]
    NotAnImage { path: String, reason: String },
    #[error("{archive}: {file} is missing")]
    MissingFile { archive: String, file: String },
    #[error("{archive}: {file}: {message}")]
    BadMetadata {
        archive: String,
        file: String,
        message: String,
    },
    #[error("{archive}: no manifest to scan: {message}")]
    NoManifest { archive: String, message: String },
    #[error("{archive}: layer {layer} is not in the archive")]
    LayerNotFound { archive: String, layer: String },
    #[error("{archive}: layer {layer}: {message}")]
    BadLayer {
        archive: String,
        layer: String,
        message: String,
    },
    #[error(
        "{archive}: {file} does not match its digest (expected sha256:{expected}, found sha256:{actual})"
    )]
    DigestMismatch {
        archive: String,
        file: String,
        expected: String,
        actual: String,
    },
    #[error("{archive}: not supported: {what}")]
    Unsupported { archive: String, what: String },
    #[error("{archive}: {what} is over the limit of {limit}")]
    Limit {
        archive: String,
        what: String,
        limit: u64,
    },
}

/// Scans an image (a root filesystem directory, a docker-archive or an OCI layout, as a
/// tarball — `.tar` or `.tar.gz` — or an OCI layout directory) for OS packages.
pub fn scan_image(path: &Path) -> Result<ImageInventory, ImageError> {
    scan_image_with(path, &ScanOptions::default())
}

/// [`scan_image`] with explicit limits.
pub fn scan_image_with(path: &Path, opts: &ScanOptions) -> Result<ImageInventory, ImageError> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| ImageError::Io {
        path: name.clone(),
        context: "cannot open".to_owned(),
        source: e,
    })?;
    if meta.is_dir() {
        if path.join("oci-layout").is_file() && path.join("index.json").is_file() {
            let source = archive::Source::Dir(path.to_owned());
            return scan_layered(&source, opts);
        }
        let view = DiskView {
            root: path.to_owned(),
        };
        return Ok(read_view(&view, opts, 0, Vec::new()));
    }
    let mut magic = [0u8; 4];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| ImageError::Io {
            path: name.clone(),
            context: "cannot open".to_owned(),
            source: e,
        })?;
        let mut n = 0;
        while n < magic.len() {
            match f.read(&mut magic[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(ImageError::Io {
                        path: name,
                        context: "cannot read".to_owned(),
                        source: e,
                    });
                }
            }
        }
        n
    };
    if n == 0 {
        return Err(ImageError::NotAnImage {
            path: name,
            reason: "an empty file".to_owned(),
        });
    }
    if magic.starts_with(&ZSTD_MAGIC) {
        return Err(ImageError::Unsupported {
            archive: name,
            what: "a zstd-compressed archive".to_owned(),
        });
    }
    let source = archive::Source::Tar {
        path: path.to_owned(),
        gzip: magic.starts_with(&GZIP_MAGIC),
    };
    scan_layered(&source, opts)
}

fn scan_layered(
    source: &archive::Source,
    opts: &ScanOptions,
) -> Result<ImageInventory, ImageError> {
    let (layers, notes) = archive::read_layers(source, opts)?;
    let count = layers.len();
    let view = LayeredView { layers };
    Ok(read_view(&view, opts, count, notes))
}

/// Where rpm keeps its database (Fedora and newer RHEL link `var/lib/rpm` to the second).
const RPM_DIRS: &[&str] = &["var/lib/rpm", "usr/lib/sysimage/rpm", "usr/share/rpm"];

/// Reads a file through symlinks; `Ok(None)` when it does not exist.
fn read_file(
    view: &dyn View,
    path: &str,
    opts: &ScanOptions,
    notes: &mut Vec<String>,
) -> Option<(String, Arc<[u8]>)> {
    match resolve(view, path) {
        Ok((real, node @ (Node::File(_) | Node::HardLink(_)))) => {
            match view.read(&real, &node, opts.max_file_bytes) {
                Ok(bytes) => Some((real, bytes)),
                Err(why) => {
                    notes.push(format!("{path}: not read: {why}"));
                    None
                }
            }
        }
        Ok((_, Node::Symlink(_))) | Err(Unresolved::NotFound | Unresolved::NotADirectory) => None,
        Ok((real, _)) => {
            notes.push(format!("{path}: {real} is not a regular file; not read"));
            None
        }
        Err(Unresolved::Loop) => {
            notes.push(format!(
                "{path}: too many levels of symbolic links; not read"
            ));
            None
        }
    }
}

/// One database's records, with the ecosystem and file they came from.
struct Found {
    ecosystem: Ecosystem,
    file: String,
    records: DbRecords,
}

fn read_view(
    view: &dyn View,
    opts: &ScanOptions,
    layers: usize,
    mut notes: Vec<String>,
) -> ImageInventory {
    let mut found: Vec<Found> = Vec::new();

    let os = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|p| read_file(view, p, opts, &mut notes))
        .map(|(_, bytes)| osrelease::parse(&bytes));
    if os.is_none() {
        notes.push("no os-release found (etc/os-release, usr/lib/os-release)".to_owned());
    }

    if let Some((real, bytes)) = read_file(view, "var/lib/dpkg/status", opts, &mut notes) {
        let records = dpkg::parse_status(&bytes, &real, false);
        found.push(Found {
            ecosystem: Ecosystem::Debian,
            file: real,
            records,
        });
    }
    if let Ok((dir, Node::Dir)) = resolve(view, "var/lib/dpkg/status.d") {
        for child in view.children(&dir) {
            if child.ends_with(".md5sums") {
                continue;
            }
            if let Some((real, bytes)) = read_file(view, &child, opts, &mut notes) {
                let records = dpkg::parse_status(&bytes, &real, true);
                found.push(Found {
                    ecosystem: Ecosystem::Debian,
                    file: real,
                    records,
                });
            }
        }
    }

    if let Some((real, bytes)) = read_file(view, "lib/apk/db/installed", opts, &mut notes) {
        let records = apk::parse_installed(&bytes, &real);
        found.push(Found {
            ecosystem: Ecosystem::Alpine,
            file: real,
            records,
        });
    }

    let mut rpm_seen: Vec<String> = Vec::new();
    for dir in RPM_DIRS {
        let sqlite = format!("{dir}/rpmdb.sqlite");
        if let Ok((real, _)) = resolve(view, &sqlite) {
            if rpm_seen.contains(&real) {
                continue;
            }
            rpm_seen.push(real.clone());
            if let Some((real, bytes)) = read_file(view, &sqlite, opts, &mut notes) {
                match rpm::read_rpmdb(&bytes, &real) {
                    Ok(records) => found.push(Found {
                        ecosystem: Ecosystem::Rpm,
                        file: real,
                        records,
                    }),
                    Err(why) => notes.push(format!("{real}: not read: {why}")),
                }
            }
            continue;
        }
        for (file, format) in [("Packages", "BerkeleyDB"), ("Packages.db", "NDB")] {
            let p = format!("{dir}/{file}");
            if let Ok((real, Node::File(_) | Node::HardLink(_))) = resolve(view, &p) {
                if rpm_seen.contains(&real) {
                    continue;
                }
                rpm_seen.push(real.clone());
                notes.push(format!(
                    "{real}: an rpm database in {format} format, which evident does not read; \
                     the image's rpm packages are not listed"
                ));
            }
        }
    }

    let mut inv = ImageInventory {
        os,
        layers,
        ..ImageInventory::default()
    };
    for f in found {
        if f.ecosystem == Ecosystem::Debian
            && let Some(os) = inv.os.as_ref()
            && os.id != "debian"
        {
            notes.push(format!(
                "{}: dpkg packages of a {} image are recorded under the Debian ecosystem",
                f.file, os.id
            ));
        }
        notes.extend(f.records.notes);
        for r in f.records.packages {
            let mut p = Package::new(f.ecosystem, &r.name, &r.version, &f.file);
            p.purl = image_purl(f.ecosystem, inv.os.as_ref(), &r);
            p.licenses = r.licenses;
            if let (Some(name), Some(version)) = (r.source_name, r.source_version) {
                inv.sources.push(SourcePackage {
                    package: inv.packages.len(),
                    name,
                    version,
                });
            }
            inv.packages.push(p);
        }
    }
    inv.notes = notes;
    inv
}

/// The purl of an OS package: `pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12`
/// (namespace from os-release; rpm's epoch as the `epoch` qualifier, per the purl spec).
fn image_purl(ecosystem: Ecosystem, os: Option<&OsRelease>, r: &DbPackage) -> String {
    let namespace = match (ecosystem, os.map(|o| o.id.as_str())) {
        (Ecosystem::Rpm, Some("rhel")) => Some("redhat"),
        (_, Some(id)) if id != "linux" => Some(id),
        (Ecosystem::Debian, _) => Some("debian"),
        (Ecosystem::Alpine, _) => Some("alpine"),
        _ => None,
    };
    let version = match r.epoch {
        Some(e) => r
            .version
            .strip_prefix(&format!("{e}:"))
            .unwrap_or(&r.version),
        None => &r.version,
    };
    let base = purl(ecosystem, &r.name, version);
    let mut out = match namespace {
        Some(ns) => {
            let prefix = format!("pkg:{}/", ecosystem.purl_type());
            format!("{prefix}{}/{}", encode(ns), &base[prefix.len()..])
        }
        None => base,
    };
    let mut qualifiers: Vec<(&str, String)> = Vec::new();
    if let Some(arch) = &r.arch {
        qualifiers.push(("arch", arch.clone()));
    }
    if let Some(os) = os
        && let Some(v) = &os.version_id
    {
        qualifiers.push(("distro", format!("{}-{v}", os.id)));
    }
    if let Some(e) = r.epoch {
        qualifiers.push(("epoch", e.to_string()));
    }
    for (i, (k, v)) in qualifiers.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&encode(v));
    }
    out
}

/// Percent-encodes a purl component (RFC 3986 unreserved characters stay).
fn encode(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        let os = osrelease::parse(b"ID=rocky\nVERSION_ID=\"9.3\"\n");
        let r = DbPackage {
            name: "openssl-libs".into(),
            version: "1:3.0.7-25.el9".into(),
            arch: Some("x86_64".into()),
            epoch: Some(1),
            ..DbPackage::default()
        };
        assert_eq!(
            image_purl(Ecosystem::Rpm, Some(&os), &r),
            "pkg:rpm/rocky/openssl-libs@3.0.7-25.el9?arch=x86_64&distro=rocky-9.3&epoch=1"
        );
        let r = DbPackage {
            name: "libssl3".into(),
            version: "3.0.11-1~deb12u2".into(),
            arch: Some("amd64".into()),
            ..DbPackage::default()
        };
        assert_eq!(
            image_purl(Ecosystem::Debian, None, &r),
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64"
        );
    }

    #[test]
    fn osv_ecosystems() {
        let inv = |s: &str| ImageInventory {
            os: Some(osrelease::parse(s.as_bytes())),
            ..ImageInventory::default()
        };
        assert_eq!(
            inv("ID=debian\nVERSION_ID=\"12\"")
                .osv_ecosystem()
                .as_deref(),
            Some("Debian:12")
        );
        assert_eq!(
            inv("ID=alpine\nVERSION_ID=3.19.1")
                .osv_ecosystem()
                .as_deref(),
            Some("Alpine:v3.19")
        );
        assert_eq!(
            inv("ID=almalinux\nVERSION_ID=\"9.4\"")
                .osv_ecosystem()
                .as_deref(),
            Some("AlmaLinux:9")
        );
        assert_eq!(inv("ID=arch").osv_ecosystem(), None);
    }
}
