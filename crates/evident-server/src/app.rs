//! The HTTP routes: health, readiness and the webhook endpoints.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, HttpBody as _};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use evident_core::Clock;
use evident_ledger::record::EvidenceKind;
use evident_store::timefmt;
use serde_json::{Map, Value, json};

use crate::auth::{self, AuthFailure, Secrets};
use crate::evidence::{Draft, predicate_type_for};
use crate::platform::{self, Meta, Platform};
use crate::writer::{Appended, WriterHandle, dedup_key};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    writer: WriterHandle,
    secrets: Secrets,
    clock: Arc<dyn Clock>,
    retain_years: i16,
    max_body: usize,
}

impl AppState {
    /// The state of the routes.
    pub fn new(
        writer: WriterHandle,
        secrets: Secrets,
        clock: Arc<dyn Clock>,
        retain_years: i16,
        max_body: usize,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                writer,
                secrets,
                clock,
                retain_years,
                max_body,
            }),
        }
    }
}

/// An error answer: a status and a short message, never internals or secrets.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: &'static str,
}

impl ApiError {
    const fn new(status: StatusCode, message: &'static str) -> Self {
        Self { status, message }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({ "error": self.message }))).into_response()
    }
}

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/webhooks/github", post(github))
        .route("/webhooks/gitlab", post(gitlab))
        .route("/webhooks/argocd", post(argocd))
        .route("/webhooks/falco", post(falco))
        .fallback(not_found)
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    response
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not found")
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

/// Reads at most `limit` bytes of the body; a larger body is read on (and dropped) up to a
/// bound, so that the client sees the 413 rather than a reset connection.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
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
        let frame = frame
            .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the body could not be read"))?;
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

/// The JSON document of a delivery: the body itself, or GitHub's form-encoded `payload=`.
fn payload(platform: Platform, headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let bad_json = || ApiError::new(StatusCode::BAD_REQUEST, "the body is not valid JSON");
    match media_type.as_str() {
        "application/json" => serde_json::from_slice(body).map_err(|_| bad_json()),
        "application/x-www-form-urlencoded" if platform == Platform::GitHub => {
            let text = form_field(body, "payload").ok_or_else(|| {
                ApiError::new(StatusCode::BAD_REQUEST, "the form has no `payload` field")
            })?;
            serde_json::from_slice(&text).map_err(|_| bad_json())
        }
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json",
        )),
    }
}

/// The decoded value of `name` in an `application/x-www-form-urlencoded` body.
fn form_field(body: &[u8], name: &str) -> Option<Vec<u8>> {
    body.split(|&b| b == b'&').find_map(|pair| {
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        (percent_decode(k)? == name.as_bytes()).then(|| percent_decode(v))?
    })
}

fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
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
    match ingest_inner(state, platform, remote, headers, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
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
            eprintln!("evident serve: cannot build the evidence of a {platform:?} delivery: {e}");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        })?;
    let key = dedup_key(platform.as_str(), &meta.delivery);
    match inner.writer.append(evidence, Some(key)).await {
        Ok(Appended::Stored(entry)) => {
            eprintln!(
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
            eprintln!(
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
        Ok(Appended::Stored(entry) | Appended::Duplicate(entry)) => eprintln!(
            "evident serve: rejected a delivery to {endpoint} from {} ({}); recorded as entry {entry}",
            remote.ip(),
            failure.as_str()
        ),
        Err(e) => eprintln!(
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
    fn form_payload_is_decoded() {
        let body = b"payload=%7B%22a%22%3A+1%7D&x=y";
        assert_eq!(form_field(body, "payload").unwrap(), br#"{"a": 1}"#);
        assert_eq!(form_field(body, "nope"), None);
        assert_eq!(form_field(b"payload=%zz", "payload"), None);
    }
}
