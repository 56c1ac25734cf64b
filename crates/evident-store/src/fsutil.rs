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
    fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    let tmp = beside(path, "tmp");
    write_synced(&tmp, bytes)?;
    fs::rename(&tmp, path)
}

/// `.<name>.<suffix>` in the directory of `path`.
fn beside(path: &Path, suffix: &str) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.parent()
        .unwrap_or(Path::new("."))
        .join(format!(".{name}.{suffix}"))
}

/// Creates or truncates `path`, writes `bytes` and syncs the file.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Writes `bytes` over `path` from its start, creating it if needed, and cuts what is left
/// beyond. Unlike a truncating create, a small file keeps its block: on a filesystem mounted
/// with `discard`, freeing a block makes the writer wait for the device. Not synced.
fn write_in_place(path: &Path, bytes: &[u8]) -> io::Result<fs::File> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    file.write_all(bytes)?;
    file.set_len(bytes.len() as u64)?;
    Ok(file)
}

/// Replacing a file atomically without making a new file each time, in two halves: the bytes go
/// to a spare file beside `path` (`.<name>.spare`, [`stage_spare`]), which the caller syncs,
/// and the spare is then swapped with `path` in one step ([`swap_in_spare`]: Linux `renameat2`
/// with `RENAME_EXCHANGE`), so the spare holds the old bytes until the next replacement. A file
/// replaced at every batch (the checkpoint) then costs no file creation and no deletion: on
/// some filesystems (ext4 without a journal) every recently deleted file slows each later
/// creation down. Where the swap is not available, the spare is renamed into place.
///
/// Writes `bytes` to the spare of `path` (`.<name>.spare`), not synced, and returns it. Nothing
/// reads the spare: it becomes `path` at [`swap_in_spare`], once the caller has synced it.
pub fn stage_spare(path: &Path, bytes: &[u8]) -> io::Result<fs::File> {
    write_in_place(&beside(path, "spare"), bytes)
}

/// Swaps the spare staged by [`stage_spare`] (and synced) with `path`; the caller syncs the
/// directory.
pub fn swap_in_spare(path: &Path) -> io::Result<()> {
    let spare = beside(path, "spare");
    #[cfg(target_os = "linux")]
    if path.exists() {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, &spare, CWD, path, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            // Not supported by this filesystem or kernel: a plain rename below.
            Err(e)
                if e == rustix::io::Errno::INVAL
                    || e == rustix::io::Errno::NOSYS
                    || e == rustix::io::Errno::OPNOTSUPP => {}
            Err(e) => return Err(e.into()),
        }
    }
    fs::rename(&spare, path)
}

/// Writes files durably as one batch, in place (no temporary names): the caller publishes
/// them only afterwards (the log's checkpoint names what is complete), so a crash before then
/// leaves nothing that is read. On Linux one `syncfs` on each filesystem holding one of `roots`
/// makes the whole batch durable (one flush, however many files); elsewhere each file and each
/// directory is synced.
///
/// A destination that already holds the same bytes is left as it is; one that holds other
/// bytes (left incomplete by a crash, or a leftover beyond the checkpoint) is overwritten. A
/// destination named twice is written once, with its first bytes. `staged` are files the
/// caller wrote (under one of `roots`), made durable with the rest.
pub fn write_files(
    roots: &[&Path],
    files: &[(std::path::PathBuf, &[u8])],
    staged: &[fs::File],
) -> io::Result<()> {
    let mut written: Vec<&Path> = Vec::with_capacity(files.len());
    let mut seen = std::collections::HashSet::with_capacity(files.len());
    for (path, bytes) in files {
        if !seen.insert(path) {
            continue;
        }
        // Already there with these bytes: not written again. This matters beyond saving the
        // write: a path the log's checkpoint already covers (a partial tile of a higher level
        // that did not grow, say) always has the same bytes, and rewriting it in place would
        // truncate it for a moment that a crash could make permanent.
        if fs::read(path).is_ok_and(|there| there == *bytes) {
            continue;
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let mut file = fs::File::create(path)?;
        file.write_all(bytes)?;
        #[cfg(not(target_os = "linux"))]
        file.sync_all()?;
        written.push(path);
    }
    if written.is_empty() && staged.is_empty() {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    sync_filesystems(roots)?;
    #[cfg(not(target_os = "linux"))]
    {
        let _ = roots;
        for file in staged {
            file.sync_all()?;
        }
        let dirs: std::collections::BTreeSet<&Path> =
            written.iter().filter_map(|p| p.parent()).collect();
        for dir in dirs {
            sync_dir(dir)?;
        }
    }
    Ok(())
}

/// Syncs each filesystem holding one of `roots` once (roots that do not exist yet are skipped).
#[cfg(target_os = "linux")]
fn sync_filesystems(roots: &[&Path]) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let mut devices = std::collections::HashSet::new();
    for root in roots {
        let Ok(meta) = fs::metadata(root) else {
            continue;
        };
        if devices.insert(meta.dev()) {
            sync_filesystem(root)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Replaces `path` with `bytes` through its spare, as the checkpoint is.
    fn replace_keeping_spare(path: &Path, bytes: &[u8]) -> io::Result<()> {
        stage_spare(path, bytes)?.sync_all()?;
        swap_in_spare(path)
    }

    #[test]
    fn a_replaced_file_swaps_with_its_spare() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint");
        replace_keeping_spare(&path, b"one").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        replace_keeping_spare(&path, b"two, longer").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two, longer");
        replace_keeping_spare(&path, b"3").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"3");
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        // One spare at most, whatever the number of replacements.
        assert!(
            names == ["checkpoint"] || names == [".checkpoint.spare", "checkpoint"],
            "{names:?}"
        );
        #[cfg(target_os = "linux")]
        {
            // Swapped, not recreated: the file keeps one of two inodes.
            use std::os::unix::fs::MetadataExt as _;
            let inodes: std::collections::BTreeSet<u64> = (0..4)
                .map(|i| {
                    replace_keeping_spare(&path, format!("{i}").as_bytes()).unwrap();
                    fs::metadata(&path).unwrap().ino()
                })
                .collect();
            assert!(inodes.len() <= 2, "{inodes:?}");
        }
    }

    #[test]
    fn files_are_written_once_and_existing_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("x/a");
        let b = dir.path().join("y/z/b");
        fs::create_dir_all(dir.path().join("x")).unwrap();
        fs::write(&a, b"same").unwrap();
        let before = fs::metadata(&a).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let files = vec![
            (a.clone(), b"same".as_slice()),
            (b.clone(), b"first".as_slice()),
            (b.clone(), b"second".as_slice()),
        ];
        write_files(&[dir.path()], &files, &[]).unwrap();
        // Already there with the same bytes: not written again.
        assert_eq!(fs::metadata(&a).unwrap().modified().unwrap(), before);
        assert_eq!(fs::read(&b).unwrap(), b"first");
        // A destination left incomplete (a crash) is written again.
        fs::write(&b, b"fir").unwrap();
        write_files(&[dir.path()], &files[1..2], &[]).unwrap();
        assert_eq!(fs::read(&b).unwrap(), b"first");
        // Other bytes are overwritten.
        write_files(&[dir.path()], &[(a.clone(), b"other".as_slice())], &[]).unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"other");
        let names: Vec<_> = fs::read_dir(dir.path().join("y/z"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("b")]);
        write_files(&[dir.path()], &[], &[]).unwrap();
    }

    #[test]
    fn a_staged_spare_is_swapped_in_without_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint");
        fs::write(&path, b"old, and longer than the new one").unwrap();
        let spare = stage_spare(&path, b"new").unwrap();
        // Staged, not yet published.
        assert_eq!(
            fs::read(&path).unwrap(),
            b"old, and longer than the new one"
        );
        write_files(&[dir.path()], &[], &[spare]).unwrap();
        swap_in_spare(&path).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        // The spare now holds the old checkpoint; staging over it cuts what is left beyond.
        stage_spare(&path, b"newer").unwrap();
        swap_in_spare(&path).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"newer");
        assert_eq!(
            fs::read(dir.path().join(".checkpoint.spare")).unwrap(),
            b"new"
        );
    }
}
