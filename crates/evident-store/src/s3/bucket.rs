//! The client: the few S3 calls evidence needs, each signed with SigV4, and its errors.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use evident_core::{Clock, SystemClock};
use jiff::Timestamp;
use rusty_s3::{Bucket, Credentials, Map, Method, UrlStyle};
use sha2::{Digest as _, Sha256};
use url::Url;

use super::config::origin;
use super::location::{check_bucket_name, check_key};
use super::xml::{parse_error, parse_versions};
#[allow(clippy::wildcard_imports)]
use super::*;

/// What S3 says about one version of an object ([`S3Bucket::head`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectInfo {
    /// The version (`None` in an unversioned bucket).
    pub version_id: Option<String>,
    /// The size in bytes.
    pub size: Option<u64>,
    /// The Object Lock mode: `COMPLIANCE` or `GOVERNANCE`.
    pub lock_mode: Option<String>,
    /// The end of the Object Lock retention.
    pub retain_until: Option<Timestamp>,
    /// Whether an Object Lock legal hold is on.
    pub legal_hold: bool,
}

impl ObjectInfo {
    /// How Object Lock holds this version, for messages: `locked by S3 Object Lock (COMPLIANCE)
    /// until …`, or `None` when nothing holds it.
    pub fn lock_description(&self) -> Option<String> {
        let retention = match (&self.lock_mode, self.retain_until) {
            (Some(mode), Some(until)) => Some(format!(
                "locked by S3 Object Lock ({mode}) until {}",
                crate::timefmt::format(until)
            )),
            _ => None,
        };
        match (retention, self.legal_hold) {
            (Some(r), true) => Some(format!("{r}, and under an Object Lock legal hold")),
            (Some(r), false) => Some(r),
            (None, true) => Some("under an S3 Object Lock legal hold".to_owned()),
            (None, false) => None,
        }
    }
}

/// One version of a key ([`S3Bucket::versions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectVersion {
    /// The version id.
    pub version_id: String,
    /// Whether it is the current version.
    pub is_latest: bool,
    /// Whether it is a delete marker (which hides the versions under it) rather than content.
    pub is_delete_marker: bool,
    /// When it was written, as S3 reports it.
    pub last_modified: Option<String>,
}

/// One S3 bucket, reached with blocking HTTP requests signed with SigV4.
#[derive(Clone)]
pub struct S3Bucket {
    bucket: Bucket,
    credentials: Credentials,
    endpoint: String,
    agent: ureq::Agent,
    pub(super) clock: Arc<dyn Clock>,
}

impl fmt::Debug for S3Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Bucket")
            .field("name", &self.bucket.name())
            .field("url", &self.bucket.base_url().as_str())
            .field("region", &self.bucket.region())
            .field("access_key_id", &self.credentials.key())
            .finish_non_exhaustive()
    }
}

/// The parts of an answer that are used.
struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl S3Bucket {
    /// The bucket `name` as `config` reaches it. Nothing is sent yet.
    pub fn new(config: &S3Config, name: &str) -> Result<Self, S3Error> {
        check_bucket_name(name).map_err(|reason| S3Error::Location { reason })?;
        // AWS's TLS certificates cover `<bucket>.s3.<region>.amazonaws.com` only for names
        // without dots: those go path-style there too.
        let style = if config.path_style() || name.contains('.') {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let endpoint = config.endpoint();
        let bucket = Bucket::new(
            endpoint.clone(),
            style,
            name.to_owned(),
            config.region.clone(),
        )
        .map_err(|e| S3Error::Config(format!("cannot address the bucket `{name}`: {e}")))?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect means another region or endpoint: say so rather than follow it.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_resolve(Some(Duration::from_secs(10)))
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_per_read(Some(Duration::from_mins(1)))
            .timeout_per_write(Some(Duration::from_mins(1)))
            .user_agent(concat!("evident/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(Self {
            bucket,
            credentials: config.credentials.clone(),
            endpoint: origin(&endpoint),
            agent,
            clock: Arc::new(SystemClock),
        })
    }

    /// The same bucket, with `clock` for signing requests and for retention dates.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The bucket's name.
    pub fn name(&self) -> &str {
        self.bucket.name()
    }

    /// The bucket's region.
    pub fn region(&self) -> &str {
        self.bucket.region()
    }

    /// Creates the bucket with Object Lock enabled (which turns on versioning; neither can be
    /// turned off again).
    pub fn create_bucket_with_object_lock(&self) -> Result<(), S3Error> {
        let target = self.target(CREATE, "", None);
        let mut headers = Map::new();
        headers.insert("x-amz-bucket-object-lock-enabled", "true");
        // Outside us-east-1 the region is named in the body too.
        let body = (self.region() != DEFAULT_REGION).then(|| {
            format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.region()
            )
        });
        let answer = self.exchange(
            &target,
            Method::Put,
            self.bucket.base_url().clone(),
            &Map::new(),
            &headers,
            body.as_deref().map(|b| (b.as_bytes(), "application/xml")),
            MAX_ERROR_BODY,
        )?;
        if answer.ok() {
            Ok(())
        } else {
            Err(refusal(target, &answer, None))
        }
    }

    /// Stores `bytes` at `key`, with a SHA-256 checksum that S3 verifies. With `retain_until`,
    /// the new version is locked in COMPLIANCE mode until then (rounded up to the second).
    /// Returns the new version's id (`None` in an unversioned bucket).
    pub fn put(
        &self,
        key: &str,
        bytes: &[u8],
        retain_until: Option<Timestamp>,
    ) -> Result<Option<String>, S3Error> {
        check_key(key)?;
        let target = self.target(WRITE, key, None);
        let headers = put_headers(bytes, retain_until)?;
        let url = self.object_url(&target, key)?;
        let answer = self.exchange(
            &target,
            Method::Put,
            url,
            &Map::new(),
            &headers,
            Some((bytes, "application/octet-stream")),
            MAX_ERROR_BODY,
        )?;
        if answer.ok() {
            Ok(answer.header("x-amz-version-id").map(str::to_owned))
        } else {
            Err(refusal(target, &answer, None))
        }
    }

    /// The current content of `key`, or `None` when there is none (no such key, or a delete
    /// marker on top).
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, S3Error> {
        self.read(key, None)
    }

    /// The content of one version of `key`, or `None` when there is no such version.
    pub fn get_version(&self, key: &str, version_id: &str) -> Result<Option<Vec<u8>>, S3Error> {
        self.read(key, Some(version_id))
    }

    fn read(&self, key: &str, version_id: Option<&str>) -> Result<Option<Vec<u8>>, S3Error> {
        let (target, answer) = self.on_version(READ, Method::Get, key, version_id, MAX_OBJECT)?;
        if answer.ok() {
            return Ok(Some(answer.body));
        }
        if is_absent(&answer) {
            return Ok(None);
        }
        Err(refusal(target, &answer, None))
    }

    /// Whether `key` has a current version.
    pub fn exists(&self, key: &str) -> Result<bool, S3Error> {
        Ok(self.head(key, None)?.is_some())
    }

    /// What S3 says about the current version of `key`, or about one version: size and Object
    /// Lock state. `None` when there is no such key or version.
    pub fn head(&self, key: &str, version_id: Option<&str>) -> Result<Option<ObjectInfo>, S3Error> {
        let (target, answer) = self.on_version(HEAD, Method::Head, key, version_id, 0)?;
        if answer.ok() {
            let retain_until = match answer.header("x-amz-object-lock-retain-until-date") {
                None => None,
                Some(text) => {
                    Some(
                        text.trim()
                            .parse::<Timestamp>()
                            .map_err(|e| S3Error::BadAnswer {
                                target: Box::new(target.clone()),
                                detail: format!(
                                    "the retain-until date `{}` is not an RFC 3339 time: {e}",
                                    text.escape_debug()
                                ),
                            })?,
                    )
                }
            };
            return Ok(Some(ObjectInfo {
                version_id: answer.header("x-amz-version-id").map(str::to_owned),
                size: answer
                    .header("content-length")
                    .and_then(|v| v.trim().parse().ok()),
                lock_mode: answer
                    .header("x-amz-object-lock-mode")
                    .map(|m| m.trim().to_owned()),
                retain_until,
                legal_hold: answer
                    .header("x-amz-object-lock-legal-hold")
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("ON")),
            }));
        }
        // 405: the version named is a delete marker, which has no content.
        if answer.status == 404 || (answer.status == 405 && version_id.is_some()) {
            return Ok(None);
        }
        Err(refusal(target, &answer, None))
    }

    /// Deletes `key`, or one version of it. Without a version, a versioned bucket only puts a
    /// delete marker on top and keeps every version. A version locked by Object Lock cannot be
    /// deleted: the error says until when ([`S3Error::is_locked`]). Deleting what is not there
    /// succeeds.
    pub fn delete(&self, key: &str, version_id: Option<&str>) -> Result<(), S3Error> {
        let (target, answer) =
            self.on_version(DELETE, Method::Delete, key, version_id, MAX_ERROR_BODY)?;
        if answer.ok() || is_absent(&answer) {
            return Ok(());
        }
        // Refused: say whether, and until when, Object Lock holds the version.
        let lock = match (answer.status, version_id) {
            (403, Some(_)) => self
                .head(key, version_id)
                .ok()
                .flatten()
                .filter(|info| info.legal_hold || info.retain_until > Some(self.clock.now())),
            _ => None,
        };
        Err(refusal(target, &answer, lock.as_ref()))
    }

    /// The versions of `key` (not of other keys it is a prefix of), delete markers included, in
    /// the server's order: newest first on AWS (moto lists the delete markers after the
    /// versions; [`ObjectVersion::is_latest`] says which is current).
    pub fn versions(&self, key: &str) -> Result<Vec<ObjectVersion>, S3Error> {
        check_key(key)?;
        let target = self.target(LIST, key, None);
        let mut out = Vec::new();
        let mut marker: Option<(String, String)> = None;
        for _ in 0..MAX_LISTING_PAGES {
            let mut query = Map::new();
            query.insert("versions", "");
            query.insert("prefix", key);
            if let Some((key_marker, version_marker)) = &marker {
                query.insert("key-marker", key_marker.as_str());
                query.insert("version-id-marker", version_marker.as_str());
            }
            let answer = self.exchange(
                &target,
                Method::Get,
                self.bucket.base_url().clone(),
                &query,
                &Map::new(),
                None,
                MAX_LISTING,
            )?;
            if !answer.ok() {
                return Err(refusal(target, &answer, None));
            }
            let page = parse_versions(&answer.body, key).map_err(|detail| S3Error::BadAnswer {
                target: Box::new(target.clone()),
                detail,
            })?;
            out.extend(page.versions);
            match page.next {
                Some(next) if page.truncated => marker = Some(next),
                None if page.truncated => {
                    return Err(S3Error::BadAnswer {
                        target: Box::new(target),
                        detail: "the listing is truncated but names no next marker".to_owned(),
                    });
                }
                _ => return Ok(out),
            }
        }
        Err(S3Error::BadAnswer {
            target: Box::new(target),
            detail: format!(
                "more than {MAX_LISTING_PAGES} pages of versions: the key has too many versions to list"
            ),
        })
    }

    /// One request about `key`, or about one version of it, reading at most `limit` bytes of
    /// the answer: what it was about (for messages) and S3's answer, whatever its status.
    fn on_version(
        &self,
        action: &'static str,
        method: Method,
        key: &str,
        version_id: Option<&str>,
        limit: u64,
    ) -> Result<(S3Target, Answer), S3Error> {
        check_key(key)?;
        let target = self.target(action, key, version_id);
        let mut query = Map::new();
        if let Some(version) = version_id {
            query.insert("versionId", version);
        }
        let url = self.object_url(&target, key)?;
        let answer = self.exchange(&target, method, url, &query, &Map::new(), None, limit)?;
        Ok((target, answer))
    }

    fn target(&self, action: &'static str, key: &str, version_id: Option<&str>) -> S3Target {
        S3Target {
            action,
            bucket: self.name().to_owned(),
            key: key.to_owned(),
            version_id: version_id.map(str::to_owned),
        }
    }

    fn object_url(&self, target: &S3Target, key: &str) -> Result<Url, S3Error> {
        self.bucket.object_url(key).map_err(|e| S3Error::BadAnswer {
            target: Box::new(target.clone()),
            detail: format!("cannot build the URL: {e}"),
        })
    }

    /// `url` with `query` and a SigV4 signature (valid for [`SIGNATURE_TTL`] from now) that
    /// covers the host and `headers`, which must then be sent as they are.
    fn sign(&self, method: Method, url: Url, query: &Map<'_>, headers: &Map<'_>) -> Url {
        rusty_s3::signing::sign(
            &self.clock.now(),
            method,
            url,
            self.credentials.key(),
            self.credentials.secret(),
            self.credentials.token(),
            self.bucket.region(),
            SIGNATURE_TTL.as_secs(),
            query.iter(),
            headers.iter(),
        )
    }

    /// Signs and sends one request and reads its answer (up to `limit` bytes of a successful
    /// answer's body).
    #[allow(clippy::too_many_arguments)]
    fn exchange(
        &self,
        target: &S3Target,
        method: Method,
        url: Url,
        query: &Map<'_>,
        headers: &Map<'_>,
        body: Option<(&[u8], &str)>,
        limit: u64,
    ) -> Result<Answer, S3Error> {
        let url = self.sign(method, url, query, headers);
        let url = url.as_str();
        let sent = match method {
            Method::Get => with_headers(self.agent.get(url), headers).call(),
            Method::Head => with_headers(self.agent.head(url), headers).call(),
            Method::Delete => with_headers(self.agent.delete(url), headers).call(),
            Method::Put | Method::Post => {
                let request = if method == Method::Put {
                    self.agent.put(url)
                } else {
                    self.agent.post(url)
                };
                let request = with_headers(request, headers);
                match body {
                    Some((bytes, content_type)) => {
                        request.header("content-type", content_type).send(bytes)
                    }
                    None => request.send_empty(),
                }
            }
        };
        let unreachable = |e: &ureq::Error| S3Error::Unreachable {
            target: Box::new(target.clone()),
            endpoint: self.endpoint.clone(),
            detail: e.to_string(),
        };
        let mut response = sent.map_err(|e| unreachable(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = if method == Method::Head {
            Vec::new()
        } else if (200..300).contains(&status) {
            response
                .body_mut()
                .with_config()
                .limit(limit)
                .read_to_vec()
                .map_err(|e| match e {
                    ureq::Error::BodyExceedsLimit(_) => S3Error::BadAnswer {
                        target: Box::new(target.clone()),
                        detail: format!("the answer is larger than {limit} bytes"),
                    },
                    e => unreachable(&e),
                })?
        } else {
            // An error's explanation is best effort: the status says enough without it.
            response
                .body_mut()
                .with_config()
                .limit(MAX_ERROR_BODY)
                .read_to_vec()
                .unwrap_or_default()
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// The error for an answer that refused: status, S3's code and message, and a hint.
fn refusal(target: S3Target, answer: &Answer, lock: Option<&ObjectInfo>) -> S3Error {
    let (code, message) = parse_error(&answer.body);
    let lock_hint = lock.and_then(|info| {
        let held = info.lock_description()?;
        let consequence = if info.legal_hold && info.lock_mode.is_none() {
            "it cannot be deleted until the hold is removed"
        } else if info.lock_mode.as_deref() == Some("GOVERNANCE") && !info.legal_hold {
            "it can be deleted before then only with s3:BypassGovernanceRetention"
        } else {
            "no one, not even the account's root user, can delete it before then"
        };
        Some(format!("the version is {held}: {consequence}"))
    });
    let locked = lock_hint.is_some();
    let hint = lock_hint.or_else(|| {
        hint_for(
            &target,
            answer.status,
            code.as_deref(),
            message.as_deref(),
            answer.header("x-amz-bucket-region"),
        )
    });
    S3Error::Refused {
        target: Box::new(target),
        status: answer.status,
        code,
        message,
        hint,
        locked,
    }
}

/// The headers of a `PUT` of `bytes`, all of them signed. Object Lock needs an integrity header
/// (Content-MD5, or a checksum announced by `x-amz-sdk-checksum-algorithm`), as does any write
/// to a bucket with a default retention: a SHA-256 checksum, which S3 verifies, is always sent.
fn put_headers(bytes: &[u8], retain_until: Option<Timestamp>) -> Result<Map<'static>, S3Error> {
    let mut headers = Map::new();
    headers.insert(
        "x-amz-checksum-sha256",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes)),
    );
    headers.insert("x-amz-sdk-checksum-algorithm", "SHA256");
    if let Some(until) = retain_until {
        headers.insert("x-amz-object-lock-mode", "COMPLIANCE");
        headers.insert("x-amz-object-lock-retain-until-date", lock_date(until)?);
    }
    Ok(headers)
}

fn with_headers<B>(
    mut request: ureq::RequestBuilder<B>,
    headers: &Map<'_>,
) -> ureq::RequestBuilder<B> {
    for (name, value) in headers.iter() {
        request = request.header(name, value);
    }
    request
}

/// Whether a refusal only says that the key or version is not there (not that the bucket is
/// missing).
fn is_absent(answer: &Answer) -> bool {
    answer.status == 404
        && !matches!(
            parse_error(&answer.body).0.as_deref(),
            Some(code) if code != "NoSuchKey" && code != "NoSuchVersion"
        )
}

/// A retain-until date as S3 takes it: UTC, whole seconds, rounded up so that the lock never
/// ends before `until`.
fn lock_date(until: Timestamp) -> Result<String, S3Error> {
    let seconds = until.as_second() + i64::from(until.subsec_nanosecond() > 0);
    let rounded = Timestamp::from_second(seconds).map_err(|e| {
        S3Error::Config(format!(
            "the retain-until date {until} is out of range: {e}"
        ))
    })?;
    Ok(crate::timefmt::format(rounded))
}

/// What to do about a refusal, by S3's error code, else by the status.
fn hint_for(
    target: &S3Target,
    status: u16,
    code: Option<&str>,
    message: Option<&str>,
    bucket_region: Option<&str>,
) -> Option<String> {
    let region_hint = || match bucket_region {
        Some(region) => format!(
            "the bucket is in region {region}: set EVIDENT_S3_REGION={region} (or AWS_REGION)"
        ),
        None => "the bucket is in another region or behind another endpoint: set \
                 EVIDENT_S3_REGION (or AWS_REGION) to its region, or EVIDENT_S3_ENDPOINT"
            .to_owned(),
    };
    let hint = match code.unwrap_or_default() {
        "NoSuchBucket" => format!(
            "the bucket `{}` does not exist at this endpoint: check its name and \
             EVIDENT_S3_ENDPOINT, or create it with Object Lock enabled",
            target.bucket
        ),
        "InvalidAccessKeyId" => "the endpoint does not know this access key: check \
                                 AWS_ACCESS_KEY_ID (and EVIDENT_S3_ENDPOINT)"
            .to_owned(),
        "SignatureDoesNotMatch" => "the request's signature does not match: check \
                                    AWS_SECRET_ACCESS_KEY"
            .to_owned(),
        "ExpiredToken" | "InvalidToken" | "TokenRefreshRequired" => {
            "the session token (AWS_SESSION_TOKEN) has expired or is not valid: get fresh \
             credentials"
                .to_owned()
        }
        "AuthorizationHeaderMalformed"
        | "AuthorizationQueryParametersError"
        | "PermanentRedirect"
        | "IllegalLocationConstraintException" => region_hint(),
        "RequestTimeTooSkewed" => "this machine's clock differs from the server's by more \
                                   than 15 minutes: correct the clock"
            .to_owned(),
        "BadDigest" | "InvalidDigest" | "XAmzContentChecksumMismatch" | "InvalidContentMD5" => {
            "the content did not arrive as sent: retry".to_owned()
        }
        "InvalidRequest" | "InvalidBucketState" | "ObjectLockConfigurationNotFoundError"
            if message.is_some_and(|m| {
                let m = m.to_ascii_lowercase();
                m.contains("object lock") || m.contains("objectlock")
            }) =>
        {
            format!(
                "the bucket `{}` has no Object Lock: evidence needs a bucket with Object Lock \
                 enabled (create one with it, or enable it on this one; versioning must be on)",
                target.bucket
            )
        }
        "BucketAlreadyExists" => format!(
            "another account owns a bucket named `{}`: choose another name",
            target.bucket
        ),
        "BucketAlreadyOwnedByYou" => format!(
            "the bucket `{}` exists already and is yours: check that it has Object Lock enabled",
            target.bucket
        ),
        "SlowDown" => "the server asks for fewer requests: retry later".to_owned(),
        _ => match status {
            301 | 307 => region_hint(),
            401 | 403 => format!(
                "the credentials are not allowed to {} here: the bucket's or the user's \
                 policy needs {}",
                target.action,
                permission(target)
            ),
            500.. => "the server failed: retry later".to_owned(),
            _ => return None,
        },
    };
    Some(hint)
}

/// The IAM permission an action needs.
fn permission(target: &S3Target) -> &'static str {
    match (target.action, target.version_id.is_some()) {
        (WRITE, _) => "s3:PutObject (and s3:PutObjectRetention to lock it)",
        (READ | HEAD, false) => "s3:GetObject",
        (READ | HEAD, true) => "s3:GetObjectVersion",
        (DELETE, false) => "s3:DeleteObject",
        (DELETE, true) => "s3:DeleteObjectVersion",
        (LIST, _) => "s3:ListBucketVersions",
        (CREATE, _) => "s3:CreateBucket and s3:PutBucketObjectLockConfiguration",
        _ => "the matching s3: permission",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retain_until_dates_round_up_to_the_second() {
        let t: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        assert_eq!(lock_date(t).unwrap(), "2026-11-22T10:00:00Z");
        let t: Timestamp = "2026-11-22T10:00:00.000000001Z".parse().unwrap();
        assert_eq!(lock_date(t).unwrap(), "2026-11-22T10:00:01Z");
        let t: Timestamp = "2026-11-22T10:00:59.5Z".parse().unwrap();
        assert_eq!(lock_date(t).unwrap(), "2026-11-22T10:01:00Z");
    }

    #[test]
    fn refusals_explain_themselves() {
        let target = S3Target {
            action: DELETE,
            bucket: "evidence".into(),
            key: "p/blobs/k".into(),
            version_id: Some("v1".into()),
        };
        let hint = |status, code| hint_for(&target, status, code, None, None).unwrap();
        assert!(hint(404, Some("NoSuchBucket")).contains("does not exist"));
        assert!(hint(403, Some("InvalidAccessKeyId")).contains("AWS_ACCESS_KEY_ID"));
        assert!(hint(403, Some("SignatureDoesNotMatch")).contains("AWS_SECRET_ACCESS_KEY"));
        assert!(hint(403, Some("AccessDenied")).contains("s3:DeleteObjectVersion"));
        assert!(hint(301, None).contains("EVIDENT_S3_REGION"));
        assert!(
            hint_for(
                &target,
                301,
                Some("PermanentRedirect"),
                None,
                Some("eu-west-2")
            )
            .unwrap()
            .contains("EVIDENT_S3_REGION=eu-west-2")
        );
        assert!(hint(503, Some("SlowDown")).contains("retry"));
        assert_eq!(hint_for(&target, 400, Some("Whatever"), None, None), None);
        let err = S3Error::Refused {
            target: Box::new(target.clone()),
            status: 403,
            code: Some("AccessDenied".into()),
            message: Some("Access Denied".into()),
            hint: Some("the version is locked".into()),
            locked: true,
        };
        assert_eq!(
            err.to_string(),
            "cannot delete s3://evidence/p/blobs/k (version v1): HTTP 403 AccessDenied: \
             Access Denied: the version is locked"
        );
        assert!(err.is_locked());
        assert_eq!(
            (err.status(), err.code()),
            (Some(403), Some("AccessDenied"))
        );
        let info = ObjectInfo {
            version_id: Some("v1".into()),
            size: Some(5),
            lock_mode: Some("COMPLIANCE".into()),
            retain_until: Some("2030-01-01T00:00:00Z".parse().unwrap()),
            legal_hold: false,
        };
        assert_eq!(
            info.lock_description().unwrap(),
            "locked by S3 Object Lock (COMPLIANCE) until 2030-01-01T00:00:00Z"
        );
    }

    /// Signatures as botocore (the AWS SDK for Python) computes them for the same requests at the
    /// same time: a `PUT` with Object Lock headers, a key that needs encoding and a session
    /// token, and a listing with query parameters.
    #[test]
    fn signatures_match_the_aws_sdk() {
        let config = S3Config::new(
            "eu-west-1",
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .unwrap()
        .with_endpoint(Url::parse("http://127.0.0.1:34803").unwrap())
        .unwrap()
        .with_session_token("tok/en+=");
        let at: Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let bucket = S3Bucket::new(&config, "my-bucket")
            .unwrap()
            .with_clock(Arc::new(evident_core::FixedClock(at)));
        let signature = |url: &Url| {
            url.query_pairs()
                .find(|(k, _)| k == "X-Amz-Signature")
                .map(|(_, v)| v.into_owned())
                .unwrap()
        };
        let until = "2030-01-01T00:00:00Z".parse().unwrap();
        let headers = put_headers(b"hello", Some(until)).unwrap();
        let url = bucket.bucket.object_url("p/blobs/a b+c").unwrap();
        let put = bucket.sign(Method::Put, url, &Map::new(), &headers);
        assert!(put.as_str().contains(
            "X-Amz-SignedHeaders=host%3Bx-amz-checksum-sha256%3Bx-amz-object-lock-mode%3B\
             x-amz-object-lock-retain-until-date%3Bx-amz-sdk-checksum-algorithm"
        ));
        assert_eq!(
            signature(&put),
            "262d416705551cb679601302ea1e734c506c88204786b6b0a62bcb7e63d7e628"
        );
        let mut query = Map::new();
        query.insert("versions", "");
        query.insert("prefix", "p/k ey");
        let list = bucket.sign(
            Method::Get,
            bucket.bucket.base_url().clone(),
            &query,
            &Map::new(),
        );
        assert_eq!(
            signature(&list),
            "c7a1dec14f771cb4c0bad75d9f0b5126a354ac3ea56c85a73b4514a7bc276150"
        );
    }
}
