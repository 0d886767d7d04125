//! Shared bench helpers: the bundled collection and the fixed skill query list.

#![allow(dead_code)]

use std::path::PathBuf;

/// Skill queries as users type them (`benches/queries.txt`, shared with `benches/compare.py`):
/// single words, pairs, a phrase, punctuation, a typo.
pub fn queries() -> Vec<&'static str> {
    include_str!("queries.txt")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// The bundled collection folder.
pub fn bundled_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Indexes the bundled collection into `dir/idx` (2 threads) and opens it.
pub fn build_bundled(dir: &std::path::Path) -> skillmap::index::engine::Engine {
    let opts = skillmap::index::ingest::IngestConfig {
        index_dir: dir.join("idx"),
        paths: vec![bundled_data()],
        threads: 2,
        ..Default::default()
    };
    skillmap::index::ingest::ingest(&opts, &indicatif::ProgressBar::hidden()).unwrap();
    skillmap::index::engine::Engine::open(&dir.join("idx")).unwrap()
}
