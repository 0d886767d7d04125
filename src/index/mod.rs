//! The index: its schema and analyzer, opening and checking it (`engine`), batch ingest, the
//! stored statements and knowledge documents, the vector file, and whole-index readers (stats,
//! export, one occupation's view).

pub mod analyzer;
pub mod engine;
pub mod export;
pub mod ingest;
pub mod knowledge;
pub mod names;
pub mod schema;
pub mod show;
pub mod sidecar;
pub mod stats;
pub mod store;
pub mod vectors;

/// An index of the two fixture exports in a temp dir, for the unit tests of every stage.
#[cfg(test)]
pub(crate) fn fixture_engine() -> (tempfile::TempDir, engine::Engine) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let opts = ingest::IngestConfig {
        index_dir: tmp.path().join("index"),
        paths: vec![
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/frameworks"),
        ],
        threads: 1,
        memory_bytes: 50_000_000,
        strict: true,
        rebuild: true,
        max_file_bytes: 1 << 20,
        ..Default::default()
    };
    let report = ingest::ingest(&opts, &indicatif::ProgressBar::hidden()).expect("indexes");
    assert!(report.committed);
    let engine = engine::Engine::open(&opts.index_dir).expect("opens");
    (tmp, engine)
}
