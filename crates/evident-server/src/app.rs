//! The HTTP routes: health, readiness, the webhook endpoints, the REST API ([`crate::api`]),
//! its OpenAPI document and `/metrics`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use evident_core::Clock;
use evident_ledger::note::Verifier;
use evident_ledger::record::EvidenceKind;
use evident_store::timefmt;
use serde_json::{Map, json};

use crate::api::{self, Reader, TokenCache};
use crate::auth::{self, AuthFailure, Secrets};
use crate::evidence::{Draft, predicate_type_for};
use crate::metrics::{Metrics, Outcome, Source};
use crate::picked::Picked;
use crate::platform::{self, Meta, Platform};
use crate::writer::{Appended, WriterHandle, dedup_key};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) writer: WriterHandle,
    pub(crate) secrets: Secrets,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) retain_years: i16,
    pub(crate) max_body: usize,
    /// The read-only store handle of the API.
    pub(crate) reader: Arc<Reader>,
    /// The log's verifier key (proofs are checked before they are served).
    pub(crate) verifier: Verifier,
    pub(crate) tokens: TokenCache,
    pub(crate) metrics: Metrics,
    /// Entries in the log when the writer started.
    pub(crate) start_size: u64,
    /// The separation-of-duties policy of the findings.
    pub(crate) sod_policy: crate::sod::Policy,
}

/// What the routes need.
pub struct StateConfig {
    pub writer: WriterHandle,
    pub secrets: Secrets,
    pub clock: Arc<dyn Clock>,
    pub retain_years: i16,
    pub max_body: usize,
    /// A read-only handle on the store (not the writer's).
    pub reader: Reader,
    pub verifier: Verifier,
    /// The store directory (where `tokens.json` is).
    pub store: std::path::PathBuf,
    pub start_size: u64,
    pub sod_policy: crate::sod::Policy,
}

impl AppState {
    /// The state of the routes.
    pub fn new(config: StateConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                writer: config.writer,
                secrets: config.secrets,
                clock: config.clock,
                retain_years: config.retain_years,
                max_body: config.max_body,
                reader: Arc::new(config.reader),
                verifier: config.verifier,
                tokens: TokenCache::new(config.store),
                metrics: Metrics::default(),
                start_size: config.start_size,
                sod_policy: config.sod_policy,
            }),
        }
    }
}

/// An error answer: a status and a short message, never internals or secrets.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: Cow<'static, str>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, axum::Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"evident\""),
            );
        }
        if self.status == StatusCode::REQUEST_TIMEOUT {
            // The rest of the body may still come: the connection cannot carry another request.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// The webhook platform, with its secret.
    Webhook,
    /// A token whose role allows reading.
    Read,
    /// A token whose role allows appending.
    Append,
    /// A token whose role allows exporting auditor packages.
    Export,
}

/// One route the server serves.
pub struct Route {
    pub method: Method,
    /// The path, in axum's syntax (`{seq}`, `{*path}`).
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

impl Route {
    /// `GET path`, served by `handler`.
    fn get<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        Self {
            method: Method::GET,
            path,
            access,
            handler: get(handler),
        }
    }

    /// `POST path`, served by `handler`.
    fn post<H: Handler<T, AppState>, T: 'static>(
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self {
        Self {
            method: Method::POST,
            path,
            access,
            handler: post(handler),
        }
    }
}

/// Every route, in one table: the router is built from it, and the tests hold the OpenAPI
/// document to it.
pub fn routes() -> Vec<Route> {
    use Access::{Append, Export, Public, Read, Webhook};
    vec![
        Route::get("/healthz", Public, healthz),
        Route::get("/readyz", Public, readyz),
        Route::get("/metrics", Public, api::metrics),
        Route::get("/api/openapi.json", Public, api::openapi),
        Route::post("/webhooks/github", Webhook, github),
        Route::post("/webhooks/gitlab", Webhook, gitlab),
        Route::post("/webhooks/argocd", Webhook, argocd),
        Route::post("/webhooks/falco", Webhook, falco),
        Route::get("/api/v1/evidence", Read, api::list_evidence),
        Route::post("/api/v1/evidence", Append, api::push_evidence),
        Route::get("/api/v1/evidence/{seq}", Read, api::show_evidence),
        Route::get("/api/v1/evidence/{seq}/proof", Read, api::proof),
        Route::get("/api/v1/checkpoint", Read, api::checkpoint),
        Route::get("/api/v1/log/{*path}", Read, api::log_file),
        Route::get("/api/v1/exceptions", Read, api::exceptions),
        Route::get("/api/v1/controls", Read, api::controls),
        Route::get("/api/v1/deployments", Read, api::deployments),
        Route::get("/api/v1/findings", Read, api::findings),
        Route::get("/api/v1/export", Export, api::export),
    ]
}

/// The routes.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for r in routes() {
        router = router.route(r.path, r.handler);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_request,
        ))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Counts every answered request by its route (not its concrete path: bounded labels).
async fn count_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let response = next.run(request).await;
    state
        .inner
        .metrics
        .request(&route, method, response.status().as_u16());
    response
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Handlers that serve cacheable resources (immutable tiles) say so; nothing else is kept.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    response
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not found")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    if state.inner.writer.is_alive() {
        axum::Json(json!({ "status": "ready" })).into_response()
    } else {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the store is not writable").into_response()
    }
}

async fn github(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    ingest(&state, Platform::GitHub, remote, &headers, body).await
}

async fn gitlab(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    ingest(&state, Platform::GitLab, remote, &headers, body).await
}

async fn argocd(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    ingest(&state, Platform::ArgoCd, remote, &headers, body).await
}

async fn falco(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    ingest(&state, Platform::Falco, remote, &headers, body).await
}

/// Gives every request's body `timeout`, from the moment its head arrived, to arrive whole:
/// reading it after that fails with [`BodyTimedOut`] (and [`read_body`] answers `408`).
pub async fn body_deadline(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let deadline = tokio::time::Instant::now() + timeout;
    next.run(request.map(|body| {
        Body::new(DeadlineBody {
            inner: body,
            deadline,
            sleep: None,
        })
    }))
    .await
}

/// The body did not arrive within the body timeout.
#[derive(Debug, thiserror::Error)]
#[error("the body did not arrive in time")]
pub struct BodyTimedOut;

/// A body that fails once its deadline has passed without its next frame.
struct DeadlineBody {
    inner: Body,
    deadline: tokio::time::Instant,
    /// Set up only when the body is not all there (most bodies arrive with their head).
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `error` (or what caused it) is a [`BodyTimedOut`].
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<BodyTimedOut>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Reads at most `limit` bytes of the body; a larger body is read on (and dropped) up to a
/// bound, so that the client sees the 413 rather than a reset connection.
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let too_large = ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the body is too large");
    let drain_bound = limit.saturating_mul(4);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > drain_bound) {
        return Err(too_large);
    }
    let mut body = body;
    let mut out = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    let mut seen = 0usize;
    loop {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| {
            if timed_out(&e) {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "the body did not arrive in time",
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "the body could not be read")
            }
        })?;
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen > drain_bound {
                return Err(too_large);
            }
            if seen <= limit {
                out.extend_from_slice(&data);
            }
        }
    }
    if seen > limit {
        return Err(too_large);
    }
    Ok(out)
}

fn header_bytes<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    headers.get(name).map(HeaderValue::as_bytes)
}

/// The request's media type: `Content-Type` without parameters, lowercase (empty when absent).
pub(crate) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// The JSON document of a delivery (the body itself, or GitHub's form-encoded `payload=`),
/// checked whole and read for the facts [`platform::describe`] needs.
fn payload(
    platform: Platform,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Picked<'static>, ApiError> {
    let media_type = media_type(headers);
    let bad_json = |_| ApiError::new(StatusCode::BAD_REQUEST, "the body is not valid JSON");
    match media_type.as_str() {
        "application/json" => Picked::parse(body, platform.paths()).map_err(bad_json),
        "application/x-www-form-urlencoded" if platform == Platform::GitHub => {
            let text = form_field(body, "payload").ok_or_else(|| {
                ApiError::new(StatusCode::BAD_REQUEST, "the form has no `payload` field")
            })?;
            Picked::parse(&text, platform.paths()).map_err(bad_json)
        }
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json",
        )),
    }
}

/// The decoded value of `name` in an `application/x-www-form-urlencoded` body.
pub(crate) fn form_field(body: &[u8], name: &str) -> Option<Vec<u8>> {
    body.split(|&b| b == b'&').find_map(|pair| {
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        (percent_decode(k)? == name.as_bytes()).then(|| percent_decode(v))?
    })
}

pub(crate) fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

async fn ingest(
    state: &AppState,
    platform: Platform,
    remote: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let metrics = &state.inner.metrics;
    let response = match ingest_inner(state, platform, remote, headers, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    };
    let status = response.status();
    if status != StatusCode::NOT_FOUND {
        // 404: the endpoint is not configured; nothing was received.
        metrics.delivery(platform, Outcome::Received);
        let outcome = match status {
            StatusCode::ACCEPTED => Outcome::Accepted,
            StatusCode::OK => Outcome::Duplicate,
            s if s.is_server_error() => Outcome::Failed,
            _ => Outcome::Rejected,
        };
        metrics.delivery(platform, outcome);
        if status.is_success() {
            metrics.ingest(Source::Webhook(platform), started.elapsed());
        }
    }
    response
}

async fn ingest_inner(
    state: &AppState,
    platform: Platform,
    remote: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let inner = &state.inner;
    let secrets = &inner.secrets;
    let secret = match platform {
        Platform::GitHub => secrets.github.as_deref(),
        Platform::GitLab => secrets.gitlab.as_deref(),
        Platform::ArgoCd => secrets.argocd.as_deref(),
        Platform::Falco => secrets.falco.as_deref(),
    }
    .ok_or(ApiError::new(StatusCode::NOT_FOUND, "not configured"))?;
    let body = read_body(headers, body, inner.max_body).await?;
    // Authenticity first, over the exact bytes received.
    let checked = match platform {
        Platform::GitHub => {
            auth::github_signature(secret, header_bytes(headers, "x-hub-signature-256"), &body)
        }
        Platform::GitLab => auth::token(secret, header_bytes(headers, "x-gitlab-token")),
        Platform::ArgoCd | Platform::Falco => {
            auth::bearer(secret, header_bytes(headers, "authorization"))
        }
    };
    if let Err(failure) = checked {
        record_rejection(state, platform, remote, failure).await;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            match failure {
                AuthFailure::Missing => "missing credential",
                AuthFailure::Malformed => "malformed credential",
                AuthFailure::Mismatch => "invalid credential",
            },
        ));
    }
    let json = payload(platform, headers, &body)?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let meta = platform::describe(platform, &header, &body, &json);
    let media_type = if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
    {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    let evidence = event_draft(state, platform, &meta, media_type, body)
        .build()
        .map_err(|e| {
            log_line!("evident serve: cannot build the evidence of a {platform:?} delivery: {e}");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        })?;
    let key = dedup_key(platform.as_str(), &meta.delivery);
    match inner.writer.append(evidence, Some(key)).await {
        Ok(Appended::Stored(entry)) => {
            log_line!(
                "evident serve: {} {} delivery {} stored as entry {entry}",
                platform.as_str(),
                meta.event,
                meta.delivery
            );
            Ok((
                StatusCode::ACCEPTED,
                axum::Json(json!({ "entry": entry, "subject": meta.subject(platform) })),
            )
                .into_response())
        }
        Ok(Appended::Duplicate(entry)) => Ok((
            StatusCode::OK,
            axum::Json(json!({ "duplicate": true, "entry": entry })),
        )
            .into_response()),
        Err(e) => {
            log_line!(
                "evident serve: cannot store a {} delivery: {e}",
                platform.as_str()
            );
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the evidence store is unavailable; deliver again later",
            ))
        }
    }
}

fn retain_until(state: &AppState, now: jiff::Timestamp) -> jiff::Timestamp {
    timefmt::add_years(now, state.inner.retain_years).unwrap_or(now)
}

fn event_draft(
    state: &AppState,
    platform: Platform,
    meta: &Meta,
    media_type: &str,
    body: Vec<u8>,
) -> Draft {
    let now = state.inner.clock.now();
    let mut labels = BTreeMap::new();
    let mut predicate = Map::new();
    labels.insert("platform".to_owned(), platform.as_str().to_owned());
    labels.insert("event".to_owned(), meta.event.clone());
    labels.insert("delivery".to_owned(), meta.delivery.clone());
    predicate.insert("source".into(), json!(platform.as_str()));
    predicate.insert("type".into(), json!(meta.event));
    predicate.insert("id".into(), json!(meta.delivery));
    for (name, value) in [
        ("action", &meta.action),
        ("repository", &meta.repository),
        ("commit", &meta.commit),
        ("sender", &meta.sender),
    ] {
        if let Some(v) = value {
            labels.insert(name.to_owned(), v.clone());
            predicate.insert(name.into(), json!(v));
        }
    }
    Draft {
        kind: EvidenceKind::Event,
        subject: meta.subject(platform),
        controls: Vec::new(),
        predicate_type: predicate_type_for(EvidenceKind::Event),
        actor: format!("webhook:{}", platform.as_str()),
        now,
        retain_until: retain_until(state, now),
        labels,
        predicate,
        content: vec![(evident_store::draft::blob(media_type, None), body)],
    }
}

/// Records a rejected delivery: where, why and from whom; never its body or the secret.
async fn record_rejection(
    state: &AppState,
    platform: Platform,
    remote: SocketAddr,
    failure: AuthFailure,
) {
    let now = state.inner.clock.now();
    let endpoint = format!("/webhooks/{}", platform.as_str());
    let labels = BTreeMap::from([
        ("endpoint".to_owned(), endpoint.clone()),
        ("reason".to_owned(), failure.as_str().to_owned()),
        ("remote".to_owned(), remote.ip().to_string()),
    ]);
    let predicate = Map::from_iter([
        ("event".to_owned(), json!("webhook-rejected")),
        ("endpoint".to_owned(), json!(endpoint)),
        ("reason".to_owned(), json!(failure.as_str())),
        ("remote".to_owned(), json!(remote.ip().to_string())),
    ]);
    let draft = Draft {
        kind: EvidenceKind::Security,
        subject: format!("env:webhook-{}", platform.as_str()),
        controls: Vec::new(),
        predicate_type: predicate_type_for(EvidenceKind::Security),
        actor: "evident-server".to_owned(),
        now,
        retain_until: retain_until(state, now),
        labels,
        predicate,
        content: Vec::new(),
    };
    let result = match draft.build() {
        Ok(evidence) => state.inner.writer.append(evidence, None).await,
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(Appended::Stored(entry) | Appended::Duplicate(entry)) => log_line!(
            "evident serve: rejected a delivery to {endpoint} from {} ({}); recorded as entry {entry}",
            remote.ip(),
            failure.as_str()
        ),
        Err(e) => log_line!(
            "evident serve: rejected a delivery to {endpoint} from {} ({}); cannot record it: {e}",
            remote.ip(),
            failure.as_str()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_describes_every_route_and_nothing_else() {
        let doc: serde_json::Value = serde_json::from_str(api::OPENAPI).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
        let paths = doc["paths"].as_object().unwrap();
        let mut served = std::collections::BTreeSet::new();
        for r in routes() {
            // OpenAPI has no catch-all: `{*path}` is documented as `{path}`.
            let path = r.path.replace("{*", "{");
            let method = r.method.as_str().to_ascii_lowercase();
            let op = &paths
                .get(&path)
                .unwrap_or_else(|| panic!("{path} is not in the OpenAPI document"))[&method];
            assert!(
                op.is_object(),
                "{method} {path} is not in the OpenAPI document"
            );
            assert!(op["responses"].is_object(), "{method} {path}: no responses");
            let open = op["security"] == json!([]);
            assert_eq!(
                open,
                matches!(r.access, Access::Public | Access::Webhook),
                "{method} {path}: the security of the document and the route differ"
            );
            if matches!(r.access, Access::Read | Access::Append | Access::Export) {
                assert!(
                    op["responses"]["401"].is_object(),
                    "{method} {path}: no 401"
                );
                assert!(
                    op["responses"]["403"].is_object(),
                    "{method} {path}: no 403"
                );
            }
            served.insert((path, method));
        }
        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                assert!(
                    served.contains(&(path.clone(), method.clone())),
                    "{method} {path} is documented but not served"
                );
            }
        }
        let kinds: Vec<&str> = doc["components"]["schemas"]["Kind"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        let mut expected: Vec<&str> = EvidenceKind::ALL.iter().map(|k| k.as_str()).collect();
        let mut got = kinds.clone();
        expected.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, expected);
        assert_eq!(
            doc["components"]["securitySchemes"]["bearerToken"]["scheme"],
            "bearer"
        );
    }

    #[test]
    fn form_payload_is_decoded() {
        let body = b"payload=%7B%22a%22%3A+1%7D&x=y";
        assert_eq!(form_field(body, "payload").unwrap(), br#"{"a": 1}"#);
        assert_eq!(form_field(body, "nope"), None);
        assert_eq!(form_field(b"payload=%zz", "payload"), None);
    }
}
