//! Map benches: postings per second of batch mapping over the bundled collection.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use skillmap::map::{MapRequest, Mapper};

mod common;

fn postings() -> Vec<MapRequest> {
    let text = std::fs::read_to_string(common::bundled_data().join("eval/dev.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            MapRequest {
                text: v["text"].as_str().unwrap().to_string(),
                title: None,
                top: 5,
            }
        })
        .collect()
}

fn map(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let engine = common::build_bundled(dir.path());
    let mapper = Mapper::new(&engine).unwrap();
    let reqs = postings();
    let mut g = c.benchmark_group("map");
    g.sample_size(10);
    g.throughput(Throughput::Elements(reqs.len() as u64));
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        g.bench_function(format!("dev_postings/{threads}_threads"), |b| {
            b.iter(|| {
                pool.install(|| {
                    reqs.par_iter()
                        .map(|r| black_box(mapper.map(r).unwrap()).matches.len())
                        .sum::<usize>()
                })
            })
        });
    }
    // The same postings, each time with a new mapper (built outside the timing): its term cache
    // starts empty, as in the first postings of a batch.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    g.bench_function("dev_postings_cold_cache/2_threads", |b| {
        b.iter_batched(
            || Mapper::new(&engine).unwrap(),
            |fresh| {
                pool.install(|| {
                    reqs.par_iter()
                        .map(|r| black_box(fresh.map(r).unwrap()).matches.len())
                        .sum::<usize>()
                })
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("mapper_new", |b| {
        b.iter(|| Mapper::new(&engine).unwrap().occupations())
    });
    g.finish();
}

criterion_group!(benches, map);
criterion_main!(benches);
