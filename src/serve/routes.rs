//! The routes: thin handlers over the library, the page's files, security headers and the
//! API-key guard, and `app(state) -> Router` that puts them together.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::index::show::OccupationView;
use crate::index::stats::Stats;
use crate::map::batch::BatchOutput;
use crate::map::{MapRequest, MapResult};
use crate::search::{OccupationHit, SearchHit};

use super::docs::{CommonErrors, SearchAnswer, SearchQueryDoc, openapi};
use super::error::{ApiError, AppBytes, AppJson, ErrorBody};
use super::ops::{log_request, metrics_handler};
use super::params::parse_search_params;
use super::state::AppState;

/// `GET /api/search` answer for statements.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SearchResponse {
    pub hits: Vec<SearchHit>,
    pub total: usize,
    pub total_all_terms: usize,
    pub took_ms: f64,
}

/// `GET /api/search?by=occupation` answer.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OccupationResponse {
    pub occupations: Vec<OccupationHit>,
    pub total: usize,
    pub took_ms: f64,
}

/// Search statements, or rank occupations by their evidence with `by=occupation`.
#[utoipa::path(
    get,
    path = "/api/search",
    tag = "search",
    params(SearchQueryDoc),
    responses(
        (status = 200, description = "Statement hits, or occupations with `by=occupation`", body = SearchAnswer),
        CommonErrors,
    ),
    security((), ("bearer" = []))
)]
pub(super) async fn search_handler(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (req, by_occupation) = parse_search_params(raw.as_deref(), &state.0.config)?;
    state
        .blocking(move |s, _| {
            let started = Instant::now();
            let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
            if by_occupation {
                let r = crate::search::search_occupations(&s.0.engine, &req)?;
                Ok(Json(OccupationResponse {
                    occupations: r.occupations,
                    total: r.total,
                    took_ms: ms(started),
                })
                .into_response())
            } else {
                let r = crate::search::search(&s.0.engine, &req)?;
                Ok(Json(SearchResponse {
                    hits: r.hits,
                    total: r.total.unwrap_or(0),
                    total_all_terms: r.total_all_terms.unwrap_or(0),
                    took_ms: ms(started),
                })
                .into_response())
            }
        })
        .await
}

/// Map one posting (or a job title) to occupations and framework levels.
#[utoipa::path(
    post,
    path = "/api/map",
    tag = "map",
    request_body(content = MapRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The best occupations with a level, a confidence and evidence", body = MapResult),
        (status = 413, description = "Body over the size limit", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        CommonErrors,
    ),
    security((), ("bearer" = []))
)]
pub(super) async fn map_handler(
    State(state): State<AppState>,
    AppJson(req): AppJson<MapRequest>,
) -> Result<Response, ApiError> {
    state
        .blocking(move |s, _| {
            let mapper = s.mapper()?;
            Ok(Json(mapper.map(&req)?).into_response())
        })
        .await
}

/// Content types accepted for JSON Lines bodies.
pub(super) const JSON_LINES_TYPES: [&str; 4] = [
    "application/x-ndjson",
    "application/jsonl",
    "application/json-lines",
    "text/plain",
];

/// Map many postings: JSON Lines of `{"id", "text", "title"?}` in, one line out per input line
/// (a result, or that line's error), in input order.
#[utoipa::path(
    post,
    path = "/api/map/batch",
    tag = "map",
    request_body(content = String, content_type = "application/x-ndjson",
        description = "One JSON object per line: id (any JSON), text, title (optional)"),
    responses(
        (status = 200, description = "One JSON object per non-blank input line", body = BatchOutput, content_type = "application/x-ndjson"),
        (status = 413, description = "Body over the size limit, or more lines than the batch limit", body = ErrorBody),
        (status = 415, description = "Not a JSON Lines content type", body = ErrorBody),
        CommonErrors,
    ),
    security((), ("bearer" = []))
)]
pub(super) async fn map_batch_handler(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    AppBytes(body): AppBytes,
) -> Result<Response, ApiError> {
    let content_type = headers
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
    if !JSON_LINES_TYPES.contains(&content_type.as_str()) {
        return Err(ApiError::UnsupportedMediaType(
            "expected Content-Type: application/x-ndjson (JSON Lines)".into(),
        ));
    }
    let lines = crate::map::batch::count_lines(&body);
    let max_lines = state.0.config.max_batch_lines;
    if lines > max_lines {
        return Err(ApiError::TooLarge(format!(
            "{lines} lines; a batch takes at most {max_lines} (split it into several requests)"
        )));
    }
    state
        .blocking(move |s, cancel| {
            let mapper = s.mapper()?;
            let mut out = Vec::new();
            crate::map::batch::run(
                &mapper,
                &body[..],
                &mut out,
                crate::map::MapRequest::default_top(),
                &s.0.pool,
                &indicatif::ProgressBar::hidden(),
                &cancel,
            )?;
            Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], out).into_response())
        })
        .await
}

/// One occupation's framework as indexed, with its titles and tools.
#[utoipa::path(
    get,
    path = "/api/occupations/{soc}",
    tag = "occupations",
    params(("soc" = String, Path, description = "O*NET-SOC code, e.g. 33-3051.04")),
    responses(
        (status = 200, description = "The framework", body = OccupationView),
        (status = 404, description = "No such occupation; the message names the closest codes", body = ErrorBody),
        CommonErrors,
    ),
    security((), ("bearer" = []))
)]
pub(super) async fn occupation_handler(
    State(state): State<AppState>,
    Path(soc): Path<String>,
) -> Result<Response, ApiError> {
    state
        .blocking(move |s, _| {
            Ok(Json(crate::index::show::show(&s.0.engine, &soc, &[])?).into_response())
        })
        .await
}

/// Counts of the index.
#[utoipa::path(
    get,
    path = "/api/stats",
    tag = "index",
    responses(
        (status = 200, description = "Occupations, statements, levels, groups, size", body = Stats),
        CommonErrors,
    ),
    security((), ("bearer" = []))
)]
pub(super) async fn stats_handler(State(state): State<AppState>) -> Result<Response, ApiError> {
    state
        .blocking(move |s, _| Ok(Json(crate::index::stats::stats(&s.0.engine)?).into_response()))
        .await
}

/// `GET /healthz` answer.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
}

/// Liveness: answers without touching the index; never needs a key.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "The server is up", body = Health)))]
pub(super) async fn health() -> impl IntoResponse {
    Json(Health {
        status: "ok".into(),
    })
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "service",
    responses((status = 200, description = "The OpenAPI 3.1 description of this API", content_type = "application/json")),
    security((), ("bearer" = [])))]
pub(super) async fn openapi_handler() -> impl IntoResponse {
    Json(openapi())
}

pub(super) async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

pub(super) const INDEX_HTML: &str = include_str!("web/index.html");
pub(super) const APP_JS: &str = include_str!("web/app.js");
pub(super) const APP_CSS: &str = include_str!("web/app.css");

pub(super) fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Security headers on every response. The page loads its script and style from files, so the
/// policy can forbid inline script and any other origin.
pub(super) async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// Is this request allowed by the API keys? Only `/api/*` and `/metrics` are guarded: the page, its files and
/// `/healthz` stay open, so a browser can load the page and ask for a key, and a load balancer
/// can probe. Every key is compared, each in constant time, so the timing tells nothing about
/// which bytes of a guess were right (only, as with any comparison, whether its length fits).
pub(super) fn authorized(keys: &[Vec<u8>], path: &str, headers: &axum::http::HeaderMap) -> bool {
    use subtle::ConstantTimeEq;
    if keys.is_empty() || !(path.starts_with("/api/") || path == "/metrics") {
        return true;
    }
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let given = given.trim().as_bytes();
    keys.iter()
        .fold(subtle::Choice::from(0), |ok, k| {
            ok | k.as_slice().ct_eq(given)
        })
        .into()
}

/// The service's routes over a state.
pub fn app(state: AppState) -> Router {
    let max_body = state.0.config.max_body;
    let timeout = state.0.config.timeout;
    let keys: Arc<Vec<Vec<u8>>> = Arc::new(
        state
            .0
            .config
            .api_keys
            .iter()
            .map(|k| k.as_bytes().to_vec())
            .collect(),
    );
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route("/healthz", get(health))
        .route("/api/search", get(search_handler))
        .route("/api/map", post(map_handler))
        .route("/api/map/batch", post(map_batch_handler))
        .route("/api/occupations/{soc}", get(occupation_handler))
        .route("/api/stats", get(stats_handler))
        .route("/metrics", get(metrics_handler))
        .route("/api/openapi.json", get(openapi_handler))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(max_body))
        // The deadline is inside the security headers, so a 408 carries them too.
        .layer(axum::middleware::from_fn(
            move |req: Request, next: axum::middleware::Next| async move {
                match tokio::time::timeout(timeout, next.run(req)).await {
                    Ok(resp) => resp,
                    Err(_) => ApiError::Timeout.into_response(),
                }
            },
        ))
        // Keys are checked before any work, inside the security headers so a 401 carries them.
        .layer(axum::middleware::from_fn(
            move |req: Request, next: axum::middleware::Next| {
                let keys = keys.clone();
                async move {
                    if authorized(&keys, req.uri().path(), req.headers()) {
                        next.run(req).await
                    } else {
                        ApiError::Unauthorized.into_response()
                    }
                }
            },
        ))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}
