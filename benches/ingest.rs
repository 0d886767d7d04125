//! Ingest benches: parsing and validating one export, and indexing the bundled collection.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use indicatif::ProgressBar;
use skillmap::domain::framework::parse_export;
use skillmap::index::ingest::{IngestConfig, ingest};

mod common;

const REAL: &str = include_str!("../tests/fixtures/frameworks/33-3051.04.json");

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(REAL.len() as u64));
    g.bench_function("real_export", |b| {
        b.iter(|| parse_export(black_box(REAL.as_bytes())).unwrap())
    });
    g.finish();
}

fn index(c: &mut Criterion) {
    let data = common::bundled_data();
    let bytes: u64 = walk_bytes(&data.join("frameworks"));
    let mut g = c.benchmark_group("index");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    for threads in [1, 2] {
        g.bench_function(format!("bundled_collection/{threads}_threads"), |b| {
            b.iter_batched(
                || tempfile::tempdir().unwrap(),
                |dir| {
                    let opts = IngestConfig {
                        index_dir: dir.path().join("idx"),
                        paths: vec![data.clone()],
                        threads,
                        ..Default::default()
                    };
                    let r = ingest(&opts, &ProgressBar::hidden()).unwrap();
                    assert!(r.rejected.is_empty());
                    dir
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn walk_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

criterion_group!(benches, parse, index);
criterion_main!(benches);
