//! The handlers' shared state: the engine, the mapper of the newest commit, the limits, and
//! the blocking pool that CPU work runs on behind a semaphore.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::Semaphore;

use crate::index::engine::Engine;
use crate::map::Mapper;
use crate::map::batch::Cancel;

use super::config::ServeConfig;
use super::error::ApiError;
use super::ops::prometheus;

pub(super) struct Inner {
    pub(super) engine: Arc<Engine>,
    pub(super) mapper: RwLock<Arc<Mapper>>,
    pub(super) config: ServeConfig,
    pub(super) permits: Arc<Semaphore>,
    /// Workers for batch mapping.
    pub(super) pool: rayon::ThreadPool,
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState(pub(super) Arc<Inner>);

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
    pub(super) fn mapper(&self) -> crate::Result<Arc<Mapper>> {
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

    /// Keeps the per-commit tables built: at start, and within a second of each commit the
    /// reader sees, builds the mapper and the search tables (occupation numbers, titles and
    /// tools, typo vocabulary) on the blocking pool, so that the first request after a commit
    /// does not pay for them (at 2M statements, about 0.3 s for search and 2 s for the mapper).
    /// A failure is logged and tried again a second later; requests would build the tables
    /// themselves meanwhile.
    pub(super) fn keep_warm(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            let mut warmed = None;
            loop {
                let s = state.clone();
                let done = tokio::task::spawn_blocking(move || -> crate::Result<u64> {
                    let generation = s.0.engine.searcher().generation().generation_id();
                    if warmed == Some(generation) {
                        return Ok(generation);
                    }
                    s.mapper()?;
                    crate::search::warm(&s.0.engine)
                })
                .await;
                match done {
                    Ok(Ok(generation)) => {
                        if warmed != Some(generation) {
                            metrics::gauge!("skillmap_tables_generation").set(generation as f64);
                            tracing::debug!(generation, "tables built for a new commit");
                        }
                        warmed = Some(generation);
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "building the tables failed"),
                    Err(e) => tracing::warn!(error = %e, "building the tables failed"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
    }

    /// Runs CPU work on the blocking pool, or refuses with 503 when saturated. The work gets a
    /// [`Cancel`] that is set when the request is dropped (its deadline passed or the client
    /// left), so long work stops between lines instead of running on for nobody. A panic in the
    /// work (a corrupt index can make tantivy panic) is answered 500 and logged.
    pub(super) async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
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
pub(super) struct GaugeGuard(pub(super) metrics::Gauge);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// Sets its flag when dropped: a request's future is dropped when it times out.
pub(super) struct CancelOnDrop(pub(super) Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
