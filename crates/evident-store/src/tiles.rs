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
    /// The object store failed.
    #[error("cannot {action} log/{path}: {detail}")]
    Remote {
        /// What was being done.
        action: &'static str,
        /// The resource's path relative to the log.
        path: String,
        /// What the object store said.
        detail: String,
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
    Ok(bundle_spans(path, bytes)?
        .into_iter()
        .map(|span| bytes[span].to_vec())
        .collect())
}

/// Where each entry of an entry bundle lies in its bytes.
pub fn bundle_spans(path: &str, bytes: &[u8]) -> Result<Vec<std::ops::Range<usize>>, TileError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let Some(prefix) = bytes.get(at..at + 2) else {
            return Err(TileError::Malformed {
                path: path.to_owned(),
                what: format!("a length prefix is cut off after {} entries", out.len()),
            });
        };
        let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        at += 2;
        if bytes.len() - at < len {
            return Err(TileError::Malformed {
                path: path.to_owned(),
                what: format!(
                    "entry {} claims {len} bytes but only {} remain",
                    out.len(),
                    bytes.len() - at
                ),
            });
        }
        out.push(at..at + len);
        at += len;
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

/// Where the log's files live: a directory, or an S3 bucket (under `<prefix>/log/`, tiles and
/// entry bundles locked by Object Lock in COMPLIANCE mode).
#[derive(Clone)]
enum Medium {
    Dir,
    S3 {
        bucket: Box<crate::s3::S3Bucket>,
        /// `<prefix>/log`
        prefix: String,
        /// How long tiles and bundles are locked from when they are written.
        retention: jiff::SignedDuration,
        clock: std::sync::Arc<dyn evident_core::Clock>,
    },
}

impl std::fmt::Debug for Medium {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dir => f.write_str("Dir"),
            Self::S3 {
                bucket,
                prefix,
                retention,
                ..
            } => f
                .debug_struct("S3")
                .field("bucket", bucket)
                .field("prefix", prefix)
                .field("retention", retention)
                .finish_non_exhaustive(),
        }
    }
}

/// The log: its checkpoint, hash tiles and entry bundles in the tlog-tiles layout.
#[derive(Debug, Clone)]
pub struct TileDir {
    root: PathBuf,
    medium: Medium,
}

impl TileDir {
    /// The log in the directory `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            medium: Medium::Dir,
        }
    }

    /// The log in `bucket` under `<prefix>/log/`; tiles and entry bundles are locked (S3
    /// Object Lock, COMPLIANCE mode) for `retention` from when they are written, by `clock`.
    /// `root` is the store's local log directory (nothing of the log is kept there).
    pub fn in_bucket(
        root: impl Into<PathBuf>,
        bucket: crate::s3::S3Bucket,
        prefix: &str,
        retention: jiff::SignedDuration,
        clock: std::sync::Arc<dyn evident_core::Clock>,
    ) -> Self {
        let prefix = if prefix.is_empty() {
            "log".to_owned()
        } else {
            format!("{prefix}/log")
        };
        Self {
            root: root.into(),
            medium: Medium::S3 {
                bucket: Box::new(bucket),
                prefix,
                retention,
                clock,
            },
        }
    }

    /// The local log directory (with the log in a bucket, it holds nothing of the log).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the log lives, for messages: a directory or `s3://bucket/prefix/log`.
    pub fn location(&self) -> String {
        match &self.medium {
            Medium::Dir => self.root.display().to_string(),
            Medium::S3 { bucket, prefix, .. } => format!("s3://{}/{prefix}", bucket.name()),
        }
    }

    /// Whether anything of entry bundle 0 was written (a log whose checkpoint is gone).
    pub fn has_entries(&self) -> Result<bool, TileError> {
        match &self.medium {
            Medium::Dir => Ok(self.root.join("tile").exists()),
            Medium::S3 { .. } => {
                for rel in [entries_path(0, TILE_WIDTH), entries_path(0, 1)] {
                    if self.read_optional(&rel)?.is_some() {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    /// A resource of the log by its path (`checkpoint`, `tile/…`), as stored; `None` when there
    /// is none. The path must be one of the log's own (callers check it); in a directory,
    /// nothing outside the log is ever read.
    pub fn read_resource(&self, rel: &str) -> Result<Option<Vec<u8>>, TileError> {
        if let Medium::Dir = self.medium {
            let io = |action, path: PathBuf| {
                move |source| TileError::Io {
                    action,
                    path,
                    source,
                }
            };
            let root = self
                .root
                .canonicalize()
                .map_err(io("open", self.root.clone()))?;
            let file = match root.join(rel).canonicalize() {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io("open", root.join(rel))(e)),
            };
            if !file.starts_with(&root) || !file.is_file() {
                return Ok(None);
            }
        }
        self.read_optional(rel)
    }

    fn read_optional(&self, rel: &str) -> Result<Option<Vec<u8>>, TileError> {
        match self.read(rel) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(TileError::Missing { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn read(&self, rel: &str) -> Result<Vec<u8>, TileError> {
        if let Medium::S3 { bucket, prefix, .. } = &self.medium {
            return match bucket.get(&format!("{prefix}/{rel}")) {
                Ok(Some(bytes)) => Ok(bytes),
                Ok(None) => Err(TileError::Missing {
                    path: rel.to_owned(),
                }),
                Err(e) => Err(TileError::Remote {
                    action: "read",
                    path: rel.to_owned(),
                    detail: e.to_string(),
                }),
            };
        }
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

    /// Writes a resource; returns the file written (in a directory: its directory is synced by
    /// the caller, once for a batch), or `None` in a bucket (a successful PUT is durable).
    /// `lock`: in a bucket, the resource is locked for the log's retention.
    fn write(&self, rel: &str, bytes: &[u8], lock: bool) -> Result<Option<PathBuf>, TileError> {
        if let Medium::S3 {
            bucket,
            prefix,
            retention,
            clock,
        } = &self.medium
        {
            let until = if lock {
                Some(
                    clock
                        .now()
                        .checked_add(*retention)
                        .map_err(|e| TileError::Remote {
                            action: "lock",
                            path: rel.to_owned(),
                            detail: e.to_string(),
                        })?,
                )
            } else {
                None
            };
            bucket
                .put(&format!("{prefix}/{rel}"), bytes, until)
                .map_err(|e| TileError::Remote {
                    action: "write",
                    path: rel.to_owned(),
                    detail: e.to_string(),
                })?;
            return Ok(None);
        }
        let path = self.root.join(rel);
        fsutil::write_atomic(&path, bytes).map_err(|source| TileError::Io {
            action: "write",
            path: path.clone(),
            source,
        })?;
        Ok(Some(path))
    }

    /// Writes files of the log (`(path, bytes)`, replacing what is there) durably, as one
    /// batch, with `staged` files written by the caller under `staged_root` (a batch's blob
    /// packs): in a directory with one filesystem sync in all (see [`fsutil::write_files`]),
    /// in a bucket one locked PUT each (`staged` must then be empty).
    ///
    /// `checkpoint` is the note that will publish the batch: in a directory it is written to
    /// the checkpoint's spare and made durable with the batch, so that
    /// [`TileDir::publish_checkpoint`] has only to swap it in. Nothing reads the spare.
    pub fn write_batch(
        &self,
        log: &[(String, Vec<u8>)],
        staged: Vec<std::fs::File>,
        staged_root: Option<&Path>,
        checkpoint: Option<&str>,
    ) -> Result<(), TileError> {
        if let Medium::S3 { .. } = self.medium {
            for (rel, bytes) in log {
                self.write(rel, bytes, true)?;
            }
            return Ok(());
        }
        let io = |action| {
            move |source| TileError::Io {
                action,
                path: self.root.clone(),
                source,
            }
        };
        let replaced: Vec<(PathBuf, &[u8])> = log
            .iter()
            .map(|(rel, bytes)| (self.root.join(rel), bytes.as_slice()))
            .collect();
        let mut staged = staged;
        if let Some(note) = checkpoint {
            staged.push(
                fsutil::stage_spare(&self.root.join("checkpoint"), note.as_bytes())
                    .map_err(io("write the checkpoint's spare in"))?,
            );
        }
        let mut roots: Vec<&Path> = vec![&self.root];
        roots.extend(staged_root);
        fsutil::write_files(&roots, &replaced, &staged).map_err(io("write"))
    }

    /// Publishes `note` as the log's checkpoint, durably. In a directory, `note` must be what
    /// the last [`TileDir::write_batch`] staged: its spare is swapped in and the directory
    /// synced. In a bucket the checkpoint object is written (not locked: it is replaced by
    /// every append, and in a versioned bucket each one stays as a version).
    pub fn publish_checkpoint(&self, note: &str) -> Result<(), TileError> {
        if let Medium::S3 { .. } = self.medium {
            self.write("checkpoint", note.as_bytes(), false)?;
            return Ok(());
        }
        let path = self.root.join("checkpoint");
        fsutil::swap_in_spare(&path).map_err(|source| TileError::Io {
            action: "write",
            path,
            source,
        })?;
        fsutil::sync_dir(&self.root).map_err(|source| TileError::Io {
            action: "sync",
            path: self.root.clone(),
            source,
        })
    }

    /// Writes the log's verifier key beside it (`vkey`, informational).
    pub fn write_vkey(&self, text: &str) -> Result<(), TileError> {
        self.write("vkey", text.as_bytes(), false).map(|_| ())
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
    pub fn write_tile(
        &self,
        level: u8,
        n: u64,
        hashes: &[Hash],
    ) -> Result<Option<PathBuf>, TileError> {
        let bytes: Vec<u8> = hashes.iter().flatten().copied().collect();
        self.write(&tile_path(level, n, hashes.len() as u64), &bytes, true)
    }

    /// Reads entry bundle `n` holding `width` entries.
    pub fn read_entries(&self, n: u64, width: u64) -> Result<Vec<Vec<u8>>, TileError> {
        let (bytes, spans) = self.read_bundle(n, width)?;
        Ok(spans.into_iter().map(|span| bytes[span].to_vec()).collect())
    }

    /// Reads entry bundle `n` holding `width` entries, as its bytes and where each entry lies
    /// in them.
    pub fn read_bundle(
        &self,
        n: u64,
        width: u64,
    ) -> Result<(Vec<u8>, Vec<std::ops::Range<usize>>), TileError> {
        let rel = entries_path(n, width);
        let bytes = self.read(&rel)?;
        let spans = bundle_spans(&rel, &bytes)?;
        if spans.len() as u64 != width {
            return Err(TileError::Malformed {
                path: rel,
                what: format!("{} entries where {width} are expected", spans.len()),
            });
        }
        Ok((bytes, spans))
    }

    /// Writes entry bundle `n` (its width is the number of entries).
    pub fn write_entries(&self, n: u64, entries: &[Vec<u8>]) -> Result<Option<PathBuf>, TileError> {
        self.write(
            &entries_path(n, entries.len() as u64),
            &encode_bundle(entries),
            true,
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

/// The path and bytes of hash tile `n` at `level` (its width is the number of hashes).
pub fn tile_file(level: u8, n: u64, hashes: &[Hash]) -> (String, Vec<u8>) {
    (
        tile_path(level, n, hashes.len() as u64),
        hashes.iter().flatten().copied().collect(),
    )
}

/// The path and bytes of entry bundle `n` (its width is the number of entries).
pub fn entries_file(n: u64, entries: &[Vec<u8>]) -> (String, Vec<u8>) {
    (
        entries_path(n, entries.len() as u64),
        encode_bundle(entries),
    )
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
