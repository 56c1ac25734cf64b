//! The log on disk in the C2SP `tlog-tiles` static layout.
//!
//! ```text
//! <log>/checkpoint                   the latest signed checkpoint
//! <log>/tile/<L>/<N>[.p/<W>]         hash tiles: 256 hashes of tree level 8·L (W < 256: partial)
//! <log>/tile/entries/<N>[.p/<W>]     entry bundles: each entry as a 16-bit big-endian length + bytes
//! ```
//! `<N>` is written in groups of three digits, every group but the last prefixed with `x`
//! (`1234067` → `x001/x234/067`). Any static web server or bucket can serve this directory to
//! tlog clients as is.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use evident_ledger::Hash;
use evident_ledger::merkle::{self, NodeSource};

use crate::fsutil;

/// Hashes per full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels per tile level.
pub const TILE_HEIGHT: u8 = 8;

/// Why reading or writing tiles failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// A tile or bundle the tree size says must exist is missing.
    #[error("{path} is missing")]
    Missing {
        /// The tile's path relative to the log directory.
        path: String,
    },
    /// A tile or bundle has the wrong shape.
    #[error("{path} is malformed: {what}")]
    Malformed {
        /// The tile's path relative to the log directory.
        path: String,
        /// What is wrong.
        what: String,
    },
    /// A node outside the tree was asked for.
    #[error("node ({level}, {index}) is not in a tree of size {size}")]
    OutOfTree {
        /// Tree level.
        level: u8,
        /// Index at that level.
        index: u64,
        /// Tree size.
        size: u64,
    },
    /// A filesystem error.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// Encodes a tile index as path elements: `1234067` → `x001/x234/067`.
pub fn encode_index(n: u64) -> String {
    let digits = n.to_string();
    let pad = (3 - digits.len() % 3) % 3;
    let padded = format!("{}{digits}", "0".repeat(pad));
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .map(|c| std::str::from_utf8(c).expect("ascii digits"))
        .collect();
    let mut out = String::new();
    for (i, g) in groups.iter().enumerate() {
        if i + 1 < groups.len() {
            let _ = write!(out, "x{g}/");
        } else {
            out.push_str(g);
        }
    }
    out
}

fn with_width(base: String, width: u64) -> String {
    if width == TILE_WIDTH {
        base
    } else {
        format!("{base}.p/{width}")
    }
}

/// The path of hash tile `n` at tile level `level` holding `width` hashes.
pub fn tile_path(level: u8, n: u64, width: u64) -> String {
    with_width(format!("tile/{level}/{}", encode_index(n)), width)
}

/// The path of entry bundle `n` holding `width` entries.
pub fn entries_path(n: u64, width: u64) -> String {
    with_width(format!("tile/entries/{}", encode_index(n)), width)
}

/// How many hashes tile `n` at tile level `level` holds in a tree of `size` leaves (0 when the
/// tile does not exist).
pub fn tile_width(level: u8, n: u64, size: u64) -> u64 {
    let shift = u32::from(level) * u32::from(TILE_HEIGHT);
    if shift >= 64 {
        return 0;
    }
    let nodes = size >> shift;
    nodes
        .saturating_sub(n.saturating_mul(TILE_WIDTH))
        .min(TILE_WIDTH)
}

/// Splits an entry bundle into its entries.
pub fn parse_bundle(path: &str, bytes: &[u8]) -> Result<Vec<Vec<u8>>, TileError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(TileError::Malformed {
                path: path.to_owned(),
                what: format!("a length prefix is cut off after {} entries", out.len()),
            });
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        rest = &rest[2..];
        if rest.len() < len {
            return Err(TileError::Malformed {
                path: path.to_owned(),
                what: format!(
                    "entry {} claims {len} bytes but only {} remain",
                    out.len(),
                    rest.len()
                ),
            });
        }
        out.push(rest[..len].to_vec());
        rest = &rest[len..];
    }
    Ok(out)
}

/// Joins entries into a bundle.
pub fn encode_bundle(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 2).sum());
    for e in entries {
        let len = u16::try_from(e.len()).expect("entries are at most 65535 bytes");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// The log directory.
#[derive(Debug, Clone)]
pub struct TileDir {
    root: PathBuf,
}

impl TileDir {
    /// The log at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The log directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn read(&self, rel: &str) -> Result<Vec<u8>, TileError> {
        let path = self.root.join(rel);
        fs::read(&path).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                TileError::Missing {
                    path: rel.to_owned(),
                }
            } else {
                TileError::Io {
                    action: "read",
                    path,
                    source,
                }
            }
        })
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> Result<PathBuf, TileError> {
        let path = self.root.join(rel);
        fsutil::write_atomic(&path, bytes).map_err(|source| TileError::Io {
            action: "write",
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Reads hash tile `n` at `level` with `width` hashes.
    pub fn read_tile(&self, level: u8, n: u64, width: u64) -> Result<Vec<Hash>, TileError> {
        let rel = tile_path(level, n, width);
        let bytes = self.read(&rel)?;
        if bytes.len() as u64 != width * 32 {
            return Err(TileError::Malformed {
                path: rel,
                what: format!(
                    "{} bytes where {width} hashes need {}",
                    bytes.len(),
                    width * 32
                ),
            });
        }
        Ok(bytes
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32-byte chunks"))
            .collect())
    }

    /// Writes hash tile `n` at `level` (its width is the number of hashes).
    pub fn write_tile(&self, level: u8, n: u64, hashes: &[Hash]) -> Result<PathBuf, TileError> {
        let bytes: Vec<u8> = hashes.iter().flatten().copied().collect();
        self.write(&tile_path(level, n, hashes.len() as u64), &bytes)
    }

    /// Reads entry bundle `n` holding `width` entries.
    pub fn read_entries(&self, n: u64, width: u64) -> Result<Vec<Vec<u8>>, TileError> {
        let rel = entries_path(n, width);
        let bytes = self.read(&rel)?;
        let entries = parse_bundle(&rel, &bytes)?;
        if entries.len() as u64 != width {
            return Err(TileError::Malformed {
                path: rel,
                what: format!("{} entries where {width} are expected", entries.len()),
            });
        }
        Ok(entries)
    }

    /// Writes entry bundle `n` (its width is the number of entries).
    pub fn write_entries(&self, n: u64, entries: &[Vec<u8>]) -> Result<PathBuf, TileError> {
        self.write(
            &entries_path(n, entries.len() as u64),
            &encode_bundle(entries),
        )
    }

    /// The latest checkpoint, if the log has one.
    pub fn read_checkpoint(&self) -> Result<Option<String>, TileError> {
        match self.read("checkpoint") {
            Ok(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| TileError::Malformed {
                    path: "checkpoint".into(),
                    what: "not UTF-8".into(),
                }),
            Err(TileError::Missing { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces the checkpoint atomically and durably.
    pub fn write_checkpoint(&self, note: &str) -> Result<(), TileError> {
        self.write("checkpoint", note.as_bytes())?;
        fsutil::sync_dir(&self.root).map_err(|source| TileError::Io {
            action: "sync",
            path: self.root.clone(),
            source,
        })
    }

    /// Every entry of a tree of `size` leaves, in order.
    pub fn read_all_entries(&self, size: u64) -> Result<Vec<Vec<u8>>, TileError> {
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let mut n = 0;
        loop {
            let width = tile_width(0, n, size);
            if width == 0 {
                break;
            }
            out.extend(self.read_entries(n, width)?);
            n += 1;
        }
        Ok(out)
    }
}

/// Perfect-subtree hashes of a tree of a given size, read from its tiles (cached).
#[derive(Debug)]
pub struct TileSource<'a> {
    dir: &'a TileDir,
    size: u64,
    cache: RefCell<HashMap<(u8, u64), Vec<Hash>>>,
}

impl<'a> TileSource<'a> {
    /// Reads the tree of `size` leaves stored in `dir`.
    pub fn new(dir: &'a TileDir, size: u64) -> Self {
        Self {
            dir,
            size,
            cache: RefCell::new(HashMap::new()),
        }
    }

    fn tile(&self, level: u8, n: u64) -> Result<Vec<Hash>, TileError> {
        if let Some(t) = self.cache.borrow().get(&(level, n)) {
            return Ok(t.clone());
        }
        let width = tile_width(level, n, self.size);
        let tile = self.dir.read_tile(level, n, width)?;
        self.cache.borrow_mut().insert((level, n), tile.clone());
        Ok(tile)
    }
}

impl NodeSource for TileSource<'_> {
    type Error = TileError;

    fn node(&self, level: u8, index: u64) -> Result<Hash, TileError> {
        let out_of_tree = TileError::OutOfTree {
            level,
            index,
            size: self.size,
        };
        let tile_level = level / TILE_HEIGHT;
        let rest = u32::from(level % TILE_HEIGHT);
        let first = index.checked_shl(rest).ok_or(out_of_tree)?;
        let count = 1u64 << rest;
        let n = first / TILE_WIDTH;
        let tile = self.tile(tile_level, n)?;
        let start = (first % TILE_WIDTH) as usize;
        let end = start + count as usize;
        if end > tile.len() {
            return Err(TileError::OutOfTree {
                level,
                index,
                size: self.size,
            });
        }
        Ok(merkle::root(&tile[start..end]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_encoding_follows_the_spec() {
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(7), "007");
        assert_eq!(encode_index(999), "999");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(encode_index(1_234_067), "x001/x234/067");
        assert_eq!(tile_path(0, 1_234_067, 256), "tile/0/x001/x234/067");
        assert_eq!(tile_path(1, 5, 17), "tile/1/005.p/17");
        assert_eq!(entries_path(0, 3), "tile/entries/000.p/3");
    }

    #[test]
    fn widths() {
        assert_eq!(tile_width(0, 0, 0), 0);
        assert_eq!(tile_width(0, 0, 3), 3);
        assert_eq!(tile_width(0, 0, 300), 256);
        assert_eq!(tile_width(0, 1, 300), 44);
        assert_eq!(tile_width(1, 0, 300), 1);
        assert_eq!(tile_width(1, 0, 255), 0);
        assert_eq!(tile_width(7, 0, u64::MAX), 255);
        assert_eq!(tile_width(8, 0, u64::MAX), 0);
    }

    #[test]
    fn bundles_round_trip_and_reject_truncation() {
        let entries = vec![b"a".to_vec(), Vec::new(), vec![7u8; 300]];
        let bytes = encode_bundle(&entries);
        assert_eq!(parse_bundle("x", &bytes).unwrap(), entries);
        for cut in 1..bytes.len() {
            if let Ok(parsed) = parse_bundle("x", &bytes[..cut]) {
                assert!(parsed.len() < entries.len() || cut == bytes.len());
            }
        }
        assert!(parse_bundle("x", &bytes[..bytes.len() - 1]).is_err());
    }
}
