//! The S3 blob store against a real S3-protocol server: the endpoint of
//! `EVIDENT_TEST_S3_ENDPOINT` (`bash scripts/test.sh` starts moto's server with
//! `scripts/s3.sh` and sets it). Each test works in a fresh bucket of its own, created with
//! Object Lock, so the tests run in parallel.
//!
//! Without `EVIDENT_TEST_S3_ENDPOINT` the tests that need the server fail and say how to set it;
//! `EVIDENT_TEST_SKIP_S3=1` skips them, saying so. The tests of unreachable and refusing
//! servers need no S3 server and always run.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use evident_store::blob::{BlobError, BlobStore, sha256_hex};
use evident_store::s3::{S3BlobStore, S3Bucket, S3Config, S3Error};
use jiff::{SignedDuration, Timestamp};
use url::Url;

/// The secret key of every test: it must never show up in a message or a `Debug` output.
const SECRET: &str = "evident-test-secret-NEVER-PRINTED";

/// The S3 endpoint to test against, or `None` when skipping was asked for.
fn endpoint() -> Option<Url> {
    if let Ok(url) = std::env::var("EVIDENT_TEST_S3_ENDPOINT")
        && !url.trim().is_empty()
    {
        return Some(
            Url::parse(url.trim())
                .unwrap_or_else(|e| panic!("EVIDENT_TEST_S3_ENDPOINT is not a URL: {e}")),
        );
    }
    if std::env::var("EVIDENT_TEST_SKIP_S3").as_deref() == Ok("1") {
        // Straight to stderr, past the test harness's capture: a skip must be visible.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the S3 blob store tests (EVIDENT_TEST_SKIP_S3=1)"
        );
        return None;
    }
    panic!(
        "EVIDENT_TEST_S3_ENDPOINT is not set, so the S3 blob store cannot be tested: run \
         `bash scripts/test.sh` (it starts an S3 server with scripts/s3.sh and sets it), or set \
         it yourself, e.g. EVIDENT_TEST_S3_ENDPOINT=$(bash scripts/s3.sh); \
         EVIDENT_TEST_SKIP_S3=1 skips these tests explicitly"
    );
}

fn config(endpoint: &Url) -> S3Config {
    S3Config::new("us-east-1", "evident-test", SECRET)
        .unwrap()
        .with_endpoint(endpoint.clone())
        .unwrap()
}

/// A bucket name no other test or run uses.
fn random_bucket_name() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    format!("evident-test-{}", hex::encode(bytes))
}

/// A new bucket with Object Lock, or `None` when skipping.
fn fresh_bucket() -> Option<S3Bucket> {
    let endpoint = endpoint()?;
    let bucket = S3Bucket::new(&config(&endpoint), &random_bucket_name()).unwrap();
    bucket
        .create_bucket_with_object_lock()
        .unwrap_or_else(|e| panic!("{e}"));
    Some(bucket)
}

fn store(bucket: &S3Bucket) -> S3BlobStore {
    S3BlobStore::new(bucket.clone(), "org/ledger", SignedDuration::from_hours(24)).unwrap()
}

/// Some bytes of their own for each test.
fn content(label: &str) -> Vec<u8> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).unwrap();
    format!("evidence {label} {}", hex::encode(bytes)).into_bytes()
}

/// Shows an error as a person would see it (and its `Debug` form), after checking that neither
/// holds the secret key.
fn shown(error: &dyn std::error::Error) -> String {
    let text = error.to_string();
    let debug = format!("{error:?}");
    assert!(!text.contains(SECRET), "the secret key is in: {text}");
    assert!(!debug.contains(SECRET), "the secret key is in: {debug}");
    text
}

fn now() -> Timestamp {
    #[allow(clippy::disallowed_methods)] // the server's lock dates are real time
    Timestamp::now()
}

#[test]
fn put_and_get_round_trip_with_the_filesystem_layout() {
    let Some(bucket) = fresh_bucket() else { return };
    let store = store(&bucket);
    let bytes = content("round trip");
    let before = now();
    let digest = store.put(&bytes).unwrap();
    assert_eq!(digest, sha256_hex(&bytes));
    store.sync().unwrap();
    assert_eq!(store.get(&digest).unwrap(), bytes);
    assert!(store.contains(&digest).unwrap());
    let key = format!(
        "org/ledger/blobs/sha256/{}/{}/{digest}",
        &digest[..2],
        &digest[2..4]
    );
    assert_eq!(store.key_of(&digest).unwrap(), key);
    assert_eq!(bucket.get(&key).unwrap(), Some(bytes.clone()));
    // Locked in COMPLIANCE mode for the store's default retention.
    let info = bucket.head(&key, None).unwrap().unwrap();
    assert_eq!(info.lock_mode.as_deref(), Some("COMPLIANCE"));
    let until = info.retain_until.unwrap();
    let want = before + SignedDuration::from_hours(24);
    assert!(
        until >= want.checked_sub(SignedDuration::from_secs(1)).unwrap()
            && until <= want + SignedDuration::from_mins(5),
        "retained until {until}, wanted about {want}"
    );
    assert_eq!(info.size, Some(bytes.len() as u64));
    // An empty blob is a blob too.
    let empty = store.put(b"").unwrap();
    assert_eq!(store.get(&empty).unwrap(), b"");
    // A retention date of its own.
    let later = now() + SignedDuration::from_hours(24 * 400);
    let other = store.put_retained(&content("retained"), later).unwrap();
    let info = bucket
        .head(&store.key_of(&other).unwrap(), None)
        .unwrap()
        .unwrap();
    // Rounded up to the second: the lock never ends early.
    let rounded_up = later.as_second() + i64::from(later.subsec_nanosecond() > 0);
    assert_eq!(info.retain_until.unwrap().as_second(), rounded_up);
}

#[test]
fn a_second_put_of_the_same_content_is_a_no_op() {
    let Some(bucket) = fresh_bucket() else { return };
    let store = store(&bucket);
    let bytes = content("write once");
    let digest = store.put(&bytes).unwrap();
    assert_eq!(store.put(&bytes).unwrap(), digest);
    assert_eq!(
        store
            .put_retained(&bytes, now() + SignedDuration::from_hours(1))
            .unwrap(),
        digest
    );
    let versions = bucket.versions(&store.key_of(&digest).unwrap()).unwrap();
    assert_eq!(versions.len(), 1, "{versions:?}");
    assert!(versions[0].is_latest && !versions[0].is_delete_marker);
}

#[test]
fn a_tampered_object_is_reported_with_the_original_version() {
    let Some(bucket) = fresh_bucket() else { return };
    let store = store(&bucket);
    let bytes = content("tamper");
    let digest = store.put(&bytes).unwrap();
    let key = store.key_of(&digest).unwrap();
    let original = bucket.versions(&key).unwrap()[0].version_id.clone();
    // Someone with write access puts other bytes on the key.
    bucket.put(&key, b"forged evidence", None).unwrap();
    let err = store.get(&digest).unwrap_err();
    let text = shown(&err);
    let BlobError::Corrupt {
        digest: named,
        actual,
        note,
    } = &err
    else {
        panic!("expected Corrupt, got {text}");
    };
    assert_eq!(named, &digest);
    assert_eq!(actual, &sha256_hex(b"forged evidence"));
    let note = note.as_deref().unwrap();
    assert!(
        text.contains(&format!("blob sha256:{digest} is corrupt")),
        "{text}"
    );
    assert!(text.contains(&original), "{text}");
    assert!(note.contains("COMPLIANCE"), "{note}");
    // The original is there, untouched.
    assert_eq!(bucket.get_version(&key, &original).unwrap(), Some(bytes));
    // A write of the right content now is still a no-op: the key exists.
    assert!(store.contains(&digest).unwrap());
}

#[test]
fn a_locked_version_cannot_be_deleted() {
    let Some(bucket) = fresh_bucket() else { return };
    let store = store(&bucket);
    let bytes = content("locked");
    let digest = store.put(&bytes).unwrap();
    let key = store.key_of(&digest).unwrap();
    let version = bucket.versions(&key).unwrap()[0].version_id.clone();
    let err = bucket.delete(&key, Some(&version)).unwrap_err();
    let text = shown(&err);
    assert!(err.is_locked(), "{text}");
    assert_eq!(err.status(), Some(403), "{text}");
    assert!(
        matches!(&err, S3Error::Refused { .. }),
        "expected a refusal, got {text}"
    );
    assert!(text.contains(&bucket.name().to_string()), "{text}");
    assert!(text.contains(&key), "{text}");
    assert!(text.contains(&version), "{text}");
    assert!(
        text.contains("locked by S3 Object Lock (COMPLIANCE) until"),
        "{text}"
    );
    assert_eq!(store.get(&digest).unwrap(), bytes);
    // Deleting the key without a version only hides it under a delete marker: the locked
    // version stays, and the blob is missing until it is written again.
    bucket.delete(&key, None).unwrap();
    assert!(matches!(store.get(&digest), Err(BlobError::Missing(_))));
    assert!(!store.contains(&digest).unwrap());
    assert_eq!(
        bucket.get_version(&key, &version).unwrap(),
        Some(bytes.clone())
    );
    let versions = bucket.versions(&key).unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert!(
        versions
            .iter()
            .any(|v| v.is_delete_marker && v.is_latest && v.version_id != version),
        "{versions:?}"
    );
    assert_eq!(store.put(&bytes).unwrap(), digest);
    assert_eq!(store.get(&digest).unwrap(), bytes);
}

#[test]
fn overwriting_adds_a_version_and_keeps_the_locked_original() {
    let Some(bucket) = fresh_bucket() else { return };
    let store = store(&bucket);
    let bytes = content("overwrite");
    let digest = store.put(&bytes).unwrap();
    let key = store.key_of(&digest).unwrap();
    let original = bucket.head(&key, None).unwrap().unwrap();
    let original_id = original.version_id.clone().unwrap();
    let new_id = bucket.put(&key, b"replacement", None).unwrap().unwrap();
    assert_ne!(new_id, original_id);
    let ids: Vec<String> = bucket
        .versions(&key)
        .unwrap()
        .into_iter()
        .map(|v| v.version_id)
        .collect();
    assert_eq!(ids, [new_id.clone(), original_id.clone()]);
    assert_eq!(
        bucket.get(&key).unwrap().as_deref(),
        Some(&b"replacement"[..])
    );
    assert_eq!(
        bucket.get_version(&key, &original_id).unwrap(),
        Some(bytes.clone())
    );
    let kept = bucket.head(&key, Some(&original_id)).unwrap().unwrap();
    assert_eq!(kept.lock_mode.as_deref(), Some("COMPLIANCE"));
    assert_eq!(kept.retain_until, original.retain_until);
    // The unlocked replacement can go; the original cannot.
    bucket.delete(&key, Some(&new_id)).unwrap();
    assert!(
        bucket
            .delete(&key, Some(&original_id))
            .unwrap_err()
            .is_locked()
    );
    assert_eq!(store.get(&digest).unwrap(), bytes);
}

#[test]
fn remove_refuses_while_locked() {
    let Some(bucket) = fresh_bucket() else { return };
    let store = store(&bucket);
    let bytes = content("remove");
    let digest = store.put(&bytes).unwrap();
    let err = store.remove(&digest).unwrap_err();
    let text = shown(&err);
    assert!(
        matches!(&err, BlobError::Locked { digest: d, .. } if d == &digest),
        "expected Locked, got {text}"
    );
    assert!(text.contains("cannot be removed"), "{text}");
    assert!(text.contains("COMPLIANCE"), "{text}");
    assert_eq!(store.get(&digest).unwrap(), bytes);
    // Removing what is not there succeeds, as on the filesystem.
    store.remove(&sha256_hex(b"never stored")).unwrap();
}

#[test]
fn remove_deletes_every_version_once_the_retention_has_passed() {
    let Some(bucket) = fresh_bucket() else { return };
    let store = store(&bucket);
    let bytes = content("expiring");
    let digest = store
        .put_retained(&bytes, now() + SignedDuration::from_secs(1))
        .unwrap();
    let key = store.key_of(&digest).unwrap();
    bucket.put(&key, b"on top", None).unwrap();
    // Bounded wait for the lock to end: the retention is a date on the server's clock.
    let started = Instant::now();
    loop {
        match store.remove(&digest) {
            Ok(()) => break,
            Err(BlobError::Locked { .. }) if started.elapsed() < Duration::from_secs(15) => {
                std::thread::sleep(Duration::from_millis(250));
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(bucket.versions(&key).unwrap().is_empty());
    assert!(matches!(store.get(&digest), Err(BlobError::Missing(_))));
}

#[test]
fn a_missing_blob_is_missing() {
    let Some(bucket) = fresh_bucket() else { return };
    let store = store(&bucket);
    let digest = sha256_hex(b"never stored");
    assert!(matches!(store.get(&digest), Err(BlobError::Missing(d)) if d == digest));
    assert!(!store.contains(&digest).unwrap());
    assert!(matches!(store.get("../x"), Err(BlobError::BadDigest(_))));
    assert_eq!(bucket.get("org/none").unwrap(), None);
    assert_eq!(bucket.head("org/none", None).unwrap(), None);
    assert!(bucket.versions("org/none").unwrap().is_empty());
}

#[test]
fn a_missing_bucket_is_named_with_what_to_do() {
    let Some(endpoint) = endpoint() else { return };
    let bucket = S3Bucket::new(&config(&endpoint), &random_bucket_name()).unwrap();
    let store = store(&bucket);
    let err = store.put(b"x").unwrap_err();
    let text = shown(&err);
    let BlobError::Remote(inner) = &err else {
        panic!("expected Remote, got {text}")
    };
    let s3 = inner.downcast_ref::<S3Error>().unwrap();
    assert_eq!(s3.code(), Some("NoSuchBucket"), "{text}");
    assert!(text.contains(bucket.name()), "{text}");
    assert!(text.contains("HTTP 404"), "{text}");
    assert!(text.contains("create it with Object Lock"), "{text}");
    let err = bucket.get("k").unwrap_err();
    assert_eq!(err.code(), Some("NoSuchBucket"), "{}", shown(&err));
}

#[test]
fn an_unreachable_endpoint_fails_at_once_without_the_secret() {
    // Needs no server: nothing listens on port 1.
    let endpoint = Url::parse("http://127.0.0.1:1").unwrap();
    let bucket = S3Bucket::new(&config(&endpoint), "evident-nowhere").unwrap();
    let store = store(&bucket);
    let started = Instant::now();
    let err = store.get(&sha256_hex(b"x")).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let text = shown(&err);
    assert!(text.contains("http://127.0.0.1:1"), "{text}");
    assert!(text.contains("evident-nowhere"), "{text}");
    assert!(text.contains("EVIDENT_S3_ENDPOINT"), "{text}");
    assert!(!text.contains("X-Amz-Signature"), "{text}");
    let err = bucket.create_bucket_with_object_lock().unwrap_err();
    assert!(
        matches!(err, S3Error::Unreachable { .. }),
        "{}",
        shown(&err)
    );
    let debug = format!("{store:?} {bucket:?} {:?}", config(&endpoint));
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(
        debug.contains("evident-test"),
        "the access key id is shown: {debug}"
    );
}

/// A server on a free port of 127.0.0.1 that answers `answers` requests with `response`, each
/// on its own connection, then stops.
fn canned_server(response: String, answers: usize) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(answers) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    url
}

#[test]
fn refused_credentials_are_explained_without_the_secret() {
    // Needs no S3 server: a canned answer, as AWS gives it for an unknown access key.
    const BODY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidAccessKeyId\
        </Code><Message>The AWS Access Key Id you provided does not exist in our records.\
        </Message><AWSAccessKeyId>evident-test</AWSAccessKeyId></Error>";
    let response = format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let endpoint = canned_server(response, 3);
    let bucket = S3Bucket::new(&config(&endpoint), "evident-refused").unwrap();
    let err = bucket.put("k", b"x", Some(now())).unwrap_err();
    let text = shown(&err);
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.code(), Some("InvalidAccessKeyId"));
    assert!(!err.is_locked());
    assert!(text.starts_with("cannot write s3://evident-refused/k: HTTP 403 InvalidAccessKeyId: The AWS Access Key Id you provided does not exist"), "{text}");
    assert!(text.contains("check AWS_ACCESS_KEY_ID"), "{text}");
    let err = S3BlobStore::new(bucket.clone(), "", SignedDuration::from_hours(1))
        .unwrap()
        .get(&sha256_hex(b"x"))
        .unwrap_err();
    let text = shown(&err);
    assert!(text.contains("InvalidAccessKeyId"), "{text}");
    let err = bucket.versions("k").unwrap_err();
    assert!(shown(&err).contains("list the versions of s3://evident-refused/k"));
}
