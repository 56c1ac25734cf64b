//! Content blobs packed into append-only files.
//!
//! A blob in a file of its own costs a new file (and, while the store is young, a new
//! `sha256/ab/cd` directory) per piece of content, and a filesystem pays for every file it
//! creates: an inode to find and write, a directory entry, and on ext4 without a journal a walk
//! past every recently deleted inode. A server storing one webhook body per delivery spent most
//! of its time there. So a batch's content goes to the end of one pack file instead, and an
//! index beside it says where each blob lies:
//!
//! ```text
//! <blobs>/packs/00000001.pack   the contents, one after the other
//! <blobs>/packs/00000001.idx    48 bytes per blob: its SHA-256 (32 bytes), then the offset of
//!                               its content in the pack and its length (u64, little-endian)
//! <blobs>/packs/.lock           held while a pack or an index is written
//! ```
//!
//! Packs are numbered from 1 and only ever appended to; a pack past [`PACK_LIMIT`] bytes is
//! left as it is and the next one started. Only the last index is ever appended to, so the
//! others never change once a later one exists. A removed blob's bytes are zeroed in place
//! (a hole punched where the filesystem can) and an entry with offset `u64::MAX` (a removal)
//! is added to the last index. The last entry of a blob decides: where it lies, or that it was
//! removed.
//!
//! Nothing read from a pack is trusted: content is checked against its digest on every read,
//! and a blob already in a pack is only left there (not written again) once its content has
//! been read back and compared. So an index entry or a pack tail left half-written by a crash
//! can make a blob missing or a read fail, never return wrong content. What an entry of the
//! log names was synced before the checkpoint that publishes it.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sha2::{Digest as _, Sha256};

/// The size past which a pack is left and the next one started.
pub const PACK_LIMIT: u64 = 64 << 20;
/// The size of one index entry.
const ENTRY: usize = 48;
/// The offset that marks a removal.
const REMOVED: u64 = u64::MAX;

/// A SHA-256 digest.
pub(crate) type Sha = [u8; 32];

/// One index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The blob's SHA-256.
    pub sha: Sha,
    /// The offset of its content in the pack, or [`REMOVED`].
    pub offset: u64,
    /// Its length in bytes (0 for a removal).
    pub len: u64,
}

impl Entry {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.sha);
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
    }

    fn removed(&self) -> bool {
        self.offset == REMOVED
    }
}

/// The whole entries in `bytes` (a trailing part of an entry, left by a crash, is not one).
pub(crate) fn parse_entries(bytes: &[u8]) -> impl Iterator<Item = Entry> + '_ {
    bytes.chunks_exact(ENTRY).map(|e| {
        let word = |at: usize| {
            u64::from_le_bytes(e[at..at + 8].try_into().expect("eight bytes of an entry"))
        };
        Entry {
            sha: e[..32].try_into().expect("32 bytes of an entry"),
            offset: word(32),
            len: word(40),
        }
    })
}

/// Where a blob's latest entry points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc {
    /// The pack's number (from 1).
    pack: u32,
    offset: u64,
    len: u64,
}

/// What the index says of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    At(Loc),
    Removed,
    Absent,
}

#[derive(Debug, Default)]
struct State {
    /// The latest entry of each blob in the indexes read so far (`None`: removed).
    latest: HashMap<Sha, Option<Loc>>,
    /// The bytes of whole entries read from each index, by pack number - 1.
    read: Vec<u64>,
    /// Packs open for reading, by pack number - 1.
    open: Vec<Option<Arc<File>>>,
}

/// The packs of a blob store.
#[derive(Debug)]
pub(crate) struct Packs {
    dir: PathBuf,
    state: Mutex<State>,
}

/// The exclusive lock on `packs/.lock`, held while writing.
struct WriteLock(File);

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Reads `buf.len()` bytes of `file` at `offset`.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read as _, Seek as _};
        let mut f = file;
        f.seek(io::SeekFrom::Start(offset))?;
        f.read_exact(buf)
    }
}

/// Writes `buf` into `file` at `offset`.
fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek as _, Write as _};
        let mut f = file;
        f.seek(io::SeekFrom::Start(offset))?;
        f.write_all(buf)
    }
}

/// Zeroes `len` bytes of `file` at `offset`: a hole where the filesystem can punch one.
fn zero_range(file: &File, offset: u64, len: u64) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{FallocateFlags, fallocate};
        if fallocate(
            file,
            FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
            offset,
            len,
        )
        .is_ok()
        {
            return Ok(());
        }
    }
    let zeros = vec![0u8; 1 << 16];
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(zeros.len() as u64);
        write_at(
            file,
            &zeros[..usize::try_from(n).unwrap_or(zeros.len())],
            offset + done,
        )?;
        done += n;
    }
    Ok(())
}

/// `blobs/packs/00000001.pack, bytes 96..7420`.
fn place(loc: Loc) -> String {
    format!(
        "blobs/packs/{:08}.pack, bytes {}..{}",
        loc.pack,
        loc.offset,
        loc.offset.saturating_add(loc.len)
    )
}

/// Whether `bytes` hash to `sha`.
fn matches(sha: &Sha, bytes: &[u8]) -> bool {
    Sha256::digest(bytes).as_slice() == sha
}

/// Why reading a packed blob failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The pack or its index could not be read.
    Io(PathBuf, io::Error),
    /// No copy in the packs holds the content.
    Corrupt {
        /// The hex SHA-256 of what the latest copy's place holds.
        actual: String,
        /// Where the latest copy is.
        place: String,
    },
}

impl Packs {
    /// The packs under `<blobs>/packs`.
    pub fn new(blobs_root: &Path) -> Self {
        Self {
            dir: blobs_root.join("packs"),
            state: Mutex::new(State::default()),
        }
    }

    /// The directory of the packs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn pack_path(&self, n: u32) -> PathBuf {
        self.dir.join(format!("{n:08}.pack"))
    }

    fn index_path(&self, n: u32) -> PathBuf {
        self.dir.join(format!("{n:08}.idx"))
    }

    /// Where a blob lies, as a person reads it: `blobs/packs/00000001.pack, bytes 96..7420`.
    pub fn describe(&self, sha: &Sha) -> Option<String> {
        match self.find(sha) {
            Ok(Found::At(loc)) => Some(place(loc)),
            _ => None,
        }
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads what was added to the indexes since the last call: the rest of the last index
    /// read, and any later ones. Earlier indexes do not change once a later one exists.
    fn refresh(&self, state: &mut State) -> io::Result<()> {
        let mut n = state.read.len().max(1);
        loop {
            let number = u32::try_from(n).unwrap_or(u32::MAX);
            let path = self.index_path(number);
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            if state.read.len() < n {
                state.read.resize(n, 0);
                state.open.resize(n, None);
            }
            let from = state.read[n - 1];
            let len = file.metadata()?.len();
            let whole = from + (len.saturating_sub(from) / ENTRY as u64) * ENTRY as u64;
            if whole > from {
                let mut bytes = vec![0u8; usize::try_from(whole - from).unwrap_or(0)];
                read_at(&file, &mut bytes, from)?;
                for e in parse_entries(&bytes) {
                    let loc = (!e.removed()).then_some(Loc {
                        pack: number,
                        offset: e.offset,
                        len: e.len,
                    });
                    state.latest.insert(e.sha, loc);
                }
                state.read[n - 1] = whole;
            }
            n += 1;
        }
    }

    /// What the indexes say of `sha`, read again from disk first if it is not known as
    /// stored (another process may have added it, or added it again after a removal).
    fn find(&self, sha: &Sha) -> io::Result<Found> {
        let mut state = self.lock_state();
        if !matches!(state.latest.get(sha), Some(Some(_))) {
            self.refresh(&mut state)?;
        }
        Ok(match state.latest.get(sha) {
            Some(Some(loc)) => Found::At(*loc),
            Some(None) => Found::Removed,
            None => Found::Absent,
        })
    }

    /// The pack `n`, open for reading.
    fn pack(&self, n: u32) -> io::Result<Arc<File>> {
        let i = n as usize - 1;
        let mut state = self.lock_state();
        if state.open.len() <= i {
            state.open.resize(i + 1, None);
        }
        if let Some(f) = &state.open[i] {
            return Ok(Arc::clone(f));
        }
        let file = Arc::new(File::open(self.pack_path(n))?);
        state.open[i] = Some(Arc::clone(&file));
        Ok(file)
    }

    /// Reads the copy at `loc`: its content, or (if it is not there in full or does not hash
    /// to `sha`) the hex SHA-256 of what is there.
    fn read_copy(&self, sha: &Sha, loc: Loc) -> io::Result<Result<Vec<u8>, String>> {
        let file = self.pack(loc.pack)?;
        let end = loc
            .offset
            .saturating_add(loc.len)
            .min(file.metadata()?.len());
        let there = usize::try_from(end.saturating_sub(loc.offset)).unwrap_or(0);
        let mut bytes = vec![0u8; there];
        if there > 0 {
            read_at(&file, &mut bytes, loc.offset)?;
        }
        Ok(if there as u64 == loc.len && matches(sha, &bytes) {
            Ok(bytes)
        } else {
            Err(hex::encode(Sha256::digest(&bytes)))
        })
    }

    /// Every entry of every index, in order (for the rare paths: a copy that does not check
    /// out, a removal).
    fn all_entries(&self) -> io::Result<Vec<(u32, Entry)>> {
        let mut out = Vec::new();
        for n in 1u32.. {
            let bytes = match fs::read(self.index_path(n)) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) => return Err(e),
            };
            out.extend(parse_entries(&bytes).map(|e| (n, e)));
        }
        Ok(out)
    }

    /// The content of `sha`: `Ok(None)` if the packs do not hold it (never added, or
    /// removed). When its latest copy does not check out, earlier copies (since its last
    /// removal) are tried before the blob is reported corrupt.
    pub fn get(&self, sha: &Sha) -> Result<Option<Vec<u8>>, ReadError> {
        let io_err = |e| ReadError::Io(self.dir.clone(), e);
        let loc = match self.find(sha).map_err(io_err)? {
            Found::At(loc) => loc,
            Found::Removed | Found::Absent => return Ok(None),
        };
        let actual = match self.read_copy(sha, loc).map_err(io_err)? {
            Ok(bytes) => return Ok(Some(bytes)),
            Err(actual) => actual,
        };
        // That copy does not check out: read the indexes whole. The blob may have been
        // removed since (by another process), or have other copies.
        let mut copies = Vec::new();
        let mut removed = false;
        for (n, e) in self.all_entries().map_err(io_err)? {
            if e.sha == *sha {
                removed = e.removed();
                if removed {
                    copies.clear();
                } else {
                    copies.push(Loc {
                        pack: n,
                        offset: e.offset,
                        len: e.len,
                    });
                }
            }
        }
        if removed {
            self.lock_state().latest.insert(*sha, None);
            return Ok(None);
        }
        for copy in copies.into_iter().rev().filter(|c| *c != loc) {
            if let Ok(bytes) = self.read_copy(sha, copy).map_err(io_err)? {
                return Ok(Some(bytes));
            }
        }
        Err(ReadError::Corrupt {
            actual,
            place: place(loc),
        })
    }

    /// Whether the packs hold `sha` (its latest entry is not a removal).
    pub fn contains(&self, sha: &Sha) -> io::Result<bool> {
        Ok(matches!(self.find(sha)?, Found::At(_)))
    }

    /// Takes the writers' lock of the packs (creating the directory on first use).
    fn write_lock(&self) -> io::Result<WriteLock> {
        fs::create_dir_all(&self.dir)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(".lock"))?;
        file.lock()?;
        Ok(WriteLock(file))
    }

    /// Opens pack `n` and its index for writing, creating them (the index first).
    fn open_for_append(&self, n: u32) -> io::Result<(File, File)> {
        let open = |path: PathBuf| {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(path)
        };
        let index = open(self.index_path(n))?;
        let pack = open(self.pack_path(n))?;
        Ok((pack, index))
    }

    /// Appends `index_bytes` (whole entries) to an index, cutting a partial entry left at its
    /// end by a crash first.
    fn append_entries(index: &File, index_bytes: &[u8]) -> io::Result<()> {
        let len = index.metadata()?.len();
        let whole = len - len % ENTRY as u64;
        if whole != len {
            index.set_len(whole)?;
        }
        write_at(index, index_bytes, whole)
    }

    /// Adds blobs (`(sha, content)`, each hashing to its sha) to the last pack, not synced:
    /// the caller makes the returned files durable (with the rest of its batch) before
    /// anything names the blobs. A blob the packs already hold, with content that reads back
    /// the same, is not written again; nor is one named twice, nor one for which `kept`
    /// (asked about blobs the packs do not hold) says it is stored elsewhere.
    pub fn append(
        &self,
        blobs: &[(Sha, &[u8])],
        kept: &dyn Fn(&Sha, &[u8]) -> bool,
    ) -> io::Result<Vec<File>> {
        if blobs.is_empty() {
            return Ok(Vec::new());
        }
        let _lock = self.write_lock()?;
        let mut state = self.lock_state();
        self.refresh(&mut state)?;
        let mut seen = HashSet::with_capacity(blobs.len());
        let mut todo = Vec::with_capacity(blobs.len());
        for (sha, bytes) in blobs {
            if !seen.insert(*sha) {
                continue;
            }
            if let Some(Some(loc)) = state.latest.get(sha) {
                let loc = *loc;
                drop(state);
                let there = self.read_copy(sha, loc)?;
                state = self.lock_state();
                if there.as_deref() == Ok(*bytes) {
                    continue;
                }
            } else if kept(sha, bytes) {
                continue;
            }
            todo.push((*sha, *bytes));
        }
        if todo.is_empty() {
            return Ok(Vec::new());
        }
        let mut n = u32::try_from(state.read.len().max(1)).unwrap_or(u32::MAX);
        let (mut pack, mut index) = self.open_for_append(n)?;
        if pack.metadata()?.len() >= PACK_LIMIT {
            n += 1;
            (pack, index) = self.open_for_append(n)?;
        }
        let start = pack.metadata()?.len();
        let total: usize = todo.iter().map(|(_, b)| b.len()).sum();
        let mut content = Vec::with_capacity(total);
        let mut entries = Vec::with_capacity(todo.len() * ENTRY);
        let mut added = Vec::with_capacity(todo.len());
        for (sha, bytes) in &todo {
            let entry = Entry {
                sha: *sha,
                offset: start + content.len() as u64,
                len: bytes.len() as u64,
            };
            entry.encode(&mut entries);
            added.push(entry);
            content.extend_from_slice(bytes);
        }
        write_at(&pack, &content, start)?;
        Self::append_entries(&index, &entries)?;
        // What this process wrote is known without reading it back.
        let i = n as usize - 1;
        if state.read.len() <= i {
            state.read.resize(i + 1, 0);
            state.open.resize(i + 1, None);
        }
        let index_len = index.metadata()?.len();
        if index_len - state.read[i] == entries.len() as u64 {
            state.read[i] = index_len;
            for e in added {
                state.latest.insert(
                    e.sha,
                    Some(Loc {
                        pack: n,
                        offset: e.offset,
                        len: e.len,
                    }),
                );
            }
        }
        Ok(vec![pack, index])
    }

    /// Removes `sha` from the packs: every copy is zeroed and a removal is added to the last
    /// index, durably. Returns whether the packs held it.
    pub fn remove(&self, sha: &Sha) -> io::Result<bool> {
        if !self.dir.exists() {
            return Ok(false);
        }
        let _lock = self.write_lock()?;
        let mut state = self.lock_state();
        self.refresh(&mut state)?;
        let held = matches!(state.latest.get(sha), Some(Some(_)));
        let copies: Vec<(u32, Entry)> = self
            .all_entries()?
            .into_iter()
            .filter(|(_, e)| e.sha == *sha && !e.removed())
            .collect();
        if copies.is_empty() && !held {
            return Ok(false);
        }
        let mut touched: Vec<(u32, File)> = Vec::new();
        for (n, e) in &copies {
            if !touched.iter().any(|(t, _)| t == n) {
                touched.push((*n, OpenOptions::new().write(true).open(self.pack_path(*n))?));
            }
            let file = &touched
                .iter()
                .find(|(t, _)| t == n)
                .expect("opened above")
                .1;
            let len = file.metadata()?.len();
            let end = e.offset.saturating_add(e.len).min(len);
            if e.offset < end {
                zero_range(file, e.offset, end - e.offset)?;
            }
        }
        for (_, file) in &touched {
            file.sync_all()?;
        }
        let n = u32::try_from(state.read.len().max(1)).unwrap_or(u32::MAX);
        let (_, index) = self.open_for_append(n)?;
        let mut bytes = Vec::with_capacity(ENTRY);
        Entry {
            sha: *sha,
            offset: REMOVED,
            len: 0,
        }
        .encode(&mut bytes);
        Self::append_entries(&index, &bytes)?;
        index.sync_all()?;
        crate::fsutil::sync_dir(&self.dir)?;
        self.refresh(&mut state)?;
        state.latest.insert(*sha, None);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sha(bytes: &[u8]) -> Sha {
        Sha256::digest(bytes).into()
    }

    fn add(packs: &Packs, contents: &[&[u8]]) {
        let blobs: Vec<(Sha, &[u8])> = contents.iter().map(|c| (sha(c), *c)).collect();
        for f in packs.append(&blobs, &|_, _| false).unwrap() {
            f.sync_all().unwrap();
        }
    }

    #[test]
    fn blobs_are_packed_read_back_and_not_written_twice() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::new(dir.path());
        add(&packs, &[b"one", b"two", b"one"]);
        add(&packs, &[b"two", b"three"]);
        assert_eq!(packs.get(&sha(b"one")).unwrap().unwrap(), b"one");
        assert_eq!(packs.get(&sha(b"three")).unwrap().unwrap(), b"three");
        assert!(packs.get(&sha(b"four")).unwrap().is_none());
        assert_eq!(
            fs::read(dir.path().join("packs/00000001.pack")).unwrap(),
            b"onetwothree"
        );
        assert_eq!(
            fs::metadata(dir.path().join("packs/00000001.idx"))
                .unwrap()
                .len(),
            3 * ENTRY as u64
        );
        assert_eq!(
            packs.describe(&sha(b"two")).unwrap(),
            "blobs/packs/00000001.pack, bytes 3..6"
        );
    }

    #[test]
    fn another_process_sees_what_was_added_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Packs::new(dir.path());
        let reader = Packs::new(dir.path());
        assert!(reader.get(&sha(b"a")).unwrap().is_none());
        add(&writer, &[b"a"]);
        assert_eq!(reader.get(&sha(b"a")).unwrap().unwrap(), b"a");
        assert!(reader.remove(&sha(b"a")).unwrap());
        // The writer knew the blob: it learns of the removal when it next writes.
        add(&writer, &[b"b"]);
        assert!(!writer.contains(&sha(b"a")).unwrap());
        assert!(writer.get(&sha(b"a")).unwrap().is_none());
        // The content is gone from the pack, not only from the index.
        let pack = fs::read(dir.path().join("packs/00000001.pack")).unwrap();
        assert_eq!(pack, b"\0b");
        // Added again after its removal: there again.
        add(&writer, &[b"a"]);
        assert_eq!(reader.get(&sha(b"a")).unwrap().unwrap(), b"a");
        assert!(!reader.remove(&sha(b"never")).unwrap());
    }

    #[test]
    fn a_changed_byte_is_reported_and_an_intact_copy_preferred() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::new(dir.path());
        add(&packs, &[b"hello"]);
        let path = dir.path().join("packs/00000001.pack");
        fs::write(&path, b"hellO").unwrap();
        let fresh = Packs::new(dir.path());
        match fresh.get(&sha(b"hello")) {
            Err(ReadError::Corrupt { actual, place }) => {
                assert_eq!(actual, hex::encode(sha(b"hellO")));
                assert_eq!(place, "blobs/packs/00000001.pack, bytes 0..5");
            }
            other => panic!("{other:?}"),
        }
        // Added again: the changed copy is not taken for the content, a new one is written.
        add(&fresh, &[b"hello"]);
        assert_eq!(fs::read(&path).unwrap(), b"hellOhello");
        assert_eq!(fresh.get(&sha(b"hello")).unwrap().unwrap(), b"hello");
        // With the newer copy damaged and the older one intact, the older one is read.
        fs::write(&path, b"hellohellO").unwrap();
        assert_eq!(
            Packs::new(dir.path()).get(&sha(b"hello")).unwrap().unwrap(),
            b"hello"
        );
    }

    #[test]
    fn what_a_crash_leaves_half_written_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::new(dir.path());
        add(&packs, &[b"kept"]);
        let idx = dir.path().join("packs/00000001.idx");
        let pack = dir.path().join("packs/00000001.pack");
        // A crash after part of an index entry and none of the content reached the disk.
        let mut entries = fs::read(&idx).unwrap();
        let mut lost = Vec::new();
        Entry {
            sha: sha(b"lost"),
            offset: 4,
            len: 4,
        }
        .encode(&mut lost);
        entries.extend_from_slice(&lost[..20]);
        fs::write(&idx, &entries).unwrap();
        let fresh = Packs::new(dir.path());
        assert_eq!(fresh.get(&sha(b"kept")).unwrap().unwrap(), b"kept");
        assert!(fresh.get(&sha(b"lost")).unwrap().is_none());
        // A whole entry whose content never arrived: absent content is an error, not data.
        entries.truncate(ENTRY);
        entries.extend_from_slice(&lost);
        fs::write(&idx, &entries).unwrap();
        let fresh = Packs::new(dir.path());
        assert!(matches!(
            fresh.get(&sha(b"lost")),
            Err(ReadError::Corrupt { .. })
        ));
        // The next append writes the content (the entry did not check out), after the
        // partial tail is cut.
        entries.extend_from_slice(&lost[..7]);
        fs::write(&idx, &entries).unwrap();
        add(&fresh, &[b"lost"]);
        assert_eq!(fs::metadata(&idx).unwrap().len(), 3 * ENTRY as u64);
        assert_eq!(fs::read(&pack).unwrap(), b"keptlost");
        assert_eq!(
            Packs::new(dir.path()).get(&sha(b"lost")).unwrap().unwrap(),
            b"lost"
        );
    }

    #[test]
    fn a_full_pack_is_left_for_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::new(dir.path());
        add(&packs, &[b"first"]);
        let pack = dir.path().join("packs/00000001.pack");
        OpenOptions::new()
            .write(true)
            .open(&pack)
            .unwrap()
            .set_len(PACK_LIMIT)
            .unwrap();
        add(&packs, &[b"second"]);
        assert_eq!(
            fs::read(dir.path().join("packs/00000002.pack")).unwrap(),
            b"second"
        );
        let fresh = Packs::new(dir.path());
        assert_eq!(fresh.get(&sha(b"first")).unwrap().unwrap(), b"first");
        assert_eq!(fresh.get(&sha(b"second")).unwrap().unwrap(), b"second");
        // A removal goes to the last index and wins over the entry in the first.
        assert!(fresh.remove(&sha(b"first")).unwrap());
        assert!(
            Packs::new(dir.path())
                .get(&sha(b"first"))
                .unwrap()
                .is_none()
        );
    }

    proptest! {
        /// Any bytes parse as the whole entries they hold, and entries round-trip.
        #[test]
        fn index_bytes_parse_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let entries: Vec<Entry> = parse_entries(&bytes).collect();
            prop_assert_eq!(entries.len(), bytes.len() / ENTRY);
            let mut again = Vec::new();
            for e in &entries {
                e.encode(&mut again);
            }
            prop_assert_eq!(&again[..], &bytes[..entries.len() * ENTRY]);
        }

        /// Whatever an index holds (garbage included), reading a blob never panics and never
        /// returns content other than the blob's.
        #[test]
        fn garbage_in_an_index_never_yields_wrong_content(
            garbage in proptest::collection::vec(any::<u8>(), 0..300),
            offsets in proptest::collection::vec((0u64..40, 0u64..40), 0..4),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let packs = Packs::new(dir.path());
            add(&packs, &[b"alpha", b"beta"]);
            let idx = dir.path().join("packs/00000001.idx");
            let mut bytes = fs::read(&idx).unwrap();
            // Entries naming real blobs at wrong places, then raw garbage.
            for (offset, len) in offsets {
                Entry { sha: sha(b"alpha"), offset, len }.encode(&mut bytes);
            }
            bytes.extend_from_slice(&garbage);
            fs::write(&idx, &bytes).unwrap();
            let fresh = Packs::new(dir.path());
            for content in [b"alpha".as_slice(), b"beta", b"gamma"] {
                match fresh.get(&sha(content)) {
                    Ok(Some(read)) => prop_assert_eq!(&read[..], content),
                    Ok(None) | Err(ReadError::Corrupt { .. }) => {}
                    Err(ReadError::Io(_, e)) => prop_assert!(false, "{e}"),
                }
            }
            // "alpha" has an intact copy: it is always found, whatever came after.
            prop_assert_eq!(fresh.get(&sha(b"alpha")).unwrap().unwrap(), b"alpha".to_vec());
        }
    }
}
