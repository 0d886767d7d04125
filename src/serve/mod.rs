//! The HTTP service: `app(state) → Router`, thin handlers, one JSON error type, limits.
//!
//! CPU work (search, map) runs on the blocking pool behind a semaphore: when every permit is
//! taken the request is answered 503 at once instead of queueing without bound.
//!
//! - `config`: address and limits; `state`: what the handlers share;
//! - `routes`: the handlers and the router; `params`: the search query string;
//! - `error`: the one error shape; `docs`: the OpenAPI document;
//! - `conn`: connection deadlines and caps; `ops`: metrics and logs;
//! - `serve` (here): binding, the accept loop and graceful shutdown.

mod config;
mod conn;
mod docs;
mod error;
mod ops;
mod params;
mod routes;
mod state;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::error::Error;
use crate::index::engine::Engine;

pub use config::*;
pub use docs::openapi;
pub use error::{ApiError, AppBytes, AppJson};
pub use routes::{Health, OccupationResponse, SearchResponse, app};
pub use state::AppState;

use conn::{Activity, InFlight, Tracked, connection_room, refuse};
use ops::init_logs;

/// Binds, says where on stderr, and serves until Ctrl-C or SIGTERM (in-flight requests finish,
/// for at most 10 seconds). Connections are served by hyper directly (rather than `axum::serve`)
/// so that every connection has a deadline: one that sends nothing, a partial head, or only an
/// HTTP/2 preface is closed after `header_timeout` without a request in progress; open
/// connections are capped; and an oversized request head is refused.
pub async fn serve(engine: Arc<Engine>, config: ServeConfig) -> crate::Result<()> {
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
    let warm = state.clone();
    let router = app(state);
    let builder = connection_builder(idle);
    let graceful = GracefulShutdown::new();
    // Where it listens is the first line on stderr (scripts and the tests read it); the tables
    // are warmed after, so that their log lines come later.
    eprintln!("skillmap: listening on http://{addr}");
    warm.keep_warm();
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
                serve_connection(stream, slot, &router, &builder, &graceful, idle);
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

/// hyper's connection builder with the service's limits: the idle deadline for request heads,
/// the largest head and the most header fields, for HTTP/1 and HTTP/2 alike.
fn connection_builder(idle: Duration) -> Builder<TokioExecutor> {
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
    builder
}

/// Serves one accepted connection on its own task, holding its slot under the connection cap,
/// until it closes or has been idle past `idle` with no request in progress.
fn serve_connection(
    stream: tokio::net::TcpStream,
    slot: tokio::sync::OwnedSemaphorePermit,
    router: &Router,
    builder: &Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    idle: Duration,
) {
    let activity = Activity::new();
    let service = {
        let (router, activity) = (router.clone(), activity.clone());
        hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let request = InFlight::start(&activity);
            let response = router.clone().oneshot(req);
            async move {
                let resp = response.await?;
                Ok::<_, std::convert::Infallible>(resp.map(|inner| {
                    axum::body::Body::new(Tracked {
                        inner,
                        _request: request,
                    })
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
