//! Evidence blobs in an S3 bucket, each locked by S3 Object Lock in COMPLIANCE mode.
//!
//! - [`S3Location`]: `s3://bucket/optional/prefix`, checked against S3's bucket naming rules.
//! - [`S3Config`]: endpoint, region and credentials ([`S3Config::from_env`]); its `Debug` never
//!   shows the secret key or the session token.
//! - [`S3Bucket`]: a blocking client for the few S3 calls evidence needs, each signed with SigV4
//!   (a presigned URL whose signed headers include every `x-amz-*` header sent). Its errors name
//!   the bucket, the key, the HTTP status, S3's error code and message, and what to do.
//! - [`S3BlobStore`]: the [`BlobStore`] in a bucket: blobs at
//!   `<prefix>/blobs/sha256/ab/cd/<digest>` (the layout of [`crate::blob::FsBlobStore`]), written
//!   once, each locked until its retention date, checked against its digest when read.
//!
//! COMPLIANCE mode means that no one, not even the account's root user, can delete a locked
//! version or shorten its retention before the date. Writing the same key again is still
//! possible (it adds a version on top), so reads check the content, and a changed blob is
//! reported together with the older version that still holds the original.

use std::fmt;
use std::time::Duration;

mod blobs;
mod bucket;
mod config;
mod location;
mod xml;

pub use blobs::S3BlobStore;
pub use bucket::{ObjectInfo, ObjectVersion, S3Bucket};
pub use config::S3Config;
pub use location::S3Location;

/// The region used when none is configured.
pub const DEFAULT_REGION: &str = "us-east-1";
/// How long a signature stays valid: a request is signed just before it is sent.
const SIGNATURE_TTL: Duration = Duration::from_mins(15);
/// The largest object one `PUT` can store in S3 (5 GiB), and so the largest blob read back.
const MAX_OBJECT: u64 = 5 << 30;
/// The most of an error answer or a version listing that is read.
const MAX_ERROR_BODY: u64 = 64 << 10;
const MAX_LISTING: u64 = 16 << 20;
/// The most pages of one key's versions listed (1,000 versions a page).
const MAX_LISTING_PAGES: usize = 100;
/// The most older versions downloaded to find the original content of a changed blob.
const MAX_VERSIONS_SEARCHED: usize = 16;
/// The longest prefix accepted, leaving room for `blobs/sha256/ab/cd/<digest>` in S3's 1,024
/// bytes of key.
const MAX_PREFIX: usize = 512;
const MAX_KEY: usize = 1024;

const WRITE: &str = "write";
const READ: &str = "read";
const HEAD: &str = "read the metadata of";
const DELETE: &str = "delete";
const LIST: &str = "list the versions of";
const CREATE: &str = "create the bucket";

/// Why an S3 operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum S3Error {
    /// An `s3://` location (or bucket name, or prefix) that cannot be used.
    #[error("not a usable S3 location: {reason} (expected s3://bucket or s3://bucket/prefix)")]
    Location {
        /// What is wrong with it.
        reason: String,
    },
    /// A setting is missing or wrong.
    #[error("S3 configuration: {0}")]
    Config(String),
    /// A key this client does not send: empty, absolute, too long, with control characters or
    /// with `.`, `..` or empty segments.
    #[error("{key:?} cannot be used as an S3 key: {reason}")]
    Key {
        /// The key.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The server could not be reached, or the connection broke.
    #[error(
        "cannot {target}: no answer from {endpoint} ({detail}): check EVIDENT_S3_ENDPOINT and \
         that the server is up and reachable"
    )]
    Unreachable {
        /// What was being done.
        target: Box<S3Target>,
        /// Scheme, host and port of the endpoint.
        endpoint: String,
        /// The transport error.
        detail: String,
    },
    /// The server answered with an error.
    #[error(
        "cannot {target}: HTTP {status}{}{}",
        code_and_message(.code.as_deref(), .message.as_deref()),
        hint.as_deref().map(|h| format!(": {h}")).unwrap_or_default()
    )]
    Refused {
        /// What was being done.
        target: Box<S3Target>,
        /// The HTTP status.
        status: u16,
        /// S3's error code (`AccessDenied`, `NoSuchBucket`, …), when the answer had one.
        code: Option<String>,
        /// S3's error message, when the answer had one.
        message: Option<String>,
        /// What to do about it.
        hint: Option<String>,
        /// Whether S3 Object Lock holds the version (retention or legal hold): the refusal is
        /// the lock at work, not a fault.
        locked: bool,
    },
    /// The server's answer could not be understood.
    #[error("cannot {target}: {detail}")]
    BadAnswer {
        /// What was being done.
        target: Box<S3Target>,
        /// What was wrong with the answer.
        detail: String,
    },
}

impl S3Error {
    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            S3Error::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// S3's error code of a refusal.
    pub fn code(&self) -> Option<&str> {
        match self {
            S3Error::Refused { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Whether this is a refusal because S3 Object Lock holds the version.
    pub fn is_locked(&self) -> bool {
        matches!(self, S3Error::Refused { locked: true, .. })
    }
}

fn code_and_message(code: Option<&str>, message: Option<&str>) -> String {
    match (code, message) {
        (Some(code), Some(message)) => format!(" {code}: {message}"),
        (Some(code), None) => format!(" {code}"),
        (None, Some(message)) => format!(": {message}"),
        (None, None) => String::new(),
    }
}

/// What a request was about, for messages: `delete s3://bucket/key (version v)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Target {
    /// What was being done (`write`, `read`, `delete`, `list the versions of`, …).
    pub action: &'static str,
    /// The bucket.
    pub bucket: String,
    /// The key; empty for the bucket itself.
    pub key: String,
    /// The version, when one was named.
    pub version_id: Option<String>,
}

impl fmt::Display for S3Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s3://{}", self.action, self.bucket)?;
        if !self.key.is_empty() {
            write!(f, "/{}", self.key)?;
        }
        if let Some(version) = &self.version_id {
            write!(f, " (version {version})")?;
        }
        Ok(())
    }
}
