//! Search benches: top-10 latency over a fixed skill query list, with p50/p99 over all queries.
//!
//! Runs on the bundled collection; set `SKILLMAP_BENCH_INDEX=DIR` to also measure a prebuilt
//! index (e.g. the 2M-statement corpus from `cargo xtask gen-corpus`).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::Criterion;
use skillmap::engine::Engine;
use skillmap::search::{SearchRequest, search, search_occupations};

mod common;

fn bench_engine(c: &mut Criterion, name: &str, engine: &Engine) {
    let mut g = c.benchmark_group(format!("search/{name}"));
    g.bench_function("top10_query_list", |b| {
        b.iter(|| {
            for q in common::queries() {
                black_box(search(engine, &SearchRequest::new(q)).unwrap());
            }
        })
    });
    g.bench_function("by_occupation_query_list", |b| {
        b.iter(|| {
            for q in common::queries() {
                black_box(search_occupations(engine, &SearchRequest::new(q)).unwrap());
            }
        })
    });
    g.finish();
}

/// Latency of single top-10 searches: every query of the list, many rounds; p50 and p99.
fn percentiles(name: &str, engine: &Engine, rounds: usize) {
    let mut samples = Vec::with_capacity(rounds * common::queries().len());
    for _ in 0..rounds {
        for q in common::queries() {
            let t = Instant::now();
            black_box(search(engine, &SearchRequest::new(q)).unwrap());
            samples.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "search/{name}/top10 latency over {} searches: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        samples.len(),
        at(0.50),
        at(0.99),
        samples[samples.len() - 1]
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let bundled = common::build_bundled(dir.path());
    let mut c = Criterion::default().configure_from_args();
    bench_engine(&mut c, "bundled", &bundled);
    percentiles("bundled", &bundled, 200);
    if let Some(path) = std::env::var_os("SKILLMAP_BENCH_INDEX") {
        let big = Engine::open(&PathBuf::from(path)).unwrap();
        bench_engine(&mut c, "corpus", &big);
        percentiles("corpus", &big, 50);
    }
    c.final_summary();
}
