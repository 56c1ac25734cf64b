//! Small durable-write helpers: a file is written beside its destination, synced, renamed into
//! place, and its directory synced, so a crash leaves either the old or the new file.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Syncs a directory so that renames and creations inside it survive a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Atomically replaces `path` with `bytes` (write, sync, rename). The caller syncs the directory
/// (see [`sync_dir`]) once for a batch of writes.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)
}

/// Writes new files durably as one batch: each `(path, bytes)` is written beside its
/// destination, then everything is synced at once, renamed into place, and synced again. On
/// Linux the syncs are two `syncfs` calls on the filesystem holding `root` (one journal commit
/// each, however many files), elsewhere a sync per file and per directory. A crash leaves each
/// destination either absent or complete. Destinations that exist are left as they are; a
/// destination named twice is written once (with its first bytes).
pub fn write_new_files(root: &Path, files: &[(std::path::PathBuf, &[u8])]) -> io::Result<()> {
    let mut renames = Vec::with_capacity(files.len());
    let mut seen = std::collections::HashSet::with_capacity(files.len());
    for (path, bytes) in files {
        // The same destination twice (the same content in one batch) is written once.
        if !seen.insert(path) || path.exists() {
            continue;
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tmp"));
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        #[cfg(not(target_os = "linux"))]
        file.sync_all()?;
        renames.push((tmp, path));
    }
    if renames.is_empty() {
        return Ok(());
    }
    sync_filesystem(root)?;
    for (tmp, path) in &renames {
        fs::rename(tmp, path)?;
    }
    #[cfg(target_os = "linux")]
    sync_filesystem(root)?;
    #[cfg(not(target_os = "linux"))]
    {
        let dirs: std::collections::BTreeSet<&Path> =
            renames.iter().filter_map(|(_, p)| p.parent()).collect();
        for dir in dirs {
            sync_dir(dir)?;
        }
    }
    Ok(())
}

/// Flushes every written file and directory of the filesystem holding `root` (Linux `syncfs`).
#[cfg(target_os = "linux")]
fn sync_filesystem(root: &Path) -> io::Result<()> {
    let dir = fs::File::open(root)?;
    rustix::fs::syncfs(&dir).map_err(io::Error::from)
}

/// Elsewhere each file was synced as it was written.
#[cfg(not(target_os = "linux"))]
#[allow(clippy::unnecessary_wraps)]
fn sync_filesystem(_root: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_files_are_written_once_and_existing_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("x/a");
        let b = dir.path().join("y/z/b");
        fs::create_dir_all(dir.path().join("x")).unwrap();
        fs::write(&a, b"old").unwrap();
        let files = vec![
            (a.clone(), b"new".as_slice()),
            (b.clone(), b"first".as_slice()),
            (b.clone(), b"second".as_slice()),
        ];
        write_new_files(dir.path(), &files).unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"old");
        assert_eq!(fs::read(&b).unwrap(), b"first");
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("y/z"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("b")]);
        write_new_files(dir.path(), &[]).unwrap();
    }
}
