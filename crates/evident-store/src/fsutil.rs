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
