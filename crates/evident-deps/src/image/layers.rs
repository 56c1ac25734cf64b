//! The image filesystem as the package readers see it: a directory on disk, or layer tarballs
//! stacked with overlay semantics (whiteouts, opaque directories), resolved in memory.
//!
//! Every layer entry is recorded (path and kind), but file contents are kept only for the few
//! files the readers need (by file name: `os-release`, `status`, `status.d/*`, `installed`,
//! `rpmdb.sqlite`), each within [`ScanOptions::max_file_bytes`] and all together within
//! [`ScanOptions::max_total_bytes`]. Paths are normalised relative to the image root; entries
//! with `..` are refused; symlinks are resolved inside the image root, never on the host.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, BufRead, BufReader, Read};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{ImageError, ScanOptions};

/// gzip and zstd magic numbers.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
pub(crate) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Symlinks followed in one resolution before giving up (Linux's limit).
const MAX_SYMLINKS: usize = 40;

/// What the contents of a file are, as far as the scan is concerned.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// Read into memory.
    Kept(Arc<[u8]>),
    /// On disk (directory scans), read on demand.
    OnDisk,
    /// Not kept, and why.
    Skipped(&'static str),
}

/// One path in the image.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Dir,
    File(Content),
    Symlink(String),
    /// A hard link whose target was not an earlier file of the same layer.
    HardLink(String),
    /// Devices, FIFOs.
    Other,
}

/// The image filesystem, by normalised path (`etc/os-release`; `` for the root).
pub(crate) trait View {
    /// The entry at exactly this path (no symlink following), if any.
    fn lookup(&self, path: &str) -> Option<Node>;
    /// The paths of the entries directly inside the directory `dir`.
    fn children(&self, dir: &str) -> Vec<String>;
    /// The contents of a file found by [`View::lookup`].
    fn read(&self, path: &str, node: &Node, max: u64) -> Result<Arc<[u8]>, String>;
}

/// Splits a path into its normal components; `None` when it has a `..` component.
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => return None,
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// Joins `base` (a directory) and a relative path lexically, `..` stopping at the root.
pub(crate) fn join_lexical(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|c| !c.is_empty()).collect()
    };
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

fn parent_and_name(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// The strict ancestors of a path, the root (``) first.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    std::iter::once("").chain(
        path.match_indices('/')
            .map(move |(i, _)| &path[..i])
            .filter(|p| !p.is_empty()),
    )
}

/// Why a path could not be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unresolved {
    NotFound,
    NotADirectory,
    Loop,
}

/// Follows symlinks (in every component) inside the image root, like `open(2)` in a chroot.
/// Returns the resolved path and its entry.
pub(crate) fn resolve(view: &dyn View, path: &str) -> Result<(String, Node), Unresolved> {
    let mut pending: Vec<String> = path.split('/').rev().map(str::to_owned).collect();
    let mut cur: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(c) = pending.pop() {
        match c.as_str() {
            "" | "." => continue,
            ".." => {
                cur.pop();
                continue;
            }
            _ => {}
        }
        cur.push(c);
        let here = cur.join("/");
        let last = pending.iter().all(|p| p.is_empty() || p == ".");
        match view.lookup(&here) {
            // An intermediate directory a tarball never listed.
            None if !last => {}
            None => return Err(Unresolved::NotFound),
            Some(Node::Dir) => {
                if last {
                    return Ok((here, Node::Dir));
                }
            }
            Some(Node::Symlink(target)) => {
                hops += 1;
                if hops > MAX_SYMLINKS {
                    return Err(Unresolved::Loop);
                }
                cur.pop();
                if target.starts_with('/') {
                    cur.clear();
                }
                pending.extend(target.split('/').rev().map(str::to_owned));
            }
            Some(node) => {
                if last {
                    return Ok((here, node));
                }
                return Err(Unresolved::NotADirectory);
            }
        }
    }
    Ok((cur.join("/"), Node::Dir))
}

/// A root filesystem in a directory on disk.
pub(crate) struct DiskView {
    pub(crate) root: PathBuf,
}

impl DiskView {
    fn full(&self, path: &str) -> PathBuf {
        let mut p = self.root.clone();
        for c in path.split('/').filter(|c| !c.is_empty()) {
            p.push(c);
        }
        p
    }
}

impl View for DiskView {
    fn lookup(&self, path: &str) -> Option<Node> {
        let full = self.full(path);
        let meta = std::fs::symlink_metadata(&full).ok()?;
        let ft = meta.file_type();
        Some(if ft.is_symlink() {
            Node::Symlink(
                std::fs::read_link(&full)
                    .ok()?
                    .to_string_lossy()
                    .into_owned(),
            )
        } else if ft.is_dir() {
            Node::Dir
        } else if ft.is_file() {
            Node::File(Content::OnDisk)
        } else {
            Node::Other
        })
    }

    fn children(&self, dir: &str) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(self.full(dir)) else {
            return Vec::new();
        };
        let mut out: Vec<String> = rd
            .filter_map(Result::ok)
            .map(|e| join(dir, &e.file_name().to_string_lossy()))
            .collect();
        out.sort();
        out
    }

    fn read(&self, path: &str, node: &Node, max: u64) -> Result<Arc<[u8]>, String> {
        if !matches!(node, Node::File(_)) {
            return Err("not a regular file".to_owned());
        }
        read_capped(&self.full(path), max)
    }
}

fn read_capped(path: &Path, max: u64) -> Result<Arc<[u8]>, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    f.take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > max {
        return Err(format!("larger than the limit of {max} bytes"));
    }
    Ok(buf.into())
}

/// What one layer changes.
#[derive(Debug, Default)]
pub(crate) struct LayerDelta {
    pub(crate) entries: BTreeMap<String, Node>,
    /// Paths deleted from lower layers (`.wh.<name>`).
    pub(crate) whiteouts: HashSet<String>,
    /// Directories whose lower-layer contents are hidden (`.wh..wh..opq`).
    pub(crate) opaque: HashSet<String>,
    /// Notes about the layer (refused entries).
    pub(crate) notes: Vec<String>,
}

/// Layers stacked bottom to top.
pub(crate) struct LayeredView {
    pub(crate) layers: Vec<Arc<LayerDelta>>,
}

impl View for LayeredView {
    fn lookup(&self, path: &str) -> Option<Node> {
        for layer in self.layers.iter().rev() {
            if let Some(node) = layer.entries.get(path) {
                return Some(node.clone());
            }
            if layer.opaque.contains(path) {
                return Some(Node::Dir);
            }
            if layer.whiteouts.contains(path) {
                return None;
            }
            for anc in ancestors(path) {
                if layer.whiteouts.contains(anc) || layer.opaque.contains(anc) {
                    return None;
                }
                if let Some(node) = layer.entries.get(anc)
                    && !matches!(node, Node::Dir)
                {
                    return None;
                }
            }
        }
        None
    }

    fn children(&self, dir: &str) -> Vec<String> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut names = BTreeSet::new();
        for layer in &self.layers {
            let range = layer
                .entries
                .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded));
            for (k, _) in range.take_while(|(k, _)| k.starts_with(&prefix)) {
                let rest = &k[prefix.len()..];
                if !rest.is_empty() && !rest.contains('/') {
                    names.insert(k.clone());
                }
            }
        }
        names
            .into_iter()
            .filter(|p| self.lookup(p).is_some())
            .collect()
    }

    fn read(&self, path: &str, node: &Node, max: u64) -> Result<Arc<[u8]>, String> {
        match node {
            Node::File(Content::Kept(b)) if b.len() as u64 <= max => Ok(b.clone()),
            Node::File(Content::Kept(_)) => Err(format!("larger than the limit of {max} bytes")),
            Node::File(Content::Skipped(why)) => Err((*why).to_owned()),
            Node::File(Content::OnDisk) => Err("not materialised".to_owned()),
            Node::HardLink(target) => match self.lookup(target) {
                Some(n @ Node::File(_)) => self.read(target, &n, max),
                _ => Err(format!("hard link to {target}, which is not a file")),
            },
            _ => Err(format!("{path} is not a regular file")),
        }
    }
}

/// Whether a file's contents are needed by a reader (decided by name, before resolution).
fn wanted(path: &str) -> bool {
    let (parent, name) = parent_and_name(path);
    matches!(name, "os-release" | "status" | "installed" | "rpmdb.sqlite")
        || parent_and_name(parent).1 == "status.d"
}

/// Running totals across all the layers of one scan.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    pub(crate) entries: u64,
    pub(crate) kept_bytes: u64,
}

/// Reads one layer tarball (plain or gzip) into its delta.
pub(crate) fn parse_layer(
    reader: &mut dyn Read,
    archive: &str,
    layer: &str,
    opts: &ScanOptions,
    budget: &mut Budget,
) -> Result<LayerDelta, ImageError> {
    let bad = |message: String| ImageError::BadLayer {
        archive: archive.to_owned(),
        layer: layer.to_owned(),
        message,
    };
    let mut buffered = BufReader::new(reader);
    let head = buffered
        .fill_buf()
        .map_err(|e| bad(format!("cannot read: {e}")))?;
    if head.starts_with(&ZSTD_MAGIC) {
        return Err(ImageError::Unsupported {
            archive: archive.to_owned(),
            what: format!("layer {layer} is zstd-compressed"),
        });
    }
    let decoded: Box<dyn Read + '_> = if head.starts_with(&GZIP_MAGIC) {
        Box::new(flate2::read::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let mut tar = tar::Archive::new(decoded);
    let mut delta = LayerDelta::default();
    let mut refused = 0usize;
    let entries = tar
        .entries()
        .map_err(|e| bad(format!("not a tarball: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("bad tar entry: {e}")))?;
        budget.entries += 1;
        if budget.entries > opts.max_entries {
            return Err(ImageError::Limit {
                archive: archive.to_owned(),
                what: format!("the number of layer entries (at layer {layer})"),
                limit: opts.max_entries,
            });
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = normalize(&raw) else {
            refused += 1;
            continue;
        };
        if path.is_empty() {
            continue;
        }
        let (parent, name) = parent_and_name(&path);
        if name == ".wh..wh..opq" {
            delta.opaque.insert(parent.to_owned());
            continue;
        }
        if let Some(hidden) = name.strip_prefix(".wh.") {
            // `.wh..wh.*` other than `.opq` are aufs bookkeeping.
            if !hidden.starts_with(".wh.") && !hidden.is_empty() {
                delta.whiteouts.insert(join(parent, hidden));
            }
            continue;
        }
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned());
        let node = match entry.header().entry_type() {
            tar::EntryType::Directory => Node::Dir,
            tar::EntryType::Symlink => Node::Symlink(link.unwrap_or_default()),
            tar::EntryType::Link => {
                let Some(target) = link.as_deref().and_then(normalize) else {
                    refused += 1;
                    continue;
                };
                match delta.entries.get(&target) {
                    Some(n @ Node::File(_)) => n.clone(),
                    _ => Node::HardLink(target),
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                Node::File(
                    keep(&mut entry, &path, opts, budget)
                        .map_err(|e| bad(format!("cannot read {path}: {e}")))?,
                )
            }
            _ => Node::Other,
        };
        delta.entries.insert(path, node);
    }
    if refused > 0 {
        delta.notes.push(format!(
            "layer {layer}: {refused} entries with `..` in their path or link were refused"
        ));
    }
    Ok(delta)
}

fn keep(
    entry: &mut dyn Read,
    path: &str,
    opts: &ScanOptions,
    budget: &mut Budget,
) -> io::Result<Content> {
    if !wanted(path) {
        return Ok(Content::Skipped(
            "not materialised (not a file the scan reads)",
        ));
    }
    let mut buf = Vec::new();
    entry
        .take(opts.max_file_bytes.saturating_add(1))
        .read_to_end(&mut buf)?;
    if buf.len() as u64 > opts.max_file_bytes {
        return Ok(Content::Skipped("larger than the per-file limit"));
    }
    if budget.kept_bytes + buf.len() as u64 > opts.max_total_bytes {
        return Ok(Content::Skipped("over the limit for all files kept"));
    }
    budget.kept_bytes += buf.len() as u64;
    Ok(Content::Kept(buf.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(s: &str) -> Node {
        Node::File(Content::Kept(s.as_bytes().into()))
    }

    fn layer(entries: &[(&str, Node)], whiteouts: &[&str], opaque: &[&str]) -> Arc<LayerDelta> {
        Arc::new(LayerDelta {
            entries: entries
                .iter()
                .map(|(p, n)| ((*p).to_owned(), n.clone()))
                .collect(),
            whiteouts: whiteouts.iter().map(|s| (*s).to_owned()).collect(),
            opaque: opaque.iter().map(|s| (*s).to_owned()).collect(),
            notes: Vec::new(),
        })
    }

    fn text(view: &dyn View, path: &str) -> Option<String> {
        let (p, node) = resolve(view, path).ok()?;
        let b = view.read(&p, &node, 1 << 20).ok()?;
        Some(String::from_utf8_lossy(&b).into_owned())
    }

    #[test]
    fn overlay_semantics() {
        let view = LayeredView {
            layers: vec![
                layer(
                    &[
                        ("a/x", file("1")),
                        ("a/y", file("2")),
                        ("b/z", file("3")),
                        ("c", Node::Dir),
                        ("c/w", file("4")),
                        (
                            "etc/os-release",
                            Node::Symlink("../usr/lib/os-release".into()),
                        ),
                        ("usr/lib/os-release", file("ID=debian")),
                        ("lnk", Node::Symlink("/b".into())),
                        ("loop", Node::Symlink("loop".into())),
                        ("esc", Node::Symlink("../../../../b/z".into())),
                    ],
                    &[],
                    &[],
                ),
                layer(
                    &[("a/y", file("2b")), ("c", file("now a file"))],
                    &["b"],
                    &["a"],
                ),
                layer(&[("b/z", file("3c"))], &[], &[]),
            ],
        };
        assert_eq!(text(&view, "a/x"), None);
        assert_eq!(text(&view, "a/y").as_deref(), Some("2b"));
        assert_eq!(text(&view, "b/z").as_deref(), Some("3c"));
        assert_eq!(text(&view, "c/w"), None);
        assert_eq!(text(&view, "etc/os-release").as_deref(), Some("ID=debian"));
        assert_eq!(text(&view, "lnk/z").as_deref(), Some("3c"));
        assert_eq!(text(&view, "esc").as_deref(), Some("3c"));
        assert_eq!(resolve(&view, "loop").unwrap_err(), Unresolved::Loop);
        assert_eq!(view.children("a"), ["a/y"]);
    }

    #[test]
    fn paths() {
        assert_eq!(
            normalize("./etc//os-release").as_deref(),
            Some("etc/os-release")
        );
        assert_eq!(normalize("/a/../b"), None);
        assert_eq!(join_lexical("a/b", "../c/layer.tar"), "a/c/layer.tar");
        assert_eq!(join_lexical("a", "../../../x"), "x");
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), ["", "a", "a/b"]);
        assert!(wanted("var/lib/dpkg/status.d/base"));
        assert!(!wanted("usr/bin/ls"));
    }
}
