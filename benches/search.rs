//! Search benches: top-10 latency over a fixed skill query list, with p50/p99 over all queries.
//!
//! Runs on the bundled collection; set `SKILLMAP_BENCH_INDEX=DIR` to also measure a prebuilt
//! index (e.g. the 2M-statement corpus from `cargo xtask gen-corpus`).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::Criterion;
use skillmap::index::engine::Engine;
use skillmap::search::{Ranking, SearchRequest, search, search_occupations, search_ranked};

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

/// The statement ranking's weights before the judged-set tuning (title 0.7, no phrase bonus;
/// the index then also held each topic twice, which no query-time setting restores), measured
/// beside today's in the same run so that their cost compares as a ratio.
const BEFORE_TUNING: Ranking = Ranking {
    title: 0.7,
    alt_titles: 0.0,
    phrase: 0.0,
    slop: 0,
};

/// Latency of single top-10 searches: every query of the list, many rounds; p50 and p99, for
/// today's ranking and, interleaved query by query, the ranking before tuning.
fn percentiles(name: &str, engine: &Engine, rounds: usize) {
    let n = rounds * common::queries().len();
    let (mut now, mut before) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for round in 0..rounds {
        for q in common::queries() {
            let req = SearchRequest::new(q);
            // Alternate which goes first, so that neither always finds the caches warm.
            for first in [round % 2 == 0, round % 2 == 1] {
                let t = Instant::now();
                if first {
                    black_box(search(engine, &req).unwrap());
                    now.push(t.elapsed().as_secs_f64() * 1e3);
                } else {
                    black_box(search_ranked(engine, &req, &BEFORE_TUNING).unwrap());
                    before.push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
        }
    }
    for (label, samples) in [("top10", &mut now), ("top10_before_tuning", &mut before)] {
        samples.sort_by(f64::total_cmp);
        let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
        println!(
            "search/{name}/{label} latency over {} searches: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            samples.len(),
            at(0.50),
            at(0.99),
            samples[samples.len() - 1]
        );
    }
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
