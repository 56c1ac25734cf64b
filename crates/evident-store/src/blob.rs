//! Content-addressed, write-once blob storage.
//!
//! A blob is stored under its SHA-256 (`sha256/ab/cd/abcd…`). Writing the same content twice is a
//! no-op; a stored blob is never rewritten. Reads check the content against its name, so a
//! changed byte is reported, not returned.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

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
}

/// Blobs as files under a directory.
#[derive(Debug)]
pub struct FsBlobStore {
    root: PathBuf,
    pending_dirs: std::sync::Mutex<Vec<PathBuf>>,
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
        Self {
            root: root.into(),
            pending_dirs: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The file a blob lives in: `<root>/sha256/ab/cd/<digest>`.
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

impl BlobStore for FsBlobStore {
    fn put(&self, bytes: &[u8]) -> Result<String, BlobError> {
        let digest = sha256_hex(bytes);
        let path = self.path_of(&digest)?;
        if path.exists() {
            return Ok(digest);
        }
        let dir = path.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir).map_err(io_err("cannot create", dir))?;
        let tmp = dir.join(format!(".{digest}.tmp"));
        {
            let mut file = fs::File::create(&tmp).map_err(io_err("cannot create", &tmp))?;
            file.write_all(bytes)
                .map_err(io_err("cannot write", &tmp))?;
            file.sync_all().map_err(io_err("cannot sync", &tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io_err("cannot rename", &tmp))?;
        self.pending_dirs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(dir.to_owned());
        Ok(digest)
    }

    fn sync(&self) -> Result<(), BlobError> {
        let mut dirs = std::mem::take(
            &mut *self
                .pending_dirs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            crate::fsutil::sync_dir(&dir).map_err(io_err("cannot sync", &dir))?;
        }
        Ok(())
    }

    fn get(&self, digest: &str) -> Result<Vec<u8>, BlobError> {
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
        Ok(self.path_of(digest)?.exists())
    }

    fn remove(&self, digest: &str) -> Result<(), BlobError> {
        let path = self.path_of(digest)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("cannot remove", &path)(e)),
        }
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
        assert!(
            store
                .path_of(&a)
                .unwrap()
                .ends_with(format!("sha256/2c/f2/{a}"))
        );
    }

    #[test]
    fn a_changed_byte_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let a = store.put(b"hello").unwrap();
        fs::write(store.path_of(&a).unwrap(), b"hellO").unwrap();
        assert!(matches!(store.get(&a), Err(BlobError::Corrupt { .. })));
        assert!(matches!(
            store.get(&"0".repeat(64)),
            Err(BlobError::Missing(_))
        ));
        assert!(matches!(store.get("../x"), Err(BlobError::BadDigest(_))));
    }
}
