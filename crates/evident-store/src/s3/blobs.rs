//! The blob store in a bucket: written once, locked, checked when read.

use jiff::{SignedDuration, Timestamp};

use crate::blob::{BlobError, BlobStore, check_digest, sha256_hex};

use super::location::{join_key, normalize_prefix};
#[allow(clippy::wildcard_imports)]
use super::*;

/// Evidence blobs in an S3 bucket with Object Lock: each blob at
/// `<prefix>/blobs/sha256/ab/cd/<digest>`, written once and locked in COMPLIANCE mode until its
/// retention date ([`BlobStore::put`]: now plus the store's default retention).
#[derive(Debug, Clone)]
pub struct S3BlobStore {
    bucket: S3Bucket,
    prefix: String,
    default_retention: SignedDuration,
}

impl S3BlobStore {
    /// Blobs under `prefix` (no leading slash; empty for the bucket's root) in `bucket`, each
    /// locked for `default_retention` unless [`BlobStore::put_retained`] says otherwise.
    pub fn new(
        bucket: S3Bucket,
        prefix: &str,
        default_retention: SignedDuration,
    ) -> Result<Self, S3Error> {
        let prefix = normalize_prefix(prefix).map_err(|reason| S3Error::Location { reason })?;
        if !default_retention.is_positive() {
            return Err(S3Error::Config(format!(
                "the default retention must be positive, not {default_retention:#}"
            )));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            bucket,
            default_retention,
        })
    }

    /// The store at `location`, reached with `config`.
    pub fn open(
        config: &S3Config,
        location: &S3Location,
        default_retention: SignedDuration,
    ) -> Result<Self, S3Error> {
        Self::new(
            S3Bucket::new(config, location.bucket())?,
            location.prefix(),
            default_retention,
        )
    }

    /// The bucket.
    pub fn bucket(&self) -> &S3Bucket {
        &self.bucket
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// How long [`BlobStore::put`] locks a blob.
    pub fn default_retention(&self) -> SignedDuration {
        self.default_retention
    }

    /// The key of a blob: `<prefix>/blobs/sha256/ab/cd/<digest>`.
    pub fn key_of(&self, digest: &str) -> Result<String, BlobError> {
        check_digest(digest)?;
        Ok(join_key(
            &self.prefix,
            &format!("blobs/sha256/{}/{}/{digest}", &digest[..2], &digest[2..4]),
        ))
    }

    /// Where the original content of a changed blob is, when an older version still holds it.
    fn original_note(&self, key: &str, digest: &str) -> String {
        let place = format!("s3://{}/{key}", self.bucket.name());
        let versions = match self.bucket.versions(key) {
            Ok(versions) => versions,
            Err(e) => return format!("its older versions could not be listed: {e}"),
        };
        let older: Vec<&ObjectVersion> = versions
            .iter()
            .filter(|v| !v.is_latest && !v.is_delete_marker)
            .collect();
        if older.is_empty() {
            return format!(
                "{place} has no older version that could hold the original (is the bucket \
                 versioned, with Object Lock?)"
            );
        }
        for version in older.iter().rev().take(MAX_VERSIONS_SEARCHED) {
            let Ok(Some(bytes)) = self.bucket.get_version(key, &version.version_id) else {
                continue;
            };
            if sha256_hex(&bytes) != digest {
                continue;
            }
            let lock = self
                .bucket
                .head(key, Some(&version.version_id))
                .ok()
                .flatten()
                .and_then(|info| info.lock_description())
                .map(|held| format!(", {held}"))
                .unwrap_or_default();
            return format!(
                "the original content is still in the bucket as version {} of {place}{lock}; \
                 a later write put other bytes on top of it",
                version.version_id
            );
        }
        format!(
            "none of the {} older versions of {place} searched holds the original content either",
            older.len().min(MAX_VERSIONS_SEARCHED)
        )
    }
}

impl From<S3Error> for BlobError {
    fn from(e: S3Error) -> Self {
        BlobError::Remote(Box::new(e))
    }
}

impl BlobStore for S3BlobStore {
    fn put(&self, bytes: &[u8]) -> Result<String, BlobError> {
        let now = self.bucket.clock.now();
        let until = now.checked_add(self.default_retention).map_err(|e| {
            S3Error::Config(format!(
                "{now} plus the retention {:#} is out of range: {e}",
                self.default_retention
            ))
        })?;
        self.put_retained(bytes, until)
    }

    fn put_retained(&self, bytes: &[u8], retain_until: Timestamp) -> Result<String, BlobError> {
        let digest = sha256_hex(bytes);
        let key = self.key_of(&digest)?;
        if self.bucket.exists(&key)? {
            return Ok(digest);
        }
        self.bucket.put(&key, bytes, Some(retain_until))?;
        Ok(digest)
    }

    /// Nothing to do: a write S3 acknowledged is durable.
    fn sync(&self) -> Result<(), BlobError> {
        Ok(())
    }

    fn get(&self, digest: &str) -> Result<Vec<u8>, BlobError> {
        let key = self.key_of(digest)?;
        let Some(bytes) = self.bucket.get(&key)? else {
            return Err(BlobError::Missing(digest.to_owned()));
        };
        let actual = sha256_hex(&bytes);
        if actual != digest {
            return Err(BlobError::Corrupt {
                digest: digest.to_owned(),
                actual,
                note: Some(self.original_note(&key, digest)),
            });
        }
        Ok(bytes)
    }

    fn contains(&self, digest: &str) -> Result<bool, BlobError> {
        Ok(self.bucket.exists(&self.key_of(digest)?)?)
    }

    /// Deletes every version of the blob (in the reverse of the listing's order: oldest first
    /// on AWS), so that it is gone for good, not hidden under a delete marker; stops at the first
    /// version Object Lock still holds ([`BlobError::Locked`]).
    fn remove(&self, digest: &str) -> Result<(), BlobError> {
        let key = self.key_of(digest)?;
        for version in self.bucket.versions(&key)?.iter().rev() {
            match self.bucket.delete(&key, Some(&version.version_id)) {
                Ok(()) => {}
                Err(e) if e.is_locked() => {
                    return Err(BlobError::Locked {
                        digest: digest.to_owned(),
                        detail: e.to_string(),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::*;

    fn config() -> S3Config {
        S3Config::new("us-east-1", "AKIDEXAMPLE", "s3cr3t-VALUE")
            .unwrap()
            .with_endpoint(Url::parse("http://127.0.0.1:9").unwrap())
            .unwrap()
    }

    #[test]
    fn blob_keys_have_the_filesystem_layout() {
        let digest = sha256_hex(b"hello");
        let bucket = S3Bucket::new(&config(), "evidence").unwrap();
        let store =
            S3BlobStore::new(bucket.clone(), "org/ledger/", SignedDuration::from_hours(1)).unwrap();
        assert_eq!(
            store.key_of(&digest).unwrap(),
            format!("org/ledger/blobs/sha256/2c/f2/{digest}")
        );
        let root = S3BlobStore::new(bucket.clone(), "", SignedDuration::from_hours(1)).unwrap();
        assert_eq!(
            root.key_of(&digest).unwrap(),
            format!("blobs/sha256/2c/f2/{digest}")
        );
        assert!(matches!(
            root.key_of("../../x"),
            Err(BlobError::BadDigest(_))
        ));
        for bad in ["/abs", "a//b", "../x"] {
            assert!(S3BlobStore::new(bucket.clone(), bad, SignedDuration::from_hours(1)).is_err());
        }
        let err = S3BlobStore::new(bucket, "", SignedDuration::ZERO).unwrap_err();
        assert!(err.to_string().contains("must be positive"), "{err}");
    }
}
