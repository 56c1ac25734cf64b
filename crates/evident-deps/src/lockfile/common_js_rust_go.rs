//! Helpers shared by the Cargo, npm, yarn, pnpm, Go and Composer parsers: reading the file,
//! format errors with their line, hash decoding (SRI, base64) and de-duplication by purl.
//!
//! Declared from `npm.rs` (the module list in `mod.rs` names only the parsers).

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::model::{Package, PackageHash, ParseError};

/// Reads `root.join(rel)` as UTF-8 text, without a leading byte-order mark.
pub(crate) fn read(root: &Path, rel: &str) -> Result<String, ParseError> {
    let text = std::fs::read_to_string(root.join(rel))
        .map_err(|e| ParseError::new(rel, None, format!("cannot read the file: {e}")))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].split(|&b| b == b'\n').count()
}

/// JSON into `T`, errors carrying serde_json's line.
pub(crate) fn json<T: DeserializeOwned>(
    rel: &str,
    what: &str,
    text: &str,
) -> Result<T, ParseError> {
    serde_json::from_str(text).map_err(|e| {
        let line = (e.line() > 0).then_some(e.line());
        ParseError::new(
            rel,
            line,
            format!("not a valid {what}: {}", strip_position(&e.to_string())),
        )
    })
}

/// serde_json appends " at line L column C"; the line is already in [`ParseError::line`].
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// YAML into `T` (serde-saphyr), errors carrying the parser's line. The budget is raised above
/// the defaults: a monorepo's pnpm lockfile has hundreds of thousands of nodes.
pub(crate) fn yaml<T: DeserializeOwned>(
    rel: &str,
    what: &str,
    text: &str,
) -> Result<T, ParseError> {
    let budget = serde_saphyr::Budget {
        max_events: 50_000_000,
        max_nodes: 20_000_000,
        max_total_scalar_bytes: 1 << 30,
        ..serde_saphyr::Budget::default()
    };
    let options = serde_saphyr::Options {
        budget: Some(budget),
        // Lockfiles written by merges can repeat a key; the last one wins as in js-yaml.
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        with_snippet: false,
        ..serde_saphyr::Options::default()
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let line = e
            .location()
            .and_then(|l| usize::try_from(l.line()).ok())
            .filter(|&l| l > 0);
        let mut msg = e.to_string();
        // The rendered message may repeat the position; keep its first line only.
        if let Some(i) = msg.find('\n') {
            msg.truncate(i);
        }
        ParseError::new(rel, line, format!("not a valid {what}: {msg}"))
    })
}

/// TOML into `T`, errors carrying the line of the span the toml crate reports.
pub(crate) fn toml<T: DeserializeOwned>(
    rel: &str,
    what: &str,
    text: &str,
) -> Result<T, ParseError> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        ParseError::new(
            rel,
            line,
            format!("not a valid {what}: {}", e.message().trim()),
        )
    })
}

/// Standard base64 (RFC 4648 §4), padding optional; `None` on any other character.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        })
    }
    let body = s.trim().trim_end_matches('=');
    if body.is_empty() || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in body.as_bytes() {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The CycloneDX name of a hash algorithm, from its SRI / lockfile spelling.
fn alg_name(alg: &str) -> Option<(&'static str, usize)> {
    match alg.to_ascii_lowercase().as_str() {
        "sha1" => Some(("SHA-1", 20)),
        "sha256" => Some(("SHA-256", 32)),
        "sha384" => Some(("SHA-384", 48)),
        "sha512" => Some(("SHA-512", 64)),
        _ => None,
    }
}

/// The hashes of a Subresource Integrity value (`sha512-<base64> sha1-<base64>`), as hex.
/// Unknown algorithms and malformed digests are left out.
pub(crate) fn sri_hashes(sri: &str) -> Vec<PackageHash> {
    let mut out = Vec::new();
    for part in sri.split_whitespace() {
        let Some((alg, b64)) = part.split_once('-') else {
            continue;
        };
        // SRI allows `?options` after the digest.
        let b64 = b64.split('?').next().unwrap_or(b64);
        let Some((name, len)) = alg_name(alg) else {
            continue;
        };
        if let Some(bytes) = base64_decode(b64).filter(|b| b.len() == len) {
            push_hash(&mut out, name, hex::encode(bytes));
        }
    }
    out
}

/// A hex digest of the expected length for `alg`, lower-cased; `None` otherwise.
pub(crate) fn hex_digest(alg: &str, value: &str) -> Option<PackageHash> {
    let (name, len) = alg_name(alg)?;
    let v = value.trim();
    (v.len() == len * 2 && v.bytes().all(|b| b.is_ascii_hexdigit())).then(|| PackageHash {
        alg: name.to_owned(),
        value: v.to_ascii_lowercase(),
    })
}

/// Adds a hash unless the same one is there already.
pub(crate) fn push_hash(hashes: &mut Vec<PackageHash>, alg: &str, value: String) {
    if !hashes.iter().any(|h| h.alg == alg && h.value == value) {
        hashes.push(PackageHash {
            alg: alg.to_owned(),
            value,
        });
    }
}

/// Packages keyed by purl: a second package with the same purl (a nested copy, a peer variant, a
/// patched package) is merged into the first — hashes, licences and dependencies united, and
/// `dev` only when every copy is dev.
#[derive(Debug, Default)]
pub(crate) struct Dedup {
    by_purl: BTreeMap<String, Package>,
}

impl Dedup {
    pub(crate) fn insert(&mut self, p: Package) {
        match self.by_purl.get_mut(&p.purl) {
            Some(q) => {
                q.dev &= p.dev;
                for h in p.hashes {
                    if !q.hashes.contains(&h) {
                        q.hashes.push(h);
                    }
                }
                for l in p.licenses {
                    if !q.licenses.contains(&l) {
                        q.licenses.push(l);
                    }
                }
                for d in p.dependencies {
                    if !q.dependencies.contains(&d) {
                        q.dependencies.push(d);
                    }
                }
            }
            None => {
                self.by_purl.insert(p.purl.clone(), p);
            }
        }
    }

    pub(crate) fn get_mut(&mut self, purl: &str) -> Option<&mut Package> {
        self.by_purl.get_mut(purl)
    }

    /// The packages ordered by purl, hashes and dependencies sorted.
    pub(crate) fn into_packages(self) -> Vec<Package> {
        self.by_purl
            .into_values()
            .map(|mut p| {
                p.hashes.sort();
                p.dependencies.sort();
                p.dependencies.dedup();
                p
            })
            .collect()
    }
}

/// A short list for a note: the first few items, then how many more.
pub(crate) fn list_for_note(items: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut s = items
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_known_vectors() {
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64_decode("Zm9vYg").unwrap(), b"foob");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert!(base64_decode("Z").is_none());
        assert!(base64_decode("Zm9v!").is_none());
        assert!(base64_decode("").is_none());
    }

    #[test]
    fn sri_to_hex() {
        // sha1 of the empty string.
        let h = sri_hashes("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk= md5-xyz");
        assert_eq!(
            h,
            vec![PackageHash {
                alg: "SHA-1".into(),
                value: "da39a3ee5e6b4b0d3255bfef95601890afd80709".into()
            }]
        );
        assert!(sri_hashes("sha512-short").is_empty());
        assert!(sri_hashes("garbage").is_empty());
    }

    #[test]
    fn hex_digest_checks_length() {
        assert!(hex_digest("sha1", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709").is_some());
        assert!(hex_digest("sha256", "da39a3ee5e6b4b0d3255bfef95601890afd80709").is_none());
        assert!(hex_digest("sha1", "").is_none());
    }

    #[test]
    fn lines_count_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
