//! The REST API under `/api/v1`: bearer tokens with roles, evidence queries, proofs, the log
//! as static tlog-tiles resources, auditor packages (`GET /api/v1/export`) and
//! `POST /api/v1/evidence` for scan reports.
//!
//! Reads go through the server's own read-only handles on the store (never the writer's; one
//! for exports, one for the rest), run on blocking threads, and see what the latest checkpoint
//! covers. Appends go through the
//! writer, like webhook deliveries, and are answered once durable.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use evident_core::{Finding, ScanError, ScanReport, Severity};
use evident_ledger::checkpoint;
use evident_ledger::merkle;
use evident_ledger::record::{EvidenceKind, subject_digest};
use evident_ledger::statement::Statement;
use evident_ledger::tlog_proof::TlogProof;
use evident_package::{BuildError, Scope};
use evident_store::draft::{RecordedScan, scan_draft, scan_result};
use evident_store::index::{IndexRow, Query};
use evident_store::tiles::{TILE_WIDTH, entries_path, tile_path, tile_width};
use evident_store::{Store, StoreError, timefmt};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::{ApiError, AppState, media_type, percent_decode, read_body};
use crate::metrics::{Gauges, Source};
use crate::tokens::{self, Credential, FileLock, Permission};
use crate::writer::Appended;

/// The OpenAPI 3.1 description of every route.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Rows per page unless `limit` says otherwise.
const DEFAULT_LIMIT: u64 = 100;
/// The most rows one page holds.
const MAX_LIMIT: u64 = 1000;

/// The categories a pushed scan may have.
const CATEGORIES: [&str; 7] = [
    "secrets",
    "sast",
    "sca",
    "iac",
    "dast",
    "container",
    "pipeline",
];

fn internal(what: &str, e: &dyn std::fmt::Display) -> ApiError {
    log_line!("evident serve: {what}: {e}");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

fn bad_request(message: impl Into<Cow<'static, str>>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

fn not_found(message: &'static str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, message)
}

/// A text shortened for an error message (it may come from the request).
fn clip(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() > 80 {
        format!("{}…", clean.chars().take(80).collect::<String>())
    } else {
        clean
    }
}

// ---------------------------------------------------------------------------------------------
// The read-only store handle.

/// The server's read-only handles on the store, with what reads cache.
pub struct Reader {
    /// The handle of every read but exports: one at a time.
    store: Mutex<Option<Store>>,
    /// The handle of exports alone, so that building a package (which may take long) does not
    /// hold up the other reads: one export at a time, beside them.
    exports: Mutex<Option<Store>>,
    /// Per control: entries, latest record time (Unix seconds).
    controls: Mutex<Tally<BTreeMap<String, (u64, i64)>>>,
    /// Gate decisions by (environment, decision), for `/metrics`.
    gates: Mutex<Tally<BTreeMap<(String, String), u64>>>,
}

/// An aggregate over the log, kept up to date from what was appended since the last look.
#[derive(Default)]
struct Tally<T> {
    /// The log size the aggregate covers.
    size: u64,
    value: T,
}

impl<T: Default> Tally<T> {
    /// Brings the aggregate up to a log of `size` entries: folds in the index rows (of `kind`,
    /// or all) appended since it last looked, or starts over for a shorter log.
    fn catch_up(
        &mut self,
        store: &Store,
        size: u64,
        kind: Option<EvidenceKind>,
        mut add: impl FnMut(&mut T, &IndexRow) -> Result<(), ApiError>,
    ) -> Result<&T, ApiError> {
        if size < self.size {
            *self = Self::default();
        }
        if size > self.size {
            let rows = store
                .query(&Query {
                    kind: kind.map(|k| k.as_str().to_owned()),
                    from_seq: Some(self.size),
                    below: Some(size),
                    ..Query::default()
                })
                .map_err(|e| store_error(&e))?;
            for row in &rows {
                add(&mut self.value, row)?;
            }
            self.size = size;
        }
        Ok(&self.value)
    }
}

/// Which of the [`Reader`]'s store handles a read uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handle {
    /// The handle of every read but exports.
    Reads,
    /// The handle of exports.
    Export,
}

impl Reader {
    /// Wraps two handles on the store, opened for reading: `store` for the reads, `exports`
    /// for the auditor packages.
    pub fn new(store: Store, exports: Store) -> Self {
        Self {
            store: Mutex::new(Some(store)),
            exports: Mutex::new(Some(exports)),
            controls: Mutex::new(Tally::default()),
            gates: Mutex::new(Tally::default()),
        }
    }

    fn handle(&self, which: Handle) -> &Mutex<Option<Store>> {
        match which {
            Handle::Reads => &self.store,
            Handle::Export => &self.exports,
        }
    }

    /// Runs `f` on the store handle `which`, once the read in progress on that handle (if any)
    /// is done; the other handle's reads go on meanwhile. Blocks.
    fn with<T>(
        &self,
        which: Handle,
        f: impl FnOnce(&Store, &Self) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let guard = self
            .handle(which)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let store = guard
            .as_ref()
            .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "stopping"))?;
        f(store, self)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // The store closes its database by blocking on its own runtime, which must not happen
        // on a thread that drives async tasks: close them on a thread of their own.
        let stores: Vec<Store> = [&mut self.store, &mut self.exports]
            .into_iter()
            .filter_map(|handle| {
                handle
                    .get_mut()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take()
            })
            .collect();
        if !stores.is_empty() {
            let _ = std::thread::spawn(move || drop(stores)).join();
        }
    }
}

/// Runs `f` on the read-only store, on a blocking thread.
async fn read<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Store, &Reader) -> Result<T, ApiError> + Send + 'static,
{
    read_on(state, Handle::Reads, f).await
}

/// Runs `f` on the read-only store handle `which`, on a blocking thread.
async fn read_on<T, F>(state: &AppState, which: Handle, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Store, &Reader) -> Result<T, ApiError> + Send + 'static,
{
    let reader = Arc::clone(&state.inner.reader);
    tokio::task::spawn_blocking(move || reader.with(which, f))
        .await
        .map_err(|e| internal("a read failed", &e))?
}

fn store_error(e: &StoreError) -> ApiError {
    match e {
        StoreError::NoSuchEntry { .. } => not_found("no such entry"),
        other => internal("cannot read the store", other),
    }
}

/// The entries a checkpoint covers (0 for an empty log).
fn log_size(store: &Store) -> Result<u64, ApiError> {
    Ok(store
        .checkpoint_unverified()
        .map_err(|e| store_error(&e))?
        .map_or(0, |c| c.size))
}

// ---------------------------------------------------------------------------------------------
// Tokens.

/// What identifies the token file's version on disk: a change of any part means re-reading.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
        inode,
    })
}

/// The tokens as last read from the file.
struct Snapshot {
    stamp: Option<Stamp>,
    credentials: Vec<Credential>,
    /// Changes not yet recorded in the ledger.
    pending: usize,
}

/// The token file, re-read whenever it changes on disk.
pub struct TokenCache {
    store: PathBuf,
    current: RwLock<Arc<Snapshot>>,
    refresh: tokio::sync::Mutex<()>,
}

impl TokenCache {
    /// The tokens of the store at `store` (read on first use).
    pub fn new(store: PathBuf) -> Self {
        Self {
            store,
            current: RwLock::new(Arc::new(Snapshot {
                // Never equal to a real file's stamp, nor to a missing file's `None`.
                stamp: Some(Stamp {
                    len: u64::MAX,
                    modified: None,
                    inode: u64::MAX,
                }),
                credentials: Vec::new(),
                pending: 0,
            })),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self) -> Arc<Snapshot> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    fn set(&self, snapshot: Arc<Snapshot>) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = snapshot;
    }
}

/// The current tokens: re-read when the file changed or changes are still to be recorded
/// (which are then recorded before the request goes on).
async fn credentials(state: &AppState) -> Arc<Snapshot> {
    let cache = &state.inner.tokens;
    let path = tokens::file_path(&cache.store);
    let needs = |cur: &Snapshot| cur.pending > 0 || cur.stamp != stamp(&path);
    let cur = cache.current();
    if !needs(&cur) {
        return cur;
    }
    let _single = cache.refresh.lock().await;
    let cur = cache.current();
    if !needs(&cur) {
        return cur;
    }
    let snapshot = Arc::new(reload(state).await);
    cache.set(Arc::clone(&snapshot));
    snapshot
}

/// Reads the token file and, when its lock is free, records pending changes and marks them.
/// The server never waits for that lock: a CLI holding it may itself be waiting for the
/// ledger, which the server holds. Reading needs no lock (the file is replaced atomically).
async fn reload(state: &AppState) -> Snapshot {
    let store = state.inner.tokens.store.clone();
    let path = tokens::file_path(&store);
    let loaded = tokio::task::spawn_blocking(move || {
        let lock = FileLock::try_acquire(&store)?;
        let before = stamp(&tokens::file_path(&store));
        let file = tokens::load(&tokens::file_path(&store))?;
        Ok::<_, tokens::TokenError>((lock, before, file))
    })
    .await;
    let (lock, before, mut file) = match loaded {
        Ok(Ok(loaded)) => loaded,
        Ok(Err(e)) => {
            // Fail closed: no token authenticates until the file is readable again.
            log_line!("evident serve: API tokens disabled: {e}");
            return Snapshot {
                stamp: stamp(&path),
                credentials: Vec::new(),
                pending: 0,
            };
        }
        Err(e) => {
            log_line!("evident serve: cannot read the API tokens: {e}");
            return Snapshot {
                stamp: None,
                credentials: Vec::new(),
                pending: 0,
            };
        }
    };
    let pending = file.pending();
    let Some(lock) = lock else {
        // Busy: authenticate with what the file says; record on a later look.
        return Snapshot {
            stamp: before,
            credentials: file.credentials(),
            pending: pending.len(),
        };
    };
    let mut recorded = 0usize;
    for change in &pending {
        let evidence = match change.draft(state.inner.retain_years).build() {
            Ok(e) => e,
            Err(e) => {
                log_line!(
                    "evident serve: cannot build the record of {} {}: {e}",
                    change.action.as_str(),
                    change.id
                );
                break;
            }
        };
        match state.inner.writer.append(evidence, None).await {
            Ok(Appended::Stored(seq) | Appended::Duplicate(seq)) => {
                log_line!(
                    "evident serve: {} {} ({}) recorded as entry {seq}",
                    change.action.as_str(),
                    change.id,
                    change.name
                );
                file.mark(change, seq);
                recorded += 1;
            }
            Err(e) => {
                log_line!(
                    "evident serve: cannot record {} {} yet: {e}",
                    change.action.as_str(),
                    change.id
                );
                break;
            }
        }
    }
    let credentials = file.credentials();
    let left = pending.len() - recorded;
    if recorded == 0 {
        drop(lock);
        return Snapshot {
            stamp: before,
            credentials,
            pending: left,
        };
    }
    let saved = tokio::task::spawn_blocking(move || {
        let result = tokens::save(&path, &file);
        let after = stamp(&path);
        drop(lock);
        result.map(|()| after)
    })
    .await;
    match saved {
        Ok(Ok(after)) => Snapshot {
            stamp: after,
            credentials,
            pending: left,
        },
        Ok(Err(e)) => {
            // Recorded but not marked: recorded again next time (at least once).
            log_line!("evident serve: cannot mark the recorded token changes: {e}");
            Snapshot {
                stamp: None,
                credentials,
                pending: pending.len(),
            }
        }
        Err(e) => {
            log_line!("evident serve: cannot mark the recorded token changes: {e}");
            Snapshot {
                stamp: None,
                credentials,
                pending: pending.len(),
            }
        }
    }
}

/// Re-reads the token file every few seconds, so that changes made while no request comes in
/// are recorded too.
pub async fn watch_tokens(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        credentials(&state).await;
    }
}

/// The token behind a request.
#[derive(Debug, Clone)]
struct Caller {
    id: String,
    name: String,
}

/// Checks the request's bearer token and that its role grants `need`.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    need: Permission,
) -> Result<Caller, ApiError> {
    let snapshot = credentials(state).await;
    let now = state.inner.clock.now();
    let header = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    match tokens::authenticate(&snapshot.credentials, header, now) {
        Ok(c) if c.role.allows(need) => Ok(Caller {
            id: c.id.clone(),
            name: c.name.clone(),
        }),
        Ok(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this token's role does not allow this request",
        )),
        Err(failure) => {
            state.inner.metrics.api_auth_failure();
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                match failure {
                    crate::auth::AuthFailure::Missing => "authentication required",
                    _ => "invalid token",
                },
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Query parameters.

/// The decoded `name=value` pairs of a query string; names outside `allowed` are refused, and
/// so is a repeated name unless it is in `repeatable`.
fn params(
    raw: Option<&str>,
    allowed: &[&str],
    repeatable: &[&str],
) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_decode(s.as_bytes())
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| bad_request("the query string is not valid percent-encoded UTF-8"))
        };
        let (k, v) = (decode(k)?, decode(v)?);
        if !allowed.contains(&k.as_str()) {
            return Err(bad_request(format!(
                "unknown query parameter `{}` (expected: {})",
                clip(&k),
                allowed.join(", ")
            )));
        }
        let values = out.entry(k.clone()).or_default();
        if !values.is_empty() && !repeatable.contains(&k.as_str()) {
            return Err(bad_request(format!("`{k}` is given more than once")));
        }
        values.push(v);
    }
    Ok(out)
}

fn single<'a>(params: &'a BTreeMap<String, Vec<String>>, name: &str) -> Option<&'a str> {
    params.get(name).and_then(|v| v.first()).map(String::as_str)
}

/// A subject as given: `git:<commit>`, `sha256:<digest>`, `env:<name>` or a bare commit.
fn parse_subject(text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    let candidate =
        if text.len() >= 40 && text.bytes().all(|b| b.is_ascii_hexdigit()) && !text.contains(':') {
            format!("git:{}", text.to_ascii_lowercase())
        } else {
            text.to_owned()
        };
    subject_digest(&candidate).map_err(|_| {
        bad_request(format!(
            "`subject` `{}` is not a subject: use git:<commit> (40 or 64 lowercase hex), sha256:<digest> or env:<name>",
            clip(text)
        ))
    })?;
    Ok(candidate)
}

/// A control reference, normalised (`CC8.1` alone is accepted when it names one control).
fn parse_control(text: &str) -> Result<String, ApiError> {
    let reference = if text.contains(':') {
        text.to_owned()
    } else {
        match evident_controls::resolve(text) {
            Err(evident_controls::ControlError::MissingPrefix { candidates, .. })
                if candidates.len() == 1 =>
            {
                candidates[0].clone()
            }
            _ => text.to_owned(),
        }
    };
    let (fw, control) = evident_controls::resolve(&reference).map_err(|_| {
        bad_request(format!(
            "`control` `{}` is not a known control (e.g. soc2:CC8.1, iso27001:A.8.32)",
            clip(text)
        ))
    })?;
    Ok(format!("{}:{}", fw.id, control.id))
}

/// A time bound: RFC 3339, or a date (`YYYY-MM-DD`, UTC; as an end bound, the end of the day).
fn parse_time(name: &str, text: &str, end: bool) -> Result<i64, ApiError> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t.as_second());
    }
    let day = text
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .and_then(|z| if end { z.tomorrow().ok() } else { Some(z) })
        .ok_or_else(|| {
            bad_request(format!(
                "`{name}` `{}` is not a time: use RFC 3339 (2026-10-01T00:00:00Z) or a date (2026-10-01)",
                clip(text)
            ))
        })?;
    Ok(day.timestamp().as_second())
}

fn parse_number(name: &str, text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .map_err(|_| bad_request(format!("`{name}` must be a non-negative integer")))
}

/// `limit` (default 100, at most 1000) and `after` (the last entry of the previous page).
fn page(params: &BTreeMap<String, Vec<String>>) -> Result<(u64, Option<u64>), ApiError> {
    let limit = match single(params, "limit") {
        Some(text) => parse_number("limit", text)?,
        None => DEFAULT_LIMIT,
    };
    if limit == 0 {
        return Err(bad_request("`limit` must be at least 1"));
    }
    let after = single(params, "after")
        .map(|t| parse_number("after", t))
        .transpose()?;
    Ok((limit.min(MAX_LIMIT), after))
}

fn parse_seq(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .map_err(|_| not_found("no such entry: an entry is a non-negative integer"))
}

fn text_response(content_type: &'static str, body: impl Into<Body>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body.into(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Reads.

/// `GET /api/v1/evidence`
pub async fn list_evidence(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<Value>, ApiError> {
    authorize(&state, &headers, Permission::Read).await?;
    let p = params(
        query.as_deref(),
        &["subject", "control", "kind", "from", "to", "limit", "after"],
        &[],
    )?;
    let (limit, after) = page(&p)?;
    let q = Query {
        subject: single(&p, "subject").map(parse_subject).transpose()?,
        control: single(&p, "control").map(parse_control).transpose()?,
        kind: single(&p, "kind")
            .map(|k| {
                k.parse::<EvidenceKind>()
                    .map(|k| k.as_str().to_owned())
                    .map_err(|_| {
                        bad_request(format!("`kind` `{}` is not an evidence kind", clip(k)))
                    })
            })
            .transpose()?,
        from: single(&p, "from")
            .map(|t| parse_time("from", t, false))
            .transpose()?,
        to: single(&p, "to")
            .map(|t| parse_time("to", t, true))
            .transpose()?,
        from_seq: after.map(|a| a.saturating_add(1)),
        limit: Some(limit + 1),
        ..Query::default()
    };
    let (rows, size) = read(&state, move |store, _| {
        let size = log_size(store)?;
        let mut q = q;
        q.below = Some(size);
        let rows = store.query(&q).map_err(|e| store_error(&e))?;
        Ok((rows, size))
    })
    .await?;
    Ok(axum::Json(page_json(&rows, limit, size, IndexRow::to_json)))
}

/// `{"entries": [...], "next": <after for the next page> | null, "log_size": N}`.
fn page_json<T>(rows: &[T], limit: u64, size: u64, f: impl Fn(&T) -> Value) -> Value
where
    T: HasSeq,
{
    let shown = rows.len().min(limit as usize);
    let next = (rows.len() > shown)
        .then(|| rows[shown - 1].seq())
        .map_or(Value::Null, |s| json!(s));
    json!({
        "entries": rows[..shown].iter().map(f).collect::<Vec<_>>(),
        "next": next,
        "log_size": size,
    })
}

trait HasSeq {
    fn seq(&self) -> u64;
}

impl HasSeq for IndexRow {
    fn seq(&self) -> u64 {
        self.seq
    }
}

impl HasSeq for (u64, Value) {
    fn seq(&self) -> u64 {
        self.0
    }
}

/// `GET /api/v1/evidence/{seq}`
pub async fn show_evidence(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(seq): UrlPath<String>,
) -> Result<axum::Json<Value>, ApiError> {
    authorize(&state, &headers, Permission::Read).await?;
    let seq = parse_seq(&seq)?;
    read(&state, move |store, _| {
        let size = log_size(store)?;
        if seq >= size {
            return Err(not_found("no such entry"));
        }
        let (bytes, entry) = store.entry(seq, size).map_err(|e| store_error(&e))?;
        let statement = Statement::from_payload(&entry.envelope.payload)
            .map_err(|e| internal(&format!("entry {seq}"), &e))?;
        Ok(json!({
            "entry": seq,
            "leaf_hash": hex::encode(merkle::leaf_hash(&bytes)),
            "log_size": size,
            "record": entry.record,
            "statement": statement,
            "envelope": entry.envelope,
        }))
    })
    .await
    .map(axum::Json)
}

/// `GET /api/v1/evidence/{seq}/proof`
pub async fn proof(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(seq): UrlPath<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Permission::Read).await?;
    let seq = parse_seq(&seq)?;
    let verifier = state.inner.verifier.clone();
    let text = read(&state, move |store, _| {
        let note = store
            .checkpoint_note()
            .map_err(|e| store_error(&e))?
            .ok_or_else(|| not_found("the ledger is empty"))?;
        let (cp, _) = checkpoint::open_checkpoint(note.as_bytes(), std::slice::from_ref(&verifier))
            .map_err(|e| internal("the checkpoint does not verify", &e))?;
        if seq >= cp.size {
            return Err(not_found("no such entry"));
        }
        let (bytes, _) = store.entry(seq, cp.size).map_err(|e| store_error(&e))?;
        let proof = store
            .inclusion_proof(seq, cp.size)
            .map_err(|e| store_error(&e))?;
        let p = TlogProof {
            extra: None,
            index: seq,
            proof,
            checkpoint: note,
        };
        p.verify(&merkle::leaf_hash(&bytes), std::slice::from_ref(&verifier))
            .map_err(|e| internal(&format!("the proof of entry {seq}"), &e))?;
        p.format()
            .map_err(|e| internal(&format!("the proof of entry {seq}"), &e))
    })
    .await?;
    Ok(text_response("text/plain; charset=utf-8", text))
}

/// `GET /api/v1/checkpoint`
pub async fn checkpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Permission::Read).await?;
    let note = read(&state, |store, _| {
        store
            .checkpoint_note()
            .map_err(|e| store_error(&e))?
            .ok_or_else(|| not_found("the ledger is empty"))
    })
    .await?;
    let mut response = text_response("text/plain; charset=utf-8", note);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// A resource of the log directory that may be served.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LogResource {
    Checkpoint,
    /// A hash tile (`level` = `Some`) or an entry bundle (`None`).
    Tile {
        level: Option<u8>,
        n: u64,
        width: u64,
    },
}

/// Parses `checkpoint`, `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`, exactly as the
/// store writes them (anything else, `..` and absolute paths included, is refused).
fn log_resource(path: &str) -> Option<LogResource> {
    if path == "checkpoint" {
        return Some(LogResource::Checkpoint);
    }
    if path.len() > 200 {
        return None;
    }
    let rest = path.strip_prefix("tile/")?;
    let (level, rest) = if let Some(rest) = rest.strip_prefix("entries/") {
        (None, rest)
    } else {
        let (l, rest) = rest.split_once('/')?;
        if l.is_empty() || l.len() > 2 || !l.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        (Some(l.parse::<u8>().ok()?), rest)
    };
    let (index, width) = match rest.split_once(".p/") {
        Some((index, w)) => {
            if w.is_empty() || w.len() > 3 || !w.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (index, w.parse::<u64>().ok()?)
        }
        None => (rest, TILE_WIDTH),
    };
    if width == 0 || width > TILE_WIDTH {
        return None;
    }
    let mut n: u64 = 0;
    let groups: Vec<&str> = index.split('/').collect();
    for (i, g) in groups.iter().enumerate() {
        let digits = if i + 1 < groups.len() {
            g.strip_prefix('x')?
        } else {
            g
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n = n
            .checked_mul(1000)?
            .checked_add(digits.parse::<u64>().ok()?)?;
    }
    // Only the canonical spelling: it is the one the store writes.
    let canonical = match level {
        Some(l) => tile_path(l, n, width),
        None => entries_path(n, width),
    };
    (canonical == path).then_some(LogResource::Tile { level, n, width })
}

/// `GET /api/v1/log/{*path}`
pub async fn log_file(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(path): UrlPath<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Permission::Read).await?;
    let resource = log_resource(&path).ok_or_else(|| {
        bad_request(
            "not a log resource: checkpoint, tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]",
        )
    })?;
    let (bytes, size) = read(&state, move |store, _| {
        let bytes = store
            .tiles()
            .read_resource(&path)
            .map_err(|e| internal("a log resource", &e))?
            .ok_or_else(|| not_found("not found"))?;
        Ok((bytes, log_size(store)?))
    })
    .await?;
    let (content_type, cache) = match resource {
        LogResource::Checkpoint => ("text/plain; charset=utf-8", "no-cache"),
        LogResource::Tile { level, n, width } => {
            // A full tile the checkpoint covers never changes.
            let full = width == TILE_WIDTH && tile_width(level.unwrap_or(0), n, size) == TILE_WIDTH;
            (
                "application/octet-stream",
                if full {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                },
            )
        }
    };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /api/v1/exceptions`
pub async fn exceptions(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<Value>, ApiError> {
    authorize(&state, &headers, Permission::Read).await?;
    let p = params(query.as_deref(), &["limit", "after"], &[])?;
    let (limit, after) = page(&p)?;
    let now = state.inner.clock.now();
    read(&state, move |store, _| {
        let size = log_size(store)?;
        let statuses = exception_statuses(store, size, now)?;
        let rows = store
            .query(&Query {
                kind: Some(EvidenceKind::Exception.as_str().to_owned()),
                from_seq: after.map(|a| a.saturating_add(1)),
                below: Some(size),
                limit: Some(limit + 1),
                ..Query::default()
            })
            .map_err(|e| store_error(&e))?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let (_, entry) = store.entry(row.seq, size).map_err(|e| store_error(&e))?;
            let statement = Statement::from_payload(&entry.envelope.payload)
                .map_err(|e| internal(&format!("entry {}", row.seq), &e))?;
            let mut item = json!({
                "entry": row.seq,
                "recorded_at": entry.record.recorded_at,
                "actor": entry.record.actor,
                "subject": entry.record.subject,
                "controls": entry.record.controls,
                "labels": entry.record.labels,
                "predicate": statement.predicate,
            });
            if let Some(state) = statuses.get(&row.seq) {
                item["status"] = json!(state.0);
                item["revoked_by"] = json!(state.1);
            }
            items.push((row.seq, item));
        }
        Ok(page_json(&items, limit, size, |(_, v)| v.clone()))
    })
    .await
    .map(axum::Json)
}

/// The status of every exception granted in the first `size` entries, by its grant's entry:
/// `active`, `expired` (by its own expiry) or `revoked`, and the revoking entry. The longest
/// exception an environment allows (`exception_max_days`) is applied by the gate when it
/// decides, not here.
fn exception_statuses(
    store: &Store,
    size: u64,
    now: jiff::Timestamp,
) -> Result<BTreeMap<u64, (&'static str, Option<u64>)>, ApiError> {
    use evident_gate::exception::{ExceptionAction, ExceptionRecord, resolve};
    let rows = store
        .query(&Query {
            kind: Some(EvidenceKind::Exception.as_str().to_owned()),
            below: Some(size),
            ..Query::default()
        })
        .map_err(|e| store_error(&e))?;
    let mut records = Vec::with_capacity(rows.len());
    for row in rows {
        let (_, entry) = store.entry(row.seq, size).map_err(|e| store_error(&e))?;
        let statement = Statement::from_payload(&entry.envelope.payload)
            .map_err(|e| internal(&format!("entry {}", row.seq), &e))?;
        // A record that is not an exception action is listed without a status.
        let Ok(action) = serde_json::from_value::<ExceptionAction>(statement.predicate) else {
            continue;
        };
        let Ok(recorded_at) = entry.record.recorded_at.parse::<jiff::Timestamp>() else {
            continue;
        };
        records.push(ExceptionRecord {
            entry: row.seq,
            recorded_at,
            action,
        });
    }
    let (exceptions, _) = resolve(records);
    Ok(exceptions
        .iter()
        .map(|e| {
            (
                e.id,
                (
                    e.status(now, None).as_str(),
                    e.revoked.as_ref().map(|r| r.0),
                ),
            )
        })
        .collect())
}

/// `GET /api/v1/controls`
pub async fn controls(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<axum::Json<Value>, ApiError> {
    authorize(&state, &headers, Permission::Read).await?;
    read(&state, |store, reader| {
        let size = log_size(store)?;
        let mut cache = reader
            .controls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let map = cache.catch_up(store, size, None, |map, row| {
            for c in &row.controls {
                let slot = map.entry(c.clone()).or_insert((0, i64::MIN));
                slot.0 += 1;
                slot.1 = slot.1.max(row.recorded_at);
            }
            Ok(())
        })?;
        let controls: Vec<Value> = map
            .iter()
            .map(|(reference, (count, latest))| {
                let title = evident_controls::resolve(reference)
                    .map(|(_, c)| c.title.clone())
                    .ok();
                json!({
                    "control": reference,
                    "title": title,
                    "entries": count,
                    "latest": timefmt::seconds_text(*latest),
                })
            })
            .collect();
        Ok(json!({ "controls": controls, "log_size": size }))
    })
    .await
    .map(axum::Json)
}

// ---------------------------------------------------------------------------------------------
// The auditor package.

/// `GET /api/v1/export?control=…&from=…&to=…&subject=…`: the auditor package of a control's
/// evidence, as `evident export` writes it (the parameters read as its options do), proven
/// against the latest checkpoint. Built on a blocking thread with the exports' own read handle
/// (the other reads go on meanwhile; a second export waits for the first), compressed after
/// the handle is released.
pub async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, Permission::Export).await?;
    let p = params(query.as_deref(), &["control", "subject", "from", "to"], &[])?;
    let given = |name: &str| single(&p, name).map(str::to_owned);
    // As given, for the package's README (as `evident export` does with its options).
    let scope = Scope {
        control: given("control"),
        subject: given("subject"),
        kind: None,
        from: given("from"),
        to: given("to"),
    };
    let control = parse_control(scope.control.as_deref().ok_or_else(|| {
        bad_request("the `control` query parameter is required, e.g. soc2:CC8.1")
    })?)?;
    let q = Query {
        control: Some(control.clone()),
        subject: scope.subject.as_deref().map(parse_subject).transpose()?,
        from: export_bound("from", scope.from.as_deref(), false)?,
        to: export_bound("to", scope.to.as_deref(), true)?,
        ..Query::default()
    };
    let created = state.inner.clock.now();
    let verifier = state.inner.verifier.clone();
    let package = read_on(&state, Handle::Export, move |store, _| {
        evident_package::build(store, &verifier, &q, &scope, created).map_err(|e| export_error(&e))
    })
    .await?;
    let (entries, log_size) = (package.entries(), package.log_size());
    let body = tokio::task::spawn_blocking(move || package.write_tar_gz(Vec::new()))
        .await
        .map_err(|e| internal("an export failed", &e))?
        .map_err(|e| internal("cannot write an auditor package", &e))?;
    log_line!(
        "evident serve: an auditor package of {entries} entries for {control} (log size {log_size}) exported with token {}",
        caller.id
    );
    let filename = format!(
        "evident-{}-{}.tar.gz",
        file_name_safe(&control),
        created.to_zoned(jiff::tz::TimeZone::UTC).date()
    );
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .map_err(|e| internal("a file name", &e))?;
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/gzip"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// A time bound of an export, read as `evident export --from/--to` reads it: RFC 3339, a date
/// or a month (UTC; as `to`, the end of that day or month).
fn export_bound(name: &str, text: Option<&str>, end: bool) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        evident_package::parse_bound(t, end)
            .map(Timestamp::as_second)
            .map_err(|_| {
                bad_request(format!(
                    "`{name}` `{}` is not a time: use RFC 3339 (2026-10-01T00:00:00Z), a date (2026-10-01) or a month (2026-10)",
                    clip(t)
                ))
            })
    })
    .transpose()
}

fn export_error(e: &BuildError) -> ApiError {
    match e {
        BuildError::EmptyLedger => not_found("the ledger is empty"),
        BuildError::NothingMatches => {
            not_found("no evidence matches the filter; nothing to export")
        }
        BuildError::Store(e) => store_error(e),
        other => internal("cannot build an auditor package", other),
    }
}

/// `text` with every character but ASCII letters, digits, `.`, `_` and `-` replaced by `-`
/// (`soc2:CC8.1` → `soc2-CC8.1`), for a file name.
fn file_name_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Appends.

/// The JSON scan report (docs/json-report.md), as far as the record needs it.
#[derive(Deserialize)]
struct PushedReport {
    schema_version: u32,
    #[serde(default)]
    tool: Option<ReportTool>,
    scanner: String,
    #[serde(default)]
    root: String,
    #[serde(default)]
    started_at: String,
    #[serde(default)]
    fail_on: Option<String>,
    findings: Vec<Finding>,
    #[serde(default)]
    errors: Vec<ScanError>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Deserialize)]
struct ReportTool {
    name: String,
    #[serde(default)]
    version: String,
}

/// `POST /api/v1/evidence?subject=…&category=…&control=…`: a JSON scan report.
pub async fn push_evidence(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let started = Instant::now();
    let response = push_inner(&state, &headers, query.as_deref(), body)
        .await
        .into_response();
    if response.status() == StatusCode::CREATED {
        state.inner.metrics.ingest(Source::Api, started.elapsed());
    }
    response
}

async fn push_inner(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = authorize(state, headers, Permission::Append).await?;
    let p = params(query, &["subject", "category", "control"], &["control"])?;
    let subject = single(&p, "subject").ok_or_else(|| {
        bad_request(
            "the `subject` query parameter is required: git:<commit>, sha256:<digest> or env:<name>",
        )
    })?;
    let subject = parse_subject(subject)?;
    let mut controls = p
        .get("control")
        .into_iter()
        .flatten()
        .map(|c| parse_control(c))
        .collect::<Result<Vec<_>, _>>()?;
    if media_type(headers) != "application/json" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json (an evident JSON scan report)",
        ));
    }
    let body = read_body(headers, body, state.inner.max_body).await?;
    let report: PushedReport = serde_json::from_slice(&body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            bad_request("the body is not valid JSON")
        } else {
            bad_request(format!(
                "the body is not an evident JSON scan report (docs/json-report.md): {}",
                clip(&e.to_string())
            ))
        }
    })?;
    if report.schema_version != 1 {
        return Err(bad_request(format!(
            "the report's schema_version {} is not supported (expected 1)",
            report.schema_version
        )));
    }
    if report.scanner.is_empty()
        || report.scanner.len() > 64
        || !report
            .scanner
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_".contains(&b))
    {
        return Err(bad_request(
            "the report's `scanner` must be 1 to 64 lowercase letters, digits, `-` or `_`",
        ));
    }
    let category = match single(&p, "category") {
        Some(c) => c.trim().to_ascii_lowercase(),
        None => report.scanner.clone(),
    };
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(bad_request(format!(
            "`category` `{}` is not one of {} (pass `category` when the scanner's name is not one)",
            clip(&category),
            CATEGORIES.join(", ")
        )));
    }
    let threshold = match report.fail_on.as_deref() {
        Some(s) => s.parse::<Severity>().map_err(|_| {
            bad_request(format!(
                "the report's `fail_on` `{}` is not a severity",
                clip(s)
            ))
        })?,
        None => Severity::Low,
    };
    if controls.is_empty() {
        // The controls the report's checks support.
        let named: BTreeSet<String> = report
            .findings
            .iter()
            .flat_map(|f| f.controls.iter())
            .filter_map(|c| parse_control(c).ok())
            .collect();
        controls = named.into_iter().collect();
    }
    let (tool, tool_uri, tool_version) = match &report.tool {
        Some(t) if t.name == "evident" => (
            format!("evident scan {}", report.scanner),
            format!("https://evident.dev/scanners/{}", report.scanner),
            t.version.clone(),
        ),
        Some(t) => (
            clip(&t.name),
            format!("https://evident.dev/import/json/{category}"),
            t.version.clone(),
        ),
        None => (
            report.scanner.clone(),
            format!("https://evident.dev/import/json/{category}"),
            String::new(),
        ),
    };
    let scan_report = ScanReport {
        scanner: report.scanner,
        root: report.root,
        started_at: report.started_at,
        findings: report.findings,
        stats: evident_core::ScanStats::default(),
        errors: report.errors,
        notes: report.notes,
    };
    let mut annotations = serde_json::Map::new();
    annotations.insert("token".into(), json!(caller.id));
    let recorded = RecordedScan {
        subject: subject.clone(),
        category: category.clone(),
        tool,
        tool_uri,
        tool_version,
        controls,
        annotations,
    };
    let now = state.inner.clock.now();
    let retain_until = timefmt::add_years(now, state.inner.retain_years).unwrap_or(now);
    let (result, _, _) = scan_result(&scan_report, threshold);
    let evidence = scan_draft(
        &scan_report,
        threshold,
        &recorded,
        body,
        format!("token:{}", caller.name),
        now,
        retain_until,
    )
    .build()
    .map_err(|e| internal("cannot build the evidence of a pushed report", &e))?;
    match state.inner.writer.append(evidence, None).await {
        Ok(Appended::Stored(seq) | Appended::Duplicate(seq)) => {
            log_line!(
                "evident serve: a {category} scan of {subject} pushed with token {} stored as entry {seq}",
                caller.id
            );
            let location = HeaderValue::from_str(&format!("/api/v1/evidence/{seq}"))
                .map_err(|e| internal("a location", &e))?;
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                axum::Json(json!({
                    "entry": seq,
                    "kind": "scan",
                    "subject": subject,
                    "category": category,
                    "result": result,
                })),
            )
                .into_response())
        }
        Err(e) => {
            log_line!("evident serve: cannot store a pushed report: {e}");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the evidence store is unavailable; push again later",
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Documentation and metrics.

/// `GET /api/openapi.json`
pub async fn openapi() -> Response {
    text_response("application/json", OPENAPI)
}

/// `GET /metrics`
pub async fn metrics(State(state): State<AppState>) -> Response {
    let inner = &state.inner;
    let appended = inner.writer.appended();
    // The log's size and its gate decisions, read from the store (other writers append too);
    // a store that cannot be read leaves them out rather than failing the scrape.
    let (log_size, gate_decisions) = read(&state, |store, reader| {
        let size = log_size(store)?;
        let mut cache = reader
            .gates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let counts = cache.catch_up(
            store,
            size,
            Some(EvidenceKind::GateDecision),
            |counts, row| {
                let (_, entry) = store.entry(row.seq, size).map_err(|e| store_error(&e))?;
                let label = |name: &str| {
                    entry
                        .record
                        .labels
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| "unknown".to_owned())
                };
                *counts
                    .entry((label("environment"), label("decision")))
                    .or_insert(0) += 1;
                Ok(())
            },
        )?;
        Ok((size, counts.clone()))
    })
    .await
    .unwrap_or_else(|_| (inner.start_size + appended, BTreeMap::new()));
    let text = inner.metrics.render(&Gauges {
        queue_depth: inner.writer.queue_depth(),
        appended,
        log_size,
        writer_up: inner.writer.is_alive(),
        gate_decisions,
    });
    text_response(crate::metrics::CONTENT_TYPE, text)
}

/// The deployments, their trail and the separation-of-duties findings, derived from every
/// event the store holds (see [`crate::trail`] and [`crate::sod`]).
fn trail(
    store: &Store,
    policy: &crate::sod::Policy,
) -> Result<(Vec<crate::trail::Deployment>, Vec<Finding>), ApiError> {
    let loaded = crate::trail::load_events(store).map_err(|e| store_error(&e))?;
    let evidence = crate::trail::store_evidence(store).map_err(|e| store_error(&e))?;
    let mut deployments = crate::trail::build(&loaded.events, &evidence);
    let findings = crate::sod::findings(&loaded.events, &deployments, policy);
    crate::sod::attach(&mut deployments, &findings);
    Ok((deployments, findings))
}

/// `GET /api/v1/deployments`
pub async fn deployments(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<Value>, ApiError> {
    authorize(&state, &headers, Permission::Read).await?;
    let p = params(
        query.as_deref(),
        &["environment", "repository", "commit"],
        &[],
    )?;
    let one = |k: &str| p.get(k).and_then(|v| v.first()).cloned();
    let (environment, repository, commit) = (one("environment"), one("repository"), one("commit"));
    let policy = state.inner.sod_policy.clone();
    read(&state, move |store, _| {
        let (deployments, _) = trail(store, &policy)?;
        let items: Vec<Value> = deployments
            .iter()
            .filter(|d| environment.as_ref().is_none_or(|e| &d.environment == e))
            .filter(|d| {
                repository
                    .as_ref()
                    .is_none_or(|r| d.repository.as_ref() == Some(r))
            })
            .filter(|d| {
                commit.as_ref().is_none_or(|c| {
                    d.commit
                        .as_ref()
                        .is_some_and(|dc| dc.starts_with(c.as_str()))
                })
            })
            .map(crate::trail::Deployment::to_json)
            .collect();
        Ok(json!({ "deployments": items }))
    })
    .await
    .map(axum::Json)
}

/// `GET /api/v1/findings`
pub async fn findings(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<axum::Json<Value>, ApiError> {
    authorize(&state, &headers, Permission::Read).await?;
    let p = params(query.as_deref(), &["check"], &[])?;
    let check = p.get("check").and_then(|v| v.first()).cloned();
    let policy = state.inner.sod_policy.clone();
    read(&state, move |store, _| {
        let (_, findings) = trail(store, &policy)?;
        let items: Vec<&Finding> = findings
            .iter()
            .filter(|f| check.as_ref().is_none_or(|c| &f.check == c))
            .collect();
        Ok(json!({ "findings": items }))
    })
    .await
    .map(axum::Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_log_paths_are_resources() {
        assert_eq!(log_resource("checkpoint"), Some(LogResource::Checkpoint));
        assert_eq!(
            log_resource("tile/0/000"),
            Some(LogResource::Tile {
                level: Some(0),
                n: 0,
                width: 256
            })
        );
        assert_eq!(
            log_resource("tile/entries/x001/x234/067.p/5"),
            Some(LogResource::Tile {
                level: None,
                n: 1_234_067,
                width: 5
            })
        );
        for bad in [
            "",
            "vkey",
            "../keys/signing.key",
            "tile/../../keys/signing.key",
            "/etc/passwd",
            "tile/0/0",
            "tile/0/000/../001",
            "tile/0/x000/001",
            "tile/entries/000.p/0",
            "tile/entries/000.p/256",
            "tile/00/000",
            "tile/0/.000.tmp",
            "checkpoint/",
            "tile\\0\\000",
        ] {
            assert_eq!(log_resource(bad), None, "{bad}");
        }
    }

    #[test]
    fn query_parameters_are_decoded_and_checked() {
        let p = params(
            Some("subject=git%3Aab&control=soc2%3ACC8.1&control=x"),
            &["subject", "control"],
            &["control"],
        )
        .unwrap();
        assert_eq!(single(&p, "subject"), Some("git:ab"));
        assert_eq!(p["control"].len(), 2);
        assert!(params(Some("nope=1"), &["subject"], &[]).is_err());
        assert!(params(Some("subject=a&subject=b"), &["subject"], &[]).is_err());
        assert!(params(Some("subject=%zz"), &["subject"], &[]).is_err());
        assert_eq!(parse_control("CC8.1").unwrap(), "soc2:CC8.1");
        assert!(parse_control("soc2:nope").is_err());
        assert!(parse_subject("git:abc").is_err());
        assert_eq!(
            parse_subject(&"A".repeat(40)).unwrap(),
            format!("git:{}", "a".repeat(40))
        );
        assert_eq!(
            parse_time("to", "2026-03-01", true).unwrap(),
            parse_time("from", "2026-03-02T00:00:00Z", false).unwrap()
        );
        assert!(parse_time("from", "yesterday", false).is_err());
    }

    #[test]
    fn export_parameters_read_as_the_cli_options() {
        assert_eq!(
            export_bound("to", Some("2026-03"), true).unwrap(),
            Some(parse_time("from", "2026-04-01", false).unwrap())
        );
        assert_eq!(export_bound("from", None, false).unwrap(), None);
        let e = export_bound("from", Some("last week"), false).unwrap_err();
        assert!(
            format!("{e:?}").contains("`from` `last week` is not a time"),
            "{e:?}"
        );
        assert_eq!(file_name_safe("soc2:CC8.1"), "soc2-CC8.1");
        assert_eq!(file_name_safe("nist:AC-2(1) x"), "nist-AC-2-1--x");
    }

    /// While an export holds its handle (building a package), a read on the other handle runs
    /// and completes; and the other way round. No timing: the lock is held by the test itself.
    #[test]
    fn an_export_in_progress_does_not_hold_up_the_other_reads() {
        let dir = tempfile::tempdir().unwrap();
        let reader = Arc::new(Reader::new(
            Store::open(dir.path()).unwrap(),
            Store::open(dir.path()).unwrap(),
        ));
        for (held, other) in [
            (Handle::Export, Handle::Reads),
            (Handle::Reads, Handle::Export),
        ] {
            let guard = reader.handle(held).lock().unwrap();
            // On another thread, as the server runs reads; a wait on the held lock would show
            // as no answer (bounded, so that a regression fails instead of hanging).
            let (tx, rx) = std::sync::mpsc::channel();
            let r = Arc::clone(&reader);
            let read = std::thread::spawn(move || {
                let size = r.with(other, |store, r| {
                    // The held handle is still held: this read did not wait for it.
                    assert!(r.handle(held).try_lock().is_err());
                    log_size(store)
                });
                let _ = tx.send(size.map_err(|e| format!("{e:?}")));
            });
            let size = rx
                .recv_timeout(std::time::Duration::from_mins(1))
                .unwrap_or_else(|e| panic!("a read on {other:?} with {held:?} held: {e}"));
            assert_eq!(size, Ok(0));
            drop(guard);
            read.join().unwrap();
        }
        // A handle taken by a stop: its reads are refused (not run on nothing), the other's go on.
        let mut reader = Arc::into_inner(reader).unwrap();
        drop(reader.exports.get_mut().unwrap().take());
        let e = reader.with(Handle::Export, |_, _| Ok(())).unwrap_err();
        assert!(format!("{e:?}").contains("stopping"), "{e:?}");
        assert!(
            reader
                .with(Handle::Reads, |store, _| log_size(store))
                .is_ok()
        );
    }

    #[test]
    fn the_openapi_document_is_json_3_1() {
        let doc: Value = serde_json::from_str(OPENAPI).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    }
}
