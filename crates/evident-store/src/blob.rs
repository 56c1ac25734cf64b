//! Content-addressed, write-once blob storage.
//!
//! A blob is named by its SHA-256. In a directory, blobs are packed into append-only files
//! (`packs/00000001.pack`, with an index beside it: see the `pack` module); blobs written as
//! files of their own (`sha256/ab/cd/abcd…`, the layout of stores made before packs, and of a
//! bucket) are read as well. Writing the same content twice is a no-op; a stored blob is never
//! rewritten. Reads check the content against its name, so a changed byte is reported, not
//! returned.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::pack::{Packs, ReadError, Sha};

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The digest is not 64 lowercase hex characters.
    #[error("`{0}` is not a SHA-256 digest (64 lowercase hex characters)")]
    BadDigest(String),
    /// No blob with that digest.
    #[error("blob sha256:{0} is missing")]
    Missing(String),
    /// The stored bytes do not hash to the blob's name.
    #[error(
        "blob sha256:{digest} is corrupt: its content hashes to sha256:{actual}{}",
        note.as_deref().map(|n| format!("; {n}")).unwrap_or_default()
    )]
    Corrupt {
        /// The name (expected digest).
        digest: String,
        /// What the content hashes to.
        actual: String,
        /// What else the store knows, e.g. that the original content is still kept as an
        /// older, locked version (S3 Object Lock).
        note: Option<String>,
    },
    /// The blob cannot be removed yet: the store's retention lock (S3 Object Lock) holds it.
    #[error("blob sha256:{digest} cannot be removed: {detail}")]
    Locked {
        /// The blob.
        digest: String,
        /// What holds it and until when, as the store reported it.
        detail: String,
    },
    /// A remote store (S3) failed or refused; the error names the bucket, the key, the answer
    /// and what to do.
    #[error(transparent)]
    Remote(Box<dyn std::error::Error + Send + Sync>),
    /// A filesystem error.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// Content-addressed, write-once storage of evidence content.
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` and returns their hex SHA-256. Storing existing content is a no-op. The
    /// blob is durable when this returns only after [`BlobStore::sync`].
    fn put(&self, bytes: &[u8]) -> Result<String, BlobError>;
    /// Stores `bytes` like [`BlobStore::put`]; where the store can lock what it stores (S3 Object
    /// Lock), the stored version can be neither deleted nor changed before `retain_until`.
    /// Elsewhere the same as `put`. Storing existing content is a no-op and keeps its lock.
    fn put_retained(
        &self,
        bytes: &[u8],
        retain_until: jiff::Timestamp,
    ) -> Result<String, BlobError> {
        let _ = retain_until;
        self.put(bytes)
    }
    /// Makes every blob written so far durable.
    fn sync(&self) -> Result<(), BlobError>;
    /// Reads a blob and checks its content against its digest.
    fn get(&self, digest: &str) -> Result<Vec<u8>, BlobError>;
    /// Whether a blob is stored.
    fn contains(&self, digest: &str) -> Result<bool, BlobError>;
    /// Removes a blob. Retention is enforced by the caller, which records the deletion first.
    fn remove(&self, digest: &str) -> Result<(), BlobError>;
    /// Where a blob is kept, for messages: `blobs/sha256/ab/cd/<digest>` unless the store says
    /// better.
    fn place(&self, digest: &str) -> String {
        loose_place(digest)
    }
}

/// `blobs/sha256/ab/cd/<digest>`: where a blob of its own is kept.
fn loose_place(digest: &str) -> String {
    format!(
        "blobs/sha256/{}/{}/{digest}",
        digest.get(..2).unwrap_or(""),
        digest.get(2..4).unwrap_or("")
    )
}

/// Blobs in a directory: packed, or (read only) in files of their own.
#[derive(Debug)]
pub struct FsBlobStore {
    root: PathBuf,
    packs: Packs,
    /// Packs written by [`BlobStore::put`], to sync at [`BlobStore::sync`].
    unsynced: std::sync::Mutex<Vec<fs::File>>,
}

pub(crate) fn check_digest(digest: &str) -> Result<(), BlobError> {
    if digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(BlobError::BadDigest(digest.to_owned()))
    }
}

fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> BlobError + use<'a> {
    move |source| BlobError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

impl FsBlobStore {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Self {
            packs: Packs::new(&root),
            root,
            unsynced: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The directory of the packs.
    pub fn packs_dir(&self) -> &Path {
        self.packs.dir()
    }

    /// Adds blobs (`(digest, content)`) to the packs, not synced: the returned files must be
    /// made durable (with the rest of the caller's batch) before anything names the blobs.
    /// Content already stored (packed and reading back the same, or in a file of its own) is
    /// not written again.
    pub(crate) fn pack(&self, blobs: &[(String, Vec<u8>)]) -> Result<Vec<fs::File>, BlobError> {
        let blobs = blobs
            .iter()
            .map(|(digest, bytes)| Ok((sha_of(digest)?, bytes.as_slice())))
            .collect::<Result<Vec<_>, BlobError>>()?;
        // Files of their own are only looked for in a store that has some.
        let loose = self.root.join("sha256").exists();
        let kept = |sha: &Sha, bytes: &[u8]| {
            loose
                && self
                    .path_of(&hex::encode(sha))
                    .is_ok_and(|path| fs::read(path).is_ok_and(|there| there == bytes))
        };
        self.packs
            .append(&blobs, &kept)
            .map_err(io_err("cannot write a pack in", self.packs.dir()))
    }

    /// The file a blob has when it is not packed: `<root>/sha256/ab/cd/<digest>`.
    pub fn path_of(&self, digest: &str) -> Result<PathBuf, BlobError> {
        check_digest(digest)?;
        Ok(self
            .root
            .join("sha256")
            .join(&digest[..2])
            .join(&digest[2..4])
            .join(digest))
    }
}

/// The 32 bytes of a hex digest.
fn sha_of(digest: &str) -> Result<Sha, BlobError> {
    check_digest(digest)?;
    let mut sha = [0u8; 32];
    hex::decode_to_slice(digest, &mut sha).map_err(|_| BlobError::BadDigest(digest.to_owned()))?;
    Ok(sha)
}

impl BlobStore for FsBlobStore {
    fn put(&self, bytes: &[u8]) -> Result<String, BlobError> {
        let digest = sha256_hex(bytes);
        let files = self.pack(&[(digest.clone(), bytes.to_vec())])?;
        self.unsynced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(files);
        Ok(digest)
    }

    fn sync(&self) -> Result<(), BlobError> {
        let files = std::mem::take(
            &mut *self
                .unsynced
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for file in files {
            file.sync_all()
                .map_err(io_err("cannot sync a pack in", self.packs.dir()))?;
        }
        if self.packs.dir().exists() {
            crate::fsutil::sync_dir(self.packs.dir())
                .map_err(io_err("cannot sync", self.packs.dir()))?;
        }
        Ok(())
    }

    fn get(&self, digest: &str) -> Result<Vec<u8>, BlobError> {
        let sha = sha_of(digest)?;
        match self.packs.get(&sha) {
            Ok(Some(bytes)) => return Ok(bytes),
            Ok(None) => {}
            Err(ReadError::Io(path, e)) => return Err(io_err("cannot read", &path)(e)),
            Err(ReadError::Corrupt { actual, place }) => {
                return Err(BlobError::Corrupt {
                    digest: digest.to_owned(),
                    actual,
                    note: Some(format!("it is kept in {place}")),
                });
            }
        }
        let path = self.path_of(digest)?;
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::Missing(digest.to_owned()));
            }
            Err(e) => return Err(io_err("cannot read", &path)(e)),
        };
        let actual = sha256_hex(&bytes);
        if actual != digest {
            return Err(BlobError::Corrupt {
                digest: digest.to_owned(),
                actual,
                note: None,
            });
        }
        Ok(bytes)
    }

    fn contains(&self, digest: &str) -> Result<bool, BlobError> {
        let sha = sha_of(digest)?;
        Ok(self
            .packs
            .contains(&sha)
            .map_err(io_err("cannot read", self.packs.dir()))?
            || self.path_of(digest)?.exists())
    }

    fn remove(&self, digest: &str) -> Result<(), BlobError> {
        let sha = sha_of(digest)?;
        self.packs
            .remove(&sha)
            .map_err(io_err("cannot remove a blob from", self.packs.dir()))?;
        let path = self.path_of(digest)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("cannot remove", &path)(e)),
        }
    }

    fn place(&self, digest: &str) -> String {
        sha_of(digest)
            .ok()
            .and_then(|sha| self.packs.describe(&sha))
            .unwrap_or_else(|| loose_place(digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_is_content_addressed_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let a = store.put(b"hello").unwrap();
        assert_eq!(
            a,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(store.put(b"hello").unwrap(), a);
        store.sync().unwrap();
        assert_eq!(store.get(&a).unwrap(), b"hello");
        assert!(store.contains(&a).unwrap());
        assert_eq!(
            fs::read(dir.path().join("packs/00000001.pack")).unwrap(),
            b"hello"
        );
        assert_eq!(store.place(&a), "blobs/packs/00000001.pack, bytes 0..5");
        store.remove(&a).unwrap();
        assert!(!store.contains(&a).unwrap());
        assert!(matches!(store.get(&a), Err(BlobError::Missing(_))));
    }

    #[test]
    fn blobs_in_files_of_their_own_are_read_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let a = sha256_hex(b"hello");
        let path = store.path_of(&a).unwrap();
        assert!(path.ends_with(format!("sha256/2c/f2/{a}")));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"hello").unwrap();
        assert_eq!(store.get(&a).unwrap(), b"hello");
        assert!(store.contains(&a).unwrap());
        // Stored already: not packed again.
        assert!(
            store
                .pack(&[(a.clone(), b"hello".to_vec())])
                .unwrap()
                .is_empty()
        );
        assert!(!dir.path().join("packs/00000001.pack").exists());
        assert_eq!(store.place(&a), format!("blobs/sha256/2c/f2/{a}"));
        store.remove(&a).unwrap();
        assert!(!path.exists());
        assert!(matches!(store.get(&a), Err(BlobError::Missing(_))));
    }

    #[test]
    fn a_changed_byte_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let a = store.put(b"hello").unwrap();
        store.sync().unwrap();
        fs::write(dir.path().join("packs/00000001.pack"), b"hellO").unwrap();
        let err = FsBlobStore::new(dir.path()).get(&a).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "blob sha256:{a} is corrupt: its content hashes to sha256:{}; it is kept in \
                 blobs/packs/00000001.pack, bytes 0..5",
                sha256_hex(b"hellO")
            )
        );
        // A file of its own, changed.
        let b = sha256_hex(b"world");
        let path = store.path_of(&b).unwrap();
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"worlD").unwrap();
        assert!(matches!(store.get(&b), Err(BlobError::Corrupt { .. })));
        assert!(matches!(
            store.get(&"0".repeat(64)),
            Err(BlobError::Missing(_))
        ));
        assert!(matches!(store.get("../x"), Err(BlobError::BadDigest(_))));
    }
}
