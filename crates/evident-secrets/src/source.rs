//! The working tree: a gitignore-aware parallel walk; binary files skipped, large files streamed.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use evident_core::ScanError;

/// Files at most this large are read whole; larger ones are streamed in chunks.
pub const WHOLE_FILE_LIMIT: u64 = 64 << 20;
/// Chunk size when streaming a large file.
pub const CHUNK: usize = 16 << 20;
/// Bytes carried from one chunk into the next so matches across the seam are found.
pub const OVERLAP: usize = 128 << 10;

/// Git's heuristic: a NUL byte in the first 8 KiB means binary.
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(8192)]).is_some()
}

/// Totals of a tree walk.
#[derive(Debug, Default)]
pub struct WalkStats {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub skipped_binary: AtomicU64,
}

/// A piece of a file handed to the scanner: the bytes, the 1-based line number of its first
/// byte, and the offset below which matches belong to the previous chunk.
pub struct Chunk<'a> {
    pub data: &'a [u8],
    pub first_line: u32,
    pub skip_before: usize,
}

/// Walks `root` (a directory or one file) and calls `visit(relative_path, chunk)` for every text
/// file, possibly several times for a large file. Errors are collected, never fatal.
pub fn walk(
    root: &Path,
    threads: usize,
    visit: &(dyn Fn(&str, &Chunk<'_>) + Sync),
) -> (WalkStats, Vec<ScanError>) {
    let stats = WalkStats::default();
    let errors = Mutex::new(Vec::new());
    if root.is_file() {
        let name = root.to_string_lossy().replace('\\', "/");
        let mut buf = Vec::new();
        scan_file(root, &name, &mut buf, &stats, &errors, visit);
        return (stats, errors.into_inner().unwrap_or_default());
    }
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .parents(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git")
        .threads(threads)
        .build_parallel();
    walker.run(|| {
        let mut buf = Vec::with_capacity(1 << 16);
        let stats = &stats;
        let errors = &errors;
        Box::new(move |entry| {
            match entry {
                Ok(entry) => {
                    if entry.file_type().is_some_and(|t| t.is_file()) {
                        let rel = entry
                            .path()
                            .strip_prefix(root)
                            .unwrap_or(entry.path())
                            .to_string_lossy()
                            .replace('\\', "/");
                        scan_file(entry.path(), &rel, &mut buf, stats, errors, visit);
                    }
                }
                Err(e) => push_error(errors, root.display().to_string(), &e.to_string()),
            }
            ignore::WalkState::Continue
        })
    });
    (stats, errors.into_inner().unwrap_or_default())
}

fn push_error(errors: &Mutex<Vec<ScanError>>, path: String, message: &str) {
    if let Ok(mut errors) = errors.lock() {
        errors.push(ScanError {
            path,
            message: message.to_owned(),
        });
    }
}

fn scan_file(
    path: &Path,
    rel: &str,
    buf: &mut Vec<u8>,
    stats: &WalkStats,
    errors: &Mutex<Vec<ScanError>>,
    visit: &(dyn Fn(&str, &Chunk<'_>) + Sync),
) {
    let result = (|| -> std::io::Result<()> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        buf.clear();
        if len <= WHOLE_FILE_LIMIT {
            file.read_to_end(buf)?;
            if is_binary(buf) {
                stats.skipped_binary.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            stats.files.fetch_add(1, Ordering::Relaxed);
            stats.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
            visit(
                rel,
                &Chunk {
                    data: buf,
                    first_line: 1,
                    skip_before: 0,
                },
            );
            return Ok(());
        }
        stream(&mut file, rel, buf, stats, visit)
    })();
    if let Err(e) = result {
        push_error(errors, rel.to_owned(), &format!("cannot read: {e}"));
    }
}

/// Reads a large file in chunks, carrying an overlap so matches spanning a seam are still found.
fn stream(
    file: &mut File,
    rel: &str,
    buf: &mut Vec<u8>,
    stats: &WalkStats,
    visit: &(dyn Fn(&str, &Chunk<'_>) + Sync),
) -> std::io::Result<()> {
    let mut first_line = 1u32;
    let mut carried = 0usize;
    let mut first = true;
    let mut counted = false;
    loop {
        let old = buf.len();
        buf.resize(old + CHUNK, 0);
        let mut filled = old;
        while filled < buf.len() {
            let n = file.read(&mut buf[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        let read = filled - old;
        if first {
            if is_binary(buf) {
                stats.skipped_binary.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            first = false;
        }
        if !counted {
            stats.files.fetch_add(1, Ordering::Relaxed);
            counted = true;
        }
        stats.bytes.fetch_add(read as u64, Ordering::Relaxed);
        if read == 0 && carried == buf.len() {
            return Ok(());
        }
        visit(
            rel,
            &Chunk {
                data: buf,
                first_line,
                skip_before: carried,
            },
        );
        if read < CHUNK {
            return Ok(());
        }
        // Keep the tail (from a line start, if one is near) for the next round.
        let mut keep_from = buf.len().saturating_sub(OVERLAP);
        if let Some(nl) = memchr::memchr(b'\n', &buf[keep_from..]) {
            keep_from += nl + 1;
        }
        first_line += memchr::memchr_iter(b'\n', &buf[..keep_from]).count() as u32;
        buf.drain(..keep_from);
        carried = buf.len();
    }
}
