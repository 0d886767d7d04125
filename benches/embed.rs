//! Embedding benches: the static table's cost per text (a statement, a title, a whole posting).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use skillmap::embed::Model;

mod common;

fn embed(c: &mut Criterion) {
    let model = Model::bundled();
    let text = std::fs::read_to_string(common::bundled_data().join("eval/dev.jsonl")).unwrap();
    let postings: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    let statement = "Cargo manifests and commercial shipments — inspect for regulatory compliance \
                     with U.S. customs laws, applying risk-assessment criteria independently \
                     during routine operations.";
    let mut g = c.benchmark_group("embed");
    g.bench_function("statement", |b| {
        b.iter(|| model.embed(black_box(statement)))
    });
    g.bench_function("title", |b| {
        b.iter(|| model.embed(black_box("Customs and Border Protection Officers")))
    });
    g.throughput(Throughput::Elements(postings.len() as u64));
    g.bench_function("dev_postings", |b| {
        b.iter(|| {
            for p in &postings {
                black_box(model.embed(p));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, embed);
criterion_main!(benches);
