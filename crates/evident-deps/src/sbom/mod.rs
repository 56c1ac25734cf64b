//! SBOMs: CycloneDX 1.6 and SPDX 2.3 JSON; licence expressions and policy.
//!
//! - [`cyclonedx()`]: a CycloneDX 1.6 JSON BOM of an [`Inventory`], with vulnerabilities.
//! - [`spdx()`]: an SPDX 2.3 JSON document of an [`Inventory`].
//! - [`license`]: SPDX licence expressions (parser, canonical printing) and [`LicensePolicy`].
//!
//! Both documents are deterministic: the time and the serial are passed in ([`SbomMeta`]), and
//! everything is sorted (components by purl). Packages that share a purl (the same package
//! read from several lockfiles) become one component that names every source.

pub mod cyclonedx;
pub mod license;
pub mod spdx;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use sha2::{Digest as _, Sha256};

pub use cyclonedx::{Vulnerability, cyclonedx};
pub use license::{LicensePolicy, Verdict};
pub use spdx::spdx;

use crate::model::{Inventory, Package};

/// What an SBOM says about itself and the thing it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbomMeta {
    /// The project or image described (the root component / package).
    pub name: String,
    pub version: Option<String>,
    /// When the SBOM was made (injected: never read from the clock here). Written to the
    /// second.
    pub timestamp: jiff::Timestamp,
    /// `urn:uuid:…`, e.g. from [`serial_from`]. The CycloneDX `serialNumber`; the SPDX
    /// `documentNamespace` ends with its UUID.
    pub serial: String,
    /// evident's version, for the tool entries.
    pub tool_version: String,
    /// The distribution of an image, when known (e.g. from `/etc/os-release`).
    pub os: Option<OperatingSystem>,
}

impl SbomMeta {
    /// Metadata with no version and no operating system.
    pub fn new(
        name: impl Into<String>,
        timestamp: jiff::Timestamp,
        serial: impl Into<String>,
        tool_version: impl Into<String>,
    ) -> Self {
        SbomMeta {
            name: name.into(),
            version: None,
            timestamp,
            serial: serial.into(),
            tool_version: tool_version.into(),
            os: None,
        }
    }
}

/// A Linux distribution, as `/etc/os-release` names it (`ID`, `VERSION_ID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatingSystem {
    /// `debian`, `alpine`, `rhel`, …
    pub name: String,
    pub version: Option<String>,
}

/// A `urn:uuid:` serial number made deterministically from `bytes` (e.g. the canonical JSON of
/// the inventory and the subject): the first 128 bits of their SHA-256 with the version and
/// variant bits set as RFC 9562 (which obsoletes RFC 4122) sets them for a version 8 UUID,
/// the name-based SHA-256 form of its appendix B.2. The same bytes always give the same
/// serial; different bytes give different serials.
pub fn serial_from(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The UUID of a `urn:uuid:` serial (the serial itself when it has no such prefix).
pub(crate) fn serial_uuid(serial: &str) -> &str {
    serial
        .strip_prefix("urn:uuid:")
        .or_else(|| serial.strip_prefix("URN:UUID:"))
        .unwrap_or(serial)
}

/// A timestamp to the second, `2024-05-06T07:08:09Z` (what SPDX requires, and what CycloneDX
/// accepts).
pub(crate) fn timestamp(ts: jiff::Timestamp) -> String {
    jiff::Timestamp::from_second(ts.as_second())
        .unwrap_or(ts)
        .to_string()
}

/// Hash algorithms both formats enumerate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum HashAlg {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
    Sha3_256,
    Sha3_384,
    Sha3_512,
    Blake2b256,
    Blake2b384,
    Blake2b512,
    Blake3,
}

impl HashAlg {
    /// Reads `SHA-256`, `sha256`, `SHA_256`, … (case, `-` and `_` do not matter).
    pub(crate) fn parse(name: &str) -> Option<Self> {
        let key: String = name
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .collect::<String>()
            .to_ascii_uppercase();
        Some(match key.as_str() {
            "MD5" => HashAlg::Md5,
            "SHA1" => HashAlg::Sha1,
            "SHA256" => HashAlg::Sha256,
            "SHA384" => HashAlg::Sha384,
            "SHA512" => HashAlg::Sha512,
            "SHA3256" => HashAlg::Sha3_256,
            "SHA3384" => HashAlg::Sha3_384,
            "SHA3512" => HashAlg::Sha3_512,
            "BLAKE2B256" => HashAlg::Blake2b256,
            "BLAKE2B384" => HashAlg::Blake2b384,
            "BLAKE2B512" => HashAlg::Blake2b512,
            "BLAKE3" => HashAlg::Blake3,
            _ => return None,
        })
    }

    /// CycloneDX's `hash-alg` name.
    pub(crate) fn cyclonedx_name(self) -> &'static str {
        match self {
            HashAlg::Md5 => "MD5",
            HashAlg::Sha1 => "SHA-1",
            HashAlg::Sha256 => "SHA-256",
            HashAlg::Sha384 => "SHA-384",
            HashAlg::Sha512 => "SHA-512",
            HashAlg::Sha3_256 => "SHA3-256",
            HashAlg::Sha3_384 => "SHA3-384",
            HashAlg::Sha3_512 => "SHA3-512",
            HashAlg::Blake2b256 => "BLAKE2b-256",
            HashAlg::Blake2b384 => "BLAKE2b-384",
            HashAlg::Blake2b512 => "BLAKE2b-512",
            HashAlg::Blake3 => "BLAKE3",
        }
    }

    /// SPDX 2.3's checksum algorithm name.
    pub(crate) fn spdx_name(self) -> &'static str {
        match self {
            HashAlg::Md5 => "MD5",
            HashAlg::Sha1 => "SHA1",
            HashAlg::Sha256 => "SHA256",
            HashAlg::Sha384 => "SHA384",
            HashAlg::Sha512 => "SHA512",
            HashAlg::Sha3_256 => "SHA3-256",
            HashAlg::Sha3_384 => "SHA3-384",
            HashAlg::Sha3_512 => "SHA3-512",
            HashAlg::Blake2b256 => "BLAKE2b-256",
            HashAlg::Blake2b384 => "BLAKE2b-384",
            HashAlg::Blake2b512 => "BLAKE2b-512",
            HashAlg::Blake3 => "BLAKE3",
        }
    }

    /// The digest length in hex characters (BLAKE3 at its default 256-bit output).
    fn hex_len(self) -> usize {
        match self {
            HashAlg::Md5 => 32,
            HashAlg::Sha1 => 40,
            HashAlg::Sha256 | HashAlg::Sha3_256 | HashAlg::Blake2b256 | HashAlg::Blake3 => 64,
            HashAlg::Sha384 | HashAlg::Sha3_384 | HashAlg::Blake2b384 => 96,
            HashAlg::Sha512 | HashAlg::Sha3_512 | HashAlg::Blake2b512 => 128,
        }
    }
}

/// One SBOM component: the packages of an inventory that share a purl, merged.
#[derive(Debug, Clone)]
pub(crate) struct Component<'a> {
    /// The first package with this purl, in inventory order (name, version, ecosystem).
    pub package: &'a Package,
    /// Every source it was read from, sorted.
    pub sources: Vec<&'a str>,
    /// A development dependency only when every source says so.
    pub dev: bool,
    /// Valid hashes of every source, sorted and de-duplicated; hashes whose algorithm neither
    /// format knows, or whose value is not hex of the algorithm's length, are left out.
    pub hashes: Vec<(HashAlg, String)>,
    /// Licence expressions of every source, de-duplicated, in first-seen order.
    pub licenses: Vec<String>,
    /// Purls of its dependencies that are components of the same SBOM, sorted, never itself.
    pub dependencies: Vec<String>,
    /// Whether a source of it records the dependency graph (some package of that source has
    /// dependencies), so an empty `dependencies` means "none" rather than "not known".
    pub graph_known: bool,
}

/// The components of an inventory, one per purl, sorted by purl.
pub(crate) fn components(inv: &Inventory) -> Vec<Component<'_>> {
    let with_graph: BTreeSet<&str> = inv
        .packages
        .iter()
        .filter(|p| !p.dependencies.is_empty())
        .map(|p| p.source.as_str())
        .collect();
    let mut by_purl: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
    for p in &inv.packages {
        by_purl.entry(p.purl.as_str()).or_default().push(p);
    }
    let present: BTreeSet<&str> = by_purl.keys().copied().collect();
    by_purl
        .into_iter()
        .map(|(purl, packages)| {
            let mut sources: Vec<&str> = packages.iter().map(|p| p.source.as_str()).collect();
            sources.sort_unstable();
            sources.dedup();
            let mut hashes: Vec<(HashAlg, String)> = packages
                .iter()
                .flat_map(|p| &p.hashes)
                .filter_map(|h| {
                    let alg = HashAlg::parse(&h.alg)?;
                    let value = h.value.trim().to_ascii_lowercase();
                    (value.len() == alg.hex_len() && value.bytes().all(|b| b.is_ascii_hexdigit()))
                        .then_some((alg, value))
                })
                .collect();
            hashes.sort();
            hashes.dedup();
            let mut licenses: Vec<String> = Vec::new();
            for l in packages.iter().flat_map(|p| &p.licenses) {
                let l = l.trim();
                if !l.is_empty() && !licenses.iter().any(|x| x == l) {
                    licenses.push(l.to_owned());
                }
            }
            let dependencies: BTreeSet<String> = packages
                .iter()
                .flat_map(|p| &p.dependencies)
                .filter(|d| d.as_str() != purl && present.contains(d.as_str()))
                .cloned()
                .collect();
            Component {
                package: packages[0],
                sources: sources.clone(),
                dev: packages.iter().all(|p| p.dev),
                hashes,
                licenses,
                dependencies: dependencies.into_iter().collect(),
                graph_known: sources.iter().any(|s| with_graph.contains(s)),
            }
        })
        .collect()
}

/// The purls the root (the project or image) is taken to depend on directly: the components
/// nothing else depends on, plus, in purl order, one member of each dependency cycle that
/// would otherwise be unreachable from the root. Sorted.
pub(crate) fn top_level(components: &[Component<'_>]) -> Vec<String> {
    fn visit<'a>(
        start: &'a str,
        index: &BTreeMap<&'a str, &'a [String]>,
        reached: &mut BTreeSet<&'a str>,
    ) {
        let mut queue = VecDeque::from([start]);
        while let Some(p) = queue.pop_front() {
            if let Some((&key, deps)) = index.get_key_value(p)
                && reached.insert(key)
            {
                queue.extend(deps.iter().map(String::as_str));
            }
        }
    }

    let index: BTreeMap<&str, &[String]> = components
        .iter()
        .map(|c| (c.package.purl.as_str(), c.dependencies.as_slice()))
        .collect();
    let depended: BTreeSet<&str> = index
        .values()
        .flat_map(|d| d.iter().map(String::as_str))
        .collect();
    let mut top: Vec<&str> = index
        .keys()
        .copied()
        .filter(|p| !depended.contains(p))
        .collect();
    let mut reached: BTreeSet<&str> = BTreeSet::new();
    for &p in &top {
        visit(p, &index, &mut reached);
    }
    for &p in index.keys() {
        if !reached.contains(p) {
            top.push(p);
            visit(p, &index, &mut reached);
        }
    }
    top.sort_unstable();
    top.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_version_8_uuids() {
        let s = serial_from(b"evident");
        assert_eq!(s, serial_from(b"evident"));
        assert_ne!(s, serial_from(b"evident2"));
        let uuid = serial_uuid(&s);
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "8");
        assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"), "{uuid}");
    }

    #[test]
    fn hash_names() {
        assert_eq!(HashAlg::parse("sha256"), Some(HashAlg::Sha256));
        assert_eq!(HashAlg::parse("SHA-512"), Some(HashAlg::Sha512));
        assert_eq!(HashAlg::parse("sha3_256"), Some(HashAlg::Sha3_256));
        assert_eq!(HashAlg::parse("crc32"), None);
        assert_eq!(HashAlg::Sha1.spdx_name(), "SHA1");
        assert_eq!(HashAlg::Sha1.cyclonedx_name(), "SHA-1");
    }
}
