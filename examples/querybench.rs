//! Query latency of skillmap on an index, for `benches/compare.py`: every query of a file, many
//! rounds, top 10 plus the exact count of matches (what the other engines are asked for too).
//! Prints one JSON object: p50_ms, p99_ms, searches. A fourth argument, a semantic ratio, times
//! hybrid search (`--hybrid --semantic-ratio R`); a fifth, `occupations`, ranks occupations.
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (index, queries, rounds) = (&args[1], &args[2], args[3].parse::<usize>().unwrap_or(20));
    let ratio = args
        .get(4)
        .and_then(|r| r.parse::<f32>().ok())
        .unwrap_or(0.0);
    let occupations = args.get(5).is_some_and(|a| a == "occupations");
    let engine = skillmap::index::engine::Engine::open(std::path::Path::new(index)).unwrap();
    let queries: Vec<String> = std::fs::read_to_string(queries)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let mut samples = Vec::new();
    for round in 0..=rounds {
        for q in &queries {
            let mut req = skillmap::search::SearchRequest::new(q.as_str());
            req.count = true;
            req.semantic_ratio = ratio;
            let t = Instant::now();
            if occupations {
                std::hint::black_box(skillmap::search::search_occupations(&engine, &req).unwrap());
            } else {
                std::hint::black_box(skillmap::search::search(&engine, &req).unwrap());
            }
            // Round 0 warms the caches, as the other engines' first round does.
            if round > 0 {
                samples.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    println!(
        "{}",
        serde_json::json!({"p50_ms": at(0.5), "p99_ms": at(0.99), "searches": samples.len()})
    );
}
