//! The HTTP service: `app(state) → Router`, thin handlers, one JSON error type, limits.
//!
//! CPU work (search, map) runs on the blocking pool behind a semaphore: when every permit is
//! taken the request is answered 503 at once instead of queueing without bound.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::map::batch::Cancel;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::Error;
use crate::index::engine::Engine;
use crate::index::show::OccupationView;
use crate::index::stats::Stats;
use crate::map::batch::BatchOutput;
use crate::map::{MapRequest, MapResult, Mapper};
use crate::search::{OccupationHit, SearchHit, SearchRequest, request};

/// Limits and address of the service.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Longest `q`, in characters.
    pub max_query_chars: usize,
    /// Largest `limit`.
    pub max_limit: usize,
    /// Requests doing CPU work at once; more get 503.
    pub max_inflight: usize,
    /// Time a request may take before it is answered 408.
    pub timeout: Duration,
    /// Time a client has to send a request's headers before it is disconnected; also the time a
    /// connection may stay open with no request in progress (before its first request, between
    /// requests, or after an HTTP/2 preface).
    pub header_timeout: Duration,
    /// Connections open at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Most lines in one `/api/map/batch` body; more are refused with 413 before any work.
    pub max_batch_lines: usize,
    /// Keys that `/api/*` and `/metrics` require as `Authorization: Bearer KEY` (none: open).
    pub api_keys: Vec<String>,
    /// How `serve` writes its logs.
    pub log_format: LogFormat,
}

/// The format of the service's log lines on stderr (filtered by `RUST_LOG`, default `info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, fields at the top level.
    Json,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 7700)),
            max_body: 1 << 20,
            max_query_chars: 1_000,
            max_limit: 100,
            max_inflight: 64,
            timeout: Duration::from_secs(30),
            header_timeout: HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_batch_lines: DEFAULT_MAX_BATCH_LINES,
            api_keys: Vec::new(),
            log_format: LogFormat::Text,
        }
    }
}

struct Inner {
    engine: Arc<Engine>,
    mapper: RwLock<Arc<Mapper>>,
    config: ServeConfig,
    permits: Arc<Semaphore>,
    /// Workers for batch mapping.
    pool: rayon::ThreadPool,
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// State over a shared engine.
    pub fn new(engine: Arc<Engine>, config: ServeConfig) -> crate::Result<AppState> {
        prometheus();
        let mapper = Arc::new(Mapper::new(&engine)?);
        let permits = Arc::new(Semaphore::new(config.max_inflight));
        let pool = crate::workers::pool(None, "batch workers")?;
        Ok(AppState(Arc::new(Inner {
            engine,
            mapper: RwLock::new(mapper),
            config,
            permits,
            pool,
        })))
    }

    /// The mapper of the newest commit (rebuilt when another process has committed since).
    fn mapper(&self) -> crate::Result<Arc<Mapper>> {
        let current = self.0.engine.searcher().generation().generation_id();
        {
            let m = self.0.mapper.read().unwrap_or_else(|p| p.into_inner());
            if m.generation() == current {
                return Ok(m.clone());
            }
        }
        let fresh = Arc::new(Mapper::new(&self.0.engine)?);
        *self.0.mapper.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
        metrics::counter!("skillmap_mapper_rebuilds_total").increment(1);
        tracing::info!(generation = current, "mapper rebuilt for a new commit");
        Ok(fresh)
    }

    /// Runs CPU work on the blocking pool, or refuses with 503 when saturated. The work gets a
    /// [`Cancel`] that is set when the request is dropped (its deadline passed or the client
    /// left), so long work stops between lines instead of running on for nobody. A panic in the
    /// work (a corrupt index can make tantivy panic) is answered 500 and logged.
    async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(AppState, Cancel) -> Result<T, ApiError> + Send + 'static,
    {
        let permit = self.0.permits.clone().try_acquire_owned().map_err(|_| {
            metrics::counter!("skillmap_busy_rejections_total").increment(1);
            ApiError::Busy
        })?;
        let state = self.clone();
        let in_progress = metrics::gauge!("skillmap_work_in_progress");
        in_progress.increment(1.0);
        let _in_progress = GaugeGuard(in_progress);
        let flag = Arc::new(AtomicBool::new(false));
        let _cancel_on_drop = CancelOnDrop(flag.clone());
        let cancel = Cancel::on(flag);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f(state, cancel)
        })
        .await
        .map_err(|e| {
            let cause = match e.try_into_panic() {
                Ok(p) => crate::panics::panic_message(p.as_ref()),
                Err(e) => e.to_string(),
            };
            ApiError::Internal(format!("worker failed: {cause}"))
        })?
    }
}

/// Lowers a gauge by one when dropped.
struct GaugeGuard(metrics::Gauge);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// The process's Prometheus recorder, installed once (every `AppState` of a process reports
/// to it). `None` when another recorder was installed first.
fn prometheus() -> Option<&'static metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("skillmap_http_request_duration_seconds".into()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                        5.0, 10.0, 30.0,
                    ],
                )
                .and_then(|b| b.install_recorder())
                .ok()
        })
        .as_ref()
}

/// Resident memory of this process, in bytes (Linux; 0 elsewhere).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// `GET /metrics`: Prometheus text format. The index and process gauges are read at scrape time.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain"),
        (status = 401, description = "An API key is required and was not given, or is wrong", body = ErrorBody),
    ),
    security((), ("bearer" = [])))]
async fn metrics_handler(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(handle) = prometheus() else {
        return Err(ApiError::Internal(
            "another metrics recorder is installed".into(),
        ));
    };
    state
        .blocking(move |s, _| {
            let searcher = s.0.engine.searcher();
            let statements = crate::index::engine::statement_count(&searcher, &s.0.engine.fields)?;
            let occupations =
                crate::index::stats::alive_term_counts(&searcher, s.0.engine.fields.soc)?.len();
            metrics::gauge!("skillmap_index_generation")
                .set(searcher.generation().generation_id() as f64);
            metrics::gauge!("skillmap_index_statements").set(statements as f64);
            metrics::gauge!("skillmap_index_occupations").set(occupations as f64);
            metrics::gauge!("skillmap_process_resident_memory_bytes").set(resident_bytes() as f64);
            Ok((
                [(
                    header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                handle.render(),
            )
                .into_response())
        })
        .await
}

/// One log line and the request metrics per request: method, route (the pattern, so that codes
/// and queries do not make a metric per value), status, latency and response bytes.
async fn log_request(req: Request, next: axum::middleware::Next) -> Response {
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = Instant::now();
    let in_flight = metrics::gauge!("skillmap_http_requests_in_flight");
    in_flight.increment(1.0);
    let resp = {
        let _in_flight = GaugeGuard(in_flight);
        next.run(req).await
    };
    let seconds = started.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    let bytes = http_body::Body::size_hint(resp.body()).exact().unwrap_or(0);
    tracing::info!(
        target: "skillmap::request",
        method = %method,
        route = %route,
        status,
        latency_ms = (seconds * 1e6).round() / 1e3,
        bytes,
        "request"
    );
    let labels = [
        ("route", route),
        ("method", method),
        ("status", status.to_string()),
    ];
    metrics::counter!("skillmap_http_requests_total", &labels).increment(1);
    metrics::histogram!("skillmap_http_request_duration_seconds", &labels).record(seconds);
    resp
}

/// Sets its flag when dropped: a request's future is dropped when it times out.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The one error shape: `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    NotFound(String),
    TooLarge(String),
    UnsupportedMediaType(String),
    MethodNotAllowed,
    Unauthorized,
    Timeout,
    Busy,
    Internal(String),
}

#[derive(Serialize, utoipa::ToSchema)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.as_str()),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.as_str()),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m.as_str()),
            ApiError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m.as_str(),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method",
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this server requires an API key: send `Authorization: Bearer KEY`",
            ),
            ApiError::Timeout => (
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "the request took longer than the server's limit; its work was stopped",
            ),
            ApiError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is at its limit of concurrent work; retry shortly",
            ),
            ApiError::Internal(m) => {
                // Logged here, never sent: internals are not the client's business.
                tracing::error!(cause = %m, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        };
        let mut resp = (
            status,
            Json(ErrorBody {
                error: ErrorDetail { code, message },
            }),
        )
            .into_response();
        if matches!(self, ApiError::Busy) {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if matches!(self, ApiError::Unauthorized) {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"skillmap\""),
            );
        }
        resp
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(m) => ApiError::BadRequest(m),
            e @ Error::UnknownSoc { .. } => ApiError::NotFound(e.to_string()),
            Error::Cancelled => ApiError::Timeout,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// JSON body extractor whose rejections use our error shape.
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(AppJson(v)),
            Err(r) => Err(match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(r.body_text()),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                    ApiError::UnsupportedMediaType("expected Content-Type: application/json".into())
                }
                _ => ApiError::BadRequest(r.body_text()),
            }),
        }
    }
}

/// Raw body extractor whose rejections (too large, unreadable) use our error shape.
pub struct AppBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for AppBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => Ok(AppBytes(b)),
            Err(r) => Err(match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(r.body_text()),
                _ => ApiError::BadRequest(r.body_text()),
            }),
        }
    }
}

/// The query string of `/api/search`, parsed into the same validated [`SearchRequest`] as the
/// command line's (with its value parsers), plus whether occupations are ranked. The service's
/// own limits (query length, the operator's `--max-limit`) are checked here.
fn parse_search_params(
    raw: Option<&str>,
    config: &ServeConfig,
) -> Result<(SearchRequest, bool), ApiError> {
    let mut req = SearchRequest {
        count: true,
        ..SearchRequest::new("")
    };
    let (mut by_occupation, mut hybrid, mut ratio) = (false, false, None);
    let bad = |k: &str, e: String| ApiError::BadRequest(format!("`{k}`: {e}"));
    let number = |k: &str, v: &str| {
        v.parse::<usize>()
            .map_err(|_| bad(k, format!("must be a whole number, not `{v}`")))
    };
    let flag = |v: &str| matches!(v, "1" | "true" | "yes");
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        // Repeated keys and comma-separated values both give several filters.
        let values = || v.split(',').map(str::trim).filter(|s| !s.is_empty());
        match k.as_ref() {
            "q" => req.query = v.into_owned(),
            "soc" => req.soc.extend(values().map(str::to_string)),
            "level" => {
                for l in values() {
                    req.levels.push(l.parse().map_err(|e| bad("level", e))?);
                }
            }
            "job_zone" => {
                for z in values() {
                    req.job_zones
                        .push(request::parse_job_zone(z).map_err(|e| bad("job_zone", e))?);
                }
            }
            "limit" => req.limit = number("limit", &v)?,
            "offset" => req.offset = number("offset", &v)?,
            "by" => match v.as_ref() {
                "occupation" => by_occupation = true,
                "statement" | "" => {}
                other => {
                    return Err(bad(
                        "by",
                        format!("must be occupation or statement, not `{other}`"),
                    ));
                }
            },
            "explain" => req.explain = flag(&v),
            "hybrid" => hybrid = flag(&v),
            "semantic_ratio" => {
                ratio =
                    Some(request::parse_semantic_ratio(&v).map_err(|e| bad("semantic_ratio", e))?);
            }
            _ => {} // unknown parameters are ignored, as browsers add their own
        }
    }
    if req.query.chars().count() > config.max_query_chars {
        return Err(bad(
            "q",
            format!("is longer than {} characters", config.max_query_chars),
        ));
    }
    if req.limit > config.max_limit {
        return Err(bad(
            "limit",
            format!("must be at most {}", config.max_limit),
        ));
    }
    req.semantic_ratio =
        request::semantic_ratio(hybrid, ratio).map_err(|e| bad("semantic_ratio", e))?;
    Ok((req.validated()?, by_occupation))
}

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
async fn search_handler(
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
async fn map_handler(
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
const JSON_LINES_TYPES: [&str; 4] = [
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
async fn map_batch_handler(
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
async fn occupation_handler(
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
async fn stats_handler(State(state): State<AppState>) -> Result<Response, ApiError> {
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
async fn health() -> impl IntoResponse {
    Json(Health {
        status: "ok".into(),
    })
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "service",
    responses((status = 200, description = "The OpenAPI 3.1 description of this API", content_type = "application/json")),
    security((), ("bearer" = [])))]
async fn openapi_handler() -> impl IntoResponse {
    Json(openapi())
}

/// The errors every key-protected operation can answer, for the API document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum CommonErrors {
    /// A bad parameter or body
    #[response(status = 400)]
    BadRequest(ErrorBody<'static>),
    /// An API key is required and was not given, or is wrong
    #[response(status = 401)]
    Unauthorized(ErrorBody<'static>),
    /// Over the request deadline; the work was stopped
    #[response(status = 408)]
    Timeout(ErrorBody<'static>),
    /// At the limit of concurrent work; retry after a second
    #[response(status = 503)]
    Busy(ErrorBody<'static>),
    /// Internal failure (logged, never detailed)
    #[response(status = 500)]
    Internal(ErrorBody<'static>),
}

/// The query string of `GET /api/search`, for the API document (parsed by
/// `parse_search_params`, which accepts repeated and comma-separated filters).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct SearchQueryDoc {
    /// Plain words; "quoted phrases" stay together (at most `--max-query-chars` characters).
    q: String,
    /// SOC prefix or group code (33, 33-30, 33-3051, 33-3000, ...); repeatable or comma-separated.
    soc: Option<Vec<String>>,
    /// emerging, developing, proficient or advanced; repeatable or comma-separated.
    level: Option<Vec<String>>,
    /// Job zone 1 to 5; repeatable or comma-separated.
    job_zone: Option<Vec<u8>>,
    /// Results to return (default 10, at most `--max-limit`).
    limit: Option<usize>,
    /// Results to skip.
    offset: Option<usize>,
    /// `occupation` ranks occupations; `statement` (the default) ranks statements.
    by: Option<String>,
    /// `1`, `true` or `yes`: each hit carries its score explanation.
    explain: Option<String>,
    /// `1`, `true` or `yes`: rank by BM25 and the static embedding's cosine together, so that
    /// statements that say the query in other words are found too.
    hybrid: Option<String>,
    /// With `hybrid`: the cosine's share of the score, 0 to 1 (default 0.3; 0 is BM25 alone).
    semantic_ratio: Option<f32>,
}

/// What `GET /api/search` answers: statements, or occupations with `by=occupation`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SearchAnswer {
    Statements(SearchResponse),
    Occupations(OccupationResponse),
}

/// The API document: paths from the handlers' annotations, schemas from the response types.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "skillmap", description = "Full-text search over competency framework statements, and mapping of job postings to framework levels."),
    paths(health, search_handler, map_handler, map_batch_handler, occupation_handler, stats_handler, metrics_handler, openapi_handler),
    components(schemas(ErrorBody, SearchAnswer, BatchOutput)),
    modifiers(&BearerScheme),
    tags(
        (name = "search", description = "Statements that mention a skill, and occupations ranked by them"),
        (name = "map", description = "Job postings to occupations and levels"),
        (name = "occupations", description = "One occupation's framework"),
        (name = "index", description = "What the index holds"),
        (name = "service", description = "Health, metrics and this document"),
    )
)]
struct ApiDoc;

/// The `bearer` security scheme the key-protected operations name.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI 3.1 document of the service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    ApiDoc::openapi()
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

const INDEX_HTML: &str = include_str!("web/index.html");
const APP_JS: &str = include_str!("web/app.js");
const APP_CSS: &str = include_str!("web/app.css");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Security headers on every response. The page loads its script and style from files, so the
/// policy can forbid inline script and any other origin.
async fn security_headers(mut resp: Response) -> Response {
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
fn authorized(keys: &[Vec<u8>], path: &str, headers: &axum::http::HeaderMap) -> bool {
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

/// Default cap on open connections: far above what a loopback or proxied service needs, and
/// under the usual 1,024 file descriptors a process may open.
pub const DEFAULT_MAX_CONNECTIONS: usize = 900;
/// Default cap on lines per batch request: 1,000 postings take about a second on two cores.
pub const DEFAULT_MAX_BATCH_LINES: usize = 1_000;
/// Most header fields in a request head (hyper's default is 100; the 64 KiB head limit is the
/// real bound, and a browser sends about 20).
pub const MAX_HEADERS: usize = 1_000;

/// Default time a client has to send a request's headers; slower clients are disconnected.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line and headers) a connection buffers.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What one connection is doing, for its idle deadline.
struct Activity {
    started: Instant,
    /// Requests whose response has not been sent whole yet.
    in_flight: AtomicUsize,
    /// When the last request ended, in milliseconds after `started` (0: none yet).
    last_end_ms: std::sync::atomic::AtomicU64,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_end_ms: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// When the connection is to be closed for idleness, or `None` while a request is in progress.
    fn idle_deadline(&self, idle: Duration) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_end_ms.load(Ordering::Acquire));
        Some(self.started + last + idle)
    }
}

/// A request in progress on a connection: from its head until its response body is sent (or
/// dropped with the connection).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(a: &Arc<Activity>) -> InFlight {
        a.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(a.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let ms = self.0.started.elapsed().as_millis() as u64;
        self.0.last_end_ms.fetch_max(ms.max(1), Ordering::AcqRel);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in progress until hyper has sent it.
struct Tracked {
    inner: axum::body::Body,
    _request: InFlight,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The body of the 503 sent to a connection over `--max-connections`.
const REFUSED_BODY: &str = r#"{"error":{"code":"busy","message":"the server is at its limit of open connections; retry shortly"}}"#;

/// Answers a connection over the cap with a 503 and closes it, giving the client at most a
/// second to take it.
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\nx-content-type-options: nosniff\r\n\r\n{REFUSED_BODY}",
        REFUSED_BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Starts the log subscriber: `RUST_LOG` filters (default `info`), lines go to stderr.
fn init_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    // A second server in one process keeps the first one's subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Raises the soft limit on open files to the hard one, and returns how many connections fit
/// under it (leaving room for the index's files and the process's own).
fn connection_room(wanted: usize) -> usize {
    const RESERVED_FDS: u64 = 64;
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1_024);
    let room = limit.saturating_sub(RESERVED_FDS).max(1) as usize;
    if room < wanted {
        eprintln!(
            "skillmap serve: only {limit} open files allowed (ulimit -n); serving at most {room} connections"
        );
    }
    wanted.min(room)
}

/// Binds, says where on stderr, and serves until Ctrl-C or SIGTERM (in-flight requests finish,
/// for at most 10 seconds). Connections are served by hyper directly (rather than `axum::serve`)
/// so that every connection has a deadline: one that sends nothing, a partial head, or only an
/// HTTP/2 preface is closed after `header_timeout` without a request in progress; open
/// connections are capped; and an oversized request head is refused.
pub async fn serve(engine: Arc<Engine>, config: ServeConfig) -> crate::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use tower::ServiceExt as _;

    init_logs(config.log_format);
    let listen = |source| Error::Listen {
        addr: config.addr,
        source,
    };
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(listen)?;
    let addr = listener.local_addr().map_err(listen)?;
    let idle = config.header_timeout;
    let open_beyond_loopback = !addr.ip().is_loopback() && config.api_keys.is_empty();
    let connection_cap = connection_room(config.max_connections);
    let connections = Arc::new(Semaphore::new(connection_cap));
    let config_keys = config.api_keys.len();
    let state = AppState::new(engine.clone(), config)?;
    let router = app(state);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(idle)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HEAD_BYTES as u32);
    let graceful = GracefulShutdown::new();
    eprintln!("skillmap: listening on http://{addr}");
    tracing::info!(
        addr = %addr,
        index = %engine.path.display(),
        api_keys = config_keys,
        max_connections = connection_cap,
        "listening"
    );
    if open_beyond_loopback {
        eprintln!(
            "skillmap serve: warning: {addr} is reachable beyond this machine and no API key is set; anyone who can reach it can use the API (give --api-key or SKILLMAP_API_KEY)"
        );
    }
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(a) => a,
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = connections.clone().try_acquire_owned() else {
                    tokio::spawn(refuse(stream));
                    continue;
                };
                let activity = Activity::new();
                let service = {
                    let (router, activity) = (router.clone(), activity.clone());
                    hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let request = InFlight::start(&activity);
                        let response = router.clone().oneshot(req);
                        async move {
                            let resp = response.await?;
                            Ok::<_, std::convert::Infallible>(resp.map(|inner| {
                                axum::body::Body::new(Tracked { inner, _request: request })
                            }))
                        }
                    })
                };
                let conn = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _slot = slot;
                    tokio::pin!(conn);
                    loop {
                        let wake = activity
                            .idle_deadline(idle)
                            .unwrap_or_else(|| Instant::now() + idle);
                        tokio::select! {
                            // Errors here are the client's (reset, timeout, malformed head).
                            _ = &mut conn => break,
                            _ = tokio::time::sleep_until(wake.into()) => {
                                // Idle past the deadline: dropping the connection closes it.
                                if activity.idle_deadline(idle).is_some_and(|d| d <= Instant::now()) {
                                    break;
                                }
                            }
                        }
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {},
        _ = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("connections still open after 10 s; stopping anyway");
        }
    }
    tracing::info!("stopped");
    eprintln!("skillmap: stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
