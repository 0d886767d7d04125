//! Worker threads: how many a command uses by default (one per core) and the one way a rayon
//! pool is built, so that a failure to start threads is the same typed error everywhere.

use crate::error::{Error, Result};

/// One worker per core, or one when the core count is unknown.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A rayon pool of `threads` workers (the default when `None`). `what` names the work, for the
/// error when the system refuses the threads.
pub fn pool(threads: Option<usize>, what: &'static str) -> Result<rayon::ThreadPool> {
    let n = threads.unwrap_or_else(default_threads);
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| Error::Start {
            what,
            cause: format!("{n} threads: {e}"),
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_pool_has_the_threads_asked_for() {
        assert!(super::default_threads() >= 1);
        let p = super::pool(Some(3), "test work").unwrap();
        assert_eq!(p.current_num_threads(), 3);
    }
}
