//! Operating the service: Prometheus metrics (`/metrics`), the request log and its
//! subscriber.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;

use super::config::LogFormat;
use super::error::{ApiError, ErrorBody};
use super::state::{AppState, GaugeGuard};

/// The process's Prometheus recorder, installed once (every `AppState` of a process reports
/// to it). `None` when another recorder was installed first.
pub(super) fn prometheus() -> Option<&'static metrics_exporter_prometheus::PrometheusHandle> {
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
pub(super) fn resident_bytes() -> u64 {
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
pub(super) async fn metrics_handler(State(state): State<AppState>) -> Result<Response, ApiError> {
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
pub(super) async fn log_request(req: Request, next: axum::middleware::Next) -> Response {
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

/// Starts the log subscriber: `RUST_LOG` filters (default `info`), lines go to stderr.
pub(super) fn init_logs(format: LogFormat) {
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
