//! A small real index, built once per fuzzing process from the bundled real export.

use std::sync::OnceLock;

use skillmap::index::engine::Engine;

static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();

/// The folder of the small index.
#[allow(dead_code)]
pub fn index_dir() -> &'static std::path::Path {
    engine();
    &ENGINE.get().expect("built").1.path
}

#[allow(dead_code)]
pub fn engine() -> &'static Engine {
    let (_, engine) = ENGINE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = dir.path().join("in");
        std::fs::create_dir_all(&input).unwrap();
        std::fs::write(
            input.join("real.json"),
            include_str!("../../tests/fixtures/frameworks/33-3051.04.json"),
        )
        .unwrap();
        std::fs::write(
            input.join("nurse.json"),
            include_str!("../../tests/fixtures/frameworks/29-1141.00.json"),
        )
        .unwrap();
        let opts = skillmap::index::ingest::IngestConfig {
            index_dir: dir.path().join("idx"),
            paths: vec![input],
            threads: 1,
            memory_bytes: 20_000_000,
            strict: true,
            max_file_bytes: 1 << 20,
            ..Default::default()
        };
        skillmap::index::ingest::ingest(&opts, &indicatif::ProgressBar::hidden()).unwrap();
        let engine = Engine::open(&dir.path().join("idx")).unwrap();
        (dir, engine)
    });
    engine
}
